import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tmpDir, openLedgerDb } from '../helpers/cli.js';

describe('pointsmall demo', () => {
  it('builds a fresh ledger from fixtures and runs import, checkout, refund, expiry, reports and verify', () => {
    const dir = tmpDir();
    const r = runCli(['demo', '--json'], { cwd: dir, env: { POINTSMALL_NOW: undefined, POINTSMALL_DB: undefined } });
    expect(r.code, r.stderr).toBe(0);
    const demo = r.json();
    expect(demo.verified).toBe(true);
    expect(existsSync(join(dir, 'pointsmall-demo.db'))).toBe(true);
    const byTitle = (t: string) => demo.steps.find((s: { title: string }) => s.title.startsWith(t)).result;
    const first = byTitle('Import a till export');
    expect(first.accepted).toBeGreaterThan(0);
    expect(first.pointsReturned).toBeGreaterThan(0);
    const again = byTitle('Import the same file again');
    expect(again.accepted).toBe(0);
    expect(again.pointsAccrued).toBe(0);
    expect(again.duplicates).toBe(first.accepted);
    // M001 holds lapsed lots no run has posted yet: shown apart, and the checkout spends none of them.
    const shown = byTitle("Look at a member's points");
    expect(shown.expiredPending).toBeGreaterThan(0);
    expect(shown.available).toBe(shown.balance - shown.held - shown.expiredPending);
    const db = openLedgerDb(join(dir, 'pointsmall-demo.db'), { readonly: true });
    const spentFrom = db.prepare('SELECT min(l.expires_on) FROM hold_lots hl JOIN lots l ON l.id = hl.lot_id').pluck().get() as string;
    db.close();
    expect(spentFrom >= demo.now.slice(0, 10)).toBe(true);
    const paid = byTitle('Check out');
    expect(paid.status).toBe('paid');
    expect(paid.pointsUsed).toBe(5000);
    expect(paid.pointsValue).toBe('50.00');
    expect(Number(paid.cashPaid) + Number(paid.pointsValue)).toBeCloseTo(Number(paid.total), 2);
    const expired = byTitle('Expire points');
    expect(expired.pointsExpired).toBeGreaterThan(0);
    const summary = byTitle('Summary');
    const liability = byTitle('Liability');
    expect(summary.reconciliation.ok).toBe(true);
    expect(liability.outstandingPoints).toBe(summary.outstanding);
    // The ledger it leaves is a real one: the member list adds up to the liability.
    const list = runCli(['member', 'list', '--json'], { db: join(dir, 'pointsmall-demo.db') }).json();
    expect(list.reduce((a: number, m: { balance: number }) => a + m.balance, 0)).toBe(liability.outstandingPoints);
  });

  it('narrates for a person: the checkout line names what is available beside the balance that still holds lapsed lots', () => {
    const dir = tmpDir();
    const r = runCli(['demo'], { cwd: dir, env: { POINTSMALL_NOW: undefined, POINTSMALL_DB: undefined } });
    expect(r.code, r.stderr).toBe(0);
    // its clock in the demo ledger's zone (Asia/Shanghai), as with --db naming that ledger
    expect(r.stdout).toContain('the clock is set to 2026-11-20 10:00 ');
    const paid = /order ORD-000001 paid: .*; earned (\d+); balance now (\d+), available (\d+)/.exec(r.stdout);
    expect(paid, r.stdout).not.toBeNull();
    const [earned, balance, available] = paid!.slice(1).map(Number);
    // 5000 spent of 5000 available: what is left to spend is what the order earned; the rest of the
    // balance is the lapsed lots the step before named
    expect(available).toBe(earned);
    const pending = /(\d+) of them expired, pending the expiry run/.exec(r.stdout);
    expect(balance - available).toBe(Number(pending![1]));
  });

  it('runs again over its own ledger, but never overwrites a file it did not make', () => {
    const dir = tmpDir();
    expect(runCli(['demo', '--json'], { cwd: dir, env: { POINTSMALL_DB: undefined } }).code).toBe(0);
    expect(runCli(['demo', '--json'], { cwd: dir, env: { POINTSMALL_DB: undefined } }).code).toBe(0);
    const precious = join(dir, 'books.db');
    writeFileSync(precious, 'not yours');
    const r = runCli(['demo', '--db', precious]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not made by pointsmall demo/);
    // --force never erases a file that is not a ledger, even with --yes
    const forced = runCli(['demo', '--db', precious, '--force', '--yes']);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toMatch(/not a pointsmall ledger/);
    expect(readFileSync(precious, 'utf8')).toBe('not yours');
  });

  it('builds ./pointsmall-demo.db even where $POINTSMALL_DB names the shop\'s ledger, which it leaves alone and says so', () => {
    const dir = tmpDir();
    const shop = join(dir, 'points.db');
    expect(runCli(['init', '--timezone', 'UTC'], { db: shop }).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A'], { db: shop }).code).toBe(0);
    const before = readFileSync(shop);
    const r = runCli(['demo'], { cwd: dir, db: shop });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: the demo builds its own ledger, ./pointsmall-demo.db; it leaves $POINTSMALL_DB (${shop}) as it is (pass --db to build the demo elsewhere)`);
    expect(r.stdout).toContain('export POINTSMALL_DB=./pointsmall-demo.db');
    expect(readFileSync(shop).equals(before)).toBe(true);
    expect(runCli(['member', 'show', 'M001', '--json'], { db: join(dir, 'pointsmall-demo.db') }).code).toBe(0);
    // the same again: the demo's own ledger is rebuilt, the shop's still untouched
    expect(runCli(['demo', '--json'], { cwd: dir, db: shop }).code).toBe(0);
    expect(readFileSync(shop).equals(before)).toBe(true);
  });

  it('demo --force over a real ledger needs --yes where nobody can be asked, and keeps the ledger aside', () => {
    const dir = tmpDir();
    const real = join(dir, 'real.db');
    expect(runCli(['init', '--timezone', 'UTC'], { db: real }).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A'], { db: real }).code).toBe(0);
    const r = runCli(['demo', '--db', real, '--force', '--json'], { env: { POINTSMALL_DB: undefined } });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim()).error.code).toBe('CONFIRMATION_REQUIRED');
    expect(runCli(['member', 'show', 'M1', '--json'], { db: real }).code).toBe(0);
    const ok = runCli(['demo', '--db', real, '--force', '--yes', '--json'], { env: { POINTSMALL_DB: undefined } });
    expect(ok.code).toBe(0);
    const previous = ok.json().previous as string;
    expect(previous).toMatch(/real\.db\.before-demo-/);
    expect(runCli(['member', 'show', 'M1', '--json'], { db: previous }).json().name).toBe('A');
  });
});

describe('pointsmall demo over a demo ledger with work added since', () => {
  const demoDb = (dir: string) => join(dir, 'pointsmall-demo.db');
  const inDir = (dir: string) => ({ cwd: dir, env: { POINTSMALL_DB: undefined } });

  /** A demo ledger in a fresh folder with work added after the demo built it (777 points credited to M002). */
  const demoWithWork = () => {
    const dir = tmpDir();
    expect(runCli(['demo', '--json'], inDir(dir)).code).toBe(0);
    const db = demoDb(dir);
    expect(runCli(['member', 'adjust', 'M002', '--points', '777', '--reason', 'real credit'], { db }).code).toBe(0);
    return { dir, db };
  };

  it('refuses to rebuild it without --force (exit 2, hint naming --force) and keeps the work', () => {
    const { dir, db } = demoWithWork();
    const before = runCli(['member', 'show', 'M002', '--json'], { db }).json().balance as number;
    const r = runCli(['demo', '--json'], inDir(dir));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.message).toMatch(/work added after the demo built it/);
    expect(err.hint).toMatch(/--force/);
    expect(runCli(['member', 'show', 'M002', '--json'], { db }).json().balance).toBe(before);
    // a new member and no entry is work too
    const dir2 = tmpDir();
    expect(runCli(['demo', '--json'], inDir(dir2)).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'N9', '--name', 'New'], { db: demoDb(dir2) }).code).toBe(0);
    expect(runCli(['demo', '--json'], inDir(dir2)).code).toBe(2);
    expect(runCli(['member', 'show', 'N9', '--json'], { db: demoDb(dir2) }).code).toBe(0);
  });

  it('with --force: the --yes rule where nobody can be asked, then the ledger kept aside as LEDGER.before-demo-TIME', () => {
    const { dir, db } = demoWithWork();
    const credited = runCli(['member', 'show', 'M002', '--json'], { db }).json().balance as number;
    const asked = runCli(['demo', '--force', '--json'], inDir(dir));
    expect(asked.code).toBe(2);
    expect(JSON.parse(asked.stderr.trim()).error.code).toBe('CONFIRMATION_REQUIRED');
    expect(runCli(['member', 'show', 'M002', '--json'], { db }).json().balance).toBe(credited);
    // on the machine's clock, as a person runs it: the copy is named when it was kept, not by the demo's
    // story clock (trial 39: "before-demo-2026-11-20T02-00-00-000Z", whatever the day)
    const ok = runCli(['demo', '--force', '--yes', '--json'], { cwd: dir, env: { POINTSMALL_DB: undefined, POINTSMALL_NOW: undefined } });
    expect(ok.code, ok.stderr).toBe(0);
    const { previous: kept, erased } = ok.json();
    const stamp = /^\.\/pointsmall-demo\.db\.before-demo-(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/.exec(kept);
    expect(stamp, kept).not.toBeNull();
    const keptAt = Date.parse(`${stamp![1]}T${stamp![2]}:${stamp![3]}:${stamp![4]}.${stamp![5]}Z`);
    expect(Math.abs(keptAt - Date.now())).toBeLessThan(3_600_000);
    const previous = join(dir, kept);
    expect(erased.entries).toBeGreaterThan(0);
    expect(runCli(['member', 'show', 'M002', '--json'], { db: previous }).json().balance).toBe(credited);
    expect(runCli(['member', 'show', 'M002', '--json'], { db }).json().balance).toBe(credited - 777);
    // the rebuilt ledger is the demo's own again: a further demo needs no --force and keeps no copy
    const again = runCli(['demo', '--json'], inDir(dir));
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ previous: null, erased: null });
    expect(readdirSync(dir).filter((f) => f.includes('.before-demo-'))).toHaveLength(1);
  });
});
