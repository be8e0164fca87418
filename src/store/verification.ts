// Issue 18: the one-time codes of verified points payments (checkout_codes) and the per-member counts the
// velocity limits read. Every call runs inside the caller's write transaction, so two tills counting at
// once are serialised by BEGIN IMMEDIATE and cannot both pass a limit.
import type { Store } from './db.js';
import { extraChecks } from './verify.js';

export interface CheckoutCodeRow {
  order_id: string;
  member_id: string;
  salt: string;
  code_hash: string;
  attempts: number;
  status: 'pending' | 'verified' | 'failed';
  created_at: string;
  closed_at: string | null;
}

/** Orders that count as checkouts for the limits: held or paid (refunded ones too), not voided ones. */
const COUNTED = "('held', 'paid', 'partially_refunded', 'refunded')";

export class CheckoutCodes {
  private readonly s;
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      insert: db.prepare(
        "INSERT INTO checkout_codes (order_id, member_id, salt, code_hash, attempts, status, created_at) VALUES (?, ?, ?, ?, 0, 'pending', ?)",
      ),
      get: db.prepare('SELECT * FROM checkout_codes WHERE order_id = ?'),
      wrong: db.prepare("UPDATE checkout_codes SET attempts = attempts + 1 WHERE order_id = ? AND status = 'pending' AND attempts < 3"),
      close: db.prepare("UPDATE checkout_codes SET status = ?, closed_at = ? WHERE order_id = ? AND status = 'pending'"),
      checkoutsSince: db.prepare(`SELECT count(*) FROM orders WHERE member_id = ? AND created_at > ? AND created_at <= ? AND status IN ${COUNTED}`).pluck(),
      pointsBetween: db.prepare(
        `SELECT COALESCE(sum(points_used), 0) FROM orders WHERE member_id = ? AND created_at >= ? AND created_at < ? AND status IN ${COUNTED}`,
      ).pluck(),
      refundsBetween: db.prepare(
        'SELECT count(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.member_id = ? AND r.at >= ? AND r.at < ?',
      ).pluck(),
    };
  }
  insert(orderId: string, memberId: string, salt: string, codeHash: string, at: string): void {
    this.s.insert.run(orderId, memberId, salt, codeHash, at);
  }
  get(orderId: string): CheckoutCodeRow | undefined {
    return this.s.get.get(orderId) as CheckoutCodeRow | undefined;
  }
  /** Counts a wrong code; returns the attempts made so far. */
  wrongAttempt(orderId: string): number {
    this.s.wrong.run(orderId);
    return this.get(orderId)!.attempts;
  }
  close(orderId: string, status: 'verified' | 'failed', at: string): void {
    this.s.close.run(status, at, orderId);
  }
  /** Checkouts (held or paid) the member started in (fromIso, toIso]. */
  checkoutsSince(memberId: string, fromIso: string, toIso: string): number {
    return this.s.checkoutsSince.get(memberId, fromIso, toIso) as number;
  }
  /** Points the member's checkouts (held or paid) created in [fromIso, toIso) use. */
  pointsSpentBetween(memberId: string, fromIso: string, toIso: string): number {
    return this.s.pointsBetween.get(memberId, fromIso, toIso) as number;
  }
  /** Refunds of the member's orders recorded in [fromIso, toIso). */
  refundsBetween(memberId: string, fromIso: string, toIso: string): number {
    return this.s.refundsBetween.get(memberId, fromIso, toIso) as number;
  }
}

export const checkoutCodes = (store: Store): CheckoutCodes => new CheckoutCodes(store);

// ledger verify: a code belongs to its order and member and was sent; a paid order passed its code; three
// wrong codes closed the order.
extraChecks.push({
  name: 'checkout-codes-match-orders',
  sql: `SELECT 'checkout code of ' || c.order_id AS subject,
               CASE WHEN o.id IS NULL THEN 'names no order'
                    WHEN o.member_id <> c.member_id THEN 'is for member ' || c.member_id || ' but the order is ' || o.member_id || '''s'
                    WHEN NOT EXISTS (SELECT 1 FROM outbox x WHERE x.dedupe_key = 'auth.code:' || c.order_id) THEN 'was never queued in the outbox (auth.code)'
                    WHEN o.status IN ('paid', 'partially_refunded', 'refunded') AND c.status <> 'verified' THEN 'order is ' || o.status || ' but its code is ' || c.status
                    WHEN c.status = 'failed' AND (c.attempts < 3 OR o.status <> 'cancelled') THEN 'failed after ' || c.attempts || ' wrong code(s), order ' || o.status
                    ELSE 'is ' || c.status || ' while the order is ' || o.status END AS detail
          FROM checkout_codes c LEFT JOIN orders o ON o.id = c.order_id
         WHERE o.id IS NULL OR o.member_id <> c.member_id
            OR NOT EXISTS (SELECT 1 FROM outbox x WHERE x.dedupe_key = 'auth.code:' || c.order_id)
            OR (o.status IN ('paid', 'partially_refunded', 'refunded') AND c.status <> 'verified')
            OR (c.status = 'failed' AND (c.attempts < 3 OR o.status <> 'cancelled'))
            OR (c.status = 'pending' AND c.attempts >= 3)
         LIMIT 5`,
});

// ledger verify: an order's points discount is its lines' (each on a line whose item had one), and the
// order's total is exactly its points' value, their points discount and its cash.
extraChecks.push({
  name: 'orders-points-discount',
  sql: `SELECT 'order ' || o.id AS subject,
               CASE WHEN o.points_discount <> COALESCE(d.s, 0) THEN 'has a points discount of ' || o.points_discount || ' but its lines add up to ' || COALESCE(d.s, 0)
                    WHEN COALESCE(d.bad, 0) > 0 THEN 'has a line with a points discount but no percent, or a negative one'
                    ELSE 'totals ' || o.total || ' but is paid ' || o.points_value || ' in points, ' || o.points_discount || ' points discount and ' || o.cash_paid || ' cash' END AS detail
          FROM orders o
          LEFT JOIN (SELECT order_id, sum(points_discount) AS s,
                            sum(CASE WHEN points_discount < 0 OR (points_discount > 0 AND points_discount_pct IS NULL) THEN 1 ELSE 0 END) AS bad
                       FROM order_lines GROUP BY order_id) d ON d.order_id = o.id
         WHERE o.points_discount <> COALESCE(d.s, 0) OR COALESCE(d.bad, 0) > 0
            OR o.total <> o.points_value + o.points_discount + o.cash_paid
         LIMIT 5`,
});
