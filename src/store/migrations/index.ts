// The ordered list of schema migrations; PRAGMA user_version records the last one applied.
// Each area adds its own numbered file; a landed migration is never edited. Number 4 was never used.
import { sql as m001 } from './001_ledger.js';
import { sql as m002 } from './002_import.js';
import { sql as m003 } from './003_checkout.js';
import { sql as m005 } from './005_payment_fence.js';
import { sql as m006 } from './006_import_runs.js';
import { sql as m007 } from './007_rules_known.js';
import { sql as m009 } from './009_activities.js';
import { sql as m008 } from './008_purchase_lines.js';
import { sql as m010 } from './010_verified_spending.js';
import { pg as m011pg, sql as m011 } from './011_lots_expiry_hot.js';
import { pg as m012pg, sql as m012 } from './012_lot_moves_unindexed.js';
import { pg as m014pg, sql as m014 } from './014_bytewise_text.js';
import { sql as m013 } from './013_import_indexes.js';
import { pg as m015pg, sql as m015 } from './015_order_line_ratio.js';
import { sql as m016 } from './016_order_line_spread.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** PostgreSQL's own DDL for this version, where it differs from sql (run through ddlToPg all the same). */
  pg?: string;
}

export const migrations: Migration[] = [
  { version: 1, name: 'ledger', sql: m001 },
  { version: 2, name: 'import', sql: m002 },
  { version: 3, name: 'checkout', sql: m003 },
  { version: 5, name: 'payment-fence', sql: m005 },
  { version: 6, name: 'import-runs', sql: m006 },
  { version: 7, name: 'rules-known', sql: m007 },
  { version: 9, name: 'activities', sql: m009 },
  { version: 8, name: 'purchase-lines', sql: m008 },
  { version: 10, name: 'verified-spending', sql: m010 },
  { version: 11, name: 'lots-expiry-hot', sql: m011, pg: m011pg },
  { version: 12, name: 'lot-moves-unindexed', sql: m012, pg: m012pg },
  { version: 13, name: 'import-indexes', sql: m013 },
  { version: 14, name: 'bytewise-text', sql: m014, pg: m014pg },
  { version: 15, name: 'order-line-ratio', sql: m015, pg: m015pg },
  { version: 16, name: 'order-line-spread', sql: m016 },
].sort((a, b) => a.version - b.version); // areas land in any order; they apply by number

/** Migration 16 as `db migrate` names it in `applied`: the orders before it may keep an older spread of their points. */
export const SPREAD_MIGRATION = '016_order-line-spread';
export const SPREAD_MIGRATION_VERSION = 16;

export const latestVersion = (): number => migrations[migrations.length - 1].version;
