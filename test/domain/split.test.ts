import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arbLine, arbRequest } from './cart.arbitraries.js';
import { Decimal } from 'decimal.js';
import { type CartLine, type PointsRequest, type SplitInput, mostPointsFor, split } from '../../src/domain/split.js';

const redeem = (ppu = '100', minPoints = 0, maxRatio = '1') => ({ pointsPerUnit: new Decimal(ppu), minPoints, maxRatio: new Decimal(maxRatio) });
const line = (p: Partial<CartLine> = {}): CartLine => ({
  sku: 'A', name: 'A', category: null, kind: 'goods', pay: 'mixed', quantity: 1, unitPrice: 10000, pointsPrice: null, maxPointsRatio: null, ...p,
});
const input = (p: Partial<SplitInput>): SplitInput => ({ lines: [line()], coupon: null, redeem: redeem(), digits: 2, available: 0, request: { kind: 'default' }, ...p });
const ok = (i: SplitInput) => {
  const r = split(i);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.quote;
};

describe('split (§4.3)', () => {
  it("follows the seed's example: 100.00 item, 5000 points at 100 per yuan → 50.00 in points, 50.00 cash", () => {
    const q = ok(input({ lines: [line({ unitPrice: 10000, maxPointsRatio: new Decimal('0.5') })], available: 5000, request: { kind: 'max' } }));
    expect(q).toMatchObject({ total: 10000, pointsUsed: 5000, pointsValue: 5000, cashPaid: 5000 });
    const q2 = ok(input({ available: 5000, request: { kind: 'max' } }));
    expect(q2).toMatchObject({ total: 10000, pointsUsed: 5000, pointsValue: 5000, cashPaid: 5000 });
  });

  it('uses no points on mixed lines without a points flag', () => {
    expect(ok(input({ available: 5000 }))).toMatchObject({ pointsUsed: 0, cashPaid: 10000 });
  });

  it('caps a mixed line at the smaller of the rules maxRatio and the item ratio', () => {
    const q = ok(input({ redeem: redeem('100', 0, '0.8'), lines: [line({ maxPointsRatio: new Decimal('0.3') })], available: 100000, request: { kind: 'max' } }));
    expect(q).toMatchObject({ pointsUsed: 3000, pointsValue: 3000, cashPaid: 7000 });
    const q2 = ok(input({ redeem: redeem('100', 0, '0.2'), lines: [line({ maxPointsRatio: new Decimal('0.5') })], available: 100000, request: { kind: 'max' } }));
    expect(q2.pointsUsed).toBe(2000);
  });

  it('refuses a points-only line with a points price of 0 (an item an older build stored): never given away', () => {
    for (const pointsPrice of [0, -1]) {
      const r = split(input({ lines: [line({ sku: 'GIFT', name: 'Gift', pay: 'points', unitPrice: 5000, pointsPrice }), line({ sku: 'B' })], available: 5000, request: { kind: 'max' } }));
      expect(r).toMatchObject({ ok: false, code: 'POINTS_PRICE_INVALID' });
      if (!r.ok) expect(r.message).toContain(`GIFT (Gift) can only be paid in points, but its points price is ${pointsPrice}`);
    }
    // a mixed line's points price is not what it is paid by (§4.6): no refusal
    expect(ok(input({ lines: [line({ pointsPrice: 0 })], available: 5000, request: { kind: 'max' } }))).toMatchObject({ pointsUsed: 5000, pointsValue: 5000 });
  });

  it('lets points cover nothing of a cash line', () => {
    const q = ok(input({ lines: [line({ pay: 'cash' }), line({ sku: 'B', unitPrice: 2000 })], available: 100000, request: { kind: 'max' } }));
    expect(q).toMatchObject({ total: 12000, pointsUsed: 2000, pointsValue: 2000, cashPaid: 10000 });
  });

  it('takes points in whole steps of 10 at 1000 points per yuan (whole fen only) and refuses a request that is not', () => {
    expect(ok(input({ redeem: redeem('1000'), available: 12345, request: { kind: 'points', points: 12340 } }))).toMatchObject({ pointsStep: 10, pointsUsed: 12340, pointsValue: 1234, cashPaid: 8766 });
    const r = split(input({ redeem: redeem('1000'), available: 12345, request: { kind: 'points', points: 12345 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toContain('not a whole number of steps of 10');
    expect(!r.ok && r.message).toContain('allowed: 0, or 10 to 12340 in steps of 10');
  });

  it('with --points N uses exactly N, and refuses more than the lines can take naming the maximum', () => {
    expect(ok(input({ available: 9000, request: { kind: 'points', points: 2500 } }))).toMatchObject({ pointsUsed: 2500, pointsValue: 2500, cashPaid: 7500 });
    const r = split(input({ available: 90000, request: { kind: 'points', points: 20000 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toContain('at most 10000');
  });

  it('says a point is worth more than a mixed line lets points pay, not that the items take no points', () => {
    // 0.000001 points per unit: one point is worth 1,000,000 CNY, far above the 100.00 line
    const r = split(input({ redeem: redeem('0.000001'), available: 9000, request: { kind: 'points', points: 1 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toContain('no points can be used here: one point is worth more than points may pay on any one of these items');
    expect(!r.ok && r.message).not.toContain('paid in cash');
  });

  it('refuses --points on an order whose lines take no points (cash-only items)', () => {
    const r = split(input({ lines: [line({ pay: 'cash' })], available: 9000, request: { kind: 'points', points: 500 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toContain('no points can be used here: these items take no points');
    expect(ok(input({ lines: [line({ pay: 'cash' })], available: 9000, request: { kind: 'points', points: 0 } })).pointsUsed).toBe(0);
  });

  it('refuses --points beyond the available balance', () => {
    const r = split(input({ available: 3000, request: { kind: 'points', points: 5000 } }));
    expect(r).toMatchObject({ ok: false, code: 'INSUFFICIENT_POINTS' });
    expect(!r.ok && r.message).toContain('allowed: 0, or 1 to 3000');
  });

  it('names the mixed part as below the minimum when points-only items take points too (§4.6)', () => {
    // 33 points per yuan (a step of 33 worth 1.00), minimum 50 on the mixed part, a 33-point gift: 66 puts 33 on the mixed item
    const lines = [line({ sku: 'GIFT', pay: 'points', unitPrice: 100, pointsPrice: 33 }), line({ sku: 'TEA', unitPrice: 1000 })];
    const r = split(input({ lines, redeem: redeem('33', 50), available: 1000, request: { kind: 'points', points: 66 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toBe('--points 66 puts 33 on the mixed items, below the minimum of 50 points on mixed items; allowed: 33 (the points-only items), or 99 to 363 in steps of 33');
  });

  it('refuses --points below redeem.minPoints naming the minimum, maximum and step', () => {
    const r = split(input({ redeem: redeem('1000', 200), available: 5000, request: { kind: 'points', points: 150 } }));
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
    expect(!r.ok && r.message).toContain('below the minimum of 200');
    expect(!r.ok && r.message).toContain('allowed: 0, or 200 to 5000 in steps of 10');
    expect(ok(input({ redeem: redeem('1000', 200), available: 5000, request: { kind: 'points', points: 200 } })).pointsUsed).toBe(200);
    expect(ok(input({ redeem: redeem('1000', 200), available: 5000, request: { kind: 'points', points: 0 } })).pointsUsed).toBe(0);
  });

  it('--max-points uses none below redeem.minPoints, and says so', () => {
    const q = ok(input({ redeem: redeem('100', 1000), available: 900, request: { kind: 'max' } }));
    expect(q.pointsUsed).toBe(0);
    expect(q.note).toContain('below the minimum of 1000');
    expect(q.allowed).toEqual({ required: 0, min: null, max: 0, step: 1 });
    const q2 = ok(input({ redeem: redeem('100', 1000), available: 1000, request: { kind: 'max' } }));
    expect(q2).toMatchObject({ pointsUsed: 1000, note: null, allowed: { required: 0, min: 1000, max: 1000, step: 1 } });
  });

  it('allows the points-only items alone, or their points plus at least minPoints on the mixed lines (§4.6)', () => {
    const lines = [line({ sku: 'GIFT', pay: 'points', pointsPrice: 300 }), line({ sku: 'MUG' })];
    const q = ok(input({ lines, redeem: redeem('100', 500), available: 2000 }));
    expect(q).toMatchObject({ pointsUsed: 300, allowed: { required: 300, min: 800, max: 2000, step: 1 } });
    for (const points of [400, 500, 799]) {
      const r = split(input({ lines, redeem: redeem('100', 500), available: 2000, request: { kind: 'points', points } }));
      expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
      expect(!r.ok && r.message).toContain('allowed: 300 (the points-only items), or 800 to 2000');
    }
    expect(ok(input({ lines, redeem: redeem('100', 500), available: 2000, request: { kind: 'points', points: 800 } }))).toMatchObject({ pointsUsed: 800, pointsValue: 10000 + 500 }); // the points-only item's price, and 500 points at 100 per unit
    // --max-points: the mixed part would be 400, below the minimum: only the points-only items' 300
    const m = ok(input({ lines, redeem: redeem('100', 500), available: 700, request: { kind: 'max' } }));
    expect(m).toMatchObject({ pointsUsed: 300, allowed: { required: 300, min: null, max: 300 } });
    expect(m.note).toContain('the most usable on them (400) is below the minimum of 500 points on mixed items');
    const r = split(input({ lines, redeem: redeem('100', 500), available: 700, request: { kind: 'points', points: 700 } }));
    expect(!r.ok && r.message).toContain('at most 400 more could be used on the mixed items, below the minimum of 500');
    expect(split(input({ lines, redeem: redeem('100', 500), available: 2000, request: { kind: 'points', points: 200 } }))).toMatchObject({ ok: false, code: 'POINTS_ONLY_UNCOVERED' });
  });

  it('--no-points pays all in cash', () => {
    expect(ok(input({ available: 9000, request: { kind: 'none' } }))).toMatchObject({ pointsUsed: 0, cashPaid: 10000 });
  });

  it('charges a points-only line its points price in full and no cash', () => {
    const q = ok(input({ lines: [line({ pay: 'points', pointsPrice: 8000, quantity: 2 })], available: 20000 }));
    expect(q).toMatchObject({ total: 20000, pointsUsed: 16000, pointsValue: 20000, cashPaid: 0, requiredPoints: 16000 });
  });

  it('converts a points-only line without a points price at the redeem rate, rounded up to a whole step', () => {
    const q = ok(input({ redeem: redeem('1000'), lines: [line({ pay: 'points', unitPrice: 1234 })], available: 20000 }));
    expect(q).toMatchObject({ pointsUsed: 12340, pointsValue: 1234, cashPaid: 0 });
  });

  it('refuses a points-only line the member cannot cover', () => {
    expect(split(input({ lines: [line({ pay: 'points', pointsPrice: 8000 })], available: 7999 }))).toMatchObject({ ok: false, code: 'POINTS_ONLY_UNCOVERED' });
    expect(split(input({ lines: [line({ pay: 'points', pointsPrice: 8000 })], available: 9000, request: { kind: 'none' } }))).toMatchObject({ ok: false, code: 'POINTS_ONLY_UNCOVERED' });
    expect(split(input({ lines: [line({ pay: 'points', pointsPrice: 8000 })], available: 9000, request: { kind: 'points', points: 100 } }))).toMatchObject({ ok: false, code: 'POINTS_ONLY_UNCOVERED' });
  });

  it('applies a coupon before points: 10.00 off 100.00, then max points on the 90.00', () => {
    const q = ok(input({ coupon: { value: 1000 }, available: 100000, request: { kind: 'max' } }));
    expect(q).toMatchObject({ subtotal: 10000, discount: 1000, total: 9000, pointsUsed: 9000, cashPaid: 0 });
    const p = ok(input({ coupon: { percent: new Decimal(15) }, lines: [line({ unitPrice: 999 })] }));
    expect(p).toMatchObject({ discount: 149, total: 850, cashPaid: 850 });
  });

  it('never discounts more than the money lines', () => {
    expect(ok(input({ coupon: { value: 50000 } }))).toMatchObject({ discount: 10000, total: 0, cashPaid: 0 });
    expect(split(input({ coupon: { value: 100 }, lines: [line({ pay: 'points', pointsPrice: 10 })], available: 10 }))).toMatchObject({ ok: false, code: 'COUPON_INVALID' });
  });

  it('handles a zero-digit currency (JPY)', () => {
    const q = ok(input({ digits: 0, redeem: redeem('1'), lines: [line({ unitPrice: 1000 })], available: 600, request: { kind: 'max' } }));
    expect(q).toMatchObject({ pointsUsed: 600, pointsValue: 600, cashPaid: 400 });
  });

  it('always: pointsValue + cash = total, points ≤ available, whole minor units, cash ≥ 0', () => {
    fc.assert(
      fc.property(
        fc.array(arbLine, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('100', '1000', '3', '250', '1', '33.5'),
        fc.integer({ min: 0, max: 2_000_000 }),
        arbRequest,
        fc.option(fc.oneof(fc.integer({ min: 0, max: 20000 }).map((value) => ({ value })), fc.integer({ min: 1, max: 100 }).map((p) => ({ percent: new Decimal(p) }))), { nil: null }),
        fc.integer({ min: 0, max: 3000 }),
        (ls, ppu, available, request, coupon, minPoints) => {
          const lines = ls.map((l, i) => line({ sku: `S${i}`, pay: l.pay, quantity: l.quantity, unitPrice: l.unitPrice, pointsPrice: l.pointsPrice, maxPointsRatio: l.ratio === null ? null : new Decimal(l.ratio).div(100) }));
          const r = split({ lines, coupon, redeem: redeem(ppu, minPoints, '0.9'), digits: 2, available, request });
          if (!r.ok) return;
          const q = r.quote;
          expect(q.pointsValue + q.cashPaid).toBe(q.total);
          expect(q.pointsUsed).toBeLessThanOrEqual(available);
          expect(q.cashPaid).toBeGreaterThanOrEqual(0);
          expect(Number.isSafeInteger(q.pointsValue) && Number.isSafeInteger(q.cashPaid)).toBe(true);
          const mixedPoints = q.pointsUsed - q.requiredPoints;
          // the mixed part converts to a whole number of minor units, exactly its value
          expect(new Decimal(mixedPoints).times(100).div(ppu).isInteger()).toBe(true);
          expect(new Decimal(mixedPoints).times(100).div(ppu).toNumber()).toBe(q.pointsValue - q.lines.filter((l) => l.pay === 'points').reduce((a, l) => a + l.coverable, 0));
          const mixedCoverable = q.lines.filter((l) => l.pay === 'mixed').reduce((a, l) => a + l.coverable, 0);
          expect(mixedPoints * 100 / Number(ppu)).toBeLessThanOrEqual(mixedCoverable + 1e-9);
          // a request is used exactly, never changed
          if (request.kind === 'points') expect(q.pointsUsed).toBe(request.points);
          // what the quote says is allowed is accepted exactly, and one step past the maximum is not
          for (const p of [q.allowed.required, q.allowed.min, q.allowed.max]) {
            if (p === null) continue;
            const again = split({ lines, coupon, redeem: redeem(ppu, minPoints, '0.9'), digits: 2, available, request: { kind: 'points', points: p } });
            expect(again.ok && again.quote.pointsUsed).toBe(p);
          }
          const over = split({ lines, coupon, redeem: redeem(ppu, minPoints, '0.9'), digits: 2, available, request: { kind: 'points', points: q.allowed.max + q.allowed.step } });
          expect(over.ok).toBe(false);
          if (request.kind === 'max') expect(q.pointsUsed).toBe(q.allowed.max);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('uses the largest usable amount: one more step would break a limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100000 }), fc.integer({ min: 0, max: 100000 }), fc.integer({ min: 0, max: 100 }), (price, available, ratio) => {
        const q = ok(input({ redeem: redeem('100', 0, '1'), lines: [line({ unitPrice: price, maxPointsRatio: new Decimal(ratio).div(100) })], available, request: { kind: 'max' } }));
        const coverable = Math.floor((price * ratio) / 100);
        const next = q.pointsUsed + 1;
        expect(next > available || next > coverable).toBe(true);
      }),
    );
  });
});

describe('mostPointsFor (what report recommend says an item takes with points)', () => {
  it('a mixed item: the points its ratio allows and the cash left, exactly what a --max-points checkout with points enough takes', () => {
    const mixed = line({ pay: 'mixed', unitPrice: 29900, pointsPrice: 25000, maxPointsRatio: null });
    expect(mostPointsFor(mixed, redeem('100', 0, '0.8'), 2)).toEqual({ points: 23920, cash: 5980 });
    // the catalog's points price of a mixed item is not what checkout takes
    fc.assert(
      fc.property(arbLine, fc.constantFrom('0.5', '0.8', '1'), fc.constantFrom(0, 100, 1000), (l, ratio, minPoints) => {
        const one = { ...l, quantity: 1 };
        const offer = mostPointsFor(one, redeem('100', minPoints, ratio), 2);
        const q = split(input({ lines: [one], redeem: redeem('100', minPoints, ratio), available: 10_000_000, request: { kind: 'max' } }));
        if (!offer) {
          expect(one.pay === 'cash' || !q.ok || q.quote.pointsUsed === 0).toBe(true);
          return;
        }
        expect(q.ok).toBe(true);
        if (!q.ok) return;
        expect(offer).toEqual({ points: q.quote.pointsUsed, cash: q.quote.cashPaid });
        // and a request of exactly those points is accepted
        expect(split(input({ lines: [one], redeem: redeem('100', minPoints, ratio), available: offer.points, request: { kind: 'points', points: offer.points } })).ok).toBe(true);
      }),
    );
  });

  it('a points-only item: its points, no cash; a cash-only item: none', () => {
    expect(mostPointsFor(line({ pay: 'points', unitPrice: 1000, pointsPrice: 800 }), redeem(), 2)).toEqual({ points: 800, cash: 0 });
    expect(mostPointsFor(line({ pay: 'cash' }), redeem(), 2)).toBeNull();
  });
});
