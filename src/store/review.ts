// The review queue: imported orders waiting unaccrued for a person's approve or reject.
import type { Store } from './db.js';
import { NO_LIMIT } from './members.js';

export interface ReviewRow {
  id: number;
  source: string;
  order_id: string;
  member_id: string;
  purchased_at: string;
  kind: 'purchase' | 'return';
  amount: number;
  lines: string;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  note: string | null;
  points: number | null;
  entry_id: number | null;
}

export type NewReview = Pick<ReviewRow, 'source' | 'order_id' | 'member_id' | 'purchased_at' | 'kind' | 'amount' | 'lines' | 'reason' | 'created_at'>;

export class ReviewQueue {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    this.db = store.db;
    this.s = {
      insert: this.db.prepare(
        `INSERT INTO review_queue (source, order_id, member_id, purchased_at, kind, amount, lines, reason, created_at)
         VALUES (@source, @order_id, @member_id, @purchased_at, @kind, @amount, @lines, @reason, @created_at)`,
      ),
      get: this.db.prepare('SELECT * FROM review_queue WHERE id = ?'),
      byOrder: this.db.prepare('SELECT * FROM review_queue WHERE order_id = ? ORDER BY id'),
      decide: this.db.prepare(
        "UPDATE review_queue SET status = ?, decided_at = ?, decided_by = ?, note = ?, points = ?, entry_id = ? WHERE id = ? AND status = 'pending'",
      ),
    };
  }
  insert(r: NewReview): number {
    return Number(this.s.insert.run(r).lastInsertRowid);
  }
  get(id: number): ReviewRow | undefined {
    return this.s.get.get(id) as ReviewRow | undefined;
  }
  /** Items for an order id (any source). */
  byOrder(orderId: string): ReviewRow[] {
    return this.s.byOrder.all(orderId) as ReviewRow[];
  }
  list(f: { status?: ReviewRow['status'] | 'all'; memberId?: string; limit?: number; offset?: number }): ReviewRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status && f.status !== 'all') (where.push('status = ?'), args.push(f.status));
    if (f.memberId) (where.push('member_id = ?'), args.push(f.memberId));
    const sql = `SELECT * FROM review_queue ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ? OFFSET ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? NO_LIMIT, f.offset ?? 0) as ReviewRow[];
  }
  /** Records the decision; false when the item was decided meanwhile. */
  decide(id: number, status: 'approved' | 'rejected', at: string, operator: string, note: string | null, points: number | null, entryId: number | null): boolean {
    return this.s.decide.run(status, at, operator, note, points, entryId, id).changes === 1;
  }
}

export const reviewQueue = (store: Store): ReviewQueue => new ReviewQueue(store);
