// SPEC §7 "Expired is expired" governs §4.6's "take-backs come from the earliest-expiring lots": a
// take-back (a refund's earned points, an import return, what a purchase void takes from other lots) takes
// only from lots still live (not lapsed in the ledger's zone), earliest-expiring first, and leaves a debt
// if short. Lapsed lots are left for `expire run`: the books come out the same whether or not the expiry
// run came first (an outside tester's finding: the refunded order's points stayed with the member).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { sceneLedger, type TmpLedger } from '../helpers/cli.js';

const SEEDED = '2025-11-01T02:00:00Z'; // a lot of 1000 expiring 2025-11-11
const LATER = '2025-11-15T02:00:00Z'; // it has lapsed; no expiry run yet

/** A member M1 with a lot of 1000 points that lapses on 2025-11-12 (rolling 10 days), and a cup of 89.00. */
function ledger(): TmpLedger {
  return sceneLedger(
    'take-back lapsed lot',
    (t) => {
      const rules = join(t.dir, 'r.json');
      writeFileSync(rules, JSON.stringify({ expiry: { policy: 'rolling-days', days: 10 } }));
      t.ok(['rules', 'apply', rules, '--effective', '2025-01-01'], { now: SEEDED });
      t.ok(['member', 'add', '--id', 'M1', '--name', 'A'], { now: SEEDED });
      t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'cup', '--price', '89.00'], { now: SEEDED });
      t.ok(['member', 'adjust', 'M1', '--points', '1000', '--reason', 'seed'], { now: SEEDED });
    },
    { now: SEEDED },
  );
}

interface Facts {
  balance: number;
  available: number;
  debt: number;
  lifetimeEarned: number;
  expired: number;
}

function expire(t: TmpLedger): number {
  return t.ok(['expire', 'run'], { now: LATER }).pointsExpired as number;
}

function facts(t: TmpLedger, expired: number): Facts {
  const m = t.ok(['member', 'show', 'M1'], { now: LATER });
  return { balance: m.balance, available: m.available, debt: m.debt, lifetimeEarned: m.lifetimeEarned, expired };
}

/** Runs `steps` without an expiry run before them and with one, an expiry run after both. */
function bothOrders(steps: (t: TmpLedger) => void): { without: Facts; withRun: Facts } {
  const a = ledger();
  steps(a);
  const aExpired = expire(a);
  const without = facts(a, aExpired);
  expect(a.verify().ok).toBe(true);

  const b = ledger();
  const bFirst = expire(b);
  steps(b);
  const bExpired = bFirst + expire(b);
  const withRun = facts(b, bExpired);
  expect(b.verify().ok).toBe(true);
  return { without, withRun };
}

function importFile(t: TmpLedger, name: string, csv: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, 'order_id,member_id,purchased_at,amount\n' + csv);
  return p;
}

describe('take-backs leave lapsed lots to the expiry run (SPEC §7 over §4.6)', () => {
  it('a refund takes its earned points back from live lots only: with or without an expiry run first, balance 0 and 1000 expired', () => {
    const { without, withRun } = bothOrders((t) => {
      const c = t.ok(['checkout', '--member', 'M1', '--item', 'CUP', '--no-points', '--tender', 'card', '--yes'], { now: LATER });
      expect(c.pointsEarned).toBe(89);
      const r = t.ok(['order', 'refund', c.orderId ?? c.id ?? 'ORD-000001', '--yes'], { now: LATER });
      expect(r.pointsTakenBack).toBe(89);
    });
    expect(without).toEqual({ balance: 0, available: 0, debt: 0, lifetimeEarned: 0, expired: 1000 });
    expect(withRun).toEqual(without);
  });

  it('an import return takes back from live lots only: the day’s purchase, not the lapsed lot', () => {
    const { without, withRun } = bothOrders((t) => {
      const s = t.ok(['import', 'purchases', importFile(t, 'p.csv', 'P1,M1,2025-11-14 10:00,500.00\nP2,M1,2025-11-14 12:00,-500.00\n'), '--source', 'shop'], { now: LATER });
      expect(s).toMatchObject({ pointsAccrued: 500, pointsReturned: 500 });
    });
    expect(without).toEqual({ balance: 0, available: 0, debt: 0, lifetimeEarned: 0, expired: 1000 });
    expect(withRun).toEqual(without);
  });

  it('an import return with no live lot leaves a debt, the lapsed lot still expires whole', () => {
    const { without, withRun } = bothOrders((t) => {
      t.ok(['import', 'purchases', importFile(t, 'p.csv', 'P1,M1,2025-11-13 10:00,500.00\n'), '--source', 'shop'], { now: LATER });
      t.ok(['import', 'purchases', importFile(t, 'r.csv', 'P2,M1,2025-11-14 12:00,-800.00\n'), '--source', 'shop'], { now: LATER });
    });
    expect(without).toEqual({ balance: -300, available: -300, debt: 300, lifetimeEarned: -300, expired: 1000 });
    expect(withRun).toEqual(without);
  });

  it('a purchase void takes what the member spent of it from live lots only, else it is debt', () => {
    const { without, withRun } = bothOrders((t) => {
      t.ok(['import', 'purchases', importFile(t, 'p.csv', 'P1,M1,2025-11-14 10:00,500.00\n'), '--source', 'shop'], { now: LATER });
      t.ok(['member', 'adjust', 'M1', '--points', '-500', '--reason', 'spent', '--yes'], { now: LATER });
      t.ok(['purchase', 'void', 'shop', 'P1', '--yes'], { now: LATER });
    });
    expect(without).toEqual({ balance: -500, available: -500, debt: 500, lifetimeEarned: 0, expired: 1000 });
    expect(withRun).toEqual(without);
  });
});
