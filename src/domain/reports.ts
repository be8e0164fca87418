// Report arithmetic: calendar buckets in the ledger's zone, point flows and their reconciliation,
// liability valuation and RFM segments. Pure: the store hands in sums, the clock is passed in.
import type { Decimal } from 'decimal.js';
import { allocateProportionally, formatMoney, pointsValue, type Points } from './money.js';
import { type LocalDate, addDays, daysBetween, localDate, startOfLocalDayMs } from './time.js';

export type BucketBy = 'day' | 'week' | 'month';

/** ISO-8601 week of a calendar date, "YYYY-Www" (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(date: LocalDate): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  const dow = (t.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  t.setUTCDate(t.getUTCDate() - dow + 3); // the Thursday of the same week decides the year
  const wy = t.getUTCFullYear();
  const week = Math.floor((t.getTime() - Date.UTC(wy, 0, 1)) / 86_400_000 / 7) + 1;
  return `${wy}-W${String(week).padStart(2, '0')}`;
}

/** The bucket key of a calendar date: "YYYY-MM-DD", "YYYY-Www" or "YYYY-MM". */
export function bucketOfDate(date: LocalDate, by: BucketBy): string {
  if (by === 'day') return date;
  if (by === 'month') return date.slice(0, 7);
  return isoWeek(date);
}

/** The bucket of an instant, by its calendar date in the ledger's zone (never by its UTC date). */
export function bucketOf(utc: number | string, zone: string, by: BucketBy): string {
  return bucketOfDate(localDate(utc, zone), by);
}

/** The first calendar date of a bucket. */
export function bucketStart(key: string, by: BucketBy): LocalDate {
  if (by === 'day') return key;
  if (by === 'month') return `${key}-01`;
  const [wy, w] = key.split('-W').map(Number);
  const jan4 = new Date(Date.UTC(wy, 0, 4));
  const monday1 = addDays(jan4.toISOString().slice(0, 10), -((jan4.getUTCDay() + 6) % 7));
  return addDays(monday1, (w - 1) * 7);
}

/** The bucket after `key`. */
export function nextBucket(key: string, by: BucketBy): string {
  if (by === 'day') return addDays(key, 1);
  if (by === 'week') return isoWeek(addDays(bucketStart(key, 'week'), 7));
  const [y, m] = key.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/**
 * Maps many instants to their calendar dates in a zone with one zone lookup per day of the span
 * (then a binary search per instant), instead of one per instant: reports place 10⁵–10⁶ instants.
 */
export class LocalDays {
  private readonly zone: string;
  private readonly first: LocalDate;
  private readonly starts: number[] = []; // UTC ms at which day first+i begins; one extra at the end
  private readonly dates: LocalDate[] = [];

  constructor(zone: string, fromMs: number, toMs: number, maxDays = 40_000) {
    this.zone = zone;
    this.first = localDate(Math.min(fromMs, toMs), zone);
    const n = daysBetween(this.first, localDate(Math.max(fromMs, toMs), zone)) + 1;
    if (n > maxDays) return; // too long a span: fall back to per-instant lookups
    for (let i = 0; i <= n; i++) {
      const d = addDays(this.first, i);
      this.dates.push(d);
      this.starts.push(startOfLocalDayMs(d, zone));
    }
  }

  dateOf(ms: number): LocalDate {
    const i = this.indexOf(ms);
    return i < 0 ? localDate(ms, this.zone) : this.dates[i];
  }

  /** Days from the span's first date to the instant's date; −1 outside the span. */
  indexOf(ms: number): number {
    const s = this.starts;
    if (!s.length || ms < s[0] || ms >= s[s.length - 1]) return -1;
    let lo = 0;
    let hi = s.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= ms) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Days from the span's first date to a calendar date. */
  offsetOf(date: LocalDate): number {
    return daysBetween(this.first, date);
  }

  dateAt(index: number): LocalDate {
    return this.dates[index];
  }
}

/** Every bucket from `first` to `last` inclusive, gaps included; null when there would be more than `max`. */
export function bucketsBetween(first: string, last: string, by: BucketBy, max = 5000): string[] | null {
  const out: string[] = [];
  for (let k = first; k <= last; k = nextBucket(k, by)) {
    out.push(k);
    if (out.length > max) return null;
    if (k === last) break; // the last day there is (9999-12-31) has no next one to compare
  }
  return out;
}

/** Point flows between the members and the merchant accounts over a period. */
export interface Flows {
  issued: Points; // credited by accruals (−Σ negative issued postings)
  returned: Points; // taken back by returns and refunds (Σ positive issued postings)
  redeemed: Points; // spent, net of refunds given back
  expired: Points;
  adjusted: Points; // manual credits minus manual debits
}

export const emptyFlows = (): Flows => ({ issued: 0, returned: 0, redeemed: 0, expired: 0, adjusted: 0 });

export function addFlows(a: Flows, b: Flows): Flows {
  return {
    issued: a.issued + b.issued,
    returned: a.returned + b.returned,
    redeemed: a.redeemed + b.redeemed,
    expired: a.expired + b.expired,
    adjusted: a.adjusted + b.adjusted,
  };
}

/** How much the members' balances (available + held) moved: issued − returned − redeemed − expired + adjusted. */
export const netChange = (f: Flows): Points => f.issued - f.returned - f.redeemed - f.expired + f.adjusted;

export const RECONCILIATION_FORMULA = 'opening + issued − returned − redeemed − expired ± adjusted = closing';

/** opening + net flows against the closing balance summed independently from the journal. */
export function reconcile(opening: Points, f: Flows, closing: Points): { ok: boolean; expected: Points; line: string } {
  const expected = opening + netChange(f);
  const adj = f.adjusted < 0 ? `− ${-f.adjusted}` : `+ ${f.adjusted}`;
  const line = `${opening} + ${f.issued} − ${f.returned} − ${f.redeemed} − ${f.expired} ${adj} = ${expected}` + (expected === closing ? '' : ` ≠ ${closing}`);
  return { ok: expected === closing, expected, line };
}

/** §4.2 value of points as a decimal string in the ledger's currency. */
export function valueOf(points: Points, redeemPointsPerUnit: Decimal.Value, digits: number): string {
  return formatMoney(pointsValue(points, redeemPointsPerUnit, digits), digits);
}

/**
 * The values of parts of a total (the liability's expiry months): the total's value (§4.2, floored once)
 * shared out by points, the largest remainders taking the minor units left, so that the parts add up to
 * the total exactly. Each part is within one minor unit of its own floored value.
 */
export function partValues(points: readonly Points[], redeemPointsPerUnit: Decimal.Value, digits: number): string[] {
  const total = pointsValue(points.reduce((a, p) => a + p, 0), redeemPointsPerUnit, digits);
  return allocateProportionally(total, points).map((v) => formatMoney(v, digits));
}

export interface ExpiryBucket {
  month: string | null; // YYYY-MM; null = never expires
  points: Points;
}

/** Lot sums by expiry month in calendar order, the never-expiring bucket last; empty buckets dropped. */
export function orderExpiryBuckets(rows: readonly ExpiryBucket[]): ExpiryBucket[] {
  return rows
    .filter((r) => r.points !== 0)
    .sort((a, b) => (a.month === b.month ? 0 : a.month === null ? 1 : b.month === null ? -1 : a.month < b.month ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// RFM segments. Recency is scored on fixed day thresholds a merchant can read; frequency and
// monetary on quintiles of the members who bought in the period, so the scale fits any shop.

/** Recency score 5 for a last order within 30 days, 4 within 60, 3 within 90, 2 within 180, else 1. */
export const RECENCY_DAYS = [30, 60, 90, 180] as const;

export interface ScoreBand {
  score: number;
  min: number | null; // inclusive; null = no lower bound
  max: number | null; // inclusive; null = no upper bound
}

export function recencyScore(days: number): number {
  for (let i = 0; i < RECENCY_DAYS.length; i++) if (days <= RECENCY_DAYS[i]) return 5 - i;
  return 1;
}

export function recencyBands(): ScoreBand[] {
  const bands: ScoreBand[] = [];
  let lo = 0;
  RECENCY_DAYS.forEach((d, i) => {
    bands.push({ score: 5 - i, min: lo, max: d });
    lo = d + 1;
  });
  bands.push({ score: 1, min: lo, max: null });
  return bands;
}

/**
 * Upper bounds of scores 1–4 for integer values: the value at the end of each fifth of the sorted
 * values. Score = 1 + number of cuts the value exceeds, so ties never split across scores.
 */
export function quintileCuts(values: readonly number[]): number[] {
  if (!values.length) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const cuts: number[] = [];
  for (let k = 1; k <= 4; k++) cuts.push(sorted[Math.ceil((n * k) / 5) - 1]);
  return cuts;
}

export function scoreByCuts(v: number, cuts: readonly number[]): number {
  let s = 1;
  for (const c of cuts) if (v > c) s++;
  return s;
}

/** The cuts as readable bands (duplicate cuts collapse: a score nobody can reach is left out). */
export function cutBands(cuts: readonly number[]): ScoreBand[] {
  const bands: ScoreBand[] = [];
  let lo: number | null = null;
  for (let i = 0; i <= cuts.length; i++) {
    const hi = i < cuts.length ? cuts[i] : null;
    if (hi !== null && lo !== null && hi < lo) continue;
    bands.push({ score: i + 1, min: lo, max: hi });
    if (hi !== null) lo = hi + 1;
  }
  return bands;
}

export interface SegmentRule {
  segment: string;
  rule: string;
  /** The scores, and the member's orders in the period (a score is a fifth of the buyers, not a count). */
  test: (r: number, f: number, m: number, orders: number) => boolean;
}

/** First matching rule wins; members without an order in the period are "no purchases". */
export const SEGMENT_RULES: readonly SegmentRule[] = [
  { segment: 'champions', rule: 'R ≥ 4 and F ≥ 4 and M ≥ 4', test: (r, f, m) => r >= 4 && f >= 4 && m >= 4 },
  { segment: 'loyal', rule: 'R ≥ 3 and F ≥ 4', test: (r, f) => r >= 3 && f >= 4 },
  { segment: 'big spenders', rule: 'R ≥ 3 and M ≥ 4', test: (r, _f, m) => r >= 3 && m >= 4 },
  // one order, not F = 1: in a shop where most buyers have a few orders, the lowest fifth holds 4
  { segment: 'new', rule: 'R ≥ 4 and one order', test: (r, _f, _m, orders) => r >= 4 && orders === 1 },
  { segment: 'promising', rule: 'R ≥ 3', test: (r) => r >= 3 },
  { segment: 'at risk', rule: 'R ≤ 2 and (F ≥ 3 or M ≥ 3)', test: (r, f, m) => r <= 2 && (f >= 3 || m >= 3) },
  { segment: 'hibernating', rule: 'R = 2', test: (r) => r === 2 },
  { segment: 'lost', rule: 'R = 1', test: () => true },
];
export const NO_PURCHASES = { segment: 'no purchases', rule: 'no order in the period' } as const;

export function segmentOf(r: number, f: number, m: number, orders: number): string {
  return SEGMENT_RULES.find((s) => s.test(r, f, m, orders))!.segment;
}

export interface RfmInput {
  memberId: string;
  lastAt: string | null; // UTC ISO of the last order placed; null for none in the period
  /** Orders placed in the period (0: only points moved, a return or refund of an earlier order). */
  orders: number;
  /** Points purchases earned in the period, net of what returns, refunds and voids took back. */
  earned: Points;
}

export interface RfmMember extends RfmInput {
  lastAt: string;
  lastOn: LocalDate;
  recencyDays: number;
  r: number;
  f: number;
  m: number;
  segment: string;
}

export interface SegmentSummary {
  segment: string;
  rule: string;
  members: number;
  share: string; // percent with one decimal
  avgRecencyDays: number | null;
  orders: number;
  pointsEarned: Points;
}

export interface RfmResult {
  thresholds: { recencyDays: ScoreBand[]; orders: ScoreBand[]; pointsEarned: ScoreBand[] };
  segments: SegmentSummary[];
  members: RfmMember[];
}

const pct = (part: number, whole: number): string => (whole ? ((part * 100) / whole).toFixed(1) : '0.0');

/**
 * Scores every buyer (a member with an order in the period) and summarises the segments; `totalMembers`
 * counts members without orders too, whose points (a return or refund of an earlier order) are the
 * "no purchases" segment's, so the segments' points add up to the inputs'.
 */
export function rfmSegments(rows: readonly RfmInput[], totalMembers: number, asOf: LocalDate, zone: string): RfmResult {
  const buyers = rows.filter((b): b is RfmInput & { lastAt: string } => b.orders > 0 && b.lastAt !== null);
  let idleEarned = 0;
  for (const b of rows) if (!(b.orders > 0 && b.lastAt !== null)) idleEarned += b.earned;
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (const b of buyers) {
    const ms = Date.parse(b.lastAt);
    if (ms < minMs) minMs = ms;
    if (ms > maxMs) maxMs = ms;
  }
  const days = buyers.length ? new LocalDays(zone, minMs, maxMs) : null;
  const asOfIndex = days ? days.offsetOf(asOf) : 0;
  const fCuts = quintileCuts(buyers.map((b) => b.orders));
  const mCuts = quintileCuts(buyers.map((b) => b.earned));
  const members: RfmMember[] = buyers.map((b) => {
    const ms = Date.parse(b.lastAt);
    const i = days!.indexOf(ms);
    const lastOn = i < 0 ? localDate(ms, zone) : days!.dateAt(i);
    const recencyDays = Math.max(0, i < 0 ? daysBetween(lastOn, asOf) : asOfIndex - i);
    const r = recencyScore(recencyDays);
    const f = scoreByCuts(b.orders, fCuts);
    const m = scoreByCuts(b.earned, mCuts);
    // Built field by field: spreading driver rows (dictionary-mode objects) costs 10× more at 50k rows.
    return { memberId: b.memberId, lastAt: b.lastAt, orders: b.orders, earned: b.earned, lastOn, recencyDays, r, f, m, segment: segmentOf(r, f, m, b.orders) };
  });
  const acc = new Map<string, { n: number; days: number; orders: number; earned: number }>();
  for (const x of members) {
    let a = acc.get(x.segment);
    if (!a) acc.set(x.segment, (a = { n: 0, days: 0, orders: 0, earned: 0 }));
    a.n++;
    a.days += x.recencyDays;
    a.orders += x.orders;
    a.earned += x.earned;
  }
  const segments: SegmentSummary[] = SEGMENT_RULES.map((s) => {
    const a = acc.get(s.segment) ?? { n: 0, days: 0, orders: 0, earned: 0 };
    return {
      segment: s.segment,
      rule: s.rule,
      members: a.n,
      share: pct(a.n, totalMembers),
      avgRecencyDays: a.n ? Math.round(a.days / a.n) : null,
      orders: a.orders,
      pointsEarned: a.earned,
    };
  });
  const idle = Math.max(0, totalMembers - buyers.length);
  segments.push({ ...NO_PURCHASES, members: idle, share: pct(idle, totalMembers), avgRecencyDays: null, orders: 0, pointsEarned: idleEarned });
  return { thresholds: { recencyDays: recencyBands(), orders: cutBands(fCuts), pointsEarned: cutBands(mCuts) }, segments, members };
}

/** A band as text: "≤ 30", "31–60", "≥ 181". */
export function bandText(b: ScoreBand): string {
  if (b.min === null && b.max === null) return 'any';
  if (b.min === null) return `≤ ${b.max}`;
  if (b.max === null) return `≥ ${b.min}`;
  return b.min === b.max ? `${b.min}` : `${b.min}–${b.max}`;
}
