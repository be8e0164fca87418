// Anomaly signals (issue 18): simple, documented patterns of points fraud, each with its evidence.
// Pure: the store reads the facts, this decides which members cross a signal (README "report anomalies").
import { type Minor, type Points, formatMoney } from './money.js';

/** The thresholds, fixed and documented: a signal is a reason to look, not a verdict. */
export const ANOMALY_THRESHOLDS = {
  /** A refund or return this many days or fewer after the points were earned. */
  quickReturnDays: 7,
  /** This many refunds and returns or more by one member in the period. */
  manyRefunds: 3,
  /** A manual credit (member adjust) of this many points or more... */
  largeAdjustPoints: 1000,
  /** ...followed by a checkout paying with points within this many hours. */
  spendAfterAdjustHours: 24,
  /** This many members or more share one phone or one email. */
  sharedContactMembers: 3,
} as const;

export type Thresholds = { -readonly [K in keyof typeof ANOMALY_THRESHOLDS]: number };

export type Signal = 'quick-return' | 'many-refunds' | 'spend-after-adjust' | 'shared-contact';

/** A checkout refund, with its order. */
export interface RefundFact {
  refundId: number;
  orderId: string;
  memberId: string;
  at: string; // UTC ISO
  paidAt: string | null;
  points: Points; // points given back
  cash: Minor;
  earned: Points; // earned points taken back
  orderEarned: Points;
}

/** An imported purchase or return that accrued (not voided). */
export interface PurchaseFact {
  source: string;
  orderId: string;
  memberId: string;
  at: string;
  kind: 'purchase' | 'return';
  amount: Minor;
  points: Points;
}

export interface AdjustFact {
  entryId: number;
  memberId: string;
  at: string;
  points: Points;
  reason: string | null;
}

export interface PointsOrderFact {
  orderId: string;
  memberId: string;
  paidAt: string;
  pointsUsed: Points;
  total: Minor;
}

export interface ContactFact {
  memberId: string;
  phone: string | null;
  email: string | null;
}

export interface AnomalyFacts {
  /** Refunds and returns in the period. */
  refunds: RefundFact[];
  returns: PurchaseFact[];
  /** Accrued imported purchases from quickReturnDays before the period to its end (what returns are matched to). */
  purchases: PurchaseFact[];
  /** Positive adjusts of at least largeAdjustPoints from spendAfterAdjustHours before the period to its end. */
  adjusts: AdjustFact[];
  /** Checkouts paid with points in the period. */
  pointsOrders: PointsOrderFact[];
  contacts: ContactFact[];
}

export type Evidence = Record<string, string | number | null>;

export interface AnomalyFinding {
  signal: Signal;
  detail: string;
  evidence: Evidence[];
}

export interface AnomalyMember {
  memberId: string;
  findings: AnomalyFinding[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ms = (iso: string) => Date.parse(iso);

/**
 * Normalised contacts: a phone by its last 11 digits (spaces, dashes and a country code such as +86 in
 * front do not make another number; fewer than 5 digits is no number), an email in lower case.
 */
export function phoneKey(p: string | null): string | null {
  if (!p) return null;
  const digits = p.replace(/\D/g, '');
  return digits.length >= 5 ? digits.slice(-11) : null;
}
export function emailKey(e: string | null): string | null {
  const k = e?.trim().toLowerCase();
  return k ? k : null;
}

/** Which members cross which signal, with the evidence; members in id order, findings in signal order. */
export function detectAnomalies(f: AnomalyFacts, digits: number, t: Thresholds = { ...ANOMALY_THRESHOLDS }): AnomalyMember[] {
  const out = new Map<string, AnomalyFinding[]>();
  const add = (memberId: string, x: AnomalyFinding) => {
    const list = out.get(memberId) ?? [];
    list.push(x);
    out.set(memberId, list);
  };
  const money = (m: Minor) => formatMoney(m, digits);

  // quick-return: a checkout refund that took back earned points soon after the order was paid, or an
  // imported return soon after the member's last accrued purchase before it.
  const quick = new Map<string, Evidence[]>();
  const push = (m: string, e: Evidence) => quick.set(m, [...(quick.get(m) ?? []), e]);
  for (const r of f.refunds) {
    if (!r.paidAt || r.orderEarned <= 0) continue;
    const days = (ms(r.at) - ms(r.paidAt)) / DAY;
    if (days >= 0 && days <= t.quickReturnDays) push(r.memberId, { orderId: r.orderId, earnedAt: r.paidAt, earnedPoints: r.orderEarned, returnedAt: r.at, refundPoints: r.points, refundCash: money(r.cash), earnedTakenBack: r.earned, days: round1(days) });
  }
  const byMember = new Map<string, PurchaseFact[]>();
  for (const p of f.purchases) if (p.kind === 'purchase' && p.points > 0) byMember.set(p.memberId, [...(byMember.get(p.memberId) ?? []), p]);
  for (const r of f.returns) {
    const before = (byMember.get(r.memberId) ?? []).filter((p) => p.at <= r.at).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))[0];
    if (!before) continue;
    const days = (ms(r.at) - ms(before.at)) / DAY;
    if (days <= t.quickReturnDays) push(r.memberId, { orderId: before.orderId, source: before.source, earnedAt: before.at, earnedPoints: before.points, amount: money(before.amount), returnOrderId: r.orderId, returnedAt: r.at, returnAmount: money(-r.amount), pointsTakenBack: -r.points, days: round1(days) });
  }
  for (const [m, ev] of quick) add(m, { signal: 'quick-return', detail: `${ev.length} return${ev.length === 1 ? '' : 's'} within ${t.quickReturnDays} days of earning`, evidence: ev });

  // many-refunds: refunds and returns together, per member.
  const all = new Map<string, Evidence[]>();
  for (const r of f.refunds) all.set(r.memberId, [...(all.get(r.memberId) ?? []), { orderId: r.orderId, at: r.at, kind: 'refund', points: r.points, cash: money(r.cash) }]);
  for (const r of f.returns) all.set(r.memberId, [...(all.get(r.memberId) ?? []), { orderId: r.orderId, at: r.at, kind: 'return', points: -r.points, cash: money(-r.amount) }]);
  for (const [m, ev] of all) {
    if (ev.length < t.manyRefunds) continue;
    ev.sort((a, b) => String(a.at).localeCompare(String(b.at)));
    add(m, { signal: 'many-refunds', detail: `${ev.length} refunds and returns (threshold ${t.manyRefunds})`, evidence: ev });
  }

  // spend-after-adjust: a checkout with points soon after a large manual credit.
  const adjusts = new Map<string, AdjustFact[]>();
  for (const a of f.adjusts) if (a.points >= t.largeAdjustPoints) adjusts.set(a.memberId, [...(adjusts.get(a.memberId) ?? []), a]);
  const spend = new Map<string, Evidence[]>();
  for (const o of f.pointsOrders) {
    const a = (adjusts.get(o.memberId) ?? []).filter((x) => ms(x.at) <= ms(o.paidAt) && ms(o.paidAt) - ms(x.at) <= t.spendAfterAdjustHours * HOUR).sort((x, y) => (x.at < y.at ? 1 : -1))[0];
    if (!a) continue;
    spend.set(o.memberId, [...(spend.get(o.memberId) ?? []), { adjustEntry: a.entryId, adjustedAt: a.at, adjustPoints: a.points, reason: a.reason, orderId: o.orderId, paidAt: o.paidAt, pointsUsed: o.pointsUsed, total: money(o.total), hours: round1((ms(o.paidAt) - ms(a.at)) / HOUR) }]);
  }
  for (const [m, ev] of spend) add(m, { signal: 'spend-after-adjust', detail: `points spent within ${t.spendAfterAdjustHours} hours of a manual credit of ${t.largeAdjustPoints}+ points`, evidence: ev });

  // shared-contact: many members on one phone or one email.
  const groups = new Map<string, string[]>();
  for (const c of f.contacts) {
    const p = phoneKey(c.phone);
    const e = emailKey(c.email);
    if (p) groups.set(`phone ${p}`, [...(groups.get(`phone ${p}`) ?? []), c.memberId]);
    if (e) groups.set(`email ${e}`, [...(groups.get(`email ${e}`) ?? []), c.memberId]);
  }
  for (const [key, ids] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (ids.length < t.sharedContactMembers) continue;
    const [kind, value] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
    const sorted = [...ids].sort();
    for (const m of sorted) add(m, { signal: 'shared-contact', detail: `${sorted.length} members share the ${kind} ${value}`, evidence: sorted.map((id) => ({ memberId: id, [kind]: value })) });
  }

  const order: Signal[] = ['quick-return', 'many-refunds', 'spend-after-adjust', 'shared-contact'];
  return [...out]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([memberId, findings]) => ({ memberId, findings: findings.sort((a, b) => order.indexOf(a.signal) - order.indexOf(b.signal)) }));
}

const round1 = (n: number) => Math.round(n * 10) / 10;
