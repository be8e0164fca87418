// The books through the built bin: order lines follow their pay modes (§4.5), open holds keep lots,
// balances and liability consistent (§5), and lapsed lots are never spent (§7 "Expired is expired").
import { describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger, openLedgerDb } from '../helpers/cli.js';

const failed = (t: TmpLedger) => t.verify().checks.filter((c) => !c.ok);
const lineOf = (o: { lines: { sku: string }[] }, sku: string) => o.lines.find((x) => x.sku === sku)!;

/** Each test gets its own copy of the shop (M1 with `points`), built once per file. */
function giftShop(points = 5000): TmpLedger {
  return sceneLedger(`giftShop ${points}`, (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['member', 'adjust', 'M1', '--points', String(points), '--reason', 'seed', '--yes']);
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '30.00', '--pay', 'points', '--points-price', '3000']);
    t.ok(['catalog', 'add', '--sku', 'CASH', '--name', 'Cash item', '--price', '70.00', '--pay', 'cash']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--max-points-ratio', '0.5']);
  });
}

describe('order lines follow their pay modes (§4.5)', () => {
  it('records a points-only gift as points only and a cash-only item as cash only, and refunds each as paid', () => {
    const t = giftShop();
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'GIFT', '--item', 'CASH', '--yes']);
    expect(o).toMatchObject({ pointsUsed: 3000, pointsValue: '30.00', cashPaid: '70.00', pointsEarned: 70 });
    expect(lineOf(o, 'GIFT')).toMatchObject({ points: 3000, cash: '0.00', earned: 0 });
    expect(lineOf(o, 'CASH')).toMatchObject({ points: 0, cash: '70.00', earned: 70 });

    const gift = t.ok(['order', 'refund', o.orderId, '--line', 'GIFT:1', '--yes']);
    expect(gift).toMatchObject({ pointsReturned: 3000, cashRefunded: '0.00', pointsTakenBack: 0, complete: false });
    const rest = t.ok(['order', 'refund', o.orderId, '--yes']);
    expect(rest).toMatchObject({ pointsReturned: 0, cashRefunded: '70.00', pointsTakenBack: 70, complete: true });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 5000, available: 5000 });
    expect(failed(t)).toEqual([]);
  });

  it('spreads a mixed order: the gift takes its points, the mixed line the rest, the cash line none', () => {
    const t = giftShop(8000);
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'GIFT', '--item', 'TEA', '--item', 'CASH', '--max-points', '--yes']);
    expect(o).toMatchObject({ pointsUsed: 8000, pointsValue: '80.00', cashPaid: '120.00', pointsEarned: 120 });
    expect(lineOf(o, 'GIFT')).toMatchObject({ points: 3000, cash: '0.00', earned: 0 });
    expect(lineOf(o, 'TEA')).toMatchObject({ points: 5000, cash: '50.00', earned: 50 });
    expect(lineOf(o, 'CASH')).toMatchObject({ points: 0, cash: '70.00', earned: 70 });
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'TEA:1', '--yes'])).toMatchObject({ pointsReturned: 5000, cashRefunded: '50.00', pointsTakenBack: 50 });
    expect(failed(t)).toEqual([]);
  });

  it('keeps the split an order was recorded with: a refund returns the stored shares, whatever the rule now', () => {
    const t = giftShop();
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'GIFT', '--item', 'CASH', '--yes']);
    // An order written by an earlier version, which spread everything by amount (900 + 21.00 | 2100 + 49.00).
    const db = openLedgerDb(t.db);
    db.prepare('UPDATE order_lines SET points = ?, cash = ?, earned = ? WHERE order_id = ? AND sku = ?').run(900, 2100, 21, o.orderId, 'GIFT');
    db.prepare('UPDATE order_lines SET points = ?, cash = ?, earned = ? WHERE order_id = ? AND sku = ?').run(2100, 4900, 49, o.orderId, 'CASH');
    db.close();
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'GIFT:1', '--yes'])).toMatchObject({ pointsReturned: 900, cashRefunded: '21.00', pointsTakenBack: 21 });
    expect(t.ok(['order', 'refund', o.orderId, '--yes'])).toMatchObject({ pointsReturned: 2100, cashRefunded: '49.00', pointsTakenBack: 49, complete: true });
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(5000);
    // verify knows such an order by its shares spread by amount, and its refunds by the stored shares
    expect(failed(t)).toEqual([]);
  });
});

/** M1 with 3000 points earned 2026-01-15 (lot expiring 2027-01-15) and 2000 earned 2026-06-10 (2027-06-10). */
function twoLots(): TmpLedger {
  const build = (t: TmpLedger) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann'], { now: '2026-01-15T10:00:00+08:00' });
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob'], { now: '2026-01-15T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '3000', '--reason', 'seed', '--yes'], { now: '2026-01-15T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '2000', '--reason', 'seed', '--yes'], { now: '2026-06-10T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M2', '--points', '700', '--reason', 'seed', '--yes'], { now: '2026-06-10T10:00:00+08:00' });
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00']);
  };
  return sceneLedger('twoLots', build, { now: '2026-01-15T10:00:00+08:00' });
}

const HOLD_DAY = '2026-11-23T10:00:00+08:00';

describe('open holds keep the books consistent (§5: held points stay in their lots, reserved)', () => {
  it('member show, liability and verify agree while a hold is open, and after it is captured', () => {
    const t = twoLots();
    const held = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '4000'], { now: HOLD_DAY });
    expect(held.status).toBe('held');

    const m = t.ok(['member', 'show', 'M1'], { now: HOLD_DAY });
    expect(m).toMatchObject({ balance: 5000, held: 4000, available: 1000, expiredPending: 0 });
    expect(m.lots.map((x: { remaining: number; held: number; expiresOn: string }) => [x.remaining, x.held, x.expiresOn])).toEqual([
      [3000, 3000, '2027-01-15'],
      [2000, 1000, '2027-06-10'],
    ]);
    expect(m.lots.reduce((a: number, x: { remaining: number }) => a + x.remaining, 0)).toBe(m.balance);

    const liab = t.ok(['report', 'liability'], { now: HOLD_DAY });
    expect(liab).toMatchObject({ outstandingPoints: 5700, heldPoints: 4000, debtPoints: 0 });
    expect(liab.byExpiryMonth).toMatchObject([{ month: '2027-01', points: 3000 }, { month: '2027-06', points: 2700 }]);

    const v = t.verify();
    expect(v.checks.find((c) => c.name === 'lots-with-holds-match-balances')).toMatchObject({ ok: true });
    expect(v.ok).toBe(true);

    t.ok(['checkout', 'confirm', held.checkoutId, '--yes'], { now: HOLD_DAY });
    const after = t.ok(['member', 'show', 'M1'], { now: HOLD_DAY });
    expect(after.lots.map((x: { remaining: number; held: number }) => [x.remaining, x.held])).toEqual([[1000, 0], [60, 0]]);
    expect(after.lots.reduce((a: number, x: { remaining: number }) => a + x.remaining, 0)).toBe(after.balance);
    expect(failed(t)).toEqual([]);
  });

  it('replays a past day with a hold open then: held points in their expiry months, summing to the outstanding', () => {
    const t = twoLots();
    // started at 23:50, the hold runs out at 00:05 the next day: it is open at the end of the 23rd
    t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '4000'], { now: '2026-11-23T23:50:00+08:00' });
    t.ok(['holds', 'release-expired'], { now: '2026-11-25T10:00:00+08:00' }); // released two days later
    const past = t.ok(['report', 'liability', '--as-of', '2026-11-23'], { now: '2026-11-26T10:00:00+08:00' });
    expect(past).toMatchObject({ basis: 'journal', outstandingPoints: 5700, heldPoints: 4000, debtPoints: 0 });
    expect(past.byExpiryMonth).toMatchObject([{ month: '2027-01', points: 3000 }, { month: '2027-06', points: 2700 }]);
    // the release is dated when the hold ran out (trial 26), not when the next write found it: free on the 24th
    expect(t.ok(['report', 'liability', '--as-of', '2026-11-24'], { now: '2026-11-26T10:00:00+08:00' })).toMatchObject({ outstandingPoints: 5700, heldPoints: 0 });
    const now = t.ok(['report', 'liability'], { now: '2026-11-26T10:00:00+08:00' });
    expect(now).toMatchObject({ outstandingPoints: 5700, heldPoints: 0 });
    expect(now.byExpiryMonth).toEqual(past.byExpiryMonth);
  });

  it('verify fails when an open hold reserves points in another member\'s lot', () => {
    const t = twoLots();
    t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '500'], { now: HOLD_DAY });
    const db = openLedgerDb(t.db);
    const bobsLot = db.prepare("SELECT id FROM lots WHERE member_id = 'M2'").pluck().get();
    db.prepare('UPDATE hold_lots SET lot_id = ?').run(bobsLot);
    db.close();
    const r = t.run(['ledger', 'verify', '--json'], { now: HOLD_DAY });
    expect(r.code).toBe(6);
    const bad = r.json().checks.filter((c: { ok: boolean }) => !c.ok);
    expect(bad.map((c: { name: string }) => c.name)).toEqual(['hold-lots-match-moves', 'lots-with-holds-match-balances']);
    expect(bad[0].detail).toMatch(/took 500 points from lot \d+ by its lots, 0 by the moves of its entry/);
    expect(bad[1].detail).toMatch(/member M1: balance 5000 but its lots hold 4500/);
  });
});

/** M1 with 3000 points earned 2025-01-10 (lapsed on 2026-01-11) and 2000 earned 2026-06-10. */
function lapsedLot(): TmpLedger {
  const build = (t: TmpLedger) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann'], { now: '2025-01-10T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '3000', '--reason', 'old', '--yes'], { now: '2025-01-10T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '2000', '--reason', 'new', '--yes'], { now: '2026-06-10T10:00:00+08:00' });
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00']);
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '30.00', '--pay', 'points', '--points-price', '2500']);
  };
  return sceneLedger('lapsedLot', build, { now: '2025-01-10T10:00:00+08:00' });
}

describe('expired is expired (§7): lapsed lots are not spendable before the expiry run', () => {
  it('shows lapsed points apart and never counts them available', () => {
    const t = lapsedLot();
    const m = t.ok(['member', 'show', 'M1']);
    expect(m).toMatchObject({ balance: 5000, held: 0, available: 2000, expiredPending: 3000 });
    expect(m.lots.map((x: { expiresOn: string; expired: boolean }) => [x.expiresOn, x.expired])).toEqual([['2026-01-10', true], ['2027-06-10', false]]);
    expect(t.ok(['member', 'list']).find((x: { id: string }) => x.id === 'M1')).toMatchObject({ balance: 5000, available: 2000 });
    const human = t.run(['member', 'show', 'M1']);
    expect(human.stdout).toMatch(/expired, pending the expiry run\s+3000/);
  });

  it('refuses to spend, hold or debit lapsed points; --max-points uses only live ones', () => {
    const t = lapsedLot();
    const entries = t.ok(['ledger', 'entries', '--limit', '1000']).length;
    const refused = (args: string[], code: string) => {
      const r = t.run([...args, '--json', '--yes']);
      expect(r.code, r.stderr).toBe(3);
      expect(JSON.parse(r.stderr.trim().split('\n').pop()!).error.code).toBe(code);
    };
    refused(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '3000'], 'INSUFFICIENT_POINTS');
    refused(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '3000'], 'INSUFFICIENT_POINTS');
    refused(['checkout', '--member', 'M1', '--item', 'GIFT'], 'POINTS_ONLY_UNCOVERED');
    refused(['member', 'adjust', 'M1', '--points', '-2001', '--reason', 'fix'], 'INSUFFICIENT_POINTS');
    expect(t.ok(['ledger', 'entries', '--limit', '1000']).length).toBe(entries);

    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--max-points', '--yes']);
    expect(o).toMatchObject({ pointsUsed: 2000, cashPaid: '80.00' });
    const m = t.ok(['member', 'show', 'M1']);
    expect(m.lots.find((x: { expiresOn: string }) => x.expiresOn === '2026-01-10')).toMatchObject({ remaining: 3000 });
    expect(m).toMatchObject({ expiredPending: 3000, available: 80 });

    // the expiry run still posts the lapsed points
    expect(t.ok(['expire', 'run', '--yes'])).toMatchObject({ pointsExpired: 3000, lotsExpired: 1 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 80, available: 80, expiredPending: 0 });
    expect(failed(t)).toEqual([]);
  });

  it('spends a lot through its expiresOn in the ledger zone, and not the day after', () => {
    const t = lapsedLot();
    const lastDay = t.ok(['member', 'show', 'M1'], { now: '2026-01-10T23:59:00+08:00' });
    expect(lastDay).toMatchObject({ available: 5000, expiredPending: 0 });
    const dayAfter = t.ok(['member', 'show', 'M1'], { now: '2026-01-11T00:01:00+08:00' });
    expect(dayAfter).toMatchObject({ available: 2000, expiredPending: 3000 });
    t.ok(['member', 'adjust', 'M1', '--points', '-2500', '--reason', 'last day', '--yes'], { now: '2026-01-10T23:59:00+08:00' });
    expect(t.ok(['member', 'show', 'M1']).lots.map((x: { remaining: number }) => x.remaining)).toEqual([500, 2000]);
  });

  it('a refund returns points to their lot with its original expiry, lapsed by now: pending the run, not available', () => {
    const t = lapsedLot();
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '1000', '--yes'], { now: '2026-01-10T12:00:00+08:00' });
    expect(o).toMatchObject({ pointsUsed: 1000 });
    expect(t.ok(['member', 'show', 'M1'], { now: '2026-01-10T12:00:00+08:00' }).lots[0]).toMatchObject({ expiresOn: '2026-01-10', remaining: 2000 });
    const r = t.ok(['order', 'refund', o.orderId, '--yes'], { now: '2026-01-20T12:00:00+08:00' });
    expect(r).toMatchObject({ pointsReturned: 1000, pointsTakenBack: o.pointsEarned });
    // the earned points are taken back from the earliest-expiring live lots, the lapsed one left whole for
    // the expiry run (§4.6 read under §7 "Expired is expired": the same as had the run come first)
    const m = t.ok(['member', 'show', 'M1'], { now: '2026-01-20T12:00:00+08:00' });
    expect(m.lots[0]).toMatchObject({ expiresOn: '2026-01-10', remaining: 3000, expired: true });
    expect(m).toMatchObject({ balance: 5000, expiredPending: 3000, available: 2000 });
    expect(failed(t)).toEqual([]);
  });
});
