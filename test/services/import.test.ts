// import purchases against real temp ledgers: accrual by the rules of the purchase's day, idempotency,
// returns and debt, review queue, daily cap, rejects, batches that survive a crash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { BusyError } from '../../src/errors.js';
import { importPurchases, type ImportInput } from '../../src/services/importPurchases.js';
import { approveReview, listReview, rejectReview } from '../../src/services/review.js';
import { type Ctx, withLedger } from '../../src/services/ledger.js';
import { setFrozen } from '../../src/services/members.js';
import { verifyLedger } from '../../src/services/verify.js';
import { members } from '../../src/store/members.js';
import { analysis } from '../../src/store/analysis.js';
import { ledgerRuns, openLedgerDb, tmpDir } from '../helpers/cli.js';
import { otherProcessFreezesM1AndImportsO120, tmpCtx } from '../helpers/store.js';

async function ledger(ids: string[] = ['M1', 'M2', 'M3'], rules?: unknown): Promise<{ ctx: Ctx; dir: string }> {
  const ctx = await tmpCtx();
  await withLedger(ctx, (l) =>
    l.store.write(() => {
      for (const id of ids) l.store.get(members).insert({ id, name: id, phone: null, email: null, tier: null }, l.nowIso);
    }),
  );
  const dir = tmpDir();
  if (rules) {
    const { applyRules } = await import('../../src/services/rules.js');
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
    await applyRules(ctx, join(dir, 'rules.json'), '2000-01-01');
  }
  return { ctx, dir };
}

function csv(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const member = (ctx: Ctx, id: string) => withLedger(ctx, (l) => l.store.get(members).get(id)!);
const run = (ctx: Ctx, input: ImportInput) => importPurchases(ctx, input);

describe('import purchases (services)', () => {
  it('accrues an order-level file and counts a re-run as duplicates', async () => {
    const { ctx, dir } = await ledger();
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 10:00,100.50\nA2,M2,2026-11-02,20.99\n');
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ rows: 2, orders: 2, accepted: 2, duplicates: 0, rejected: 0, review: 0, capped: 0, pointsAccrued: 120, pointsReturned: 0, dryRun: false, format: 'order' });
    expect((await member(ctx, 'M1')).balance).toBe(100);
    const again = await run(ctx, { file: f });
    expect(again).toMatchObject({ orders: 2, accepted: 0, duplicates: 2, pointsAccrued: 0 });
    expect((await member(ctx, 'M1')).balance).toBe(100);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('accrues an order rung up across a minute once, at its earliest time and in that place among the others', async () => {
    const { ctx, dir } = await ledger();
    // A's lines are at 10:05 and 10:00: one order at 10:00, so the return at 10:01 takes from its lot
    // (in the order of the lines' own times, the return would come first and leave a debt instead)
    const f = csv(dir, 'm.csv', 'order_id,member_id,purchased_at,quantity,unit_price\nA,M1,2026-11-01 10:05,1,3.00\nR1,M1,2026-11-01 10:01,-1,4.00\nA,M1,2026-11-01 10:00,1,4.00\n');
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ orders: 2, accepted: 2, returns: 1, rejected: 0, pointsAccrued: 7, pointsReturned: 4 });
    const db = openLedgerDb(ctx.dbPath, { readonly: true });
    expect(db.prepare("SELECT ref, at FROM entries WHERE kind = 'accrual'").all()).toEqual([{ ref: 'default:A', at: '2026-11-01T02:00:00.000Z' }]);
    expect(db.prepare('SELECT points, remaining FROM lots').all()).toEqual([{ points: 7, remaining: 3 }]);
    db.close();
    expect(await member(ctx, 'M1')).toMatchObject({ balance: 3, debt: 0 });
    expect((await run(ctx, { file: f })).duplicates).toBe(2);
  });

  it('assembles line-level orders whose rows are scattered, rounding once per order', async () => {
    const { ctx, dir } = await ledger();
    // 3 × 0.60 + 0.60 = 2.40 → 2 points (per-line rounding would give 1)
    const f = csv(dir, 'l.csv', 'order_id,member_id,purchased_at,quantity,unit_price\nX1,M1,2026-11-01,3,0.60\nY1,M2,2026-11-01,1,5.00\nX1,M1,2026-11-01,1,0.60\n');
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ format: 'line', rows: 3, orders: 2, accepted: 2, pointsAccrued: 7 });
    expect((await member(ctx, 'M1')).balance).toBe(2);
  });

  it('rejects the same key with other content as a conflict, keeps a new source apart', async () => {
    const { ctx, dir } = await ledger();
    await run(ctx, { file: csv(dir, 'a.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01,100.00\n') });
    const b = csv(dir, 'b.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01,999.00\nA2,M1,2026-11-01,1.00\n');
    const r = await run(ctx, { file: b });
    expect(r).toMatchObject({ accepted: 1, rejected: 1, duplicates: 0, pointsAccrued: 1 });
    const rejects = readFileSync(r.rejectsFile!, 'utf8');
    // what differs is named: a wrong file is then told from a changed order before anything is voided
    expect(rejects).toContain('2,"conflict: order A1 (source default) was imported before with different content: amount 100.00 then, 999.00 now; if the file is right, void the order first (pointsmall purchase void default A1), then import all its lines in one file",A1,M1,2026-11-01,999.00');
    const c = csv(dir, 'c.csv', 'order_id,member_id,purchased_at,amount\nA1,m1,2026-11-02 10:00,100.00\nA3,M1,2026-11-02,1.00\n');
    const third = readFileSync((await run(ctx, { file: c })).rejectsFile!, 'utf8');
    expect(third).toContain('was imported before with different content: member M1 then, m1 now; purchased at 2026-11-01 00:00 then, 2026-11-02 10:00 now; if the file is right');
    // within one minute: the seconds
    const d = csv(dir, 'd.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 00:00:30,100.00\nA4,M1,2026-11-02,1.00\n');
    expect(readFileSync((await run(ctx, { file: d })).rejectsFile!, 'utf8')).toMatch(/purchased at 20\d\d-\d\d-\d\dT\d\d:00:00\.000Z then, 20\d\d-\d\d-\d\dT\d\d:00:30\.000Z now/);
    const other = await run(ctx, { file: b, source: 'eshop' });
    expect(other).toMatchObject({ accepted: 2, rejected: 0, pointsAccrued: 1000 });
  });

  it('uses the rules version in force at each purchase, multipliers inclusive of their last day', async () => {
    const { ctx, dir } = await ledger(['M1'], { earn: { multipliers: [{ category: 'tv', multiplier: '2', from: '2026-10-01', to: '2026-10-31' }] } });
    writeFileSync(join(dir, 'r2.json'), JSON.stringify({ earn: { pointsPerUnit: '3' } }));
    const { applyRules } = await import('../../src/services/rules.js');
    await applyRules(ctx, join(dir, 'r2.json'), '2026-11-02');
    const f = csv(
      dir,
      'p.csv',
      'order_id,member_id,purchased_at,amount,category\n' +
        'O1,M1,2026-09-30 23:59,10.00,tv\n' + // before the window: 10
        'O2,M1,2026-10-31 23:59,10.00,tv\n' + // last day, ledger zone Asia/Shanghai: 20
        'O3,M1,2026-11-01 00:00,10.00,tv\n' + // after the window: 10
        'O4,M1,2026-11-02 00:00,10.00,tv\n' + // the next version (3 per unit, no multipliers): 30
        'O5,M1,2026-10-31T23:59:00Z,10.00,tv\n', // Nov 1 07:59 in Shanghai: 10
    );
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ accepted: 5, rejected: 0, pointsAccrued: 80 });
  });

  it('earns at the tier reached before each order, in purchase-time order whatever the file order', async () => {
    const { ctx, dir } = await ledger(['M1'], { tiers: [{ name: 'silver', minLifetimePoints: 0, multiplier: '1' }, { name: 'gold', minLifetimePoints: 100, multiplier: '2' }] });
    // later purchase first in the file: it must see the 100 points of the earlier one
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nLATE,M1,2026-11-02,10.00\nEARLY,M1,2026-11-01,100.00\n');
    const r = await run(ctx, { file: f });
    expect(r.pointsAccrued).toBe(120);
  });

  it('applies minOrderAmount, maxPointsPerOrder and the daily cap, counting capped points', async () => {
    const { ctx, dir } = await ledger(['M1', 'M2'], { earn: { minOrderAmount: '10.00', maxPointsPerOrder: 500 }, limits: { dailyEarnCap: 600 } });
    const f = csv(
      dir,
      'p.csv',
      'order_id,member_id,purchased_at,amount\n' +
        'A,M1,2026-11-01 09:00,9.99\n' + // below minimum: 0
        'B,M1,2026-11-01 10:00,1000.00\n' + // 1000 → max 500
        'C,M1,2026-11-01 23:30,300.00\n' + // cap room 100 → 100 credited, 200 capped
        'D,M1,2026-11-02 00:10,300.00\n' + // next local day: 300
        'E,M2,2026-11-01 10:00,50.00\n',
    );
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ accepted: 5, pointsAccrued: 500 + 100 + 300 + 50, capped: 200 });
    expect((await member(ctx, 'M1')).balance).toBe(900);
  });

  it('takes points back on returns, lets the balance go negative only then, and repays debt first', async () => {
    const { ctx, dir } = await ledger(['M1']);
    const r1 = await run(ctx, { file: csv(dir, 'a.csv', 'order_id,member_id,purchased_at,quantity,unit_price\nP1,M1,2026-11-01,2,10.00\nR1,M1,2026-11-02,-5,10.00\n') });
    expect(r1).toMatchObject({ accepted: 2, returns: 1, pointsAccrued: 20, pointsReturned: 50 });
    let m = await member(ctx, 'M1');
    expect(m.balance).toBe(-30);
    expect(m.debt).toBe(30);
    await run(ctx, { file: csv(dir, 'b.csv', 'order_id,member_id,purchased_at,amount\nP2,M1,2026-11-03,45.00\n') });
    m = await member(ctx, 'M1');
    expect(m.balance).toBe(15);
    expect(m.debt).toBe(0);
    const lots = await withLedger(ctx, (l) => l.store.get(members).openLots('M1'));
    expect(lots.map((x) => x.remaining)).toEqual([15]);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('queues orders above reviewAbove and of frozen members unaccrued, then approves or rejects them', async () => {
    const { ctx, dir } = await ledger(['M1', 'M2'], { limits: { reviewAbove: '500.00' } });
    await setFrozen(ctx, 'M2', true, 'fraud check'); // as `member freeze` does it: audited (verify's members-match-audit)
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nBIG,M1,2026-11-01,800.00\nOK,M1,2026-11-01,500.00\nFZ,M2,2026-11-01,10.00\n');
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ accepted: 1, review: 2, pointsAccrued: 500 });
    const q = await listReview(ctx, {});
    expect(q.map((x) => [x.orderId, x.reason])).toEqual([
      ['BIG', 'above-review-limit'],
      ['FZ', 'member-frozen'],
    ]);
    expect((await run(ctx, { file: f })).duplicates).toBe(3);
    const ok = await approveReview(ctx, 'BIG');
    expect(ok).toMatchObject({ status: 'approved', points: 800, balance: 1300 });
    await expect(approveReview(ctx, String(q[1].id))).rejects.toMatchObject({ exitCode: 3, code: 'MEMBER_FROZEN' });
    const no = await rejectReview(ctx, 'FZ', 'not a real purchase');
    expect(no.status).toBe('rejected');
    await expect(approveReview(ctx, 'FZ')).rejects.toMatchObject({ exitCode: 3 });
    expect((await listReview(ctx, {})).length).toBe(0);
    expect((await member(ctx, 'M2')).balance).toBe(0);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('creates unknown members on request, otherwise rejects their orders', async () => {
    const { ctx, dir } = await ledger([]);
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA,NEW1,2026-11-01,10.00\nB,NEW1,2026-11-02,5.00\n');
    // every row rejected: an input error (exit 2), in a dry run too
    await expect(run(ctx, { file: f, dryRun: true })).rejects.toThrow(/every row was rejected, 2 of them \(the first, line 2: member NEW1 is not in the ledger/);
    const yes = await run(ctx, { file: f, createMembers: true });
    expect(yes).toMatchObject({ membersCreated: 1, accepted: 2, pointsAccrued: 15 });
  });

  it('the daily cap counts what the day earned before a return in the same batch, and after it', async () => {
    const { ctx, dir } = await ledger(['M1'], { limits: { dailyEarnCap: 300 } });
    // 200 earned, a return of 50 (the cap counts what was earned, not net of returns), then 200 more: 100 fit the cap
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 10:00,200.00\nR1,M1,2026-11-01 11:00,-50.00\nA2,M1,2026-11-01 12:00,200.00\nA3,M1,2026-11-02 12:00,500.00\n');
    const r = await run(ctx, { file: f });
    expect(r).toMatchObject({ accepted: 4, pointsAccrued: 600, capped: 300, pointsReturned: 50 });
    expect((await member(ctx, 'M1')).balance).toBe(550);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('computes the same summary in a dry run and writes nothing', async () => {
    const { ctx, dir } = await ledger(['M1'], { limits: { dailyEarnCap: 50 } });
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA,M1,2026-11-01,40.00\nB,M1,2026-11-01,40.00\nC,,2026-11-01,1.00\n');
    const dry = await run(ctx, { file: f, dryRun: true, skipGuests: true });
    const { elapsedMs: _a, ...d } = dry;
    const real = await run(ctx, { file: f, skipGuests: true });
    const { elapsedMs: _b, ...w } = real;
    expect({ ...d, dryRun: false, runId: 1 }).toEqual(w); // (a dry run records no import run)
    expect(dry).toMatchObject({ dryRun: true, capped: 30, pointsAccrued: 50, guestsSkipped: 1 });
    const { ctx: fresh } = await ledger(['M1']);
    await run(fresh, { file: f, dryRun: true, skipGuests: true });
    expect((await member(fresh, 'M1')).balance).toBe(0);
    const count = await withLedger(fresh, (l) => l.store.db.prepare('SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM purchases)').pluck().get());
    expect(count).toBe(0);
  });

  it('a batch that fails leaves earlier batches whole, and a re-run completes with nothing doubled', async () => {
    const { ctx, dir } = await ledger(['M1', 'M2', 'M3']);
    const rows = ['order_id,member_id,purchased_at,quantity,unit_price'];
    for (let i = 0; i < 300; i++) {
      rows.push(`O${i},M${1 + (i % 3)},2026-11-01 ${String(10 + (i % 10)).padStart(2, '0')}:00,1,${(i % 7) + 1}.50`);
      rows.push(`O${i},M${1 + (i % 3)},2026-11-01 ${String(10 + (i % 10)).padStart(2, '0')}:00,2,0.25`);
    }
    const f = csv(dir, 'p.csv', rows.join('\n') + '\n');
    const { ctx: clean } = await ledger(['M1', 'M2', 'M3']);
    const expected = await run(clean, { file: f });
    let batches = 0;
    await expect(
      run(ctx, {
        file: f,
        batchOrders: 50,
        onProgress: (p) => {
          // progress comes inside each batch and after its commit: the 5th call dies inside batch 3
          if (p.phase === 'accruing' && ++batches === 5) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const partial = await withLedger(ctx, (l) => l.store.db.prepare('SELECT count(*) FROM purchases').pluck().get());
    expect(partial).toBe(100);
    const rest = await run(ctx, { file: f, batchOrders: 50 });
    expect(rest).toMatchObject({ duplicates: 100, accepted: 200 });
    for (const id of ['M1', 'M2', 'M3']) expect((await member(ctx, id)).balance).toBe((await member(clean, id)).balance);
    expect(expected.pointsAccrued).toBe((await member(clean, 'M1')).balance + (await member(clean, 'M2')).balance + (await member(clean, 'M3')).balance);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('a ledger locked past the busy timeout before the first batch: BusyError, nothing written, no scratch file left', async () => {
    const { ctx, dir } = await ledger(['M1']);
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 10:00,100.50\n');
    const scratch = tmpDir();
    const other = openLedgerDb(ctx.dbPath);
    other.exec('BEGIN IMMEDIATE');
    const env = { busy: process.env.POINTSMALL_BUSY_TIMEOUT, tmp: process.env.POINTSMALL_TMPDIR };
    process.env.POINTSMALL_BUSY_TIMEOUT = '100';
    process.env.POINTSMALL_TMPDIR = scratch;
    try {
      // the staged lines are open for streaming when the first batch meets the lock
      await expect(run(ctx, { file: f })).rejects.toBeInstanceOf(BusyError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      for (const [k, v] of [['POINTSMALL_BUSY_TIMEOUT', env.busy], ['POINTSMALL_TMPDIR', env.tmp]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(readdirSync(scratch)).toEqual([]);
    expect((await member(ctx, 'M1')).balance).toBe(0);
    expect(await run(ctx, { file: f })).toMatchObject({ accepted: 1, pointsAccrued: 100 });
  });

  it('locked out after its first batch: BusyError saying what was committed; a re-run accrues the rest and doubles nothing', async () => {
    const { ctx, dir } = await ledger(['M1', 'M2']);
    const rows = ['order_id,member_id,purchased_at,amount'];
    for (let i = 0; i < 120; i++) rows.push(`O${i},M${1 + (i % 2)},2026-11-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},10.00`);
    const f = csv(dir, 'p.csv', rows.join('\n') + '\n');
    const saved = process.env.POINTSMALL_BUSY_TIMEOUT;
    process.env.POINTSMALL_BUSY_TIMEOUT = '100';
    let other: Database.Database | undefined;
    let calls = 0;
    try {
      const first = run(ctx, {
        file: f,
        batchOrders: 50,
        onProgress: (p) => {
          // the 2nd accruing call comes right after batch 1 committed: another connection takes the lock
          if (p.phase !== 'accruing' || ++calls !== 2) return;
          other = openLedgerDb(ctx.dbPath);
          other.exec('BEGIN IMMEDIATE');
        },
      });
      await expect(first).rejects.toBeInstanceOf(BusyError);
      const e = (await first.catch((x: unknown) => x)) as BusyError;
      expect(e.hint).toBe('the first batch (50 orders accrued) is committed, the rest is not: run the same import again to accrue the rest (what is in is skipped, nothing doubles), or raise POINTSMALL_BUSY_TIMEOUT (ms)');
      // the same as fields of the error's JSON
      expect(e.details).toEqual({ committed: { batches: 1, ordersAccrued: 50, runId: expect.any(Number), finished: false } });
    } finally {
      other?.exec('ROLLBACK');
      other?.close();
      if (saved === undefined) delete process.env.POINTSMALL_BUSY_TIMEOUT;
      else process.env.POINTSMALL_BUSY_TIMEOUT = saved;
    }
    expect((await member(ctx, 'M1')).balance + (await member(ctx, 'M2')).balance).toBe(50 * 10);
    expect(await run(ctx, { file: f })).toMatchObject({ accepted: 70, duplicates: 50, pointsAccrued: 700 });
    expect((await member(ctx, 'M1')).balance + (await member(ctx, 'M2')).balance).toBe(120 * 10);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('between its batches, sees what another process committed: a freeze and an order id imported meanwhile', async () => {
    const { ctx, dir } = await ledger(['M1', 'M2', 'M3']);
    const rows = ['order_id,member_id,purchased_at,amount'];
    for (let i = 0; i < 150; i++) rows.push(`O${i},M${1 + (i % 3)},2026-11-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},10.00`);
    const f = csv(dir, 'p.csv', rows.join('\n') + '\n');
    let calls = 0;
    const r = await run(ctx, {
      file: f,
      batchOrders: 50,
      onProgress: (p) => {
        // the 2nd accruing call comes right after batch 1 committed: another connection writes then
        if (p.phase !== 'accruing' || ++calls !== 2) return;
        otherProcessFreezesM1AndImportsO120(ctx.dbPath);
      },
    });
    // M1's orders after batch 1 (i = 51, 54, … 147) wait in review, but O120, which is a conflict now.
    expect(r).toMatchObject({ orders: 150, rejected: 1, review: 32, accepted: 117 });
    const o120 = await withLedger(ctx, (l) => l.store.db.prepare("SELECT amount, content_hash FROM purchases WHERE order_id = 'O120'").get());
    expect(o120).toEqual({ amount: 999, content_hash: 'other-content' });
    expect((await member(ctx, 'M1')).balance).toBe(17 * 10);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('refuses a wrong header with exit 2 and writes nothing', async () => {
    const { ctx, dir } = await ledger();
    const f = csv(dir, 'p.csv', 'id,who,when,total\nA,M1,2026-11-01,10.00\n');
    await expect(run(ctx, { file: f })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('missing column order_id') });
    await expect(run(ctx, { file: f, map: ['order_id=id', 'member_id=who', 'purchased_at=when', 'amount=nope'] })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('no column "nope"') });
    const mapped = await run(ctx, { file: f, map: ['order_id=id,member_id=who', 'purchased_at=when', 'amount=total'] });
    expect(mapped.pointsAccrued).toBe(10);
    await expect(run(ctx, { file: csv(dir, 'e.csv', '') })).rejects.toMatchObject({ exitCode: 2 });
    await expect(run(ctx, { file: join(dir, 'missing.csv') })).rejects.toMatchObject({ exitCode: 2 });
  });

  it('reads --date-format strictly, refusing impossible dates', async () => {
    const { ctx, dir } = await ledger(['M1']);
    const f = csv(dir, 'p.csv', 'order_id,member_id,purchased_at,amount\nA,M1,12/1/2010 8:26,10.00\nB,M1,2/30/2010 8:26,10.00\nC,M1,2010-12-01 08:26,10.00\n');
    const r = await run(ctx, { file: f, dateFormat: 'M/D/YYYY H:mm' });
    expect(r).toMatchObject({ accepted: 1, rejected: 2 });
    const lines = readFileSync(r.rejectsFile!, 'utf8').split('\n');
    expect(lines[1]).toMatch(/^3,"purchased_at ""2\/30\/2010 8:26"" is not a valid date-time \(expected the format M\/D\/YYYY H:mm\)"/);
    const at1 = await withLedger(ctx, (l) => l.store.db.prepare("SELECT at FROM entries WHERE kind = 'accrual'").pluck().get());
    expect(at1).toBe('2010-12-01T00:26:00.000Z'); // 08:26 in Asia/Shanghai
  });

  it('reads GBK, Latin-1, BOM + CRLF and other delimiters', async () => {
    const iconv = (await import('iconv-lite')).default;
    const { ctx, dir } = await ledger(['M1', 'Müller']);
    const gbk = join(dir, 'g.csv');
    writeFileSync(gbk, iconv.encode('订单号,会员,时间,金额\r\nG1,M1,2026-11-01,12.00\r\n', 'gbk'));
    expect(await run(ctx, { file: gbk, encoding: 'gbk', map: ['order_id=订单号', 'member_id=会员', 'purchased_at=时间', 'amount=金额'] })).toMatchObject({ accepted: 1, pointsAccrued: 12 });
    const latin = join(dir, 'l.csv');
    writeFileSync(latin, iconv.encode('order_id;member_id;purchased_at;amount\nL1;Müller;2026-11-01;7.00\n', 'latin1'));
    expect(await run(ctx, { file: latin, encoding: 'latin1', delimiter: ';' })).toMatchObject({ accepted: 1, pointsAccrued: 7 });
    const bom = csv(dir, 'b.csv', '\ufefforder_id,member_id,purchased_at,amount\r\nB1,M1,2026-11-01,3.00\r\nB2,M1,2026-11-01,"4.00"\r\n');
    expect(await run(ctx, { file: bom })).toMatchObject({ accepted: 2, pointsAccrued: 7 });
  });

  it('keeps each order\'s lines with the purchase; a void keeps them, and verify proves they add up to it', async () => {
    const { ctx, dir } = await ledger();
    const f = csv(dir, 'l.csv', 'order_id,member_id,purchased_at,sku,category,quantity,unit_price\nA,M1,2026-11-01 10:00,TEA-1,tea,2,3.50\nB,M2,2026-11-01 11:00,CUP-1,,1,9.99\nA,M1,2026-11-01 10:00,CUP-1,home,1,1.25\nR,M1,2026-11-02 10:00,TEA-1,tea,-1,3.50\n');
    expect(await run(ctx, { file: f })).toMatchObject({ accepted: 3 });
    const lines = await withLedger(ctx, (l) => {
      const ids = l.store.db.prepare('SELECT order_id, id FROM purchases ORDER BY order_id').raw().all() as [string, number][];
      return Object.fromEntries(ids.map(([o, id]) => [o, l.store.get(analysis).linesOf(id)]));
    });
    expect(lines).toEqual({
      A: [
        { lineNo: 1, sku: 'TEA-1', category: 'tea', quantity: '2', amount: 700 },
        { lineNo: 2, sku: 'CUP-1', category: 'home', quantity: '1', amount: 125 },
      ],
      B: [{ lineNo: 1, sku: 'CUP-1', category: null, quantity: '1', amount: 999 }],
      R: [{ lineNo: 1, sku: 'TEA-1', category: 'tea', quantity: '-1', amount: -350 }],
    });
    const { voidPurchase } = await import('../../src/services/voids.js');
    await voidPurchase(ctx, 'default', 'A');
    expect((await verifyLedger(ctx)).ok).toBe(true);
    const db = openLedgerDb(ctx.dbPath);
    db.prepare("UPDATE purchase_lines SET amount = 126 WHERE sku = 'CUP-1' AND category = 'home'").run();
    db.close();
    const v = await verifyLedger(ctx);
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'purchase-lines-sum-to-purchases')).toMatchObject({ ok: false, detail: 'purchase default:A: 2 lines summing to 826 but line_count 2 and amount 825' });
  });

  it('property: any split of orders into batches and any row order give the same balances', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ o: fc.integer({ min: 0, max: 9 }), m: fc.integer({ min: 1, max: 3 }), q: fc.integer({ min: -2, max: 5 }), p: fc.integer({ min: 1, max: 5000 }) }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 5 }),
        async (lines, batch) => {
          // one member and one time per order (the first line's), as a till would write them
          const owner = new Map<number, number>();
          for (const x of lines) if (!owner.has(x.o)) owner.set(x.o, x.m);
          const row = (x: (typeof lines)[number]) => `O${x.o},M${owner.get(x.o)},2026-11-0${1 + (x.o % 5)} 10:00,${x.q},${(x.p / 100).toFixed(2)}`;
          const head = 'order_id,member_id,purchased_at,quantity,unit_price\n';
          const a = await ledger(['M1', 'M2', 'M3']);
          const b = await ledger(['M1', 'M2', 'M3']);
          const ra = await run(a.ctx, { file: csv(a.dir, 'a.csv', head + lines.map(row).join('\n') + '\n') });
          const rb = await run(b.ctx, { file: csv(b.dir, 'b.csv', head + [...lines].reverse().map(row).join('\n') + '\n'), batchOrders: batch });
          expect(rb.pointsAccrued).toBe(ra.pointsAccrued);
          expect(rb.pointsReturned).toBe(ra.pointsReturned);
          for (const id of ['M1', 'M2', 'M3']) expect((await member(b.ctx, id)).balance).toBe((await member(a.ctx, id)).balance);
          expect((await verifyLedger(b.ctx)).ok).toBe(true);
        },
      ),
      { numRuns: ledgerRuns(15) },
    );
  });
});


