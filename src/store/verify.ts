// The SQL behind `ledger verify`: reads the journal and the caches so the service can recompute them.
import type { AuditRow } from './audit.js';
import type { CouponRow } from './coupons.js';
import type { Store } from './db.js';
import { checkFile, quickCheckProblems } from './fileCheck.js';

/**
 * A coupon beside the order and line that issued it (verify's coupon checks): its row as stored, the
 * status read as any text (a tampered ledger may hold one the code never writes).
 */
export interface CouponFacts extends Omit<CouponRow, 'status'> {
  status: string;
  /** null: the issuing order does not exist. */
  order_member: string | null;
  order_status: string | null;
  paid_at: string | null;
  /** null: the issuing line does not exist. */
  line_sku: string | null;
  line_kind: string | null;
  /** When the journal's redemption entry of the issuing order was written (null: it used no points). */
  redeemed_at: string | null;
  /** The audit row of the capture that issued it: catalog changes recorded after it came after the issue. */
  capture_audit_id: number | null;
  /** Refunds of the issuing line made at the coupon's used_at (a voided coupon's time is its refund's). */
  refunds_at_used: number;
}

export interface Mismatch {
  subject: string;
  detail: string;
}

/** The set-based checks of the journal's own tables (VerifyQueries' orphanPostings, lotRemaining, lotMovesOwnership). */
export const coreChecks = {
  orphanPostings: `SELECT 'posting ' || p.rowid AS subject, 'belongs to no entry (entry_id ' || p.entry_id || ')' AS detail
                     FROM postings p LEFT JOIN entries e ON e.id = p.entry_id WHERE e.id IS NULL LIMIT 5`,
  lotRemaining: `SELECT 'lot ' || l.id AS subject,
                        'remaining ' || l.remaining || ' but points ' || l.points || ' and moves ' || coalesce(mv.s, 0) AS detail
                   FROM lots l LEFT JOIN (SELECT lot_id, sum(points) AS s FROM lot_moves GROUP BY lot_id) mv ON mv.lot_id = l.id
                  WHERE l.remaining <> l.points + coalesce(mv.s, 0) OR l.remaining < 0
                     -- a lot holds at most what it was created with, or, one whose credit repaid a debt first,
                     -- what that credit gave: points given back for a voided purchase whose void made that debt
                     -- go to it (journal.voidedLotTargets)
                     OR (l.remaining > l.points
                         AND l.remaining > (SELECT coalesce(sum(p.points), 0) FROM postings p
                                             WHERE p.entry_id = l.entry_id AND p.account = 'member' AND p.member_id = l.member_id))
                  LIMIT 5`,
  lotMovesOwnership: `SELECT 'entry ' || mv.entry_id AS subject, 'moves lot ' || mv.lot_id || ' of another member' AS detail
                        FROM lot_moves mv JOIN lots l ON l.id = mv.lot_id JOIN entries e ON e.id = mv.entry_id
                       WHERE e.member_id IS NOT l.member_id LIMIT 5`,
};

/** Extra invariants other areas contribute (open holds = held, …): name → SQL returning (subject, detail) rows. */
export const extraChecks: { name: string; sql: string }[] = [];

export class VerifyQueries {
  private readonly db;
  private readonly pg;
  private readonly path;
  private readonly busyMs;
  constructor(store: Store) {
    this.db = store.db;
    this.pg = store.pg;
    this.path = store.path;
    this.busyMs = store.busyTimeoutMs;
  }

  /** A whole table's worth of raw rows: on PostgreSQL read with COPY in large chunks (see PgDatabase.copyOut). */
  private stream(sql: string): IterableIterator<unknown[]> {
    if (this.pg) return this.pg.copyOut(sql);
    return this.db.prepare(sql).raw().iterate() as IterableIterator<unknown[]>;
  }

  /** Entries in chain order, streamed as raw rows: [id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash]. */
  entriesRaw(): IterableIterator<unknown[]> {
    return this.stream('SELECT id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash FROM entries ORDER BY id');
  }

  /** Postings in the same order (by entry, then as written), as raw rows: [entry_id, account, member_id, points]. */
  postingsRaw(): IterableIterator<unknown[]> {
    return this.stream('SELECT entry_id, account, member_id, points FROM postings ORDER BY entry_id, rowid');
  }

  entryCount(): number {
    return this.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  }

  orphanPostings(): Mismatch[] {
    return this.extra(coreChecks.orphanPostings);
  }

  /** Each lot's remaining against its points and moves. */
  lotRemaining(): Mismatch[] {
    return this.extra(coreChecks.lotRemaining);
  }

  /** Lot moves must be recorded by an entry of the lot's own member. */
  lotMovesOwnership(): Mismatch[] {
    return this.extra(coreChecks.lotMovesOwnership);
  }

  /**
   * Lots as raw rows [entry_id, id, member_id, points, earned_at, expires_on, remaining]: in rowid order (no sort;
   * lots are written right after the entry that credits them, so that is entry order), or sorted by
   * entry when `sorted` (the caller's fallback when the rowid order is not entry order).
   */
  lotsByEntry(sorted: boolean): IterableIterator<unknown[]> {
    return this.stream(`SELECT entry_id, id, member_id, points, earned_at, expires_on, remaining FROM lots ORDER BY ${sorted ? 'entry_id, id' : 'id'}`);
  }

  /** These lots' expiresOn (null: never), by id; a lot that does not exist is left out. Read in chunks. */
  lotsExpiresOn(ids: readonly number[]): Map<number, string | null> {
    const out = new Map<number, string | null>();
    for (let k = 0; k < ids.length; k += 500) {
      const part = ids.slice(k, k + 500);
      const rows = this.db.prepare(`SELECT id, expires_on FROM lots WHERE id IN (${part.map(() => '?').join(', ')})`).all(...part) as { id: number; expires_on: string | null }[];
      for (const r of rows) out.set(Number(r.id), r.expires_on);
    }
    return out;
  }

  /** Lot moves in entry order, as raw rows: [entry_id, lot_id, points]. */
  movesByEntry(): IterableIterator<unknown[]> {
    return this.stream('SELECT entry_id, lot_id, points FROM lot_moves ORDER BY entry_id, rowid');
  }

  /** Every rules version in order of force (effective_at, then applied later wins). */
  /** Every hold's times (a hold per checkout). */
  /** Each hold's times, with its order's payment fence (null: no payment started). */
  holdTimes(): { id: number; order_id: string; created_at: string; expires_at: string; paying_until: string | null }[] {
    return this.db
      .prepare('SELECT h.id, h.order_id, h.created_at, h.expires_at, o.paying_until FROM holds h LEFT JOIN orders o ON o.id = h.order_id ORDER BY h.id')
      .all() as { id: number; order_id: string; created_at: string; expires_at: string; paying_until: string | null }[];
  }

  /** The hold length settings the ledger has had: the one in force, and each recorded change's values (db set). */
  /** The audit records of ledger inits and schema migrations, oldest first: [action, detail (JSON text)]. */
  schemaEvents(): [string, string][] {
    return this.db.prepare("SELECT action, detail FROM audit WHERE action IN ('ledger.init', 'db.migrate') ORDER BY id").raw().all() as [string, string][];
  }

  holdMinutesSettings(): string[] {
    const now = this.db.prepare("SELECT value FROM settings WHERE key = 'hold_minutes'").pluck().all() as string[];
    const changes = this.db
      .prepare("SELECT json_extract(detail, '$.value') AS v, json_extract(detail, '$.previous') AS p FROM audit WHERE action = 'db.set' AND subject = 'hold-minutes'")
      .all() as { v: string | null; p: string | null }[];
    return [...now, ...changes.flatMap((c) => [c.v, c.p]).filter((x): x is string => x !== null)];
  }

  rulesVersions(): { id: number; effective_at: string; applied_at: string; operator: string; source: string | null; document: string; entries_before: number | null }[] {
    return this.db.prepare('SELECT id, effective_at, applied_at, operator, source, document, entries_before FROM rules_versions ORDER BY effective_at, id').all() as {
      id: number;
      effective_at: string;
      applied_at: string;
      operator: string;
      source: string | null;
      document: string;
      entries_before: number | null;
    }[];
  }

  /** The audit records of what changes catalog items and members' status and tier pins (and ledger.init), oldest first. */
  recordsAudit(): AuditRow[] {
    return this.db
      .prepare(
        `SELECT id, at, operator, action, subject, detail FROM audit
          WHERE action IN ('ledger.init', 'catalog.add', 'catalog.update', 'catalog.import', 'catalog.activate', 'catalog.deactivate',
                           'member.add', 'member.update', 'member.import', 'member.freeze', 'member.unfreeze')
          ORDER BY id`,
      )
      .all() as AuditRow[];
  }

  /** Every catalog item's row. */
  catalogRows(): Record<string, unknown>[] {
    return this.db.prepare('SELECT * FROM catalog_items ORDER BY sku').all() as Record<string, unknown>[];
  }

  /** Every member's id, status and pinned tier. */
  memberStates(): { id: string; status: string; tier: string | null }[] {
    return this.db.prepare('SELECT id, status, tier FROM members ORDER BY id').all() as { id: string; status: string; tier: string | null }[];
  }

  /** The audit records of what stores rules versions (`ledger.init` its first, `rules apply` the rest), oldest first. */
  rulesAudit(): AuditRow[] {
    return this.db.prepare("SELECT id, at, operator, action, subject, detail FROM audit WHERE action IN ('ledger.init', 'rules.apply') ORDER BY id").all() as AuditRow[];
  }

  /** Checkout orders' creation times by order id: a checkout's earned lot expires by the rules in force when its order was created. */
  orderCreatedAt(): Map<string, { at: string; version: number }> {
    const m = new Map<string, { at: string; version: number }>();
    for (const [id, at, version] of this.stream('SELECT id, created_at, rules_version FROM orders WHERE points_earned > 0') as IterableIterator<[string, string, number]>) m.set(id, { at, version: Number(version) });
    return m;
  }

  /**
   * SQLite's own check of the file (PRAGMA quick_check, on a thread of its own: fileCheck.ts), started now,
   * its first problems answered later (none when sound); null on PostgreSQL, whose server keeps its own pages.
   */
  startFileCheck(): Promise<string[]> | null {
    if (this.pg) return null;
    return checkFile(this.path, this.busyMs);
  }
  /** The same check on this connection (when the thread's could not open the file: a lock it waited out). */
  fileProblems(max = 10): string[] {
    return quickCheckProblems(this.db.prepare(`PRAGMA quick_check(${Math.trunc(max)})`).pluck().all() as string[], max);
  }

  /** The first keyed entry of the chain (settings chain_keyed_from), or null for a plain chain. */
  chainKeyedFrom(): number | null {
    const v = this.db.prepare("SELECT value FROM settings WHERE key = 'chain_keyed_from'").pluck().get() as string | undefined;
    return v === undefined ? null : Number(v);
  }

  /** Members' caches, compared with the postings and lots as they stream by: [id, balance, held, debt, lifetime_earned]. */
  memberCacheRows(): IterableIterator<[string, number, number, number, number]> {
    return this.stream('SELECT id, balance, held, debt, lifetime_earned FROM members') as IterableIterator<[string, number, number, number, number]>;
  }

  /**
   * Every coupon with the order and line that issued it, and when the journal redeemed that order's points
   * (the capture that issued it): coupons are few, so one query, joined by primary keys.
   */
  couponsIssued(): CouponFacts[] {
    return this.db
      .prepare(
        `SELECT c.code, c.member_id, c.sku, c.order_id, c.line_no, c.value, c.percent, c.issued_at, c.expires_on, c.status,
                c.used_order_id, c.used_at, o.member_id AS order_member, o.status AS order_status, o.paid_at,
                ol.sku AS line_sku, ol.kind AS line_kind,
                (SELECT min(e.at) FROM entries e WHERE e.member_id = o.member_id AND e.kind = 'redemption' AND e.ref = o.id) AS redeemed_at,
                (SELECT max(a.id) FROM audit a WHERE a.at = c.issued_at AND a.action = 'checkout.capture' AND a.subject = c.order_id) AS capture_audit_id,
                (SELECT count(*) FROM refunds f JOIN refund_lines rl ON rl.refund_id = f.id
                  WHERE f.order_id = c.order_id AND rl.line_no = c.line_no AND f.at = c.used_at) AS refunds_at_used
           FROM coupons c LEFT JOIN orders o ON o.id = c.order_id
           LEFT JOIN order_lines ol ON ol.order_id = c.order_id AND ol.line_no = c.line_no
          ORDER BY c.code`,
      )
      .all() as CouponFacts[];
  }

  /** Coupon lines of orders with the number of coupons they issued, and of those voided. */
  couponLines(): { order_id: string; line_no: number; sku: string; quantity: number; refunded_qty: number; status: string; issued: number; voided: number }[] {
    return this.db
      .prepare(
        `SELECT ol.order_id, ol.line_no, ol.sku, ol.quantity, ol.refunded_qty, o.status,
                (SELECT count(*) FROM coupons c WHERE c.order_id = ol.order_id AND c.line_no = ol.line_no) AS issued,
                (SELECT count(*) FROM coupons c WHERE c.order_id = ol.order_id AND c.line_no = ol.line_no AND c.status = 'void') AS voided
           FROM order_lines ol JOIN orders o ON o.id = ol.order_id
          WHERE ol.kind = 'coupon' ORDER BY ol.order_id, ol.line_no`,
      )
      .all() as { order_id: string; line_no: number; sku: string; quantity: number; refunded_qty: number; status: string; issued: number; voided: number }[];
  }

  /** Orders that name a coupon or record a discount (only a coupon gives one), with the base a coupon discounts: their money lines. */
  couponOrders(): { id: string; member_id: string; status: string; created_at: string; paid_at: string | null; coupon_code: string | null; discount: number; money_base: number }[] {
    return this.db
      .prepare(
        `SELECT o.id, o.member_id, o.status, o.created_at, o.paid_at, o.coupon_code, o.discount,
                coalesce((SELECT sum(ol.amount) FROM order_lines ol WHERE ol.order_id = o.id AND ol.pay <> 'points'), 0) AS money_base
           FROM orders o WHERE o.coupon_code IS NOT NULL OR o.discount <> 0 ORDER BY o.seq`,
      )
      .all() as { id: string; member_id: string; status: string; created_at: string; paid_at: string | null; coupon_code: string | null; discount: number; money_base: number }[];
  }

  /** Coupon items as they are now, and the recorded changes of the catalog (audit catalog.update / import / activate / deactivate), in order. */
  couponTermsTrail(): { items: { sku: string; kind: string; coupon_value: number | null; coupon_percent: string | null; coupon_days: number | null; updated_at: string }[]; changes: { id: number; at: string; action: string; subject: string | null; detail: string | null }[] } {
    const items = this.db
      .prepare("SELECT sku, kind, coupon_value, coupon_percent, coupon_days, updated_at FROM catalog_items WHERE sku IN (SELECT DISTINCT sku FROM coupons)")
      .all() as { sku: string; kind: string; coupon_value: number | null; coupon_percent: string | null; coupon_days: number | null; updated_at: string }[];
    const changes = items.length
      ? (this.db.prepare("SELECT id, at, action, subject, detail FROM audit WHERE action IN ('catalog.update', 'catalog.import', 'catalog.activate', 'catalog.deactivate') ORDER BY id").all() as {
          id: number;
          at: string;
          action: string;
          subject: string | null;
          detail: string | null;
        }[])
      : [];
    return { items, changes };
  }

  /**
   * Orders with their lines, streamed in order of seq then line (an order without lines: one row, its line
   * fields null), as raw rows: [seq, id, status, rules_version, subtotal, discount, total, points_used,
   * points_value, cash_paid, points_discount, points_earned, line_no, sku, pay, quantity, unit_price, amount,
   * discount, points, cash, earned, points_discount_pct, points_discount, points_ratio, points_spread]. With `orderId`: that order's alone.
   */
  orderLinesRaw(orderId?: string): IterableIterator<unknown[]> {
    return this.streamOf(
      `SELECT o.seq, o.id, o.status, o.rules_version, o.subtotal, o.discount, o.total, o.points_used, o.points_value, o.cash_paid,
              o.points_discount, o.points_earned, ol.line_no, ol.sku, ol.pay, ol.quantity, ol.unit_price, ol.amount, ol.discount,
              ol.points, ol.cash, ol.earned, ol.points_discount_pct, ol.points_discount, ol.points_ratio, ol.points_spread
         FROM orders o LEFT JOIN order_lines ol ON ol.order_id = o.id ${orderId === undefined ? '' : 'WHERE o.id = ?'} ORDER BY o.seq, ol.line_no`,
      orderId,
    );
  }

  /** The whole table streamed, or (an order id given) the rows of that one order, read at once. */
  private streamOf(sql: string, orderId: string | undefined): IterableIterator<unknown[]> {
    if (orderId === undefined) return this.stream(sql);
    return (this.db.prepare(sql).raw().all(orderId) as unknown[][]).values();
  }

  /**
   * Refunds with their lines in the same order (their order's seq, 0 when the order does not exist; then
   * refund id, line), as raw rows: [seq, order_id, refund id, points, cash, earned, line_no, sku, quantity,
   * points, cash, earned] (a refund without lines: one row, its line fields null). With `orderId`: that
   * order's refunds alone.
   */
  refundLinesRaw(orderId?: string): IterableIterator<unknown[]> {
    return this.streamOf(
      `SELECT coalesce(o.seq, 0), f.order_id, f.id, f.points, f.cash, f.earned, rl.line_no, rl.sku, rl.quantity, rl.points, rl.cash, rl.earned
         FROM refunds f LEFT JOIN orders o ON o.id = f.order_id LEFT JOIN refund_lines rl ON rl.refund_id = f.id
        ${orderId === undefined ? '' : 'WHERE f.order_id = ?'} ORDER BY coalesce(o.seq, 0), f.id, rl.line_no`,
      orderId,
    );
  }

  extra(sql: string): Mismatch[] {
    if (this.ahead) return this.ahead.rows(sql) as Mismatch[];
    return this.db.prepare(sql).all() as Mismatch[];
  }

  private ahead: { rows(sql: string): unknown[]; close(): void } | undefined;
  /**
   * The set-based checks a pass will run (extra() of each sql): on PostgreSQL they start now on a side
   * connection in the same snapshot, so the server works through them while the pass streams the journal.
   * On SQLite nothing changes. Ends with endChecks().
   */
  startChecks(sqls: readonly string[]): void {
    this.endChecks();
    if (this.pg) this.ahead = this.pg.runAhead(sqls);
  }

  endChecks(): void {
    this.ahead?.close();
    this.ahead = undefined;
  }
}

export const verifyQueries = (store: Store): VerifyQueries => new VerifyQueries(store);

/**
 * Cross-checks of the tables that decide money against the journal (issue 14): each names what it
 * proves when it passes, and its SQL returns (subject, detail) rows for what does not hold. Set-based:
 * one statement each, index lookups per row at most.
 */
export const bookChecks: { name: string; okDetail: string; sql: string }[] = [
  {
    // The key (source, order id) of an accrued purchase is what stops a re-import from accruing twice:
    // it must be the key its entry was written for (the entry's ref is hashed into the chain). A return's
    // points are its member postings plus its `expired` ones (points it reopened of a lapsed lot).
    name: 'purchases-match-entries',
    okDetail: "every accrued purchase's key, member and points are those of the entry that accrued it",
    sql: `SELECT 'purchase ' || p.source || ':' || p.order_id AS subject,
                 CASE WHEN p.entry_id IS NULL THEN 'is accrued with ' || p.points || ' points but names no entry'
                      WHEN e.id IS NULL THEN 'names entry ' || p.entry_id || ', which does not exist'
                      WHEN e.kind NOT IN ('accrual', 'return') THEN 'names entry ' || e.id || ', a ' || e.kind || ' entry'
                      WHEN e.ref IS NOT p.source || ':' || p.order_id THEN 'was accrued by entry ' || e.id || ' as ' || coalesce(e.ref, '(no ref)') || ': its key was changed'
                      WHEN e.member_id IS NOT p.member_id THEN 'is for member ' || p.member_id || ' but entry ' || e.id || ' is for ' || coalesce(e.member_id, 'nobody')
                      ELSE 'records ' || p.points || ' points but entry ' || e.id || ' moved ' || coalesce(p.m, 0) END AS detail
            FROM (SELECT p.*, (SELECT sum(x.points) FROM postings x WHERE x.entry_id = p.entry_id AND x.account IN ('member', 'expired')) AS m
                    FROM purchases p WHERE p.entry_id IS NOT NULL OR (p.status = 'accrued' AND p.points <> 0)) p
            LEFT JOIN entries e ON e.id = p.entry_id
           WHERE p.entry_id IS NULL OR e.id IS NULL OR e.kind NOT IN ('accrual', 'return')
              OR (p.status IS NOT 'voided' AND e.ref IS NOT p.source || ':' || p.order_id)
              OR e.member_id IS NOT p.member_id OR coalesce(p.m, 0) <> p.points
          UNION ALL
          SELECT 'entry ' || entry_id, 'is claimed by ' || count(*) || ' purchases' FROM purchases
           WHERE entry_id IS NOT NULL GROUP BY entry_id HAVING count(*) > 1
          LIMIT 5`,
  },
  {
    // The other way round: an import's accrual or return with no purchase row is an order whose key is
    // gone (its row deleted), which a re-import would accrue a second time. A checkout's accrual is its order's.
    name: 'entries-match-purchases',
    okDetail: "every import's accrual and return entry is claimed by its purchase (its key stands)",
    sql: `SELECT 'entry ' || e.id AS subject,
                 'is the ' || e.kind || ' of ' || coalesce(e.ref, '(no ref)') || ', but no purchase claims it: its purchase row was deleted, and a re-import would accrue the order again' AS detail
            FROM entries e
            JOIN (SELECT id FROM entries WHERE kind IN ('accrual', 'return')
                  EXCEPT SELECT entry_id FROM purchases WHERE entry_id IS NOT NULL) u ON u.id = e.id
           WHERE e.ref IS NOT NULL AND NOT (e.kind = 'accrual' AND EXISTS (SELECT 1 FROM orders o WHERE o.id = e.ref))
             -- an import's ref is SOURCE:ORDER of a source import runs recorded (entries written otherwise, by
             -- a tool or an older build, name no such source and are not judged here)
             AND EXISTS (SELECT 1 FROM import_runs r WHERE substr(e.ref, 1, length(r.source) + 1) = r.source || ':')
           ORDER BY e.id
           LIMIT 5`,
  },
  {
    name: 'orders-match-refunds',
    okDetail: "every order's and line's refunded caches and status match its refunds",
    sql: `WITH r AS (SELECT order_id, count(*) AS n, sum(points) AS p, sum(cash) AS c, sum(earned) AS e FROM refunds GROUP BY order_id),
               rl AS (SELECT f.order_id, l.line_no, sum(l.quantity) AS q, sum(l.points) AS p, sum(l.cash) AS c, sum(l.earned) AS e
                        FROM refund_lines l JOIN refunds f ON f.id = l.refund_id GROUP BY f.order_id, l.line_no)
          SELECT 'order ' || o.id AS subject,
                 'caches ' || o.refunded_points || ' points / ' || o.refunded_cash || ' cash / ' || o.refunded_earned ||
                 ' earned refunded, but its refunds total ' || coalesce(r.p, 0) || ' / ' || coalesce(r.c, 0) || ' / ' || coalesce(r.e, 0) AS detail
            FROM orders o LEFT JOIN r ON r.order_id = o.id
           WHERE o.refunded_points <> coalesce(r.p, 0) OR o.refunded_cash <> coalesce(r.c, 0) OR o.refunded_earned <> coalesce(r.e, 0)
          UNION ALL
          SELECT 'order ' || o.id || ' line ' || ol.line_no,
                 'caches ' || ol.refunded_qty || ' refunded of ' || ol.quantity || ' (' || ol.refunded_points || ' points / ' || ol.refunded_cash ||
                 ' cash / ' || ol.refunded_earned || ' earned), but its refund lines total ' || coalesce(rl.q, 0) || ' (' || coalesce(rl.p, 0) ||
                 ' / ' || coalesce(rl.c, 0) || ' / ' || coalesce(rl.e, 0) || ')'
            FROM order_lines ol JOIN orders o ON o.id = ol.order_id LEFT JOIN rl ON rl.order_id = ol.order_id AND rl.line_no = ol.line_no
           WHERE ol.refunded_qty <> coalesce(rl.q, 0) OR ol.refunded_points <> coalesce(rl.p, 0) OR ol.refunded_cash <> coalesce(rl.c, 0)
              OR ol.refunded_earned <> coalesce(rl.e, 0) OR ol.refunded_qty > ol.quantity
          UNION ALL
          SELECT 'order ' || o.id, 'is ' || o.status || ' but ' ||
                 CASE WHEN r.n IS NULL THEN 'has no refund' ELSE 'has ' || r.n || ' refund(s) and ' || o.open_lines || ' line(s) not wholly refunded' END
            FROM (SELECT o.*, (SELECT count(*) FROM order_lines ol WHERE ol.order_id = o.id AND ol.refunded_qty < ol.quantity) AS open_lines FROM orders o
                   WHERE o.status IN ('paid', 'partially_refunded', 'refunded') OR EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.id)) o
            LEFT JOIN r ON r.order_id = o.id
           WHERE (r.n IS NULL AND o.status <> 'paid')
              OR (r.n IS NOT NULL AND o.status <> CASE WHEN o.open_lines = 0 THEN 'refunded' ELSE 'partially_refunded' END)
          LIMIT 5`,
  },
  {
    name: 'refunds-match-entries',
    okDetail: 'every refund gave back and took back the points of its journal entries',
    sql: `SELECT 'refund ' || f.id || ' of ' || f.order_id AS subject,
                 'records ' || f.points || ' points given back and ' || f.earned || ' earned taken back, but its entries ' ||
                 coalesce(f.points_entry_id, '-') || ' / ' || coalesce(f.earned_entry_id, '-') || ' moved ' || coalesce(f.pm, 0) || ' / ' || coalesce(-f.em, 0) AS detail
            FROM (SELECT f.*,
                         (SELECT sum(x.points) FROM postings x WHERE x.entry_id = f.points_entry_id AND x.account = 'member') AS pm,
                         (SELECT sum(x.points) FROM postings x WHERE x.entry_id = f.earned_entry_id AND x.account IN ('member', 'expired')) AS em,
                         (SELECT e.kind || ':' || coalesce(e.ref, '') FROM entries e WHERE e.id = f.points_entry_id) AS pk,
                         (SELECT e.kind || ':' || coalesce(e.ref, '') FROM entries e WHERE e.id = f.earned_entry_id) AS ek
                    FROM refunds f) f
           WHERE coalesce(f.pm, 0) <> f.points OR coalesce(-f.em, 0) <> f.earned
              OR (f.points_entry_id IS NOT NULL AND f.pk IS NOT 'refund:' || f.order_id)
              OR (f.earned_entry_id IS NOT NULL AND f.ek IS NOT 'refund:' || f.order_id)
          LIMIT 5`,
  },
  {
    name: 'orders-match-entries',
    okDetail: "every order's hold, points used and points earned match the journal",
    sql: `WITH acc AS (SELECT e.ref, sum((SELECT sum(x.points) FROM postings x WHERE x.entry_id = e.id AND x.account = 'member')) AS pts
                         FROM entries e WHERE e.kind = 'accrual' AND e.ref IN (SELECT id FROM orders) GROUP BY e.ref)
          SELECT 'order ' || o.id AS subject,
                 CASE WHEN h.id IS NULL THEN 'has no hold'
                      WHEN h.member_id IS NOT o.member_id OR h.points <> o.points_used THEN 'uses ' || o.points_used || ' points of ' || o.member_id || ' but its hold is ' || h.points || ' of ' || h.member_id
                      WHEN o.points_earned <> coalesce(acc.pts, 0) THEN 'earned ' || o.points_earned || ' points but its accrual entries credit ' || coalesce(acc.pts, 0)
                      ELSE 'is ' || o.status || ' but its hold is ' || h.status END AS detail
            FROM orders o LEFT JOIN holds h ON h.order_id = o.id LEFT JOIN acc ON acc.ref = o.id
           WHERE h.id IS NULL OR h.member_id IS NOT o.member_id OR h.points <> o.points_used OR o.points_earned <> coalesce(acc.pts, 0)
              OR h.status <> CASE WHEN o.status = 'held' THEN 'open' WHEN o.status IN ('paid', 'partially_refunded', 'refunded') THEN 'captured' ELSE 'released' END
          LIMIT 5`,
  },
  {
    // The journal's held account moves only by hold, redemption and release entries naming the order.
    name: 'holds-match-entries',
    okDetail: "every hold's points were held, and captured or released once, by entries of its order",
    sql: `WITH closing AS (SELECT ref, sum(kind = 'redemption') AS captured, sum(kind = 'release') AS released,
                                sum((SELECT sum(x.points) FROM postings x WHERE x.entry_id = entries.id AND x.account = 'held')) AS held
                           FROM entries WHERE kind IN ('redemption', 'release') AND ref IN (SELECT order_id FROM holds) GROUP BY ref)
          SELECT 'hold ' || h.id || ' of ' || h.order_id AS subject,
                 'is ' || h.status || ' with ' || h.points || ' points, but the journal holds ' || coalesce(h.held_in, 0) || ' (entry ' ||
                 coalesce(h.entry_id, '-') || ' ' || coalesce(h.ek, '-') || '), captures ' || coalesce(c.captured, 0) || ' and releases ' ||
                 coalesce(c.released, 0) || ' time(s)' AS detail
            FROM (SELECT h.*,
                         (SELECT e.kind || ':' || coalesce(e.ref, '') || ':' || coalesce(e.member_id, '') FROM entries e WHERE e.id = h.entry_id) AS ek,
                         (SELECT sum(x.points) FROM postings x WHERE x.entry_id = h.entry_id AND x.account = 'held') AS held_in
                    FROM holds h) h
            LEFT JOIN closing c ON c.ref = h.order_id
           WHERE (h.points > 0) <> (h.entry_id IS NOT NULL)
              OR (h.entry_id IS NOT NULL AND (h.ek IS NOT 'hold:' || h.order_id || ':' || h.member_id OR h.held_in IS NOT h.points))
              OR coalesce(c.captured, 0) <> CASE WHEN h.points > 0 AND h.status = 'captured' THEN 1 ELSE 0 END
              OR coalesce(c.released, 0) <> CASE WHEN h.points > 0 AND h.status = 'released' THEN 1 ELSE 0 END
              OR (h.points > 0 AND h.status <> 'open' AND coalesce(c.held, 0) <> -h.points)
          LIMIT 5`,
  },
  {
    // A retried checkout replays what its key names; a key cut loose from its order would pay again.
    name: 'idempotency-keys-match-orders',
    okDetail: "every checkout idempotency key names its order, and a stored result is that order's",
    sql: `SELECT 'idempotency key ' || k.key AS subject,
                 CASE WHEN k.order_id IS NULL THEN 'names no order: a retry would pay again'
                      WHEN o.id IS NULL THEN 'names order ' || k.order_id || ', which does not exist'
                      ELSE 'names order ' || k.order_id || ' but stores the result of ' || coalesce(json_extract(k.result, '$.orderId'), 'no order') END AS detail
            FROM idempotency_keys k LEFT JOIN orders o ON o.id = k.order_id
           WHERE k.order_id IS NULL OR o.id IS NULL
              OR (k.result IS NOT NULL AND (NOT json_valid(k.result) OR json_extract(k.result, '$.orderId') IS NOT k.order_id))
          LIMIT 5`,
  },
  {
    // What verify can prove of a sent mark: that an export recorded marking it (the audit log is
    // append-only by trigger). It cannot prove the message was delivered.
    name: 'outbox-sent-marks',
    okDetail: 'every notification marked sent was marked by a recorded outbox export',
    sql: `SELECT 'outbox ' || o.id AS subject, 'is marked sent at ' || o.sent_at || ' but no recorded export (audit outbox.mark-sent) marked it' AS detail
            FROM outbox o
           WHERE o.sent_at IS NOT NULL AND NOT EXISTS (
                 SELECT 1 FROM audit a WHERE a.action = 'outbox.mark-sent' AND a.at = o.sent_at
                    AND o.id BETWEEN CAST(json_extract(a.detail, '$.firstId') AS INTEGER) AND CAST(json_extract(a.detail, '$.lastId') AS INTEGER))
          UNION ALL
          SELECT 'audit ' || a.id, 'an export recorded marking ' || json_extract(a.detail, '$.count') || ' notification(s) sent, but ' || a.n || ' carry its mark'
            FROM (SELECT a.*, (SELECT count(*) FROM outbox o WHERE o.id BETWEEN CAST(json_extract(a.detail, '$.firstId') AS INTEGER) AND CAST(json_extract(a.detail, '$.lastId') AS INTEGER)
                                 AND o.sent_at = a.at) AS n
                    FROM audit a WHERE a.action = 'outbox.mark-sent') a
           WHERE a.n <> CAST(json_extract(a.detail, '$.count') AS INTEGER)
          LIMIT 5`,
  },
  {
    // The currency and the time zone are fixed at init (SPEC §1), which records them: a settings row changed
    // since (every amount read as another currency, days cut in another zone) differs from that record. The
    // audit log is append-only by trigger, not chained: someone who edits both is not caught.
    name: 'settings-match-init',
    okDetail: 'the currency and time zone are those the ledger was made with (its ledger.init audit record)',
    sql: `SELECT 'setting ' || s.key AS subject,
                 'is ' || s.value || ', but the ledger was made with ' || json_extract(a.detail, '$.' || s.key) || ' (audit ' || a.id || ', ledger.init); it is fixed at init' AS detail
            FROM settings s
            JOIN (SELECT id, detail FROM audit WHERE action = 'ledger.init' ORDER BY id DESC LIMIT 1) a ON 1 = 1
           WHERE s.key IN ('currency', 'timezone') AND json_extract(a.detail, '$.' || s.key) IS NOT NULL
             AND s.value IS NOT json_extract(a.detail, '$.' || s.key)
          UNION ALL
          SELECT 'setting ' || k.key, 'is gone (the ledger was made with ' || json_extract(a.detail, '$.' || k.key) || ')'
            FROM (SELECT 'currency' AS key UNION ALL SELECT 'timezone') k
            JOIN (SELECT id, detail FROM audit WHERE action = 'ledger.init' ORDER BY id DESC LIMIT 1) a ON 1 = 1
           WHERE json_extract(a.detail, '$.' || k.key) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM settings s WHERE s.key = k.key)
          LIMIT 5`,
  },
  {
    // What the outbox tells members against what the journal did: each points.expired notice is its expiry
    // entry's (member, points), each order.confirmed its paid order's (member, points used and earned,
    // tender), and neither kind is missing. The recipient is the member's contact when it was queued,
    // which a later change of contact may change, so it is not proved.
    name: 'outbox-matches-journal',
    okDetail: "every points.expired and order.confirmed notification says what its expiry entry or paid order did, and none is missing (the recipient is the contact when queued: not proved)",
    sql: `SELECT 'outbox ' || o.id AS subject,
                 CASE WHEN e.id IS NULL THEN 'says points expired by entry ' || substr(o.dedupe_key, 15) || ', which is no expiry entry'
                      WHEN e.member_id IS NOT o.member_id OR json_extract(o.payload, '$.memberId') IS NOT o.member_id
                        THEN 'is for member ' || coalesce(o.member_id, 'nobody') || ' but expiry entry ' || e.id || ' is for ' || coalesce(e.member_id, 'nobody')
                      ELSE 'says ' || coalesce(json_extract(o.payload, '$.points'), '(none)') || ' points expired but expiry entry ' || e.id || ' expired ' || coalesce(e.p, 0) END AS detail
            FROM outbox o
            LEFT JOIN (SELECT x.id, x.member_id, (SELECT -sum(p.points) FROM postings p WHERE p.entry_id = x.id AND p.account = 'member') AS p
                         FROM entries x WHERE x.kind = 'expiry') e ON e.id = CAST(substr(o.dedupe_key, 15) AS INTEGER)
           WHERE o.topic = 'points.expired' AND o.dedupe_key LIKE 'expired:entry:%'
             AND (e.id IS NULL OR e.member_id IS NOT o.member_id OR json_extract(o.payload, '$.memberId') IS NOT o.member_id
                  OR CAST(json_extract(o.payload, '$.points') AS INTEGER) IS NOT e.p)
          UNION ALL
          SELECT 'entry ' || e.id, 'expired points of member ' || coalesce(e.member_id, 'nobody') || ', but its points.expired notification is gone'
            FROM entries e
           WHERE e.kind = 'expiry'
             AND e.id >= (SELECT min(CAST(substr(dedupe_key, 15) AS INTEGER)) FROM outbox WHERE dedupe_key LIKE 'expired:entry:%')
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = 'expired:entry:' || e.id)
          UNION ALL
          SELECT 'outbox ' || o.id,
                 CASE WHEN r.id IS NULL THEN 'confirms order ' || substr(o.dedupe_key, 17) || ', which is no paid order'
                      ELSE 'confirms order ' || r.id || ' for ' || coalesce(json_extract(o.payload, '$.memberId'), '?') || ' with ' ||
                           coalesce(json_extract(o.payload, '$.pointsUsed'), '?') || ' points used, ' || coalesce(json_extract(o.payload, '$.pointsEarned'), '?') ||
                           ' earned, by ' || coalesce(json_extract(o.payload, '$.tender'), '(no tender: points only)') || ', but the order is for ' || r.member_id || ' with ' ||
                           r.points_used || ' used, ' || r.points_earned || ' earned, by ' || coalesce(r.tender, '(none)') END
            FROM outbox o
            LEFT JOIN orders r ON r.id = substr(o.dedupe_key, 17) AND r.status IN ('paid', 'partially_refunded', 'refunded')
           WHERE o.topic = 'order.confirmed' AND o.dedupe_key LIKE 'order.confirmed:%'
             AND (r.id IS NULL OR r.member_id IS NOT o.member_id OR json_extract(o.payload, '$.memberId') IS NOT r.member_id
                  OR CAST(json_extract(o.payload, '$.pointsUsed') AS INTEGER) IS NOT r.points_used
                  OR CAST(json_extract(o.payload, '$.pointsEarned') AS INTEGER) IS NOT r.points_earned
                  OR (json_extract(o.payload, '$.tender') IS NOT NULL AND json_extract(o.payload, '$.tender') IS NOT r.tender))
          UNION ALL
          SELECT 'order ' || r.id, 'was paid, but its order.confirmed notification is gone'
            FROM orders r
           WHERE r.status IN ('paid', 'partially_refunded', 'refunded')
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = 'order.confirmed:' || r.id)
          LIMIT 5`,
  },
];
