// §7 "Expired is expired" across a hold: points held by `checkout start` before their lot lapses are not
// spent by a `checkout confirm` after it lapses (trial 2, finding 5). The confirm is refused (exit 3) and
// writes nothing; cancelling then releases the hold, and `expire run` takes the lapsed points. The same for
// a held coupon past its expiresOn (hostile trial, finding 5).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, ROOT, type TmpLedger, sceneLedger } from '../helpers/cli.js';

const DAY1 = '2026-01-01T02:00:00Z'; // 10:00 on 01-01 in Shanghai: a 10-day lot expires on 01-11
const BEFORE = '2026-01-11T15:55:00Z'; // 23:55 on 01-11, the lot's last day
const JUST_BEFORE = '2026-01-11T15:59:00Z'; // 23:59 on 01-11
const AFTER = '2026-01-11T16:05:00Z'; // 00:05 on 01-12: the lot has lapsed

function setup(): TmpLedger {
  const t = sceneLedger('setup', (l) => {
    const r = join(l.dir, 'r.json');
    writeFileSync(r, JSON.stringify({ expiry: { policy: 'rolling-days', days: 10 } }));
    l.ok(['rules', 'apply', r, '--effective', '2025-01-01'], { now: DAY1 });
    l.ok(['catalog', 'add', '--sku', 'P1', '--name', 'P', '--price', '100.00'], { now: DAY1 });
    l.ok(['member', 'add', '--id', 'E1', '--name', 'E'], { now: DAY1 });
    l.ok(['member', 'adjust', 'E1', '--points', '5000', '--reason', 's'], { now: DAY1 });
  }, { now: DAY1, timezone: 'Asia/Shanghai' });
  expect(t.ok(['member', 'show', 'E1'], { now: DAY1 }).lots).toMatchObject([{ expiresOn: '2026-01-11', remaining: 5000 }]);
  return t;
}

const state = (t: TmpLedger, now: string) =>
  JSON.stringify([t.ok(['member', 'show', 'E1'], { now }), t.ok(['order', 'show', 'ORD-000001'], { now }), t.ok(['audit', 'list'], { now }), t.ok(['catalog', 'show', 'P1'], { now }), t.verify().entries]);

describe('held points whose lot lapses before the confirm', () => {
  it('a confirm after the lapse is refused with exit 3 and HELD_POINTS_LAPSED, and writes nothing', () => {
    const t = setup();
    const held = t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '5000'], { now: BEFORE });
    expect(held).toMatchObject({ checkoutId: 'ORD-000001', status: 'held', pointsUsed: 5000 });
    const before = state(t, AFTER);
    const r = t.run(['checkout', 'confirm', 'ORD-000001', '--tender', 'cash', '--yes', '--json'], { now: AFTER });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).toBe('HELD_POINTS_LAPSED');
    expect(e.message).toMatch(/all 5000 points held by checkout ORD-000001 lapsed at the end of 2026-01-11 \(Asia\/Shanghai\)/);
    expect(state(t, AFTER)).toBe(before);
    const plain = t.run(['checkout', 'confirm', 'ORD-000001', '--tender', 'cash', '--yes'], { now: AFTER });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/checkout cancel ORD-000001/);
    expect(t.ok(['order', 'show', 'ORD-000001'], { now: AFTER })).toMatchObject({ status: 'held', pointsUsed: 5000 });
    expect(t.verify().ok).toBe(true);
  });

  it('cancelling then releases the hold, the points show as lapsed, and expire run takes them', () => {
    const t = setup();
    t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '5000'], { now: BEFORE });
    expect(t.run(['checkout', 'confirm', 'ORD-000001', '--tender', 'cash', '--yes'], { now: AFTER }).code).toBe(3);
    expect(t.ok(['checkout', 'cancel', 'ORD-000001'], { now: AFTER })).toMatchObject({ status: 'cancelled' });
    expect(t.ok(['member', 'show', 'E1'], { now: AFTER })).toMatchObject({ balance: 5000, held: 0, available: 0, expiredPending: 5000 });
    expect(t.ok(['expire', 'run'], { now: AFTER })).toMatchObject({ asOf: '2026-01-12', pointsExpired: 5000, lotsExpired: 1 });
    expect(t.ok(['member', 'show', 'E1'], { now: AFTER })).toMatchObject({ balance: 0, available: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('a confirm before the lapse, on the lot\'s last day, still spends the held points', () => {
    const t = setup();
    t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '5000'], { now: BEFORE });
    const r = t.ok(['checkout', 'confirm', 'ORD-000001', '--tender', 'cash', '--yes'], { now: JUST_BEFORE });
    expect(r).toMatchObject({ status: 'paid', pointsUsed: 5000, pointsValue: '50.00', cashPaid: '50.00' });
    expect(t.ok(['member', 'show', 'E1'], { now: AFTER })).toMatchObject({ held: 0, expiredPending: 0 });
    expect(t.verify().ok).toBe(true);
  });

  it('a hold that also took points of a later lot names only the lapsed part', () => {
    const t = setup();
    t.ok(['member', 'adjust', 'E1', '--points', '3000', '--reason', 'later'], { now: '2026-01-05T02:00:00Z' }); // expires 01-15
    t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '6000'], { now: BEFORE });
    const r = t.run(['checkout', 'confirm', 'ORD-000001', '--tender', 'cash', '--yes', '--json'], { now: AFTER });
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stderr.trim()).error.message).toMatch(/^5000 of the 6000 points held by checkout ORD-000001 lapsed at the end of 2026-01-11/);
  });

  it('held points of a lapsed lot are overdue in report expiring as liability counts them lapsed pending (trial 30)', () => {
    const t = setup();
    t.ok(['member', 'adjust', 'E1', '--points', '3000', '--reason', 'later'], { now: '2026-01-05T02:00:00Z' }); // expires 01-15
    t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '4000'], { now: BEFORE }); // 4000 of the lapsing lot
    const liability = t.ok(['report', 'liability'], { now: AFTER });
    expect(liability).toMatchObject({ lapsedPendingPoints: 5000, outstandingPoints: 3000 });
    const expiring = t.ok(['report', 'expiring', '--within', '30d'], { now: AFTER });
    expect(expiring).toMatchObject({ overduePoints: 5000, points: 3000 });
    // once cancelled, the same 5000 lie in the lot, and both still say so
    t.ok(['checkout', 'cancel', 'ORD-000001'], { now: AFTER });
    expect(t.ok(['report', 'expiring', '--within', '30d'], { now: AFTER })).toMatchObject({ overduePoints: 5000, points: 3000 });
    expect(t.ok(['report', 'liability'], { now: AFTER })).toMatchObject({ lapsedPendingPoints: 5000 });
  });
});

// The same rule for a coupon (hostile trial, finding 5): a coupon held by `checkout start` on its expiresOn
// is not redeemed by a confirm after midnight; the hold stays, as for held points, until cancelled.
describe('a held coupon that expires before the confirm', () => {
  const SEEDED = '2026-11-20T02:00:00Z'; // the coupon bought then lasts 30 days: expiresOn 2026-12-20
  const LAST_DAY = '2026-12-20T15:55:00Z'; // 23:55 on 12-20 in Shanghai
  const STILL = '2026-12-20T15:59:00Z'; // 23:59 on 12-20
  const LAPSED = '2026-12-20T16:05:00Z'; // 00:05 on 12-21: the coupon has expired

  function withCoupon(): { t: TmpLedger; code: string } {
    const t = sceneLedger('fixtures + a 10-yuan coupon', (l) => {
      l.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2024-01-01'], { now: SEEDED });
      l.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')], { now: SEEDED });
      l.ok(['member', 'import', join(FIXTURES, 'members.csv')], { now: SEEDED });
      l.ok(['member', 'adjust', 'M001', '--points', '1000', '--reason', 'seed'], { now: SEEDED });
      l.ok(['checkout', '--member', 'M001', '--item', 'CPN-10Y', '--yes'], { now: SEEDED });
    }, { now: SEEDED });
    const [c] = t.ok(['coupon', 'list'], { now: SEEDED });
    expect(c).toMatchObject({ expiresOn: '2026-12-20', status: 'active' });
    return { t, code: c.code };
  }
  const start = (t: TmpLedger, code: string) =>
    t.ok(['checkout', 'start', '--member', 'M001', '--item', 'HOME-001', '--coupon', code, '--tender', 'cash'], { now: LAST_DAY });
  const couponState = (t: TmpLedger) =>
    JSON.stringify([t.ok(['member', 'show', 'M001'], { now: LAPSED }), t.ok(['order', 'show', 'ORD-000002'], { now: LAPSED }), t.ok(['coupon', 'list'], { now: LAPSED }), t.ok(['audit', 'list'], { now: LAPSED }), t.ok(['catalog', 'show', 'HOME-001'], { now: LAPSED }), t.verify().entries]);

  it('a confirm after the expiry is refused with exit 3 and HELD_COUPON_LAPSED, and writes nothing', () => {
    const { t, code } = withCoupon();
    expect(start(t, code)).toMatchObject({ checkoutId: 'ORD-000002', status: 'held', discount: '10.00' });
    const before = couponState(t);
    const r = t.run(['checkout', 'confirm', 'ORD-000002', '--yes', '--json'], { now: LAPSED });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).toBe('HELD_COUPON_LAPSED');
    expect(e.message).toBe(`coupon ${code} held by checkout ORD-000002 expired at the end of 2026-12-20 (Asia/Shanghai) and can no longer be redeemed; nothing was paid or taken`);
    expect(couponState(t)).toBe(before);
    const plain = t.run(['checkout', 'confirm', 'ORD-000002', '--yes'], { now: LAPSED });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/checkout cancel ORD-000002/);
    expect(t.ok(['order', 'show', 'ORD-000002'], { now: LAPSED })).toMatchObject({ status: 'held', coupon: code });
    // cancelled, the coupon is freed and shows as expired; a new checkout with it is refused as before
    expect(t.ok(['checkout', 'cancel', 'ORD-000002'], { now: LAPSED })).toMatchObject({ status: 'cancelled' });
    expect(t.ok(['coupon', 'list'], { now: LAPSED })).toMatchObject([{ code, status: 'expired' }]);
    const again = t.run(['checkout', '--member', 'M001', '--item', 'HOME-001', '--coupon', code, '--tender', 'cash', '--yes', '--json'], { now: LAPSED });
    expect(again.code).toBe(3);
    expect(JSON.parse(again.stderr.trim()).error).toMatchObject({ code: 'COUPON_INVALID', message: `coupon ${code} expired on 2026-12-20` });
    expect(t.verify().ok).toBe(true);
  });

  it('a confirm on the coupon\'s last day still redeems it', () => {
    const { t, code } = withCoupon();
    start(t, code);
    expect(t.ok(['checkout', 'confirm', 'ORD-000002', '--yes'], { now: STILL })).toMatchObject({ status: 'paid', discount: '10.00', cashPaid: '79.00' });
    expect(t.ok(['coupon', 'list'], { now: LAPSED })).toMatchObject([{ code, status: 'used' }]);
    expect(t.verify().ok).toBe(true);
  });

  it('a held coupon cannot be redeemed by another order meanwhile: the first confirm still redeems it', () => {
    const { t, code } = withCoupon();
    start(t, code);
    const other = t.run(['checkout', '--member', 'M001', '--item', 'HOME-001', '--coupon', code, '--tender', 'cash', '--yes', '--json'], { now: STILL });
    expect(other.code).toBe(3);
    expect(JSON.parse(other.stderr.trim()).error).toMatchObject({ code: 'COUPON_INVALID', message: `coupon ${code} is held by a checkout in progress` });
    expect(t.ok(['checkout', 'confirm', 'ORD-000002', '--yes'], { now: STILL })).toMatchObject({ status: 'paid', discount: '10.00' });
    expect(t.ok(['order', 'list'], { now: STILL })).toHaveLength(2);
    expect(t.verify().ok).toBe(true);
  });

  it('a payment started before the lapse and stopped: --already-paid cannot record it after the lapse, and says to reverse the charge, never "nothing was paid" (trial 25)', async () => {
    const t = setup();
    t.ok(['checkout', 'start', '--member', 'E1', '--item', 'P1', '--points', '5000', '--tender', 'card'], { now: BEFORE });
    const dir = join(t.dir, 'barrier');
    mkdirSync(dir);
    const env = { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: JUST_BEFORE, POINTSMALL_DB: t.db, POINTSMALL_OPERATOR: 'tester', POINTSMALL_PAYMENT_BARRIER: dir };
    const p = spawn(process.execPath, [BIN, 'checkout', 'confirm', 'ORD-000001', '--yes', '--json'], { env, cwd: ROOT, stdio: 'ignore' });
    const closed = new Promise<number | null>((res) => p.on('close', res));
    while (!existsSync(join(dir, 'paying'))) await new Promise((r) => setTimeout(r, 10));
    p.kill('SIGTERM');
    expect(await closed).toBe(143);
    // the fence ends at 00:09, the hold (15 minutes from 23:55) at 00:10; the lot lapsed at midnight
    const r = t.run(['checkout', 'confirm', 'ORD-000001', '--already-paid', '--yes', '--json'], { now: '2026-01-11T16:09:30Z' });
    expect(r.code, r.stderr).toBe(3);
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.code).toBe('HELD_POINTS_LAPSED');
    expect(e.message).not.toContain('nothing was paid');
    expect(e.message).toContain('the 50.00 card payment started before that cannot be recorded, and the order cannot be completed');
    expect(e.hint).toBe('reverse the charge at the payment terminal if it was paid; then cancel it (pointsmall checkout cancel ORD-000001) and start the checkout again');
    expect(t.verify().ok).toBe(true);
  });
});
