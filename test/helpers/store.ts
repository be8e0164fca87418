// In-process access to a real temp ledger, for store and service tests (no mocks).
import { join } from 'node:path';
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
