// What is particular to a PostgreSQL ledger: choosing it by URL, moving a ledger between the backends
// (db copy, db backup), the writer lock's busy exit, a newer schema refused, and passwords never shown.
// Runs when POINTSMALL_TEST_PG names a server (.ci/run starts one); the shared suites run on it as well.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, runCliAsync, tmpDir, tmpPgDatabase } from '../helpers/cli.js';

const HAVE_PG = Boolean(process.env.POINTSMALL_TEST_PG);
type Facade = { exec(sql: string): unknown; prepare(sql: string): { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown; pluck(): { get(...a: unknown[]): unknown } }; close(): void };
const facade = async (url: string): Promise<Facade> => {
  const { PgDatabase } = (await import(join(ROOT, 'dist', 'store', 'pg', 'database.js'))) as { PgDatabase: new (u: string, ms: number) => Facade };
  return new PgDatabase(url, 5000);
};

/** `db copy --db from --to to`, held at `at` by POINTSMALL_COPY_BARRIER until released or killed. */
async function heldCopy(from: string, to: string, at: 'migrated' | 'erase') {
  const barrier = tmpDir('pointsmall-barrier-');
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'pointsmall.js'), 'db', 'copy', '--db', from, '--to', to, '--json'], { env: { ...process.env, POINTSMALL_COPY_BARRIER: barrier, POINTSMALL_COPY_BARRIER_AT: at } });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => p.on('close', res));
  while (!existsSync(join(barrier, at))) await new Promise((r) => setTimeout(r, 10));
  return { release: async () => (writeFileSync(join(barrier, 'go'), ''), { code: await exited, stderr }), kill: async () => (p.kill('SIGKILL'), await exited) };
}

describe.skipIf(!HAVE_PG)('a ledger on PostgreSQL', () => {
  it('a large import and db copy leave the planner statistics of the tables they filled (the re-import is planned for their size, not as empty)', async () => {
    const dir = tmpDir();
    const csv = join(dir, 'big.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\n' + Array.from({ length: 6000 }, (_, i) => `B${i},M${i % 300},2026-11-01 10:00,${1 + (i % 90)}.00`).join('\n') + '\n');
    const analyzed = async (url: string) => {
      const db = await facade(url);
      try {
        // (pg_class.reltuples, set by ANALYZE itself: pg_stat_user_tables' last_analyze may lag behind it)
        return db.prepare("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname IN ('purchases', 'lots') AND c.reltuples >= 6000").pluck().get();
      } finally {
        db.close();
      }
    };
    const pg = tmpPgDatabase();
    const env = { POINTSMALL_NOW: '2026-11-23T10:00:00+08:00' };
    expect(runCli(['init', '--db', pg, '--timezone', 'UTC', '--currency', 'CNY', '--json'], { env }).code).toBe(0);
    expect(Number(await analyzed(pg))).toBe(0);
    const r = runCli(['import', 'purchases', csv, '--db', pg, '--create-members', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ accepted: 6000 });
    expect(Number(await analyzed(pg))).toBe(2);
    // a copy into an empty database too
    const copy = tmpPgDatabase();
    expect(runCli(['db', 'copy', '--db', pg, '--to', copy, '--json']).code).toBe(0);
    expect(Number(await analyzed(copy))).toBe(2);
  });

  it('a db copy killed part way, into PostgreSQL or into a file, is run again as it was (trial 38b, finding 3)', async () => {
    const dir = tmpDir();
    const file = join(dir, 'demo.db');
    expect(runCli(['demo', '--db', file, '--json']).code).toBe(0);
    const head = runCli(['ledger', 'verify', '--db', file, '--json']).json().head;
    const pg = tmpPgDatabase();
    const back = join(dir, 'back.db');
    for (const [from, to] of [[file, pg], [pg, back]]) {
      // killed once the target has its tables and before any row
      await (await heldCopy(from, to, 'migrated')).kill();
      if (to === pg) {
        // what verify says of it leads to the copy, not only to init
        const v = runCli(['ledger', 'verify', '--db', to, '--json']);
        expect(v.code).toBe(2);
        expect(JSON.parse(v.stderr).error).toMatchObject({ code: 'LEDGER_UNFINISHED' });
        expect(JSON.parse(v.stderr).error.hint).toContain('if it was a db copy that stopped, run the same db copy again instead');
      } else expect(existsSync(to)).toBe(false); // (the file is written under a temp name, linked into place once verified)
      const again = runCli(['db', 'copy', '--db', from, '--to', to, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json()).toMatchObject({ verified: true, headHash: head.hash });
      expect(runCli(['ledger', 'verify', '--db', to, '--json']).json().head).toEqual(head);
    }
    // a ledger with anything in it is still never copied over
    const over = runCli(['db', 'copy', '--db', file, '--to', pg, '--json']);
    expect(over.code).toBe(2);
    expect(JSON.parse(over.stderr).error.message).toMatch(/^a ledger already exists in /);
  });

  it('two db copies into one database: a ledger the other finished is never dropped, nor written into (trial 38c, finding 1)', async () => {
    const dir = tmpDir();
    const demo = join(dir, 'demo.db');
    expect(runCli(['demo', '--db', demo, '--json']).code).toBe(0);
    const small = join(dir, 'small.db');
    expect(runCli(['init', '--db', small, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'S1', '--name', 'S', '--db', small, '--json']).code).toBe(0);
    const heads = { demo: runCli(['ledger', 'verify', '--db', demo, '--json']).json().head, small: runCli(['ledger', 'verify', '--db', small, '--json']).json().head };
    // 1. a copy that found the tables empty and is about to make them again, while another finishes its copy there
    const pg = tmpPgDatabase();
    await (await heldCopy(small, pg, 'migrated')).kill(); // (tables, nothing in them)
    const late = await heldCopy(small, pg, 'erase');
    const first = runCli(['db', 'copy', '--db', demo, '--to', pg, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const refused = await late.release();
    expect(refused.code, refused.stderr).toBe(2);
    expect(JSON.parse(refused.stderr).error.message).toMatch(/^a ledger already exists in \S+ \(another process finished it a moment ago\)$/);
    expect(runCli(['ledger', 'verify', '--db', pg, '--json']).json()).toMatchObject({ ok: true, head: heads.demo });
    // 2. a copy whose empty tables another copy made again and filled before it wrote its rows
    const pg2 = tmpPgDatabase();
    const slow = await heldCopy(small, pg2, 'migrated');
    const other = runCli(['db', 'copy', '--db', demo, '--to', pg2, '--json']);
    expect(other.code, other.stderr).toBe(0);
    const lost = await slow.release();
    expect(lost.code, lost.stderr).toBe(2);
    expect(JSON.parse(lost.stderr).error.message).toMatch(/was (filled|changed) by another process while this copy was written .*: nothing of this copy is in it$/);
    expect(runCli(['ledger', 'verify', '--db', pg2, '--json']).json()).toMatchObject({ ok: true, head: heads.demo });
    expect(heads.small).not.toEqual(heads.demo);
  });

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
    // the same tables with the same counts, listed by name whichever backend the source is
    expect(Object.keys(r.json().tables)).toEqual(Object.keys(r.json().tables).sort());
    expect(JSON.stringify(r.json().tables)).toBe(JSON.stringify(there.json().tables));
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

  /** A ledger with member M1 in a fresh database, and another application's objects beside it (`sql`, run after init). */
  async function ledgerBeside(sql: string[]): Promise<string> {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const db = await facade(pg);
    try {
      for (const q of sql) db.exec(q);
    } finally {
      db.close();
    }
    return pg;
  }

  it("init and db copy into a database whose other application has tables under pointsmall's names: exit 2 naming them, nothing created", async () => {
    const pg = tmpPgDatabase();
    const db = await facade(pg);
    const objects = () => db.prepare("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace").pluck().get();
    try {
      db.exec('CREATE TABLE members (id int); CREATE TABLE entries (x text)');
      const before = objects();
      const dir = tmpDir();
      const file = join(dir, 'l.db');
      expect(runCli(['init', '--db', file, '--json']).code).toBe(0);
      for (const args of [['init', '--db', pg], ['init', '--db', pg, '--force', '--yes'], ['db', 'copy', '--db', file, '--to', pg]]) {
        const r = runCli([...args, '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        const err = JSON.parse(r.stderr.trim()).error;
        expect(err.code).toBe('NOT_A_LEDGER');
        expect(err.message).toContain("under names pointsmall's own would take (entries, members)");
        expect(err.hint).toContain('a database of its own');
        expect(objects()).toBe(before);
      }
      // the hint's other way: a schema of its own in the same database
      db.exec('CREATE SCHEMA pointsmall');
      const inSchema = `${pg}?options=-csearch_path%3Dpointsmall`;
      expect(runCli(['init', '--db', inSchema, '--json']).code).toBe(0);
      expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', inSchema, '--json']).code).toBe(0);
      expect(objects()).toBe(before);
    } finally {
      db.close();
    }
  });

  it('init --force and demo --force drop only pointsmall\'s own tables: another application\'s table in the same schema keeps its rows', async () => {
    const pg = await ledgerBeside(['CREATE TABLE other_app (x int)', 'INSERT INTO other_app VALUES (42)']);
    // db info counts pointsmall's tables only
    const info = runCli(['db', 'info', '--db', pg, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(Object.keys(info.json().counts)).not.toContain('other_app');
    const otherRows = async () => {
      const d = await facade(pg);
      try {
        return d.prepare('SELECT count(*) FROM other_app WHERE x = 42').pluck().get();
      } finally {
        d.close();
      }
    };
    for (const args of [['init', '--force', '--yes'], ['demo', '--force', '--yes']]) {
      const r = runCli([...args, '--db', pg, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(await otherRows(), args.join(' ')).toBe(1);
      const v = runCli(['ledger', 'verify', '--db', pg, '--json']);
      expect(v.code, v.stderr).toBe(0);
      expect(v.json().ok).toBe(true);
    }
    // the fresh ledger of init --force had no members; the demo's has its own
    expect(runCli(['member', 'show', 'M1', '--db', pg, '--json']).code).toBe(2);
    // a db backup (a copy of the ledger's tables) leaves the other application's table out
    const out = join(tmpDir(), 'b.db');
    const b = runCli(['db', 'backup', out, '--db', pg, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const file = new Database(out, { readonly: true });
    try {
      expect(file.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'other_app'").pluck().get()).toBe(0);
    } finally {
      file.close();
    }
  });

  it('init --force refuses (exit 2, nothing dropped) when another application\'s table references a pointsmall table', async () => {
    const pg = await ledgerBeside(['CREATE TABLE other_ref (member_id text REFERENCES members(id))', 'CREATE VIEW other_view AS SELECT id FROM members']);
    const r = runCli(['init', '--force', '--yes', '--db', pg, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const error = JSON.parse(r.stderr).error;
    expect(error.code).toBe('LEDGER_IN_USE');
    expect(error.message).toMatch(/table other_ref, view other_view depend on its tables/);
    expect(runCli(['member', 'show', 'M1', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
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
      // the message names the ledger with its password masked, in JSON and in words (trial 38b, finding 1)
      const u = new URL(pg);
      u.username = 'postgres';
      u.password = 'Hunter2Secret';
      u.search = '?application_name=till-2';
      for (const json of [['--json'], []]) {
        const busy = runCli(['member', 'adjust', 'a', '--points', '7', '--reason', 'r', '--db', u.toString(), '--yes', ...json], { env: { POINTSMALL_BUSY_TIMEOUT: '300' } });
        expect(busy.code, busy.stderr).toBe(5);
        expect(busy.stderr).toContain('stayed locked');
        expect(busy.stderr).not.toContain('Hunter2Secret');
        expect(busy.stderr).toContain('postgres:***@');
      }
      // readers do not wait
      expect(runCli(['member', 'show', 'a', '--db', pg, '--json']).json().balance).toBe(0);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(runCli(['member', 'adjust', 'a', '--points', '7', '--reason', 'r', '--db', pg, '--json']).json().balance).toBe(7);
  });

  it('sslmode: libpq\'s prefer and allow connect where the server has no SSL, as psql does; a value that is no SSL mode is refused, not taken for require (trial 38b, finding 6)', () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    const at = (mode: string) => {
      const u = new URL(pg);
      u.searchParams.set('sslmode', mode);
      return u.toString();
    };
    for (const mode of ['prefer', 'allow', 'disable']) {
      const r = runCli(['member', 'add', '--id', mode, '--name', mode, '--db', at(mode), '--json']);
      expect(r.code, `${mode}: ${r.stderr}`).toBe(0);
    }
    expect(runCli(['ledger', 'verify', '--db', at('prefer'), '--json']).json().ok).toBe(true);
    const bogus = runCli(['member', 'list', '--db', at('bogus'), '--json']);
    expect(bogus.code).toBe(2);
    expect(JSON.parse(bogus.stderr).error).toMatchObject({ code: 'USAGE', hint: 'use one of disable, allow, prefer, require, verify-ca, verify-full, no-verify (or leave sslmode out)' });
    expect(JSON.parse(bogus.stderr).error.message).toMatch(/^sslmode="bogus" in postgres:\/\/\S+ is not an SSL mode$/);
  });

  it('a statement the server cancels (a statement_timeout shorter than a lock wait) is said as such, exit 2, not as a lock held past the busy timeout (trial 38b, finding 4)', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'a', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const other = await facade(pg);
    try {
      other.exec('BEGIN IMMEDIATE'); // another till writing: the wait for its lock outlasts the statement_timeout
      const u = new URL(pg);
      u.search = '?options=-cstatement_timeout%3D300';
      const r = runCli(['member', 'adjust', 'a', '--points', '7', '--reason', 'r', '--db', u.toString(), '--json'], { env: { POINTSMALL_BUSY_TIMEOUT: '60000' } });
      expect(r.code, r.stderr).toBe(2);
      const err = JSON.parse(r.stderr).error;
      expect(err.code).toBe('STATEMENT_CANCELLED');
      expect(err.message).toMatch(/^the server cancelled a statement of this command \(canceling statement due to statement timeout\): a statement_timeout shorter/);
      expect(err.hint).toContain('raise or remove statement_timeout');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(runCli(['member', 'show', 'a', '--db', pg, '--json']).json().balance).toBe(0);
  });

  it('queued write transactions (an import\'s writer): each commits behind its writes, the next begins checked that nobody else wrote, and a failure names its part', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    type Queued = Facade & {
      pragma(s: string, o: { simple: true }): number;
      tagQueued(tag: number): void;
      runQueued(sql: string, values: unknown[]): void;
      beginQueued(dataVersion: number): void;
      commitQueued(): void;
      awaitQueued(tag: number): void;
      abortQueued(): void;
    };
    const w = (await facade(pg)) as Queued;
    const other = await facade(pg);
    const rows = () => (other.prepare('SELECT string_agg(x::text, \',\' ORDER BY x) FROM scratch').pluck().get() as string | null) ?? '';
    try {
      other.exec('CREATE TABLE scratch (x bigint PRIMARY KEY)');
      const v0 = w.pragma('data_version', { simple: true });
      /** Part `tag`: one row in a transaction of its own, begun queued (or not: the first). */
      const part = (tag: number, x: number, version: number | null) => {
        w.tagQueued(tag);
        if (version === null) w.exec('BEGIN IMMEDIATE');
        else w.beginQueued(version);
        w.runQueued('INSERT INTO scratch (x) VALUES (?)', [x]);
        w.commitQueued();
      };
      part(1, 1, null);
      part(2, 2, v0);
      part(3, 3, v0);
      w.awaitQueued(3);
      expect(rows()).toBe('1,2,3');
      // its own queued commits are not another writer's
      expect(w.pragma('data_version', { simple: true })).toBe(v0);

      // another process commits: the next transaction begun queued is refused on the server, with what follows it
      other.prepare('INSERT INTO scratch (x) VALUES (10)').run();
      part(4, 4, v0);
      part(5, 5, v0);
      let e = (() => {
        try {
          w.awaitQueued(5);
        } catch (x) {
          return x as { stale: boolean; tag: number };
        }
      })();
      expect(e).toMatchObject({ stale: true, tag: 4 });
      w.abortQueued();
      expect(rows()).toBe('1,2,3,10');
      const v1 = w.pragma('data_version', { simple: true });
      expect(v1).not.toBe(v0);

      // a write the server refuses in part 7: part 6 is in, 7 and 8 are not; awaiting 6 alone succeeds
      part(6, 20, v1);
      part(7, 1, v1); // (1 is there already)
      part(8, 21, v1);
      w.awaitQueued(6);
      expect(rows()).toBe('1,2,3,10,20');
      e = (() => {
        try {
          w.awaitQueued(8);
        } catch (x) {
          return x as { stale: boolean; tag: number };
        }
      })();
      expect(e).toMatchObject({ stale: false, tag: 7, code: 'SQLITE_CONSTRAINT' });
      w.abortQueued();
      expect(rows()).toBe('1,2,3,10,20');
      // and the connection goes on as before
      expect(w.pragma('data_version', { simple: true })).toBe(v1);
      w.exec('BEGIN IMMEDIATE');
      w.prepare('INSERT INTO scratch (x) VALUES (?)').run(30);
      w.exec('COMMIT');
      expect(rows()).toBe('1,2,3,10,20,30');
    } finally {
      w.close();
      other.close();
    }
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

  it('import purchases writes on PostgreSQL the ledger it writes on SQLite, to the last chain hash: batches planned ahead of the writer, returns taking lots, debts, new members', async () => {
    const dir = tmpDir();
    const csv = join(dir, 'p.csv');
    writeFileSync(csv, purchasesCsv(20_000));
    const members = join(dir, 'm.csv');
    writeFileSync(members, 'id,name\n' + Array.from({ length: 300 }, (_, i) => `M${String(i + 1).padStart(3, '0')},Member ${i + 1}\n`).join(''));
    const file = join(dir, 'l.db');
    const pg = tmpPgDatabase();
    const env = { POINTSMALL_THREADS: '2' }; // the writer thread, as a large import uses it
    const summaries = [file, pg].map((db) => {
      expect(runCli(['init', '--db', db, '--json']).code).toBe(0);
      expect(runCli(['member', 'import', members, '--db', db, '--json']).code).toBe(0);
      const r = runCli(['import', 'purchases', csv, '--db', db, '--batch', '1500', '--create-members', '--skip-guests', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const { elapsedMs, ...rest } = r.json();
      void elapsedMs;
      return rest;
    });
    expect(summaries[1]).toEqual(summaries[0]);
    expect(summaries[0]).toMatchObject({ rows: 20_000, rejected: 0 });
    expect(summaries[0].returns).toBeGreaterThan(50);
    expect(summaries[0].membersCreated).toBeGreaterThan(0);
    expect(summaries[0].batches).toBeGreaterThan(3);
    const heads = [file, pg].map((db) => {
      const v = runCli(['ledger', 'verify', '--db', db, '--json']);
      expect(v.code, v.stdout).toBe(0);
      return v.json().head;
    });
    expect(heads[1]).toEqual(heads[0]);
    expect(heads[0].id).toBeGreaterThan(4000);
    for (const args of [['member', 'list', '--limit', '1000'], ['report', 'liability']]) {
      expect(runCli([...args, '--db', pg, '--json']).json()).toEqual(runCli([...args, '--db', file, '--json']).json());
    }
    // the same lots, and the same takes from them by the returns
    const lite = new Database(file, { readonly: true });
    const there = await facade(pg);
    try {
      for (const sql of [
        'SELECT id, member_id, entry_id, points, remaining, earned_at, expires_on FROM lots ORDER BY id',
        'SELECT entry_id, lot_id, points FROM lot_moves ORDER BY entry_id, lot_id',
        'SELECT id, balance, held, debt, lifetime_earned, last_activity_at FROM members ORDER BY id',
        // (categories with a backslash, accents and a character beyond the BMP: the COPY rows' escapes and UTF-8)
        'SELECT purchase_id, line_no, sku, category, quantity, amount FROM purchase_lines ORDER BY purchase_id, line_no',
      ]) {
        const rows = lite.prepare(sql).all();
        expect(rows.length).toBeGreaterThan(100);
        expect((there as unknown as Database.Database).prepare(sql).all()).toEqual(rows);
      }
      // some member owes points (a return took back more than the lots held), on both alike
      expect(lite.prepare('SELECT count(*) AS n FROM members WHERE debt > 0').get()).not.toEqual({ n: 0 });
    } finally {
      lite.close();
      there.close();
    }
  });

  for (const threads of ['1', '2']) {
    it(`a write the server refuses in a batch's queued COPY rolls that batch back whole (${threads === '1' ? 'one thread' : 'a writer thread'}); the batches before it stay, and a re-run adds the rest`, async () => {
      const dir = tmpDir();
      const csv = join(dir, 'p.csv');
      // orders O000…O099 in time order, one line each; O075's line is one the server refuses
      const rows = Array.from({ length: 100 }, (_, i) => `O${String(i).padStart(3, '0')},M${1 + (i % 3)},2026-11-${String(1 + Math.floor(i / 5)).padStart(2, '0')} 10:00,${i === 75 ? 'BOOM' : 'SKU'},1,10.00`);
      writeFileSync(csv, `order_id,member_id,purchased_at,sku,quantity,unit_price\n${rows.join('\n')}\n`);
      const pg = tmpPgDatabase();
      expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
      for (const id of ['M1', 'M2', 'M3']) expect(runCli(['member', 'add', '--id', id, '--name', id, '--db', pg, '--json']).code).toBe(0);
      const db = await facade(pg);
      try {
        db.exec("ALTER TABLE purchase_lines ADD CONSTRAINT no_boom CHECK (sku IS DISTINCT FROM 'BOOM')");
        const env = { POINTSMALL_THREADS: threads };
        const r = runCli(['import', 'purchases', csv, '--db', pg, '--batch', '50', '--json'], { env });
        expect(r.code).toBe(1); // a row the ledger refuses is a bug of the import, as on SQLite
        expect(r.stdout).toBe('');
        expect(JSON.parse(r.stderr).error.message).toContain('no_boom');
        const count = () => db.prepare('SELECT (SELECT count(*) FROM purchases) AS purchases, (SELECT count(*) FROM purchase_lines) AS lines, (SELECT count(*) FROM entries) AS entries, (SELECT count(*) FROM lots) AS lots, (SELECT sum(balance) FROM members) AS balance').get();
        expect(count()).toEqual({ purchases: 50, lines: 50, entries: 50, lots: 50, balance: 500 }); // batch 1 only
        expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
        db.exec('ALTER TABLE purchase_lines DROP CONSTRAINT no_boom');
        const again = runCli(['import', 'purchases', csv, '--db', pg, '--batch', '50', '--json'], { env });
        expect(again.code, again.stderr).toBe(0);
        expect(again.json()).toMatchObject({ accepted: 50, duplicates: 50, batches: 2 });
        expect(count()).toEqual({ purchases: 100, lines: 100, entries: 100, lots: 100, balance: 1000 });
        expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
      } finally {
        db.close();
      }
    });
  }

  // Trial 40: six imports of 4,900 orders each (below the import's own 5,000) planned their key look-ups for
  // an empty table, each slower than the last (4.6 to 15.1 s); the same files take about a second each now.
  it('imports below the refresh size: the next one counts what they added before it looks up its keys', async () => {
    const dir = tmpDir();
    const pg = tmpPgDatabase();
    const env = { POINTSMALL_NOW: '2026-11-23T10:00:00+08:00' };
    expect(runCli(['init', '--db', pg, '--timezone', 'UTC', '--currency', 'CNY', '--json'], { env }).code).toBe(0);
    const counted = async () => {
      const db = await facade(pg);
      try {
        return Number(db.prepare("SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = 'purchases'").pluck().get());
      } finally {
        db.close();
      }
    };
    for (const k of [0, 1]) {
      const csv = join(dir, `k${k}.csv`);
      writeFileSync(csv, 'order_id,member_id,purchased_at,amount\n' + Array.from({ length: 1500 }, (_, i) => `K${k}-${i},M${i % 100},2026-11-01 10:00,12.34`).join('\n') + '\n');
      expect(runCli(['import', 'purchases', csv, '--db', pg, '--create-members', '--json'], { env }).json()).toMatchObject({ accepted: 1500 });
    }
    // the second import found the first's 1,500 orders uncounted and refreshed the statistics before its own
    expect(await counted()).toBeGreaterThanOrEqual(1500);
  });

  it('a read-only session (default_transaction_read_only) is exit 2 PERMISSION_DENIED, not a bug; nothing written', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const ro = new URL(pg);
    ro.search = '?options=-c%20default_transaction_read_only%3Don';
    expect(runCli(['member', 'show', 'M1', '--db', ro.toString(), '--json']).json()).toMatchObject({ balance: 0 });
    const r = runCli(['member', 'adjust', 'M1', '--points', '5', '--reason', 'x', '--yes', '--db', ro.toString(), '--json']);
    expect(r.code, r.stderr).toBe(2);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED', message: 'the database takes only reads on this connection: cannot execute INSERT in a read-only transaction' });
    expect(err.hint).toContain('nothing was written');
    expect(runCli(['member', 'show', 'M1', '--db', pg, '--json']).json()).toMatchObject({ balance: 0 });
    // expire preview only reads: no temp table on such a connection, which refuses even that (trial 43b)
    const preview = runCli(['expire', 'preview', '--within', '30d', '--db', ro.toString(), '--json']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.json()).toMatchObject({ members: 0, points: 0 });
  });

  it("a database holding another application's table under a name of pointsmall's: not a ledger, and no hint to init it (trial 40)", async () => {
    const pg = tmpPgDatabase();
    const db = await facade(pg);
    try {
      db.exec('CREATE TABLE members (id integer)');
    } finally {
      db.close();
    }
    const r = runCli(['member', 'list', '--db', pg, '--json']);
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.code).toBe('NOT_A_LEDGER');
    expect(err.message).toContain("which holds another application's members");
    expect(err.hint).not.toContain('pointsmall init');
  });

  it('a role that may only read: reads work, a write is exit 2 PERMISSION_DENIED (not a bug), nothing written', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const role = `pm_ro_${process.pid}_${Date.now().toString(36)}`;
    const db = await facade(pg);
    try {
      db.exec(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      const ro = new URL(pg);
      ro.username = role;
      const before = runCli(['ledger', 'verify', '--db', pg, '--json']).json().head;
      expect(runCli(['member', 'show', 'M1', '--db', ro.toString(), '--json']).json()).toMatchObject({ id: 'M1', balance: 0 });
      // expire preview and a dry run only read (their scratch tables are the connection's own, not the ledger's)
      for (const args of [['expire', 'preview'], ['expire', 'run', '--dry-run']]) {
        const r = runCli([...args, '--db', ro.toString(), '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.json()).toMatchObject({ members: 0 });
      }
      for (const args of [['member', 'adjust', 'M1', '--points', '5', '--reason', 'x'], ['member', 'add', '--id', 'M2', '--name', 'B']]) {
        const r = runCli([...args, '--db', ro.toString(), '--json']);
        expect(r.code, r.stderr).toBe(2);
        const err = JSON.parse(r.stderr.trim()).error;
        expect(err.code).toBe('PERMISSION_DENIED');
        expect(err.message).toMatch(/^the database refused the command to this role: permission denied for (table|sequence) \w+$/);
        expect(err.hint).toContain('nothing was written');
      }
      expect(runCli(['ledger', 'verify', '--db', pg, '--json']).json().head).toEqual(before);
      // a role that may not even read: the same error, not "cannot connect"
      db.exec(`REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM ${role}`);
      const none = runCli(['member', 'show', 'M1', '--db', ro.toString(), '--json']);
      expect(none.code).toBe(2);
      expect(JSON.parse(none.stderr.trim()).error.code).toBe('PERMISSION_DENIED');
    } finally {
      db.exec(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; REVOKE ALL ON SCHEMA public FROM ${role}; DROP ROLE ${role}`);
      db.close();
    }
  });

  it('the server dropping the connection mid-import is exit 2 CONNECTION_LOST saying what is committed; the same import again finishes it', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    const dir = tmpDir();
    const file = join(dir, 'big.csv');
    // 15,000 one-line orders of 300 members: six batches, so the first commits well before the last
    const rows = ['order_id,member_id,purchased_at,amount'];
    for (let i = 0; i < 15_000; i++) rows.push(`L${i},M${String(i % 300).padStart(3, '0')},2026-01-${String(1 + (i % 28)).padStart(2, '0')} 10:00,${(i % 500) + 1}.00`);
    writeFileSync(file, rows.join('\n') + '\n');
    const running = runCliAsync(['import', 'purchases', file, '--create-members', '--source', 'lost', '--db', pg, '--json']);
    const db = await facade(pg);
    let terminated = false;
    try {
      // waits for the first committed batch (a state, not a time), then ends the import's connection
      // as a restart or a failover would
      for (;;) {
        const imported = Number(db.prepare("SELECT count(*) FROM purchases WHERE source = 'lost'").pluck().get());
        if (imported > 0 && imported < 15_000) {
          terminated = Number(db.prepare("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pointsmall' AND pid <> pg_backend_pid()").pluck().get()) > 0;
          break;
        }
        if (imported >= 15_000) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      db.close();
    }
    const r = await running;
    expect(terminated, 'the import finished before its connection could be ended').toBe(true);
    expect(r.code, r.stderr).toBe(2);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.code).toBe('CONNECTION_LOST');
    expect(err.message).toMatch(/^the connection to the database server was lost before the command finished \(.*\): the first (batch|\d+ batches) \(\d+ orders accrued\) (is|are) committed to the ledger/);
    expect(err.hint).toContain('run the same import again');
    const again = runCli(['import', 'purchases', file, '--create-members', '--source', 'lost', '--db', pg, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const [, committed] = /\((\d+) orders accrued\)/.exec(err.message)!;
    expect(again.json()).toMatchObject({ accepted: 15_000 - Number(committed), duplicates: Number(committed) });
    expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
  });

  it('the server dropping the connection while a card payment runs: the approved payment is recorded on a new connection, once (trial 31)', async () => {
    const pg = tmpPgDatabase();
    const ok = (args: string[]) => {
      const r = runCli([...args, '--db', pg, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.json();
    };
    ok(['init']);
    ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '49.90']);
    ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'start']);
    const id = ok(['checkout', 'start', '--member', 'M1', '--item', 'CUP', '--no-points']).checkoutId as string;
    // a payment that takes long enough for the connection to be ended while it runs (a state is waited for, not a time)
    const paying = runCliAsync(['checkout', 'confirm', id, '--tender', 'card', '--yes', '--db', pg, '--json'], { env: { POINTSMALL_PAYMENT_DELAY_MS: '15000' } });
    const db = await facade(pg);
    let terminated = false;
    try {
      for (let i = 0; i < 3000 && !terminated; i++) {
        if (db.prepare('SELECT paying_until FROM orders WHERE id = ?').pluck().get(id) !== null) {
          terminated = Number(db.prepare("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pointsmall' AND pid <> pg_backend_pid()").pluck().get()) > 0;
        } else await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      db.close();
    }
    const r = await paying;
    expect(terminated, 'the payment had no fence to wait for').toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ checkoutId: id, status: 'paid', cashPaid: '49.90', tender: 'card' });
    expect(ok(['order', 'show', id])).toMatchObject({ status: 'paid', cashPaid: '49.90' });
    // paid once: a second confirm answers with the payment recorded, charging nothing
    expect(ok(['checkout', 'confirm', id, '--tender', 'card', '--yes'])).toMatchObject({ status: 'paid', replayed: true });
    expect(ok(['ledger', 'entries']).filter((e: { kind: string; ref: string }) => e.ref === id && e.kind === 'redemption').length).toBeLessThanOrEqual(1);
    expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
  });

  it('init --force while tills use the ledger: they finish before it, or wait for it, and never see a ledger half erased or half built (trial 31, finding 3)', async () => {
    const pg = tmpPgDatabase();
    const setup = () => {
      for (const args of [['member', 'add', '--id', 'M1', '--name', 'A'], ['member', 'adjust', 'M1', '--points', '500', '--reason', 's']]) expect(runCli([...args, '--db', pg, '--json']).code).toBe(0);
    };
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    setup();
    const seen: string[] = [];
    const till = async () => {
      for (let i = 0; i < 6; i++) {
        for (const args of [['member', 'show', 'M1'], ['member', 'adjust', 'M1', '--points', '1', '--reason', 't']]) {
          const r = await runCliAsync([...args, '--db', pg, '--json']);
          const code = r.code === 0 ? 'ok' : `${r.code} ${(JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { code: string } }).error.code}`;
          seen.push(code);
        }
      }
    };
    const inits = (async () => {
      for (let i = 0; i < 2; i++) {
        const r = await runCliAsync(['init', '--force', '--yes', '--db', pg, '--json']);
        expect([0, 5], r.stderr).toContain(r.code);
        // (exit 5: the tills held the ledger past the busy timeout, a loaded machine's case; it was not replaced)
        if (r.code === 0) setup();
      }
    })();
    await Promise.all([till(), till(), inits]);
    // a till's member is there, or was erased by the init (NOT_FOUND), or the ledger was busy: never a bug, an old schema or a half-built ledger
    for (const s of seen) expect(['ok', '2 NOT_FOUND', '5 LEDGER_BUSY']).toContain(s);
    expect(runCli(['ledger', 'verify', '--db', pg, '--json']).code).toBe(0);
  });

  it('a command that opens the ledger while init --force holds it alone reads nothing of it until init has finished (CI of stop 29: NO_CONNECTION)', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', pg, '--json']).code).toBe(0);
    const db = await facade(pg);
    // an init --force half way: it holds the ledger alone (LEDGER_LOCK, "pmlg") and has erased the schema table, not yet committed
    const init = spawn('psql', [pg, '-qX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      const version = Number(db.prepare('SELECT version FROM pointsmall_schema').pluck().get());
      init.stdin.write(`SET application_name = 'init-force';\nSELECT pg_advisory_lock(${0x706d6c67});\nBEGIN;\nDROP TABLE pointsmall_schema;\nSELECT pg_sleep(0);\n`);
      const state = (sql: string) => Number(db.prepare(sql).pluck().get());
      while (state("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'init-force' AND l.locktype = 'advisory' AND l.granted") === 0) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const show = runCliAsync(['member', 'show', 'M1', '--db', pg, '--json']);
      // the command has connected: it waits for a table lock (reading the schema too soon) or asks for the ledger again
      while (state("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pointsmall' AND (wait_event_type = 'Lock' OR query LIKE 'SELECT pg_try_advisory_lock_shared%')") === 0) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // init commits the erased table, then builds the ledger again and lets go
      init.stdin.write(`COMMIT;\nCREATE TABLE pointsmall_schema (version BIGINT NOT NULL);\nINSERT INTO pointsmall_schema VALUES (${version});\nSELECT pg_advisory_unlock(${0x706d6c67});\n\\q\n`);
      const r = await show;
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ id: 'M1' });
    } finally {
      init.kill();
      db.close();
    }
  });

  it('a finished ledger whose settings another connection holds locked is busy, never unfinished nor a bug (trial 31)', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--currency', 'USD', '--json']).code).toBe(0);
    const db = await facade(pg);
    try {
      db.exec('BEGIN');
      db.exec('LOCK TABLE settings IN ACCESS EXCLUSIVE MODE');
      const env = { env: { POINTSMALL_BUSY_TIMEOUT: '500' } };
      for (const args of [['init', '--currency', 'EUR'], ['db', 'migrate']]) {
        const r = runCli([...args, '--db', pg, '--json'], env);
        expect([2, 5], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
        expect(JSON.parse(r.stderr.trim()).error.code).not.toBe('LEDGER_UNFINISHED');
      }
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(runCli(['db', 'info', '--db', pg, '--json']).json()).toMatchObject({ currency: 'USD' });
  });

  it("tills with wrong clocks share the server's: a fast till does not expire another's fresh hold, a slow one does not spend before the points came", () => {
    const pg = tmpPgDatabase();
    const dir = tmpDir();
    const skew = join(dir, 'skew.cjs');
    // a till whose machine clock is off by SKEW_MS: Date as its process sees it
    writeFileSync(
      skew,
      'const off = Number(process.env.SKEW_MS || 0), R = Date;\n' +
        'class S extends R { constructor(...a) { if (a.length === 0) super(R.now() + off); else super(...a); } static now() { return R.now() + off; } }\n' +
        'globalThis.Date = S;\n',
    );
    const till = (args: string[], skewMs = 0) =>
      runCli([...args, '--db', pg, '--json'], { env: { POINTSMALL_NOW: undefined, SKEW_MS: String(skewMs), NODE_OPTIONS: `--require ${skew}` } });
    const ok = (args: string[], skewMs = 0) => {
      const r = till(args, skewMs);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.json();
    };
    ok(['init', '--timezone', 'Asia/Shanghai']);
    ok(['catalog', 'add', '--sku', 'X', '--name', 'X', '--price', '100.00']);
    ok(['member', 'add', '--id', 'A', '--name', 'A']);
    const started = Date.now();
    const held = ok(['checkout', 'start', '--member', 'A', '--item', 'X', '--points', '0']);
    // the hold runs 15 minutes from the server's clock (this machine's, here), not the till's
    expect(Date.parse(held.expiresAt) - started).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(held.expiresAt) - started).toBeLessThan(16 * 60_000);
    ok(['member', 'add', '--id', 'B', '--name', 'B'], 16 * 60_000); // a write on a till 16 minutes fast
    expect(ok(['checkout', 'confirm', held.checkoutId, '--tender', 'card', '--yes'])).toMatchObject({ status: 'paid' });
    // a till 5 minutes slow: its spend is dated after the adjust that gave the points
    ok(['member', 'adjust', 'A', '--points', '20000', '--reason', 'seed']);
    ok(['checkout', '--member', 'A', '--item', 'X', '--points', '1000', '--tender', 'card', '--yes'], -5 * 60_000);
    const lines = (ok(['member', 'history', 'A']) as { lines: { kind: string; balance: number }[] }).lines;
    const kinds = lines.map((l) => l.kind);
    expect(kinds).toContain('redemption');
    expect(kinds.indexOf('adjust')).toBeLessThan(kinds.indexOf('redemption'));
    for (const line of lines) expect(line.balance, JSON.stringify(lines)).toBeGreaterThanOrEqual(0);
    for (const e of ok(['ledger', 'entries'])) expect(Math.abs(Date.parse(e.at) - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('a database with a language collation (ICU en-US) sorts lists and pages by bytes, as SQLite does (schema 14)', async () => {
    const base = process.env.POINTSMALL_TEST_PG!;
    // (named as tmpPgDatabase names them: the run's teardown drops it)
    const name = `pm_t_${process.env.POINTSMALL_TEST_RUN ?? process.pid}_${process.pid}_icu_${Date.now().toString(36)}`;
    const admin = await facade(base);
    try {
      // (a statement of its own, outside a transaction, as tmpPgDatabase makes them)
      (admin as unknown as { query(text: string, values: unknown[], mode: 'array'): unknown }).query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'`, [], 'array');
    } finally {
      admin.close();
    }
    const u = new URL(base);
    u.pathname = `/${name}`;
    const pg = u.toString();
    const file = join(tmpDir(), 'l.db');
    const dir = tmpDir();
    writeFileSync(join(dir, 'm.csv'), 'id,name\nb2,x\nB1,x\na-3,x\nA_2,x\na10,x\na9,x\nZ,x\n_x,x\nE1,Émile Zola\nE2,İpek\n');
    writeFileSync(join(dir, 'c.csv'), 'sku,name,price\nb-2,x,1.00\nB1,x,1.00\na.3,x,1.00\nA_2,x,1.00\nZ,x,1.00\n');
    writeFileSync(join(dir, 'p.csv'), 'order_id,member_id,purchased_at,amount\nx-1,b2,2026-11-19,10\nX0,B1,2026-11-19,10\nx_2,a-3,2026-11-19,10\n');
    const outputs = (db: string) => {
      const run = (args: string[]) => runCli([...args, '--db', db, '--json']).json();
      run(['init', '--timezone', 'Asia/Shanghai']);
      run(['member', 'import', join(dir, 'm.csv')]);
      run(['catalog', 'import', join(dir, 'c.csv')]);
      run(['import', 'purchases', join(dir, 'p.csv'), '--source', 's']);
      // --search folds A–Z only, on both backends, whatever the database's collation folds (ICU: É → é)
      const search = ['Émile', 'ÉMILE', 'émile', 'İpek', 'ZOLA'].map((q) => run(['member', 'list', '--search', q]).map((m: { id: string }) => m.id));
      return [run(['member', 'list']), run(['member', 'list', '--limit', '3', '--offset', '3']), run(['catalog', 'list']), run(['report', 'members', '--top', '4', '--by', 'balance']), search];
    };
    const onPg = outputs(pg);
    expect(onPg[0].map((m: { id: string }) => m.id)).toEqual(['A_2', 'B1', 'E1', 'E2', 'Z', '_x', 'a-3', 'a10', 'a9', 'b2']);
    expect(onPg[4]).toEqual([['E1'], ['E1'], [], ['E2'], ['E1']]); // ÉMILE → Émile; émile is not É
    expect(onPg).toEqual(outputs(file));
    // every text column of the ledger compares by bytes, but those a trigger's condition reads
    const db = await facade(pg);
    try {
      const other = db
        .prepare("SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name) FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'")
        .pluck()
        .get();
      expect(other).toBe('purchases.voided_at,review_queue.status');
    } finally {
      db.close();
    }
  });

  it('init --force while another connection reads the ledger is exit 5 LEDGER_BUSY; a role over its connection limit is exit 5 TOO_MANY_CONNECTIONS, not a bug', async () => {
    const pg = tmpPgDatabase();
    expect(runCli(['init', '--db', pg, '--json']).code).toBe(0);
    // another connection with a transaction open on the ledger's tables (a report, psql)
    const reader = spawn('psql', [pg, '-qX', '-c', 'BEGIN', '-c', 'SELECT count(*) FROM entries', '-c', 'SELECT pg_sleep(60)'], { stdio: 'ignore' });
    try {
      const db = await facade(pg);
      try {
        // waits for the reader's transaction to hold its lock (a state, not a time)
        while (Number(db.prepare("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND state = 'active'").pluck().get()) === 0) {
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        db.close();
      }
      const r = runCli(['init', '--force', '--yes', '--db', pg, '--json'], { env: { POINTSMALL_BUSY_TIMEOUT: '500' } });
      expect(r.code, r.stderr).toBe(5);
      expect(JSON.parse(r.stderr.trim()).error.code).toBe('LEDGER_BUSY');
    } finally {
      reader.kill();
    }
    const role = `pm_lim_${process.pid}_${Date.now().toString(36)}`;
    const db = await facade(pg);
    try {
      db.exec(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1; GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      const lim = new URL(pg);
      lim.username = role;
      const v = runCli(['ledger', 'verify', '--db', lim.toString(), '--json']);
      expect(v.code, v.stderr).toBe(5);
      const err = JSON.parse(v.stderr.trim()).error;
      expect(err.code).toBe('TOO_MANY_CONNECTIONS');
      expect(err.message).toContain(`too many connections for role "${role}"`);
      // the role's one connection taken by another client: the command's first connection is refused, exit 5 too (trial 31)
      const other = spawn('psql', [lim.toString(), '-qX', '-c', 'SELECT pg_sleep(60)'], { stdio: 'ignore' });
      try {
        while (Number(db.prepare("SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND query LIKE '%pg_sleep%' AND state = 'active'").pluck().get(role)) === 0) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const show = runCli(['member', 'list', '--db', lim.toString(), '--json']);
        expect(show.code, show.stderr).toBe(5);
        expect(JSON.parse(show.stderr.trim()).error.code).toBe('TOO_MANY_CONNECTIONS');
      } finally {
        other.kill();
      }
    } finally {
      db.exec(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; REVOKE ALL ON SCHEMA public FROM ${role}; DROP ROLE ${role}`);
      db.close();
    }
  });

  it("a role that owns its database but is no superuser (README's setup, no grant of session_replication_role) imports a file of several batches, with and without the writer", async () => {
    const role = `pm_own_${process.pid}_${Date.now().toString(36)}`;
    const base = process.env.POINTSMALL_TEST_PG!;
    const admin = await facade(base);
    const names: string[] = [];
    const q = (text: string) => (admin as unknown as { query(text: string, values: unknown[], mode: 'array'): unknown }).query(text, [], 'array');
    try {
      q(`CREATE ROLE ${role} LOGIN`);
      const dir = tmpDir();
      const members = ['id,name', ...Array.from({ length: 50 }, (_, i) => `M${String(i + 1).padStart(2, '0')},Member ${i + 1}`)];
      writeFileSync(join(dir, 'm.csv'), members.join('\n') + '\n');
      const rows = ['order_id,member_id,purchased_at,amount'];
      for (let o = 0; o < 8000; o++) rows.push(`N${o},M${String(1 + (o * 7919) % 50).padStart(2, '0')},2026-11-${String(1 + (o % 20)).padStart(2, '0')} 10:00,${1 + (o % 800)}.${String(o % 100).padStart(2, '0')}`);
      writeFileSync(join(dir, 'n8k.csv'), rows.join('\n') + '\n');
      for (const threads of ['1', '2']) {
        const name = `pm_t_${process.env.POINTSMALL_TEST_RUN ?? process.pid}_${process.pid}_own${threads}_${Date.now().toString(36)}`;
        names.push(name);
        q(`CREATE DATABASE ${name} OWNER ${role}`);
        const u = new URL(base);
        u.username = role;
        u.pathname = `/${name}`;
        const db = u.toString();
        const env = { env: { POINTSMALL_THREADS: threads } };
        expect(runCli(['init', '--timezone', 'Asia/Shanghai', '--db', db, '--json']).code).toBe(0);
        expect(runCli(['member', 'import', join(dir, 'm.csv'), '--db', db, '--json']).code).toBe(0);
        const r = runCli(['import', 'purchases', join(dir, 'n8k.csv'), '--source', 'n8k', '--db', db, '--json'], env);
        expect(r.code, `POINTSMALL_THREADS=${threads}: ${r.stderr}`).toBe(0);
        expect(r.json()).toMatchObject({ accepted: 8000, rejected: 0 });
        expect(r.json().batches).toBeGreaterThanOrEqual(3);
        expect(runCli(['ledger', 'verify', '--db', db, '--json']).code).toBe(0);
      }
    } finally {
      for (const n of names) q(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
      q(`DROP ROLE IF EXISTS ${role}`);
      admin.close();
    }
  });

  it('a database that does not exist, or a server that does not answer: every command is exit 2 NO_CONNECTION naming the fix, never "a bug"', async () => {
    const missing = new URL(process.env.POINTSMALL_TEST_PG!);
    missing.pathname = `/pm_t_missing_${process.pid}_${Date.now().toString(36)}`;
    // a port nobody listens on: one the system just gave out and took back
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    await new Promise((done) => server.close(done));
    const down = new URL(missing);
    down.port = String(port);
    const source = join(tmpDir(), 'source.db');
    expect(runCli(['init', '--db', source, '--json']).code).toBe(0);
    // sslmode=require against a server without TLS: the driver's nine-line warning about sslmode stays off
    // stderr, which holds the one JSON line (trial 31)
    const tls = new URL(process.env.POINTSMALL_TEST_PG!);
    tls.searchParams.set('sslmode', 'require');
    for (const [url, said] of [
      [missing.toString(), /database "pm_t_missing_\w+" does not exist/],
      [down.toString(), /ECONNREFUSED/],
      [tls.toString(), /does not support SSL/],
    ] as const) {
      for (const args of [
        ['init', '--db', url],
        ['demo', '--db', url],
        ['db', 'copy', '--db', source, '--to', url],
        ['member', 'list', '--db', url],
      ]) {
        const r = runCli([...args, '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        const err = JSON.parse(r.stderr).error;
        expect(err.code, args.join(' ')).toBe('NO_CONNECTION');
        expect(err.message).toMatch(said);
        expect(err.hint).toMatch(url === missing.toString() ? /create the database first/ : /check the server is running/);
      }
    }
  });

  it("init and db copy into a database whose encoding is not UTF-8 (LATIN1, SQL_ASCII): exit 2 naming the fix, nothing created; members with any name then live in a UTF-8 one", async () => {
    const source = join(tmpDir(), 'source.db');
    expect(runCli(['init', '--db', source, '--json']).code).toBe(0);
    for (const encoding of ['LATIN1', 'SQL_ASCII']) {
      const pg = tmpPgDatabase(undefined, encoding);
      for (const args of [['init', '--db', pg], ['db', 'copy', '--db', source, '--to', pg], ['demo', '--db', pg]]) {
        const r = runCli([...args, '--json']);
        expect(r.code, `${encoding} ${args[0]}: ${r.stderr}`).toBe(2);
        const err = JSON.parse(r.stderr).error;
        expect(err.code).toBe('DATABASE_ENCODING');
        expect(err.message).toContain(`encoding ${encoding}`);
        expect(err.hint).toContain("ENCODING 'UTF8'");
        const db = await facade(pg);
        try {
          expect(db.prepare("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").pluck().get(), 'nothing created').toBe(0);
        } finally {
          db.close();
        }
      }
    }
    const utf8 = tmpPgDatabase();
    expect(runCli(['init', '--db', utf8, '--json']).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', '张三 Ørsted', '--db', utf8, '--json']).code).toBe(0);
    expect(JSON.parse(runCli(['member', 'show', 'M1', '--db', utf8, '--json']).stdout).name).toBe('张三 Ørsted');
    // a ledger made in a LATIN1 database before init refused them (its catalog entry changed by hand, as
    // only a superuser can): a name it cannot hold is exit 2 naming the way out, and nothing is written
    const legacy = tmpPgDatabase();
    expect(runCli(['init', '--db', legacy, '--json']).code).toBe(0);
    const admin = await facade(process.env.POINTSMALL_TEST_PG!);
    try {
      admin.prepare("UPDATE pg_database SET encoding = pg_char_to_encoding('LATIN1') WHERE datname = ?").run(new URL(legacy).pathname.slice(1));
    } finally {
      admin.close();
    }
    const chinese = runCli(['member', 'add', '--id', 'M1', '--name', '张三', '--db', legacy, '--json']);
    expect(chinese.code, chinese.stderr).toBe(2);
    const err = JSON.parse(chinese.stderr).error;
    expect(err.code).toBe('DATABASE_ENCODING');
    expect(err.hint).toContain('db copy --to');
    expect(JSON.parse(runCli(['member', 'list', '--db', legacy, '--json']).stdout)).toEqual([]);
    expect(runCli(['member', 'add', '--id', 'M1', '--name', 'Zoë', '--db', legacy, '--json']).code).toBe(0);
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

/**
 * A deterministic line-level purchases file of about `rows` rows: orders of one to seven lines over a
 * year, members M001…M300 and a few new ones (N01…N09), about one order in twenty-five a return (negative
 * quantities), some of them larger than what the member earned before (debt), and guests now and then.
 */
function purchasesCsv(rows: number): string {
  let seed = 17;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const out = ['order_id,member_id,purchased_at,sku,category,quantity,unit_price'];
  const start = Date.UTC(2025, 11, 1);
  for (let o = 0; out.length <= rows; o++) {
    const member = rnd() < 0.02 ? '' : rnd() < 0.01 ? `N0${1 + Math.floor(rnd() * 9)}` : `M${String(1 + Math.floor(rnd() * 300)).padStart(3, '0')}`;
    const at = new Date(start + o * 5_000_000 + Math.floor(rnd() * 3_000_000)).toISOString().slice(0, 19).replace('T', ' ');
    const sign = rnd() < 0.04 ? -1 : 1;
    const lines = 1 + Math.floor(rnd() * 7);
    for (let k = 0; k < lines; k++) {
      const price = (1 + Math.floor(rnd() * 50_000)) / 100;
      out.push(`O${String(o).padStart(6, '0')},${member},${at},SKU-${Math.floor(rnd() * 400)},${['tea', 'home', 'toys', 'café \\ crème', '積分😀'][k % 5]},${sign * (1 + Math.floor(rnd() * 3))},${price.toFixed(2)}`);
    }
  }
  return out.slice(0, rows + 1).join('\n') + '\n';
}
