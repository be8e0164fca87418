// Ledger lifecycle: init, db info, online backup, restore, migrate.
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LedgerCorruptError, PointsmallError, RefusedError, UsageError, initRaceError } from '../errors.js';
import type { RowsLost } from '../store/entries.js';
export type { RowsLost };
import { currencyCodeProblem, currencyDigits } from '../domain/money.js';
import { BEGINNING_OF_TIME, defaultRules, rulesDocumentHash, rulesToDocument } from '../domain/rules.js';
import { canonicalZone, isValidZone, localDateTime, machineZone, startedTz } from '../domain/time.js';
import { GENERATION, clearRestoring, copyLedgerInto, defaultBusyTimeoutMs, newGeneration, eraseLedger, initFinished, initUnfinished, replaceLedgerIn, isBlankSqlite, ledgerExistsAt, ledgerStats, markRestoring, migrate, openStore, schemaVersion, vacuumInto } from '../store/db.js';
import { isPostgresUrl, redactUrl } from '../store/pg/database.js';
import { sqliteHead } from '../store/sqliteHead.js';
import { copyLedgerRows } from '../store/copy.js';
import { journal } from '../store/journal.js';
import { refreshStatistics } from '../store/purchases.js';
import { SPREAD_MIGRATION, latestVersion } from '../store/migrations/index.js';
import { orders } from '../store/orders.js';
import { settings } from '../store/settings.js';
import { rulesVersions } from '../store/rules.js';
import { audit } from '../store/audit.js';
import { type Ctx, ledgerFromStore, useLedgerClock, withLedger } from './ledger.js';
import { AtomicFile, PRIVATE_MODE, checkOutput, createExclusive, createTemp, sameFile } from './outfile.js';

export interface InitInput {
  currency?: string;
  timezone?: string;
  force?: boolean;
  /** What a person confirmed erasing (init --force on a terminal): refused (exit 3) when the ledger moved since. */
  confirmed?: LedgerContents | null;
  /** The path the ledger records as its own, when it is built elsewhere first (the demo's temporary file). */
  recordAs?: string;
}

export interface InitResult {
  path: string;
  currency: string;
  digits: number;
  timezone: string;
  schemaVersion: number;
  rulesVersion: number;
  /** What `--force` erased (null when there was no ledger there). */
  erased: LedgerContents | null;
  /** Where the erased SQLite ledger is kept (a consistent copy, mode 0600); null when nothing was kept. */
  previous: string | null;
}

/** What a ledger holds, as a confirmation before erasing it shows it. */
export interface LedgerContents {
  entries: number;
  members: number;
  /** The chain head: the last entry's id and hash. */
  headId: number;
  headHash: string;
  /** Audit records: every change, a catalog item or a rules version too, adds one (what init --force checks a yes against). */
  auditRecords: number;
  /** Its currency and zone: init --force makes the new ledger with those given (or the defaults), not these. */
  currency: string | null;
  timezone: string | null;
}

/** What lies where init would build: nothing, an empty file, or a ledger (never anything else: that is refused). */
export interface InitTarget {
  path: string;
  kind: 'absent' | 'empty' | 'ledger';
  backend: 'sqlite' | 'postgres';
  contents: LedgerContents | null;
}

export { BEGINNING_OF_TIME };

function removeLedgerFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) if (existsSync(f)) rmSync(f);
}

function contentsOf(store: ReturnType<typeof openStore>): LedgerContents {
  return store.read(() => {
    const { counts } = ledgerStats(store);
    const head = store.get(journal).head();
    const set = store.get(settings);
    return { entries: counts.entries ?? 0, members: counts.members ?? 0, headId: head.id, headHash: head.hash, auditRecords: counts.audit ?? 0, currency: set.get('currency') ?? null, timezone: set.get('timezone') ?? null };
  });
}

/**
 * What init would replace at the ledger path. A file that is not a pointsmall ledger (a CSV, any other
 * file, an SQLite database without the ledger's schema) is refused here, exit 2: init never erases it,
 * not even with --force --yes. Nothing written.
 */
export async function inspectInitTarget(ctx: Ctx): Promise<InitTarget> {
  const path = shownPath(ctx.dbPath);
  if (isPostgresUrl(ctx.dbPath)) {
    if (!ledgerExistsAt(ctx.dbPath)) return { path, kind: 'absent', backend: 'postgres', contents: null };
  } else {
    if (!existsSync(ctx.dbPath)) return { path, kind: 'absent', backend: 'sqlite', contents: null };
    const st = statSync(ctx.dbPath);
    if (st.isDirectory()) throw new UsageError(`${ctx.dbPath} is a folder`, 'give --db a file path');
    if (st.isFile() && st.size === 0) return { path, kind: 'empty', backend: 'sqlite', contents: null };
    if (isBlankSqlite(ctx.dbPath)) return { path, kind: 'empty', backend: 'sqlite', contents: null };
  }
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(ctx.dbPath, { requireLatest: false });
  } catch (e) {
    if (e instanceof UsageError && e.code === 'NOT_A_LEDGER') {
      throw new UsageError(
        `${path} is not a pointsmall ledger (${e.message.replace(/^.* is not a pointsmall ledger \((.*)\)$/, '$1')}); init never erases a file that is not a ledger`,
        'give --db the path of a new file (or move this one away yourself)',
        'NOT_A_LEDGER',
      );
    }
    throw e;
  }
  try {
    // an init that was stopped (killed) before it finished left a schema and no ledger: it is finished now
    if (!initFinished(store)) return { path, kind: 'empty', backend: store.pg ? 'postgres' : 'sqlite', contents: null };
    return { path, kind: 'ledger', backend: store.pg ? 'postgres' : 'sqlite', contents: contentsOf(store) };
  } finally {
    store.close();
  }
}

/**
 * A new private file beside the ledger for a copy kept aside (`LEDGER.before-WHAT-TIME`), created
 * exclusively: a name someone took, or a planted symlink, is skipped for the next one.
 */
function reserveAside(ctx: Ctx, what: string): string {
  // when it was kept: never a demo's story clock (trial 39)
  const stem = `${ctx.dbPath}.before-${what}-${(ctx.wallClock ?? ctx.now).toISOString().replace(/[:.]/g, '-')}`;
  let path = stem;
  for (let n = 2; ; n++) {
    try {
      closeSync(createExclusive(path));
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      path = `${stem}-${n}`;
    }
  }
}

/** Keeps a consistent copy of the SQLite ledger aside, as db restore keeps the file it replaces. */
export function keepLedgerAside(ctx: Ctx, what: string): string {
  const previous = reserveAside(ctx, what);
  try {
    const store = openStore(ctx.dbPath, { requireLatest: false });
    try {
      vacuumInto(store, previous);
    } finally {
      store.close();
    }
  } catch (e) {
    rmSync(previous, { force: true });
    throw e;
  }
  return previous;
}

/** What is about to be erased differs from what a person confirmed (another process wrote meanwhile): exit 3, nothing erased. */
function refuseIfMoved(shown: string, now: LedgerContents, confirmed: LedgerContents | null): void {
  // (entries, members, the head, and the audit records every other change adds: trial 40b renamed a member,
  // added an item and applied rules between the question and the yes, and all of it was erased)
  if (!confirmed || (now.entries === confirmed.entries && now.members === confirmed.members && now.headId === confirmed.headId && now.auditRecords === confirmed.auditRecords)) return;
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  throw new RefusedError(
    'LEDGER_CHANGED',
    `${shown} changed since the erase was confirmed: it now holds ${n(now.entries, 'entry', 'entries')} and ${n(now.members, 'member', 'members')} (head #${now.headId}), confirmed ${confirmed.entries} and ${confirmed.members} (head #${confirmed.headId}); nothing was erased`,
    'another process wrote to it meanwhile: stop it first, then run init --force again',
  );
}

/**
 * Replaces the SQLite ledger at ctx.dbPath with a new one that `build` makes at a temporary path beside it,
 * never unlinking a file another process has open (trial 40: an import writing on into the erased file,
 * its orders in neither the kept copy nor the new ledger). Under db restore's mark (other writers wait,
 * then exit 5): what is erased is counted (and, when a person confirmed figures, checked against them:
 * exit 3 when they moved), kept aside as `LEDGER.before-WHAT-TIME` (unless `what` is null), then the new
 * ledger's pages are copied into the live file, which ends the mark. A failure leaves the ledger as it
 * was, writable again.
 */
export async function replaceSqliteLedger<T>(
  ctx: Ctx,
  what: string | null,
  confirmed: LedgerContents | null,
  build: (tmp: string, erased: LedgerContents, previous: string | null) => Promise<T>,
): Promise<T> {
  const previous = what === null ? null : reserveAside(ctx, what);
  const tmp = `${ctx.dbPath}.new-${process.pid}-${Date.now()}`;
  const dropTmp = () => removeLedgerFiles(tmp);
  let marked = false;
  try {
    const store = openStore(ctx.dbPath, { requireLatest: false });
    let erased: LedgerContents;
    try {
      markRestoring(store);
      marked = true;
      erased = contentsOf(store);
      refuseIfMoved(shownPath(ctx.dbPath), erased, confirmed);
      if (previous) vacuumInto(store, previous);
    } finally {
      store.close();
    }
    const result = await build(tmp, erased, previous);
    await copyLedgerInto(tmp, ctx.dbPath, defaultBusyTimeoutMs());
    marked = false;
    return result;
  } catch (e) {
    if (marked) clearMarkQuietly(ctx.dbPath);
    if (previous) rmSync(previous, { force: true });
    throw e;
  } finally {
    dropTmp();
  }
}

/**
 * Erases the ledger at ctx.dbPath so a new one can be built there (init --force, demo): a SQLite ledger is
 * first kept aside as `LEDGER.before-WHAT-TIME` (its path returned) unless `what` is null (the demo's own
 * untouched ledger, which it can build again); on PostgreSQL the ledger's tables are dropped and nothing is kept.
 */
export function clearLedger(ctx: Ctx, what: string | null): string | null {
  if (isPostgresUrl(ctx.dbPath)) {
    eraseLedger(ctx.dbPath);
    return null;
  }
  const previous = what === null ? null : keepLedgerAside(ctx, what);
  removeLedgerFiles(ctx.dbPath);
  return previous;
}

/**
 * PostgreSQL: inits of one new database at the same time run DDL side by side, and the server may roll one
 * back as a deadlock wherever it stood (setting up, migrating, looking at what is there). That init wrote
 * nothing that stays wrong (each migration commits whole, and is read again before it runs): it starts over,
 * and then finds the other's ledger (exit 2), or makes its own.
 */
export async function initLedger(ctx: Ctx, input: InitInput): Promise<InitResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await initOnce(ctx, input);
    } catch (e) {
      if (!isPostgresUrl(ctx.dbPath) || !isDdlRace(e) || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** A PostgreSQL error of DDL run side by side (a deadlock, a catalog row updated meanwhile): worth another try. */
const isDdlRace = (e: unknown): boolean =>
  !(e instanceof PointsmallError) && /deadlock detected|tuple concurrently updated|40P01|40001/.test(`${(e as { code?: string }).code ?? ''} ${(e as Error).message ?? ''}`);

/** An init that builds the new ledger at a temporary path for replaceSqliteLedger: the ledger it replaces. */
interface Replacing {
  path: string;
  erased: LedgerContents;
  previous: string | null;
}

async function initOnce(ctx: Ctx, input: InitInput, replacing?: Replacing): Promise<InitResult> {
  const currency = (input.currency ?? 'CNY').toUpperCase();
  let digits: number;
  // a ledger's currency is fixed for good: a code ISO 4217 does not list (a typo, RMB for CNY) is refused
  const problem = /^[A-Z]{3,4}$/.test(currency) ? currencyCodeProblem(currency) : `${JSON.stringify(input.currency)} is not an ISO 4217 currency code`;
  try {
    if (problem) throw new RangeError(problem);
    digits = currencyDigits(currency);
  } catch {
    throw new UsageError(`--currency ${problem ?? `${JSON.stringify(input.currency)} is not an ISO 4217 currency code`}`, 'use a code like CNY, USD, EUR or JPY; the ledger keeps its currency for good');
  }
  const tz = startedTz();
  if (input.timezone === undefined && tz !== undefined && tz !== '' && !isValidZone(tz.replace(/^:/, ''))) {
    // TZ=JST-9 (a POSIX rule) or a name no zone has: the machine's zone is not known by an IANA name
    throw new UsageError(`this machine's TZ=${JSON.stringify(tz)} is not an IANA time zone, so the ledger's zone cannot be taken from it`, 'pass --timezone with an IANA name like Asia/Shanghai or UTC');
  }
  const given = input.timezone ?? machineZone();
  if (!isValidZone(given)) throw new UsageError(`--timezone ${JSON.stringify(given)} is not an IANA time zone`, 'use a name like Asia/Shanghai or UTC');
  // stored as spelled, but in its own case (asia/shanghai → Asia/Shanghai): an IANA name is compared exactly
  const canonical = canonicalZone(given);
  const timezone = canonical.toLowerCase() === given.toLowerCase() ? canonical : given;
  const target = await inspectInitTarget(ctx);
  if (target.kind === 'ledger') {
    if (!input.force) {
      throw new UsageError(
        isPostgresUrl(ctx.dbPath) ? `a ledger already exists in ${target.path}` : `a ledger already exists at ${target.path}`,
        'pointsmall init never overwrites a ledger; pass --force (and --yes where nobody can be asked) to erase it and start again',
      );
    }
    // SQLite: built beside it, then its pages copied in (replaceSqliteLedger); PostgreSQL: erased and rebuilt
    // on one connection that holds the ledger alone throughout (replaceLedgerIn)
    if (!isPostgresUrl(ctx.dbPath)) {
      return replaceSqliteLedger(ctx, 'init', input.confirmed ?? null, (tmp, erased, kept) =>
        initOnce({ ...ctx, dbPath: tmp }, { ...input, force: false }, { path: ctx.dbPath, erased, previous: kept }),
      );
    }
  }
  if (!isPostgresUrl(ctx.dbPath) && !existsSync(dirname(resolve(ctx.dbPath)))) throw new UsageError(`folder ${dirname(resolve(ctx.dbPath))} does not exist`, 'create it first');
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(ctx.dbPath, { create: true });
  } catch (e) {
    // PostgreSQL: another init's setup at the same time (CREATE … OR REPLACE of the same functions) can fail ours
    if (isPostgresUrl(ctx.dbPath) && !(e instanceof UsageError) && ledgerExistsAt(ctx.dbPath)) {
      throw initRaceError(`in ${target.path}`);
    }
    throw e;
  }
  try {
    // an empty file that was there already (touched, or made by another tool) keeps its mode otherwise: a ledger is private
    let erased = replacing?.erased ?? target.contents;
    if (!store.pg) chmodSync(ctx.dbPath, PRIVATE_MODE);
    else if (target.kind === 'ledger') {
      // what is erased is counted once the ledger is held alone: an import that went on while init waited for
      // it is erased too, and counted (trial 40: it reported the 17,500 entries it saw before waiting)
      replaceLedgerIn(store, ctx.dbPath, () => {
        erased = contentsOf(store);
        refuseIfMoved(target.path, erased, input.confirmed ?? null);
      });
    }
    // PostgreSQL: DDL of another process at the same time (another init, or one that opens the database to
    // see what is there) can deadlock with a migration, and the server rolls one of them back. Each migration
    // reads the version again in its transaction, so the rest is simply tried again; a finished ledger of
    // another init is refused below (created_at), before anything of this one is written.
    for (let attempt = 1; ; attempt++) {
      try {
        migrate(store);
        break;
      } catch (e) {
        if (!store.pg || !isDdlRace(e) || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    useLedgerClock(store, ctx);
    const l = ledgerFromStore(store, ctx);
    const rulesVersion = store.write(() => {
      const s = store.get(settings);
      // another `init` of the same new ledger, at the same time, got here first: its ledger stands
      if (s.get('created_at') !== undefined) {
        throw initRaceError(isPostgresUrl(ctx.dbPath) ? `in ${target.path}` : `at ${target.path}`);
      }
      s.set('currency', currency);
      s.set('digits', String(digits));
      s.set('timezone', timezone);
      s.set('created_at', l.nowIso);
      // (a process that wrote to the ledger this one replaces writes no more: Store.sameGeneration)
      s.set(GENERATION, newGeneration());
      s.set('hold_minutes', '15');
      const rules = JSON.stringify(rulesToDocument(defaultRules(), digits));
      const id = store.get(rulesVersions).insert(BEGINNING_OF_TIME, l.nowIso, ctx.operator, 'init', rules);
      // (the schema it was made at: ledger verify holds every order of a ledger made at 16 or later to the rules of
      // migration 16; the first rules' hash: verify proves they are still what init stored)
      store.get(audit).record(l.nowIso, ctx.operator, 'ledger.init', shownPath(replacing?.path ?? input.recordAs ?? ctx.dbPath), {
        currency,
        timezone,
        schema: schemaVersion(store),
        rulesVersion: id,
        rulesSha256: rulesDocumentHash(rules),
        ...(erased ? { erased, previous: replacing?.previous ?? null } : {}),
      });
      return id;
    });
    return { path: shownPath(replacing?.path ?? input.recordAs ?? ctx.dbPath), currency, digits, timezone, schemaVersion: schemaVersion(store), rulesVersion, erased, previous: replacing?.previous ?? null };
  } finally {
    store.close();
  }
}

export interface DbInfo {
  path: string;
  /** sqlite or postgres */
  backend: string;
  schemaVersion: number;
  toolSchemaVersion: number;
  currency: string;
  timezone: string;
  createdAt: string | null;
  holdMinutes: number;
  /** Minutes a started payment fences its order (db set payment-minutes). */
  paymentMinutes: number;
  sizes: { database: number; wal: number; pageSize: number };
  counts: Record<string, number>;
}

export async function dbInfo(ctx: Ctx): Promise<DbInfo> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { counts, pageSize, bytes } = ledgerStats(l.store);
      const size = (f: string) => (l.store.pg ? 0 : existsSync(f) ? statSync(f).size : 0);
      return {
        path: shownPath(l.path),
        backend: l.store.backend,
        schemaVersion: schemaVersion(l.store),
        toolSchemaVersion: latestVersion(),
        currency: l.currency,
        timezone: l.zone,
        createdAt: l.store.get(settings).get('created_at') ?? null,
        holdMinutes: Number(l.store.get(settings).get('hold_minutes') ?? 15),
        paymentMinutes: Number(l.store.get(settings).get('payment_minutes') ?? 10),
        sizes: { database: bytes ?? size(l.path), wal: size(`${l.path}-wal`), pageSize },
        counts,
      };
    }),
  );
}

export interface BackupResult {
  path: string;
  backup: string;
  bytes: number;
  entries: number;
}

/** An online, consistent copy (VACUUM INTO reads one snapshot; writers carry on), mode 0600. */
export async function dbBackup(ctx: Ctx, target: string, force = false): Promise<BackupResult> {
  // Never the ledger or its -wal/-shm (by device and inode, through any link), never a device or FIFO.
  const out = checkOutput(target, { ledger: ctx.dbPath, flag: 'backup', database: true, mustNotExist: force ? undefined : { hint: 'choose a new file name, or pass --force to replace it' } });
  if (isPostgresUrl(ctx.dbPath)) {
    // A PostgreSQL ledger is backed up into a SQLite ledger file: portable, and verifiable offline.
    const f = new AtomicFile(out);
    try {
      f.closeTemp();
      const { entries } = copyLedgerTo(ctx.dbPath, f.tmp);
      const abs = f.commit();
      return { path: shownPath(ctx.dbPath), backup: abs, bytes: statSync(abs).size, entries };
    } catch (e) {
      f.abort();
      throw e;
    }
  }
  // An older schema too: backing it up is what the advice to migrate asks first (a copy is all it takes).
  const store = openStore(ctx.dbPath, { requireLatest: false });
  try {
    // VACUUM INTO writes into the empty private temp file made for it (exclusively: never a planted symlink)
    const f = new AtomicFile(out);
    try {
      f.closeTemp();
      const { entries } = vacuumInto(store, f.tmp);
      const abs = f.commit();
      return { path: ctx.dbPath, backup: abs, bytes: statSync(abs).size, entries };
    } catch (e) {
      f.abort();
      throw e;
    }
  } finally {
    store.close();
  }
}

export interface MigrateResult {
  path: string;
  from: number;
  to: number;
  applied: string[];
  backup: string | null;
}

/** Upgrades the schema; a copy of the ledger is kept beside it first when anything is applied. */
export async function dbMigrate(ctx: Ctx): Promise<MigrateResult> {
  const store = openStore(ctx.dbPath, { requireLatest: false });
  try {
    const from = schemaVersion(store);
    // an init that was stopped: init finishes it (its settings with it), not a migration
    if (!initFinished(store)) throw initUnfinished(shownPath(ctx.dbPath), from);
    let backup: string | null = null;
    if (from < latestVersion() && !store.pg) {
      // (PostgreSQL applies a migration's DDL in one transaction: a failed one leaves nothing half done)
      backup = `${ctx.dbPath}.v${from}.bak`;
      rmSync(backup, { force: true });
      closeSync(createExclusive(backup)); // new and private before VACUUM INTO fills it
      vacuumInto(store, backup);
    }
    const r = migrate(store);
    if (r.applied.length) {
      const l = ledgerFromStore(store, ctx);
      // Migration 16: the orders before it may keep an older spread of their points (ledger verify); those after may not
      store.write(() => store.get(audit).record(l.nowIso, ctx.operator, 'db.migrate', ctx.dbPath, r.applied.includes(SPREAD_MIGRATION) ? { ...r, ordersBefore: store.get(orders).lastSeq() } : r));
    }
    return { path: shownPath(ctx.dbPath), from: r.from, to: r.to, applied: r.applied, backup };
  } finally {
    store.close();
  }
}

/** A ledger's location as shown: a file path as given, a PostgreSQL URL without its password. */
export function shownPath(db: string): string {
  return isPostgresUrl(db) ? redactUrl(db) : db;
}

/**
 * Copies the ledger at `source` (either backend) into a new ledger at `target`: a SQLite file that is
 * empty or absent, or a PostgreSQL database with no ledger in it. Returns the copy's entry count and head.
 */
export function copyLedgerTo(source: string, target: string): { entries: number; headHash: string; tables: Record<string, number> } {
  const from = openStore(source);
  try {
    if (!isPostgresUrl(target) && existsSync(target) && statSync(target).size > 0) {
      throw new UsageError(`${target} exists and is not empty`, 'db copy never overwrites: choose a new file');
    }
    if (isPostgresUrl(target) && ledgerExistsAt(target)) {
      // a db copy (or init) stopped before it finished left the tables with nothing in them: made again
      if (holdsNothing(target)) {
        copyBarrier('erase');
        eraseLedger(target, { onlyUnfinished: true }); // (checked again under the writer lock)
      } else throw new UsageError(`a ledger already exists in ${redactUrl(target)}`, 'db copy never overwrites a ledger: give an empty database');
    }
    const to = openStore(target, { create: true });
    try {
      migrate(to);
      copyBarrier('migrated');
      const fromVersion = schemaVersion(from);
      if (schemaVersion(to) !== fromVersion) throw new UsageError(`the source has schema v${fromVersion}, the copy v${schemaVersion(to)}`, `upgrade the source first: pointsmall db migrate --db ${shownPath(source)}`);
      let tables: Record<string, number>;
      try {
        ({ tables } = copyLedgerRows(from, to));
      } catch (e) {
        // its tables dropped under it: another db copy into the same database took it over
        if (isPostgresUrl(target) && /does not exist/i.test(String((e as Error).message))) {
          throw new UsageError(`${redactUrl(target)} was changed by another process while this copy was written (another db copy or init into it): nothing of this copy is in it`, 'run the db copy again once the other has finished, or into a database of its own');
        }
        throw e;
      }
      refreshStatistics(to); // (PostgreSQL: a copied ledger is planned for its size from its first command)
      const head = to.get(journal).head();
      return { entries: tables.entries ?? 0, headHash: head.hash, tables };
    } finally {
      to.close();
    }
  } finally {
    from.close();
  }
}

/**
 * Test hook: POINTSMALL_COPY_BARRIER=DIR makes db copy write DIR/STAGE and wait for DIR/go at one point,
 * POINTSMALL_COPY_BARRIER_AT (default `migrated`: the target has its tables, no row yet; `erase`: it has
 * found the target's tables empty and is about to make them again), so a test can kill it or race it there.
 */
function copyBarrier(stage: 'migrated' | 'erase'): void {
  const barrier = process.env.POINTSMALL_COPY_BARRIER;
  if (!barrier || (process.env.POINTSMALL_COPY_BARRIER_AT ?? 'migrated') !== stage) return;
  writeFileSync(join(barrier, stage), '');
  while (!existsSync(join(barrier, 'go'))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
}

/** Whether the ledger at url is one whose init (or db copy) stopped before it finished: tables, nothing in them. */
function holdsNothing(url: string): boolean {
  const store = openStore(url, { requireLatest: false });
  try {
    return !initFinished(store);
  } finally {
    store.close();
  }
}

export interface CopyResult {
  from: string;
  to: string;
  entries: number;
  headHash: string;
  verified: boolean;
  tables: Record<string, number>;
}

/** `db copy --to TARGET`: the whole ledger into another backend (or file), then ledger verify on the copy. */
export async function dbCopy(ctx: Ctx, target: string): Promise<CopyResult> {
  if (!isPostgresUrl(target)) {
    checkOutput(target, { ledger: ctx.dbPath, flag: '--to', database: true, mustNotExist: { hint: 'db copy never overwrites: choose a new file name' } });
    if (!existsSync(dirname(resolve(target)))) throw new UsageError(`folder ${dirname(resolve(target))} does not exist`, 'create it first');
  } else if (target === ctx.dbPath) throw new UsageError('--to names the ledger itself', 'give another database');
  // A file is written beside the target under a temp name and linked into place once it verifies: a copy
  // killed part way leaves no file at the target's name, and the same db copy runs again.
  let work = target;
  let created = false;
  try {
    if (!isPostgresUrl(target)) {
      const tmp = createTemp(resolve(target));
      closeSync(tmp.fd);
      work = tmp.path;
      created = true;
    }
    const r = copyLedgerTo(ctx.dbPath, work);
    const { verifyLedger } = await import('./verify.js');
    const v = await verifyLedger({ ...ctx, dbPath: work });
    if (!v.ok || (v.head?.hash ?? null) !== (r.entries ? r.headHash : null)) {
      const bad = v.checks.find((c) => !c.ok);
      throw new RefusedError('COPY_FAILS_VERIFY', `the copy at ${shownPath(target)} fails ledger verify (${bad?.name ?? 'head hash'}: ${bad?.detail ?? 'differs'})`, 'this is a bug; the source is unchanged');
    }
    if (created) {
      // every connection closed: SQLite checkpointed the copy's -wal into it and removed it (a -wal is named
      // after its file, so one left would not follow the copy to its name)
      if (existsSync(`${work}-wal`) && statSync(`${work}-wal`).size > 0) throw new Error(`the copy's write-ahead log ${work}-wal was not checkpointed`);
      try {
        linkSync(work, target); // (never over a file that appeared meanwhile)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new UsageError(`${target} appeared while the copy was written`, 'db copy never overwrites: choose a new file name');
        // a file system without hard links: renamed, once more checked to be free
        if ((code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') && !existsSync(target)) renameSync(work, target);
        else throw e;
      }
    }
    return { from: shownPath(ctx.dbPath), to: shownPath(target), entries: r.entries, headHash: r.headHash, verified: true, tables: r.tables };
  } finally {
    if (created) for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
  }
}

function refuseRestoreOnPg(db: string): void {
  if (isPostgresUrl(db)) {
    throw new UsageError(
      `db restore replaces a SQLite ledger file; ${redactUrl(db)} is a PostgreSQL database`,
      'copy the backup into a new, empty database instead: pointsmall db copy --db BACKUP.db --to postgres://…/NEW_DATABASE',
    );
  }
}

export interface RestoreResult {
  path: string;
  restoredFrom: string;
  entries: number;
  previous: string | null;
  /** What the replaced ledger had that the backup lacks (kept only in `previous`): entries, and rows by kind. Null when it was no ledger. */
  entriesLost: number | null;
  lost: RowsLost | null;
}

/** Replaces the ledger with a backup, but only one that passes ledger verify; the old file is kept aside. */
export interface RestorePreview {
  path: string;
  restoreFrom: string;
  liveEntries: number;
  backupEntries: number;
  /** Entries of the live ledger the backup lacks: lost by the restore (kept only in the file set aside). */
  entriesLost: number;
  /** Business time and write time of the newest of them (UTC ISO), and the write time in the ledger's zone. */
  newestLostAt: string | null;
  newestLostRecordedAt: string | null;
  newestLostLocal: string | null;
  /** Rows other than entries the backup lacks, by kind (members, rules versions, import runs, review items…). */
  lost: RowsLost;
}

/** What a restore would throw away: the live ledger's entries the backup lacks. Nothing written. */
const BACKUP_HINT = 'give db restore the path of a file made by pointsmall db backup';

/** The restore argument: a file that exists, is not the live ledger and is an SQLite database (exit 2 otherwise, naming it). */
export function checkBackupArgument(ctx: Ctx, source: string): void {
  refuseRestoreOnPg(ctx.dbPath);
  if (!existsSync(source)) throw new UsageError(`no backup at ${source}`, BACKUP_HINT);
  if (sameFile(source, ctx.dbPath)) throw new UsageError(`${source} is the live ledger itself, not a backup`, BACKUP_HINT);
  const st = statSync(source);
  const sqlite = st.isFile() && sqliteHead(source) === 'database';
  if (!sqlite) throw new UsageError(`${source} is not a pointsmall ledger (${st.isDirectory() ? 'a folder' : !st.isFile() ? 'not a regular file: a pipe, a socket or a device' : st.size === 0 ? 'an empty file' : 'not an SQLite database'}); nothing was changed`, BACKUP_HINT, 'NOT_A_LEDGER');
}

/**
 * The backup as restore reads it: a private copy beside the live ledger (mode 0600, removed by done()),
 * with the backup's own -wal when one lies beside it (a copied live file). The backup itself is never
 * opened by SQLite, which would switch a rollback-journal file to WAL (rewriting its header), leave
 * -wal and -shm files beside it, or checkpoint and remove a -wal that was there.
 */
function backupReader(ctx: Ctx, source: string): { path: string; done(): void } {
  const tmp = createTemp(resolve(ctx.dbPath));
  const done = () => ['', '-wal', '-shm', '-journal'].forEach((x) => rmSync(tmp.path + x, { force: true }));
  try {
    copyInto(source, tmp.fd);
    closeSync(tmp.fd);
    if (existsSync(`${source}-wal`)) {
      const w = createExclusive(`${tmp.path}-wal`);
      try {
        copyInto(`${source}-wal`, w);
      } finally {
        closeSync(w);
      }
    }
  } catch (e) {
    try {
      closeSync(tmp.fd);
    } catch {
      // closed already
    }
    done();
    throw e;
  }
  return { path: tmp.path, done };
}

/** An error about the copy backupReader made, told of the restore argument instead. */
function aboutArgument(e: unknown, read: string, source: string): unknown {
  if (e instanceof UsageError && e.code === 'NOT_A_LEDGER') return new UsageError(`${source} is not a pointsmall ledger (${e.message.replace(/^.* is not a pointsmall ledger \((.*)\)$/, '$1')}); nothing was changed`, BACKUP_HINT, 'NOT_A_LEDGER');
  if (e instanceof UsageError && read !== source) return new UsageError(e.message.split(read).join(source), e.hint?.split(read).join(source), e.code);
  return e;
}

export async function previewRestore(ctx: Ctx, source: string): Promise<RestorePreview | null> {
  checkBackupArgument(ctx, source);
  if (!existsSync(ctx.dbPath)) return null;
  const { entriesMissingFrom } = await import('../store/entries.js');
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(ctx.dbPath, { requireLatest: false });
  } catch (e) {
    if (e instanceof UsageError) return null; // not a ledger: nothing of it can be compared
    throw e;
  }
  try {
    const zone = store.get(settings).get('timezone') ?? 'UTC';
    const reader = backupReader(ctx, source);
    let d: ReturnType<typeof entriesMissingFrom>;
    try {
      d = entriesMissingFrom(store, reader.path);
    } catch (e) {
      if (e instanceof Error && /no such table|not a database/.test(e.message)) throw new UsageError(`${source} is not a pointsmall ledger (no pointsmall schema in it); nothing was changed`, BACKUP_HINT, 'NOT_A_LEDGER');
      throw e;
    } finally {
      reader.done();
    }
    return {
      path: ctx.dbPath,
      restoreFrom: resolve(source),
      liveEntries: d.liveEntries,
      backupEntries: d.otherEntries,
      entriesLost: d.missing,
      newestLostAt: d.newestAt,
      newestLostRecordedAt: d.newestRecordedAt,
      newestLostLocal: d.newestRecordedAt ? `${localDateTime(d.newestRecordedAt, zone)} ${zone}` : null,
      lost: d.rows,
    };
  } finally {
    store.close();
  }
}

export async function dbRestore(ctx: Ctx, source: string): Promise<RestoreResult> {
  checkBackupArgument(ctx, source);
  const reader = backupReader(ctx, source);
  try {
    return await restoreFrom(ctx, source, reader.path);
  } catch (e) {
    throw aboutArgument(e, reader.path, source);
  } finally {
    reader.done();
  }
}

/** db restore of the backup `source`, read at `read` (the file itself, or backupReader's private copy). */
async function restoreFrom(ctx: Ctx, source: string, read: string): Promise<RestoreResult> {
  const { verifyLedger } = await import('./verify.js');
  let check: Awaited<ReturnType<typeof verifyLedger>>;
  try {
    check = await verifyLedger({ ...ctx, dbPath: read });
  } catch (e) {
    // (read is the private copy of the backup: the backup is what is damaged, never the live ledger)
    if (e instanceof LedgerCorruptError) throw new RefusedError('BACKUP_DAMAGED', `${source} is damaged: ${e.message.slice(e.message.indexOf(': ') + 2)}`, 'choose another backup; nothing was changed');
    throw e;
  }
  if (!check.ok) {
    const bad = check.checks.find((c) => !c.ok);
    throw new RefusedError('BACKUP_FAILS_VERIFY', `${source} fails ledger verify (${bad?.name}: ${bad?.detail})`, 'choose another backup; nothing was changed');
  }
  let previous: string | null = null;
  let live = false;
  let dropped: { entries: number; rows: RowsLost } | null = null;
  if (existsSync(ctx.dbPath)) {
    // Keep a consistent copy of the ledger being replaced (VACUUM INTO cannot run inside a transaction).
    previous = reserveAside(ctx, 'restore');
    let store: ReturnType<typeof openStore> | undefined;
    try {
      store = openStore(ctx.dbPath, { requireLatest: false });
    } catch (e) {
      if (!(e instanceof UsageError)) {
        rmSync(previous, { force: true });
        throw e;
      }
      // The file is damaged or not a ledger at all, which is when a restore is most needed: keep it aside as it is.
      renameSync(ctx.dbPath, previous);
      chmodSync(previous, PRIVATE_MODE);
      for (const f of [`${ctx.dbPath}-wal`, `${ctx.dbPath}-shm`]) if (existsSync(f)) rmSync(f);
    }
    if (store) {
      try {
        // From the mark on, other writers wait (then exit 5, nothing written) until the backup's pages are in:
        // what they committed before it is in the copy kept aside, and nothing commits in between.
        markRestoring(store);
        // what the restore drops, counted under the mark: nothing is written between this and the copy
        const { entriesMissingFrom } = await import('../store/entries.js');
        const d = entriesMissingFrom(store, read);
        dropped = { entries: d.missing, rows: d.rows };
        vacuumInto(store, previous);
      } catch (e) {
        rmSync(previous, { force: true });
        clearMarkQuietly(ctx.dbPath);
        throw e;
      } finally {
        store.close();
      }
      live = true;
    }
  }
  if (live) {
    // Pages are copied into the live file, never a file swapped under a process that has it open
    // (a long import), whose later commits would land in the replaced file and be lost.
    try {
      await copyLedgerInto(read, ctx.dbPath, defaultBusyTimeoutMs());
    } catch (e) {
      clearMarkQuietly(ctx.dbPath);
      throw e;
    }
    // a new generation: a process that wrote before the restore writes no more (the backup may be the same
    // ledger's, with the same generation, and lack what that process wrote)
    const after = openStore(ctx.dbPath, { requireLatest: false });
    try {
      after.write(() => after.get(settings).set(GENERATION, newGeneration()));
    } finally {
      after.close();
    }
  } else {
    const tmp = createTemp(resolve(ctx.dbPath));
    try {
      copyInto(read, tmp.fd);
      fsyncSync(tmp.fd);
      closeSync(tmp.fd);
      renameSync(tmp.path, ctx.dbPath);
    } catch (e) {
      try {
        closeSync(tmp.fd);
      } catch {
        // closed already
      }
      rmSync(tmp.path, { force: true });
      throw e;
    }
  }
  const store = openStore(ctx.dbPath, { requireLatest: false });
  try {
    const l = ledgerFromStore(store, ctx);
    store.write(() => store.get(audit).record(l.nowIso, ctx.operator, 'db.restore', source, { previous }));
  } finally {
    store.close();
  }
  return { path: ctx.dbPath, restoredFrom: resolve(source), entries: check.entries, previous, entriesLost: dropped?.entries ?? null, lost: dropped?.rows ?? null };
}

/** After a restore that failed: the ledger is as it was, and writable again. */
function clearMarkQuietly(path: string): void {
  try {
    const store = openStore(path, { requireLatest: false });
    try {
      clearRestoring(store);
    } finally {
      store.close();
    }
  } catch {
    // the mark of a process that ended is stale for every writer anyway
  }
}

/** Copies the file at `source` into the open file `fd`, a megabyte at a time. */
function copyInto(source: string, fd: number): void {
  const src = openSync(source, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let off = 0; off < n; ) off += writeSync(fd, buf, off, n - off);
    }
  } finally {
    closeSync(src);
  }
}

export { withLedger };

/** Settings an operator may change after init (currency and time zone are fixed for the ledger's life). */
const TUNABLES: Record<string, { key: string; default: string; parse: (v: string) => string | null; help: string }> = {
  'hold-minutes': {
    key: 'hold_minutes',
    default: '15',
    parse: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1440 ? String(Number(v)) : null),
    help: 'minutes a checkout hold lasts before it is released (1..1440, default 15)',
  },
  'payment-minutes': {
    key: 'payment_minutes',
    default: '10',
    parse: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 120 ? String(Number(v)) : null),
    help: 'minutes a started payment fences its order against a second payment, a cancel or the hold running out (1..120, default 10): set it above the longest a payment terminal takes to answer',
  },
};

export interface SettingResult {
  setting: string;
  value: string;
  /** The value stored before; null when none was, and the default (`default`) applied. */
  previous: string | null;
  default: string;
}

export async function setSetting(ctx: Ctx, name: string, value: string): Promise<SettingResult> {
  const t = TUNABLES[name];
  if (!t) throw new UsageError(`unknown setting ${JSON.stringify(name)}`, `settings: ${Object.entries(TUNABLES).map(([k, v]) => `${k} (${v.help})`).join('; ')}`);
  const parsed = t.parse(value.trim());
  if (parsed === null) throw new UsageError(`${name} ${JSON.stringify(value)} is not valid`, t.help);
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const s = l.store.get(settings);
      const previous = s.get(t.key) ?? null;
      s.set(t.key, parsed);
      l.store.get(audit).record(l.nowIso, l.operator, 'db.set', name, { value: parsed, previous });
      // (no pairing of the two to check: a started payment's hold lasts hold-minutes past its fence, checkout.ts)
      return { setting: name, value: parsed, previous, default: t.default };
    }),
  );
}
