// Cron beside an operator: a purchase import, an expiry run, checkouts, adjustments and an outbox export
// started at the same moment as real processes on one ledger. Each finishes (0, or 4 for the import's one bad
// row) or exits 5 after the busy timeout with nothing half-done; ledger verify passes and the totals add up.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunResult, runCli, runCliAsync, type TmpLedger, sceneLedger, openLedgerDb, newLedgerLocation, tmpDir } from '../helpers/cli.js';

const MEMBERS = 120;
const ORDERS = 1500;
const NOW = '2026-01-20T10:00:00+08:00';
const AS_OF = '2026-01-20';

function setup(): TmpLedger {
  return sceneLedger('setup', (t) => {
    const early = { now: '2025-01-12T10:00:00+08:00' };
    const members = ['id,name,phone,email', ...Array.from({ length: MEMBERS }, (_, i) => `m${i},Member ${i},${i % 2 ? `+86138${String(i).padStart(8, '0')}` : ''},${i % 3 ? `m${i}@example.com` : ''}`)];
    writeFileSync(join(t.dir, 'members.csv'), members.join('\n') + '\n');
    t.ok(['member', 'import', join(t.dir, 'members.csv')], early);
    // Old purchases: lots that expire on 2026-01-10 and 2026-01-11, before the as-of date.
    const old = ['order_id,member_id,purchased_at,amount', ...Array.from({ length: MEMBERS * 2 }, (_, i) => `OLD${i},m${i % MEMBERS},2025-01-${i < MEMBERS ? 10 : 11} 12:00,${50 + (i % 40)}.00`)];
    writeFileSync(join(t.dir, 'old.csv'), old.join('\n') + '\n');
    t.ok(['import', 'purchases', join(t.dir, 'old.csv')], early);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00', '--stock', '100'], early);
    // New purchases, imported during the run; one impossible date is a rejected row (exit 4).
    const fresh = ['order_id,member_id,purchased_at,amount', ...Array.from({ length: ORDERS }, (_, i) => `N${i},m${i % MEMBERS},2026-01-19 ${String(8 + (i % 12)).padStart(2, '0')}:30,${10 + (i % 90)}.00`), 'BAD1,m1,2026-02-30 10:00,5.00'];
    writeFileSync(join(t.dir, 'new.csv'), fresh.join('\n') + '\n');
  }, { now: '2025-01-01T10:00:00+08:00' });
}

type Job = { name: string; args: string[]; allowed: number[] };

function jobs(t: TmpLedger): Job[] {
  return [
    { name: 'import', args: ['import', 'purchases', join(t.dir, 'new.csv'), '--batch', '100', '--json'], allowed: [4, 5] },
    { name: 'expire', args: ['expire', 'run', '--json'], allowed: [0, 5] },
    { name: 'checkout1', args: ['checkout', '--member', 'm3', '--item', 'TEA', '--max-points', '--tender', 'cash', '--yes', '--json'], allowed: [0, 3, 5] },
    { name: 'checkout2', args: ['checkout', '--member', 'm4', '--item', 'TEA', '--max-points', '--tender', 'card', '--yes', '--json'], allowed: [0, 3, 5] },
    ...[5, 6, 7].map((m) => ({ name: `adjust${m}`, args: ['member', 'adjust', `m${m}`, '--points', '25', '--reason', 'goodwill', '--json'], allowed: [0, 5] })),
    { name: 'export', args: ['outbox', 'export', '--out', join(t.dir, 'outbox.jsonl'), '--mark-sent', '--json'], allowed: [0, 5] },
  ];
}

async function runAll(t: TmpLedger, env: Record<string, string> = {}): Promise<Map<string, RunResult>> {
  const js = jobs(t);
  const results = await Promise.all(js.map((j) => runCliAsync(j.args, { db: t.db, now: NOW, env })));
  const out = new Map<string, RunResult>();
  js.forEach((j, i) => {
    const r = results[i];
    expect(j.allowed, `${j.name} exited ${r.code}: ${r.stderr} ${r.stdout.slice(0, 600)}`).toContain(r.code);
    if (r.code === 5) {
      expect(r.stdout).toBe('');
      expect(JSON.parse(r.stderr.trim()).error).toMatchObject({ code: 'LEDGER_BUSY' });
    }
    if (r.code === 3) expect(JSON.parse(r.stderr.trim()).error.code).toMatch(/INSUFFICIENT|POINTS/);
    out.set(j.name, r);
  });
  return out;
}

function checkBooks(t: TmpLedger) {
  const v = t.verify();
  expect(v.checks.filter((c) => !c.ok)).toEqual([]);
  const s = t.ok(['report', 'summary'], { now: NOW });
  expect(s.reconciliation.ok).toBe(true);
  const members = t.ok(['member', 'list'], { now: NOW }) as { balance: number }[];
  expect(members.reduce((a, m) => a + m.balance, 0)).toBe(s.closingBalance);
  return s;
}

/** Every lot past its date is empty, and the expired account equals the expiry entries' points. */
function checkExpiry(t: TmpLedger) {
  const db = openLedgerDb(t.db, { readonly: true });
  try {
    expect(db.prepare('SELECT count(*) FROM lots WHERE expires_on < ? AND remaining > 0').pluck().get(AS_OF)).toBe(0);
    const expired = db.prepare("SELECT coalesce(sum(points), 0) FROM postings WHERE account = 'expired'").pluck().get();
    const moved = db.prepare("SELECT -coalesce(sum(m.points), 0) FROM lot_moves m JOIN entries e ON e.id = m.entry_id WHERE e.kind = 'expiry'").pluck().get();
    expect(moved).toBe(expired);
    const notified = db.prepare("SELECT count(*) FROM outbox WHERE topic = 'points.expired'").pluck().get();
    const expiryEntries = db.prepare("SELECT count(*) FROM entries WHERE kind = 'expiry'").pluck().get();
    expect(notified).toBe(expiryEntries);
  } finally {
    db.close();
  }
}

describe('concurrent processes on one ledger', () => {
  it('an import, an expiry run, checkouts, adjustments and an export all finish or exit 5 cleanly', async () => {
    const t = setup();
    const res = await runAll(t);
    checkBooks(t);
    // Re-run whatever gave up on the lock; then everything must be done exactly once.
    for (const j of jobs(t)) if (res.get(j.name)!.code === 5) await runCliAsync(j.args, { db: t.db, now: NOW });
    const again = t.ok(['expire', 'run'], { now: NOW });
    expect(again.lotsExpired).toBe(0);
    const imp = t.run(['import', 'purchases', join(t.dir, 'new.csv'), '--json'], { now: NOW });
    expect(imp.code).toBe(4);
    expect(imp.json()).toMatchObject({ accepted: 0, duplicates: ORDERS, rejected: 1 });
    checkExpiry(t);
    const s = checkBooks(t);
    expect(s.expired).toBeGreaterThan(0);
  });

  it('with a tiny busy timeout, whoever loses exits 5 with a clear message and nothing half-done', async () => {
    const t = setup();
    await runAll(t, { POINTSMALL_BUSY_TIMEOUT: '1' });
    checkBooks(t);
    // The expiry run is all or nothing: either no expiry entry exists or no overdue lot is left.
    const db = openLedgerDb(t.db, { readonly: true });
    const entries = db.prepare("SELECT count(*) FROM entries WHERE kind = 'expiry'").pluck().get() as number;
    const overdue = db.prepare('SELECT count(*) FROM lots WHERE expires_on < ? AND remaining > 0').pluck().get(AS_OF) as number;
    db.close();
    expect(entries === 0 || overdue === 0).toBe(true);
    if (entries > 0) checkExpiry(t);
  });

  it('an expiry run blocked past the busy timeout exits 5, says so on stderr, and writes nothing', async () => {
    const t = setup();
    const db = openLedgerDb(t.db);
    db.exec('BEGIN IMMEDIATE');
    let r: RunResult;
    try {
      r = await runCliAsync(['expire', 'run'], { db: t.db, now: NOW, env: { POINTSMALL_BUSY_TIMEOUT: '300' } });
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: the ledger .* stayed locked .* 300 ms\nhint: nothing was written/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(t.ok(['ledger', 'entries', '--kind', 'expiry'], { now: NOW })).toEqual([]);
    expect(t.ok(['expire', 'run'], { now: NOW }).lotsExpired).toBe(MEMBERS * 2);
    checkExpiry(t);
    checkBooks(t);
  });
});

describe('init of one new ledger by several processes at once', () => {
  // Four inits raced through the migrations: one ran a migration another had just committed ("table
  // settings already exists", exit 1 as a bug), and one that found every migration done would have written
  // its settings and a second rules version over the winner's. Now one makes the ledger, the rest refuse.
  it('one makes it (exit 0); the others say a ledger exists (exit 2) and write nothing', async () => {
    for (let round = 0; round < 4; round++) {
      const db = newLedgerLocation(tmpDir());
      const zones = ['Asia/Shanghai', 'UTC', 'Europe/Berlin', 'America/New_York'];
      const runs = await Promise.all(zones.map((z) => runCliAsync(['init', '--timezone', z, '--json'], { db })));
      const codes = runs.map((r) => r.code);
      expect(codes.filter((c) => c === 0), runs.map((r) => r.stderr || r.stdout).join('\n')).toHaveLength(1);
      expect(codes.filter((c) => c !== 0 && c !== 2), runs.map((r) => r.stderr).join('\n')).toEqual([]);
      for (const r of runs.filter((x) => x.code === 2)) expect(JSON.parse(r.stderr).error.message).toMatch(/a ledger already exists/);
      const winner = zones[codes.indexOf(0)];
      const ledger = openLedgerDb(db);
      try {
        expect(ledger.prepare("SELECT value FROM settings WHERE key = 'timezone'").pluck().get()).toBe(winner);
        expect(ledger.prepare('SELECT count(*) FROM rules_versions').pluck().get()).toBe(1);
        expect(ledger.prepare("SELECT count(*) FROM audit WHERE action = 'ledger.init'").pluck().get()).toBe(1);
      } finally {
        ledger.close();
      }
      expect(runCli(['ledger', 'verify', '--json'], { db }).json().ok).toBe(true);
    }
  });
});
