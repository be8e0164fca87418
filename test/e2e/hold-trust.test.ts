// Trial 30 (hostile): a refused command released a run-out hold on its way (a write by a failed command),
// and a checkout whose held points a void or a return had taken back still confirmed, spending points the
// member no longer had.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

const HEADER = 'order_id,member_id,purchased_at,amount\n';
const at = (now: string) => ({ now });
const T0 = at('2026-01-01T08:00:00Z');

function file(t: TmpLedger, name: string, text: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, text);
  return p;
}

/** 10 points a yuan earned, 100 a yuan spent; A earns 1500 on 20 February. */
function shop(): TmpLedger {
  const t = tmpLedger(T0);
  t.ok(['rules', 'apply', file(t, 'r.json', JSON.stringify({ earn: { pointsPerUnit: '10' }, redeem: { pointsPerUnit: '100' }, expiry: { policy: 'rolling-days', days: 60 } })), '--effective', '2025-01-01'], T0);
  t.ok(['member', 'add', '--id', 'A', '--name', 'A'], T0);
  t.ok(['catalog', 'add', '--sku', 'MIX', '--name', 'Mixed', '--price', '100.00'], T0);
  t.ok(['import', 'purchases', file(t, 'p.csv', `${HEADER}O1,A,2026-02-20 10:00,150\n`), '--source', 'till'], at('2026-02-25T02:00:00Z'));
  return t;
}

describe('a failed command writes nothing, not even the release of a hold that ran out', () => {
  it('checkout of an unknown item (exit 2), of too many points (exit 3) and a confirm of the run-out hold (exit 3) leave the ledger as it was', () => {
    const t = shop();
    const held = t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], at('2026-02-25T02:00:00Z'));
    const later = at('2026-02-25T02:20:00Z');
    const bytes = () => ({ entries: t.ok(['ledger', 'entries'], later).length, audit: t.ok(['audit', 'list'], later).length, db: readFileSync(t.db).toString('base64') });
    const before = bytes();
    expect(t.run(['checkout', '--member', 'A', '--item', 'NOPE', '--tender', 'card', '--yes', '--json'], later).code).toBe(2);
    expect(t.run(['checkout', '--member', 'A', '--item', 'MIX', '--points', '99999', '--tender', 'card', '--yes', '--json'], later).code).toBe(3);
    expect(t.run(['checkout', 'confirm', held.checkoutId, '--tender', 'card', '--yes', '--json'], later).code).toBe(3);
    expect(t.run(['order', 'refund', held.checkoutId, '--yes', '--json'], later).code).toBe(3);
    expect(bytes()).toEqual(before);
    // and it reads as expired all along; the next write that succeeds releases it, dated when it ran out
    expect(t.ok(['order', 'show', held.checkoutId], later).status).toBe('expired');
    t.ok(['holds', 'release-expired'], later);
    const release = (t.ok(['ledger', 'entries'], later) as { kind: string; at: string }[]).find((e) => e.kind === 'release');
    expect(release?.at).toBe(held.expiresAt);
    expect(t.verify().ok).toBe(true);
  });
});

describe('held points a take-back reached cannot be spent (SPEC §4.6: a member in debt has no usable points)', () => {
  it('a void that took the held points back: the confirm is refused (exit 3, nothing written), and the cancel repays the debt', () => {
    const t = shop();
    const now = at('2026-02-25T02:05:00Z');
    const held = t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], now);
    t.ok(['import', 'void', '1', '--yes'], now);
    expect(t.ok(['member', 'show', 'A'], now)).toMatchObject({ balance: 0, held: 1200, debt: 1200 });
    const r = t.run(['checkout', 'confirm', held.checkoutId, '--tender', 'card', '--yes', '--json'], now);
    expect(r.code).toBe(3);
    const error = JSON.parse(r.stderr).error;
    expect(error).toMatchObject({ code: 'MEMBER_IN_DEBT' });
    expect(error.message).toContain('owes 1200 points');
    expect(t.ok(['order', 'show', held.checkoutId], now).status).toBe('held');
    t.ok(['checkout', 'cancel', held.checkoutId], now);
    expect(t.ok(['member', 'show', 'A'], now)).toMatchObject({ balance: 0, held: 0, debt: 0, available: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('an imported return that took back more than the member had free: the confirm is refused too', () => {
    const t = shop();
    const now = at('2026-02-25T02:05:00Z');
    const held = t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], now);
    t.ok(['import', 'purchases', file(t, 'ret.csv', `${HEADER}R9,A,2026-02-25 10:01,-100\n`), '--source', 'till'], now);
    expect(t.ok(['member', 'show', 'A'], now).debt).toBe(700);
    expect(t.run(['checkout', 'confirm', held.checkoutId, '--yes', '--json'], now).code).toBe(3);
    expect(t.ok(['order', 'show', held.checkoutId], now).status).toBe('held');
  });

  it('a member in debt can still pay a checkout in cash alone', () => {
    const t = shop();
    const now = at('2026-02-25T02:05:00Z');
    const held = t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], now);
    t.ok(['import', 'void', '1', '--yes'], now);
    const cash = t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '0'], now);
    expect(t.ok(['checkout', 'confirm', cash.checkoutId, '--tender', 'card', '--yes'], now)).toMatchObject({ status: 'paid', pointsUsed: 0 });
    t.ok(['checkout', 'cancel', held.checkoutId], now);
    expect(t.verify().ok).toBe(true);
  });
});

// A hold that ran out reads as released before its release is written; its release repays a debt first, so
// the reads count that too (trial 30, left open then): debt, lots and free points the same before and after.
describe('a member in debt with a hold that ran out reads the same before its release and after', () => {
  const reads = (t: TmpLedger, now: { now: string }) => ({
    member: t.ok(['member', 'show', 'A'], now),
    list: t.ok(['member', 'list'], now),
    liability: t.ok(['report', 'liability'], now),
    holders: t.ok(['report', 'members', '--by', 'balance'], now),
    overdue: t.ok(['report', 'expiring', '--within', '30d'], now).overduePoints,
  });

  it('a void took the held points back: the release repays the debt, and every read says so before it', () => {
    const t = shop();
    t.ok(['import', 'purchases', file(t, 'p2.csv', `${HEADER}O2,A,2026-02-20 11:00,50\n`), '--source', 'till'], at('2026-02-25T02:00:00Z'));
    const now = at('2026-02-25T02:05:00Z');
    t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], now);
    t.ok(['import', 'purchases', file(t, 'ret.csv', `${HEADER}R9,A,2026-02-25 10:01,-150\n`), '--source', 'till'], now);
    expect(t.ok(['member', 'show', 'A'], now)).toMatchObject({ balance: 500, held: 1200, debt: 700 });
    const later = at('2026-02-25T03:30:00Z');
    const before = reads(t, later);
    expect(before.member).toMatchObject({ balance: 500, held: 0, available: 500, debt: 0 });
    expect(before.liability).toMatchObject({ outstandingPoints: 500, memberDebt: 0, netPoints: 500 });
    t.ok(['holds', 'release-expired'], later);
    expect(reads(t, later)).toEqual(before);
    expect(t.verify().ok).toBe(true);
  });

  it('the held points were of a lot that lapsed meanwhile: the repaid part is no longer lapsed pending', () => {
    const t = shop(); // A's 1500 points expire on 2026-04-21 (Shanghai)
    t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1200'], at('2026-04-21T15:40:00Z')); // 23:40 on the lot's last day
    t.ok(['import', 'purchases', file(t, 'ret.csv', `${HEADER}R9,A,2026-04-21 23:45,-100\n`), '--source', 'till'], at('2026-04-21T15:50:00Z'));
    const later = at('2026-04-21T16:30:00Z'); // 00:30 on the 22nd: the hold ran out, the lot lapsed
    const before = reads(t, later);
    expect(before.member).toMatchObject({ held: 0, available: 0, debt: 0, expiredPending: 500 });
    expect(before.liability).toMatchObject({ outstandingPoints: 0, lapsedPendingPoints: 500, memberDebt: 0 });
    t.ok(['holds', 'release-expired'], later);
    expect(reads(t, later)).toEqual(before);
    expect(t.verify().ok).toBe(true);
  });
});

describe('expire run --dry-run counts what the run will do', () => {
  it('with a hold that ran out on a lapsed lot, not released yet: the dry run says the figures the run then posts, and writes nothing (trial 30)', () => {
    const t = tmpLedger(T0);
    t.ok(['rules', 'apply', file(t, 'r.json', JSON.stringify({ earn: { pointsPerUnit: '10' }, expiry: { policy: 'rolling-days', days: 10 } })), '--effective', '2025-01-01'], T0);
    t.ok(['catalog', 'add', '--sku', 'MIX', '--name', 'Mixed', '--price', '100.00'], T0);
    // earned 1 March: lapses after 11 March; held at 23:55 on its last day, the hold runs out at 00:10
    t.ok(['import', 'purchases', file(t, 'p.csv', `${HEADER}O1,A,2026-03-01 10:00,100\n`), '--create-members'], at('2026-03-01T12:00:00+08:00'));
    t.ok(['checkout', 'start', '--member', 'A', '--item', 'MIX', '--points', '1000'], at('2026-03-11T23:55:00+08:00'));
    const now = at('2026-03-12T00:30:00+08:00');
    const entries = t.ok(['ledger', 'entries'], now).length;
    const dry = t.ok(['expire', 'run', '--dry-run'], now);
    expect(t.ok(['ledger', 'entries'], now).length).toBe(entries);
    const run = t.ok(['expire', 'run'], now);
    expect(run).toMatchObject({ lotsExpired: 1, pointsExpired: 1000, members: 1 });
    expect(dry).toMatchObject({ lotsExpired: run.lotsExpired, pointsExpired: run.pointsExpired, members: run.members, bookedLater: run.bookedLater, dryRun: true });
    expect(t.verify().ok).toBe(true);
  });
});

describe('expire run --dry-run names the expiries booked later, as the run does', () => {
  it('points a refund gave back to a lapsed lot after the usual booking time: bookedLater alike in the dry run (trial 30)', () => {
    const t = tmpLedger(T0);
    t.ok(['rules', 'apply', file(t, 'r.json', JSON.stringify({ earn: { pointsPerUnit: '10' }, redeem: { pointsPerUnit: '100' }, expiry: { policy: 'rolling-days', days: 10 } })), '--effective', '2025-01-01'], T0);
    t.ok(['catalog', 'add', '--sku', 'MIX', '--name', 'Mixed', '--price', '100.00'], T0);
    // earned 19 February: the lot lapses after 1 March
    t.ok(['import', 'purchases', file(t, 'p.csv', `${HEADER}O1,A,2027-02-19 10:00,100\n`), '--create-members'], at('2027-02-19T12:00:00+08:00'));
    const o = t.ok(['checkout', '--member', 'A', '--item', 'MIX', '--points', '500', '--tender', 'card', '--yes'], at('2027-02-28T12:00:00+08:00'));
    t.ok(['order', 'refund', o.orderId, '--yes'], at('2027-03-02T00:05:00+08:00'));
    const now = at('2027-03-02T00:10:00+08:00');
    const dry = t.ok(['expire', 'run', '--dry-run'], now);
    const run = t.ok(['expire', 'run'], now);
    expect(run.bookedLater).toEqual([{ memberId: 'A', at: '2027-03-01T16:05:00.000Z' }]);
    expect(dry).toMatchObject({ lotsExpired: run.lotsExpired, pointsExpired: run.pointsExpired, members: run.members, bookedLater: run.bookedLater });
  });
});

describe('stock held by a checkout whose hold ran out reads as released', () => {
  it('catalog show and list, and checkout quote, count it free before any write, as checkout start does (trial 30)', () => {
    const t = tmpLedger(T0);
    t.ok(['member', 'add', '--id', 'A', '--name', 'A'], T0);
    t.ok(['member', 'add', '--id', 'B', '--name', 'B'], T0);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '10'], T0);
    t.ok(['checkout', 'start', '--member', 'A', '--item', 'TEA:2'], at('2026-03-01T10:01:00+08:00'));
    const open = at('2026-03-01T10:05:00+08:00');
    expect(t.ok(['catalog', 'show', 'TEA'], open)).toMatchObject({ stockHeld: 2, stockAvailable: 8 });
    const later = at('2026-03-01T10:30:00+08:00');
    expect(t.ok(['catalog', 'show', 'TEA'], later)).toMatchObject({ stockHeld: 0, stockAvailable: 10 });
    expect(t.ok(['catalog', 'list'], later).find((i: { sku: string }) => i.sku === 'TEA')).toMatchObject({ stockAvailable: 10 });
    expect(t.run(['checkout', 'quote', '--member', 'B', '--item', 'TEA:10', '--no-points', '--json'], later).code).toBe(0);
    expect(t.ok(['checkout', 'start', '--member', 'B', '--item', 'TEA:10', '--no-points'], later)).toMatchObject({ status: 'held' });
    expect(t.ok(['catalog', 'show', 'TEA'], later)).toMatchObject({ stockHeld: 10, stockAvailable: 0 });
    expect(t.verify().ok).toBe(true);
  });
});
