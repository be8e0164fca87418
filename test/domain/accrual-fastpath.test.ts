// The integer fast path of computeEarn (integer rates and multipliers) must give exactly what the decimal
// path gives: a tier multiplier passed as a string forces the decimal path for the comparison.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { computeEarn } from '../../src/domain/accrual.js';
import { type Rules, validateRules } from '../../src/domain/rules.js';

const rules = (doc: unknown, digits: number): Rules => {
  const v = validateRules(doc, digits);
  if (!v.rules) throw new Error(JSON.stringify(v.problems));
  return v.rules;
};

describe('computeEarn: integer fast path equals the decimal path', () => {
  it('for any integer rates, multipliers, roundings, digits, limits and lines (returns too)', () => {
    const line = fc.record({
      amount: fc.integer({ min: -5_000_000, max: 50_000_000 }),
      sku: fc.constantFrom(null, 's1', 's2'),
      category: fc.constantFrom(null, 'c1', 'c2'),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.constantFrom('floor', 'round', 'ceil'),
        fc.array(fc.record({ key: fc.constantFrom('sku:s1', 'sku:s2', 'category:c1', 'category:c2'), m: fc.integer({ min: 0, max: 10 }), half: fc.boolean() }), { maxLength: 4 }),
        fc.array(line, { minLength: 1, maxLength: 6 }),
        fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
        fc.integer({ min: 0, max: 5000 }),
        fc.constantFrom('earn', 'return'),
        (digits, ppu, tier, rounding, mults, lines, maxPer, cap, minOrder, purpose) => {
          const r = rules(
            {
              earn: {
                pointsPerUnit: String(ppu),
                rounding,
                minOrderAmount: (minOrder / 10 ** digits).toFixed(digits),
                maxPointsPerOrder: maxPer,
                multipliers: mults.map((x) => {
                  const [k, v] = x.key.split(':');
                  return { [k]: v, multiplier: x.half ? `${x.m}.5` : String(x.m) };
                }),
              },
              limits: { dailyEarnCap: cap },
            },
            digits,
          );
          const common = { rules: r, at: Date.parse('2026-11-23T02:00:00Z'), zone: 'Asia/Shanghai', digits, lines, purpose: purpose as 'earn' | 'return', earnedTodayBeforeThisOrder: 1000 };
          const fast = computeEarn({ ...common, tierMultiplier: new Decimal(tier) });
          const slow = computeEarn({ ...common, tierMultiplier: String(tier) });
          expect(fast.points).toBe(slow.points);
          expect(fast.rounded).toBe(slow.rounded);
          expect(fast.capped).toBe(slow.capped);
          expect(fast.reason).toBe(slow.reason);
          expect(fast.raw.toString()).toBe(slow.raw.toString());
          expect(fast.tierMultiplier.toString()).toBe(slow.tierMultiplier.toString());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('falls back to decimals when a product leaves the safe integer range', () => {
    // the largest rate and amount the bounds allow (README "Limits"), at a tier of 70
    const r = rules({ earn: { pointsPerUnit: '1000' } }, 2);
    const res = computeEarn({ rules: r, at: 0, zone: 'UTC', digits: 2, lines: [{ amount: 1_000_000_000_000 }], tierMultiplier: new Decimal(70) });
    expect(res.raw.toString()).toBe(new Decimal(1_000_000_000_000).times(1000).times(70).div(100).toString());
    expect(res.points).toBe(new Decimal(1_000_000_000_000).times(70_000).div(100).toNumber());
  });
});
