import { describe, expect, it } from 'vitest';
import { defaultRules, expiresOn, multipliersNamingNothing, pinnedOutside, rulesToDocument, tierFor, validateRules } from '../../src/domain/rules.js';

const valid = (doc: unknown) => {
  const v = validateRules(doc, 2);
  if (!v.rules) throw new Error(`expected valid rules: ${JSON.stringify(v.problems)}`);
  return v.rules;
};
const problems = (doc: unknown) => {
  const v = validateRules(doc, 2);
  expect(v.rules).toBeUndefined();
  return v.problems;
};
const paths = (doc: unknown) => problems(doc).map((p) => p.path);

const INIT_DOC = {
  earn: { pointsPerUnit: '1', rounding: 'floor', minOrderAmount: '0.00', maxPointsPerOrder: null, multipliers: [] },
  tiers: [],
  redeem: { pointsPerUnit: '100', minPoints: 0, maxRatio: '1' },
  expiry: { policy: 'rolling-days', days: 365 },
  limits: { dailyEarnCap: null, reviewAbove: null, verifyPointsAbove: null, maxCheckoutsPerHour: null, maxRefundsPerDay: null, maxPointsSpentPerDay: null },
  activities: [],
};

describe('validateRules', () => {
  it('accepts the SPEC example with numbers as strings or JSON numbers', () => {
    const r = valid({
      earn: {
        pointsPerUnit: '1',
        rounding: 'floor',
        minOrderAmount: '0',
        maxPointsPerOrder: null,
        multipliers: [
          { category: 'electronics', multiplier: '2', from: '2026-11-01', to: '2026-11-30' },
          { sku: 'TEA-001', multiplier: 3 },
        ],
      },
      tiers: [
        { name: 'gold', minLifetimePoints: 10000, multiplier: '1.5' },
        { name: 'silver', minLifetimePoints: 0, multiplier: '1' },
      ],
      redeem: { pointsPerUnit: 100, minPoints: 0, maxRatio: '0.5' },
      expiry: { policy: 'rolling-days', days: 365 },
      limits: { dailyEarnCap: 5000, reviewAbove: '2000.50' },
    });
    expect(r.earn.multipliers).toHaveLength(2);
    expect(r.earn.multipliers[0]).toMatchObject({ category: 'electronics', from: '2026-11-01', to: '2026-11-30' });
    expect(r.earn.multipliers[1].multiplier.toString()).toBe('3');
    expect(r.tiers.map((t) => t.name)).toEqual(['silver', 'gold']); // sorted by minimum
    expect(r.redeem.maxRatio.toString()).toBe('0.5');
    expect(r.limits).toEqual({ dailyEarnCap: 5000, reviewAbove: 200050, verifyPointsAbove: null, maxCheckoutsPerHour: null, maxRefundsPerDay: null, maxPointsSpentPerDay: null });
  });

  it('gives init defaults to an empty document', () => {
    expect(rulesToDocument(valid({}), 2)).toEqual(INIT_DOC);
    expect(rulesToDocument(defaultRules(), 2)).toEqual(INIT_DOC);
  });

  it('fills every field left out with init defaults, never from another version', () => {
    // A "previous version" that changed everything; the next file only names earn.pointsPerUnit.
    const previous = valid({
      earn: { pointsPerUnit: '5', rounding: 'ceil', minOrderAmount: '10', maxPointsPerOrder: 99 },
      redeem: { pointsPerUnit: '1000', minPoints: 500, maxRatio: '0.3' },
      expiry: { policy: 'never' },
      limits: { dailyEarnCap: 10, reviewAbove: '1.00' },
    });
    expect(previous.redeem.pointsPerUnit.toString()).toBe('1000');
    const next = rulesToDocument(valid({ earn: { pointsPerUnit: '2' } }), 2);
    expect(next).toEqual({ ...INIT_DOC, earn: { ...INIT_DOC.earn, pointsPerUnit: '2' } });
    // A section named with some fields only: the others take init's defaults too.
    const partial = rulesToDocument(valid({ redeem: { minPoints: 100 } }), 2);
    expect(partial.redeem).toEqual({ pointsPerUnit: '100', minPoints: 100, maxRatio: '1' });
  });

  it('round-trips through its stored document', () => {
    const doc = {
      earn: { pointsPerUnit: '1.5', rounding: 'round', minOrderAmount: '9.90', maxPointsPerOrder: 1000, multipliers: [{ sku: 'A', multiplier: '2' }] },
      tiers: [{ name: 'vip', minLifetimePoints: 10, multiplier: '1.25' }],
      redeem: { pointsPerUnit: '1000', minPoints: 10, maxRatio: '0.8' },
      expiry: { policy: 'end-of-year', years: 2 },
      limits: { dailyEarnCap: 300, reviewAbove: '5000.00', verifyPointsAbove: 5000, maxCheckoutsPerHour: 6, maxRefundsPerDay: 2, maxPointsSpentPerDay: null },
      activities: [{ name: 'review', points: 20, maxPerDay: 1, maxPerMonth: null }, { name: 'signup', points: 100, once: true, maxPerDay: null, maxPerMonth: 3 }],
    };
    expect(rulesToDocument(valid(doc), 2)).toEqual(doc);
    expect(rulesToDocument(valid(rulesToDocument(valid(doc), 2)), 2)).toEqual(doc);
  });

  it('refuses two tiers from the same threshold, one of which could never be reached; a stored version is read as it was (trial 39)', () => {
    const doc = { tiers: [{ name: 'gold' }, { name: 'silver' }, { name: 'vip', minLifetimePoints: 500 }] };
    expect(problems(doc)).toEqual([
      { path: '$.tiers[1].minLifetimePoints', message: 'tiers "gold" and "silver" both start at 0 lifetime points, so "gold" could never be reached: give each tier its own minLifetimePoints (a tier left without one starts at 0)' },
    ]);
    expect(validateRules(doc, 2, { stored: true }).rules?.tiers.map((t) => t.name)).toEqual(['gold', 'silver', 'vip']);
  });

  it('names the JSON path of every problem, all at once', () => {
    const ps = problems({
      earn: { pointsPerUnit: 'x', rounding: 'up', minOrderAmount: '1.234', maxPointsPerOrder: -1, multipliers: [{ multiplier: '2' }, { sku: 'A', multiplier: 'two', from: '2026-02-30' }], colour: 'red' },
      tiers: [{ name: '' }, { name: 'gold', minLifetimePoints: 1.5 }, { name: 'gold', multiplier: 'lots' }],
      redeem: { pointsPerUnit: 0, minPoints: 'many', maxRatio: 2 },
      expiry: { policy: 'sometimes' },
      limits: { dailyEarnCap: 'x', reviewAbove: 'abc' },
      bogus: true,
    });
    const byPath = Object.fromEntries(ps.map((p) => [p.path, p.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        '$.bogus',
        '$.earn.colour',
        '$.earn.pointsPerUnit',
        '$.earn.rounding',
        '$.earn.minOrderAmount',
        '$.earn.maxPointsPerOrder',
        '$.earn.multipliers[0]',
        '$.earn.multipliers[1].multiplier',
        '$.earn.multipliers[1].from',
        '$.tiers[0].name',
        '$.tiers[1].minLifetimePoints',
        '$.tiers[2].name',
        '$.tiers[2].multiplier',
        '$.redeem.pointsPerUnit',
        '$.redeem.minPoints',
        '$.redeem.maxRatio',
        '$.expiry.policy',
        '$.limits.dailyEarnCap',
        '$.limits.reviewAbove',
      ].sort(),
    );
    expect(byPath['$.earn.rounding']).toMatch(/"up" is not one of floor, round, ceil/);
    expect(byPath['$.earn.multipliers[0]']).toMatch(/exactly one of "category" or "sku"/);
    expect(byPath['$.tiers[2].name']).toMatch(/named twice/);
    expect(byPath['$.redeem.pointsPerUnit']).toMatch(/greater than 0/);
    expect(byPath['$.redeem.maxRatio']).toMatch(/between 0 and 1/);
    expect(byPath['$.earn.minOrderAmount']).toMatch(/decimal places/);
    for (const p of ps) expect(p.message.length).toBeGreaterThan(5);
  });

  it('refuses what is not an object, and sections of the wrong shape', () => {
    expect(paths([])).toEqual(['$']);
    expect(paths('rules')).toEqual(['$']);
    expect(paths(null)).toEqual(['$']);
    expect(paths({ earn: [] })).toEqual(['$.earn']);
    expect(paths({ tiers: {} })).toEqual(['$.tiers']);
    expect(paths({ earn: { multipliers: {} } })).toEqual(['$.earn.multipliers']);
    expect(paths({ earn: { multipliers: [{ category: 'x', multiplier: '2', from: '2026-12-01', to: '2026-11-01' }] } })).toEqual(['$.earn.multipliers[0].to']);
    expect(paths({ expiry: { policy: 'rolling-days', days: 0 } })).toEqual(['$.expiry.days']);
    // one message for any value that is no count of days (trial 37: 1.5 said "≥ 0", then 0 "at least 1")
    for (const days of [0, 1.5, -1, '2.0']) expect(problems({ expiry: { days } }).map((p) => p.message), String(days)).toEqual(['must be a whole number ≥ 1']);
    expect(paths({ expiry: { policy: 'rolling-days', years: 1 } })).toEqual(['$.expiry.years']);
    expect(paths({ expiry: { policy: 'never', days: 3 } })).toEqual(['$.expiry']);
    expect(paths({ earn: { pointsPerUnit: Number.NaN } })).toEqual(['$.earn.pointsPerUnit']);
    expect(paths({ earn: { minOrderAmount: '-5.00' } })).toEqual(['$.earn.minOrderAmount']);
  });

  it('reads expiry policies with their defaults', () => {
    expect(valid({ expiry: { days: 30 } }).expiry).toEqual({ policy: 'rolling-days', days: 30 });
    expect(valid({ expiry: { policy: 'end-of-year' } }).expiry).toEqual({ policy: 'end-of-year', years: 1 });
    expect(valid({ expiry: { policy: 'never' } }).expiry).toEqual({ policy: 'never' });
  });
});

describe('expiresOn (§4.4)', () => {
  const at = (iso: string) => Date.parse(iso);

  it('rolling-days counts calendar days from the local earning date', () => {
    expect(expiresOn({ policy: 'rolling-days', days: 365 }, at('2026-11-23T02:00:00Z'), 'Asia/Shanghai')).toBe('2027-11-23');
    expect(expiresOn({ policy: 'rolling-days', days: 30 }, at('2026-01-31T12:00:00Z'), 'UTC')).toBe('2026-03-02');
    // 20:00 UTC on 31 Dec is already 1 Jan in Shanghai
    expect(expiresOn({ policy: 'rolling-days', days: 1 }, at('2026-12-31T20:00:00Z'), 'Asia/Shanghai')).toBe('2027-01-02');
    expect(expiresOn({ policy: 'rolling-days', days: 1 }, at('2026-12-31T20:00:00Z'), 'UTC')).toBe('2027-01-01');
  });

  it('end-of-year expires on 31 Dec of the earning year + years, in the ledger zone', () => {
    expect(expiresOn({ policy: 'end-of-year', years: 1 }, at('2026-06-15T00:00:00Z'), 'UTC')).toBe('2027-12-31');
    expect(expiresOn({ policy: 'end-of-year', years: 0 }, at('2026-06-15T00:00:00Z'), 'UTC')).toBe('2026-12-31');
    expect(expiresOn({ policy: 'end-of-year', years: 1 }, at('2026-12-31T20:00:00Z'), 'Asia/Shanghai')).toBe('2028-12-31');
    expect(expiresOn({ policy: 'end-of-year', years: 1 }, at('2026-12-31T20:00:00Z'), 'UTC')).toBe('2027-12-31');
  });

  it('never gives no date', () => {
    expect(expiresOn({ policy: 'never' }, at('2026-06-15T00:00:00Z'), 'UTC')).toBeNull();
  });
});

describe('tierFor', () => {
  const rules = valid({
    tiers: [
      { name: 'silver', minLifetimePoints: 0 },
      { name: 'gold', minLifetimePoints: 10000, multiplier: '1.5' },
    ],
  });
  it('picks the highest tier reached, or the pinned one', () => {
    expect(tierFor(rules, null, 0)?.name).toBe('silver');
    expect(tierFor(rules, null, 9999)?.name).toBe('silver');
    expect(tierFor(rules, null, 10000)?.name).toBe('gold');
    expect(tierFor(rules, 'gold', 0)?.multiplier.toString()).toBe('1.5');
    expect(tierFor(valid({}), null, 1e6)).toBeUndefined();
  });
});

describe('stored rules read back (issue 14 item 5)', () => {
  it('a document that validates is stored in a form that validates again, to the same rules', () => {
    // every rate from 0.000001 to the bounds, written with up to 6 decimal places
    const rates = ['0.000001', '0.0000010', '0.00001', '1', '2.5', '100', '99.999999', '0.1', '1000', '999999.999999'];
    for (const small of rates) {
      const mult = Number(small) <= 100 ? small : '1';
      const doc = {
        earn: { pointsPerUnit: Number(small) <= 1000 ? small : '1', multipliers: [{ sku: 'X', multiplier: mult }, { category: 'c', multiplier: Number(mult) }] },
        tiers: [{ name: 'gold', minLifetimePoints: 5, multiplier: mult }],
        redeem: { pointsPerUnit: Number(small) > 0 ? small : '1', maxRatio: '0.000001' },
      };
      const once = rulesToDocument(valid(doc), 2);
      expect(JSON.stringify(once)).not.toMatch(/e[+-]?\d/i);
      const twice = rulesToDocument(valid(JSON.parse(JSON.stringify(once))), 2);
      expect(twice).toEqual(once);
    }
  });

  it('names the bound a rate passes, with its JSON path', () => {
    const byPath = (doc: unknown) => Object.fromEntries(problems(doc).map((p) => [p.path, p.message]));
    expect(byPath({ earn: { multipliers: [{ sku: 'X', multiplier: '0.0000001' }] } })).toEqual({
      '$.earn.multipliers[0].multiplier': '0.0000001 has more than 6 decimal places',
    });
    expect(byPath({ earn: { multipliers: [{ sku: 'X', multiplier: 1e-7 }] } })['$.earn.multipliers[0].multiplier']).toContain('more than 6 decimal places');
    expect(byPath({ earn: { multipliers: [{ sku: 'X', multiplier: '101' }] } })['$.earn.multipliers[0].multiplier']).toBe('must be at most 100');
    expect(byPath({ tiers: [{ name: 'g', multiplier: '1000' }] })['$.tiers[0].multiplier']).toBe('must be at most 100');
    expect(byPath({ earn: { pointsPerUnit: '1000.5' } })['$.earn.pointsPerUnit']).toBe('must be at most 1000');
    expect(byPath({ redeem: { pointsPerUnit: '1000001' } })['$.redeem.pointsPerUnit']).toBe('must be at most 1000000');
    expect(byPath({ earn: { maxPointsPerOrder: 1e13 } })['$.earn.maxPointsPerOrder']).toBe('must be at most 1000000000000');
    expect(byPath({ limits: { reviewAbove: '10000000000.01' } })['$.limits.reviewAbove']).toContain('too large an amount');
  });

  it('a version stored with an exponent by an older build still reads', () => {
    const v = validateRules({ earn: { multipliers: [{ sku: 'X', multiplier: '1e-7' }], pointsPerUnit: '2E+3' } }, 2, { stored: true });
    expect(v.problems).toEqual([]);
    expect(v.rules!.earn.multipliers[0].multiplier.toFixed()).toBe('0.0000001');
    expect(rulesToDocument(v.rules!, 2).earn).toMatchObject({ pointsPerUnit: '2000', multipliers: [{ sku: 'X', multiplier: '0.0000001' }] });
    // limits older builds accepted are read back, not refused by the later bounds
    const old = validateRules({ earn: { maxPointsPerOrder: 1e14, multipliers: [{ sku: 'X', multiplier: '500' }] }, limits: { reviewAbove: '9999999999999.99' } }, 2, { stored: true });
    expect(old.problems).toEqual([]);
    expect(old.rules!.limits.reviewAbove).toBe(999999999999999);
  });
});

// --- activities (issue 18) ---
describe('rules activities', () => {
  it('reads activities with their limits, defaults once false and no per-day or per-month limit', () => {
    const r = valid({ activities: [{ name: 'review', points: 20, maxPerDay: 1 }, { name: 'signup', points: '100', once: true }] });
    expect(r.activities).toEqual([
      { name: 'review', points: 20, once: false, maxPerDay: 1, maxPerMonth: null },
      { name: 'signup', points: 100, once: true, maxPerDay: null, maxPerMonth: null },
    ]);
  });

  it('names the JSON path of every problem in the activities section', () => {
    expect(paths({ activities: {} })).toEqual(['$.activities']);
    expect(
      paths({
        activities: [
          { name: 'review', points: 0 },
          { name: 'review', points: 5 },
          { name: 'bad name!', points: 5, once: 'yes', maxPerDay: 0, maxPerMonth: -1, colour: 'red' },
          { name: 'nopoints' },
          7,
        ],
      }),
    ).toEqual(['$.activities[0].points', '$.activities[1].name', '$.activities[2].colour', '$.activities[2].name', '$.activities[2].once', '$.activities[2].maxPerMonth', '$.activities[2].maxPerDay', '$.activities[3].points', '$.activities[4]']);
  });
});
// --- end activities ---

describe('pinnedOutside', () => {
  const rules = valid({ ...INIT_DOC, tiers: [{ name: 'silver', minLifetimePoints: 0, multiplier: '1' }, { name: 'gold', minLifetimePoints: 1000, multiplier: '1.5' }] });
  it('names the pinned tiers the rules lack, with their members sorted and the first ten named', () => {
    const pinned = new Map<string, string>([['M3', 'vip'], ['M1', 'gold'], ['M2', 'vip'], ['M9', 'bronze']]);
    for (let i = 10; i < 22; i++) pinned.set(`N${i}`, 'bronze');
    expect(pinnedOutside(pinned, rules)).toEqual([
      { tier: 'bronze', members: 13, memberIds: ['M9', 'N10', 'N11', 'N12', 'N13', 'N14', 'N15', 'N16', 'N17', 'N18'] },
      { tier: 'vip', members: 2, memberIds: ['M2', 'M3'] },
    ]);
  });
  it('is empty when every pinned tier is defined, or nobody is pinned', () => {
    expect(pinnedOutside(new Map([['M1', 'gold'], ['M2', 'silver']]), rules)).toEqual([]);
    expect(pinnedOutside(new Map(), rules)).toEqual([]);
    expect(pinnedOutside(new Map([['M1', 'gold']]), valid(INIT_DOC))).toEqual([{ tier: 'gold', members: 1, memberIds: ['M1'] }]);
  });
});

describe('multipliersNamingNothing', () => {
  const withMultipliers = (multipliers: unknown[]) => valid({ ...INIT_DOC, earn: { ...INIT_DOC.earn, multipliers } });
  const known = { skus: new Set(['TEA-001', 'CUP-2']), categories: new Set(['tea', 'Tea Ware', 'cups']) };

  it('names a multiplier whose SKU or category the ledger names nowhere, with the names equal but for case, spacing or width', () => {
    const r = withMultipliers([
      { category: 'Tea', multiplier: '2' },
      { category: ' tea  ware', multiplier: '2' },
      { sku: 'ｔｅａ-001', multiplier: '3' },
      { category: 'garden', multiplier: '2' },
    ]);
    expect(multipliersNamingNothing(r, known)).toEqual([
      { on: 'category', value: 'Tea', near: ['tea'] },
      { on: 'category', value: ' tea  ware', near: ['Tea Ware'] },
      { on: 'sku', value: 'ｔｅａ-001', near: ['TEA-001'] },
      { on: 'category', value: 'garden', near: [] },
    ]);
  });

  it('says nothing of a multiplier that matches exactly, and names a repeated one once (two windows of one category)', () => {
    const r = withMultipliers([
      { category: 'tea', multiplier: '2' },
      { sku: 'CUP-2', multiplier: '2' },
      { category: 'Cups', multiplier: '2', from: '2026-01-01', to: '2026-01-31' },
      { category: 'Cups', multiplier: '3', from: '2026-02-01', to: '2026-02-28' },
    ]);
    expect(multipliersNamingNothing(r, known)).toEqual([{ on: 'category', value: 'Cups', near: ['cups'] }]);
    // dashes and spaces that print like ASCII's
    const dashes = { skus: new Set(['TEA\u2011001']), categories: new Set(['Green\u00a0Tea']) };
    expect(multipliersNamingNothing(withMultipliers([{ sku: 'TEA-001', multiplier: '2' }, { category: 'Green Tea', multiplier: '2' }]), dashes)).toEqual([
      { on: 'sku', value: 'TEA-001', near: ['TEA\u2011001'] },
      { on: 'category', value: 'Green Tea', near: ['Green\u00a0Tea'] },
    ]);
    // a ledger that names no SKU or category at all yet (rules applied before the catalog): nothing to say
    expect(multipliersNamingNothing(withMultipliers([{ sku: 'X-1', multiplier: '2' }, { category: 'tea', multiplier: '2' }]), { skus: new Set(), categories: new Set(), anySku: false, anyCategory: false })).toEqual([]);
    // a SKU is no category: the same name on the other side is nothing near
    expect(multipliersNamingNothing(withMultipliers([{ sku: 'tea', multiplier: '2' }]), known)).toEqual([{ on: 'sku', value: 'tea', near: [] }]);
  });

  it('names a category multiplier on a ledger whose items and lines carry no category at all: it can match nothing (trial 43)', () => {
    const r = withMultipliers([{ category: 'christmas', multiplier: '2' }, { category: 'christmas', multiplier: '3', from: '2026-12-01' }, { sku: 'X-1', multiplier: '2' }]);
    const noCategories = { skus: new Set(['X-1']), categories: new Set<string>(), anySku: true, anyCategory: false, anyItem: true };
    expect(multipliersNamingNothing(r, noCategories)).toEqual([{ on: 'category', value: 'christmas', near: [], noCategories: true }]);
    // no items either (rules before the catalog): still nothing to say
    expect(multipliersNamingNothing(r, { ...noCategories, skus: new Set(), anySku: false, anyItem: false })).toEqual([]);
  });
});
