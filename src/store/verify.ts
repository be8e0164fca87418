// The SQL behind `ledger verify`: reads the journal and the caches so the service can recompute them.
import type { Store } from './db.js';

export interface Mismatch {
  subject: string;
  detail: string;
}

/** Extra invariants other areas contribute (open holds = held, …): name → SQL returning (subject, detail) rows. */
export const extraChecks: { name: string; sql: string }[] = [];

export class VerifyQueries {
  private readonly db;
  constructor(store: Store) {
    this.db = store.db;
  }

  /** Entries in chain order, streamed as raw rows: [id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash]. */
  entriesRaw(): IterableIterator<unknown[]> {
    return this.db
      .prepare('SELECT id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash FROM entries ORDER BY id')
      .raw()
      .iterate() as IterableIterator<unknown[]>;
  }

  /** Postings in the same order (by entry, then as written), as raw rows: [entry_id, account, member_id, points]. */
  postingsRaw(): IterableIterator<unknown[]> {
    return this.db
      .prepare('SELECT entry_id, account, member_id, points FROM postings ORDER BY entry_id, rowid')
      .raw()
      .iterate() as IterableIterator<unknown[]>;
  }

  entryCount(): number {
    return this.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  }

  orphanPostings(): Mismatch[] {
    return this.db
      .prepare(`SELECT 'posting ' || p.rowid AS subject, 'belongs to no entry (entry_id ' || p.entry_id || ')' AS detail
                  FROM postings p LEFT JOIN entries e ON e.id = p.entry_id WHERE e.id IS NULL LIMIT 5`)
      .all() as Mismatch[];
  }

  /** Member caches against the sums of their postings. */
  memberCaches(): Mismatch[] {
    return this.db
      .prepare(
        `WITH s AS (
           SELECT member_id,
                  sum(CASE WHEN account IN ('member','held') THEN points ELSE 0 END) AS bal,
                  sum(CASE WHEN account = 'held' THEN points ELSE 0 END) AS held,
                  -sum(CASE WHEN account = 'issued' THEN points ELSE 0 END) AS earned
             FROM postings WHERE member_id IS NOT NULL GROUP BY member_id)
         SELECT 'member ' || m.id AS subject,
                'cached balance ' || m.balance || ' / held ' || m.held || ' / lifetime ' || m.lifetime_earned ||
                ' but postings sum to ' || coalesce(s.bal, 0) || ' / ' || coalesce(s.held, 0) || ' / ' || coalesce(s.earned, 0) AS detail
           FROM members m LEFT JOIN s ON s.member_id = m.id
          WHERE m.balance <> coalesce(s.bal, 0) OR m.held <> coalesce(s.held, 0) OR m.lifetime_earned <> coalesce(s.earned, 0)
          LIMIT 5`,
      )
      .all() as Mismatch[];
  }

  /** Postings naming a member that does not exist. */
  unknownMembers(): Mismatch[] {
    return this.db
      .prepare(`SELECT 'entry ' || p.entry_id AS subject, 'posts to unknown member ' || p.member_id AS detail
                  FROM postings p WHERE p.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = p.member_id) LIMIT 5`)
      .all() as Mismatch[];
  }

  /** Each lot's remaining against its points and moves. */
  lotRemaining(): Mismatch[] {
    return this.db
      .prepare(
        `SELECT 'lot ' || l.id AS subject,
                'remaining ' || l.remaining || ' but points ' || l.points || ' and moves ' || coalesce(mv.s, 0) AS detail
           FROM lots l LEFT JOIN (SELECT lot_id, sum(points) AS s FROM lot_moves GROUP BY lot_id) mv ON mv.lot_id = l.id
          WHERE l.remaining <> l.points + coalesce(mv.s, 0) OR l.remaining < 0 OR l.remaining > l.points
          LIMIT 5`,
      )
      .all() as Mismatch[];
  }

  /** balance = Σ lots remaining + held − debt, with debt ≥ 0. */
  lotsAgainstBalances(): Mismatch[] {
    return this.db
      .prepare(
        `SELECT 'member ' || m.id AS subject,
                'balance ' || m.balance || ' but lots hold ' || coalesce(l.r, 0) || ', held ' || m.held || ', debt ' || m.debt AS detail
           FROM members m LEFT JOIN (SELECT member_id, sum(remaining) AS r FROM lots GROUP BY member_id) l ON l.member_id = m.id
          WHERE m.balance <> coalesce(l.r, 0) + m.held - m.debt OR m.debt < 0 OR m.held < 0
          LIMIT 5`,
      )
      .all() as Mismatch[];
  }

  /** Lot moves must be recorded by an entry of the lot's own member. */
  lotMovesOwnership(): Mismatch[] {
    return this.db
      .prepare(
        `SELECT 'entry ' || mv.entry_id AS subject, 'moves lot ' || mv.lot_id || ' of another member' AS detail
           FROM lot_moves mv JOIN lots l ON l.id = mv.lot_id JOIN entries e ON e.id = mv.entry_id
          WHERE e.member_id IS NOT l.member_id LIMIT 5`,
      )
      .all() as Mismatch[];
  }

  extra(sql: string): Mismatch[] {
    return this.db.prepare(sql).all() as Mismatch[];
  }
}

export const verifyQueries = (store: Store): VerifyQueries => new VerifyQueries(store);
