// The SQLite connection: pragmas, migrations, and write transactions that start with BEGIN IMMEDIATE.
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { BusyError, LedgerReplacedError, PermissionError, RestoringError, TooManyConnectionsError, UsageError, initRaceError, mapServerCode } from '../errors.js';
import { latestVersion, migrations } from './migrations/index.js';
import { PgDatabase, isPostgresUrl, redactUrl } from './pg/database.js';
import { sqliteHead } from './sqliteHead.js';

export type Db = Database.Database;
export type Backend = 'sqlite' | 'postgres';

export interface OpenOptions {
  /** Create the file (mode 0600) if missing; only `init` and `demo` do. */
  create?: boolean;
  /** Refuse an older schema instead of using it (every command but `db migrate`). */
  requireLatest?: boolean;
  busyTimeoutMs?: number;
  /**
   * SQLite: open the file read-only and leave its journal mode as it is (`ledger verify` of a backup: not a
   * byte of it changes, no -wal or -shm appears beside it, and it can be checked on read-only storage).
   */
  readOnly?: boolean;
}

/** POINTSMALL_BUSY_TIMEOUT in ms (unset or empty: 5000); anything but a whole number of ms is refused (exit 2). */
export function defaultBusyTimeoutMs(): number {
  const raw = (process.env.POINTSMALL_BUSY_TIMEOUT ?? '').trim();
  if (raw === '') return 5000;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new UsageError(`POINTSMALL_BUSY_TIMEOUT=${JSON.stringify(process.env.POINTSMALL_BUSY_TIMEOUT)} is not a whole number of milliseconds`, 'give milliseconds, as in POINTSMALL_BUSY_TIMEOUT=30000 (unset: 5000)');
  }
  return Number(raw);
}

/**
 * One open ledger. Repositories hang off it through get(factory), created once per connection so
 * their prepared statements are reused; write() runs one transaction that is complete or absent.
 */
export class Store {
  readonly db: Db;
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Which engine holds the ledger: a SQLite file, or a PostgreSQL database (pg/database.ts). */
  readonly backend: Backend;
  /** Incremented at every write transaction, so per-transaction caches (the last hash) reset. */
  txSerial = 0;
  private repos = new Map<unknown, unknown>();
  private inTx = false;
  /** Housekeeping run inside the next write transaction, until one commits (releasing lapsed holds). */
  beforeWrite: (() => void) | undefined;
  /** The chain key from POINTSMALL_LEDGER_KEY_FILE (null without one): entries are then keyed MACs. */
  chainKey: Buffer | null = null;

  constructor(path: string, db: Db, busyTimeoutMs: number, backend: Backend = 'sqlite') {
    this.path = path;
    this.db = db;
    this.busyTimeoutMs = busyTimeoutMs;
    this.backend = backend;
  }

  /**
   * After the server dropped the connection (PostgreSQL): a new one, outside any transaction. False on
   * SQLite (a file has no connection to lose); throws while the server cannot be reached.
   */
  reconnect(): boolean {
    if (!this.pg) return false;
    if (this.inTx) throw new Error('reconnect inside a transaction');
    this.pg.reconnect();
    return true;
  }

  /** The PostgreSQL connection of a ledger on PostgreSQL (null on SQLite). */
  get pg(): PgDatabase | null {
    return this.backend === 'postgres' ? (this.db as unknown as PgDatabase) : null;
  }

  /** Drops the repositories made so far, with their prepared statements (after the schema they were made on is gone). */
  forgetRepositories(): void {
    this.repos.clear();
  }

  get<T>(factory: (store: Store) => T): T {
    let r = this.repos.get(factory) as T | undefined;
    if (r === undefined) {
      r = factory(this);
      this.repos.set(factory, r);
    }
    return r;
  }

  /** Runs fn in one BEGIN IMMEDIATE transaction: committed whole, or rolled back whole on any throw. */
  write<T>(fn: () => T): T {
    if (this.inTx) return fn();
    this.openWrite();
    let out: T;
    try {
      out = fn();
    } catch (e) {
      this.rollbackWrite();
      throw e;
    }
    this.commitWrite();
    return out;
  }

  /**
   * Begins a write transaction held open across calls (an import's writer thread writes one batch as
   * several plans, each when it arrives); it ends with commitWrite() or rollbackWrite(). write()
   * inside it runs in it.
   */
  openWrite(): void {
    if (this.inTx) throw new Error('a write transaction is open already');
    // while db restore replaces the ledger, a writer waits as for a lock (up to the busy timeout), then refuses
    const until = Date.now() + this.busyTimeoutMs;
    for (;;) {
      this.begin('BEGIN IMMEDIATE');
      this.inTx = true;
      this.txSerial++;
      let restoring: string | null = null;
      try {
        restoring = this.pg ? null : restoreMarkAt(this);
        if (restoring !== null && Date.now() >= until) throw new RestoringError(this.path, restoring);
        if (restoring === null && !this.pg) this.sameGeneration();
        if (restoring === null) this.beforeWrite?.();
      } catch (e) {
        this.rollbackWrite();
        throw e;
      }
      if (restoring === null) return;
      this.rollbackWrite();
      sleepMs(25);
    }
  }

  /**
   * The ledger's generation (settings `ledger_generation`, SQLite) this store's first write found: a write
   * that finds another was replaced between two of this command's transactions (LedgerReplacedError).
   * undefined until read; null for a ledger made before generations were kept.
   */
  generation: string | null | undefined = undefined;
  private sameGeneration(): void {
    const now = generationOf(this);
    if (this.generation === undefined) {
      // a ledger still being made (its tables there, init's settings not yet: another init racing this one)
      // has no generation to keep: it is noted once the ledger is made, by whichever init made it
      if (now !== null || settingAt(this, 'currency') !== undefined) this.generation = now;
    } else if (now !== this.generation) throw new LedgerReplacedError(this.path);
  }

  /** Whether a write transaction is open. */
  get writing(): boolean {
    return this.inTx;
  }

  /** Commits the open write transaction; on failure it is rolled back whole. */
  commitWrite(): void {
    try {
      this.db.exec('COMMIT');
      this.beforeWrite = undefined;
    } catch (e) {
      this.rollbackWrite();
      throw e;
    } finally {
      this.inTx = false;
    }
  }

  /**
   * PostgreSQL, an import's ledger writer: commits the open write transaction behind its queued writes,
   * without waiting for the server (PgDatabase.commitQueued; awaitQueued tells how it went).
   */
  commitWriteQueued(): void {
    this.pg!.commitQueued();
    this.inTx = false;
    this.beforeWrite = undefined;
  }

  /**
   * PostgreSQL, an import's ledger writer: begins the next write transaction behind the queued writes
   * (PgDatabase.beginQueued), checked on the server against the data_version its plans rest on. What
   * this connection caches per transaction (where the chain ends, the last ids) is kept: nobody else
   * wrote since, or the transaction fails.
   */
  openWriteQueued(dataVersion: number): void {
    if (this.inTx) throw new Error('a write transaction is open already');
    this.pg!.beginQueued(dataVersion);
    this.inTx = true;
  }

  /** Rolls back the open write transaction, if any. */
  rollbackWrite(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.inTx = false;
  }

  /**
   * SQLite's data_version: it changes when another connection (another process) commits to the
   * ledger, never for this connection's own commits. Equal values bracket a stretch in which nobody
   * else wrote, so what this process cached from the ledger is still true.
   */
  dataVersion(): number {
    if (this.pg) return this.db.pragma('data_version', { simple: true }) as number;
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Copies what the WAL holds of committed transactions into the database file now, without waiting
   * for anyone (a PASSIVE checkpoint): what is left for the checkpoint at close is then less.
   */
  checkpointPassive(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Sets the page cache to about `kib` KiB for a while; returns the undo. */
  cacheKib(kib: number): () => void {
    const before = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = -${kib}`);
    return () => {
      if (this.db.open) this.db.pragma(`cache_size = ${before}`);
    };
  }

  /** Runs fn in one read transaction, so everything it reads is one consistent snapshot. */
  read<T>(fn: () => T): T {
    if (this.inTx) return fn();
    this.begin('BEGIN');
    this.inTx = true;
    let failed = false;
    try {
      return fn();
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      this.inTx = false;
      try {
        if (this.db.inTransaction) this.db.exec('COMMIT');
      } catch (e) {
        // a read cut short by the error in flight (a damaged page met mid-iteration) leaves its statement
        // open, and SQLite will not end the transaction under it: the error in flight is the one to tell
        if (!failed) throw e;
      }
    }
  }

  private begin(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (e) {
      throw mapBusy(e, this.path, this.busyTimeoutMs);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * For set-based bulk writes whose every value is a code constant, validated first, or selected from
 * rows that exist (an import's entries, an expiry run's lot moves): foreign keys and CHECK constraints
 * off until the returned undo, since per-row they cost a third of such writes. Triggers (append-only)
 * stay on, and ledger verify proves the result. Call outside a transaction (foreign_keys is fixed
 * inside one).
 */
export function relaxRowChecks(store: Store): () => void {
  if (store.pg) return store.pg.relaxForeignKeys(); // (for its queued COPYs; CHECKs stay on)
  const fk = store.db.pragma('foreign_keys', { simple: true }) as number;
  store.db.pragma('foreign_keys = OFF');
  store.db.pragma('ignore_check_constraints = ON');
  return () => {
    if (!store.db.open) return;
    store.db.pragma('ignore_check_constraints = OFF');
    store.db.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
  };
}

export function mapBusy(e: unknown, path: string, timeoutMs: number): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') return new BusyError(path, timeoutMs);
  return mapServerCode(e);
}

/** Blocks this thread for ms milliseconds (a writer waiting, as SQLite's own busy wait does). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type FileKind = 'empty' | 'sqlite' | 'other' | 'not-a-file';

/**
 * What the file at path holds, from one read of its first bytes. A file another init is writing this
 * moment can show its new size before its header (zeros where SQLite's magic goes): that is read again,
 * within the busy timeout, rather than taken for a file of another kind.
 */
function fileKind(path: string, busyTimeoutMs: number): FileKind {
  const until = Date.now() + busyTimeoutMs;
  for (;;) {
    if (!statSync(path).isFile()) return 'not-a-file';
    const head = sqliteHead(path);
    if (head === 'empty' || head === 'database') return head === 'empty' ? 'empty' : 'sqlite';
    if (head !== 'zeros' || Date.now() >= until) return 'other';
    sleepMs(10);
  }
}

/** Tables every ledger has from its first migration on (an init stopped after it has them too). */
const FIRST_TABLES = ['settings', 'members', 'entries', 'postings', 'lots', 'audit'];
/** The tables of an SQLite database, by name, and whether the ledger's first ones are among them. */
function tablesOf(db: Db): { names: string[]; ledger: boolean } {
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  return { names, ledger: FIRST_TABLES.every((t) => names.includes(t)) };
}

/**
 * What an existing SQLite file is, opened read-only (db backup --force may replace only a ledger or a
 * backup): `ledger` (a schema version and the ledger's first tables), `other` (another application's
 * database) or `unreadable` (an SQLite header over something SQLite cannot read). A `-wal` or `-shm` the
 * look left beside a WAL-mode file that had none is removed again (an empty one: nothing was written).
 */
export function sqliteFileKind(path: string): 'ledger' | 'other' | 'unreadable' {
  const had = new Set(['-wal', '-shm'].filter((x) => existsSync(path + x)));
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    return version > 0 && tablesOf(db).ledger ? 'ledger' : 'other';
  } catch {
    return 'unreadable';
  } finally {
    db?.close();
    for (const x of ['-wal', '-shm']) {
      const f = path + x;
      if (!had.has(x) && existsSync(f) && (x === '-shm' || statSync(f).size === 0)) rmSync(f, { force: true });
    }
  }
}

/**
 * Null when the SQLite file has the ledger's first tables; else the names of the tables it has (up to
 * five, for the message; "none" for none).
 */
function foreignTables(store: Store): string | null {
  try {
    const { names, ledger } = tablesOf(store.db);
    if (ledger) return null;
    return names.length ? names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '') : 'none';
  } catch (e) {
    throw mapBusy(e, store.path, store.busyTimeoutMs);
  }
}

/**
 * Not a ledger. The hint leads to init only where init erases nothing: no file, an empty one, a database
 * without a ledger; a file that holds something else (a CSV, another SQLite database) is never a place for one.
 */
const notLedger = (path: string, why: string, shown = path, initHere = true) =>
  new UsageError(
    `${shown} is not a pointsmall ledger (${why})`,
    initHere
      ? `give your ledger's path with --db PATH (or export POINTSMALL_DB=PATH), or create a new one with: pointsmall init --db ${shown}`
      : why === 'a folder'
        ? "give --db the path of the ledger's file (a folder holds no ledger)"
        : isPostgresUrl(path)
          ? "check --db: that database holds another application's tables, which init never changes; give your ledger's URL, or keep pointsmall in a database of its own (or a schema: ?options=-csearch_path%3Dpointsmall)"
          : 'check --db: it names a file that holds something else, which init never erases; give the path of your ledger',
    'NOT_A_LEDGER',
  );

export const LEDGER_PAGE_SIZE = 8192;

/**
 * The key of a keyed chain, kept outside the ledger: the bytes of the file POINTSMALL_LEDGER_KEY_FILE names
 * (surrounding whitespace trimmed, at least 16 bytes). Without the variable the chain is plain SHA-256.
 */
function readChainKey(): Buffer | null {
  const file = process.env.POINTSMALL_LEDGER_KEY_FILE;
  if (!file) return null;
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read the ledger key file ${file}: ${(e as Error).message}`, 'POINTSMALL_LEDGER_KEY_FILE must name a readable file', 'LEDGER_KEY_FILE');
  }
  const key = Buffer.from(raw.toString('latin1').trim(), 'latin1');
  if (key.length < 16) {
    throw new UsageError(`the ledger key file ${file} holds ${key.length} bytes; a key needs at least 16`, 'make one with: openssl rand -hex 32 > FILE', 'LEDGER_KEY_FILE');
  }
  return key;
}

/**
 * An SQLite database with nothing in it: no table, no schema version. Another init of the same new file
 * leaves one for a moment (its header written, its first migration not yet committed); init builds in it
 * as in an empty file, and then finds the other's ledger.
 */
export function isBlankSqlite(path: string, busyTimeoutMs = defaultBusyTimeoutMs()): boolean {
  if (isPostgresUrl(path) || !existsSync(path) || fileKind(path, busyTimeoutMs) !== 'sqlite') return false;
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, timeout: busyTimeoutMs });
    const objects = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
    return objects === 0 && db.pragma('user_version', { simple: true }) === 0;
  } catch {
    return false; // unreadable or damaged: openStore says what it is
  } finally {
    db?.close();
  }
}

/** Opens (or with create, makes) the ledger at path, applies pragmas and checks the schema version. */
export function openStore(path: string, opts: OpenOptions = {}): Store {
  const busy = opts.busyTimeoutMs ?? defaultBusyTimeoutMs();
  if (isPostgresUrl(path)) return openPgStore(path, opts, busy);
  const exists = existsSync(path);
  if (!exists && !opts.create) throw notLedger(path, 'no such file');
  const kind = exists ? fileKind(path, busy) : null;
  if (kind === 'empty' && !opts.create) throw notLedger(path, 'an empty file');
  // an empty file is fine to build a ledger in
  if (kind === 'not-a-file' && statSync(path).isDirectory()) throw notLedger(path, 'a folder', path, false);
  if (kind === 'other' || kind === 'not-a-file') throw notLedger(path, 'not an SQLite database', path, false);
  if (!exists) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (e) {
      // another init made the file the moment after we looked: build in it as in an empty file, unless
      // it holds something else already (then it is not ours to touch)
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (fileKind(path, busy) === 'other') throw notLedger(path, 'not an SQLite database', path, false);
    }
  }
  let db: Db;
  try {
    db = new Database(path, { timeout: busy, readonly: Boolean(opts.readOnly && exists) });
  } catch (e) {
    throw new UsageError(`cannot open ${path}: ${(e as Error).message}`, 'check the path and its permissions');
  }
  const store = new Store(path, db, busy);
  try {
    store.chainKey = readChainKey();
  } catch (e) {
    store.close();
    throw e;
  }
  // Check the schema before any pragma: journal_mode = WAL rewrites the header of a file we then refuse.
  let version: number;
  try {
    version = schemaVersion(store);
  } catch (e) {
    store.close();
    throw mapBusy(e, path, busy);
  }
  // another application's database that keeps a schema version of its own (PRAGMA user_version): not a
  // ledger stopped in its init, nor one too new for this tool
  const foreign = !store.pg && version > 0 ? foreignTables(store) : null;
  if (foreign) {
    store.close();
    throw notLedger(path, `no pointsmall schema in it: an SQLite database of another application, schema version ${version}, tables ${foreign}`, path, false);
  }
  if (version > latestVersion()) {
    store.close();
    throw new UsageError(
      `${path} has schema version ${version}, newer than this pointsmall understands (${latestVersion()})`,
      'upgrade pointsmall; an older tool never writes to a newer ledger',
      'LEDGER_TOO_NEW',
    );
  }
  if (!opts.create && version === 0) {
    store.close();
    throw notLedger(path, 'no pointsmall schema in it', path, false);
  }
  if (opts.requireLatest !== false && !opts.create && version < latestVersion()) {
    const finished = initFinished(store);
    store.close();
    if (!finished) throw initUnfinished(path, version);
    throw new UsageError(
      `${path} has schema version ${version}; this pointsmall needs ${latestVersion()}`,
      `back it up and upgrade it with: pointsmall db migrate --db ${path}`,
      'LEDGER_TOO_OLD',
    );
  }
  try {
    // A new ledger gets 8 KiB pages (set before its first page is written): bulk writes touch fewer
    // pages and the B-trees are shallower; measured about 6% off a 1M-row import. Older ledgers keep theirs.
    if (opts.create && version === 0) db.pragma(`page_size = ${LEDGER_PAGE_SIZE}`);
    // Switching a new file to WAL takes it whole; another init doing the same at that moment makes SQLite
    // give up at once (it would deadlock), without its busy wait. So it waits here, within the busy timeout.
    const until = Date.now() + busy;
    for (; !db.readonly; ) {
      try {
        db.pragma('journal_mode = WAL');
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw e;
        sleepMs(10);
      }
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -32000');
    // For tests of a full disk: the ledger may not grow past this many pages (SQLITE_FULL beyond).
    const maxPages = Number(process.env.POINTSMALL_MAX_PAGES);
    if (Number.isInteger(maxPages) && maxPages > 0) db.pragma(`max_page_count = ${maxPages}`);
  } catch (e) {
    store.close();
    throw mapBusy(e, path, busy);
  }
  return store;
}

/** Creates what a PostgreSQL ledger needs before migration 1: the schema version's table, and sum(). */
const PG_BOOTSTRAP = `
CREATE TABLE IF NOT EXISTS pointsmall_schema (version BIGINT NOT NULL);
-- SQLite's rowid: an INTEGER PRIMARY KEY left out is the largest so far plus one (dialect.ts adds the trigger)
CREATE OR REPLACE FUNCTION pm_next_rowid() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE next bigint;
BEGIN
  EXECUTE format('SELECT COALESCE(MAX(%I), 0) + 1 FROM %I.%I', TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO next;
  NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], next));
  RETURN NEW;
END $f$;
-- SQLite's data_version: every write transaction takes the next value just before it commits
CREATE SEQUENCE IF NOT EXISTS pm_data_version;
INSERT INTO pointsmall_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM pointsmall_schema);
-- SQLite's sum() of integers is an integer; PostgreSQL's sum(bigint) is numeric. The store's sums are pm_sum.
CREATE OR REPLACE AGGREGATE pm_sum(bigint) (SFUNC = int8pl, STYPE = bigint);
CREATE OR REPLACE AGGREGATE pm_sum(numeric) (SFUNC = numeric_add, STYPE = numeric);
CREATE OR REPLACE AGGREGATE pm_sum(double precision) (SFUNC = float8pl, STYPE = double precision);
-- SQLite sums comparisons (sum(kind = 'x') counts them): true is 1
CREATE OR REPLACE FUNCTION pm_sum_bool(bigint, boolean) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT COALESCE($1, 0) + CASE WHEN $2 THEN 1 ELSE 0 END';
CREATE OR REPLACE AGGREGATE pm_sum(boolean) (SFUNC = pm_sum_bool, STYPE = bigint);
-- SQLite's JSON functions as the store uses them: '$.key' paths, arrays of ids passed as one JSON text
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$ SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), '.') $f$;
CREATE OR REPLACE FUNCTION json_valid(doc text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $f$ BEGIN PERFORM doc::jsonb; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $f$;
CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (key bigint, value text) LANGUAGE sql IMMUTABLE AS $f$ SELECT ord - 1, v FROM json_array_elements_text(doc::json) WITH ORDINALITY AS t(v, ord) $f$;
`;

/** The sslmode values of libpq, and node-postgres's no-verify. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * A connection to the PostgreSQL database at url. Not reaching it (no server, no such database, a wrong
 * password) is a usage error naming the fix, for every command alike (init, demo and db copy ask whether a
 * ledger is there before they open one).
 */
function connectPg(url: string, busy: number): PgDatabase {
  // an sslmode the driver does not know would be taken for require, silently
  const sslmode = (() => {
    try {
      return new URL(url).searchParams.get('sslmode');
    } catch {
      return null; // (the driver says what is wrong with the URL)
    }
  })();
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    throw new UsageError(`sslmode=${JSON.stringify(sslmode)} in ${redactUrl(url)} is not an SSL mode`, `use one of ${SSL_MODES.join(', ')} (or leave sslmode out)`);
  }
  try {
    try {
      return new PgDatabase(url, busy, true);
    } catch (e) {
      // libpq's prefer and allow fall back to a plain connection where the server has no SSL; the driver
      // takes them for require: fall back as psql would
      if ((sslmode === 'prefer' || sslmode === 'allow') && /does not support SSL connections/i.test((e as Error).message)) {
        const plain = new URL(url);
        plain.searchParams.set('sslmode', 'disable');
        return new PgDatabase(plain.toString(), busy, true);
      }
      throw e;
    }
  } catch (e) {
    // init --force held the ledger alone past the busy timeout (PgDatabase: LEDGER_LOCK)
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new BusyError(redactUrl(url), busy, 'init --force (or demo --force) is replacing the ledger: nothing was written; run the command again when it has finished');
    // connected, but the role may not read the ledger
    const refused = mapServerCode(e);
    if (refused instanceof PermissionError) throw refused;
    // the server (or the role's CONNECTION LIMIT) refused one more connection: it passes when others close (exit 5)
    if (refused instanceof TooManyConnectionsError) throw refused;
    const shown = redactUrl(url);
    // 3D000: the server answered, but has no database of that name
    const hint = (e as { sqlState?: string }).sqlState === '3D000'
      ? `create the database first (createdb, or CREATE DATABASE in psql), or give the URL of one that exists; pointsmall init makes the ledger's tables in it`
      : 'check the server is running, the URL (postgres://USER@HOST:PORT/DATABASE) and the role\'s password (PGPASSWORD or ~/.pgpass)';
    // the driver's words when the server asks for a password and none was given
    const why = /client password must be a string|password authentication.*no password supplied/i.test((e as Error).message)
      ? `the server asks for a password and none was given (not in the URL, PGPASSWORD or ~/.pgpass) [${(e as Error).message}]`
      : (e as Error).message;
    throw new UsageError(`cannot connect to ${shown}: ${why}`, hint, 'NO_CONNECTION');
  }
}

function openPgStore(url: string, opts: OpenOptions, busy: number): Store {
  const shown = redactUrl(url);
  const db = connectPg(url, busy);
  const store = new Store(url, db as unknown as Db, busy, 'postgres');
  try {
    store.chainKey = readChainKey();
    const version = db.opened ? (db.opened.hasSchema ? db.opened.version : 0) : db.schemaVersion();
    if (version > latestVersion()) {
      throw new UsageError(
        `${shown} has schema version ${version}, newer than this pointsmall understands (${latestVersion()})`,
        'upgrade pointsmall; an older tool never writes to a newer ledger',
        'LEDGER_TOO_NEW',
      );
    }
    const hasSchema = db.opened ? db.opened.hasSchema : db.prepare("SELECT to_regclass('pointsmall_schema') IS NOT NULL").pluck().get() === 1;
    // Another application's tables (or indexes, views, sequences) under the names the migrations make
    const takenNames = (): string[] => {
      const names = [...pointsmallRelations()];
      return db
        .prepare(`SELECT relname FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND relname IN (${names.map(() => '?').join(', ')}) ORDER BY relname`)
        .pluck()
        .all(...names) as string[];
    };
    if (!hasSchema || version === 0) {
      if (!opts.create) {
        // (a database with another application's tables under our names: init refuses it, so no hint leads there; trial 40)
        const taken = hasSchema ? [] : takenNames();
        if (taken.length) throw notLedger(url, `no pointsmall schema in this database, which holds another application's ${taken.slice(0, 5).join(', ')}`, shown, false);
        throw notLedger(url, hasSchema ? 'no pointsmall schema in it' : 'no pointsmall schema in this database', shown);
      }
      // Names, SKUs and reasons come in any language: a database that cannot hold them in UTF-8 (LATIN1
      // refuses a Chinese name; SQL_ASCII keeps bytes, so its text functions cut characters) is refused
      // before anything is created, not at the first such member
      const encoding = db.opened?.encoding ?? (db.prepare("SELECT current_setting('server_encoding')").pluck().get() as string);
      if (encoding !== 'UTF8') {
        throw new UsageError(
          `${shown} has encoding ${encoding}: a ledger keeps its text (names, SKUs, reasons, in any language) in UTF-8`,
          `create the database with CREATE DATABASE NAME ENCODING 'UTF8' TEMPLATE template0 (or createdb -E UTF8 -T template0 NAME), then give its URL`,
          'DATABASE_ENCODING',
        );
      }
      // such names would stop the migrations half-way: refused before anything is created, as SQLite
      // refuses a file that holds something else
      const taken = takenNames();
      if (taken.length > 0) {
        // another init of this database, at the same time, made them meanwhile: its ledger stands
        if (db.schemaVersion() > 0) {
          throw initRaceError(`in ${shown}`);
        }
        throw new UsageError(
          `${shown} is not a pointsmall ledger: it holds ${taken.length === 1 ? 'a table or index' : 'tables or indexes'} of another application under names pointsmall's own would take (${taken.join(', ')}); init never changes them`,
          'keep pointsmall in a database of its own (createdb pointsmall), or in a schema of its own (?options=-csearch_path%3Dpointsmall on the URL, after CREATE SCHEMA pointsmall)',
          'NOT_A_LEDGER',
        );
      }
      store.write(() => db.execDdl(PG_BOOTSTRAP));
    } else if (opts.requireLatest !== false && !opts.create && version < latestVersion()) {
      if (!initFinished(store)) throw initUnfinished(shown, version);
      throw new UsageError(`${shown} has schema version ${version}; this pointsmall needs ${latestVersion()}`, `upgrade it with: pointsmall db migrate --db ${shown}`, 'LEDGER_TOO_OLD');
    }
  } catch (e) {
    store.close();
    throw mapBusy(e, url, busy);
  }
  return store;
}

/** Whether the PostgreSQL database at url holds a pointsmall ledger (a schema version above 0). */
export function ledgerExistsAt(url: string): boolean {
  const db = connectPg(url, defaultBusyTimeoutMs());
  try {
    return db.schemaVersion() > 0;
  } finally {
    db.close();
  }
}

/**
 * `init --force` on PostgreSQL: takes the ledger alone (LEDGER_LOCK: waits for the commands using it, up to
 * the busy timeout, and keeps new ones out until this connection closes), erases it, and sets the database
 * up as a new one, for the migrations and settings of the same connection to rebuild it.
 */
export function replaceLedgerIn(store: Store, url: string, held?: () => void): void {
  const pg = store.pg!;
  try {
    pg.lockLedgerAlone();
    // (what is erased, read once nobody else has the ledger: `held`)
    held?.();
    eraseTables(store, url);
    store.write(() => pg.execDdl(PG_BOOTSTRAP));
    pg.schemaChanged();
    // (what `held` read was prepared on the tables just dropped)
    store.forgetRepositories();
  } catch (e) {
    throw mapBusy(e, redactUrl(url), store.busyTimeoutMs);
  }
}

/**
 * Drops pointsmall's own tables (and the functions of their triggers) in the PostgreSQL database at url
 * (init --force): nothing else in the schema, another application's tables included. The helpers every
 * ledger shares (pm_sum, json_extract, pm_next_rowid, pm_data_version) stay: init makes them again as they
 * are. An object of someone else's that depends on a table of ours (a foreign key, a view) is a usage
 * error naming it, and nothing is dropped.
 */
export function eraseLedger(url: string, opts: { onlyUnfinished?: boolean } = {}): void {
  const store = openStore(url, { requireLatest: false });
  try {
    eraseTables(store, url, opts.onlyUnfinished === true);
  } catch (e) {
    // another connection's open transaction on the ledger (a report, psql) past the busy timeout: exit 5
    throw mapBusy(e, redactUrl(url), store.busyTimeoutMs);
  } finally {
    store.close();
  }
}

/**
 * eraseLedger's drops, in one write transaction. `onlyUnfinished`: only a ledger whose init (or db copy)
 * stopped before it finished (no settings), checked again under the writer lock: another process may have
 * finished one since it was last looked at (a db copy committing its rows), and that one is never dropped.
 */
function eraseTables(store: Store, url: string, onlyUnfinished = false): void {
  const tables = ledgerTables(store);
  store.write(() => {
    if (onlyUnfinished) {
      const settings = store.db.prepare("SELECT to_regclass('settings') IS NOT NULL").pluck().get();
      if (settings && store.db.prepare("SELECT 1 FROM settings WHERE key = 'currency'").pluck().get() !== undefined) {
        throw new UsageError(`a ledger already exists in ${redactUrl(url)} (another process finished it a moment ago)`, 'db copy never overwrites a ledger: give an empty database');
      }
    }
    const inUse = (what: string) =>
      new UsageError(
        `cannot erase the ledger in ${redactUrl(url)}: ${what}`,
        "another application's objects that refer to pointsmall's tables: drop those references first, or keep pointsmall in a database of its own",
        'LEDGER_IN_USE',
      );
    const triggerFunctionsOf = store.db
      .prepare(
        `SELECT p.proname FROM pg_trigger g
           JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = g.tgfoid
          WHERE NOT g.tgisinternal AND n.nspname = current_schema() AND c.relname = ? AND left(p.proname, 7) = 'pm_trg_'`,
      )
      .pluck();
    const triggerFunctions = new Set<string>();
    for (const t of tables) for (const f of triggerFunctionsOf.all(t) as string[]) triggerFunctions.add(f);
    const dependents = objectsDependingOn(store, tables);
    if (dependents.length > 0) throw inUse(`${dependents.join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on its tables`);
    // one statement, no CASCADE: our tables' references among themselves go with them, anyone else's stop it
    try {
      store.db.exec(`DROP TABLE IF EXISTS ${[...tables, 'pointsmall_schema'].map((t) => `"${t}"`).join(', ')}`);
    } catch (e) {
      if (!/depend/i.test((e as Error).message)) throw e;
      throw inUse((e as Error).message);
    }
    for (const f of triggerFunctions) store.db.exec(`DROP FUNCTION IF EXISTS "${f}"()`);
  });
}

/** Tables (by a foreign key) and views of someone else's that depend on the ledger's tables in the current schema. */
function objectsDependingOn(store: Store, tables: string[]): string[] {
  const own = new Set([...tables, 'pointsmall_schema']);
  const found = new Set<string>();
  const references = store.db.prepare(
    `SELECT c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND p.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND p.relname = ?`,
  );
  const views = store.db.prepare(
    `SELECT v.relname FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class JOIN pg_class p ON p.oid = d.refobjid
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND v.oid <> p.oid
        AND p.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND p.relname = ?`,
  );
  for (const t of tables) {
    for (const r of references.pluck().all(t) as string[]) if (!own.has(r)) found.add(`table ${r}`);
    for (const v of views.pluck().all(t) as string[]) found.add(`view ${v}`);
  }
  return [...found].sort();
}

const madeByMigrations = new Map<string, Set<string>>();
/**
 * The names of the objects of these types (sqlite_master's: table, index, view) that pointsmall's migrations
 * make, at any schema version. Worked out once by running the migrations on an in-memory SQLite database,
 * so a new migration's objects are known without a list to keep.
 */
function namesMadeByMigrations(types: string[]): Set<string> {
  const key = types.join(',');
  let names = madeByMigrations.get(key);
  if (!names) {
    names = new Set<string>();
    const mem = new Database(':memory:');
    try {
      const list = mem.prepare(`SELECT name FROM sqlite_master WHERE type IN (${types.map(() => '?').join(', ')}) AND name NOT LIKE 'sqlite_%'`).pluck();
      for (const m of migrations) {
        mem.exec(m.sql);
        for (const t of list.all(...types) as string[]) names.add(t);
      }
    } finally {
      mem.close();
    }
    madeByMigrations.set(key, names);
  }
  return names;
}

/**
 * Every table, index and view name pointsmall's migrations make: what must be free in a schema before a
 * ledger is made there (the bootstrap's own two are made only if missing).
 */
export const pointsmallRelations = (): Set<string> => namesMadeByMigrations(['table', 'index', 'view']);

/** The tables pointsmall's migrations make: what a ledger in a PostgreSQL schema it may share with other applications is made of. */
export const pointsmallTables = (): Set<string> => namesMadeByMigrations(['table']);

/** The ledger's tables, parents before children (the order a copy fills them in). */
export function ledgerTables(store: Store): string[] {
  const names = store.pg
    ? (store.db
        .prepare("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'pointsmall_schema' ORDER BY tablename")
        .pluck()
        .all() as string[]).filter((t) => pointsmallTables().has(t))
    : (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);
  const parents = new Map<string, string[]>();
  for (const t of names) {
    parents.set(
      t,
      store.pg
        ? (store.db
            .prepare(
              `SELECT DISTINCT p.relname FROM pg_constraint k
                 JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ?`,
            )
            .pluck()
            .all(t) as string[])
        : (store.db.prepare('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)').pluck().all(t) as string[]),
    );
  }
  const out: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (out.includes(t) || path.has(t)) return;
    path.add(t);
    for (const p of parents.get(t) ?? []) if (p !== t && names.includes(p)) visit(p, path);
    out.push(t);
  };
  for (const t of names) visit(t, new Set());
  return out;
}

/** Row counts of every table (settings aside) and the page size: what `db info` shows. */
export function ledgerStats(store: Store): { counts: Record<string, number>; pageSize: number; bytes: number | null } {
  const tables = ledgerTables(store)
    .filter((t) => t !== 'settings')
    .sort();
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = store.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
  const bytes = store.pg ? (store.db.prepare('SELECT pg_database_size(current_database())').pluck().get() as number) : null;
  return { counts, pageSize: store.db.pragma('page_size', { simple: true }) as number, bytes };
}

/**
 * A consistent copy of the ledger in a new file (VACUUM INTO reads one snapshot while writers carry on;
 * SQLite refuses it inside a transaction), mode 0600. Returns the number of entries in the copy itself.
 */
export function vacuumInto(store: Store, path: string): { entries: number } {
  store.db.prepare('VACUUM INTO ?').run(path);
  chmodSync(path, 0o600);
  store.db.prepare('ATTACH ? AS copy_check').run(path);
  try {
    // a copy made while a restore replaces the ledger carries its mark (db restore's own copy kept aside
    // does): the copy is a ledger of its own, which no restore is replacing
    store.db.prepare('DELETE FROM copy_check.settings WHERE key = ?').run(RESTORING);
    return { entries: store.db.prepare('SELECT count(*) FROM copy_check.entries').pluck().get() as number };
  } finally {
    store.db.exec('DETACH copy_check');
  }
}

export function schemaVersion(store: Store): number {
  if (store.pg) return store.pg.schemaVersion();
  return store.db.pragma('user_version', { simple: true }) as number;
}

// ---------------------------------------------------------------------------------------------
// db restore's mark (SQLite). Between the copy of the live ledger it keeps aside and the backup's pages
// copied in, no other write may commit: it would be in neither file. So the restore first commits a mark
// in settings; every write transaction reads it just after BEGIN IMMEDIATE and, while it stands, waits as for
// a lock (the busy timeout), then refuses (exit 5, nothing written). A write that committed before the mark
// is in the copy kept aside; one after it, in the restored ledger.

const RESTORING = 'restore_in_progress';
interface RestoreMark {
  pid: number;
  host: string;
  at: string;
}
/** A mark this process made, or left by a restore that is gone (ended without clearing it), or over an hour old. */
function staleMark(m: RestoreMark): boolean {
  if (!(Date.now() - Date.parse(m.at) < 3_600_000)) return true;
  if (m.host !== hostname()) return false;
  if (m.pid === process.pid) return true;
  try {
    process.kill(m.pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}
/** The settings key of a ledger's generation: a random token init writes, and db restore writes anew. */
export const GENERATION = 'ledger_generation';
/** A new generation token. */
export const newGeneration = (): string => randomBytes(12).toString('hex');
function generationOf(store: Store): string | null {
  return settingAt(store, GENERATION) ?? null;
}

const settingStatements = new WeakMap<Store, Database.Statement | null>();
/** A setting as every write transaction reads it (SQLite): undefined when unset, or with no settings table yet (a ledger being made). */
function settingAt(store: Store, key: string): string | undefined {
  let stmt = settingStatements.get(store);
  if (stmt === undefined) {
    try {
      stmt = store.db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
    } catch {
      // no settings table yet: asked again next time (the ledger may be made meanwhile)
      return undefined;
    }
    settingStatements.set(store, stmt);
  }
  return stmt?.get(key) as string | undefined;
}

/** When the restore replacing the ledger began (its mark), or null when none is (or its mark is stale). */
function restoreMarkAt(store: Store): string | null {
  const raw = settingAt(store, RESTORING);
  if (raw === undefined) return null;
  let mark: RestoreMark;
  try {
    mark = JSON.parse(raw) as RestoreMark;
  } catch {
    return null;
  }
  return staleMark(mark) ? null : mark.at;
}
/** Commits the restore's mark: from here on other writers wait (then refuse) until it is gone. */
export function markRestoring(store: Store): void {
  const mark: RestoreMark = { pid: process.pid, host: hostname(), at: new Date().toISOString() };
  store.write(() => store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(RESTORING, JSON.stringify(mark)));
}
/** Takes the mark away (from the ledger restored, or after a restore that failed): a write this process may make under its mark. */
export function clearRestoring(store: Store): void {
  store.write(() => store.db.prepare('DELETE FROM settings WHERE key = ?').run(RESTORING));
}

/**
 * Whether `init` finished on this ledger: it writes the currency with the rest of its settings in its last
 * transaction, after the migrations. An init stopped before (killed) leaves a schema and nothing else.
 */
export function initFinished(store: Store): boolean {
  try {
    return store.read(() => store.db.prepare("SELECT value FROM settings WHERE key = 'currency'").pluck().get() !== undefined);
  } catch (e) {
    // no settings table yet: stopped in the first migrations (anything else, a lock or a permission, is no answer)
    if (/no such table|does not exist/i.test(String((e as Error).message)) || (e as { code?: string }).code === 'PG_42P01') return false;
    throw mapBusy(e, store.pg ? redactUrl(store.path) : store.path, store.busyTimeoutMs);
  }
}

/** A ledger whose init was stopped before it finished (initFinished): nothing is in it; init finishes it. */
export function initUnfinished(path: string, version: number): UsageError {
  return new UsageError(
    `${path} holds a ledger whose init did not finish (it was stopped at schema version ${version}, before its settings were written): nothing is in it`,
    `finish it with: pointsmall init --db ${path} --currency CODE --timezone ZONE (as you meant them); if it was a db copy that stopped, run the same db copy again instead`,
    'LEDGER_UNFINISHED',
  );
}

/**
 * Applies every migration newer than the ledger's version, each in its own transaction. The version is read
 * again inside each one: another process migrating the same ledger at once (two `init`s) has applied it
 * first, or not at all, and this one then skips it.
 */
export function migrate(store: Store): { from: number; to: number; applied: string[] } {
  const from = schemaVersion(store);
  const applied: string[] = [];
  for (const m of migrations) {
    if (m.version <= schemaVersion(store)) continue;
    const done = store.write(() => {
      if (m.version <= schemaVersion(store)) return false;
      if (store.pg) store.pg.execDdl(m.pg ?? m.sql);
      else store.db.exec(m.sql);
      store.db.pragma(`user_version = ${m.version}`);
      return true;
    });
    store.pg?.schemaChanged();
    if (done) applied.push(`${String(m.version).padStart(3, '0')}_${m.name}`);
  }
  return { from, to: schemaVersion(store), applied };
}

/**
 * Copies every page of the ledger at `source` into the ledger at `target` with SQLite's backup API:
 * one write transaction on the target, so processes that have it open (a long import, say) see the
 * restored ledger on their next transaction instead of writing on into a file that was replaced.
 * Waits for other writers up to the busy timeout.
 */
export async function copyLedgerInto(source: string, target: string, busyTimeoutMs: number): Promise<void> {
  // SQLite cannot back up into a WAL database of another page size (a backup from before ledgers had
  // 8 KiB pages): copy the source aside and rebuild it with the target's page size first.
  const pageSize = (path: string) => {
    const d = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return d.pragma('page_size', { simple: true }) as number;
    } finally {
      d.close();
    }
  };
  const want = pageSize(target);
  if (pageSize(source) !== want) {
    const tmp = `${target}.restore-${process.pid}.pages`;
    const rm = () => ['', '-journal', '-wal', '-shm'].forEach((x) => rmSync(tmp + x, { force: true }));
    rm();
    try {
      closeSync(openSync(tmp, 'wx', 0o600)); // new and private before VACUUM INTO fills it
      const src = new Database(source, { readonly: true, fileMustExist: true });
      try {
        src.prepare('VACUUM INTO ?').run(tmp);
      } finally {
        src.close();
      }
      chmodSync(tmp, 0o600);
      const t = new Database(tmp);
      try {
        t.pragma('journal_mode = DELETE');
        t.pragma(`page_size = ${want}`);
        t.exec('VACUUM');
      } finally {
        t.close();
      }
      return await copyLedgerInto(tmp, target, busyTimeoutMs);
    } finally {
      rm();
    }
  }
  const src = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const deadline = Date.now() + busyTimeoutMs;
    for (;;) {
      try {
        // All remaining pages in one step: the target is never seen half copied.
        const done = await src.backup(target, { progress: () => 0x7fffffff });
        // better-sqlite3 reports a first step refused as busy (another process writing the target)
        // as a finished backup of 0 pages, with nothing copied: that is a busy target, so try again.
        if (done.totalPages > 0) return;
        if (Date.now() >= deadline) throw new BusyError(target, busyTimeoutMs);
        await new Promise((r) => setTimeout(r, 25));
        continue;
      } catch (e) {
        const busy = mapBusy(e, target, busyTimeoutMs);
        if (busy === e) throw e;
        if (Date.now() >= deadline) throw busy;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  } finally {
    src.close();
  }
}
