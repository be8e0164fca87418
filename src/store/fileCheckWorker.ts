// The thread of fileCheck.ts: PRAGMA quick_check on a read-only connection of its own, its rows posted back.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { quickCheckProblems } from './fileCheck.js';

const { path, busyMs, max } = workerData as { path: string; busyMs: number; max: number };
try {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyMs });
  try {
    const rows = db.prepare(`PRAGMA quick_check(${Math.trunc(max)})`).pluck().all() as string[];
    parentPort!.postMessage({ problems: quickCheckProblems(rows, max) });
  } finally {
    db.close();
  }
} catch (e) {
  parentPort!.postMessage({ error: { message: (e as Error).message, code: (e as { code?: string }).code } });
}
