// A ledger's generation (settings `ledger_generation`): a command whose ledger is replaced between two of its
// write transactions writes no more (LedgerReplacedError), but a ledger another init is still making, when
// this command first wrote, is not a replacement (trial 41: of several inits racing on one new file, one
// said LEDGER_REPLACED instead of "a ledger already exists").
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LedgerReplacedError } from '../../src/errors.js';
import { migrate, openStore } from '../../src/store/db.js';
import { tmpDir } from '../helpers/cli.js';

describe('ledger generation', () => {
  it('notes the generation once the ledger is made, and refuses a write after it changes', () => {
    const path = join(tmpDir(), 'g.db');
    const a = openStore(path, { create: true });
    try {
      migrate(a); // the tables are there (written by this command), init's settings not yet
      const other = new Database(path);
      other.exec("INSERT INTO settings (key, value) VALUES ('currency', 'CNY'), ('ledger_generation', 'made-by-the-other-init')");
      a.write(() => undefined); // made meanwhile by another init: noted now, not refused
      other.exec("UPDATE settings SET value = 'replaced' WHERE key = 'ledger_generation'");
      expect(() => a.write(() => undefined)).toThrow(LedgerReplacedError);
      other.close();
    } finally {
      a.close();
    }
  });

  it('a ledger made before generations were kept (no token) is replaced when one appears', () => {
    const path = join(tmpDir(), 'old.db');
    const a = openStore(path, { create: true });
    try {
      migrate(a);
      const other = new Database(path);
      other.exec("INSERT INTO settings (key, value) VALUES ('currency', 'CNY')");
      a.write(() => undefined); // an old ledger: no token, noted as such
      other.exec("INSERT INTO settings (key, value) VALUES ('ledger_generation', 'new')");
      expect(() => a.write(() => undefined)).toThrow(LedgerReplacedError);
      other.close();
    } finally {
      a.close();
    }
  });
});
