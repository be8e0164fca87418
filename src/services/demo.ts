// The demo: a fresh ledger from fixtures/, then the main job end to end — import, a split checkout,
// a refund, an expiry run, the reports and a verify. Each step is the same service a command calls.
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { ledgerExistsAt, openStore } from '../store/db.js';
import { isPostgresUrl, redactUrl } from '../store/pg/database.js';
import { settings } from '../store/settings.js';
import type { Ctx } from './ledger.js';
import type { InitTarget } from './admin.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** The demo's own clock, so its story (old purchases that expire, recent ones that do not) always holds. */
export const DEMO_NOW = '2026-11-20T10:00:00+08:00';

export interface DemoStep {
  title: string;
  command: string;
  result: unknown;
}

export interface DemoResult {
  db: string;
  now: string;
  steps: DemoStep[];
  verified: boolean;
  /** Where a real ledger that --force replaced is kept (null when there was none). */
  previous: string | null;
}

/** A file at path, or a ledger in the PostgreSQL database at path. */
function ledgerMayBeAt(path: string): boolean {
  return isPostgresUrl(path) ? ledgerExistsAt(path) : existsSync(path);
}

function isDemoLedger(path: string): boolean {
  try {
    const store = openStore(path, { requireLatest: false });
    try {
      return store.get(settings).get('demo') === '1';
    } finally {
      store.close();
    }
  } catch {
    return false;
  }
}

/**
 * What demo --force would replace that the demo did not make: a real ledger (its contents, to confirm), or
 * nothing to ask about (no file, an empty one, the demo's own ledger). A file that is not a ledger is refused
 * (exit 2), as init refuses it. Nothing written.
 */
export async function foreignLedgerAt(ctx: Ctx): Promise<InitTarget | null> {
  if (!ledgerMayBeAt(ctx.dbPath) || isDemoLedger(ctx.dbPath)) return null;
  const { inspectInitTarget } = await import('./admin.js');
  const t = await inspectInitTarget(ctx);
  return t.kind === 'ledger' ? t : null;
}

export async function runDemo(ctx: Ctx, opts: { force?: boolean } = {}): Promise<DemoResult> {
  let previous: string | null = null;
  // On PostgreSQL a ledger there (the demo's own, or a real one with --force) is erased by init --force:
  // pointsmall's tables only, nothing kept
  let replace = false;
  if (ledgerMayBeAt(ctx.dbPath)) {
    if (!isDemoLedger(ctx.dbPath)) {
      if (!opts.force) throw new UsageError(`${isPostgresUrl(ctx.dbPath) ? `the ledger in ${redactUrl(ctx.dbPath)}` : ctx.dbPath} exists and was not made by pointsmall demo`, 'the demo never overwrites a real ledger: give it another --db path (or --force)');
      // a real ledger is kept aside as init --force keeps it; anything else is never erased
      if ((await foreignLedgerAt(ctx)) && !isPostgresUrl(ctx.dbPath)) previous = (await import('./admin.js')).keepLedgerAside(ctx, 'demo');
    }
    if (isPostgresUrl(ctx.dbPath)) replace = true;
    else for (const f of [ctx.dbPath, `${ctx.dbPath}-wal`, `${ctx.dbPath}-shm`]) if (existsSync(f)) rmSync(f);
  }
  const steps: DemoStep[] = [];
  const step = async <T>(title: string, command: string, run: () => Promise<T>): Promise<T> => {
    const result = await run();
    steps.push({ title, command, result });
    return result;
  };
  const admin = await import('./admin.js');
  const rules = await import('./rules.js');
  const catalog = await import('./catalog.js');
  const members = await import('./members.js');
  const imports = await import('./importPurchases.js');
  const checkout = await import('./checkout.js');
  const orders = await import('./orders.js');
  const expiry = await import('./expiry.js');
  const reports = await import('./reports.js');
  const { verifyLedger } = await import('./verify.js');

  await step('Create the ledger', 'pointsmall init --currency CNY --timezone Asia/Shanghai', async () => {
    const r = await admin.initLedger(ctx, { currency: 'CNY', timezone: 'Asia/Shanghai', force: replace });
    const store = openStore(ctx.dbPath);
    try {
      store.write(() => store.get(settings).set('demo', '1'));
    } finally {
      store.close();
    }
    return r;
  });
  await step('Apply the earning rules (tiers, a tea multiplier, November electronics ×2)', 'pointsmall rules apply fixtures/rules.json --effective 2024-01-01', () =>
    rules.applyRules(ctx, fixture('rules.json'), '2024-01-01'),
  );
  await step('Load the catalog', 'pointsmall catalog import fixtures/catalog.csv', () => catalog.importCatalog(ctx, fixture('catalog.csv')));
  await step('Load the members', 'pointsmall member import fixtures/members.csv', () => members.importMembers(ctx, fixture('members.csv')));
  await step('Import a till export (line-level, with a return and a guest)', 'pointsmall import purchases fixtures/demo-purchases.csv --skip-guests', () =>
    imports.importPurchases(ctx, { file: fixture('demo-purchases.csv'), skipGuests: true }),
  );
  await step('Import the same file again: nothing is accrued twice', 'pointsmall import purchases fixtures/demo-purchases.csv --skip-guests', () =>
    imports.importPurchases(ctx, { file: fixture('demo-purchases.csv'), skipGuests: true }),
  );
  await step("Look at a member's points and lots", 'pointsmall member show M001', () => members.showMember(ctx, 'M001'));
  const m001 = await members.showMember(ctx, 'M001');
  const topUp = 5000 - m001.available;
  await step('A welcome campaign tops M001 up to 5000 points (a manual credit, with its reason)', `pointsmall member adjust M001 --points ${topUp} --reason "welcome campaign"`, () =>
    members.adjustMember(ctx, 'M001', topUp, 'welcome campaign'),
  );
  const items = [
    { sku: 'TEA-001', quantity: 1 },
    { sku: 'HOME-001', quantity: 2 },
  ];
  await step('Quote a split payment: 5000 points (worth 50.00 at 100 per yuan), the rest in cash', 'pointsmall checkout quote --member M001 --item TEA-001 --item HOME-001:2 --points 5000', () =>
    checkout.quoteCheckout(ctx, { memberId: 'M001', items, request: { kind: 'points', points: 5000 } }),
  );
  const paid = await step('Check out: hold the points, pay the cash part by Alipay, capture', 'pointsmall checkout --member M001 --item TEA-001 --item HOME-001:2 --points 5000 --tender alipay --yes', () =>
    checkout.checkout(ctx, { memberId: 'M001', items, request: { kind: 'points', points: 5000 }, tender: 'alipay', idempotencyKey: 'demo-1' }),
  );
  await step('Refund one of the two cups', `pointsmall order refund ${paid.orderId} --line HOME-001:1 --reason "damaged in transit" --yes`, () =>
    orders.refundOrder(ctx, paid.orderId, [{ sku: 'HOME-001', quantity: 1 }], 'damaged in transit'),
  );
  await step('Expire points earned more than 365 days ago', 'pointsmall expire run', () => expiry.runExpiry(ctx, {}));
  await step('Summary of the points economy', 'pointsmall report summary', () => reports.summaryReport(ctx, {}));
  await step('Liability: what the outstanding points are worth', 'pointsmall report liability', () => reports.liabilityReport(ctx, {}));
  const verified = await step('Prove the books: hash chain, zero-sum entries, every cache', 'pointsmall ledger verify', () => verifyLedger(ctx));
  return { db: ctx.dbPath, now: ctx.now.toISOString(), steps, verified: verified.ok, previous };
}
