// What-if accrual (issue 19, `rules simulate`): every paid order of a period earned again under a draft
// rules document, beside what it earned under the versions in force, by the same code (computeEarn).
// Pure and streaming: orders are fed one by one in time order, and only per-member sums are kept.
//
// Each order is computed twice with the same facts: under its own version (the recomputed actual) and
// under the draft. The difference between the two is what the draft changes; the actual figures are
// the ledger's own, and the simulated ones are actual + difference. A member's tier facts and the
// daily cap's "earned today" are the ledger's (net points earned before, in time order) plus what the
// draft changed so far for that member (and that day), so a draft equal to the versions in force
// differs by exactly zero on any ledger.
import { Decimal } from 'decimal.js';
import { cashEarnLines, computeEarn, type EarnLine, lineMultiplier, multiplierTaken } from './accrual.js';
import { cumulative, spreadEarned } from './refund.js';

const D = Decimal;
import { type Minor, type Points, POINTS_MAX, allocateProportionally, formatMoney, pointsValue } from './money.js';
import { type ExpiryPolicy, type Multiplier, PAYMENT_LIMIT_FIELDS, type Rules, expiresOn } from './rules.js';
import { type LocalDate, addDays, localDate, localDayEndIso, startOfLocalDayMs } from './time.js';

export type SimulateBy = 'month' | 'tier' | 'category' | 'source';
export const SIMULATE_BY: readonly SimulateBy[] = ['month', 'tier', 'category', 'source'];

export interface SimLine {
  sku: string | null;
  category: string | null;
  /** The line's amount in minor units (signed: a return's lines are negative). */
  amount: Minor;
  /** A checkout line's number (what its refunds name), its units, its share of the cash paid and of the points earned (SPEC §4.5). */
  lineNo?: number;
  quantity?: number;
  cash?: Minor;
  earned?: Points;
}

export interface SimOrder {
  kind: 'purchase' | 'checkout';
  /** A checkout's order id (its refunds name it). */
  key?: string;
  memberId: string;
  /** UTC ms of the purchase (a checkout: when it was paid). */
  at: number;
  /** The import source, or 'checkout'. */
  source: string;
  rulesVersion: number;
  /** A purchase's net amount (negative: a return); a checkout's total after discounts. */
  total: Minor;
  /** What the ledger credited: a purchase's signed points; a checkout's points earned at capture. */
  points: Points;
  /** A checkout's cash paid (0 for purchases). */
  cashPaid: Minor;
  /** A checkout refunded (in part) later: what each line earned is kept for its refunds. */
  refunded?: boolean;
  lines: readonly SimLine[];
  /**
   * A purchase voided since (UTC ms of the void): it is in no total, but until it was voided its earning
   * counted in the lifetime points (tiers) and the day's credits (the daily cap) of the orders after it.
   */
  voidedAt?: number;
}

/**
 * A checkout's refund, at the time it was made (SPEC §4.5): it takes back from each refunded line the
 * share of the units refunded of what the line earned, computed by the same code as `order refund`.
 */
export interface SimRefund {
  kind: 'refund';
  orderKey: string;
  memberId: string;
  at: number;
  /** The earned points the ledger took back with it. */
  earned: Points;
  lines: readonly { lineNo: number; units: number; before: number; earned: Points }[];
  /**
   * The refunded checkout when it was paid before the period, with the ledger's facts at that time (its
   * member's lifetime points and points earned that day before it): what it would have earned under the
   * draft is computed from them (the draft's own changes before the period are not known).
   */
  order?: SimOrder & { lifetimeBefore: Points; earnedTodayBefore: Points };
}

/** An activity award: it counts in the member's lifetime points (their tier), not in the daily cap nor in the comparison. */
export interface SimAward {
  kind: 'award';
  memberId: string;
  at: number;
  points: Points;
}

export interface SimulateSetup {
  draft: Rules;
  /** The rules of a stored version by id. */
  version: (id: number) => Rules;
  /** The redeem rate in force at the end of the period (actual points are valued at it). */
  redeemInForce: Decimal;
  zone: string;
  digits: number;
  /** The member's pinned tier (today's: a pin changed since is not known). */
  pinnedTier: (memberId: string) => string | null;
  /** Each member's lifetime earned points before the period (their tier basis at its start: awards included). */
  earnedBefore: ReadonlyMap<string, Points>;
  /**
   * Purchases before the period voided after its start (UTC ms of the void): the ledger counted their
   * points in the lifetime points of the orders booked before the void, so they stand in the facts the
   * period starts with until then (earnedBefore leaves them out: a void reverses the earning at its date).
   */
  voidedLater?: readonly { memberId: string; voidedAt: number; points: Points }[];
  /** Liability is judged at this date: points whose lot would have expired before it are not outstanding. */
  asOf: LocalDate;
  /** Points actually outstanding at asOf (what `report liability --as-of` counts), valued at redeemInForce. */
  outstanding?: Points;
  /** Members' debts at asOf (`report liability`'s memberDebt). */
  debt?: Points;
  /**
   * Each member's outstanding points and debt at asOf (a member left out holds and owes nothing). The
   * draft's change to a member moves their own balance only: a gain repays their debt first, a loss takes
   * their points and then runs into debt, never into another member's points.
   */
  holdings?: ReadonlyMap<string, Holding>;
  /** The rules in force at asOf (a draft field the comparison does not model is named when it differs from them). */
  inForce?: Rules;
  /** The expiry policy in force at asOf: a draft whose expiry differs from it (or from a version the orders earned under) is not simulated on the ledger's lots. */
  expiryInForce?: ExpiryPolicy;
  by: SimulateBy;
  top: number;
}

export interface SimGroup {
  key: string;
  orders: number;
  actualPoints: Points;
  simulatedPoints: Points;
  difference: Points;
}

export interface SimMember {
  memberId: string;
  actualPoints: Points;
  simulatedPoints: Points;
  difference: Points;
}

export interface SimulationResult {
  orders: number;
  purchases: number;
  checkouts: number;
  /** Checkout refunds made in the period (of its checkouts or earlier ones): each takes back in it. */
  refunds: number;
  /** The stored versions the period's orders earned under. */
  rulesVersions: number[];
  actualPoints: Points;
  simulatedPoints: Points;
  difference: Points;
  /** Value of the simulated points at the draft's redeem rate less the actual ones' at the rate in force. */
  actualValue: string;
  simulatedValue: string;
  valueDifference: string;
  membersAffected: number;
  membersGaining: number;
  membersLosing: number;
  /**
   * Orders the ledger earned otherwise than the replay recomputes them under their own version: booked
   * before an earlier-dated order of their member was (a backdated import or checkout), so the ledger
   * gave them the tier and the day's credits it knew then, the replay those it knows now. Their
   * difference is computed at the replay's facts: simulatedPoints is then an estimate (0: it is exact).
   */
  bookedOtherwise: number;
  /**
   * Of the members losing, those a return or refund takes more back from under the draft: a take-back is
   * computed at the tier and rules of its own date (SPEC §4.6), so a draft that lifts a member's tier
   * before a return takes back more than the purchase earned, even where the draft gives more.
   */
  membersLosingOnTakeBacks: number;
  /**
   * Of the members gaining, those a return or refund takes less back from under the draft (a draft that
   * earns less, or caps an order, also takes back less from a return of it).
   */
  membersGainingOnTakeBacks: number;
  /**
   * What would be outstanding at asOf had the draft applied, less what is: `points` (the points the draft
   * adds or removes that would still be outstanding, assuming they were not spent) and `value` (the
   * simulated outstanding at the draft's redeem rate less the actual at the rate in force), with both sides.
   */
  liabilityChange: LiabilityChange;
  /**
   * What the draft changes that the comparison does not model: "expiry" (see expiryChanged), then each
   * other field by its path ("limits.reviewAbove", "redeem.maxRatio", "activities", …; see UNMODELLED).
   */
  notSimulated: string[];
  /** The draft's multipliers that matched no line of the period's orders (a typo in a SKU or category, or a period without them). */
  unmatchedMultipliers: DraftMultiplier[];
  /** The draft's multipliers that matched lines of the period but that none of them took (§4.1 step 2 chose a larger one, or the SKU's own over its category's). */
  overriddenMultipliers: DraftMultiplier[];
  by: SimulateBy;
  groups: SimGroup[];
  topMembers: SimMember[];
}

/** A draft multiplier as the draft gives it (a note names the ones that matched no line in the period). */
export interface DraftMultiplier {
  sku?: string;
  category?: string;
  multiplier: string;
  from?: LocalDate;
  to?: LocalDate;
}

export interface LiabilityChange {
  points: Points;
  value: string;
  /** Outstanding at asOf: the ledger's, valued at the rate in force. */
  actualPoints: Points;
  actualValue: string;
  /** Outstanding at asOf had the draft applied, valued at the draft's redeem rate. */
  simulatedPoints: Points;
  simulatedValue: string;
  /** Members' debts at asOf, the ledger's and had the draft applied (never netted against the points above). */
  actualDebt: Points;
  simulatedDebt: Points;
  /**
   * Why the simulated side is an estimate, not what a ledger run under the draft would hold (empty: it is
   * that): "take-backs", a return or refund that takes back another number of points under the draft
   * (which lots it would take them from, some lapsed by asOf, is not replayed); "debts", a member in debt
   * whom the draft moves (what later credits would have repaid first is not replayed).
   */
  estimated: LiabilityEstimate[];
}

/** See LiabilityChange.estimated. */
export type LiabilityEstimate = 'take-backs' | 'debts';

/** A member's outstanding points (in lots and on hold) and debt at a date. */
export interface Holding {
  points: Points;
  debt: Points;
}

/**
 * A member's holding once their balance moves by `change`: a gain repays their debt first and the rest is
 * points they hold; a loss takes their points first and the rest becomes debt (SPEC §4.5's take-back).
 */
export function shiftHolding(h: Holding, change: Points): Holding {
  if (change >= 0) {
    const repaid = Math.min(h.debt, change);
    return { points: h.points + change - repaid, debt: h.debt - repaid };
  }
  const taken = Math.min(h.points, -change);
  return { points: h.points - taken, debt: h.debt - change - taken };
}

/**
 * The outstanding points at an as-of date had a draft applied, valued at the draft's rate, against the
 * ledger's outstanding valued at the rate in force (§4.2's formula on each side, then the difference).
 */
export function liabilityChange(p: { outstanding: Points; change: Points; debt?: Points; debtChange?: Points; rateInForce: Decimal.Value; draftRate: Decimal.Value; digits: number; estimated?: LiabilityEstimate[] }): LiabilityChange {
  const simulatedPoints = p.outstanding + p.change;
  const debt = p.debt ?? 0;
  const actual = signedValue(p.outstanding, p.rateInForce, p.digits);
  const simulated = signedValue(simulatedPoints, p.draftRate, p.digits);
  return {
    points: p.change,
    value: formatMoney(simulated - actual, p.digits),
    actualPoints: p.outstanding,
    actualValue: formatMoney(actual, p.digits),
    simulatedPoints,
    simulatedValue: formatMoney(simulated, p.digits),
    actualDebt: debt,
    simulatedDebt: debt + (p.debtChange ?? 0),
    estimated: p.estimated ?? [],
  };
}

/** Two expiry policies that date every lot alike. */
export function sameExpiry(a: ExpiryPolicy, b: ExpiryPolicy): boolean {
  if (a.policy !== b.policy) return false;
  if (a.policy === 'rolling-days') return a.days === (b as typeof a).days;
  if (a.policy === 'end-of-year') return a.years === (b as typeof a).years;
  return true;
}

/**
 * Fields the comparison does not model, by path: it earns the same orders again, so it cannot say which
 * would have waited in review, how a checkout would have split between points and cash, which spends or
 * checkouts would have been refused, or what activities would have awarded.
 */
const UNMODELLED: readonly [string, (r: Rules) => unknown][] = [
  ['limits.reviewAbove', (r) => r.limits.reviewAbove],
  // a checkout's points would have paid another sum, so its cash (which earned points) would differ (only
  // named when a checkout of the period paid with points)
  ['redeem.pointsPerUnit', (r) => r.redeem.pointsPerUnit.toString()],
  ['redeem.minPoints', (r) => r.redeem.minPoints],
  ['redeem.maxRatio', (r) => r.redeem.maxRatio.toString()],
  ...PAYMENT_LIMIT_FIELDS.map((f): [string, (r: Rules) => unknown] => [`limits.${f}`, (r) => r.limits[f]]),
  ['activities', (r) => JSON.stringify(r.activities)],
];

/** The paths of UNMODELLED fields where the draft differs from any of these rules. */
export function unmodelledChanges(draft: Rules, others: readonly Rules[]): string[] {
  return UNMODELLED.filter(([, get]) => others.some((r) => get(r) !== get(draft))).map(([path]) => path);
}

const NO_TIER = '(no tier)';
const NO_CATEGORY = '(no category)';

/** Signed value of points at a redeem rate (§4.2's floor applied to the size, so −v is the value of −p). */
function signedValue(points: Points, rate: Decimal.Value, digits: number): Minor {
  const v = pointsValue(Math.abs(points), rate, digits);
  return points < 0 ? -v : v;
}

/** What a checkout's lines earned under its version (recomputed) and under the draft, kept for its refunds (and its tier under the draft). */
interface CheckoutShares {
  version: number;
  tier: string | null;
  lines: readonly SimLine[];
  recomputed: Points[];
  simulated: Points[];
}

export class Simulation {
  private readonly earned = new Map<string, Points>();
  private readonly diff = new Map<string, Points>();
  private readonly actualOf = new Map<string, Points>();
  /** Credits of the current local day: the ledger's per member, and what the draft changed. */
  private day: LocalDate | null = null;
  private dayStart = 0;
  private dayEnd = 0;
  private readonly dayEarned = new Map<string, Points>();
  private readonly dayDiff = new Map<string, Points>();
  private readonly groups = new Map<string, SimGroup>();
  private readonly versions = new Set<number>();
  private readonly expiry = new Map<string, LocalDate | null>();
  /** Per member: how much the draft changes their balance at asOf (points it adds or removes that have not lapsed by then). */
  private readonly liability = new Map<string, Points>();
  /** Per member: what the draft changes on take-backs dated where the lots have lapsed by asOf (debt only). */
  private readonly lapsedDebits = new Map<string, Points>();
  /** Whether the draft changed some take-back (a return, a refund's earned points): LiabilityChange.estimated. */
  private takeBacksChanged = false;
  /** Members a take-back takes more from under the draft (see SimulationResult.membersLosingOnTakeBacks). */
  private readonly takesMore = new Set<string>();
  /** Members a take-back takes less from under the draft (SimulationResult.membersGainingOnTakeBacks). */
  private readonly takesLess = new Set<string>();
  /** Voided purchases still counted in lifetime points and the day's credits, until their void (by its time). */
  private standing: { at: number; memberId: string; day: LocalDate; actual: Points; delta: Points; credited: Points; creditDiff: Points }[] = [];
  /** The period's checkouts refunded later, by order id. */
  private readonly checkouts = new Map<string, CheckoutShares>();
  private n = { orders: 0, purchases: 0, checkouts: 0, refunds: 0, actual: 0, difference: 0, bookedOtherwise: 0 };
  /** The first order the draft would earn past POINTS_MAX on (or lift its member's lifetime points past it). */
  private ceiling: { memberId: string; at: number; points: Points } | null = null;
  /** Whether a checkout of the period paid with points (where another redeem rate would have split it otherwise). */
  private pointsPaid = false;

  /** Indexes of the draft's multipliers no line of the period matched yet. */
  private unmatched: number[];
  /** Indexes of the draft's multipliers no line of the period took yet (matched or not). */
  private untaken: number[];

  constructor(private readonly s: SimulateSetup) {
    for (const [id, p] of s.earnedBefore) this.earned.set(id, p);
    for (const v of [...(s.voidedLater ?? [])].sort((a, b) => a.voidedAt - b.voidedAt)) {
      this.earned.set(v.memberId, (this.earned.get(v.memberId) ?? 0) + v.points);
      // dated before the period: never on the day an order of it is in, and nothing the draft changed
      this.standing.push({ at: v.voidedAt, memberId: v.memberId, day: '' as LocalDate, actual: v.points, delta: 0, credited: 0, creditDiff: 0 });
    }
    this.unmatched = s.draft.earn.multipliers.map((_, i) => i);
    this.untaken = [...this.unmatched];
  }

  /**
   * Crosses off the draft's multipliers that one of these lines matches on the day (by SKU or category,
   * within from/to), and those one of them takes (§4.1 step 2: not passed over for a larger one or, a
   * category's, for the SKU's own).
   */
  /** Whether every rules version the period's orders earned under has this multiplier as it is (so the draft did not change it). */
  private unchanged(m: Multiplier): boolean {
    const same = (x: Multiplier) => x.sku === m.sku && x.category === m.category && x.multiplier.eq(m.multiplier) && x.from === m.from && x.to === m.to;
    return this.versions.size > 0 && [...this.versions].every((id) => this.s.version(id).earn.multipliers.some(same));
  }

  private match(lines: readonly SimLine[], day: LocalDate): void {
    const ms = this.s.draft.earn.multipliers;
    this.unmatched = this.unmatched.filter((i) => {
      const m = ms[i];
      if ((m.from && day < m.from) || (m.to && day > m.to)) return true;
      return !lines.some((x) => (m.sku !== undefined ? x.sku === m.sku : x.category === m.category));
    });
    this.untaken = this.untaken.filter((i) => !lines.some((x) => multiplierTaken(this.s.draft, ms[i], x, day)));
  }

  private earn(r: Rules, at: number, day: LocalDate, memberId: string, lines: readonly EarnLine[], lifetimeEarned: Points, earnedToday: Points, purpose: 'earn' | 'return', orderTotal?: Minor) {
    const s = this.s;
    // one object shape for every call (computeEarn stays monomorphic)
    return computeEarn({ rules: r, lines, at, zone: s.zone, digits: s.digits, pinnedTier: s.pinnedTier(memberId), lifetimeEarned, earnedTodayBeforeThisOrder: earnedToday, orderTotal, localDate: day, purpose });
  }

  /**
   * A checkout earned again (§4.1 step 5 and §4.5, as the capture does it): on the cash paid spread over
   * the lines by amount, then the points spread over the lines by their cash.
   */
  private checkoutShares(o: SimOrder, day: LocalDate, lifetime: Points, lifetimeDiff: Points, today: Points, todayDiff: Points) {
    const rules = this.s.version(o.rulesVersion);
    const lines = cashEarnLines(o.cashPaid, o.lines);
    const r = this.earn(rules, o.at, day, o.memberId, lines, lifetime, today, 'earn', o.total);
    const d = this.earn(this.s.draft, o.at, day, o.memberId, lines, lifetime + lifetimeDiff, today + todayDiff, 'earn', o.total);
    const cash = o.lines.every((x) => x.cash !== undefined) ? o.lines.map((x) => x.cash!) : lines.map((x) => x.amount);
    return { tier: d.tier, recomputed: r.points, simulated: d.points, cash, recLines: spreadEarned(r.points, cash), simLines: spreadEarned(d.points, cash) };
  }

  private enterDay(at: number): LocalDate {
    const s = this.s;
    // orders come in time order: a local day is one stretch of them
    if (!(at >= this.dayStart && at < this.dayEnd)) {
      const day = localDate(at, s.zone);
      this.dayStart = startOfLocalDayMs(day, s.zone);
      this.dayEnd = Date.parse(localDayEndIso(day, s.zone));
      if (day !== this.day) {
        this.dayEarned.clear();
        this.dayDiff.clear();
      }
      this.day = day;
    }
    return this.day!;
  }

  /** Whether a lot earned on `day` under `r` would still hold points at asOf. */
  private unexpired(r: Rules, id: number | 'draft', at: number, day: LocalDate): boolean {
    const key = `${id}|${day}`;
    let e = this.expiry.get(key);
    if (e === undefined) {
      e = expiresOn(r.expiry, at, this.s.zone);
      this.expiry.set(key, e);
    }
    return e === null || e >= this.s.asOf;
  }

  /** Takes out of the running facts what voided purchases had put in, once their void is before `at`. */
  private voidBefore(at: number): void {
    while (this.standing.length && this.standing[0].at <= at) {
      const v = this.standing.shift()!;
      this.earned.set(v.memberId, (this.earned.get(v.memberId) ?? 0) - v.actual);
      if (v.delta) this.diff.set(v.memberId, (this.diff.get(v.memberId) ?? 0) - v.delta);
      if (v.day === this.day) {
        if (v.credited) this.dayEarned.set(v.memberId, (this.dayEarned.get(v.memberId) ?? 0) - v.credited);
        if (v.creditDiff) this.dayDiff.set(v.memberId, (this.dayDiff.get(v.memberId) ?? 0) - v.creditDiff);
      }
    }
  }

  /** One order or checkout refund (they come in time order). */
  add(o: SimOrder | SimRefund | SimAward): void {
    this.voidBefore(o.at);
    if (o.kind === 'refund') return this.addRefund(o);
    if (o.kind === 'award') {
      this.earned.set(o.memberId, (this.earned.get(o.memberId) ?? 0) + o.points);
      return;
    }
    const s = this.s;
    const rules = s.version(o.rulesVersion);
    const voided = o.voidedAt !== undefined;
    if (!voided) this.versions.add(o.rulesVersion);
    const day = this.enterDay(o.at);
    if (this.untaken.length && !voided) this.match(o.lines, day);
    const m = o.memberId;
    const lifetime = this.earned.get(m) ?? 0;
    const lifetimeDiff = this.diff.get(m) ?? 0;
    const today = this.dayEarned.get(m) ?? 0;
    const todayDiff = this.dayDiff.get(m) ?? 0;

    let recomputed: Points;
    let simulated: Points;
    let recomputedCredit = 0;
    let simulatedCredit = 0;
    /** The member's tier at the order under the draft (what --by tier groups by). */
    let tier: string | null;
    // a purchase's points go to its lines by what each earned: amount × its multiplier under each rules
    const weights = (r: Rules) =>
      o.lines.map((x) => {
        if (!r.earn.multipliers.length) return Math.abs(x.amount);
        const m = lineMultiplier(r, x, day);
        return m.eq(1) ? Math.abs(x.amount) * 1e6 : new D(Math.abs(x.amount)).times(m).times(1e6).floor().toNumber();
      });
    /** A checkout's lines' points, under the version and the draft (§4.5: spread by each line's cash). */
    let lineShares: { recomputed: Points[]; simulated: Points[]; cash: Minor[] } | null = null;
    if (o.kind === 'purchase') {
      if (o.total < 0) {
        const lines: EarnLine[] = o.lines.map((x) => ({ amount: -x.amount, sku: x.sku, category: x.category }));
        const r = this.earn(rules, o.at, day, m, lines, lifetime, 0, 'return');
        const d = this.earn(s.draft, o.at, day, m, lines, lifetime + lifetimeDiff, 0, 'return');
        recomputed = -r.points;
        simulated = -d.points;
        tier = d.tier;
      } else {
        const r = this.earn(rules, o.at, day, m, o.lines, lifetime, today, 'earn');
        const d = this.earn(s.draft, o.at, day, m, o.lines, lifetime + lifetimeDiff, today + todayDiff, 'earn');
        recomputed = recomputedCredit = r.points;
        simulated = simulatedCredit = d.points;
        tier = d.tier;
      }
      if (!voided) this.n.purchases++;
    } else {
      const c = this.checkoutShares(o, day, lifetime, lifetimeDiff, today, todayDiff);
      recomputed = recomputedCredit = c.recomputed;
      simulated = simulatedCredit = c.simulated;
      lineShares = { recomputed: c.recLines, simulated: c.simLines, cash: c.cash };
      tier = c.tier;
      if (o.refunded && o.key !== undefined) this.checkouts.set(o.key, { version: o.rulesVersion, tier, lines: o.lines, recomputed: c.recLines, simulated: c.simLines });
      this.n.checkouts++;
      if (o.cashPaid < o.total) this.pointsPaid = true;
    }
    const actualNet = o.points;
    const delta = simulated - recomputed;
    if (!this.ceiling && (Math.abs(simulated) > POINTS_MAX || lifetime + actualNet + lifetimeDiff + delta > POINTS_MAX)) this.ceiling = { memberId: m, at: o.at, points: simulated };

    // the ledger's facts move by what it booked; the draft's by what it changed
    this.earned.set(m, lifetime + actualNet);
    if (delta) this.diff.set(m, lifetimeDiff + delta);
    const credited = Math.max(o.points, 0);
    if (credited) this.dayEarned.set(m, today + credited);
    if (simulatedCredit !== recomputedCredit) this.dayDiff.set(m, todayDiff + simulatedCredit - recomputedCredit);
    if (voided) {
      // in no total: it stands in the running facts of the orders after it until its void
      const v = { at: o.voidedAt!, memberId: m, day, actual: actualNet, delta, credited, creditDiff: simulatedCredit - recomputedCredit };
      let i = this.standing.length;
      while (i > 0 && this.standing[i - 1].at > v.at) i--;
      this.standing.splice(i, 0, v); // (kept in the order of the voids)
      return;
    }

    this.n.orders++;
    if (recomputed !== actualNet) this.n.bookedOtherwise++;
    this.tally(m, actualNet, delta);
    // outstanding at asOf: only the points the draft adds or removes move it (a return takes back: no lot
    // of its own, see debit). Points the draft adds count if the draft's expiry has not lapsed them by
    // asOf; points it removes, if they were still outstanding in the ledger's lot and the draft would not
    // have lapsed them either. The points the ledger credited keep the lapse the ledger gave them, whatever
    // the draft's expiry (expiryChanged: what another expiry would have lapsed is not computed).
    if (delta && o.kind === 'purchase' && o.total < 0) this.debit(m, delta, rules, o.rulesVersion, o.at, day);
    else if (delta) {
      const draftKeeps = this.unexpired(s.draft, 'draft', o.at, day);
      const change = delta > 0 ? (draftKeeps ? delta : 0) : draftKeeps && this.unexpired(rules, o.rulesVersion, o.at, day) ? delta : 0;
      if (change) this.liability.set(m, (this.liability.get(m) ?? 0) + change);
    }

    const actualSim = actualNet + delta;
    if (s.by === 'category') {
      let a: Points[];
      let b: Points[];
      if (lineShares) {
        // a checkout: each line's actual is the ledger's own (what it earned, as report items shows it);
        // the draft moves each line by its own change
        const { recomputed: rn, simulated: sn } = lineShares;
        const stored = o.lines.map((x) => x.earned ?? 0);
        a = o.lines.every((x) => x.earned !== undefined) && stored.reduce((t, x) => t + x, 0) === actualNet ? stored : spreadEarned(actualNet, lineShares.cash);
        b = a.map((x, i) => x + sn[i] - rn[i]);
      } else {
        const one = o.lines.length === 1;
        a = one ? [actualNet] : allocateProportionally(actualNet, weights(rules));
        b = one ? [actualSim] : allocateProportionally(actualSim, weights(s.draft));
      }
      const seen = new Set<string>();
      o.lines.forEach((x, i) => {
        const key = x.category ?? NO_CATEGORY;
        this.group(key, a[i], b[i], !seen.has(key));
        seen.add(key);
      });
    } else {
      const key = s.by === 'month' ? day.slice(0, 7) : s.by === 'source' ? o.source : (tier ?? NO_TIER);
      this.group(key, actualNet, actualSim, true);
    }
  }

  /**
   * What the draft changes on a take-back (a return, a refund's earned points): on the member's balance
   * when the points it took would still be outstanding at asOf (the lots of its date have not lapsed);
   * else only on their debt, which never lapses: a smaller take-back repays debt the member still owes,
   * a larger one adds to the debt of a member still in debt (their points had run out).
   */
  private debit(m: string, delta: Points, rules: Rules | null, id: number, at: number, day: LocalDate): void {
    this.takeBacksChanged = true;
    if (delta < 0) this.takesMore.add(m);
    else if (delta > 0) this.takesLess.add(m);
    const map = rules === null || this.unexpired(rules, id, at, day) ? this.liability : this.lapsedDebits;
    map.set(m, (map.get(m) ?? 0) + delta);
  }

  private tally(m: string, actualNet: Points, delta: Points): void {
    this.n.actual += actualNet;
    this.n.difference += delta;
    this.actualOf.set(m, (this.actualOf.get(m) ?? 0) + actualNet);
  }

  /**
   * A checkout refund (§4.5): each refunded line gives back the share of its units of what it earned,
   * the same cumulative share `order refund` takes (exact on the last unit), under the version and the draft.
   */
  private addRefund(f: SimRefund): void {
    const s = this.s;
    const day = this.enterDay(f.at);
    const m = f.memberId;
    let c = this.checkouts.get(f.orderKey);
    if (!c && f.order) {
      const o = f.order;
      this.versions.add(o.rulesVersion);
      const sh = this.checkoutShares(o, localDate(o.at, s.zone), o.lifetimeBefore, 0, o.earnedTodayBefore, 0);
      // its refund takes back in the period what its lines earned: a multiplier they match counts (trial 43)
      if (this.untaken.length) this.match(o.lines, localDate(o.at, s.zone));
      c = { version: o.rulesVersion, tier: sh.tier, lines: o.lines, recomputed: sh.recLines, simulated: sh.simLines };
      this.checkouts.set(f.orderKey, c);
      // the points it gives back were spent at the rate in force: the draft's would have spent others
      if (o.cashPaid < o.total) this.pointsPaid = true;
    }
    const lifetime = this.earned.get(m) ?? 0;
    const lifetimeDiff = this.diff.get(m) ?? 0;
    const actualNet = -f.earned;
    // per refunded line: the ledger's take-back, and the draft's change to it
    const parts = f.lines.map((x) => {
      const i = c ? c.lines.findIndex((l) => l.lineNo === x.lineNo) : -1;
      if (!c || i < 0) return { i, actual: -x.earned, delta: 0 };
      const q = c.lines[i].quantity ?? x.before + x.units;
      const back = (e: Points) => cumulative(e, x.before + x.units, q) - cumulative(e, x.before, q);
      return { i, actual: -x.earned, delta: back(c.recomputed[i]) - back(c.simulated[i]) };
    });
    const delta = parts.reduce((t, x) => t + x.delta, 0);
    this.earned.set(m, lifetime + actualNet);
    if (delta) this.diff.set(m, lifetimeDiff + delta);
    this.n.refunds++;
    this.tally(m, actualNet, delta);
    if (delta) this.debit(m, delta, c ? s.version(c.version) : null, c?.version ?? 0, f.at, day);
    if (s.by === 'category') {
      for (const x of parts) {
        const key = (c && x.i >= 0 ? c.lines[x.i].category : null) ?? NO_CATEGORY;
        this.group(key, x.actual, x.actual + x.delta, false);
      }
    } else {
      const key = s.by === 'month' ? day.slice(0, 7) : s.by === 'source' ? 'checkout' : (c?.tier ?? NO_TIER);
      this.group(key, actualNet, actualNet + delta, false);
    }
  }

  private group(key: string, actual: Points, simulated: Points, order: boolean): void {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { key, orders: 0, actualPoints: 0, simulatedPoints: 0, difference: 0 }));
    if (order) g.orders++;
    g.actualPoints += actual;
    g.simulatedPoints += simulated;
    g.difference = g.simulatedPoints - g.actualPoints;
  }

  /**
   * Whether the draft dates lots differently from a version the period's orders earned under or the one
   * in force at asOf. What such a draft would have lapsed is not computed: the ledger's spends were made
   * against the lots and availability of the versions in force (earliest-expiring first), and under
   * another expiry they would have come from other lots, or been refused outright when the draft had
   * lapsed the points they used, so no replay of the lots can say what would be outstanding. Only the
   * points the draft adds or removes are dated by the draft's expiry.
   */
  private expiryChanged(): boolean {
    const s = this.s;
    if (s.expiryInForce && !sameExpiry(s.draft.expiry, s.expiryInForce)) return true;
    for (const id of this.versions) if (!sameExpiry(s.draft.expiry, s.version(id).expiry)) return true;
    return false;
  }

  /** The fields besides expiry that the draft changes from the rules in force or a version of the period's orders. */
  private unmodelled(): string[] {
    const s = this.s;
    const others = [...[...this.versions].map((id) => s.version(id)), ...(s.inForce ? [s.inForce] : [])];
    // another redeem rate changes nothing the period's orders earned unless a checkout paid with points
    return unmodelledChanges(s.draft, others).filter((path) => path !== 'redeem.pointsPerUnit' || this.pointsPaid);
  }

  /** Each member's balance moved by what the draft changed for them: their points and their debt apart. */
  private liabilityChange(): LiabilityChange {
    const s = this.s;
    let change = 0;
    let debtChange = 0;
    let debts = false;
    for (const m of new Set([...this.liability.keys(), ...this.lapsedDebits.keys()])) {
      const h = s.holdings?.get(m) ?? { points: 0, debt: 0 };
      const after = shiftHolding(h, this.liability.get(m) ?? 0);
      const lapsed = this.lapsedDebits.get(m) ?? 0;
      if (lapsed > 0) after.debt -= Math.min(after.debt, lapsed);
      else if (lapsed < 0 && after.debt > 0) after.debt -= lapsed;
      if (h.debt > 0 || after.debt > 0) debts = true;
      change += after.points - h.points;
      debtChange += after.debt - h.debt;
    }
    const estimated: LiabilityEstimate[] = [...(this.takeBacksChanged ? (['take-backs'] as const) : []), ...(debts ? (['debts'] as const) : [])];
    return liabilityChange({ outstanding: s.outstanding ?? 0, change, debt: s.debt ?? 0, debtChange, rateInForce: s.redeemInForce, draftRate: s.draft.redeem.pointsPerUnit, digits: s.digits, estimated });
  }

  /** The first order the draft would earn past the ceiling of POINTS_MAX points on (or make its member's lifetime points pass it), else null. */
  pastCeiling(): { memberId: string; at: number; points: Points } | null {
    return this.ceiling;
  }

  result(): SimulationResult {
    const s = this.s;
    const n = this.n;
    // voids after the last order: what the voided purchases put in the members' facts comes out of them too
    this.voidBefore(Number.POSITIVE_INFINITY);
    let gaining = 0;
    let losing = 0;
    let onTakeBacks = 0;
    let gainingOnTakeBacks = 0;
    const members: SimMember[] = [];
    for (const [memberId, d] of this.diff) {
      if (!this.actualOf.has(memberId) || d === 0) continue;
      if (d > 0) {
        gaining++;
        if (this.takesLess.has(memberId)) gainingOnTakeBacks++;
      } else {
        losing++;
        if (this.takesMore.has(memberId)) onTakeBacks++;
      }
      const actualPoints = this.actualOf.get(memberId)!;
      members.push({ memberId, actualPoints, simulatedPoints: actualPoints + d, difference: d });
    }
    members.sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference) || (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const simulatedPoints = n.actual + n.difference;
    const actualValue = signedValue(n.actual, s.redeemInForce, s.digits);
    const simulatedValue = signedValue(simulatedPoints, s.draft.redeem.pointsPerUnit, s.digits);
    const groups = [...this.groups.values()];
    if (s.by === 'month') groups.sort((a, b) => (a.key < b.key ? -1 : 1));
    else groups.sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference) || b.actualPoints - a.actualPoints || (a.key < b.key ? -1 : 1));
    return {
      orders: n.orders,
      purchases: n.purchases,
      checkouts: n.checkouts,
      refunds: n.refunds,
      rulesVersions: [...this.versions].sort((a, b) => a - b),
      actualPoints: n.actual,
      simulatedPoints,
      difference: n.difference,
      actualValue: formatMoney(actualValue, s.digits),
      simulatedValue: formatMoney(simulatedValue, s.digits),
      valueDifference: formatMoney(simulatedValue - actualValue, s.digits),
      membersAffected: gaining + losing,
      membersGaining: gaining,
      membersLosing: losing,
      membersLosingOnTakeBacks: onTakeBacks,
      membersGainingOnTakeBacks: gainingOnTakeBacks,
      bookedOtherwise: n.bookedOtherwise,
      liabilityChange: this.liabilityChange(),
      notSimulated: [...(this.expiryChanged() ? ['expiry'] : []), ...this.unmodelled()],
      // a period without orders matched nothing: that says nothing of the draft's SKUs and categories; nor
      // is a multiplier every version of the period has as it is a change of the draft's (trial 43)
      unmatchedMultipliers: (n.orders ? this.unmatched.filter((i) => !this.unchanged(s.draft.earn.multipliers[i])) : []).map((i) => draftMultiplier(s.draft.earn.multipliers[i])),
      // matched lines, but each took another multiplier (a larger one, or the SKU's own over its category's)
      overriddenMultipliers: (n.orders ? this.untaken.filter((i) => !this.unmatched.includes(i)) : []).map((i) => draftMultiplier(s.draft.earn.multipliers[i])),
      by: s.by,
      groups,
      topMembers: members.slice(0, s.top),
    };
  }
}

/** A draft's multiplier as the result names it. */
function draftMultiplier(m: Multiplier): DraftMultiplier {
  return { ...(m.sku !== undefined ? { sku: m.sku } : { category: m.category }), multiplier: m.multiplier.toString(), ...(m.from ? { from: m.from } : {}), ...(m.to ? { to: m.to } : {}) };
}

/** The simulation of a whole list of orders at once (tests, small ledgers). */
export function simulate(setup: SimulateSetup, orders: Iterable<SimOrder | SimRefund | SimAward>): SimulationResult {
  const sim = new Simulation(setup);
  for (const o of orders) sim.add(o);
  return sim.result();
}
