// A single-valued option given twice, or two flags that exclude one another in either order, is a usage
// error (exit 2, nothing written), never "the last one wins": commander alone would keep the last silently.
import { describe, expect, it } from 'vitest';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

function ledger(): TmpLedger {
  const t = tmpLedger();
  t.ok(['catalog', 'add', '--sku', 'A', '--name', 'Item A', '--price', '100.00', '--stock', '10']);
  t.ok(['member', 'add', '--id', 'M1', '--name', 'Member 1']);
  t.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'opening']);
  return t;
}

function refused(t: TmpLedger, args: string[], what: RegExp): void {
  const r = t.run([...args, '--json']);
  expect(r.code, args.join(' ')).toBe(2);
  expect(r.stdout).toBe('');
  const err = JSON.parse(r.stderr.trim()).error;
  expect(err.code).toBe('USAGE');
  expect(err.message).toMatch(what);
}

describe('repeated and conflicting options', () => {
  it('refuses --points with --no-points or --max-points, in either order, on checkout, start and quote', () => {
    const t = ledger();
    const entries = t.verify().entries;
    const cart = ['--member', 'M1', '--item', 'A'];
    const pairs = [
      ['--points', '5000', '--no-points'],
      ['--no-points', '--points', '5000'],
      ['--points', '200', '--max-points'],
      ['--max-points', '--points', '200'],
      ['--no-points', '--max-points'],
      ['--max-points', '--no-points'],
      ['--points', '100', '--points', '200'],
      ['--points=100', '--points', '200'],
    ];
    for (const cmd of [['checkout'], ['checkout', 'start'], ['checkout', 'quote']]) {
      for (const p of pairs) refused(t, [...cmd, ...cart, ...p, '--yes'], /--points|--max-points|--no-points/);
    }
    expect(t.verify().entries).toBe(entries); // nothing written, not even a hold
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 5000, held: 0 });
    expect(t.ok(['order', 'list'])).toEqual([]);
  });

  it('refuses any other single-valued option given twice (tender, coupon, key, member, reason, amount)', () => {
    const t = ledger();
    const entries = t.verify().entries;
    const cart = ['checkout', '--member', 'M1', '--item', 'A', '--points', '1000', '--yes'];
    refused(t, [...cart, '--tender', 'cash', '--tender', 'card'], /--tender/);
    refused(t, [...cart, '--coupon', 'X', '--coupon', 'Y'], /--coupon/);
    refused(t, [...cart, '--idempotency-key', 'k1', '--idempotency-key', 'k2'], /--idempotency-key/);
    refused(t, ['checkout', '--member', 'M1', '--member', 'M2', '--item', 'A', '--yes'], /--member/);
    refused(t, ['member', 'adjust', 'M1', '--points', '100', '--points', '-200', '--reason', 'x', '--yes'], /--points/);
    refused(t, ['member', 'adjust', 'M1', '--points', '100', '--reason', 'a', '--reason', 'b', '--yes'], /--reason/);
    refused(t, ['points', 'award', '--member', 'M1', '--member', 'M2', '--activity', 'signup', '--yes'], /--member/);
    expect(t.verify().entries).toBe(entries);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(5000);
  });

  it('refuses a refund with its reason twice, but --item and --line still repeat', () => {
    const t = ledger();
    t.ok(['catalog', 'add', '--sku', 'B', '--name', 'Item B', '--price', '10.00', '--stock', '10']);
    const paid = t.ok(['checkout', '--member', 'M1', '--item', 'A', '--item', 'B:2', '--points', '1000', '--tender', 'cash', '--yes']);
    expect(paid.status).toBe('paid');
    refused(t, ['order', 'refund', paid.orderId, '--reason', 'a', '--reason', 'b', '--yes'], /--reason/);
    expect(t.ok(['order', 'show', paid.orderId]).refunds ?? []).toEqual([]);
    t.ok(['order', 'refund', paid.orderId, '--line', 'A', '--line', 'B:1', '--reason', 'returned', '--yes']);
    const lines = t.ok(['order', 'show', paid.orderId]).lines as { sku: string; refundedQuantity?: number; refunded?: number }[];
    expect(lines.map((l) => [l.sku, l.refundedQuantity ?? l.refunded])).toEqual([['A', 1], ['B', 1]]);
  });

  it('still takes one of each, and a value that looks like a flag after an option that takes one', () => {
    const t = ledger();
    const r = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'A', '--points', '5000']);
    expect(r.pointsUsed).toBe(5000);
    const n = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'A', '--no-points']);
    expect(n.pointsUsed).toBe(0);
    expect(t.ok(['member', 'adjust', 'M1', '--points', '-200', '--reason', '--points', '--yes'])).toBeTruthy();
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(4800);
  });
});
