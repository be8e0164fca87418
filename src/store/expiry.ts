// The SQL of expiry runs and previews. Set-based: the expiring lots are summed per member with one GROUP BY,
// and their lot moves and emptied remaining caches are written by one statement each, never row by row.
import type { Db, Store } from './db.js';

type Plan = Record<'perMember' | 'moves' | 'emptyLots', ReturnType<Db['prepare']>>;

export interface MemberExpiryRow {
  memberId: string;
  points: number;
  lots: number;
  balance: number;
  phone: string | null;
  email: string | null;
}

export interface ExpiringLotRow {
  lotId: number;
  memberId: string;
  name: string;
  phone: string | null;
  email: string | null;
  remaining: number;
  expiresOn: string;
}

export interface ExpiryCounts {
  lots: number;
  points: number;
  members: number;
}

export class ExpiryQueries {
  private readonly db;
  private readonly s;
  private readonly byIndex: Plan;
  private readonly byScan: Plan;
  private current: Plan;
  constructor(store: Store) {
    this.db = store.db;
    this.pg = store.pg;
    // The run's member → entry map lives in the connection's temp schema (memory), not in the ledger file.
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS expiry_entries (member_id TEXT PRIMARY KEY, entry_id INTEGER NOT NULL) WITHOUT ROWID');
    // Every statement selects the expiring lots the same way; inside the run's one write transaction they all
    // see the same lots, so per-member sums, moves and emptied lots agree exactly. Two plans: a nightly run
    // expires a sliver of the lots and walks the partial index lots_expiry_open; a run that expires a large
    // share (a first run, a backfill) scans the table in rowid order, which writes pages sequentially.
    const plan = (scan: string): Plan => ({
      perMember: this.db.prepare(
        `SELECT x.member_id AS memberId, x.points, x.lots, m.balance, m.phone, m.email
           FROM (SELECT member_id, sum(remaining) AS points, count(*) AS lots
                   FROM lots ${scan} WHERE expires_on < @asOf AND remaining > 0 GROUP BY member_id) x
           JOIN members m ON m.id = x.member_id
          ORDER BY x.member_id`,
      ),
      moves: this.db.prepare(
        `INSERT INTO lot_moves (entry_id, lot_id, points)
         SELECT x.entry_id, l.id, -l.remaining
           FROM lots l ${scan} JOIN temp.expiry_entries x ON x.member_id = l.member_id
          WHERE l.expires_on < @asOf AND l.remaining > 0`,
      ),
      emptyLots: this.db.prepare(`UPDATE lots ${scan} SET remaining = 0 WHERE expires_on < @asOf AND remaining > 0`),
    });
    this.byIndex = plan('INDEXED BY lots_expiry_open');
    this.byScan = plan('NOT INDEXED');
    this.current = this.byIndex;
    this.s = {
      clearEntries: this.db.prepare('DELETE FROM temp.expiry_entries'),
      setEntry: this.db.prepare('INSERT INTO temp.expiry_entries (member_id, entry_id) VALUES (?, ?)'),
      expiringCount: this.db.prepare('SELECT count(*) FROM lots INDEXED BY lots_expiry_open WHERE expires_on < ? AND remaining > 0').pluck(),
      lotCount: this.db.prepare('SELECT coalesce(max(id), 0) FROM lots').pluck(),
      counts: this.db.prepare(
        `SELECT count(*) AS lots, coalesce(sum(remaining), 0) AS points, count(DISTINCT member_id) AS members
           FROM lots WHERE expires_on < @asOf AND remaining > 0`,
      ),
      window: this.db.prepare(
        `SELECT l.id AS lotId, l.member_id AS memberId, m.name, m.phone, m.email, l.remaining, l.expires_on AS expiresOn
           FROM lots l JOIN members m ON m.id = l.member_id
          WHERE l.remaining > 0 AND l.expires_on >= ? AND l.expires_on <= ?
          ORDER BY l.expires_on, l.member_id, l.id`,
      ),
    };
  }

  /**
   * Starts a run (inside store.write): returns the lots the as-of date expires summed per member, with what
   * the outbox needs, ordered by member id.
   */
  begin(asOf: string): MemberExpiryRow[] {
    // A big run rewrites every expiring lot and its index entries once: a page cache that holds them
    // (grown on demand, up to 128 MB) is much faster than spilling at the default 32 MB.
    this.db.pragma('cache_size = -131072');
    this.s.clearEntries.run();
    this.pending = [];
    // (PostgreSQL's planner chooses for itself: the two plans are one statement there, and counting first
    // would be one more pass over the lots)
    if (this.pg) this.current = this.byIndex;
    else {
      const expiring = this.s.expiringCount.get(asOf) as number;
      const total = this.s.lotCount.get() as number;
      this.current = expiring * 10 > total ? this.byScan : this.byIndex;
    }
    return this.current.perMember.all({ asOf }) as MemberExpiryRow[];
  }

  /** Records the journal entry that expires a member's lots in this run. */
  setEntry(memberId: string, entryId: number): void {
    if (this.pg) this.pending.push(memberId, entryId); // PostgreSQL: one COPY at finish, not a round trip each
    else this.s.setEntry.run(memberId, entryId);
  }
  private readonly pg: Store['pg'];
  private pending: unknown[] = [];

  /** One lot move per expiring lot (to its member's entry), then every expiring lot emptied: two statements. */
  finish(asOf: string): { lots: number } {
    if (this.pg && this.pending.length) {
      this.pg.copyRows('pg_temp.expiry_entries', 'member_id, entry_id', 2, this.pending);
      this.pending = [];
    }
    // Moves go to entries this run wrote, from lots that exist: on PostgreSQL without the per-row foreign-key
    // checks (relaxRowChecks' counterpart), which would otherwise be two index probes per lot.
    const { moved, emptied } = this.relaxed(() => ({ moved: this.current.moves.run({ asOf }).changes, emptied: this.current.emptyLots.run({ asOf }).changes }));
    this.s.clearEntries.run();
    if (moved !== emptied) throw new Error(`expiry moved ${moved} lots but emptied ${emptied}`);
    return { lots: moved };
  }

  /**
   * Runs fn, which writes rows made from rows that exist (the run's entries and postings, its lot moves), on
   * PostgreSQL without the server's per-row foreign-key checks (see PgDatabase.withoutForeignKeyChecks); on
   * SQLite relaxRowChecks has turned them off for the whole run already.
   */
  relaxed<T>(fn: () => T): T {
    return this.pg ? this.pg.withoutForeignKeyChecks(fn) : fn();
  }

  /** What a run as of this date would expire, without writing (dry run). */
  counts(asOf: string): ExpiryCounts {
    return this.s.counts.get({ asOf }) as ExpiryCounts;
  }

  /** Open lots whose expiresOn falls in [from, to], with their members. */
  window(from: string, to: string): ExpiringLotRow[] {
    return this.s.window.all(from, to) as ExpiringLotRow[];
  }
}

export const expiryQueries = (store: Store): ExpiryQueries => new ExpiryQueries(store);
