// What a newcomer read wrong at an 80-column terminal (trial 36): a cancelled order's points, a refund's
// stock, a folder given to --out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

function shop() {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'A', '--name', 'a']);
  t.ok(['member', 'adjust', 'A', '--points', '500', '--reason', 'welcome']);
  t.ok(['catalog', 'add', '--sku', 'I', '--name', 'i', '--price', '10.00', '--stock', '5']);
  return t;
}

describe('words a newcomer reads', () => {
  it('a cancelled order says its points were released, not used', () => {
    const t = shop();
    const o = t.ok(['checkout', 'start', '--member', 'A', '--item', 'I', '--points', '200']);
    const r = t.run(['checkout', 'cancel', o.checkoutId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^points released\t200 \(held for it, back in the member's lots\)$/m);
    expect(r.stdout).not.toMatch(/^points used/m);
    expect(t.ok(['member', 'show', 'A'])).toMatchObject({ balance: 500, available: 500 });
  });

  // Trial 40: order show said "points used 1492" for a declined order, and nothing of a checkout voided
  // by wrong codes or of the code a paid one was confirmed with.
  it('order show: points released for an order never paid, held for one not paid yet; why a checkout was voided; its code', () => {
    const t = shop();
    const rules = join(t.dir, 'r.json');
    writeFileSync(rules, JSON.stringify({ limits: { verifyPointsAbove: 100 } }));
    t.ok(['rules', 'apply', rules, '--effective', '2020-01-01']);
    t.ok(['member', 'update', 'A', '--phone', '13800000001']);
    expect(t.run(['checkout', '--member', 'A', '--item', 'I', '--points', '50', '--decline', '--yes']).code).toBe(3); // payment declined
    const shown = t.run(['order', 'show', 'ORD-000001']).stdout;
    expect(shown).toMatch(/^points released\t50 \(held for it, back in the member's lots\)$/m);
    expect(shown).toMatch(/^cash\t9\.50 by cash \(not paid: declined\)$/m);
    expect(shown).not.toMatch(/^points used/m);
    const held = t.ok(['checkout', 'start', '--member', 'A', '--item', 'I', '--points', '200']);
    expect(t.run(['order', 'show', held.orderId]).stdout).toMatch(/^points held\t200 \(worth 2\.00\)$/m);
    for (const code of ['000001', '000002', '000003']) t.run(['checkout', 'confirm', held.orderId, '--code', code, '--yes']);
    const voided = t.run(['order', 'show', held.orderId]).stdout;
    expect(voided).toMatch(/^status\tcancelled: voided after the last wrong one-time code it allowed$/m);
    expect(voided).toMatch(/^code\tfailed \(sent by sms\)$/m);
    expect(t.ok(['order', 'show', held.orderId]).verification).toEqual({ status: 'failed', channel: 'sms', attemptsLeft: 0 });
    expect(t.ok(['member', 'show', 'A'])).toMatchObject({ balance: 500, available: 500 });
  });

  it('a refunded coupon line says its coupons are void', () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'CP', '--name', 'ten off', '--price', '5.00', '--pay', 'cash', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '30']);
    const o = t.ok(['checkout', '--member', 'A', '--item', 'CP', '--yes']);
    const r = t.run(['order', 'refund', o.orderId, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stock\tnot put back \(the refunded coupons are void\); to sell as many again: pointsmall catalog update CP --stock N$/m);
  });

  it('a refund says the stock is not put back, and how to put it back', () => {
    const t = shop();
    const o = t.ok(['checkout', '--member', 'A', '--item', 'I', '--no-points', '--yes']);
    const r = t.run(['order', 'refund', o.orderId, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stock\tnot put back; if the goods are back on the shelf: pointsmall catalog update I --stock N$/m);
    expect(t.ok(['catalog', 'show', 'I'])).toMatchObject({ stock: 4 });
  });

  it('--out naming a folder says it is a folder, not that its format is unknown', () => {
    const t = shop();
    const r = t.run(['report', 'members', '--out', t.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: cannot write --out ${t.dir}: it is a folder`);
    // with a format known, the output check says the same in its words
    expect(t.run(['report', 'members', '--out', t.dir, '--format', 'csv']).stderr).toContain('it exists and is not a regular file (a folder');
  });
});
