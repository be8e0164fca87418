// §7 "Expired is expired" across a hold: points held by `checkout start` before their lot lapses are not
// spent by a `checkout confirm` after it lapses (trial 2, finding 5). The confirm is refused (exit 3) and
// writes nothing; cancelling then releases the hold, and `expire run` takes the lapsed points.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, sceneLedger } from '../helpers/cli.js';

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
});
