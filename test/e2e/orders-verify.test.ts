// ledger verify proves each order from itself and the journal (finding: an order whose lines no longer
// added up passed verify, and a refund then paid out the edited amount): a clean ledger with checkouts of
// every pay mode, coupons, points discounts, whole-step and worth-more-than-a-line points, declined and
// held orders, partial and full refunds verifies on every backend. The tampering side is verify-orders.test.ts.
import { describe, expect, it } from 'vitest';
import { orderScene } from '../helpers/orderScene.js';

type Check = { name: string; ok: boolean; detail: string };

describe('ledger verify proves orders and refunds line by line', () => {
  it('passes on orders of every pay mode, with coupons, points discounts and refunds in steps to the end', () => {
    const t = orderScene();
    const v = t.verify();
    expect(v.checks.filter((c: Check) => !c.ok)).toEqual([]);
    const orders = v.checks.find((c: Check) => c.name === 'order-lines-add-up');
    expect(orders?.detail).toMatch(/^9 order\(s\): each one's lines add up to its subtotal, discount, points used, cash paid and points discount/);
    expect(orders?.detail).toContain('the cash paid is in no chained data');
    const refunds = v.checks.find((c: Check) => c.name === 'refund-lines-add-up');
    expect(refunds?.detail).toMatch(/^6 refund\(s\): /);
    expect(refunds?.detail).toContain('the cash refunded is in no chained data');
  });
});
