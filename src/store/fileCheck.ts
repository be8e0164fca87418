// SQLite's own check of a ledger file (PRAGMA quick_check: every page, b-tree and record well formed, indexes
// included), for ledger verify. It reads the whole file, about a second per 200 MB: run on a thread of its
// own, on a read-only connection of its own, while verify's pass reads the journal on the main thread.
import { Worker } from 'node:worker_threads';

/** The check's first `max` problems (none: the file is sound). Rejects with SQLite's error (its `code`). */
export function checkFile(path: string, busyMs: number, max = 10): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./fileCheckWorker.js', import.meta.url), { workerData: { path, busyMs, max } });
    w.once('message', (m: { problems?: string[]; error?: { message: string; code?: string } }) => {
      if (m.error) reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else resolve(m.problems ?? []);
    });
    w.once('error', reject);
  });
}

/** PRAGMA quick_check's rows as problems: none for "ok"; each problem alone (a row may hold several lines), without its "*** in database main ***" heading. */
export function quickCheckProblems(rows: readonly string[], max = 10): string[] {
  if (rows.length === 1 && rows[0] === 'ok') return [];
  return rows.flatMap((r) => r.split('\n')).map((x) => x.trim()).filter((x) => x && !/^\*\*\* in database \w+ \*\*\*$/.test(x)).slice(0, max);
}
