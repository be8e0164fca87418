// A ledger with coupons in every state, for the verify tests of coupons (coupons-verify, verify-coupons).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type TmpLedger, sceneLedger } from './cli.js';

/** Member a buys 4 value coupons and 1 percent coupon; uses, holds, gives back and voids some; both items then change (an update, an import). */
export function couponScene(): TmpLedger {
  return sceneLedger('coupons-verify', (t) => {
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'add', '--id', 'b', '--name', 'B']);
    t.ok(['member', 'adjust', 'a', '--points', '20000', '--reason', 'welcome']);
    t.ok(['catalog', 'add', '--sku', 'CPN-10Y', '--name', '10 off', '--price', '10.00', '--pay', 'points', '--points-price', '800', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '30']);
    t.ok(['catalog', 'add', '--sku', 'CPN-9Z', '--name', '10% off', '--price', '20.00', '--pay', 'points', '--points-price', '1500', '--kind', 'coupon', '--coupon-percent', '10', '--coupon-days', '14']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '93.70', '--pay', 'cash']);
    const bought = t.ok(['checkout', '--member', 'a', '--item', 'CPN-10Y:4', '--item', 'CPN-9Z', '--max-points', '--yes']);
    expect(bought.couponsIssued).toHaveLength(5);
    const [v1, v2, v3] = bought.couponsIssued.filter((c: { sku: string }) => c.sku === 'CPN-10Y').map((c: { code: string }) => c.code);
    const pct = bought.couponsIssued.find((c: { sku: string }) => c.sku === 'CPN-9Z').code;
    expect(t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--coupon', v1, '--tender', 'cash', '--yes'])).toMatchObject({ discount: '10.00', cashPaid: '83.70' });
    expect(t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--coupon', pct, '--tender', 'card', '--yes'])).toMatchObject({ discount: '9.37' });
    const back = t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--coupon', v2, '--tender', 'cash', '--yes']);
    expect(t.ok(['order', 'refund', back.orderId, '--yes'])).toMatchObject({ coupon: { code: v2, returned: true } });
    t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--coupon', v3, '--no-points']);
    expect(t.ok(['order', 'refund', bought.orderId, '--line', 'CPN-10Y:1', '--yes'])).toMatchObject({ status: 'partially_refunded' });
    t.ok(['catalog', 'update', 'CPN-10Y', '--coupon-value', '20.00', '--coupon-days', '7']);
    const csv = join(t.dir, 'catalog.csv');
    writeFileSync(csv, 'sku,name,price,pay,points_price,kind,coupon_percent,coupon_days\nCPN-9Z,20% off,20.00,points,1500,coupon,20,5\n');
    t.ok(['catalog', 'import', csv]);
    t.ok(['catalog', 'deactivate', 'CPN-9Z']);
  });
}
