// The SQL of expiry runs and previews. Set-based: the expiring lots are summed per member with one GROUP BY,
// and their lot moves and emptied remaining caches are written by one statement each, never row by row.
import type { Store } from './db.js';

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
  constructor(store: Store) {
    this.db = store.db;
    // The run's member → entry map lives in the connection's temp schema (memory), not in the ledger file.
    this.db.exec('CREATE TEMP TABLE IF NOT EXISTS expiry_entries (member_id TEXT PRIMARY KEY, entry_id INTEGER NOT NULL) WITHOUT ROWID');
    // Every statement selects the expiring lots the same way (lots_expiry_open); inside the run's one write
    // transaction they all see the same lots, so per-member sums, moves and emptied lots agree exactly.
    this.s = {
      clearEntries: this.db.prepare('DELETE FROM temp.expiry_entries'),
      perMember: this.db.prepare(
        `SELECT x.member_id AS memberId, x.points, x.lots, m.balance, m.phone, m.email
           FROM (SELECT member_id, sum(remaining) AS points, count(*) AS lots
                   FROM lots WHERE expires_on < @asOf AND remaining > 0 GROUP BY member_id) x
           JOIN members m ON m.id = x.member_id
          ORDER BY x.member_id`,
      ),
      setEntry: this.db.prepare('INSERT INTO temp.expiry_entries (member_id, entry_id) VALUES (?, ?)'),
      moves: this.db.prepare(
        `INSERT INTO lot_moves (entry_id, lot_id, points)
         SELECT x.entry_id, l.id, -l.remaining
           FROM lots l JOIN temp.expiry_entries x ON x.member_id = l.member_id
          WHERE l.expires_on < @asOf AND l.remaining > 0
          ORDER BY l.id`,
      ),
      emptyLots: this.db.prepare('UPDATE lots SET remaining = 0 WHERE expires_on < @asOf AND remaining > 0'),
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
    return this.s.perMember.all({ asOf }) as MemberExpiryRow[];
  }

  /** Records the journal entry that expires a member's lots in this run. */
  setEntry(memberId: string, entryId: number): void {
    this.s.setEntry.run(memberId, entryId);
  }

  /** One lot move per expiring lot (to its member's entry), then every expiring lot emptied: two statements. */
  finish(asOf: string): { lots: number } {
    const moved = this.s.moves.run({ asOf }).changes;
    const emptied = this.s.emptyLots.run({ asOf }).changes;
    this.s.clearEntries.run();
    if (moved !== emptied) throw new Error(`expiry moved ${moved} lots but emptied ${emptied}`);
    return { lots: moved };
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
