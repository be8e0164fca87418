// `rules simulate DRAFT.json`: the period's paid orders earned again under a draft (domain/simulate.ts),
// read through the store in one snapshot, streamed in time order. Nothing is written.
import { RefusedError, UsageError } from '../errors.js';
import { POINTS_MAX } from '../domain/money.js';
import { type MultiplierNamingNothing, type PinnedOutside, type Rules, multipliersNamingNothing, pinnedOutside } from '../domain/rules.js';
import { type SimAward, type SimLine, type SimOrder, type SimRefund, type SimulateBy, type SimulationResult, Simulation } from '../domain/simulate.js';
import { type LocalDate, addDays, localDate, localDateTime, localRangeUtc } from '../domain/time.js';
import { type SimLineRow, type SimPurchaseRow, type SimRefundRow, analysis } from '../store/analysis.js';
import { rulesVersions } from '../store/rules.js';
import { type Ctx, type Ledger, parseStoredRules, rulesAt, withLedger } from './ledger.js';
import { memberHoldingsAt } from './reports.js';
import { namesOf, readRulesFile, rulesOfDocument } from './rules.js';

export interface SimulateInput {
  file: string;
  from?: LocalDate;
  to?: LocalDate;
  by?: SimulateBy;
  top?: number;
}

export interface SimulationReport extends SimulationResult {
  draft: string;
  from: LocalDate | null;
  to: LocalDate;
  currency: string;
  /** The redeem rates the values use: the draft's, and the one in force at the end of the period. */
  draftRedeemPointsPerUnit: string;
  redeemPointsPerUnit: string;
  /** Tiers members are pinned to that the draft does not define: simulated with no tier, as they would earn. */
  pinnedTiersNotInDraft: PinnedOutside[];
  /** The draft's multipliers whose SKU or category the ledger names nowhere (catalog, bought lines), with the names that differ only in case or spacing. */
  multipliersNamingNothing: MultiplierNamingNothing[];
}

/** The comparison of a draft with the ledger over a period (inside a read). */
export function simulateDraft(l: Ledger, draft: Rules, file: string, p: { from?: LocalDate; to?: LocalDate; by?: SimulateBy; top?: number }): SimulationReport {
  if (p.from && p.to && p.from > p.to) throw new UsageError(`--from ${p.from} is after --to ${p.to}`, 'both dates are inclusive; swap them');
  // no order is later than today: a later --to (9999-12-31) reads as today
  const today = localDate(l.now.getTime(), l.zone);
  const to = p.to && p.to < today ? p.to : today;
  // --to defaults to today, and a later one reads as today: a --from after that is the same inverted period
  if (p.from && p.from > to) throw new UsageError(`--from ${p.from} is after today (${today}), where ${p.to ? `--to ${p.to} reads as today` : '--to defaults'}`, 'no order is later than today; give an earlier --from');
  const r = localRangeUtc(l.zone, p.from, to);
  const fromIso = r.fromIso ?? '';
  const toIso = r.toIso!;
  const a = l.store.get(analysis);
  const versions = new Map(l.store.get(rulesVersions).history().map((v) => [v.id, v.document]));
  const endIso = toIso < l.nowIso ? new Date(Date.parse(toIso) - 1).toISOString() : l.nowIso;
  const inForce = rulesAt(l, endIso).rules;
  const pinned = a.pinnedTiers();
  const holdings = memberHoldingsAt(l, to, today);
  const sim = new Simulation({
    draft,
    version: (id) => {
      const doc = versions.get(id);
      if (doc === undefined) throw new Error(`rules version ${id} named by an order is not in the ledger`);
      return parseStoredRules(l, id, doc);
    },
    redeemInForce: inForce.redeem.pointsPerUnit,
    zone: l.zone,
    digits: l.digits,
    pinnedTier: (id) => pinned.get(id) ?? null,
    earnedBefore: fromIso ? a.earnedBefore(fromIso) : new Map(),
    voidedLater: fromIso ? a.voidedLater(fromIso).map(([memberId, at, points]) => ({ memberId, voidedAt: Date.parse(at), points })) : [],
    asOf: to,
    // as report liability --as-of counts them (lapsed points left out): each member's points and debt apart
    outstanding: [...holdings.values()].reduce((a, h) => a + h.points, 0),
    debt: [...holdings.values()].reduce((a, h) => a + h.debt, 0),
    holdings,
    expiryInForce: inForce.expiry,
    inForce,
    by: p.by ?? 'month',
    top: p.top ?? 10,
  });
  // Rows come line by line, an order's (a refund's) lines together, each stream in time order: the three
  // are merged event by event (at one instant: a purchase, then a checkout, then a refund, then an award),
  // with the activity awards that move members' lifetime points between them.
  // a refund of a checkout paid before the period brings its order, with the ledger's facts at the time
  const earlier = (orderId: string, memberId: string, paidAt: string): SimRefund['order'] => {
    const o = orderStream(a.checkoutLines(orderId)[Symbol.iterator]()).next().value;
    if (!o) return undefined;
    const day = localDate(Date.parse(paidAt), l.zone);
    const dayRange = localRangeUtc(l.zone, day, day);
    return { ...o, lifetimeBefore: a.lifetimeBefore(memberId, paidAt), earnedTodayBefore: a.earnedBetween(memberId, dayRange.fromIso!, paidAt) };
  };
  const streams = [
    purchaseStream(a.simPurchaseLines(fromIso, toIso)),
    orderStream(a.simCheckoutLines(fromIso, toIso)),
    refundStream(a.simRefundLines(fromIso, toIso), fromIso, earlier),
    awardStream(a.simAwards(fromIso, toIso)),
  ];
  const heads = streams.map((x) => x.next());
  for (;;) {
    let k = -1;
    for (let i = 0; i < heads.length; i++) if (!heads[i].done && (k < 0 || heads[i].value!.at < heads[k].value!.at)) k = i;
    if (k < 0) break;
    sim.add(heads[k].value!);
    heads[k] = streams[k].next();
  }
  const past = sim.pastCeiling();
  if (past) {
    throw new RefusedError(
      'POINTS_CEILING',
      `under ${file} member ${past.memberId}'s order of ${localDateTime(past.at, l.zone)} would earn ${past.points} points${Math.abs(past.points) > POINTS_MAX ? '' : ', lifting their lifetime points'}, past the ceiling of ${POINTS_MAX} points for an order or a member's balance: a ledger under the draft would have refused it, so nothing was simulated`,
      'lower the draft\'s earn rates or multipliers (README "Limits")',
    );
  }
  return {
    draft: file,
    from: p.from ?? null,
    to,
    currency: l.currency,
    draftRedeemPointsPerUnit: draft.redeem.pointsPerUnit.toString(),
    redeemPointsPerUnit: inForce.redeem.pointsPerUnit.toString(),
    pinnedTiersNotInDraft: pinnedOutside(pinned, draft),
    multipliersNamingNothing: draft.earn.multipliers.length ? multipliersNamingNothing(draft, namesOf(a, draft)) : [],
    ...sim.result(),
  };
}

/** Purchase lines grouped into whole purchases. */
function* purchaseStream(rows: IterableIterator<SimPurchaseRow>): Generator<SimOrder> {
  let cur: SimOrder | null = null;
  let lines: SimLine[] = [];
  let curId = -1;
  for (const [id, memberId, at, source, version, total, points, sku, category, amount, voidedAt] of rows) {
    if (id !== curId) {
      if (cur) yield cur;
      curId = id;
      lines = [];
      // an accrued purchase always names its version; one that does not is left out
      cur = version === null ? null : { kind: 'purchase', memberId, at: Date.parse(at), source, rulesVersion: version, total, points, cashPaid: 0, refunded: false, lines, ...(voidedAt ? { voidedAt: Date.parse(voidedAt) } : {}) };
    }
    lines.push({ sku, category, amount });
  }
  if (cur) yield cur;
}

/** Checkout lines grouped into whole orders. */
function* orderStream(rows: IterableIterator<SimLineRow>): Generator<SimOrder> {
  let cur: SimOrder | null = null;
  let lines: SimLine[] = [];
  let curKey: string | null = null;
  for (const row of rows) {
    const [, key, memberId, at, source, version, total, points, refunded, cashPaid, lineNo, sku, category, amount, quantity, cash, earned] = row;
    if (key !== curKey) {
      if (cur) yield cur;
      curKey = key;
      lines = [];
      // an accrued order always names its version; one that does not is left out
      cur = version === null ? null : { kind: 'checkout', key, memberId, at: Date.parse(at), source, rulesVersion: version, total, points, cashPaid, refunded: refunded === 1, lines };
    }
    lines.push({ sku, category, amount, lineNo: lineNo!, quantity, cash, earned });
  }
  if (cur) yield cur;
}

function* awardStream(rows: IterableIterator<[string, string, number]>): Generator<SimAward> {
  for (const [memberId, at, points] of rows) yield { kind: 'award', memberId, at: Date.parse(at), points };
}

/** Lines grouped into whole refunds. */
function* refundStream(rows: IterableIterator<SimRefundRow>, fromIso: string, earlier: (orderId: string, memberId: string, paidAt: string) => SimRefund['order']): Generator<SimRefund> {
  let cur: SimRefund | null = null;
  let lines: SimRefund['lines'][number][] = [];
  let curId = -1;
  for (const row of rows) {
    const [id, orderId, memberId, at, earned, lineNo, units, lineEarned, before, paidAt] = row;
    if (id !== curId) {
      if (cur) yield cur;
      curId = id;
      lines = [];
      cur = { kind: 'refund', orderKey: orderId, memberId, at: Date.parse(at), earned, lines, order: paidAt < fromIso ? earlier(orderId, memberId, paidAt) : undefined };
    }
    lines.push({ lineNo, units, before, earned: lineEarned });
  }
  if (cur) yield cur;
}

export async function simulateRules(ctx: Ctx, input: SimulateInput): Promise<SimulationReport> {
  const doc = readRulesFile(input.file, 'nothing was simulated');
  return withLedger(ctx, (l) =>
    l.store.read(() => simulateDraft(l, rulesOfDocument(l, input.file, doc, 'nothing was simulated'), input.file, input)),
  );
}

/** What `rules apply` shows before it asks: the draft over the last 90 days up to today. */
export async function previewApply(ctx: Ctx, file: string): Promise<SimulationReport> {
  const doc = readRulesFile(file);
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const to = localDate(l.now.getTime(), l.zone);
      return simulateDraft(l, rulesOfDocument(l, file, doc), file, { from: addDays(to, -89), to, top: 5 });
    }),
  );
}
