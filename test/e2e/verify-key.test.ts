// A key file kept outside the ledger (POINTSMALL_LEDGER_KEY_FILE) makes the chain a keyed MAC (issue 14 item 8):
// an entry forged with its plain SHA-256 chain recomputed passes a plain verify but not a keyed one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainHash, entryContent, type NewPosting } from '../../src/store/journal.js';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

type Check = { name: string; ok: boolean; detail: string };

function keyFile(t: TmpLedger): string {
  const f = join(t.dir, 'ledger.key');
  writeFileSync(f, 'c0ffee'.repeat(8) + '\n', { mode: 0o600 });
  return f;
}

/** Three adjusts, written with the key when one is given. */
function written(key: boolean): { t: TmpLedger; env: Record<string, string> } {
  const t = tmpLedger();
  const env: Record<string, string> = key ? { POINTSMALL_LEDGER_KEY_FILE: keyFile(t) } : {};
  t.ok(['member', 'add', '--id', 'a', '--name', 'A'], { env });
  for (const [p, why] of [['300', 'first'], ['-50', 'second'], ['20', 'third']]) t.ok(['member', 'adjust', 'a', '--points', p, '--reason', why, '--yes'], { env });
  return { t, env };
}

function importSome(t: TmpLedger, env: Record<string, string>): void {
  const csv = join(t.dir, 'p.csv');
  writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-11-01 10:00,10.00\nO2,a,2026-11-02 10:00,-5.00\n');
  expect(t.ok(['import', 'purchases', csv], { env })).toMatchObject({ accepted: 2 });
}

/** Edits entry 2's memo and recomputes the plain chain from it on (from entry 1 when the key mark goes too), as someone with the file and the source could. */
function forgeWithPlainHashes(path: string, opts: { dropKeyedFrom?: boolean } = {}): void {
  const db = new Database(path);
  db.exec('DROP TRIGGER entries_append_only_u');
  db.exec("UPDATE entries SET memo = 'forged' WHERE id = 2");
  if (opts.dropKeyedFrom) db.exec("DELETE FROM settings WHERE key = 'chain_keyed_from'");
  const from = opts.dropKeyedFrom ? 1 : 2;
  const rows = db.prepare('SELECT id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash FROM entries WHERE id >= ? ORDER BY id').all(from) as {
    id: number;
    at: string;
    recorded_at: string;
    kind: string;
    member_id: string | null;
    ref: string | null;
    memo: string | null;
    operator: string;
    prev_hash: string;
  }[];
  const postings = db.prepare('SELECT account, member_id AS memberId, points FROM postings WHERE entry_id = ? ORDER BY rowid');
  const set = db.prepare('UPDATE entries SET prev_hash = ?, hash = ? WHERE id = ?');
  let prev = rows[0].prev_hash;
  for (const r of rows) {
    const { prev_hash: _, ...row } = r;
    const hash = chainHash(prev, entryContent(row, postings.all(r.id) as NewPosting[]));
    set.run(prev, hash, r.id);
    prev = hash;
  }
  db.close();
}

function verify(t: TmpLedger, env: Record<string, string>): { code: number; checks: Check[] } {
  const r = t.run(['ledger', 'verify', '--json'], { env });
  return { code: r.code, checks: r.json().checks };
}

describe('a keyed chain (POINTSMALL_LEDGER_KEY_FILE)', () => {
  it('verifies with its key, and says what it proves without it', () => {
    const { t, env } = written(true);
    importSome(t, env); // an import hashes its planned entries itself
    const keyed = verify(t, env);
    expect(keyed.code).toBe(0);
    expect(keyed.checks.find((c) => c.name === 'chain-key')!.detail).toBe('entries 1..5 carry keyed MACs that match the key file');
    const plain = verify(t, {});
    expect(plain.code).toBe(0);
    expect(plain.checks.find((c) => c.name === 'chain-key')!.detail).toMatch(/^entries from 1 on are keyed MACs: without POINTSMALL_LEDGER_KEY_FILE only their links/);
  });

  it('catches an entry forged with a recomputed plain chain, which a plain ledger cannot', () => {
    const plain = written(false);
    forgeWithPlainHashes(plain.t.db);
    expect(verify(plain.t, {}).code).toBe(0); // what a plain chain does not prove: the file was rewritten consistently

    const { t, env } = written(true);
    forgeWithPlainHashes(t.db);
    const r = verify(t, env);
    expect(r.code).toBe(6);
    expect(r.checks.find((c) => c.name === 'hash-chain')).toMatchObject({ ok: false, detail: expect.stringMatching(/^entry 2 \(adjust\): content does not match its keyed MAC/) });
  });

  it('catches the key mark removed and the whole chain rewritten plain', () => {
    const { t, env } = written(true);
    forgeWithPlainHashes(t.db, { dropKeyedFrom: true });
    const r = verify(t, env);
    expect(r.code).toBe(6);
    expect(r.checks.find((c) => c.name === 'chain-key')).toMatchObject({ ok: false, detail: expect.stringMatching(/no entry is keyed/) });
  });

  it('refuses to write to a keyed ledger without the key (exit 2, nothing written), and refuses a short key', () => {
    const { t, env } = written(true);
    const r = t.run(['member', 'adjust', 'a', '--points', '5', '--reason', 'no key', '--yes', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim()).error.code).toBe('LEDGER_KEYED');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(270);
    const short = join(t.dir, 'short.key');
    writeFileSync(short, 'abc\n');
    expect(t.run(['member', 'show', 'a'], { env: { POINTSMALL_LEDGER_KEY_FILE: short } }).code).toBe(2);
    expect(verify(t, env).code).toBe(0);
  });
});
