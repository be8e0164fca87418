// Issue 18, item 3 and item 4's velocity limits, through the built bin: a checkout above
// limits.verifyPointsAbove needs the one-time code of its auth.code message; three wrong codes void it;
// per-member limits on checkouts per hour, points spent per day and refunds per day refuse with exit 3.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliAsync, sceneLedger, tmpLedger, type TmpLedger, openLedgerDb } from '../helpers/cli.js';

const NOW = '2026-11-23T10:00:00+08:00';

/** Each test gets its own copy of the shop for these limits, built once per file. */
function shop(limits: Record<string, number | null>): TmpLedger {
  return sceneLedger(`shop ${JSON.stringify(limits)}`, (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann', '--phone', '13800000000']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob', '--email', 'bob@example.com']);
    t.ok(['member', 'add', '--id', 'M3', '--name', 'Cy']);
    for (const m of ['M1', 'M2', 'M3']) t.ok(['member', 'adjust', m, '--points', '20000', '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '5']);
    const f = join(t.dir, 'rules.json');
    writeFileSync(f, JSON.stringify({ limits }));
    t.ok(['rules', 'apply', f, '--effective', '2026-01-01']);
  });
}

function refused(t: TmpLedger, args: string[], code: string, exit = 3, now = NOW): { message: string; hint?: string } {
  const r = t.run([...args, '--json'], { now });
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stdout).toBe('');
  const err = JSON.parse(r.stderr.trim().split('\n').pop()!).error;
  expect(err.code).toBe(code);
  return err;
}

/** The code as a sender reads it, the way the README shows: `outbox list --topic auth.code`. */
function codeOf(t: TmpLedger, orderId: string): string {
  const msgs = t.ok(['outbox', 'list', '--topic', 'auth.code']) as { topic: string; payload: { checkoutId: string; code: string } }[];
  expect(msgs.every((m) => m.topic === 'auth.code')).toBe(true);
  return msgs.find((m) => m.payload.checkoutId === orderId)!.payload.code;
}
const wrongCode = (code: string) => (code === '000000' ? '000001' : '000000');
const verifyOk = (t: TmpLedger) => expect(t.verify().checks.filter((c) => !c.ok)).toEqual([]);

describe('two-step verification of points payments (limits.verifyPointsAbove)', () => {
  it('a one-shot checkout above the threshold is refused with a hint to start/confirm; at the threshold it pays', () => {
    const t = shop({ verifyPointsAbove: 3000 });
    const err = refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3100', '--yes'], 'VERIFICATION_REQUIRED');
    expect(err.message).toContain('3100 points is above limits.verifyPointsAbove (3000)');
    expect(err.hint).toContain('pointsmall checkout start --member M1 --item TEA --points 3100');
    expect(err.hint).toContain('checkout confirm ID --code CODE');
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--max-points', '--yes'], 'VERIFICATION_REQUIRED');
    expect(t.ok(['order', 'list'])).toEqual([]);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 20000, held: 0 });
    expect(t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--yes'])).toMatchObject({ status: 'paid', pointsUsed: 3000, verification: null });
    verifyOk(t);
  });

  it('start queues auth.code (the code only in its payload, the ledger keeps a salted hash); a wrong code names the attempts left; the right one pays', () => {
    const t = shop({ verifyPointsAbove: 1000 });
    const held = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '4000']);
    expect(held).toMatchObject({ status: 'held', pointsUsed: 4000, verification: { status: 'pending', channel: 'sms', attemptsLeft: 3 } });
    const msgs = (t.ok(['outbox', 'list']) as { topic: string; channel: string; recipient: string; payload: Record<string, unknown> }[]).filter((m) => m.topic === 'auth.code');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ channel: 'sms', recipient: '13800000000', payload: { checkoutId: held.orderId, memberId: 'M1', pointsUsed: 4000 } });
    const code = msgs[0].payload.code as string;
    expect(code).toMatch(/^\d{6}$/);
    // Nowhere else: not in the audit log, the journal or the code table (a salted hash there).
    const db = openLedgerDb(t.db, { readonly: true });
    const row = db.prepare('SELECT * FROM checkout_codes').get() as { salt: string; code_hash: string };
    const audit = JSON.stringify(db.prepare('SELECT * FROM audit').all());
    const entries = JSON.stringify(db.prepare('SELECT * FROM entries').all());
    db.close();
    expect(row.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.code_hash).not.toContain(code);
    expect(audit).not.toContain(`"${code}"`);
    expect(entries).not.toContain(code);

    const missing = refused(t, ['checkout', 'confirm', held.orderId, '--yes'], 'CODE_REQUIRED', 2);
    expect(missing.hint).toContain('--code');
    refused(t, ['checkout', 'confirm', held.orderId, '--code', '12ab', '--yes'], 'USAGE', 2); // malformed: not an attempt
    const w = refused(t, ['checkout', 'confirm', held.orderId, '--code', wrongCode(code), '--yes'], 'CODE_WRONG');
    expect(w.message).toContain('2 attempts left');
    expect(t.ok(['order', 'show', held.orderId])).toMatchObject({ status: 'held' });
    const paid = t.ok(['checkout', 'confirm', held.orderId, '--code', code, '--yes']);
    expect(paid).toMatchObject({ status: 'paid', pointsUsed: 4000, cashPaid: '60.00', verification: { status: 'verified', attemptsLeft: 0 } });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 20000 - 4000 + 60, held: 0 });
    const actions = (t.ok(['audit', 'list', '--limit', '50']) as { action: string }[]).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['checkout.code-sent', 'checkout.code-wrong', 'checkout.code-ok', 'checkout.capture']));
    // A confirmed checkout stays confirmed: confirming again returns it and asks no code.
    expect(t.ok(['checkout', 'confirm', held.orderId, '--yes'])).toMatchObject({ status: 'paid', replayed: true });
    verifyOk(t);
  });

  it('three wrong codes void the hold: points and stock back, audited, exit 3 each time naming the attempts left', () => {
    const t = shop({ verifyPointsAbove: 1000 });
    const held = t.ok(['checkout', 'start', '--member', 'M2', '--item', 'TEA:2', '--points', '5000']);
    expect(held.verification).toMatchObject({ channel: 'email' });
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ held: 5000, available: 15000 });
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stockHeld: 2 });
    const bad = wrongCode(codeOf(t, held.orderId));
    expect(refused(t, ['checkout', 'confirm', held.orderId, '--code', bad, '--yes'], 'CODE_WRONG').message).toContain('2 attempts left');
    expect(refused(t, ['checkout', 'confirm', held.orderId, '--code', bad, '--yes'], 'CODE_WRONG').message).toContain('1 attempt left');
    const last = refused(t, ['checkout', 'confirm', held.orderId, '--code', bad, '--yes'], 'CODE_FAILED');
    expect(last.message).toContain('no attempts left; the checkout was voided');
    expect(t.ok(['order', 'show', held.orderId])).toMatchObject({ status: 'cancelled', closeReason: 'verification_failed' });
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ balance: 20000, held: 0, available: 20000 });
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stock: 5, stockHeld: 0 });
    // Even the right code is too late now.
    refused(t, ['checkout', 'confirm', held.orderId, '--code', codeOf(t, held.orderId), '--yes'], 'CHECKOUT_CLOSED');
    const audit = (t.ok(['audit', 'list', '--limit', '50']) as { action: string; subject: string }[]).filter((a) => a.subject === held.orderId).map((a) => a.action);
    expect(audit.filter((a) => a === 'checkout.code-wrong')).toHaveLength(3);
    expect(audit).toContain('checkout.code-failed');
    verifyOk(t);
  });

  it('the code lapses with the hold', () => {
    const t = shop({ verifyPointsAbove: 1000 });
    const held = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '2000']);
    const code = codeOf(t, held.orderId);
    refused(t, ['checkout', 'confirm', held.orderId, '--code', code, '--yes'], 'HOLD_EXPIRED', 3, '2026-11-23T10:16:00+08:00');
    expect(t.ok(['member', 'show', 'M1'], { now: '2026-11-23T10:16:00+08:00' })).toMatchObject({ balance: 20000, held: 0 });
    verifyOk(t);
  });

  it('a member without phone or email cannot spend above the threshold (up to it is fine)', () => {
    const t = shop({ verifyPointsAbove: 1000 });
    const err = refused(t, ['checkout', 'start', '--member', 'M3', '--item', 'TEA', '--points', '1001'], 'VERIFICATION_UNREACHABLE');
    expect(err.message).toContain('has no phone or email');
    refused(t, ['checkout', '--member', 'M3', '--item', 'TEA', '--points', '1001', '--yes'], 'VERIFICATION_UNREACHABLE');
    expect(t.ok(['order', 'list'])).toEqual([]);
    expect(t.ok(['checkout', '--member', 'M3', '--item', 'TEA', '--points', '1000', '--yes'])).toMatchObject({ status: 'paid' });
    verifyOk(t);
  });

  it('ledger verify catches a paid order whose code was never verified', () => {
    const t = shop({ verifyPointsAbove: 1000 });
    const held = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '2000']);
    t.ok(['checkout', 'confirm', held.orderId, '--code', codeOf(t, held.orderId), '--yes']);
    verifyOk(t);
    const db = openLedgerDb(t.db);
    db.prepare("UPDATE checkout_codes SET status = 'pending'").run();
    db.close();
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code).toBe(6);
    const c = (r.json() as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((x) => x.name === 'checkout-codes-match-orders')!;
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('order is paid but its code is pending');
  });
});

describe('velocity limits (per member, counted in the write, the ledger zone\'s day)', () => {
  it('limits.maxCheckoutsPerHour: the next checkout in the hour is refused naming the limit; an hour on it passes', () => {
    const t = shop({ maxCheckoutsPerHour: 2 });
    t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--yes']);
    t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA']);
    const err = refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--yes'], 'VELOCITY_LIMIT');
    expect(err.message).toContain('2 checkouts in the last hour: limits.maxCheckoutsPerHour is 2');
    refused(t, ['checkout', 'start', '--member', 'M1', '--item', 'TEA'], 'VELOCITY_LIMIT');
    expect(t.ok(['checkout', '--member', 'M2', '--item', 'TEA', '--yes'])).toMatchObject({ status: 'paid' }); // per member
    expect(t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--yes'], { now: '2026-11-23T11:00:01+08:00' })).toMatchObject({ status: 'paid' });
    verifyOk(t);
  });

  it('two tills at once cannot both pass maxCheckoutsPerHour (counted inside the write transaction)', async () => {
    const t = shop({ maxCheckoutsPerHour: 1 });
    const runs = await Promise.all([0, 1, 2].map(() => runCliAsync(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--json'], { db: t.db, env: { POINTSMALL_BUSY_TIMEOUT: '60000' } })));
    expect(runs.map((r) => r.code).sort()).toEqual([0, 3, 3]);
    for (const r of runs.filter((x) => x.code === 3)) expect(r.stderr).toContain('limits.maxCheckoutsPerHour');
    expect(t.ok(['order', 'list'])).toHaveLength(1);
    verifyOk(t);
  });

  it('limits.maxPointsSpentPerDay: points of the local day; the next local day starts afresh', () => {
    const t = shop({ maxPointsSpentPerDay: 5000 });
    const late = '2026-11-23T23:30:00+08:00';
    t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--yes'], { now: late });
    const err = refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2500', '--yes'], 'VELOCITY_LIMIT', 3, late);
    expect(err.message).toContain('has spent 3000 points today (2026-11-23); 2500 more is past limits.maxPointsSpentPerDay of 5000');
    expect(err.hint).toContain('at most 2000 points today');
    t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--yes'], { now: late });
    expect(t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--no-points', '--yes'], { now: late })).toMatchObject({ status: 'paid' }); // no points: not limited
    // 00:30 the next day in Asia/Shanghai is still 2026-11-23 in UTC: the ledger's day counts.
    expect(t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '5000', '--yes'], { now: '2026-11-24T00:30:00+08:00' })).toMatchObject({ status: 'paid' });
    verifyOk(t);
  });

  it('limits.maxRefundsPerDay: the next refund of the day is refused naming the limit', () => {
    const t = shop({ maxRefundsPerDay: 1 });
    const a = t.ok(['checkout', '--member', 'M1', '--item', 'TEA:2', '--points', '2000', '--yes']);
    const b = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--yes']);
    t.ok(['order', 'refund', a.orderId, '--line', 'TEA:1', '--yes']);
    const err = refused(t, ['order', 'refund', b.orderId, '--yes'], 'VELOCITY_LIMIT');
    expect(err.message).toContain('1 refund today (2026-11-23): limits.maxRefundsPerDay is 1');
    refused(t, ['order', 'refund', a.orderId, '--yes'], 'VELOCITY_LIMIT');
    expect(t.ok(['order', 'show', b.orderId])).toMatchObject({ status: 'paid' });
    expect(t.ok(['order', 'refund', b.orderId, '--yes'], { now: '2026-11-24T09:00:00+08:00' })).toMatchObject({ status: 'refunded' });
    verifyOk(t);
  });

  it('the rules reject a bad limit by its JSON path', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ limits: { verifyPointsAbove: -1, maxCheckoutsPerHour: 'often' } }));
    const r = t.run(['rules', 'apply', f, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('$.limits.verifyPointsAbove');
    expect(r.stderr).toContain('$.limits.maxCheckoutsPerHour');
  });
});
