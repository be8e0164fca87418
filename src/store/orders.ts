// Orders of the split checkout: the order, its lines with their §4.5 shares, refunds, idempotency keys.
import type { Store } from './db.js';
import { NO_LIMIT } from './members.js';

/**
 * The points a member earned in [from, to) for the daily earn cap (SPEC §4.1), the import's and
 * checkout's alike: accruals, less what voids took back of them (a void's take-back is dated at the
 * order it reverses, so a voided order's points were not earned that day).
 */
export const EARNED_BETWEEN = `SELECT coalesce(-sum(p.points), 0) FROM entries e JOIN postings p ON p.entry_id = e.id
  WHERE e.member_id = ? AND e.kind IN ('accrual', 'void') AND e.at >= ? AND e.at < ? AND p.account = 'issued' AND p.member_id = e.member_id
    AND (e.kind = 'accrual' OR p.points > 0)`;

export type OrderStatus = 'held' | 'paid' | 'declined' | 'cancelled' | 'expired' | 'partially_refunded' | 'refunded';

export interface OrderRow {
  seq: number;
  id: string;
  member_id: string;
  status: OrderStatus;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
  rules_version: number;
  tender: string | null;
  coupon_code: string | null;
  subtotal: number;
  discount: number;
  total: number;
  points_used: number;
  points_value: number;
  cash_paid: number;
  points_earned: number;
  refunded_points: number;
  refunded_cash: number;
  refunded_earned: number;
  close_reason: string | null;
  operator: string;
  /** While a payment runs (confirm started): until when cancel and hold expiry wait. */
  paying_until: string | null;
  /** Issue 18: Σ of the lines' points discounts (total = points_value + points_discount + cash_paid). */
  points_discount: number;
}

export interface OrderLineRow {
  order_id: string;
  line_no: number;
  sku: string;
  name: string;
  category: string | null;
  kind: 'goods' | 'coupon';
  pay: 'mixed' | 'cash' | 'points';
  quantity: number;
  unit_price: number;
  amount: number;
  discount: number;
  points: number;
  cash: number;
  earned: number;
  refunded_qty: number;
  refunded_points: number;
  refunded_cash: number;
  refunded_earned: number;
  /** Issue 18: the item's points discount percent at checkout (null = none) and what it added to the points' value. */
  points_discount_pct: string | null;
  points_discount: number;
  /** Migration 15: a mixed line's ratio of its net that points could pay at checkout (null on other lines and older ones). */
  points_ratio: string | null;
  /** Migration 16: 1 on a mixed line whose order spread its points in whole steps within each line's cap (null on other lines and older ones). */
  points_spread: number | null;
}

export type NewOrder = Omit<OrderRow, 'seq' | 'updated_at' | 'paid_at' | 'points_earned' | 'refunded_points' | 'refunded_cash' | 'refunded_earned' | 'close_reason' | 'paying_until' | 'points_discount'> & { points_discount?: number };
export type NewOrderLine = Omit<OrderLineRow, 'earned' | 'refunded_qty' | 'refunded_points' | 'refunded_cash' | 'refunded_earned' | 'points_discount_pct' | 'points_discount' | 'points_ratio' | 'points_spread'> & {
  points_discount_pct?: string | null;
  points_discount?: number;
  points_ratio?: string | null;
  points_spread?: number | null;
};

export interface RefundRow {
  id: number;
  order_id: string;
  at: string;
  operator: string;
  reason: string | null;
  points: number;
  cash: number;
  earned: number;
  points_entry_id: number | null;
  earned_entry_id: number | null;
}

export interface RefundLineRow {
  refund_id: number;
  line_no: number;
  sku: string;
  quantity: number;
  points: number;
  cash: number;
  earned: number;
}

export interface OrderFilter {
  memberId?: string;
  fromIso?: string;
  toIso?: string;
  status?: OrderStatus;
  limit?: number;
  offset?: number;
}

export interface IdempotencyRow {
  key: string;
  command: string;
  request_hash: string;
  order_id: string | null;
  result: string | null;
  exit_code: number | null;
  created_at: string;
  completed_at: string | null;
}

export class Orders {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    this.db = store.db;
    const db = this.db;
    this.s = {
      nextSeq: db.prepare('SELECT coalesce(max(seq), 0) + 1 FROM orders').pluck(),
      insert: db.prepare(
        `INSERT INTO orders (id, member_id, status, created_at, updated_at, rules_version, tender, coupon_code, subtotal, discount, total,
                             points_used, points_value, cash_paid, operator, points_discount)
         VALUES (@id, @member_id, @status, @created_at, @created_at, @rules_version, @tender, @coupon_code, @subtotal, @discount, @total,
                 @points_used, @points_value, @cash_paid, @operator, @points_discount)`,
      ),
      insertLine: db.prepare(
        `INSERT INTO order_lines (order_id, line_no, sku, name, category, kind, pay, quantity, unit_price, amount, discount, points, cash,
                                  points_discount_pct, points_discount, points_ratio, points_spread)
         VALUES (@order_id, @line_no, @sku, @name, @category, @kind, @pay, @quantity, @unit_price, @amount, @discount, @points, @cash,
                 @points_discount_pct, @points_discount, @points_ratio, @points_spread)`,
      ),
      get: db.prepare('SELECT * FROM orders WHERE id = ?'),
      lines: db.prepare('SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no'),
      close: db.prepare('UPDATE orders SET status = ?, close_reason = ?, tender = coalesce(?, tender), updated_at = ? WHERE id = ?'),
      fence: db.prepare("UPDATE orders SET paying_until = ?, tender = ?, updated_at = ? WHERE id = ? AND status = 'held'"),
      paid: db.prepare("UPDATE orders SET status = 'paid', paid_at = ?, tender = ?, points_earned = ?, updated_at = ? WHERE id = ?"),
      lineEarned: db.prepare('UPDATE order_lines SET earned = ? WHERE order_id = ? AND line_no = ?'),
      insertRefund: db.prepare(
        `INSERT INTO refunds (order_id, at, operator, reason, points, cash, earned, points_entry_id, earned_entry_id)
         VALUES (@order_id, @at, @operator, @reason, @points, @cash, @earned, @points_entry_id, @earned_entry_id)`,
      ),
      insertRefundLine: db.prepare(
        'INSERT INTO refund_lines (refund_id, line_no, sku, quantity, points, cash, earned) VALUES (@refund_id, @line_no, @sku, @quantity, @points, @cash, @earned)',
      ),
      lineRefunded: db.prepare(
        `UPDATE order_lines SET refunded_qty = refunded_qty + @quantity, refunded_points = refunded_points + @points,
                refunded_cash = refunded_cash + @cash, refunded_earned = refunded_earned + @earned
          WHERE order_id = @order_id AND line_no = @line_no AND refunded_qty + @quantity <= quantity`,
      ),
      orderRefunded: db.prepare(
        `UPDATE orders SET refunded_points = refunded_points + @points, refunded_cash = refunded_cash + @cash,
                refunded_earned = refunded_earned + @earned, status = @status, updated_at = @at WHERE id = @id`,
      ),
      refunds: db.prepare('SELECT * FROM refunds WHERE order_id = ? ORDER BY id'),
      refundLines: db.prepare('SELECT rl.* FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id WHERE r.order_id = ? ORDER BY rl.refund_id, rl.line_no'),
      earnedBetween: db.prepare(EARNED_BETWEEN).pluck(),
      idemGet: db.prepare('SELECT * FROM idempotency_keys WHERE key = ?'),
      idemInsert: db.prepare(
        'INSERT INTO idempotency_keys (key, command, request_hash, order_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      idemOrder: db.prepare('UPDATE idempotency_keys SET order_id = ? WHERE key = ?'),
      idemComplete: db.prepare('UPDATE idempotency_keys SET result = ?, exit_code = ?, completed_at = ? WHERE key = ?'),
    };
  }

  /** The next order id, ORD-000001 …; call inside the write transaction that inserts it. */
  nextId(): string {
    return `ORD-${String(this.s.nextSeq.get() as number).padStart(6, '0')}`;
  }

  /** The seq of the last order written (0: none yet). */
  lastSeq(): number {
    return (this.s.nextSeq.get() as number) - 1;
  }
  insert(o: NewOrder, lines: NewOrderLine[]): void {
    this.s.insert.run({ points_discount: 0, ...o });
    for (const l of lines) this.s.insertLine.run({ points_discount_pct: null, points_discount: 0, points_ratio: null, points_spread: null, ...l });
  }
  get(id: string): OrderRow | undefined {
    return this.s.get.get(id) as OrderRow | undefined;
  }
  lines(id: string): OrderLineRow[] {
    return this.s.lines.all(id) as OrderLineRow[];
  }
  /** Ends a held order without payment: declined, cancelled or expired. */
  close(id: string, status: 'declined' | 'cancelled' | 'expired', reason: string, at: string, tender: string | null = null): void {
    this.s.close.run(status, reason, tender, at, id);
  }
  /** Marks a held order as being paid until `until` (UTC ISO): cancel and hold expiry wait for it. */
  /** Fences a held order for the payment starting now, and records that payment's tender. */
  fencePayment(id: string, until: string, tender: string, at: string): void {
    this.s.fence.run(until, tender, at, id);
  }
  markPaid(id: string, at: string, tender: string, pointsEarned: number, earnedPerLine: number[]): void {
    this.s.paid.run(at, tender, pointsEarned, at, id);
    earnedPerLine.forEach((e, i) => this.s.lineEarned.run(e, id, i + 1));
  }
  recordRefund(
    r: Omit<RefundRow, 'id'>,
    lines: Omit<RefundLineRow, 'refund_id'>[],
    status: 'partially_refunded' | 'refunded',
  ): number {
    const refundId = Number(this.s.insertRefund.run(r).lastInsertRowid);
    for (const l of lines) {
      this.s.insertRefundLine.run({ ...l, refund_id: refundId });
      if (this.s.lineRefunded.run({ ...l, order_id: r.order_id }).changes !== 1) throw new Error(`refund of line ${l.line_no} exceeds its quantity`);
    }
    this.s.orderRefunded.run({ points: r.points, cash: r.cash, earned: r.earned, status, at: r.at, id: r.order_id });
    return refundId;
  }
  refunds(orderId: string): RefundRow[] {
    return this.s.refunds.all(orderId) as RefundRow[];
  }
  refundLines(orderId: string): RefundLineRow[] {
    return this.s.refundLines.all(orderId) as RefundLineRow[];
  }
  /** Points the member earned by accrual in [fromIso, toIso) (the daily cap). */
  earnedBetween(memberId: string, fromIso: string, toIso: string): number {
    return this.s.earnedBetween.get(memberId, fromIso, toIso) as number;
  }
  list(f: OrderFilter): OrderRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.memberId) (where.push('member_id = ?'), args.push(f.memberId));
    if (f.fromIso) (where.push('created_at >= ?'), args.push(f.fromIso));
    if (f.toIso) (where.push('created_at < ?'), args.push(f.toIso));
    if (f.status) (where.push('status = ?'), args.push(f.status));
    const sql = `SELECT * FROM orders ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ? OFFSET ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? NO_LIMIT, f.offset ?? 0) as OrderRow[];
  }

  idempotency(key: string): IdempotencyRow | undefined {
    return this.s.idemGet.get(key) as IdempotencyRow | undefined;
  }
  claimIdempotency(key: string, command: string, requestHash: string, orderId: string | null, at: string): void {
    this.s.idemInsert.run(key, command, requestHash, orderId, at);
  }
  setIdempotencyOrder(key: string, orderId: string): void {
    this.s.idemOrder.run(orderId, key);
  }
  completeIdempotency(key: string, result: unknown, exitCode: number, at: string): void {
    this.s.idemComplete.run(JSON.stringify(result), exitCode, at, key);
  }
}

export const orders = (store: Store): Orders => new Orders(store);

/** Look-ups the interactive checkout needs: members by id, name or phone. */
export class CheckoutLookups {
  private readonly s;
  constructor(store: Store) {
    this.s = {
      search: store.db.prepare(
        `SELECT id, name, phone, status, balance, held FROM members
          WHERE id LIKE @q ESCAPE '\\' OR name LIKE @q ESCAPE '\\' OR phone LIKE @q ESCAPE '\\'
          ORDER BY id LIMIT @limit`,
      ),
    };
  }
  searchMembers(term: string, limit: number): { id: string; name: string; phone: string | null; status: string; balance: number; held: number }[] {
    const q = `%${term.replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
    return this.s.search.all({ q, limit }) as { id: string; name: string; phone: string | null; status: string; balance: number; held: number }[];
  }
}

export const checkoutLookups = (store: Store): CheckoutLookups => new CheckoutLookups(store);
