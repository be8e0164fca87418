// In-process access to a real temp ledger, for store and service tests (no mocks).
// On either backend (POINTSMALL_TEST_BACKEND): a ledger is a SQLite file or a PostgreSQL database of its own.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { initLedger } from '../../src/services/admin.js';
import type { Ctx } from '../../src/services/ledger.js';
import { rulesDocumentHash } from '../../src/domain/rules.js';
import { PG, cloneLedger, newLedgerLocation, openLedgerDb, tmpDir } from './cli.js';

export const FIXED_NOW = new Date('2026-11-23T02:00:00.000Z');

const templates = new Map<string, Promise<string>>();
/**
 * A ledger as initLedger makes it for these settings, in a temp dir (a file) or a new database of its own:
 * a copy of one made once per test process, so its migrations run once, not for every test.
 */
export async function initialisedLedger(operator: string, now: Date, settings: { timezone: string; currency: string }, dir = tmpDir()): Promise<string> {
  const key = JSON.stringify([operator, now.toISOString(), settings.timezone, settings.currency]);
  let t = templates.get(key);
  if (!t) {
    t = (async () => {
      const location = newLedgerLocation(tmpDir('pointsmall-template-'));
      await initLedger({ dbPath: location, operator, now }, settings);
      return location;
    })();
    templates.set(key, t);
  }
  return cloneLedger(await t, dir);
}

/** Creates a ledger in a temp dir (or database) and returns a context for services. */
export async function tmpCtx(opts: { timezone?: string; currency?: string; now?: Date } = {}): Promise<Ctx> {
  const now = opts.now ?? FIXED_NOW;
  const dbPath = await initialisedLedger('tester', now, { timezone: opts.timezone ?? 'Asia/Shanghai', currency: opts.currency ?? 'CNY' });
  return { dbPath, operator: 'tester', now };
}

/** The same context at another instant. */
export const at = (ctx: Ctx, iso: string): Ctx => ({ ...ctx, now: new Date(iso) });

/**
 * Another process, mid-import: freezes M1 and imports order O120 of source `default` with other
 * content (so the import must see a freeze and a conflict it did not start with).
 */
export function otherProcessFreezesM1AndImportsO120(dbPath: string): void {
  const other = openLedgerDb(dbPath, { timeout: 5000 });
  try {
    other.prepare("UPDATE members SET status = 'frozen', frozen_reason = 'fraud check' WHERE id = 'M1'").run();
    // with its audit record, as `member freeze` writes it (verify's members-match-audit)
    other.prepare("INSERT INTO audit (at, operator, action, subject, detail) VALUES ('2026-11-23T02:00:00.000Z', 'other', 'member.freeze', 'M1', '{\"reason\":\"fraud check\"}')").run();
    other
      .prepare(
        `INSERT INTO purchases (source, order_id, member_id, purchased_at, kind, amount, line_count, content_hash, status, points, capped, rules_version, entry_id, imported_at)
         VALUES ('default', 'O120', 'M1', '2026-11-01T00:00:00.000Z', 'purchase', 999, 1, 'other-content', 'review', 0, 0, NULL, NULL, '2026-11-23T02:00:00.000Z')`,
      )
      .run();
  } finally {
    other.close();
  }
}

/** Keeps an environment variable as it was around each test of the describe block it is called in. */
export function keepEnv(name: string): void {
  let saved: string | undefined;
  beforeEach(() => (saved = process.env[name]));
  afterEach(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}

/**
 * The instant a credit must be earned at for the ledger's rules to give it `expiresOn` (ledger verify
 * proves each lot's expiry against the rules in force when it was earned): for a date, noon in
 * Asia/Shanghai 365 days before (init's rolling 365 days); for never, 1920, when a `never` policy is in
 * force. Call `rulesForFabricatedLots` once in the ledger first (it adds those two rules versions).
 */
export function earnedAtFor(expiresOn: string | null): string {
  if (expiresOn === null) return '1920-06-01T04:00:00.000Z';
  const d = new Date(`${expiresOn}T04:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() - 365);
  return d.toISOString();
}

/** Rules versions under which earnedAtFor's instants give the wanted expiry: never from 1900, init's defaults from 1950. Inside a write. */
export function rulesForFabricatedLots(store: { db: Database.Database }): void {
  const ins = store.db.prepare("INSERT INTO rules_versions (effective_at, applied_at, operator, source, document) VALUES (?, '2026-01-01T00:00:00.000Z', 'tester', 'test', ?)");
  // each with the audit record rules apply writes (ledger verify proves a version against it)
  const audit = store.db.prepare("INSERT INTO audit (at, operator, action, subject, detail) VALUES ('2026-01-01T00:00:00.000Z', 'tester', 'rules.apply', ?, ?)");
  for (const [effectiveAt, document] of [
    ['1900-01-01T00:00:00.000Z', JSON.stringify({ expiry: { policy: 'never' } })],
    ['1950-01-01T00:00:00.000Z', JSON.stringify({})],
  ]) {
    const id = Number(ins.run(effectiveAt, document).lastInsertRowid);
    audit.run(String(id), JSON.stringify({ file: 'test', effectiveAt, sha256: rulesDocumentHash(document) }));
  }
}

/**
 * A trigger that makes a statement fail as a full disk would (`message`), for a test that needs a write
 * to fail half-way: SQLite's RAISE(ABORT) or a PL/pgSQL function on PostgreSQL (which has no temporary
 * triggers: `temp` there is an ordinary one, dropped with dropFailingTrigger).
 */
export function addFailingTrigger(db: Database.Database, t: { name: string; table: string; when?: string; message: string; temp?: boolean }): void {
  if (!PG) {
    db.exec(`CREATE ${t.temp ? 'TEMP ' : ''}TRIGGER ${t.name} BEFORE INSERT ON ${t.table}${t.when ? ` WHEN ${t.when}` : ''} BEGIN SELECT RAISE(ABORT, '${t.message}'); END`);
    return;
  }
  // as written (execDdl: the store's dialect rewriting would take $f$ for a parameter)
  (db as unknown as { execDdl(sql: string): void }).execDdl(
    `CREATE FUNCTION ${t.name}_fn() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION '${t.message}'; END $f$;
     CREATE TRIGGER ${t.name} BEFORE INSERT ON ${t.table} FOR EACH ROW${t.when ? ` WHEN (${t.when})` : ''} EXECUTE FUNCTION ${t.name}_fn();
     ALTER TABLE ${t.table} ENABLE ALWAYS TRIGGER ${t.name};`, // (fires under session_replication_role = replica too, which bulk writes set)
  );
}
export function dropFailingTrigger(db: Database.Database, t: { name: string; table: string; temp?: boolean }): void {
  if (!PG) db.exec(`DROP TRIGGER ${t.temp ? 'temp.' : ''}${t.name}`);
  else (db as unknown as { execDdl(sql: string): void }).execDdl(`DROP TRIGGER ${t.name} ON ${t.table}; DROP FUNCTION ${t.name}_fn();`);
}

/**
 * A fingerprint of everything a ledger holds, to prove a command wrote nothing: the file's bytes on
 * SQLite; on PostgreSQL every row of every table, and the count of write transactions committed.
 */
export function ledgerFingerprint(location: string): string {
  if (!PG) return createHash('sha256').update(readFileSync(location)).digest('hex');
  const db = openLedgerDb(location, { readonly: true });
  try {
    const h = createHash('sha256');
    const tables = db.prepare("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").pluck().all() as string[];
    for (const t of tables) {
      const rows = (db.prepare(`SELECT * FROM ${t}`).raw().all() as unknown[]).map((r) => JSON.stringify(r)).sort();
      h.update(`${t}\n${rows.join('\n')}\n`);
    }
    h.update(String(db.prepare("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pm_data_version").pluck().get()));
    return h.digest('hex');
  } finally {
    db.close();
  }
}
