// A reference model of SPEC §4 (earning, value of points, splitting a checkout, lots and expiry, refunds
// and returns, and the §4.6 readings), written from the SPEC alone: no import from src/. Every rule is
// spelled out where it is used, with plain arrays, integers for points and minor units, and decimal.js
// only for rates. The ledger's zone is Asia/Shanghai (UTC+8, no DST) and the currency CNY (2 digits).
//
// Readings where the SPEC leaves a choice (each is named again in docs/reliability.md):
// - Held points stay in their lots, reserved (§5: balance = Σ lots' remaining − debt); a hold reserves
//   them from the spendable lots in spending order, and capture takes exactly those.
// - Spending (checkout, hold, negative adjust) uses only lots not lapsed (§7 "Expired is expired") and
//   not reserved; take-backs (returns, a refund's earned points) come from the earliest-expiring lots
//   (§4.6) that are live (§7 governs: not lapsed on the take-back's own date, so the same whether or not
//   an expiry run came first), never reserved points, and leave a debt if short;
//   lapsed lots are left for the expiry run.
// - `redeem.minPoints` applies to the mixed lines' part (§4.6): a request whose mixed part is 0 or at
//   least minPoints (MIN_POINTS_ON below names the other reading, the total, in one place).
// - A checkout's earning base is its cash spread over the lines by gross amount (§4.1.5 as written).
// - Points used are spread per §4.5 so that its "never" sentences hold: a points line carries exactly the
//   points it needs, a cash line none, and the mixed part is spread over the mixed lines in whole steps
//   (§4.2) in proportion to what each lets points pay, largest remainder, ties to the earlier line.
// - A refund of r of q units returns floor(share × refunded/q) cumulatively, so the last unit returns the
//   exact remainder; points go back to the lots they were taken from, the last taken first.
// - Rounding `round` is half-up; a return's points are its magnitude, rounded the same way.
// Issue 18 (its own blocks below, marked "issue 18"):
// - A points discount P% on a mixed item: points worth v on that line pay floor(v × 100 / (100 − P));
//   what they pay (not their value) stays within the line's ratio; the line's cash is the rest.
// - limits.verifyPointsAbove: a checkout using more points is refused one-shot, and for a member with no
//   phone or email; `start` holds it with a code; confirm needs the code; the third wrong code voids it.
import { Decimal } from 'decimal.js';

export { DAY_MS, ZONE_OFFSET_MS } from './ledgerModel.js';
export const DIGITS = 2;
export const HOLD_MS = 15 * 60_000;
/** §4.6: "redeem.minPoints applies to the mixed lines' part" — the other reading would be 'total'. */
export const MIN_POINTS_ON: 'mixed part' | 'total' = 'mixed part';

// The calendar of the ledger's zone (UTC+8, no DST), shared with the first model.
export { addDays, localDate, startOfLocalDay } from './ledgerModel.js';
import { addDays, localDate, startOfLocalDay } from './ledgerModel.js';
export function money(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const a = Math.abs(minor);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** Splits `total` over `weights` in proportion, largest remainder, ties to the earlier index. */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const W = weights.reduce((a, b) => a + b, 0);
  if (W === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (BigInt(total) * BigInt(w)));
  const out = exact.map((p) => Number(p / BigInt(W)));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((p, i) => ({ i, r: p % BigInt(W) })).sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of order) {
    if (left <= 0) break;
    out[i]++;
    left--;
  }
  return out;
}

/**
 * `total` in proportion to `weights`, no part above its bound: while some part's exact share of what is left
 * passes its bound, those parts get their bounds and leave; the rest go by largest remainder.
 */
export function boundedShares(total: number, weights: readonly number[], bounds: readonly number[]): number[] {
  const out = weights.map(() => 0);
  let live = weights.map((_, i) => i).filter((i) => bounds[i] > 0);
  let rest = total;
  for (let changed = true; changed; ) {
    changed = false;
    const W = live.reduce((a, i) => a + weights[i], 0);
    for (const i of live) {
      // rest × w / W > bound, in integers
      if (W > 0 && BigInt(rest) * BigInt(weights[i]) > BigInt(bounds[i]) * BigInt(W)) changed = true;
    }
    if (!changed) break;
    const W2 = BigInt(W);
    const passing = live.filter((i) => BigInt(rest) * BigInt(weights[i]) > BigInt(bounds[i]) * W2);
    for (const i of passing) out[i] = bounds[i];
    rest -= passing.reduce((a, i) => a + bounds[i], 0);
    live = live.filter((i) => !passing.includes(i));
  }
  if (live.length === 0) return out;
  if (live.every((i) => weights[i] === 0)) {
    for (const i of live) {
      out[i] = Math.min(rest, bounds[i]);
      rest -= out[i];
    }
    return out;
  }
  largestRemainder(rest, live.map((i) => weights[i])).forEach((n, k) => (out[live[k]] = n));
  return out;
}

// ---- rules --------------------------------------------------------------------------------------
export type Rounding = 'floor' | 'round' | 'ceil';
export type Expiry = { policy: 'rolling-days'; days: number } | { policy: 'end-of-year'; years: number } | { policy: 'never' };
export interface Multiplier {
  sku?: string;
  category?: string;
  multiplier: string;
  from?: string;
  to?: string;
}
export interface Tier {
  name: string;
  minLifetimePoints: number;
  multiplier: string;
}
/** A whole rules document; what a file leaves out takes init's default (§3). */
export interface Rules {
  earn: { pointsPerUnit: string; rounding: Rounding; minOrderAmount: number; maxPointsPerOrder: number | null; multipliers: Multiplier[] };
  tiers: Tier[];
  /** pointsPerUnit: whole points per currency unit. */
  redeem: { pointsPerUnit: number; minPoints: number; maxRatio: string };
  expiry: Expiry;
  dailyEarnCap: number | null;
  /** Issue 18: limits.verifyPointsAbove (absent = null). */
  verifyPointsAbove?: number | null;
}
export const DEFAULT_RULES: Rules = {
  earn: { pointsPerUnit: '1', rounding: 'floor', minOrderAmount: 0, maxPointsPerOrder: null, multipliers: [] },
  tiers: [],
  redeem: { pointsPerUnit: 100, minPoints: 0, maxRatio: '1' },
  expiry: { policy: 'rolling-days', days: 365 },
  dailyEarnCap: null,
};

// ---- catalog ------------------------------------------------------------------------------------
export type Pay = 'mixed' | 'cash' | 'points';
export interface Item {
  sku: string;
  category: string | null;
  price: number; // minor units
  pay: Pay;
  maxPointsRatio: string | null;
  pointsPrice: number | null;
  coupon: null | { value: number } | { percent: number };
  couponDays: number;
  /** Issue 18: the points discount percent of a mixed item (absent = none). */
  pointsDiscount?: string | null;
}

// ---- state --------------------------------------------------------------------------------------
export interface Lot {
  seq: number;
  points: number;
  remaining: number; // includes reserved points
  reserved: number; // held by open checkouts
  earnedAt: number;
  expiresOn: string | null;
}
export interface Member {
  id: string;
  frozen: boolean;
  lots: Lot[];
  debt: number;
  lifetimeEarned: number;
  /** Each change of lifetimeEarned with its valid time: §4.1.3's "before this order" for a backdated one. */
  earnedLog?: { at: number; delta: number }[];
  /** Issue 18: the member has a phone or email (a one-time code can reach them). */
  contact?: boolean;
}
export interface Take {
  lot: Lot;
  points: number;
  returned: number;
}
export interface OrderLine {
  sku: string;
  category: string | null;
  pay: Pay;
  quantity: number;
  amount: number;
  discount: number;
  points: number;
  cash: number;
  /** Issue 18: what the line's points paid above their value. */
  pointsDiscount: number;
  earned: number;
  refundedQty: number;
  refunded: { points: number; cash: number; earned: number };
}
export interface CouponBatch {
  /** Coupons one order line issued: interchangeable units. */
  orderNo: number;
  lineNo: number;
  memberId: string;
  terms: { value: number } | { percent: number };
  expiresOn: string;
  active: number;
  held: number;
  used: number;
  void: number;
}
export type OrderStatus = 'held' | 'paid' | 'partially_refunded' | 'refunded' | 'declined' | 'cancelled' | 'expired';
export interface Order {
  no: number;
  memberId: string;
  createdAt: number;
  expiresAt: number;
  status: OrderStatus;
  lines: OrderLine[];
  subtotal: number;
  discount: number;
  total: number;
  pointsUsed: number;
  pointsValue: number;
  /** Issue 18: Σ of the lines' points discounts (total = pointsValue + pointsDiscount + cashPaid). */
  pointsDiscount: number;
  cashPaid: number;
  pointsEarned: number;
  coupon: CouponBatch | null;
  takes: Take[];
  /** Issue 18: the one-time code of a checkout above verifyPointsAbove, else null. */
  code: null | { status: 'pending' | 'verified' | 'failed'; attempts: number };
}
export type Outcome = 'ok' | 'refused' | 'unknown';
export type PointsRequest = { kind: 'default' } | { kind: 'none' } | { kind: 'max' } | { kind: 'points'; points: number };
export interface CartLine {
  item: Item;
  quantity: number;
}
export interface ImportRow {
  orderId: string;
  memberId: string;
  at: number;
  sku: string;
  category: string | null;
  quantity: number;
  unitPrice: number;
}
export interface ImportSummary {
  rows: number;
  orders: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  review: number;
  capped: number;
  pointsAccrued: number;
  pointsReturned: number;
}
export interface ExpirySummary {
  lotsExpired: number;
  pointsExpired: number;
  members: number;
}
export interface RefundResult {
  lines: { sku: string; quantity: number; points: number; cash: number; earned: number }[];
  pointsReturned: number;
  cashRefunded: number;
  pointsTakenBack: number;
  complete: boolean;
}

interface Version {
  effectiveAt: number;
  seq: number;
  rules: Rules;
}

export class Spec4Model {
  members = new Map<string, Member>();
  versions: Version[] = [{ effectiveAt: -Infinity, seq: 0, rules: DEFAULT_RULES }];
  items = new Map<string, Item>();
  orders: Order[] = [];
  coupons: CouponBatch[] = [];
  /** (source, order id) → content of imported orders (accrued or in review). */
  imported = new Map<string, string>();
  /** Accrual credits (imports and checkouts), for the daily cap: member, credit time, points credited. */
  accruals: { memberId: string; at: number; points: number }[] = [];
  private lotSeq = 0;

  // ---- rules -----------------------------------------------------------------------------------
  applyRules(rules: Rules, effectiveAt: number, now: number): void {
    this.anyWrite(now);
    this.versions.push({ effectiveAt, seq: this.versions.length, rules });
  }
  /** §3: the latest effective time ≤ t; of equal ones, the one applied later. */
  rulesAt(t: number): Rules {
    let best = this.versions[0];
    for (const v of this.versions) if (v.effectiveAt <= t && (v.effectiveAt > best.effectiveAt || (v.effectiveAt === best.effectiveAt && v.seq > best.seq))) best = v;
    return best.rules;
  }
  expiryDate(e: Expiry, t: number): string | null {
    if (e.policy === 'never') return null;
    if (e.policy === 'rolling-days') return addDays(localDate(t), e.days);
    return `${Number(localDate(t).slice(0, 4)) + e.years}-12-31`;
  }

  // ---- members and lots ------------------------------------------------------------------------
  addMember(id: string, now: number): 'ok' | 'exists' {
    if (this.members.has(id)) return 'exists';
    this.anyWrite(now);
    this.members.set(id, { id, frozen: false, lots: [], debt: 0, lifetimeEarned: 0 });
    return 'ok';
  }
  setFrozen(id: string, frozen: boolean, now: number): Outcome {
    const m = this.members.get(id);
    if (!m) return 'unknown';
    if (m.frozen === frozen) return 'refused';
    this.anyWrite(now);
    m.frozen = frozen;
    return 'ok';
  }
  lapsed(l: Lot, now: number): boolean {
    return l.expiresOn !== null && l.expiresOn < localDate(now);
  }
  balance(m: Member): number {
    return m.lots.reduce((a, l) => a + l.remaining, 0) - m.debt;
  }
  held(m: Member): number {
    return m.lots.reduce((a, l) => a + l.reserved, 0);
  }
  /** §5 and §7: balance less open holds, less points that lapsed but are not posted yet. */
  available(m: Member, now: number): number {
    const lapsedFree = m.lots.filter((l) => this.lapsed(l, now)).reduce((a, l) => a + l.remaining - l.reserved, 0);
    return this.balance(m) - this.held(m) - lapsedFree;
  }
  /** Changes lifetimeEarned by delta at the valid time `at`. */
  earned(m: Member, delta: number, at: number): void {
    m.lifetimeEarned += delta;
    (m.earnedLog ??= []).push({ at, delta });
  }
  /** §4.1.3: lifetime earned points before an order at `t`: what the member has, less what came valid after t. */
  lifetimeBefore(m: Member, t: number): number {
    return m.lifetimeEarned - (m.earnedLog ?? []).filter((x) => x.at > t).reduce((a, x) => a + x.delta, 0);
  }
  /** The tier of the member's lifetime earned points (before `t`, when given). */
  tierOf(m: Member, rules: Rules, t?: number): Tier | null {
    const lifetime = t === undefined ? m.lifetimeEarned : this.lifetimeBefore(m, t);
    let best: Tier | null = null;
    for (const t of rules.tiers) if (t.minLifetimePoints <= lifetime && (!best || t.minLifetimePoints >= best.minLifetimePoints)) best = t;
    return best;
  }
  /** §4.4: earliest expiresOn first, never-expiring last, then oldest earned (then first created). */
  spendingOrder(m: Member): Lot[] {
    return [...m.lots].sort((a, b) => {
      if (a.expiresOn !== b.expiresOn) {
        if (a.expiresOn === null) return 1;
        if (b.expiresOn === null) return -1;
        return a.expiresOn < b.expiresOn ? -1 : 1;
      }
      return a.earnedAt - b.earnedAt || a.seq - b.seq;
    });
  }
  /** §4.6: a credit repays debt first; the rest becomes a lot. */
  credit(m: Member, points: number, at: number, expiresOn: string | null): void {
    const repaid = Math.min(m.debt, points);
    m.debt -= repaid;
    const rest = points - repaid;
    if (rest > 0) m.lots.push({ seq: ++this.lotSeq, points: rest, remaining: rest, reserved: 0, earnedAt: at, expiresOn });
  }
  /**
   * A take-back dated `at`: earliest-expiring live lots first (not lapsed on the take-back's
   * own date, §7 over §4.6; reserved points not); debt if short.
   */
  takeBack(m: Member, points: number, at: number): void {
    const day = localDate(at);
    let left = points;
    for (const l of this.spendingOrder(m)) {
      if (l.expiresOn !== null && l.expiresOn < day) continue;
      const t = Math.min(l.remaining - l.reserved, left);
      l.remaining -= t;
      left -= t;
    }
    m.debt += left;
  }
  /** Spending: spendable lots (not lapsed, not reserved) in spending order. The caller checked available. */
  spend(m: Member, points: number, now: number, reserve: boolean): Take[] {
    const takes: Take[] = [];
    let left = points;
    for (const l of this.spendingOrder(m)) {
      if (left === 0) break;
      if (this.lapsed(l, now)) continue;
      const t = Math.min(l.remaining - l.reserved, left);
      if (t <= 0) continue;
      if (reserve) l.reserved += t;
      else l.remaining -= t;
      left -= t;
      takes.push({ lot: l, points: t, returned: 0 });
    }
    if (left > 0) throw new Error(`model: spent ${points} with only ${points - left} spendable`);
    return takes;
  }

  adjust(id: string, points: number, now: number): Outcome {
    const m = this.members.get(id);
    if (!m) return 'unknown';
    // A refused command writes nothing, the release of lapsed holds included: decide on the state after it.
    const lapsedHolds = this.orders.filter((o) => o.status === 'held' && o.expiresAt <= now && o.memberId === id).reduce((a, o) => a + o.pointsUsed, 0);
    if (points < 0 && -points > this.available(m, now) + lapsedHolds) return 'refused';
    this.anyWrite(now);
    if (points > 0) this.credit(m, points, now, this.expiryDate(this.rulesAt(now).expiry, now));
    else this.spend(m, -points, now, false);
    return 'ok';
  }

  // ---- §4.1 earning ------------------------------------------------------------------------------
  multiplierOf(rules: Rules, sku: string, category: string | null, t: number): Decimal {
    const day = localDate(t);
    const active = (x: Multiplier) => (!x.from || x.from <= day) && (!x.to || day <= x.to);
    const bySku = rules.earn.multipliers.filter((x) => x.sku === sku && active(x));
    if (bySku.length) return bySku.map((x) => new Decimal(x.multiplier)).reduce((a, b) => Decimal.max(a, b));
    const byCat = rules.earn.multipliers.filter((x) => category !== null && x.category === category && active(x));
    if (byCat.length) return byCat.map((x) => new Decimal(x.multiplier)).reduce((a, b) => Decimal.max(a, b));
    return new Decimal(1);
  }
  round(raw: Decimal, r: Rounding): number {
    const mode = r === 'floor' ? Decimal.ROUND_FLOOR : r === 'ceil' ? Decimal.ROUND_CEIL : Decimal.ROUND_HALF_UP;
    return raw.toDecimalPlaces(0, mode).toNumber();
  }
  /**
   * §4.1 steps 2–4: points of an order (bases are the lines' earning bases, ≥ 0) before the daily cap.
   * A return (isReturn) skips minOrderAmount (§4.6).
   */
  orderPoints(m: Member, rules: Rules, lines: { sku: string; category: string | null; base: number }[], t: number, orderTotal: number, isReturn: boolean, tierNow = false): number {
    // an import's tier: of the lifetime points before its own date; a checkout's: of those at its capture (now)
    const tier = this.tierOf(m, rules, tierNow ? undefined : t);
    let raw = new Decimal(0);
    for (const x of lines) raw = raw.plus(new Decimal(x.base).div(10 ** DIGITS).times(rules.earn.pointsPerUnit).times(this.multiplierOf(rules, x.sku, x.category, t)));
    raw = raw.times(tier ? tier.multiplier : 1);
    let pts = this.round(raw, rules.earn.rounding);
    if (!isReturn && orderTotal < rules.earn.minOrderAmount) pts = 0;
    if (rules.earn.maxPointsPerOrder !== null) pts = Math.min(pts, rules.earn.maxPointsPerOrder);
    return pts;
  }
  /** §4.6: the cap counts accrual points credited per local day; returns do not free room. */
  capped(memberId: string, rules: Rules, pts: number, t: number): { credited: number; capped: number } {
    if (rules.dailyEarnCap === null) return { credited: pts, capped: 0 };
    const day = localDate(t);
    const today = this.accruals.filter((a) => a.memberId === memberId && localDate(a.at) === day).reduce((a, b) => a + b.points, 0);
    const credited = Math.max(0, Math.min(pts, rules.dailyEarnCap - today));
    return { credited, capped: pts - credited };
  }

  // ---- imports (§3 purchase import, §4.1, §4.6) ---------------------------------------------------
  private static content(lines: ImportRow[]): string {
    return JSON.stringify(lines.map((r) => [r.memberId, r.at, r.sku, r.category, r.quantity, r.unitPrice]));
  }

  importPurchases(source: string, rows: ImportRow[], now: number): ImportSummary {
    const s: ImportSummary = { rows: rows.length, orders: 0, accepted: 0, duplicates: 0, rejected: 0, review: 0, capped: 0, pointsAccrued: 0, pointsReturned: 0 };
    const byOrder = new Map<string, ImportRow[]>();
    for (const r of rows) byOrder.set(r.orderId, [...(byOrder.get(r.orderId) ?? []), r]);
    s.orders = byOrder.size;
    // A file whose every row is rejected (conflicts, unknown members) is an input error: nothing is
    // written, not even the release of lapsed holds that any other import does first.
    const rejected = (lines: ImportRow[]) => {
      const seen = this.imported.get(`${source}\u0000${lines[0].orderId}`);
      return seen !== undefined ? seen !== Spec4Model.content(lines) : !this.members.has(lines[0].memberId);
    };
    if (![...byOrder.values()].every(rejected)) this.anyWrite(now);
    // §4.6: orders apply in purchased_at order, ties by order id.
    const orders = [...byOrder.values()].sort((a, b) => a[0].at - b[0].at || (a[0].orderId < b[0].orderId ? -1 : a[0].orderId > b[0].orderId ? 1 : 0));
    for (const lines of orders) {
      const first = lines[0];
      const key = `${source}\u0000${first.orderId}`;
      const content = Spec4Model.content(lines);
      const seen = this.imported.get(key);
      if (seen !== undefined) {
        if (seen === content) s.duplicates++;
        else s.rejected += lines.length;
        continue;
      }
      const m = this.members.get(first.memberId);
      if (!m) {
        s.rejected += lines.length;
        continue;
      }
      this.imported.set(key, content);
      if (m.frozen) {
        s.review++;
        continue;
      }
      s.accepted++;
      const rules = this.rulesAt(first.at);
      const amount = lines.reduce((a, r) => a + r.quantity * r.unitPrice, 0);
      const parts = lines.map((r) => ({ sku: r.sku, category: r.category, base: Math.abs(r.quantity * r.unitPrice) }));
      if (amount < 0) {
        const pts = this.orderPoints(m, rules, parts, first.at, amount, true);
        this.takeBack(m, pts, first.at);
        this.earned(m, -pts, first.at);
        s.pointsReturned += pts;
      } else {
        const pts = this.orderPoints(m, rules, parts, first.at, amount, false);
        const c = this.capped(m.id, rules, pts, first.at);
        s.capped += c.capped;
        if (c.credited > 0) {
          this.credit(m, c.credited, first.at, this.expiryDate(rules.expiry, first.at));
          this.earned(m, c.credited, first.at);
          this.accruals.push({ memberId: m.id, at: first.at, points: c.credited });
          s.pointsAccrued += c.credited;
        }
      }
    }
    return s;
  }

  // ---- §4.2/§4.3 the split -----------------------------------------------------------------------
  /** §4.2: the smallest number of points worth whole minor units, and what it is worth. */
  step(rules: Rules): { step: number; stepValue: number } {
    const p = rules.redeem.pointsPerUnit;
    const scale = 10 ** DIGITS;
    let a = p;
    let b = scale;
    while (b) [a, b] = [b, a % b];
    const step = p / a;
    return { step, stepValue: (step * scale) / p };
  }

  /** The breakdown of a checkout now, or why it is refused. Reads only. */
  quote(memberId: string, cart: CartLine[], request: PointsRequest, coupon: CouponBatch | null, now: number): { outcome: Outcome; why?: string; order?: Omit<Order, 'no' | 'takes' | 'status' | 'pointsEarned' | 'expiresAt' | 'createdAt'> } {
    const m = this.members.get(memberId);
    if (!m) return { outcome: 'unknown' };
    if (m.frozen) return { outcome: 'refused', why: 'frozen' };
    const rules = this.rulesAt(now);
    const { step, stepValue } = this.step(rules);
    const amounts = cart.map((c) => c.item.price * c.quantity);
    const subtotal = amounts.reduce((a, b) => a + b, 0);
    // §4.6: a coupon discounts the money lines only, spread by gross amount.
    const moneyIdx = cart.map((c, i) => (c.item.pay === 'points' ? -1 : i)).filter((i) => i >= 0);
    const moneyBase = moneyIdx.reduce((a, i) => a + amounts[i], 0);
    const discounts = cart.map(() => 0);
    let discount = 0;
    if (coupon) {
      if (coupon.memberId !== memberId || coupon.active === 0 || coupon.expiresOn < localDate(now)) return { outcome: 'refused', why: 'coupon' };
      if (moneyBase === 0) return { outcome: 'refused', why: 'coupon on points lines only' };
      discount = 'value' in coupon.terms ? Math.min(coupon.terms.value, moneyBase) : new Decimal(moneyBase).times(coupon.terms.percent).div(100).floor().toNumber();
      largestRemainder(discount, moneyIdx.map((i) => amounts[i])).forEach((d, k) => (discounts[moneyIdx[k]] = d));
    }
    const total = subtotal - discount;
    const maxRatio = new Decimal(rules.redeem.maxRatio);
    const cover = cart.map((c, i) => {
      if (c.item.pay !== 'mixed') return 0;
      const own = c.item.maxPointsRatio === null ? maxRatio : Decimal.min(maxRatio, new Decimal(c.item.maxPointsRatio));
      const pays = new Decimal(amounts[i] - discounts[i]).times(own).floor().toNumber();
      return c.item.pointsDiscount ? faceCapOf(pays, c.item.pointsDiscount) : pays; // issue 18
    });
    // A points line takes its --points-price, else its price at the redeem rate in whole steps, a unit at a time.
    const required = cart.map((c) => (c.item.pay !== 'points' ? 0 : (c.item.pointsPrice ?? Math.ceil(c.item.price / stepValue) * step) * c.quantity));
    const need = required.reduce((a, b) => a + b, 0);
    // §4.2/§4.3: whole steps on each mixed line, within what it lets points pay
    const holds = cover.map((c) => Math.floor(c / stepValue));
    const maxSteps = holds.reduce((a, b) => a + b, 0);
    const available = Math.max(0, this.available(m, now));
    if (need > 0 && (request.kind === 'none' || need > available)) return { outcome: 'refused', why: 'points lines not covered' };
    let mixedSteps = 0;
    if (request.kind === 'max') {
      mixedSteps = Math.min(maxSteps, Math.floor((available - need) / step));
      if ((MIN_POINTS_ON === 'mixed part' ? 0 : need) + mixedSteps * step < rules.redeem.minPoints) mixedSteps = 0;
    } else if (request.kind === 'points') {
      // §4.3 / §7: used exactly or refused (whole steps, ≥ minPoints, ≤ available, ≤ what the lines take).
      const mixed = request.points - need;
      const belowMin = mixed > 0 && (MIN_POINTS_ON === 'mixed part' ? mixed : request.points) < rules.redeem.minPoints;
      if (mixed < 0 || mixed % step !== 0 || mixed > maxSteps * step || request.points > available || belowMin) return { outcome: 'refused', why: 'points request not met exactly' };
      mixedSteps = mixed / step;
    }
    // §4.5: points lines carry their points, cash lines none, the mixed part spread in whole steps.
    const spread = boundedShares(mixedSteps, cover, holds);
    const lines: OrderLine[] = cart.map((c, i) => {
      const net = amounts[i] - discounts[i];
      const points = c.item.pay === 'points' ? required[i] : c.item.pay === 'mixed' ? spread[i] * step : 0;
      const value = c.item.pay === 'points' ? net : c.item.pay === 'mixed' ? spread[i] * stepValue : 0;
      const extra = c.item.pay === 'mixed' && c.item.pointsDiscount ? discountedPay(value, c.item.pointsDiscount) - value : 0; // issue 18
      return { sku: c.item.sku, category: c.item.category, pay: c.item.pay, quantity: c.quantity, amount: amounts[i], discount: discounts[i], points, cash: net - value - extra, pointsDiscount: extra, earned: 0, refundedQty: 0, refunded: { points: 0, cash: 0, earned: 0 } };
    });
    const pointsUsed = lines.reduce((a, l) => a + l.points, 0);
    const cashPaid = lines.reduce((a, l) => a + l.cash, 0);
    const pointsDiscount = lines.reduce((a, l) => a + l.pointsDiscount, 0);
    return { outcome: 'ok', order: { memberId, lines, subtotal, discount, total, pointsUsed, pointsValue: total - cashPaid - pointsDiscount, pointsDiscount, cashPaid, coupon, code: null } };
  }

  // ---- checkout: hold, then capture or release -------------------------------------------------
  anyWrite(now: number): void {
    for (const o of this.orders) if (o.status === 'held' && o.expiresAt <= now) this.release(o, 'expired');
  }
  private release(o: Order, why: 'declined' | 'cancelled' | 'expired'): void {
    // §4.6: released points repay a debt first (a take-back while the hold had them), with the points the
    // hold took first; only the rest stays in the lots.
    const m = this.members.get(o.memberId)!;
    let repay = Math.min(m.debt, o.takes.reduce((a, t) => a + t.points, 0));
    m.debt -= repay;
    for (const t of o.takes) {
      t.lot.reserved -= t.points;
      const cut = Math.min(repay, t.points);
      repay -= cut;
      t.lot.remaining -= cut;
    }
    if (o.coupon) {
      o.coupon.held--;
      o.coupon.active++;
    }
    o.status = why;
  }
  start(memberId: string, cart: CartLine[], request: PointsRequest, coupon: CouponBatch | null, now: number, oneShot = false): { outcome: Outcome; why?: string; order?: Order } {
    this.anyWrite(now); // the sweep runs before the checkout's own transaction, and stays
    const q = this.quote(memberId, cart, request, coupon, now);
    if (q.outcome !== 'ok') return { outcome: q.outcome, why: q.why };
    const m = this.members.get(memberId)!;
    // issue 18: above verifyPointsAbove a code is needed: none for a member it cannot reach, none one-shot.
    const threshold = this.rulesAt(now).verifyPointsAbove ?? null;
    const needsCode = threshold !== null && q.order!.pointsUsed > threshold;
    if (needsCode && (!m.contact || oneShot)) return { outcome: 'refused', why: 'verification' };
    const takes = this.spend(m, q.order!.pointsUsed, now, true);
    if (coupon) {
      coupon.active--;
      coupon.held++;
    }
    const o: Order = { ...q.order!, no: this.orders.length, createdAt: now, expiresAt: now + HOLD_MS, status: 'held', pointsEarned: 0, takes, code: needsCode ? { status: 'pending', attempts: 0 } : null };
    this.orders.push(o);
    return { outcome: 'ok', order: o };
  }
  confirm(o: Order, decline: boolean, now: number, code: 'right' | 'wrong' | 'none' = 'right'): Outcome {
    this.anyWrite(now);
    // a captured checkout: its first result again, but a decline (or another tender) is not what was done
    if (o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded') return decline ? 'refused' : 'ok';
    if (o.status !== 'held') return 'refused';
    // issue 18: a pending code is checked first; no code is an input error, the third wrong one voids the hold.
    if (o.code?.status === 'pending') {
      if (code === 'none') return 'unknown';
      if (code === 'wrong') {
        o.code.attempts++;
        if (o.code.attempts >= 3) {
          o.code.status = 'failed';
          this.release(o, 'cancelled');
        }
        return 'refused';
      }
      o.code.status = 'verified';
    }
    if (decline) {
      this.release(o, 'declined');
      return 'refused';
    }
    this.capture(o, now);
    return 'ok';
  }
  cancel(o: Order, now: number): Outcome {
    this.anyWrite(now);
    if (o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded') return 'refused';
    if (o.status === 'held') this.release(o, 'cancelled');
    return 'ok';
  }
  checkout(memberId: string, cart: CartLine[], request: PointsRequest, coupon: CouponBatch | null, decline: boolean, now: number): { outcome: Outcome; why?: string; order?: Order } {
    const s = this.start(memberId, cart, request, coupon, now, true);
    if (s.outcome !== 'ok') return s;
    const c = this.confirm(s.order!, decline, now);
    return { outcome: c, order: s.order };
  }
  private capture(o: Order, now: number): void {
    const m = this.members.get(o.memberId)!;
    for (const t of o.takes) {
      t.lot.reserved -= t.points;
      t.lot.remaining -= t.points;
    }
    if (o.coupon) {
      o.coupon.held--;
      o.coupon.used++;
    }
    // §4.1.5: the cash paid spread over the lines by amount, each with its multiplier; rules of the order's time.
    const rules = this.rulesAt(o.createdAt);
    const bases = largestRemainder(o.cashPaid, o.lines.map((l) => l.amount));
    const pts = this.orderPoints(m, rules, o.lines.map((l, i) => ({ sku: l.sku, category: l.category, base: bases[i] })), o.createdAt, o.total, false, true);
    const { credited } = this.capped(m.id, rules, pts, o.createdAt);
    if (credited > 0) {
      this.credit(m, credited, now, this.expiryDate(rules.expiry, now));
      this.earned(m, credited, now);
      this.accruals.push({ memberId: m.id, at: now, points: credited });
    }
    o.pointsEarned = credited;
    largestRemainder(credited, o.lines.map((l) => l.cash)).forEach((e, i) => (o.lines[i].earned = e));
    o.status = 'paid';
    o.lines.forEach((l, i) => {
      const item = this.items.get(l.sku)!;
      if (!item.coupon) return;
      this.coupons.push({ orderNo: o.no, lineNo: i + 1, memberId: m.id, terms: item.coupon, expiresOn: addDays(localDate(now), item.couponDays), active: l.quantity, held: 0, used: 0, void: 0 });
    });
  }

  // ---- §4.5 refunds ------------------------------------------------------------------------------
  refund(o: Order, request: { sku: string; quantity?: number }[] | null, now: number): { outcome: Outcome; result?: RefundResult } {
    // Like the checkout commands, a refund releases lapsed holds before it looks at the order, refused or not.
    this.anyWrite(now);
    if (o.status !== 'paid' && o.status !== 'partially_refunded' && o.status !== 'refunded') return { outcome: 'refused' };
    const want = o.lines.map(() => 0);
    if (request === null) o.lines.forEach((l, i) => (want[i] = l.quantity - l.refundedQty));
    else
      for (const r of request) {
        const i = o.lines.findIndex((l) => l.sku === r.sku);
        if (i < 0) return { outcome: 'unknown' };
        const left = o.lines[i].quantity - o.lines[i].refundedQty - want[i];
        const q = r.quantity ?? left;
        if (q > left || q <= 0) return { outcome: 'refused' };
        want[i] += q;
      }
    if (want.every((w) => w === 0)) return { outcome: 'refused' };
    // A coupon line gives back unused coupons only.
    for (let i = 0; i < o.lines.length; i++) {
      const b = this.coupons.find((c) => c.orderNo === o.no && c.lineNo === i + 1);
      if (b && want[i] > b.active) return { outcome: 'refused' };
    }
    const m = this.members.get(o.memberId)!;
    const res: RefundResult = { lines: [], pointsReturned: 0, cashRefunded: 0, pointsTakenBack: 0, complete: false };
    o.lines.forEach((l, i) => {
      if (!want[i]) return;
      const after = l.refundedQty + want[i];
      const part = (whole: number, done: number) => (after === l.quantity ? whole : Math.floor((whole * after) / l.quantity)) - done;
      const p = { sku: l.sku, quantity: want[i], points: part(l.points, l.refunded.points), cash: part(l.cash, l.refunded.cash), earned: part(l.earned, l.refunded.earned) };
      l.refundedQty = after;
      l.refunded.points += p.points;
      l.refunded.cash += p.cash;
      l.refunded.earned += p.earned;
      res.lines.push(p);
      res.pointsReturned += p.points;
      res.cashRefunded += p.cash;
      res.pointsTakenBack += p.earned;
      const b = this.coupons.find((c) => c.orderNo === o.no && c.lineNo === i + 1);
      if (b) {
        b.active -= want[i];
        b.void += want[i];
      }
    });
    // Points back to the lots they came from, the last taken first; then the earned points taken back.
    // A member in debt is repaid first (§4.6: a credit of any kind repays debt first), with the points that
    // would have gone back last (the first taken): only the rest goes back into lots.
    let repay = Math.min(m.debt, res.pointsReturned);
    m.debt -= repay;
    const back: { t: (typeof o.takes)[number]; n: number }[] = [];
    let left = res.pointsReturned;
    for (let k = o.takes.length - 1; k >= 0 && left > 0; k--) {
      const t = o.takes[k];
      const n = Math.min(t.points - t.returned, left);
      t.returned += n;
      back.push({ t, n });
      left -= n;
    }
    if (left > 0) throw new Error('model: refund returned more points than the order took');
    for (let k = back.length - 1; k >= 0; k--) {
      const cut = Math.min(repay, back[k].n);
      repay -= cut;
      back[k].t.lot.remaining += back[k].n - cut;
    }
    if (res.pointsTakenBack > 0) {
      this.takeBack(m, res.pointsTakenBack, now);
      this.earned(m, -res.pointsTakenBack, now);
    }
    res.complete = o.lines.every((l) => l.refundedQty === l.quantity);
    o.status = res.complete ? 'refunded' : 'partially_refunded';
    // The refund that completes the order gives back the coupon it used (a fully refunded order nets to zero).
    if (res.complete && o.coupon) {
      o.coupon.used--;
      o.coupon.active++;
    }
    return { outcome: 'ok', result: res };
  }

  // ---- §4.4 expiry -------------------------------------------------------------------------------
  expire(asOf: string, dryRun: boolean, now: number): ExpirySummary {
    if (!dryRun) this.anyWrite(now);
    const s: ExpirySummary = { lotsExpired: 0, pointsExpired: 0, members: 0 };
    for (const m of this.members.values()) {
      let touched = false;
      for (const l of m.lots) {
        const free = l.remaining - l.reserved;
        if (free > 0 && l.expiresOn !== null && l.expiresOn < asOf) {
          s.lotsExpired++;
          s.pointsExpired += free;
          if (!dryRun) l.remaining -= free;
          touched = true;
        }
      }
      if (touched) s.members++;
    }
    return s;
  }

  // ---- reports -----------------------------------------------------------------------------------
  /**
   * report liability as of today: the points members can still spend (in lots not lapsed, held ones included) by expiry month,
   * and the outstanding points with their value — the points held (`gross`: a member's debt is not netted
   * against another's points) or the sum of balances (`net`); the SPEC does not say which, so both.
   */
  liability(now: number, basis: 'gross' | 'net'): { outstandingPoints: number; value: string; byExpiryMonth: { month: string | null; points: number }[] } {
    let outstanding = 0;
    const byMonth = new Map<string | null, number>();
    for (const m of this.members.values()) {
      outstanding += basis === 'net' ? this.balance(m) : this.balance(m) + m.debt;
      for (const l of m.lots) {
        // §7: a lapsed lot no run has posted is owed to nobody: not in the gross outstanding nor its month
        if (this.lapsed(l, now)) {
          if (basis === 'gross') outstanding -= l.remaining;
          continue;
        }
        const k = l.expiresOn === null ? null : l.expiresOn.slice(0, 7);
        byMonth.set(k, (byMonth.get(k) ?? 0) + l.remaining);
      }
    }
    const rate = this.rulesAt(startOfLocalDay(addDays(localDate(now), 1)) - 1).redeem.pointsPerUnit;
    const byExpiryMonth = [...byMonth]
      .filter(([, p]) => p !== 0)
      .map(([month, points]) => ({ month, points }))
      .sort((a, b) => (a.month === b.month ? 0 : a.month === null ? 1 : b.month === null ? -1 : a.month < b.month ? -1 : 1));
    return { outstandingPoints: outstanding, value: money(Math.floor((outstanding * 10 ** DIGITS) / rate)), byExpiryMonth };
  }
}

// ---- issue 18: points discounts ------------------------------------------------------------------
/** What points worth `value` (minor units) pay on a line discounted `pct` percent: floor(value × 100 / (100 − pct)). */
export function discountedPay(value: number, pct: string): number {
  return new Decimal(value).times(100).div(new Decimal(100).minus(pct)).floor().toNumber();
}
/** The most value the points may have on a line whose points may pay `pays`: the largest v with discountedPay(v) ≤ pays. */
export function faceCapOf(pays: number, pct: string): number {
  let v = new Decimal(pays).times(new Decimal(100).minus(pct)).div(100).floor().toNumber();
  while (discountedPay(v + 1, pct) <= pays) v++;
  while (v > 0 && discountedPay(v, pct) > pays) v--;
  return v;
}
