// The import's scratch folder (its stage: a copy of the file's rows, member data) in the system's temp
// directory or POINTSMALL_TMPDIR. The import removes it when it ends, and on SIGTERM, SIGINT or SIGHUP; a
// process killed outright (SIGKILL, the kernel out of memory, a power cut) cannot, so each folder names
// its process in a file, `owner`, and the next import removes the folders of processes that are gone.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

const PREFIX = 'pointsmall-import-';
/** A folder without an owner file (written by a build before it, or being made right now) is left this long. */
const UNOWNED_GRACE_MS = 24 * 60 * 60 * 1000;

/** Where scratch folders go: POINTSMALL_TMPDIR, else the system's temp folder (TMPDIR). */
export const scratchParent = (): string => process.env.POINTSMALL_TMPDIR || tmpdir();

/** A new scratch folder, after removing those of imports that died; synchronous, so no signal comes between. */
export function newScratchDir(): string {
  const parent = scratchParent();
  removeOrphans(parent);
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, PREFIX));
  } catch (e) {
    // a temp folder that is not there, not a folder or not writable: the environment's, not a bug
    const code = String((e as { code?: unknown }).code);
    if (!['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS'].includes(code)) throw e;
    const named = process.env.POINTSMALL_TMPDIR ? 'POINTSMALL_TMPDIR' : process.env.TMPDIR ? 'TMPDIR' : "the system's temp folder";
    throw new UsageError(
      `cannot make the import's scratch folder in ${parent} (${named}): ${code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'it is not a folder' : 'it is not writable'}; nothing was written`,
      `set POINTSMALL_TMPDIR (or TMPDIR) to a writable folder with room for a copy of the file's rows`,
    );
  }
  // written aside and renamed: a process killed in between leaves no owner file (the age rule), never an empty one
  writeFileSync(join(dir, 'owner.new'), `${process.pid} ${hostname()}\n`, { mode: 0o600 });
  renameSync(join(dir, 'owner.new'), join(dir, 'owner'));
  return dir;
}

/**
 * Removes the scratch folders in `parent` whose import is no longer running on this machine: its process
 * gone, or (no owner file) older than a day. Only real folders of this user: never a link, never another
 * user's. Anything it cannot read or remove is left as it is.
 */
export function removeOrphans(parent: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(parent, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      if (!orphaned(dir, st.mtimeMs, now)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

function orphaned(dir: string, mtimeMs: number, now: number): boolean {
  let owner: string;
  try {
    owner = readFileSync(join(dir, 'owner'), 'utf8');
  } catch {
    return now - mtimeMs > UNOWNED_GRACE_MS;
  }
  const [pid, host] = owner.trim().split(' ');
  // (a partial owner file, as an older build could leave: judged by age, as a folder without one)
  if (!/^\d+$/.test(pid ?? '') || !host) return now - mtimeMs > UNOWNED_GRACE_MS;
  if (host !== hostname()) return false; // another machine's (a shared folder): not ours to judge
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false; // running (a pid taken again by another process keeps the folder: never removed wrongly)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
