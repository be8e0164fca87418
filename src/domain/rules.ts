// The rules document: validation into typed rules (problems named by JSON path), defaults, expiry dates.
import { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { AMOUNT_MAX, type Minor, type Points, POINTS_MAX, formatMoney, parseMoney, parseRate } from './money.js';
import { type LocalDate, addDays, localDate, parseLocalDate } from './time.js';
import { foldedName } from './text.js';

export type Rounding = 'floor' | 'round' | 'ceil';

export interface Multiplier {
  category?: string;
  sku?: string;
  multiplier: Decimal;
  from?: LocalDate;
  to?: LocalDate;
}

export interface Tier {
  name: string;
  minLifetimePoints: Points;
  multiplier: Decimal;
}

export type ExpiryPolicy =
  | { policy: 'rolling-days'; days: number }
  | { policy: 'end-of-year'; years: number }
  | { policy: 'never' };

export interface Rules {
  earn: {
    pointsPerUnit: Decimal;
    rounding: Rounding;
    minOrderAmount: Minor;
    maxPointsPerOrder: Points | null;
    multipliers: Multiplier[];
  };
  tiers: Tier[];
  redeem: { pointsPerUnit: Decimal; minPoints: Points; maxRatio: Decimal };
  expiry: ExpiryPolicy;
  limits: { dailyEarnCap: Points | null; reviewAbove: Minor | null } & PaymentLimits;
  // --- activities (issue 18): points for tasks, not purchases ---
  activities: Activity[];
  // --- end activities ---
}

// --- activities (issue 18) ---
/** A task members earn points for (a review, a signup): `once` per member, at most `maxPerDay` / `maxPerMonth` per member. */
export interface Activity {
  name: string;
  points: Points;
  once: boolean;
  maxPerDay: number | null;
  maxPerMonth: number | null;
}
// --- end activities ---

// ---- issue 18, payment verification and velocity limits (the `limits` fields below) ----
/**
 * Checks on spending, per member (null = no check): a checkout using more than verifyPointsAbove points needs
 * a one-time code (checkout start / confirm --code); at most maxCheckoutsPerHour checkouts in the last 60
 * minutes, maxRefundsPerDay refunds and maxPointsSpentPerDay points spent in the ledger's local day.
 */
export interface PaymentLimits {
  verifyPointsAbove: Points | null;
  maxCheckoutsPerHour: number | null;
  maxRefundsPerDay: number | null;
  maxPointsSpentPerDay: Points | null;
}
export const PAYMENT_LIMIT_FIELDS = ['verifyPointsAbove', 'maxCheckoutsPerHour', 'maxRefundsPerDay', 'maxPointsSpentPerDay'] as const;
export const defaultPaymentLimits = (): PaymentLimits => ({ verifyPointsAbove: null, maxCheckoutsPerHour: null, maxRefundsPerDay: null, maxPointsSpentPerDay: null });
// ---- end of issue 18 block ----

export interface Problem {
  path: string;
  message: string;
}

/** init's first version, and what every section or field left out of a rules file takes. */
export function defaultRules(): Rules {
  return {
    earn: { pointsPerUnit: new Decimal(1), rounding: 'floor', minOrderAmount: 0, maxPointsPerOrder: null, multipliers: [] },
    tiers: [],
    redeem: { pointsPerUnit: new Decimal(100), minPoints: 0, maxRatio: new Decimal(1) },
    expiry: { policy: 'rolling-days', days: 365 },
    limits: { dailyEarnCap: null, reviewAbove: null, ...defaultPaymentLimits() },
    activities: [],
  };
}

/**
 * Bounds of a rules file's rates, named in its errors (README "Limits"): every rate has at most
 * RATE_DECIMALS decimal places; earn.pointsPerUnit ≤ 1000; every multiplier (SKU, category, tier) ≤ 100;
 * 0 < redeem.pointsPerUnit ≤ 1,000,000; whole-number limits ≤ POINTS_MAX, amounts ≤ AMOUNT_MAX.
 */
export const RATE_DECIMALS = 6;
export const EARN_PER_UNIT_MAX = 1000;
export const MULTIPLIER_MAX = 100;
export const REDEEM_PER_UNIT_MAX = 1_000_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a parsed rules document; every problem is reported with its JSON path. `stored` reads a
 * version already in the ledger: exponents ("1e-7", written by older builds) are read and the bounds
 * are not applied again, so what was once accepted always reads back.
 */
export function validateRules(doc: unknown, digits: number, opts: { stored?: boolean } = {}): { rules?: Rules; problems: Problem[] } {
  const stored = opts.stored === true;
  const problems: Problem[] = [];
  const r = defaultRules();
  const bad = (path: string, message: string) => problems.push({ path, message });

  if (!isObj(doc)) {
    bad('$', 'the rules document must be a JSON object');
    return { problems };
  }
  const known = ['earn', 'tiers', 'redeem', 'expiry', 'limits', 'activities', '$schema', 'description'];
  for (const k of Object.keys(doc)) if (!known.includes(k)) bad(`$.${k}`, `unknown section (expected one of ${known.slice(0, 6).join(', ')})`);

  const rate = (v: unknown, path: string, opts: { min?: number; positive?: boolean; max?: number } = {}): Decimal | undefined => {
    const p = parseRate(v, { exponent: stored });
    if (!p.ok) return void bad(path, p.problem);
    if (opts.positive && p.value.lte(0)) return void bad(path, 'must be greater than 0');
    if (opts.min !== undefined && p.value.lt(opts.min)) return void bad(path, `must be at least ${opts.min}`);
    if (stored) return p.value;
    if (opts.max !== undefined && p.value.gt(opts.max)) return void bad(path, `must be at most ${opts.max}`);
    if (p.value.decimalPlaces() > RATE_DECIMALS) return void bad(path, `${p.value.toFixed()} has more than ${RATE_DECIMALS} decimal places`);
    return p.value;
  };
  /** `least`: the smallest it may be (a count of days: 1), said in the message for any value that is no whole number. */
  const int = (v: unknown, path: string, nullable: boolean, least = 0): number | null | undefined => {
    if (v === null && nullable) return null;
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < least) {
      return void bad(path, `must be a whole number ≥ ${least}${nullable ? ' or null' : ''}`);
    }
    if (!stored && n > POINTS_MAX) return void bad(path, `must be at most ${POINTS_MAX}`);
    return n;
  };
  const money = (v: unknown, path: string, nullable: boolean): Minor | null | undefined => {
    if (v === null && nullable) return null;
    if (typeof v !== 'string' && typeof v !== 'number') return void bad(path, `must be an amount like "100.00"${nullable ? ' or null' : ''}`);
    if (typeof v === 'number' && !Number.isFinite(v)) return void bad(path, 'must be a finite amount');
    // a stored version keeps what older builds accepted (up to 15 digits)
    const p = parseMoney(typeof v === 'number' ? new Decimal(v).toFixed() : v, digits, stored ? 999_999_999_999_999 : AMOUNT_MAX);
    if (!p.ok) return void bad(path, p.problem);
    if (p.value < 0) return void bad(path, 'must not be negative');
    return p.value;
  };
  const date = (v: unknown, path: string): LocalDate | undefined => {
    if (v === undefined || v === null) return undefined;
    const d = typeof v === 'string' ? parseLocalDate(v) : null;
    if (!d) bad(path, `${JSON.stringify(v)} is not a calendar date YYYY-MM-DD`);
    return d ?? undefined;
  };
  const section = (name: string, fields: string[]): Obj | undefined => {
    const s = doc[name];
    if (s === undefined) return undefined;
    if (!isObj(s)) return void bad(`$.${name}`, 'must be an object');
    for (const k of Object.keys(s)) if (!fields.includes(k)) bad(`$.${name}.${k}`, `unknown field (expected one of ${fields.join(', ')})`);
    return s;
  };

  const earn = section('earn', ['pointsPerUnit', 'rounding', 'minOrderAmount', 'maxPointsPerOrder', 'multipliers']);
  if (earn) {
    if (earn.pointsPerUnit !== undefined) {
      const v = rate(earn.pointsPerUnit, '$.earn.pointsPerUnit', { min: 0, max: EARN_PER_UNIT_MAX });
      if (v) r.earn.pointsPerUnit = v;
    }
    if (earn.rounding !== undefined) {
      if (earn.rounding === 'floor' || earn.rounding === 'round' || earn.rounding === 'ceil') r.earn.rounding = earn.rounding;
      else bad('$.earn.rounding', `${JSON.stringify(earn.rounding)} is not one of floor, round, ceil`);
    }
    if (earn.minOrderAmount !== undefined) {
      const v = money(earn.minOrderAmount, '$.earn.minOrderAmount', false);
      if (typeof v === 'number') r.earn.minOrderAmount = v;
    }
    if (earn.maxPointsPerOrder !== undefined) {
      const v = int(earn.maxPointsPerOrder, '$.earn.maxPointsPerOrder', true);
      if (v !== undefined) r.earn.maxPointsPerOrder = v;
    }
    if (earn.multipliers !== undefined) {
      if (!Array.isArray(earn.multipliers)) bad('$.earn.multipliers', 'must be an array');
      else
        earn.multipliers.forEach((m: unknown, i: number) => {
          const path = `$.earn.multipliers[${i}]`;
          if (!isObj(m)) return void bad(path, 'must be an object');
          for (const k of Object.keys(m))
            if (!['category', 'sku', 'multiplier', 'from', 'to'].includes(k)) bad(`${path}.${k}`, 'unknown field (expected category, sku, multiplier, from, to)');
          const hasCat = typeof m.category === 'string' && m.category !== '';
          const hasSku = typeof m.sku === 'string' && m.sku !== '';
          if (hasCat === hasSku) bad(path, 'needs exactly one of "category" or "sku"');
          const mult = rate(m.multiplier, `${path}.multiplier`, { min: 0, max: MULTIPLIER_MAX });
          const from = date(m.from, `${path}.from`);
          const to = date(m.to, `${path}.to`);
          if (from && to && from > to) bad(`${path}.to`, `ends (${to}) before it starts (${from})`);
          if (mult && hasCat !== hasSku)
            r.earn.multipliers.push({
              ...(hasCat ? { category: m.category as string } : { sku: m.sku as string }),
              multiplier: mult,
              from,
              to,
            });
        });
    }
  }

  if (doc.tiers !== undefined) {
    if (!Array.isArray(doc.tiers)) bad('$.tiers', 'must be an array');
    else {
      const names = new Set<string>();
      doc.tiers.forEach((t: unknown, i: number) => {
        const path = `$.tiers[${i}]`;
        if (!isObj(t)) return void bad(path, 'must be an object');
        for (const k of Object.keys(t)) if (!['name', 'minLifetimePoints', 'multiplier'].includes(k)) bad(`${path}.${k}`, 'unknown field (expected name, minLifetimePoints, multiplier)');
        if (typeof t.name !== 'string' || t.name.trim() === '') bad(`${path}.name`, 'must be a non-empty string');
        else if (names.has(t.name)) bad(`${path}.name`, `tier "${t.name}" is named twice`);
        else names.add(t.name);
        const min = int(t.minLifetimePoints ?? 0, `${path}.minLifetimePoints`, false);
        const mult = t.multiplier === undefined ? new Decimal(1) : rate(t.multiplier, `${path}.multiplier`, { min: 0, max: MULTIPLIER_MAX });
        if (typeof t.name === 'string' && typeof min === 'number' && mult) r.tiers.push({ name: t.name, minLifetimePoints: min, multiplier: mult });
      });
      // two tiers from the same threshold: members are placed in the one listed last, the other is never
      // reached (trial 39); a version stored before this rule is read as it was
      if (!stored) {
        const from = new Map<number, string>();
        r.tiers.forEach((t) => {
          const other = from.get(t.minLifetimePoints);
          if (other !== undefined) {
            const i = (doc.tiers as { name?: unknown }[]).findIndex((x) => isObj(x) && x.name === t.name);
            bad(`$.tiers[${i}].minLifetimePoints`, `tiers "${other}" and "${t.name}" both start at ${t.minLifetimePoints} lifetime points, so "${other}" could never be reached: give each tier its own minLifetimePoints (a tier left without one starts at 0)`);
          } else from.set(t.minLifetimePoints, t.name);
        });
      }
      r.tiers.sort((a, b) => a.minLifetimePoints - b.minLifetimePoints);
    }
  }

  const redeem = section('redeem', ['pointsPerUnit', 'minPoints', 'maxRatio']);
  if (redeem) {
    if (redeem.pointsPerUnit !== undefined) {
      const v = rate(redeem.pointsPerUnit, '$.redeem.pointsPerUnit', { positive: true, max: REDEEM_PER_UNIT_MAX });
      if (v) r.redeem.pointsPerUnit = v;
    }
    if (redeem.minPoints !== undefined) {
      const v = int(redeem.minPoints, '$.redeem.minPoints', false);
      if (typeof v === 'number') r.redeem.minPoints = v;
    }
    if (redeem.maxRatio !== undefined) {
      const v = rate(redeem.maxRatio, '$.redeem.maxRatio', { min: 0 });
      if (v && v.gt(1)) bad('$.redeem.maxRatio', 'must be between 0 and 1');
      else if (v) r.redeem.maxRatio = v;
    }
  }

  const expiry = section('expiry', ['policy', 'days', 'years']);
  if (expiry) {
    const policy = expiry.policy ?? 'rolling-days';
    if (policy === 'rolling-days') {
      if (expiry.years !== undefined) bad('$.expiry.years', 'only goes with policy "end-of-year"');
      const days = expiry.days === undefined ? 365 : int(expiry.days, '$.expiry.days', false, 1);
      if (typeof days === 'number') r.expiry = { policy, days };
    } else if (policy === 'end-of-year') {
      if (expiry.days !== undefined) bad('$.expiry.days', 'only goes with policy "rolling-days"');
      const years = expiry.years === undefined ? 1 : int(expiry.years, '$.expiry.years', false);
      if (typeof years === 'number') r.expiry = { policy, years };
    } else if (policy === 'never') {
      if (expiry.days !== undefined || expiry.years !== undefined) bad('$.expiry', 'policy "never" takes no days or years');
      r.expiry = { policy };
    } else bad('$.expiry.policy', `${JSON.stringify(policy)} is not one of rolling-days, end-of-year, never`);
  }

  const limits = section('limits', ['dailyEarnCap', 'reviewAbove', ...PAYMENT_LIMIT_FIELDS]);
  if (limits) {
    if (limits.dailyEarnCap !== undefined) {
      const v = int(limits.dailyEarnCap, '$.limits.dailyEarnCap', true);
      if (v !== undefined) r.limits.dailyEarnCap = v;
    }
    if (limits.reviewAbove !== undefined) {
      const v = money(limits.reviewAbove, '$.limits.reviewAbove', true);
      if (v !== undefined) r.limits.reviewAbove = v;
    }
    // issue 18: payment limits, whole numbers or null
    for (const k of PAYMENT_LIMIT_FIELDS) {
      if (limits[k] === undefined) continue;
      const v = int(limits[k], `$.limits.${k}`, true);
      if (v !== undefined) r.limits[k] = v;
    }
  }

  // --- activities (issue 18) ---
  if (doc.activities !== undefined) {
    if (!Array.isArray(doc.activities)) bad('$.activities', 'must be an array');
    else {
      const names = new Set<string>();
      const fields = ['name', 'points', 'once', 'maxPerDay', 'maxPerMonth'];
      doc.activities.forEach((a: unknown, i: number) => {
        const path = `$.activities[${i}]`;
        if (!isObj(a)) return void bad(path, 'must be an object');
        for (const k of Object.keys(a)) if (!fields.includes(k)) bad(`${path}.${k}`, `unknown field (expected ${fields.join(', ')})`);
        let name: string | undefined;
        if (typeof a.name !== 'string' || !ACTIVITY_NAME.test(a.name)) bad(`${path}.name`, 'must be a name of letters, digits, ".", "_" or "-" (at most 64)');
        else if (names.has(a.name)) bad(`${path}.name`, `activity "${a.name}" is named twice`);
        else names.add((name = a.name));
        const points = a.points === undefined ? void bad(`${path}.points`, 'is required') : int(a.points, `${path}.points`, false);
        if (points === 0) bad(`${path}.points`, 'must be at least 1');
        if (a.once !== undefined && typeof a.once !== 'boolean') bad(`${path}.once`, 'must be true or false');
        const perDay = a.maxPerDay === undefined ? null : int(a.maxPerDay, `${path}.maxPerDay`, true);
        const perMonth = a.maxPerMonth === undefined ? null : int(a.maxPerMonth, `${path}.maxPerMonth`, true);
        if (perDay === 0) bad(`${path}.maxPerDay`, 'must be at least 1 or null');
        if (perMonth === 0) bad(`${path}.maxPerMonth`, 'must be at least 1 or null');
        if (name !== undefined && typeof points === 'number' && points > 0 && perDay !== undefined && perMonth !== undefined)
          r.activities.push({ name, points, once: a.once === true, maxPerDay: perDay || null, maxPerMonth: perMonth || null });
      });
    }
  }
  // --- end activities ---

  return problems.length ? { problems } : { rules: r, problems };
}

// --- activities (issue 18) ---
export const ACTIVITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// --- end activities ---

/** The rules as a JSON document (decimals as plain strings, never exponents; money as amounts), the form stored and shown. */
export function rulesToDocument(r: Rules, digits: number): Record<string, unknown> {
  return {
    earn: {
      pointsPerUnit: r.earn.pointsPerUnit.toFixed(),
      rounding: r.earn.rounding,
      minOrderAmount: formatMoney(r.earn.minOrderAmount, digits),
      maxPointsPerOrder: r.earn.maxPointsPerOrder,
      multipliers: r.earn.multipliers.map((m) => ({
        ...(m.category !== undefined ? { category: m.category } : { sku: m.sku }),
        multiplier: m.multiplier.toFixed(),
        ...(m.from ? { from: m.from } : {}),
        ...(m.to ? { to: m.to } : {}),
      })),
    },
    tiers: r.tiers.map((t) => ({ name: t.name, minLifetimePoints: t.minLifetimePoints, multiplier: t.multiplier.toFixed() })),
    redeem: { pointsPerUnit: r.redeem.pointsPerUnit.toFixed(), minPoints: r.redeem.minPoints, maxRatio: r.redeem.maxRatio.toFixed() },
    expiry: { ...r.expiry },
    limits: {
      dailyEarnCap: r.limits.dailyEarnCap,
      reviewAbove: r.limits.reviewAbove === null ? null : formatMoney(r.limits.reviewAbove, digits),
      ...Object.fromEntries(PAYMENT_LIMIT_FIELDS.map((k) => [k, r.limits[k]])), // issue 18
    },
    // --- activities (issue 18) ---
    activities: r.activities.map((a) => ({ name: a.name, points: a.points, ...(a.once ? { once: true } : {}), maxPerDay: a.maxPerDay, maxPerMonth: a.maxPerMonth })),
    // --- end activities ---
  };
}

/** §4.4: the `expiresOn` a lot earned at `earnedAtMs` gets under `policy` (null = never expires). */
export function expiresOn(policy: ExpiryPolicy, earnedAtMs: number, zone: string): LocalDate | null {
  switch (policy.policy) {
    case 'never':
      return null;
    case 'rolling-days':
      return addDays(localDate(earnedAtMs, zone), policy.days);
    case 'end-of-year': {
      const y = Number(localDate(earnedAtMs, zone).slice(0, 4));
      return `${String(y + policy.years).padStart(4, '0')}-12-31`;
    }
  }
}

/**
 * The tier a member has now, by name: the pinned one (even when the rules in force no longer list it), else the
 * highest earned. `member show`, `member list` and `report members` all say this.
 */
export function currentTierName(rules: Rules, pinned: string | null, lifetimeEarned: Points): string | null {
  return pinned ?? tierFor(rules, null, lifetimeEarned)?.name ?? null;
}

/** The tier a member earns at: the pinned one, else the highest whose minimum ≤ lifetime earned points. */
export function tierFor(rules: Rules, pinned: string | null, lifetimeEarned: Points): Tier | undefined {
  if (pinned) return rules.tiers.find((t) => t.name === pinned);
  let best: Tier | undefined;
  for (const t of rules.tiers) if (t.minLifetimePoints <= lifetimeEarned) best = t;
  return best;
}

/** Tiers pinned on members that a rules document does not define, each with its members (the first ten named). */
export interface PinnedOutside {
  tier: string;
  members: number;
  memberIds: string[];
}

/**
 * The tiers members are pinned to that `rules` does not define: under those rules such a member earns with
 * no tier (no multiplier), until pinned again. A renamed or dropped tier would otherwise take the pinned
 * members' tier away without a word.
 */
export function pinnedOutside(pinned: ReadonlyMap<string, string>, rules: Rules): PinnedOutside[] {
  const defined = new Set(rules.tiers.map((t) => t.name));
  const by = new Map<string, string[]>();
  for (const [memberId, tier] of pinned) {
    if (defined.has(tier)) continue;
    let list = by.get(tier);
    if (!list) by.set(tier, (list = []));
    list.push(memberId);
  }
  return [...by]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([tier, ids]) => ({ tier, members: ids.length, memberIds: ids.sort().slice(0, 10) }));
}

/** A multiplier whose SKU or category matches nothing the ledger has seen, with the names that differ from it only in case or spacing. */
export interface MultiplierNamingNothing {
  on: 'sku' | 'category';
  value: string;
  /** Names in the catalog or the bought lines equal to it but for case, spacing or width (at most five). */
  near: string[];
  /** A category, on a ledger whose catalog and bought lines carry no category at all: it can match nothing. */
  noCategories?: true;
}

/** The SKUs and the categories the multipliers of `rules` name (what multipliersNamingNothing needs to know of). */
export function multiplierNames(rules: Rules): { skus: string[]; categories: string[] } {
  const skus = new Set<string>();
  const categories = new Set<string>();
  for (const m of rules.earn.multipliers) if (m.sku !== undefined) skus.add(m.sku);
  else if (m.category !== undefined) categories.add(m.category);
  return { skus: [...skus], categories: [...categories] };
}

/**
 * The multipliers of `rules` that match no SKU or category `known` holds (the catalog's and the bought
 * lines'). A multiplier matches exactly (SPEC §4.1), so "Tea" never multiplies a line of "tea": such a
 * multiplier would earn nothing extra without a word. One for a category not sold yet is allowed; the
 * caller says so rather than refusing. `anySku`/`anyCategory` false: the ledger names none of that kind
 * at all yet (rules applied before the catalog or any line): nothing is said of that kind, except of a
 * category where there are items (`anyItem`), none with a category: noCategories.
 */
export function multipliersNamingNothing(rules: Rules, known: { skus: ReadonlySet<string>; categories: ReadonlySet<string>; anySku?: boolean; anyCategory?: boolean; anyItem?: boolean }): MultiplierNamingNothing[] {
  const out: MultiplierNamingNothing[] = [];
  const seen = new Set<string>();
  for (const m of rules.earn.multipliers) {
    const on = m.sku !== undefined ? 'sku' : 'category';
    const value = (m.sku ?? m.category)!;
    const names = on === 'sku' ? known.skus : known.categories;
    if (names.has(value) || seen.has(`${on}\0${value}`)) continue;
    // a ledger that names no SKU (no category) at all yet, before its catalog or lines: nothing to tell;
    // but items and lines without a single category can never match a category's (trial 43)
    if ((on === 'sku' ? known.anySku : known.anyCategory) === false) {
      if (on === 'category' && known.anyItem && !seen.has(`${on}\0${value}`)) {
        seen.add(`${on}\0${value}`);
        out.push({ on, value, near: [], noCategories: true });
      }
      continue;
    }
    seen.add(`${on}\0${value}`);
    const f = foldedName(value);
    const near = [...names].filter((n) => foldedName(n) === f).sort().slice(0, 5);
    out.push({ on, value, near });
  }
  return out;
}

/** The first rules version (init's defaults) is in force from the beginning of time. */
export const BEGINNING_OF_TIME = '0001-01-01T00:00:00.000Z';

/** The hash of a stored rules document (its JSON text as stored), recorded in the audit record that stored it. */
export function rulesDocumentHash(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}
