// Checkout under failure and contention: a process killed between hold and capture, and concurrent spenders.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, DEFAULT_NOW, ROOT, runCliAsync, sceneLedger, type TmpLedger } from '../helpers/cli.js';

function shop(points: number): TmpLedger {
  return sceneLedger(`shop ${points}`, (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['member', 'adjust', 'M1', '--points', String(points), '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '10']);
  });
}

const ok = (t: TmpLedger) => expect(t.verify().checks.filter((c) => !c.ok)).toEqual([]);

/** Starts a checkout whose payment takes long, waits until its hold is written, then kills it with SIGKILL. */
async function killDuringPayment(t: TmpLedger, extra: string[] = []): Promise<void> {
  const env = { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: DEFAULT_NOW, POINTSMALL_DB: t.db, POINTSMALL_PAYMENT_DELAY_MS: '60000' };
  const p = spawn(process.execPath, [BIN, 'checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--yes', '--json', ...extra], { env, cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise((res) => p.on('exit', res));
  for (let i = 0; i < 200; i++) {
    const holds = (await runCliAsync(['holds', 'list', '--json'], { db: t.db })).json() as unknown[];
    if (holds.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  p.kill('SIGKILL');
  await exited;
}

describe('a checkout killed between hold and capture', () => {
  it('leaves a hold that expires: never lost, never doubled', async () => {
    const t = shop(5000);
    await killDuringPayment(t);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 5000, held: 3000, available: 2000 });
    expect(t.ok(['order', 'list'])[0]).toMatchObject({ status: 'held' });
    ok(t);
    // fenced to 10:10, the hold lasts 15 minutes past the fence (trial 28): released after 10:25
    const later = { now: '2026-11-23T10:26:00+08:00' };
    expect(t.ok(['holds', 'release-expired'], later).released).toBe(1);
    expect(t.ok(['member', 'show', 'M1'], later)).toMatchObject({ balance: 5000, held: 0, available: 5000 });
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stock: 10, stockHeld: 0 });
    ok(t);
  });

  it('a retry with the same idempotency key is refused while the dead payment\'s fence lasts, and after it too: its payment may have been approved, so the operator records or pays it; the key then returns that result, paying once (trial 25)', async () => {
    const t = shop(5000);
    await killDuringPayment(t, ['--idempotency-key', 'K-1']);
    // it may have charged the card before it died: nothing pays again until the fence (10 minutes) ends
    const early = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--idempotency-key', 'K-1', '--yes', '--json']);
    expect(early.code, early.stderr).toBe(3);
    expect(JSON.parse(early.stderr.trim()).error.code).toBe('PAYMENT_IN_PROGRESS');
    const later = { now: '2026-11-23T10:11:00+08:00' }; // the hold lasts 15 minutes
    // nor after it: the dead payment never recorded its answer, and a blind retry would charge twice
    const retry = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--idempotency-key', 'K-1', '--yes', '--json'], later);
    expect(retry.code, retry.stderr).toBe(3);
    const e = JSON.parse(retry.stderr.trim()).error;
    expect(e.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const [orderId] = t.ok(['order', 'list'], later).map((o: { orderId: string }) => o.orderId);
    expect(e.hint).toContain(`if not, pay it with: pointsmall checkout confirm ${orderId} --tender cash`);
    expect(t.ok(['order', 'show', orderId], later)).toMatchObject({ status: 'held', paymentUnknown: true, paidWith: 'points+cash' });
    // the operator finds the till was not paid, and pays it as the hint says; the key then replays that
    const r = t.ok(['checkout', 'confirm', orderId, '--tender', 'cash', '--yes'], later);
    expect(r).toMatchObject({ status: 'paid', pointsUsed: 3000, balance: 2070 });
    const again = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--idempotency-key', 'K-1', '--yes'], later);
    expect(again).toMatchObject({ orderId: r.orderId, replayed: true, status: 'paid' });
    expect(t.ok(['order', 'list'])).toHaveLength(1);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 2070, held: 0 });
    ok(t);
  });

  it('once the dead payment\'s hold has expired, a retried key is refused naming the order, and a new key pays (trial 25)', async () => {
    const t = shop(5000);
    await killDuringPayment(t, ['--idempotency-key', 'K-2']);
    const expired = { now: '2026-11-23T10:26:00+08:00' }; // the hold lasts 15 minutes past the fence (10:10)
    const [orderId] = t.ok(['order', 'list'], expired).map((o: { orderId: string }) => o.orderId);
    expect(t.ok(['holds', 'list'], expired)).toEqual([expect.objectContaining({ checkoutId: orderId, expired: true, payingUntil: null, paymentUnknown: true })]);
    // releasing it says its payment is unanswered (trial 25)
    const released = t.run(['holds', 'release-expired'], expired);
    expect(released.code).toBe(0);
    expect(released.stdout).toBe(`1 expired hold released: ${orderId}\n`);
    expect(released.stderr).toContain(`note: ${orderId} had a payment started and never recorded: check the payment terminal (or the till) and reverse any charge for it`);
    const shown = t.run(['order', 'show', orderId], expired).stdout;
    expect(shown).toMatch(/^cash\t70\.00 by cash \(payment started, no answer recorded: check the terminal\)$/m); // never "not paid"
    const retry = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--idempotency-key', 'K-2', '--yes', '--json'], expired);
    expect(retry.code, retry.stderr).toBe(3);
    const e = JSON.parse(retry.stderr.trim()).error;
    expect(e).toMatchObject({ code: 'PAYMENT_OUTCOME_UNKNOWN' });
    expect(e.hint).toBe(`check whether the cash was taken: if it was paid, give the cash back (checkout ${orderId} is expired); then pay with a new --idempotency-key`);
    // a plain confirm of it says the same, never just "start a new checkout"
    const confirm = t.run(['checkout', 'confirm', orderId, '--yes', '--json'], expired);
    expect(confirm.code).toBe(3);
    expect(JSON.parse(confirm.stderr.trim()).error.hint).toBe('check whether the cash was taken: if it was, give it back; then start a new checkout');
    expect(t.ok(['order', 'list'], expired)).toHaveLength(1);
    const fresh = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000', '--idempotency-key', 'K-3', '--yes'], expired);
    expect(fresh).toMatchObject({ status: 'paid', pointsUsed: 3000 });
    ok(t);
  });
});

describe('concurrent checkouts of one member', () => {
  it('never double-spend: the available check is inside the write transaction', async () => {
    const t = shop(5000);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runCliAsync(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--yes', '--json'], { db: t.db })),
    );
    const paid = runs.filter((r) => r.code === 0);
    const refused = runs.filter((r) => r.code === 3);
    expect(paid).toHaveLength(2);
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(JSON.parse(r.stderr).error.code).toMatch(/INSUFFICIENT_POINTS/);
    const m = t.ok(['member', 'show', 'M1']);
    expect(m).toMatchObject({ held: 0, balance: 5000 - 4000 + 2 * 80 });
    ok(t);
  });
});
