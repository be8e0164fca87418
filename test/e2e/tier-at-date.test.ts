// §4.1 step 3 and §4.6: an order earns at the tier of the member's lifetime points before it, and a return is
// taken back at the tier of its date. A backdated import (a till's export of the day, imported at night) must
// not earn at a tier the member reached after the order (trial 33: a checkout later that day lifted the member).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

const NOW = '2026-11-01T10:00:00+08:00';

function scene() {
  const t = tmpLedger({ now: NOW });
  const rules = join(t.dir, 'r.json');
  writeFileSync(rules, JSON.stringify({ tiers: [{ name: 's', minLifetimePoints: 0, multiplier: '1' }, { name: 'g', minLifetimePoints: 350, multiplier: '2' }] }));
  t.ok(['rules', 'apply', rules, '--effective', '2026-01-01'], { now: NOW });
  t.ok(['member', 'add', '--id', 'M1', '--name', 'a'], { now: NOW });
  t.ok(['catalog', 'add', '--sku', 'TV', '--name', 'tv', '--price', '1000.00'], { now: NOW });
  // 1000 points earned now: tier g from now on
  expect(t.ok(['checkout', '--member', 'M1', '--item', 'TV', '--no-points', '--yes'], { now: NOW })).toMatchObject({ pointsEarned: 1000 });
  expect(t.ok(['member', 'show', 'M1'], { now: NOW })).toMatchObject({ tier: 'g' });
  return { t, rules };
}

const csv = (t: { dir: string }, name: string, body: string) => {
  const p = join(t.dir, name);
  writeFileSync(p, `order_id,member_id,purchased_at,amount\n${body}`);
  return p;
};

describe('an order imported after the member reached a tier, dated before it', () => {
  it('earns at the tier of its own date, and a return of that date is taken back at it', () => {
    const { t, rules } = scene();
    // a month before the member had any points: tier s (×1), not g
    expect(t.ok(['import', 'purchases', csv(t, 'p.csv', 'p2,M1,2026-10-01 09:00,100.00\n')], { now: NOW })).toMatchObject({ accepted: 1, pointsAccrued: 100 });
    expect(t.ok(['import', 'purchases', csv(t, 'r.csv', 'r1,M1,2026-10-01 10:00,-100.00\n')], { now: NOW })).toMatchObject({ pointsReturned: 100 });
    // an order dated after the checkout earns at g; one the same day before it, with 100 points before it, at s
    expect(t.ok(['import', 'purchases', csv(t, 'q.csv', 'q1,M1,2026-11-01 09:00,100.00\nq2,M1,2026-11-01 10:30,100.00\n')], { now: '2026-11-01T12:00:00+08:00' })).toMatchObject({ accepted: 2, pointsAccrued: 300 });
    const m = t.ok(['member', 'show', 'M1'], { now: '2026-11-01T12:00:00+08:00' });
    expect(m).toMatchObject({ balance: 1300, lifetimeEarned: 1300 });
    // the rules in force, re-run by simulate in time order, agree with every order to the point
    expect(t.ok(['rules', 'simulate', rules], { now: '2026-11-01T12:00:00+08:00' })).toMatchObject({ difference: 0 });
    expect(t.run(['ledger', 'verify']).code).toBe(0);
  });

  it('within one import, the orders before a later one count toward its tier (purchased_at order), the ledger\'s later ones do not', () => {
    const { t } = scene();
    // 400 points on 10-01 lift the member to g for 10-02 (×2 = 200), still before the checkout
    const r = t.ok(['import', 'purchases', csv(t, 'p.csv', 'a2,M1,2026-10-02 09:00,100.00\na1,M1,2026-10-01 09:00,400.00\n')], { now: NOW });
    expect(r).toMatchObject({ accepted: 2, pointsAccrued: 600 });
    expect(t.run(['ledger', 'verify']).code).toBe(0);
  });
});

describe('the daily cap counts each point credited that day once, whatever the batches (trial 39)', () => {
  // A return's own planning emptied the batch's buffered credits, so the batch's end kept them counted as
  // "not yet in the ledger" after they were: the next batch counted the day's earlier points twice.
  it('a day with a return, a cap from noon and batches of 2, 3 or 100 orders: O3 earns the 50 points left under the cap', () => {
    const points: Record<string, [number, number][]> = {};
    for (const batch of ['2', '3', '100']) {
      const t = tmpLedger({ now: '2026-12-01T10:00:00+08:00' });
      const open = join(t.dir, 'open.json');
      const capped = join(t.dir, 'cap.json');
      writeFileSync(open, '{}');
      writeFileSync(capped, JSON.stringify({ limits: { dailyEarnCap: 100 } }));
      t.ok(['rules', 'apply', open, '--effective', '2026-01-01']);
      t.ok(['rules', 'apply', capped, '--effective', '2026-11-15T12:00']);
      t.ok(['member', 'add', '--id', 'M1', '--name', 'a']);
      const f = csv(t, 'd.csv', 'O1,M1,2026-11-15 08:00,50.00\nO2,M1,2026-11-15 09:00,-5.00\nO3,M1,2026-11-15 13:00,80.00\nO4,M1,2026-11-15 14:00,10.00\n');
      expect(t.ok(['import', 'purchases', f, '--batch', batch])).toMatchObject({ accepted: 4 });
      const rows = t.ok(['ledger', 'entries']) as { kind: string; ref: string; postings: { account: string; points: number }[] }[];
      points[batch] = rows
        .filter((e) => e.kind === 'accrual')
        .map((e): [number, number] => [Number(e.ref.slice(-1)), e.postings.find((p) => p.account === 'member')!.points])
        .sort((a, b) => a[0] - b[0]);
      expect(t.verify().ok).toBe(true);
    }
    // 50 credited before noon (the return takes 5 back, which frees no room: §4.6), so 50 more under the cap
    expect(points['100']).toEqual([[1, 50], [3, 50]]);
    expect(points['2']).toEqual(points['100']);
    expect(points['3']).toEqual(points['100']);
  });
});
