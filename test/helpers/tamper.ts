// What the SQLite-only verify tests share: an edit of the ledger's file with plain SQL (as an operator with
// sqlite3 could make), and the checks `ledger verify` then fails (it must exit 6).
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { TmpLedger } from './cli.js';

export type Check = { name: string; ok: boolean; detail: string };

export function tamper(t: TmpLedger, sql: string): void {
  const db = new Database(t.db);
  db.exec(sql);
  db.close();
}

export function failed(t: TmpLedger): Check[] {
  const r = t.run(['ledger', 'verify', '--json']);
  expect(r.code, r.stderr).toBe(6);
  return r.json().checks.filter((c: Check) => !c.ok);
}
