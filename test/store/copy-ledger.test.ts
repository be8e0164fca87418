import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { copyLedgerInto } from '../../src/store/db.js';
import { BusyError } from '../../src/errors.js';
import { tmpDir } from '../helpers/cli.js';

function ledgerWith(path: string, rows: number, pageSize = 8192): void {
  const db = new Database(path);
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER)');
  const ins = db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < rows; i++) ins.run(i);
  db.close();
}

const count = (db: Database.Database) => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

/** A source of 3 rows and a live target of 50 (pages of the given sizes) in a fresh folder. */
function pair(sourcePageSize = 8192): { dir: string; source: string; target: string } {
  const dir = tmpDir();
  const source = join(dir, 'source.db');
  const target = join(dir, 'target.db');
  ledgerWith(source, 3, sourcePageSize);
  ledgerWith(target, 50);
  return { dir, source, target };
}

describe('copyLedgerInto a live ledger', () => {
  it('waits for a writer holding the target and then copies every page, never reporting an empty copy as done', async () => {
    const { source, target } = pair();
    const writer = new Database(target);
    writer.exec('BEGIN IMMEDIATE');
    writer.prepare('INSERT INTO t VALUES (?)').run(999);
    const copying = copyLedgerInto(source, target, 5000);
    await new Promise((r) => setTimeout(r, 300));
    writer.exec('COMMIT');
    await copying;
    // The writer's connection stays open and sees the copied ledger, not its own older pages.
    expect(count(writer)).toBe(3);
    writer.close();
    const reader = new Database(target, { readonly: true });
    expect(count(reader)).toBe(3);
    reader.close();
  });

  it('gives up with a busy error after the timeout, leaving the target as it was', async () => {
    const { source, target } = pair();
    const writer = new Database(target);
    writer.exec('BEGIN IMMEDIATE');
    await expect(copyLedgerInto(source, target, 300)).rejects.toBeInstanceOf(BusyError);
    writer.exec('ROLLBACK');
    expect(count(writer)).toBe(50);
    writer.close();
  });

  it('copies a backup with another page size (made before ledgers had 8 KiB pages) into a live ledger', async () => {
    const { dir, source, target } = pair(4096);
    const reader = new Database(target, { readonly: true });
    expect(count(reader)).toBe(50);
    await copyLedgerInto(source, target, 5000);
    expect(count(reader)).toBe(3);
    expect(reader.pragma('page_size', { simple: true })).toBe(8192);
    reader.close();
    expect(readdirSync(dir).filter((f) => f.includes('.restore-'))).toEqual([]); // the rebuilt copy is gone
  });
});
