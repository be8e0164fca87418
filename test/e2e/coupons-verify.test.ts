// ledger verify proves the coupons table (issue: an edited coupon passed verify and paid a whole order):
// a clean ledger with coupons issued, held, used, given back by a refund, voided by one, and issued before
// their item's terms changed, verifies on every backend. The tampering side is verify-coupons.test.ts.
import { describe, expect, it } from 'vitest';
import { couponScene } from '../helpers/couponScene.js';

type Check = { name: string; ok: boolean; detail: string };

describe('ledger verify proves coupons', () => {
  it('passes on coupons issued, held, used, given back, voided, and issued before their item changed', () => {
    const t = couponScene();
    const statuses = t.ok(['coupon', 'list']).map((c: { status: string }) => c.status).sort();
    expect(statuses).toEqual(['active', 'held', 'used', 'used', 'void']);
    const v = t.verify();
    expect(v.checks.filter((c: Check) => !c.ok)).toEqual([]);
    const issued = v.checks.find((c: Check) => c.name === 'coupons-match-issuing-orders');
    expect(issued?.detail).toMatch(/^5 coupon\(s\): each issued by a paid order's coupon line/);
    expect(issued?.detail).not.toContain('could not be recomputed');
    expect(v.checks.map((c: Check) => c.name)).toContain('coupons-match-use');
  });
});
