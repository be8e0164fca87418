// Output files, pipes and full disks (issue 14, items 1–4 and 10): no output path can reach the ledger,
// every file that can hold member data is private, a command that exits 2 wrote nothing, a closed pipe
// is never a crash, and a full disk is a clear error that says what was committed.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, DEFAULT_NOW, FIXTURES, type TmpLedger, tmpDir, tmpLedger } from '../helpers/cli.js';

const NOW = { now: '2026-01-20T10:00:00+08:00' };

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const mode = (f: string) => statSync(f).mode & 0o777;

function withMembers(): TmpLedger {
  const t = tmpLedger();
  writeFileSync(join(t.dir, 'members.csv'), 'id,name,email\nM001,Wang Fang,w@example.com\nM002,Li Wei,\nM003,Zhang Min,\n');
  t.ok(['member', 'import', join(t.dir, 'members.csv')]);
  t.ok(['member', 'adjust', 'M001', '--points', '500', '--reason', 'welcome']);
  return t;
}

function withNotifications(): TmpLedger {
  const t = tmpLedger({ now: '2025-01-01T10:00:00+08:00' });
  const early = { now: '2025-01-10T10:00:00+08:00' };
  for (const m of ['a', 'b', 'c']) {
    t.ok(['member', 'add', '--id', m, '--name', m.toUpperCase(), '--email', `${m}@example.com`], early);
    t.ok(['member', 'adjust', m, '--points', '100', '--reason', 'welcome'], early);
  }
  t.ok(['expire', 'run'], NOW); // three points.expired
  return t;
}

/** Another SQLite database, open in WAL mode with `sql` committed to its -wal and not yet to its file. */
function openWithWal(path: string, sql: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec(sql);
  return db;
}

/** Counts of the tables that money lives in, and the ledger file's identity: what "nothing written" keeps. */
function state(t: TmpLedger): unknown {
  const db = new Database(t.db, { readonly: true });
  try {
    const n = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    return { entries: n('entries'), purchases: n('purchases'), members: n('members'), sent: db.prepare('SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL').pluck().get(), ino: statSync(t.db).ino };
  } finally {
    db.close();
  }
}

/** Runs the bin with stdout on a pipe whose reading end is closed already: its first write gets EPIPE. */
function runIntoClosedPipe(t: TmpLedger, args: string[], now = DEFAULT_NOW): { code: number | null; stderr: string } {
  const fifo = join(t.dir, `pipe-${Math.random().toString(36).slice(2)}`);
  spawnSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, 'w');
  closeSync(reader); // no reader any more: a write into the pipe fails with EPIPE
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: now, POINTSMALL_OPERATOR: 'tester', POINTSMALL_DB: t.db },
      stdio: ['ignore', writer, 'pipe'],
      encoding: 'utf8',
    });
    return { code: r.status, stderr: r.stderr };
  } finally {
    closeSync(writer);
  }
}

describe('no output path can reach the ledger (issue 14 item 1)', () => {
  it('refuses --out onto the ledger, its -wal and -shm, through a symlink, a hard link or a symlinked folder', () => {
    const t = withMembers();
    mkdirSync(join(t.dir, 'sub'));
    symlinkSync(t.db, join(t.dir, 'link.db'));
    linkSync(t.db, join(t.dir, 'hard.db'));
    symlinkSync(t.dir, join(t.dir, 'sub', 'up'));
    symlinkSync(`${t.db}-wal`, join(t.dir, 'dangling-wal')); // the WAL does not exist between commands
    const before = sha(t.db);
    const targets = [t.db, `${t.db}-wal`, `${t.db}-shm`, join(t.dir, 'link.db'), join(t.dir, 'hard.db'), join(t.dir, 'sub', 'up', 'ledger.db'), join(t.dir, 'sub', 'up', 'ledger.db-wal'), join(t.dir, 'dangling-wal')];
    for (const out of targets) {
      for (const args of [
        ['report', 'summary', '--format', 'csv', '--out', out],
        ['ledger', 'export', '--out', out],
        ['outbox', 'export', '--out', out],
        ['outbox', 'export', '--out', out, '--mark-sent'],
      ]) {
        const r = t.run([...args, '--json']);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(JSON.parse(r.stderr).error.code).toBe('OUTPUT_IS_LEDGER');
      }
    }
    expect(sha(t.db)).toBe(before);
    expect(existsSync(`${t.db}-wal`)).toBe(false);
    expect(existsSync(`${t.db}-shm`)).toBe(false);
    expect(lstatSync(join(t.dir, 'link.db')).isSymbolicLink()).toBe(true);
    expect(statSync(join(t.dir, 'hard.db')).ino).toBe(statSync(t.db).ino);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(t.verify().ok).toBe(true);
  });

  it('refuses --rejects onto the ledger before anything is imported, in every import', () => {
    const t = withMembers();
    symlinkSync(t.db, join(t.dir, 'link.db'));
    const before = state(t);
    for (const rejects of [t.db, join(t.dir, 'link.db'), `${t.db}-wal`]) {
      for (const args of [
        ['import', 'purchases', join(FIXTURES, 'purchases-bad.csv')],
        ['member', 'import', join(t.dir, 'members.csv')],
        ['catalog', 'import', join(FIXTURES, 'catalog.csv')],
      ]) {
        const r = t.run([...args, '--rejects', rejects, '--json']);
        expect({ args, rejects, code: r.code }).toEqual({ args, rejects, code: 2 });
        expect(JSON.parse(r.stderr).error.code).toBe('OUTPUT_IS_LEDGER');
      }
    }
    expect(state(t)).toEqual(before);
    expect(t.verify().ok).toBe(true);
  });

  it('refuses --rejects onto the file being imported (by path or through a link), and a restore from the live ledger', () => {
    const t = withMembers();
    const input = join(t.dir, 'bad.csv');
    writeFileSync(input, readFileSync(join(FIXTURES, 'purchases-bad.csv')));
    symlinkSync(input, join(t.dir, 'bad-link.csv'));
    const before = state(t);
    const inputSha = sha(input);
    for (const rejects of [input, join(t.dir, 'bad-link.csv')]) {
      const r = t.run(['import', 'purchases', input, '--rejects', rejects, '--json']);
      expect({ rejects, code: r.code }).toEqual({ rejects, code: 2 });
      expect(JSON.parse(r.stderr).error.message).toContain('the file being imported');
    }
    expect(sha(input)).toBe(inputSha);
    expect(state(t)).toEqual(before);
    const restore = t.run(['db', 'restore', t.db, '--yes', '--json']);
    expect(restore.code).toBe(2);
    expect(JSON.parse(restore.stderr).error.message).toContain('live ledger itself');
    expect(state(t)).toEqual(before);
    expect(t.verify().ok).toBe(true);
  });

  it('refuses a db backup onto the ledger through a symlinked --db, onto a hard link, onto the -wal', () => {
    const t = withMembers();
    symlinkSync(t.db, join(t.dir, 'link.db'));
    linkSync(t.db, join(t.dir, 'hard.db'));
    const before = sha(t.db);
    const viaLink = t.run(['--db', join(t.dir, 'link.db'), 'db', 'backup', t.db, '--force', '--json']);
    expect(viaLink.code).toBe(2);
    expect(JSON.parse(viaLink.stderr).error.code).toBe('OUTPUT_IS_LEDGER');
    for (const target of [join(t.dir, 'hard.db'), `${t.db}-wal`, `${t.db}-shm`, join(t.dir, 'link.db')]) {
      const r = t.run(['db', 'backup', target, '--force', '--json']);
      expect({ target, code: r.code }).toEqual({ target, code: 2 });
    }
    expect(sha(t.db)).toBe(before);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(t.verify().ok).toBe(true);
  });

  it('refuses every output onto the ledger key file (by path, through a link, a hard link): the key stays, the ledger still verifies', () => {
    const t = withMembers();
    const key = join(t.dir, 'ledger.key');
    writeFileSync(key, 'a'.repeat(64) + '\n', { mode: 0o600 });
    const keyed = { env: { POINTSMALL_LEDGER_KEY_FILE: key } };
    t.ok(['member', 'adjust', 'M001', '--points', '100', '--reason', 'keyed'], keyed);
    symlinkSync(key, join(t.dir, 'key-link'));
    linkSync(key, join(t.dir, 'key-hard'));
    const before = sha(key);
    const targets = [key, join(t.dir, 'key-link'), join(t.dir, 'key-hard')];
    for (const target of targets) {
      for (const args of [['ledger', 'export', '--format', 'csv', '--out', target], ['report', 'summary', '--out', target], ['db', 'backup', target, '--force']]) {
        const r = t.run([...args, '--json'], keyed);
        expect({ args, code: r.code, error: r.code === 0 ? null : JSON.parse(r.stderr).error.code }).toEqual({ args, code: 2, error: 'OUTPUT_IS_KEY' });
      }
    }
    const rejects = t.run(['member', 'import', join(FIXTURES, 'members.csv'), '--rejects', key, '--json'], keyed);
    expect(rejects.code).toBe(2);
    expect(JSON.parse(rejects.stderr).error.message).toContain('ledger key file');
    expect(sha(key)).toBe(before);
    t.ok(['member', 'adjust', 'M001', '--points', '100', '--reason', 'keyed again'], keyed);
    const v = t.run(['ledger', 'verify', '--json'], keyed);
    expect(v.code).toBe(0);
  });

  it('refuses targets that exist and are not regular files: a device, a FIFO, a folder', () => {
    const t = withMembers();
    const fifo = join(t.dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const before = state(t);
    for (const target of ['/dev/null', fifo, t.dir]) {
      for (const args of [
        ['import', 'purchases', join(FIXTURES, 'purchases-bad.csv'), '--rejects', target],
        ['member', 'import', join(t.dir, 'members.csv'), '--rejects', target],
        ['report', 'summary', '--format', 'csv', '--out', target],
        ['ledger', 'export', '--out', target],
        ['outbox', 'export', '--out', target],
        ['db', 'backup', target, '--force'],
      ]) {
        const r = t.run([...args, '--json']);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
      }
    }
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(state(t)).toEqual(before);
  });
});

describe('files that can hold member data are private (issue 14 item 2)', () => {
  it('reports, exports, rejects files and backups are mode 0600, even when they replace a 0644 file', () => {
    const t = withNotifications();
    const files: Record<string, string[]> = {
      'report.csv': ['report', 'members', '--format', 'csv', '--out'],
      'journal.jsonl': ['ledger', 'export', '--out'],
      'outbox.jsonl': ['outbox', 'export', '--out'],
    };
    for (const [name, args] of Object.entries(files)) {
      const f = join(t.dir, name);
      writeFileSync(f, 'old', { mode: 0o644 });
      expect(t.run([...args, f], NOW).code).toBe(0);
      expect({ name, mode: mode(f) }).toEqual({ name, mode: 0o600 });
    }
    const rejects = join(t.dir, 'rejects.csv');
    expect(t.run(['import', 'purchases', join(FIXTURES, 'purchases-bad.csv'), '--rejects', rejects], NOW).code).toBe(2); // every row rejected (no such members): exit 2, the rejects file still written
    expect(mode(rejects)).toBe(0o600);
    const memberRejects = join(t.dir, 'member-rejects.csv');
    writeFileSync(join(t.dir, 'm.csv'), 'id,name\nx1,X\n,nameless\n');
    expect(t.run(['member', 'import', join(t.dir, 'm.csv'), '--rejects', memberRejects], NOW).code).toBe(4);
    expect(mode(memberRejects)).toBe(0o600);
    const backup = join(t.dir, 'b.db');
    expect(t.run(['db', 'backup', backup], NOW).code).toBe(0);
    expect(mode(backup)).toBe(0o600);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("restore keeps a damaged ledger aside as 0600, whatever its mode was", () => {
    const t = withMembers();
    const backup = join(t.dir, 'b.db');
    t.ok(['db', 'backup', backup]);
    writeFileSync(t.db, 'not a ledger any more', { mode: 0o644 });
    spawnSync('chmod', ['644', t.db]);
    const r = t.ok(['db', 'restore', backup, '--yes']);
    expect(r.previous).toBeTruthy();
    expect(mode(r.previous)).toBe(0o600);
    expect(mode(t.db)).toBe(0o600);
    expect(t.verify().ok).toBe(true);
  });
});

describe('a command that exits 2 wrote nothing (issue 14 item 3)', () => {
  it('checks --rejects before the first batch: a missing folder or a device leaves the ledger as it was', () => {
    const t = withMembers();
    const before = state(t);
    for (const rejects of [join(t.dir, 'missing', 'r.csv'), '/dev/null']) {
      const r = t.run(['import', 'purchases', join(FIXTURES, 'purchases-bad.csv'), '--rejects', rejects, '--batch', '1', '--json']);
      expect({ rejects, code: r.code, stdout: r.stdout }).toEqual({ rejects, code: 2, stdout: '' });
      expect(state(t)).toEqual(before);
    }
    const m = t.run(['member', 'import', join(t.dir, 'members.csv'), '--rejects', join(t.dir, 'missing', 'r.csv'), '--json']);
    expect(m.code).toBe(2);
    expect(state(t)).toEqual(before);
  });
});

describe('a closed pipe is never a crash (issue 14 item 4)', () => {
  it('every printer exits 0 quietly when its reader has gone', () => {
    const t = withMembers();
    for (const args of [
      ['member', 'list'],
      ['member', 'list', '--json'],
      ['member', 'show', 'M001'],
      ['report', 'summary'],
      ['report', 'members', '--format', 'csv'],
      ['ledger', 'export'],
      ['ledger', 'verify'],
      ['outbox', 'export'],
      ['db', 'info'],
    ]) {
      const r = runIntoClosedPipe(t, args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  });

  it('outbox export --mark-sent to stdout marks nothing when the bytes could not be written, and says so (exit 2: a script can tell); marks them when they were', () => {
    const t = withNotifications();
    const r = runIntoClosedPipe(t, ['outbox', 'export', '--mark-sent'], NOW.now);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: the reader of standard output closed it before every notification was written: none was marked sent\n' +
        'hint: the next export gives them again: let the reader take the whole export, or write a file with --out FILE --mark-sent and send from it\n',
    );
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(3);
    const ok = t.run(['outbox', 'export', '--mark-sent'], NOW);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(3);
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(0);
  });
});

describe('a full disk is a clear error (issue 14 item 10)', () => {
  it('stdout on a full device (ENOSPC): a typed error, not an internal error', () => {
    const t = withMembers();
    for (const args of [['member', 'list'], ['report', 'summary', '--format', 'csv'], ['outbox', 'export', '--mark-sent']]) {
      const fd = openSync('/dev/full', 'w');
      try {
        const r = spawnSync(process.execPath, [BIN, ...args], {
          env: { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: DEFAULT_NOW, POINTSMALL_DB: t.db },
          stdio: ['ignore', fd, 'pipe'],
          encoding: 'utf8',
        });
        expect({ args, code: r.status }).toEqual({ args, code: 2 });
        expect(r.stderr).toMatch(/^error: .*no space left/m);
        expect(r.stderr).not.toMatch(/internal error|this is a bug/);
      } finally {
        closeSync(fd);
      }
    }
  });

  it('SQLITE_FULL in a one-transaction command: exit 2, nothing written, and the message says so', () => {
    const t = withMembers();
    const rows = ['id,name', ...Array.from({ length: 3000 }, (_, i) => `N${i},${'x'.repeat(100)}`)].join('\n') + '\n';
    writeFileSync(join(t.dir, 'many.csv'), rows);
    const before = state(t);
    const r = t.run(['member', 'import', join(t.dir, 'many.csv'), '--json'], { env: { POINTSMALL_MAX_PAGES: '1' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr).error;
    expect(err.code).toBe('DISK_FULL');
    const human = t.run(['member', 'import', join(t.dir, 'many.csv')], { env: { POINTSMALL_MAX_PAGES: '1' } });
    expect(human.stderr).toMatch(/nothing was written/);
    expect(human.stderr).not.toMatch(/internal error|this is a bug/);
    expect(state(t)).toEqual(before);
    expect(t.verify().ok).toBe(true);
  });

  it('SQLITE_FULL in a later batch of a purchase import: exit 2 and the committed batches named', () => {
    const t = tmpLedger();
    const rows = ['order_id,member_id,purchased_at,amount', ...Array.from({ length: 4000 }, (_, i) => `O${i},M${i % 50},2026-11-01 10:00,${(i % 90) + 10}.00`)].join('\n') + '\n';
    writeFileSync(join(t.dir, 'p.csv'), rows);
    // room for the first batches only
    const r = t.run(['import', 'purchases', join(t.dir, 'p.csv'), '--create-members', '--batch', '500', '--json'], { env: { POINTSMALL_MAX_PAGES: '120', POINTSMALL_THREADS: '1' } });
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stderr).error;
    expect(err.code).toBe('DISK_FULL');
    const committed = Number(/the first (?:\d+ )?batch(?:es)? \((\d+) orders accrued\)/.exec(err.message)?.[1]);
    expect(err.message).toMatch(/the rest is not/);
    expect(committed).toBeGreaterThan(0);
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM purchases').pluck().get()).toBe(committed);
    db.close();
    expect(t.verify().ok).toBe(true);
    // run again with room: the rest accrues, nothing doubles
    const again = t.ok(['import', 'purchases', join(t.dir, 'p.csv'), '--create-members']);
    expect(again.accepted).toBe(4000 - committed);
  });
});

describe('exports take their format from --out', () => {
  it("ledger export and outbox export write CSV to a .csv file and JSON Lines otherwise, unless --format says", () => {
    const t = withNotifications();
    const csvHead = { ledger: /^entry,at,kind,/, outbox: /^id,createdAt,topic,/ };
    for (const what of ['ledger', 'outbox'] as const) {
      const csv = join(t.dir, `${what}.csv`);
      const jsonl = join(t.dir, `${what}.jsonl`);
      const forced = join(t.dir, `${what}-forced.txt`);
      const all = what === 'outbox' ? ['--all'] : [];
      expect(t.run([what, 'export', ...all, '--out', csv], NOW).code).toBe(0);
      expect(t.run([what, 'export', ...all, '--out', jsonl], NOW).code).toBe(0);
      expect(t.run([what, 'export', ...all, '--format', 'csv', '--out', forced], NOW).code).toBe(0);
      expect(readFileSync(csv, 'utf8')).toMatch(csvHead[what]);
      expect(readFileSync(forced, 'utf8')).toMatch(csvHead[what]);
      const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(typeof JSON.parse(l)).toBe('object');
      expect(t.run([what, 'export', ...all, '--format', 'xml'], NOW).code).toBe(2);
    }
  });
});

// A folder the user may not write (a share, a read-only mount). Root writes anywhere, so as root the CLI runs
// as nobody through runuser; without either, there is no unwritable folder to try.
const asNobody = process.getuid?.() === 0 ? spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0 : true;
describe.skipIf(!asNobody)('an input in a folder that cannot be written', () => {
  const run = (dir: string, args: string[]) => {
    const cmd = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', process.execPath] : [process.execPath];
    const r = spawnSync(cmd[0], [...cmd.slice(1), BIN, ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', CI: '1', HOME: dir, POINTSMALL_NOW: DEFAULT_NOW, POINTSMALL_DB: join(dir, 'ledger.db') },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('refuses the default rejects file beside it before importing anything, and the hint says how to put it elsewhere', () => {
    const dir = tmpDir('pointsmall-ro-');
    chmodSync(dir, 0o777);
    const ro = join(dir, 'share');
    mkdirSync(ro);
    writeFileSync(join(ro, 'till.csv'), 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 09:30,100.00\n');
    chmodSync(ro, 0o555);
    expect(run(dir, ['init', '--timezone', 'Asia/Shanghai', '--json']).code).toBe(0);
    expect(run(dir, ['member', 'add', '--id', 'M1', '--name', 'Mia', '--json']).code).toBe(0);
    const refused = run(dir, ['import', 'purchases', 'share/till.csv']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('cannot write rejects file share/till.rejects.csv: folder');
    expect(refused.stderr).toContain('hint: nothing was imported; write the rejects elsewhere with --rejects FILE, e.g. --rejects till.rejects.csv');
    expect(JSON.parse(run(dir, ['order', 'list', '--json']).stdout)).toEqual([]);
    const done = run(dir, ['import', 'purchases', 'share/till.csv', '--rejects', 'till.rejects.csv', '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ accepted: 1, rejected: 0 });
  });
});

describe('outputs a script names by mistake (trial 34)', () => {
  it('--out /dev/stdout while the shell appends stdout to a file: refused, the file keeps its lines and mode; nothing is marked sent', () => {
    const t = withNotifications();
    const log = join(t.dir, 'cron.log');
    writeFileSync(log, 'old1\nold2\n');
    chmodSync(log, 0o644);
    const before = statSync(log).ino;
    const append = (args: string[]) => {
      const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND);
      try {
        return spawnSync(process.execPath, [BIN, ...args, '--db', t.db], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { ...process.env, POINTSMALL_NOW: DEFAULT_NOW } });
      } finally {
        closeSync(fd);
      }
    };
    const r = append(['report', 'liability', '--format', 'csv', '--out', '/dev/stdout']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("cannot write --out /dev/stdout: it is the file this command's standard output goes to");
    expect(r.stderr).toContain('leave --out out');
    // the file by its own name is the same file
    expect(append(['report', 'liability', '--format', 'csv', '--out', log]).status).toBe(2);
    // a backup or a rejects file there: refused, with a hint of its own
    const backup = append(['db', 'backup', log]);
    expect(backup.status).toBe(2);
    expect(backup.stderr).toContain('hint: choose another');
    expect(backup.stderr).not.toContain('--format');
    const pending = t.ok(['outbox', 'list']).length;
    expect(pending).toBeGreaterThan(0);
    expect(append(['outbox', 'export', '--format', 'jsonl', '--mark-sent', '--out', '/dev/stdout']).status).toBe(2);
    expect(t.ok(['outbox', 'list']).length).toBe(pending);
    expect(readFileSync(log, 'utf8')).toBe('old1\nold2\n');
    expect(statSync(log).ino).toBe(before);
    expect(mode(log)).toBe(0o644);
    // leaving --out out appends, as the shell was told
    const ok = append(['report', 'liability', '--format', 'csv']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/^old1\nold2\nasOf,/);
  });

  it('an empty --out, --rejects or --db (an unset variable) is exit 2 naming the option; init --db "" is no internal error', () => {
    const t = withMembers();
    for (const args of [['report', 'summary', '--out', ''], ['report', 'summary', '--out='], ['member', 'list', '--db', '']]) {
      const r = t.run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stderr.trim()).error.message).toMatch(/^--(out|db) is empty$/);
      expect(r.stdout).toBe('');
    }
    // `--out -`: no file named "-" written
    const dash = t.run(['report', 'summary', '--out', '-', '--json']);
    expect(dash.code).toBe(2);
    expect(JSON.parse(dash.stderr.trim()).error.hint).toContain('leave --out out to write to standard output');
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nA1,M001,2026-01-10 10:00,x\n');
    const rej = t.run(['import', 'purchases', csv, '--rejects', '', '--json']);
    expect(rej.code).toBe(2);
    expect(JSON.parse(rej.stderr.trim()).error.message).toBe('--rejects is empty');
    expect(t.ok(['import', 'list'])).toEqual([]);
    const dir = tmpDir();
    const init = spawnSync(process.execPath, [BIN, 'init', '--db', '', '--json'], { cwd: dir, encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(2);
    expect(JSON.parse(init.stderr.trim()).error).toMatchObject({ code: 'USAGE', message: '--db is empty' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--rejects naming a file that is no rejects file (the members export) is refused, the file untouched; an earlier rejects file is replaced', () => {
    const t = withMembers();
    const precious = join(t.dir, 'precious.csv');
    writeFileSync(precious, 'id,name\nM9,Keep Me\n');
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nA1,M001,2026-01-10 10:00,10.00\nA2,NOBODY,2026-01-10 10:00,10.00\n');
    const r = t.run(['import', 'purchases', csv, '--rejects', precious, '--json'], NOW);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim()).error.message).toContain(`cannot write --rejects ${precious}: it exists and is not a rejects file`);
    expect(readFileSync(precious, 'utf8')).toBe('id,name\nM9,Keep Me\n');
    expect(t.ok(['member', 'show', 'M001'], NOW).balance).toBe(500); // nothing imported
    // a rejects file of an earlier run, and an empty file, are replaced
    const rejects = join(t.dir, 'r.csv');
    writeFileSync(rejects, '');
    expect(t.run(['import', 'purchases', csv, '--rejects', rejects, '--json'], NOW).code).toBe(4);
    expect(readFileSync(rejects, 'utf8')).toMatch(/^_line,_reason,/);
    expect(t.run(['import', 'purchases', csv, '--rejects', rejects, '--json'], NOW).code).toBe(4);
    expect(readFileSync(rejects, 'utf8')).toMatch(/^_line,_reason,/);
  });

  it('a reject whose reason names a huge value (a 300 KB member id) says its start and end, and the rejects file keeps the row whole', () => {
    const t = withMembers();
    const huge = 'X'.repeat(300_000);
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, `order_id,member_id,purchased_at,amount\nA1,M001,2026-01-10 10:00,10.00\nA2,${huge},2026-01-10 10:00,10.00\n`);
    const r = t.run(['import', 'purchases', csv, '--json'], NOW);
    expect(r.code).toBe(4);
    const reason: string = r.json().firstRejects[0].reason;
    expect(reason.length).toBeLessThan(1100);
    expect(reason).toMatch(/… \(\d+ characters left out\) …/);
    expect(r.stderr.length + r.stdout.length).toBeLessThan(20_000);
    expect(readFileSync(join(t.dir, 'p.rejects.csv'), 'utf8')).toContain(`,${huge},`);
  });

  it('--quiet: a report written with --out says nothing on success (cron mails nothing), and still tells an error', () => {
    const t = withMembers();
    const out = join(t.dir, 'l.csv');
    const loud = t.run(['report', 'liability', '--format', 'csv', '--out', out]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toContain('wrote');
    for (const args of [['report', 'liability', '--format', 'csv', '--out', out, '--quiet'], ['-q', 'report', 'liability', '--format', 'csv', '--out', out], ['ledger', 'export', '--out', join(t.dir, 'e.csv'), '-q']]) {
      const r = t.run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(out, 'utf8')).toMatch(/^asOf,/);
    const bad = t.run(['report', 'liability', '--out', join(t.dir, 'missing', 'x.csv'), '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: cannot write --out/);
  });

  it('--out never replaces another SQLite database (a second ledger, a db backup); db backup --force still replaces its own file (trial 37)', () => {
    const t = withMembers();
    const backup = join(t.dir, 'nightly.db');
    t.ok(['db', 'backup', backup]);
    const before = sha(backup);
    for (const args of [
      ['ledger', 'export', '--out', backup],
      ['member', 'list', '--out', backup, '--format', 'csv'],
      ['report', 'summary', '--format', 'csv', '--out', backup],
      ['outbox', 'export', '--out', backup, '--mark-sent'],
    ]) {
      const r = t.run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stderr).error, args.join(' ')).toMatchObject({ code: 'OUTPUT_IS_DATABASE', message: `cannot write --out ${backup}: it is an SQLite database (a ledger or a backup of one), or the -wal, -shm or -journal file of one, which --out would replace` });
    }
    expect(sha(backup)).toBe(before);
    expect(t.run(['ledger', 'verify', '--db', backup]).code).toBe(0);
    // another database's -wal (its last transactions) and -shm, while it is open elsewhere (check finding 4)
    const other = openWithWal(join(t.dir, 'other.db'), 'CREATE TABLE important (x); INSERT INTO important VALUES (1)');
    try {
      for (const f of ['other.db-wal', 'other.db-shm']) {
        const r = t.run(['report', 'summary', '--format', 'csv', '--out', join(t.dir, f), '--json']);
        expect(r.code, f).toBe(2);
        expect(JSON.parse(r.stderr).error.code, f).toBe('OUTPUT_IS_DATABASE');
      }
      expect(other.prepare('SELECT x FROM important').pluck().get()).toBe(1);
    } finally {
      other.close();
    }
    // the -wal or -journal name of another database that has none now: SQLite, opening that database, would
    // take the output for its own hot journal and delete it (or roll it into the database) (trial 39)
    for (const f of ['nightly.db-wal', 'nightly.db-journal', 'nightly.db-shm']) {
      rmSync(join(t.dir, f), { force: true }); // (ledger verify above may have left an empty -wal and -shm)
      for (const args of [['report', 'summary', '--format', 'csv', '--out'], ['db', 'backup']]) {
        const r = t.run([...args, join(t.dir, f), '--json']);
        expect(r.code, `${args.join(' ')} ${f}`).toBe(2);
        expect(JSON.parse(r.stderr).error, f).toMatchObject({ code: 'OUTPUT_IS_DATABASE', message: expect.stringContaining(`the ${f.slice(f.lastIndexOf('-'))} file of the SQLite database ${backup}`) });
        expect(existsSync(join(t.dir, f)), f).toBe(false);
      }
    }
    // ... nor through a symlink whose name looks harmless (trial 39b)
    symlinkSync(join(t.dir, 'nightly.db-wal'), join(t.dir, 'link.csv'));
    const viaLink = t.run(['report', 'summary', '--format', 'csv', '--out', join(t.dir, 'link.csv'), '--json']);
    expect(viaLink.code).toBe(2);
    expect(JSON.parse(viaLink.stderr).error).toMatchObject({ code: 'OUTPUT_IS_DATABASE', message: expect.stringContaining(`(through a symlink, ${join(t.dir, 'nightly.db-wal')}) the -wal file of the SQLite database`) });
    expect(existsSync(join(t.dir, 'nightly.db-wal'))).toBe(false);
    // a new database beside another's -wal (a crash's, or moved there): SQLite would read it in as its own
    const other2 = openWithWal(join(t.dir, 'o2.db'), 'CREATE TABLE x (a); INSERT INTO x VALUES (1)');
    for (const name of ['fresh.db', 'copy.db']) writeFileSync(join(t.dir, `${name}-wal`), readFileSync(join(t.dir, 'o2.db-wal')));
    other2.close();
    for (const [args, name] of [[['db', 'backup', join(t.dir, 'fresh.db')], 'fresh.db'], [['db', 'copy', '--to', join(t.dir, 'copy.db')], 'copy.db']] as const) {
      const r = t.run([...args, '--json']);
      expect(r.code, name).toBe(2);
      expect(JSON.parse(r.stderr).error, name).toMatchObject({ code: 'STALE_DATABASE_FILES', message: expect.stringContaining(`${join(t.dir, name)}-wal is there without its database`) });
      expect(existsSync(join(t.dir, name)), name).toBe(false);
    }
    // db backup --force over a backup a reader opened since (an empty -wal and a -shm left beside it): they go
    // with the old file, and the new backup is the ledger's
    writeFileSync(`${backup}-wal`, '');
    writeFileSync(`${backup}-shm`, Buffer.alloc(32768));
    expect(t.ok(['db', 'backup', backup, '--force'])).toMatchObject({ entries: 1 });
    expect(existsSync(`${backup}-wal`)).toBe(false);
    expect(existsSync(`${backup}-shm`)).toBe(false);
    expect(t.run(['ledger', 'verify', '--db', backup]).code).toBe(0);
    // ... but never a database in use: one whose -wal holds what its file does not yet (trial 39c: another
    // shop's live ledger lost its last member, another application's database its last row)
    const live = openWithWal(join(t.dir, 'live.db'), 'CREATE TABLE t (a); INSERT INTO t VALUES (1)');
    try {
      const r = t.run(['db', 'backup', join(t.dir, 'live.db'), '--force', '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'OUTPUT_IS_DATABASE', message: expect.stringContaining('live.db-wal holds changes not yet in') });
      expect(live.prepare('SELECT a FROM t').pluck().get()).toBe(1);
      expect(existsSync(join(t.dir, 'live.db-wal'))).toBe(true);
    } finally {
      live.close();
    }
    // a dangling symlink at a new backup's -wal: SQLite would make its target (trial 39c)
    symlinkSync(join(t.dir, 'nowhere.db-wal'), join(t.dir, 'new4.db-wal'));
    const dangling = t.run(['db', 'backup', join(t.dir, 'new4.db'), '--json']);
    expect(dangling.code).toBe(2);
    expect(JSON.parse(dangling.stderr).error.code).toBe('STALE_DATABASE_FILES');
    // a file that is no database is replaced as before; so is a name ending -wal beside a file that is none
    writeFileSync(join(t.dir, 'notes.txt'), 'plain\n');
    expect(t.run(['report', 'summary', '--format', 'csv', '--out', join(t.dir, 'notes.txt-wal')]).code).toBe(0);
    writeFileSync(join(t.dir, 'old.csv'), 'stale\n');
    expect(t.run(['member', 'list', '--out', join(t.dir, 'old.csv')]).code).toBe(0);
    expect(readFileSync(join(t.dir, 'old.csv'), 'utf8')).toMatch(/^id,/);
  });

  it('--quiet: db backup, outbox export --out and an import with nothing rejected print nothing; an import with rejects still says so (trial 37)', () => {
    const t = withNotifications();
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nQ1,a,2026-01-15 10:00,10.00\n');
    for (const args of [['db', 'backup', join(t.dir, 'b.db')], ['outbox', 'export', '--out', join(t.dir, 'o.jsonl'), '--mark-sent'], ['import', 'purchases', csv]]) {
      const r = t.run(['-q', ...args], NOW);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 0, stdout: '', stderr: '' });
    }
    expect(readFileSync(join(t.dir, 'o.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nQ2,a,2026-01-15 10:00,10.00\nQ3,nobody,2026-01-15 10:00,10.00\n');
    // a dry run's summary is what was asked for: printed under -q too (check finding 5)
    expect(t.run(['-q', 'import', 'purchases', csv, '--dry-run'], NOW).stdout).toMatch(/^dry run\s+yes: nothing was written$/m);
    const partly = t.run(['-q', 'import', 'purchases', csv], NOW);
    expect(partly.code).toBe(4);
    expect(partly.stdout).toMatch(/^rejected\s+1$/m);
  });

  it('stdout redirected to a file that takes only part of the output (a disk nearly full; here a file size limit): exit 2, nothing marked sent (trial 37)', () => {
    const t = tmpLedger();
    const csv = join(t.dir, 'old.csv');
    // 400 members whose points lapsed: 400 points.expired notifications, some 120 KB of JSON Lines; the files
    // may grow to 64 KB (the ledger's -shm is 32 KB; the export writes nothing to the ledger before its output is out)
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\n' + Array.from({ length: 400 }, (_, i) => `O${i},M${String(i).padStart(3, '0')},2024-01-01 10:00,100.00`).join('\n') + '\n');
    t.ok(['import', 'purchases', csv, '--create-members']);
    t.ok(['expire', 'run']);
    expect(t.ok(['outbox', 'list', '--pending'])).toHaveLength(400);
    const limited = (args: string[], out: string) =>
      spawnSync('bash', ['-c', `ulimit -f 64; trap '' XFSZ; exec "${process.execPath}" "${BIN}" ${args.join(' ')} > "${out}"`], {
        env: { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: DEFAULT_NOW, POINTSMALL_OPERATOR: 'tester', POINTSMALL_DB: t.db },
        encoding: 'utf8',
      });
    const r = limited(['outbox', 'export', '--mark-sent'], join(t.dir, 'out.jsonl'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: no space left on the disk \(.*\): the output was not written whole$/m);
    expect(statSync(join(t.dir, 'out.jsonl')).size).toBe(65536);
    expect(t.ok(['outbox', 'list', '--pending'])).toHaveLength(400);
    const j = limited(['ledger', 'export', '--format', 'csv'], join(t.dir, 'j.csv'));
    expect(j.status, j.stderr).toBe(2);
    // with room, the same export marks all 20
    const ok = spawnSync('bash', ['-c', `exec "${process.execPath}" "${BIN}" outbox export --mark-sent > "${join(t.dir, 'all.jsonl')}"`], { env: { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: DEFAULT_NOW, POINTSMALL_DB: t.db }, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(t.dir, 'all.jsonl'), 'utf8').trim().split('\n')).toHaveLength(400);
    expect(t.ok(['outbox', 'list', '--pending'])).toHaveLength(0);
  });

  it('--version --json prints one JSON document', () => {
    const r = spawnSync(process.execPath, [BIN, '--version', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: JSON.parse(readFileSync(join(BIN, '..', '..', 'package.json'), 'utf8')).version });
  });
});
