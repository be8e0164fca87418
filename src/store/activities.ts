// Activity awards (issue 18): points for tasks keyed by (activity, ref), the review of a frozen member's
// awards, the sums the reports split issued points by, and the check ledger verify runs on them.
import type { Store } from './db.js';
import { extraChecks } from './verify.js';

export interface AwardRow {
  id: number;
  activity: string;
  ref: string;
  member_id: string;
  occurred_at: string;
  status: 'awarded' | 'review' | 'rejected';
  points: number;
  rules_version: number;
  entry_id: number | null;
  run_id: number | null;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  note: string | null;
  result: string;
}

export type NewAward = Pick<AwardRow, 'activity' | 'ref' | 'member_id' | 'occurred_at' | 'status' | 'points' | 'rules_version' | 'entry_id' | 'run_id' | 'created_at' | 'result'>;

/** The journal ref of an award entry: its key, as a purchase's is `source:order_id`. */
export const awardEntryRef = (activity: string, ref: string): string => `${activity}:${ref}`;

export class ActivityAwards {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    const db = (this.db = store.db);
    this.s = {
      byKey: db.prepare('SELECT * FROM activity_awards WHERE activity = ? AND ref = ?'),
      byId: db.prepare('SELECT * FROM activity_awards WHERE id = ?'),
      byRef: db.prepare('SELECT * FROM activity_awards WHERE ref = ? ORDER BY id'),
      insert: db.prepare(
        `INSERT INTO activity_awards (activity, ref, member_id, occurred_at, status, points, rules_version, entry_id, run_id, created_at, result)
         VALUES (@activity, @ref, @member_id, @occurred_at, @status, @points, @rules_version, @entry_id, @run_id, @created_at, @result)`,
      ),
      // Awards that count against an activity's limits: credited or waiting in review (a rejected one does not).
      count: db.prepare(
        `SELECT count(*) FROM activity_awards
          WHERE member_id = ? AND activity = ? AND status IN ('awarded', 'review') AND occurred_at >= ? AND occurred_at < ? AND id <> ?`,
      ).pluck(),
      decide: db.prepare(
        `UPDATE activity_awards SET status = ?, entry_id = ?, decided_at = ?, decided_by = ?, note = ? WHERE id = ? AND status = 'review'`,
      ),
      setResult: db.prepare('UPDATE activity_awards SET result = ? WHERE id = ?'),
      // Report splits: award credits and positive adjusts (gross), per quarter-hour UTC slot as report activity reads flows.
      splitSlots: db.prepare(
        `SELECT substr(e.at, 1, 13) || ':' || (CAST(substr(e.at, 15, 2) AS INTEGER) / 15) AS slot,
                coalesce(sum(CASE WHEN e.kind = 'award' AND p.account = 'issued' AND p.points < 0 THEN -p.points END), 0) AS activities,
                coalesce(sum(CASE WHEN e.kind = 'adjust' AND p.account = 'adjusted' AND p.points < 0 THEN -p.points END), 0) AS adjustments
           FROM entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.kind IN ('award', 'adjust') AND e.at >= @from AND e.at < @to
          GROUP BY slot ORDER BY slot`,
      ),
      split: db.prepare(
        `SELECT coalesce(sum(CASE WHEN e.kind = 'award' AND p.account = 'issued' AND p.points < 0 THEN -p.points END), 0) AS activities,
                coalesce(sum(CASE WHEN e.kind = 'adjust' AND p.account = 'adjusted' AND p.points < 0 THEN -p.points END), 0) AS adjustments
           FROM entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.kind IN ('award', 'adjust') AND e.at >= @from AND e.at < @to`,
      ),
    };
  }
  byKey(activity: string, ref: string): AwardRow | undefined {
    return this.s.byKey.get(activity, ref) as AwardRow | undefined;
  }
  byId(id: number): AwardRow | undefined {
    return this.s.byId.get(id) as AwardRow | undefined;
  }
  /** Awards with this ref, any activity. */
  byRef(ref: string): AwardRow[] {
    return this.s.byRef.all(ref) as AwardRow[];
  }
  insert(a: NewAward): number {
    return Number(this.s.insert.run(a).lastInsertRowid);
  }
  setResult(id: number, result: string): void {
    this.s.setResult.run(result, id);
  }
  /** Awards of the member and activity counted by its limits in [fromIso, toIso), leaving out award `exceptId`. */
  count(memberId: string, activity: string, fromIso: string, toIso: string, exceptId = 0): number {
    return this.s.count.get(memberId, activity, fromIso, toIso, exceptId) as number;
  }
  /** Records the decision on an award in review; false when it was decided meanwhile. */
  decide(id: number, status: 'awarded' | 'rejected', entryId: number | null, at: string, operator: string, note: string | null): boolean {
    return this.s.decide.run(status, entryId, at, operator, note, id).changes === 1;
  }
  list(f: { status?: AwardRow['status'] | 'all'; memberId?: string; limit?: number }): AwardRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status && f.status !== 'all') (where.push('status = ?'), args.push(f.status));
    if (f.memberId) (where.push('member_id = ?'), args.push(f.memberId));
    const sql = `SELECT * FROM activity_awards ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? -1) as AwardRow[];
  }
  splitSlots(from: string, to: string): { slot: string; activities: number; adjustments: number }[] {
    return this.s.splitSlots.all({ from, to }) as { slot: string; activities: number; adjustments: number }[];
  }
  split(from: string, to: string): { activities: number; adjustments: number } {
    return this.s.split.get({ from, to }) as { activities: number; adjustments: number };
  }
}

export const activityAwards = (store: Store): ActivityAwards => new ActivityAwards(store);

// Every credited award names one award entry of its key, member, time and points; every award entry is
// claimed by exactly one award; an award in review or rejected has no entry.
extraChecks.push({
  name: 'activity-awards-match-entries',
  sql: `SELECT 'award ' || a.activity || ':' || a.ref AS subject,
               CASE WHEN a.status <> 'awarded' THEN 'is ' || a.status || ' but names entry ' || a.entry_id
                    WHEN a.entry_id IS NULL THEN 'is awarded with ' || a.points || ' points but names no entry'
                    WHEN e.id IS NULL THEN 'names entry ' || a.entry_id || ', which does not exist'
                    WHEN e.kind <> 'award' THEN 'names entry ' || e.id || ', a ' || e.kind || ' entry'
                    WHEN e.ref IS NOT a.activity || ':' || a.ref THEN 'was credited by entry ' || e.id || ' as ' || coalesce(e.ref, '(no ref)') || ': its key was changed'
                    WHEN e.member_id IS NOT a.member_id THEN 'is for member ' || a.member_id || ' but entry ' || e.id || ' is for ' || coalesce(e.member_id, 'nobody')
                    WHEN e.at <> a.occurred_at THEN 'occurred at ' || a.occurred_at || ' but entry ' || e.id || ' is dated ' || e.at
                    ELSE 'records ' || a.points || ' points but entry ' || e.id || ' credited ' || coalesce(a.m, 0) END AS detail
          FROM (SELECT a.*, (SELECT sum(x.points) FROM postings x WHERE x.entry_id = a.entry_id AND x.account = 'member') AS m
                  FROM activity_awards a WHERE a.status = 'awarded' OR a.entry_id IS NOT NULL) a
          LEFT JOIN entries e ON e.id = a.entry_id
         WHERE a.status <> 'awarded' OR a.entry_id IS NULL OR e.id IS NULL OR e.kind <> 'award'
            OR e.ref IS NOT a.activity || ':' || a.ref OR e.member_id IS NOT a.member_id OR e.at <> a.occurred_at
            OR coalesce(a.m, 0) <> a.points
        UNION ALL
        SELECT 'entry ' || e.id || ' (award)', CASE WHEN count(a.id) = 0 THEN 'is claimed by no award' ELSE 'is claimed by ' || count(a.id) || ' awards' END
          FROM entries e LEFT JOIN activity_awards a ON a.entry_id = e.id
         WHERE e.kind = 'award' GROUP BY e.id HAVING count(a.id) <> 1
        LIMIT 5`,
});
