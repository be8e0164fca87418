import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateProportionally } from '../../src/domain/money.js';
import { planRefund, redirectFromVoided, repaidOnRelease, repayBeforeLots, returnToLots, spreadEarned, type RefundableLine } from '../../src/domain/refund.js';

/** Lines whose shares are the totals spread by the weights (any exact spread will do for planRefund). */
const fresh = (weights: number[], totals: { points: number; cash: number; earned: number }, qty: number[]): RefundableLine[] => {
  const [p, c, e] = [totals.points, totals.cash, totals.earned].map((t) => allocateProportionally(t, weights));
  return weights.map((_, i) => ({
    lineNo: i + 1, sku: `S${i + 1}`, quantity: qty[i], share: { points: p[i], cash: c[i], earned: e[i] }, refundedQty: 0, refunded: { points: 0, cash: 0, earned: 0 },
  }));
};

const apply = (lines: RefundableLine[], plan: Extract<ReturnType<typeof planRefund>, { ok: true }>) =>
  lines.map((l) => {
    const p = plan.lines.find((x) => x.lineNo === l.lineNo);
    if (!p) return l;
    return { ...l, refundedQty: l.refundedQty + p.quantity, refunded: { points: l.refunded.points + p.points, cash: l.refunded.cash + p.cash, earned: l.refunded.earned + p.earned } };
  });

describe('refund allocation (§4.5)', () => {
  it('spreads earned points over the lines by their cash, adding up exactly: a line paid in points earns none', () => {
    expect(spreadEarned(149, [0, 10000, 4999])).toEqual([0, 99, 50]);
    expect(spreadEarned(70, [0, 7000])).toEqual([0, 70]);
    expect(spreadEarned(0, [0, 0])).toEqual([0, 0]);
  });

  it('refunds one line of two: that line\'s share only', () => {
    const lines = fresh([10000, 5000], { points: 6000, cash: 9000, earned: 90 }, [1, 1]);
    const p = planRefund(lines, [{ sku: 'S2' }]);
    expect(p).toMatchObject({ ok: true, totals: { points: 2000, cash: 3000, earned: 30 }, complete: false });
  });

  it('refunds a line in parts and returns the exact remainder on the last unit', () => {
    let lines = fresh([999], { points: 100, cash: 899, earned: 8 }, [3]);
    const got = { points: 0, cash: 0, earned: 0 };
    for (let i = 0; i < 3; i++) {
      const p = planRefund(lines, [{ sku: 'S1', quantity: 1 }]);
      if (!p.ok) throw new Error(p.message);
      got.points += p.totals.points;
      got.cash += p.totals.cash;
      got.earned += p.totals.earned;
      expect(p.complete).toBe(i === 2);
      lines = apply(lines, p);
    }
    expect(got).toEqual({ points: 100, cash: 899, earned: 8 });
  });

  it('refuses refunding more than was bought', () => {
    const lines = fresh([1000], { points: 0, cash: 1000, earned: 10 }, [2]);
    expect(planRefund(lines, [{ sku: 'S1', quantity: 3 }])).toMatchObject({ ok: false, code: 'OVER_REFUND' });
    const p = planRefund(lines, null);
    if (!p.ok) throw new Error();
    const after = apply(lines, p);
    expect(planRefund(after, [{ sku: 'S1', quantity: 1 }])).toMatchObject({ ok: false, code: 'OVER_REFUND' });
    expect(planRefund(after, [{ sku: 'S1' }])).toMatchObject({ ok: false, code: 'OVER_REFUND' });
    expect(planRefund(after, null)).toMatchObject({ ok: false, code: 'NOTHING_TO_REFUND' });
    expect(planRefund(lines, [{ sku: 'NOPE' }])).toMatchObject({ ok: false, code: 'UNKNOWN_LINE' });
    // a SKU named twice: the message counts both requests against what was left before them (trial 40:
    // "cannot refund 1 × S1: 0 left" for --line S1:1 --line S1:2 of two units)
    expect(planRefund(lines, [{ sku: 'S1', quantity: 1 }, { sku: 'S1', quantity: 2 }])).toMatchObject({ ok: false, code: 'OVER_REFUND', message: 'cannot refund 3 × S1: 2 left to refund' });
    expect(planRefund(lines, [{ sku: 'S1', quantity: 1 }, { sku: 'S1', quantity: 1 }])).toMatchObject({ ok: true, lines: [{ quantity: 2 }] });
  });

  it('any sequence of partial refunds ending in a full one nets every total to zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ amount: fc.integer({ min: 0, max: 50000 }), qty: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 100000 }),
        fc.integer({ min: 0, max: 100000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })), { maxLength: 8 }),
        (ls, points, cash, earned, steps) => {
          let lines = fresh(ls.map((l) => l.amount), { points, cash, earned }, ls.map((l) => l.qty));
          const got = { points: 0, cash: 0, earned: 0 };
          const take = (p: ReturnType<typeof planRefund>) => {
            if (!p.ok) return;
            for (const x of p.lines) expect(x.points >= 0 && x.cash >= 0 && x.earned >= 0).toBe(true);
            got.points += p.totals.points;
            got.cash += p.totals.cash;
            got.earned += p.totals.earned;
            lines = apply(lines, p);
          };
          for (const [i, q] of steps) take(planRefund(lines, [{ sku: `S${(i % ls.length) + 1}`, quantity: q }]));
          take(planRefund(lines, null));
          expect(got).toEqual({ points, cash, earned });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('returnToLots', () => {
  it('gives points back to the lots they came from, the last taken first', () => {
    const takes = [{ lotId: 1, taken: 300, returned: 0 }, { lotId: 2, taken: 200, returned: 0 }];
    expect(returnToLots(takes, 250)).toEqual([{ lotId: 2, points: 200 }, { lotId: 1, points: 50 }]);
    expect(returnToLots([{ lotId: 1, taken: 300, returned: 0 }, { lotId: 2, taken: 200, returned: 200 }], 250)).toEqual([{ lotId: 1, points: 250 }]);
    expect(() => returnToLots(takes, 501)).toThrow();
  });
});

describe('repayBeforeLots: a member in debt is repaid before lots get points back (SPEC §4.6)', () => {
  it('repays with the points the order took first, so the latest-expiring lots get theirs back', () => {
    // back is returnToLots' answer: the last taken (latest-expiring) lot first
    const back = [
      { lotId: 3, points: 300 },
      { lotId: 2, points: 200 },
      { lotId: 1, points: 100 },
    ];
    expect(repayBeforeLots(back, 0)).toEqual({ toLots: back, debtRepaid: 0, cut: [] });
    expect(repayBeforeLots(back, 250)).toEqual({ toLots: [{ lotId: 3, points: 300 }, { lotId: 2, points: 50 }], debtRepaid: 250, cut: [{ lotId: 1, points: 100 }, { lotId: 2, points: 150 }] });
    expect(repayBeforeLots(back, 10_000)).toEqual({ toLots: [], debtRepaid: 600, cut: [{ lotId: 1, points: 100 }, { lotId: 2, points: 200 }, { lotId: 3, points: 300 }] });
  });

  it('returns every point once: to lots or to the debt, never more than the debt, never more than a lot was given back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10_000 }), { maxLength: 8 }), fc.integer({ min: 0, max: 50_000 }), (points, debt) => {
        const back = points.map((p, i) => ({ lotId: i + 1, points: p }));
        const total = points.reduce((a, b) => a + b, 0);
        const { toLots, debtRepaid } = repayBeforeLots(back, debt);
        expect(debtRepaid).toBe(Math.min(debt, total));
        expect(toLots.reduce((a, b) => a + b.points, 0) + debtRepaid).toBe(total);
        for (const t of toLots) {
          expect(t.points).toBeGreaterThan(0);
          expect(t.points).toBeLessThanOrEqual(back.find((b) => b.lotId === t.lotId)!.points);
        }
        // the lots that keep their points back are a prefix of back (the latest-expiring)
        expect(toLots.map((t) => t.lotId)).toEqual(back.slice(0, toLots.length).map((b) => b.lotId));
      }),
    );
  });
});

describe('redirectFromVoided', () => {
  it('sends points given back to a voided lot to the lots its void took from, each up to what it took and its room; the rest stays', () => {
    // lot 1 voided: its void took 300 from lot 7 and 500 from lot 5 (latest expiresOn first), lot 5 has room for 400 only
    const targets = new Map([[1, [{ lotId: 7, took: 300, room: 300 }, { lotId: 5, took: 500, room: 400 }]]]);
    expect(redirectFromVoided([{ lotId: 1, points: 800 }, { lotId: 2, points: 50 }], targets)).toEqual([
      { lotId: 7, points: 300 },
      { lotId: 5, points: 400 },
      { lotId: 1, points: 100 },
      { lotId: 2, points: 50 },
    ]);
    // two moves into the same voided lot share what the void took
    expect(redirectFromVoided([{ lotId: 1, points: 200 }, { lotId: 1, points: 200 }], targets)).toEqual([
      { lotId: 7, points: 200 },
      { lotId: 7, points: 100 },
      { lotId: 5, points: 100 },
    ]);
    expect(redirectFromVoided([{ lotId: 3, points: 10 }], new Map())).toEqual([{ lotId: 3, points: 10 }]);
  });
});

describe('repaidOnRelease: what releasing holds that ran out repays, for reads before the release', () => {
  it('repays as releaseHold does, hold by hold: min(debt, held), from the lots each hold took first', () => {
    const holdsArb = fc.array(fc.array(fc.record({ lotId: fc.integer({ min: 1, max: 6 }), points: fc.integer({ min: 1, max: 500 }) }), { minLength: 1, maxLength: 4 }), { maxLength: 4 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), holdsArb, (debt, holds) => {
        const { debtRepaid, cuts } = repaidOnRelease(debt, holds);
        // the same as releasing each hold in turn with repayBeforeLots (its lots given back latest first)
        let left = debt;
        const expected = new Map<number, number>();
        for (const lots of holds) {
          const back = [...lots].reverse();
          const r = repayBeforeLots(back, left);
          left -= r.debtRepaid;
          const kept = r.toLots.reduce((s, t) => s + t.points, 0);
          expect(kept + r.debtRepaid).toBe(lots.reduce((s, t) => s + t.points, 0));
          for (const c of r.cut) expected.set(c.lotId, (expected.get(c.lotId) ?? 0) + c.points);
        }
        const held = holds.flat().reduce((s, t) => s + t.points, 0);
        expect(debtRepaid).toBe(Math.min(debt, held));
        expect(debt - left).toBe(debtRepaid);
        expect([...cuts.values()].reduce((a, b) => a + b, 0)).toBe(debtRepaid);
        expect(cuts).toEqual(expected);
      }),
    );
  });

  it('takes the repaid points from the lots a hold took first (the earliest to expire)', () => {
    const { debtRepaid, cuts } = repaidOnRelease(250, [[{ lotId: 1, points: 200 }, { lotId: 2, points: 300 }]]);
    expect(debtRepaid).toBe(250);
    expect(cuts).toEqual(new Map([[1, 200], [2, 50]]));
    expect(repaidOnRelease(0, [[{ lotId: 1, points: 200 }]])).toEqual({ debtRepaid: 0, cuts: new Map() });
  });
});
