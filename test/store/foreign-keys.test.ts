// The PostgreSQL queue keeps a row behind the rows it references (copyRowsQueued): its map of foreign keys
// must be the ledger's own, as the migrations make them.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { FOREIGN_KEYS } from '../../src/store/pg/database.js';

describe('FOREIGN_KEYS', () => {
  it('names, for every table, the tables its foreign keys reference after the last migration', () => {
    const db = new Database(':memory:');
    try {
      for (const m of migrations) db.exec(m.sql);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
      const actual: Record<string, string[]> = {};
      for (const t of tables) {
        const parents = [...new Set((db.prepare(`PRAGMA foreign_key_list(${t})`).all() as { table: string }[]).map((r) => r.table))].sort();
        if (parents.length) actual[t] = parents;
      }
      expect(actual).toEqual(FOREIGN_KEYS);
    } finally {
      db.close();
    }
  });
});
