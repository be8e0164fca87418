// Orders after checkout: list, show, refund by §4.5 (points back to their lots, cash refunded, earned points
// taken back, exact remainders on the last refund), and the coupons orders issued.
import { couponStatus, type CouponStatus } from '../domain/coupons.js';
import { formatMoney } from '../domain/money.js';
import { planRefund, redirectFromVoided, repayVoidedFirst, returnToLots, type RefundRequestLine } from '../domain/refund.js';
import { paidWith } from '../domain/split.js';
import { localDate, localDateTime, localRangeUtc, type LocalDate } from '../domain/time.js';
import { NotFoundError, OrderBooksError, RefusedError } from '../errors.js';
import { coupons, type CouponRow } from '../store/coupons.js';
import { holds } from '../store/holds.js';
import { outbox } from '../store/outbox.js';
import { journal } from '../store/journal.js';
import { members } from '../store/members.js';
import { orders, type OrderRow, type OrderStatus } from '../store/orders.js';
import { type Ctx, type Ledger, datedBeforeHint, parseStoredRules, rulesAt, withLedger } from './ledger.js';
import { checkoutCodes } from '../store/verification.js';
import { verifyQueries } from '../store/verify.js';
import { checkOrders } from './verifyOrders.js';
import { availableOf, debitPoints, recordAudit } from './points.js';

/** What a line shows in a quote and in an order alike (money as decimal strings). */
export interface LineViewBase {
  sku: string;
  name: string;
  pay: string;
  kind: string;
  quantity: number;
  unitPrice: string;
  amount: string;
  discount: string;
}

export interface OrderLineView extends LineViewBase {
  lineNo: number;
  points: number;
  /** Issue 18: the item's points discount percent at checkout (null = none) and what it added to the points' value. */
  pointsDiscountPercent: string | null;
  pointsDiscount: string;
  cash: string;
  earned: number;
  refundedQuantity: number;
}

export interface IssuedCoupon {
  code: string;
  sku: string;
  value: string | null;
  percent: string | null;
  expiresOn: string;
  status: CouponStatus;
}

/**
 * A payment that was started (the order fenced for it) and never recorded an answer: its fence has passed
 * and the order was neither paid nor declined (held still, or cancelled or expired since). It may have
 * been paid at the terminal: nobody knows from the ledger.
 */
export const paymentUnanswered = (o: OrderRow, nowIso: string): boolean =>
  o.paying_until !== null && o.paying_until <= nowIso && (o.status === 'held' || o.status === 'cancelled' || o.status === 'expired');

export interface OrderView {
  orderId: string;
  status: OrderStatus;
  memberId: string;
  createdAt: string;
  paidAt: string | null;
  currency: string;
  subtotal: string;
  discount: string;
  total: string;
  pointsUsed: number;
  pointsValue: string;
  /** Issue 18: what the points paid above their value on points-discounted items (total = pointsValue + pointsDiscount + cashPaid). */
  pointsDiscount: string;
  cashPaid: string;
  /** How the cash part was paid (cash, card, alipay, wechat); null when no cash was paid. */
  tender: string | null;
  /** What was tendered: `points`, the cash tender (`cash`, `card`, …) or both (`points+card`); null when nothing was paid. */
  paidWith: string | null;
  /** A held order being paid: when the fence its payment set ends (until then no second payment, cancel or expiry); else null. */
  payingUntil: string | null;
  /** A payment was started (its order fenced) and never recorded an answer: it may have been paid (check the terminal). */
  paymentUnknown: boolean;
  pointsEarned: number;
  coupon: string | null;
  refundedPoints: number;
  refundedCash: string;
  refundedEarned: number;
  closeReason: string | null;
  lines: OrderLineView[];
  couponsIssued: IssuedCoupon[];
}

export function requireOrder(l: Ledger, id: string): OrderRow {
  const o = l.store.get(orders).get(id);
  if (!o) throw new NotFoundError('order', id, 'list orders with: pointsmall order list');
  return o;
}

/**
 * A change to an order (a confirm, a decline, a cancel, a refund) dated before the order's last change:
 * a backfill with POINTSMALL_NOW in the past, or a clock set back. Its entries would come before the
 * order's own in valid time, and a report as of a day between them would count points no one had then
 * (trial 40: held points below zero). Refused, exit 3, nothing written.
 */
export function refuseDatedBefore(l: Ledger, o: OrderRow, what: string): void {
  if (l.nowIso >= o.updated_at) return;
  throw new RefusedError(
    'DATED_BEFORE_ORDER',
    `${what} of order ${o.id} would be dated ${localDateTime(l.nowIso, l.zone)}, before its last change at ${localDateTime(o.updated_at, l.zone)}: a change to an order cannot be dated before the order`,
    datedBeforeHint(l),
  );
}

/**
 * Checkouts whose hold ran out (RAN_OUT) and that no write has released yet. Such an order reads as expired
 * already, and its coupon as active again, as the release will record them (dated when the hold ran out):
 * the reads agree with member show, which counts its points free.
 */
export function ranOutOrders(l: Ledger): Set<string> {
  return new Set(l.store.get(holds).expiredHolds(l.nowIso).map(([id]) => id));
}

/** The status an order reads with: `expired` for a held one whose hold ran out (ranOutOrders). */
const readStatus = (o: Pick<OrderRow, 'id' | 'status'>, ranOut: Set<string>): OrderStatus => (o.status === 'held' && ranOut.has(o.id) ? 'expired' : o.status);

/** The stored status a coupon reads with: `active` again when the checkout holding it ran out (ranOutOrders). */
export const couponReadStatus = (c: Pick<CouponRow, 'status' | 'used_order_id'>, ranOut: Set<string>): CouponRow['status'] =>
  c.status === 'held' && c.used_order_id !== null && ranOut.has(c.used_order_id) ? 'active' : c.status;

export function orderView(l: Ledger, o: OrderRow): OrderView {
  let ran: Set<string> | undefined;
  const ranOut = () => (ran ??= ranOutOrders(l)); // (read once, and only where a held order or coupon asks)
  const status = o.status === 'held' ? readStatus(o, ranOut()) : o.status;
  const money = (m: number) => formatMoney(m, l.digits);
  const today = localDate(l.now.getTime(), l.zone);
  const lines = l.store.get(orders).lines(o.id);
  const cp = l.store.get(coupons);
  const issued: IssuedCoupon[] = [];
  for (const line of lines) {
    if (line.kind !== 'coupon') continue;
    for (const c of cp.ofLine(o.id, line.line_no)) {
      const stored = c.status === 'held' ? couponReadStatus(c, ranOut()) : c.status;
      issued.push({ code: c.code, sku: c.sku, value: c.value === null ? null : money(c.value), percent: c.percent, expiresOn: c.expires_on, status: couponStatus({ status: stored, expiresOn: c.expires_on }, today) });
    }
  }
  return {
    orderId: o.id,
    status,
    memberId: o.member_id,
    createdAt: o.created_at,
    paidAt: o.paid_at,
    currency: l.currency,
    subtotal: money(o.subtotal),
    discount: money(o.discount),
    total: money(o.total),
    pointsUsed: o.points_used,
    pointsValue: money(o.points_value),
    pointsDiscount: money(o.points_discount),
    cashPaid: money(o.cash_paid),
    ...paidWith(o.points_used, o.cash_paid, o.tender, status),
    payingUntil: status === 'held' && o.paying_until !== null && o.paying_until > l.nowIso ? o.paying_until : null,
    paymentUnknown: paymentUnanswered(o, l.nowIso),
    pointsEarned: o.points_earned,
    coupon: o.coupon_code,
    refundedPoints: o.refunded_points,
    refundedCash: money(o.refunded_cash),
    refundedEarned: o.refunded_earned,
    closeReason: status === o.status ? o.close_reason : 'expired',
    lines: lines.map((x) => ({
      lineNo: x.line_no,
      sku: x.sku,
      name: x.name,
      pay: x.pay,
      kind: x.kind,
      quantity: x.quantity,
      unitPrice: money(x.unit_price),
      amount: money(x.amount),
      discount: money(x.discount),
      points: x.points,
      pointsDiscountPercent: x.points_discount_pct,
      pointsDiscount: money(x.points_discount),
      cash: money(x.cash),
      earned: x.earned,
      refundedQuantity: x.refunded_qty,
    })),
    couponsIssued: issued,
  };
}

export interface OrderListInput {
  memberId?: string;
  from?: LocalDate;
  to?: LocalDate;
  status?: OrderStatus;
  limit?: number;
  offset?: number;
}

export interface OrderListRow {
  orderId: string;
  createdAt: string;
  memberId: string;
  status: OrderStatus;
  total: string;
  pointsUsed: number;
  cashPaid: string;
  pointsEarned: number;
  /** How the cash part was paid; null when no cash was paid. */
  tender: string | null;
  /** What was tendered: `points`, the cash tender (`cash`, `card`, …) or both (`points+card`); null when nothing was paid. */
  paidWith: string | null;
  refundedCash: string;
  /** Points paid back by refunds (refundedCash is their cash part). */
  refundedPoints: number;
}

export async function listOrders(ctx: Ctx, f: OrderListInput): Promise<OrderListRow[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      if (f.memberId && !l.store.get(members).exists(f.memberId)) throw new NotFoundError('member', f.memberId, 'list members with: pointsmall member list');
      const { fromIso, toIso } = localRangeUtc(l.zone, f.from, f.to);
      const ranOut = ranOutOrders(l);
      const filter = { memberId: f.memberId, fromIso, toIso, status: f.status, limit: f.limit, offset: f.offset };
      // held and expired as they read: both stored statuses, filtered and paged after
      const byRead = ranOut.size > 0 && (f.status === 'held' || f.status === 'expired');
      const rows = byRead
        ? l.store
            .get(orders)
            .list({ ...filter, status: undefined, limit: undefined, offset: undefined })
            .filter((o) => (o.status === 'held' || o.status === 'expired') && readStatus(o, ranOut) === f.status)
            .slice(f.offset ?? 0, (f.offset ?? 0) + (f.limit ?? Infinity))
        : l.store.get(orders).list(filter);
      return rows.map((o) => {
        const status = readStatus(o, ranOut);
        return {
          orderId: o.id,
          createdAt: o.created_at,
          memberId: o.member_id,
          status,
          total: formatMoney(o.total, l.digits),
          pointsUsed: o.points_used,
          cashPaid: formatMoney(o.cash_paid, l.digits),
          pointsEarned: o.points_earned,
          ...paidWith(o.points_used, o.cash_paid, o.tender, status),
          refundedCash: formatMoney(o.refunded_cash, l.digits),
          refundedPoints: o.refunded_points,
        };
      });
    }),
  );
}

export interface OrderDetail extends OrderView {
  refunds: { refundId: number; at: string; operator: string; reason: string | null; points: number; cash: string; earned: number }[];
  /** The one-time code of a checkout that needed one (limits.verifyPointsAbove), else null. */
  verification: VerificationView | null;
}

/** Wrong codes a checkout allows: the third voids its hold. */
export const CODE_ATTEMPTS = 3;

export interface VerificationView {
  status: 'pending' | 'verified' | 'failed';
  /** Where the auth.code message goes (sms, email). */
  channel: string;
  attemptsLeft: number;
}

/** The state of an order's one-time code, or null when it needed none. */
export function verificationOf(l: Ledger, orderId: string): VerificationView | null {
  const v = l.store.get(checkoutCodes).get(orderId);
  if (!v) return null;
  const channel = l.store.get(outbox).channelOf(`auth.code:${orderId}`) ?? 'none';
  return { status: v.status, channel, attemptsLeft: v.status === 'pending' ? CODE_ATTEMPTS - v.attempts : 0 };
}

export async function showOrder(ctx: Ctx, id: string): Promise<OrderDetail> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const o = requireOrder(l, id);
      return {
        ...orderView(l, o),
        refunds: l.store.get(orders).refunds(id).map((r) => ({ refundId: r.id, at: r.at, operator: r.operator, reason: r.reason, points: r.points, cash: formatMoney(r.cash, l.digits), earned: r.earned })),
        verification: verificationOf(l, id),
      };
    }),
  );
}

export interface RefundResult {
  orderId: string;
  refundId: number;
  status: OrderStatus;
  complete: boolean;
  /** `kind`: the line's item kind (a coupon line's refund voids the coupons it issued). */
  lines: { sku: string; kind: string; quantity: number; points: number; cash: string; earned: number }[];
  pointsReturned: number;
  cashRefunded: string;
  pointsTakenBack: number;
  /** Points the member could not give back (already spent): now owed, repaid by later accruals. */
  debt: number;
  /** Of pointsReturned, those that repaid the member's debt (from an earlier take-back or void) instead of going back into lots. */
  debtRepaid: number;
  balance: number;
  available: number;
  reason: string | null;
  /** The coupon the order used: given back (active again, until its own expiry) when this refund completes the order, else kept used. */
  coupon: RefundCoupon | null;
}

export interface RefundCoupon {
  code: string;
  /** Whether the refund gives it back: only the refund that completes the order does. */
  returned: boolean;
  expiresOn: string;
}

/** The coupon an order used and what a refund (completing the order or not) does with it. */
function refundCoupon(l: Ledger, o: { id: string; coupon_code: string | null }, complete: boolean): RefundCoupon | null {
  if (!o.coupon_code) return null;
  const c = l.store.get(coupons).get(o.coupon_code);
  if (!c || c.status !== 'used' || c.used_order_id !== o.id) return null;
  return { code: c.code, returned: complete, expiresOn: c.expires_on };
}

/** The refund plan of §4.5 for an order, or the error that refuses it. Read inside the caller's transaction. */
function refundPlanOf(l: Ledger, id: string, lines: RefundRequestLine[] | null) {
  const o = requireOrder(l, id);
  if (o.status !== 'paid' && o.status !== 'partially_refunded' && o.status !== 'refunded') {
    throw new RefusedError('ORDER_NOT_PAID', `order ${id} is ${o.status}; only paid orders can be refunded`, `see it with: pointsmall order show ${id}`);
  }
  refuseDatedBefore(l, o, 'a refund');
  // The order's books first (ledger verify's order-lines-add-up and refund-lines-add-up, for this order):
  // a refund pays back what the lines say was paid, so lines edited since would pay out what never was.
  const q = verifyQueries(l.store);
  const documents = new Map(q.rulesVersions().map((v) => [v.id, v.document]));
  const books = checkOrders(q, (v) => (documents.has(v) ? parseStoredRules(l, v, documents.get(v)!) : null), l.digits, id);
  const broken = books.orders.rows[0] ?? books.refunds.rows[0];
  if (broken) throw new OrderBooksError(id, broken.subject === `order ${id}` ? broken.detail : `does not add up: ${broken.subject} ${broken.detail}`);
  const rows = l.store.get(orders).lines(id);
  const plan = planRefund(
    rows.map((r) => ({
      lineNo: r.line_no,
      sku: r.sku,
      quantity: r.quantity,
      share: { points: r.points, cash: r.cash, earned: r.earned },
      refundedQty: r.refunded_qty,
      refunded: { points: r.refunded_points, cash: r.refunded_cash, earned: r.refunded_earned },
    })),
    lines,
  );
  if (!plan.ok) {
    if (plan.code === 'UNKNOWN_LINE') throw new NotFoundError(`line of order ${id} for sku`, lines?.find((x) => !rows.some((r) => r.sku === x.sku))?.sku ?? '?', `show the lines with: pointsmall order show ${id}`);
    throw new RefusedError('OVER_REFUND', `${plan.message} (order ${id})`, `show what is left with: pointsmall order show ${id}`);
  }
  return { o, rows, plan };
}

export interface RefundPreview {
  orderId: string;
  memberId: string;
  lines: { sku: string; quantity: number }[];
  pointsReturned: number;
  cashRefunded: string;
  pointsTakenBack: number;
  /** Of pointsReturned, those that will repay the member's debt first. */
  debtRepaid: number;
  coupon: RefundCoupon | null;
}

/** What a refund would move, for the confirmation question; nothing written. */
export async function previewRefund(ctx: Ctx, id: string, lines: RefundRequestLine[] | null): Promise<RefundPreview> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { o, plan } = refundPlanOf(l, id, lines);
      return {
        orderId: id,
        memberId: o.member_id,
        lines: plan.lines.map((p) => ({ sku: p.sku, quantity: p.quantity })),
        pointsReturned: plan.totals.points,
        cashRefunded: formatMoney(plan.totals.cash, l.digits),
        pointsTakenBack: plan.totals.earned,
        debtRepaid: Math.min(l.store.get(members).get(o.member_id)!.debt, plan.totals.points),
        coupon: refundCoupon(l, o, plan.complete),
      };
    }),
  );
}

/**
 * §4.5: refunds whole orders (lines = null) or some units of some lines. One transaction. With `expect`
 * (the figures the operator confirmed), a refund that now computes other figures is refused.
 */
export async function refundOrder(ctx: Ctx, id: string, lines: RefundRequestLine[] | null, reason?: string, expect?: Pick<RefundPreview, 'pointsReturned' | 'cashRefunded' | 'pointsTakenBack'> & { coupon?: RefundCoupon | null; debtRepaid?: number }): Promise<RefundResult> {
  return withLedger(ctx, (l) => {
    return l.store.write(() => {
      const { o, rows, plan } = refundPlanOf(l, id, lines);
      checkRefundVelocity(l, o.member_id);
      const repo = l.store.get(orders);
      const coupon = refundCoupon(l, o, plan.complete);
      // returned points repay the member's debt first (SPEC §4.6: credits of any kind do)
      const debtBefore = l.store.get(members).get(o.member_id)!.debt;
      const debtRepaid = Math.min(debtBefore, plan.totals.points);
      if (
        expect &&
        (expect.pointsReturned !== plan.totals.points ||
          expect.cashRefunded !== formatMoney(plan.totals.cash, l.digits) ||
          expect.pointsTakenBack !== plan.totals.earned ||
          (expect.debtRepaid !== undefined && expect.debtRepaid !== debtRepaid) ||
          (expect.coupon !== undefined && (expect.coupon?.returned ?? null) !== (coupon?.returned ?? null)))
      ) {
        throw new RefusedError('REFUND_CHANGED', `order ${id} changed since the refund was confirmed (another refund?); nothing was refunded`, `see it with: pointsmall order show ${id}, then refund again`);
      }

      // Coupons a refunded coupon line issued are voided; a used one cannot be returned.
      const cp = l.store.get(coupons);
      for (const p of plan.lines) {
        const row = rows.find((r) => r.line_no === p.lineNo)!;
        if (row.kind !== 'coupon') continue;
        const usable = cp.ofLine(id, p.lineNo).filter((c) => c.status === 'active'); // unused, expired or not
        if (usable.length < p.quantity) {
          throw new RefusedError('COUPON_USED', `${p.quantity} × ${row.sku} to refund but only ${usable.length} of its coupons are unused`, 'a used or held coupon cannot be refunded');
        }
        for (const c of usable.slice(0, p.quantity)) cp.transition(c.code, 'active', 'void', null, l.nowIso);
      }

      // A refund that completes the order gives back the coupon it used (SPEC §4.5: a fully refunded order
      // nets to zero), active again until its own expiry; a partial refund leaves it used by what remains.
      if (coupon?.returned) cp.transition(coupon.code, 'used', 'active', null, null);

      const j = l.store.get(journal);
      let pointsEntryId: number | null = null;
      if (plan.totals.points > 0) {
        pointsEntryId = j.post(
          {
            at: l.nowIso,
            kind: 'refund',
            memberId: o.member_id,
            ref: id,
            memo: reason ?? null,
            postings: [
              { account: 'redeemed', memberId: o.member_id, points: -plan.totals.points },
              { account: 'member', memberId: o.member_id, points: plan.totals.points },
            ],
          },
          l.operator,
          l.nowIso,
        );
        const hs = l.store.get(holds);
        const hold = hs.byOrder(id)!;
        const taken = hs.lots(hold.id);
        const back = returnToLots(taken.map((t) => ({ lotId: t.seq, taken: t.points, returned: t.returned })), plan.totals.points);
        // (every point counts as returned for the order's later refunds, those that repay a debt included)
        for (const b of back) hs.addReturned(hold.id, b.lotId, b.points);
        if (debtRepaid > 0) j.addDebt(o.member_id, -debtRepaid);
        // each part to its lot (a lot whose purchase was voided since: to the lots that void took from), then
        // the debt repaid first from what would go back into voided purchases' lots (trial 33)
        const lots = back.map((b) => ({ lotId: taken.find((x) => x.seq === b.lotId)!.lot_id, points: b.points }));
        const moved = redirectFromVoided(lots, j.voidedLotTargets(o.member_id, lots.map((b) => b.lotId)));
        const voided = debtBefore > 0 ? j.lotsOfVoidedPurchases(moved.map((b) => b.lotId)) : new Set<number>();
        for (const b of repayVoidedFirst(moved, debtBefore, voided)) j.moveLot(pointsEntryId, b.lotId, b.points);
      }
      let earnedEntryId: number | null = null;
      let debt = 0;
      if (plan.totals.earned > 0) {
        const d = debitPoints(l, { memberId: o.member_id, points: plan.totals.earned, at: l.nowIso, kind: 'refund', to: 'issued', allowDebt: true, ref: id, memo: reason ?? null });
        earnedEntryId = d.entryId;
        debt = d.debt;
      }
      const status = plan.complete ? 'refunded' : 'partially_refunded';
      const refundId = repo.recordRefund(
        {
          order_id: id,
          at: l.nowIso,
          operator: l.operator,
          reason: reason ?? null,
          points: plan.totals.points,
          cash: plan.totals.cash,
          earned: plan.totals.earned,
          points_entry_id: pointsEntryId,
          earned_entry_id: earnedEntryId,
        },
        plan.lines.map((p) => ({ line_no: p.lineNo, sku: p.sku, quantity: p.quantity, points: p.points, cash: p.cash, earned: p.earned })),
        status,
      );
      recordAudit(l, 'order.refund', id, { refundId, lines: plan.lines, reason, ...(coupon?.returned ? { couponReturned: coupon.code } : {}) });
      const m = l.store.get(members).get(o.member_id)!;
      return {
        orderId: id,
        refundId,
        status,
        complete: plan.complete,
        lines: plan.lines.map((p) => ({ sku: p.sku, kind: rows.find((r) => r.line_no === p.lineNo)!.kind, quantity: p.quantity, points: p.points, cash: formatMoney(p.cash, l.digits), earned: p.earned })),
        pointsReturned: plan.totals.points,
        cashRefunded: formatMoney(plan.totals.cash, l.digits),
        pointsTakenBack: plan.totals.earned,
        debt,
        debtRepaid,
        balance: m.balance,
        available: availableOf(l, m),
        reason: reason ?? null,
        coupon,
      };
    });
  });
}

export interface CouponListRow {
  code: string;
  memberId: string;
  sku: string;
  value: string | null;
  percent: string | null;
  issuedAt: string;
  expiresOn: string;
  status: CouponStatus;
  orderId: string;
  usedOrderId: string | null;
}

export async function listCoupons(ctx: Ctx, f: { memberId?: string; status?: CouponStatus; limit?: number; offset?: number }): Promise<CouponListRow[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      if (f.memberId && !l.store.get(members).exists(f.memberId)) throw new NotFoundError('member', f.memberId);
      const today = localDate(l.now.getTime(), l.zone);
      // a coupon held by a checkout whose hold ran out reads as the release will leave it: active (ranOutOrders)
      const ranOut = ranOutOrders(l);
      const readable = (c: CouponRow) => couponReadStatus(c, ranOut);
      const stored = f.status === 'expired' || f.status === 'active' ? ['active' as const, ...(ranOut.size ? ['held' as const] : [])] : f.status ? [f.status] : undefined;
      return l.store
        .get(coupons)
        .list({ memberId: f.memberId, statuses: stored })
        .map((c) => ({
          code: c.code,
          memberId: c.member_id,
          sku: c.sku,
          value: c.value === null ? null : formatMoney(c.value, l.digits),
          percent: c.percent,
          issuedAt: c.issued_at,
          expiresOn: c.expires_on,
          status: couponStatus({ status: readable(c), expiresOn: c.expires_on }, today),
          orderId: c.order_id,
          usedOrderId: readable(c) === c.status ? c.used_order_id : null,
        }))
        .filter((c) => !f.status || c.status === f.status)
        .slice(f.offset ?? 0, (f.offset ?? 0) + (f.limit ?? Infinity));
    }),
  );
}

// ---- issue 18: limits.maxRefundsPerDay, counted inside the refund's write in the ledger's local day ----
function checkRefundVelocity(l: Ledger, memberId: string): void {
  const max = rulesAt(l, l.nowIso).rules.limits.maxRefundsPerDay;
  if (max === null) return;
  const today = localDate(l.now.getTime(), l.zone);
  const { fromIso, toIso } = localRangeUtc(l.zone, today, today);
  const n = l.store.get(checkoutCodes).refundsBetween(memberId, fromIso!, toIso!);
  if (n >= max) {
    throw new RefusedError('VELOCITY_LIMIT', `member ${memberId} has had ${n} refund${n === 1 ? '' : 's'} today (${today}): limits.maxRefundsPerDay is ${max}`, 'refund it another day, or raise the limit in the rules');
  }
}
