// What the books show of lots beyond their free points: points of open holds still reserved in their
// lots (SPEC §5: a lot's remaining counts them until capture), and points of lapsed lots that no expiry
// run has posted yet (§7: not spendable). `lots.remaining` caches the free points only: what spending,
// holds and expiry runs may take.
import type { Store } from './db.js';
import { extraChecks } from './verify.js';
import type { LotMonthRow } from './reports.js';
import { RAN_OUT } from './holds.js';

export interface BookLotRow {
  id: number;
  points: number;
  /** Free points (the lots.remaining cache). */
  free: number;
  /** Points of open holds taken from this lot, reserved until capture or release. */
  held: number;
  earned_at: string;
  expires_on: string | null;
}

/** A lot of a hold that ran out, not released yet, of a member in debt. */
export interface RanOutLotRow {
  memberId: string;
  debt: number;
  holdId: number;
  lotId: number;
  points: number;
  expiresOn: string | null;
}

export class Books {
  private readonly s;
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      lapsedOf: db
        .prepare('SELECT coalesce(sum(remaining), 0) FROM lots WHERE member_id = ? AND expires_on < ? AND remaining > 0')
        .pluck(),
      lapsedAll: db.prepare(
        `SELECT member_id AS memberId, sum(remaining) AS points FROM lots INDEXED BY lots_expiry_open
          WHERE expires_on < ? AND remaining > 0 GROUP BY member_id`,
      ),
      // (a hold that ran out by @by, not released yet: its points are free again, as checkout counts them)
      lotsOf: db.prepare(
        `WITH r AS (SELECT hl.lot_id, sum(CASE WHEN ${RAN_OUT} THEN 0 ELSE hl.points END) AS held, sum(CASE WHEN ${RAN_OUT} THEN hl.points ELSE 0 END) AS back
                      FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id LEFT JOIN orders o ON o.id = h.order_id
                     WHERE h.status = 'open' AND h.member_id = @id GROUP BY hl.lot_id)
         SELECT l.id, l.points, l.remaining + coalesce(r.back, 0) AS free, coalesce(r.held, 0) AS held, l.earned_at, l.expires_on
           FROM lots l LEFT JOIN r ON r.lot_id = l.id
          WHERE l.member_id = @id AND (l.remaining > 0 OR r.lot_id IS NOT NULL)
          ORDER BY l.expires_on IS NULL, l.expires_on, l.earned_at, l.id`,
      ),
      ranOut: db.prepare(
        `SELECT h.member_id AS memberId, sum(hl.points) AS points, sum(CASE WHEN l.expires_on < @today THEN hl.points ELSE 0 END) AS lapsed
           FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id LEFT JOIN orders o ON o.id = h.order_id
          WHERE h.status = 'open' AND ${RAN_OUT}
          GROUP BY h.member_id`,
      ),
      // the lots of holds that ran out, of members in debt (whose release repays it first), hold by hold in
      // the order releases go, each hold's lots in the order it took them
      ranOutOfDebtors: db.prepare(
        `SELECT h.member_id AS memberId, m.debt, h.id AS holdId, hl.lot_id AS lotId, hl.points, l.expires_on AS expiresOn
           FROM holds h JOIN members m ON m.id = h.member_id JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
           LEFT JOIN orders o ON o.id = h.order_id
          WHERE h.status = 'open' AND m.debt > 0 AND ${RAN_OUT} AND (CAST(@id AS TEXT) IS NULL OR h.member_id = @id)
          ORDER BY h.id, hl.seq`,
      ),
      heldByMonth: db.prepare(
        `SELECT substr(l.expires_on, 1, 7) AS month, CASE WHEN l.expires_on < @asOf THEN 1 ELSE 0 END AS lapsed, sum(hl.points) AS points
           FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
          WHERE h.status = 'open' GROUP BY month, lapsed`,
      ),
      // Holds open at an instant: placed before it, not closed before it (the journal's valid time).
      heldByMonthAt: db.prepare(
        `SELECT substr(l.expires_on, 1, 7) AS month, CASE WHEN l.expires_on < @asOf THEN 1 ELSE 0 END AS lapsed, sum(hl.points) AS points
           FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
           JOIN entries he ON he.id = h.entry_id
           LEFT JOIN entries ce ON ce.kind IN ('redemption', 'release') AND ce.ref = h.order_id AND ce.member_id = h.member_id
          WHERE he.at < @cutoff AND (ce.id IS NULL OR ce.at >= @cutoff)
          GROUP BY month, lapsed`,
      ),
    };
  }

  /** Points of the member's lots whose expiresOn is before `today` (lapsed, not yet expired by a run). */
  lapsedOf(memberId: string, today: string): number {
    return this.s.lapsedOf.get(memberId, today) as number;
  }

  /** The same for every member who has any. */
  lapsedByMember(today: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.s.lapsedAll.all(today) as { memberId: string; points: number }[]) out.set(r.memberId, r.points);
    return out;
  }

  /** The member's lots with points free or reserved, in spending order (reserved by holds that had not run out by `byIso`). */
  lotsOf(memberId: string, byIso: string): BookLotRow[] {
    return this.s.lotsOf.all({ id: memberId, by: byIso }) as BookLotRow[];
  }

  /**
   * Per member, the points of open holds that ran out by `byIso` (their time up, no payment fencing them)
   * and are not released yet, and of them those in lots lapsed before `today`: the next write releases
   * them as of the instant they ran out, so every read counts them free (or lapsed) already.
   */
  ranOut(byIso: string, today: string): Map<string, { points: number; lapsed: number }> {
    const out = new Map<string, { points: number; lapsed: number }>();
    for (const r of this.s.ranOut.all({ by: byIso, today }) as { memberId: string; points: number; lapsed: number }[]) out.set(r.memberId, { points: Number(r.points), lapsed: Number(r.lapsed) });
    return out;
  }

  /** The lots of open holds that ran out by `byIso`, of members in debt (one member's with `memberId`): see ranOutOfDebtors. */
  ranOutOfDebtors(byIso: string, memberId: string | null = null): RanOutLotRow[] {
    return (this.s.ranOutOfDebtors.all({ by: byIso, id: memberId }) as RanOutLotRow[]).map((r) => ({ ...r, debt: Number(r.debt), points: Number(r.points) }));
  }

  /** Points of open holds by the expiry month of the lots they were taken from (null = never); lapsed = lot expired before asOf. */
  heldByExpiryMonth(asOf: string): LotMonthRow[] {
    return this.s.heldByMonth.all({ asOf }) as LotMonthRow[];
  }

  /** The same for the holds open at an instant. */
  heldByExpiryMonthAt(cutoff: string, asOf: string): LotMonthRow[] {
    return this.s.heldByMonthAt.all({ cutoff, asOf }) as LotMonthRow[];
  }
}

export const books = (store: Store): Books => new Books(store);

// ledger verify: SPEC §5 with holds open. Every member's balance = Σ its lots' remaining (free points
// plus the points open holds reserved in them) − debt; an open hold's reservations are in its own
// member's lots and never more than a lot's points.
extraChecks.push({
  name: 'lots-with-holds-match-balances',
  sql: `WITH r AS (SELECT hl.lot_id, sum(hl.points) AS held FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id
                    WHERE h.status = 'open' GROUP BY hl.lot_id),
             b AS (SELECT l.member_id, sum(l.remaining + coalesce(r.held, 0)) AS books FROM lots l LEFT JOIN r ON r.lot_id = l.id GROUP BY l.member_id),
             bad AS (
               SELECT 'member ' || m.id AS subject,
                      'balance ' || m.balance || ' but its lots hold ' || coalesce(b.books, 0) || ' (open holds included), debt ' || m.debt AS detail
                 FROM members m LEFT JOIN b ON b.member_id = m.id
                WHERE m.balance <> coalesce(b.books, 0) - m.debt
               UNION ALL
               SELECT 'lot ' || l.id AS subject, 'remaining ' || l.remaining || ' + held ' || r.held || ' exceeds its ' || l.points || ' points' AS detail
                 FROM lots l JOIN r ON r.lot_id = l.id WHERE l.remaining + r.held > l.points
               UNION ALL
               SELECT 'hold ' || h.id AS subject, 'reserves points in lot ' || l.id || ' of member ' || l.member_id || ', not of ' || h.member_id AS detail
                 FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
                WHERE h.status = 'open' AND l.member_id <> h.member_id)
        SELECT subject, detail FROM bad LIMIT 5`,
});
