// The SQL behind the reports: set-based sums over postings, lots and members, never a row-by-row loop.
// Flows are read from accounts (the sign of an `issued` posting tells an accrual from a take-back),
// so a new entry kind needs no change here. Open ranges use the sentinels '' and '9999'.
import type { Store } from './db.js';
import { MEMBER_ACTIVITY_SQL } from './journal.js';

export const OPEN_FROM = '';
export const OPEN_TO = '9999';

export interface FlowSums {
  issued: number;
  returned: number;
  redeemed: number;
  expired: number;
  adjusted: number;
}

export interface SummaryRow extends FlowSums {
  opening: number;
  closing: number;
  held: number;
  entries: number;
}

export interface SlotRow extends FlowSums {
  slot: string; // UTC "YYYY-MM-DDTHH" + ":" + quarter-hour index
}

export interface MemberReportRow {
  id: string;
  name: string;
  tier: string | null;
  status: string;
  balance: number;
  earned: number;
  redeemed: number;
  expired: number;
  lastActivity: string | null;
}

export interface ExpiringRow {
  memberId: string;
  name: string;
  phone: string | null;
  email: string | null;
  balance: number;
  points: number;
  lots: number;
  firstExpiresOn: string;
  lastExpiresOn: string;
}

export interface ItemRow {
  sku: string;
  name: string;
  category: string | null;
  kind: string;
  orders: number;
  redemptions: number;
  quantity: number; // units sold in the period
  refundedQty: number; // units refunded in the period (of orders paid in it or before)
  sales: number; // minor units, after coupon discounts, before refunds
  pointsUsed: number; // less what the period's refunds gave back
  cashPaid: number; // minor units, less what the period's refunds gave back
  pointsEarned: number; // less what the period's refunds took back
}

/** Points of lots by expiry month (null = never); lapsed = 1 for lots whose expiresOn is before the as-of date. */
export interface LotMonthRow {
  month: string | null;
  lapsed: number;
  points: number;
}

export interface BuyerRow {
  memberId: string;
  lastAt: string | null;
  orders: number;
  earned: number;
}

// A void (import void) reverses what its order's entry did, dated at the order: its take-back of an
// accrual is less issued, not a return, and its give-back of a return less returned, so a voided import
// followed by the corrected one shows what the corrected one alone would.
// (`gross`: without the entries' kinds, for a statement that reads postings alone; summary() then takes
// the voids' part out itself.)
const FLOW_COLUMNS = (cond: string, gross = false) => `
  coalesce(sum(CASE WHEN ${cond} p.account = 'issued' AND ${gross ? 'p.points < 0' : "(p.points < 0) = (e.kind <> 'void')"} THEN -p.points END), 0) AS issued,
  coalesce(sum(CASE WHEN ${cond} p.account = 'issued' AND ${gross ? 'p.points > 0' : "(p.points > 0) = (e.kind <> 'void')"} THEN p.points END), 0) AS returned,
  coalesce(sum(CASE WHEN ${cond} p.account = 'redeemed' THEN p.points END), 0) AS redeemed,
  coalesce(sum(CASE WHEN ${cond} p.account = 'expired' THEN p.points END), 0) AS expired,
  coalesce(-sum(CASE WHEN ${cond} p.account = 'adjusted' THEN p.points END), 0) AS adjusted`;

const MEMBER_ORDER = { balance: 'balance', earned: 'earned', redeemed: 'redeemed' } as const;

/**
 * The last instant before `cutoff` (the start of the day after an as-of date), where the nightly expiry
 * run books the lots that lapse at the end of that day (expiryEntryAt: the end of the day before its
 * as-of date). A replay as of that date leaves out what such an expiry took from lots whose expiresOn is
 * that date or later: they were spendable through it (SPEC §7), so a past day reads the same before and
 * after the run. Lots lapsed earlier stay expired by it, as booked.
 */
const lapseOf = (cutoff: string): string => new Date(Date.parse(cutoff) - 1).toISOString();
/** Each lot's moves before @cutoff, less an expiry at the day's last instant (@lapse) of a lot spendable through @asOf (lapseOf): lot_id, s. */
const LOT_MOVES_AT = `(SELECT lm.lot_id, sum(lm.points) AS s FROM lot_moves lm JOIN entries me ON me.id = lm.entry_id
   WHERE me.at < @cutoff AND NOT (me.kind = 'expiry' AND me.at >= @lapse AND (SELECT x.expires_on FROM lots x WHERE x.id = lm.lot_id) >= @asOf)
   GROUP BY lm.lot_id)`;
/**
 * Moves dated before @cutoff on lots dated after it: a take-back dated at its own order (a purchase void is
 * dated at the purchase) that found that order's lot spent and took from a lot earned later. At the cutoff
 * those points come out of the order's own lot (its accrual's, when there is one then), else the one they hit:
 * member_id, expires_on, points (< 0). Without them a replay of that day counts the order's points in its lot
 * and the take-back's in the member's balance: points outstanding and a debt at once (trial 37).
 * (The lot's member, the same as its entry's, lets the lookup go through lots_member: lots has no index on
 * entry_id, and SQLite would build a temporary one over every lot for the first early move.)
 */
const EARLY_MOVES_AT = `(SELECT l.member_id,
          coalesce((SELECT o.expires_on FROM entries oe JOIN lots o ON o.entry_id = oe.id AND o.member_id = oe.member_id
                     WHERE oe.kind = 'accrual' AND oe.ref = me.ref AND oe.member_id = me.member_id AND oe.at < @cutoff LIMIT 1), l.expires_on) AS expires_on,
          lm.points
     FROM lot_moves lm JOIN entries me ON me.id = lm.entry_id JOIN lots l ON l.id = lm.lot_id JOIN entries le ON le.id = l.entry_id
    WHERE me.at < @cutoff AND le.at >= @cutoff)`;
/** What such an expiry took from lots still live through the day, per member: id, back (points, > 0). */
const EXPIRED_AT_LAPSE = `(SELECT l.member_id AS id, -lm.points AS back FROM entries e JOIN lot_moves lm ON lm.entry_id = e.id JOIN lots l ON l.id = lm.lot_id
   WHERE e.kind = 'expiry' AND e.at >= @lapse AND e.at < @cutoff AND l.expires_on >= @asOf)`;
export type MemberRankBy = keyof typeof MEMBER_ORDER;

export class ReportQueries {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    const db = (this.db = store.db);
    // Balance at the end of the period = the cached balance less what was posted after it; the
    // period's flows come from the entries in it. Both walk entries_at ranges, not the whole journal
    // (CROSS JOIN keeps SQLite from driving `after` through every posting of the member index).
    // lastActivity is what members.last_activity_at keeps for all time (journal.ts): the latest entry that
    // moved the member's points, an expiry excepted (the expiry run's, not the member's).
    const membersBy = (by: MemberRankBy) =>
      db.prepare(
        `WITH rng AS (
           SELECT p.member_id AS id,
                  -sum(CASE WHEN p.account = 'issued' THEN p.points ELSE 0 END) AS earned,
                  sum(CASE WHEN p.account = 'redeemed' THEN p.points ELSE 0 END) AS redeemed,
                  sum(CASE WHEN p.account = 'expired' THEN p.points ELSE 0 END) AS expired,
                  max(CASE WHEN ${MEMBER_ACTIVITY_SQL} AND p.points <> 0 THEN e.at END) AS lastActivity
             FROM entries e CROSS JOIN postings p ON p.entry_id = e.id
            WHERE e.at >= @from AND e.at < @to AND p.member_id IS NOT NULL
            GROUP BY p.member_id),
         after AS (
           SELECT p.member_id AS id, sum(p.points) AS s
             FROM entries e CROSS JOIN postings p ON p.entry_id = e.id
            WHERE e.at >= @to AND p.account IN ('member','held') AND p.member_id IS NOT NULL
            GROUP BY p.member_id)
         SELECT m.id, m.name, m.tier, m.status, m.balance - coalesce(after.s, 0) AS balance, coalesce(rng.earned, 0) AS earned,
                coalesce(rng.redeemed, 0) AS redeemed, coalesce(rng.expired, 0) AS expired, rng.lastActivity
           FROM members m LEFT JOIN rng ON rng.id = m.id LEFT JOIN after ON after.id = m.id
          ORDER BY ${MEMBER_ORDER[by]} DESC, m.id
          LIMIT @top`,
      );
    this.s = {
      summary: db.prepare(
        `SELECT coalesce(sum(CASE WHEN e.at < @from AND p.account IN ('member','held') THEN p.points END), 0) AS opening,
                coalesce(sum(CASE WHEN p.account IN ('member','held') THEN p.points END), 0) AS closing,
                coalesce(sum(CASE WHEN p.account = 'held' THEN p.points END), 0) AS held,
                ${FLOW_COLUMNS('e.at >= @from AND')}
           FROM postings p JOIN entries e ON e.id = p.entry_id
          WHERE e.at < @to`,
      ),
      entryCount: db.prepare('SELECT count(*) FROM entries WHERE at >= @from AND at < @to').pluck(),
      // Quarter-hour UTC slots: every zone offset is a multiple of 15 minutes, so each slot lies in
      // exactly one local day and the caller maps slots to local buckets without reading each entry.
      slots: db.prepare(
        `SELECT substr(e.at, 1, 13) || ':' || (CAST(substr(e.at, 15, 2) AS INTEGER) / 15) AS slot, ${FLOW_COLUMNS('')}
           FROM postings p JOIN entries e ON e.id = p.entry_id
          WHERE e.at >= @from AND e.at < @to AND p.account NOT IN ('member','held')
          GROUP BY slot ORDER BY slot`,
      ),
      currentTotals: db.prepare('SELECT coalesce(sum(balance), 0) AS outstanding, coalesce(sum(held), 0) AS held FROM members'),
      // lapsed = 1: the lot's last day is before asOf (§7: not spendable, whether or not an expiry run posted it)
      currentLots: db.prepare(
        `SELECT substr(expires_on, 1, 7) AS month, CASE WHEN expires_on < @asOf THEN 1 ELSE 0 END AS lapsed, sum(remaining) AS points
           FROM lots WHERE remaining > 0 GROUP BY month, lapsed`,
      ),
      totalsAt: db.prepare(
        `SELECT coalesce(sum(CASE WHEN p.account IN ('member','held') THEN p.points END), 0) AS outstanding,
                coalesce(sum(CASE WHEN p.account = 'held' THEN p.points END), 0) AS held
           FROM postings p JOIN entries e ON e.id = p.entry_id
          WHERE e.at < @cutoff AND p.account IN ('member','held')`,
      ),
      // What an expiry booked at the day's last instant took from lots still live through the day (lapseOf)
      expiredAtLapse: db.prepare(
        `SELECT coalesce(sum(back), 0) FROM ${EXPIRED_AT_LAPSE} y`,
      ).pluck(),
      // A lot's remaining points at an instant: its points plus the moves recorded before then.
      lotsAt: db.prepare(
        `SELECT substr(l.expires_on, 1, 7) AS month, CASE WHEN l.expires_on < @asOf THEN 1 ELSE 0 END AS lapsed,
                sum(l.points + coalesce(mv.s, 0)) AS points
           FROM lots l JOIN entries le ON le.id = l.entry_id
           LEFT JOIN ${LOT_MOVES_AT} mv ON mv.lot_id = l.id
          WHERE le.at < @cutoff
          GROUP BY month, lapsed
          UNION ALL
         SELECT substr(expires_on, 1, 7) AS month, CASE WHEN expires_on < @asOf THEN 1 ELSE 0 END AS lapsed, sum(points) AS points
           FROM ${EARLY_MOVES_AT} y
          GROUP BY month, lapsed`,
      ),
      // Each member's points in lots (free and on hold), the part of them in lots lapsed before asOf, and
      // debt: now from the members' caches (balance = lots + held − debt) and the lapsed lots, at an
      // instant from the lots as lotsAt counts them and the journal's balances.
      currentHoldings: db
        .prepare(
          `SELECT m.id, m.balance + m.debt AS points, coalesce(x.lapsed, 0) AS lapsed, m.debt
             FROM members m LEFT JOIN (
               SELECT member_id, sum(p) AS lapsed FROM (
                 SELECT member_id, remaining AS p FROM lots WHERE expires_on < @asOf AND remaining > 0
                 UNION ALL
                 SELECT h.member_id, hl.points FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
                  WHERE h.status = 'open' AND l.expires_on < @asOf
               ) y GROUP BY member_id) x ON x.member_id = m.id
            WHERE m.balance <> 0 OR m.debt <> 0`,
        )
        .raw(),
      holdingsAt: db
        .prepare(
          `SELECT id, sum(points) AS points, sum(lapsed) AS lapsed, sum(points) - sum(net) AS debt FROM (
             SELECT l.member_id AS id, l.points + coalesce(mv.s, 0) AS points,
                    CASE WHEN l.expires_on < @asOf THEN l.points + coalesce(mv.s, 0) ELSE 0 END AS lapsed, 0 AS net
               FROM lots l JOIN entries le ON le.id = l.entry_id
               LEFT JOIN ${LOT_MOVES_AT} mv ON mv.lot_id = l.id
              WHERE le.at < @cutoff
             UNION ALL
             SELECT member_id, points, CASE WHEN expires_on < @asOf THEN points ELSE 0 END, 0 FROM ${EARLY_MOVES_AT} y
             UNION ALL
             SELECT h.member_id, hl.points, CASE WHEN hlot.expires_on < @asOf THEN hl.points ELSE 0 END, 0
               FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots hlot ON hlot.id = hl.lot_id
               JOIN entries he ON he.id = h.entry_id
               LEFT JOIN entries ce ON ce.kind IN ('redemption', 'release') AND ce.ref = h.order_id AND ce.member_id = h.member_id
              WHERE he.at < @cutoff AND (ce.id IS NULL OR ce.at >= @cutoff)
             UNION ALL
             SELECT p.member_id, 0, 0, p.points
               FROM postings p JOIN entries e ON e.id = p.entry_id
              WHERE e.at < @cutoff AND p.account IN ('member', 'held')
             UNION ALL
             SELECT id, 0, 0, back FROM ${EXPIRED_AT_LAPSE} y
           ) x GROUP BY id HAVING sum(points) <> 0 OR sum(net) <> 0`,
        )
        .raw(),
      membersBy: { balance: membersBy('balance'), earned: membersBy('earned'), redeemed: membersBy('redeemed') },
      // All time: rank from the member caches (or one pass over redeemed postings), then read the
      // other columns for the ranked members only. (The redundant `account IN (…)` is the WHERE of the
      // partial index postings_member_spent, which the planner uses only when a query repeats it.)
      rankAll: {
        balance: db.prepare('SELECT id FROM members ORDER BY balance DESC, id LIMIT ?').pluck(),
        earned: db.prepare('SELECT id FROM members ORDER BY lifetime_earned DESC, id LIMIT ?').pluck(),
        redeemed: db.prepare(
          `SELECT m.id FROM members m
             LEFT JOIN (SELECT member_id, sum(points) AS s FROM postings WHERE account = 'redeemed' AND account IN ('redeemed', 'expired') GROUP BY member_id) r ON r.member_id = m.id
            ORDER BY coalesce(r.s, 0) DESC, m.id LIMIT ?`,
        ).pluck(),
      },
      membersDetail: db.prepare(
        `WITH ids AS (SELECT value AS id, key AS pos FROM json_each(?)),
              p AS (SELECT p.member_id AS id,
                           sum(CASE WHEN p.account = 'redeemed' THEN p.points ELSE 0 END) AS redeemed,
                           sum(CASE WHEN p.account = 'expired' THEN p.points ELSE 0 END) AS expired
                      FROM postings p WHERE p.member_id IN (SELECT id FROM ids) AND p.account IN ('redeemed', 'expired')
                     GROUP BY p.member_id)
         SELECT m.id, m.name, m.tier, m.status, m.balance, m.lifetime_earned AS earned, coalesce(p.redeemed, 0) AS redeemed,
                coalesce(p.expired, 0) AS expired, m.last_activity_at AS lastActivity
           FROM ids JOIN members m ON m.id = ids.id LEFT JOIN p ON p.id = m.id
          ORDER BY ids.pos`,
      ),
      summaryAll: db.prepare(
        `SELECT 0 AS opening,
                coalesce(sum(CASE WHEN p.account IN ('member','held') THEN p.points END), 0) AS closing,
                coalesce(sum(CASE WHEN p.account = 'held' THEN p.points END), 0) AS held,
                ${FLOW_COLUMNS('', true)}
           FROM postings p`,
      ),
      // what the voids took back (issued > 0) and gave back (issued < 0), to take out of the gross flows
      voidFlows: db.prepare(
        `SELECT coalesce(sum(CASE WHEN p.points > 0 THEN p.points END), 0) AS takenBack, coalesce(-sum(CASE WHEN p.points < 0 THEN p.points END), 0) AS givenBack
           FROM entries e JOIN postings p ON p.entry_id = e.id WHERE e.kind = 'void' AND p.account = 'issued'`,
      ),
      entryCountAll: db.prepare('SELECT count(*) FROM entries').pluck(),
      expiring: db.prepare(
        `SELECT l.member_id AS memberId, m.name, m.phone, m.email, m.balance, sum(l.remaining) AS points, count(*) AS lots,
                min(l.expires_on) AS firstExpiresOn, max(l.expires_on) AS lastExpiresOn
           FROM lots l JOIN members m ON m.id = l.member_id
          WHERE l.remaining > 0 AND l.expires_on >= @from AND l.expires_on <= @to
          GROUP BY l.member_id, m.id
          ORDER BY firstExpiresOn, points DESC, l.member_id`,
      ),
      expiringByDate: db.prepare(
        `SELECT expires_on AS date, sum(remaining) AS points, count(DISTINCT member_id) AS members
           FROM lots WHERE remaining > 0 AND expires_on >= @from AND expires_on <= @to
          GROUP BY expires_on ORDER BY expires_on`,
      ),
      // lapsed points no expiry run has taken: in their lots, and held by a checkout (which can no longer
      // spend them: §7), as report liability counts them lapsed pending
      overdue: db
        .prepare(
          `SELECT coalesce((SELECT sum(remaining) FROM lots WHERE remaining > 0 AND expires_on < @asOf), 0)
                + coalesce((SELECT sum(hl.points) FROM holds h JOIN hold_lots hl ON hl.hold_id = h.id JOIN lots l ON l.id = hl.lot_id
                             WHERE h.status = 'open' AND l.expires_on < @asOf), 0)`,
        )
        .pluck(),
      // Orders placed in the period (imported purchases not voided, checkouts paid: a return or refund
      // lowers the points, not the orders) and the points purchases earned in it net of what returns,
      // refunds and voids took back (award entries aside), per member with either.
      buyers: db.prepare(
        `WITH placed AS (
           SELECT member_id AS id, purchased_at AS at FROM purchases
            WHERE kind = 'purchase' AND status = 'accrued' AND voided_at IS NULL AND purchased_at >= @from AND purchased_at < @to
           UNION ALL
           SELECT member_id, paid_at FROM orders WHERE paid_at IS NOT NULL AND paid_at >= @from AND paid_at < @to),
         o AS (SELECT id, max(at) AS lastAt, count(*) AS orders FROM placed GROUP BY id),
         pts AS (
           SELECT p.member_id AS id, -sum(p.points) AS earned
             FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.at >= @from AND e.at < @to AND p.account = 'issued' AND e.kind <> 'award' AND p.member_id IS NOT NULL
            GROUP BY p.member_id)
         SELECT o.id AS memberId, o.lastAt, o.orders, coalesce(pts.earned, 0) AS earned FROM o LEFT JOIN pts ON pts.id = o.id
         UNION ALL
         SELECT pts.id, NULL, 0, pts.earned FROM pts WHERE pts.earned <> 0 AND NOT EXISTS (SELECT 1 FROM o WHERE o.id = pts.id)`,
      ),
      memberCount: db.prepare('SELECT count(*) FROM members').pluck(),
      memberNames: db.prepare('SELECT id, name FROM members'),
    };
  }

  summary(from: string, to: string): SummaryRow {
    if (from === OPEN_FROM && to === OPEN_TO) {
      const gross = this.s.summaryAll.get() as Omit<SummaryRow, 'entries'>;
      const v = this.s.voidFlows.get() as { takenBack: number; givenBack: number };
      // a void's posting sits in the gross column of its sign; net, it is less of the other one
      const voids = v.takenBack + v.givenBack;
      return { ...gross, issued: gross.issued - voids, returned: gross.returned - voids, entries: this.s.entryCountAll.get() as number };
    }
    const row = this.s.summary.get({ from, to }) as Omit<SummaryRow, 'entries'>;
    return { ...row, entries: this.s.entryCount.get({ from, to }) as number };
  }

  /** Flows per quarter-hour UTC slot in [from, to), in time order. */
  slots(from: string, to: string): SlotRow[] {
    return this.s.slots.all({ from, to }) as SlotRow[];
  }

  /** Outstanding (member + held) and held points now, from the member caches. */
  currentTotals(): { outstanding: number; held: number } {
    return this.s.currentTotals.get() as { outstanding: number; held: number };
  }

  /** Remaining points of open lots by expiry month (null = never) now, lapsed (expiresOn before asOf) apart. */
  currentLots(asOf: string): LotMonthRow[] {
    return this.s.currentLots.all({ asOf }) as LotMonthRow[];
  }

  /** Outstanding and held points as of an instant, from the journal. */
  /** The journal's balances at the end of asOf (cutoff: the next day's start), an expiry at its last instant of lots live through it left out (lapseOf). */
  totalsAt(cutoff: string, asOf: string): { outstanding: number; held: number } {
    const t = this.s.totalsAt.get({ cutoff }) as { outstanding: number; held: number };
    const back = Number(this.s.expiredAtLapse.get({ cutoff, asOf, lapse: lapseOf(cutoff) }));
    return { outstanding: Number(t.outstanding) + back, held: t.held };
  }

  /** Each member holding points or owing some now: [id, points in lots and on hold, of them in lots lapsed before asOf, debt]. */
  currentHoldings(asOf: string): [id: string, points: number, lapsed: number, debt: number][] {
    return this.s.currentHoldings.all({ asOf }) as [string, number, number, number][];
  }

  /** The same as of an instant: lots replayed as lotsAt does, holds open then, debt = those points − the journal's balance. */
  holdingsAt(cutoff: string, asOf: string): [id: string, points: number, lapsed: number, debt: number][] {
    return this.s.holdingsAt.all({ cutoff, asOf, lapse: lapseOf(cutoff) }) as [string, number, number, number][];
  }

  /** Lot remaining by expiry month as of an instant, replaying lot moves recorded before it; lapsed before asOf apart. */
  lotsAt(cutoff: string, asOf: string): LotMonthRow[] {
    return this.s.lotsAt.all({ cutoff, asOf, lapse: lapseOf(cutoff) }) as LotMonthRow[];
  }

  topMembers(by: MemberRankBy, from: string, to: string, top: number): MemberReportRow[] {
    if (from === OPEN_FROM && to === OPEN_TO) {
      const ids = this.s.rankAll[by].all(top) as string[];
      return this.s.membersDetail.all(JSON.stringify(ids)) as MemberReportRow[];
    }
    return this.s.membersBy[by].all({ from, to, top }) as MemberReportRow[];
  }

  expiring(from: string, to: string): ExpiringRow[] {
    return this.s.expiring.all({ from, to }) as ExpiringRow[];
  }

  expiringByDate(from: string, to: string): { date: string; points: number; members: number }[] {
    return this.s.expiringByDate.all({ from, to }) as { date: string; points: number; members: number }[];
  }

  /** Points of lots whose expiresOn is before the date, in the lots or held by a checkout (an expiry run is due). */
  overdue(date: string): number {
    return this.s.overdue.get({ asOf: date }) as number;
  }

  /**
   * Per member with an order in [from, to) or points from purchases moved in it: their last order (null for
   * none), the orders placed (imports not voided, checkouts paid, one that earned nothing included) and the
   * points purchases earned, net of returns, refunds and voids in the period (report members' earned less
   * awards): the members' figures add up to the summary's purchases issued less returned.
   */
  buyers(from: string, to: string): BuyerRow[] {
    return this.s.buyers.all({ from, to }) as BuyerRow[];
  }

  private itemsStmt?: ReturnType<typeof this.db.prepare>;

  /**
   * Checkout lines by SKU: what orders paid in [from, to) sold (orders, lines paid with points, units, sales
   * after coupon discounts, points, cash and points earned) less what refunds made in [from, to) gave back
   * (refundedQty, and their points, cash and earned points out of the nets), whenever the order was paid:
   * a period's figures never change once it is over.
   */
  items(from: string, to: string): ItemRow[] {
    this.itemsStmt ??= this.db.prepare(
      `WITH sold AS (
         SELECT ol.sku, max(ol.name) AS name, max(ol.category) AS category, max(ol.kind) AS kind, count(DISTINCT ol.order_id) AS orders,
                sum(CASE WHEN ol.points > 0 THEN 1 ELSE 0 END) AS redemptions, sum(ol.quantity) AS quantity,
                sum(ol.amount - ol.discount) AS sales, sum(ol.points) AS points, sum(ol.cash) AS cash, sum(ol.earned) AS earned
           FROM orders o JOIN order_lines ol ON ol.order_id = o.id
          WHERE o.paid_at IS NOT NULL AND o.paid_at >= @from AND o.paid_at < @to
          GROUP BY ol.sku),
       back AS (
         SELECT ol.sku, max(ol.name) AS name, max(ol.category) AS category, max(ol.kind) AS kind,
                sum(rl.quantity) AS quantity, sum(rl.points) AS points, sum(rl.cash) AS cash, sum(rl.earned) AS earned
           FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id JOIN order_lines ol ON ol.order_id = r.order_id AND ol.line_no = rl.line_no
          WHERE r.at >= @from AND r.at < @to
          GROUP BY ol.sku),
       skus AS (SELECT sku FROM sold UNION SELECT sku FROM back)
       SELECT k.sku, coalesce(ci.name, s.name, b.name) AS name, coalesce(ci.category, s.category, b.category) AS category,
              coalesce(s.kind, b.kind) AS kind, coalesce(s.orders, 0) AS orders, coalesce(s.redemptions, 0) AS redemptions,
              coalesce(s.quantity, 0) AS quantity, coalesce(b.quantity, 0) AS refundedQty, coalesce(s.sales, 0) AS sales,
              coalesce(s.points, 0) - coalesce(b.points, 0) AS pointsUsed,
              coalesce(s.cash, 0) - coalesce(b.cash, 0) AS cashPaid,
              coalesce(s.earned, 0) - coalesce(b.earned, 0) AS pointsEarned
         FROM skus k LEFT JOIN sold s ON s.sku = k.sku LEFT JOIN back b ON b.sku = k.sku LEFT JOIN catalog_items ci ON ci.sku = k.sku
        ORDER BY pointsUsed DESC, sales DESC, k.sku`,
    );
    return this.itemsStmt.all({ from, to }) as ItemRow[];
  }

  memberCount(): number {
    return this.s.memberCount.get() as number;
  }

  memberNames(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.s.memberNames.iterate() as IterableIterator<{ id: string; name: string }>) out.set(r.id, r.name);
    return out;
  }
}

export const reportQueries = (store: Store): ReportQueries => new ReportQueries(store);
