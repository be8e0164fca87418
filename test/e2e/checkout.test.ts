// checkout, order, coupon and holds through the built bin: JSON contract, exit codes, nothing lost, verify passes.
import { describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger } from '../helpers/cli.js';

const REQUIRED = ['orderId', 'status', 'total', 'discount', 'pointsUsed', 'pointsValue', 'cashPaid', 'tender', 'pointsEarned', 'balance'];

/** Each test gets its own copy of the shop (M1 with `points`), built once per file. */
function shop(points = 5000): TmpLedger {
  return sceneLedger(`shop ${points}`, (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann', '--phone', '13800000000']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob', '--email', 'bob@example.com']);
    if (points) t.ok(['member', 'adjust', 'M1', '--points', String(points), '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '3']);
    t.ok(['catalog', 'add', '--sku', 'VIP', '--name', 'Lounge pass', '--price', '50.00', '--pay', 'points', '--points-price', '4000']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '10.00', '--pay', 'cash']);
  });
}

const ok = (t: TmpLedger) => expect(t.verify().checks.filter((c) => !c.ok)).toEqual([]);
const member = (t: TmpLedger, id = 'M1') => t.ok(['member', 'show', id]);

const entryCount = (t: TmpLedger) => t.ok(['ledger', 'entries', '--limit', '100000']).length;

/** Expects the exit code and error code; callers check that the refusals wrote no entry. */
function refused(t: TmpLedger, args: string[], code: string, exit = 3) {
  const r = t.run([...args, '--json']);
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stdout).toBe('');
  expect(JSON.parse(r.stderr.trim().split('\n').pop()!).error.code).toBe(code);
}

describe('checkout (one-shot, --json)', () => {
  it("pays the seed's example and prints every field the spec names", () => {
    const t = shop();
    const r = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--max-points', '--tender', 'alipay', '--yes']);
    for (const k of REQUIRED) expect(r).toHaveProperty(k);
    expect(r).toMatchObject({ status: 'paid', total: '100.00', discount: '0.00', pointsUsed: 5000, pointsValue: '50.00', cashPaid: '50.00', tender: 'alipay', pointsEarned: 50, balance: 50 });
    expect(member(t)).toMatchObject({ balance: 50, held: 0, available: 50 });
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stock: 2, stockHeld: 0 });
    ok(t);
  });

  it('quote prints the breakdown without orderId and writes nothing', () => {
    const t = shop();
    const before = t.ok(['ledger', 'entries']).length;
    const q = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA:2', '--points', '3000']);
    expect(q).not.toHaveProperty('orderId');
    expect(q).toMatchObject({ total: '200.00', pointsUsed: 3000, pointsValue: '30.00', cashPaid: '170.00', tender: 'cash', paidWith: 'points+cash', pointsEarned: 170, balance: 5000 });
    expect(t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--no-points', '--tender', 'card'])).toMatchObject({ tender: 'card', paidWith: 'card' });
    expect(t.ok(['ledger', 'entries']).length).toBe(before);
  });

  it('refuses with exit 3 and the right code, writing nothing: points, frozen, inactive, stock, points-only', () => {
    const t = shop();
    const before = entryCount(t);
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--points', '9000', '--yes'], 'INSUFFICIENT_POINTS');
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA:4', '--yes'], 'OUT_OF_STOCK');
    refused(t, ['checkout', '--member', 'M2', '--item', 'VIP', '--yes'], 'POINTS_ONLY_UNCOVERED');
    refused(t, ['checkout', '--member', 'M1', '--item', 'VIP', '--no-points', '--yes'], 'POINTS_ONLY_UNCOVERED');
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--coupon', 'CPN-NOPE-NOPE', '--yes'], 'NOT_FOUND', 2); // unknown, like a member or SKU
    t.ok(['catalog', 'deactivate', 'CUP']);
    refused(t, ['checkout', '--member', 'M1', '--item', 'CUP', '--yes'], 'ITEM_INACTIVE');
    t.ok(['member', 'freeze', 'M1', '--reason', 'audit']);
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--yes'], 'MEMBER_FROZEN');
    refused(t, ['checkout', '--member', 'NOPE', '--item', 'TEA', '--yes'], 'NOT_FOUND', 2);
    refused(t, ['checkout', '--member', 'M2', '--item', 'NOPE', '--yes'], 'NOT_FOUND', 2);
    refused(t, ['checkout', '--member', 'M2', '--yes'], 'USAGE', 2);
    refused(t, ['checkout', '--item', 'TEA'], 'USAGE', 2);
    refused(t, ['checkout', '--member', 'M2', '--item', 'TEA', '--points', '5', '--max-points'], 'USAGE', 2);
    refused(t, ['checkout', '--member', 'M2', '--item', 'TEA:0'], 'USAGE', 2);
    expect(entryCount(t)).toBe(before);
    expect(t.ok(['order', 'list'])).toEqual([]);
    expect(member(t)).toMatchObject({ balance: 5000, held: 0 });
    ok(t);
  });

  it('a declined payment exits 3 with PAYMENT_DECLINED (the order with "status": "declined" on stdout with --json, one error with its hint), and loses nothing', () => {
    const t = shop();
    const r = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--tender', 'card', '--decline', '--yes', '--json']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ status: 'declined', pointsUsed: 2000, cashPaid: '80.00', tender: 'card', pointsEarned: 0, balance: 5000 });
    for (const k of ['orderId', 'status', 'total', 'discount', 'pointsUsed', 'pointsValue', 'cashPaid', 'tender', 'pointsEarned', 'balance']) expect(doc).toHaveProperty(k);
    const err = JSON.parse(r.stderr).error;
    expect(err).toMatchObject({ code: 'PAYMENT_DECLINED', hint: 'try another tender; nothing was taken' });
    expect(err.message).toMatch(/card payment of 80\.00 for order \S+ was declined; the hold on 2000 points was released/);
    expect(err.message).toContain(`order ${doc.orderId} was declined`);
    const human = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--tender', 'card', '--decline', '--yes']);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/status\s+declined/);
    expect(human.stderr).toContain('hint: try another tender');
    expect(human.stdout).toMatch(/cash\s+80\.00 by card \(not paid: declined\)/);
    // under a key, another tender needs a new key; a declined confirm, a new checkout (trial 24, finding 6)
    const keyed = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--tender', 'card', '--decline', '--idempotency-key', 'D-1', '--yes', '--json']);
    expect(JSON.parse(keyed.stderr).error.hint).toBe('try another tender under a new --idempotency-key ("D-1" stays with this declined attempt); nothing was taken');
    const held = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--tender', 'card']);
    const confirm = t.run(['checkout', 'confirm', held.checkoutId, '--decline', '--yes', '--json']);
    expect(JSON.parse(confirm.stderr).error.hint).toBe('start a new checkout with another tender; nothing was taken');
    expect(t.ok(['order', 'list'])[0]).toMatchObject({ status: 'declined', pointsUsed: 2000, tender: 'card', pointsEarned: 0, paidWith: null });
    // the audit log's money is a decimal string too
    const hold = (t.ok(['audit', 'list']) as { action: string; subject: string; detail: Record<string, unknown> }[]).find((a) => a.action === 'checkout.hold' && a.subject === doc.orderId);
    expect(hold?.detail).toMatchObject({ pointsUsed: 2000, cashPaid: '80.00' });
    expect(member(t)).toMatchObject({ balance: 5000, held: 0, available: 5000 });
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stock: 3, stockHeld: 0 });
    ok(t);
  });

  it('declined with nothing to pay in cash: says the flag declined it, not a payment of 0.00', () => {
    const t = shop();
    const r = t.run(['checkout', '--member', 'M1', '--item', 'VIP', '--tender', 'card', '--decline', '--yes', '--json']);
    expect(r.code).toBe(3);
    const err = JSON.parse(r.stderr).error;
    expect(err.message).toMatch(/^order \S+ was declined by --decline, though it had no cash to pay; the hold on 4000 points was released$/);
    expect(err.hint).toBe('run it again without --decline; nothing was taken');
    expect(member(t)).toMatchObject({ balance: 5000, held: 0, available: 5000 });
  });

  it('a points-only item is paid at its points price', () => {
    const t = shop();
    const r = t.ok(['checkout', '--member', 'M1', '--item', 'VIP', '--yes']);
    expect(r).toMatchObject({ status: 'paid', total: '50.00', pointsUsed: 4000, pointsValue: '50.00', cashPaid: '0.00', pointsEarned: 0, balance: 1000 });
    ok(t);
  });

  it('queues order.confirmed in the outbox for a paid order only', () => {
    const t = shop();
    t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--decline', '--yes', '--json']);
    const r = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--yes']);
    const msgs = (t.ok(['outbox', 'list']) as { topic: string; channel: string; payload: { orderId: string } }[]).filter((m) => m.topic === 'order.confirmed');
    expect(msgs).toHaveLength(1);
    expect(msgs[0].channel).toBe('sms');
    expect(msgs[0].payload.orderId).toBe(r.orderId);
  });

  it('--idempotency-key: a retry returns the first result and pays nothing twice', () => {
    const t = shop();
    const args = ['checkout', '--member', 'M1', '--item', 'TEA', '--points', '1000', '--idempotency-key', 'till-7-0042', '--yes'];
    const a = t.ok(args);
    const b = t.ok(args);
    expect(b).toEqual({ ...a, replayed: true });
    expect(t.ok(['order', 'list'])).toHaveLength(1);
    expect(member(t).balance).toBe(a.balance);
    const c = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '2000', '--idempotency-key', 'till-7-0042', '--yes', '--json']);
    expect(c.code).toBe(2);
    ok(t);
  });
});

describe('two-step checkout and holds', () => {
  it('start holds, confirm captures; cancel releases', () => {
    const t = shop();
    expect(t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--points', '3000']).pointsEarned).toBe(70);
    const s = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '3000']);
    // nothing is earned while held; what the cash part earns once paid is said (what the quote said)
    expect(s).toMatchObject({ checkoutId: s.orderId, status: 'held', expiresAt: '2026-11-23T02:15:00.000Z', pointsUsed: 3000, pointsEarned: 0, pointsToEarn: 70 });
    expect(member(t)).toMatchObject({ balance: 5000, held: 3000, available: 2000 });
    expect(t.ok(['holds', 'list'])).toHaveLength(1);
    ok(t);
    const c = t.ok(['checkout', 'confirm', s.checkoutId, '--tender', 'wechat', '--yes']);
    expect(c).toMatchObject({ status: 'paid', tender: 'wechat', cashPaid: '70.00', pointsEarned: 70, pointsToEarn: null, balance: 2070 });
    // a retry gets the first result; a retry with another tender, or a decline, is refused: it is not what was done
    expect(t.ok(['checkout', 'confirm', s.checkoutId, '--tender', 'wechat', '--yes'])).toMatchObject({ status: 'paid', tender: 'wechat', replayed: true });
    expect(t.ok(['checkout', 'confirm', s.checkoutId, '--yes'])).toMatchObject({ status: 'paid', tender: 'wechat', replayed: true });
    const card = t.run(['checkout', 'confirm', s.checkoutId, '--tender', 'card', '--yes', '--json']);
    expect(card.code).toBe(3);
    expect(JSON.parse(card.stderr).error).toMatchObject({ code: 'ALREADY_PAID', message: `checkout ${s.checkoutId} is already paid (wechat): --tender card cannot apply` });
    expect(t.run(['checkout', 'confirm', s.checkoutId, '--decline', '--yes', '--json']).code).toBe(3);
    const s2 = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--max-points']);
    expect(t.ok(['checkout', 'cancel', s2.checkoutId])).toMatchObject({ status: 'cancelled', balance: 2070, available: 2070 });
    const d = t.run(['checkout', 'confirm', s2.checkoutId, '--yes', '--json']);
    expect(d.code).toBe(3);
    expect(t.ok(['holds', 'list'])).toHaveLength(0);
    ok(t);
  });

  it('a held checkout says what it earns once paid, not "points earned 0"', () => {
    const t = shop();
    const out = t.run(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--points', '3000']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^points to earn\t70 once paid$/m);
    expect(out.stdout).not.toMatch(/^points earned/m);
    // the next steps, one to a line, each fitting an 80-column terminal
    expect(out.stderr).toMatch(/^confirm with: pointsmall checkout confirm ORD-\d+\n   or cancel: pointsmall checkout cancel ORD-\d+\n$/);
    for (const line of out.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('a hold expires after 15 minutes and is released by the next write or holds release-expired', () => {
    const t = shop();
    const s = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--max-points']);
    const later = { now: '2026-11-23T10:16:00+08:00' };
    expect(t.ok(['holds', 'list'], later)[0]).toMatchObject({ checkoutId: s.checkoutId, expired: true });
    expect(t.ok(['holds', 'release-expired'], later)).toEqual({ released: 1, orderIds: [s.checkoutId], paymentUnknown: [] });
    expect(t.ok(['member', 'show', 'M1'], later)).toMatchObject({ balance: 5000, held: 0 });
    const r = t.run(['checkout', 'confirm', s.checkoutId, '--yes', '--json'], later);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr).error.code).toBe('HOLD_EXPIRED');
    // the next checkout write releases a forgotten hold by itself
    const s2 = t.ok(['checkout', 'start', '--member', 'M1', '--item', 'TEA', '--max-points'], later);
    const r2 = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--max-points', '--yes'], { now: '2026-11-23T10:40:00+08:00' });
    expect(r2).toMatchObject({ status: 'paid', pointsUsed: 5000 });
    expect(t.ok(['order', 'show', s2.checkoutId]).status).toBe('expired');
    expect(t.ok(['catalog', 'show', 'TEA'])).toMatchObject({ stock: 2, stockHeld: 0 });
    ok(t);
  });
});

describe('orders, refunds and coupons', () => {
  it('refunds in parts by §4.5, nets a fully refunded order to zero, refuses over-refunds', () => {
    const t = shop(7000);
    t.ok(['catalog', 'add', '--sku', 'PEN', '--name', 'Pen', '--price', '33.33']);
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'PEN:3', '--item', 'CUP:2', '--max-points', '--yes']);
    expect(o).toMatchObject({ total: '119.99', pointsUsed: 7000, cashPaid: '49.99', pointsEarned: 49, balance: 49 });
    expect(t.ok(['order', 'list', '--member', 'M1'])).toHaveLength(1);
    expect(t.ok(['order', 'show', o.orderId]).lines.map((l: { points: number }) => l.points)).toEqual([7000, 0]); // CUP is cash-only
    const r1 = t.ok(['order', 'refund', o.orderId, '--line', 'PEN:1', '--reason', 'damaged', '--yes']);
    expect(r1).toMatchObject({ status: 'partially_refunded', pointsReturned: 2333, cashRefunded: '9.99', pointsTakenBack: 9 });
    ok(t);
    const over = t.run(['order', 'refund', o.orderId, '--line', 'PEN:3', '--yes', '--json']);
    expect(over.code).toBe(3);
    expect(JSON.parse(over.stderr).error.code).toBe('OVER_REFUND');
    t.ok(['order', 'refund', o.orderId, '--line', 'PEN:1', '--yes']);
    ok(t);
    const last = t.ok(['order', 'refund', o.orderId, '--yes']);
    expect(last).toMatchObject({ status: 'refunded', complete: true });
    expect(member(t)).toMatchObject({ balance: 7000, lifetimeEarned: 0 });
    expect(t.ok(['order', 'show', o.orderId])).toMatchObject({ refundedPoints: 7000, refundedCash: '49.99', refundedEarned: 49 });
    expect(t.run(['order', 'refund', o.orderId, '--yes', '--json']).code).toBe(3);
    expect(t.run(['order', 'refund', 'ORD-424242', '--yes', '--json']).code).toBe(2);
    ok(t);
  });

  it('order list says what was tendered: points, the cash tender, or both; a points-only order has no cash tender', () => {
    const t = shop();
    const gift = t.ok(['checkout', '--member', 'M1', '--item', 'VIP', '--yes']);
    const cup = t.ok(['checkout', '--member', 'M2', '--item', 'CUP', '--tender', 'wechat', '--yes']);
    const tea = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '1000', '--yes']);
    expect(gift).toMatchObject({ cashPaid: '0.00', tender: null, paidWith: 'points' });
    const want = { [gift.orderId]: ['points', null], [cup.orderId]: ['wechat', 'wechat'], [tea.orderId]: ['points+cash', 'cash'] };
    const rows: { orderId: string; paidWith: string; tender: string | null }[] = t.ok(['order', 'list']);
    expect(Object.fromEntries(rows.map((r) => [r.orderId, [r.paidWith, r.tender]]))).toEqual(want);
    expect(t.ok(['order', 'show', gift.orderId])).toMatchObject({ tender: null, paidWith: 'points' });
    // the table (tab-separated on a pipe) and the CSV show the same words in the tender column
    const [head, ...lines] = t.run(['order', 'list']).stdout.trim().split('\n').map((l) => l.split('\t'));
    const col = head.indexOf('tender');
    expect(Object.fromEntries(lines.map((l) => [l[0], l[col]]))).toEqual(Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v[0]])));
    const csv = t.run(['order', 'list', '--format', 'csv']).stdout.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(Object.fromEntries(csv.map((l) => [l[0], l[col]]))).toEqual(Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v[0]])));
    // and the order.confirmed receipt says the same
    const receipts: { topic: string; payload: { orderId: string; tender: string | null; paidWith: string | null } }[] = t.ok(['outbox', 'list']);
    const sent = receipts.filter((m) => m.topic === 'order.confirmed').map((m) => [m.payload.orderId, [m.payload.paidWith, m.payload.tender]]);
    expect(Object.fromEntries(sent)).toEqual(want);
  });

  it('coupons: one code per unit, single-use, discount before points, listed with status', () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'C10', '--name', '10 off', '--price', '5.00', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '7']);
    const b = t.ok(['checkout', '--member', 'M1', '--item', 'C10:2', '--no-points', '--yes']);
    expect(b.couponsIssued).toHaveLength(2);
    const code = b.couponsIssued[0].code;
    expect(t.ok(['coupon', 'list', '--member', 'M1'])).toHaveLength(2);
    const r = t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--coupon', code, '--max-points', '--yes']);
    expect(r).toMatchObject({ total: '90.00', discount: '10.00', pointsUsed: 5010, cashPaid: '39.90' }); // 5000 + the 10 earned on the coupons
    refused(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--coupon', code, '--yes'], 'COUPON_INVALID');
    expect(t.ok(['coupon', 'list', '--status', 'used']).map((c: { code: string }) => c.code)).toEqual([code]);
    const expired = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--coupon', b.couponsIssued[1].code, '--yes', '--json'], { now: '2026-12-01T09:00:00+08:00' });
    expect(expired.code).toBe(3);
    expect(expired.stderr).toContain('expired on 2026-11-30');
    ok(t);
  });

  it('refunded points repay a debt an earlier refund left before they go back into lots: both orders refunded, the member keeps only what was theirs', () => {
    const t = shop(1000);
    t.ok(['catalog', 'add', '--sku', 'X', '--name', 'X', '--price', '100.00', '--pay', 'cash']);
    t.ok(['catalog', 'add', '--sku', 'Y', '--name', 'Y', '--price', '11.00']);
    const earn = t.ok(['checkout', '--member', 'M1', '--item', 'X', '--no-points', '--yes']);
    const spend = t.ok(['checkout', '--member', 'M1', '--item', 'Y', '--points', String(1000 + earn.pointsEarned), '--yes']);
    expect(spend).toMatchObject({ cashPaid: '0.00', balance: 0 });
    // the first refund takes back points already spent: a debt
    expect(t.ok(['order', 'refund', earn.orderId, '--yes'])).toMatchObject({ pointsTakenBack: earn.pointsEarned, debt: earn.pointsEarned, debtRepaid: 0 });
    const back = t.ok(['order', 'refund', spend.orderId, '--yes']);
    expect(back).toMatchObject({ pointsReturned: 1000 + earn.pointsEarned, debtRepaid: earn.pointsEarned, debt: 0, balance: 1000, available: 1000 });
    expect(member(t)).toMatchObject({ balance: 1000, available: 1000, debt: 0 });
    expect(member(t).lots.reduce((a: number, l: { remaining: number }) => a + l.remaining, 0)).toBe(1000);
    ok(t);
    // a year on, the lapsed 1000 leave the member at zero, not in debt
    expect(t.ok(['expire', 'run', '--yes'], { now: '2028-01-01T10:00:00+08:00' })).toMatchObject({ pointsExpired: 1000 });
    expect(t.ok(['member', 'show', 'M1'], { now: '2028-01-01T10:00:00+08:00' })).toMatchObject({ balance: 0, debt: 0 });
    ok(t);
  });

  it('a refund that completes an order gives back the coupon it used; a partial one says the coupon stays used', () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'C10', '--name', '10 off', '--price', '5.00', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '7']);
    const bought = t.ok(['checkout', '--member', 'M1', '--item', 'C10', '--max-points', '--yes']);
    const code = bought.couponsIssued[0].code;
    const o = t.ok(['checkout', '--member', 'M1', '--item', 'TEA:2', '--coupon', code, '--no-points', '--yes']);
    expect(o).toMatchObject({ discount: '10.00' });
    const part = t.ok(['order', 'refund', o.orderId, '--line', 'TEA:1', '--yes']);
    expect(part).toMatchObject({ status: 'partially_refunded', coupon: { code, returned: false } });
    expect(t.ok(['coupon', 'list', '--member', 'M1'])[0]).toMatchObject({ code, status: 'used', usedOrderId: o.orderId });
    const rest = t.run(['order', 'refund', o.orderId, '--yes']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`coupon\\s+${code} given back \\(usable through \\d{4}-\\d{2}-\\d{2}\\)`));
    expect(t.ok(['coupon', 'list', '--member', 'M1'])[0]).toMatchObject({ code, status: 'active', usedOrderId: null });
    // the coupon's purchase can now be refunded too: everything back, nothing lost
    expect(t.ok(['order', 'refund', bought.orderId, '--yes'])).toMatchObject({ status: 'refunded', complete: true });
    expect(t.ok(['coupon', 'list', '--member', 'M1'])[0]).toMatchObject({ code, status: 'void' });
    expect(member(t)).toMatchObject({ balance: 5000, lifetimeEarned: 0 });
    ok(t);
  });
});
