// Member statements: the balance change of every entry touching a member.
import type { Store } from './db.js';

export interface StatementRow {
  entry_id: number;
  at: string;
  kind: string;
  ref: string | null;
  memo: string | null;
  points: number;
  held: number;
}

export class MemberStatements {
  private readonly db;
  private readonly before;
  constructor(store: Store) {
    this.db = store.db;
    this.before = store.db
      .prepare(
        // through the member's entries, as lines() reads them (an entry's postings are its own member's)
        `SELECT coalesce(sum(p.points), 0) FROM entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.member_id = ? AND e.at < ? AND p.member_id = e.member_id AND p.account IN ('member','held')`,
      )
      .pluck();
  }
  balanceBefore(memberId: string, beforeIso: string): number {
    return this.before.get(memberId, beforeIso) as number;
  }
  lines(memberId: string, fromIso?: string, toIso?: string): StatementRow[] {
    const where = ['e.member_id = ?'];
    const args: unknown[] = [memberId];
    if (fromIso) (where.push('e.at >= ?'), args.push(fromIso));
    if (toIso) (where.push('e.at < ?'), args.push(toIso));
    return this.db
      .prepare(
        `SELECT e.id AS entry_id, e.at, e.kind, e.ref, e.memo,
                coalesce(sum(CASE WHEN p.account IN ('member','held') AND p.member_id = e.member_id THEN p.points END), 0) AS points,
                coalesce(sum(CASE WHEN p.account = 'held' AND p.member_id = e.member_id THEN p.points END), 0) AS held
           FROM entries e JOIN postings p ON p.entry_id = e.id
          WHERE ${where.join(' AND ')}
          GROUP BY e.id ORDER BY e.at, e.id`,
      )
      .all(...args) as StatementRow[];
  }
}

export const memberStatements = (store: Store): MemberStatements => new MemberStatements(store);
