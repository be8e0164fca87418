// In-process access to a real temp ledger, for store and service tests (no mocks).
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { initLedger } from '../../src/services/admin.js';
import type { Ctx } from '../../src/services/ledger.js';
import { newLedgerLocation, tmpDir } from './cli.js';

export const FIXED_NOW = new Date('2026-11-23T02:00:00.000Z');

/** Creates a ledger file in a temp dir and returns a context for services. */
export async function tmpCtx(opts: { timezone?: string; currency?: string; now?: Date } = {}): Promise<Ctx> {
  const ctx: Ctx = { dbPath: newLedgerLocation(tmpDir()), operator: 'tester', now: opts.now ?? FIXED_NOW };
  await initLedger(ctx, { timezone: opts.timezone ?? 'Asia/Shanghai', currency: opts.currency ?? 'CNY' });
  return ctx;
}

/** The same context at another instant. */
export const at = (ctx: Ctx, iso: string): Ctx => ({ ...ctx, now: new Date(iso) });

/**
 * Another process, mid-import: freezes M1 and imports order O120 of source `default` with other
 * content (so the import must see a freeze and a conflict it did not start with).
 */
export function otherProcessFreezesM1AndImportsO120(dbPath: string): void {
  const other = new Database(dbPath, { timeout: 5000 });
  try {
    other.prepare("UPDATE members SET status = 'frozen', frozen_reason = 'fraud check' WHERE id = 'M1'").run();
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
  ins.run('1900-01-01T00:00:00.000Z', JSON.stringify({ expiry: { policy: 'never' } }));
  ins.run('1950-01-01T00:00:00.000Z', JSON.stringify({}));
}
