// What is particular to a PostgreSQL ledger: choosing it by URL, moving a ledger between the backends
// (db copy, db backup), the writer lock's busy exit, a newer schema refused, and passwords never shown.
// Runs when POINTSMALL_TEST_PG names a server (.ci/run starts one); the shared suites run on it as well.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tmpDir, tmpPgDatabase } from '../helpers/cli.js';

const HAVE_PG = Boolean(process.env.POINTSMALL_TEST_PG);
type Facade = { exec(sql: string): unknown; prepare(sql: string): { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown; pluck(): { get(...a: unknown[]): unknown } }; close(): void };
const facade = async (url: string): Promise<Facade> => {
  const { PgDatabase } = (await import(join(ROOT, 'dist', 'store', 'pg', 'database.js'))) as { PgDatabase: new (u: string, ms: number) => Facade };
  return new PgDatabase(url, 5000);
};

describe.skipIf(!HAVE_PG)('a ledger on PostgreSQL', () => {
  it('db copy moves a ledger SQLite → PostgreSQL → SQLite with every row, the same head hash and verify passing', () => {
    const dir = tmpDir();
    const file = join(dir, 'demo.db');
    expect(runCli(['demo', '--db', file, '--json']).code).toBe(0);
    const head = runCli(['ledger', 'verify', '--db', file, '--json']).json().head;
    const pg = tmpPgDatabase();
    const there = runCli(['db', 'copy', '--db', file, '--to', pg, '--json']);
    expect(there.code, there.stderr).toBe(0);
    expect(there.json()).toMatchObject({ verified: true, headHash: head.hash, entries: head.id });
    const v = runCli(['ledger', 'verify', '--db', pg, '--json']);
    expect(v.code).toBe(0);
    expect(v.json().head).toEqual(head);
    // the same answers from both
    for (const args of [['member', 'list'], ['report', 'liability'], ['order', 'list'], ['report', 'summary']]) {
      expect(runCli([...args, '--db', pg, '--json']).json()).toEqual(runCli([...args, '--db', file, '--json']).json());
    }
    // and back into a new file, which keeps counting ids where the source stopped
    const back = join(dir, 'back.db');
    const r = runCli(['db', 'copy', '--db', pg, '--to', back, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(runCli(['ledger', 'verify', '--db', back, '--json']).json().head).toEqual(head);
    const adj = runCli(['member', 'adjust', 'M001', '--points', '5', '--reason', 'after copy', '--db', pg, '--json']);
    expect(adj.code, adj.stderr).toBe(0);
    expect(adj.json().entryId).toBe(head.id + 1);
  });

  it('db copy never overwrites: a database with a ledger, or an existing file, is exit 2 and untouched', () => {
    const dir = tmpDir();
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    const file = join(dir, 'l.db');
    expect(runCli(['init', '--db', file, '--json']).code).toBe(0);
    const into = runCli(['db', 'copy', '--db', file, '--to', pg, '--json']);
    expect(into.code).toBe(2);
    expect(into.stderr).toContain('a ledger already exists');
    const intoFile = runCli(['db', 'copy', '--db', pg, '--to', file, '--json']);
    expect(intoFile.code).toBe(2);
    expect(runCli(['ledger', 'verify', '--db', file, '--json']).code).toBe(0);
  });

  it('db backup of a PostgreSQL ledger writes a SQLite ledger file that verifies offline', () => {
    const pg = tmpPgDatabase();
    expect(runCli(['demo', '--db', pg, '--json']).code).toBe(0);
    const out = join(tmpDir(), 'backup.db');
    const b = runCli(['db', 'backup', out, '--db', pg, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const v = runCli(['ledger', 'verify', '--db', out, '--json']);
    expect(v.code).toBe(0);
    expect(v.json().head).toEqual(runCli(['ledger', 'verify', '--db', pg, '--json']).json().head);
    // restore is for SQLite files; on PostgreSQL it says what to do instead
    const restore = runCli(['db', 'restore', out, '--yes', '--db', pg, '--json']);
    expect(restore.code).toBe(2);
    expect(JSON.parse(restore.stderr).error.hint).toContain('db copy');
  });

  it('a writer waiting on another past the busy timeout exits 5 having written nothing', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'a', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const other = await facade(pg);
    try {
      other.exec('BEGIN IMMEDIATE'); // another till in the middle of its write transaction
      const r = runCli(['member', 'adjust', 'a', '--points', '7', '--reason', 'r', '--db', pg, '--json'], { env: { POINTSMALL_BUSY_TIMEOUT: '300' } });
      expect(r.code).toBe(5);
      expect(JSON.parse(r.stderr).error.code).toBe('LEDGER_BUSY');
      // readers do not wait
      expect(runCli(['member', 'show', 'a', '--db', pg, '--json']).json().balance).toBe(0);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(runCli(['member', 'adjust', 'a', '--points', '7', '--reason', 'r', '--db', pg, '--json']).json().balance).toBe(7);
  });

  it('ledger verify reads the journal by COPY exactly (tabs, line feeds, backslashes, non-ASCII) and sees a posting or entry changed by SQL: exit 6', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['demo', '--db', pg, '--json']).code).toBe(0);
    const reason = 'odd\tmemo\nacross lines \\N back\\slash é 積分 😀';
    const adj = runCli(['member', 'adjust', 'M001', '--points', '3', '--reason', reason, '--db', pg, '--json']);
    expect(adj.code, adj.stderr).toBe(0);
    const ok = runCli(['ledger', 'verify', '--db', pg, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json().head.id).toBe(adj.json().entryId);
    // the same hash on SQLite: a backup re-reads every row and verifies offline
    const out = join(tmpDir(), 'b.db');
    expect(runCli(['db', 'backup', out, '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['ledger', 'verify', '--db', out, '--json']).json().head).toEqual(ok.json().head);

    const tamper = async (sql: string) => {
      const db = await facade(pg);
      try {
        db.exec('SET session_replication_role = replica'); // past the append-only triggers, as an intruder with the role could
        db.prepare(sql).run();
      } finally {
        db.close();
      }
    };
    await tamper(`UPDATE postings SET points = points + 1 WHERE rowid = (SELECT min(rowid) FROM postings WHERE account = 'member')`);
    const bad = runCli(['ledger', 'verify', '--db', pg, '--json']);
    expect(bad.code).toBe(6);
    const failed = (bad.json() as { checks: { name: string; ok: boolean }[] }).checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(['hash-chain', 'entries-balance']));

    const pg2 = tmpPgDatabase();
    expect(runCli(['demo', '--db', pg2, '--json']).code).toBe(0);
    const db = await facade(pg2);
    try {
      db.exec('SET session_replication_role = replica');
      db.prepare(`UPDATE entries SET memo = 'rewritten' WHERE id = 2`).run();
    } finally {
      db.close();
    }
    const bad2 = runCli(['ledger', 'verify', '--db', pg2, '--json']);
    expect(bad2.code).toBe(6);
    expect((bad2.json() as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'hash-chain')).toMatchObject({ ok: false, detail: expect.stringContaining('entry 2') });
  });

  it('refuses a newer schema, a database without a ledger, and never shows the password', async () => {
    const pg = tmpPgDatabase();
    const empty = runCli(['member', 'list', '--db', pg, '--json']);
    expect(empty.code).toBe(2);
    expect(JSON.parse(empty.stderr).error.code).toBe('NOT_A_LEDGER');
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    const again = runCli(['init', '--db', pg, '--json']);
    expect(again.code).toBe(2);
    const db = await facade(pg);
    try {
      db.prepare('UPDATE pointsmall_schema SET version = 99').run();
    } finally {
      db.close();
    }
    const newer = runCli(['member', 'list', '--db', pg, '--json']);
    expect(newer.code).toBe(2);
    expect(JSON.parse(newer.stderr).error.code).toBe('LEDGER_TOO_NEW');
    const u = new URL(pg);
    u.password = 's3cret-pw';
    const shown = runCli(['member', 'list', '--db', u.toString(), '--json']);
    expect(shown.stderr).not.toContain('s3cret-pw');
    expect(shown.stderr).toContain('***');
  });
});
