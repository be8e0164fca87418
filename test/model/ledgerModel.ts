// A small, obviously-correct reference model of the points ledger (SPEC §3, §4, §5), written from the
// spec alone: no import from src/. Plain arrays and integers; every rule is spelled out where it is used.
// The ledger's zone is fixed to Asia/Shanghai (UTC+8, no DST), so local dates are a fixed shift.

export const ZONE_OFFSET_MS = 8 * 3600_000;
export const DAY_MS = 86_400_000;

/** YYYY-MM-DD of an instant in the ledger zone (UTC+8). */
export function localDate(ms: number): string {
  return new Date(ms + ZONE_OFFSET_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Midnight of a local date, as a UTC instant. */
export function startOfLocalDay(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d) - ZONE_OFFSET_MS;
}

export type Expiry = { policy: 'rolling-days'; days: number } | { policy: 'end-of-year'; years: number } | { policy: 'never' };

export interface RulesVersion {
  effectiveAt: number; // UTC ms
  seq: number; // order applied
  earnPerUnit: number; // whole points per currency unit (integer in the model)
  expiry: Expiry;
}

/** An activity of a rules version (issue 18). */
export interface ActivityDef {
  name: string;
  points: number;
  once?: boolean;
  maxPerDay?: number;
}

export interface Lot {
  seq: number; // creation order
  points: number;
  remaining: number;
  earnedAt: number; // UTC ms
  expiresOn: string | null;
  /** Points expiry runs expired of it, less what take-backs reopened of it. */
  expired?: number;
}

export interface Member {
  id: string;
  frozen: boolean;
  lots: Lot[];
  held: number;
  debt: number;
  lifetimeEarned: number;
}

export interface MemberState {
  balance: number;
  held: number;
  available: number;
  lots: { points: number; remaining: number; expiresOn: string | null }[];
}

export interface Purchase {
  orderId: string;
  memberId: string;
  purchasedAt: number; // UTC ms
  amountFen: number; // signed; negative = a return
  source: string;
}

export interface ImportSummary {
  accepted: number;
  duplicates: number;
  rejected: number;
  review: number;
  pointsAccrued: number;
  pointsReturned: number;
}

export interface ExpirySummary {
  lotsExpired: number;
  pointsExpired: number;
  members: number;
}

export interface Item {
  sku: string;
  priceFen: number;
  pay: 'mixed' | 'cash';
  /** Share of a mixed line points may cover (the rules' maxRatio is 1). */
  ratio: number;
}

export type PointsAsk = { kind: 'points'; points: number } | { kind: 'max' } | { kind: 'none' };

export interface Order {
  id: number;
  memberId: string;
  used: number;
  earned: number;
  takes: { lot: Lot; points: number }[];
  refunded: boolean;
}

/** A two-step checkout: its points are held (taken from the lots) until confirmed, cancelled or lapsed. */
export interface Pending {
  memberId: string;
  used: number;
  cashFen: number;
  createdAt: number;
  expiresAt: number;
  takes: { lot: Lot; points: number }[];
  status: 'held' | 'paid' | 'declined' | 'cancelled' | 'expired';
  order?: Order;
}

export const HOLD_MS = 15 * 60_000;

export interface CheckoutOutcome {
  outcome: 'ok' | 'refused' | 'unknown';
  order?: Order;
  pointsUsed?: number;
  cashPaidFen?: number;
  pointsEarned?: number;
}

export class LedgerModel {
  members = new Map<string, Member>();
  rules: RulesVersion[] = [{ effectiveAt: -Infinity, seq: 0, earnPerUnit: 1, expiry: { policy: 'rolling-days', days: 365 } }];
  /** (source, orderId) → content fingerprint of imported orders, accrued or waiting in review. */
  orders = new Map<string, string>();
  private lotSeq = 0;
  /**
   * Reported bugs the real ledger still has, mirrored here only so random runs can keep exploring past
   * them; each one has a failing regression test in test/reliability/seeds.test.ts.
   */
  knownBugs = new Set<string>();
  ordersPaid: Order[] = [];
  totals = { issued: 0, returned: 0, adjustedIn: 0, adjustedOut: 0, expired: 0, redeemed: 0 };

  // ---- rules -------------------------------------------------------------------------------------
  applyRules(effectiveAt: number, earnPerUnit: number, expiry: Expiry, now?: number): void {
    if (now !== undefined) this.anyWrite(now);
    this.rules.push({ effectiveAt, seq: this.rules.length, earnPerUnit, expiry });
  }

  /** In force at t: the latest effectiveAt ≤ t; of equal ones, the one applied later. */
  rulesAt(t: number): RulesVersion {
    let best = this.rules[0];
    for (const r of this.rules) if (r.effectiveAt <= t && (r.effectiveAt > best.effectiveAt || (r.effectiveAt === best.effectiveAt && r.seq > best.seq))) best = r;
    return best;
  }

  expiresOn(t: number): string | null {
    return this.expiryDate(this.rulesAt(t).expiry, t);
  }

  expiryDate(e: Expiry, t: number): string | null {
    if (e.policy === 'never') return null;
    if (e.policy === 'rolling-days') return addDays(localDate(t), e.days);
    return `${Number(localDate(t).slice(0, 4)) + e.years}-12-31`;
  }

  // ---- members -----------------------------------------------------------------------------------
  addMember(id: string, now?: number): 'ok' | 'exists' {
    if (this.members.has(id)) return 'exists';
    if (now !== undefined) this.anyWrite(now);
    this.members.set(id, { id, frozen: false, lots: [], held: 0, debt: 0, lifetimeEarned: 0 });
    return 'ok';
  }

  setFrozen(id: string, frozen: boolean, now?: number): 'ok' | 'refused' | 'unknown' {
    const m = this.members.get(id);
    if (!m) return 'unknown';
    if (m.frozen === frozen) return 'refused';
    if (now !== undefined) this.anyWrite(now);
    m.frozen = frozen;
    return 'ok';
  }

  balance(m: Member): number {
    return m.lots.reduce((a, l) => a + l.remaining, 0) + m.held - m.debt;
  }

  /** SPEC §7: a lot is spendable through its expiresOn (a local date) and not after, expiry run or not. */
  lapsed(l: Lot, now: number): boolean {
    return l.expiresOn !== null && l.expiresOn < localDate(now);
  }

  /** SPEC §5, §7: balance less open holds, less the free points of lapsed lots no run has posted yet. */
  available(m: Member, now: number): number {
    const lapsed = m.lots.filter((l) => this.lapsed(l, now)).reduce((a, l) => a + l.remaining, 0);
    return this.balance(m) - m.held - lapsed;
  }

  /** Points open holds reserved in a lot (SPEC §5: held points stay counted in their lots until capture). */
  private reserved(l: Lot): number {
    let n = 0;
    for (const p of this.pending) if (p.status === 'held') for (const t of p.takes) if (t.lot === l) n += t.points;
    return n;
  }

  state(id: string, now: number): MemberState {
    const m = this.members.get(id)!;
    // a hold that ran out holds nothing in a read, released or not yet: its points are free again, or
    // lapsed where their lot has lapsed (as checkout quote counts them)
    let ranOut = 0;
    let ranOutLapsed = 0;
    for (const p of this.pending) {
      if (p.status !== 'held' || p.expiresAt > now || p.memberId !== id) continue;
      ranOut += p.used;
      for (const t of p.takes) if (this.lapsed(t.lot, now)) ranOutLapsed += t.points;
    }
    return {
      balance: this.balance(m),
      held: m.held - ranOut,
      available: this.available(m, now) + ranOut - ranOutLapsed,
      lots: this.spendingOrder(m)
        .map((l) => ({ points: l.points, remaining: l.remaining + this.reserved(l), expiresOn: l.expiresOn }))
        .filter((l) => l.remaining > 0),
    };
  }

  /** §4.4: earliest expiresOn first, never-expiring last, then oldest earned, then first created. */
  spendingOrder(m: Member): Lot[] {
    return [...m.lots].sort((a, b) => {
      if (a.expiresOn !== b.expiresOn) {
        if (a.expiresOn === null) return 1;
        if (b.expiresOn === null) return -1;
        return a.expiresOn < b.expiresOn ? -1 : 1;
      }
      if (a.earnedAt !== b.earnedAt) return a.earnedAt - b.earnedAt;
      return a.seq - b.seq;
    });
  }

  /** A credit repays debt first; the rest becomes a lot. */
  credit(m: Member, points: number, at: number): void {
    const repaid = Math.min(m.debt, points);
    m.debt -= repaid;
    const rest = points - repaid;
    if (rest > 0) m.lots.push({ seq: ++this.lotSeq, points: rest, remaining: rest, earnedAt: at, expiresOn: this.expiresOn(at) });
  }

  /**
   * A take-back (a return, a refund's earned points) dated `at`: takes points in spending
   * order from live lots only (SPEC §7 "Expired is expired" over §4.6: not lapsed on the take-back's
   * own date, so the same whether or not an expiry run came first); what they cannot cover becomes debt.
   * Of a lot live on that date that an expiry run has expired since, the take reaches what expired too
   * (reopened: taken from `expired`, not from the member), as it would have before the run.
   */
  debit(m: Member, points: number, at: number): void {
    const day = localDate(at);
    let left = points;
    for (const l of this.spendingOrder(m)) {
      if (left === 0) break;
      if (l.expiresOn !== null && l.expiresOn < day) continue;
      const t = Math.min(l.remaining, left);
      l.remaining -= t;
      left -= t;
      const r = Math.min(l.expired ?? 0, left);
      if (r > 0) {
        l.expired = (l.expired ?? 0) - r;
        this.totals.expired -= r;
        left -= r;
      }
    }
    m.debt += left;
  }

  /** member adjust: a credit makes a lot dated now; a debit may not exceed available (exit 3). */
  adjust(id: string, points: number, now: number): 'ok' | 'refused' | 'unknown' {
    const m = this.members.get(id);
    if (!m) return 'unknown';
    // A refused command writes nothing, not even the release of lapsed holds (it is rolled back with it).
    const lapsed = this.pending.filter((p) => p.status === 'held' && p.expiresAt <= now && p.memberId === id).reduce((a, p) => a + p.used, 0);
    if (points < 0 && -points > this.available(m, now) + lapsed) return 'refused';
    this.anyWrite(now);
    if (points > 0) {
      this.credit(m, points, now);
      this.totals.adjustedIn += points;
    } else {
      if (-points > this.available(m, now)) return 'refused';
      this.take(m, -points, now); // a spend: never from a lapsed lot
      this.totals.adjustedOut += -points;
    }
    return 'ok';
  }

  // ---- accrual -----------------------------------------------------------------------------------
  /** §4.1 with one line per order, no multipliers or tiers: floor(amount × pointsPerUnit). */
  earned(amountFen: number, t: number): number {
    return Math.floor((Math.abs(amountFen) * this.rulesAt(t).earnPerUnit) / 100);
  }

  importPurchases(rows: Purchase[], now: number): ImportSummary {
    this.anyWrite(now);
    const s: ImportSummary = { accepted: 0, duplicates: 0, rejected: 0, review: 0, pointsAccrued: 0, pointsReturned: 0 };
    // In one file the first row of an order id is the order; a later row with the same content is a
    // duplicate; rows of one order id that differ (another member, time or amount) make the whole order
    // bad (every row rejected). Orders then accrue chronologically (tiers and daily caps see earlier
    // purchases first), ties by order id.
    const byKey = new Map<string, { p: Purchase; i: number }[]>();
    rows.forEach((p, i) => {
      const key = `${p.source}\u0000${p.orderId}`;
      const list = byKey.get(key);
      if (list) list.push({ p, i });
      else byKey.set(key, [{ p, i }]);
    });
    const firsts: { p: Purchase; i: number }[] = [];
    for (const list of byKey.values()) {
      const first = list[0].p;
      if (list.some((x) => x.p.memberId !== first.memberId || x.p.purchasedAt !== first.purchasedAt || x.p.amountFen !== first.amountFen)) {
        s.rejected += list.length;
        continue;
      }
      firsts.push(list[0]);
      s.duplicates += list.length - 1;
    }
    const ordered = firsts.sort((a, b) => a.p.purchasedAt - b.p.purchasedAt || (a.p.orderId < b.p.orderId ? -1 : a.p.orderId > b.p.orderId ? 1 : 0) || a.i - b.i);
    for (const { p } of ordered) {
      const m = this.members.get(p.memberId);
      if (!m) {
        s.rejected++;
        continue;
      }
      const key = `${p.source}\u0000${p.orderId}`;
      const content = `${p.memberId}|${p.purchasedAt}|${p.amountFen}`;
      const seen = this.orders.get(key);
      if (seen !== undefined) {
        if (seen === content) s.duplicates++;
        else s.rejected++;
        continue;
      }
      this.orders.set(key, content);
      if (m.frozen) {
        // every order of a frozen member waits in review, returns included
        s.review++;
        continue;
      }
      s.accepted++;
      const pts = this.earned(p.amountFen, p.purchasedAt);
      if (pts === 0) continue;
      if (p.amountFen > 0) {
        this.credit(m, pts, p.purchasedAt);
        m.lifetimeEarned += pts;
        s.pointsAccrued += pts;
        this.totals.issued += pts;
      } else {
        this.debit(m, pts, p.purchasedAt);
        s.pointsReturned += pts;
        this.totals.returned += pts;
      }
    }
    return s;
  }

  // ---- checkout (§4.3, default redeem rules: 100 points per unit, so 1 point = 1 fen) -------------
  /**
   * One-shot checkout. --max-points uses min(available, coverable); an explicit --points is used exactly,
   * or refused (exit 3) when it asks for more than available or than the lines can cover, as is a
   * frozen member or a declined payment (nothing moves). Earned = floor(cash × earnPerUnit).
   */
  checkout(memberId: string, lines: { item: Item; quantity: number }[], ask: PointsAsk, decline: boolean, now: number): CheckoutOutcome {
    const q = this.quote(memberId, lines, ask, now);
    if (q.outcome !== 'ok') return { outcome: q.outcome };
    if (decline) return { outcome: 'refused' };
    const m = this.members.get(memberId)!;
    const takes = this.take(m, q.used, now);
    const order = this.capture(m, q.used, q.total - q.used, takes, now, now);
    return { outcome: 'ok', order, pointsUsed: q.used, cashPaidFen: q.total - q.used, pointsEarned: order.earned };
  }

  /** Takes points from the lots in spending order, remembering which lots gave them. */
  private take(m: Member, points: number, now: number): { lot: Lot; points: number }[] {
    const takes: { lot: Lot; points: number }[] = [];
    let left = points;
    for (const l of this.spendingOrder(m)) {
      if (left === 0) break;
      if (this.lapsed(l, now)) continue;
      const t = Math.min(l.remaining, left);
      if (t === 0) continue;
      l.remaining -= t;
      left -= t;
      takes.push({ lot: l, points: t });
    }
    return takes;
  }

  /** Points redeemed, and points earned on the cash part with the rules of the order's creation, dated now. */
  private capture(m: Member, used: number, cashFen: number, takes: { lot: Lot; points: number }[], createdAt: number, now: number): Order {
    const rules = this.rulesAt(createdAt);
    const earned = Math.floor((cashFen * rules.earnPerUnit) / 100);
    if (earned > 0) {
      const repaid = Math.min(m.debt, earned);
      m.debt -= repaid;
      const rest = earned - repaid;
      if (rest > 0) m.lots.push({ seq: ++this.lotSeq, points: rest, remaining: rest, earnedAt: now, expiresOn: this.expiryDate(rules.expiry, now) });
      m.lifetimeEarned += earned;
      this.totals.issued += earned;
    }
    this.totals.redeemed += used;
    const order: Order = { id: this.ordersPaid.length, memberId: m.id, used, earned, takes, refunded: false };
    this.ordersPaid.push(order);
    return order;
  }

  // ---- two-step checkout and holds (15 minutes) ---------------------------------------------------
  pending: Pending[] = [];

  /** SPEC: a lapsed hold is released (points back to their lots) by the next write, whatever the command. */
  anyWrite(now: number): void {
    if (!this.knownBugs.has('lapsed-hold-kept-by-non-checkout-writes')) this.releaseLapsedHolds(now);
  }

  releaseLapsedHolds(now: number): void {
    for (const p of this.pending) if (p.status === 'held' && p.expiresAt <= now) this.release(p, 'expired');
  }

  private release(p: Pending, why: 'declined' | 'cancelled' | 'expired'): void {
    const m = this.members.get(p.memberId)!;
    // §4.6: released points repay a debt first (a take-back while the hold had them), with the points the
    // hold took first; only the rest goes back to the lots.
    let repay = Math.min(m.debt, p.used);
    m.debt -= repay;
    for (const t of p.takes) {
      const cut = Math.min(repay, t.points);
      repay -= cut;
      t.lot.remaining += t.points - cut;
    }
    m.held -= p.used;
    p.status = why;
  }

  start(memberId: string, lines: { item: Item; quantity: number }[], ask: PointsAsk, now: number): { outcome: 'ok' | 'refused' | 'unknown'; pending?: Pending } {
    // The same choice of points as a one-shot checkout, without its payment.
    const q = this.quote(memberId, lines, ask, now);
    if (q.outcome !== 'ok') return { outcome: q.outcome };
    const m = this.members.get(memberId)!;
    const takes = this.take(m, q.used, now);
    m.held += q.used;
    const p: Pending = { memberId, used: q.used, cashFen: q.total - q.used, createdAt: now, expiresAt: now + HOLD_MS, takes, status: 'held' };
    this.pending.push(p);
    return { outcome: 'ok', pending: p };
  }

  confirm(p: Pending, decline: boolean, now: number): 'ok' | 'refused' {
    this.releaseLapsedHolds(now);
    if (p.status === 'paid') return decline ? 'refused' : 'ok'; // a retry gets the first result; a decline is not what was done
    if (p.status !== 'held') return 'refused';
    if (decline) {
      this.release(p, 'declined');
      return 'refused';
    }
    const m = this.members.get(p.memberId)!;
    m.held -= p.used;
    p.status = 'paid';
    p.order = this.capture(m, p.used, p.cashFen, p.takes, p.createdAt, now);
    return 'ok';
  }

  cancel(p: Pending, now: number): 'ok' | 'refused' {
    this.releaseLapsedHolds(now);
    if (p.status === 'paid') return 'refused';
    if (p.status === 'held') this.release(p, 'cancelled');
    return 'ok';
  }

  /** Points a checkout would use (the rules of §4.3 above), or why it is refused. */
  quote(memberId: string, lines: { item: Item; quantity: number }[], ask: PointsAsk, now: number): { outcome: 'ok' | 'refused' | 'unknown'; used: number; total: number } {
    this.releaseLapsedHolds(now);
    const m = this.members.get(memberId);
    if (!m) return { outcome: 'unknown', used: 0, total: 0 };
    if (m.frozen) return { outcome: 'refused', used: 0, total: 0 };
    let total = 0;
    let coverable = 0;
    for (const l of lines) {
      const amount = l.item.priceFen * l.quantity;
      total += amount;
      if (l.item.pay === 'mixed') coverable += Math.floor(amount * l.item.ratio);
    }
    const available = Math.max(0, this.available(m, now));
    let used: number;
    if (ask.kind === 'none') used = 0;
    else if (ask.kind === 'max') used = Math.min(available, coverable);
    else {
      if (this.knownBugs.has('debt-refuses-points-request') && this.available(m, now) < 0 && Math.min(ask.points, coverable) > this.available(m, now)) return { outcome: 'refused', used: 0, total };
      // SPEC §4.3 as revised: --points N is used exactly or refused (more than the lines take, or than available).
      if (ask.points > coverable || ask.points > available) return { outcome: 'refused', used: 0, total };
      used = ask.points;
    }
    return { outcome: 'ok', used, total };
  }

  /** §4.5, a whole order: points go back to the lots they came from, then the earned points are taken back (debt if spent). */
  refund(order: Order, now: number): 'ok' | 'refused' {
    this.releaseLapsedHolds(now);
    if (order.refunded) return 'refused';
    order.refunded = true;
    const m = this.members.get(order.memberId)!;
    for (const t of order.takes) t.lot.remaining += t.points;
    this.totals.redeemed -= order.used;
    if (order.earned > 0) {
      this.debit(m, order.earned, now);
      this.totals.issued -= order.earned;
    }
    return 'ok';
  }

  // ---- expiry ------------------------------------------------------------------------------------
  /** §4.4: a run as of D expires what remains of every lot with expiresOn < D; idempotent. */
  expire(asOf: string, dryRun: boolean, now: number): ExpirySummary {
    if (!dryRun) this.anyWrite(now);
    const s: ExpirySummary = { lotsExpired: 0, pointsExpired: 0, members: 0 };
    for (const m of this.members.values()) {
      let touched = false;
      for (const l of m.lots) {
        if (l.remaining > 0 && l.expiresOn !== null && l.expiresOn < asOf) {
          s.lotsExpired++;
          s.pointsExpired += l.remaining;
          if (!dryRun) {
            l.expired = (l.expired ?? 0) + l.remaining;
            l.remaining = 0;
          }
          touched = true;
        }
      }
      if (touched) s.members++;
    }
    if (!dryRun) this.totals.expired += s.pointsExpired;
    return s;
  }

  // ---- activities (issue 18) --------------------------------------------------------------------------
  /** Activities of each rules version, by its seq (the init version has none). */
  activityRules = new Map<number, ActivityDef[]>();
  /** (activity, ref) → the award: its member, local day, and whether it counts against limits. */
  awards = new Map<string, { memberId: string; activity: string; day: string }>();
  /** Points credited by awards (report summary's issuedBy.activities). */
  awardedPoints = 0;

  applyActivities(seq: number, defs: ActivityDef[]): void {
    this.activityRules.set(seq, defs);
  }

  /**
   * points award: a repeat of the key by its member changes nothing (but is a write); by another member
   * it is refused; an unknown member or an activity not in the rules in force at `at` is unknown; a
   * limit reached is refused; a frozen member's award waits (counted by the limits, nothing credited).
   */
  award(id: string, activity: string, ref: string, at: number, now: number): 'ok' | 'refused' | 'unknown' {
    const key = `${activity}\u0000${ref}`;
    const prior = this.awards.get(key);
    if (prior) {
      if (prior.memberId !== id) return 'refused';
      this.anyWrite(now);
      return 'ok';
    }
    const m = this.members.get(id);
    if (!m) return 'unknown';
    const def = (this.activityRules.get(this.rulesAt(at).seq) ?? []).find((d) => d.name === activity);
    if (!def) return 'unknown';
    const mine = [...this.awards.values()].filter((a) => a.memberId === id && a.activity === activity);
    const day = localDate(at);
    if (def.once && mine.length >= 1) return 'refused';
    if (def.maxPerDay !== undefined && mine.filter((a) => a.day === day).length >= def.maxPerDay) return 'refused';
    this.anyWrite(now);
    this.awards.set(key, { memberId: id, activity, day });
    if (m.frozen) return 'ok';
    this.credit(m, def.points, at);
    this.totals.issued += def.points;
    this.awardedPoints += def.points;
    return 'ok';
  }
  // ---- end activities ---------------------------------------------------------------------------------

  // ---- totals ------------------------------------------------------------------------------------
  outstanding(): number {
    let t = 0;
    for (const m of this.members.values()) t += this.balance(m);
    return t;
  }
}
