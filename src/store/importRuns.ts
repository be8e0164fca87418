// Import runs (one per committed `import purchases`) and the voiding of their purchases (issue 16).
import type { Store } from './db.js';
import type { PurchaseRow } from './purchases.js';
import { extraChecks } from './verify.js';

export interface ImportRunRow {
  id: number;
  source: string;
  file: string;
  sha256: string;
  started_at: string;
  finished_at: string | null;
  operator: string;
  rows: number | null;
  rejected: number | null;
}

/** What a run's purchase rows add up to (worked out from them, so a run stopped midway is right too). */
export interface ImportRunTotals {
  accepted: number;
  points: number;
  voided: number;
  first: string | null;
  last: string | null;
}

export interface StoredPurchase extends PurchaseRow {
  id: number;
}

const MARK_VOIDED = "UPDATE purchases SET voided_at = ?, voided_by = ?, status = CASE WHEN status = 'review' THEN 'rejected' ELSE status END WHERE id = ? AND voided_at IS NULL";

export class ImportRuns {
  private readonly s;
  constructor(private readonly store: Store) {
    const db = store.db;
    this.s = {
      create: db.prepare('INSERT INTO import_runs (source, file, sha256, started_at, operator) VALUES (?, ?, ?, ?, ?)'),
      finish: db.prepare('UPDATE import_runs SET finished_at = ?, rows = ?, rejected = ? WHERE id = ?'),
      drop: db.prepare('DELETE FROM import_runs WHERE id = ?'),
      get: db.prepare('SELECT * FROM import_runs WHERE id = ?'),
      sources: db.prepare('SELECT source FROM import_runs GROUP BY source ORDER BY min(id)').pluck(),
      all: db.prepare('SELECT * FROM import_runs ORDER BY id'),
      // (no index on purchases.run_id: only runs of the same file are looked into, and those rarely exist)
      sameFile: db.prepare(
        `SELECT * FROM import_runs r WHERE r.sha256 = @sha AND r.source <> @source
            AND EXISTS (SELECT 1 FROM purchases p WHERE p.run_id = r.id AND p.voided_at IS NULL)
            AND NOT EXISTS (SELECT 1 FROM import_runs s WHERE s.sha256 = @sha AND s.source = @source
                              AND EXISTS (SELECT 1 FROM purchases q WHERE q.run_id = s.id AND q.voided_at IS NULL))
          ORDER BY r.id LIMIT 1`,
      ),
      // One scan of the purchases (no index on run_id: it would cost every import's insert).
      totals: db
        .prepare(
          `SELECT run_id, count(*) AS accepted, coalesce(sum(points), 0) AS points, count(voided_at) AS voided,
                  min(purchased_at) AS first, max(purchased_at) AS last
             FROM purchases WHERE run_id IS NOT NULL GROUP BY run_id`,
        )
        .raw(),
      ofRun: db.prepare('SELECT * FROM purchases WHERE run_id = ? ORDER BY id'),
      byKey: db.prepare('SELECT * FROM purchases WHERE source = ? AND order_id = ? AND voided_at IS NULL'),
      lastVoidedByKey: db.prepare('SELECT * FROM purchases WHERE source = ? AND order_id = ? AND voided_at IS NOT NULL ORDER BY id DESC LIMIT 1'),
      markVoided: db.prepare(MARK_VOIDED),
      // the run's latest purchase (its rows are the newest, so the scan from the end stops at once) and
      // whether a void of the whole run was recorded
      lastOfRun: db.prepare('SELECT voided_at FROM purchases WHERE run_id = ? ORDER BY id DESC LIMIT 1').pluck(),
      runVoided: db.prepare("SELECT EXISTS (SELECT 1 FROM audit WHERE action = 'import.void' AND subject = ?)").pluck(),
      countVoided: db.prepare('SELECT count(*) FROM purchases WHERE voided_at = ? AND id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))').pluck(),
    };
  }

  /** A source of an earlier import spelled as `source` but for the case of its letters, if any. */
  /** Every source the import runs used, the earliest first. */
  sources(): string[] {
    return this.s.sources.all() as string[];
  }

  create(source: string, file: string, sha256: string, at: string, operator: string): number {
    return Number(this.s.create.run(source, file, sha256, at, operator).lastInsertRowid);
  }
  finish(id: number, at: string, rows: number, rejected: number): void {
    this.s.finish.run(at, rows, rejected, id);
  }
  /** Removes a run known to have written no purchase (the import took nothing). */
  drop(id: number): void {
    this.s.drop.run(id);
  }
  get(id: number): ImportRunRow | undefined {
    return this.s.get.get(id) as ImportRunRow | undefined;
  }
  /**
   * The first run of a file with these bytes under another source that still holds purchases (not all
   * voided), unless a run under this source holds some too (this source took the file in already).
   */
  sameFileElsewhere(sha256: string, source: string): ImportRunRow | undefined {
    return this.s.sameFile.get({ sha: sha256, source }) as ImportRunRow | undefined;
  }
  all(): ImportRunRow[] {
    return this.s.all.all() as ImportRunRow[];
  }
  totals(): Map<number, ImportRunTotals> {
    const m = new Map<number, ImportRunTotals>();
    for (const [id, accepted, points, voided, first, last] of this.s.totals.all() as [number, number, number, number, string | null, string | null][]) {
      m.set(id, { accepted, points, voided, first, last });
    }
    return m;
  }
  /**
   * Whether `import void` voided the run (an import still writing it must stop): its latest purchase is
   * voided, and a void of the run is on record (not one order voided alone). Cheap while it is not.
   */
  voidedWhole(runId: number): boolean {
    const last = this.s.lastOfRun.get(runId) as string | null | undefined;
    if (last === null || last === undefined) return false;
    return Number(this.s.runVoided.get(`run ${runId}`)) === 1;
  }
  purchasesOf(runId: number): StoredPurchase[] {
    return this.s.ofRun.all(runId) as StoredPurchase[];
  }
  /** The purchase holding the key (not voided). */
  byKey(source: string, orderId: string): StoredPurchase | undefined {
    return this.s.byKey.get(source, orderId) as StoredPurchase | undefined;
  }
  lastVoided(source: string, orderId: string): StoredPurchase | undefined {
    return this.s.lastVoidedByKey.get(source, orderId) as StoredPurchase | undefined;
  }
  /** Marks a purchase voided (one in review becomes rejected); false when it was voided meanwhile. */
  markVoided(id: number, at: string, entryId: number | null): boolean {
    return this.s.markVoided.run(at, entryId, id).changes === 1;
  }
  /**
   * markVoided of many purchases (id and the void entry of each, null for none) whose answers are not
   * waited for: on PostgreSQL, inside a transaction, one statement for them all, queued (countVoided
   * checks them afterwards); elsewhere markVoided of each, false when one of them was voided already.
   */
  markVoidedMany(marks: readonly { id: number; entryId: number | null }[], at: string): boolean {
    const pg = this.store.pg;
    if (!pg?.inTransaction) return marks.every((m) => this.markVoided(m.id, at, m.entryId));
    if (marks.length)
      pg.runQueued(
        `UPDATE purchases SET voided_at = ?, voided_by = v.entry, status = CASE WHEN status = 'review' THEN 'rejected' ELSE status END
           FROM unnest(?::bigint[], ?::bigint[]) AS v(id, entry) WHERE purchases.id = v.id AND voided_at IS NULL`,
        [at, marks.map((m) => m.id), marks.map((m) => m.entryId)],
      );
    return true;
  }
  /** How many of these purchases are voided at `at`. */
  countVoided(ids: readonly number[], at: string): number {
    return this.s.countVoided.get(at, JSON.stringify(ids)) as number;
  }
}

export const importRuns = (store: Store): ImportRuns => new ImportRuns(store);

// `ledger verify`: a voided purchase is a documented state. Its points (credited, or taken back by a
// return) were reversed by exactly one `void` entry of its key and member (voided_by), and only a
// voided purchase names one; an order without points has none; every void entry is claimed by one
// voided purchase; no voided purchase still waits in review, nor does its review item. (The points a
// void reverses are its member postings plus its `expired` ones: points an expiry run had expired, of
// the order's lot or reopened of another, go back from `expired`, not from the member.)
extraChecks.push({
  name: 'voided-purchases-match-entries',
  sql: `SELECT 'purchase ' || p.source || ':' || p.order_id AS subject,
               CASE WHEN p.voided_at IS NULL THEN 'is not voided but names void entry ' || p.voided_by
                    WHEN p.status = 'review' THEN 'is voided but still in review'
                    WHEN p.points = 0 THEN 'had no points to reverse but names void entry ' || p.voided_by
                    WHEN p.voided_by IS NULL THEN 'is voided with ' || p.points || ' points but names no void entry'
                    WHEN e.id IS NULL THEN 'names void entry ' || p.voided_by || ', which does not exist'
                    WHEN e.kind IS NOT 'void' OR e.ref IS NOT p.source || ':' || p.order_id OR e.member_id IS NOT p.member_id
                      THEN 'names entry ' || e.id || ' (' || e.kind || ' ' || coalesce(e.ref, '') || ' for ' || coalesce(e.member_id, 'nobody') || ') as its void'
                    ELSE 'had ' || p.points || ' points but its void entry ' || e.id || ' moved ' || coalesce(p.m, 0) END AS detail
          FROM (SELECT p.*, (SELECT sum(x.points) FROM postings x WHERE x.entry_id = p.voided_by AND x.account IN ('member', 'expired')) AS m
                  FROM purchases p WHERE p.voided_at IS NOT NULL OR p.voided_by IS NOT NULL) p
          LEFT JOIN entries e ON e.id = p.voided_by
         WHERE p.voided_at IS NULL OR p.status = 'review' OR (p.points = 0) <> (p.voided_by IS NULL) OR (p.points <> 0 AND (
               e.id IS NULL OR e.kind IS NOT 'void' OR e.ref IS NOT p.source || ':' || p.order_id OR e.member_id IS NOT p.member_id
               OR coalesce(p.m, 0) <> -p.points))
        UNION ALL
        SELECT 'entry ' || e.id, 'is a void claimed by ' || coalesce(c.n, 0) || ' purchases'
          FROM entries e LEFT JOIN (SELECT voided_by, count(*) AS n FROM purchases WHERE voided_by IS NOT NULL GROUP BY voided_by) c ON c.voided_by = e.id
         WHERE e.kind = 'void' AND coalesce(c.n, 0) <> 1
        UNION ALL
        SELECT 'review item ' || q.id, 'is pending but no purchase ' || q.source || ':' || q.order_id || ' (not voided) waits in review'
          FROM review_queue q WHERE q.status = 'pending'
           AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.source = q.source AND p.order_id = q.order_id AND p.voided_at IS NULL AND p.status = 'review')
        LIMIT 5`,
});
