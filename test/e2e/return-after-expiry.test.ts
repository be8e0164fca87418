// A return takes back from the member's lots live on its own date, earliest-expiring first (§4.6 under §7).
// A lot that lapsed after the return's date was one of them, so the take is the same whether the file is
// imported before or after the expiry run that expired that lot: after the run, the points the take
// reaches in it are reopened (their expiry reversed, then taken), as a purchase void reopens them (an
// outside trial's finding: imported after the run, the return took from the member's later lots, and the
// member kept 200 points instead of 300).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { openLedgerDb, sceneLedger, type TmpLedger } from '../helpers/cli.js';

const at = (d: string) => ({ now: `2026-${d}T10:00:00+08:00` });
const RUN = at('11-11'); // the nightly run: lot A (expiring 11-10) lapsed, lot B (11-12) not yet
const BEFORE = at('11-06'); // a return's file imported before the run

/**
 * Rules expiring points 10 days on (rolling), a member M1 and a cup of 89.00; M1 earned lot A (500 points,
 * expiring 2026-11-10) and lot B (300, expiring 2026-11-12) by an import of source `shop`.
 */
function ledger(): TmpLedger {
  return sceneLedger(
    'return after expiry',
    (t) => {
      const rules = join(t.dir, 'r.json');
      writeFileSync(rules, JSON.stringify({ expiry: { policy: 'rolling-days', days: 10 } }));
      t.ok(['rules', 'apply', rules, '--effective', '2026-01-01'], at('10-30'));
      t.ok(['member', 'add', '--id', 'M1', '--name', 'M1'], at('10-30'));
      t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'cup', '--price', '89.00'], at('10-30'));
      t.ok(['import', 'purchases', csv(t, 'o.csv', 'A1,M1,2026-10-31 10:00,500.00\nB1,M1,2026-11-02 10:00,300.00\n'), '--source', 'shop'], at('11-03'));
    },
    at('10-30'),
  );
}

function csv(t: TmpLedger, name: string, rows: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, 'order_id,member_id,purchased_at,amount\n' + rows);
  return p;
}

/** The import of a return file (`--source shop`), on this thread or (threads 2) on the ledger writer's. */
function importReturns(t: TmpLedger, name: string, rows: string, when: { now: string }, threads: '1' | '2' = '1') {
  return t.ok(['import', 'purchases', csv(t, name, rows), '--source', 'shop'], { ...when, env: { POINTSMALL_THREADS: threads } });
}

interface Outcome {
  balance: number;
  available: number;
  debt: number;
  expired: number;
}

/** M1's figures and the books' after the run (and a second run, which finds nothing new), verified. */
function outcome(t: TmpLedger): Outcome {
  t.ok(['expire', 'run'], RUN);
  const m = t.ok(['member', 'show', 'M1'], RUN);
  const s = t.ok(['report', 'summary'], RUN);
  expect(t.verify().checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
  return { balance: m.balance, available: m.available, debt: m.debt, expired: s.expired };
}

/** The same `steps` (at the clock they are given) before the expiry run and after it; `first` before the run in both. */
function bothOrders(steps: (t: TmpLedger, when: { now: string }) => void, first?: (t: TmpLedger) => void): { before: Outcome; after: Outcome } {
  const a = ledger();
  first?.(a);
  steps(a, BEFORE);
  const before = outcome(a);
  const b = ledger();
  first?.(b);
  b.ok(['expire', 'run'], RUN);
  steps(b, RUN);
  const after = outcome(b);
  return { before, after };
}

describe('a return dated before a lot lapsed takes from it whether imported before or after the expiry run', () => {
  it('the plan path: 100 from lot A either way, 400 expired, the member keeps B’s 300', () => {
    for (const threads of ['1', '2'] as const) {
      const { before, after } = bothOrders((t, when) => {
        expect(importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n', when, threads)).toMatchObject({ pointsReturned: 100 });
      });
      expect({ threads, ...before }).toEqual({ threads, balance: 300, available: 300, debt: 0, expired: 400 });
      expect({ threads, ...after }).toEqual({ threads, ...before });
    }
  });

  it('after the run, the return’s entry reopens lot A’s points and takes them from it, not from lot B', () => {
    const t = ledger();
    t.ok(['expire', 'run'], RUN);
    importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n', RUN);
    const m = t.ok(['member', 'show', 'M1'], RUN);
    expect(m.lots.map((l: { points: number; remaining: number; expiresOn: string }) => [l.expiresOn, l.points, l.remaining])).toContainEqual(['2026-11-12', 300, 300]);
    const db = openLedgerDb(t.db, { readonly: true });
    try {
      const e = db.prepare("SELECT id FROM entries WHERE kind = 'return'").get() as { id: number };
      const postings = db.prepare('SELECT account, points FROM postings WHERE entry_id = ? ORDER BY account').all(e.id);
      expect(postings).toEqual([
        { account: 'expired', points: -100 },
        { account: 'issued', points: 100 },
      ]);
      const moves = db.prepare('SELECT l.expires_on AS expiresOn, m.points FROM lot_moves m JOIN lots l ON l.id = m.lot_id WHERE m.entry_id = ? ORDER BY m.points DESC').all(e.id);
      expect(moves).toEqual([
        { expiresOn: '2026-11-10', points: 100 },
        { expiresOn: '2026-11-10', points: -100 },
      ]);
    } finally {
      db.close();
    }
    expect(t.verify().ok).toBe(true);
  });

  it('after the run, the entries planned after a reopening return, in its batch and the next ones, chain from it: the same hashes on the writer thread', () => {
    // (the planner works out the chain hashes of two-posting entries ahead; the reopening return has three
    // postings, so the writer hashes it and everything after it itself)
    const rows = 'P1,M2,2026-11-04 10:00,50.00\nR1,M1,2026-11-05 10:00,-100.00\nP2,M2,2026-11-06 10:00,60.00\nP3,M2,2026-11-07 10:00,70.00\nP4,M1,2026-11-08 10:00,80.00\nP5,M2,2026-11-09 10:00,90.00\n';
    const chains: unknown[] = [];
    for (const threads of ['1', '2'] as const) {
      const t = ledger();
      t.ok(['member', 'add', '--id', 'M2', '--name', 'M2'], RUN);
      t.ok(['expire', 'run'], RUN);
      const r = t.ok(['import', 'purchases', csv(t, 'r.csv', rows), '--source', 'shop', '--batch', '2'], { ...RUN, env: { POINTSMALL_THREADS: threads } });
      expect(r).toMatchObject({ accepted: 6, pointsReturned: 100, batches: 3 });
      expect(t.verify().checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
      const db = openLedgerDb(t.db, { readonly: true });
      try {
        const ret = db.prepare("SELECT id FROM entries WHERE kind = 'return'").get() as { id: number };
        expect(db.prepare("SELECT count(*) AS n FROM postings WHERE entry_id = ? AND account = 'expired'").get(ret.id)).toEqual({ n: 1 });
        const after = db.prepare('SELECT count(*) AS n FROM entries WHERE id > ?').get(ret.id) as { n: number };
        expect(after.n).toBe(5); // (a batch's credits come after its returns: P1's is in the return's batch)
        chains.push(db.prepare('SELECT id, kind, member_id, prev_hash, hash FROM entries ORDER BY id').raw().all().map((e) => (e as unknown[]).slice(0, 3).concat((e as string[]).slice(3).map((h) => h.length))));
      } finally {
        db.close();
      }
    }
    expect(chains[1]).toEqual(chains[0]);
  });

  it('the post-at-once path (a frozen member’s return approved from review): the same either way', () => {
    const { before, after } = bothOrders((t, when) => {
      t.ok(['member', 'freeze', 'M1', '--reason', 'checking'], when);
      expect(importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n', when)).toMatchObject({ review: 1 });
      t.ok(['member', 'unfreeze', 'M1'], when);
      expect(t.ok(['review', 'approve', 'R1'], when)).toMatchObject({ status: 'approved' });
    });
    expect(before).toEqual({ balance: 300, available: 300, debt: 0, expired: 400 });
    expect(after).toEqual(before);
  });

  it('a backdated refund’s earned points: from lot A before or after the run', () => {
    const { before, after } = bothOrders((t) => {
      // the checkout and its refund on 11-05 (POINTSMALL_NOW), after the run or before it
      const c = t.ok(['checkout', '--member', 'M1', '--item', 'CUP', '--no-points', '--tender', 'card', '--yes'], at('11-05'));
      expect(c.pointsEarned).toBe(89);
      expect(t.ok(['order', 'refund', c.orderId, '--yes'], at('11-05'))).toMatchObject({ pointsTakenBack: 89, debt: 0 });
    });
    // A gave the 89: 411 expired; the cup's own lot (89, expiring 11-15) and B stay
    expect(before).toEqual({ balance: 389, available: 389, debt: 0, expired: 411 });
    expect(after).toEqual(before);
  });

  it('a return needing more than what expired of lot A: A reopened as far as it expired, then lot B, then debt', () => {
    for (const [points, end] of [
      [500, { balance: 100, available: 100, debt: 0, expired: 0 }],
      [900, { balance: -300, available: -300, debt: 300, expired: 0 }],
    ] as const) {
      const { before, after } = bothOrders(
        (t, when) => importReturns(t, 'r.csv', `R1,M1,2026-11-05 10:00,-${points}.00\n`, when),
        (t) => t.ok(['member', 'adjust', 'M1', '--points', '-200', '--reason', 'spent', '--yes'], at('11-04')), // of A: 300 left to expire
      );
      expect({ points, ...before }).toEqual({ points, ...end });
      expect({ points, ...after }).toEqual({ points, ...end });
    }
  });

  it('two returns reopen lot A no further than the run expired it, in one file or two', () => {
    // 300 + 300 taken back: A's 500, then 100 of B
    const end = { balance: 200, available: 200, debt: 0, expired: 0 };
    const { before, after } = bothOrders((t, when) => {
      importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-300.00\nR2,M1,2026-11-06 09:00,-300.00\n', when);
    });
    expect(before).toEqual(end);
    expect(after).toEqual(end);
    const { after: twoFiles } = bothOrders((t, when) => {
      importReturns(t, 'r1.csv', 'R1,M1,2026-11-05 10:00,-300.00\n', when);
      importReturns(t, 'r2.csv', 'R2,M1,2026-11-06 09:00,-300.00\n', when, '2');
    });
    expect(twoFiles).toEqual(end);
  });

  it('a void after such a return: of the purchase, as if it had never been; of the return, its points back to lot A to expire', () => {
    const purchase = bothOrders((t, when) => {
      importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n', when);
      t.ok(['purchase', 'void', 'shop', 'A1', '--yes'], RUN);
    });
    // as without A1: the return took 100 of B
    expect(purchase.before).toEqual({ balance: 200, available: 200, debt: 0, expired: 0 });
    expect(purchase.after).toEqual(purchase.before);
    const ret = bothOrders((t, when) => {
      importReturns(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n', when);
      t.ok(['purchase', 'void', 'shop', 'R1', '--yes'], RUN);
    });
    // as without R1
    expect(ret.before).toEqual({ balance: 300, available: 300, debt: 0, expired: 500 });
    expect(ret.after).toEqual(ret.before);
  });

  it('--dry-run after the run writes nothing', () => {
    const t = ledger();
    t.ok(['expire', 'run'], RUN);
    const count = () => {
      const db = openLedgerDb(t.db, { readonly: true });
      try {
        return db.prepare('SELECT (SELECT count(*) FROM entries) AS entries, (SELECT count(*) FROM lot_moves) AS moves, (SELECT sum(remaining) FROM lots) AS remaining').get();
      } finally {
        db.close();
      }
    };
    const was = count();
    const dry = t.ok(['import', 'purchases', csv(t, 'r.csv', 'R1,M1,2026-11-05 10:00,-100.00\n'), '--source', 'shop', '--dry-run'], RUN);
    expect(dry).toMatchObject({ pointsReturned: 100, dryRun: true });
    expect(count()).toEqual(was);
    expect(t.ok(['member', 'show', 'M1'], RUN)).toMatchObject({ balance: 300, debt: 0 });
    expect(t.verify().ok).toBe(true);
  });
});
