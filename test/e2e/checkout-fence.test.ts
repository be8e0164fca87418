// The two-phase checkout is fenced (issue 14 item 11): once a confirm has started paying, a cancel is refused
// and the hold does not run out under it, so an approved payment always captures; a member frozen after
// `checkout start` cannot be confirmed. Races are made deterministic with POINTSMALL_PAYMENT_BARRIER: the
// confirm stops inside its payment until the test lets it go.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, openLedgerDb, PG, ROOT, type RunResult, runCliAsync, type TmpLedger, tmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, start, waitFor } from '../helpers/tmux.js';

const START = '2026-11-23T10:00:00+08:00';
const AT = (minutes: number) => new Date(Date.parse(START) + minutes * 60_000).toISOString();

/** A member with 1000 points and a 10.00 tea. */
function shop(): TmpLedger {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
  t.ok(['member', 'adjust', 'a', '--points', '1000', '--reason', 'welcome']);
  t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00', '--stock', '5']);
  return t;
}

function setup(): { t: TmpLedger; id: string } {
  const t = shop();
  const s = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '500', '--tender', 'card'], { now: START });
  expect(s.status).toBe('held');
  return { t, id: s.checkoutId };
}

/** Starts `checkout confirm` that stops inside its payment; resolves `paying` once it is there (or it ended first). */
function confirmAtBarrier(t: TmpLedger, id: string, now: string, env: Record<string, string> = {}) {
  const dir = join(t.dir, `barrier-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  let ended = false;
  const done = runCliAsync(['checkout', 'confirm', id, '--yes', '--json'], { db: t.db, now, env: { POINTSMALL_PAYMENT_BARRIER: dir, ...env } }).then((r) => {
    ended = true;
    return r;
  });
  const paying = (async () => {
    // Waits for a file the other process writes (or for its end): a condition, not a timing guess.
    while (!existsSync(join(dir, 'paying')) && !ended) await new Promise((r) => setTimeout(r, 10));
  })();
  return { paying, done, release: () => writeFileSync(join(dir, 'go'), '') };
}

const errorCode = (r: RunResult): string => JSON.parse(r.stderr.trim()).error.code;

/**
 * Makes the ledger refuse (or, `false`, take again) an order's capture, as a GRANT the till's role lacks or
 * a statement_timeout would: a trigger that fails the update to paid (trial 43b).
 */
function refuseCaptures(t: TmpLedger, refuse: boolean): void {
  const db = openLedgerDb(t.db);
  try {
    if (!refuse) db.exec(PG ? 'DROP TRIGGER pm_test_refuse ON orders; DROP FUNCTION pm_test_refuse()' : 'DROP TRIGGER pm_test_refuse');
    else
      db.exec(
        PG
          ? "CREATE FUNCTION pm_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; CREATE TRIGGER pm_test_refuse BEFORE UPDATE ON orders FOR EACH ROW WHEN (NEW.status = 'paid') EXECUTE FUNCTION pm_test_refuse()"
          : "CREATE TRIGGER pm_test_refuse BEFORE UPDATE ON orders WHEN NEW.status = 'paid' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      );
  } finally {
    db.close();
  }
}

/** Waits for a file another process writes: a condition, not a timing guess. */
async function fileAppears(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 10));
}

afterEach(endSessions);

describe('two-phase checkout is fenced', () => {
  it('refuses a cancel while the confirm is paying, and the confirm then captures', async () => {
    const { t, id } = setup();
    const c = confirmAtBarrier(t, id, AT(1));
    await c.paying;
    const cancel = t.run(['checkout', 'cancel', id, '--yes', '--json'], { now: AT(1) });
    expect(cancel.code).toBe(3);
    expect(cancel.stdout).toBe('');
    expect(errorCode(cancel)).toBe('PAYMENT_IN_PROGRESS');
    c.release();
    const confirm = await c.done;
    expect(confirm.code, confirm.stderr).toBe(0);
    expect(confirm.json()).toMatchObject({ orderId: id, status: 'paid', pointsUsed: 500 });
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 505, held: 0 }); // 1000 − 500 used + 5 earned on the cash
    expect(t.verify().ok).toBe(true);
  });

  it('refuses a second confirm, a decline and a retried key while the first is paying: each charges nothing, the first captures once (trial 24, findings 1 and 2)', async () => {
    const { t, id } = setup();
    const c = confirmAtBarrier(t, id, AT(1));
    await c.paying;
    const before = t.ok(['ledger', 'entries']).length;
    for (const args of [['checkout', 'confirm', id, '--tender', 'alipay'], ['checkout', 'confirm', id, '--decline'], ['checkout', 'confirm', id]]) {
      const second = t.run([...args, '--yes', '--json'], { now: AT(2) });
      expect(second.code, second.stderr).toBe(3);
      expect(second.stdout).toBe('');
      expect(errorCode(second)).toBe('PAYMENT_IN_PROGRESS');
      expect(JSON.parse(second.stderr.trim()).error.message).toMatch(/charged nothing/);
    }
    expect(t.ok(['ledger', 'entries'])).toHaveLength(before);
    // order show says it is being paid, and until when the fence holds
    expect(t.ok(['order', 'show', id], { now: AT(2) })).toMatchObject({ status: 'held', payingUntil: new Date(Date.parse(AT(1)) + 10 * 60_000).toISOString() });
    expect(t.run(['order', 'show', id], { now: AT(2) }).stdout).toMatch(/^status\theld, being paid \(fenced until 2026-11-23 10:11/m);
    c.release();
    const confirm = await c.done;
    expect(confirm.code, confirm.stderr).toBe(0);
    expect(confirm.json()).toMatchObject({ orderId: id, status: 'paid', tender: 'card', pointsUsed: 500, cashPaid: '5.00' });
    expect(confirm.json().replayed).toBeFalsy();
    expect(t.ok(['order', 'show', id])).toMatchObject({ status: 'paid', payingUntil: null });
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 505, held: 0 });
    expect(t.verify().ok).toBe(true);

    // a one-shot checkout retried under its idempotency key while its first attempt pays
    const dir = join(t.dir, 'barrier-key');
    mkdirSync(dir);
    const shot = ['checkout', '--member', 'a', '--item', 'TEA', '--points', '500', '--tender', 'card', '--idempotency-key', 'K-1', '--yes', '--json'];
    let ended = false;
    const first = runCliAsync(shot, { db: t.db, now: AT(3), env: { POINTSMALL_PAYMENT_BARRIER: dir } }).then((r) => ((ended = true), r));
    while (!existsSync(join(dir, 'paying')) && !ended) await new Promise((r) => setTimeout(r, 10));
    const retry = t.run(shot, { now: AT(4) });
    expect(retry.code, retry.stderr).toBe(3);
    expect(errorCode(retry)).toBe('PAYMENT_IN_PROGRESS');
    writeFileSync(join(dir, 'go'), '');
    const paid = await first;
    expect(paid.code, paid.stderr).toBe(0);
    expect(paid.json()).toMatchObject({ status: 'paid', cashPaid: '5.00' });
    // once it is paid, the retry gets its result without paying again
    expect(t.ok(shot.slice(0, -1), { now: AT(5) })).toMatchObject({ orderId: paid.json().orderId, replayed: true });
    expect(t.ok(['order', 'list'])).toHaveLength(2);
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 10, held: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('an approved payment whose recording fails for another reason (a statement_timeout, a GRANT the role lacks) says so (exit 3), never "nothing was written, run it again" (trial 43b)', async () => {
    const { t, id } = setup();
    const c = confirmAtBarrier(t, id, AT(1));
    await c.paying;
    // while it pays, the ledger starts refusing the order's capture (as a missing GRANT or a cancelled statement would)
    refuseCaptures(t, true);
    c.release();
    const r = await c.done;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).toBe('PAYMENT_NOT_RECORDED');
    expect(e.message).toMatch(new RegExp(`^the card payment of 5\\.00 for checkout ${id} was approved, but recording it failed \\(.*refused by the test.*\\): it is not recorded, and the order stays held`));
    expect(e.hint).toMatch(/^do not pay it again; fix the cause \(\w+\), then record it after .* with: pointsmall checkout confirm \S+ --already-paid/);
    expect(t.ok(['order', 'show', id], { now: AT(2) })).toMatchObject({ status: 'held' });
    // the cause fixed, the payment is recorded once, after the fence
    refuseCaptures(t, false);
    expect(t.ok(['checkout', 'confirm', id, '--already-paid', '--yes'], { now: AT(12) })).toMatchObject({ status: 'paid', cashPaid: '5.00', pointsUsed: 500 });
    expect(t.ok(['member', 'show', 'a'], { now: AT(12) })).toMatchObject({ balance: 505, held: 0 }); // 500 spent, 5 earned on the 5.00 paid
    expect(t.verify().ok).toBe(true);
  });

  it('a checkout with no cash part whose capture fails says it charged nothing and that its hold stays, with how to end it (trial 43b)', () => {
    const t = shop();
    refuseCaptures(t, true);
    const r = t.run(['checkout', '--member', 'a', '--item', 'TEA', '--points', '1000', '--yes', '--json'], { now: AT(1) });
    expect(r.code).not.toBe(0);
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).not.toBe('PAYMENT_NOT_RECORDED');
    expect(e.message).toMatch(/^checkout (\S+) charged nothing, but completing it failed \(.*refused by the test.*\): its hold \(points, stock, coupon\) stays until it is cancelled or expires$/);
    const id = /^checkout (\S+) /.exec(e.message)![1];
    expect(e.hint).toBe(`fix the cause, then complete it: pointsmall checkout confirm ${id}, or cancel it: pointsmall checkout cancel ${id}`);
    expect(t.ok(['member', 'show', 'a'], { now: AT(2) })).toMatchObject({ balance: 1000, held: 1000 });
    expect(t.ok(['checkout', 'cancel', id, '--yes'], { now: AT(2) })).toMatchObject({ status: 'cancelled' });
    expect(t.ok(['member', 'show', 'a'], { now: AT(2) })).toMatchObject({ balance: 1000, held: 0 });
  });

  it('a payment that outlasts its fence, the order settled meanwhile by another command, says its approved money is recorded nowhere (exit 3), never another payment\'s result as its own (trial 24)', async () => {
    for (const other of [['checkout', 'confirm', '--tender', 'alipay'], ['checkout', 'cancel']]) {
      const { t, id } = setup();
      const c = confirmAtBarrier(t, id, AT(1));
      await c.paying;
      // the fence is 10 minutes: at 12 another command may settle the order
      const second = t.run([other[0], other[1], id, ...other.slice(2), '--yes', '--json'], { now: AT(12) });
      expect(second.code, second.stderr).toBe(0);
      c.release();
      const first = await c.done;
      expect(first.code).toBe(3);
      expect(first.stdout).toBe('');
      const e = JSON.parse(first.stderr.trim()).error;
      expect(e.code).toBe('PAYMENT_NOT_RECORDED');
      expect(e.message).toMatch(new RegExp(`the card payment of 5\\.00 for checkout ${id} was approved, .*\\(it is ${other[1] === 'cancel' ? 'cancelled' : 'paid \\(by alipay\\)'}\\): this payment is recorded nowhere`));
      expect(e.hint).toMatch(/reverse it at the payment terminal/);
      expect(t.ok(['order', 'show', id])).toMatchObject({ status: other[1] === 'cancel' ? 'cancelled' : 'paid' });
      expect(t.verify().ok).toBe(true);
    }
  });

  it('an approved payment whose capture finds the ledger locked waits for it and captures (it said "nothing was written", leaving the payment unrecorded)', async () => {
    const { t, id } = setup();
    const c = confirmAtBarrier(t, id, AT(1), { POINTSMALL_BUSY_TIMEOUT: '200' });
    await c.paying;
    // another writer (an import's batch) holds the ledger past the confirm's busy timeout
    const other = openLedgerDb(t.db);
    other.exec('BEGIN IMMEDIATE');
    let exited = false;
    void c.done.then(() => (exited = true));
    c.release();
    // (a build that gives up at its busy timeout ends meanwhile; this one keeps trying until the lock goes)
    for (let i = 0; i < 100 && !exited; i++) await new Promise((r) => setTimeout(r, 20));
    other.exec('ROLLBACK');
    other.close();
    const confirm = await c.done;
    expect(confirm.code, confirm.stderr).toBe(0);
    expect(confirm.json()).toMatchObject({ orderId: id, status: 'paid', pointsUsed: 500 });
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 505, held: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('does not let the hold run out under a payment that started before its expiry', async () => {
    const { t, id } = setup();
    const c = confirmAtBarrier(t, id, AT(14)); // the hold lasts 15 minutes
    await c.paying;
    const release = t.ok(['holds', 'release-expired'], { now: AT(16) });
    expect(release).toMatchObject({ released: 0 });
    // holds list says so: not expired (release-expired leaves it) but being paid, until the fence's end (trial 24)
    const listed = t.ok(['holds', 'list'], { now: AT(16) }) as { checkoutId: string; expired: boolean; payingUntil: string | null }[];
    expect(listed).toEqual([expect.objectContaining({ checkoutId: id, expired: false, payingUntil: expect.any(String) })]);
    expect(Date.parse(listed[0].payingUntil!)).toBeGreaterThan(Date.parse(AT(16)));
    const piped = t.run(['holds', 'list'], { now: AT(16) });
    expect(piped.stdout.split('\n')[1].split('\t').slice(-1)[0]).toMatch(/^being paid until \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    c.release();
    const confirm = await c.done;
    expect(confirm.code, confirm.stderr).toBe(0);
    expect(confirm.json()).toMatchObject({ status: 'paid' });
    expect(t.verify().ok).toBe(true);
  });

  it('frees the order once the payment window has passed, when the confirm died mid-payment', async () => {
    const { t, id } = setup();
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const p = spawn(process.execPath, [BIN, 'checkout', 'confirm', id, '--yes', '--json'], {
      env: { ...process.env, POINTSMALL_DB: t.db, POINTSMALL_NOW: AT(1), POINTSMALL_OPERATOR: 'tester', CI: '1', POINTSMALL_PAYMENT_BARRIER: dir },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => p.on('exit', r));
    let gone = false;
    void exited.then(() => (gone = true));
    while (!existsSync(join(dir, 'paying')) && !gone) await new Promise((r) => setTimeout(r, 10));
    expect(gone).toBe(false);
    p.kill('SIGKILL');
    await exited;
    expect(errorCode(t.run(['checkout', 'cancel', id, '--yes', '--json'], { now: AT(5) }))).toBe('PAYMENT_IN_PROGRESS');
    const cancel = t.run(['checkout', 'cancel', id, '--yes', '--json'], { now: AT(12) }); // the window is 10 minutes
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.json()).toMatchObject({ status: 'cancelled' });
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 1000, held: 0, available: 1000 });
    expect(t.verify().ok).toBe(true);
  });

  it('refuses to confirm a checkout whose member was frozen after it started (exit 3), and writes nothing', () => {
    const { t, id } = setup();
    t.ok(['member', 'freeze', 'a', '--reason', 'fraud check'], { now: AT(1) });
    const r = t.run(['checkout', 'confirm', id, '--yes', '--json'], { now: AT(2) });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(errorCode(r)).toBe('MEMBER_FROZEN');
    expect(t.ok(['order', 'show', id])).toMatchObject({ status: 'held' });
    const cancel = t.run(['checkout', 'cancel', id, '--yes', '--json'], { now: AT(3) });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(t.verify().ok).toBe(true);
  });

  it('a rules version applied while the hold is open, backdated to before its start, changes neither its points\' value nor what its cash earns (trial 24, finding 4)', () => {
    const { t, id } = setup();
    const quoted = t.ok(['order', 'show', id], { now: AT(1) });
    expect(quoted).toMatchObject({ status: 'held', pointsUsed: 500 }); // started at 1 point a yuan: 5.00 cash earns 5
    const f = join(t.dir, 'r10.json');
    // another expiry too: the lot it earns keeps the start's (ledger verify checks it against the order's version: trial 24)
    writeFileSync(f, JSON.stringify({ earn: { pointsPerUnit: '10' }, redeem: { pointsPerUnit: '10' }, expiry: { policy: 'end-of-year', years: 1 } }));
    t.ok(['rules', 'apply', f, '--effective', '2026-11-23', '--yes'], { now: AT(2) }); // in force from 00:00, before the start at 10:00
    const confirm = t.ok(['checkout', 'confirm', id, '--yes'], { now: AT(3) });
    expect(confirm).toMatchObject({ status: 'paid', pointsUsed: 500, pointsValue: '5.00', cashPaid: '5.00', pointsEarned: 5 });
    expect(t.ok(['order', 'show', id])).toMatchObject({ pointsEarned: 5 });
    // it earned under the version it started with: the draft in force now would have earned it 50
    expect(t.ok(['rules', 'simulate', f, '--from', '2026-11-23'], { now: AT(4) })).toMatchObject({ checkouts: 1, actualPoints: 5, simulatedPoints: 50 });
    const m = t.ok(['member', 'show', 'a']);
    expect(m).toMatchObject({ balance: 505 });
    expect(m.lots.find((x: { points: number }) => x.points === 5)).toMatchObject({ expiresOn: '2027-11-23' }); // rolling 365 days, not 2027-12-31
    expect(t.verify().ok).toBe(true);
  });

  it('an order declined, cancelled or expired reads as not paid: paidWith null, the cash row says so (trial 24, finding 5)', () => {
    const { t, id } = setup();
    const declined = t.run(['checkout', 'confirm', id, '--decline', '--yes', '--json'], { now: AT(1) });
    expect(declined.code).toBe(3);
    const start = (minutes: number) => t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '500', '--tender', 'card'], { now: AT(minutes) }).checkoutId;
    const cancelled = start(2);
    t.ok(['checkout', 'cancel', cancelled, '--yes'], { now: AT(3) });
    const expired = start(4);
    t.ok(['holds', 'release-expired'], { now: AT(30) });
    for (const [orderId, status] of [[id, 'declined'], [cancelled, 'cancelled'], [expired, 'expired']]) {
      expect(t.ok(['order', 'show', orderId], { now: AT(31) })).toMatchObject({ status, cashPaid: '5.00', tender: 'card', paidWith: null });
      expect(t.run(['order', 'show', orderId], { now: AT(31) }).stdout).toMatch(new RegExp(`^cash\t5\.00 by card \\(not paid: ${status}\\)$`, 'm'));
    }
    expect((t.ok(['order', 'list'], { now: AT(31) }) as { paidWith: string | null }[]).map((o) => o.paidWith)).toEqual([null, null, null]);
  });

  it('a cancel before the confirm starts still wins: the confirm then pays nothing (exit 3)', () => {
    const { t, id } = setup();
    expect(t.run(['checkout', 'cancel', id, '--yes', '--json'], { now: AT(1) }).code).toBe(0);
    const r = t.run(['checkout', 'confirm', id, '--yes', '--json'], { now: AT(2) });
    expect(r.code).toBe(3);
    expect(errorCode(r)).toBe('CHECKOUT_CLOSED');
    expect(t.verify().ok).toBe(true);
  });

  it.each([
    ['SIGINT', 130, 'Ctrl-C'],
    ['SIGTERM', 143, 'SIGTERM'],
  ] as const)('a %s while paying says the payment may still be approved and recorded nowhere (exit %i), and leaves the order fenced, nothing captured (trial 24)', async (signal, exit, word) => {
    const { t, id } = setup();
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    const env = { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: AT(1), POINTSMALL_DB: t.db, POINTSMALL_OPERATOR: 'tester', POINTSMALL_PAYMENT_BARRIER: dir };
    const p = spawn(process.execPath, [BIN, 'checkout', 'confirm', id, '--yes', '--json'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((res) => p.on('close', res));
    await fileAppears(join(dir, 'paying'));
    p.kill(signal);
    expect(await closed).toBe(exit);
    expect(out).toBe('');
    const e = JSON.parse(err.trim()).error;
    expect(e.code).toBe('PAYMENT_INTERRUPTED');
    expect(e.message).toBe(`interrupted (${word}) while paying checkout ${id}: the 5.00 card payment had no answer yet: it may still be approved, and is then recorded nowhere; the order stays held and fenced until 2026-11-23 10:11`);
    // the hold lasts 15 minutes past the fence (10 minutes from 10:01; trial 28): record, pay or cancel in between
    expect(e.hint).toBe(
      `check the payment terminal: if it was paid, record it after 2026-11-23 10:11 (before the hold expires at 2026-11-23 10:26) with: pointsmall checkout confirm ${id} --already-paid; if not, after 2026-11-23 10:11 pay it with: pointsmall checkout confirm ${id} --tender card, or cancel it: pointsmall checkout cancel ${id}`,
    );
    const o = t.ok(['order', 'show', id], { now: AT(2) });
    expect(o).toMatchObject({ status: 'held', payingUntil: expect.any(String), paymentUnknown: false });
    expect(t.ok(['member', 'show', 'a'], { now: AT(2) })).toMatchObject({ balance: 1000, held: 500 });
    // the payment's start is in the audit, with what it was to take
    const audit = (t.ok(['audit', 'list'], { now: AT(2) }) as { action: string; subject: string; detail: Record<string, unknown> }[]).filter((a) => a.subject === id).map((a) => [a.action, a.detail]);
    expect(audit).toContainEqual(['checkout.pay', { tender: 'card', cash: '5.00', fencedUntil: '2026-11-23T02:11:00.000Z' }]);
    // --already-paid waits for the fence too (the payment may still be answered)
    const early = t.run(['checkout', 'confirm', id, '--already-paid', '--yes', '--json'], { now: AT(5) });
    expect(early.code, early.stderr).toBe(3);
    expect(errorCode(early)).toBe('PAYMENT_IN_PROGRESS');
    // after the fence the ledger cannot say whether it was paid: order show never says "not paid"
    expect(t.ok(['order', 'show', id], { now: AT(11) })).toMatchObject({ status: 'held', payingUntil: null, paymentUnknown: true });
    expect(t.run(['order', 'show', id], { now: AT(11) }).stdout).toMatch(/^cash\t5\.00 by card \(payment started, no answer recorded: check the terminal\)$/m);
    if (signal === 'SIGINT') {
      // another tender than the one started is not that payment (trial 25)
      const other = t.run(['checkout', 'confirm', id, '--already-paid', '--tender', 'alipay', '--yes', '--json'], { now: AT(11) });
      expect(other.code, other.stderr).toBe(2);
      expect(errorCode(other)).toBe('TENDER_MISMATCH');
      // the terminal shows it approved: recorded as the hint says, by the tender started (card), paying
      // nothing again (no payment starts)
      const again = join(t.dir, 'again');
      mkdirSync(again);
      const r = t.run(['checkout', 'confirm', id, '--already-paid', '--yes', '--json'], { now: AT(11), env: { POINTSMALL_PAYMENT_BARRIER: again } });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(again, 'paying'))).toBe(false);
      expect(r.json()).toMatchObject({ orderId: id, status: 'paid', cashPaid: '5.00', tender: 'card', pointsUsed: 500 });
      expect(t.ok(['member', 'show', 'a'], { now: AT(12) })).toMatchObject({ balance: 505, held: 0 });
      // a second --already-paid records nothing twice: the order is paid and has no unrecorded payment
      const twice = t.run(['checkout', 'confirm', id, '--already-paid', '--yes', '--json'], { now: AT(12) });
      expect(twice.code).toBe(2);
      expect(JSON.parse(twice.stderr.trim()).error).toMatchObject({ code: 'NO_UNRECORDED_PAYMENT', message: expect.stringContaining(`checkout ${id} is paid (by card) and has no unrecorded payment`) });
      expect(t.ok(['member', 'show', 'a'], { now: AT(12) })).toMatchObject({ balance: 505 });
    } else {
      // not paid at the terminal: cancelled as the hint says; the cancel still says the payment is unanswered
      const cancel = t.run(['checkout', 'cancel', id, '--yes'], { now: AT(12) });
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(cancel.stdout).toMatch(/^status\tcancelled$/m);
      expect(cancel.stderr).toContain('its card payment was started and never recorded an answer: check the payment terminal');
      expect(t.run(['order', 'show', id], { now: AT(12) }).stdout).toMatch(/^cash\t5\.00 by card \(payment started, no answer recorded: check the terminal\)$/m);
    }
    expect(t.verify().ok).toBe(true);
  });

  it('--already-paid records only a payment that was started and never answered; with a fence longer than the hold, the hold outlasts the fence and the payment can be recorded (trials 25, 28)', async () => {
    const { t, id } = setup();
    const never = t.run(['checkout', 'confirm', id, '--already-paid', '--yes', '--json'], { now: AT(1) });
    expect(never.code, never.stderr).toBe(2);
    expect(errorCode(never)).toBe('NO_UNRECORDED_PAYMENT');
    const both = t.run(['checkout', 'confirm', id, '--already-paid', '--decline', '--yes', '--json'], { now: AT(1) });
    expect(both.code).toBe(2);
    expect(t.ok(['order', 'show', id], { now: AT(1) })).toMatchObject({ status: 'held', paymentUnknown: false });
    t.ok(['db', 'set', 'payment-minutes', '30'], { now: AT(1) });
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    const env = { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: AT(1), POINTSMALL_DB: t.db, POINTSMALL_OPERATOR: 'tester', POINTSMALL_PAYMENT_BARRIER: dir };
    const p = spawn(process.execPath, [BIN, 'checkout', 'confirm', id, '--yes', '--json'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((res) => p.on('close', res));
    await fileAppears(join(dir, 'paying'));
    p.kill('SIGTERM');
    expect(await closed).toBe(143);
    // fenced to 10:31, the hold lasts 15 minutes past it, to 10:46 (trial 28; it ended with the fence before)
    const hint = JSON.parse(err.trim()).error.hint;
    expect(hint).toContain(`pointsmall checkout confirm ${id} --already-paid`);
    expect(hint).not.toContain('cannot be completed');
    expect(t.ok(['holds', 'list'], { now: AT(32) })).toEqual([expect.objectContaining({ checkoutId: id, expiresAt: '2026-11-23T02:46:00.000Z', paymentUnknown: true })]);
    expect(t.ok(['checkout', 'confirm', id, '--already-paid', '--yes'], { now: AT(32) })).toMatchObject({ status: 'paid', tender: 'card' });
    expect(t.verify().ok).toBe(true);
  });

  it.skipIf(!hasTmux)('on a terminal the first Ctrl-C while paying only warns and the payment is recorded; a second one stops waiting (trial 24)', async () => {
    const { t, id } = setup();
    const { id: id2 } = { id: t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '100', '--tender', 'card'], { now: START }).checkoutId as string };
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    const s = start(t, ['checkout', 'confirm', id, '--yes'], { width: 80, now: AT(1), env: { POINTSMALL_PAYMENT_BARRIER: dir } });
    await fileAppears(join(dir, 'paying'));
    keys(s, 'C-c');
    await waitFor(s, /press Ctrl-C again to stop waiting/);
    writeFileSync(join(dir, 'go'), '');
    const first = await waitFor(s, 'EXIT=');
    expect(first).toContain('EXIT=0');
    expect(t.ok(['order', 'show', id], { now: AT(2) })).toMatchObject({ status: 'paid' });

    const dir2 = join(t.dir, 'barrier2');
    mkdirSync(dir2);
    const s2 = start(t, ['checkout', 'confirm', id2, '--yes'], { width: 80, now: AT(2), env: { POINTSMALL_PAYMENT_BARRIER: dir2 } });
    await fileAppears(join(dir2, 'paying'));
    keys(s2, 'C-c');
    await waitFor(s2, /press Ctrl-C again/);
    keys(s2, 'C-c');
    const second = (await waitFor(s2, 'EXIT=')).replace(/\s+/g, ' ');
    expect(second).toContain(`error: interrupted (Ctrl-C) while paying checkout ${id2}`);
    expect(second).toContain('check the payment terminal');
    expect(second).toContain('EXIT=130');
    expect(t.ok(['order', 'show', id2], { now: AT(3) })).toMatchObject({ status: 'held', payingUntil: expect.any(String) });
    expect(t.verify().ok).toBe(true);
  }, 300_000);

  it.skipIf(!hasTmux)('Ctrl-C at the confirm question says the hold stays, not only "cancelled" (trial 25)', async () => {
    const { t, id } = setup();
    const s = start(t, ['checkout', 'confirm', id], { width: 80, now: AT(1) });
    await waitFor(s, /\(y\/N\)/);
    keys(s, 'C-c');
    const out = (await waitFor(s, 'EXIT=')).replace(/\s+/g, ' ');
    expect(out).toContain(`nothing was paid; the hold stays until it expires or: pointsmall checkout cancel ${id}`);
    expect(out).toContain('EXIT=130');
    expect(t.ok(['order', 'show', id], { now: AT(2) })).toMatchObject({ status: 'held', paymentUnknown: false, payingUntil: null });
  }, 300_000);

  it('a retried checkout start returns its order as it is now, not the hold it made; a refusal while paying says when to try again (trials 25, 28)', async () => {
    const t = shop();
    const args = ['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '500', '--tender', 'card', '--idempotency-key', 'S-1'];
    const s = t.ok(args, { now: START });
    // paid at 10:12, the hold's last minutes: fenced to 10:22, the hold now lasts to 10:37 (trial 28)
    const c = confirmAtBarrier(t, s.checkoutId, AT(12));
    await c.paying;
    const during = t.run(['checkout', 'cancel', s.checkoutId, '--yes', '--json'], { now: AT(13) });
    expect(during.code).toBe(3);
    expect(JSON.parse(during.stderr.trim()).error.hint).toContain('check the payment terminal, then cancel at 2026-11-23 10:22 or later');
    const replayed = t.ok(args, { now: AT(13) });
    expect(replayed).toMatchObject({ checkoutId: s.checkoutId, replayed: true, status: 'held', payingUntil: '2026-11-23T02:22:00.000Z' });
    c.release();
    expect((await c.done).code).toBe(0);
    expect(t.ok(args, { now: AT(14) })).toMatchObject({ checkoutId: s.checkoutId, replayed: true, status: 'paid' });
    expect(t.verify().ok).toBe(true);
  });

  it('a checkout without a cash part starts no payment: no terminal, no fence, nothing to leave unanswered (trial 25)', () => {
    const { t, id } = setup();
    t.ok(['checkout', 'cancel', id, '--yes'], { now: AT(1) });
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    // all 10.00 in points; the barrier would hang a payment: none starts
    const r = t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--points', '1000', '--tender', 'card', '--yes'], { now: AT(1), env: { POINTSMALL_PAYMENT_BARRIER: dir } });
    expect(r).toMatchObject({ status: 'paid', cashPaid: '0.00', paidWith: 'points', paymentUnknown: false });
    expect(existsSync(join(dir, 'paying'))).toBe(false);
    const audit = (t.ok(['audit', 'list'], { now: AT(2) }) as { action: string; subject: string; detail: Record<string, unknown> }[]).filter((a) => a.subject === r.orderId);
    expect(audit.map((a) => a.action)).not.toContain('checkout.pay');
    expect(audit.find((a) => a.action === 'checkout.capture')?.detail).toMatchObject({ tender: null }); // as the order says: none
    expect(t.verify().ok).toBe(true);
  });

  it.skipIf(PG)('an approved payment whose order a db restore took away says its money is recorded nowhere (exit 3), not "order not found" (trial 25)', async () => {
    const { t, id } = setup();
    const backup = join(t.dir, 'before.db');
    t.ok(['checkout', 'cancel', id, '--yes'], { now: AT(1) });
    t.ok(['db', 'backup', backup], { now: AT(1) });
    const s = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '500', '--tender', 'card'], { now: AT(2) });
    const c = confirmAtBarrier(t, s.checkoutId, AT(3));
    await c.paying;
    t.ok(['db', 'restore', backup, '--yes'], { now: AT(4) });
    c.release();
    const r = await c.done;
    expect(r.code, r.stderr).toBe(3);
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).toBe('PAYMENT_NOT_RECORDED');
    // (the amount it charged, and why: the ledger was replaced while it ran; trial 40b)
    expect(e.message).toMatch(new RegExp(`^the card payment of \\d+\\.\\d{2} for checkout ${s.checkoutId} was approved, but the ledger was replaced while it ran \\(init --force, demo or db restore\\): this payment is recorded nowhere$`));
    expect(e.hint).toContain('reverse it at the payment terminal');
  });

  it('db set of a fence as long as the hold needs no warning: a started payment\'s hold outlasts its fence (trials 25, 28)', () => {
    const { t } = setup();
    const r = t.run(['db', 'set', 'payment-minutes', '15']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(t.ok(['db', 'set', 'payment-minutes', '5'])).toEqual({ setting: 'payment-minutes', value: '5', previous: '15', default: '10' });
  });
});
