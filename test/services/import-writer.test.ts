// A large import on two threads: this one plans each batch while a ledger writer thread applies the one
// before. These tests run the compiled build (the writer exists only there) and hold it to one thread's
// ledger, row for row and hash for hash, and to the same answers when another process writes meanwhile.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as Import from '../../src/services/importPurchases.js';
import { type Ctx, withLedger } from '../../src/services/ledger.js';
import { verifyLedger } from '../../src/services/verify.js';
import { setFrozen } from '../../src/services/members.js';
import { members } from '../../src/store/members.js';
import { ledgerRuns, openLedgerDb, tmpDir } from '../helpers/cli.js';
import { addFailingTrigger, dropFailingTrigger, keepEnv, otherProcessFreezesM1AndImportsO120, tmpCtx } from '../helpers/store.js';

const dist = (await import(new URL('../../dist/services/importPurchases.js', import.meta.url).href)) as typeof Import;

async function ledger(ids: string[], rules?: unknown): Promise<Ctx> {
  const ctx = await tmpCtx();
  await withLedger(ctx, (l) =>
    l.store.write(() => {
      for (const id of ids) l.store.get(members).insert({ id, name: id, phone: null, email: null, tier: null }, l.nowIso);
    }),
  );
  if (rules) {
    const { applyRules } = await import('../../src/services/rules.js');
    const f = join(tmpDir(), 'rules.json');
    writeFileSync(f, JSON.stringify(rules));
    await applyRules(ctx, f, '2000-01-01');
  }
  return ctx;
}

/** Every row the import can write, in a fixed order: two ledgers that agree here agree entirely. */
function dump(path: string): Record<string, unknown[]> {
  const db = openLedgerDb(path, { readonly: true });
  try {
    const q = (sql: string) => db.prepare(sql).raw().all();
    return {
      entries: q('SELECT id, at, kind, member_id, ref, memo, prev_hash, hash FROM entries ORDER BY id'),
      postings: q('SELECT entry_id, account, member_id, points FROM postings ORDER BY rowid'),
      lots: q('SELECT id, member_id, entry_id, points, remaining, earned_at, expires_on FROM lots ORDER BY id'),
      moves: q('SELECT entry_id, lot_id, points FROM lot_moves ORDER BY rowid'),
      purchases: q('SELECT source, order_id, member_id, purchased_at, kind, amount, line_count, content_hash, status, points, capped, rules_version, entry_id FROM purchases ORDER BY id'),
      review: q('SELECT source, order_id, member_id, kind, amount, lines, reason, status FROM review_queue ORDER BY id'),
      lines: q('SELECT purchase_id, line_no, sku, category, quantity, amount FROM purchase_lines ORDER BY purchase_id, line_no'),
      members: q('SELECT id, status, balance, held, debt, lifetime_earned, last_activity_at FROM members ORDER BY id'),
    };
  } finally {
    db.close();
  }
}

type Row = { order: string; member: string; day: number; amount: string };

function file(rows: Row[]): string {
  const f = join(tmpDir(), 'p.csv');
  writeFileSync(f, ['order_id,member_id,purchased_at,amount', ...rows.map((r) => `${r.order},${r.member},2026-11-${String(1 + r.day).padStart(2, '0')} 10:00,${r.amount}`)].join('\n') + '\n');
  return f;
}

/** Imports the file into a fresh ledger on one thread or two; the summary, and the ledger as rows. */
async function importWith(threads: '1' | '2', ids: string[], rules: unknown, f: string, input: Partial<Import.ImportInput> = {}) {
  process.env.POINTSMALL_THREADS = threads;
  const ctx = await ledger(ids, rules);
  await setFrozen(ctx, 'F1', true, 'fraud check'); // as `member freeze` does it: audited (verify's members-match-audit)
  const summary = await dist.importPurchases(ctx, { file: f, createMembers: true, ...input });
  expect((await verifyLedger(ctx)).ok).toBe(true);
  const { elapsedMs, rejectsFile, ...rest } = summary;
  void elapsedMs;
  void rejectsFile;
  return { summary: rest, rows: dump(ctx.dbPath) };
}

const arbRows = fc.array(
  fc.record({
    order: fc.integer({ min: 1, max: 60 }).map((i) => `O${i}`),
    member: fc.constantFrom('M1', 'M2', 'M3', 'F1', 'NEW1', 'bad id!'),
    day: fc.integer({ min: 0, max: 20 }),
    // returns bigger than what was earned leave debt, which later purchases repay
    amount: fc.oneof(fc.integer({ min: 1, max: 90_000 }), fc.integer({ min: -90_000, max: -1 })).map((c) => (c / 100).toFixed(2)),
  }),
  { minLength: 1, maxLength: 120 },
);

describe('import on two threads (a ledger writer)', () => {
  keepEnv('POINTSMALL_THREADS');
  keepEnv('POINTSMALL_BUSY_TIMEOUT');

  it('property: any file, in any batch size and parts, gives the ledger one thread gives: the same rows, lots, debts, hashes and summary', async () => {
    const rules = { limits: { reviewAbove: '800.00' }, tiers: [{ name: 'gold', minLifetimePoints: 500, multiplier: '1.5' }] };
    await fc.assert(
      fc.asyncProperty(arbRows, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), async (rows, batchOrders, partOrders) => {
        const f = file(rows);
        const one = await importWith('1', ['M1', 'M2', 'M3', 'F1'], rules, f, { batchOrders, partOrders });
        const two = await importWith('2', ['M1', 'M2', 'M3', 'F1'], rules, f, { batchOrders, partOrders });
        expect(two).toEqual(one);
      }),
      { numRuns: ledgerRuns(25) },
    );
  });

  it('debt left by a return and repaid, review, a new member and a repeated row, over several batches: as one thread, row for row', async () => {
    const rows: Row[] = [
      { order: 'O1', member: 'M1', day: 0, amount: '100.00' },
      { order: 'O2', member: 'M1', day: 1, amount: '-300.00' }, // takes 100, leaves 200 of debt
      { order: 'O3', member: 'M1', day: 2, amount: '250.00' }, // repays 200, a lot of 50
      { order: 'O4', member: 'F1', day: 2, amount: '10.00' }, // frozen: review
      { order: 'O5', member: 'NEW1', day: 3, amount: '20.00' }, // created
      { order: 'O1', member: 'M1', day: 0, amount: '100.00' }, // repeated as it is: a duplicate (with another amount it would reject O1 whole)
    ];
    const f = file(rows);
    const two = await importWith('2', ['M1', 'M2', 'M3', 'F1'], undefined, f, { batchOrders: 2 });
    expect(two.summary).toMatchObject({ orders: 5, accepted: 4, review: 1, membersCreated: 1, rejected: 0, duplicates: 1, batches: 3, pointsReturned: 300, debtRepaid: 200 });
    expect(two.rows.members.find((m) => (m as unknown[])[0] === 'M1')).toEqual(['M1', 'active', 50, 0, 0, 50, '2026-11-03T02:00:00.000Z']);
    expect(two.rows.moves).toEqual([[2, 1, -100]]);
    expect(await importWith('1', ['M1', 'M2', 'M3', 'F1'], undefined, f, { batchOrders: 2 })).toEqual(two);
  });

  it('an order rung up across a minute comes at its earliest time on a writer thread too (its sort starts over on the orders\' own times)', async () => {
    // the writer counts the stage while this thread sorts it by each group's own time; A's groups
    // differ, so the sort must start over: else A would come twice, around the return
    const f = join(tmpDir(), 'm.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,quantity,unit_price\nA,M1,2026-11-01 10:05,1,3.00\nR1,M1,2026-11-01 10:01,-1,4.00\nB,M2,2026-11-01 09:00,1,1.00\nA,M1,2026-11-01 10:00,1,4.00\n');
    const two = await importWith('2', ['M1', 'M2', 'F1'], undefined, f, { batchOrders: 1 });
    expect(two.summary).toMatchObject({ orders: 3, accepted: 3, returns: 1, rejected: 0, duplicates: 0, pointsAccrued: 8, pointsReturned: 4, batches: 3 });
    expect(two.rows.lots.map((l) => (l as unknown[]).slice(1, 5))).toEqual([['M2', 1, 1, 1], ['M1', 2, 7, 3]]);
    expect(await importWith('1', ['M1', 'M2', 'F1'], undefined, f, { batchOrders: 1 })).toEqual(two);
  });

  for (const threads of ['1', '2'] as const) {
    it(`a batch planned in parts is written whole or not at all (${threads === '1' ? 'one thread' : 'a writer thread'}): a write failing in its second part undoes its first`, async () => {
      process.env.POINTSMALL_THREADS = threads;
      const ctx = await ledger(['M1', 'M2', 'M3']);
      // orders O000…O099 in time order; batches of 50 in parts of 20: batch 2's second part has O070…O089
      const rows: Row[] = Array.from({ length: 100 }, (_, i) => ({ order: `O${String(i).padStart(3, '0')}`, member: `M${1 + (i % 3)}`, day: Math.floor(i / 5), amount: '10.00' }));
      const f = file(rows);
      const db = openLedgerDb(ctx.dbPath);
      // a write that fails as a full disk would, when O075's purchase row is written
      const failO075 = { name: 'fail_o075', table: 'purchases', when: "NEW.order_id = 'O075'", message: 'disk full (test)' };
      addFailingTrigger(db, failO075);
      await expect(dist.importPurchases(ctx, { file: f, batchOrders: 50, partOrders: 20 })).rejects.toThrow(/disk full \(test\)/);
      const count = () => db.prepare('SELECT (SELECT count(*) FROM purchases) AS purchases, (SELECT count(*) FROM entries) AS entries, (SELECT sum(balance) FROM members) AS balance').get();
      expect(count()).toEqual({ purchases: 50, entries: 50, balance: 500 }); // batch 1 only
      expect((await verifyLedger(ctx)).ok).toBe(true);
      dropFailingTrigger(db, failO075);
      db.close();
      const again = await dist.importPurchases(ctx, { file: f, batchOrders: 50, partOrders: 20 });
      expect(again).toMatchObject({ accepted: 50, duplicates: 50, batches: 2 });
      const after = openLedgerDb(ctx.dbPath, { readonly: true });
      expect(after.prepare('SELECT count(*) AS n, sum(points) AS points FROM purchases').get()).toEqual({ n: 100, points: 1000 });
      after.close();
      expect((await verifyLedger(ctx)).ok).toBe(true);
    });
  }

  it('with a daily cap in the rules, plans each batch in its own transaction (the cap reads the ledger), with the same ledger', async () => {
    const rules = { limits: { dailyEarnCap: 300 } };
    const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({ order: `O${i}`, member: `M${1 + (i % 2)}`, day: i % 3, amount: '120.00' }));
    const f = file(rows);
    const one = await importWith('1', ['M1', 'M2', 'M3', 'F1'], rules, f, { batchOrders: 4 });
    const two = await importWith('2', ['M1', 'M2', 'M3', 'F1'], rules, f, { batchOrders: 4 });
    expect(two).toEqual(one);
    expect(one.summary.capped).toBeGreaterThan(0);
  });

  it('another process writing while batches are planned ahead: the writer refuses them, and the rest is planned in transactions from the ledger', async () => {
    process.env.POINTSMALL_THREADS = '2';
    const ctx = await ledger(['M1', 'M2', 'M3']);
    const rows: Row[] = Array.from({ length: 150 }, (_, i) => ({ order: `O${i}`, member: `M${1 + (i % 3)}`, day: Math.floor(i / 10), amount: '10.00' }));
    let calls = 0;
    const r = await dist.importPurchases(ctx, {
      file: file(rows),
      batchOrders: 50,
      onProgress: (p) => {
        // while batch 2 is planned, batch 1 is on its way to the ledger: another process freezes M1
        // and imports O120 with other content
        if (p.phase !== 'accruing' || ++calls !== 2) return;
        otherProcessFreezesM1AndImportsO120(ctx.dbPath);
      },
    });
    // Batch 1 committed before the freeze (M1's orders after it wait in review), or the freeze came
    // first and all of M1's orders wait: either way O120 is a conflict, never a second import.
    expect(r.orders).toBe(150);
    expect(r.rejected).toBe(1);
    expect([32, 49]).toContain(r.review);
    const m1Accrued = r.review === 32 ? 17 : 0; // M1's orders in batch 1
    expect(r.accepted).toBe(149 - r.review);
    const o120 = await withLedger(ctx, (l) => l.store.db.prepare("SELECT amount, content_hash FROM purchases WHERE order_id = 'O120'").get());
    expect(o120).toEqual({ amount: 999, content_hash: 'other-content' });
    expect((await withLedger(ctx, (l) => l.store.get(members).get('M1')!)).balance).toBe(m1Accrued * 10);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('beside a process that commits all the time, still imports everything once: after a refused batch it goes on in transactions', async () => {
    process.env.POINTSMALL_THREADS = '2';
    const ctx = await ledger(['M1', 'M2', 'M3']);
    const rows: Row[] = Array.from({ length: 200 }, (_, i) => ({ order: `O${i}`, member: `M${1 + (i % 3)}`, day: Math.floor(i / 10), amount: '10.00' }));
    // A till commits whenever the import lets this thread run (between its transactions, while it
    // waits for the writer); it changes nothing the import decides on.
    const other = openLedgerDb(ctx.dbPath, { timeout: 5000 });
    let n = 0;
    const till = setInterval(() => other.prepare("UPDATE members SET email = ? WHERE id = 'M3'").run(`till${++n}@example.com`), 1);
    try {
      const r = await dist.importPurchases(ctx, { file: file(rows), batchOrders: 20 });
      expect(r).toMatchObject({ orders: 200, accepted: 200, pointsAccrued: 2000, batches: 10 });
    } finally {
      clearInterval(till);
      other.close();
    }
    expect(n).toBeGreaterThan(3);
    const balances = await withLedger(ctx, (l) => ['M1', 'M2', 'M3'].map((id) => l.store.get(members).get(id)!.balance));
    expect(balances).toEqual([670, 670, 660]);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('orders of an earlier import met after the first batch, on the writer thread: duplicates and conflicts, never a second purchase', async () => {
    // the first batch commits on this thread; the batches planned ahead after it skip the lookup of
    // existing keys only when no other run of the source wrote any
    process.env.POINTSMALL_THREADS = '2';
    const ctx = await ledger(['M1', 'M2']);
    const rows: Row[] = Array.from({ length: 120 }, (_, i) => ({ order: `O${i}`, member: `M${1 + (i % 2)}`, day: Math.floor(i / 10), amount: '10.00' }));
    expect(await dist.importPurchases(ctx, { file: file(rows.slice(100, 110)) })).toMatchObject({ accepted: 10 });
    const changed = rows.map((r, i) => (i === 105 ? { ...r, amount: '11.00' } : r));
    expect(await dist.importPurchases(ctx, { file: file(changed), batchOrders: 20 })).toMatchObject({ accepted: 110, duplicates: 9, rejected: 1, batches: 6 });
    const n = await withLedger(ctx, (l) => l.store.db.prepare('SELECT count(*) FROM purchases').pluck().get());
    expect(n).toBe(120);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('locked out after some batches: exit 5 naming what is committed; a re-run accrues the rest and doubles nothing', async () => {
    process.env.POINTSMALL_THREADS = '2';
    const ctx = await ledger(['M1', 'M2']);
    const rows: Row[] = Array.from({ length: 120 }, (_, i) => ({ order: `O${i}`, member: `M${1 + (i % 2)}`, day: Math.floor(i / 10), amount: '10.00' }));
    const f = file(rows);
    process.env.POINTSMALL_BUSY_TIMEOUT = '100'; // restored after the test (keepEnv)
    let other: Database.Database | undefined;
    let calls = 0;
    let hint = '';
    try {
      const e = await dist
        .importPurchases(ctx, {
          file: f,
          batchOrders: 20,
          onProgress: (p) => {
            if (p.phase !== 'accruing' || ++calls !== 3) return;
            other = openLedgerDb(ctx.dbPath);
            other.exec('BEGIN IMMEDIATE');
          },
        })
        .catch((x: unknown) => x);
      expect(e).toMatchObject({ exitCode: 5 });
      hint = (e as { hint: string }).hint;
    } finally {
      other?.exec('ROLLBACK');
      other?.close();
    }
    const m = /^the first (?:batch|(\d+) batches) \((\d+) orders accrued\) (?:is|are) committed, the rest is not/.exec(hint);
    expect(m).not.toBeNull();
    const accrued = Number(m![2]);
    expect(accrued).toBe(20 * Number(m![1] ?? 1));
    const balance = async () => (await withLedger(ctx, (l) => l.store.get(members).get('M1')!.balance + l.store.get(members).get('M2')!.balance));
    expect(await balance()).toBe(accrued * 10);
    expect(await dist.importPurchases(ctx, { file: f })).toMatchObject({ accepted: 120 - accrued, duplicates: accrued, pointsAccrued: (120 - accrued) * 10 });
    expect(await balance()).toBe(1200);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('locked out only at the run\'s closing record, after every batch: exit 5 saying every order is in (not "nothing was written")', async () => {
    const ctx = await ledger(['M1', 'M2']);
    const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({ order: `C${i}`, member: `M${1 + (i % 2)}`, day: Math.floor(i / 10), amount: '10.00' }));
    const f = file(rows);
    process.env.POINTSMALL_BUSY_TIMEOUT = '100'; // restored after the test (keepEnv)
    let other: Database.Database | undefined;
    let hint = '';
    try {
      const e = await dist
        .importPurchases(ctx, {
          file: f,
          onProgress: (p) => {
            if (p.phase !== 'accruing' || p.done !== p.total || other) return;
            other = openLedgerDb(ctx.dbPath);
            other.exec('BEGIN IMMEDIATE');
          },
        })
        .catch((x: unknown) => x);
      expect(e).toMatchObject({ exitCode: 5, code: 'LEDGER_BUSY' });
      hint = (e as { hint: string }).hint;
    } finally {
      other?.exec('ROLLBACK');
      other?.close();
    }
    expect(hint).toMatch(/^every order is committed \(30 accrued\); only the run's closing record is not/);
    expect(await dist.importPurchases(ctx, { file: f })).toMatchObject({ accepted: 0, duplicates: 30 });
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });
});
