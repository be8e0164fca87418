// Every scratch directory a test file makes goes through here, and is removed when that file is done
// (test/helpers/tmp-cleanup.ts, a setup file): a run of the suite leaves nothing behind in the system's
// temp directory. POINTSMALL_KEEP_TMP=1 keeps them, to look at a failed test's ledger afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty directory under `parent` (the system's temp directory by default), removed after the file. */
export function tmpDir(prefix = 'pointsmall-', parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  made.push(dir);
  return dir;
}

export function removeTmpDirs(): void {
  if (process.env.POINTSMALL_KEEP_TMP === '1') return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
