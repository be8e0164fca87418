// The books through the built bin: order lines follow their pay modes (§4.5), open holds keep lots,
// balances and liability consistent (§5), and lapsed lots are never spent (§7 "Expired is expired").
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tmpLedger, type TmpLedger } from '../helpers/cli.js';

const failed = (t: TmpLedger) => t.verify().checks.filter((c) => !c.ok);
const lineOf = (o: { lines: { sku: string }[] }, sku: string) => o.lines.find((x) => x.sku === sku)!;

function giftShop(points = 5000): TmpLedger {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
  t.ok(['member', 'adjust', 'M1', '--points', String(points), '--reason', 'seed', '--yes']);
  t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '30.00', '--pay', 'points', '--points-price', '3000']);
  t.ok(['catalog', 'add', '--sku', 'CASH', '--name', 'Cash item', '--price', '70.00', '--pay', 'cash']);
  t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--max-points-ratio', '0.5']);
  return t;
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
    const db = new Database(t.db);
    db.prepare('UPDATE order_lines SET points = ?, cash = ?, earned = ? WHERE order_id = ? AND sku = ?').run(900, 2100, 21, o.orderId, 'GIFT');
    db.prepare('UPDATE order_lines SET points = ?, cash = ?, earned = ? WHERE order_id = ? AND sku = ?').run(2100, 4900, 49, o.orderId, 'CASH');
    db.close();
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'GIFT:1', '--yes'])).toMatchObject({ pointsReturned: 900, cashRefunded: '21.00', pointsTakenBack: 21 });
    expect(t.ok(['order', 'refund', o.orderId, '--yes'])).toMatchObject({ pointsReturned: 2100, cashRefunded: '49.00', pointsTakenBack: 49, complete: true });
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(5000);
  });
});
