// A PostgreSQL ledger behind the part of better-sqlite3's Database API the store uses: prepare() with
// run/get/all/iterate, pluck() and raw(), exec(), pragma() for the few settings that mean something here,
// and transactions. Each call is synchronous: it waits on the worker thread that holds the connection
// (worker.ts). Statements are translated from the store's SQLite dialect once (dialect.ts) and run as
// named prepared statements, parsed once per connection.
//
// Writers are serialised as SQLite serialises them: BEGIN IMMEDIATE takes one transaction-scoped
// advisory lock of the database (waiting at most lock_timeout = the busy timeout, then SQLSTATE 55P03,
// which the store reports as busy, exit 5) and runs at READ COMMITTED, so every statement after the
// lock sees everything committed before it. A read transaction (BEGIN) is REPEATABLE READ: one snapshot.
// A write outside a transaction takes the lock for itself.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { QueuedWrite, Reply, Request } from './worker.js';
import { startSyncWorker } from './bridge.js';
import { ddlToPg, toPg } from './dialect.js';
import { maskPasswords } from '../../errors.js';

/**
 * Whether every statement of `sql` writes only the connection's temp tables (CREATE TEMP TABLE, and
 * INSERT INTO / DELETE FROM temp.x): scratch space of a command that may only read (expire preview, a
 * dry run), which neither needs the writer lock nor changes the ledger. Split on every `;`, also one inside
 * a string literal: each real statement still begins a piece that must match, so such a split can only add
 * pieces that fail, and the SQL is then taken for a write (the safe side). An INSERT cannot hide a write in
 * a CTE (PostgreSQL allows data-modifying WITH only at the top level, where the piece begins with WITH).
 */
export function tempOnly(sql: string): boolean {
  const statements = sql.split(';').map((x) => x.trim()).filter(Boolean);
  return statements.length > 0 && statements.every((x) => /^(CREATE\s+TEMP(ORARY)?\s+TABLE|INSERT\s+INTO\s+(pg_)?temp\.|DELETE\s+FROM\s+(pg_)?temp\.)/i.test(x));
}

let syncFn: ((r: Request) => Reply) | undefined;
/** Whether the process's young-generation setting is still the worker's (put back at its first answer). */
let flagsLent = false;
/** Starts the worker thread (if not yet): it loads `pg` while this thread carries on. */
export function startWorker(): (r: Request) => Reply {
  if (syncFn) return syncFn;
  // Built, the worker sits beside this module; run from the sources (the test runner), it is the built one.
  const beside = fileURLToPath(new URL('./worker.js', import.meta.url));
  const path = existsSync(beside) ? beside : fileURLToPath(new URL('../../../dist/store/pg/worker.js', import.meta.url));
  // The worker's young generation stays small (its heap holds a statement's rows at a time): V8 sizes
  // it when the worker's isolate is made, from this flag, which is put back once the worker has
  // answered. Its default would let the worker keep some 30 MB more of an import's memory budget.
  setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
  flagsLent = true;
  // one worker a process, also when the test runner loads this module twice (the sources and dist/)
  const shared = globalThis as Record<symbol, ((r: Request) => Reply) | undefined>;
  syncFn = shared[Symbol.for('pointsmall.pg.worker')] ??= startSyncWorker<Request, Reply>(path);
  return syncFn;
}
const call = (r: Request): Reply => {
  const fn = syncFn ?? startWorker();
  if (!flagsLent) return fn(r);
  try {
    return fn(r);
  } finally {
    flagsLent = false;
    setFlagsFromString(`--max-semi-space-size=${semiSpaceMb()}`);
  }
};

const WORKER_SEMI_SPACE_MB = 2;
/** The process's own setting of the young generation's semi-spaces (0: none, V8 sizes them itself, or a worker's resourceLimits do). */
function semiSpaceMb(): number {
  const given = /--max-semi-space-size[= ](\d+)/.exec(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);
  return given ? Number(given[1]) : 0;
}

/** The SQLSTATE of a queued write transaction begun after another process wrote (beginQueued). */
export const STALE_STATE = 'PM001';

/** The advisory lock every writer takes (one per database: advisory locks are scoped to a database). */
export const WRITER_LOCK = 0x706f696e; // "poin"
/**
 * Held shared by every command's connection while it runs (taken as it connects, with `share`), and alone by
 * `init --force` while it replaces the ledger: a command never sees a ledger half erased or half built.
 */
export const LEDGER_LOCK = 0x706d6c67; // "pmlg"

/** An error of the server, with SQLite's code where the store looks for one (busy, full, constraint). */
export class PgError extends Error {
  code: string;
  sqlState: string | undefined;
  /** A queued write's error: the tag it was queued with (PgDatabase.tagQueued), if any. */
  tag: number | undefined;
  constructor(e: NonNullable<Reply['error']>) {
    super(e.message);
    this.sqlState = e.code;
    this.code = sqliteCode(e.code);
    this.tag = e.tag;
  }
  /** Whether a queued write transaction failed its check that nobody else wrote (beginQueued). */
  get stale(): boolean {
    return this.sqlState === STALE_STATE;
  }
}

function sqliteCode(state: string | undefined): string {
  if (!state) return 'PG_ERROR';
  if (state === '55P03' || state === '40001' || state === '40P01') return 'SQLITE_BUSY';
  // query_canceled: a statement_timeout (the URL's options, the role's or the database's), or an administrator
  if (state === '57014') return 'PG_QUERY_CANCELED';
  if (state === '53100') return 'SQLITE_FULL';
  if (state === '42501') return 'PG_PERMISSION';
  // read_only_sql_transaction: default_transaction_read_only (the URL's options, the role, the database) or a standby
  if (state === '25006') return 'PG_READ_ONLY';
  if (state === '53300') return 'PG_TOO_MANY_CONNECTIONS';
  // connection exceptions, and the server shutting down or starting up under the session
  if (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03') return 'PG_CONNECTION_LOST';
  if (state.startsWith('23')) return 'SQLITE_CONSTRAINT';
  if (state === 'P0001') return 'SQLITE_CONSTRAINT_TRIGGER';
  return `PG_${state}`;
}

// Connection ids are the worker's keys: unique in the thread, also across copies of this module that share
// the one worker (one a process, even when the test runner loads both the sources and dist/).
const connIds = ((globalThis as Record<symbol, { next: number } | undefined>)[Symbol.for('pointsmall.pg.connIds')] ??= { next: 1 });

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/**
 * The tables each ledger table's foreign keys reference (what copyRowsQueued must keep ahead of its rows).
 * A test checks it against the migrations' foreign keys.
 */
export const FOREIGN_KEYS: Readonly<Record<string, readonly string[]>> = {
  activity_awards: ['entries', 'members'],
  checkout_codes: ['members', 'orders'],
  coupons: ['members', 'orders'],
  hold_lots: ['holds', 'lots'],
  holds: ['entries', 'members', 'orders'],
  lot_moves: ['entries', 'lots'],
  lots: ['entries', 'members'],
  order_lines: ['orders'],
  orders: ['members'],
  postings: ['entries'],
  purchase_lines: ['purchases'],
  purchases: ['entries', 'import_runs'],
  refund_lines: ['refunds'],
  refunds: ['entries', 'orders'],
  review_queue: ['entries'],
};

export class PgStatement {
  private pluckOn = false;
  private readonly limits = new Set<number>();
  private rawOn = false;
  private readonly params: (string | null)[];
  /** The text as run and its server-side name: an INSERT's wait for its first run (see resolve). */
  private readonly plan: { text: string; name: string; isQuery: boolean; returnsId: boolean; table: string | null };
  constructor(private readonly db: PgDatabase, readonly source: string) {
    const t = toPg(source);
    const insert = /^\s*INSERT\s+INTO\s+"?(\w+)"?/i.exec(t.text);
    this.params = t.params;
    // SQLite's LIMIT -1 is "no limit"; PostgreSQL's is LIMIT NULL
    for (const m of t.text.matchAll(/\bLIMIT\s+\$(\d+)/gi)) this.limits.add(Number(m[1]) - 1);
    this.plan = { text: t.text, name: '', isQuery: false, returnsId: false, table: insert && !/\bRETURNING\b/i.test(t.text) ? insert[1] : null };
    if (!this.plan.table) this.resolve();
  }

  /**
   * An INSERT into a table with an integer key returns it (lastInsertRowid): which tables have one is a
   * catalog query, asked when an INSERT first runs rather than when it is prepared (a command that only
   * reads never asks).
   */
  private resolve(): typeof this.plan {
    const p = this.plan;
    if (p.name) return p;
    if (p.table) {
      const key = this.db.identityOf(p.table);
      if (key) {
        p.text += ` RETURNING ${key}`;
        p.returnsId = true;
      }
      p.table = null;
    }
    p.isQuery = /^\s*(SELECT|WITH|VALUES)\b/i.test(p.text) || /\bRETURNING\b/i.test(p.text);
    p.name = `pm_${createHash('sha1').update(p.text).digest('hex').slice(0, 20)}`;
    return p;
  }

  private get text(): string {
    return this.resolve().text;
  }

  private get name(): string {
    return this.resolve().name;
  }

  private get returnsId(): boolean {
    return this.resolve().returnsId;
  }

  get reader(): boolean {
    // an INSERT never reads (with or without the RETURNING it may get)
    if (this.plan.table) return false;
    const p = this.resolve();
    return p.isQuery && !p.returnsId;
  }

  pluck(on = true): this {
    this.pluckOn = on;
    if (on) this.rawOn = false;
    return this;
  }

  raw(on = true): this {
    this.rawOn = on;
    if (on) this.pluckOn = false;
    return this;
  }

  private values(args: unknown[]): unknown[] {
    let flat: unknown[] = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    // (an array is a value, for a PostgreSQL array parameter: = ANY(?::text[]))
    const named = flat.length >= 1 && flat[0] !== null && typeof flat[0] === 'object' && !Buffer.isBuffer(flat[0]) && !Array.isArray(flat[0]) ? (flat[0] as Record<string, unknown>) : null;
    if (named) flat = flat.slice(1);
    let pos = 0;
    return this.params.map((p, i) => {
      const v = p === null ? flat[pos++] : named?.[p];
      if (v === undefined) return null;
      if (this.limits.has(i) && typeof v === 'number' && v < 0) return null;
      if (typeof v === 'bigint') return v.toString();
      return v;
    });
  }

  private shape(rows: unknown[]): unknown[] {
    if (this.pluckOn) return rows.map((r) => (r as unknown[])[0]);
    return rows;
  }

  private query(args: unknown[]): Reply {
    return this.db.query(this.text, this.values(args), this.pluckOn || this.rawOn ? 'array' : 'object', this.name);
  }

  run(...args: unknown[]): RunResult {
    const r = this.db.autoWrite(!this.reader, () => this.query(args));
    let last = 0;
    if (this.returnsId && r.rows && r.rows.length > 0) {
      const row = r.rows[r.rows.length - 1] as unknown[] | Record<string, unknown>;
      last = Number(Array.isArray(row) ? row[0] : Object.values(row)[0]);
    }
    return { changes: r.rowCount ?? 0, lastInsertRowid: last };
  }

  get(...args: unknown[]): unknown {
    const r = this.db.autoWrite(!this.reader, () => this.query(args));
    return this.shape(r.rows ?? [])[0];
  }

  all(...args: unknown[]): unknown[] {
    const r = this.db.autoWrite(!this.reader, () => this.query(args));
    return this.shape(r.rows ?? []);
  }

  *iterate(...args: unknown[]): IterableIterator<unknown> {
    if (!this.reader) {
      yield* this.all(...args);
      return;
    }
    const cursor = this.db.cursorOpen(this.text, this.values(args), this.pluckOn || this.rawOn ? 'array' : 'object');
    try {
      for (;;) {
        const rows = this.db.cursorRead(cursor, 2000);
        if (rows.length === 0) break;
        yield* this.shape(rows);
      }
    } finally {
      this.db.cursorClose(cursor);
    }
  }
}

export class PgDatabase {
  readonly name: string;
  private readonly conn: number;
  open = true;
  inTransaction = false;
  private readonly statements = new Map<string, PgStatement>();
  private identities: Map<string, string> | undefined;
  readonly lockTimeoutMs: number;

  /** `share`: hold LEDGER_LOCK shared for as long as the connection lasts, waiting up to lockTimeoutMs while init --force holds it. */
  constructor(url: string, lockTimeoutMs: number, share = false) {
    this.name = url;
    this.lockTimeoutMs = lockTimeoutMs;
    this.conn = connIds.next++;
    this.opened = this.send({ op: 'connect', conn: this.conn, url, lockTimeoutMs, appName: 'pointsmall', ...(share ? { share: LEDGER_LOCK } : {}) }).schema;
    this.dataVersionKnown = this.opened?.hasDataVersion;
    if (share && this.opened?.shared === false) {
      const until = Date.now() + lockTimeoutMs;
      for (;;) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // (a synchronous pause: the store is synchronous)
        const got = this.send({ op: 'query', conn: this.conn, text: `SELECT pg_try_advisory_lock_shared(${LEDGER_LOCK})`, values: [], rowMode: 'array' }).rows as [number][];
        if (got[0][0] === 1) break; // (booleans come as SQLite's 1 and 0)
        if (Date.now() >= until) {
          this.close();
          // (as a lock not granted in time: the store says the ledger stayed locked, exit 5)
          throw new PgError({ code: '55P03', message: 'init --force is replacing the ledger' });
        }
      }
      // (what it holds of a ledger is read now: the one init --force made)
      (this as { opened: PgDatabase['opened'] }).opened = undefined;
      this.dataVersionKnown = undefined;
    }
  }

  /** Takes LEDGER_LOCK alone (init --force replacing the ledger), waiting up to the lock timeout for the commands that hold it shared. */
  lockLedgerAlone(): void {
    this.send({ op: 'query', conn: this.conn, text: `SELECT pg_advisory_lock(${LEDGER_LOCK})`, values: [], rowMode: 'array' });
  }
  /** What the database held of a ledger when the connection opened (openStore's first questions). */
  readonly opened: { hasSchema: boolean; version: number; hasDataVersion: boolean; encoding: string; shared?: boolean } | undefined;

  private send(r: Request): Reply {
    if (!this.open) throw new TypeError('The database connection is not open');
    if (this.queued.length) this.flushQueued(); // (written before anything that follows them)
    const reply = call(r);
    if (reply.bumps !== undefined) this.queuedCommitsDone = reply.bumps;
    if (reply.error) {
      const e = new PgError(reply.error);
      // A statement the server could not run is a bug of the store: say which (constraint and lock errors are expected).
      // (a queued write's error comes with the next request that waits: the write is the one to name)
      const text = reply.error.queued ? reply.error.text : 'text' in r ? r.text : undefined;
      if (!/^(SQLITE_(BUSY|CONSTRAINT|FULL)|PG_PERMISSION|PG_READ_ONLY|PG_CONNECTION_LOST|PG_TOO_MANY_CONNECTIONS|PG_22P05)/.test(e.code) && text !== undefined) e.message += ` [in: ${text.replace(/\s+/g, ' ').slice(0, 400)}]`;
      throw e;
    }
    return reply;
  }

  /**
   * The key an INSERT into a table returns as lastInsertRowid: its INTEGER PRIMARY KEY on SQLite (a one-column
   * bigint primary key here). A table without one (whose rowid column dialect.ts added) returns nothing: the
   * store never asks for such a row's rowid, and an INSERT … SELECT of a million lot moves would otherwise
   * send a million ids back (measured: 1.4 s of a 1M-lot expiry run, and the client's memory).
   */
  identityOf(table: string): string | undefined {
    if (!this.identities) {
      const rows = this.send({
        op: 'query',
        conn: this.conn,
        // (pg_catalog, not information_schema: its views take seconds on a server with many objects)
        text: `SELECT c.relname, a.attname, 0 FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
                WHERE i.indisprimary AND i.indnatts = 1 AND n.nspname = current_schema() AND a.atttypid = 'int8'::regtype`,
        values: [],
        rowMode: 'array',
      }).rows as [string, string, number][];
      this.identities = new Map();
      for (const [t, c] of rows) if (!this.identities.has(t)) this.identities.set(t, c);
    }
    return this.identities.get(table);
  }

  /** Forgets what was learnt of the schema (after a migration). */
  schemaChanged(): void {
    this.identities = undefined;
    this.dataVersionKnown = undefined;
    this.statements.clear();
    if (!this.inTransaction) this.send({ op: 'exec', conn: this.conn, text: 'DEALLOCATE ALL' });
  }

  query(text: string, values: unknown[], rowMode: 'array' | 'object', name?: string): Reply {
    return this.send({ op: 'query', conn: this.conn, name, text, values, rowMode });
  }

  /**
   * Opens a server-side cursor (DECLARE … CURSOR) for iterate(): FETCH and other statements then take turns
   * on the one connection, inside the transaction's snapshot. Outside a transaction the cursor is WITH HOLD
   * (the server keeps the result until CLOSE).
   */
  cursorOpen(text: string, values: unknown[], rowMode: 'array' | 'object'): { name: string; rowMode: 'array' | 'object' } {
    const name = `pm_cursor_${++this.cursors}`;
    this.send({ op: 'query', conn: this.conn, text: `DECLARE ${name} NO SCROLL CURSOR${this.inTransaction ? '' : ' WITH HOLD'} FOR ${text}`, values, rowMode: 'array' });
    return { name, rowMode };
  }
  private cursors = 0;

  cursorRead(cursor: { name: string; rowMode: 'array' | 'object' }, rows: number): unknown[] {
    return this.send({ op: 'query', conn: this.conn, text: `FETCH ${rows} FROM ${cursor.name}`, values: [], rowMode: cursor.rowMode }).rows ?? [];
  }

  cursorClose(cursor: { name: string }): void {
    if (!this.open) return;
    try {
      this.send({ op: 'query', conn: this.conn, text: `CLOSE ${cursor.name}`, values: [], rowMode: 'array' });
    } catch {
      // the transaction ended (and closed it) or failed: nothing left to close
    }
  }

  /**
   * Streams the rows of a query without parameters as raw arrays (better-sqlite3's raw().iterate()),
   * read with COPY (…) TO STDOUT on a side connection in chunks of about a megabyte: one message per
   * chunk instead of one per 2,000 rows, and values decoded here rather than cloned row by row. Inside a
   * read transaction the side connection takes this one's snapshot (pg_export_snapshot), so several
   * streams and this connection's own statements see one state of the ledger; several may be open at
   * once. In a write transaction (whose own uncommitted rows a side connection cannot see) it is iterate().
   */
  *copyOut(sql: string): IterableIterator<unknown[]> {
    const t = toPg(sql);
    if (t.params.length) throw new Error('copyOut takes no parameters');
    if (this.writeTx) {
      yield* this.prepare(sql).raw().iterate() as IterableIterator<unknown[]>;
      return;
    }
    const id = ++this.copies;
    const { types } = this.send({ op: 'copyOutOpen', conn: this.conn, id, text: t.text, snapshot: this.sharedSnapshot() });
    const decode = (types ?? []).map(decoderOf);
    try {
      for (;;) {
        const text = this.send({ op: 'copyOutRead', id }).text ?? '';
        if (text === '') break;
        yield* copyRowsOf(text, decode);
      }
    } finally {
      if (this.open) this.send({ op: 'copyOutClose', id });
    }
  }
  private copies = 0;
  /** The snapshot this read transaction exported for side connections (copyOut, runAhead). */
  private snapshot: string | undefined;
  private sharedSnapshot(): string | null {
    if (!this.inTransaction) return null;
    this.snapshot ??= (this.send({ op: 'query', conn: this.conn, text: 'SELECT pg_export_snapshot()', values: [], rowMode: 'array' }).rows as [string][])[0][0];
    return this.snapshot;
  }

  /**
   * Starts statements without parameters (checks a read-only pass will want) on a side connection, in
   * this read transaction's snapshot: the server runs them one after another while this thread does other
   * work. rows(sql) gives one's rows (as all() would), waiting for it if need be; a statement not started
   * ahead, or one that failed there, runs here. In a write transaction nothing runs ahead.
   */
  runAhead(sqls: readonly string[]): { rows(sql: string): unknown[]; close(): void } {
    const here = (sql: string) => this.prepare(sql).all();
    if (this.writeTx || sqls.length === 0) return { rows: here, close: () => undefined };
    const id = ++this.copies;
    const index = new Map(sqls.map((sql, i) => [sql, i]));
    this.send({ op: 'aheadOpen', conn: this.conn, id, texts: sqls.map((sql) => toPg(sql).text), snapshot: this.sharedSnapshot() });
    let open = true;
    return {
      rows: (sql) => {
        const i = index.get(sql);
        if (i === undefined || !open) return here(sql);
        const reply = call({ op: 'aheadGet', id, index: i });
        return reply.error ? here(sql) : (reply.rows ?? []);
      },
      close: () => {
        if (open && this.open) this.send({ op: 'aheadClose', id });
        open = false;
      },
    };
  }

  /**
   * Runs fn (inside a write transaction) with the server's per-row foreign-key checks off, as
   * relaxRowChecks turns SQLite's off for set-based writes whose rows are selected from rows that exist:
   * session_replication_role = replica for this transaction, until fn returns. A role that may not set it
   * (neither a superuser nor granted SET on it) keeps the checks, found once per connection. Replica also
   * stills user triggers: fn must not write a table whose ids a trigger gives (pm_next_rowid) or whose
   * rows a trigger guards; the moves and lot updates of an expiry run do neither.
   */
  withoutForeignKeyChecks<T>(fn: () => T): T {
    if (!this.writeTx || this.replicaRefused) return fn();
    try {
      this.send({ op: 'exec', conn: this.conn, text: 'SAVEPOINT pm_relax; SET LOCAL session_replication_role = replica; RELEASE SAVEPOINT pm_relax' });
    } catch {
      this.send({ op: 'exec', conn: this.conn, text: 'ROLLBACK TO SAVEPOINT pm_relax; RELEASE SAVEPOINT pm_relax' });
      this.replicaRefused = true;
      return fn();
    }
    const out = fn(); // on a throw the transaction rolls back, and the setting with it
    this.send({ op: 'exec', conn: this.conn, text: 'SET LOCAL session_replication_role = DEFAULT' });
    return out;
  }
  private replicaRefused = false;

  /** COPY … FROM STDIN of text-format data: the bulk path of an import. */
  copyIn(text: string, data: string): number {
    return this.send({ op: 'copyIn', conn: this.conn, text, data }).rowCount ?? 0;
  }

  /**
   * Inserts rows of `width` values each (args flat, in the columns' order) with COPY … FROM STDIN: one
   * round trip for the lot, and the server's bulk path instead of one INSERT per row.
   */
  copyRows(table: string, columns: string, width: number, args: readonly unknown[]): number {
    if (args.length === 0) return 0;
    const lines: string[] = [];
    for (let i = 0; i < args.length; i += width) {
      let line = '';
      for (let k = 0; k < width; k++) line += (k ? '\t' : '') + copyValue(args[i + k]);
      lines.push(line);
    }
    return this.autoWrite(true, () => this.copyIn(`COPY ${table} (${columns}) FROM STDIN`, lines.join('\n') + '\n'));
  }

  /**
   * copyRows without waiting for the server, inside a transaction (outside one it is copyRows): the rows
   * are kept here, with any others queued for the same table since the last flush, and sent when a
   * MB has gathered or before the next request, in one message to the worker, which hands them to the
   * connection and answers at once. So the caller computes its next rows while the server writes these,
   * and a table's rows go in few COPYs however finely they come. Rows are written table by table in
   * the order each table was first queued since the last flush (parents before children, as they come):
   * a statement queued among them (runQueued) must not depend on rows queued after it being absent.
   * A queued write that fails fails the next request that waits for an answer (any query, COMMIT), and
   * every one after it until ROLLBACK: the transaction writes nothing.
   */
  copyRowsQueued(table: string, columns: string, width: number, args: readonly unknown[]): void {
    if (args.length === 0) return;
    if (!this.inTransaction) {
      this.copyRows(table, columns, width, args);
      return;
    }
    const text = `COPY ${table} (${columns}) FROM STDIN`;
    const relaxed = this.relaxed > 0;
    // The rows join the table's COPY already queued, unless a write into a table this one references was
    // queued after that COPY: then they start a COPY of their own behind it. The server checks a foreign key
    // as each row arrives (for a role that may not relax the checks), so a row must never travel ahead of
    // the row it references, as a batch's lots would ahead of their entries.
    // (kept per queue: where the last such COPY is, and the last write into each table)
    const parents = FOREIGN_KEYS[table] ?? [];
    const key = `${relaxed ? 'r' : ''}|${text}`;
    const at = this.lastCopy.get(key);
    let into = at !== undefined && parents.every((t) => (this.lastWrite.get(t) ?? -1) <= at) ? this.queued[at] : undefined;
    if (!into) {
      // (the table's buffer is reused from one flush to the next, but never by two queued COPYs at once)
      let rows = this.copyBuffers.get(text);
      if (!rows) this.copyBuffers.set(text, (rows = new CopyBuffer()));
      else if (this.queued.some((q) => q.rows === rows)) rows = new CopyBuffer();
      this.lastCopy.set(key, this.queued.length);
      this.lastWrite.set(table, this.queued.length);
      this.queued.push((into = { text, relaxed, rows }));
    }
    // each row encoded into the table's buffer as it is made: the worker gets bytes, not strings to clone and encode
    // (lines gathered into a string of some KB before each is encoded: one write per chunk, not per row)
    const rows = into.rows!;
    const before = rows.length;
    let chunk = '';
    for (let i = 0; i < args.length; i += width) {
      let line = copyValue(args[i]);
      for (let k = 1; k < width; k++) line += '\t' + copyValue(args[i + k]);
      chunk += line + '\n';
      if (chunk.length >= COPY_CHUNK) {
        rows.text(chunk);
        chunk = '';
      }
    }
    if (chunk) rows.text(chunk);
    this.queuedBytes += rows.length - before;
    if (this.queuedBytes >= QUEUED_BYTES) this.flushQueued();
  }
  /** A buffer per COPY, reused from one flush to the next. */
  private readonly copyBuffers = new Map<string, CopyBuffer>();

  /**
   * A statement in the store's dialect whose result is not needed (no RETURNING), queued as
   * copyRowsQueued's rows are: inside a transaction it returns before the server has run it.
   * `relaxed`: it runs under session_replication_role = replica, as relaxed COPYs do (only while
   * relaxForeignKeys is in force): for set-based writes whose rows come from rows that exist.
   */
  runQueued(sql: string, values: unknown[], opts: { relaxed?: boolean } = {}): void {
    if (!this.inTransaction) {
      this.prepare(sql).run(values);
      return;
    }
    let q = this.queuedText.get(sql);
    if (q === undefined) {
      const text = toPg(sql).text;
      this.queuedText.set(sql, (q = { text, target: /^\s*(?:COPY|INSERT\s+INTO)\s+"?(\w+)/i.exec(text)?.[1] }));
    }
    const t = q.text;
    const relaxed = opts.relaxed === true && this.relaxed > 0;
    if (q.target !== undefined) this.lastWrite.set(q.target, this.queued.length);
    this.queued.push({ text: t, values: values.map((v) => (typeof v === 'bigint' ? v.toString() : v)), ...(relaxed ? { relaxed } : {}) });
  }

  /**
   * Whether relaxForeignKeys is in force (and the role may relax): queued writes asked to be relaxed
   * (runQueued's `relaxed`, copyRowsQueued's rows) then skip the per-row foreign-key checks.
   */
  get relaxingForeignKeys(): boolean {
    return this.relaxed > 0;
  }

  /** Writes queued here and not yet sent to the worker, in order, and the bytes of their rows. */
  private queued: (QueuedWrite & { rows?: CopyBuffer })[] = [];
  private queuedBytes = 0;
  /** In `queued`: the last COPY of each text (and relaxed or not), and the last write into each table. */
  private readonly lastCopy = new Map<string, number>();
  private readonly lastWrite = new Map<string, number>();
  /** Empties the queue (sent or dropped). */
  private takeQueued(): (QueuedWrite & { rows?: CopyBuffer })[] {
    const items = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    this.lastCopy.clear();
    this.lastWrite.clear();
    return items;
  }
  /** runQueued's statements in PostgreSQL's dialect, each with the table it inserts into (if it does). */
  private readonly queuedText = new Map<string, { text: string; target: string | undefined }>();

  /** Sends the queued writes to the worker (which answers as soon as it has handed them to the connection). */
  flushQueued(): void {
    const items = this.takeQueued();
    if (!items.length) return;
    const out = items.map((q): QueuedWrite => (q.rows ? { text: q.text, relaxed: q.relaxed, data: q.rows.take() } : q));
    this.send({ op: 'queue', conn: this.conn, items: out, tag: this.tag });
  }

  /** The tag of the writes queued from now on (awaitQueued waits for those tagged up to one). */
  private tag: number | undefined;
  tagQueued(tag: number): void {
    if (this.queued.length) this.flushQueued(); // (what was queued before belongs to the tag before)
    this.tag = tag;
  }

  /**
   * Waits until the writes queued with tags up to `tag` are done on the server (not those queued
   * after them); throws the first of them that failed. A failed write leaves the server's transaction
   * aborted, and every later queued write skipped, until abortQueued().
   */
  awaitQueued(tag: number): void {
    if (this.queued.length) this.flushQueued();
    this.send({ op: 'await', conn: this.conn, tag });
  }

  /**
   * Begins a write transaction behind the queued writes, as BEGIN IMMEDIATE does (the writer lock)
   * but without waiting: it goes with them, and fails on the server with STALE_STATE when the
   * ledger's data_version is no longer `dataVersion` (another process committed since it was read;
   * this connection's own queued commits do not count). An import's writer begins each batch after
   * the first so, while the server is still writing the batch before.
   */
  beginQueued(dataVersion: number): void {
    if (this.inTransaction) throw new Error('a transaction is open already');
    if (!this.hasDataVersion()) throw new Error('this ledger has no data_version to check a queued transaction against');
    const raw = dataVersion + this.syncCommits + this.queuedCommits;
    if (!Number.isSafeInteger(raw)) throw new Error(`data_version ${dataVersion} is not a number`);
    this.queued.push(
      { text: 'BEGIN ISOLATION LEVEL READ COMMITTED' },
      { text: `SELECT pg_advisory_xact_lock(${WRITER_LOCK})` },
      {
        text: `DO $$BEGIN IF (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pm_data_version) <> ${raw} THEN
                 RAISE EXCEPTION 'another process wrote to the ledger' USING ERRCODE = '${STALE_STATE}'; END IF; END$$`,
      },
    );
    this.inTransaction = true;
    this.writeTx = true;
    this.versionInTx = undefined;
  }

  /**
   * Commits the open write transaction behind its queued writes without waiting (data_version bumped
   * as COMMIT does it); awaitQueued() of the last tag tells whether it was committed.
   */
  commitQueued(): void {
    if (!this.writeTx) throw new Error('no write transaction is open');
    if (this.hasDataVersion()) {
      this.queued.push({ text: "SELECT nextval('pm_data_version')", bump: true });
      this.queuedCommits++;
    }
    this.queued.push({ text: 'COMMIT', ends: true });
    this.inTransaction = false;
    this.writeTx = false;
    this.snapshot = undefined;
    this.flushQueued();
  }

  /** Rolls back whatever the queued writes left open or aborted on the server (a ROLLBACK with nothing open is harmless). */
  abortQueued(): void {
    this.rollbackQuietly();
    this.queuedCommits = this.queuedCommitsDone; // (those not done by now were skipped: they never will be)
  }

  /** relaxForeignKeys() calls not yet undone. */
  private relaxed = 0;
  private mayRelax: boolean | undefined;

  /**
   * SQLite's foreign_keys = OFF for set-based bulk writes (relaxRowChecks): until the undo, the rows of
   * copyRowsQueued skip the per-row foreign-key checks (two thirds of the server's work in an import)
   * under session_replication_role = replica, set for each COPY alone, so nothing else in the
   * transaction runs without its triggers, and those rows have their ids (no rowid trigger to skip).
   * Only when the role may set it (a superuser, or on PostgreSQL 15 and later one granted
   * SET ON PARAMETER session_replication_role); otherwise the checks stay.
   */
  relaxForeignKeys(): () => void {
    this.mayRelax ??= this.roleMaySetReplica();
    if (!this.mayRelax) return () => undefined;
    this.relaxed++;
    let undone = false;
    return () => {
      if (!undone) this.relaxed--;
      undone = true;
    };
  }

  private roleMaySetReplica(): boolean {
    const row = (this.send({ op: 'query', conn: this.conn, text: "SELECT rolsuper, current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user", values: [], rowMode: 'array' }).rows as [number, number][])[0];
    if (!row) return false;
    if (row[0] === 1) return true;
    if (row[1] < 150000) return false;
    return (this.send({ op: 'query', conn: this.conn, text: "SELECT has_parameter_privilege('session_replication_role', 'SET')", values: [], rowMode: 'array' }).rows as [number][])[0][0] === 1;
  }

  /** Runs fn as its own write transaction (taking the writer lock) when it writes outside one. */
  autoWrite<T>(writes: boolean, fn: () => T): T {
    if (!writes || this.inTransaction) return fn();
    this.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.exec('COMMIT');
      return out;
    } catch (e) {
      if (this.inTransaction) this.exec('ROLLBACK');
      throw e;
    }
  }

  prepare(sql: string): PgStatement {
    let s = this.statements.get(sql);
    if (!s) {
      s = new PgStatement(this, sql);
      this.statements.set(sql, s);
    } else {
      // better-sqlite3 hands out a new statement each time: modes set on one do not stick to the next
      s = Object.assign(Object.create(Object.getPrototypeOf(s) as object) as PgStatement, s);
      s.pluck(false);
      s.raw(false);
    }
    return s;
  }

  exec(sql: string): this {
    const t = sql.trim().replace(/;$/, '').toUpperCase();
    if (t === 'BEGIN IMMEDIATE' || t === 'BEGIN EXCLUSIVE') {
      this.send({ op: 'exec', conn: this.conn, text: 'BEGIN ISOLATION LEVEL READ COMMITTED' });
      this.inTransaction = true;
      this.writeTx = true;
      this.versionInTx = undefined;
      try {
        this.send({ op: 'query', conn: this.conn, text: `SELECT pg_advisory_xact_lock(${WRITER_LOCK})`, values: [], rowMode: 'array' });
      } catch (e) {
        this.rollbackQuietly();
        throw e;
      }
      return this;
    }
    if (t === 'BEGIN' || t === 'BEGIN DEFERRED') {
      this.send({ op: 'exec', conn: this.conn, text: 'BEGIN ISOLATION LEVEL REPEATABLE READ' });
      this.inTransaction = true;
      return this;
    }
    if (t === 'COMMIT' || t === 'END') {
      try {
        if (this.writeTx && this.hasDataVersion()) {
          this.send({ op: 'query', conn: this.conn, text: "SELECT nextval('pm_data_version')", values: [], rowMode: 'array' });
          this.syncCommits++;
        }
        this.send({ op: 'exec', conn: this.conn, text: 'COMMIT' });
      } catch (e) {
        // The transaction is over, rolled back whole: the server ended it if COMMIT failed there, and
        // ROLLBACK ends it when something failed before COMMIT was sent (a queued write, say).
        try {
          this.rollbackQuietly();
        } catch {
          /* the error to tell is the first */
        }
        throw e;
      } finally {
        this.inTransaction = false;
        this.writeTx = false;
        this.snapshot = undefined;
      }
      return this;
    }
    if (t === 'ROLLBACK') {
      this.rollbackQuietly();
      return this;
    }
    // the connection's own temp tables (a read's scratch space) are no write to the ledger: no writer lock, no data version
    this.autoWrite(!tempOnly(sql), () => this.send({ op: 'exec', conn: this.conn, text: toPg(sql).text }));
    return this;
  }

  /** Runs a migration's DDL, translated (dialect.ts), in the open transaction. */
  execDdl(sql: string): void {
    this.send({ op: 'exec', conn: this.conn, text: ddlToPg(sql) });
  }

  private rollbackQuietly(): void {
    this.takeQueued(); // (never sent: nothing of the transaction is kept)
    for (const b of this.copyBuffers.values()) b.length = 0;
    try {
      this.send({ op: 'exec', conn: this.conn, text: 'ROLLBACK' });
    } finally {
      this.inTransaction = false;
      this.writeTx = false;
      this.snapshot = undefined;
    }
  }

  private dataVersionKnown: boolean | undefined;
  private hasDataVersion(): boolean {
    this.dataVersionKnown ??=
      (this.send({ op: 'query', conn: this.conn, text: "SELECT to_regclass('pm_data_version') IS NOT NULL", values: [], rowMode: 'array' }).rows as [number][])[0][0] === 1;
    return this.dataVersionKnown;
  }

  /** SQLite's pragmas: the schema version is kept in a table; the page and journal settings mean nothing here. */
  pragma(source: string, opts: { simple?: boolean } = {}): unknown {
    const m = /^\s*(\w+)\s*(?:=\s*(.+?))?\s*$/.exec(source);
    const name = m?.[1].toLowerCase() ?? '';
    const value = m?.[2];
    let out: unknown = 0;
    switch (name) {
      case 'user_version':
        if (value !== undefined) {
          this.send({ op: 'query', conn: this.conn, text: 'UPDATE pointsmall_schema SET version = $1', values: [Number(value)], rowMode: 'array' });
          return [];
        }
        out = this.schemaVersion();
        break;
      case 'data_version':
        out = this.dataVersion();
        break;
      case 'page_size':
        out = 8192;
        break;
      case 'foreign_keys':
        out = 1;
        break;
      default:
        out = 0;
    }
    return opts.simple ? out : [{ [name]: out }];
  }
  private dataVersionCounter = 0;
  /** Write transactions this connection committed, waiting for each (each bumped pm_data_version once). */
  private syncCommits = 0;
  /** Commits queued (commitQueued), and how many of them the server has done (as the worker tells). */
  private queuedCommits = 0;
  private queuedCommitsDone = 0;
  private writeTx = false;

  /**
   * SQLite's data_version: changes when another connection commits a write, never for this one's own.
   * Every write transaction bumps the sequence pm_data_version just before COMMIT; this connection
   * subtracts its own bumps. (A ledger without the sequence: a new value each time, "someone may have written".)
   */
  private dataVersion(): number {
    if (!this.hasDataVersion()) return -++this.dataVersionCounter;
    // Inside a write transaction nobody else commits (writers take turns on the advisory lock): the
    // value read first in it holds until it ends, and asking again would wait for the queued writes.
    if (this.writeTx && this.versionInTx !== undefined) return this.versionInTx;
    const r = this.send({ op: 'query', conn: this.conn, text: 'SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pm_data_version', values: [], rowMode: 'array' }).rows as [number][];
    const v = r[0][0] - this.syncCommits - this.queuedCommitsDone;
    if (this.writeTx) this.versionInTx = v;
    return v;
  }
  /** data_version as read in the open write transaction (undefined: not read in it yet). */
  private versionInTx: number | undefined;

  /**
   * The server's clock, in ms since the epoch: the one clock every till that shares this ledger reads,
   * whatever its own machine's clock says.
   */
  serverTimeMs(): number {
    const r = this.send({ op: 'query', conn: this.conn, text: 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint', values: [], rowMode: 'array' }).rows as [number][];
    return Number(r[0][0]);
  }

  schemaVersion(): number {
    const r = this.send({
      op: 'query',
      conn: this.conn,
      text: "SELECT CASE WHEN to_regclass('pointsmall_schema') IS NULL THEN -1 ELSE 0 END",
      values: [],
      rowMode: 'array',
    }).rows as [number][];
    if (r[0][0] === -1) return 0;
    const v = this.send({ op: 'query', conn: this.conn, text: 'SELECT version FROM pointsmall_schema', values: [], rowMode: 'array' }).rows as [number][];
    return v.length ? v[0][0] : 0;
  }

  /**
   * Opens a new connection in place of one the server dropped (PG_CONNECTION_LOST): whatever transaction
   * was open is gone with the old one. Throws as opening does while the server cannot be reached.
   */
  reconnect(): void {
    this.takeQueued();
    for (const b of this.copyBuffers.values()) b.length = 0;
    this.inTransaction = false;
    this.writeTx = false;
    this.snapshot = undefined;
    this.send({ op: 'reconnect', conn: this.conn });
  }

  close(): void {
    if (!this.open) return;
    this.takeQueued();
    try {
      if (this.inTransaction) this.rollbackQuietly();
      this.send({ op: 'close', conn: this.conn });
    } finally {
      this.open = false;
    }
  }
}

type Decoder = (field: string) => unknown;
const asText: Decoder = (f) => (f.includes('\\') ? unescapeCopy(f) : f);
const asNum: Decoder = (f) => Number(f);
const asBool: Decoder = (f) => (f === 't' ? 1 : 0);
/** How a column of COPY's text format becomes what the store expects (the worker's type parsers, for COPY). */
function decoderOf(oid: number): Decoder {
  if (oid === 20 || oid === 21 || oid === 23 || oid === 26 || oid === 700 || oid === 701 || oid === 1700) return asNum;
  if (oid === 16) return asBool;
  return asText;
}

const COPY_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
/** A value of COPY's text format, its backslash sequences undone (\\, \n…, and the octal and hex forms). */
function unescapeCopy(f: string): string {
  return f.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/gs, (_m, oct: string | undefined, hex: string | undefined, c: string) => {
    if (oct !== undefined) return String.fromCharCode(parseInt(oct, 8));
    if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
    return COPY_ESCAPES[c] ?? c;
  });
}

/** The rows of a chunk of COPY's text format (whole lines): tab-separated, \N for null. */
function* copyRowsOf(text: string, decode: Decoder[]): IterableIterator<unknown[]> {
  const width = decode.length;
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const row: unknown[] = new Array(width);
    let start = at;
    for (let k = 0; k < width; k++) {
      let tab = k === width - 1 ? nl : text.indexOf('\t', start);
      if (tab < 0 || tab > nl) tab = nl;
      const f = text.slice(start, tab);
      row[k] = f === '\\N' ? null : decode[k](f);
      start = tab + 1;
    }
    at = nl + 1;
    yield row;
  }
}

/** Rows queued by copyRowsQueued beyond which they are sent without waiting for the next request. */
const QUEUED_BYTES = 1 << 20;

/** Rows of COPY's text format, encoded (UTF-8) as they come into one buffer, which grows as it must. */
class CopyBuffer {
  private buf = Buffer.allocUnsafe(64 << 10);
  length = 0;
  /** Whole lines, each ended by a line feed. */
  text(s: string): void {
    const most = 3 * s.length; // (UTF-8 takes at most 3 bytes per UTF-16 unit)
    if (this.length + most > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + most));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(s, this.length);
  }
  /** The rows so far, in a copy of their own (what is sent is the whole of its memory), and empty again. */
  take(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.set(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/** Characters of lines gathered before they are encoded into a CopyBuffer. */
const COPY_CHUNK = 16 << 10;

const COPY_SPECIAL = /[\\\t\n\r]/;
/** A value in COPY's text format: \N for null, backslash, tab and line ends escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v); // (never one of those characters)
  const s = typeof v === 'string' ? v : String(v);
  if (!COPY_SPECIAL.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Whether a --db value names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  return maskPasswords(url);
}
