// The split checkout (§4.3, seeds' four steps): quote → hold points and stock → simulated payment of the
// cash part → capture (redemption, stock taken, points earned on the cash part, order.confirmed queued) or void.
// Hold and capture are separate transactions, so a process killed in between leaves a hold that expires.
import { createHash, randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { cashEarnLines, computeEarn } from '../domain/accrual.js';
import { couponCode, couponExpiresOn, couponRefusal, couponTerms, normalizeCouponCode } from '../domain/coupons.js';
import { AMOUNT_MAX, POINTS_MAX, formatMoney, type Points, pointsStep, pointsStepValue } from '../domain/money.js';
import { lapsedHeld } from '../domain/lots.js';
import { spreadEarned } from '../domain/refund.js';
import { expiresOn, type Rules } from '../domain/rules.js';
import { type AllowedPoints, type CartLine, type PointsRequest, type Quote, SPREAD_WITHIN_LINE_CAPS, pointsForLine, split, type SplitInput, splitLines, paidWith } from '../domain/split.js';
import { localDate, localDateTime, localRangeUtc, shownInstant } from '../domain/time.js';
import { Decimal } from 'decimal.js';
import { BusyError, ConnectionLostError, EXIT, LedgerReplacedError, NotFoundError, PaymentInterruptedError, PointsmallError, RefusedError, UsageError, mapServerCode } from '../errors.js';
import { catalog, type CatalogRow } from '../store/catalog.js';
import { coupons } from '../store/coupons.js';
import { books } from '../store/books.js';
import { holds, writeUnsynced } from '../store/holds.js';
import { members, type MemberRow } from '../store/members.js';
import { checkoutLookups, orders, type OrderRow } from '../store/orders.js';
import { outbox } from '../store/outbox.js';
import { mapBusy } from '../store/db.js';
import { rulesVersions } from '../store/rules.js';
import { settings } from '../store/settings.js';
import { checkoutCodes } from '../store/verification.js';
import { type Ctx, type Ledger, datedBeforeHint, itemNotFound, parseStoredRules, rulesAt, rulesOfVersion, withLedger, memberNotFound } from './ledger.js';
import { captureHold, holdMinutes, placeHold, releaseHold } from './holds.js';
import { stockAsRead } from './catalog.js';
import { CODE_ATTEMPTS, couponReadStatus, type LineViewBase, orderView, paymentUnanswered, ranOutOrders, refuseDatedBefore, requireOrder, type OrderView, verificationOf, type VerificationView } from './orders.js';
export { CODE_ATTEMPTS, type VerificationView } from './orders.js';
import { availableOf, creditPoints, ledgerToday, recordAudit } from './points.js';

export const TENDERS = ['cash', 'card', 'alipay', 'wechat'] as const;
export type Tender = (typeof TENDERS)[number];

export interface CartItem {
  sku: string;
  quantity: number;
}

export interface CheckoutInput {
  memberId: string;
  items: CartItem[];
  request: PointsRequest;
  coupon?: string;
  tender?: Tender;
  decline?: boolean;
  idempotencyKey?: string;
  /** The figures the operator confirmed: the checkout is refused if the cart now computes others. */
  expect?: { pointsUsed: number; cashPaid: string };
}

export interface QuoteLineView extends LineViewBase {
  coverable: string;
  requiredPoints: number;
  /** Issue 18: the item's points discount percent (null = none) and what the points pay above their value here. */
  pointsDiscountPercent: string | null;
  pointsDiscount: string;
}

/** `checkout quote`: the same fields as a checkout, without orderId; nothing written. */
export interface QuoteResult {
  status: 'quote';
  memberId: string;
  currency: string;
  subtotal: string;
  discount: string;
  total: string;
  pointsUsed: number;
  pointsValue: string;
  /** Issue 18: what the points pay above their value on points-discounted items (total = pointsValue + pointsDiscount + cashPaid). */
  pointsDiscount: string;
  cashPaid: string;
  /** The tender the cash part would be paid by: null when there is no cash to pay, as a checkout says. */
  tender: Tender | null;
  /** `points`, `points+card`, `card`…: what would pay, as a checkout says (null for an order of 0.00). */
  paidWith: string | null;
  pointsEarned: number;
  balance: number;
  available: number;
  /** The largest points request allowed (lines, available points and minPoints all allow it). */
  maxUsablePoints: number;
  pointsStep: number;
  /** The rules' smallest points request per checkout (redeem.minPoints). */
  minPoints: number;
  /** Points the points-only lines take whatever the request (why --no-points is refused when > 0). */
  requiredPoints: number;
  /** What --points may be: `required`, or `min`..`max` in `step`s (min null: nothing more). */
  allowedPoints: AllowedPoints;
  /** The same in words: "0, or 200 to 5000 in steps of 10", or "no points can be used here: WHY" (allowedInWords). */
  allowedText: string;
  /** Set when --max-points used fewer points than the member has (below minPoints). */
  note: string | null;
  coupon: string | null;
  lines: QuoteLineView[];
}

export interface CheckoutResult extends OrderView {
  /** The id to confirm or cancel a two-step checkout (the order id). */
  checkoutId: string;
  balance: number;
  available: number;
  /** When an open hold runs out. */
  expiresAt: string | null;
  /** A held order: the points its cash part earns once paid, by the ledger as it stands now (tier, daily cap); null otherwise. */
  pointsToEarn: number | null;
  /** true when an --idempotency-key retry returned the first result. */
  replayed: boolean;
  /** Why --max-points used no points on the mixed items (below redeem.minPoints); absent otherwise. */
  note?: string;
  /** Issue 18: the one-time code this checkout needs (limits.verifyPointsAbove), null when none. */
  verification: VerificationView | null;
}


interface Cart {
  member: MemberRow;
  items: CatalogRow[];
  lines: CartLine[];
  rulesId: number;
  rules: Rules;
  couponCode: string | null;
  base: SplitInput;
  quote: Quote;
}

export function mergeItems(items: CartItem[]): CartItem[] {
  const out = new Map<string, number>();
  for (const i of items) out.set(i.sku, (out.get(i.sku) ?? 0) + i.quantity);
  return [...out].map(([sku, quantity]) => ({ sku, quantity }));
}

function refuse(r: { code: string; message: string; hint?: string }): never {
  throw new RefusedError(r.code, r.message, r.hint);
}

/** Reads and checks everything a checkout needs; inside a write it sees the state the hold will act on. */
/** Per member, the points of holds that ran out (not released yet) that are free again: those in lots not lapsed (Books.ranOut). */
function ranOutFree(l: Ledger): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, r] of l.store.get(books).ranOut(l.nowIso, localDate(l.now.getTime(), l.zone))) out.set(id, r.points - r.lapsed);
  return out;
}

function buildCart(l: Ledger, input: CheckoutInput, opts: { countExpiredHoldsFree: boolean }): Cart {
  const member = l.store.get(members).get(input.memberId);
  if (!member) throw memberNotFound(l, input.memberId);
  if (member.status === 'frozen') {
    throw new RefusedError('MEMBER_FROZEN', `member ${member.id} is frozen (${member.frozen_reason ?? 'no reason given'})`, `lift it with: pointsmall member unfreeze ${member.id}`);
  }
  if (!input.items.length) throw new UsageError('no items to check out', 'add --item SKU[:QTY] (once per item)');
  const cat = l.store.get(catalog);
  const asRead = stockAsRead(l); // (a hold that ran out holds no stock: a write released it first)
  const items: CatalogRow[] = [];
  for (const it of mergeItems(input.items)) {
    const stored = cat.get(it.sku);
    if (!stored) throw itemNotFound(l, it.sku, 'list the catalog with: pointsmall catalog list');
    const row = asRead(stored);
    if (!Number.isSafeInteger(row.price * it.quantity) || it.quantity > 1_000_000) {
      throw new UsageError(`${it.quantity} × ${row.sku} is more than one checkout can hold`, 'order fewer units');
    }
    if (!row.active) throw new RefusedError('ITEM_INACTIVE', `item ${row.sku} (${row.name}) is inactive`, `put it back on sale with: pointsmall catalog activate ${row.sku}`);
    if (row.stock !== null && row.stock - row.stock_held < it.quantity) {
      throw new RefusedError('OUT_OF_STOCK', `${row.sku} is out of stock: ${it.quantity} wanted, ${Math.max(0, row.stock - row.stock_held)} available`, `restock with: pointsmall catalog update ${row.sku} --stock N`);
    }
    items.push({ ...row, stock_held: it.quantity }); // stock_held reused below as the quantity wanted
  }
  const lines: CartLine[] = items.map((row) => ({
    sku: row.sku,
    name: row.name,
    category: row.category,
    kind: row.kind,
    pay: row.pay,
    quantity: row.stock_held,
    unitPrice: row.price,
    pointsPrice: row.points_price,
    maxPointsRatio: row.max_points_ratio === null ? null : new Decimal(row.max_points_ratio),
    pointsDiscount: row.points_discount,
  }));
  const subtotal = lines.reduce((a, x) => a + x.unitPrice * x.quantity, 0);
  if (subtotal > AMOUNT_MAX) {
    throw new UsageError(`the items come to ${formatMoney(subtotal, l.digits)}, past the ceiling of ${formatMoney(AMOUNT_MAX, l.digits)} for one order`, 'order fewer units (README "Limits")');
  }
  const { id: rulesId, rules } = rulesAt(l, l.nowIso);

  let code: string | null = null;
  let coupon = null;
  if (input.coupon !== undefined) {
    code = normalizeCouponCode(input.coupon);
    const row = l.store.get(coupons).get(code);
    // An unknown code is an input error like an unknown member or SKU (exit 2); a known one may be refused (exit 3).
    if (!row) throw new NotFoundError('coupon', code, `list the member's coupons with: pointsmall coupon list --member ${member.id}`);
    // held by a checkout whose hold ran out (not released yet): free again for a read, as its points are
    const status = opts.countExpiredHoldsFree && row.status === 'held' ? couponReadStatus(row, ranOutOrders(l)) : row.status;
    const c = row && { code: row.code, memberId: row.member_id, sku: row.sku, value: row.value, percent: row.percent, expiresOn: row.expires_on, status };
    const why = couponRefusal(c, code, member.id, localDate(l.now.getTime(), l.zone));
    if (why) refuse(why);
    // a checkout dated before the coupon was issued (POINTSMALL_NOW set back): verify's coupons-match-use
    // would find the coupon used outside its life (trial 40)
    if (l.nowIso < row.issued_at) {
      refuse({
        code: 'COUPON_INVALID',
        message: `coupon ${code} was issued at ${localDateTime(row.issued_at, l.zone)}, after this checkout's time (${localDateTime(l.nowIso, l.zone)}): a checkout cannot be dated before the coupon it uses`,
        hint: datedBeforeHint(l),
      });
    }
    coupon = couponTerms(c!);
  }

  let available = availableOf(l, member);
  if (opts.countExpiredHoldsFree) available += ranOutFree(l).get(member.id) ?? 0;
  const base: SplitInput = { lines, coupon, redeem: rules.redeem, digits: l.digits, available, request: input.request };
  const out = split(base);
  if (!out.ok) refuse(out);
  if (input.expect) {
    const q = out.quote;
    if (q.pointsUsed !== input.expect.pointsUsed || formatMoney(q.cashPaid, l.digits) !== input.expect.cashPaid) {
      refuse({
        code: 'QUOTE_CHANGED',
        message: `the checkout changed since it was confirmed: now ${q.pointsUsed} points and ${formatMoney(q.cashPaid, l.digits)} cash, confirmed ${input.expect.pointsUsed} points and ${input.expect.cashPaid} cash`,
        hint: 'run the checkout again and confirm the new figures',
      });
    }
  }
  // Refused before anything is held or paid: the points earned at capture may not pass the ceiling (the
  // balance after the points this checkout spends; the lifetime points, which spending does not lower).
  const earned = earnOnCash(l, member, rules, lines.map((x) => ({ sku: x.sku, category: x.category, amount: x.unitPrice * x.quantity })), out.quote.cashPaid, out.quote.total, l.nowIso);
  if (earned > POINTS_MAX - Math.max(member.balance - out.quote.pointsUsed, member.lifetime_earned, 0)) {
    throw new RefusedError('POINTS_CEILING', `this checkout would earn member ${member.id} ${earned} points, past the ceiling of ${POINTS_MAX} points for a balance`, 'a balance holds at most 10^12 points (README "Limits")');
  }
  return { member, items, lines, rulesId, rules, couponCode: code, base, quote: out.quote };
}

/** §4.1 on the cash part: the cash paid spread over the lines by amount, each with its multiplier. */
function earnOnCash(l: Ledger, member: MemberRow, rules: Rules, lines: { sku: string; category: string | null; amount: number }[], cashPaid: number, total: number, atIso: string): Points {
  let earnedToday = 0;
  if (rules.limits.dailyEarnCap !== null) {
    const today = localDate(atIso, l.zone);
    const { fromIso, toIso } = localRangeUtc(l.zone, today, today);
    earnedToday = l.store.get(orders).earnedBetween(member.id, fromIso!, toIso!);
  }
  return computeEarn({
    rules,
    lines: cashEarnLines(cashPaid, lines),
    at: Date.parse(atIso),
    zone: l.zone,
    digits: l.digits,
    pinnedTier: member.tier,
    lifetimeEarned: member.lifetime_earned,
    earnedTodayBeforeThisOrder: earnedToday,
    orderTotal: total,
  }).points;
}

function quoteView(l: Ledger, cart: Cart, tender: Tender): QuoteResult {
  const money = (m: number) => formatMoney(m, l.digits);
  const q = cart.quote;
  const shares = splitLines(q);
  const earned = earnOnCash(l, cart.member, cart.rules, cart.lines.map((x) => ({ sku: x.sku, category: x.category, amount: x.unitPrice * x.quantity })), q.cashPaid, q.total, l.nowIso);
  return {
    status: 'quote',
    memberId: cart.member.id,
    currency: l.currency,
    subtotal: money(q.subtotal),
    discount: money(q.discount),
    total: money(q.total),
    pointsUsed: q.pointsUsed,
    pointsValue: money(q.pointsValue),
    pointsDiscount: money(q.pointsDiscount),
    cashPaid: money(q.cashPaid),
    ...(paidWith(q.pointsUsed, q.cashPaid, tender) as { tender: Tender | null; paidWith: string | null }),
    pointsEarned: earned,
    balance: cart.member.balance,
    available: q.available,
    maxUsablePoints: q.maxUsablePoints,
    pointsStep: q.pointsStep,
    minPoints: cart.rules.redeem.minPoints,
    requiredPoints: q.requiredPoints,
    allowedPoints: q.allowed,
    allowedText: q.allowedText,
    note: q.note,
    coupon: cart.couponCode,
    lines: q.lines.map((x, i) => ({
      sku: x.sku,
      name: x.name,
      pay: x.pay,
      kind: x.kind,
      quantity: x.quantity,
      unitPrice: money(x.unitPrice),
      amount: money(x.amount),
      discount: money(x.discount),
      coverable: money(x.coverable),
      requiredPoints: x.requiredPoints,
      pointsDiscountPercent: x.pointsDiscountPct,
      pointsDiscount: money(shares[i].pointsDiscount),
    })),
  };
}

/** `checkout quote`: the breakdown only, nothing written. */
export async function quoteCheckout(ctx: Ctx, input: CheckoutInput): Promise<QuoteResult> {
  return withLedger(ctx, (l) => l.store.read(() => quoteView(l, buildCart(l, input, { countExpiredHoldsFree: true }), input.tender ?? 'cash')));
}

export interface PointsPreview {
  ok: boolean;
  pointsUsed: number;
  pointsValue: string;
  /** Issue 18: what the points pay above their value on points-discounted items. */
  pointsDiscount: string;
  cashPaid: string;
  problem?: string;
}

/**
 * For the interactive prompt: the quote of the request as given (so what is confirmed is what is charged;
 * a request that cannot be met is refused here, before anything is asked) plus a pure function previewing
 * any typed number of points.
 */
export async function prepareCheckout(ctx: Ctx, input: CheckoutInput): Promise<{ quote: QuoteResult; preview: (points: number) => PointsPreview }> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const cart = buildCart(l, input, { countExpiredHoldsFree: true });
      const digits = l.digits;
      const preview = (points: number): PointsPreview => {
        const r = split({ ...cart.base, request: { kind: 'points', points } });
        if (!r.ok) return { ok: false, pointsUsed: 0, pointsValue: formatMoney(0, digits), pointsDiscount: formatMoney(0, digits), cashPaid: formatMoney(cart.quote.total, digits), problem: r.plain ?? r.message };
        return { ok: true, pointsUsed: r.quote.pointsUsed, pointsValue: formatMoney(r.quote.pointsValue, digits), pointsDiscount: formatMoney(r.quote.pointsDiscount, digits), cashPaid: formatMoney(r.quote.cashPaid, digits) };
      };
      return { quote: quoteView(l, cart, input.tender ?? 'cash'), preview };
    }),
  );
}

function requestHash(command: string, input: CheckoutInput): string {
  const body = {
    command,
    memberId: input.memberId,
    items: mergeItems(input.items).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0)),
    request: input.request,
    coupon: input.coupon ? normalizeCouponCode(input.coupon) : null,
    tender: input.tender ?? 'cash',
    decline: Boolean(input.decline),
  };
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** Holds points, stock and coupon and writes the order (status held). Inside a write. */
function holdOrder(l: Ledger, input: CheckoutInput, command: 'checkout' | 'start'): string {
  const cart = buildCart(l, input, { countExpiredHoldsFree: false });
  const q = cart.quote;
  checkVelocity(l, cart.member, cart.rules, q.pointsUsed);
  const verify = needsCode(cart.rules, q.pointsUsed);
  if (verify) refuseUnverifiable(cart.member, cart.rules, q.pointsUsed, command, input);
  const repo = l.store.get(orders);
  const orderId = repo.nextId();
  const shares = splitLines(q);
  repo.insert(
    {
      id: orderId,
      member_id: cart.member.id,
      status: 'held',
      created_at: l.nowIso,
      rules_version: cart.rulesId,
      tender: input.tender ?? null,
      coupon_code: cart.couponCode,
      subtotal: q.subtotal,
      discount: q.discount,
      total: q.total,
      points_used: q.pointsUsed,
      points_value: q.pointsValue,
      cash_paid: q.cashPaid,
      operator: l.operator,
      points_discount: q.pointsDiscount,
    },
    q.lines.map((x, i) => ({
      order_id: orderId,
      line_no: i + 1,
      sku: x.sku,
      name: x.name,
      category: x.category,
      kind: x.kind,
      pay: x.pay,
      quantity: x.quantity,
      unit_price: x.unitPrice,
      amount: x.amount,
      discount: x.discount,
      points: shares[i].points,
      cash: shares[i].cash,
      points_discount_pct: x.pointsDiscountPct,
      points_discount: shares[i].pointsDiscount,
      points_ratio: x.pointsRatio,
      points_spread: x.pay === 'mixed' ? SPREAD_WITHIN_LINE_CAPS : null,
    })),
  );
  const held = placeHold(l, { orderId, memberId: cart.member.id, points: q.pointsUsed, lines: q.lines.map((x) => ({ sku: x.sku, quantity: x.quantity })), couponCode: cart.couponCode });
  recordAudit(l, 'checkout.hold', orderId, { memberId: cart.member.id, items: mergeItems(input.items), pointsUsed: q.pointsUsed, cashPaid: formatMoney(q.cashPaid, l.digits), coupon: cart.couponCode });
  if (verify) sendCode(l, orderId, cart.member, q.pointsUsed, held.expiresAt);
  return orderId;
}

function resultOf(l: Ledger, o: OrderRow, replayed = false): CheckoutResult {
  const m = l.store.get(members).get(o.member_id)!;
  const hold = l.store.get(holds).byOrder(o.id);
  return {
    ...orderView(l, o),
    checkoutId: o.id,
    balance: m.balance,
    available: availableOf(l, m),
    expiresAt: hold && hold.status === 'open' ? hold.expires_at : null,
    pointsToEarn: o.status === 'held' ? toEarn(l, m, o) : null,
    replayed,
    verification: verificationOf(l, o.id),
  };
}

/** What captureOrder would credit for the order now. */
function toEarn(l: Ledger, member: MemberRow, o: OrderRow): Points {
  const lines = l.store.get(orders).lines(o.id);
  return earnOnCash(l, member, rulesOfVersion(l, o.rules_version), lines.map((x) => ({ sku: x.sku, category: x.category, amount: x.amount })), o.cash_paid, o.total, o.created_at);
}

/** Capture: redemption, stock, coupon used, coupons issued, points earned on the cash part, order.confirmed queued. */
function captureOrder(l: Ledger, orderId: string, tender: Tender): void {
  const repo = l.store.get(orders);
  const o = repo.get(orderId)!;
  captureHold(l, orderId);
  const member = l.store.get(members).get(o.member_id)!;
  const lines = repo.lines(orderId);
  // the version the order recorded when its deal was made (a version applied since, even one backdated
  // to before the start, changes neither what its points paid nor what its cash earns)
  const rules = rulesOfVersion(l, o.rules_version);
  const earned = earnOnCash(l, member, rules, lines.map((x) => ({ sku: x.sku, category: x.category, amount: x.amount })), o.cash_paid, o.total, o.created_at);
  if (earned > 0) {
    creditPoints(l, { memberId: o.member_id, points: earned, at: l.nowIso, kind: 'accrual', from: 'issued', expiresOn: expiresOn(rules.expiry, l.now.getTime(), l.zone), ref: orderId });
  }
  const earnedShares = spreadEarned(earned, lines.map((x) => x.cash));
  repo.markPaid(orderId, l.nowIso, tender, earned, earnedShares);

  // A coupon item issues one single-use code per unit, to the buyer.
  const cat = l.store.get(catalog);
  const cp = l.store.get(coupons);
  const today = localDate(l.now.getTime(), l.zone);
  for (const line of lines) {
    if (line.kind !== 'coupon') continue;
    const item = cat.get(line.sku)!;
    for (let u = 0; u < line.quantity; u++) {
      let code = couponCode(randomBytes(8));
      while (cp.exists(code)) code = couponCode(randomBytes(8));
      cp.insert({
        code,
        member_id: o.member_id,
        sku: line.sku,
        order_id: orderId,
        line_no: line.line_no,
        value: item.coupon_value,
        percent: item.coupon_value === null ? item.coupon_percent : null,
        issued_at: l.nowIso,
        expires_on: couponExpiresOn(today, item.coupon_days ?? 30),
      });
    }
  }
  queueOrderConfirmed(l, repo.get(orderId)!, l.store.get(members).get(o.member_id)!);
  // (no cash part: no tender, as the order says)
  recordAudit(l, 'checkout.capture', orderId, { tender: o.cash_paid > 0 ? tender : null, pointsEarned: earned });
}

/** Queues the order.confirmed notification (sms to a phone, else email, else none) in the capture's transaction. */
function queueOrderConfirmed(l: Ledger, o: OrderRow, m: MemberRow): void {
  const money = (x: number) => formatMoney(x, l.digits);
  l.store.get(outbox).enqueue({
    createdAt: l.nowIso,
    topic: 'order.confirmed',
    memberId: m.id,
    dedupeKey: `order.confirmed:${o.id}`,
    contact: { phone: m.phone, email: m.email },
    payload: {
      orderId: o.id,
      memberId: m.id,
      name: m.name,
      total: money(o.total),
      discount: money(o.discount),
      pointsUsed: o.points_used,
      pointsValue: money(o.points_value),
      pointsDiscount: money(o.points_discount),
      cashPaid: money(o.cash_paid),
      ...paidWith(o.points_used, o.cash_paid, o.tender, o.status), // a points-only order has no cash tender
      pointsEarned: o.points_earned,
      currency: l.currency,
      balance: m.balance,
    },
  });
}

/**
 * Runs the simulated payment of the cash part. Test hooks: POINTSMALL_PAYMENT_DELAY_MS slows it (tests kill
 * a process mid-payment); POINTSMALL_PAYMENT_BARRIER=DIR makes it write DIR/paying and wait for DIR/go, so
 * a test can run another command at exactly this point (races without sleeps).
 */
async function simulatePayment(decline: boolean, orderId: string, signal: AbortSignal): Promise<boolean> {
  const delay = Number(process.env.POINTSMALL_PAYMENT_DELAY_MS ?? 0);
  if (delay > 0) await sleep(delay, undefined, { signal });
  const barrier = process.env.POINTSMALL_PAYMENT_BARRIER;
  if (barrier) {
    const { existsSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(barrier, 'paying'), orderId);
    while (!existsSync(join(barrier, 'go'))) await sleep(10, undefined, { signal });
  }
  return !decline;
}

/**
 * Ctrl-C or a SIGTERM while a payment runs (or while its answer waits for the ledger) would leave an approved
 * payment recorded nowhere, silently. On a terminal the first Ctrl-C only says so and the command keeps
 * waiting for the answer; a second one, a Ctrl-C on a pipe or a SIGTERM stops it, and the command says
 * what may have been charged and what to do (exit 130, 143 for SIGTERM), the order left fenced.
 */
function interruptGuard(orderId: string, tell: Ctx['tell']): { signal: AbortSignal; stoppedBy: () => 'SIGINT' | 'SIGTERM' | null; answered: () => void; done: () => void } {
  const ac = new AbortController();
  let by: 'SIGINT' | 'SIGTERM' | null = null;
  let warned = false;
  let answered = false;
  const onInt = () => {
    if (!warned && tell) {
      warned = true;
      tell(
        answered
          ? `the payment of checkout ${orderId} was answered: waiting for the ledger to record it; press Ctrl-C again to stop waiting (the payment is then recorded nowhere)`
          : `checkout ${orderId} is being paid: waiting for the payment's answer so that it is recorded; press Ctrl-C again to stop waiting (a payment approved after that is recorded nowhere)`,
      );
      return;
    }
    if (tell) tell('stopped waiting');
    by = 'SIGINT';
    ac.abort();
  };
  const onTerm = () => {
    by = 'SIGTERM';
    ac.abort();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: ac.signal,
    stoppedBy: () => by,
    answered: () => void (answered = true),
    done: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** A payment stopped by a signal: what it may have done, and what to do about it. */
function paymentInterrupted(l: Ledger, orderId: string, tender: Tender, approved: boolean | null, by: 'SIGINT' | 'SIGTERM', fenceEnd: string): PaymentInterruptedError {
  const o = l.store.get(orders).get(orderId)!;
  const amount = `${formatMoney(o.cash_paid, l.digits)} ${tender}`;
  const what =
    approved === null
      ? `the ${amount} payment had no answer yet: it may still be approved, and is then recorded nowhere`
      : approved
        ? `the ${amount} payment was approved but is not recorded`
        : 'the payment was declined: nothing was paid';
  const hint = approved === false ? `its hold (points, stock, coupon) stays until ${shownInstant(fenceEnd, l.zone)}, then: pointsmall checkout cancel ${orderId}` : unansweredHint(l, o, tender, fenceEnd, approved === true);
  return new PaymentInterruptedError(`interrupted (${by === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}) while paying checkout ${orderId}: ${what}; the order stays held and fenced until ${shownInstant(fenceEnd, l.zone)}`, hint, by === 'SIGINT' ? 130 : 143);
}

/**
 * What to do about a payment that was started and never recorded (interrupted, its process killed, the
 * ledger locked past the wait): find out whether the money was taken, then record it (--already-paid), pay
 * it, or cancel; never simply pay again. After the fence, while the hold lasts; a hold that ends with the
 * fence leaves only reversing the charge.
 */
function unansweredHint(l: Ledger, o: OrderRow, tender: Tender, fenceEnd: string, approved: boolean): string {
  const until = shownInstant(fenceEnd, l.zone);
  const hold = l.store.get(holds).byOrder(o.id);
  const { check, taken } = moneyBackWords(tender);
  if (!hold || hold.status !== 'open' || hold.expires_at <= fenceEnd) {
    return `${approved ? taken : `${check}: if it was paid, ${taken}`} (the hold ends with the fence at ${until}, so this order cannot be completed); then start a new checkout`;
  }
  const holdEnd = shownInstant(hold.expires_at, l.zone);
  const record = `record it after ${until} (before the hold expires at ${holdEnd}) with: pointsmall checkout confirm ${o.id} --already-paid`;
  if (approved) return `${record}; or ${taken} and cancel it: pointsmall checkout cancel ${o.id}`;
  return `${check}: if it was paid, ${record}; if not, after ${until} pay it with: pointsmall checkout confirm ${o.id} --tender ${tender}, or cancel it: pointsmall checkout cancel ${o.id}`;
}

/** How to find out whether an unrecorded payment took the money, and how to give it back, for its tender. */
const moneyBackWords = (tender: Tender): { check: string; taken: string } =>
  tender === 'cash' ? { check: 'check whether the cash was taken', taken: 'give the cash back' } : { check: 'check the payment terminal', taken: 'reverse the charge' };

/** A retried idempotency key whose first try started a payment that never recorded an answer: paying again could charge twice. */
function outcomeUnknown(l: Ledger, o: OrderRow, key: string): RefusedError {
  const tender = (o.tender ?? 'cash') as Tender;
  const hold = l.store.get(holds).byOrder(o.id);
  const open = o.status === 'held' && hold?.status === 'open' && hold.expires_at > l.nowIso;
  const { check, taken } = moneyBackWords(tender);
  return new RefusedError(
    'PAYMENT_OUTCOME_UNKNOWN',
    `the first try under idempotency key ${JSON.stringify(key)} (checkout ${o.id}) started a ${formatMoney(o.cash_paid, l.digits)} ${tender} payment that never recorded an answer (it was interrupted or its process died): it may have been paid, so this retry paid nothing`,
    open
      ? `${check}: if it was paid, record it (before the hold expires at ${shownInstant(hold!.expires_at, l.zone)}) with: pointsmall checkout confirm ${o.id} --already-paid; if not, pay it with: pointsmall checkout confirm ${o.id} --tender ${tender}, or cancel it: pointsmall checkout cancel ${o.id}; this key then returns what was done`
      : `${check}: if it was paid, ${taken} (checkout ${o.id} is ${o.status}); then pay with a new --idempotency-key`,
  );
}

export const DEFAULT_PAYMENT_MINUTES = 10;

/** Minutes a started payment fences its order (ledger setting payment_minutes, else 10): a confirm that died mid-payment frees it after that. */
function paymentMinutes(l: Ledger): number {
  const v = Number(l.store.get(settings).get('payment_minutes'));
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_PAYMENT_MINUTES;
}

/** What a payment needs to know once it runs, read inside the write that fenced it: between the fence and the answer nothing is read, so a connection lost meanwhile loses nothing. */
interface Fence {
  /** the cash part (0: points only, or a coupon covered it: no payment, no fence) */
  cash: number;
  minutes: number;
  /** when the fence ends (at the command's own clock) */
  end: string;
  /** PostgreSQL: what to do if the server is gone when the answer must be recorded */
  lostHint: string;
}

/**
 * The fence (issue 14): from here until the payment settles, `checkout cancel` is refused and the hold
 * does not run out, so an approved payment always captures. Inside the write that checked the order is held.
 */
function fencePayment(l: Ledger, orderId: string, tender: Tender): Fence {
  const o = l.store.get(orders).get(orderId)!;
  const fence = { cash: o.cash_paid, minutes: paymentMinutes(l), end: fenceEndOf(l), lostHint: '' };
  if (o.cash_paid === 0) return fence; // points only (or covered by a coupon): nothing to pay, no terminal, no fence
  l.store.get(orders).fencePayment(orderId, fence.end, tender, l.nowIso);
  // A payment that never answers (the command stopped or died) can be recorded with --already-paid only
  // while the hold lasts after the fence: it lasts hold-minutes past it, wherever in the hold the payment
  // started (trial 28: a confirm in a hold's last minutes left no time), and whatever the two settings.
  l.store.get(holds).outlast(orderId, new Date(Date.parse(fence.end) + holdMinutes(l) * 60_000).toISOString());
  recordAudit(l, 'checkout.pay', orderId, { tender, cash: formatMoney(o.cash_paid, l.digits), fencedUntil: fence.end });
  if (l.store.pg) fence.lostHint = unansweredHint(l, o, tender, fence.end, true);
  return fence;
}

/** When a payment started now is fenced until: its minutes on, rounded up to the whole minute, so every message shows the same time. */
function fenceEndOf(l: Ledger): string {
  return new Date(Math.ceil((l.now.getTime() + paymentMinutes(l) * 60_000) / 60_000) * 60_000).toISOString();
}

const isPaying = (l: Ledger, o: OrderRow): boolean => o.status === 'held' && o.paying_until !== null && o.paying_until > l.nowIso;

/**
 * A second payment of a fenced order (another confirm, a decline, a retried key) is refused: only the
 * payment that fenced it may settle it, so nothing is charged twice and an approved payment is never
 * lost to a decline. Inside the write that would fence the order again.
 */
function refuseWhilePaying(l: Ledger, o: OrderRow, doing: 'confirm' | 'decline' | 'retry' | 'cancel'): void {
  if (!isPaying(l, o)) return;
  // the fence ends on a whole minute (fenceEndOf; an older one is rounded up, never shown cut short)
  const after = shownInstant(new Date(Math.ceil(Date.parse(o.paying_until!) / 60_000) * 60_000).toISOString(), l.zone);
  const hold = l.store.get(holds).byOrder(o.id);
  const endsWithFence = !hold || hold.status !== 'open' || hold.expires_at <= o.paying_until!;
  throw new RefusedError(
    'PAYMENT_IN_PROGRESS',
    `checkout ${o.id} is being paid by another command (a confirm or checkout started paying it, fenced until ${shownInstant(o.paying_until!, l.zone)}); ${doing === 'cancel' ? 'it cannot be cancelled now' : `this ${doing} charged nothing`}`,
    endsWithFence
      ? `see how it ends with: pointsmall order show ${o.id}; if that command died mid-payment, its hold ends with the fence at ${after}, so the order cannot be completed then: check the payment terminal, reverse any charge for it, and start a new checkout`
      : `see how it ends with: pointsmall order show ${o.id}; if that command died mid-payment, check the payment terminal, then ${doing === 'cancel' ? 'cancel' : 'try again'} at ${after} or later`,
  );
}

/**
 * Payment and then capture or void, for an order whose hold is open. Once the payment has an answer it
 * must be recorded: locked out by another writer (an import's batch), the settling write is tried again
 * while the order is fenced (up to half the fence, at least the busy timeout), and only then does the
 * command give up, saying what happened to the payment and what stays held (never "nothing was written").
 */
async function payAndSettle(l: Ledger, tell: Ctx['tell'], orderId: string, tender: Tender, decline: boolean, fence: Fence, key?: string): Promise<CheckoutResult> {
  const { cash, minutes, end: fenceEnd, lostHint } = fence;
  let lost = false;
  const guard = cash > 0 ? interruptGuard(orderId, tell) : { signal: new AbortController().signal, stoppedBy: () => null, answered: () => undefined, done: () => undefined };
  let approved: boolean | null = null;
  try {
    approved = cash > 0 ? await simulatePayment(decline, orderId, guard.signal) : !decline;
    guard.answered();
    const waitMs = Math.max(l.store.busyTimeoutMs, (minutes * 60_000) / 2);
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        if (lost) l.store.reconnect(); // (the server dropped the connection: a new one, if it is back)
        return settle(l, orderId, tender, approved, key, lost ? fenceEnd : null);
      } catch (e) {
        // the ledger was replaced while the payment ran (init --force, demo, db restore): its order is not
        // there to record the answer in (trial 40b: it named the amount of another order of that id)
        if (e instanceof LedgerReplacedError && approved) {
          throw new RefusedError(
            'PAYMENT_NOT_RECORDED',
            `the ${tender} payment of ${formatMoney(cash, l.digits)} for checkout ${orderId} was approved, but the ledger was replaced while it ran (init --force, demo or db restore): this payment is recorded nowhere`,
            'reverse it at the payment terminal; the order is in the copy that command kept aside',
          );
        }
        const busy = mapBusy(e, l.path, l.store.busyTimeoutMs) instanceof BusyError;
        // PostgreSQL: the connection broke (a restart, a failover): the answer is recorded on a new one
        lost = !busy && connectionLost(e);
        if (!busy && !lost) throw unsettled(l, e, orderId, tender, approved, cash, fenceEnd);
        if (Date.now() >= until) throw lost ? settleLost(e, waitMs, orderId, tender, approved, cash, l.digits, lostHint) : settleBusy(l, waitMs, orderId, tender, approved, fenceEnd);
        await sleep(lost ? 500 : 50, undefined, { signal: guard.signal }); // (a lock refused at once, as a stale snapshot is, is not tried again in a busy loop)
      }
    }
  } catch (e) {
    const by = guard.stoppedBy();
    if (by && guard.signal.aborted) throw paymentInterrupted(l, orderId, tender, approved, by, fenceEnd);
    throw e;
  } finally {
    guard.done();
  }
}

/**
 * Any other failure of the settling write (a statement_timeout, a GRANT the role lacks, a full disk):
 * the payment's answer and the hold are what the command must tell, never the error's own "nothing was
 * written … run the command again", which would charge an approved payment twice (trial 43b). Refusals
 * that already say what became of the payment pass as they are.
 */
function unsettled(l: Ledger, e: unknown, orderId: string, tender: Tender, approved: boolean, cash: number, fenceEnd: string): unknown {
  const err = mapServerCode(e);
  if (err instanceof PointsmallError && (err.code === 'PAYMENT_NOT_RECORDED' || (err.exitCode === EXIT.refused && !(approved && cash > 0)))) return err;
  const cause = String((err as Error)?.message ?? err).split(' [in:')[0];
  // the ledger may still be readable (a lacking GRANT, a cancelled statement): the hint then names the hold's end
  const what = (approvedNow: boolean) => {
    try {
      const o = l.store.get(orders).get(orderId);
      return o ? unansweredHint(l, o, tender, fenceEnd, approvedNow) : null;
    } catch {
      return null;
    }
  };
  const code = err instanceof PointsmallError ? err.code : 'INTERNAL';
  const exitCode = err instanceof PointsmallError ? err.exitCode : EXIT.internal;
  if (approved && cash > 0) {
    return new RefusedError(
      'PAYMENT_NOT_RECORDED',
      `the ${tender} payment of ${formatMoney(cash, l.digits)} for checkout ${orderId} was approved, but recording it failed (${cause}): it is not recorded, and the order stays held (its points and stock with it)`,
      `do not pay it again; fix the cause (${code}), then ${what(true) ?? `record it with: pointsmall checkout confirm ${orderId} --already-paid`}`,
    );
  }
  const done = cash > 0 ? `the payment of checkout ${orderId} was declined, nothing was paid, but recording the decline failed` : `checkout ${orderId} charged nothing, but completing it failed`;
  return new PointsmallError(`${done} (${cause}): its hold (points, stock, coupon) stays until it is cancelled or expires`, {
    code,
    exitCode,
    hint: `fix the cause, then ${cash > 0 ? `cancel it: pointsmall checkout cancel ${orderId}` : `complete it: pointsmall checkout confirm ${orderId}, or cancel it: pointsmall checkout cancel ${orderId}`}`,
  });
}

/** Whether the PostgreSQL server dropped the connection, or cannot be reached again after it did. */
function connectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  // (a socket's errors on a new connection come as PG_ and their name: PG_ECONNREFUSED while the server is down)
  return e instanceof ConnectionLostError || code === 'PG_CONNECTION_LOST' || (typeof code === 'string' && /^PG_E[A-Z]+$/.test(code));
}

/** The connection to the server was lost and not back in time to record the payment's answer: what the payment did. */
function settleLost(e: unknown, waited: number, orderId: string, tender: Tender, approved: boolean, cash: number, digits: number, hint: string): ConnectionLostError {
  const detail = String((e as Error)?.message ?? e).split(' [in:')[0];
  return approved
    ? new ConnectionLostError(
        detail,
        `the ${tender} payment of ${formatMoney(cash, digits)} for checkout ${orderId} was approved, but the server could not be reached to record it for ${Math.round(waited / 1000)} s: it is not recorded, and the order stays held (its points and stock with it)`,
        `when the server is back, do not pay it again: ${hint}`,
      )
    : new ConnectionLostError(detail, `the payment of checkout ${orderId} was declined, nothing was paid; its hold (points, stock, coupon) stays until the fence ends or the hold expires`, `when the server is back: pointsmall checkout cancel ${orderId}`);
}

/** A settling write that could not get the ledger, worded for what the payment did. */
function settleBusy(l: Ledger, waited: number, orderId: string, tender: Tender, approved: boolean, fenceEnd: string): BusyError {
  const hint = approved
    ? `the ${tender} payment of checkout ${orderId} was approved but is not recorded: the order stays held, its points and stock with it, and cannot be confirmed again or cancelled while fenced (until ${shownInstant(fenceEnd, l.zone)}); ${unansweredHint(l, l.store.get(orders).get(orderId)!, tender, fenceEnd, true)}`
    : `the payment of checkout ${orderId} was declined, nothing was paid; its hold (points, stock, coupon) stays until the fence ends or the hold expires, then: pointsmall checkout cancel ${orderId}`;
  return new BusyError(l.path, waited, hint);
}

/**
 * Records the payment's answer. `retriedUntil`: the write is tried again on a new connection after the old
 * one broke, so its first try may have committed before the break; the order is fenced until then, so no
 * other command can have paid it: found paid by this tender, it was this payment.
 */
function settle(l: Ledger, orderId: string, tender: Tender, approved: boolean, key?: string, retriedUntil: string | null = null): CheckoutResult {
  return l.store.write(() => {
    const repo = l.store.get(orders);
    const gone = repo.get(orderId);
    if (!gone && approved) {
      throw new RefusedError(
        'PAYMENT_NOT_RECORDED',
        `the ${tender} payment for checkout ${orderId} was approved, but the order is no longer in the ledger (it was restored from a backup meanwhile?): this payment is recorded nowhere`,
        'reverse it at the payment terminal; see the orders with: pointsmall order list',
      );
    }
    const o = requireOrder(l, orderId);
    if (o.status !== 'held') {
      if (retriedUntil !== null && approved && o.status === 'paid' && o.tender === tender && l.nowIso < retriedUntil) {
        const done = key ? repo.idempotency(key) : undefined;
        return done?.result ? (JSON.parse(done.result) as CheckoutResult) : resultOf(l, o);
      }
      // Another process settled it first (a retried key), or the hold ran out while paying: once this
      // payment outlasted the fence. Money this one took is then recorded nowhere, which it must say.
      if (approved && o.cash_paid > 0) throw unrecordedPayment(l, o, tender);
      const done = key ? repo.idempotency(key) : undefined;
      if (done?.result) return { ...(JSON.parse(done.result) as CheckoutResult), replayed: true };
      if (o.status === 'paid') return resultOf(l, o, true);
      throw closedError(l, o);
    }
    if (!approved) {
      releaseHold(l, orderId, 'declined', tender);
      recordAudit(l, 'checkout.decline', orderId, { tender });
    } else {
      refuseLapsedHold(l, o); // checked before the fence with the same clock: only a guard here
      captureOrder(l, orderId, tender);
    }
    const result = resultOf(l, repo.get(orderId)!);
    if (key) repo.completeIdempotency(key, result, approved ? 0 : 3, l.nowIso);
    return result;
  });
}

/** An approved payment that found its order settled by another command (after the fence ended): not recorded. */
function unrecordedPayment(l: Ledger, o: OrderRow, tender: Tender): RefusedError {
  const now = o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded' ? `${o.status.replace('_', ' ')}${o.cash_paid > 0 && o.tender ? ` (by ${o.tender})` : ''}` : o.status;
  return new RefusedError(
    'PAYMENT_NOT_RECORDED',
    `the ${tender} payment of ${formatMoney(o.cash_paid, l.digits)} for checkout ${o.id} was approved, but the payment took longer than its fence and another command settled the order meanwhile (it is ${now}): this payment is recorded nowhere in the ledger`,
    `reverse it at the payment terminal; see the order with: pointsmall order show ${o.id}`,
  );
}

/**
 * SPEC §4.6: a member in debt has no usable points. A void or a return took back points this checkout holds
 * (a take-back never reaches held points, so they became debt): spending them would spend points the
 * member no longer has. The held points repay the debt when the checkout is cancelled.
 */
function refuseHeldInDebt(l: Ledger, o: OrderRow, debt: number): void {
  const hold = l.store.get(holds).byOrder(o.id);
  if (!hold || hold.status !== 'open' || hold.points <= 0 || debt <= 0) return;
  throw new RefusedError(
    'MEMBER_IN_DEBT',
    `member ${o.member_id} owes ${debt} ${debt === 1 ? 'point' : 'points'} (a void or a return took back points after checkout ${o.id} held them), so the ${hold.points} held points cannot be spent; nothing was paid or taken`,
    `cancel it (pointsmall checkout cancel ${o.id}): its points repay the debt first; then start the checkout again${debt < hold.points ? ' with fewer points' : ' with cash'}`,
  );
}

/**
 * §7 "Expired is expired": held points are spent when the checkout is captured, so points whose lot
 * lapsed after the hold (a confirm after midnight of its expiresOn) cannot be: the capture is refused
 * before anything is written; so is the capture of a coupon held past its expiresOn (refuseLapsedCoupon).
 * Inside the write that would fence or capture the order.
 */
function refuseLapsedHold(l: Ledger, o: OrderRow): void {
  const hold = l.store.get(holds).byOrder(o.id);
  if (!hold || hold.status !== 'open') return;
  refuseLapsedCoupon(l, o);
  if (hold.points <= 0) return;
  const lapsed = lapsedHeld(l.store.get(holds).lotExpiries(hold.id), ledgerToday(l));
  if (lapsed.points <= 0) return;
  const some = lapsed.points === hold.points ? `all ${hold.points}` : `${lapsed.points} of the ${hold.points}`;
  throw new RefusedError(
    'HELD_POINTS_LAPSED',
    `${some} points held by checkout ${o.id} lapsed at the end of ${lapsed.expiresOn} (${l.zone}) and can no longer be spent; nothing was paid or taken`,
    `cancel it (pointsmall checkout cancel ${o.id}) and start the checkout again`,
  );
}

/**
 * The same for a held coupon: usable through its expiresOn in the ledger's zone, so a confirm after
 * that day is refused as a direct checkout with it would be; the hold stays until cancelled or expired.
 */
function refuseLapsedCoupon(l: Ledger, o: OrderRow): void {
  if (!o.coupon_code) return;
  const c = l.store.get(coupons).get(o.coupon_code);
  if (!c || c.status !== 'held' || c.expires_on >= ledgerToday(l)) return;
  throw new RefusedError(
    'HELD_COUPON_LAPSED',
    `coupon ${c.code} held by checkout ${o.id} expired at the end of ${c.expires_on} (${l.zone}) and can no longer be redeemed; nothing was paid or taken`,
    `cancel it (pointsmall checkout cancel ${o.id}) and start the checkout again`,
  );
}

function closedError(l: Ledger, o: OrderRow): RefusedError {
  if (paymentUnanswered(o, l.nowIso)) {
    const tender = o.tender ?? 'cash';
    return new RefusedError(
      o.status === 'expired' ? 'HOLD_EXPIRED' : 'CHECKOUT_CLOSED',
      `checkout ${o.id} ${o.status === 'expired' ? 'expired before it was confirmed' : `is ${o.status}`}, its points and stock released; a ${formatMoney(o.cash_paid, l.digits)} ${tender} payment was started for it and never recorded an answer, and cannot be recorded now`,
      `${tender === 'cash' ? 'check whether the cash was taken: if it was, give it back' : 'check the payment terminal: if it was paid, reverse the charge'}; then start a new checkout`,
    );
  }
  if (o.status === 'expired') return new RefusedError('HOLD_EXPIRED', `checkout ${o.id} expired before it was confirmed; its points and stock were released`, 'start a new checkout');
  return new RefusedError('CHECKOUT_CLOSED', `checkout ${o.id} is ${o.status}`, `see it with: pointsmall order show ${o.id}`);
}

type Phase1 = { replay: CheckoutResult } | { orderId: string };

/** Phase one inside a write: the idempotency key (replay, resume or claim) and the hold. */
function startPhase(l: Ledger, command: 'checkout' | 'start', input: CheckoutInput): Phase1 {
  const key = input.idempotencyKey;
  const repo = l.store.get(orders);
  if (key) {
    const hash = requestHash(command, input);
    const prior = repo.idempotency(key);
    if (prior) {
      if (prior.command !== command || prior.request_hash !== hash) {
        throw new UsageError(`idempotency key ${JSON.stringify(key)} was used for a different request`, 'use a new key for a new checkout', 'IDEMPOTENCY_CONFLICT');
      }
      // a retried start returns its order as it is now (confirmed, being paid, cancelled since), not the hold it made
      if (prior.result && command === 'start' && prior.order_id && repo.get(prior.order_id)) return { replay: resultOf(l, repo.get(prior.order_id)!, true) };
      if (prior.result) return { replay: { ...(JSON.parse(prior.result) as CheckoutResult), replayed: true } };
      const o = prior.order_id ? repo.get(prior.order_id) : undefined;
      if (o && command === 'checkout') refuseWhilePaying(l, o, 'retry');
      if (o && command === 'checkout' && paymentUnanswered(o, l.nowIso)) throw outcomeUnknown(l, o, key);
      if (o && o.status === 'held') {
        // the first attempt stopped after its hold: carry on, unless it is paying (above) or its points lapsed since
        if (command === 'checkout') refuseLapsedHold(l, o);
        return { orderId: o.id };
      }
      if (o && o.status === 'paid') return { replay: resultOf(l, o, true) };
      const orderId = holdOrder(l, input, command); // the first attempt's hold ran out: try again under the same key
      repo.setIdempotencyOrder(key, orderId);
      return { orderId };
    }
    const orderId = holdOrder(l, input, command);
    repo.claimIdempotency(key, command, hash, orderId, l.nowIso);
    return { orderId };
  }
  return { orderId: holdOrder(l, input, command) };
}

/** One-shot checkout (--yes): hold → pay → capture or void. status "declined" means nothing was taken. */
export async function checkout(ctx: Ctx, input: CheckoutInput): Promise<CheckoutResult> {
  return withLedger(ctx, async (l) => {
    const note = maxPointsNote(l, input);
    const p = writeUnsynced(l.store, () => {
      const phase = startPhase(l, 'checkout', input);
      return 'orderId' in phase ? { ...phase, fence: fencePayment(l, phase.orderId, input.tender ?? 'cash') } : phase;
    });
    if ('replay' in p) return p.replay;
    return withNote(await payAndSettle(l, ctx.tell, p.orderId, input.tender ?? 'cash', Boolean(input.decline), p.fence, input.idempotencyKey), note);
  });
}

/** §4.3: --max-points below redeem.minPoints uses none, and says so (read before the hold; a refusal is left to it). */
function maxPointsNote(l: Ledger, input: CheckoutInput): string | null {
  if (input.request.kind !== 'max') return null;
  try {
    return l.store.read(() => buildCart(l, input, { countExpiredHoldsFree: true }).quote.note);
  } catch {
    return null;
  }
}

function withNote(r: CheckoutResult, note: string | null): CheckoutResult {
  return note && !r.replayed ? { ...r, note } : r;
}

/** `checkout start`: the hold only; confirm or cancel it before it expires. */
export async function startCheckout(ctx: Ctx, input: CheckoutInput): Promise<CheckoutResult> {
  return withLedger(ctx, (l) => {
    const note = maxPointsNote(l, input);
    return l.store.write(() => {
      const p = startPhase(l, 'start', input);
      if ('replay' in p) return p.replay;
      const result = withNote(resultOf(l, l.store.get(orders).get(p.orderId)!), note);
      if (input.idempotencyKey) l.store.get(orders).completeIdempotency(input.idempotencyKey, result, 0, l.nowIso);
      return result;
    });
  });
}

/** `checkout confirm ID`: pays the cash part and captures, or voids on a decline. Confirming a paid order returns it. */
export async function confirmCheckout(ctx: Ctx, id: string, opts: { tender?: Tender; decline?: boolean; code?: string; alreadyPaid?: boolean }): Promise<CheckoutResult> {
  if (opts.alreadyPaid && opts.decline) throw new UsageError('--already-paid records an approved payment; --decline says it was declined: give one', 'see the payment terminal, then run one of them');
  return withLedger(ctx, async (l) => {
    if (opts.alreadyPaid) return recordAlreadyPaid(l, id, opts.tender);
    const pre = l.store.write((): { orderId: string; tender: Tender; fence: Fence } | { done: CheckoutResult } | { refused: RefusedError } => {
      const o = requireOrder(l, id);
      if (o.status === 'held') {
        refuseWhilePaying(l, o, opts.decline ? 'decline' : 'confirm');
        refuseDatedBefore(l, o, opts.decline ? 'a decline' : 'a confirm');
        const m = l.store.get(members).get(o.member_id)!;
        if (m.status === 'frozen') {
          throw new RefusedError('MEMBER_FROZEN', `member ${m.id} was frozen after checkout ${id} started (${m.frozen_reason ?? 'no reason'}); it cannot be confirmed`, `unfreeze first (pointsmall member unfreeze ${m.id}), or void it with: pointsmall checkout cancel ${id}`);
        }
        refuseLapsedHold(l, o);
        refuseHeldInDebt(l, o, m.debt);
        // A wrong code is counted (and the third voids the hold) in this transaction, then refused after it.
        const wrong = checkCode(l, o, opts.code);
        if (wrong) return { refused: wrong };
        const tender = (opts.tender ?? o.tender ?? 'cash') as Tender;
        return { orderId: o.id, tender, fence: fencePayment(l, o.id, tender) };
      }
      if (o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded') {
        // a retry gets the first result; a retry that asks for another tender (or a decline) is not what was done
        const paidBy = o.cash_paid > 0 ? o.tender : null;
        if ((opts.tender !== undefined && paidBy !== null && opts.tender !== paidBy) || opts.decline) {
          return {
            refused: new RefusedError(
              'ALREADY_PAID',
              `checkout ${id} is already paid${paidBy ? ` (${paidBy})` : ''}${o.status === 'paid' ? '' : ` and ${o.status.replace('_', ' ')}`}: ${opts.decline ? '--decline' : `--tender ${opts.tender}`} cannot apply`,
              `see it with: pointsmall order show ${id}`,
            ),
          };
        }
        return { done: resultOf(l, o, true) };
      }
      throw closedError(l, o);
    });
    if ('refused' in pre) throw pre.refused;
    if ('done' in pre) return pre.done;
    return payAndSettle(l, ctx.tell, pre.orderId, pre.tender, Boolean(opts.decline), pre.fence);
  });
}

/**
 * `checkout confirm ID --already-paid`: a payment that was started and never recorded (interrupted, its
 * process killed) was seen approved at the terminal: record it and capture, paying nothing again. Only
 * for such an order, once its fence has passed (while it lasts the payment may still be answered).
 */
function recordAlreadyPaid(l: Ledger, id: string, tenderOpt: Tender | undefined): CheckoutResult {
  // one write: a confirm that starts paying meanwhile fences it first (and this is refused), or finds it paid
  return l.store.write(() => {
    const o = requireOrder(l, id);
    refuseWhilePaying(l, o, 'confirm');
    const unanswered = paymentUnanswered(o, l.nowIso);
    if (o.status !== 'held' && unanswered) throw closedError(l, o);
    if (o.status !== 'held' || !unanswered) {
      const paid = o.status === 'paid' || o.status === 'partially_refunded' || o.status === 'refunded';
      throw new UsageError(
        `checkout ${id} ${o.status === 'held' ? 'is held' : `is ${o.status.replace('_', ' ')}${paid && o.cash_paid > 0 && o.tender ? ` (by ${o.tender})` : ''}`} and has no unrecorded payment: --already-paid records a payment that was started and never answered (interrupted, or its process died)`,
        o.status === 'held'
          ? `pay it with: pointsmall checkout confirm ${id}`
          : paid
            ? `if the payment terminal shows another charge for it, reverse that charge; see it with: pointsmall order show ${id}`
            : `see it with: pointsmall order show ${id}`,
        'NO_UNRECORDED_PAYMENT',
      );
    }
    refuseDatedBefore(l, o, 'a payment recorded');
    // the payment started is the one recorded: its tender was stored when it started (fencePayment)
    const started = (o.tender ?? 'cash') as Tender;
    if (tenderOpt !== undefined && tenderOpt !== started) {
      throw new UsageError(
        `the payment started for checkout ${id} was ${started}: --already-paid records that payment, not a ${tenderOpt} one`,
        `if the ${started} payment was approved: pointsmall checkout confirm ${id} --already-paid; a ${tenderOpt} payment is a new one: pointsmall checkout confirm ${id} --tender ${tenderOpt}`,
        'TENDER_MISMATCH',
      );
    }
    try {
      refuseLapsedHold(l, o);
    } catch (e) {
      // they were valid when the payment started (checked before its fence), but lapsed before it could be recorded
      if (!(e instanceof RefusedError)) throw e;
      throw new RefusedError(
        e.code,
        `${e.message.replace(/; nothing was paid or taken$/, '')}: the ${formatMoney(o.cash_paid, l.digits)} ${started} payment started before that cannot be recorded, and the order cannot be completed`,
        `${started === 'cash' ? 'give the cash back if it was taken' : 'reverse the charge at the payment terminal if it was paid'}; then cancel it (pointsmall checkout cancel ${id}) and start the checkout again`,
      );
    }
    return settle(l, id, started, true);
  });
}

/** `checkout cancel ID`: voids the hold; points go back to their lots. Cancelling a closed checkout changes nothing. */
export async function cancelCheckout(ctx: Ctx, id: string): Promise<CheckoutResult> {
  return withLedger(ctx, (l) => {
    return l.store.write(() => {
      const o = requireOrder(l, id);
      refuseWhilePaying(l, o, 'cancel');
      if (o.status === 'held') {
        refuseDatedBefore(l, o, 'a cancel');
        releaseHold(l, id, 'cancelled');
        recordAudit(l, 'checkout.cancel', id);
      } else if (o.status !== 'cancelled' && o.status !== 'expired' && o.status !== 'declined') {
        throw new RefusedError('ALREADY_PAID', `checkout ${id} is already paid`, `refund it with: pointsmall order refund ${id}`);
      }
      return resultOf(l, l.store.get(orders).get(id)!);
    });
  });
}

export interface MemberChoice {
  id: string;
  name: string;
  phone: string | null;
  frozen: boolean;
  available: number;
}

/** Members whose id, name or phone contains the term (the interactive member search). */
export async function searchMembers(ctx: Ctx, term: string, limit = 20): Promise<MemberChoice[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      // a hold run out but not yet released counts free, as the quote that follows counts it
      const free = ranOutFree(l);
      return l.store
        .get(checkoutLookups)
        .searchMembers(term, limit)
        .map((m) => ({ id: m.id, name: m.name, phone: m.phone, frozen: m.status === 'frozen', available: availableOf(l, m) + (free.get(m.id) ?? 0) }));
    }),
  );
}

export interface ItemChoice {
  sku: string;
  name: string;
  price: string;
  /** What it costs in points when it can only be paid in points (pay "points"), else null. */
  pointsPrice: number | null;
  pay: string;
  kind: string;
  stockAvailable: number | null;
}

/** Active catalog items, for the interactive item picker. */
export async function itemChoices(ctx: Ctx): Promise<ItemChoice[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      // a points-only item without a points price costs its price at the redeem rate in force, as a
      // checkout charges it (pointsForLine), not its price in money (trial 39)
      let atRate: ((unitPrice: number) => number) | null = null;
      const row = l.store.get(rulesVersions).inForceAt(l.nowIso);
      if (row) {
        const { redeem } = parseStoredRules(l, row.id, row.document);
        const step = pointsStep(redeem.pointsPerUnit, l.digits);
        const stepValue = pointsStepValue(step, redeem.pointsPerUnit, l.digits);
        atRate = (unitPrice) => pointsForLine({ pointsPrice: null, unitPrice, quantity: 1 } as CartLine, step, stepValue);
      }
      return l.store
        .get(catalog)
        .list()
        .map(stockAsRead(l))
        .map((i) => ({
          sku: i.sku,
          name: i.name,
          price: formatMoney(i.price, l.digits),
          pointsPrice: i.pay === 'points' ? (i.points_price ?? atRate?.(i.price) ?? null) : null,
          pay: i.pay,
          kind: i.kind,
          stockAvailable: i.stock === null ? null : i.stock - i.stock_held,
        }));
    }),
  );
}

// ---- issue 18: verified points payments (limits.verifyPointsAbove) and velocity limits ----


const needsCode = (rules: Rules, pointsUsed: number): boolean => rules.limits.verifyPointsAbove !== null && pointsUsed > rules.limits.verifyPointsAbove;

const hashCode = (code: string, salt: string): string => scryptSync(code, salt, 32).toString('hex');

/** A checkout above the threshold: refused for a member who cannot receive a code, and as a one-shot checkout. */
function refuseUnverifiable(member: MemberRow, rules: Rules, pointsUsed: number, command: 'checkout' | 'start', input: CheckoutInput): void {
  const above = `${pointsUsed} points is above limits.verifyPointsAbove (${rules.limits.verifyPointsAbove})`;
  if (!member.phone && !member.email) {
    refuse({ code: 'VERIFICATION_UNREACHABLE', message: `${above}, which needs a one-time code, and member ${member.id} has no phone or email to send it to`, hint: `add one (pointsmall member update ${member.id} --phone N), or use at most ${rules.limits.verifyPointsAbove} points` });
  }
  if (command === 'checkout') {
    const items = mergeItems(input.items).map((i) => `--item ${i.sku}${i.quantity > 1 ? `:${i.quantity}` : ''}`).join(' ');
    refuse({
      code: 'VERIFICATION_REQUIRED',
      message: `${above}: the member must confirm it with a one-time code`,
      hint: `pointsmall checkout start --member ${member.id} ${items} --points ${pointsUsed}, then pointsmall checkout confirm ID --code CODE (the code is in the auth.code outbox message)`,
    });
  }
}

/** Queues the auth.code message (the code only in its payload) and keeps the code's salted hash. Inside the hold's write. */
function sendCode(l: Ledger, orderId: string, member: MemberRow, pointsUsed: number, expiresAt: string): void {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const salt = randomBytes(16).toString('hex');
  l.store.get(checkoutCodes).insert(orderId, member.id, salt, hashCode(code, salt), l.nowIso);
  const sent = l.store.get(outbox).enqueue({
    createdAt: l.nowIso,
    topic: 'auth.code',
    memberId: member.id,
    dedupeKey: `auth.code:${orderId}`,
    contact: { phone: member.phone, email: member.email },
    payload: { checkoutId: orderId, memberId: member.id, code, pointsUsed, expiresAt },
  });
  recordAudit(l, 'checkout.code-sent', orderId, { memberId: member.id, pointsUsed, outboxId: sent.id });
}


/**
 * `checkout confirm --code`: null when the order needs no code or the code is right (then marked verified);
 * else the refusal — a wrong code is counted and audited, and the third voids the hold (points and stock back).
 */
function checkCode(l: Ledger, o: OrderRow, code: string | undefined): RefusedError | null {
  const repo = l.store.get(checkoutCodes);
  const v = repo.get(o.id);
  if (!v || v.status !== 'pending') return null;
  if (code === undefined) {
    throw new UsageError(`checkout ${o.id} uses ${o.points_used} points and needs the one-time code sent to member ${o.member_id}`, `pass --code NNNNNN (the code of the auth.code outbox message for ${o.id})`, 'CODE_REQUIRED');
  }
  const want = Buffer.from(v.code_hash, 'hex');
  const got = Buffer.from(hashCode(code, v.salt), 'hex');
  if (want.length === got.length && timingSafeEqual(want, got)) {
    repo.close(o.id, 'verified', l.nowIso);
    recordAudit(l, 'checkout.code-ok', o.id, { attempts: v.attempts + 1 });
    return null;
  }
  const attempts = repo.wrongAttempt(o.id);
  const left = CODE_ATTEMPTS - attempts;
  recordAudit(l, 'checkout.code-wrong', o.id, { attempts, attemptsLeft: left });
  if (left > 0) {
    return new RefusedError('CODE_WRONG', `wrong code for checkout ${o.id}: ${left} attempt${left === 1 ? '' : 's'} left`, `type the code of the auth.code message for ${o.id}; after ${CODE_ATTEMPTS} wrong codes the checkout is voided`);
  }
  repo.close(o.id, 'failed', l.nowIso);
  releaseHold(l, o.id, 'cancelled', null, 'verification_failed');
  recordAudit(l, 'checkout.code-failed', o.id, { attempts, pointsReleased: o.points_used });
  return new RefusedError('CODE_FAILED', `wrong code for checkout ${o.id}: no attempts left; the checkout was voided (its ${o.points_used} points and stock went back)`, 'start a new checkout to try again; a new code is sent');
}

/** The velocity limits a checkout must pass, counted inside its write (two tills cannot both pass). */
function checkVelocity(l: Ledger, member: MemberRow, rules: Rules, pointsUsed: number): void {
  const lim = rules.limits;
  const counts = l.store.get(checkoutCodes);
  if (lim.maxCheckoutsPerHour !== null) {
    const n = counts.checkoutsSince(member.id, new Date(l.now.getTime() - 3_600_000).toISOString(), l.nowIso);
    if (n >= lim.maxCheckoutsPerHour) {
      refuse({ code: 'VELOCITY_LIMIT', message: `member ${member.id} has made ${n} checkout${n === 1 ? '' : 's'} in the last hour: limits.maxCheckoutsPerHour is ${lim.maxCheckoutsPerHour}`, hint: 'try again later, or raise the limit in the rules' });
    }
  }
  if (lim.maxPointsSpentPerDay !== null && pointsUsed > 0) {
    const today = localDate(l.now.getTime(), l.zone);
    const { fromIso, toIso } = localRangeUtc(l.zone, today, today);
    const spent = counts.pointsSpentBetween(member.id, fromIso!, toIso!);
    if (spent + pointsUsed > lim.maxPointsSpentPerDay) {
      refuse({
        code: 'VELOCITY_LIMIT',
        message: `member ${member.id} has spent ${spent} points today (${today}); ${pointsUsed} more is past limits.maxPointsSpentPerDay of ${lim.maxPointsSpentPerDay}`,
        hint: `use at most ${Math.max(0, lim.maxPointsSpentPerDay - spent)} points today`,
      });
    }
  }
}
// ---- end of issue 18 block ----
