// Imported purchases (the idempotency record of every order, keyed by source and order id) and the
// import's staging file, where a file's lines wait until every line of an order has been read.
import { closeSync, openSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { capReason } from '../domain/rejects.js';
import { type Store, relaxRowChecks } from './db.js';

export interface PurchaseRow {
  /** Given by an import (its lines name it); left out, the next free one. */
  id?: number | null;
  source: string;
  order_id: string;
  member_id: string;
  purchased_at: string;
  kind: 'purchase' | 'return';
  amount: number;
  line_count: number;
  content_hash: string;
  status: 'accrued' | 'review' | 'rejected';
  points: number;
  capped: number;
  rules_version: number | null;
  entry_id: number | null;
  imported_at: string;
  /** The import run that wrote it (null: imported before runs were recorded). */
  run_id: number | null;
  /** Set when a void reversed it (its key is then free); voided_by is the void entry, if it had points. */
  voided_at?: string | null;
  voided_by?: number | null;
}

export interface MemberFacts {
  status: 'active' | 'frozen';
  tier: string | null;
  lifetime_earned: number;
  debt: number;
  /** The member's balance, kept current by the import as it accrues (the points ceiling is checked on it). */
  balance: number;
}

type FactsRow = [id: string, status: MemberFacts['status'], tier: string | null, lifetimeEarned: number, debt: number, balance: number];
const factsOf = (rows: FactsRow[]): Map<string, MemberFacts> =>
  new Map(rows.map(([id, status, tier, lifetime, debt, balance]) => [id, { status, tier, lifetime_earned: lifetime, debt, balance }]));

// The id is given: an import numbers its rows itself (Purchases.lastId) so their lines can name them.
const INSERT_PURCHASE =
  'INSERT INTO purchases (id, source, order_id, member_id, purchased_at, kind, amount, line_count, content_hash, status, points, capped, rules_version, entry_id, imported_at, run_id)';
const ROW = '(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)';
/** Values per purchase row, in INSERT_PURCHASE's order. */
export const PURCHASE_COLUMNS = 16;
const MANY = 64;
const PURCHASE_NAMES = INSERT_PURCHASE.slice(INSERT_PURCHASE.indexOf('(') + 1, -1);
const INSERT_LINE = 'INSERT INTO purchase_lines (purchase_id, line_no, sku, category, quantity, amount)';
const LINE_ROW = '(?,?,?,?,?,?)';
/** Values per purchase line, in INSERT_LINE's order. */
export const LINE_COLUMNS = 6;
const LINES_MANY = 128;
const LINE_NAMES = INSERT_LINE.slice(INSERT_LINE.indexOf('(') + 1, -1);
const purchaseArgs = (p: PurchaseRow): unknown[] => [
  p.id ?? null, p.source, p.order_id, p.member_id, p.purchased_at, p.kind, p.amount, p.line_count, p.content_hash,
  p.status, p.points, p.capped, p.rules_version, p.entry_id, p.imported_at, p.run_id,
];

export class Purchases {
  private readonly s;
  private readonly buf: unknown[] = new Array(MANY * PURCHASE_COLUMNS);
  private readonly lineBuf: unknown[] = new Array(LINES_MANY * LINE_COLUMNS);
  constructor(private readonly store: Store) {
    const db = store.db;
    this.s = {
      get: db.prepare('SELECT * FROM purchases WHERE source = ? AND order_id = ? AND voided_at IS NULL'),
      anyFromSource: db.prepare('SELECT 1 FROM purchases WHERE source = ? AND voided_at IS NULL LIMIT 1').pluck(),
      anyFromSourceBut: db.prepare('SELECT 1 FROM purchases WHERE source = ? AND voided_at IS NULL AND run_id IS NOT ? LIMIT 1').pluck(),
      insert: db.prepare(`${INSERT_PURCHASE} VALUES ${ROW}`),
      // OR FAIL: no statement journal for a multi-row insert (see Journal's insertRows); a duplicate key
      // still fails it, and with it the batch's transaction.
      insertMany: db.prepare(`${INSERT_PURCHASE.replace('INSERT INTO', 'INSERT OR FAIL INTO')} VALUES ${Array(MANY).fill(ROW).join(',')}`),
      insertLine: db.prepare(`${INSERT_LINE} VALUES ${LINE_ROW}`),
      insertLines: db.prepare(`${INSERT_LINE.replace('INSERT INTO', 'INSERT OR FAIL INTO')} VALUES ${Array(LINES_MANY).fill(LINE_ROW).join(',')}`),
      lastId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM purchases').pluck(),
      settle: db.prepare("UPDATE purchases SET status = ?, points = ?, capped = ?, rules_version = ?, entry_id = ? WHERE source = ? AND order_id = ? AND status = 'review' AND voided_at IS NULL"),
      member: db.prepare('SELECT status, tier, lifetime_earned, debt, balance FROM members WHERE id = ?'),
      findMany: db.prepare('SELECT order_id, content_hash FROM purchases WHERE source = ? AND order_id IN (SELECT value FROM json_each(?)) AND voided_at IS NULL').raw(),
      membersMany: db.prepare('SELECT id, status, tier, lifetime_earned, debt, balance FROM members WHERE id IN (SELECT value FROM json_each(?))').raw(),
      memberCount: db.prepare('SELECT count(*) FROM members').pluck(),
      allMembers: db.prepare('SELECT id, status, tier, lifetime_earned, debt, balance FROM members').raw(),
      // the latest valid time of any entry (entries_at)
      latestAt: db.prepare('SELECT max(at) FROM entries').pluck(),
      // what each entry of a member adds to lifetime earned as members.lifetime_earned counts it (−Σ issued
      // postings), by valid time (entries_member: one member's entries)
      earnedTimeline: db
        .prepare(
          `SELECT e.at, -sum(p.points) FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.member_id = ? AND p.member_id = e.member_id AND p.account = 'issued'
            GROUP BY e.id ORDER BY e.at, e.id`,
        )
        .raw(),
      // the same of the accruals (and voids' give-backs) the daily cap counts (EARNED_BETWEEN), per entry
      accrualTimeline: db
        .prepare(
          `SELECT e.at, -sum(p.points) FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.member_id = ? AND e.kind IN ('accrual', 'void') AND p.account = 'issued' AND p.member_id = e.member_id
              AND (e.kind = 'accrual' OR p.points > 0)
            GROUP BY e.id ORDER BY e.at, e.id`,
        )
        .raw(),
    };
  }

  /**
   * Whether any order of the source was imported before; with `exceptRun`, any that import run did not
   * write (an import's own orders have keys of their own: its feed names each order id once).
   */
  anyFromSource(source: string, exceptRun: number | null = null): boolean {
    return (exceptRun === null ? this.s.anyFromSource.get(source) : this.s.anyFromSourceBut.get(source, exceptRun)) !== undefined;
  }
  /** Content hashes of the keys already imported, for a whole batch of order ids. */
  findMany(source: string, orderIds: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, hash] of this.s.findMany.all(source, JSON.stringify(orderIds)) as [string, string][]) out.set(id, hash);
    return out;
  }
  /** Member facts for a whole batch of member ids (unknown ids are absent). */
  memberFactsMany(ids: readonly string[]): Map<string, MemberFacts> {
    return factsOf(this.s.membersMany.all(JSON.stringify(ids)) as FactsRow[]);
  }
  /** Facts of every member, when there are at most `max` (else null): one scan instead of many lookups. */
  allMemberFacts(max: number): Map<string, MemberFacts> | null {
    if ((this.s.memberCount.get() as number) > max) return null;
    return factsOf(this.s.allMembers.all() as FactsRow[]);
  }
  get(source: string, orderId: string): PurchaseRow | undefined {
    return this.s.get.get(source, orderId) as PurchaseRow | undefined;
  }
  insert(p: PurchaseRow): void {
    this.last = null;
    this.s.insert.run(purchaseArgs(p));
  }
  /**
   * Many rows at once, given as PURCHASE_COLUMNS values each, one row after another: 64 per statement,
   * which costs about one row's worth of statement overhead (the values pass through one reused array).
   */
  insertMany(args: readonly unknown[]): void {
    const pg = this.store.pg;
    if (pg) {
      // PostgreSQL: one COPY, queued (the server writes while the import goes on)
      pg.copyRowsQueued('purchases', PURCHASE_NAMES, PURCHASE_COLUMNS, args);
      if (this.last && args.length) this.last.id = Math.max(this.last.id, args[args.length - PURCHASE_COLUMNS] as number);
      return;
    }
    const chunk = MANY * PURCHASE_COLUMNS;
    const W = PURCHASE_COLUMNS;
    const m = this.shared();
    let i = 0;
    for (; i + chunk <= args.length; i += chunk) {
      // an import's rows share their source, import time and run: bound once per statement when they do
      const source = args[i + 1];
      const importedAt = args[i + 14];
      const runId = args[i + 15];
      let same = true;
      for (let k = i, b = 0; k < i + chunk; k += W) {
        if (args[k + 1] !== source || args[k + 14] !== importedAt || args[k + 15] !== runId) {
          same = false;
          break;
        }
        for (let c = 0; c < W; c++) if (c !== 1 && c < 14) m.buf[b++] = args[k + c];
      }
      if (same) {
        m.named.source = source;
        m.named.importedAt = importedAt;
        m.named.runId = runId;
        m.stmt.run(...m.buf);
      } else {
        for (let k = 0; k < chunk; k++) this.buf[k] = args[i + k];
        this.s.insertMany.run(...this.buf);
      }
    }
    for (; i < args.length; i += PURCHASE_COLUMNS) this.s.insert.run(args.slice(i, i + PURCHASE_COLUMNS));
  }
  private sharedMany?: { stmt: Database.Statement; buf: unknown[]; named: { source: unknown; importedAt: unknown; runId: unknown } };
  /** insertMany's statement for rows of one source, import time and run (SQLite): 13 values a row instead of 16. */
  private shared(): NonNullable<Purchases['sharedMany']> {
    if (!this.sharedMany) {
      const row = '(?,@source,?,?,?,?,?,?,?,?,?,?,?,?,@importedAt,@runId)';
      const stmt = this.store.db.prepare(`${INSERT_PURCHASE.replace('INSERT INTO', 'INSERT OR FAIL INTO')} VALUES ${Array(MANY).fill(row).join(',')}`);
      const named = { source: null as unknown, importedAt: null as unknown, runId: null as unknown };
      const buf = new Array(MANY * (PURCHASE_COLUMNS - 3) + 1);
      buf[buf.length - 1] = named;
      this.sharedMany = { stmt, buf, named };
    }
    return this.sharedMany;
  }
  /** The highest purchase id so far (0: none): an import numbers its rows on from it. */
  lastId(): number {
    // PostgreSQL: read once per transaction, then followed through insertMany (writers take turns, and
    // a read would wait for the queued writes)
    if (this.last?.tx === this.store.txSerial) return this.last.id;
    const id = this.s.lastId.get() as number;
    if (this.store.pg) this.last = { tx: this.store.txSerial, id };
    return id;
  }
  private last: { tx: number; id: number } | null = null;
  /** Purchase lines, LINE_COLUMNS values each, one after another: multi-row statements as insertMany. */
  insertLines(args: readonly unknown[]): void {
    if (this.store.pg) {
      this.store.pg.copyRowsQueued('purchase_lines', LINE_NAMES, LINE_COLUMNS, args);
      return;
    }
    const chunk = LINES_MANY * LINE_COLUMNS;
    let i = 0;
    for (; i + chunk <= args.length; i += chunk) {
      for (let k = 0; k < chunk; k++) this.lineBuf[k] = args[i + k];
      this.s.insertLines.run(...this.lineBuf);
    }
    for (; i < args.length; i += LINE_COLUMNS) this.s.insertLine.run(args.slice(i, i + LINE_COLUMNS));
  }
  /** Records the outcome of a review decision on the purchase that waited. */
  settle(source: string, orderId: string, status: 'accrued' | 'rejected', points: number, capped: number, rulesVersion: number | null, entryId: number | null): void {
    this.s.settle.run(status, points, capped, rulesVersion, entryId, source, orderId);
  }
  /** What earning needs to know about a member (tier facts and status), or undefined when unknown. */
  memberFacts(id: string): MemberFacts | undefined {
    return this.s.member.get(id) as MemberFacts | undefined;
  }
  /** The latest valid time (UTC ISO) of any entry of the ledger; null when there is none. */
  latestEntryAt(): string | null {
    return this.s.latestAt.get() as string | null;
  }
  /**
   * What each of the member's entries adds to their lifetime earned points (members.lifetime_earned's
   * count), as [valid time (UTC ISO), points], in time order; entries that add nothing left out.
   */
  earnedTimeline(memberId: string): [at: string, points: number][] {
    return (this.s.earnedTimeline.all(memberId) as [string, number | bigint][]).map(([at, points]) => [at, Number(points)]);
  }
  /** What each accrual of the member (less voids' give-backs) credited, as [valid time, points], in time order: earnedBetween's entries, for the daily cap. */
  accrualTimeline(memberId: string): [at: string, points: number][] {
    return (this.s.accrualTimeline.all(memberId) as [string, number | bigint][]).map(([at, points]) => [at, Number(points)]);
  }
}

export const purchases = (store: Store): Purchases => new Purchases(store);

/** The tables a bulk write fills (an import, db copy), whose planner statistics refreshStatistics gathers. */
export const BULK_TABLES = ['purchases', 'purchase_lines', 'entries', 'postings', 'lots', 'lot_moves', 'members'] as const;

/**
 * After a bulk write on PostgreSQL: the planner's statistics of the tables it filled, which the server
 * otherwise gathers only when autovacuum comes round (never, where it is off). Without them the next
 * import's lookup of the orders it knows is planned as for empty tables: minutes instead of seconds on a
 * first re-import of 60,000 orders. Best effort (a role that does not own the tables is skipped by the
 * server; a lock it cannot get leaves them to autovacuum). SQLite plans without statistics: nothing to do.
 */
/**
 * PostgreSQL: whether the planner's statistics of `purchases` lag `rows` or more changes behind (imports
 * of fewer orders each add up: trial 40's six imports of 4,900 orders planned their key look-ups for an
 * empty table, each slower than the last, 15 s by the sixth). False on SQLite, or when the server keeps
 * no such count.
 */
export function statisticsLag(store: Store, rows: number): boolean {
  if (!store.pg) return false;
  try {
    const n = store.db.prepare("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = to_regclass('purchases')").pluck().get() as number | string | null | undefined;
    return n !== null && n !== undefined && Number(n) >= rows;
  } catch {
    return false;
  }
}

export function refreshStatistics(store: Store, tables: readonly string[] = BULK_TABLES): void {
  if (!store.pg) return;
  try {
    store.db.exec(`ANALYZE ${tables.join(', ')}`);
  } catch {
    /* statistics are an optimisation: the data is committed either way */
  }
}

/**
 * For the length of a bulk import: checkpoint the WAL every ~64 MB instead of every 4 MB, so pages
 * rewritten by consecutive batches (member caches, index leaves) are copied into the ledger once, not
 * per batch. The caller makes one synchronous = FULL commit after the last batch. Returns the undo.
 */
export function bulkWrites(store: Store): () => void {
  const before = store.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  const sync = store.db.pragma('synchronous', { simple: true }) as number;
  store.db.pragma('wal_autocheckpoint = 16000');
  // Each batch still commits atomically; its fsync is left to the next FULL commit, which the import
  // makes right after the last batch (an fsync of the WAL covers every frame before it).
  store.db.pragma('synchronous = NORMAL');
  // References are right by construction here (members are checked or created before their entries),
  // and every value a CHECK tests is a code constant or validated before the write.
  const relaxed = relaxRowChecks(store);
  return () => {
    if (!store.db.open) return;
    relaxed();
    store.db.pragma(`wal_autocheckpoint = ${before}`);
    store.db.pragma(`synchronous = ${sync}`);
  };
}

// ---- Staging ------------------------------------------------------------------------------------

/**
 * Groups of lines of one order as read from one stretch of the file, flat (cheap to post between
 * threads): per group three strings (order id, member id, its lines packed: see services/orderFeed.ts)
 * and two numbers (time, first line).
 */
export interface StageGroups {
  str: string[];
  num: number[];
}

export type StageRow = [orderId: string, memberId: string, at: number, firstLine: number, lines: string, badLine: number | null];

/**
 * A scratch SQLite file outside the ledger (no journal, no fsync): memory stays bounded whatever the
 * file size, and the ledger never sees a half-read file. The rejects live in a file of their own, so
 * they can be added while a StagedOrders reader (another thread) streams the staged lines. Both are
 * deleted on close.
 */
export class ImportStage {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly rej: Database.Database;
  private readonly loader: StageLoader;
  private readonly s;
  private hasBad = false;
  /** Whether some row was skipped as a guest's (set by release()). */
  private hasGuests = false;

  constructor(path: string) {
    this.path = path;
    // made here, private and new (never a file or symlink someone left at the name), before SQLite opens them
    for (const f of [path, `${path}-rejects`]) closeSync(openSync(f, 'wx', 0o600));
    this.db = scratch(path);
    this.db.pragma('locking_mode = EXCLUSIVE'); // until shared or released: nobody else reads it meanwhile
    this.db.exec(`
      CREATE TABLE groups (order_id TEXT NOT NULL, member_id TEXT NOT NULL, at INTEGER NOT NULL, first_line INTEGER NOT NULL, lines TEXT NOT NULL);
      CREATE TABLE bad (order_id TEXT NOT NULL, line INTEGER NOT NULL);
      CREATE TABLE guests (order_id TEXT NOT NULL, line INTEGER NOT NULL);
    `);
    this.loader = new StageLoader(this.db);
    this.rej = scratch(`${path}-rejects`);
    this.rej.pragma('locking_mode = EXCLUSIVE');
    this.rej.exec('CREATE TABLE rejects (line INTEGER NOT NULL, reason TEXT NOT NULL, vals TEXT)');
    this.s = {
      anyBad: this.db.prepare('SELECT 1 FROM bad LIMIT 1').pluck(),
      anyGuest: this.db.prepare('SELECT 1 FROM guests LIMIT 1').pluck(),
      reject: this.rej.prepare('INSERT INTO rejects VALUES (?,?,?)'),
      rejectCount: this.rej.prepare('SELECT count(*) FROM rejects').pluck(),
      needsReread: this.rej.prepare('SELECT 1 FROM rejects WHERE vals IS NULL LIMIT 1').pluck(),
      rejects: this.rej.prepare('SELECT line, reason, vals FROM rejects ORDER BY line, rowid'),
    };
  }

  /**
   * Appends one stretch of the file: groups of good lines, bad rows' order ids (none when a StageLoader
   * of another connection appended them), and rejects.
   */
  load(groups: StageGroups, bad: readonly [string, number][], rejects: readonly [number, string, string | null][], guests: readonly [string, number][] = []): void {
    if (this.loader.append(groups, bad, guests)) this.hasBad = true;
    this.addRejects(rejects);
  }

  /**
   * Lets other connections append groups too (StageLoader.open, one per parse worker): the file is no
   * longer held exclusively. Until then, and after release(), only this connection writes it.
   */
  share(): void {
    this.db.pragma('locking_mode = NORMAL');
    this.s.anyBad.get(); // a read, which drops the exclusive lock
  }

  /**
   * Ends loading: counts the orders (countStagedOrders) and computes their times if they need it
   * (orderTimes), then releases the file for StagedOrders readers.
   */
  finishLoad(): StageShape {
    const t = countStagedOrders(this.db);
    if (t.mixedTimes) this.orderTimes();
    this.release();
    return { ...t, hasBad: this.hasBad };
  }

  /**
   * Ends loading without counting: the file is released for other connections (a StagedOrders reader,
   * countStagedOrders on another thread). Returns whether some order has a rejected row.
   */
  release(): boolean {
    this.hasBad ||= this.s.anyBad.get() !== undefined; // (bad rows other connections appended)
    if (this.hasBad) this.db.exec('CREATE INDEX bad_order ON bad(order_id)');
    this.hasGuests = this.s.anyGuest.get() !== undefined;
    if (this.hasGuests) this.db.exec('CREATE INDEX guests_order ON guests(order_id)');
    this.db.pragma('locking_mode = NORMAL');
    this.s.anyBad.get(); // a read, which drops the exclusive lock
    return this.hasBad;
  }

  /**
   * Each order's time (its earliest group's), set-based, for a StagedOrders reader of a stage whose
   * orders' groups differ in time (mixedTimes).
   */
  orderTimes(): void {
    this.db.exec(`
      CREATE TABLE ord AS SELECT order_id, min(at) AS at FROM groups GROUP BY order_id;
      CREATE UNIQUE INDEX ord_id ON ord(order_id);
    `);
  }

  /**
   * The orders whose lines carry more than one time (rows of one order rung up across a minute), orders
   * with a rejected row aside, and the first of them in the file. They are booked at their earliest
   * line's time; the import says how many. Call after loading (the rare case: when mixedTimes).
   */
  mixedTimeOrders(): { count: number; first: string | null } {
    const r = this.db
      .prepare(
        `SELECT order_id, count(*) OVER () FROM groups WHERE order_id NOT IN (SELECT order_id FROM bad)
          GROUP BY order_id HAVING min(at) <> max(at) ORDER BY min(first_line) LIMIT 1`,
      )
      .raw()
      .get() as [string, number] | undefined;
    return r ? { count: r[1], first: r[0] } : { count: 0, first: null };
  }

  /**
   * Orders none of whose rows was good (every row rejected as it was read): they are in `bad` alone and
   * never reach the accruing phase, which counts the others. One pass over the groups; call after loading.
   */
  ordersOnlyBad(): number {
    return this.db.prepare('SELECT count(DISTINCT order_id) FROM bad WHERE order_id NOT IN (SELECT order_id FROM groups)').pluck().get() as number;
  }

  /**
   * The file lines of the rows skipped as a guest's (--skip-guests) of an order, by its id: null for an
   * order without any (the ids are read once, then a look-up only for an order that has some). Null when
   * no row was skipped. Call after release().
   */
  guestLines(): ((orderId: string) => number[] | null) | null {
    if (!this.hasGuests) return null;
    // (those of orders with a bad row are guestsOfBadOrders')
    const ids = new Set(this.db.prepare(`SELECT DISTINCT order_id FROM guests${this.hasBad ? ' WHERE order_id NOT IN (SELECT order_id FROM bad)' : ''}`).pluck().all() as string[]);
    const lines = this.db.prepare('SELECT line FROM guests WHERE order_id = ? ORDER BY line').pluck();
    return (orderId) => (ids.has(orderId) ? (lines.all(orderId) as number[]) : null);
  }

  /** The rows skipped as a guest's of orders with a bad row (order id, line), in line order. Call after release(). */
  guestsOfBadOrders(): [orderId: string, line: number][] {
    if (!this.hasBad || !this.hasGuests) return [];
    return this.db.prepare('SELECT order_id, line FROM guests WHERE order_id IN (SELECT order_id FROM bad) ORDER BY line').raw().all() as [string, number][];
  }

  /** The staged groups of orders with a bad row: order id, packed lines, the order's first bad line. Call after release(). */
  groupsOfBadOrders(): [orderId: string, lines: string, badLine: number][] {
    if (!this.hasBad) return [];
    return this.db
      .prepare('SELECT g.order_id, g.lines, (SELECT min(line) FROM bad b WHERE b.order_id = g.order_id) FROM groups g WHERE g.order_id IN (SELECT order_id FROM bad)')
      .raw()
      .all() as [string, string, number][];
  }

  /** Drops everything loaded so far (the file is then read again from its start). */
  clear(): void {
    this.db.exec('DELETE FROM groups; DELETE FROM bad; DELETE FROM guests');
    this.rej.exec('DELETE FROM rejects');
    this.hasBad = false;
  }

  addRejects(rejects: readonly [number, string, string | null][]): void {
    if (!rejects.length) return;
    this.rej.exec('BEGIN');
    try {
      // (a reason naming a huge value, a 300 KB member id, is cut to its start and end: the row's values are kept whole)
      for (const r of rejects) this.s.reject.run(r[0], capReason(r[1]), r[2]);
      this.rej.exec('COMMIT');
    } catch (e) {
      if (this.rej.inTransaction) this.rej.exec('ROLLBACK'); // (SQLite ends it itself on a full disk: its error is the one to tell)
      throw e;
    }
  }

  rejectCount(): number {
    return this.s.rejectCount.get() as number;
  }
  /** Whether some rejects still need their original values read back from the file. */
  needsReread(): boolean {
    return this.s.needsReread.get() !== undefined;
  }
  /** Every reject in line order. */
  *rejects(): Generator<[line: number, reason: string, vals: string | null]> {
    for (const r of this.s.rejects.raw().iterate()) yield r as [number, string, string | null];
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.rej.open) this.rej.close();
    rmSync(this.path, { force: true });
    rmSync(`${this.path}-rejects`, { force: true });
  }
}

/**
 * The orders of a loaded stage, and whether the groups of some order differ in time (rare: rows of one
 * order at different times): then its lines must be read in the order's time (ImportStage.orderTimes).
 * With no connection given, it reads the released stage file at `path` on its own (any thread).
 */
export function countStagedOrders(db: Database.Database | string): { orders: number; mixedTimes: boolean } {
  const conn = typeof db === 'string' ? new Database(db, { readonly: true }) : db;
  try {
    if (conn !== db) {
      conn.pragma('temp_store = FILE');
      conn.pragma('cache_size = -8000');
    }
    const t = conn.prepare('SELECT count(*) AS orders, coalesce(sum(mn <> mx), 0) AS mixed FROM (SELECT min(at) AS mn, max(at) AS mx FROM groups GROUP BY order_id)').get() as { orders: number; mixed: number };
    return { orders: t.orders, mixedTimes: t.mixed > 0 };
  } finally {
    if (conn !== db) conn.close();
  }
}

/**
 * A connection to a scratch file: no journal, no fsync. `cacheKib`: its page cache (a connection that
 * only appends, as a parse worker's, keeps SQLite's default).
 */
function scratch(path: string, cacheKib: number | null = 8000): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('temp_store = FILE');
  if (cacheKib !== null) db.pragma(`cache_size = -${cacheKib}`);
  return db;
}

/** Groups per multi-row insert into the stage. */
const GROUPS_PER_INSERT = 50;

/**
 * Appends staged groups and bad rows to an ImportStage's file, each stretch in its own transaction:
 * through the stage's own connection, or (open) through one of a parse worker's, beside another
 * worker's (a shared stage, ImportStage.share: they take turns at the file's write lock).
 */
export class StageLoader {
  private readonly s;
  private readonly args: (string | number)[] = new Array(GROUPS_PER_INSERT * 5);
  constructor(private readonly db: Database.Database) {
    this.s = {
      group: db.prepare('INSERT INTO groups VALUES (?,?,?,?,?)'),
      groups: db.prepare(`INSERT INTO groups VALUES ${Array(GROUPS_PER_INSERT).fill('(?,?,?,?,?)').join(',')}`),
      bad: db.prepare('INSERT INTO bad VALUES (?,?)'),
      guest: db.prepare('INSERT INTO guests VALUES (?,?)'),
    };
  }

  /** A connection of its own to a shared stage file (any thread); close it when done. */
  static open(path: string): StageLoader {
    const db = scratch(path, null);
    db.pragma('busy_timeout = 600000'); // the other worker's turn at the write lock lasts a few ms
    return new StageLoader(db);
  }

  /** Appends one stretch: groups of good lines, bad rows' and guests' order ids. Returns whether there were bad rows. */
  append(groups: StageGroups, bad: readonly [string, number][], guests: readonly [string, number][] = []): boolean {
    const n = groups.num.length / 2;
    if (!n && !bad.length && !guests.length) return false;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { str, num } = groups;
      const args = this.args;
      let i = 0;
      for (; i + GROUPS_PER_INSERT <= n; i += GROUPS_PER_INSERT) {
        for (let k = i, a = 0; k < i + GROUPS_PER_INSERT; k++) {
          args[a++] = str[3 * k];
          args[a++] = str[3 * k + 1];
          args[a++] = num[2 * k];
          args[a++] = num[2 * k + 1];
          args[a++] = str[3 * k + 2];
        }
        this.s.groups.run(...args);
      }
      for (; i < n; i++) this.s.group.run(str[3 * i], str[3 * i + 1], num[2 * i], num[2 * i + 1], str[3 * i + 2]);
      for (const b of bad) this.s.bad.run(b[0], b[1]);
      for (const g of guests) this.s.guest.run(g[0], g[1]);
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
    return bad.length > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** What a loaded stage holds (ImportStage.finishLoad): its orders, and how to read them in order. */
export interface StageShape {
  orders: number;
  /** Some order has a rejected row. */
  hasBad: boolean;
  /** Some order's groups differ in time. */
  mixedTimes: boolean;
}

/**
 * Reads a loaded stage (ImportStage.finishLoad) from its own connection, in any thread: every staged
 * group in (order time, order id, first line) order, sorted by SQLite's external sorter as it streams.
 * Where each order's groups share one time (the usual case), that is their own time, with no join.
 */
export class StagedOrders {
  private readonly db: Database.Database;
  private readonly hasBad: boolean;
  private readonly mixedTimes: boolean;
  constructor(path: string, shape: Pick<StageShape, 'hasBad' | 'mixedTimes'>) {
    this.hasBad = shape.hasBad;
    this.mixedTimes = shape.mixedTimes;
    this.db = new Database(path, { readonly: true });
    this.db.pragma('temp_store = FILE');
    this.db.pragma('cache_size = -8000');
  }

  private open?: IterableIterator<StageRow>;
  /** A stream begun by prime(), and its first row, for the next rows() to go on with. */
  private primed: { rows: IterableIterator<StageRow>; first: IteratorResult<StageRow> } | null = null;

  /** Begins the sorted stream now (SQLite sorts before the first row comes), for the next rows() to continue. */
  prime(): void {
    const rows = this.query();
    this.primed = { rows, first: rows.next() };
  }

  /** Every staged group in order, from the first (a stream begun by prime() goes on from there). */
  rows(): IterableIterator<StageRow> {
    const p = this.primed;
    this.primed = null;
    if (!p) return this.query();
    let first: IteratorResult<StageRow> | null = p.first;
    const it: IterableIterator<StageRow> = {
      next: () => {
        if (!first) return p.rows.next();
        const r = first;
        first = null;
        return r;
      },
      return: (v?: unknown) => p.rows.return?.(v) ?? { done: true, value: undefined },
      [Symbol.iterator]: () => it,
    };
    return it;
  }

  private query(): IterableIterator<StageRow> {
    this.open?.return?.();
    const bad = this.hasBad ? '(SELECT min(line) FROM bad b WHERE b.order_id = g.order_id)' : 'NULL';
    const from = this.mixedTimes ? 'groups g JOIN ord o ON o.order_id = g.order_id' : 'groups g';
    this.open = this.db
      .prepare(
        `SELECT g.order_id, g.member_id, g.at, g.first_line, g.lines, ${bad}
           FROM ${from}
          ORDER BY ${this.mixedTimes ? 'o.at' : 'g.at'}, g.order_id, g.first_line`,
      )
      .raw()
      .iterate() as IterableIterator<StageRow>;
    return this.open;
  }

  /** Ends the stream if still open (the connection refuses to close under an open statement), then closes. */
  close(): void {
    this.open?.return?.();
    if (this.db.open) this.db.close();
  }
}
