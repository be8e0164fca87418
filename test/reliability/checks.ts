// Checks shared by the reliability suites: what every command promises whatever it was given.
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import * as cliHelpers from '../helpers/cli.js';
import type { RunResult } from '../helpers/cli.js';

/** Everything a failed command could have changed: row counts and the caches. */
export function fingerprint(db: string): string {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const parts = tables.map((t) => `${t}=${d.prepare(`SELECT count(*) FROM "${t}"`).pluck().get()}`);
    parts.push(`members=${JSON.stringify(d.prepare('SELECT sum(balance), sum(held), sum(debt), sum(lifetime_earned), group_concat(status) FROM members').raw().get())}`);
    parts.push(`lots=${d.prepare('SELECT sum(remaining) FROM lots').pluck().get()}`);
    parts.push(`stock=${JSON.stringify(d.prepare('SELECT sum(stock), sum(stock_held), sum(active) FROM catalog_items').raw().get())}`);
    return parts.join(' ');
  } finally {
    d.close();
  }
}

/** The promises every command keeps whatever it was given. */
export function expectClean(r: RunResult, what: string): void {
  expect([0, 2, 3, 4, 5, 6], `${what}\nexit ${r.code}\n${r.stderr}`).toContain(r.code);
  expect(r.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr, what).not.toMatch(/internal error|this is a bug/);
}


/** Whether a command is registered yet (the other areas land while these suites grow). */
export function hasCommand(...path: string[]): boolean {
  const { runCli } = cliHelpers;
  const r = runCli([...path, '--help']);
  return r.code === 0 && r.stdout.startsWith(`Usage: pointsmall ${path.join(' ')}`);
}
