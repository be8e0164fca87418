// Opening a ledger for one command: settings, clock, operator, and the rules in force at an instant.
import { userInfo } from 'node:os';
import { NotFoundError, UsageError, mapDiskFull } from '../errors.js';
import { type Rules, validateRules } from '../domain/rules.js';
import { MIN_DATE, MIN_YEAR, dateRangeProblem, shownInstant } from '../domain/time.js';
import { type Store, initUnfinished, mapBusy, openStore, type OpenOptions, schemaVersion } from '../store/db.js';
import { isPostgresUrl, redactUrl } from '../store/pg/database.js';
import { settings } from '../store/settings.js';
import { rulesVersions } from '../store/rules.js';
import { holds } from '../store/holds.js';
import { members } from '../store/members.js';
import { catalog } from '../store/catalog.js';

/** What every command is given by the CLI: where the ledger is, who acts, and what time it is. */
export interface Ctx {
  dbPath: string;
  operator: string;
  now: Date;
  /**
   * Whether `now` is this machine's clock (no POINTSMALL_NOW): on PostgreSQL the server's clock replaces it
   * as the ledger opens (useLedgerClock). A given instant (a test's, a backfill's) is kept.
   */
  liveClock?: boolean;
  /** When the command began by the machine's clock, where `now` is a story's (the demo's): what names a copy kept aside. */
  wallClock?: Date;
  /** Where a person at a terminal is told something while the command works (stderr, wrapped); none on a pipe. */
  tell?: (text: string) => void;
}

export interface Ledger {
  store: Store;
  path: string;
  operator: string;
  now: Date;
  nowIso: string;
  currency: string;
  digits: number;
  zone: string;
  /** `now` is the clock's (no POINTSMALL_NOW): taken as the command opened the ledger, before it waited for the writer lock. */
  liveClock?: boolean;
}

/**
 * What to do about a write refused for being dated before something already in the ledger: with the
 * clock's own time, another command wrote after this one began (it waited for the ledger, and its time is
 * when it began: trial 43b), so running it again dates it now; with POINTSMALL_NOW, a backfill set too early.
 */
export function datedBeforeHint(l: Ledger, more = ''): string {
  return l.liveClock
    ? `the ledger holds a change dated after this command began: another command wrote it meanwhile (this one waited for the ledger, and is dated when it began): run it again${more}; if it is refused again, a change was dated ahead of this clock (another till's POINTSMALL_NOW or clock)`
    : `run it at the real time (POINTSMALL_NOW unset)${more}`;
}

export function resolveOperator(flag?: string): string {
  if (flag && flag.trim()) return flag.trim();
  const env = process.env.POINTSMALL_OPERATOR;
  if (env && env.trim()) return env.trim();
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** POINTSMALL_NOW replaces the clock for every command, so tests and backfills are deterministic. */
export function resolveNow(env = process.env.POINTSMALL_NOW): Date {
  if (!env) return new Date();
  const ms = /^\s*\d{4}-\d{2}-\d{2}/.test(env) || dateRangeProblem(env) ? Date.parse(env) : NaN; // ISO only: Date.parse guesses at other forms
  if (Number.isNaN(ms) && !dateRangeProblem(env)) throw new UsageError(`POINTSMALL_NOW=${JSON.stringify(env)} is not an ISO timestamp`, 'use a form like 2026-11-23T09:00:00+08:00');
  // Without Z or an offset the instant would be read in this machine's TZ: two machines, two instants.
  if (!/[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)\s*$/i.test(env)) {
    throw new UsageError(`POINTSMALL_NOW=${JSON.stringify(env)} has no UTC offset, so it names another instant on every machine`, 'add Z or the offset, as in 2026-11-23T09:00:00+08:00');
  }
  const early = dateRangeProblem(env) ?? (ms < Date.UTC(MIN_YEAR, 0, 1) - 14 * 3_600_000 ? `${JSON.stringify(env)} is before ${MIN_DATE}, the earliest date pointsmall takes` : null);
  if (early) throw new UsageError(`POINTSMALL_NOW=${early}`, 'use a form like 2026-11-23T09:00:00+08:00');
  return new Date(ms);
}

/** The zone of the ledger this process opened last (openedZone). */
let lastZone: string | undefined;

/**
 * The zone of the ledger the command opened last, for showing its times (undefined before any): the
 * command's own ledger, with no second look-up (which, for a ledger other than --db's, such as the
 * demo's, would find another).
 */
export function openedZone(): string | undefined {
  return lastZone;
}

export function ledgerFromStore(store: Store, ctx: Ctx, finished = false): Ledger {
  const s = store.get(settings);
  const currency = s.get('currency');
  // (init writes the currency last, with the rest of its settings: a ledger without it was never finished)
  if (finished && currency === undefined) throw initUnfinished(isPostgresUrl(ctx.dbPath) ? redactUrl(ctx.dbPath) : ctx.dbPath, schemaVersion(store));
  lastZone = s.get('timezone') ?? 'UTC';
  return {
    store,
    path: ctx.dbPath,
    operator: ctx.operator,
    now: ctx.now,
    nowIso: ctx.now.toISOString(),
    currency: currency ?? 'CNY',
    digits: Number(s.get('digits') ?? 2),
    zone: s.get('timezone') ?? 'UTC',
    liveClock: ctx.liveClock === true,
  };
}

/**
 * Tills that share a PostgreSQL ledger share its server's clock: a till whose own clock runs fast must not
 * expire another till's hold, nor a slow one date a spend before the points it spends. The command's instant
 * (ctx.now) is read from the server once, as the ledger opens; POINTSMALL_NOW still sets it (tests, backfills).
 */
export function useLedgerClock(store: Store, ctx: Ctx): void {
  if (store.pg && ctx.liveClock) ctx.now = new Date(store.pg.serverTimeMs());
}

/** Opens the ledger, runs fn, and always closes it. */
export async function withLedger<T>(ctx: Ctx, fn: (l: Ledger) => T | Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const store = openStore(ctx.dbPath, opts);
  let failed = false;
  try {
    useLedgerClock(store, ctx);
    const l = ledgerFromStore(store, ctx, true);
    // Holds past their time are released by the next write, whatever the command (SPEC §3 Checkout).
    if (store.get(holds).expiredHolds(l.nowIso).length) {
      const { releaseExpiredHolds } = await import('./holds.js');
      store.beforeWrite = () => void releaseExpiredHolds(l);
    }
    return await fn(l);
  } catch (e) {
    // Locked past the busy timeout wherever it happened (a read, or a write's commit): exit 5, never
    // an internal error. The transaction in progress rolled back.
    // A full disk is a clear error too: the transaction in progress rolled back (an import, whose
    // earlier batches committed, says so itself before this).
    failed = true;
    throw mapDiskFull(mapBusy(e, ctx.dbPath, store.busyTimeoutMs), ctx.dbPath);
  } finally {
    try {
      store.close();
    } catch (e) {
      // a read cut short by the error in flight (a damaged page met mid-iteration) leaves its statement
      // open, and SQLite will not close under it: that error is the one to tell, the process ends anyway
      if (!failed) throw e;
    }
  }
}

const rulesCache = new WeakMap<Store, Map<number, Rules>>();

/** The rules version in force at the instant (§3 Rules): latest effective ≤ at, ties to the later applied. */
export function rulesAt(l: Ledger, atIso: string): { id: number; rules: Rules } {
  const row = l.store.get(rulesVersions).inForceAt(atIso);
  if (!row) {
    throw new UsageError(`no rules version is in force at ${shownInstant(atIso, l.zone)}`, 'apply one with: pointsmall rules apply FILE.json --effective DATE');
  }
  return { id: row.id, rules: parseStoredRules(l, row.id, row.document) };
}

/** A rules version by its id (the one an order recorded when its deal was made). */
export function rulesOfVersion(l: Ledger, id: number): Rules {
  const row = l.store.get(rulesVersions).get(id);
  if (!row) throw new UsageError(`rules version ${id} does not exist`, 'see the versions with: pointsmall rules history', 'STORED_RULES');
  return parseStoredRules(l, row.id, row.document);
}

export function parseStoredRules(l: Ledger, id: number, document: string): Rules {
  let byId = rulesCache.get(l.store);
  if (!byId) rulesCache.set(l.store, (byId = new Map()));
  let rules = byId.get(id);
  if (!rules) {
    let doc: unknown;
    try {
      doc = JSON.parse(document);
    } catch {
      doc = undefined;
    }
    // Read as stored (older builds wrote 1e-7 for 0.0000001; bounds added later are not applied again),
    // and a version that still cannot be read is a clear refusal naming it, never an internal error.
    const v = validateRules(doc, l.digits, { stored: true });
    if (!v.rules) {
      const why = doc === undefined ? 'is not JSON' : v.problems.map((p) => `${p.path} ${p.message}`).join('; ');
      throw new UsageError(
        `stored rules version ${id} cannot be read: ${why}`,
        'apply a corrected version in force from the same time: pointsmall rules apply FILE.json --effective DATE',
        'STORED_RULES',
      );
    }
    rules = v.rules;
    byId.set(id, rules);
  }
  return rules;
}

/** The ledger's IANA zone, for showing times; UTC when the ledger cannot be read. */
export async function ledgerZone(ctx: Ctx): Promise<string> {
  try {
    return await withLedger(ctx, (l) => l.zone);
  } catch {
    return 'UTC';
  }
}

/** The error for a SKU not in the catalog; its hint names the item meant when only the case differs (SKUs are exact), else `list`. */
export function itemNotFound(l: Ledger, sku: string, list: string): NotFoundError {
  const meant = l.store.get(catalog).sameButCase(sku);
  return new NotFoundError('item', sku, meant !== undefined ? `did you mean ${meant}? SKUs are exact` : list);
}

/** The error for a member id not in the ledger; its hint names the member meant when only the case differs (ids are exact). */
export function memberNotFound(l: Ledger, id: string): NotFoundError {
  const meant = l.store.get(members).sameButCase(id);
  return new NotFoundError('member', id, meant !== undefined ? `did you mean ${meant}? member ids are exact` : 'list members with: pointsmall member list');
}
