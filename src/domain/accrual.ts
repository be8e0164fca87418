// The earning engine (SPEC §4.1): points an order earns, or a return takes back, under one rules version.
// Pure: the rules, the member's tier facts and the points already earned that day are passed in.
import { Decimal } from 'decimal.js';
import { type Minor, type Points, allocateProportionally } from './money.js';
import { type Multiplier, type Rules, type Tier, tierFor } from './rules.js';
import { localDate } from './time.js';

/** Exact enough for any amount × rate × multiplier × tier: no rounding happens before the one per order. */
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });
const ONE = new D(1);

export interface EarnLine {
  /** The line's earning base in minor units (quantity × unit_price, the order amount, or its cash share). */
  amount: Minor;
  sku?: string | null;
  category?: string | null;
}

/**
 * §4.1 step 5: the base a checkout earns on: the cash it paid spread over its lines by amount, each line
 * keeping its SKU and category (so its own multiplier). The real capture and `rules simulate` both use it.
 */
export function cashEarnLines(cashPaid: Minor, lines: readonly EarnLine[]): EarnLine[] {
  const shares = allocateProportionally(cashPaid, lines.map((x) => x.amount));
  return lines.map((x, i) => ({ amount: shares[i], sku: x.sku, category: x.category }));
}

export interface EarnInput {
  rules: Rules;
  lines: readonly EarnLine[];
  /** The purchase's own instant (UTC ms): picks the multipliers whose date windows are active. */
  at: number;
  /** The ledger's zone: multiplier windows are inclusive calendar dates there. */
  zone: string;
  /** Minor-unit digits of the currency (2 for CNY): pointsPerUnit is per whole unit. */
  digits: number;
  /** The member's pinned tier (wins) and lifetime earned points before this order. */
  pinnedTier?: string | null;
  lifetimeEarned?: Points;
  /** Overrides the tier lookup with a known multiplier. */
  tierMultiplier?: Decimal.Value;
  /** Points the member already earned on this order's local calendar day (for limits.dailyEarnCap). */
  earnedTodayBeforeThisOrder?: Points;
  /** The order total compared with minOrderAmount (default Σ line amounts; a checkout passes its total). */
  orderTotal?: Minor;
  /** The purchase's calendar date in the zone, when the caller already knows it (bulk imports). */
  localDate?: string;
  /**
   * 'return': the points the amount earned, to take back. minOrderAmount and the daily cap do not
   * apply (a partial return of a large order is below the minimum); maxPointsPerOrder still does.
   */
  purpose?: 'earn' | 'return';
}

export type EarnReason = 'below-min-order' | 'max-points-per-order' | 'daily-cap' | 'nothing-to-earn';

export interface EarnResult {
  /** Σ lines (base × pointsPerUnit × multiplier) × tierMultiplier, in points, before rounding. */
  raw: Decimal;
  /** raw rounded once by earn.rounding (negative raw counts as 0). */
  rounded: Points;
  /** What is credited (or, for a return, taken back). */
  points: Points;
  /** Points held back by the daily cap (SPEC: counted `capped`). */
  capped: Points;
  tier: string | null;
  tierMultiplier: Decimal;
  /** Why points is less than rounded (or 0), if it is. */
  reason?: EarnReason;
}

/** §4.1 step 2: the sku multiplier active at the date if one matches, else the largest active category one. */
function chooseMultiplier(rules: Rules, line: Pick<EarnLine, 'sku' | 'category'>, date: string | null): Decimal | undefined {
  let sku: Decimal | undefined;
  let cat: Decimal | undefined;
  for (const m of rules.earn.multipliers) {
    if (date !== null && ((m.from && date < m.from) || (m.to && date > m.to))) continue;
    if (m.sku !== undefined) {
      if (line.sku && m.sku === line.sku && (!sku || m.multiplier.gt(sku))) sku = m.multiplier;
    } else if (m.category !== undefined) {
      if (line.category && m.category === line.category && (!cat || m.multiplier.gt(cat))) cat = m.multiplier;
    }
  }
  return sku ?? cat;
}

/**
 * Whether the multiplier `m` of `rules` is the one §4.1 step 2 takes for this line on `date` (an equal one
 * beside it counts as taken too): active, matching, the largest of its kind, and, for a category one, no
 * SKU multiplier active for the line (which wins even when smaller).
 */
export function multiplierTaken(rules: Rules, m: Multiplier, line: Pick<EarnLine, 'sku' | 'category'>, date: string): boolean {
  const active = (x: Multiplier) => !((x.from && date < x.from) || (x.to && date > x.to));
  if (!active(m)) return false;
  if (m.sku !== undefined ? !line.sku || m.sku !== line.sku : !line.category || m.category !== line.category) return false;
  if (!chooseMultiplier(rules, line, date)!.eq(m.multiplier)) return false;
  return m.sku !== undefined || !rules.earn.multipliers.some((x) => x.sku !== undefined && x.sku === line.sku && active(x));
}

/** §4.1 step 2: the chosen multiplier, else 1. */
export function lineMultiplier(rules: Rules, line: Pick<EarnLine, 'sku' | 'category'>, date: string | null): Decimal {
  return chooseMultiplier(rules, line, date) ?? new Decimal(1);
}

const scales: Decimal[] = [];
function scale(digits: number): Decimal {
  return (scales[digits] ??= new D(10).pow(digits));
}

function needsDate(rules: Rules): boolean {
  return rules.earn.multipliers.some((m) => m.from !== undefined || m.to !== undefined);
}

/** Rounds a non-negative raw amount of points once, by the rules' rounding. */
export function roundPoints(raw: Decimal, rounding: Rules['earn']['rounding']): Points {
  if (raw.lte(0)) return 0;
  const mode = rounding === 'floor' ? Decimal.ROUND_FLOOR : rounding === 'ceil' ? Decimal.ROUND_CEIL : Decimal.ROUND_HALF_UP;
  return raw.toDecimalPlaces(0, mode).toNumber();
}

/** Integer value of a Decimal rate, or null when it has a fraction or is not a safe integer. */
const intCache = new WeakMap<Decimal, number | null>();
function asInt(d: Decimal): number | null {
  let v = intCache.get(d);
  if (v === undefined) {
    v = d.isInteger() && d.abs().lte(Number.MAX_SAFE_INTEGER) ? d.toNumber() : null;
    intCache.set(d, v);
  }
  return v;
}

/** Integer twin of lineMultiplier (same choice), or null when a chosen multiplier has a fraction. */
function lineMultiplierInt(rules: Rules, line: Pick<EarnLine, 'sku' | 'category'>, date: string | null): number | null {
  const chosen = chooseMultiplier(rules, line, date);
  return chosen ? asInt(chosen) : 1;
}

/** n / den (den > 0, n > 0, both safe integers) rounded to an integer by the rules' rounding: exact. */
function divRound(n: number, den: number, rounding: Rules['earn']['rounding']): Points {
  const q = Math.floor(n / den);
  // Math.floor of a float quotient can be off by one near a boundary: correct it with exact integer remainders.
  let r = n - q * den;
  let fq = q;
  if (r < 0) {
    fq--;
    r += den;
  } else if (r >= den) {
    fq++;
    r -= den;
  }
  if (rounding === 'floor') return fq;
  if (rounding === 'ceil') return r > 0 ? fq + 1 : fq;
  return 2 * r >= den ? fq + 1 : fq; // half up
}

/**
 * The fast path's result: raw and the tier multiplier become decimals only if a caller reads them.
 * A class, not an object literal with getters: a literal's getters are new closures and accessor pairs
 * per call, which V8 allocates where only a full collection frees them (an import earns per order).
 */
class IntegerEarn implements EarnResult {
  points: Points;
  capped: Points = 0;
  reason?: EarnReason;
  private cached?: Decimal;
  constructor(
    private readonly n: number,
    private readonly digits: number,
    private readonly tierDec: Decimal.Value,
    readonly rounded: Points,
    readonly tier: string | null,
  ) {
    this.points = rounded;
  }
  get raw(): Decimal {
    return (this.cached ??= new D(this.n).div(scale(this.digits)));
  }
  get tierMultiplier(): Decimal {
    return new D(this.tierDec);
  }
}

/** §4.1: the points an order earns (or a return takes back) under `rules`. */
export function computeEarn(input: EarnInput): EarnResult {
  const { rules } = input;
  const purpose = input.purpose ?? 'earn';
  let tier: Tier | undefined;
  let tierDec: Decimal.Value;
  if (input.tierMultiplier !== undefined) tierDec = input.tierMultiplier;
  else {
    tier = tierFor(rules, input.pinnedTier ?? null, input.lifetimeEarned ?? 0);
    tierDec = tier ? tier.multiplier : ONE;
  }

  const date = needsDate(rules) ? (input.localDate ?? localDate(input.at, input.zone)) : null;
  let total = 0;
  // Fast path, exact: integer rates and multipliers keep every product an integer of minor units × points,
  // so the one rounding is an integer division (falls back to decimals on any fraction or overflow).
  const ppuInt = asInt(rules.earn.pointsPerUnit);
  const tierInt = Decimal.isDecimal(tierDec) ? asInt(tierDec as Decimal) : typeof tierDec === 'number' && Number.isSafeInteger(tierDec) ? tierDec : null;
  if (ppuInt !== null && tierInt !== null) {
    let weightedInt = 0;
    let ok = true;
    if (!rules.earn.multipliers.length) for (const line of input.lines) total += line.amount;
    else
      for (const line of input.lines) {
        total += line.amount;
        if (line.amount === 0) continue;
        const m = lineMultiplierInt(rules, line, date);
        if (m === null) {
          ok = false;
          break;
        }
        weightedInt += line.amount * m;
        if (!Number.isSafeInteger(weightedInt)) {
          ok = false;
          break;
        }
      }
    if (!rules.earn.multipliers.length) weightedInt = total;
    const n = weightedInt * ppuInt * tierInt;
    if (ok && Number.isSafeInteger(weightedInt) && Number.isSafeInteger(n)) {
      const den = 10 ** input.digits;
      const rawPositive = n > 0;
      const rounded = rawPositive ? divRound(n, den, rules.earn.rounding) : 0;
      const outFast = new IntegerEarn(n, input.digits, tierDec, rounded, tier?.name ?? null);
      return limits(input, rules, purpose, total, outFast, rawPositive);
    }
    total = 0;
  }

  // Σ amount × multiplier in minor units first, then one scaling: exact, and linear in the lines.
  const tierMult = new D(tierDec);
  let weighted: Decimal;
  if (!rules.earn.multipliers.length) {
    for (const line of input.lines) total += line.amount; // integers: exact
    weighted = new D(total);
  } else {
    weighted = new D(0);
    for (const line of input.lines) {
      total += line.amount;
      if (line.amount !== 0) weighted = weighted.plus(new D(line.amount).times(lineMultiplier(rules, line, date)));
    }
  }
  const raw = weighted.times(rules.earn.pointsPerUnit).times(tierMult).div(scale(input.digits));
  const rounded = roundPoints(raw, rules.earn.rounding);
  const out: EarnResult = { raw, rounded, points: rounded, capped: 0, tier: tier?.name ?? null, tierMultiplier: tierMult };
  return limits(input, rules, purpose, total, out, raw.gt(0));
}

/** Steps 4's limits after the one rounding: minimum order, maximum per order, daily cap. */
function limits(input: EarnInput, rules: Rules, purpose: 'earn' | 'return', total: number, out: EarnResult, rawPositive: boolean): EarnResult {
  if (out.rounded === 0) {
    if (!rawPositive) out.reason = 'nothing-to-earn';
    return out;
  }

  if (purpose === 'earn' && (input.orderTotal ?? total) < rules.earn.minOrderAmount) {
    out.points = 0;
    out.reason = 'below-min-order';
    return out;
  }
  const max = rules.earn.maxPointsPerOrder;
  if (max !== null && out.points > max) {
    out.points = max;
    out.reason = 'max-points-per-order';
  }
  const cap = rules.limits.dailyEarnCap;
  if (purpose === 'earn' && cap !== null) {
    const room = Math.max(0, cap - (input.earnedTodayBeforeThisOrder ?? 0));
    if (out.points > room) {
      out.capped = out.points - room;
      out.points = room;
      out.reason = 'daily-cap';
    }
  }
  return out;
}

// ---- Rules versions in force at an instant ----------------------------------------------------

export interface RulesVersionRef {
  id: number;
  /** UTC ISO instant from which the version is in force. */
  effectiveAt: string;
}

/**
 * The version in force at `atMs`: the latest effective_at ≤ t; of equal ones the highest id
 * (the one applied later). Undefined when none is in force yet.
 */
export function versionInForce<V extends RulesVersionRef>(versions: readonly V[], atMs: number): V | undefined {
  let best: V | undefined;
  let bestMs = -Infinity;
  for (const v of versions) {
    const ms = Date.parse(v.effectiveAt);
    if (ms > atMs) continue;
    if (ms > bestMs || (ms === bestMs && best !== undefined && v.id > best.id)) {
      best = v;
      bestMs = ms;
    }
  }
  return best;
}

/** The same lookup made fast for bulk use (an import of a million rows): sorted once, binary search. */
export class RulesTimeline<V extends RulesVersionRef> {
  private readonly starts: number[] = [];
  private readonly ordered: V[] = [];
  constructor(versions: readonly V[]) {
    const sorted = versions
      .map((v) => ({ v, ms: Date.parse(v.effectiveAt) }))
      .sort((a, b) => a.ms - b.ms || a.v.id - b.v.id);
    // Of equal effective times only the highest id is ever in force.
    for (let i = 0; i < sorted.length; i++) {
      if (i + 1 < sorted.length && sorted[i + 1].ms === sorted[i].ms) continue;
      this.starts.push(sorted[i].ms);
      this.ordered.push(sorted[i].v);
    }
  }
  at(atMs: number): V | undefined {
    let lo = 0, hi = this.starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= atMs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.ordered[found];
  }
}
