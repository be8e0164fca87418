// Every file a command writes at a path the user named (--out, --rejects, db backup) goes through here:
// the target is checked before the command writes anything (never the ledger or its -wal/-shm/-journal,
// compared by device and inode and by resolved path; never a device, FIFO or folder), the temp file
// beside it is created exclusively (O_EXCL: a planted symlink is never followed) with mode 0600, and
// the whole file is renamed into place only once it is written and fsynced, or removed on failure.
import { redactUrl } from '../store/pg/database.js';
import { type SqliteHead, sqliteHead } from '../store/sqliteHead.js';
import { sqliteFileKind } from '../store/db.js';
import { closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeSync, accessSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** Mode of every file that can hold member data. */
export const PRIVATE_MODE = 0o600;

const LEDGER_SUFFIXES = ['', '-wal', '-shm', '-journal'];

interface Identity {
  dev: number;
  ino: number;
}

/** Where a path finally points: its folder's real path plus its name, symlinks followed even when dangling. */
function finalPath(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let dir: string;
    try {
      dir = realpathSync(dirname(p));
    } catch {
      return p;
    }
    p = join(dir, basename(p));
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return p;
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dir, readlinkSync(p));
  }
  return p;
}

/** The ledger's files as they are now and as they would be named (SQLite names -wal/-shm after the path it opened). */
function ledgerFiles(dbPath: string): { ids: Identity[]; paths: Set<string> } {
  const ids: Identity[] = [];
  const paths = new Set<string>();
  const bases = new Set([resolve(dbPath), finalPath(dbPath)]);
  for (const base of bases) {
    for (const suffix of LEDGER_SUFFIXES) {
      const f = base + suffix;
      paths.add(finalPath(f));
      try {
        const st = statSync(f);
        ids.push({ dev: st.dev, ino: st.ino });
      } catch {
        // not there now
      }
    }
  }
  return { ids, paths };
}

/** The key file of a keyed chain (POINTSMALL_LEDGER_KEY_FILE), which no output may replace: by path and identity. */
function keyFile(): { path: string; ids: Identity[]; paths: Set<string> } | undefined {
  const path = process.env.POINTSMALL_LEDGER_KEY_FILE;
  if (!path) return undefined;
  const ids: Identity[] = [];
  try {
    const st = statSync(path);
    ids.push({ dev: st.dev, ino: st.ino });
  } catch {
    // not there: opening the ledger says so
  }
  return { path, ids, paths: new Set([resolve(path), finalPath(path)]) };
}

/** A file's SQLite header kind; a file that cannot be read is 'other' here (the write itself says why). */
function headOf(path: string): SqliteHead {
  try {
    return sqliteHead(path);
  } catch {
    return 'other';
  }
}

export interface OutputTarget {
  /** The path as the user gave it, for messages. */
  path: string;
  /** Absolute path the file is renamed to: where the path finally points, through any symlink. */
  abs: string;
  /** The option that named it (--out, --rejects, backup FILE), for messages. */
  flag: string;
  ledger: string;
  mustNotExist?: MustNotExist;
  /** The output is a new SQLite database (a backup, a copy): nothing may stand at its -wal or -journal. */
  database?: boolean;
  /**
   * The -wal, -shm and -journal of the database the output replaces (db backup --force over an older
   * backup): part of it, removed as it is replaced, so SQLite never reads them into the new one.
   */
  companions?: string[];
}

/**
 * An existing file at the target is refused: `hint` says what to do; `message` says why (default "… already
 * exists"), with `code`; `emptyOk`: an empty file holds nothing to lose and is replaced.
 */
export interface MustNotExist {
  hint: string;
  message?: string;
  code?: string;
  emptyOk?: boolean;
}

/**
 * Checks a target before anything is written: its folder exists and is writable, it is not the
 * ledger (or its -wal/-shm/-journal) by identity or by resolved path, and if it exists it is a
 * regular file. `mustNotExist`: refuse an existing file (db backup without --force). `elsewhere`: the hint
 * when the folder is missing or not writable (a default path the user did not choose: how to choose one).
 */
export function checkOutput(path: string, o: { ledger: string; flag: string; mustNotExist?: MustNotExist; elsewhere?: string; database?: boolean }): OutputTarget {
  const abs = resolve(path);
  const dir = dirname(abs);
  const named = `${o.flag} ${path}`;
  if (/^postgres(ql)?:\/\//i.test(path)) {
    // a database URL is never a file to write: the ledger's own, or any other
    throw new UsageError(
      `cannot write ${o.flag} ${redactUrl(path)}: ${path === o.ledger ? 'it is the ledger' : 'it is a database URL, not a file'}`,
      `give ${o.flag} a file path; a ledger moves to PostgreSQL with: pointsmall db copy --to URL`,
      path === o.ledger ? 'OUTPUT_IS_LEDGER' : 'USAGE',
    );
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`cannot write ${named}: folder ${dir} does not exist`, o.elsewhere ?? `create the folder first or choose another ${o.flag} path`);
  }
  // where the path finally points, through any symlink (its folder's too)
  const real = finalPath(abs);
  const ledger = ledgerFiles(o.ledger);
  const isLedger = () => {
    throw new UsageError(`cannot write ${named}: it is the ledger ${o.ledger} (or its -wal/-shm file)`, `choose another ${o.flag} path; the ledger is only written by pointsmall itself`, 'OUTPUT_IS_LEDGER');
  };
  if (ledger.paths.has(real)) isLedger();
  const key = keyFile();
  const isKey = () => {
    throw new UsageError(
      `cannot write ${named}: it is the ledger key file ${key?.path} (POINTSMALL_LEDGER_KEY_FILE)`,
      `choose another ${o.flag} path; the key proves the ledger's entries and pointsmall never writes it`,
      'OUTPUT_IS_KEY',
    );
  };
  if (key?.paths.has(real)) isKey();
  // the -wal, -shm or -journal name of another database, there or not, as given or where a symlink
  // points: SQLite, opening that database, takes such a file for its own (a hot journal is rolled into
  // it, or deleted as stale) (trial 39)
  for (const p of new Set([abs, real])) {
    const companion = /-(wal|shm|journal)$/.exec(p);
    if (companion && headOf(p.slice(0, companion.index)) === 'database') {
      throw new UsageError(
        `cannot write ${named}: it is${p === abs ? '' : ` (through a symlink, ${p})`} the ${companion[0]} file of the SQLite database ${p.slice(0, companion.index)}, which SQLite would take for that database's own the next time it opens it (and delete it, or write it into the database)`,
        `choose another ${o.flag} path (one not ending in ${companion[0]})`,
        'OUTPUT_IS_DATABASE',
      );
    }
  }
  // a new database (a backup, a copy) beside a -wal or -journal of that name: SQLite would read it into the
  // new database as its own journal (trial 39). The replaced database's own go with it; any other (a
  // crash's, another database's files moved) is not ours to remove.
  let companions: string[] | undefined;
  if (o.database) {
    // (lstat: a dangling symlink there counts, as SQLite would create its target)
    const there = (f: string) => {
      try {
        return Boolean(lstatSync(f));
      } catch {
        return false;
      }
    };
    const found = ['-wal', '-journal', '-shm'].map((x) => real + x).filter(there);
    if (found.length) {
      if (!o.mustNotExist && headOf(real) === 'database') {
        // a backup replaced with --force has nothing waiting in them; a database whose -wal holds frames or
        // whose journal is hot is live (open elsewhere, or written since): never replaced (trial 39c)
        const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
        const live = found.find((f) => (f.endsWith('-wal') && size(f) > 32) || (f.endsWith('-journal') && headOf(f) === 'journal'));
        if (live) {
          throw new UsageError(
            `cannot replace ${named}: ${live} holds changes not yet in ${real}, so it is a database in use (open elsewhere, or written since it was made), not a backup`,
            `choose another ${o.flag} path; --force replaces a backup, never a live database`,
            'OUTPUT_IS_DATABASE',
          );
        }
        companions = found;
      } else if (found.some((f) => !f.endsWith('-shm'))) {
        // (a -shm alone is rebuilt by SQLite: harmless)
        const stale = found.find((f) => !f.endsWith('-shm'))!;
        throw new UsageError(
          `cannot write ${named}: ${stale} is there${existsSync(real) ? '' : ' without its database'}, and SQLite would read it into the new database as that database's own`,
          `choose another ${o.flag} path, or move that file away (with any -wal, -shm or -journal beside it), or remove it if it is nobody's`,
          'STALE_DATABASE_FILES',
        );
      }
    }
  }
  let st;
  try {
    st = statSync(abs);
  } catch {
    st = undefined;
  }
  if (st) {
    if (ledger.ids.some((i) => i.dev === st.dev && i.ino === st.ino)) isLedger();
    if (key?.ids.some((i) => i.dev === st.dev && i.ino === st.ino)) isKey();
    if (!st.isFile()) {
      throw new UsageError(`cannot write ${named}: it exists and is not a regular file (a folder, device or pipe)`, `choose another ${o.flag} path`);
    }
    // /dev/stdout (or the file's own name) while the shell sends this command's output into that file: the
    // file is replaced, not appended to (`>> cron.log` would lose every earlier line, and its mode)
    const stream = [0, 1, 2].find((fd) => {
      try {
        const x = fstatSync(fd);
        return x.dev === st.dev && x.ino === st.ino;
      } catch {
        return false;
      }
    });
    if (stream !== undefined) {
      const name = ['standard input', 'standard output', 'standard error'][stream];
      throw new UsageError(
        `cannot write ${named}: it is the file this command's ${name} goes to (a shell redirection), which ${o.flag} would replace rather than add to`,
        stream === 1 && o.flag === '--out' ? 'leave --out out: the output then goes to standard output, into that file (--format chooses csv, json or html)' : `choose another ${o.flag} path`,
      );
    }
    const exists = (m: MustNotExist) => new UsageError(m.message ?? `${path} already exists`, m.hint, m.code);
    if (o.mustNotExist && !o.mustNotExist.emptyOk) throw exists(o.mustNotExist);
    // db backup --force: an earlier backup (or ledger) is replaced, or an empty file; another application's
    // database or any other file is not (trial 39: a CSV or an app's database was replaced as well)
    if (o.flag === 'backup' && st.size > 0) notBackup(named, abs, o.flag);
    // another ledger, or a backup (db backup --force alone replaces one): a typo in --out must not wipe it
    if (o.flag !== 'backup' && ['database', 'wal', 'journal'].includes(headOf(abs))) {
      throw new UsageError(
        `cannot write ${named}: it is an SQLite database (a ledger or a backup of one), or the -wal, -shm or -journal file of one, which ${o.flag} would replace`,
        `choose another ${o.flag} path; if that database is no longer wanted, delete it first`,
        'OUTPUT_IS_DATABASE',
      );
    }
    // (an output that may replace an empty file: the more particular refusals above come first)
    if (o.mustNotExist?.emptyOk && st.size > 0) throw exists(o.mustNotExist);
  }
  // A symlink is written through: the file it points to is replaced, the link stays (renaming over the
  // link itself would leave its target as it was, and a reader of the target without the output).
  if (st) {
    let at;
    try {
      at = statSync(real);
    } catch {
      at = undefined;
    }
    if (!at || at.dev !== st.dev || at.ino !== st.ino) {
      throw new UsageError(`cannot write ${named}: cannot tell which file it points to`, `give ${o.flag} the file's own path`);
    }
  }
  const targetDir = dirname(real);
  if (!existsSync(targetDir) || !statSync(targetDir).isDirectory()) {
    throw new UsageError(`cannot write ${named}: it points into folder ${targetDir}, which does not exist`, `create the folder first or choose another ${o.flag} path`);
  }
  try {
    accessSync(targetDir, constants.W_OK);
  } catch {
    throw new UsageError(`cannot write ${named}: folder ${targetDir} is not writable`, o.elsewhere ?? `choose another ${o.flag} path`);
  }
  return { path, abs: real, flag: o.flag, ledger: o.ledger, mustNotExist: o.mustNotExist, database: o.database, companions };
}

/**
 * Throws unless the existing, non-empty file at `abs` is a ledger or a backup (of pointsmall): an SQLite
 * database with a schema version and the ledger's first tables (sqliteFileKind).
 */
function notBackup(named: string, abs: string, flag: string): void {
  // (a header's schema version alone let another application's database that sets one be replaced: trial 40b)
  const kind = headOf(abs) === 'database' ? sqliteFileKind(abs) : null;
  if (kind === 'ledger') return;
  const hint = `choose another ${flag} path; --force replaces an earlier backup (or an empty file), nothing else: move or delete that file yourself if it is no longer wanted`;
  if (kind === 'other') throw new UsageError(`cannot replace ${named}: it is an SQLite database that is not a ledger or a backup (another application's: it lacks the ledger's tables)`, hint, 'OUTPUT_IS_DATABASE');
  throw new UsageError(`cannot replace ${named}: it is not a backup (${kind === 'unreadable' ? 'an SQLite header over something SQLite cannot read' : 'not an SQLite database'})`, hint, 'OUTPUT_NOT_BACKUP');
}

/** Creates `path` exclusively (never following or reusing what is there) and private; returns its fd. */
export function createExclusive(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), PRIVATE_MODE);
}

let serial = 0;

/** Whether process `pid` is alive (EPERM: it is, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Temp files beside `abs` that a process killed while writing it left behind (`.NAME.PID.N.tmp`, and the
 * -wal, -shm or -journal of one SQLite wrote into): removed when that process is gone and the file has not
 * changed for a minute. A live writer's are left alone. (They hold member data, in a folder the user chose.)
 */
function removeStaleTemps(abs: string): void {
  const dir = dirname(abs);
  const prefix = `.${basename(abs)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.\d+\.tmp(-wal|-shm|-journal)?$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      // (and untouched for a minute: a writer on another machine sharing the folder has a pid unknown here)
      const st = lstatSync(join(dir, name));
      if (st.isFile() && Date.now() - st.mtimeMs > 60_000) rmSync(join(dir, name), { force: true });
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

/** A new private temp file beside `abs` (a name nobody holds: an existing file or symlink is skipped, never opened). */
export function createTemp(abs: string): { path: string; fd: number } {
  const dir = dirname(abs);
  removeStaleTemps(abs);
  for (;;) {
    const path = join(dir, `.${basename(abs)}.${process.pid}.${serial++}.tmp`);
    try {
      return { path, fd: createExclusive(path) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * A file being written: a private temp file beside the target, renamed over it by commit() (after an
 * fsync and a second check of the target), removed by abort(). Use either write() or, for a writer
 * that names its own file (SQLite's VACUUM INTO), the empty `tmp` file.
 */
export class AtomicFile {
  readonly target: OutputTarget;
  readonly tmp: string;
  private fd: number | null;
  private done = false;

  constructor(target: OutputTarget) {
    this.target = target;
    const t = createTemp(target.abs);
    this.tmp = t.path;
    this.fd = t.fd;
  }

  write(text: string | Uint8Array): void {
    if (this.fd === null) throw new Error('AtomicFile: written after close');
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  /** Closes the temp file (a writer that opens it by name, VACUUM INTO, runs after this). */
  closeTemp(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }

  /** fsyncs the temp file and renames it over the target, after checking the target again. */
  commit(): string {
    try {
      if (this.fd !== null) fsyncSync(this.fd);
      else {
        const fd = openSync(this.tmp, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      this.closeTemp();
      // what was checked before the command ran may have changed since (a file made meanwhile, a link moved)
      const now = checkOutput(this.target.path, this.target);
      if (now.abs !== this.target.abs) {
        throw new UsageError(`cannot write ${this.target.flag} ${this.target.path}: it points to another file than when the command started`, `run the command again`);
      }
      // the replaced database's -wal, -shm and -journal go first: never read into the new one
      for (const f of now.companions ?? []) rmSync(f, { force: true });
      renameSync(this.tmp, this.target.abs);
      this.done = true;
      return this.target.abs;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Closes and removes the temp file; the target is untouched. Safe to call more than once. */
  abort(): void {
    try {
      this.closeTemp();
    } catch {
      // closing a file we are throwing away
    }
    if (!this.done) rmSync(this.tmp, { force: true });
    this.done = true;
  }
}

/** Writes a whole file at a checked target: temp file (exclusive, 0600), fsync, rename. */
export function writeOutputFile(path: string, text: string, o: { ledger: string; flag: string }): string {
  const f = new AtomicFile(checkOutput(path, o));
  try {
    f.write(text);
  } catch (e) {
    f.abort();
    throw e;
  }
  return f.commit();
}

/** Whether two paths name one file (by device and inode when both exist, else by resolved path). */
export function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return resolve(a) === resolve(b);
  }
}
