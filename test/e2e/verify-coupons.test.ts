// ledger verify proves the coupons table against the orders that issued and used them (SQLite only: each
// test edits the ledger's file with plain SQL, as an operator with sqlite3 could, and expects exit 6 naming
// the coupon). The same clean ledger verifies on every backend in coupons-verify.test.ts.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { TmpLedger } from '../helpers/cli.js';
import { failed, tamper } from '../helpers/tamper.js';
import { couponScene } from '../helpers/couponScene.js';

type Row = { code: string; status: string; sku: string; order_id: string; line_no: number; used_order_id: string | null; member_id: string };

function coupons(t: TmpLedger): Row[] {
  const db = new Database(t.db, { readonly: true });
  const rows = db.prepare('SELECT code, status, sku, order_id, line_no, used_order_id, member_id FROM coupons ORDER BY code').all() as Row[];
  db.close();
  return rows;
}

const one = (rows: Row[], status: string, sku = 'CPN-10Y'): Row => rows.find((r) => r.status === status && r.sku === sku)!;

/** Each edit, the check it breaks and what the first problem says. */
const cases: { what: string; sql: (r: Row[]) => string; check: string; says: (r: Row[]) => string }[] = [
  { what: 'value raised', sql: (r) => `UPDATE coupons SET value = 100000 WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: has value 1000.00 but item CPN-10Y gave value 10.00` },
  { what: 'value turned into a percent', sql: (r) => `UPDATE coupons SET value = NULL, percent = '90' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: has 90% off but item CPN-10Y gave value 10.00` },
  { what: 'percent raised', sql: (r) => `UPDATE coupons SET percent = '50' WHERE code = '${one(r, 'used', 'CPN-9Z').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'used', 'CPN-9Z').code}: has 50% off but item CPN-9Z gave 10% off` },
  { what: 'expiresOn moved to 2099', sql: (r) => `UPDATE coupons SET expires_on = '2099-12-31' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: expires on 2099-12-31 but item CPN-10Y lasted 30 days when order ORD-000001 issued it on 2026-11-23: 2026-12-23` },
  { what: 'given to another member', sql: (r) => `UPDATE coupons SET member_id = 'b' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: is member b's but order ORD-000001 was bought by a` },
  { what: 'sku changed', sql: (r) => `UPDATE coupons SET sku = 'CPN-9Z' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: is a CPN-9Z coupon but line 1 of order ORD-000001 is coupon CPN-10Y` },
  { what: 'issuing order changed', sql: (r) => `UPDATE coupons SET order_id = 'ORD-000002' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: is a CPN-10Y coupon but line 1 of order ORD-000002 is goods TEA` },
  { what: 'issuing order made up', sql: (r) => `PRAGMA foreign_keys = OFF; UPDATE coupons SET order_id = 'ORD-999999' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: names order ORD-999999, which does not exist` },
  { what: 'issuing line changed', sql: (r) => `UPDATE coupons SET line_no = 2 WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: is a CPN-10Y coupon but line 2 of order ORD-000001 is coupon CPN-9Z` },
  { what: 'issued later', sql: (r) => `UPDATE coupons SET issued_at = '2026-12-20T02:00:00.000Z' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: (r) => `coupon ${one(r, 'active').code}: was issued at 2026-12-20T02:00:00.000Z but order ORD-000001 was paid at` },
  { what: 'one more coupon made', sql: () => `INSERT INTO coupons SELECT 'CPN-EXTR-AAAA', member_id, sku, order_id, line_no, value, percent, issued_at, expires_on, 'active', NULL, NULL FROM coupons WHERE status = 'active' AND sku = 'CPN-10Y'`, check: 'coupons-match-issuing-orders', says: () => 'order ORD-000001 line 1: is partially_refunded with 4 × CPN-10Y but issued 5 coupon(s)' },
  { what: 'a coupon deleted', sql: (r) => `DELETE FROM coupons WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-issuing-orders', says: () => 'order ORD-000001 line 1: is partially_refunded with 4 × CPN-10Y but issued 3 coupon(s)' },
  { what: 'a void coupon made active', sql: (r) => `UPDATE coupons SET status = 'active', used_at = NULL WHERE code = '${one(r, 'void').code}'`, check: 'coupons-match-issuing-orders', says: () => 'order ORD-000001 line 1: has 1 of 4 × CPN-10Y refunded but 0 of its coupons void' },
  { what: 'a used coupon made active', sql: (r) => `UPDATE coupons SET status = 'active', used_order_id = NULL, used_at = NULL WHERE code = '${one(r, 'used').code}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'used').code}: is active but order ${one(r, 'used').used_order_id} (paid) used it at` },
  { what: 'an active coupon marked used', sql: (r) => `UPDATE coupons SET status = 'used', used_order_id = 'ORD-000003', used_at = '2026-11-23T02:00:00.000Z' WHERE code = '${one(r, 'active').code}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'active').code}: is used by order ORD-000003 at 2026-11-23T02:00:00.000Z but no paid or open order uses it` },
  { what: 'a held coupon released', sql: (r) => `UPDATE coupons SET status = 'active', used_order_id = NULL WHERE code = '${one(r, 'held').code}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'held').code}: is active but order ${one(r, 'held').used_order_id} (held) holds it` },
  { what: "a used coupon's order changed", sql: (r) => `UPDATE coupons SET used_order_id = 'ORD-000004' WHERE code = '${one(r, 'used').code}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'used').code}: is used by order ORD-000004` },
  { what: "a void coupon's time changed", sql: (r) => `UPDATE coupons SET used_at = '2026-11-01T00:00:00.000Z' WHERE code = '${one(r, 'void').code}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'void').code}: is void at 2026-11-01T00:00:00.000Z but no refund of line 1 of order ORD-000001 was made then` },
  { what: "an order's discount raised", sql: (r) => `UPDATE orders SET discount = 9370 WHERE id = '${one(r, 'used').used_order_id}'`, check: 'coupons-match-use', says: (r) => `order ${one(r, 'used').used_order_id}: records a discount of 93.70 but coupon ${one(r, 'used').code} (value 10.00) gives 10.00 on its 93.70 paid in money` },
  { what: 'a discount without a coupon', sql: () => `UPDATE orders SET discount = 500 WHERE id = 'ORD-000001'`, check: 'coupons-match-use', says: () => 'order ORD-000001: records a discount of 5.00 but names no coupon' },
  { what: "a used coupon's order moved to another coupon", sql: (r) => `UPDATE orders SET coupon_code = '${one(r, 'active').code}' WHERE id = '${one(r, 'used').used_order_id}'`, check: 'coupons-match-use', says: (r) => `coupon ${one(r, 'active').code}: is active but order ${one(r, 'used').used_order_id} (paid) used it` },
];

describe('ledger verify catches an edited coupon (SQLite: edits through sqlite3)', () => {
  for (const c of cases) {
    it(`catches a coupon's ${c.what}`, () => {
      const t = couponScene();
      const rows = coupons(t);
      tamper(t, c.sql(rows));
      const f = failed(t);
      const check = f.find((x) => x.name === c.check);
      expect(check, JSON.stringify(f)).toBeDefined();
      expect(check!.detail).toContain(c.says(rows));
    });
  }

  it("the tester's case: a coupon made worth 1000.00 and lasting to 2099 pays a whole order, and verify fails before and after", () => {
    const t = couponScene();
    const a = one(coupons(t), 'active');
    tamper(t, `UPDATE coupons SET status = 'active', value = 100000, expires_on = '2099-12-31' WHERE code = '${a.code}'`);
    expect(failed(t).map((x) => x.name)).toEqual(['coupons-match-issuing-orders']);
    const o = t.ok(['checkout', '--member', 'a', '--item', 'TEA', '--coupon', a.code, '--yes']);
    expect(o).toMatchObject({ discount: '93.70', cashPaid: '0.00' });
    const f = failed(t);
    expect(f.map((x) => x.name)).toEqual(['coupons-match-issuing-orders']);
    expect(f[0].detail).toContain(`coupon ${a.code}: has value 1000.00 but item CPN-10Y gave value 10.00 when order ORD-000001 issued it`);
  });
});
