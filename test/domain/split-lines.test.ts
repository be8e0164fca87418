// §4.5: how a checkout's points, their value and its cash fall on its lines (splitLines), and how the
// points it earned are spread over the lines' cash (spreadEarned).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arbLine, arbRequest } from './cart.arbitraries.js';
import { Decimal } from 'decimal.js';
import { spreadEarned } from '../../src/domain/refund.js';
import { type CartLine, type PointsRequest, split, splitLines, type SplitInput } from '../../src/domain/split.js';

const redeem = (ppu = '100', minPoints = 0, maxRatio = '1') => ({ pointsPerUnit: new Decimal(ppu), minPoints, maxRatio: new Decimal(maxRatio) });
const line = (p: Partial<CartLine> = {}): CartLine => ({
  sku: 'A', name: 'A', category: null, kind: 'goods', pay: 'mixed', quantity: 1, unitPrice: 10000, pointsPrice: null, maxPointsRatio: null, ...p,
});
const quote = (p: Partial<SplitInput>) => {
  const r = split({ lines: [line()], coupon: null, redeem: redeem(), digits: 2, available: 0, request: { kind: 'default' }, ...p });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.quote;
};

describe('splitLines (§4.5)', () => {
  it('puts a points-only gift and a cash-only item each on its own pay mode', () => {
    const q = quote({
      lines: [line({ sku: 'GIFT', pay: 'points', unitPrice: 3000, pointsPrice: 3000 }), line({ sku: 'CASH', pay: 'cash', unitPrice: 7000 })],
      available: 5000,
    });
    expect(q).toMatchObject({ pointsUsed: 3000, pointsValue: 3000, cashPaid: 7000 });
    expect(splitLines(q)).toEqual([
      { points: 3000, pointsValue: 3000, pointsDiscount: 0, cash: 0 },
      { points: 0, pointsValue: 0, pointsDiscount: 0, cash: 7000 },
    ]);
  });

  it('gives a points-only line exactly its points and the mixed lines the rest, by what each lets points pay', () => {
    const q = quote({
      lines: [
        line({ sku: 'GIFT', pay: 'points', unitPrice: 5000, pointsPrice: 4000 }),
        line({ sku: 'HALF', unitPrice: 10000, maxPointsRatio: new Decimal('0.5') }), // points may pay 50.00
        line({ sku: 'FULL', unitPrice: 10000 }), // points may pay 100.00
        line({ sku: 'CUP', pay: 'cash', unitPrice: 2000 }),
      ],
      available: 7000,
      request: { kind: 'points', points: 7000 },
    });
    expect(q).toMatchObject({ pointsUsed: 7000, pointsValue: 8000, cashPaid: 19000 });
    expect(splitLines(q)).toEqual([
      { points: 4000, pointsValue: 5000, pointsDiscount: 0, cash: 0 },
      { points: 1000, pointsValue: 1000, pointsDiscount: 0, cash: 9000 },
      { points: 2000, pointsValue: 2000, pointsDiscount: 0, cash: 8000 },
      { points: 0, pointsValue: 0, pointsDiscount: 0, cash: 2000 },
    ]);
  });

  it('keeps whole steps on every line when a step is worth one minor unit (1000 points per yuan)', () => {
    const q = quote({ redeem: redeem('1000'), lines: [line({ sku: 'A', unitPrice: 100 }), line({ sku: 'B', unitPrice: 100 })], available: 30, request: { kind: 'points', points: 30 } });
    expect(q).toMatchObject({ pointsUsed: 30, pointsValue: 3 });
    const s = splitLines(q);
    expect(s.map((x) => x.points)).toEqual([20, 10]);
    expect(s.map((x) => x.pointsValue)).toEqual([2, 1]);
  });

  it('never leaves a line value without points when a step is worth more than a minor unit (1 point per yuan)', () => {
    // An outside trial: 1.50 and 0.50 paid with 2 points put both on the first line and 0.50 of value on the
    // second; refunding the first line alone gave both points back and the member kept the second line.
    const lines = [line({ sku: 'A', unitPrice: 150 }), line({ sku: 'B', unitPrice: 50 })];
    const two = split({ lines, coupon: null, redeem: redeem('1'), digits: 2, available: 10, request: { kind: 'points', points: 2 } });
    expect(two.ok).toBe(false);
    expect(!two.ok && two.message).toContain('is more than these items can take (at most 1)');
    const q = quote({ lines, redeem: redeem('1'), available: 10, request: { kind: 'max' } });
    expect(q).toMatchObject({ pointsUsed: 1, pointsValue: 100, cashPaid: 100, stepValue: 100 });
    expect(splitLines(q)).toEqual([
      { points: 1, pointsValue: 100, pointsDiscount: 0, cash: 50 },
      { points: 0, pointsValue: 0, pointsDiscount: 0, cash: 50 },
    ]);
  });

  it('gives a line no more steps than its cap holds, and the rest to the others', () => {
    // at 1 point per yuan, caps 3.50 (3 steps), 0.90 (none), 2.00 (2 steps): 5 points take 3 + 0 + 2
    const lines = [line({ sku: 'A', unitPrice: 350 }), line({ sku: 'B', unitPrice: 90 }), line({ sku: 'C', unitPrice: 200 })];
    const q = quote({ lines, redeem: redeem('1'), available: 10, request: { kind: 'max' } });
    expect(q.pointsUsed).toBe(5);
    expect(splitLines(q).map((x) => x.points)).toEqual([3, 0, 2]);
    const four = quote({ lines, redeem: redeem('1'), available: 10, request: { kind: 'points', points: 4 } });
    // by caps 350:90:200 four steps are 2.19, 0.56, 1.25: B holds none, so its share goes to the others
    expect(splitLines(four).map((x) => x.points)).toEqual([3, 0, 1]);
  });

  it('always: parts add up to the quote, cash lines carry no points, points lines no cash, mixed lines in whole steps', () => {
    fc.assert(
      fc.property(
        fc.array(arbLine, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('100', '1000', '3', '250', '1', '33.5', '150'),
        fc.integer({ min: 0, max: 2_000_000 }),
        arbRequest,
        fc.option(fc.integer({ min: 0, max: 20000 }).map((value) => ({ value })), { nil: null }),
        fc.constantFrom('1', '0.9', '0.5'),
        (ls, ppu, available, request, coupon, maxRatio) => {
          const lines = ls.map((l, i) => line({ sku: `S${i}`, pay: l.pay, quantity: l.quantity, unitPrice: l.unitPrice, pointsPrice: l.pointsPrice, maxPointsRatio: l.ratio === null ? null : new Decimal(l.ratio).div(100) }));
          const r = split({ lines, coupon, redeem: redeem(ppu, 0, maxRatio), digits: 2, available, request });
          if (!r.ok) return;
          const q = r.quote;
          const s = splitLines(q);
          expect(s.reduce((a, x) => a + x.points, 0)).toBe(q.pointsUsed);
          expect(s.reduce((a, x) => a + x.pointsValue, 0)).toBe(q.pointsValue);
          expect(s.reduce((a, x) => a + x.cash, 0)).toBe(q.cashPaid);
          q.lines.forEach((l, i) => {
            const x = s[i];
            expect(x.pointsValue + x.cash).toBe(l.amount - l.discount);
            expect(x.points >= 0 && x.pointsValue >= 0 && x.cash >= 0).toBe(true);
            if (l.pay === 'cash') expect(x).toEqual({ points: 0, pointsValue: 0, pointsDiscount: 0, cash: l.amount - l.discount });
            if (l.pay === 'points') expect(x).toEqual({ points: l.requiredPoints, pointsValue: l.amount, pointsDiscount: 0, cash: 0 });
            if (l.pay === 'mixed') {
              // whole steps on every line, worth exactly their value, never past the line's cap
              expect(x.points % q.pointsStep).toBe(0);
              expect(x.pointsValue).toBe((x.points / q.pointsStep) * q.stepValue);
              expect(x.pointsValue).toBeLessThanOrEqual(l.pointsCap);
            }
          });
          // the most a request may use is what the lines hold in whole steps each
          const holds = q.lines.reduce((a, l) => a + (l.pay === 'mixed' ? Math.floor(l.pointsCap / q.stepValue) : 0), 0);
          expect(q.allowed.max).toBeLessThanOrEqual(q.requiredPoints + holds * q.pointsStep);
          const earned = s.reduce((a, x) => a + x.cash, 0) % 997;
          const e = spreadEarned(earned, s.map((x) => x.cash));
          expect(e.reduce((a, b) => a + b, 0)).toBe(earned);
          s.forEach((x, i) => x.cash === 0 && expect(e[i]).toBe(0));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
