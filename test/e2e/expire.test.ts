// `expire run` and `expire preview` as a cron job and an operator use them: exit codes, JSON, idempotence,
// backdated and future as-of dates, held points, all three expiry policies; ledger verify after each.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, sceneLedger } from '../helpers/cli.js';

const T = (d: string) => `${d}T10:00:00+08:00`;

function earn(t: TmpLedger, member: string, points: number, day: string) {
  return t.ok(['member', 'adjust', member, '--points', String(points), '--reason', 'bench', '--yes'], { now: T(day) });
}

function lots(t: TmpLedger, member: string, day = '2026-11-23') {
  return t.ok(['member', 'show', member], { now: T(day) }).lots as { points: number; remaining: number; expiresOn: string | null }[];
}

function verifyOk(t: TmpLedger) {
  const v = t.verify();
  expect(v.checks.filter((c) => !c.ok)).toEqual([]);
  expect(v.ok).toBe(true);
}

/** Each test gets its own copy of the two members, added once per file. */
function ledgerWith(): TmpLedger {
  const build = (t: TmpLedger) => {
    t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann', '--phone', '+8613800000001'], { now: T('2025-01-01') });
    t.ok(['member', 'add', '--id', 'm2', '--name', 'Bo', '--email', 'bo@example.com'], { now: T('2025-01-01') });
  };
  return sceneLedger('ledgerWith', build, { now: T('2025-01-01') });
}

describe('expire run', () => {
  it('fixes each lot\'s expiresOn by the policy in force when earned (rolling-days, end-of-year, never)', () => {
    const t = ledgerWith();
    const rules = (expiry: unknown) => {
      const f = join(t.dir, `rules-${Math.random()}.json`);
      writeFileSync(f, JSON.stringify({ expiry }));
      return f;
    };
    earn(t, 'm1', 100, '2025-03-10'); // init's rolling 365 days
    t.ok(['rules', 'apply', rules({ policy: 'end-of-year', years: 1 }), '--effective', '2025-06-01'], { now: T('2025-05-01') });
    earn(t, 'm1', 200, '2025-07-04');
    t.ok(['rules', 'apply', rules({ policy: 'never' }), '--effective', '2025-09-01'], { now: T('2025-08-01') });
    earn(t, 'm1', 300, '2025-09-15');
    t.ok(['rules', 'apply', rules({ policy: 'rolling-days', days: 30 }), '--effective', '2025-10-01'], { now: T('2025-09-20') });
    earn(t, 'm1', 400, '2025-10-05');
    expect(lots(t, 'm1', '2025-10-05').map((l) => [l.points, l.expiresOn])).toEqual([
      [400, '2025-11-04'],
      [100, '2026-03-10'],
      [200, '2026-12-31'],
      [300, null],
    ]);
    // a later rules change does not move existing lots' dates
    const run = (asOf: string, day: string) => t.ok(['expire', 'run', '--as-of', asOf, '--yes'], { now: T(day) });
    expect(run('2025-11-04', '2025-11-04')).toMatchObject({ lotsExpired: 0, pointsExpired: 0 }); // usable through expiresOn
    expect(run('2025-11-05', '2025-11-05')).toMatchObject({ lotsExpired: 1, pointsExpired: 400, members: 1 });
    expect(run('2027-01-01', '2027-01-01')).toMatchObject({ lotsExpired: 2, pointsExpired: 300, members: 1 });
    expect(lots(t, 'm1', '2027-01-01')).toEqual([expect.objectContaining({ points: 300, remaining: 300, expiresOn: null })]);
    verifyOk(t);
  });

  it('prints the spec\'s JSON summary, is idempotent, and a dry run writes nothing', () => {
    const t = ledgerWith();
    earn(t, 'm1', 100, '2025-01-10');
    earn(t, 'm2', 50, '2025-01-11');
    const now = { now: T('2026-01-20') };
    const dry = t.ok(['expire', 'run', '--dry-run'], now);
    expect(dry).toMatchObject({ asOf: '2026-01-20', lotsExpired: 2, pointsExpired: 150, members: 2, dryRun: true });
    expect(t.ok(['ledger', 'entries', '--kind', 'expiry'], now)).toEqual([]);
    const first = t.ok(['expire', 'run'], now);
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['asOf', 'lotsExpired', 'pointsExpired', 'members', 'dryRun']));
    expect(first).toMatchObject({ asOf: '2026-01-20', lotsExpired: 2, pointsExpired: 150, members: 2, dryRun: false });
    expect(t.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 0, pointsExpired: 0, members: 0 });
    expect(t.ok(['expire', 'run'], { now: T('2026-02-20') })).toMatchObject({ lotsExpired: 0, pointsExpired: 0 });
    expect(t.ok(['member', 'show', 'm1'], now)).toMatchObject({ balance: 0, available: 0, lots: [] });
    expect(t.ok(['report', 'summary'], now)).toMatchObject({ expired: 150 });
    verifyOk(t);
  });

  it('backdated and future as-of dates expire exactly the lots before them', () => {
    const t = ledgerWith();
    earn(t, 'm1', 10, '2025-01-10'); // expires 2026-01-10
    earn(t, 'm1', 20, '2025-03-01'); // 2026-03-01
    earn(t, 'm1', 40, '2025-06-01'); // 2026-06-01
    const now = { now: T('2026-04-15') };
    expect(t.ok(['expire', 'run', '--as-of', '2026-01-10', '--yes'], now)).toMatchObject({ lotsExpired: 0 });
    const back = t.ok(['expire', 'run', '--as-of', '2026-01-11', '--yes'], now);
    expect(back).toMatchObject({ lotsExpired: 1, pointsExpired: 10, at: '2026-01-10T15:59:59.999Z' });
    expect(t.ok(['expire', 'run', '--as-of', '2026-01-11', '--yes'], now)).toMatchObject({ lotsExpired: 0 });
    expect(t.ok(['expire', 'run'], now)).toMatchObject({ asOf: '2026-04-15', lotsExpired: 1, pointsExpired: 20 });
    // an as-of date after today expires points still usable today: refused (exit 2) unless --force
    const refused = t.run(['expire', 'run', '--as-of', '2026-07-01', '--json'], now);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr.trim()).error.code).toBe('FUTURE_AS_OF');
    expect(t.ok(['expire', 'run', '--as-of', '2026-07-01', '--dry-run'], now)).toMatchObject({ lotsExpired: 1, dryRun: true });
    const future = t.ok(['expire', 'run', '--as-of', '2026-07-01', '--force'], now);
    expect(future).toMatchObject({ lotsExpired: 1, pointsExpired: 40, at: new Date(T('2026-04-15')).toISOString() });
    const hist = t.ok(['ledger', 'entries', '--kind', 'expiry'], now) as { ref: string }[];
    expect(hist.map((e) => e.ref).sort()).toEqual(['expiry:2026-01-11', 'expiry:2026-04-15', 'expiry:2026-07-01']);
    verifyOk(t);
  });

  it('never expires points held by an open checkout; the checkout still completes', () => {
    const t = ledgerWith();
    earn(t, 'm1', 5000, '2025-01-10');
    const now = { now: T('2026-01-09') };
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '5'], now);
    const held = t.ok(['checkout', 'start', '--member', 'm1', '--item', 'TEA', '--points', '3000'], now);
    const r = t.ok(['expire', 'run', '--as-of', '2026-01-11', '--force'], now); // a day ahead
    expect(r).toMatchObject({ lotsExpired: 1, pointsExpired: 2000 });
    expect(t.ok(['member', 'show', 'm1'], now)).toMatchObject({ balance: 3000, held: 3000, available: 0 });
    verifyOk(t);
    const paid = t.ok(['checkout', 'confirm', held.checkoutId ?? held.orderId, '--tender', 'cash', '--yes'], now);
    expect(paid).toMatchObject({ status: 'paid', pointsUsed: 3000 });
    verifyOk(t);
  });

  it('is quiet with --quiet, and exits 2 on a bad --as-of or a missing ledger, writing nothing', () => {
    const t = ledgerWith();
    earn(t, 'm1', 10, '2025-01-10');
    const q = t.run(['expire', 'run', '--quiet'], { now: T('2026-02-01') });
    expect(q).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(t.ok(['member', 'show', 'm1'], { now: T('2026-02-01') }).balance).toBe(0);
    const bad = t.run(['expire', 'run', '--as-of', '2026-02-30', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(JSON.parse(bad.stderr).error.code).toBe('USAGE');
    const missing = t.run(['expire', 'run', '--db', join(t.dir, 'nope.db')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/pointsmall init/);
    verifyOk(t);
  });
});

describe('expire preview', () => {
  it('lists members, points and dates in the window and --notify queues points.expiring once per lot', () => {
    const t = ledgerWith();
    earn(t, 'm1', 10, '2025-11-25'); // 2026-11-25
    earn(t, 'm1', 20, '2025-12-20'); // 2026-12-20
    earn(t, 'm2', 30, '2026-02-01'); // 2027-02-01: outside
    const now = { now: T('2026-11-23') };
    const p = t.ok(['expire', 'preview', '--within', '30d'], now);
    expect(p).toMatchObject({ from: '2026-11-23', to: '2026-12-23', members: 1, points: 30, lots: 2, notificationsQueued: 0 });
    expect(p.rows[0]).toMatchObject({ memberId: 'm1', points: 30, firstExpiresOn: '2026-11-25', lastExpiresOn: '2026-12-20' });
    expect(t.ok(['outbox', 'list'], now)).toEqual([]);
    expect(t.ok(['expire', 'preview', '--within', '30d', '--notify'], now).notificationsQueued).toBe(2);
    expect(t.ok(['expire', 'preview', '--within', '30d', '--notify'], now).notificationsQueued).toBe(0);
    const box = t.ok(['outbox', 'list'], now) as { topic: string; channel: string; recipient: string; payload: { points: number; expiresOn: string } }[];
    expect(box.map((b) => [b.topic, b.channel, b.recipient, b.payload.points, b.payload.expiresOn])).toEqual([
      ['points.expiring', 'sms', '+8613800000001', 10, '2026-11-25'],
      ['points.expiring', 'sms', '+8613800000001', 20, '2026-12-20'],
    ]);
    const human = t.run(['expire', 'preview', '--within', '2w'], now);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toBe('member\tname\tpoints\tlots\tfirst expires\tdates');
    expect(t.run(['expire', 'preview', '--within', 'soon']).code).toBe(2);
    verifyOk(t);
  });
});
