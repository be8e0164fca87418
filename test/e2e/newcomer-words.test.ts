// What a newcomer read wrong at an 80-column terminal (trial 36): a cancelled order's points, a refund's
// stock, a folder given to --out.
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
