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

const EXPIRY_ENTRIES = 'CREATE TEMP TABLE IF NOT EXISTS expiry_entries (member_id TEXT PRIMARY KEY, entry_id INTEGER NOT NULL) WITHOUT ROWID';

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
    // PostgreSQL prepares statements as they first run, so there it is made by the run alone: a read-only
    // connection (a standby, default_transaction_read_only) refuses even a temp table, and expire preview
    // needs none (trial 43b).
    if (!this.pg) this.db.exec(EXPIRY_ENTRIES);
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
   * the outbox needs, ordered by member id. `lastEntryId` is the journal's last entry: the run's entries
   * follow it, one per member in this order (journal.postMany numbers them so).
   */
  begin(asOf: string, lastEntryId: number): MemberExpiryRow[] {
    // A big run rewrites every expiring lot and its index entries once: a page cache that holds them
    // (grown on demand, up to 128 MB) is much faster than spilling at the default 32 MB.
    this.db.pragma('cache_size = -131072');
    if (this.pg) this.db.exec(EXPIRY_ENTRIES);
    this.s.clearEntries.run();
    this.pending = [];
    this.ahead = null;
    if (this.pg && this.pg.relaxingForeignKeys && /^\d{4}-\d{2}-\d{2}$/.test(asOf)) return this.beginAhead(asOf, lastEntryId);
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

  /**
   * PostgreSQL, when the role may skip the per-row foreign-key checks: the server numbers the run's entries
   * itself (the last entry's id + the member's rank by id, as journal.postMany will), so the lot moves and
   * emptied lots are queued at once, before the entries exist (the moves' foreign keys unchecked, as
   * finish's are), and the server writes them (most of a big run's work) while this process hashes the
   * entries and builds the notifications. setEntry checks each entry's id against that numbering, and the
   * queued block checks its counts against the per-member sums; either failing aborts the transaction.
   */
  private beginAhead(asOf: string, lastEntryId: number): MemberExpiryRow[] {
    const pg = this.pg!;
    this.db.exec(
      'CREATE TEMP TABLE IF NOT EXISTS expiry_run (member_id TEXT PRIMARY KEY, entry_id BIGINT NOT NULL, points BIGINT NOT NULL, lots BIGINT NOT NULL) ON COMMIT DELETE ROWS; DELETE FROM temp.expiry_run',
    );
    this.ahead ??= {
      fill: this.db.prepare(
        `INSERT INTO temp.expiry_run (member_id, entry_id, points, lots)
         SELECT x.member_id, @last + row_number() OVER (ORDER BY x.member_id), x.points, x.lots
           FROM (SELECT member_id, sum(remaining) AS points, count(*) AS lots
                   FROM lots WHERE expires_on < @asOf AND remaining > 0 GROUP BY member_id) x
           JOIN members m ON m.id = x.member_id`,
      ),
      perMember: this.db.prepare(
        `SELECT r.member_id AS memberId, r.points, r.lots, m.balance, m.phone, m.email
           FROM temp.expiry_run r JOIN members m ON m.id = r.member_id
          ORDER BY r.entry_id`,
      ),
      last: 0,
      rows: [],
      next: 0,
      lots: 0,
    };
    const a = this.ahead;
    a.fill.run({ asOf, last: lastEntryId });
    a.rows = a.perMember.all([]) as MemberExpiryRow[];
    a.last = lastEntryId;
    a.next = 0;
    a.lots = 0;
    for (const r of a.rows) a.lots += r.lots;
    if (a.lots) {
      // (a DO block: its two statements' row counts are checked on the server, with nothing to wait for here;
      // asOf is a checked YYYY-MM-DD and the counts are integers, so they are written into its text)
      const date = `'${asOf}'`;
      pg.runQueued(
        `DO $$
         DECLARE moved bigint; emptied bigint;
         BEGIN
           INSERT INTO lot_moves (entry_id, lot_id, points)
           SELECT x.entry_id, l.id, -l.remaining FROM lots l JOIN pg_temp.expiry_run x ON x.member_id = l.member_id WHERE l.expires_on < ${date} AND l.remaining > 0;
           GET DIAGNOSTICS moved = ROW_COUNT;
           UPDATE lots SET remaining = 0 WHERE expires_on < ${date} AND remaining > 0;
           GET DIAGNOSTICS emptied = ROW_COUNT;
           IF moved <> ${a.lots} OR emptied <> ${a.lots} THEN
             RAISE EXCEPTION 'expiry moved % lots and emptied %, ${a.lots} expected', moved, emptied;
           END IF;
         END $$`,
        [],
        { relaxed: true },
      );
      pg.flushQueued(); // (sent now, not with the entries' rows: the server starts on it at once)
    }
    return a.rows;
  }
  /** The run begun ahead (beginAhead), null for the other runs. */
  private ahead: {
    fill: ReturnType<Db['prepare']>;
    perMember: ReturnType<Db['prepare']>;
    last: number;
    rows: MemberExpiryRow[];
    next: number;
    lots: number;
  } | null = null;

  /** Whether this run's lot moves were queued at begin (PostgreSQL): its entries then skip relaxed()'s round trips. */
  get movesQueued(): boolean {
    return this.ahead !== null && this.ahead.lots > 0;
  }

  /** Records the journal entry that expires a member's lots in this run. */
  setEntry(memberId: string, entryId: number): void {
    const a = this.ahead;
    if (a) {
      const r = a.rows[a.next];
      if (!r || r.memberId !== memberId || entryId !== a.last + a.next + 1) {
        throw new Error(`expiry entry ${entryId} for ${memberId} is not the one the lot moves were numbered with (${r ? `${a.last + a.next + 1} for ${r.memberId}` : 'none'})`);
      }
      a.next++;
    } else if (this.pg) this.pending.push(memberId, entryId); // PostgreSQL: one COPY at finish, not a round trip each
    else this.s.setEntry.run(memberId, entryId);
  }
  private readonly pg: Store['pg'];
  private pending: unknown[] = [];

  /** One lot move per expiring lot (to its member's entry), then every expiring lot emptied: two statements. */
  finish(asOf: string): { lots: number } {
    const a = this.ahead;
    if (a) {
      if (a.next !== a.rows.length) throw new Error(`expiry recorded ${a.next} entries, ${a.rows.length} expected`);
      // (waits for the queued moves: a count that did not match fails here, and the transaction with it)
      this.db.exec('DELETE FROM temp.expiry_run');
      return { lots: a.lots };
    }
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
    // (with the moves queued ahead, relaxForeignKeys is in force: the entries' and postings' queued COPYs
    // skip the checks already, and withoutForeignKeyChecks' round trip would wait for the queued moves)
    if (this.movesQueued) return fn();
    return this.pg ? this.pg.withoutForeignKeyChecks(fn) : fn();
  }

  /**
   * Members whose expiring lots got points back (a refund, a released hold, a voided return) after `at`, the
   * run's booking time, with the latest such time: their expiry is booked then, never before the points it
   * expires came back. Reads the entries after `at` alone (entries_at): few, and usually none.
   */
  givenBackAfter(at: string, asOf: string): Map<string, string> {
    const kinds = "('refund', 'release', 'void')";
    if (!this.db.prepare(`SELECT 1 FROM entries WHERE at > ? AND kind IN ${kinds} LIMIT 1`).pluck().get(at)) return new Map();
    const rows = this.db
      .prepare(
        `SELECT l.member_id, max(e.at) FROM entries e JOIN lot_moves mv ON mv.entry_id = e.id JOIN lots l ON l.id = mv.lot_id
          WHERE e.at > ? AND e.kind IN ${kinds} AND mv.points > 0 AND l.remaining > 0 AND l.expires_on < ?
          GROUP BY l.member_id`,
      )
      .raw()
      .all(at, asOf) as [string, string][];
    return new Map(rows);
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
