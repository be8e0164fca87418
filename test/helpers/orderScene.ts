// A ledger with checkouts of every pay mode and their refunds, for the verify tests of orders
// (orders-verify on every backend, verify-orders tampering through sqlite3).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type TmpLedger, sceneLedger } from './cli.js';

/**
 * Member a: ORD-000001 the tester's card order (TEA:2 CUP:2, no points); ORD-000002 every pay mode at
 * once with --max-points (mixed, a ratio-capped mixed item, cash-only, points-only with a points price and
 * at the redeem rate, a points-discounted item), refunded in three steps to the end; ORD-000003 coupons
 * bought with points; ORD-000004 a coupon and points on a mixed item, partly refunded; ORD-000005 declined
 * (member b); ORD-000006 held; ORD-000007 a points discount with --points, one unit refunded.
 */
export function orderScene(): TmpLedger {
  return sceneLedger('orders-verify', (t) => {
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'add', '--id', 'b', '--name', 'B']);
    t.ok(['member', 'adjust', 'a', '--points', '60000', '--reason', 'welcome']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'tea', '--price', '98.00']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'cup', '--price', '89.00']);
    t.ok(['catalog', 'add', '--sku', 'MUG', '--name', 'mug', '--price', '50.01', '--max-points-ratio', '0.5']);
    t.ok(['catalog', 'add', '--sku', 'PEN', '--name', 'pen', '--price', '12.34', '--pay', 'cash']);
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'gift', '--price', '30.00', '--pay', 'points', '--points-price', '2500']);
    t.ok(['catalog', 'add', '--sku', 'CARD', '--name', 'card', '--price', '15.05', '--pay', 'points']);
    t.ok(['catalog', 'add', '--sku', 'SILK', '--name', 'silk', '--price', '100.00', '--points-discount', '10']);
    t.ok(['catalog', 'add', '--sku', 'CPN-10Y', '--name', '10 off', '--price', '10.00', '--pay', 'points', '--points-price', '800', '--kind', 'coupon', '--coupon-value', '10.00']);
    t.ok(['checkout', '--member', 'a', '--item', 'TEA:2', '--item', 'CUP:2', '--no-points', '--tender', 'card', '--yes']);
    const all = t.ok(['checkout', '--member', 'a', '--item', 'TEA:3', '--item', 'MUG:2', '--item', 'PEN:3', '--item', 'GIFT:2', '--item', 'CARD', '--item', 'SILK', '--max-points', '--tender', 'cash', '--yes']);
    expect(all.orderId).toBe('ORD-000002');
    t.ok(['order', 'refund', all.orderId, '--line', 'TEA:1', '--line', 'GIFT:1', '--yes']);
    t.ok(['order', 'refund', all.orderId, '--line', 'MUG:1', '--line', 'TEA:1', '--line', 'PEN:2', '--yes']);
    t.ok(['order', 'refund', all.orderId, '--yes']);
    const cp = t.ok(['checkout', '--member', 'a', '--item', 'CPN-10Y:2', '--yes']);
    const used = t.ok(['checkout', '--member', 'a', '--item', 'TEA:3', '--item', 'PEN', '--coupon', cp.couponsIssued[0].code, '--points', '2000', '--tender', 'alipay', '--yes']);
    expect(used).toMatchObject({ orderId: 'ORD-000004', discount: '10.00', pointsUsed: 2000 });
    t.ok(['order', 'refund', used.orderId, '--line', 'TEA:2', '--yes']);
    expect(t.run(['checkout', '--member', 'b', '--item', 'TEA', '--decline', '--yes', '--json']).code).toBe(3);
    t.ok(['checkout', 'start', '--member', 'a', '--item', 'SILK', '--points', '1000']);
    const silk = t.ok(['checkout', '--member', 'a', '--item', 'SILK:3', '--item', 'CUP', '--points', '12340', '--tender', 'wechat', '--yes']);
    expect(silk).toMatchObject({ orderId: 'ORD-000007' });
    t.ok(['order', 'refund', silk.orderId, '--line', 'SILK:1', '--yes']);
    // 1000 points per yuan: points in steps of 10 (§4.2).
    const rules = join(t.dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ redeem: { pointsPerUnit: 1000 } }));
    t.ok(['rules', 'apply', rules]);
    const tens = t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--item', 'MUG:3', '--item', 'CARD', '--max-points', '--tender', 'card', '--yes']);
    expect(tens).toMatchObject({ orderId: 'ORD-000008', pointsUsed: 48150 });
    // Half a point per yuan: one point is worth 2.00, more than the 1.50 line can hold: the one point that
    // fits goes on the 2.50 line (whole steps on each line, never value without points).
    writeFileSync(rules, JSON.stringify({ redeem: { pointsPerUnit: 0.5 } }));
    t.ok(['rules', 'apply', rules]);
    t.ok(['catalog', 'add', '--sku', 'PIN', '--name', 'pin', '--price', '1.50']);
    t.ok(['catalog', 'add', '--sku', 'BADGE', '--name', 'badge', '--price', '2.50']);
    const big = t.ok(['checkout', '--member', 'a', '--item', 'PIN', '--item', 'BADGE', '--max-points', '--tender', 'cash', '--yes']);
    expect(big).toMatchObject({ orderId: 'ORD-000009', pointsUsed: 1, pointsValue: '2.00', cashPaid: '2.00' });
    t.ok(['order', 'refund', big.orderId, '--line', 'PIN', '--yes']);
  });
}
