// Copies a whole ledger, row for row, between backends (SQLite file ⇄ PostgreSQL database): what
// `db copy` and, on PostgreSQL, `db backup` do. Every table's rows go across unchanged (ids, hashes,
// caches), so the copy's chain ends at the same head hash and `ledger verify` passes on it as on the source.
import type { Store } from './db.js';
import { ledgerTables } from './db.js';
import { UsageError } from '../errors.js';
import { redactUrl } from './pg/database.js';

function columnsOf(store: Store, table: string): string[] {
  if (store.pg) {
    return store.db
      .prepare('SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum')
      .pluck()
      .all(table) as string[];
  }
  return store.db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(table) as string[];
}

/** Whether a SQLite table has an implicit rowid that PostgreSQL keeps as a column (tables with no integer key). */
function sqliteHasRowid(store: Store, table: string): boolean {
  try {
    store.db.prepare(`SELECT rowid FROM "${table}" LIMIT 0`).all();
    return true;
  } catch {
    return false;
  }
}

export interface CopyCounts {
  tables: Record<string, number>;
}

/**
 * Copies every row of `from` into `to`, whose schema is at the same version and whose tables are empty.
 * Reads one snapshot of `from`; writes `to` in one transaction (all or nothing).
 */
export function copyLedgerRows(from: Store, to: Store): CopyCounts {
  const tables = ledgerTables(from);
  const counts: Record<string, number> = {};
  const undo = to.pg ? () => undefined : relaxForeignKeys(to);
  try {
    from.read(() =>
      to.write(() => {
        // under the writer lock: another process (a db copy or init into the same database) may have filled
        // the tables this one made since; they are never written into
        if (Number(to.db.prepare('SELECT count(*) FROM settings').pluck().get()) > 0) {
          throw new UsageError(`${to.pg ? redactUrl(to.path) : to.path} was filled by another process while this copy was written (another db copy or init into it): nothing of this copy is in it`, 'run the db copy again into a database of its own (it never overwrites a ledger)');
        }
        for (const t of tables) {
          const target = new Set(columnsOf(to, t));
          const source = columnsOf(from, t);
          const cols = source.filter((c) => target.has(c));
          // the rowid of a table with no integer key keeps its order across (PostgreSQL has it as a column)
          if (!source.includes('rowid') && target.has('rowid') && !from.pg && sqliteHasRowid(from, t)) cols.unshift('rowid');
          else if (source.includes('rowid') && !target.has('rowid') && !to.pg && sqliteHasRowid(to, t) && !cols.includes('rowid')) cols.unshift('rowid');
          const list = cols.map((c) => `"${c}"`).join(', ');
          const select = from.db.prepare(`SELECT ${list} FROM "${t}"`).raw();
          const width = cols.length;
          let n = 0;
          const BATCH = 5000;
          let buf: unknown[] = [];
          const flush = () => {
            if (!buf.length) return;
            if (to.pg) to.pg.copyRows(`"${t}"`, list, width, buf);
            else {
              const ins = to.db.prepare(`INSERT INTO "${t}" (${list}) VALUES (${cols.map(() => '?').join(', ')})`);
              for (let i = 0; i < buf.length; i += width) ins.run(buf.slice(i, i + width));
            }
            buf = [];
          };
          for (const row of select.iterate() as Iterable<unknown[]>) {
            for (const v of row) buf.push(v);
            n++;
            if (n % BATCH === 0) flush();
          }
          flush();
          counts[t] = n;
        }
        if (to.pg) resetIdentities(to);
      }),
    );
  } finally {
    undo();
  }
  // by name, as both backends list them alike (the copy's order follows each one's own foreign keys)
  return { tables: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/** After rows came in with their ids, each identity continues after the largest. */
function resetIdentities(store: Store): void {
  const ids = store.db
    .prepare("SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND a.attidentity <> '' AND NOT a.attisdropped")
    .raw()
    .all() as [string, string][];
  for (const [t, c] of ids) {
    store.db.prepare(`SELECT setval(pg_get_serial_sequence('"${t}"', '${c}'), COALESCE((SELECT MAX("${c}") FROM "${t}"), 0) + 1, false)`).get();
  }
}

function relaxForeignKeys(store: Store): () => void {
  store.db.pragma('foreign_keys = OFF');
  return () => {
    if (store.db.open) store.db.pragma('foreign_keys = ON');
  };
}

/** Whether every table of the ledger is empty but the ones init fills (settings, the first rules, its audit). */
export function ledgerIsEmpty(store: Store): boolean {
  for (const t of ledgerTables(store)) {
    const n = store.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number;
    if (n > 0) return false;
  }
  return true;
}
