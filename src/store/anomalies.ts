// The facts report anomalies reads (issue 18): refunds, imported returns and purchases, large adjusts,
// checkouts paid with points and members' contacts, each in a range of business time [from, to).
import type { AdjustFact, ContactFact, PointsOrderFact, PurchaseFact, RefundFact } from '../domain/anomalies.js';
import type { Store } from './db.js';

export class AnomalyQueries {
  private readonly s;
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      refunds: db.prepare(
        `SELECT r.id AS refundId, r.order_id AS orderId, o.member_id AS memberId, r.at, o.paid_at AS paidAt,
                r.points, r.cash, r.earned, o.points_earned AS orderEarned
           FROM refunds r JOIN orders o ON o.id = r.order_id
          WHERE r.at >= ? AND r.at < ? ORDER BY r.at, r.id`,
      ),
      purchases: db.prepare(
        `SELECT source, order_id AS orderId, member_id AS memberId, purchased_at AS at, kind, amount, points
           FROM purchases
          WHERE kind = ? AND status = 'accrued' AND voided_at IS NULL AND purchased_at >= ? AND purchased_at < ?
          ORDER BY purchased_at, id`,
      ),
      adjusts: db.prepare(
        `SELECT e.id AS entryId, e.member_id AS memberId, e.at, p.points, e.memo AS reason
           FROM entries e JOIN postings p ON p.entry_id = e.id AND p.account = 'member' AND p.member_id = e.member_id
          WHERE e.kind = 'adjust' AND p.points >= ? AND e.at >= ? AND e.at < ? ORDER BY e.at, e.id`,
      ),
      pointsOrders: db.prepare(
        `SELECT id AS orderId, member_id AS memberId, paid_at AS paidAt, points_used AS pointsUsed, total
           FROM orders WHERE paid_at IS NOT NULL AND points_used > 0 AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, seq`,
      ),
      contacts: db.prepare(
        `SELECT id AS memberId, phone, email FROM members WHERE phone IS NOT NULL OR email IS NOT NULL ORDER BY id`,
      ),
    };
  }
  refunds(from: string, to: string): RefundFact[] {
    return this.s.refunds.all(from, to) as RefundFact[];
  }
  purchases(kind: 'purchase' | 'return', from: string, to: string): PurchaseFact[] {
    return this.s.purchases.all(kind, from, to) as PurchaseFact[];
  }
  adjusts(minPoints: number, from: string, to: string): AdjustFact[] {
    return this.s.adjusts.all(minPoints, from, to) as AdjustFact[];
  }
  pointsOrders(from: string, to: string): PointsOrderFact[] {
    return this.s.pointsOrders.all(from, to) as PointsOrderFact[];
  }
  contacts(): ContactFact[] {
    return this.s.contacts.all() as ContactFact[];
  }
}

export const anomalyQueries = (store: Store): AnomalyQueries => new AnomalyQueries(store);
