// The demo: a fresh ledger from fixtures/, then the main job end to end — import, a split checkout,
// a refund, an expiry run, the reports and a verify. Each step is the same service a command calls.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { ledgerExistsAt, ledgerStats, openStore } from '../store/db.js';
import { journal } from '../store/journal.js';
import { isPostgresUrl, redactUrl } from '../store/pg/database.js';

/** A ledger location as it may be shown (a PostgreSQL URL without its password). */
export { redactUrl };
import { settings } from '../store/settings.js';
import type { Ctx } from './ledger.js';
import type { InitTarget, LedgerContents } from './admin.js';

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
  /** Where a ledger that --force replaced is kept (null when there was none, and on PostgreSQL). */
  previous: string | null;
  /** What --force erased (null when it replaced nothing but the demo's own untouched ledger). */
  erased: LedgerContents | null;
}

function shown(ctx: Ctx): string {
  return isPostgresUrl(ctx.dbPath) ? redactUrl(ctx.dbPath) : ctx.dbPath;
}

function isDemoMarked(ctx: Ctx): boolean {
  try {
    const store = openStore(ctx.dbPath, { requireLatest: false });
    try {
      return store.read(() => store.get(settings).get('demo')) === '1';
    } finally {
      store.close();
    }
  } catch {
    return false;
  }
}

/** What the demo leaves in the ledger's settings when it is done: its chain head and how many rows each table holds. */
const BUILT_KEY = 'demo_built';

function fingerprint(store: ReturnType<typeof openStore>): string {
  return store.read(() => {
    const head = store.get(journal).head();
    return JSON.stringify({ headId: head.id, headHash: head.hash, counts: ledgerStats(store).counts });
  });
}

/**
 * Whether the ledger at ctx.dbPath is the demo's own, untouched since the demo built it: marked by the demo
 * and still ending with the entry the demo ended with, every table holding what it held then. Only such a
 * ledger is built again without --force (nothing in it is lost: the demo makes the same one).
 */
function isUntouchedDemo(ctx: Ctx): boolean {
  try {
    const store = openStore(ctx.dbPath, { requireLatest: false });
    try {
      const built = store.read(() => store.get(settings).get(BUILT_KEY));
      return built !== undefined && built === fingerprint(store);
    } finally {
      store.close();
    }
  } catch {
    return false;
  }
}

/** What lies at ctx.dbPath for the demo: nothing (or an empty file), its own untouched ledger, or something else. */
async function demoTarget(ctx: Ctx): Promise<'absent' | 'untouched' | 'other'> {
  if (isPostgresUrl(ctx.dbPath)) {
    if (!ledgerExistsAt(ctx.dbPath)) return 'absent';
  } else if (!existsSync(ctx.dbPath) || (statSync(ctx.dbPath).isFile() && statSync(ctx.dbPath).size === 0)) return 'absent';
  if (isUntouchedDemo(ctx)) return 'untouched';
  return 'other';
}

/**
 * What demo --force would replace that is not the demo's own untouched ledger: a ledger (its contents, to
 * confirm), or nothing to ask about (no file, an empty one, the demo's ledger as it left it). A file that
 * is not a ledger is refused (exit 2), as init refuses it. Nothing written.
 */
export async function foreignLedgerAt(ctx: Ctx): Promise<InitTarget | null> {
  if ((await demoTarget(ctx)) !== 'other') return null;
  const { inspectInitTarget } = await import('./admin.js');
  const t = await inspectInitTarget(ctx);
  return t.kind === 'ledger' ? t : null;
}

export async function runDemo(ctx: Ctx, opts: { force?: boolean } = {}): Promise<DemoResult> {
  const admin = await import('./admin.js');
  let previous: string | null = null;
  let erased: LedgerContents | null = null;
  const target = await demoTarget(ctx);
  /** What stands at the path to be replaced: the demo's own untouched ledger, or (with --force) another. */
  let replace: 'own' | 'other' | null = target === 'untouched' ? 'own' : null;
  if (target === 'other') {
    if (!opts.force) {
      const demo = isDemoMarked(ctx);
      throw new UsageError(
        demo ? `${shown(ctx)} is a demo ledger with work added after the demo built it` : `${shown(ctx)} exists and was not made by pointsmall demo`,
        demo
          ? 'the demo never erases work: give it another --db path, or pass --force (and --yes where nobody can be asked) to replace it, a copy kept aside'
          : 'the demo never overwrites a real ledger: give it another --db path, or pass --force (and --yes where nobody can be asked) to replace it, a copy kept aside',
      );
    }
    // a ledger is kept aside as init --force keeps it (dropped on PostgreSQL, as init --force drops it);
    // anything that is not a ledger is never erased (inspectInitTarget refuses it)
    const t = await admin.inspectInitTarget(ctx);
    if (t.kind === 'ledger') {
      erased = t.contents;
      replace = 'other';
    }
  }
  if (replace && !isPostgresUrl(ctx.dbPath)) {
    // SQLite: built in a file beside it, then its pages copied in, as init --force does (never a file unlinked
    // under a process that has it open); what is erased is counted under the mark
    return admin.replaceSqliteLedger(ctx, replace === 'other' ? 'demo' : null, null, async (tmp, now, kept) => ({
      ...(await buildDemo({ ...ctx, dbPath: tmp }, ctx.dbPath)),
      previous: kept,
      erased: replace === 'other' ? now : null,
    }));
  }
  if (replace) previous = admin.clearLedger(ctx, replace === 'other' ? 'demo' : null);
  return { ...(await buildDemo(ctx, ctx.dbPath)), previous, erased };
}

/** The demo's story, told on the ledger at ctx.dbPath (built there: nothing stands at it); `recordAs`: the path the ledger records as its own. */
async function buildDemo(ctx: Ctx, recordAs: string): Promise<Omit<DemoResult, 'previous' | 'erased'>> {
  const admin = await import('./admin.js');
  const steps: DemoStep[] = [];
  const step = async <T>(title: string, command: string, run: () => Promise<T>): Promise<T> => {
    const result = await run();
    steps.push({ title, command, result });
    return result;
  };
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
    const r = await admin.initLedger(ctx, { currency: 'CNY', timezone: 'Asia/Shanghai', recordAs });
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
  // Remember what the demo left, so a later demo can tell its own untouched ledger from one with work in it.
  const store = openStore(ctx.dbPath);
  try {
    const built = fingerprint(store);
    store.write(() => store.get(settings).set(BUILT_KEY, built));
  } finally {
    store.close();
  }
  return { db: recordAs, now: ctx.now.toISOString(), steps, verified: verified.ok };
}
