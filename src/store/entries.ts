// Reading the journal: entries with postings, filtered, and streamed for export.
import type { Store } from './db.js';
import { NO_LIMIT } from './members.js';

export interface EntryFilter {
  memberId?: string;
  kind?: string;
  fromIso?: string;
  toIso?: string;
  limit?: number;
  /** Skips this many of the newest entries. */
  offset?: number;
}

export interface EntryWithPostings {
  id: number;
  at: string;
  recordedAt: string;
  kind: string;
  memberId: string | null;
  ref: string | null;
  memo: string | null;
  operator: string;
  hash: string;
  postings: { account: string; memberId: string | null; points: number }[];
}

interface Row {
  id: number;
  at: string;
  recorded_at: string;
  kind: string;
  member_id: string | null;
  ref: string | null;
  memo: string | null;
  operator: string;
  hash: string;
  account: string;
  pmember: string | null;
  points: number;
}

export class Entries {
  private readonly db;
  constructor(store: Store) {
    this.db = store.db;
  }
  private group(rows: Iterable<Row>): EntryWithPostings[] {
    const out: EntryWithPostings[] = [];
    let cur: EntryWithPostings | undefined;
    for (const r of rows) {
      if (!cur || cur.id !== r.id) {
        cur = { id: r.id, at: r.at, recordedAt: r.recorded_at, kind: r.kind, memberId: r.member_id, ref: r.ref, memo: r.memo, operator: r.operator, hash: r.hash, postings: [] };
        out.push(cur);
      }
      cur.postings.push({ account: r.account, memberId: r.pmember, points: r.points });
    }
    return out;
  }
  list(f: EntryFilter): EntryWithPostings[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.memberId) (where.push('e.member_id = ?'), args.push(f.memberId));
    if (f.kind) (where.push('e.kind = ?'), args.push(f.kind));
    if (f.fromIso) (where.push('e.at >= ?'), args.push(f.fromIso));
    if (f.toIso) (where.push('e.at < ?'), args.push(f.toIso));
    const sql = `WITH sel AS (SELECT * FROM entries e ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.id DESC LIMIT ? OFFSET ?)
      SELECT sel.id, sel.at, sel.recorded_at, sel.kind, sel.member_id, sel.ref, sel.memo, sel.operator, sel.hash,
             p.account, p.member_id AS pmember, p.points
        FROM sel JOIN postings p ON p.entry_id = sel.id ORDER BY sel.id, p.rowid`;
    return this.group(this.db.prepare(sql).all(...args, f.limit ?? NO_LIMIT, f.offset ?? 0) as Row[]);
  }
  /** Every entry in chain order, a chunk at a time (bounded memory). */
  *iterateAll(chunk = 5000): Generator<EntryWithPostings[]> {
    const stmt = this.db.prepare(
      `SELECT e.id, e.at, e.recorded_at, e.kind, e.member_id, e.ref, e.memo, e.operator, e.hash,
              p.account, p.member_id AS pmember, p.points
         FROM entries e JOIN postings p ON p.entry_id = e.id WHERE e.id > ? AND e.id <= ? ORDER BY e.id, p.rowid`,
    );
    const max = (this.db.prepare('SELECT coalesce(max(id), 0) FROM entries').pluck().get() as number) ?? 0;
    for (let lo = 0; lo < max; lo += chunk) yield this.group(stmt.all(lo, lo + chunk) as Row[]);
  }
}

export const entries = (store: Store): Entries => new Entries(store);

/**
 * What this ledger's journal has that another ledger file's lacks (entries compared by hash): how many and
 * the newest of them, for the question before a restore replaces this ledger with that file.
 */
export function entriesMissingFrom(
  store: Store,
  otherPath: string,
): { liveEntries: number; otherEntries: number; missing: number; newestAt: string | null; newestRecordedAt: string | null; rows: RowsLost } {
  const db = store.db;
  db.prepare('ATTACH ? AS restore_candidate').run(otherPath);
  try {
    const liveEntries = db.prepare('SELECT count(*) FROM main.entries').pluck().get() as number;
    const otherEntries = db.prepare('SELECT count(*) FROM restore_candidate.entries').pluck().get() as number;
    const r = db
      .prepare('SELECT count(*) AS n, max(at) AS newestAt, max(recorded_at) AS newestRecordedAt FROM main.entries WHERE hash NOT IN (SELECT hash FROM restore_candidate.entries)')
      .get() as { n: number; newestAt: string | null; newestRecordedAt: string | null };
    return { liveEntries, otherEntries, missing: r.n, newestAt: r.newestAt, newestRecordedAt: r.newestRecordedAt, rows: rowsMissing(store) };
  } finally {
    db.exec('DETACH restore_candidate');
  }
}

/** What else than entries a restore drops: rows of the live ledger whose key the backup lacks, per kind. */
export interface RowsLost {
  members: number;
  catalogItems: number;
  rulesVersions: number;
  importRuns: number;
  purchases: number;
  reviewItems: number;
  orders: number;
  coupons: number;
  auditRecords: number;
}
const KEYED: [keyof RowsLost, string, string][] = [
  ['members', 'members', 'id'],
  ['catalogItems', 'catalog_items', 'sku'],
  ['rulesVersions', 'rules_versions', 'id'],
  ['importRuns', 'import_runs', 'id'],
  ['purchases', 'purchases', 'id'],
  ['reviewItems', 'review_queue', 'id'],
  ['orders', 'orders', 'seq'],
  ['coupons', 'coupons', 'code'],
  ['auditRecords', 'audit', 'id'],
];
function rowsMissing(store: Store): RowsLost {
  const db = store.db;
  const has = (schema: string, table: string) => db.prepare(`SELECT count(*) FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(table) === 1;
  const out = {} as RowsLost;
  for (const [name, table, key] of KEYED) {
    if (!has('main', table)) out[name] = 0;
    else if (!has('restore_candidate', table)) out[name] = db.prepare(`SELECT count(*) FROM main.${table}`).pluck().get() as number; // a backup of an older schema
    else out[name] = db.prepare(`SELECT count(*) FROM main.${table} WHERE ${key} NOT IN (SELECT ${key} FROM restore_candidate.${table})`).pluck().get() as number;
  }
  return out;
}
