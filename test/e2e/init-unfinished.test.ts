// An `init` killed before it finished (trial 31, finding 2) leaves a schema part of the way up, or all of
// it without the settings its last transaction writes. Such a ledger holds nothing: every command says so
// and names `init`, and `init` (no --force) finishes it with the currency and zone it is given.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { PG, runCli, tmpDir } from '../helpers/cli.js';

/** A ledger file as an init stopped after its first `upTo` migrations leaves it (each migration commits alone). */
function stoppedInit(upTo: number): string {
  const file = join(tmpDir(), 'ledger.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const m of migrations.slice(0, upTo)) {
    db.exec(m.sql);
    db.pragma(`user_version = ${m.version}`);
  }
  db.close();
  return file;
}

describe.skipIf(PG)('a ledger whose init was stopped before it finished', () => {
  for (const upTo of [5, migrations.length]) {
    it(`stopped after ${upTo === migrations.length ? 'every migration, before its settings' : `migration ${upTo}`}: commands say so and name init, which finishes it`, () => {
      const db = stoppedInit(upTo);
      for (const args of [['member', 'list'], ['member', 'add', '--id', 'M1', '--name', 'A']]) {
        const r = runCli([...args, '--db', db, '--json']);
        expect(r.code, r.stderr).toBe(2);
        const e = JSON.parse(r.stderr.trim()).error;
        expect(e.code).toBe('LEDGER_UNFINISHED');
        expect(e.message).toContain(`whose init did not finish (it was stopped at schema version ${migrations[upTo - 1].version}`);
        expect(e.hint).toContain(`pointsmall init --db ${db}`);
      }
      // db migrate does not take it for an old ledger: init finishes it (trial 31)
      const migrate = runCli(['db', 'migrate', '--db', db, '--json']);
      expect(migrate.code, migrate.stderr).toBe(2);
      expect(JSON.parse(migrate.stderr.trim()).error.code).toBe('LEDGER_UNFINISHED');
      expect(existsSync(`${db}.v${migrations[upTo - 1].version}.bak`)).toBe(false);
      const init = runCli(['init', '--db', db, '--currency', 'JPY', '--timezone', 'Asia/Tokyo', '--json']);
      expect(init.code, init.stderr).toBe(0);
      expect(init.json()).toMatchObject({ currency: 'JPY', timezone: 'Asia/Tokyo', erased: null });
      expect(runCli(['db', 'info', '--db', db, '--json']).json()).toMatchObject({ currency: 'JPY', timezone: 'Asia/Tokyo' });
      expect(runCli(['member', 'add', '--id', 'M1', '--name', 'A', '--db', db, '--json']).code).toBe(0);
      expect(runCli(['ledger', 'verify', '--db', db, '--json']).code).toBe(0);
      // and a finished ledger is never taken for one: init refuses it without --force
      expect(runCli(['init', '--db', db, '--json']).code).toBe(2);
    });
  }
});
