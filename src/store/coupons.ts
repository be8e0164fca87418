// Coupons issued by coupon items: one code per unit bought, single-use, held by a checkout in progress.
import type { StoredCouponStatus } from '../domain/coupons.js';
import type { Store } from './db.js';

export interface CouponRow {
  code: string;
  member_id: string;
  sku: string;
  order_id: string;
  line_no: number;
  value: number | null;
  percent: string | null;
  issued_at: string;
  expires_on: string;
  status: StoredCouponStatus;
  used_order_id: string | null;
  used_at: string | null;
}

export interface CouponFilter {
  memberId?: string;
  /** Stored statuses to include. */
  statuses?: StoredCouponStatus[];
  limit?: number;
}

export class Coupons {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    this.db = store.db;
    this.s = {
      insert: this.db.prepare(
        `INSERT INTO coupons (code, member_id, sku, order_id, line_no, value, percent, issued_at, expires_on, status)
         VALUES (@code, @member_id, @sku, @order_id, @line_no, @value, @percent, @issued_at, @expires_on, 'active')`,
      ),
      exists: this.db.prepare('SELECT 1 FROM coupons WHERE code = ?').pluck(),
      get: this.db.prepare('SELECT * FROM coupons WHERE code = ?'),
      setStatus: this.db.prepare('UPDATE coupons SET status = ?, used_order_id = ?, used_at = ? WHERE code = ? AND status = ?'),
      ofLine: this.db.prepare("SELECT * FROM coupons WHERE order_id = ? AND line_no = ? ORDER BY status = 'active' DESC, code"),
    };
  }
  exists(code: string): boolean {
    return this.s.exists.get(code) !== undefined;
  }
  insert(c: Omit<CouponRow, 'status' | 'used_order_id' | 'used_at'>): void {
    this.s.insert.run(c);
  }
  get(code: string): CouponRow | undefined {
    return this.s.get.get(code) as CouponRow | undefined;
  }
  /** Moves a coupon from one status to another; false when it was not in `from`. */
  transition(code: string, from: StoredCouponStatus, to: StoredCouponStatus, orderId: string | null, at: string | null): boolean {
    return this.s.setStatus.run(to, orderId, at, code, from).changes === 1;
  }
  /** The coupons an order line issued, unused first. */
  ofLine(orderId: string, lineNo: number): CouponRow[] {
    return this.s.ofLine.all(orderId, lineNo) as CouponRow[];
  }
  list(f: CouponFilter): CouponRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.memberId) (where.push('member_id = ?'), args.push(f.memberId));
    if (f.statuses?.length) (where.push(`status IN (${f.statuses.map(() => '?').join(',')})`), args.push(...f.statuses));
    const sql = `SELECT * FROM coupons ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY issued_at DESC, code LIMIT ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? -1) as CouponRow[];
  }
}

export const coupons = (store: Store): Coupons => new Coupons(store);
