// Report use-cases: each opens the ledger, reads one snapshot, and returns the result object that
// --json prints and every other format renders. Nothing here writes.
import { UsageError } from '../errors.js';
import {
  type BucketBy,
  type ExpiryBucket,
  type Flows,
  type RfmMember,
  type ScoreBand,
  type SegmentSummary,
  RECONCILIATION_FORMULA,
  LocalDays,
  addFlows,
  bucketOfDate,
  bucketStart,
  bucketsBetween,
  emptyFlows,
  netChange,
  orderExpiryBuckets,
  partValues,
  SEGMENT_RULES,
  reconcile,
  rfmSegments,
  valueOf,
} from '../domain/reports.js';
import { formatMoney } from '../domain/money.js';
import { currentTierName } from '../domain/rules.js';
import { members } from '../store/members.js';
import { type LocalDate, type Within, addDays, addWithin, localDate, localDayEndIso, localRangeUtc } from '../domain/time.js';
import { books } from '../store/books.js';
import { type MemberRankBy, type MemberReportRow, OPEN_FROM, OPEN_TO, reportQueries } from '../store/reports.js';
import { type Ctx, type Ledger, rulesAt, withLedger } from './ledger.js';
import { type RanOutRepayment, ranOutRepayments } from './holds.js';
import { unspendableByMember } from './members.js';
import { activityAwards } from '../store/activities.js';

// --- activities (issue 18): issued points split by where they came from ---
/**
 * Points credited in a period by source: `purchases` (accruals of imports, checkouts and approved reviews:
 * issued less activities), `activities` (points award, import activities), `adjustments` (positive
 * member adjusts, gross; `adjusted` stays net of debits). purchases + activities = issued.
 */
export interface IssuedBy {
  purchases: number;
  activities: number;
  adjustments: number;
}
const issuedBy = (issued: number, split: { activities: number; adjustments: number }): IssuedBy => ({
  purchases: issued - split.activities,
  activities: split.activities,
  adjustments: split.adjustments,
});
// --- end activities ---

export interface Period {
  from?: LocalDate;
  to?: LocalDate;
}

function range(l: Ledger, p: Period): { fromIso: string; toIso: string } {
  if (p.from && p.to && p.from > p.to) throw new UsageError(`--from ${p.from} is after --to ${p.to}`, 'both dates are inclusive; swap them');
  const r = localRangeUtc(l.zone, p.from, p.to);
  return { fromIso: r.fromIso ?? OPEN_FROM, toIso: r.toIso ?? OPEN_TO };
}

const today = (l: Ledger): LocalDate => localDate(l.now.getTime(), l.zone);

/** The last instant of a calendar day (rules in force "at a date" means at its end). */
const endOfDayIso = (l: Ledger, date: LocalDate): string => new Date(Date.parse(localDayEndIso(date, l.zone)) - 1).toISOString();

function redeemRate(l: Ledger, atIso: string): string {
  return rulesAt(l, atIso).rules.redeem.pointsPerUnit.toString();
}

// ----------------------------------------------------------------------------------------------
export interface SummaryReport extends Flows {
  from: LocalDate | null;
  to: LocalDate | null;
  currency: string;
  openingBalance: number;
  closingBalance: number;
  /**
   * Points members can still spend at the end of the period (`--to`, else today), as report liability
   * counts them: the closing balance less the points of lots lapsed by then that no expiry run has posted
   * (lapsedPending), and without netting one member's debt against another's points (memberDebt).
   */
  outstanding: number;
  held: number;
  /** outstanding at the redeem rate in force at the end of the period. */
  outstandingValue: string;
  /** Points of lots lapsed by the end of the period that no expiry run had posted: in the closing balance, owed to nobody. */
  lapsedPending: number;
  /** Points members owe at the end of the period (returns that took back points already spent). */
  memberDebt: number;
  /**
   * Points an expiry run booked at the period's last instant (lots lapsing at the end of its last day):
   * out of the closing balance, yet spendable through that day, so still outstanding (report liability's
   * rule). closing = lapsedPending − memberDebt + outstanding − expiredAtEnd.
   */
  expiredAtEnd: number;
  entries: number;
  reconciliation: { formula: string; line: string; ok: boolean };
  issuedBy: IssuedBy;
}

export async function summaryReport(ctx: Ctx, p: Period): Promise<SummaryReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { fromIso, toIso } = range(l, p);
      const s = l.store.get(reportQueries).summary(fromIso, toIso);
      const flows: Flows = { issued: s.issued, returned: s.returned, redeemed: s.redeemed, expired: s.expired, adjusted: s.adjusted };
      const rec = reconcile(s.opening, flows, s.closing);
      const owed = liabilityAt(l, p.to ?? today(l));
      return {
        from: p.from ?? null,
        to: p.to ?? null,
        currency: l.currency,
        openingBalance: s.opening,
        ...flows,
        closingBalance: s.closing,
        outstanding: owed.outstandingPoints,
        held: s.held - ranOutHeld(l, toIso && toIso < l.nowIso ? toIso : l.nowIso),
        outstandingValue: owed.value,
        lapsedPending: owed.lapsedPendingPoints,
        memberDebt: owed.memberDebt,
        // the liability's balances leave out the expiry booked at the day's last instant; the journal's closing has it
        expiredAtEnd: owed.netPoints - s.closing,
        entries: s.entries,
        reconciliation: { formula: RECONCILIATION_FORMULA, line: rec.line, ok: rec.ok },
        issuedBy: issuedBy(s.issued, l.store.get(activityAwards).split(fromIso, toIso)),
      };
    }),
  );
}

// ----------------------------------------------------------------------------------------------
export interface LiabilityReport {
  asOf: LocalDate;
  /**
   * Points members can still spend at the end of asOf (their lots not lapsed, and holds): one member's debt
   * is never netted against another's points, and points that lapsed before asOf are not counted even when
   * no expiry run has posted them yet (they are lapsedPendingPoints).
   */
  outstandingPoints: number;
  /** outstandingPoints at the redeem rate. */
  value: string;
  currency: string;
  redeemPointsPerUnit: string;
  /** Points of lots whose expiresOn is before asOf that no expiry run had posted by then: still in the balances, owed to nobody (`expire run` takes them). */
  lapsedPendingPoints: number;
  /** lapsedPendingPoints at the redeem rate (not part of value). */
  lapsedPendingValue: string;
  /** Points on hold for checkouts in progress: still owed, counted in their lots' expiry months until captured. */
  heldPoints: number;
  /** Points members owe: returns and refunds that took back more than their lots held (repaid by their next credits). */
  memberDebt: number;
  /** The same as memberDebt (the name before memberDebt). */
  debtPoints: number;
  /** Σ member balances (report summary's closing balance): outstandingPoints + lapsedPendingPoints − memberDebt. */
  netPoints: number;
  /** outstandingPoints = Σ byExpiryMonth.points (held points in the months of their lots); each month's value at the redeem rate */
  byExpiryMonth: (ExpiryBucket & { value: string })[];
  /** "lots" = the lots' current remaining (as-of today or later); "journal" = replayed from lot moves. */
  basis: 'lots' | 'journal';
}

/**
 * The points in lots at the end of `asOf`, by expiry month: a lot's free points plus what open holds
 * reserved in it (§5: held points count in their lots' months), with `lapsed` set on the points of lots
 * whose expiresOn is before asOf (§7: not spendable, whether or not an expiry run has posted them; held
 * points in such a lot cannot be captured either). Today or later: the caches are the state (nothing is
 * dated after now); an earlier day is replayed from the journal. (`rules simulate` counts the same points
 * per member, memberHoldingsAt, with the same lapsed rule.)
 */
export function lotPointsAt(l: Ledger, asOf: LocalDate, now: LocalDate): { current: boolean; cutoff: string; rows: { month: string | null; lapsed: boolean; points: number }[] } {
  const q = l.store.get(reportQueries);
  const b = l.store.get(books);
  const current = asOf >= now;
  const cutoff = localDayEndIso(asOf, l.zone);
  const raw = current ? [...q.currentLots(asOf), ...b.heldByExpiryMonth(asOf)] : [...q.lotsAt(cutoff, asOf), ...b.heldByExpiryMonthAt(cutoff, asOf)];
  const rows = raw.map((r) => ({ month: r.month, lapsed: Number(r.lapsed) === 1, points: Number(r.points) }));
  // holds that ran out count released, and their release repays debts first: those points go into no lot
  if (current) for (const r of ranOutRepayments(l, l.nowIso, asOf).values()) for (const x of r.byMonth) rows.push({ ...x, points: -x.points });
  return { current, cutoff, rows };
}

/**
 * Each member's outstanding points and debt at the end of a day, counted as report liability counts them:
 * points in lots lapsed before that day are not outstanding (§7), so they are left out of `points`.
 */
export function memberHoldingsAt(l: Ledger, asOf: LocalDate, now: LocalDate): Map<string, { points: number; debt: number }> {
  const q = l.store.get(reportQueries);
  const current = asOf >= now;
  const rows = current ? q.currentHoldings(asOf) : q.holdingsAt(localDayEndIso(asOf, l.zone), asOf);
  const repaid = current ? ranOutRepayments(l, l.nowIso, asOf) : new Map<string, RanOutRepayment>();
  return new Map(
    rows.map(([id, points, lapsed, debt]) => {
      const r = repaid.get(id);
      return [id, { points: Number(points) - Number(lapsed) - (r ? r.debtRepaid - r.lapsed : 0), debt: Number(debt) - (r?.debtRepaid ?? 0) }];
    }),
  );
}

export async function liabilityReport(ctx: Ctx, input: { asOf?: LocalDate }): Promise<LiabilityReport> {
  return withLedger(ctx, (l) => l.store.read(() => liabilityAt(l, input.asOf ?? today(l))));
}

/** Points of open holds that had run out by `byIso`, not released yet (Books.ranOut). */
function ranOutHeld(l: Ledger, byIso: string): number {
  let n = 0;
  for (const r of l.store.get(books).ranOut(byIso, '').values()) n += r.points;
  return n;
}

/** The liability at the end of `asOf` (report liability; report summary's outstanding). Call inside a read. */
function liabilityAt(l: Ledger, asOf: LocalDate): LiabilityReport {
  const q = l.store.get(reportQueries);
  const now = today(l);
  const { current, cutoff, rows } = lotPointsAt(l, asOf, now);
  const totals = current ? q.currentTotals() : q.totalsAt(cutoff, asOf);
  // holds that had run out by then hold nothing, released or not yet (the release is dated when they ran out)
  const heldRanOut = ranOutHeld(l, current ? l.nowIso : cutoff);
  const months = new Map<string | null, number>();
  let lapsed = 0;
  for (const r of rows) {
    if (r.lapsed) lapsed += r.points;
    else months.set(r.month, (months.get(r.month) ?? 0) + r.points);
  }
  const lots = orderExpiryBuckets([...months].map(([month, points]) => ({ month, points })));
  const outstanding = lots.reduce((a, x) => a + x.points, 0);
  const rate = redeemRate(l, endOfDayIso(l, asOf));
  // shared out of the total's value, so that the months (and the cron's CSV of them) add up to it
  const monthValues = partValues(lots.map((x) => x.points), rate, l.digits);
  // A member in debt holds no lot (later credits repay the debt first), so the points in lots (held
  // ones and lapsed ones included) are what the balances hold, and the net balance falls short of them
  // by the debts alone. Lapsed points are in the balances until an expiry run posts them, but owed to nobody.
  const debt = outstanding + lapsed - totals.outstanding;
  return {
    asOf,
    outstandingPoints: outstanding,
    value: valueOf(outstanding, rate, l.digits),
    currency: l.currency,
    redeemPointsPerUnit: rate,
    lapsedPendingPoints: lapsed,
    lapsedPendingValue: valueOf(lapsed, rate, l.digits),
    heldPoints: totals.held - heldRanOut,
    memberDebt: debt,
    debtPoints: debt,
    netPoints: totals.outstanding,
    byExpiryMonth: lots.map((x, i) => ({ ...x, value: monthValues[i] })),
    basis: current ? 'lots' : 'journal',
  };
}

// ----------------------------------------------------------------------------------------------
export interface ActivityRow extends Flows {
  bucket: string;
  start: LocalDate;
  net: number;
  issuedBy: IssuedBy;
}

export interface ActivityReport {
  by: BucketBy;
  from: LocalDate | null;
  to: LocalDate | null;
  zone: string;
  buckets: ActivityRow[];
  totals: Flows & { net: number; issuedBy: IssuedBy };
}

export async function activityReport(ctx: Ctx, input: Period & { by: BucketBy }): Promise<ActivityReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { fromIso, toIso } = range(l, input);
      const by = input.by;
      const sums = new Map<string, Flows>();
      const splits = new Map<string, { activities: number; adjustments: number }>();
      const slots = l.store.get(reportQueries).slots(fromIso, toIso);
      const slotMs = (slot: string) => {
        const [hour, quarter] = slot.split(':');
        return Date.parse(`${hour}:00:00Z`) + Number(quarter) * 900_000;
      };
      if (slots.length) {
        const days = new LocalDays(l.zone, slotMs(slots[0].slot), slotMs(slots[slots.length - 1].slot));
        for (const s of slots) {
          const key = bucketOfDate(days.dateOf(slotMs(s.slot)), by);
          sums.set(key, addFlows(sums.get(key) ?? emptyFlows(), s));
        }
        // award and adjust entries post to issued and adjusted, so their slots are among the flows' slots
        for (const s of l.store.get(activityAwards).splitSlots(fromIso, toIso)) {
          const key = bucketOfDate(days.dateOf(slotMs(s.slot)), by);
          const b = splits.get(key) ?? { activities: 0, adjustments: 0 };
          splits.set(key, { activities: b.activities + s.activities, adjustments: b.adjustments + s.adjustments });
        }
      }
      const present = [...sums.keys()].sort();
      const first = input.from ? bucketOfDate(input.from, by) : present[0];
      const last = input.to ? bucketOfDate(input.to, by) : present[present.length - 1];
      const keys = first && last ? (bucketsBetween(first, last, by) ?? present) : present;
      let totals = emptyFlows();
      const split = { activities: 0, adjustments: 0 };
      const buckets = keys.map((k) => {
        const f = sums.get(k) ?? emptyFlows();
        const sp = splits.get(k) ?? { activities: 0, adjustments: 0 };
        totals = addFlows(totals, f);
        split.activities += sp.activities;
        split.adjustments += sp.adjustments;
        // a bucket cut by --from starts where the period does (its flows are the period's part of it)
        const start = bucketStart(k, by);
        return { bucket: k, start: input.from && start < input.from ? input.from : start, ...pickFlows(f), net: netChange(f), issuedBy: issuedBy(f.issued, sp) };
      });
      return { by, from: input.from ?? null, to: input.to ?? null, zone: l.zone, buckets, totals: { ...totals, net: netChange(totals), issuedBy: issuedBy(totals.issued, split) } };
    }),
  );
}

const pickFlows = (f: Flows): Flows => ({ issued: f.issued, returned: f.returned, redeemed: f.redeemed, expired: f.expired, adjusted: f.adjusted });

// ----------------------------------------------------------------------------------------------
export interface MembersReportRow extends MemberReportRow {
  rank: number;
  /** Points of the balance whose lots have lapsed but that no expiry run has taken yet (member show's expiredPending). */
  expiredPending: number;
  /** The pinned tier; `tier` is the tier the member has now (pinned, else earned), as member show says. */
  pinnedTier: string | null;
}

export interface MembersReport {
  by: MemberRankBy;
  top: number | null;
  from: LocalDate | null;
  to: LocalDate | null;
  members: MembersReportRow[];
}

export async function membersReport(ctx: Ctx, input: Period & { by: MemberRankBy; top?: number }): Promise<MembersReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { fromIso, toIso } = range(l, input);
      const rows = l.store.get(reportQueries).topMembers(input.by, fromIso, toIso, input.top ?? -1);
      const { rules } = rulesAt(l, l.nowIso);
      const repo = l.store.get(members);
      const { expiredPending } = unspendableByMember(l);
      return {
        by: input.by,
        top: input.top ?? null,
        from: input.from ?? null,
        to: input.to ?? null,
        members: rows.map((r, i) => ({ rank: i + 1, ...r, tier: currentTierName(rules, r.tier, repo.get(r.id)?.lifetime_earned ?? 0), pinnedTier: r.tier, expiredPending: expiredPending(r.id) })),
      };
    }),
  );
}

// ----------------------------------------------------------------------------------------------
export interface ExpiringReport {
  asOf: LocalDate;
  from: LocalDate;
  to: LocalDate;
  members: number;
  points: number;
  lots: number;
  /** Points whose expiresOn has already passed but that no expiry run has taken yet. */
  overduePoints: number;
  rows: {
    memberId: string;
    name: string;
    phone: string | null;
    email: string | null;
    balance: number;
    points: number;
    lots: number;
    firstExpiresOn: string;
    lastExpiresOn: string;
  }[];
  byDate: { date: string; points: number; members: number }[];
}

export async function expiringReport(ctx: Ctx, input: Period & { within: Within }): Promise<ExpiringReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const now = today(l);
      const from = input.from ?? now;
      const to = input.to ?? addWithin(from, input.within);
      if (from > to) throw new UsageError(`the window ${from} … ${to} is empty`, '--from must not be after --to');
      const q = l.store.get(reportQueries);
      const rows = q.expiring(from, to);
      return {
        asOf: now,
        from,
        to,
        members: rows.length,
        points: rows.reduce((a, r) => a + r.points, 0),
        lots: rows.reduce((a, r) => a + r.lots, 0),
        // (less what releasing holds that ran out repays of debts from lapsed points: as liability reads them)
        overduePoints: q.overdue(now) - [...ranOutRepayments(l, l.nowIso, now).values()].reduce((a, r) => a + r.lapsed, 0),
        rows,
        byDate: q.expiringByDate(from, to),
      };
    }),
  );
}

// ----------------------------------------------------------------------------------------------
const segmentRank = (s: string): number => SEGMENT_RULES.findIndex((r) => r.segment === s);

export interface SegmentsReport {
  from: LocalDate | null;
  to: LocalDate | null;
  asOf: LocalDate;
  totalMembers: number;
  buyers: number;
  thresholds: { recencyDays: ScoreBand[]; orders: ScoreBand[]; pointsEarned: ScoreBand[] };
  segments: SegmentSummary[];
  members?: (RfmMember & { name: string })[];
}

export async function segmentsReport(ctx: Ctx, input: Period & { detail?: boolean }): Promise<SegmentsReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { fromIso, toIso } = range(l, input);
      const q = l.store.get(reportQueries);
      const asOf = input.to ?? today(l);
      const buyers = q.buyers(fromIso, toIso);
      const total = q.memberCount();
      const r = rfmSegments(buyers, total, asOf, l.zone);
      const out: SegmentsReport = {
        from: input.from ?? null,
        to: input.to ?? null,
        asOf,
        totalMembers: total,
        buyers: r.members.length,
        thresholds: r.thresholds,
        segments: r.segments,
      };
      if (input.detail) {
        const names = q.memberNames();
        out.members = r.members
          .map((m) => ({ ...m, name: names.get(m.memberId) ?? '' }))
          .sort((a, b) => segmentRank(a.segment) - segmentRank(b.segment) || b.earned - a.earned || (a.memberId < b.memberId ? -1 : 1));
      }
      return out;
    }),
  );
}

// ----------------------------------------------------------------------------------------------
export interface ItemsReportRow {
  sku: string;
  name: string;
  category: string | null;
  kind: string;
  orders: number;
  redemptions: number;
  quantity: number;
  refundedQty: number;
  sales: string;
  pointsUsed: number;
  cashPaid: string;
  pointsEarned: number;
}

export interface ItemsReport {
  from: LocalDate | null;
  to: LocalDate | null;
  currency: string;
  items: ItemsReportRow[];
  totals: { redemptions: number; quantity: number; sales: string; pointsUsed: number; cashPaid: string; pointsEarned: number };
}

/** Checkout lines by catalog item: how often points were used on it, how many, and the points it took and earned. */
export async function itemsReport(ctx: Ctx, p: Period): Promise<ItemsReport> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { fromIso, toIso } = range(l, p);
      const rows = l.store.get(reportQueries).items(fromIso, toIso);
      const money = (minor: number) => formatMoney(minor, l.digits);
      const sum = (k: 'orders' | 'redemptions' | 'quantity' | 'sales' | 'pointsUsed' | 'cashPaid' | 'pointsEarned') => rows.reduce((a, r) => a + r[k], 0);
      return {
        from: p.from ?? null,
        to: p.to ?? null,
        currency: l.currency,
        items: rows.map((r) => ({ ...r, sales: money(r.sales), cashPaid: money(r.cashPaid) })),
        totals: {
          redemptions: sum('redemptions'),
          quantity: sum('quantity'),
          sales: money(sum('sales')),
          pointsUsed: sum('pointsUsed'),
          cashPaid: money(sum('cashPaid')),
          pointsEarned: sum('pointsEarned'),
        },
      };
    }),
  );
}
