// The ordered list of schema migrations; PRAGMA user_version records the last one applied.
// Each area adds its own numbered file; a landed migration is never edited.
import { sql as m001 } from './001_ledger.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [{ version: 1, name: 'ledger', sql: m001 }];

export const latestVersion = (): number => migrations[migrations.length - 1].version;
