// SPEC §2/§7 "Exit 2 means nothing written": an `import purchases` whose every row is rejected leaves the
// ledger as it was, including a checkout hold that lapsed before it. The release of lapsed holds (§3 "released
// by the next write") rides with the import's first committed batch, so an import that commits nothing
// releases nothing (found by spec4.property with POINTSMALL_LONG=1 POINTSMALL_SEED=-2085357315).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG, type TmpLedger, sceneLedger } from '../helpers/cli.js';

const START = '2026-11-23T10:00:00+08:00';
const LAPSED = '2026-11-23T10:20:00+08:00'; // 20 minutes on: the 15-minute hold has lapsed, nobody released it

/** A member with 5000 points, 3000 of them held by a checkout whose hold has lapsed by LAPSED. */
function heldLedger(): TmpLedger {
  const t = sceneLedger('import-exit2-holds', (l) => {
    l.ok(['catalog', 'add', '--sku', 'P1', '--name', 'P', '--price', '100.00'], { now: START });
    l.ok(['member', 'add', '--id', 'M1', '--name', 'M'], { now: START });
    l.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'seed'], { now: START });
    l.ok(['checkout', 'start', '--member', 'M1', '--item', 'P1', '--points', '3000'], { now: START });
  });
  expect(t.ok(['holds', 'list'], { now: LAPSED })).toMatchObject([{ checkoutId: 'ORD-000001', points: 3000, expired: true }]);
  return t;
}

/** Everything the ledger says about itself that the release or the import's run would change. */
function state(t: TmpLedger): string {
  const v = t.verify();
  expect(v.ok).toBe(true);
  return JSON.stringify({
    entries: v.entries,
    holds: t.ok(['holds', 'list'], { now: LAPSED }),
    order: t.ok(['order', 'show', 'ORD-000001'], { now: LAPSED }),
    member: t.ok(['member', 'show', 'M1'], { now: LAPSED }),
    stock: t.ok(['catalog', 'show', 'P1'], { now: LAPSED }),
    audit: t.ok(['audit', 'list'], { now: LAPSED }),
    runs: t.ok(['import', 'list'], { now: LAPSED }),
  });
}

/** The SQLite file's bytes (after every command closed it, so the WAL is checkpointed and gone). */
const fileHash = (t: TmpLedger) => (PG ? null : createHash('sha256').update(readFileSync(t.db)).digest('hex'));

const threads = [
  ['one thread', '1'],
  ['the ledger writer', '2'],
] as const;

describe('import purchases with every row rejected (exit 2), after a checkout hold lapsed', () => {
  for (const [name, n] of threads) {
    it(`leaves the lapsed hold held and the ledger unchanged: rows of unknown members, on ${name}`, () => {
      const t = heldLedger();
      const before = state(t);
      const hash = fileHash(t);
      const f = join(t.dir, 'bad.csv');
      writeFileSync(f, 'order_id,member_id,purchased_at,amount\nA1,NOBODY,2026-11-20 09:00,10.00\nA2,NOBODY,2026-11-21 09:00,20.00\nA3,GHOST,2026-11-22 09:00,30.00\n');
      const r = t.run(['import', 'purchases', f, '--json'], { now: LAPSED, env: { POINTSMALL_THREADS: n } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(JSON.parse(r.stderr.trim()).error.message).toMatch(/every row was rejected, 3 of them/);
      // what a script needs, as fields: how many, and where they went
      expect(JSON.parse(r.stderr.trim()).error).toMatchObject({ code: 'USAGE', rejected: 3, rejectsFile: expect.stringMatching(/bad\.rejects\.csv$/) });
      expect(existsSync(join(t.dir, 'bad.rejects.csv'))).toBe(true); // the rejects file is no part of the ledger
      expect(fileHash(t)).toBe(hash);
      expect(state(t)).toBe(before);
      // still open in the ledger (holds list), though every read counts it released: the order reads expired
      expect(t.ok(['holds', 'list'], { now: LAPSED }).map((h: { checkoutId: string }) => h.checkoutId)).toEqual(['ORD-000001']);
      expect(t.ok(['order', 'show', 'ORD-000001'], { now: LAPSED })).toMatchObject({ status: 'expired' });
    });
  }

  it('leaves it unchanged when every row is bad as read (dates), and under --max-rejects', () => {
    const t = heldLedger();
    const before = state(t);
    const hash = fileHash(t);
    const f = join(t.dir, 'dates.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nB1,M1,2026-02-30 09:00,10.00\nB2,M1,not a date,20.00\n');
    expect(t.run(['import', 'purchases', f, '--json'], { now: LAPSED }).code).toBe(2);
    const g = join(t.dir, 'members.csv');
    writeFileSync(g, 'order_id,member_id,purchased_at,amount\nC1,NOBODY,2026-11-20 09:00,10.00\nC2,NOBODY,2026-11-21 09:00,20.00\n');
    expect(t.run(['import', 'purchases', g, '--max-rejects', '5', '--json'], { now: LAPSED }).code).toBe(2);
    expect(fileHash(t)).toBe(hash);
    expect(state(t)).toBe(before);
  });

  it('member import and catalog import whose every row is rejected leave it unchanged too', () => {
    const t = heldLedger();
    const before = state(t);
    const hash = fileHash(t);
    const m = join(t.dir, 'm.csv');
    writeFileSync(m, 'id,name,phone\nN1,A,139\n,B,\n');
    expect(t.run(['member', 'import', m, '--json'], { now: LAPSED }).code).toBe(2);
    const c = join(t.dir, 'c.csv');
    writeFileSync(c, 'sku,name,price\nA,a,NaN\nB,b,-1\n');
    expect(t.run(['catalog', 'import', c, '--json'], { now: LAPSED }).code).toBe(2);
    expect(fileHash(t)).toBe(hash);
    expect(state(t)).toBe(before);
  });

  for (const [name, n] of threads) {
    it(`releases the lapsed hold with the first batch it commits when a row is good (exit 4), on ${name}`, () => {
      const t = heldLedger();
      const f = join(t.dir, 'mixed.csv');
      writeFileSync(f, 'order_id,member_id,purchased_at,amount\nD1,NOBODY,2026-11-20 09:00,10.00\nD2,M1,2026-11-21 09:00,20.00\n');
      const r = t.run(['import', 'purchases', f, '--json'], { now: LAPSED, env: { POINTSMALL_THREADS: n } });
      expect(r.code, r.stderr).toBe(4);
      expect(r.json()).toMatchObject({ accepted: 1, rejected: 1, pointsAccrued: 20 });
      expect(t.ok(['order', 'show', 'ORD-000001'], { now: LAPSED })).toMatchObject({ status: 'expired' });
      expect(t.ok(['holds', 'list'], { now: LAPSED })).toEqual([]);
      expect(t.ok(['member', 'show', 'M1'], { now: LAPSED })).toMatchObject({ balance: 5020, held: 0, available: 5020 });
      expect(t.ok(['import', 'list'], { now: LAPSED })).toHaveLength(1);
      expect(t.verify().ok).toBe(true);
    });
  }

  for (const [name, n] of threads) {
    it(`in batches of one order whose first ones are all rejected, releases it with the first batch that writes, on ${name}`, () => {
      const t = heldLedger();
      const f = join(t.dir, 'late.csv');
      writeFileSync(
        f,
        'order_id,member_id,purchased_at,amount\nF1,NOBODY,2026-11-01 09:00,10.00\nF2,GHOST,2026-11-02 09:00,10.00\n' +
          'F3,M1,2026-11-03 09:00,30.00\nF4,M1,2026-11-04 09:00,40.00\nF5,NOBODY,2026-11-05 09:00,10.00\nF6,M1,2026-11-06 09:00,50.00\n',
      );
      const r = t.run(['import', 'purchases', f, '--batch', '1', '--json'], { now: LAPSED, env: { POINTSMALL_THREADS: n } });
      expect(r.code, r.stderr).toBe(4);
      expect(r.json()).toMatchObject({ accepted: 3, rejected: 3, pointsAccrued: 120 });
      expect(t.ok(['order', 'show', 'ORD-000001'], { now: LAPSED })).toMatchObject({ status: 'expired' });
      expect(t.ok(['member', 'show', 'M1'], { now: LAPSED })).toMatchObject({ balance: 5120, held: 0, available: 5120 });
      const runs = t.ok(['import', 'list'], { now: LAPSED });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ accepted: 3 });
      expect(t.verify().ok).toBe(true);
    });
  }

  it('releases it with the run\'s audit when the import only finds duplicates (exit 0, no batch committed)', () => {
    const t = heldLedger();
    const f = join(t.dir, 'once.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nE1,M1,2026-11-20 09:00,10.00\n');
    expect(t.run(['import', 'purchases', f, '--json'], { now: START }).code).toBe(0); // before the lapse: the hold stays
    expect(t.ok(['holds', 'list'], { now: LAPSED })).toHaveLength(1); // open in the ledger (its order reads expired)
    const r = t.run(['import', 'purchases', f, '--json'], { now: LAPSED });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(t.ok(['holds', 'list'], { now: LAPSED })).toEqual([]);
    expect(t.ok(['order', 'show', 'ORD-000001'], { now: LAPSED })).toMatchObject({ status: 'expired' });
    expect(t.ok(['import', 'list'], { now: LAPSED })).toHaveLength(1);
    expect(t.verify().ok).toBe(true);
  });
});
