import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { RulesTimeline, computeEarn, lineMultiplier, versionInForce } from '../../src/domain/accrual.js';
import { type Rules, validateRules } from '../../src/domain/rules.js';

const SH = 'Asia/Shanghai';
const rules = (doc: unknown): Rules => {
  const v = validateRules(doc, 2);
  if (!v.rules) throw new Error(JSON.stringify(v.problems));
  return v.rules;
};
const at = (iso: string) => Date.parse(iso);
const base = { zone: SH, digits: 2, at: at('2026-11-23T10:00:00+08:00') };

describe('computeEarn: the earning engine of SPEC §4.1', () => {
  it('earns 1 point per unit with the default rules, floored once per order', () => {
    // 12.34 + 45.67 = 58.01 → 58.01 points raw → 58
    const r = computeEarn({ ...base, rules: rules({}), lines: [{ amount: 1234 }, { amount: 4567 }] });
    expect(r.raw.toString()).toBe('58.01');
    expect(r.points).toBe(58);
    expect(r.capped).toBe(0);
  });

  it('rounds once per order, not per line', () => {
    // per line: floor(0.6)+floor(0.6) = 0; per order: floor(1.2) = 1
    const r = computeEarn({ ...base, rules: rules({}), lines: [{ amount: 60 }, { amount: 60 }] });
    expect(r.points).toBe(1);
  });

  it('honours rounding floor, round and ceil', () => {
    const lines = [{ amount: 1250 }]; // 12.5 points
    expect(computeEarn({ ...base, rules: rules({ earn: { rounding: 'floor' } }), lines }).points).toBe(12);
    expect(computeEarn({ ...base, rules: rules({ earn: { rounding: 'round' } }), lines }).points).toBe(13);
    expect(computeEarn({ ...base, rules: rules({ earn: { rounding: 'ceil' } }), lines: [{ amount: 1201 }] }).points).toBe(13);
  });

  it('applies pointsPerUnit as a rate', () => {
    // 99.99 × 0.5 = 49.995 → floor 49
    const r = computeEarn({ ...base, rules: rules({ earn: { pointsPerUnit: '0.5' } }), lines: [{ amount: 9999 }] });
    expect(r.raw.toString()).toBe('49.995');
    expect(r.points).toBe(49);
  });

  it('uses currency digits: JPY has no minor unit', () => {
    const r = computeEarn({ ...base, digits: 0, rules: rules({}), lines: [{ amount: 1500 }] });
    expect(r.points).toBe(1500);
  });

  it('prefers a sku multiplier over a category one', () => {
    const r = rules({ earn: { multipliers: [{ category: 'tea', multiplier: '2' }, { sku: 'TEA-001', multiplier: '3' }] } });
    // 10.00 of TEA-001 (×3) + 10.00 of other tea (×2) + 10.00 untagged (×1) = 30+20+10
    const out = computeEarn({ ...base, rules: r, lines: [{ amount: 1000, sku: 'TEA-001', category: 'tea' }, { amount: 1000, sku: 'TEA-002', category: 'tea' }, { amount: 1000 }] });
    expect(out.points).toBe(60);
  });

  it('takes the largest active category multiplier, and a sku one even when smaller', () => {
    const r = rules({ earn: { multipliers: [{ category: 'tea', multiplier: '2' }, { category: 'tea', multiplier: '4' }, { sku: 'X', multiplier: '0.5' }] } });
    expect(lineMultiplier(r, { category: 'tea' }, '2026-01-01').toString()).toBe('4');
    expect(lineMultiplier(r, { sku: 'X', category: 'tea' }, '2026-01-01').toString()).toBe('0.5');
  });

  it('treats multiplier windows as inclusive calendar dates in the ledger zone', () => {
    const r = rules({ earn: { multipliers: [{ category: 'electronics', multiplier: '2', from: '2026-11-01', to: '2026-11-30' }] } });
    const line = [{ amount: 10000, category: 'electronics' }];
    // 2026-11-30 23:59 in Shanghai is 15:59Z: still inside
    expect(computeEarn({ ...base, rules: r, lines: line, at: at('2026-11-30T23:59:00+08:00') }).points).toBe(200);
    // 2026-12-01 00:00 in Shanghai (16:00Z on the 30th): outside
    expect(computeEarn({ ...base, rules: r, lines: line, at: at('2026-12-01T00:00:00+08:00') }).points).toBe(100);
    // first day inclusive
    expect(computeEarn({ ...base, rules: r, lines: line, at: at('2026-11-01T00:00:00+08:00') }).points).toBe(200);
    expect(computeEarn({ ...base, rules: r, lines: line, at: at('2026-10-31T23:59:59+08:00') }).points).toBe(100);
    // the same instant read in UTC is still Oct 31 there
    expect(computeEarn({ ...base, zone: 'UTC', rules: r, lines: line, at: at('2026-11-01T07:00:00+08:00') }).points).toBe(100);
  });

  it('applies the tier reached by lifetime points before the order, or the pinned tier', () => {
    const r = rules({ tiers: [{ name: 'silver', minLifetimePoints: 0, multiplier: '1' }, { name: 'gold', minLifetimePoints: 10000, multiplier: '1.5' }] });
    const lines = [{ amount: 10001 }]; // 100.01 points raw
    const silver = computeEarn({ ...base, rules: r, lines, lifetimeEarned: 9999 });
    expect(silver.tier).toBe('silver');
    expect(silver.points).toBe(100);
    const gold = computeEarn({ ...base, rules: r, lines, lifetimeEarned: 10000 });
    expect(gold.tier).toBe('gold');
    expect(gold.raw.toString()).toBe('150.015');
    expect(gold.points).toBe(150);
    const pinned = computeEarn({ ...base, rules: r, lines, lifetimeEarned: 50000, pinnedTier: 'silver' });
    expect(pinned.tier).toBe('silver');
    expect(pinned.points).toBe(100);
    expect(computeEarn({ ...base, rules: r, lines, tierMultiplier: '2' }).points).toBe(200);
  });

  it('multiplies line multipliers and the tier before the single rounding', () => {
    // (10.00 × 3 + 5.55 × 1) × 1.5 = (30 + 5.55) × 1.5 = 53.325 → round → 53
    const r = rules({ earn: { rounding: 'round', multipliers: [{ sku: 'A', multiplier: 3 }] }, tiers: [{ name: 'gold', minLifetimePoints: 0, multiplier: '1.5' }] });
    const out = computeEarn({ ...base, rules: r, lines: [{ amount: 1000, sku: 'A' }, { amount: 555 }] });
    expect(out.raw.toString()).toBe('53.325');
    expect(out.points).toBe(53);
  });

  it('earns nothing below minOrderAmount, and exactly at it earns', () => {
    const r = rules({ earn: { minOrderAmount: '50.00' } });
    const below = computeEarn({ ...base, rules: r, lines: [{ amount: 4999 }] });
    expect(below.points).toBe(0);
    expect(below.reason).toBe('below-min-order');
    expect(computeEarn({ ...base, rules: r, lines: [{ amount: 2500 }, { amount: 2500 }] }).points).toBe(50);
    // a checkout compares its total, not its cash part
    expect(computeEarn({ ...base, rules: r, lines: [{ amount: 1000 }], orderTotal: 10000 }).points).toBe(10);
  });

  it('limits an order to maxPointsPerOrder', () => {
    const r = rules({ earn: { maxPointsPerOrder: 500 } });
    const out = computeEarn({ ...base, rules: r, lines: [{ amount: 100000 }] });
    expect(out.points).toBe(500);
    expect(out.capped).toBe(0);
    expect(out.reason).toBe('max-points-per-order');
  });

  it('credits only up to the daily cap and counts the rest as capped', () => {
    const r = rules({ limits: { dailyEarnCap: 1000 } });
    const lines = [{ amount: 50000 }]; // 500 points
    expect(computeEarn({ ...base, rules: r, lines, earnedTodayBeforeThisOrder: 0 }).points).toBe(500);
    const part = computeEarn({ ...base, rules: r, lines, earnedTodayBeforeThisOrder: 700 });
    expect(part.points).toBe(300);
    expect(part.capped).toBe(200);
    expect(part.reason).toBe('daily-cap');
    const none = computeEarn({ ...base, rules: r, lines, earnedTodayBeforeThisOrder: 1200 });
    expect(none.points).toBe(0);
    expect(none.capped).toBe(500);
  });

  it('applies maxPointsPerOrder before the daily cap', () => {
    const r = rules({ earn: { maxPointsPerOrder: 400 }, limits: { dailyEarnCap: 1000 } });
    const out = computeEarn({ ...base, rules: r, lines: [{ amount: 100000 }], earnedTodayBeforeThisOrder: 800 });
    expect(out.points).toBe(200);
    expect(out.capped).toBe(200);
  });

  it('a return takes back what the amount earned, without minimum or daily cap', () => {
    const r = rules({ earn: { minOrderAmount: '100.00', maxPointsPerOrder: 30 }, limits: { dailyEarnCap: 10 } });
    const back = computeEarn({ ...base, rules: r, lines: [{ amount: 2000 }], purpose: 'return', earnedTodayBeforeThisOrder: 10 });
    expect(back.points).toBe(20);
    expect(computeEarn({ ...base, rules: r, lines: [{ amount: 5000 }], purpose: 'return' }).points).toBe(30);
  });

  it('earns nothing for a zero or net-negative order', () => {
    expect(computeEarn({ ...base, rules: rules({}), lines: [] }).points).toBe(0);
    const neg = computeEarn({ ...base, rules: rules({}), lines: [{ amount: 1000 }, { amount: -2000 }] });
    expect(neg.points).toBe(0);
    expect(neg.reason).toBe('nothing-to-earn');
  });

  it('keeps exact decimals for huge amounts', () => {
    const r = rules({ earn: { pointsPerUnit: '1.1' } });
    const out = computeEarn({ ...base, rules: r, lines: [{ amount: 999_999_999_999_99 }] });
    expect(out.raw.toString()).toBe(new Decimal('99999999999999').times('1.1').div(100).toString());
  });

  describe('properties', () => {
    const ruleSets = [
      rules({}),
      rules({ earn: { pointsPerUnit: '0.37', multipliers: [{ category: 'c1', multiplier: '2.5' }, { sku: 's1', multiplier: '3' }] }, tiers: [{ name: 't', minLifetimePoints: 0, multiplier: '1.25' }] }),
      rules({ earn: { pointsPerUnit: '3', rounding: 'ceil', multipliers: [{ category: 'c2', multiplier: '0.5', from: '2026-01-01', to: '2026-12-31' }] } }),
    ];
    const line = fc.record({
      amount: fc.integer({ min: 0, max: 10_000_000 }),
      sku: fc.constantFrom(undefined, 's1', 's2'),
      category: fc.constantFrom(undefined, 'c1', 'c2'),
    });

    it('splitting a line into parts never changes the order raw points', () => {
      fc.assert(
        fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), fc.nat(2), (lines, cuts, ri) => {
          const r = ruleSets[ri];
          const whole = computeEarn({ ...base, rules: r, lines });
          // cut every line into pieces by weights, largest remainder so the pieces add up exactly
          const split = lines.flatMap((l) => {
            const sum = cuts.reduce((a, b) => a + b, 0);
            let left = l.amount;
            return cuts.map((c, i) => {
              const part = i === cuts.length - 1 ? left : Math.floor((l.amount * c) / sum);
              left -= part;
              return { ...l, amount: part };
            });
          });
          const parts = computeEarn({ ...base, rules: r, lines: split });
          expect(parts.raw.eq(whole.raw)).toBe(true);
          expect(parts.points).toBe(whole.points);
        }),
      );
    });

    it('reordering lines never changes the points', () => {
      fc.assert(
        fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), fc.nat(2), (lines, ri) => {
          const r = ruleSets[ri];
          const a = computeEarn({ ...base, rules: r, lines });
          const b = computeEarn({ ...base, rules: r, lines: [...lines].reverse() });
          expect(b.raw.eq(a.raw)).toBe(true);
        }),
      );
    });

    it('credited points + capped never exceed the rounded points, and never exceed the cap room', () => {
      fc.assert(
        fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 8000 }), (lines, cap, before) => {
          const r = rules({ limits: { dailyEarnCap: cap } });
          const out = computeEarn({ ...base, rules: r, lines, earnedTodayBeforeThisOrder: before });
          expect(out.points + out.capped).toBe(out.rounded);
          expect(out.points).toBeLessThanOrEqual(Math.max(0, cap - before));
          expect(Number.isSafeInteger(out.points)).toBe(true);
        }),
      );
    });

    it('points are monotone in the amount', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e6 }), fc.nat(2), (a, d, ri) => {
          const r = ruleSets[ri];
          const x = computeEarn({ ...base, rules: r, lines: [{ amount: a, category: 'c1' }] }).points;
          const y = computeEarn({ ...base, rules: r, lines: [{ amount: a + d, category: 'c1' }] }).points;
          expect(y).toBeGreaterThanOrEqual(x);
        }),
      );
    });
  });
});

describe('rules version in force at an instant', () => {
  const versions = [
    { id: 1, effectiveAt: '1970-01-01T00:00:00.000Z' },
    { id: 2, effectiveAt: '2026-11-01T00:00:00.000Z' },
    { id: 4, effectiveAt: '2026-12-01T00:00:00.000Z' },
    { id: 3, effectiveAt: '2026-12-01T00:00:00.000Z' },
  ];
  it('takes the latest effective time ≤ t, ties to the later applied', () => {
    const tl = new RulesTimeline(versions);
    for (const [iso, id] of [
      ['2020-05-05T00:00:00Z', 1],
      ['2026-10-31T23:59:59.999Z', 1],
      ['2026-11-01T00:00:00Z', 2],
      ['2026-11-30T00:00:00Z', 2],
      ['2026-12-01T00:00:00Z', 4],
      ['2030-01-01T00:00:00Z', 4],
    ] as const) {
      expect(versionInForce(versions, at(iso))?.id).toBe(id);
      expect(tl.at(at(iso))?.id).toBe(id);
    }
  });
  it('finds none before the first version', () => {
    const later = [{ id: 1, effectiveAt: '2026-01-01T00:00:00.000Z' }];
    expect(versionInForce(later, at('2025-01-01T00:00:00Z'))).toBeUndefined();
    expect(new RulesTimeline(later).at(at('2025-01-01T00:00:00Z'))).toBeUndefined();
  });
  it('the timeline agrees with the linear lookup', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 1, max: 1000 }), ms: fc.integer({ min: 0, max: 100 }) }), { maxLength: 12 }),
        fc.integer({ min: -5, max: 105 }),
        (vs, t) => {
          const uniq = [...new Map(vs.map((v) => [v.id, v])).values()].map((v) => ({ id: v.id, effectiveAt: new Date(v.ms * 1000).toISOString() }));
          expect(new RulesTimeline(uniq).at(t * 1000)?.id).toBe(versionInForce(uniq, t * 1000)?.id);
        },
      ),
    );
  });
});
