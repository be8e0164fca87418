// In-process access to a real temp ledger, for store and service tests (no mocks).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach } from 'vitest';
import { initLedger } from '../../src/services/admin.js';
import type { Ctx } from '../../src/services/ledger.js';
import { tmpDir } from './cli.js';

export const FIXED_NOW = new Date('2026-11-23T02:00:00.000Z');

/** Creates a ledger file in a temp dir and returns a context for services. */
export async function tmpCtx(opts: { timezone?: string; currency?: string; now?: Date } = {}): Promise<Ctx> {
  const ctx: Ctx = { dbPath: join(tmpDir(), 'ledger.db'), operator: 'tester', now: opts.now ?? FIXED_NOW };
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
