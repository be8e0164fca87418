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
import { computeEarn, type EarnLine, lineMultiplier } from './accrual.js';

const D = Decimal;
import { type Minor, type Points, allocateProportionally, formatMoney, pointsValue } from './money.js';
import { type ExpiryPolicy, type Rules, expiresOn } from './rules.js';
import { type LocalDate, addDays, localDate, startOfLocalDayMs } from './time.js';

export type SimulateBy = 'month' | 'tier' | 'category' | 'source';
export const SIMULATE_BY: readonly SimulateBy[] = ['month', 'tier', 'category', 'source'];

export interface SimLine {
  sku: string | null;
  category: string | null;
  /** The line's amount in minor units (signed: a return's lines are negative). */
  amount: Minor;
  /**
   * A checkout line's own share of the points the order earned and of its cash, and what refunds of this
   * line took back of them (SPEC §4.5): a refund takes back from the lines it refunded, not the others.
   */
  earned?: Points;
  refundedEarned?: Points;
  cash?: Minor;
  refundedCash?: Minor;
}

export interface SimOrder {
  kind: 'purchase' | 'checkout';
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
  /** A checkout's refunds: earned points taken back, and cash refunded (0 for purchases). */
  refundedEarned: Points;
  refundedCash: Minor;
  cashPaid: Minor;
  lines: readonly SimLine[];
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
  /** Net points each member earned before the period (their tier basis at its start). */
  earnedBefore: ReadonlyMap<string, Points>;
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
   * What would be outstanding at asOf had the draft applied, less what is: `points` (the points the draft
   * adds or removes that would still be outstanding, assuming they were not spent) and `value` (the
   * simulated outstanding at the draft's redeem rate less the actual at the rate in force), with both sides.
   */
  liabilityChange: LiabilityChange;
  /** What the draft changes that the comparison does not model: "expiry" (see expiryChanged). */
  notSimulated: 'expiry'[];
  by: SimulateBy;
  groups: SimGroup[];
  topMembers: SimMember[];
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
}

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
export function liabilityChange(p: { outstanding: Points; change: Points; debt?: Points; debtChange?: Points; rateInForce: Decimal.Value; draftRate: Decimal.Value; digits: number }): LiabilityChange {
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
  };
}

/** Two expiry policies that date every lot alike. */
export function sameExpiry(a: ExpiryPolicy, b: ExpiryPolicy): boolean {
  if (a.policy !== b.policy) return false;
  if (a.policy === 'rolling-days') return a.days === (b as typeof a).days;
  if (a.policy === 'end-of-year') return a.years === (b as typeof a).years;
  return true;
}

const NO_TIER = '(no tier)';
const NO_CATEGORY = '(no category)';

/** Signed value of points at a redeem rate (§4.2's floor applied to the size, so −v is the value of −p). */
function signedValue(points: Points, rate: Decimal.Value, digits: number): Minor {
  const v = pointsValue(Math.abs(points), rate, digits);
  return points < 0 ? -v : v;
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
  private n = { orders: 0, purchases: 0, checkouts: 0, actual: 0, difference: 0 };

  constructor(private readonly s: SimulateSetup) {
    for (const [id, p] of s.earnedBefore) this.earned.set(id, p);
  }

  /** One order (orders come in time order). */
  add(o: SimOrder): void {
    const s = this.s;
    const rules = s.version(o.rulesVersion);
    this.versions.add(o.rulesVersion);
    // orders come in time order: a local day is one stretch of them
    if (!(o.at >= this.dayStart && o.at < this.dayEnd)) {
      const day = localDate(o.at, s.zone);
      this.dayStart = startOfLocalDayMs(day, s.zone);
      this.dayEnd = startOfLocalDayMs(addDays(day, 1), s.zone);
      if (day !== this.day) {
        this.dayEarned.clear();
        this.dayDiff.clear();
      }
      this.day = day;
    }
    const day = this.day!;
    const m = o.memberId;
    const pinned = s.pinnedTier(m);
    const lifetime = this.earned.get(m) ?? 0;
    const lifetimeDiff = this.diff.get(m) ?? 0;
    const today = this.dayEarned.get(m) ?? 0;
    const todayDiff = this.dayDiff.get(m) ?? 0;
    // one object shape for every call (computeEarn stays monomorphic)
    const earn = (r: Rules, lines: readonly EarnLine[], lifetimeEarned: Points, earnedToday: Points, purpose: 'earn' | 'return', orderTotal?: Minor) =>
      computeEarn({ rules: r, lines, at: o.at, zone: s.zone, digits: s.digits, pinnedTier: pinned, lifetimeEarned, earnedTodayBeforeThisOrder: earnedToday, orderTotal, localDate: day, purpose });

    let recomputed: Points;
    let simulated: Points;
    let recomputedCredit = 0;
    let simulatedCredit = 0;
    let actualNet: Points;
    let tier: string | null;
    // an order's points go to its lines by what each earned: amount × its multiplier under each rules
    const weights = (r: Rules) =>
      o.lines.map((x) => {
        if (!r.earn.multipliers.length) return Math.abs(x.amount);
        const m = lineMultiplier(r, x, day);
        return m.eq(1) ? Math.abs(x.amount) * 1e6 : new D(Math.abs(x.amount)).times(m).times(1e6).floor().toNumber();
      });
    /** A checkout's lines' net points (credit less what refunds of each line took back), under the version and the draft. */
    let lineNets: { recomputed: Points[]; simulated: Points[] } | null = null;
    if (o.kind === 'purchase') {
      actualNet = o.points;
      if (o.total < 0) {
        const lines: EarnLine[] = o.lines.map((x) => ({ amount: -x.amount, sku: x.sku, category: x.category }));
        const r = earn(rules, lines, lifetime, 0, 'return');
        recomputed = -r.points;
        simulated = -earn(s.draft, lines, lifetime + lifetimeDiff, 0, 'return').points;
        tier = r.tier;
      } else {
        const r = earn(rules, o.lines, lifetime, today, 'earn');
        recomputed = recomputedCredit = r.points;
        simulated = simulatedCredit = earn(s.draft, o.lines, lifetime + lifetimeDiff, today + todayDiff, 'earn').points;
        tier = r.tier;
      }
      this.n.purchases++;
    } else {
      // §4.1 step 5: a checkout earns on the cash paid, spread over its lines by amount.
      const shares = allocateProportionally(o.cashPaid, o.lines.map((x) => x.amount));
      const lines: EarnLine[] = o.lines.map((x, i) => ({ amount: shares[i], sku: x.sku, category: x.category }));
      const r = earn(rules, lines, lifetime, today, 'earn', o.total);
      recomputedCredit = r.points;
      simulatedCredit = earn(s.draft, lines, lifetime + lifetimeDiff, today + todayDiff, 'earn', o.total).points;
      if (o.lines.every((x) => x.earned !== undefined)) {
        // A refund takes back what the lines it refunded earned (SPEC §4.5): each line's share of the
        // order's credit, less the share of it that line's refunds took back.
        const nets = (r: Rules, credit: Points): Points[] => {
          const credits = o.lines.length === 1 ? [credit] : allocateProportionally(credit, weights(r));
          return credits.map((c, i) => c - lineTakeBack(o.lines[i], o.points > 0, c));
        };
        lineNets = { recomputed: nets(rules, recomputedCredit), simulated: nets(s.draft, simulatedCredit) };
        recomputed = lineNets.recomputed.reduce((t, x) => t + x, 0);
        simulated = lineNets.simulated.reduce((t, x) => t + x, 0);
      } else {
        // lines without their own shares: refunds take back the same share of whatever the order earned
        const takeBack = (earned: Points): Points => {
          if (o.points > 0) return Math.round((o.refundedEarned * earned) / o.points);
          return o.cashPaid > 0 ? Math.round((o.refundedCash * earned) / o.cashPaid) : 0;
        };
        recomputed = recomputedCredit - takeBack(recomputedCredit);
        simulated = simulatedCredit - takeBack(simulatedCredit);
      }
      actualNet = o.points - o.refundedEarned;
      tier = r.tier;
      this.n.checkouts++;
    }
    const delta = simulated - recomputed;

    // the ledger's facts move by what it booked; the draft's by what it changed
    this.earned.set(m, lifetime + actualNet);
    if (delta) this.diff.set(m, lifetimeDiff + delta);
    const credited = o.kind === 'purchase' ? Math.max(o.points, 0) : o.points;
    if (credited) this.dayEarned.set(m, today + credited);
    if (simulatedCredit !== recomputedCredit) this.dayDiff.set(m, todayDiff + simulatedCredit - recomputedCredit);

    this.n.orders++;
    this.n.actual += actualNet;
    this.n.difference += delta;
    this.actualOf.set(m, (this.actualOf.get(m) ?? 0) + actualNet);
    // outstanding at asOf: what the draft's lot would still hold, less what the version's would
    const unexpired = (r: Rules, id: number | 'draft') => {
      const key = `${id}|${day}`;
      let e = this.expiry.get(key);
      if (e === undefined) {
        e = expiresOn(r.expiry, o.at, s.zone);
        this.expiry.set(key, e);
      }
      return e === null || e >= s.asOf;
    };
    if (delta) {
      const change = (unexpired(s.draft, 'draft') ? simulated : 0) - (unexpired(rules, o.rulesVersion) ? recomputed : 0);
      if (change) this.liability.set(m, (this.liability.get(m) ?? 0) + change);
    }

    const actualSim = actualNet + delta;
    if (s.by === 'category') {
      const one = o.lines.length === 1;
      let a: Points[];
      let b: Points[];
      const stored = o.kind === 'checkout' ? o.lines.map((x) => (x.earned ?? 0) - (x.refundedEarned ?? 0)) : null;
      if (lineNets && stored && stored.reduce((t, x) => t + x, 0) === actualNet) {
        // a checkout: each line's actual is the ledger's own (what it earned less what refunds of it took
        // back, as report items shows it); the draft moves each line by its own change
        const { recomputed: rn, simulated: sn } = lineNets;
        a = stored;
        b = stored.map((x, i) => x + sn[i] - rn[i]);
      } else {
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

  /** Each member's balance moved by what the draft changed for them: their points and their debt apart. */
  private liabilityChange(): LiabilityChange {
    const s = this.s;
    let change = 0;
    let debtChange = 0;
    for (const [m, d] of this.liability) {
      const h = s.holdings?.get(m) ?? { points: 0, debt: 0 };
      const after = shiftHolding(h, d);
      change += after.points - h.points;
      debtChange += after.debt - h.debt;
    }
    return liabilityChange({ outstanding: s.outstanding ?? 0, change, debt: s.debt ?? 0, debtChange, rateInForce: s.redeemInForce, draftRate: s.draft.redeem.pointsPerUnit, digits: s.digits });
  }

  result(): SimulationResult {
    const s = this.s;
    const n = this.n;
    let gaining = 0;
    let losing = 0;
    const members: SimMember[] = [];
    for (const [memberId, d] of this.diff) {
      if (!this.actualOf.has(memberId) || d === 0) continue;
      if (d > 0) gaining++;
      else losing++;
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
      liabilityChange: this.liabilityChange(),
      notSimulated: this.expiryChanged() ? ['expiry'] : [],
      by: s.by,
      groups,
      topMembers: members.slice(0, s.top),
    };
  }
}

/**
 * What a checkout line's refunds take back of a credit to it: the share of the line's earned points its
 * refunds took (an order that earned nothing: the share of the line's cash they refunded).
 */
function lineTakeBack(x: SimLine, earnedAny: boolean, credit: Points): Points {
  const [part, whole] = earnedAny ? [x.refundedEarned ?? 0, x.earned ?? 0] : [x.refundedCash ?? 0, x.cash ?? 0];
  return part && whole ? Math.round((credit * part) / whole) : 0;
}

/** The simulation of a whole list of orders at once (tests, small ledgers). */
export function simulate(setup: SimulateSetup, orders: Iterable<SimOrder>): SimulationResult {
  const sim = new Simulation(setup);
  for (const o of orders) sim.add(o);
  return sim.result();
}
