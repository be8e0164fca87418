// Issue 14, items 5, 6, 7, 9, 12, 13, 14: stored rules read back, numbers stay in exact range, dates are
// never moved, one huge order is refused, ids are clean text, every expiry is notified, liability keeps
// debt apart. Each case failed on the code before its fix.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, tmpLedger, openLedgerDb } from '../helpers/cli.js';

const T = (d: string) => `${d}T10:00:00+08:00`;

function csv(t: TmpLedger, name: string, text: string): string {
  const f = join(t.dir, name);
  writeFileSync(f, text);
  return f;
}

function errorOf(r: { stderr: string }): { code: string; message: string } {
  return JSON.parse(r.stderr.trim().split('\n').pop()!).error;
}

describe('every expiry is notified (item 13)', () => {
  it('a second run for the same member and as-of date queues its own points.expired', () => {
    const t = tmpLedger({ now: T('2025-01-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann', '--phone', '+8613800000001'], { now: T('2025-01-01') });
    t.ok(['import', 'purchases', csv(t, 'a.csv', 'order_id,member_id,purchased_at,amount\nA1,m1,2025-01-10 10:00,100.00\n')], { now: T('2025-01-10') });
    expect(t.ok(['expire', 'run'])).toMatchObject({ asOf: '2026-11-23', lotsExpired: 1, pointsExpired: 100 });
    // a backdated import adds another lapsed lot; the same day's run expires it
    t.ok(['import', 'purchases', csv(t, 'b.csv', 'order_id,member_id,purchased_at,amount\nB1,m1,2025-02-01 10:00,40.00\n')]);
    expect(t.ok(['expire', 'run'])).toMatchObject({ asOf: '2026-11-23', lotsExpired: 1, pointsExpired: 40 });
    const expired = (t.ok(['outbox', 'list', '--topic', 'points.expired']) as { memberId: string; payload: { points: number } }[]).map((n) => [n.memberId, n.payload.points]);
    expect(expired.sort()).toEqual([['m1', 100], ['m1', 40]].sort());
    // a run that expires nothing queues nothing
    expect(t.ok(['expire', 'run'])).toMatchObject({ lotsExpired: 0 });
    expect(t.ok(['outbox', 'list', '--topic', 'points.expired'])).toHaveLength(2);
    expect(t.verify().ok).toBe(true);
  });
});

describe('report liability keeps member debt apart (item 14)', () => {
  it('outstanding points are the points members hold; debt is shown, not netted', () => {
    const t = tmpLedger({ now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'rich', '--name', 'Ann'], { now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'debtor', '--name', 'Bo'], { now: T('2026-11-01') });
    t.ok(['import', 'purchases', csv(t, 'a.csv', 'order_id,member_id,purchased_at,amount\nR1,rich,2026-11-02 10:00,1000.00\nD1,debtor,2026-11-02 10:00,300.00\n')], { now: T('2026-11-02') });
    t.ok(['member', 'adjust', 'debtor', '--points', '-300', '--reason', 'spent', '--yes'], { now: T('2026-11-03') });
    t.ok(['import', 'purchases', csv(t, 'b.csv', 'order_id,member_id,purchased_at,amount\nD2,debtor,2026-11-04 10:00,-300.00\n')], { now: T('2026-11-04') });
    expect(t.ok(['member', 'show', 'debtor']).balance).toBe(-300);
    for (const args of [[], ['--as-of', '2026-11-10']]) {
      const l = t.ok(['report', 'liability', ...args]);
      const buckets = (l.byExpiryMonth as { points: number }[]).reduce((a, b) => a + b.points, 0);
      expect(l).toMatchObject({ outstandingPoints: 1000, value: '10.00', memberDebt: 300, netPoints: 700, currency: 'CNY' });
      expect(l.outstandingPoints).toBe(buckets);
    }
    const table = t.run(['report', 'liability', '--format', 'csv']);
    expect(table.code).toBe(0);
    expect(t.verify().ok).toBe(true);
  });
});

describe('stored rules always read back (item 5)', () => {
  it('refuses a multiplier finer than 6 decimal places, naming it; nothing is stored', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const f = csv(t, 'r.json', JSON.stringify({ earn: { multipliers: [{ sku: 'TEA', multiplier: '0.0000001' }] } }));
    const r = t.run(['rules', 'apply', f, '--json']);
    expect(r.code).toBe(2);
    expect(errorOf(r).message).toContain('$.earn.multipliers[0].multiplier: 0.0000001 has more than 6 decimal places');
    const big = t.run(['rules', 'apply', csv(t, 'b.json', JSON.stringify({ tiers: [{ name: 'g', multiplier: 1e6 }] })), '--json']);
    expect(big.code).toBe(2);
    expect(errorOf(big).message).toContain('$.tiers[0].multiplier: must be at most 100');
    expect(t.ok(['rules', 'history'])).toHaveLength(1);
    // the finest rate allowed is stored as written and every command still runs
    t.ok(['rules', 'apply', csv(t, 'ok.json', JSON.stringify({ earn: { pointsPerUnit: 0.000001, multipliers: [{ sku: 'TEA', multiplier: '0.000001' }] } }))]);
    expect(t.ok(['rules', 'show']).rules.earn).toMatchObject({ pointsPerUnit: '0.000001', multipliers: [{ sku: 'TEA', multiplier: '0.000001' }] });
    t.ok(['member', 'adjust', 'm1', '--points', '10', '--reason', 'x']);
    expect(t.run(['import', 'purchases', csv(t, 'p.csv', 'order_id,member_id,purchased_at,amount\nO1,m1,2026-11-23 09:00,5.00\n'), '--json']).code).toBe(0);
  });

  it('a version stored as 1e-7 by an older build reads back: import, checkout and adjust run', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00']);
    const doc = { earn: { pointsPerUnit: '1', rounding: 'floor', minOrderAmount: '0.00', maxPointsPerOrder: null, multipliers: [{ sku: 'TEA', multiplier: '1e-7' }] },
      tiers: [], redeem: { pointsPerUnit: '100', minPoints: 0, maxRatio: '1' }, expiry: { policy: 'rolling-days', days: 365 }, limits: { dailyEarnCap: null, reviewAbove: null } };
    const db = openLedgerDb(t.db);
    db.prepare('INSERT INTO rules_versions (effective_at, applied_at, operator, source, document) VALUES (?, ?, ?, ?, ?)').run(
      '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z', 'old', 'old.json', JSON.stringify(doc));
    db.close();
    expect(t.run(['import', 'purchases', csv(t, 'p.csv', 'order_id,member_id,purchased_at,amount,sku\nO1,m1,2026-11-23 09:00,5.00,TEA\n'), '--json']).code).toBe(0);
    t.ok(['member', 'adjust', 'm1', '--points', '500', '--reason', 'x']);
    expect(t.ok(['checkout', '--member', 'm1', '--item', 'TEA', '--max-points', '--tender', 'cash', '--yes'])).toMatchObject({ status: 'paid' });
    expect(t.ok(['rules', 'show']).rules.earn.multipliers[0].multiplier).toBe('1e-7');
    // a stored version that cannot be read at all is a clear exit 2 naming it, not an internal error
    const db2 = openLedgerDb(t.db);
    db2.prepare("UPDATE rules_versions SET document = '{\"earn\":{\"rounding\":\"up\"}}' WHERE operator = 'old'").run();
    db2.close();
    const bad = t.run(['member', 'adjust', 'm1', '--points', '5', '--reason', 'x', '--json']);
    expect(bad.code).toBe(2);
    expect(errorOf(bad).message).toMatch(/stored rules version \d+ cannot be read: \$\.earn\.rounding/);
  });
});

describe('numbers never leave exact integer range (item 6)', () => {
  const HEADER = 'order_id,member_id,purchased_at,amount\n';

  it('an amount past 10^12 minor units is a rejected row, never a balance past 2^53', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const rows = Array.from({ length: 1001 }, (_, i) => `O${i},m1,2026-11-20 10:00,9007199254740.99`).join('\n');
    const r = t.run(['import', 'purchases', csv(t, 'big.csv', HEADER + rows + '\nOK,m1,2026-11-20 10:00,1.00\n'), '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1001, pointsAccrued: 1 });
    expect(readFileSync(join(t.dir, 'big.rejects.csv'), 'utf8')).toContain('too large an amount (at most 10000000000.00)');
    expect(t.ok(['member', 'show', 'm1']).balance).toBe(1);
  });

  it('returns that would take a member\'s debt past the ceiling of 10^12 are rejected rows, never a balance past 2^53 (trial 41)', () => {
    // each return takes back 9,999,999,999 points: 100 of them make a debt just under 10^12, the 101st would pass it
    const t = tmpLedger({ now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2026-11-01') });
    const rows = Array.from({ length: 102 }, (_, i) => `R${i},m1,2026-11-20 10:00,-9999999999.99`).join('\n');
    const r = t.run(['import', 'purchases', csv(t, 'r.csv', HEADER + rows + '\nP1,m1,2026-11-21 10:00,0.07\n'), '--json'], { now: T('2026-11-22') });
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 101, rejected: 2, pointsReturned: 999999999900 });
    const rejects = readFileSync(join(t.dir, 'r.rejects.csv'), 'utf8');
    // orders of one instant go by id (R0, R1, R10, R100 … R98, R99): the last two are refused
    expect(rejects).toContain('return R98 would take back 9999999999 points, past the ceiling of 1000000000000 points for an order or a member\'s debt');
    expect(rejects).toContain('return R99 would take back');
    expect(t.ok(['member', 'show', 'm1'], { now: T('2026-11-22') })).toMatchObject({ balance: -999999999900, debt: 999999999900 }); // (P1's 0.07 earns no point)
    expect(t.verify().ok).toBe(true);
  });

  it('a void that would leave a member owing past the ceiling is refused, exit 3 POINTS_CEILING, nothing voided (trial 41)', () => {
    const t = tmpLedger({ now: T('2026-01-01') });
    t.ok(['rules', 'apply', csv(t, 'r.json', JSON.stringify({ earn: { pointsPerUnit: '1000' }, expiry: { policy: 'never' } })), '--effective', '2026-01-01'], { now: T('2026-01-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2026-01-01') });
    t.ok(['catalog', 'add', '--sku', 'BIG', '--name', 'Big', '--price', '10000000000.00'], { now: T('2026-01-01') });
    t.ok(['import', 'purchases', csv(t, 'p.csv', HEADER + 'P1,m1,2026-01-02 10:00,1000000000.00\n')], { now: T('2026-01-03') });
    t.ok(['checkout', '--member', 'm1', '--item', 'BIG', '--max-points', '--yes'], { now: T('2026-01-04') });
    // a return of the same size: a debt of exactly 10^12, at the ceiling, accepted
    t.ok(['import', 'purchases', csv(t, 'r.csv', HEADER + 'R1,m1,2026-01-05 10:00,-1000000000.00\n')], { now: T('2026-01-06') });
    expect(t.ok(['member', 'show', 'm1'], { now: T('2026-01-06') })).toMatchObject({ debt: 1e12 });
    const v = t.run(['import', 'void', '1', '--yes', '--json'], { now: T('2026-01-07') });
    expect(v.code).toBe(3);
    expect(errorOf(v)).toMatchObject({ code: 'POINTS_CEILING' });
    expect(errorOf(v).message).toContain('the void would leave member m1 owing 2000000000000 points, past the ceiling of 1000000000000 points');
    expect(t.ok(['member', 'show', 'm1'], { now: T('2026-01-07') })).toMatchObject({ debt: 1e12 });
    expect(t.ok(['import', 'list'], { now: T('2026-01-07') })[0]).toMatchObject({ id: 1, voided: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('an order whose points would pass the ceiling of 10^12 is rejected; adjust and checkout refuse it too', () => {
    const t = tmpLedger({ now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2026-11-01') });
    t.ok(['rules', 'apply', csv(t, 'r.json', JSON.stringify({ earn: { pointsPerUnit: '1000' } })), '--effective', '2026-11-01'], { now: T('2026-11-01') });
    const r = t.run(['import', 'purchases', csv(t, 'a.csv', HEADER + 'A,m1,2026-11-20 10:00,10000000000.00\nB,m1,2026-11-20 11:00,1000000000.00\nC,m1,2026-11-20 12:00,0.01\n'), '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 2, pointsAccrued: 1e12 });
    const rejects = readFileSync(join(t.dir, 'a.rejects.csv'), 'utf8');
    expect(rejects).toContain('order A would earn 10000000000000 points, past the ceiling of 1000000000000 points');
    expect(rejects).toContain('order C would earn 10 points, past the ceiling');
    expect(t.ok(['member', 'show', 'm1']).balance).toBe(1e12);
    // the balance stays exact: a debit of one point and verify
    expect(t.ok(['member', 'adjust', 'm1', '--points', '-1', '--reason', 'x', '--yes'], { now: T('2026-11-21') }).balance).toBe(1e12 - 1);
    expect(t.verify().ok).toBe(true);
    const up = t.run(['member', 'adjust', 'm1', '--points', '2', '--reason', 'x', '--json'], { now: T('2026-11-21') });
    expect(up.code).toBe(3);
    expect(errorOf(up)).toMatchObject({ code: 'POINTS_CEILING' });
    const huge = t.run(['member', 'adjust', 'm1', '--points', '-9007199254740991', '--reason', 'x', '--yes', '--json']);
    expect(huge.code).toBe(2);
    expect(errorOf(huge).message).toContain('past the ceiling of 1000000000000 points');
    // catalog prices and checkout totals
    expect(t.run(['catalog', 'add', '--sku', 'GOLD', '--name', 'Gold', '--price', '10000000000.01', '--json']).code).toBe(2);
    t.ok(['catalog', 'add', '--sku', 'GOLD', '--name', 'Gold', '--price', '10000000000.00']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '1.00']);
    const two = t.run(['checkout', 'quote', '--member', 'm1', '--item', 'GOLD:2', '--no-points', '--json']);
    expect(two.code).toBe(2);
    expect(errorOf(two).message).toContain('past the ceiling of 10000000000.00 for one order');
    const earn = t.run(['checkout', '--member', 'm1', '--item', 'TEA', '--no-points', '--tender', 'cash', '--yes', '--json']);
    expect(earn.code).toBe(3);
    expect(errorOf(earn)).toMatchObject({ code: 'POINTS_CEILING' });
    expect(t.ok(['member', 'show', 'm1']).balance).toBe(1e12 - 1);
    // a balance near the ceiling (an adjust: no lifetime points) may earn what the checkout's own points make room for
    t.ok(['member', 'add', '--id', 'm2', '--name', 'Bo']);
    t.ok(['member', 'adjust', 'm2', '--points', String(1e12 - 499), '--reason', 'x']);
    const room = t.ok(['checkout', '--member', 'm2', '--item', 'TEA', '--points', '50', '--tender', 'cash', '--yes']);
    expect(room).toMatchObject({ pointsUsed: 50, pointsEarned: 500, balance: 1e12 - 49 });
    expect(t.verify().ok).toBe(true);
  });
});

describe('dates are never moved (item 7)', () => {
  it('refuses years before 1970 everywhere a date is read, naming the floor', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const file = csv(t, 'old.csv', 'order_id,member_id,purchased_at,amount\nA,m1,0001-01-01,10.00\nB,m1,0070-06-01 10:00,10.00\nC,m1,1969-12-31,10.00\nD,m1,1970-01-02,10.00\n');
    const r = t.run(['import', 'purchases', file, '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 3 });
    const rejects = readFileSync(join(t.dir, 'old.rejects.csv'), 'utf8');
    expect(rejects).toContain('purchased_at \\"0001-01-01\\" is before 1970-01-01, the earliest date pointsmall takes'.replace(/\\"/g, '""'));
    expect(rejects.match(/before 1970-01-01/g)).toHaveLength(3);
    expect(rejects).not.toMatch(/^5,/m);
    const fmt = t.run(['import', 'purchases', csv(t, 'fmt.csv', 'order_id,member_id,purchased_at,amount\nE,m1,1/6/0070,10.00\n'), '--date-format', 'D/M/YYYY', '--json']);
    expect(fmt.code).toBe(2); // its one row rejected: the whole file, exit 2
    expect(errorOf(fmt).message).toContain('every row was rejected');
    expect((t.ok(['member', 'show', 'm1']).lots as { earnedAt: string }[]).map((l) => l.earnedAt.slice(0, 4))).toEqual(['1970']);

    const early = (args: string[], env: Record<string, string> = {}) => {
      const x = t.run([...args, '--json'], { env });
      expect(x.code, args.join(' ')).toBe(2);
      expect(x.stdout).toBe('');
      expect(x.stderr).toMatch(/before 1970-01-01/);
    };
    const rules = csv(t, 'r.json', '{}');
    early(['rules', 'apply', rules, '--effective', '0001-01-01']);
    early(['rules', 'apply', rules, '--effective', '0099-12-31T10:00:00Z']);
    early(['rules', 'show', '--at', '0001-01-01']);
    early(['report', 'liability', '--as-of', '0001-01-01']);
    early(['report', 'summary', '--from', '0099-01-01']);
    early(['member', 'history', 'm1', '--to', '1900-01-01']);
    early(['expire', 'run', '--as-of', '0001-01-01']);
    early(['member', 'show', 'm1'], { POINTSMALL_NOW: '0001-01-01T00:00:00Z' });
    expect(t.ok(['rules', 'history'])).toHaveLength(1);
  });

  it('a date in another format is not "before 1970": the reason says the format is not read and names --date-format', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const rows = ['11/03/2026', '11/3/26', '2026/11/03', '03.11.2026', '0099-01-01', '2026-02-30', '2026-11-03'];
    const file = csv(t, 'us.csv', 'order_id,member_id,purchased_at,amount\n' + rows.map((d, i) => `O${i},M1,${d},30`).join('\n') + '\n');
    const r = t.run(['import', 'purchases', file, '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 6 });
    const reasons = (r.json().firstRejects as { line: number; reason: string }[]).map((x) => x.reason);
    for (const [i, d] of ['11/03/2026', '11/3/26', '2026/11/03', '03.11.2026'].entries()) {
      expect(reasons[i]).toBe(`purchased_at "${d}" is not in a format pointsmall reads (expected an ISO date or date-time like 2026-11-01 09:30); for another format pass --date-format, e.g. "M/D/YYYY H:mm", "D/M/YY" or "DD.MM.YYYY HH:mm:ss"`);
    }
    // an ISO date keeps its own reasons: before the floor, or no such day
    expect(reasons[4]).toBe('purchased_at "0099-01-01" is before 1970-01-01, the earliest date pointsmall takes');
    expect(readFileSync(join(t.dir, 'us.rejects.csv'), 'utf8')).toContain('purchased_at ""2026-02-30"" is not a valid date-time: February 2026 has 28 days (expected an ISO date or date-time like 2026-11-01 09:30)"');
    // with the format it names, the same value is read
    const us = csv(t, 'us2.csv', 'order_id,member_id,purchased_at,amount\nU1,M1,11/03/2026,30\nU2,M1,11/3/26,30\n');
    expect(t.ok(['import', 'purchases', us, '--date-format', 'M/D/YYYY', '--date-format', 'M/D/YY'])).toMatchObject({ accepted: 2, rejected: 0, firstPurchasedAt: '2026-11-02T16:00:00.000Z' });
    // import activities says the same
    t.ok(['rules', 'apply', csv(t, 'acts.json', JSON.stringify({ activities: [{ name: 'review', points: 10 }] })), '--effective', '2020-01-01']);
    const acts = t.run(['import', 'activities', csv(t, 'a.csv', 'activity,member_id,ref,occurred_at\nreview,M1,R1,11/03/2026\nreview,M1,R2,2026-11-03\n'), '--json']);
    expect(acts.code).toBe(4);
    expect(readFileSync(join(t.dir, 'a.rejects.csv'), 'utf8')).toContain('is not in a format pointsmall reads');
  });

  it('the last day there is, 9999-12-31, is read everywhere a report takes a date (it crashed summary, liability and daily activity)', () => {
    const t = tmpLedger({ now: T('2025-01-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2025-01-01') });
    t.ok(['member', 'adjust', 'm1', '--points', '100', '--reason', 'x'], { now: T('2025-01-01') });
    const last = '9999-12-31';
    expect(t.ok(['report', 'summary', '--to', last])).toMatchObject({ to: last, issued: 0, adjusted: 100, closingBalance: 100 });
    expect(t.ok(['report', 'summary', '--from', last, '--to', last])).toMatchObject({ openingBalance: 100, closingBalance: 100 });
    // on that day the lot made on 2025-01-01 has long lapsed
    expect(t.ok(['report', 'liability', '--as-of', last])).toMatchObject({ outstandingPoints: 0 });
    expect(t.ok(['report', 'liability', '--as-of', '9999-12-30'])).toMatchObject({ outstandingPoints: 0 });
    const days = t.ok(['report', 'activity', '--by', 'day', '--from', '9999-12-30', '--to', last]);
    expect(days.buckets.map((b: { bucket: string }) => b.bucket)).toEqual(['9999-12-30', last]);
  });

  it('a spend is never dated before the points it spends (a backfill with POINTSMALL_NOW in the past): exit 3 EARNED_LATER, nothing written', () => {
    const t = tmpLedger({ now: T('2025-01-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2025-01-01') });
    t.ok(['catalog', 'add', '--sku', 'G', '--name', 'gift', '--price', '10.00'], { now: T('2025-01-01') });
    t.ok(['member', 'adjust', 'm1', '--points', '300', '--reason', 'early'], { now: T('2025-03-01') });
    t.ok(['member', 'adjust', 'm1', '--points', '1000', '--reason', 'late'], { now: T('2026-06-01') });
    const entries = t.ok(['ledger', 'entries']).length;
    const back = T('2025-06-01');
    for (const args of [
      ['checkout', '--member', 'm1', '--item', 'G', '--points', '1000', '--yes', '--json'],
      ['member', 'adjust', 'm1', '--points', '-500', '--reason', 'x', '--yes', '--json'],
    ]) {
      const r = t.run(args, { now: back });
      expect(r.code, r.stderr).toBe(3);
      expect(errorOf(r)).toMatchObject({ code: 'EARNED_LATER' });
      expect(errorOf(r).message).toContain('include 1000 earned after 2025-06-01 10:00,');
    }
    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    // what was earned before it may be spent then
    expect(t.ok(['member', 'adjust', 'm1', '--points', '-200', '--reason', 'backfilled', '--yes'], { now: back }).available).toBe(1100);
    const hint = errorOf(t.run(['member', 'adjust', 'm1', '--points', '-1100', '--reason', 'x', '--yes', '--json'], { now: back })).hint;
    expect(hint).toBe('run it at the real time (POINTSMALL_NOW unset), or use fewer points');
    // with the clock's own time, such a refusal is another command that wrote meanwhile (this one waited
    // for the ledger, dated when it began: trial 43b), or a change dated ahead: the hint says both
    t.ok(['member', 'adjust', 'm1', '--points', '50', '--reason', 'ahead'], { now: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    const live = t.run(['member', 'adjust', 'm1', '--points', '-1150', '--reason', 'x', '--yes', '--json'], { env: { POINTSMALL_NOW: undefined } });
    expect(live.code, live.stderr).toBe(3);
    expect(errorOf(live)).toMatchObject({ code: 'EARNED_LATER' });
    expect(errorOf(live).hint).toBe(
      'the ledger holds a change dated after this command began: another command wrote it meanwhile (this one waited for the ledger, and is dated when it began): run it again, or use fewer points; if it is refused again, a change was dated ahead of this clock (another till\'s POINTSMALL_NOW or clock)',
    );
    expect(t.verify().ok).toBe(true);
  });

  // Trial 40: a refund, a confirm or a cancel dated before the order (POINTSMALL_NOW set back) was written,
  // and a report as of that past day counted points that never existed then (held points below zero).
  it('a change to an order is never dated before the order\'s last change: exit 3 DATED_BEFORE_ORDER, nothing written', () => {
    const t = tmpLedger({ now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'y', '--name', 'Yu'], { now: T('2026-11-01') });
    t.ok(['catalog', 'add', '--sku', 'G', '--name', 'gift', '--price', '10.00'], { now: T('2026-11-01') });
    t.ok(['member', 'adjust', 'y', '--points', '1000', '--reason', 'seed'], { now: T('2026-11-01') });
    const paid = t.ok(['checkout', '--member', 'y', '--item', 'G', '--points', '500', '--yes'], { now: T('2026-11-20') });
    const held = t.ok(['checkout', 'start', '--member', 'y', '--item', 'G', '--points', '100'], { now: T('2026-11-20') });
    const entries = t.ok(['ledger', 'entries']).length;
    for (const args of [
      ['order', 'refund', paid.orderId, '--yes', '--json'],
      ['checkout', 'confirm', held.orderId, '--yes', '--json'],
      ['checkout', 'confirm', held.orderId, '--decline', '--yes', '--json'],
      ['checkout', 'cancel', held.orderId, '--json'],
    ]) {
      const r = t.run(args, { now: T('2026-11-19') });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(errorOf(r)).toMatchObject({ code: 'DATED_BEFORE_ORDER' });
      expect(errorOf(r).message).toContain('2026-11-19 10:00, before its last change at 2026-11-20 10:00');
    }
    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    expect(t.ok(['order', 'show', held.orderId], { now: T('2026-11-20') }).status).toBe('held');
    expect(t.ok(['report', 'liability', '--as-of', '2026-11-19'], { now: T('2026-11-21') })).toMatchObject({ outstandingPoints: 1000, heldPoints: 0 });
    // at or after that time they go through
    expect(t.ok(['order', 'refund', paid.orderId, '--yes'], { now: T('2026-11-20') }).status).toBe('refunded');
    expect(t.ok(['checkout', 'cancel', held.orderId], { now: T('2026-11-20') }).status).toBe('cancelled');
    expect(t.verify().ok).toBe(true);
  });

  // Trial 40: a checkout dated before the coupon it used was issued wrote a ledger its own verify refused.
  it('a checkout is never dated before the coupon it uses was issued: exit 3, nothing written, verify passes', () => {
    const t = tmpLedger({ now: T('2026-11-01') });
    t.ok(['member', 'add', '--id', 'w', '--name', 'Wu'], { now: T('2026-11-01') });
    t.ok(['catalog', 'add', '--sku', 'CP', '--name', 'ten off', '--price', '10.00', '--pay', 'cash', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '30'], { now: T('2026-11-01') });
    t.ok(['catalog', 'add', '--sku', 'G', '--name', 'gift', '--price', '50.00'], { now: T('2026-11-01') });
    t.ok(['checkout', '--member', 'w', '--item', 'CP', '--yes'], { now: T('2026-11-20') });
    const code = (t.ok(['coupon', 'list', '--member', 'w']) as { code: string }[])[0].code;
    const entries = t.ok(['ledger', 'entries']).length;
    for (const args of [
      ['checkout', '--member', 'w', '--item', 'G', '--coupon', code, '--no-points', '--yes', '--json'],
      ['checkout', 'quote', '--member', 'w', '--item', 'G', '--coupon', code, '--json'],
    ]) {
      const r = t.run(args, { now: T('2026-11-10') });
      expect(r.code, r.stderr).toBe(3);
      expect(errorOf(r)).toMatchObject({ code: 'COUPON_INVALID' });
      expect(errorOf(r).message).toContain(`coupon ${code} was issued at 2026-11-20 10:00, after this checkout's time (2026-11-10 10:00)`);
    }
    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    expect(t.verify().ok).toBe(true);
    expect(t.ok(['checkout', '--member', 'w', '--item', 'G', '--coupon', code, '--no-points', '--yes'], { now: T('2026-11-21') }).discount).toBe('10.00');
  });

  it('expire run --as-of after today is refused unless --force', () => {
    const t = tmpLedger({ now: T('2025-01-01') });
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann'], { now: T('2025-01-01') });
    t.ok(['member', 'adjust', 'm1', '--points', '100', '--reason', 'x'], { now: T('2025-11-23') }); // expires 2026-11-23
    const r = t.run(['expire', 'run', '--as-of', '2026-11-24', '--json']);
    expect(r.code).toBe(2);
    expect(errorOf(r)).toMatchObject({ code: 'FUTURE_AS_OF' });
    expect(t.ok(['member', 'show', 'm1']).balance).toBe(100);
    expect(t.ok(['expire', 'run', '--as-of', '2026-11-24', '--force'])).toMatchObject({ lotsExpired: 1, pointsExpired: 100 });
  });
});

describe('text is clean (item 12)', () => {
  it('refuses ids with control characters, NUL or bytes that are not valid text, so distinct ids never collide', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const add = t.run(['member', 'add', '--id', 'm\uFFFD', '--name', 'Bo', '--json']);
    expect(add.code).toBe(2);
    expect(errorOf(add).message).toContain('U+FFFD');
    // bytes that are not UTF-8 stop the import (issue 16): exit 2 naming the line, nothing imported
    const f0 = join(t.dir, 'bytes.csv');
    writeFileSync(f0, Buffer.concat([Buffer.from('order_id,member_id,purchased_at,amount\nA'), Buffer.from([0xff]), Buffer.from(',m1,2026-11-20 10:00,10.00\n')]));
    const r0 = t.run(['import', 'purchases', f0, '--json']);
    expect(r0.code).toBe(2);
    expect(errorOf(r0).message).toContain(':2: bytes that are not UTF-8');
    // ids that carry a replacement character, a control character or NUL are rejected rows
    const f = join(t.dir, 'ids.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nA\uFFFD,m1,2026-11-20 10:00,10.00\nB\u0001,m1,2026-11-20 10:00,10.00\nC\u0000,m1,2026-11-20 10:00,10.00\nD,m1,2026-11-20 10:00,10.00\n');
    const r = t.run(['import', 'purchases', f, '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 3, pointsAccrued: 10 });
    const rejects = readFileSync(join(t.dir, 'ids.rejects.csv'), 'utf8');
    expect(rejects.match(/U\+FFFD/g)?.length).toBe(1);
    expect(rejects).toContain('contains a control character (U+0001)');
    expect(rejects).toMatch(/NUL/);
    expect(t.ok(['member', 'show', 'm1']).balance).toBe(10);
    // member import: an id with a replacement character is a rejected row; bad bytes stop the file
    const mf = join(t.dir, 'members.csv');
    writeFileSync(mf, 'id,name\nX\uFFFD,Xu\nY,Yu\n');
    const mi = t.run(['member', 'import', mf, '--json']);
    expect(mi.code).toBe(4);
    expect(t.run(['member', 'show', 'Y', '--json']).code).toBe(0);
    writeFileSync(mf, Buffer.concat([Buffer.from('id,name\nZ'), Buffer.from([0xff]), Buffer.from(',Zu\n')]));
    expect(t.run(['member', 'import', mf, '--json']).code).toBe(2);
  });

  it('free text never carries a terminal escape to the output: colour off, nothing; colour on, only the palette', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const evil = '\u001b]0;pwned\u0007\u001b[2J\u001b[8mhidden\u001b[31mred\u009b1m';
    t.ok(['member', 'adjust', 'm1', '--points', '5', '--reason', evil]);
    t.ok(['member', 'freeze', 'm1', '--reason', evil]);
    const views = [['member', 'show', 'm1'], ['member', 'history', 'm1'], ['audit', 'list'], ['ledger', 'entries']];
    for (const args of views) {
      const plain = t.run(args);
      expect(plain.code, args.join(' ')).toBe(0);
      expect(plain.stdout, args.join(' ')).toContain('hidden');
      expect(plain.stdout + plain.stderr, args.join(' ')).not.toMatch(/[\u001b\u0007\u009b]/);
      const coloured = t.run(args, { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
      expect(coloured.code).toBe(0);
      expect(coloured.stdout, args.join(' ')).not.toMatch(/\u001b\]|\u001b\[2J|\u001b\[8m|\u001b\[31mred|[\u0007\u009b]/);
    }
  });
});

describe('FORCE_COLOR on a pipe (trial 44a)', () => {
  it('puts no colour into piped output: every command pipes the same data, and grep finds a check by its mark', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    t.ok(['member', 'adjust', 'm1', '--points', '5', '--reason', 'welcome']);
    for (const env of [{ NO_COLOR: undefined, FORCE_COLOR: '1' }, { NO_COLOR: undefined, FORCE_COLOR: '3' }, { NO_COLOR: undefined, FORCE_COLOR: 'true' }]) {
      for (const args of [['member', 'show', 'm1'], ['member', 'list'], ['ledger', 'verify'], ['report', 'summary'], ['member', 'adjust', 'm1', '--points', '1', '--reason', 'x']]) {
        const r = t.run(args, { env });
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stdout, `${args.join(' ')} ${JSON.stringify(env)}`).not.toMatch(/\u001b/);
      }
      const checks = t.run(['ledger', 'verify'], { env }).stdout.split('\n').filter((l) => /^[✓✗] /.test(l));
      expect(checks.length).toBeGreaterThan(5);
    }
  });
});

describe('escapes in SKUs a ledger already holds (imported before control characters were refused)', () => {
  it('report recommend carries no escape of a SKU to the output: colour off, nothing; colour on, only the palette', () => {
    const t = tmpLedger();
    for (const id of ['N1', 'N2', 'N3']) t.ok(['member', 'add', '--id', id, '--name', id]);
    t.ok(['import', 'purchases', csv(t, 'p.csv', 'order_id,member_id,purchased_at,sku,quantity,unit_price\nY1,N1,2026-11-10 09:30,RXS,1,10.00\nY2,N2,2026-11-10 09:30,RXS,1,10.00\nY3,N1,2026-11-10 09:40,TXU,1,10.00\n')]);
    // as an older import stored them: an SGR colour, a title (OSC), a line break
    const db = openLedgerDb(t.db);
    db.prepare('UPDATE purchase_lines SET sku = ? WHERE sku = ?').run('R\u001b[31mS', 'RXS');
    db.prepare('UPDATE purchase_lines SET sku = ? WHERE sku = ?').run('T\u001b]0;x\u0007\nU', 'TXU');
    db.close();
    const args = ['report', 'recommend', '--member', 'N3'];
    expect(t.ok(args).recommendations.map((x: { sku: string }) => x.sku).sort()).toEqual(['R\u001b[31mS', 'T\u001b]0;x\u0007\nU']); // JSON: as stored
    const plain = t.run(args);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('R\uFFFDS');
    expect(plain.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
    for (const env of [{ NO_COLOR: undefined, FORCE_COLOR: '1' }, { NO_COLOR: undefined, FORCE_COLOR: '3' }]) {
      const coloured = t.run(args, { env });
      expect(coloured.code).toBe(0);
      expect(coloured.stdout).toContain('R\uFFFDS');
      expect(coloured.stdout).not.toMatch(/\u001b\[31mS|\u001b\]|[\u0007\u009b]/);
      const out = join(t.dir, `r${env.FORCE_COLOR}.txt`);
      expect(t.run([...args, '--out', out], { env }).code).toBe(0);
      expect(readFileSync(out, 'utf8')).not.toMatch(/[\u001b\u0007\u009b]/);
      const csvText = t.run([...args, '--format', 'csv'], { env });
      expect(csvText.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
    }
  });
});

describe('one huge order is refused, naming the likely wrong mapping (item 9)', () => {
  it('an order of more than 10,000 lines (order_id mapped to a country) is rejected whole; the others are accrued', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann']);
    const rows = ['Invoice,Country,member_id,purchased_at,quantity,unit_price'];
    for (let i = 0; i < 10_001; i++) rows.push(`I${i},DE,m1,2026-11-20 10:00,1,1.00`);
    rows.push('J1,FR,m1,2026-11-20 10:00,2,1.00');
    const r = t.run(['import', 'purchases', csv(t, 'retail.csv', rows.join('\n') + '\n'), '--map', 'order_id=Country', '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ rows: 10_002, accepted: 1, rejected: 10_001, pointsAccrued: 2 });
    const rejects = readFileSync(join(t.dir, 'retail.rejects.csv'), 'utf8').trim().split('\n');
    expect(rejects).toHaveLength(10_002);
    expect(rejects[1]).toContain('order DE has 10001 lines, more than 10000: is order_id mapped to the right column (--map order_id=');
  });
});
