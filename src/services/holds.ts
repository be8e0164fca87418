// Holds between a checkout's hold and its capture: points (taken from lots in spending order and moved to
// the member's held account), stock and the coupon; released on decline, cancel or expiry, to the same lots.
// Every function here runs inside the caller's store.write().
import { earnedAfter, spendableLots, takeFromLots } from '../domain/lots.js';
import { redirectFromVoided, repaidOnRelease, repayBeforeLots } from '../domain/refund.js';
import { RefusedError } from '../errors.js';
import { books } from '../store/books.js';
import { catalog } from '../store/catalog.js';
import { coupons } from '../store/coupons.js';
import { holds, type HoldRow } from '../store/holds.js';
import { journal } from '../store/journal.js';
import { members } from '../store/members.js';
import { orders } from '../store/orders.js';
import { settings } from '../store/settings.js';
import { type Ctx, type Ledger, withLedger } from './ledger.js';
import { paymentUnanswered } from './orders.js';
import { availableOf, earnedLater, ledgerToday, recordAudit } from './points.js';

export const DEFAULT_HOLD_MINUTES = 15;

/** Minutes a hold lasts: the ledger setting hold_minutes, else 15. */
export function holdMinutes(l: Ledger): number {
  const v = Number(l.store.get(settings).get('hold_minutes'));
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_HOLD_MINUTES;
}

export interface HoldRequest {
  orderId: string;
  memberId: string;
  points: number;
  lines: { sku: string; quantity: number }[];
  couponCode: string | null;
}

/**
 * Holds points, stock and the coupon for an order. The available check happens here, inside the
 * caller's BEGIN IMMEDIATE transaction, so two processes can never spend the same points.
 */
export function placeHold(l: Ledger, h: HoldRequest): { holdId: number; expiresAt: string } {
  const j = l.store.get(journal);
  const m = l.store.get(members).get(h.memberId)!;
  const available = availableOf(l, m);
  let entryId: number | null = null;
  let takes: { lotId: number; points: number }[] = [];
  if (h.points > 0) {
    let lots = spendableLots(j.openLots(h.memberId), ledgerToday(l));
    // a spend cannot be dated before the points it spends (a backfill with POINTSMALL_NOW in the past)
    const later = earnedAfter(lots, l.nowIso);
    if (later > 0) {
      lots = lots.filter((x) => x.earnedAt <= l.nowIso);
      if (takeFromLots(lots, h.points).shortfall > 0) throw earnedLater(l, h.memberId, later, l.nowIso);
    }
    const r = takeFromLots(lots, h.points);
    if (h.points > available || r.shortfall > 0) {
      throw new RefusedError('INSUFFICIENT_POINTS', `member ${h.memberId} has ${available} points available, ${h.points} needed`, 'use fewer points');
    }
    takes = r.takes;
    entryId = j.post(
      {
        at: l.nowIso,
        kind: 'hold',
        memberId: h.memberId,
        ref: h.orderId,
        postings: [
          { account: 'member', memberId: h.memberId, points: -h.points },
          { account: 'held', memberId: h.memberId, points: h.points },
        ],
      },
      l.operator,
      l.nowIso,
    );
    for (const t of takes) j.moveLot(entryId, t.lotId, -t.points);
  }
  const cat = l.store.get(catalog);
  for (const line of h.lines) {
    if (!cat.reserveStock(line.sku, line.quantity)) {
      const item = cat.get(line.sku);
      const left = item && item.stock !== null ? item.stock - item.stock_held : 0;
      throw new RefusedError('OUT_OF_STOCK', `${line.sku} is out of stock: ${line.quantity} wanted, ${left} available`, 'order fewer, or restock with: pointsmall catalog update ' + line.sku + ' --stock N');
    }
  }
  if (h.couponCode && !l.store.get(coupons).transition(h.couponCode, 'active', 'held', h.orderId, null)) {
    throw new RefusedError('COUPON_INVALID', `coupon ${h.couponCode} is no longer usable`);
  }
  const expiresAt = new Date(l.now.getTime() + holdMinutes(l) * 60_000).toISOString();
  const holdId = l.store.get(holds).insert(h.orderId, h.memberId, h.points, l.nowIso, expiresAt, entryId);
  l.store.get(holds).insertLots(holdId, takes);
  return { holdId, expiresAt };
}

function openHold(l: Ledger, orderId: string): HoldRow {
  const hold = l.store.get(holds).byOrder(orderId);
  if (!hold || hold.status !== 'open') throw new Error(`order ${orderId} has no open hold`);
  return hold;
}

/** Capture: the held points become a redemption, held stock is taken, the coupon is used. */
export function captureHold(l: Ledger, orderId: string): HoldRow {
  const hold = openHold(l, orderId);
  const j = l.store.get(journal);
  if (hold.points > 0) {
    j.post(
      {
        at: l.nowIso,
        kind: 'redemption',
        memberId: hold.member_id,
        ref: orderId,
        postings: [
          { account: 'held', memberId: hold.member_id, points: -hold.points },
          { account: 'redeemed', memberId: hold.member_id, points: hold.points },
        ],
      },
      l.operator,
      l.nowIso,
    );
  }
  const cat = l.store.get(catalog);
  for (const line of l.store.get(orders).lines(orderId)) {
    if (!cat.takeStock(line.sku, line.quantity)) throw new Error(`stock of ${line.sku} held for ${orderId} is missing`);
  }
  const order = l.store.get(orders).get(orderId)!;
  if (order.coupon_code && !l.store.get(coupons).transition(order.coupon_code, 'held', 'used', orderId, l.nowIso)) {
    throw new Error(`coupon ${order.coupon_code} held for ${orderId} is missing`);
  }
  l.store.get(holds).close(hold.id, 'captured', l.nowIso);
  return hold;
}

/**
 * Void: the held points go back to the member and to the very lots they came from; stock and coupon are freed.
 * Dated `at`: now, or for a hold that ran out the instant it did (recorded now), so the days between show
 * its points free, as they were to spend.
 */
export function releaseHold(l: Ledger, orderId: string, why: 'declined' | 'cancelled' | 'expired', tender: string | null = null, reason: string = why, at = l.nowIso): void {
  const hold = openHold(l, orderId);
  const j = l.store.get(journal);
  if (hold.points > 0) {
    const entryId = j.post(
      {
        at,
        kind: 'release',
        memberId: hold.member_id,
        ref: orderId,
        memo: reason,
        postings: [
          { account: 'held', memberId: hold.member_id, points: -hold.points },
          { account: 'member', memberId: hold.member_id, points: hold.points },
        ],
      },
      l.operator,
      l.nowIso,
    );
    // A member in debt (a void took back points while this hold had them) repays it first (SPEC §4.6), as a
    // refund does: with the points the hold took first, so the latest-expiring lots get theirs back.
    const back = l.store.get(holds).lots(hold.id).map((t) => ({ lotId: t.lot_id, points: t.points })).reverse();
    const { toLots, debtRepaid } = repayBeforeLots(back, l.store.get(members).get(hold.member_id)?.debt ?? 0);
    if (debtRepaid > 0) j.addDebt(hold.member_id, -debtRepaid);
    // (a lot whose purchase was voided meanwhile: to the lots that void took the held points' part from)
    for (const t of redirectFromVoided(toLots, j.voidedLotTargets(hold.member_id, toLots.map((t) => t.lotId)))) j.moveLot(entryId, t.lotId, t.points);
  }
  const cat = l.store.get(catalog);
  const o = l.store.get(orders);
  for (const line of o.lines(orderId)) cat.releaseStock(line.sku, line.quantity);
  const order = o.get(orderId)!;
  if (order.coupon_code) l.store.get(coupons).transition(order.coupon_code, 'held', 'active', null, null);
  l.store.get(holds).close(hold.id, 'released', at);
  o.close(orderId, why, reason, at, tender);
}

/** What the release of a member's holds that ran out will repay of the debt, and where the repaid points were. */
export interface RanOutRepayment {
  debtRepaid: number;
  /** Per lot, the points the release will not put back into it. */
  cuts: Map<number, number>;
  /** Of them, those of lots lapsed before today. */
  lapsed: number;
  /** The same by the lot's expiry month (null = never) and whether it lapsed before today. */
  byMonth: { month: string | null; lapsed: boolean; points: number }[];
}

/**
 * Per member in debt, what releasing the holds that ran out by `byIso` (not released yet) will repay
 * (releaseHold repays debt first): reads count those holds released already, so they count this too, and
 * a member's debt, lots and free points read the same before the release is written and after.
 */
export function ranOutRepayments(l: Ledger, byIso: string, today: string, memberId: string | null = null): Map<string, RanOutRepayment> {
  const byMember = new Map<string, { debt: number; holds: Map<number, { lotId: number; points: number }[]>; expiresOn: Map<number, string | null> }>();
  for (const r of l.store.get(books).ranOutOfDebtors(byIso, memberId)) {
    let m = byMember.get(r.memberId);
    if (!m) byMember.set(r.memberId, (m = { debt: r.debt, holds: new Map(), expiresOn: new Map() }));
    let h = m.holds.get(r.holdId);
    if (!h) m.holds.set(r.holdId, (h = []));
    h.push({ lotId: r.lotId, points: r.points });
    m.expiresOn.set(r.lotId, r.expiresOn);
  }
  const out = new Map<string, RanOutRepayment>();
  for (const [id, m] of byMember) {
    const { debtRepaid, cuts } = repaidOnRelease(m.debt, [...m.holds.values()]);
    if (debtRepaid <= 0) continue;
    let lapsed = 0;
    const months = new Map<string, { month: string | null; lapsed: boolean; points: number }>();
    for (const [lotId, points] of cuts) {
      const on = m.expiresOn.get(lotId) ?? null;
      const gone = on !== null && on < today;
      if (gone) lapsed += points;
      const month = on === null ? null : on.slice(0, 7);
      const key = `${month}|${gone}`;
      const x = months.get(key) ?? { month, lapsed: gone, points: 0 };
      x.points += points;
      months.set(key, x);
    }
    out.set(id, { debtRepaid, cuts, lapsed, byMonth: [...months.values()] });
  }
  return out;
}

/** Releases every hold whose time is up; called at the start of every checkout write and by `holds release-expired`. */
export function releaseExpiredHolds(l: Ledger): string[] {
  const ran = l.store.get(holds).expiredHolds(l.nowIso);
  for (const [id, endedAt] of ran) {
    releaseHold(l, id, 'expired', null, 'expired', endedAt);
    recordAudit(l, 'checkout.expire', id);
  }
  return ran.map(([id]) => id);
}

export interface HoldView {
  checkoutId: string;
  memberId: string;
  points: number;
  createdAt: string;
  expiresAt: string;
  /** Past its expiresAt and not being paid: `holds release-expired` (or any checkout write) releases it. */
  expired: boolean;
  /** While a confirm is paying the order (its fence), when the fence ends: the hold does not run out before. */
  payingUntil: string | null;
  /** A payment was started for it and never recorded an answer (its fence has passed): it may have been paid. */
  paymentUnknown: boolean;
}

export interface ReleaseResult {
  released: number;
  orderIds: string[];
  /** Of those, the orders whose payment was started and never recorded an answer: it may have been paid. */
  paymentUnknown: string[];
}

export async function releaseExpired(ctx: Ctx): Promise<ReleaseResult> {
  return withLedger(ctx, (l) => {
    l.store.beforeWrite = undefined; // released and counted here, not by the store's housekeeping
    return l.store.write(() => {
      const orderIds = releaseExpiredHolds(l);
      const repo = l.store.get(orders);
      const paymentUnknown = orderIds.filter((id) => paymentUnanswered(repo.get(id)!, l.nowIso));
      return { released: orderIds.length, orderIds, paymentUnknown };
    });
  });
}

export async function listHolds(ctx: Ctx): Promise<HoldView[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() =>
      l.store
        .get(holds)
        .openHolds()
        .map((h) => {
          const o = l.store.get(orders).get(h.order_id);
          const fence = o?.paying_until ?? null;
          const payingUntil = fence !== null && fence > l.nowIso ? fence : null;
          return { checkoutId: h.order_id, memberId: h.member_id, points: h.points, createdAt: h.created_at, expiresAt: h.expires_at, expired: h.expires_at <= l.nowIso && payingUntil === null, payingUntil, paymentUnknown: o ? paymentUnanswered(o, l.nowIso) : false };
        }),
    ),
  );
}
