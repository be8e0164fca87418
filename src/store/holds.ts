// Holds: points and stock reserved for a checkout between hold and capture, with the lots the points came from.
import type { Store } from './db.js';
import { extraChecks } from './verify.js';

export interface HoldRow {
  id: number;
  order_id: string;
  member_id: string;
  points: number;
  status: 'open' | 'captured' | 'released';
  created_at: string;
  expires_at: string;
  closed_at: string | null;
  entry_id: number | null;
}

export interface HoldLotRow {
  hold_id: number;
  seq: number;
  lot_id: number;
  points: number;
  returned: number;
}

/**
 * An open hold `h` (its order `o` LEFT JOINed) whose time was up by @by: past its end, and no payment
 * fencing it then. Such a hold holds nothing: the next write releases it as of the instant it ran out,
 * and every read counts its points free (or lapsed) already (Books.ranOut).
 */
export const RAN_OUT = '(h.expires_at <= @by AND (o.paying_until IS NULL OR o.paying_until <= @by))';

export class Holds {
  private readonly s;
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      insert: db.prepare(
        `INSERT INTO holds (order_id, member_id, points, status, created_at, expires_at, entry_id)
         VALUES (?, ?, ?, 'open', ?, ?, ?)`,
      ),
      insertLot: db.prepare('INSERT INTO hold_lots (hold_id, seq, lot_id, points) VALUES (?, ?, ?, ?)'),
      byOrder: db.prepare('SELECT * FROM holds WHERE order_id = ?'),
      lots: db.prepare('SELECT * FROM hold_lots WHERE hold_id = ? ORDER BY seq'),
      lotExpiries: db.prepare(
        `SELECT hl.points AS points, l.expires_on AS expiresOn FROM hold_lots hl JOIN lots l ON l.id = hl.lot_id
          WHERE hl.hold_id = ? ORDER BY hl.seq`,
      ),
      close: db.prepare("UPDATE holds SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'"),
      outlast: db.prepare("UPDATE holds SET expires_at = ? WHERE order_id = ? AND status = 'open' AND expires_at < ?"),
      // A hold whose order is being paid (checkout confirm started, orders.paying_until) does not run out.
      // Each with the instant it ran out: its end, or its payment's fence when that ended later.
      expired: db.prepare(
        `SELECT h.order_id, CASE WHEN o.paying_until IS NOT NULL AND o.paying_until > h.expires_at THEN o.paying_until ELSE h.expires_at END AS ended
           FROM holds h LEFT JOIN orders o ON o.id = h.order_id
          WHERE h.status = 'open' AND ${RAN_OUT} ORDER BY h.id`,
      ).raw(),
      open: db.prepare("SELECT * FROM holds WHERE status = 'open' ORDER BY id"),
      ranOutStock: db
        .prepare(
          `SELECT ol.sku, sum(ol.quantity) FROM holds h LEFT JOIN orders o ON o.id = h.order_id JOIN order_lines ol ON ol.order_id = h.order_id
            WHERE h.status = 'open' AND ${RAN_OUT} GROUP BY ol.sku`,
        )
        .raw(),
      returned: db.prepare('UPDATE hold_lots SET returned = returned + ? WHERE hold_id = ? AND seq = ? AND returned + ? <= points'),
    };
  }
  insert(orderId: string, memberId: string, points: number, at: string, expiresAt: string, entryId: number | null): number {
    return Number(this.s.insert.run(orderId, memberId, points, at, expiresAt, entryId).lastInsertRowid);
  }
  insertLots(holdId: number, takes: { lotId: number; points: number }[]): void {
    takes.forEach((t, i) => this.s.insertLot.run(holdId, i + 1, t.lotId, t.points));
  }
  byOrder(orderId: string): HoldRow | undefined {
    return this.s.byOrder.get(orderId) as HoldRow | undefined;
  }
  lots(holdId: number): HoldLotRow[] {
    return this.s.lots.all(holdId) as HoldLotRow[];
  }
  /** The points a hold took from each lot, with the lot's expiresOn. */
  lotExpiries(holdId: number): { points: number; expiresOn: string | null }[] {
    return this.s.lotExpiries.all(holdId) as { points: number; expiresOn: string | null }[];
  }
  /** The order's open hold lasts at least until `at` (never shortened). */
  outlast(orderId: string, at: string): void {
    this.s.outlast.run(at, orderId, at);
  }
  /** Closes an open hold; false when it was no longer open (someone else closed it first). */
  close(holdId: number, status: 'captured' | 'released', at: string): boolean {
    return this.s.close.run(status, at, holdId).changes === 1;
  }
  /** Order ids of open holds whose expiry instant is ≤ nowIso. */
  /** Open holds that have run out by nowIso (and are not being paid): [order id, the instant it ran out]. */
  expiredHolds(nowIso: string): [orderId: string, endedAt: string][] {
    return this.s.expired.all({ by: nowIso }) as [string, string][];
  }
  /** Per SKU, the units open holds that ran out by `byIso` still count as held (released by the next write). */
  ranOutStock(byIso: string): Map<string, number> {
    const rows = this.s.ranOutStock.all({ by: byIso }) as [string, number | bigint][];
    return new Map(rows.map(([sku, n]) => [sku, Number(n)]));
  }
  openHolds(): HoldRow[] {
    return this.s.open.all() as HoldRow[];
  }
  addReturned(holdId: number, seq: number, points: number): void {
    if (this.s.returned.run(points, holdId, seq, points).changes !== 1) throw new Error(`hold ${holdId} lot ${seq}: more returned than taken`);
  }
}

export const holds = (store: Store): Holds => new Holds(store);

/**
 * Runs one write transaction without the commit-time fsync (synchronous=NORMAL), then restores the
 * connection's setting. For a one-shot checkout's hold only: the capture's FULL commit that follows
 * syncs the WAL up to and including the hold, and a hold lost to a power cut before it took nothing.
 */
export function writeUnsynced<T>(store: Store, fn: () => T): T {
  const before = store.db.pragma('synchronous', { simple: true }) as number;
  store.db.pragma('synchronous = NORMAL');
  try {
    return store.write(fn);
  } finally {
    store.db.pragma(`synchronous = ${before}`);
  }
}

// ledger verify: every member's held cache equals its open holds, and each hold's lots add up to it.
extraChecks.push(
  {
    name: 'open-holds-match-held',
    sql: `SELECT 'member ' || m.id AS subject, 'held ' || m.held || ' but open holds total ' || coalesce(h.s, 0) AS detail
            FROM members m LEFT JOIN (SELECT member_id, sum(points) AS s FROM holds WHERE status = 'open' GROUP BY member_id) h ON h.member_id = m.id
           WHERE m.held <> coalesce(h.s, 0) LIMIT 5`,
  },
  {
    name: 'hold-lots-match-holds',
    sql: `SELECT 'hold ' || h.id AS subject, 'holds ' || h.points || ' points but took ' || coalesce(x.s, 0) || ' from lots' AS detail
            FROM holds h LEFT JOIN (SELECT hold_id, sum(points) AS s FROM hold_lots GROUP BY hold_id) x ON x.hold_id = h.id
           WHERE h.points <> coalesce(x.s, 0) LIMIT 5`,
  },
  // the lots a hold says it took from are the lots its entry's moves took from, point for point, whatever
  // became of it (a refund gives points back to them: an edited row would send them to another lot; trial 40)
  {
    name: 'hold-lots-match-moves',
    sql: `SELECT 'hold ' || h.id AS subject, 'took ' || a.points || ' points from lot ' || a.lot_id || ' by its lots, ' || coalesce(b.points, 0) || ' by the moves of its entry ' || h.entry_id AS detail
            FROM holds h
            JOIN (SELECT hold_id, lot_id, sum(points) AS points FROM hold_lots GROUP BY hold_id, lot_id) a ON a.hold_id = h.id
            LEFT JOIN (SELECT entry_id, lot_id, -sum(points) AS points FROM lot_moves
                        WHERE points < 0 AND entry_id IN (SELECT entry_id FROM holds WHERE entry_id IS NOT NULL) GROUP BY entry_id, lot_id) b
                   ON b.entry_id = h.entry_id AND b.lot_id = a.lot_id
           WHERE h.entry_id IS NULL OR coalesce(b.points, 0) <> a.points
          UNION ALL
          SELECT 'hold ' || h.id, 'took ' || b.points || ' points from lot ' || b.lot_id || ' by the moves of its entry ' || h.entry_id || ', none by its lots'
            FROM holds h
            JOIN (SELECT entry_id, lot_id, -sum(points) AS points FROM lot_moves
                   WHERE points < 0 AND entry_id IN (SELECT entry_id FROM holds WHERE entry_id IS NOT NULL) GROUP BY entry_id, lot_id) b ON b.entry_id = h.entry_id
           WHERE NOT EXISTS (SELECT 1 FROM hold_lots x WHERE x.hold_id = h.id AND x.lot_id = b.lot_id)
           LIMIT 5`,
  },
  // what a captured hold's lots count as returned is what its order's refunds gave back
  {
    name: 'hold-returns-match-refunds',
    sql: `SELECT 'hold ' || h.id AS subject, 'counts ' || coalesce(x.r, 0) || ' points returned to its lots, order ' || o.id || ' refunded ' || o.refunded_points AS detail
            FROM holds h JOIN orders o ON o.id = h.order_id
            LEFT JOIN (SELECT hold_id, sum(returned) AS r FROM hold_lots GROUP BY hold_id) x ON x.hold_id = h.id
           WHERE h.status = 'captured' AND coalesce(x.r, 0) <> o.refunded_points LIMIT 5`,
  },
);
