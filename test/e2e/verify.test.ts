// ledger verify (§5): every check passes on a healthy ledger; each kind of tampering is caught and named.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

type Check = { name: string; ok: boolean; detail: string };

/** A ledger with three entries: 1 = +300 for a, 2 = +50 for b, 3 = −100 for a. */
function seeded() {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
  t.ok(['member', 'add', '--id', 'b', '--name', 'B']);
  t.ok(['member', 'adjust', 'a', '--points', '300', '--reason', 'first']);
  t.ok(['member', 'adjust', 'b', '--points', '50', '--reason', 'second']);
  t.ok(['member', 'adjust', 'a', '--points', '-100', '--reason', 'third', '--yes']);
  return t;
}

function tamper(path: string, sql: string[]): void {
  const db = new Database(path);
  for (const s of sql) db.exec(s);
  db.close();
}

function broken(t: ReturnType<typeof tmpLedger>): { failed: Check[]; checks: Check[] } {
  const r = t.run(['ledger', 'verify', '--json']);
  expect(r.code).toBe(6);
  const v = r.json();
  expect(v.ok).toBe(false);
  expect(v.entries).toBe(3);
  return { failed: v.checks.filter((c: Check) => !c.ok), checks: v.checks };
}

describe('ledger verify', () => {
  it('passes every check on a healthy ledger, in JSON and as text', () => {
    const t = seeded();
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code).toBe(0);
    const v = r.json();
    expect(v).toMatchObject({ ok: true, entries: 3 });
    const names = v.checks.map((c: Check) => c.name);
    for (const n of ['hash-chain', 'entries-balance', 'member-balances', 'lot-remaining', 'lots-match-balances']) expect(names).toContain(n);
    for (const c of v.checks) {
      expect(c.ok).toBe(true);
      expect(typeof c.detail).toBe('string');
    }
    const text = t.run(['ledger', 'verify']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ledger ok \(3 entries\)/);
    expect(text.stdout.split('\n').filter((l) => l.startsWith('✓'))).toHaveLength(v.checks.length);
  });

  it('passes on a fresh ledger with no entries', () => {
    const t = tmpLedger();
    expect(t.verify()).toMatchObject({ ok: true, entries: 0 });
  });

  it('catches a posting edited in place, naming its entry', () => {
    const t = seeded();
    tamper(t.db, ['DROP TRIGGER postings_append_only_u', "UPDATE postings SET points = points + 1 WHERE entry_id = 2 AND account = 'member'"]);
    const { failed } = broken(t);
    const chain = failed.find((c) => c.name === 'hash-chain')!;
    expect(chain.detail).toMatch(/^entry 2\b/);
    const balance = failed.find((c) => c.name === 'entries-balance')!;
    expect(balance.detail).toMatch(/^entry 2\b/);
    expect(failed.find((c) => c.name === 'member-balances')!.detail).toMatch(/member b/);
  });

  it('catches an edited memo through the hash chain, naming the entry', () => {
    const t = seeded();
    tamper(t.db, ['DROP TRIGGER entries_append_only_u', "UPDATE entries SET memo = 'nothing to see' WHERE id = 2"]);
    const { failed } = broken(t);
    expect(failed.map((c) => c.name)).toEqual(['hash-chain']);
    expect(failed[0].detail).toMatch(/^entry 2 \(adjust\)/);
    const text = t.run(['ledger', 'verify']);
    expect(text.code).toBe(6);
    expect(text.stdout).toMatch(/✗ hash-chain: entry 2/);
    expect(text.stderr).toMatch(/^error: hash-chain: entry 2/m);
  });

  it('catches a deleted entry as a gap in the chain', () => {
    const t = seeded();
    tamper(t.db, [
      'DROP TRIGGER entries_append_only_d',
      'DROP TRIGGER postings_append_only_d',
      'PRAGMA foreign_keys = OFF',
      'DELETE FROM postings WHERE entry_id = 2',
      'DELETE FROM entries WHERE id = 2',
    ]);
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code).toBe(6);
    const v = r.json();
    expect(v.entries).toBe(2);
    const failed = v.checks.filter((c: Check) => !c.ok);
    expect(failed.find((c: Check) => c.name === 'hash-chain').detail).toBe('entry 2 is missing (next is 3)');
    expect(failed.map((c: Check) => c.name)).toContain('member-balances');
  });

  it('catches newest entries cut off consistently, which only an anchor can, and refuses a malformed anchor', () => {
    const t = seeded();
    const before = t.run(['ledger', 'verify', '--json']).json();
    expect(before.head).toEqual({ id: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const anchor = `${before.head.id}:${before.head.hash}`;
    // the human output prints the same head for a cron log to keep
    expect(t.run(['ledger', 'verify']).stdout).toContain(`head ${anchor}`);
    expect(t.run(['ledger', 'verify', '--anchor', anchor, '--json']).json().checks.find((c: Check) => c.name === 'anchor')).toEqual({
      name: 'anchor',
      ok: true,
      detail: 'entry 3 is as it was anchored, and so is every entry before it',
    });
    // Entry 3 (−100 for a) removed with everything it touched: every cache agrees again.
    tamper(t.db, [
      'DROP TRIGGER entries_append_only_d',
      'DROP TRIGGER postings_append_only_d',
      'DROP TRIGGER lot_moves_append_only_d',
      'PRAGMA foreign_keys = OFF',
      'UPDATE lots SET remaining = remaining - (SELECT sum(points) FROM lot_moves WHERE entry_id = 3) WHERE id IN (SELECT lot_id FROM lot_moves WHERE entry_id = 3)',
      'DELETE FROM lot_moves WHERE entry_id = 3',
      'DELETE FROM postings WHERE entry_id = 3',
      'DELETE FROM entries WHERE id = 3',
      "UPDATE members SET balance = 300 WHERE id = 'a'",
    ]);
    const plain = t.run(['ledger', 'verify', '--json']);
    expect(plain.code).toBe(0); // the gap: the chain and the caches alone cannot see it
    expect(plain.json().head.id).toBe(2);
    const r = t.run(['ledger', 'verify', '--anchor', anchor, '--json']);
    expect(r.code).toBe(6);
    expect(r.json().checks.filter((c: Check) => !c.ok)).toEqual([{ name: 'anchor', ok: false, detail: 'entry 3 of the anchor is gone: the journal was cut back to entry 2' }]);
    const bad = t.run(['ledger', 'verify', '--anchor', '3:nothex']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not ID:HASH');
  });

  it('catches a member balance cache that disagrees with the postings', () => {
    const t = seeded();
    tamper(t.db, ["UPDATE members SET balance = balance + 5 WHERE id = 'a'"]);
    const { failed } = broken(t);
    const names = failed.map((c) => c.name);
    expect(names).toContain('member-balances');
    expect(names).not.toContain('hash-chain');
    expect(failed.find((c) => c.name === 'member-balances')!.detail).toMatch(/member a: cached balance 205/);
  });

  it('catches a lot whose remaining no longer matches its moves', () => {
    const t = seeded();
    tamper(t.db, ["UPDATE lots SET remaining = remaining - 10 WHERE member_id = 'a'"]);
    const { failed } = broken(t);
    const names = failed.map((c) => c.name);
    expect(names).toContain('lot-remaining');
    expect(names).toContain('lots-match-balances');
    expect(names).not.toContain('hash-chain');
  });
});
