// ledger verify proves each order from itself and the journal (SQLite only: each test edits the ledger's
// file with plain SQL, as an operator with sqlite3 could, and expects exit 6 naming the order and what does
// not add up). The same clean ledger verifies on every backend in orders-verify.test.ts.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failed, tamper } from '../helpers/tamper.js';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';
import { orderScene } from '../helpers/orderScene.js';

/** Refunds are append-only by trigger: an operator with sqlite3 drops the triggers first. */
const UNLOCK = 'DROP TRIGGER refunds_append_only_u; DROP TRIGGER refund_lines_append_only_u;';

const line = (order: string, no: number) => `WHERE order_id = '${order}' AND line_no = ${no}`;

/** Each edit, the check it breaks and what its detail says. */
const cases: { what: string; sql: string; check: string; says: string }[] = [
  { what: 'a line given more cash', sql: `UPDATE order_lines SET cash = cash + 100 ${line('ORD-000001', 1)}`, check: 'order-lines-add-up', says: 'order ORD-000001: was paid 374.00 in cash but its lines carry 375.00' },
  { what: 'an order given more cash paid with it', sql: `UPDATE order_lines SET cash = cash + 100 ${line('ORD-000001', 1)}; UPDATE orders SET cash_paid = cash_paid + 100 WHERE id = 'ORD-000001'`, check: 'order-lines-add-up', says: 'order ORD-000001: was paid 375.00 in cash, 0.00 in points value and 0.00 in points discount, which is not its total 374.00' },
  { what: 'a line given more points', sql: `UPDATE order_lines SET points = points + 10 ${line('ORD-000008', 1)}`, check: 'order-lines-add-up', says: 'order ORD-000008: used 48150 points but its lines carry 48160' },
  { what: 'points moved between lines', sql: `UPDATE order_lines SET points = points - 100 ${line('ORD-000008', 1)}; UPDATE order_lines SET points = points + 100 ${line('ORD-000008', 2)}`, check: 'order-lines-add-up', says: 'order ORD-000008: line 1 (TEA) carries 18650 points but its amount 98.00 less its discount share 0.00, cash 79.25 and points discount 0.00 leaves 18.75 paid by them (1000 points per unit)' },
  {
    what: "points moved between mixed lines with their cash moved back (the tester's F4: each line still adds up alone)",
    sql: `UPDATE order_lines SET points = points - 1000, cash = cash + 100 ${line('ORD-000008', 1)}; UPDATE order_lines SET points = points + 1000, cash = cash - 100 ${line('ORD-000008', 2)}`,
    check: 'order-lines-add-up',
    says: "order ORD-000008: line 1 (TEA, mixed) carries 17750 points and 80.25 cash, but the order's 33100 points on its mixed lines, spread by what each let points pay (this one 1 × its net), give it 18750 points and 79.25 cash (§4.5)",
  },
  { what: 'a mixed line given a ratio above the rules allow', sql: `UPDATE order_lines SET points_ratio = '1.5' ${line('ORD-000008', 1)}`, check: 'order-lines-add-up', says: "order ORD-000008: line 1 (TEA, mixed) keeps a points ratio of 1.5, outside 0 to the rules' redeem.maxRatio 1" },
  {
    what: "an order's ratios taken away, so that it would be read as written before migration 15 (the weaker check)",
    sql: `UPDATE order_lines SET points_ratio = NULL WHERE order_id = 'ORD-000008'`,
    check: 'order-lines-add-up',
    says: 'order ORD-000008: its mixed lines keep no points ratio, yet order ORD-00000',
  },
  { what: "one mixed line's ratio taken away", sql: `UPDATE order_lines SET points_ratio = NULL ${line('ORD-000008', 1)}`, check: 'order-lines-add-up', says: 'order ORD-000008: line 1 (TEA, mixed) keeps no points ratio, while line 2 of the same order keeps one' },
  { what: 'cash moved between lines', sql: `UPDATE order_lines SET cash = cash - 100 ${line('ORD-000008', 1)}; UPDATE order_lines SET cash = cash + 100 ${line('ORD-000008', 2)}`, check: 'order-lines-add-up', says: 'order ORD-000008: line 1 (TEA) carries 18750 points but its amount 98.00 less its discount share 0.00, cash 78.25 and points discount 0.00 leaves 19.75 paid by them' },
  { what: 'points moved onto a cash-only line', sql: `UPDATE order_lines SET points = points - 100 ${line('ORD-000004', 1)}; UPDATE order_lines SET points = points + 100 ${line('ORD-000004', 2)}`, check: 'order-lines-add-up', says: 'order ORD-000004: line 2 (PEN, cash) carries 100 points and 11.94 cash: a cash-only line carries its amount less its discount share (11.94) in cash and no points' },
  { what: 'points value raised', sql: `UPDATE orders SET points_value = points_value + 1000 WHERE id = 'ORD-000004'`, check: 'order-lines-add-up', says: 'order ORD-000004: was paid 276.34 in cash, 30.00 in points value and 0.00 in points discount, which is not its total 296.34' },
  { what: 'points value raised and the cash lowered to match', sql: `UPDATE orders SET points_value = points_value + 1000, cash_paid = cash_paid - 1000 WHERE id = 'ORD-000008'; UPDATE order_lines SET cash = cash - 1000 ${line('ORD-000008', 2)}`, check: 'order-lines-add-up', says: 'order ORD-000008: records a points value of 58.15 but its 48150 points are worth 48.15 (15.05 of points-only lines, 33100 points at 1000 per unit on the others, rules version 2)' },
  { what: 'a points discount raised', sql: `UPDATE order_lines SET points_discount = points_discount + 100, cash = cash - 100 ${line('ORD-000007', 1)}; UPDATE orders SET points_discount = points_discount + 100, cash_paid = cash_paid - 100 WHERE id = 'ORD-000007'`, check: 'order-lines-add-up', says: 'order ORD-000007: line 1 (SILK, mixed) records a points discount of 11.31 but its points worth 92.81 at 10% give 10.31' },
  { what: 'earned points moved between lines', sql: `UPDATE order_lines SET earned = earned - 10 ${line('ORD-000008', 1)}; UPDATE order_lines SET earned = earned + 10 ${line('ORD-000008', 2)}`, check: 'order-lines-add-up', says: "order ORD-000008: its 214 earned points are spread 69/145/0 over its lines, not by their cash (79/135/0)" },
  { what: 'a subtotal raised', sql: `UPDATE orders SET subtotal = subtotal + 100 WHERE id = 'ORD-000001'`, check: 'order-lines-add-up', says: "order ORD-000001: records a subtotal of 375.00 but its lines' amounts add up to 374.00" },
  { what: 'a unit price lowered', sql: `UPDATE order_lines SET unit_price = 100 ${line('ORD-000001', 2)}`, check: 'order-lines-add-up', says: 'order ORD-000001: line 2 (CUP) has amount 178.00 for 2 × 1.00' },
  {
    what: 'a refund line given more cash than its share (caches and refund kept in step)',
    sql: `${UNLOCK} UPDATE refund_lines SET cash = cash + 5000 WHERE refund_id = 4 AND line_no = 1; UPDATE refunds SET cash = cash + 5000 WHERE id = 4;
          UPDATE order_lines SET refunded_cash = refunded_cash + 5000 ${line('ORD-000004', 1)}; UPDATE orders SET refunded_cash = refunded_cash + 5000 WHERE id = 'ORD-000004'`,
    check: 'refund-lines-add-up',
    says: 'order ORD-000004 line 1: carried 2000 points / 264.40 cash / 264 earned for 3 unit(s), so 2 refunded return 1333 / 176.26 / 176, but its refunds up to refund 4 returned 1333 / 226.26 / 176',
  },
  {
    what: 'a refund line given more units than the line had',
    sql: `${UNLOCK} UPDATE refund_lines SET quantity = 4 WHERE refund_id = 4 AND line_no = 1; UPDATE order_lines SET refunded_qty = 4 ${line('ORD-000004', 1)}`,
    check: 'refund-lines-add-up',
    says: 'order ORD-000004 line 1: has 3 unit(s) but its refunds up to refund 4 return 4',
  },
  {
    what: 'a refund appended that pays a line out twice (append-only tables let it in)',
    sql: `INSERT INTO refunds (order_id, at, operator, reason, points, cash, earned) VALUES ('ORD-000001', '2026-11-23T03:00:00.000Z', 'x', NULL, 0, 19600, 196);
          INSERT INTO refund_lines (refund_id, line_no, sku, quantity, points, cash, earned) VALUES (last_insert_rowid(), 1, 'TEA', 2, 0, 19600, 196);
          INSERT INTO refunds (order_id, at, operator, reason, points, cash, earned) VALUES ('ORD-000001', '2026-11-23T03:00:00.000Z', 'x', NULL, 0, 19600, 196);
          INSERT INTO refund_lines (refund_id, line_no, sku, quantity, points, cash, earned) VALUES (last_insert_rowid(), 1, 'TEA', 2, 0, 19600, 196)`,
    check: 'refund-lines-add-up',
    says: 'order ORD-000001 line 1: has 2 unit(s) but its refunds up to refund 8 return 4',
  },
  { what: "a refund's cash not its lines'", sql: `${UNLOCK} UPDATE refunds SET cash = cash + 100 WHERE id = 5`, check: 'refund-lines-add-up', says: 'refund 5 of ORD-000007: records 3093 points / 66.62 cash / 65 earned but its lines add up to 3093 / 65.62 / 65' },
  { what: 'a refund moved to another line', sql: `${UNLOCK} UPDATE refund_lines SET line_no = 2 WHERE refund_id = 5`, check: 'refund-lines-add-up', says: 'order ORD-000007 line 2: is CUP but refund 5 returns SILK' },
];

describe('ledger verify catches an order or refund that does not add up (SQLite: edits through sqlite3)', () => {
  for (const c of cases) {
    it(`catches ${c.what}`, () => {
      const t = orderScene();
      tamper(t, c.sql);
      const f = failed(t);
      const check = f.find((x) => x.name === c.check);
      expect(check, JSON.stringify(f)).toBeDefined();
      expect(check!.detail).toContain(c.says);
    });
  }

  it("the tester's case: a line's cash raised fails verify naming the order, and the refund that would pay it out refuses (exit 6, nothing written)", () => {
    const t = orderScene();
    tamper(t, `UPDATE order_lines SET cash = cash + 100 ${line('ORD-000001', 1)}`);
    const before = failed(t);
    expect(before.map((x) => x.name)).toEqual(['order-lines-add-up']);
    expect(before[0].detail).toBe('order ORD-000001: was paid 374.00 in cash but its lines carry 375.00');
    const entries = t.ok(['ledger', 'entries']).length;
    const refund = t.run(['order', 'refund', 'ORD-000001', '--yes', '--json']);
    expect(refund.code, refund.stderr).toBe(6);
    expect(refund.stdout).toBe('');
    expect(JSON.parse(refund.stderr.trim()).error).toMatchObject({ code: 'ORDER_BOOKS_BROKEN', message: 'order ORD-000001 was paid 374.00 in cash but its lines carry 375.00; nothing was refunded' });
    // a person is told the same, with the way out
    const text = t.run(['order', 'refund', 'ORD-000001', '--line', 'TEA:1', '--yes']);
    expect(text.code).toBe(6);
    expect(text.stderr).toMatch(/^error: order ORD-000001 was paid 374.00 in cash but its lines carry 375.00; nothing was refunded\nhint: run pointsmall ledger verify/);
    expect(t.ok(['order', 'show', 'ORD-000001'])).toMatchObject({ status: 'paid', refundedCash: '0.00' });
    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    // a refund of a refund that does not add up refuses too, naming it
    const t2 = orderScene();
    tamper(t2, `${UNLOCK} UPDATE refunds SET cash = cash + 100 WHERE id = 5`);
    const r2 = t2.run(['order', 'refund', 'ORD-000007', '--yes', '--json']);
    expect(r2.code, r2.stderr).toBe(6);
    expect(JSON.parse(r2.stderr.trim()).error.message).toBe('order ORD-000007 does not add up: refund 5 of ORD-000007 records 3093 points / 66.62 cash / 65 earned but its lines add up to 3093 / 65.62 / 65; nothing was refunded');
    // an order whose books add up refunds as before
    expect(t2.ok(['order', 'refund', 'ORD-000001', '--line', 'TEA:1', '--yes'])).toMatchObject({ cashRefunded: '98.00' });
  });
});

describe('a step worth more than a minor unit (1 point per yuan): whole steps on each line', () => {
  /** A ledger at one point per yuan (a step is worth 1.00), member a with 10 points, items of these prices. */
  const pointPerYuan = (items: [string, string][]) => {
    const t = tmpLedger();
    const rules = join(t.dir, 'r.json');
    writeFileSync(rules, JSON.stringify({ earn: { pointsPerUnit: '1' }, redeem: { pointsPerUnit: '1', minPoints: 0, maxRatio: '1' } }));
    t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']);
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'adjust', 'a', '--points', '10', '--reason', 'welcome']);
    for (const [sku, price] of items) t.ok(['catalog', 'add', '--sku', sku, '--name', sku, '--price', price]);
    const cart = ['--member', 'a', ...items.flatMap(([sku]) => ['--item', sku]), '--tender', 'cash', '--yes'];
    return { t, cart };
  };
  const lines = (t: TmpLedger, order: string) =>
    (t.ok(['order', 'show', order]).lines as { sku: string; points: number; cash: string }[]).map((l) => [l.sku, l.points, l.cash]);
  const set = (order: string, no: number, points: number, cash: number, earned: number, more = '') =>
    `UPDATE order_lines SET points = ${points}, cash = ${cash}, earned = ${earned}${more} WHERE order_id = '${order}' AND line_no = ${no};`;
  const unmark = (order: string) => `UPDATE order_lines SET points_spread = NULL WHERE order_id = '${order}';`;
  /** The ledger as a build before migration 16 left it, then upgraded: its orders so far keep no spread rule, and `db migrate` records them as before it. */
  const upgradedFromOlderBuild = (t: TmpLedger) => {
    tamper(t, 'ALTER TABLE order_lines DROP COLUMN points_spread; PRAGMA user_version = 15;');
    expect(t.ok(['db', 'migrate'])).toMatchObject({ from: 15, to: 16 });
  };
  const spreadCheck = (t: TmpLedger) => failed(t).find((c) => c.name === 'order-lines-add-up')?.detail;

  it('spreads the points within each line and holds a new order to that spread alone', () => {
    const { t, cart } = pointPerYuan([['A', '3.50'], ['B', '0.90'], ['C', '2.00']]);
    // 0.90 holds no whole point, 3.50 three and 2.00 two: six points are more than the lines can take
    const six = t.run(['checkout', ...cart, '--points', '6', '--json']);
    expect(six.code).toBe(3);
    expect(six.stderr).toContain('is more than these items can take (at most 5)');
    const o = t.ok(['checkout', ...cart, '--points', '4']);
    expect(o).toMatchObject({ pointsUsed: 4, pointsValue: '4.00', cashPaid: '2.40' });
    expect(lines(t, o.orderId)).toEqual([['A', 3, '0.50'], ['B', 0, '0.90'], ['C', 1, '1.00']]);
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    // the spread an older build wrote for this cart (B given a point worth 0.56 of its 0.90, its 2 earned
    // points spread over that cash) is refused on an order this build wrote (the hostile trial's edit)
    const pooled = set(o.orderId, 1, 2, 131, 1) + set(o.orderId, 2, 1, 34, 0) + set(o.orderId, 3, 1, 75, 1);
    tamper(t, pooled);
    expect(spreadCheck(t)).toContain(`order ${o.orderId}: line 1 (A) carries 2 points but its amount 3.50 less its discount share 0.00, cash 1.31 and points discount 0.00 leaves 2.19 paid by them (1 points per unit)`);
    // its spread rule taken away too: the audit log says the ledger was made at schema 16, so it is caught
    tamper(t, unmark(o.orderId));
    expect(spreadCheck(t)).toContain(`order ${o.orderId}: its mixed lines keep no points spread rule, yet it was written after migration 16 (the audit log records orders up to 0 before it; every order since keeps one): the rule was taken away`);
    // and the refund that would pay its lines out refuses
    const refund = t.run(['order', 'refund', o.orderId, '--line', 'B', '--yes', '--json']);
    expect(refund.code).toBe(6);
    expect(JSON.parse(refund.stderr).error.code).toBe('ORDER_BOOKS_BROKEN');
  });

  it('an order an older build wrote keeps its spread after the upgrade, and only that one', () => {
    const { t, cart } = pointPerYuan([['A', '3.50'], ['B', '0.90'], ['C', '2.00']]);
    const o = t.ok(['checkout', ...cart, '--points', '4']);
    upgradedFromOlderBuild(t);
    // what that build wrote for this cart: it stands
    tamper(t, set(o.orderId, 1, 2, 131, 1) + set(o.orderId, 2, 1, 34, 0) + set(o.orderId, 3, 1, 75, 1));
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    // the spread this build gives, written onto that older order, is not what that build wrote: caught
    tamper(t, set(o.orderId, 1, 3, 50, 0) + set(o.orderId, 2, 0, 90, 1) + set(o.orderId, 3, 1, 100, 1));
    expect(spreadCheck(t)).toContain(`order ${o.orderId}: line 1 (A, mixed) carries 3 points and 0.50 cash, but the order's 4 points on its mixed lines, spread by what each let points pay (this one 1 × its net), give it 2 points and 1.31 cash (§4.5)`);
    // a checkout after the upgrade is held to the new spread, and its rule cannot be taken away
    const next = t.ok(['checkout', ...cart, '--points', '4']);
    tamper(t, set(o.orderId, 1, 2, 131, 1) + set(o.orderId, 2, 1, 34, 0) + set(o.orderId, 3, 1, 75, 1) + unmark(next.orderId));
    expect(spreadCheck(t)).toContain(`order ${next.orderId}: its mixed lines keep no points spread rule, yet it was written after migration 16 (the audit log records orders up to 1 before it`);
  });

  it('a spread rule taken away from one line is caught', () => {
    const { t, cart } = pointPerYuan([['A', '3.00'], ['B', '2.00']]);
    const first = t.ok(['checkout', ...cart, '--points', '2']);
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    tamper(t, `UPDATE order_lines SET points_spread = NULL WHERE order_id = '${first.orderId}' AND line_no = 2;`);
    expect(spreadCheck(t)).toContain(`order ${first.orderId}: line 2 (B, mixed) keeps no points spread rule, while line 1 of the same order keeps one`);
  });

  // An older build's order at a ratio of 0.5 (1 point per yuan): 3.00 and 1.00 took 2 points, both on the
  // 3.00 line, where whole steps within each line's cap allow 1. The new spread has none for it: verify and
  // refund ended in an internal error (hostile trial, finding 1). Made here from an order of this build
  // (ratio 1, the same lines), upgraded as from an older build, with its lines given the ratio 0.5.
  it("an older build's order with more steps than the lines' caps now hold verifies and refunds", () => {
    const { t, cart } = pointPerYuan([['A', '3.00'], ['B', '1.00']]);
    const o = t.ok(['checkout', ...cart, '--points', '2']);
    expect(lines(t, o.orderId)).toEqual([['A', 2, '1.00'], ['B', 0, '1.00']]);
    upgradedFromOlderBuild(t);
    tamper(t, `UPDATE order_lines SET points_ratio = '0.5' WHERE order_id = '${o.orderId}';`);
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'B', '--yes'])).toMatchObject({ pointsReturned: 0, cashRefunded: '1.00' });
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'A', '--yes'])).toMatchObject({ pointsReturned: 2, cashRefunded: '1.00' });
    expect(t.verify().ok).toBe(true);
  });

  // An older build could leave a line points value without points (1.50 and 0.50 paid with 2 points: both on
  // the first line, 0.50 of value on the second). Its verify refused its own order and no refund could run
  // (finding 4). Made here from an order of this build whose third line's ratio is set to 0 and whose lines
  // are given what that build's spread gives then.
  it("an older build's line with points value and no points verifies as that build's spread, and only then", () => {
    const { t, cart } = pointPerYuan([['A', '1.50'], ['B', '0.50'], ['C', '1.00']]);
    const o = t.ok(['checkout', ...cart, '--points', '2']);
    expect(lines(t, o.orderId)).toEqual([['A', 1, '0.50'], ['B', 0, '0.50'], ['C', 1, '0.00']]);
    const asOld = set(o.orderId, 1, 2, 0, 0) + set(o.orderId, 2, 0, 0, 0) + set(o.orderId, 3, 0, 100, 1, ", points_ratio = '0'");
    tamper(t, asOld);
    expect(spreadCheck(t)).toContain(`order ${o.orderId}: line 2 (B, mixed) carries 0 points but its amount less its discount share and cash leaves 0.50 for them`);
    upgradedFromOlderBuild(t);
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    expect(t.ok(['order', 'refund', o.orderId, '--line', 'C', '--yes'])).toMatchObject({ pointsReturned: 0, cashRefunded: '1.00' });
    expect(t.verify().ok).toBe(true);
  });
});
