// The SQLite connection: pragmas, migrations, and write transactions that start with BEGIN IMMEDIATE.
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BusyError, UsageError } from '../errors.js';
import { latestVersion, migrations } from './migrations/index.js';

export type Db = Database.Database;

const SQLITE_MAGIC = 'SQLite format 3\u0000';

export interface OpenOptions {
  /** Create the file (mode 0600) if missing; only `init` and `demo` do. */
  create?: boolean;
  /** Refuse an older schema instead of using it (every command but `db migrate`). */
  requireLatest?: boolean;
  busyTimeoutMs?: number;
}

export function defaultBusyTimeoutMs(): number {
  const v = Number(process.env.POINTSMALL_BUSY_TIMEOUT);
  return Number.isFinite(v) && v >= 0 ? v : 5000;
}

/**
 * One open ledger. Repositories hang off it through get(factory), created once per connection so
 * their prepared statements are reused; write() runs one transaction that is complete or absent.
 */
export class Store {
  readonly db: Db;
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Incremented at every write transaction, so per-transaction caches (the last hash) reset. */
  txSerial = 0;
  private repos = new Map<unknown, unknown>();
  private inTx = false;
  /** Housekeeping run inside the next write transaction, until one commits (releasing lapsed holds). */
  beforeWrite: (() => void) | undefined;
  /** The chain key from POINTSMALL_LEDGER_KEY_FILE (null without one): entries are then keyed MACs. */
  chainKey: Buffer | null = null;

  constructor(path: string, db: Db, busyTimeoutMs: number) {
    this.path = path;
    this.db = db;
    this.busyTimeoutMs = busyTimeoutMs;
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
    this.begin('BEGIN IMMEDIATE');
    this.inTx = true;
    this.txSerial++;
    try {
      this.beforeWrite?.();
    } catch (e) {
      this.rollbackWrite();
      throw e;
    }
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
    try {
      return fn();
    } finally {
      this.inTx = false;
      if (this.db.inTransaction) this.db.exec('COMMIT');
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
  return e;
}

function looksLikeSqlite(path: string): boolean {
  const st = statSync(path);
  if (!st.isFile()) return false;
  if (st.size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    return buf.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}

const notLedger = (path: string, why: string) =>
  new UsageError(`${path} is not a pointsmall ledger (${why})`, `create one with: pointsmall init --db ${path}`, 'NOT_A_LEDGER');

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

/** Opens (or with create, makes) the ledger at path, applies pragmas and checks the schema version. */
export function openStore(path: string, opts: OpenOptions = {}): Store {
  const busy = opts.busyTimeoutMs ?? defaultBusyTimeoutMs();
  const exists = existsSync(path);
  if (!exists && !opts.create) throw notLedger(path, 'no such file');
  if (exists && !looksLikeSqlite(path)) {
    if (opts.create && statSync(path).isFile() && statSync(path).size === 0) {
      // an empty file is fine to build a ledger in
    } else throw notLedger(path, 'not an SQLite database');
  }
  if (!exists) closeSync(openSync(path, 'wx', 0o600));
  let db: Db;
  try {
    db = new Database(path, { timeout: busy });
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
    throw notLedger(path, 'no pointsmall schema in it');
  }
  if (opts.requireLatest !== false && !opts.create && version < latestVersion()) {
    store.close();
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
    db.pragma('journal_mode = WAL');
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

/** Row counts of every table (settings aside) and the page size: what `db info` shows. */
export function ledgerStats(store: Store): { counts: Record<string, number>; pageSize: number } {
  const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]).filter(
    (t) => t !== 'settings',
  );
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = store.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
  return { counts, pageSize: store.db.pragma('page_size', { simple: true }) as number };
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
    return { entries: store.db.prepare('SELECT count(*) FROM copy_check.entries').pluck().get() as number };
  } finally {
    store.db.exec('DETACH copy_check');
  }
}

export function schemaVersion(store: Store): number {
  return store.db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration newer than the ledger's version, each in its own transaction. */
export function migrate(store: Store): { from: number; to: number; applied: string[] } {
  const from = schemaVersion(store);
  const applied: string[] = [];
  for (const m of migrations) {
    if (m.version <= schemaVersion(store)) continue;
    store.write(() => {
      store.db.exec(m.sql);
      store.db.pragma(`user_version = ${m.version}`);
    });
    applied.push(`${String(m.version).padStart(3, '0')}_${m.name}`);
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
