// Global conventions (SPEC §2): init, the --db path, --json errors, exit codes, operator and clock.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, PG, runCli, runCliAsync, tmpDir, tmpLedger, openLedgerDb } from '../helpers/cli.js';

/** stdout empty, stderr exactly one JSON line {"error":{"code","message"}}; returns the error. */
function jsonError(r: { stdout: string; stderr: string }): { code: string; message: string } {
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  const doc = JSON.parse(lines[0]);
  expect(Object.keys(doc)).toEqual(['error']);
  // hint: what the human output's `hint:` line says, when there is one
  expect(Object.keys(doc.error).filter((k) => k !== 'hint').sort()).toEqual(['code', 'message']);
  if ('hint' in doc.error) expect(typeof doc.error.hint === 'string' && doc.error.hint.length > 0).toBe(true);
  expect(typeof doc.error.code).toBe('string');
  expect(doc.error.message.length).toBeGreaterThan(0);
  return doc.error;
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .+\(?.*:\d+:\d+\)?$/m);

describe('init', () => {
  it('creates the ledger with mode 0600 and the first rules version', () => {
    const dir = tmpDir();
    const db = join(dir, 'new.db');
    const r = runCli(['init', '--timezone', 'Asia/Shanghai', '--currency', 'CNY', '--json'], { db });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ path: db, currency: 'CNY', digits: 2, timezone: 'Asia/Shanghai', rulesVersion: 1 });
    expect(statSync(db).mode & 0o777).toBe(0o600);
    const rules = runCli(['rules', 'show', '--json'], { db }).json();
    expect(rules.rules.earn.pointsPerUnit).toBe('1');
    expect(rules.rules.redeem.pointsPerUnit).toBe('100');
    expect(rules.rules.expiry).toEqual({ policy: 'rolling-days', days: 365 });
    // an empty POINTSMALL_DB (=$UNSET in a crontab) is unset: ./pointsmall.db in the working folder
    if (!PG) {
      const cwd = tmpDir();
      expect(runCli(['init', '--json'], { cwd, env: { POINTSMALL_DB: '' } }).json().path).toBe('./pointsmall.db');
      expect(existsSync(join(cwd, 'pointsmall.db'))).toBe(true);
    }
    // over an empty file that was there already, world-writable: the ledger is made private all the same
    if (!PG) {
      const touched = join(dir, 'touched.db');
      writeFileSync(touched, '', { mode: 0o666 });
      chmodSync(touched, 0o666);
      expect(runCli(['init', '--json'], { db: touched }).code).toBe(0);
      expect(statSync(touched).mode & 0o777).toBe(0o600);
    }
  });

  it('takes the currency digits from Intl (JPY has none)', () => {
    const dir = tmpDir();
    const r = runCli(['init', '--currency', 'jpy', '--timezone', 'UTC', '--json'], { db: join(dir, 'y.db') });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ currency: 'JPY', digits: 0 });
  });

  it('refuses a bad currency or zone with exit 2 and creates nothing', () => {
    const dir = tmpDir();
    const db = join(dir, 'x.db');
    expect(runCli(['init', '--currency', 'XX1'], { db }).code).toBe(2);
    expect(runCli(['init', '--timezone', 'Mars/Olympus'], { db }).code).toBe(2);
    // three letters are not a currency: the ledger keeps its currency for good, so a typo is refused
    for (const [code, meant] of [['CYN', ': did you mean BYN or CNY?'], ['RMB', ': did you mean CNY?'], ['XYZ', '']]) {
      const r = runCli(['init', '--currency', code, '--json'], { db });
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr).error.message).toBe(`--currency "${code}" is not an ISO 4217 currency code${meant}`);
    }
    expect(existsSync(db)).toBe(false);
  });

  it('refuses an existing file (exit 2) unless --force', () => {
    const t = tmpLedger({ file: true }); // (the same on PostgreSQL: test/pg/postgres.test.ts)
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const r = t.run(['init', '--timezone', 'UTC']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    expect(r.stderr).toMatch(/--force/);
    expect(t.ok(['member', 'list'])).toHaveLength(1); // untouched
    const f = t.run(['init', '--timezone', 'UTC', '--force', '--yes', '--json']);
    expect(f.code).toBe(0);
    expect(t.ok(['member', 'list'])).toEqual([]);
    expect(statSync(t.db).mode & 0o777).toBe(0o600);
  });

  it('init --force over a ledger with entries needs --yes where nobody can be asked (exit 2, nothing written)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    t.ok(['member', 'adjust', 'M1', '--points', '500', '--reason', 'welcome']);
    const before = t.verify();
    expect(before.entries).toBeGreaterThan(0);
    for (const args of [['init', '--force'], ['init', '--force', '--json']]) {
      const r = t.run(args);
      expect(r.code, args.join(' ')).toBe(2);
      if (args.includes('--json')) expect(jsonError(r).code).toBe('CONFIRMATION_REQUIRED');
      else expect(r.stderr).toMatch(/--yes/);
      expect(t.verify().entries).toBe(before.entries);
      expect(t.ok(['member', 'show', 'M1']).balance).toBe(500);
    }
    const f = t.run(['init', '--force', '--yes', '--json']);
    expect(f.code).toBe(0);
    const doc = f.json();
    expect(doc.erased).toMatchObject({ entries: before.entries, members: 1 });
    expect(t.verify().entries).toBe(0);
    if (PG) {
      // nothing of a PostgreSQL ledger is kept: the output says so (db backup first)
      expect(doc.previous).toBeNull();
    } else {
      expect(typeof doc.previous).toBe('string');
      expect(statSync(doc.previous).mode & 0o777).toBe(0o600);
      const kept = runCli(['ledger', 'verify', '--json'], { db: doc.previous });
      expect(kept.code).toBe(0);
      expect(kept.json().entries).toBe(before.entries);
      expect(runCli(['member', 'show', 'M1', '--json'], { db: doc.previous }).json().balance).toBe(500);
    }
  });

  it('says in human output where the erased ledger is kept (or that nothing is kept on PostgreSQL)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    const f = t.run(['init', '--force', '--yes']);
    expect(f.code).toBe(0);
    if (PG) expect(f.stdout + f.stderr).toMatch(/nothing of it was kept/);
    else expect(f.stdout).toMatch(/the previous ledger \(\d+ entr[a-z]*, 1 member\) is kept at .+before-init/);
  });

  it('never erases a file that is not a ledger, even with --force --yes (SQLite files)', () => {
    const dir = tmpDir();
    const csv = join(dir, 'p.csv');
    writeFileSync(csv, 'id,name\nM1,a\n');
    const bin = join(dir, 'blob.bin');
    writeFileSync(bin, Buffer.from([0, 1, 2, 3, 255, 254, 7, 8]));
    const foreign = join(dir, 'other.sqlite');
    const f = openLedgerDb(foreign);
    f.exec('CREATE TABLE things (a)');
    f.close();
    const foreignBytes = readFileSync(foreign);
    for (const db of [csv, bin, foreign]) {
      const before = readFileSync(db);
      for (const args of [['init', '--force', '--yes'], ['init', '--force', '--yes', '--json'], ['init']]) {
        const r = runCli(['--db', db, ...args], { env: { POINTSMALL_DB: undefined } });
        expect(r.code, `${db} ${args.join(' ')}`).toBe(2);
        expect(r.stderr).toContain(db);
        expect(r.stderr).toMatch(/not a pointsmall ledger/);
        expect(r.stderr).not.toMatch(/--force/);
        expect(readFileSync(db).equals(before)).toBe(true);
      }
      // and no hint leads there: a command on it says it is not a ledger, without "create one with init"
      const list = runCli(['--db', db, 'member', 'list'], { env: { POINTSMALL_DB: undefined } });
      expect(list.code).toBe(2);
      expect(list.stderr).toMatch(/not a pointsmall ledger/);
      expect(list.stderr).not.toMatch(/create one with/);
      expect(list.stderr).not.toContain(`pointsmall init --db ${db}`);
    }
    expect(readFileSync(foreign).equals(foreignBytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['blob.bin', 'other.sqlite', 'p.csv']);
  });

  it('builds a ledger in an empty file without --force (nothing there to erase)', () => {
    const dir = tmpDir();
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const r = runCli(['--db', empty, 'init', '--timezone', 'UTC', '--json'], { env: { POINTSMALL_DB: undefined } });
    expect(r.code).toBe(0);
    expect(r.json().previous).toBeNull();
    expect(runCli(['--db', empty, 'member', 'list', '--json'], { env: { POINTSMALL_DB: undefined } }).code).toBe(0);
  });

  // Another init of the same new file that has switched it to WAL, and not yet committed its first
  // migration, leaves an SQLite header and no tables: a third init took that for a foreign database
  // ("not a pointsmall ledger") instead of building in it and finding the other's ledger.
  it('builds a ledger in an SQLite database that holds nothing (no tables), as in an empty file', () => {
    const dir = tmpDir();
    const blank = join(dir, 'blank.db');
    const b = openLedgerDb(blank);
    b.pragma('journal_mode = WAL');
    b.close();
    expect(statSync(blank).size).toBeGreaterThan(0);
    const r = runCli(['--db', blank, 'init', '--timezone', 'UTC', '--json'], { env: { POINTSMALL_DB: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().erased).toBeNull();
    expect(runCli(['--db', blank, 'member', 'list', '--json'], { env: { POINTSMALL_DB: undefined } }).json()).toEqual([]);
    // reading commands still refuse a blank database: it is not a ledger until init builds one
    const other = join(dir, 'other.db');
    openLedgerDb(other).pragma('journal_mode = WAL');
    const list = runCli(['--db', other, 'member', 'list'], { env: { POINTSMALL_DB: undefined } });
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/not a pointsmall ledger/);
  });
});

describe('the ledger path', () => {
  const commands = [
    ['member', 'list'],
    ['ledger', 'verify'],
    ['db', 'info'],
    ['member', 'show', 'x'],
    ['rules', 'show'],
    ['audit', 'list'],
    ['db', 'migrate'],
    ['db', 'backup', 'BACKUP'],
    ['ledger', 'export'],
    ['member', 'adjust', 'x', '--points', '5', '--reason', 'r'],
  ];

  it('refuses a missing file with exit 2, naming the path and suggesting init, and creates nothing', () => {
    const dir = tmpDir();
    const db = join(dir, 'missing.db');
    for (const args of commands.map((a) => a.map((x) => (x === 'BACKUP' ? join(dir, 'backup.db') : x)))) {
      const r = runCli(args, { db });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(db);
      expect(r.stderr).toContain('pointsmall init');
      expect(r.stdout).toBe('');
      expect(existsSync(db)).toBe(false);
    }
    expect(existsSync(join(dir, 'backup.db'))).toBe(false);
  });

  it('refuses a text file, an empty file and a foreign SQLite file, leaving them as they were', () => {
    const dir = tmpDir();
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'shopping list\nmilk\n');
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const foreign = join(dir, 'other.sqlite');
    const f = openLedgerDb(foreign);
    f.exec('CREATE TABLE things (a)');
    f.close();
    for (const db of [text, empty, foreign]) {
      for (const args of [['member', 'list'], ['ledger', 'verify'], ['db', 'info']]) {
        const r = runCli(['--db', db, ...args], { env: { POINTSMALL_DB: undefined } });
        expect(r.code, `${db} ${args.join(' ')}`).toBe(2);
        expect(r.stderr).toContain(db);
        expect(r.stderr).toMatch(/not a pointsmall ledger/);
        // init builds a ledger in an empty file; it never erases a file that holds something else
        if (db === empty) expect(r.stderr).toContain('pointsmall init');
        else expect(r.stderr).not.toContain('pointsmall init');
      }
    }
    expect(statSync(empty).size).toBe(0);
    const again = openLedgerDb(foreign, { readonly: true });
    expect(again.pragma('journal_mode', { simple: true })).toBe('delete'); // not switched to WAL
    again.close();
    expect(existsSync(`${foreign}-wal`)).toBe(false);
  });

  it('uses --db over $POINTSMALL_DB over ./pointsmall.db', () => {
    const dir = tmpDir();
    const envDb = join(dir, 'env.db');
    const flagDb = join(dir, 'flag.db');
    expect(runCli(['init', '--timezone', 'UTC'], { cwd: dir, env: { POINTSMALL_DB: undefined } }).code).toBe(0);
    expect(existsSync(join(dir, 'pointsmall.db'))).toBe(true);
    expect(runCli(['init', '--timezone', 'UTC'], { cwd: dir, env: { POINTSMALL_DB: envDb } }).code).toBe(0);
    expect(runCli(['init', '--timezone', 'UTC', '--db', flagDb], { cwd: dir, env: { POINTSMALL_DB: envDb } }).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'cwd', '--name', 'C'], { cwd: dir, env: { POINTSMALL_DB: undefined } }).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'env', '--name', 'E'], { cwd: dir, env: { POINTSMALL_DB: envDb } }).code).toBe(0);
    expect(runCli(['member', 'add', '--id', 'flag', '--name', 'F', '--db', flagDb], { cwd: dir, env: { POINTSMALL_DB: envDb } }).code).toBe(0);
    const ids = (db: string) =>
      runCli(['member', 'list', '--json', '--db', db], { cwd: dir })
        .json()
        .map((m: { id: string }) => m.id);
    expect(ids(join(dir, 'pointsmall.db'))).toEqual(['cwd']);
    expect(ids(envDb)).toEqual(['env']);
    expect(ids(flagDb)).toEqual(['flag']);
    // --db before or after the subcommand
    expect(runCli(['--db', flagDb, 'member', 'list', '--json'], { cwd: dir }).json()).toHaveLength(1);
  });
});

describe('errors and exit codes', () => {
  it('--json errors leave stdout empty and write one JSON line to stderr', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const missing = jsonError(runCli(['member', 'list', '--json'], { db: join(tmpDir(), 'none.db') }));
    expect(missing.code).toBe('NOT_A_LEDGER');
    // a forgotten --db or $POINTSMALL_DB is the likelier case than a ledger never made
    expect(missing.hint).toMatch(/^give your ledger's path with --db PATH \(or export POINTSMALL_DB=PATH\), or create a new one with: pointsmall init --db /);
    const folder = jsonError(runCli(['member', 'list', '--json'], { db: tmpDir() }));
    expect(folder).toMatchObject({ code: 'NOT_A_LEDGER', hint: "give --db the path of the ledger's file (a folder holds no ledger)" });
    expect(folder.message).toMatch(/is not a pointsmall ledger \(a folder\)$/);
    const unknownFlag = t.run(['member', 'list', '--bogus', '--json']);
    expect(unknownFlag.code).toBe(2);
    expect(jsonError(unknownFlag).message).toMatch(/--bogus/);
    const unknownMember = t.run(['member', 'show', 'zz', '--json']);
    expect(unknownMember.code).toBe(2);
    expect(jsonError(unknownMember)).toEqual({ code: 'NOT_FOUND', message: 'member "zz" not found', hint: 'list members with: pointsmall member list' });
    const refused = t.run(['member', 'adjust', 'a', '--points', '-5', '--reason', 'x', '--yes', '--json']);
    expect(refused.code).toBe(3);
    expect(jsonError(refused).code).toBe('INSUFFICIENT_POINTS');
    const missingArg = t.run(['member', 'adjust', 'a', '--points', '5', '--json']);
    expect(missingArg.code).toBe(2);
    expect(jsonError(missingArg).message).toMatch(/--reason/);
  });

  it('human errors are "error:" plus a hint on stderr, nothing on stdout', () => {
    const t = tmpLedger();
    const r = t.run(['member', 'show', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: member "nobody" not found\nhint: list members with: pointsmall member list\n');
  });

  it('maps unknown flags, commands and bad values to exit 2', () => {
    const t = tmpLedger();
    expect(t.run(['member', 'list', '--bogus']).code).toBe(2);
    expect(t.run(['bogus']).code).toBe(2);
    expect(t.run(['member', 'adjust', 'a', '--points', '1.5', '--reason', 'x']).code).toBe(2);
    expect(t.run(['member', 'list', '--status', 'sleeping']).code).toBe(2);
    const v = t.run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(t.run(['--help']).code).toBe(0);
  });

  it('prints no stack trace unless --debug, and internal errors exit 1 calling themselves a bug', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    for (const args of [['member', 'show', 'zz'], ['member', 'adjust', 'a', '--points', '-1', '--reason', 'x', '--yes'], ['member', 'list', '--bogus']]) {
      const r = t.run(args);
      expect(r.code).toBeGreaterThan(1);
      noStack(r.stderr);
    }
    // Break the stored time zone so `member adjust` hits an unexpected error (broken stored rules are a
    // clear exit 2 now, naming the version).
    const db = openLedgerDb(t.db);
    db.prepare("UPDATE settings SET value = 'Not/AZone' WHERE key = 'timezone'").run();
    db.close();
    const adjust = ['member', 'adjust', 'a', '--points', '5', '--reason', 'x'];
    const r = t.run(adjust);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: internal error: /);
    expect(r.stderr).toMatch(/this is a bug/);
    noStack(r.stderr);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    const d = t.run([...adjust, '--debug']);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    const j = t.run([...adjust, '--json']);
    expect(j.code).toBe(1);
    expect(jsonError(j).code).toBe('INTERNAL');
  });

  it('refuses a malformed POINTSMALL_NOW with exit 2', () => {
    const t = tmpLedger();
    const r = t.run(['member', 'list'], { now: 'next tuesday' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/POINTSMALL_NOW/);
    // without an offset the same text would be another instant in every TZ: refused, whatever TZ says
    for (const now of ['2026-11-20T23:30', '2026-11-20 23:30:00', '2026-11-20']) {
      for (const TZ of ['UTC', 'Asia/Shanghai']) {
        const x = t.run(['member', 'adjust', 'a', '--points', '1', '--reason', 'r', '--json'], { now, env: { TZ } });
        expect({ now, TZ, code: x.code }).toEqual({ now, TZ, code: 2 });
        expect(JSON.parse(x.stderr).error.message).toContain('has no UTC offset');
      }
    }
    for (const now of ['2026-11-20T23:30Z', '2026-11-20T23:30:00.000+08:00', '2026-11-20T23:30:00-0500']) expect(t.run(['member', 'list', '--json'], { now }).code).toBe(0);
  });

  it('refuses a POINTSMALL_BUSY_TIMEOUT that is not milliseconds (exit 2); an empty one is the default, not 0', () => {
    const t = tmpLedger();
    for (const v of ['30s', 'abc', '-5', '1.5']) {
      const r = t.run(['member', 'add', '--id', 'x', '--name', 'X', '--json'], { env: { POINTSMALL_BUSY_TIMEOUT: v } });
      expect({ v, code: r.code }).toEqual({ v, code: 2 });
      expect(JSON.parse(r.stderr).error.message).toContain('POINTSMALL_BUSY_TIMEOUT');
    }
    expect(t.ok(['member', 'list'])).toEqual([]);
    // empty (POINTSMALL_BUSY_TIMEOUT=$UNSET): the default wait, so a writer holding the ledger for a moment is waited for
    const hold = openLedgerDb(t.db);
    hold.exec('BEGIN IMMEDIATE');
    const waiting = runCliAsync(['member', 'add', '--id', 'y', '--name', 'Y', '--json'], { db: t.db, env: { POINTSMALL_BUSY_TIMEOUT: '' } });
    setTimeout(() => hold.exec('COMMIT'), 1000);
    return waiting.then((r) => {
      hold.close();
      expect(r.code, r.stderr).toBe(0);
    });
  });
});

describe('a ledger this user may not write', () => {
  // A reporting cron run as another user than the ledger's owner: SQLite refuses to open or write it.
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
  // (root with setpriv, and a checkout the user nobody can read: a clone in a private folder is not)
  const asNobody = !PG && process.getuid?.() === 0 && spawnSync('setpriv', [...nobody, process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(BIN)})`]).status === 0;
  it.skipIf(!asNobody)('is a clear refusal (exit 2, LEDGER_NOT_WRITABLE), not an internal error', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const dir = tmpDir('pointsmall-ro-');
    chmodSync(dir, 0o755);
    const db = join(dir, 'ro.db');
    copyFileSync(t.db, db);
    chmodSync(db, 0o644);
    for (const args of [['member', 'show', 'a'], ['member', 'adjust', 'a', '--points', '1', '--reason', 'r']]) {
      const r = spawnSync('setpriv', [...nobody, process.execPath, BIN, ...args, '--db', db, '--json'], { encoding: 'utf8', env: { ...process.env, POINTSMALL_NOW: '2026-11-23T10:00:00+08:00' } });
      expect({ args, code: r.status }).toEqual({ args, code: 2 });
      expect(jsonError(r).code).toBe('LEDGER_NOT_WRITABLE');
    }
  });
});

describe('operator and clock', () => {
  it('records --operator, else $POINTSMALL_OPERATOR, in the audit log', () => {
    const t = tmpLedger();
    expect(t.run(['--operator', 'alice', 'member', 'add', '--id', 'a', '--name', 'A'], { env: { POINTSMALL_OPERATOR: 'bob' } }).code).toBe(0);
    expect(t.run(['member', 'add', '--id', 'b', '--name', 'B'], { env: { POINTSMALL_OPERATOR: 'bob' } }).code).toBe(0);
    expect(t.run(['member', 'adjust', 'a', '--points', '10', '--reason', 'gift', '--operator', 'carol']).code).toBe(0);
    const audit = t.ok(['audit', 'list']) as { action: string; subject: string; operator: string }[];
    const by = (action: string, subject: string) => audit.find((x) => x.action === action && x.subject === subject)?.operator;
    expect(by('member.add', 'a')).toBe('alice');
    expect(by('member.add', 'b')).toBe('bob');
    expect(by('member.adjust', 'a')).toBe('carol');
    const entries = t.ok(['ledger', 'entries', '--member', 'a']);
    expect(entries[0].operator).toBe('carol');
  });

  it('stamps every change with POINTSMALL_NOW', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A'], { now: '2025-03-04T05:06:07+08:00' });
    const adj = t.ok(['member', 'adjust', 'a', '--points', '100', '--reason', 'r'], { now: '2025-06-01T12:00:00Z' });
    expect(adj.expiresOn).toBe('2026-06-01'); // 365 days from the local date of the fixed clock
    const show = t.ok(['member', 'show', 'a']);
    expect(show.createdAt).toBe('2025-03-03T21:06:07.000Z');
    expect(show.lots[0].earnedAt).toBe('2025-06-01T12:00:00.000Z');
    const audit = t.ok(['audit', 'list']);
    expect(audit.find((x: { action: string }) => x.action === 'member.add').at).toBe('2025-03-03T21:06:07.000Z');
    const [entry] = t.ok(['ledger', 'entries']);
    expect(entry.at).toBe('2025-06-01T12:00:00.000Z');
  });
});
