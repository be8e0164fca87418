// Reports over every kind of point movement, built through the CLI: imports with a return, split
// checkouts, a partial refund, an open hold and (when the command exists) an expiry run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

let t: TmpLedger;
let hasExpire = false;

beforeAll(() => {
  t = tmpLedger();
  for (const [id, name] of [['M1', 'One'], ['M2', 'Two'], ['M3', 'Three']]) t.ok(['member', 'add', '--id', id, '--name', name]);
  const csv = join(t.dir, 'purchases.csv');
  writeFileSync(
    csv,
    [
      'order_id,member_id,purchased_at,amount',
      'O1,M1,2026-11-01 09:00,1000.00',
      'O2,M2,2026-11-02 09:00,500.00',
      'O3,M1,2026-11-20 23:30,200.00',
      'O4,M1,2026-11-21 10:00,-100.00',
      'O5,M3,2025-10-01 10:00,300.00',
    ].join('\n') + '\n',
  );
  t.ok(['import', 'purchases', csv]);
  t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', '=1+1 Tea', '--price', '100.00', '--stock', '10']);
  t.ok(['catalog', 'add', '--sku', 'CUP-001', '--name', 'Cup', '--price', '20.00']);
  t.ok(['checkout', '--member', 'M1', '--item', 'TEA-001', '--max-points', '--tender', 'cash', '--yes'], { now: '2026-11-22T10:00:00+08:00' });
  const cup = t.ok(['checkout', '--member', 'M2', '--item', 'CUP-001:2', '--points', '300', '--tender', 'card', '--yes'], { now: '2026-11-22T11:00:00+08:00' });
  t.ok(['order', 'refund', cup.orderId, '--line', 'CUP-001:1', '--reason', 'broken', '--yes'], { now: '2026-11-22T12:00:00+08:00' });
  t.ok(['checkout', 'start', '--member', 'M2', '--item', 'TEA-001', '--points', '100']);
  hasExpire = t.run(['--help']).stdout.includes('expire ');
  if (hasExpire) t.ok(['expire', 'run']);
}, 300_000);

describe('reports over imports, checkouts, refunds, holds and expiry', () => {
  it('keep summary, liability and member balances equal, and reconcile', () => {
    const s = t.ok(['report', 'summary']);
    const l = t.ok(['report', 'liability']);
    const members = t.ok(['member', 'list']) as { balance: number; held: number; lifetimeEarned: number }[];
    const balances = members.reduce((a, m) => a + m.balance, 0);
    expect(s.outstanding).toBe(balances);
    expect(l.outstandingPoints).toBe(balances);
    expect(s.reconciliation.ok).toBe(true);
    // issued is gross; lifetime earned is net of returns and refunds taken back
    expect(s.issued - s.returned).toBe(members.reduce((a, m) => a + m.lifetimeEarned, 0));
    expect(s.returned).toBeGreaterThanOrEqual(100);
    // the open hold is owed and still counted in its lots' expiry months (§5: reserved in its lots)
    expect(s.held).toBe(100);
    expect(l.heldPoints).toBe(100);
    const lots = l.byExpiryMonth.reduce((a: number, b: { points: number }) => a + b.points, 0);
    expect(lots - l.debtPoints).toBe(l.outstandingPoints);
    if (hasExpire) expect(s.expired).toBe(300);
    expect(t.verify().ok).toBe(true);
  });

  it('replays lots as they were before the checkouts, the expiry run and the open hold', () => {
    const now = t.ok(['report', 'liability']);
    // end of 21 November: the imports (with the return) only; the expiry run dates its entry at the end of the 22nd
    const before = t.ok(['report', 'liability', '--as-of', '2026-11-21']);
    // O5's 300 points lapsed after 2026-10-01: not spendable on the 21st although no run had posted them (§7)
    expect(before).toMatchObject({ basis: 'journal', heldPoints: 0, outstandingPoints: 1000 + 500 + 200 - 100, lapsedPendingPoints: 300, netPoints: 1000 + 500 + 200 - 100 + 300 });
    const lots = before.byExpiryMonth.reduce((a: number, b: { points: number }) => a + b.points, 0);
    expect(lots).toBe(before.outstandingPoints);
    expect(lots + before.lapsedPendingPoints - before.debtPoints).toBe(before.netPoints);
    expect(before.byExpiryMonth.find((b: { month: string }) => b.month === '2026-10')).toBeUndefined();
    if (hasExpire) expect(now.byExpiryMonth.find((b: { month: string }) => b.month === '2026-10')).toBeUndefined();
  });

  it('counts redemptions net of refunds, the same in summary and items', () => {
    const s = t.ok(['report', 'summary']);
    const items = t.ok(['report', 'items']);
    expect(items.totals.pointsUsed).toBe(s.redeemed);
    const tea = items.items.find((i: { sku: string }) => i.sku === 'TEA-001');
    const cup = items.items.find((i: { sku: string }) => i.sku === 'CUP-001');
    expect(tea).toMatchObject({ orders: 1, redemptions: 1, quantity: 1, pointsUsed: 1100, cashPaid: '89.00', pointsEarned: 89 });
    expect(cup).toMatchObject({ orders: 1, quantity: 2, refundedQty: 1, sales: '40.00', pointsUsed: 150, cashPaid: '18.50' });
    expect(s.redeemed).toBe(1100 + 300 - 150);
    // the held checkout is not an item sale yet
    expect(tea.quantity).toBe(1);
    const csv = t.run(['report', 'items', '--format', 'csv']).stdout;
    expect(csv).toContain("'=1+1 Tea");
  });

  it('splits issued and returned per bucket', () => {
    const a = t.ok(['report', 'activity', '--by', 'day', '--from', '2026-11-20', '--to', '2026-11-22']);
    const by = Object.fromEntries(a.buckets.map((b: { bucket: string }) => [b.bucket, b]));
    expect(by['2026-11-20']).toMatchObject({ issued: 200, returned: 0 });
    expect(by['2026-11-21']).toMatchObject({ issued: 0, returned: 100 });
    expect(by['2026-11-22'].redeemed).toBe(1100 + 300 - 150);
  });

  it('ranks members by points earned and redeemed', () => {
    const earned = t.ok(['report', 'members', '--by', 'earned', '--top', '1']);
    expect(earned.members[0]).toMatchObject({ id: 'M1', earned: 1000 + 200 - 100 + 89 });
    const redeemed = t.ok(['report', 'members', '--by', 'redeemed', '--top', '3']);
    expect(redeemed.members.map((m: { id: string; redeemed: number }) => [m.id, m.redeemed])).toEqual([
      ['M1', 1100],
      ['M2', 150],
      ['M3', 0],
    ]);
    // a period: flows inside it, the balance at its end
    const period = t.ok(['report', 'members', '--by', 'earned', '--from', '2026-11-20', '--to', '2026-11-21']);
    expect(period.members[0]).toMatchObject({ id: 'M1', earned: 200 - 100, balance: 1000 + 200 - 100, redeemed: 0 });
    expect(period.members.find((m: { id: string }) => m.id === 'M2')).toMatchObject({ earned: 0, balance: 500 });
  });

  it('segments buyers by their orders, their points net of returns', () => {
    const r = t.ok(['report', 'segments', '--detail']);
    expect(r.buyers).toBe(3);
    const m1 = r.members.find((m: { memberId: string }) => m.memberId === 'M1');
    // O1, O3 and the checkout; the return O4 took back 100
    expect(m1).toMatchObject({ orders: 3, earned: 1000 + 200 + 89 - 100, lastOn: '2026-11-22', recencyDays: 1 });
    const m3 = r.members.find((m: { memberId: string }) => m.memberId === 'M3');
    expect(m3).toMatchObject({ orders: 1, r: 1, segment: 'lost' });
  });
});
