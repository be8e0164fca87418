// Issue 18, item 2 through the built bin: catalog --points-discount, the example checked out, shown
// in quote, order and receipt, refunded pro-rata with nothing gained, and covered by ledger verify.
import { describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger, openLedgerDb } from '../helpers/cli.js';

function shop(): TmpLedger {
  return sceneLedger('shop', (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann', '--phone', '13800000000']);
    t.ok(['member', 'adjust', 'M1', '--points', '20000', '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--points-discount', '10']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '10.00']);
  });
}
const verifyOk = (t: TmpLedger) => expect(t.verify().checks.filter((c) => !c.ok)).toEqual([]);

describe('points discounts on chosen items (catalog --points-discount)', () => {
  it('is set, shown and cleared on mixed items only; bad values are exit 2 naming the flag', () => {
    const t = shop();
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ pointsDiscount: '10' });
    expect(t.ok(['catalog', 'update', 'TEA', '--points-discount', '12.5']).pointsDiscount).toBe('12.5');
    for (const bad of ['100', '95', '-1', 'x', '1.234']) {
      const r = t.run(['catalog', 'update', 'TEA', '--points-discount', bad, '--json']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('points-discount');
    }
    expect(t.run(['catalog', 'add', '--sku', 'C2', '--name', 'C', '--price', '1.00', '--pay', 'cash', '--points-discount', '5', '--json']).code).toBe(2);
    expect(t.run(['catalog', 'add', '--sku', 'P2', '--name', 'P', '--price', '1.00', '--pay', 'points', '--points-discount', '5', '--json']).code).toBe(2);
    expect(t.ok(['catalog', 'update', 'TEA', '--points-discount', '0']).pointsDiscount).toBeNull();
    expect(t.run(['catalog', 'show', 'TEA']).stdout).toMatch(/points discount\s+-/);
  });

  it("the issue's example: 9000 points pay 100.00; --points 4500 pays 50.00 and 50.00 cash, earning on the cash only", () => {
    const t = shop();
    expect(t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--max-points'])).toMatchObject({
      pointsUsed: 9000, pointsValue: '90.00', pointsDiscount: '10.00', cashPaid: '0.00', pointsEarned: 0, maxUsablePoints: 9000,
      lines: [{ sku: 'TEA', pointsDiscountPercent: '10', pointsDiscount: '10.00' }],
    });
    const human = t.run(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--points', '4500']).stdout;
    expect(human).toMatch(/points discount\s+5\.00 \(points pay more on TEA 10%\)/);
    expect(human).toMatch(/cash to pay\s+50\.00/);
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '4500', '--yes']);
    expect(o).toMatchObject({ status: 'paid', total: '100.00', pointsUsed: 4500, pointsValue: '45.00', pointsDiscount: '5.00', cashPaid: '50.00', pointsEarned: 50, balance: 20000 - 4500 + 50 });
    expect(t.ok(['order', 'show', o.orderId]).lines).toEqual([expect.objectContaining({ sku: 'TEA', points: 4500, pointsDiscountPercent: '10', pointsDiscount: '5.00', cash: '50.00', earned: 50 })]);
    expect(t.run(['order', 'show', o.orderId]).stdout).toMatch(/points discount\s+5\.00/);
    const receipt = (t.ok(['outbox', 'list']) as { topic: string; payload: Record<string, unknown> }[]).find((m) => m.topic === 'order.confirmed')!;
    expect(receipt.payload).toMatchObject({ orderId: o.orderId, pointsUsed: 4500, pointsValue: '45.00', pointsDiscount: '5.00', cashPaid: '50.00' });
    const all = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--max-points', '--yes']);
    expect(all).toMatchObject({ pointsUsed: 9000, pointsDiscount: '10.00', cashPaid: '0.00', pointsEarned: 0 });
    verifyOk(t);
  });

  it('a token point reaches no discount (rounded down per minor unit); other items in the cart get none', () => {
    const t = shop();
    expect(t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--points', '1'])).toMatchObject({ pointsValue: '0.01', pointsDiscount: '0.00', cashPaid: '99.99' });
    expect(t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--points', '9'])).toMatchObject({ pointsValue: '0.09', pointsDiscount: '0.01', cashPaid: '99.90' });
    const q = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--item', 'CUP', '--max-points']);
    expect(q).toMatchObject({ pointsUsed: 10000, pointsValue: '100.00', pointsDiscount: '10.00', cashPaid: '0.00' });
    expect(q.lines).toEqual([expect.objectContaining({ sku: 'TEA', pointsDiscount: '10.00' }), expect.objectContaining({ sku: 'CUP', pointsDiscountPercent: null, pointsDiscount: '0.00' })]);
  });

  it('refunds return the points and cash paid, pro-rata by unit: nothing gained by refunding', () => {
    const t = shop();
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA:3', '--points', '13500', '--yes']);
    expect(o).toMatchObject({ pointsValue: '135.00', pointsDiscount: '15.00', cashPaid: '150.00', pointsEarned: 150 });
    const one = t.ok(['order', 'refund', o.orderId, '--line', 'TEA:1', '--yes']);
    expect(one).toMatchObject({ pointsReturned: 4500, cashRefunded: '50.00', pointsTakenBack: 50 });
    const rest = t.ok(['order', 'refund', o.orderId, '--yes']);
    expect(rest).toMatchObject({ status: 'refunded', pointsReturned: 9000, cashRefunded: '100.00', pointsTakenBack: 100 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 20000, held: 0 });
    verifyOk(t);
  });

  it('ledger verify catches an order whose points discount does not add up', () => {
    const t = shop();
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '4500', '--yes']);
    const db = openLedgerDb(t.db);
    db.prepare('UPDATE orders SET points_discount = 600 WHERE id = ?').run(o.orderId);
    db.close();
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code).toBe(6);
    const c = (r.json() as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((x) => x.name === 'orders-points-discount')!;
    expect(c.detail).toContain(`order ${o.orderId}`);
  });
});
