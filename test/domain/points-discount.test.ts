// Issue 18, points discounts on chosen items: each point pays 100/(100 − PERCENT) times its value on that
// line, rounded down to whole minor units, within the line's ratio; exact; a token point earns no discount.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../helpers/fc-seed.js';
import { Decimal } from 'decimal.js';
import { arbLine, arbRequest } from './cart.arbitraries.js';
import { type CartLine, paysWithDiscount, pointsCapFor, split, splitLines, type SplitInput } from '../../src/domain/split.js';

const redeem = (ppu = '100', minPoints = 0, maxRatio = '1') => ({ pointsPerUnit: new Decimal(ppu), minPoints, maxRatio: new Decimal(maxRatio) });
const line = (p: Partial<CartLine> = {}): CartLine => ({
  sku: 'TEA', name: 'Tea', category: null, kind: 'goods', pay: 'mixed', quantity: 1, unitPrice: 10000, pointsPrice: null, maxPointsRatio: null, pointsDiscount: '10', ...p,
});
const quote = (p: Partial<SplitInput>) => {
  const r = split({ lines: [line()], coupon: null, redeem: redeem(), digits: 2, available: 1_000_000, request: { kind: 'default' }, ...p });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.quote;
};

describe('points discount (issue 18)', () => {
  it("the issue's example: 100.00 at 10%, 100 points a unit, ratio 1 — 9000 points pay it all; 4500 pay 50.00 and 50.00 is cash", () => {
    const all = quote({ request: { kind: 'max' } });
    expect(all).toMatchObject({ pointsUsed: 9000, pointsValue: 9000, pointsDiscount: 1000, cashPaid: 0, maxUsablePoints: 9000 });
    const half = quote({ request: { kind: 'points', points: 4500 } });
    expect(half).toMatchObject({ pointsUsed: 4500, pointsValue: 4500, pointsDiscount: 500, cashPaid: 5000 });
    expect(splitLines(half)).toEqual([{ points: 4500, pointsValue: 4500, pointsDiscount: 500, cash: 5000 }]);
    // more than the line can take is refused, not cut down
    const r = split({ lines: [line()], coupon: null, redeem: redeem(), digits: 2, available: 100000, request: { kind: 'points', points: 9001 } });
    expect(r).toMatchObject({ ok: false, code: 'POINTS_NOT_ALLOWED' });
  });

  it('a token point earns no discount: the discount is the points value × P/(100 − P), rounded down', () => {
    expect(quote({ request: { kind: 'points', points: 1 } })).toMatchObject({ pointsValue: 1, pointsDiscount: 0, cashPaid: 9999 });
    expect(quote({ request: { kind: 'points', points: 8 } })).toMatchObject({ pointsValue: 8, pointsDiscount: 0, cashPaid: 9992 });
    expect(quote({ request: { kind: 'points', points: 9 } })).toMatchObject({ pointsValue: 9, pointsDiscount: 1, cashPaid: 9990 });
    expect(paysWithDiscount(1, '50')).toBe(2);
    expect(paysWithDiscount(1, '33.33')).toBe(1); // 1 × 100/66.67 = 1.49…
    expect(paysWithDiscount(3, '33.33')).toBe(4);
    expect(paysWithDiscount(0, '90')).toBe(0);
  });

  it('stays within the item ratio and the rules ratio, the discount included', () => {
    const q = quote({ lines: [line({ maxPointsRatio: new Decimal('0.5') })], request: { kind: 'max' } });
    expect(q).toMatchObject({ pointsUsed: 4500, pointsValue: 4500, pointsDiscount: 500, cashPaid: 5000 });
    const r = quote({ redeem: redeem('100', 0, '0.3'), request: { kind: 'max' } });
    expect(r.pointsValue + r.pointsDiscount).toBeLessThanOrEqual(3000);
    expect(r).toMatchObject({ pointsUsed: 2700, pointsDiscount: 300, cashPaid: 7000 });
  });

  it('pointsCapFor is the largest value whose discounted payment fits (exact, in integers)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 13 }), fc.integer({ min: 1, max: 9000 }), (cap, centi) => {
        const pct = new Decimal(centi).div(100).toFixed();
        const f = pointsCapFor(cap, pct);
        expect(paysWithDiscount(f, pct)).toBeLessThanOrEqual(cap);
        expect(paysWithDiscount(f + 1, pct)).toBeGreaterThan(cap);
        // exact: floor(f × 10000 / (10000 − centi)) by BigInt, never more than 100/(100 − pct) times the value
        expect(BigInt(paysWithDiscount(f, pct)) * BigInt(10000 - centi)).toBeLessThanOrEqual(BigInt(f) * 10000n);
      }),
      { numRuns: 2000 },
    );
  });

  it('always: lines add up to the quote, cash ≥ 0, each discount is the floor of its points value × P/(100 − P)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbLine, fc.option(fc.integer({ min: 1, max: 9000 }), { nil: null })), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('100', '1000', '3', '250', '1', '33.5'),
        fc.integer({ min: 0, max: 2_000_000 }),
        arbRequest,
        fc.option(fc.integer({ min: 0, max: 20000 }).map((value) => ({ value })), { nil: null }),
        fc.constantFrom('1', '0.9', '0.5'),
        (ls, ppu, available, request, coupon, maxRatio) => {
          const lines = ls.map(([l, centi], i) =>
            line({ sku: `S${i}`, pay: l.pay, quantity: l.quantity, unitPrice: l.unitPrice, pointsPrice: l.pointsPrice, maxPointsRatio: l.ratio === null ? null : new Decimal(l.ratio).div(100), pointsDiscount: l.pay === 'mixed' && centi !== null ? new Decimal(centi).div(100).toFixed() : null }),
          );
          const r = split({ lines, coupon, redeem: redeem(ppu, 0, maxRatio), digits: 2, available, request });
          if (!r.ok) return;
          const q = r.quote;
          expect(q.pointsValue + q.pointsDiscount + q.cashPaid).toBe(q.total);
          expect(q.cashPaid).toBeGreaterThanOrEqual(0);
          const s = splitLines(q);
          expect(s.reduce((a, x) => a + x.points, 0)).toBe(q.pointsUsed);
          expect(s.reduce((a, x) => a + x.pointsDiscount, 0)).toBe(q.pointsDiscount);
          expect(s.reduce((a, x) => a + x.cash, 0)).toBe(q.cashPaid);
          q.lines.forEach((l, i) => {
            const x = s[i];
            expect(x.pointsValue + x.pointsDiscount + x.cash).toBe(l.amount - l.discount);
            expect(x.cash).toBeGreaterThanOrEqual(0);
            expect(x.pointsDiscount).toBe(paysWithDiscount(x.pointsValue, l.pointsDiscountPct) - x.pointsValue);
            if (!l.pointsDiscountPct) expect(x.pointsDiscount).toBe(0);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
