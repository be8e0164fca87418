// Spawns the built bin/pointsmall against a temp ledger with a fixed clock.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { tmpDir } from './tmp.js';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'pointsmall.js');
export const FIXTURES = join(ROOT, 'fixtures');
export const DEFAULT_NOW = '2026-11-23T10:00:00+08:00';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not). */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RunOptions {
  db?: string;
  now?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

/**
 * TZ as this test process started: code of src/domain/time run in-process sets TZ to the zone it reads
 * offsets in (offsetByLocalTime); a pointsmall spawned here runs in the machine's zone all the same.
 */
const STARTED_TZ = process.env.TZ;

function env(o: RunOptions): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '1', POINTSMALL_NOW: o.now ?? DEFAULT_NOW, POINTSMALL_OPERATOR: 'tester' };
  if (STARTED_TZ === undefined) delete e.TZ;
  else e.TZ = STARTED_TZ;
  delete e.FORCE_COLOR;
  if (o.db) e.POINTSMALL_DB = o.db;
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

function result(code: number | null, stdout: string, stderr: string): RunResult {
  return {
    code: code ?? -1,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export function runCli(args: string[], o: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: env(o), input: o.input ?? '', encoding: 'utf8', cwd: o.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 });
  return result(r.status, r.stdout, r.stderr);
}

/** The same, without blocking: for tests that run several processes at once. */
export function runCliAsync(args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: env(o), cwd: o.cwd ?? ROOT });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.stdin.end(o.input ?? '');
    p.on('close', (code) => res(result(code, out, err)));
  });
}

/** Spawns pointsmall with the same environment and leaves its streams to the caller (a reader that stalls, say). */
export function spawnCli(args: string[], o: RunOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { env: env(o), cwd: o.cwd ?? ROOT });
}

export { tmpDir };

export interface TmpLedger {
  dir: string;
  db: string;
  run(args: string[], o?: Omit<RunOptions, 'db'>): RunResult;
  /** Runs with --json and expects exit 0; returns the parsed JSON. */
  ok<T = any>(args: string[], o?: Omit<RunOptions, 'db'>): T; // eslint-disable-line @typescript-eslint/no-explicit-any
  verify(): { ok: boolean; entries: number; checks: { name: string; ok: boolean; detail: string }[] };
}

/** Which backend the shared suites run on: POINTSMALL_TEST_BACKEND=postgres (the postgres project) or SQLite. */
export const PG = process.env.POINTSMALL_TEST_BACKEND === 'postgres';

/**
 * How many runs a property over real ledgers makes by default: `n` on SQLite, fewer on PostgreSQL, where
 * each run's ledger is a database of its own and each command a connection. The postgres project replays
 * the first of the same fixed-seed cases SQLite explores: what is particular to the server (its SQL, types,
 * locks) shows in a few; POINTSMALL_LONG runs `n` on both.
 */
export function ledgerRuns(n: number, pg = Math.ceil(n / 3)): number {
  return PG && process.env.POINTSMALL_LONG !== '1' ? pg : n;
}

const pgModule = PG ? ((await import(join(ROOT, 'dist', 'store', 'pg', 'database.js'))) as { PgDatabase: new (url: string, ms: number) => PgAdmin }) : null;
interface PgAdmin {
  query(text: string, values: unknown[], rowMode: 'array'): unknown;
}
let admin: PgAdmin | undefined;

/**
 * A new PostgreSQL database on the test server (POINTSMALL_TEST_PG), named pm_t_…, empty or a copy of
 * `template` (a database nobody is connected to): its URL. The name starts with the run's id
 * (POINTSMALL_TEST_RUN, set by vitest.config.ts); the postgres project's global teardown drops the run's. In the postgres project this goes through one connection kept for the purpose (a round trip),
 * elsewhere through psql.
 */
export function tmpPgDatabase(template?: string, encoding?: string): string {
  const base = process.env.POINTSMALL_TEST_PG;
  if (!base) throw new Error('POINTSMALL_TEST_PG is not set');
  const run = process.env.POINTSMALL_TEST_RUN ?? process.pid;
  const name = `pm_t_${run}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const sql = `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}${encoding ? ` TEMPLATE template0 ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C'` : ''}`;
  if (pgModule) {
    admin ??= new pgModule.PgDatabase(base, 60_000);
    admin.query(sql, [], 'array');
  } else {
    const r = spawnSync('psql', [base, '-qXc', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cannot create a test database: ${r.stderr}`);
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

const isPgUrl = (location: string) => /^postgres(ql)?:\/\//.test(location);

/**
 * Opens a test ledger for the test's own reads (and the few writes a test makes to set a scene): the file
 * with better-sqlite3, or the PostgreSQL database through the store's own connection (dist/store/pg), which
 * takes the same SQL.
 */
export function openLedgerDb(location: string, opts: Database.Options = {}): Database.Database {
  if (isPgUrl(location)) {
    if (!pgModule) throw new Error('a PostgreSQL ledger outside the postgres project');
    return new pgModule.PgDatabase(location, opts.timeout ?? 5000) as unknown as Database.Database;
  }
  return new Database(location, opts);
}

/**
 * A copy of the ledger at `source` (a template built once, closed) in dir: a file copy, or a database
 * made from it (CREATE DATABASE … TEMPLATE).
 */
export function cloneLedger(source: string, dir: string): string {
  if (isPgUrl(source)) return tmpPgDatabase(new URL(source).pathname.slice(1));
  const db = join(dir, 'ledger.db');
  copyFileSync(source, db);
  return db;
}

/** Where a new test ledger lives: a file in dir on SQLite, a new database on PostgreSQL. */
export function newLedgerLocation(dir: string, file = 'ledger.db'): string {
  return PG ? tmpPgDatabase() : join(dir, file);
}

const templates = new Map<string, string>();
/**
 * The ledger `init` makes for these settings, made once per test process and backend (`file`: a SQLite
 * file whatever the backend under test): tests get copies (cloneLedger), which is what a fresh `init`
 * would give them, without running its migrations again for every test.
 */
export function templateLedger(key: string, file: boolean, init: (location: string) => void): string {
  const k = `${file || !PG ? 'file' : 'pg'}:${key}`;
  let t = templates.get(k);
  if (t === undefined) {
    t = file || !PG ? join(tmpDir('pointsmall-template-'), 'ledger.db') : tmpPgDatabase();
    init(t);
    templates.set(k, t);
  }
  return t;
}

export interface TmpLedgerOptions {
  timezone?: string;
  currency?: string;
  /** The clock of `init` (the commands after it run at their own, DEFAULT_NOW unless they pass one). */
  now?: string;
  /** A SQLite file whatever the backend under test (for what only a file has: modes, links, restore). */
  file?: boolean;
}

/** A fresh, initialised ledger in its own temp folder. */
export function tmpLedger(opts: TmpLedgerOptions = {}): TmpLedger {
  const dir = tmpDir();
  const initArgs = ['init', '--timezone', opts.timezone ?? 'Asia/Shanghai', '--currency', opts.currency ?? 'CNY', '--json'];
  const template = templateLedger(JSON.stringify([initArgs, opts.now ?? DEFAULT_NOW]), opts.file === true, (location) => {
    const init = runCli(initArgs, { db: location, now: opts.now });
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  });
  return ledgerAt(dir, cloneLedger(template, dir));
}

const scenes = new Map<string, TmpLedger>();
/**
 * A fresh ledger (tmpLedger(opts)) that `build` then set up through the CLI, as a test's own setup would:
 * built once per test process and backend for this key (name it after what build depends on: its name and
 * parameters; the init options are added to it), and each call gets a copy of its own in a new temp
 * folder: the ledger (cloneLedger) and every file build left next to it (a rules file it applied, a CSV it
 * imported), under the same names. Only for a build whose result does not depend on the test: fixed
 * clocks (DEFAULT_NOW unless a command passes `now`), no connection of the test's own left open (a
 * PostgreSQL template must have none). A copy is a new file: tests about how the ledger's file was made
 * (its inode, links, modes) keep to tmpLedger. Paths build passed to commands name the scene's folder, not
 * the copy's: a test that reads such a path back from the ledger keeps to its own setup too.
 */
export function sceneLedger(key: string, build: (t: TmpLedger) => void, opts: TmpLedgerOptions = {}): TmpLedger {
  const k = JSON.stringify([key, opts.timezone ?? 'Asia/Shanghai', opts.currency ?? 'CNY', opts.now ?? DEFAULT_NOW, opts.file === true]);
  let scene = scenes.get(k);
  if (scene === undefined) {
    scene = tmpLedger(opts);
    build(scene);
    scenes.set(k, scene);
  }
  const dir = tmpDir();
  cpSync(scene.dir, dir, { recursive: true });
  return ledgerAt(dir, isPgUrl(scene.db) ? cloneLedger(scene.db, dir) : join(dir, basename(scene.db)));
}

/** The TmpLedger face of a ledger at `db` (a file or a PostgreSQL URL) whose files go to `dir`. */
export function ledgerAt(dir: string, db: string): TmpLedger {
  return {
    dir,
    db,
    run: (args, o = {}) => runCli(args, { ...o, db }),
    ok(args, o = {}) {
      const r = runCli([...args, '--json'], { ...o, db });
      if (r.code !== 0) throw new Error(`pointsmall ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
      return r.json();
    },
    verify() {
      const r = runCli(['ledger', 'verify', '--json'], { db });
      const v = r.json();
      if ((r.code === 0) !== v.ok) throw new Error(`verify exit ${r.code} disagrees with ok=${v.ok}`);
      return v;
    },
  };
}

/**
 * The ledger `pointsmall demo` builds from fixtures/ (catalog, rules, members, purchases, a checkout, an
 * expiry run), as demo.db in its own temp folder: a SQLite file on either backend. Slow (a minute on a
 * loaded machine): build it once per file, in beforeAll.
 */
export function demoLedger(): TmpLedger {
  const dir = tmpDir();
  const t = ledgerAt(dir, join(dir, 'demo.db'));
  const r = runCli(['demo', '--db', t.db, '--json']);
  if (r.code !== 0) throw new Error(`demo failed (exit ${r.code}): ${r.stderr}`);
  return t;
}
