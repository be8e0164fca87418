// Undoing a wrong import (issue 16): `import list`, `import void RUN`, `purchase void SOURCE ORDER`.
// A void never deletes or edits the journal: each voided order's points are reversed by a new `void`
// entry, dated at the order it reverses (so the order's day and period net to nothing), as into a ledger
// that never saw the order: points it credited are taken back from the lot it created, what an expiry
// run expired of that lot goes back from `expired` to `issued`, and only what the member spent of it is
// taken from other lots (or left as debt); points a return took go back to the lots it took them from
// (repaying debt first). The purchase is marked voided, which frees its key (source, order_id) for a
// corrected file. Orders of the run still waiting in review are rejected.
import { POINTS_MAX } from '../domain/money.js';
import { RefusedError, UsageError, NotFoundError } from '../errors.js';
import { expiresOn } from '../domain/rules.js';
import { localDate, shownInstant } from '../domain/time.js';
import { takeBackLots } from '../domain/lots.js';
import { type ImportRunRow, type StoredPurchase, importRuns } from '../store/importRuns.js';
import { members } from '../store/members.js';
import { refreshStatistics } from '../store/purchases.js';
import { reviewQueue } from '../store/review.js';
import { type Ctx, type Ledger, rulesAt, withLedger } from './ledger.js';
import { recordAudit, refuseCeiling } from './points.js';
import { type Journal, journal } from '../store/journal.js';
import { type ExpiredOf, ExpiredLeft, giveBackReturn, takeBackPostings, takeBackPurchase, withExpired } from '../domain/voids.js';
import { redirectFromVoided } from '../domain/refund.js';

export interface ImportRunView {
  id: number;
  source: string;
  file: string;
  sha256: string;
  importedAt: string;
  finishedAt: string | null;
  operator: string;
  rows: number | null;
  rejected: number | null;
  /** Orders it took (accrued or sent to review), voided ones included. */
  accepted: number;
  /** Net points of its orders (credits less returns; 0 for orders in review). */
  points: number;
  voided: number;
  firstPurchasedAt: string | null;
  lastPurchasedAt: string | null;
}

export async function listImportRuns(ctx: Ctx): Promise<ImportRunView[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const r = l.store.get(importRuns);
      const totals = r.totals();
      return r.all().map((run) => {
        const t = totals.get(run.id) ?? { accepted: 0, points: 0, voided: 0, first: null, last: null };
        return {
          id: run.id,
          source: run.source,
          file: run.file,
          sha256: run.sha256,
          importedAt: run.started_at,
          finishedAt: run.finished_at,
          operator: run.operator,
          rows: run.rows,
          rejected: run.rejected,
          accepted: t.accepted,
          points: t.points,
          voided: t.voided,
          firstPurchasedAt: t.first,
          lastPurchasedAt: t.last,
        };
      });
    }),
  );
}

export interface VoidSummary {
  /** The run voided, or null for `purchase void`. */
  runId: number | null;
  source: string;
  /** Orders voided (accrued ones and those rejected from review). */
  orders: number;
  /** Points the voided orders had credited, taken back (from the members, or from `expired` for what an expiry run had expired of them). */
  pointsTakenBack: number;
  /** Of the points taken back, those an expiry run had expired already: taken from `expired`, not from the members. */
  expiredReversed: number;
  /** Points given back (returns that had taken them): to the lots they came from, or as less debt. */
  pointsGivenBack: number;
  /** Of the points taken back, what members had spent already: now their debt. */
  debt: number;
  /** Orders that were waiting in review, now rejected. */
  reviewRejected: number;
  members: number;
  /** Per member: the net change of its balance (not the points an expiry run had expired already), and the debt the void left. */
  byMember: { memberId: string; points: number; debt: number }[];
  dryRun: boolean;
}

/** The figures a void's question names: what a confirmed void must still write, to the point. */
export type VoidFigures = Pick<VoidSummary, 'orders' | 'pointsTakenBack' | 'pointsGivenBack' | 'debt' | 'reviewRejected' | 'members' | 'byMember'>;

export interface VoidOptions {
  dryRun?: boolean;
  /** What the operator confirmed (the dry run asked about): a void that now computes other figures is refused. */
  expect?: VoidFigures;
}

class DryRun extends Error {
  constructor(readonly summary: VoidSummary) {
    super('dry run');
  }
}

/** `import void RUN`: every order of the run not voided yet. */
export async function voidImportRun(ctx: Ctx, runId: number, opts: VoidOptions = {}): Promise<VoidSummary> {
  return runVoid(ctx, opts, (l) => {
    const runs = l.store.get(importRuns);
    const run = runs.get(runId);
    if (!run) throw new NotFoundError('import run', String(runId), 'list the runs with: pointsmall import list');
    const all = runs.purchasesOf(runId);
    const open = all.filter((p) => p.voided_at === null || p.voided_at === undefined);
    if (all.length && !open.length) {
      throw new RefusedError('ALREADY_VOIDED', `import run ${runId} (${run.source}, ${run.file}) was voided already: its ${all.length} orders are voided`, 'see them with: pointsmall import list');
    }
    return { run, source: run.source, purchases: open };
  });
}

/** `purchase void SOURCE ORDER_ID`: one imported order. */
export async function voidPurchase(ctx: Ctx, source: string, orderId: string, opts: VoidOptions = {}): Promise<VoidSummary> {
  return runVoid(ctx, opts, (l) => {
    const runs = l.store.get(importRuns);
    const p = runs.byKey(source, orderId);
    if (!p) {
      const gone = runs.lastVoided(source, orderId);
      if (gone) throw new RefusedError('ALREADY_VOIDED', `order ${orderId} of source ${source} was voided already (at ${shownInstant(gone.voided_at, l.zone)})`);
      throw new NotFoundError('imported order', `${source}:${orderId}`, 'orders are named by the import source and the order id of the file');
    }
    return { run: null, source, purchases: [p] };
  });
}

async function runVoid(
  ctx: Ctx,
  opts: VoidOptions,
  pick: (l: Ledger) => { run: ImportRunRow | null; source: string; purchases: StoredPurchase[] },
): Promise<VoidSummary> {
  try {
    return await withLedger(ctx, (l) => {
      const done = l.store.write(() => {
        const { run, source, purchases } = pick(l);
        const s = voidAll(l, run, source, purchases, opts.dryRun ?? false);
        // SPEC §7 "What is confirmed is what is done": compared inside the write, before the commit.
        if (opts.expect && !sameFigures(opts.expect, s)) {
          const now = figuresInWords(s, opts.expect), asked = figuresInWords(opts.expect, s);
          const what = now === asked ? `the same totals (${now}) fall on the members otherwise` : `now ${now}, confirmed ${asked}`;
          throw new RefusedError('VOID_CHANGED', `the void changed since it was confirmed: ${what}; nothing was voided`, 'run it again and check the figures');
        }
        if (opts.dryRun) throw new DryRun(s); // rolls the transaction back: nothing is written
        recordAudit(l, run ? 'import.void' : 'purchase.void', run ? `run ${run.id}` : `${source}:${purchases[0].order_id}`, {
          orders: s.orders,
          pointsTakenBack: s.pointsTakenBack,
          pointsGivenBack: s.pointsGivenBack,
          debt: s.debt,
          reviewRejected: s.reviewRejected,
          members: s.members,
        });
        return s;
      });
      // a large void on PostgreSQL: the planner learns how many purchases are voided now (ledger verify's
      // check of the voids was planned as for one: 31 s after a void of 20,000 orders, 2 s with them)
      if (done.orders >= STATISTICS_AFTER) refreshStatistics(l.store, ['purchases', 'entries', 'postings', 'lots', 'lot_moves', 'members']);
      return done;
    });
  } catch (e) {
    if (e instanceof DryRun) return e.summary;
    throw e;
  }
}

/** Every figure the question named, per member too (another till's spend meanwhile turns points into debt). */
function sameFigures(e: VoidFigures, s: VoidFigures): boolean {
  const member = (m: VoidFigures['byMember'][number]) => `${m.memberId}:${m.points}:${m.debt}`;
  return (
    e.orders === s.orders &&
    e.pointsTakenBack === s.pointsTakenBack &&
    e.pointsGivenBack === s.pointsGivenBack &&
    e.debt === s.debt &&
    e.reviewRejected === s.reviewRejected &&
    e.members === s.members &&
    e.byMember.map(member).join(',') === s.byMember.map(member).join(',')
  );
}

/** The figures of `f` in words; one that is 0 in both `f` and `other` is left out. */
function figuresInWords(f: VoidFigures, other: VoidFigures): string {
  const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
  const some = (k: keyof Omit<VoidFigures, 'byMember'>) => f[k] !== 0 || other[k] !== 0;
  return [
    n(f.orders, 'order'),
    ...(some('pointsTakenBack') ? [`${n(f.pointsTakenBack, 'point')} taken back`] : []),
    ...(some('pointsGivenBack') ? [`${n(f.pointsGivenBack, 'point')} of returns given back`] : []),
    ...(some('debt') ? [`${n(f.debt, 'point')} already spent or held by a checkout ${f.debt === 1 ? 'becomes' : 'become'} debt`] : []),
    `${n(f.members, 'member')} affected`,
    ...(some('reviewRejected') ? [`${f.reviewRejected} rejected from review`] : []),
  ].join(', ');
}

/** Voided orders from which a void refreshes the planner's statistics (PostgreSQL). */
const STATISTICS_AFTER = 1000;

function voidAll(l: Ledger, run: ImportRunRow | null, source: string, purchases: StoredPurchase[], dryRun: boolean): VoidSummary {
  const runs = l.store.get(importRuns);
  const q = l.store.get(reviewQueue);
  const s: VoidSummary = { runId: run?.id ?? null, source, orders: 0, pointsTakenBack: 0, expiredReversed: 0, pointsGivenBack: 0, debt: 0, reviewRejected: 0, members: 0, byMember: [], dryRun };
  // per member: the points the void moves, and the debt before it and as it goes (read once, kept here
  // rather than read again per order), with the balance before it (balance now: before + points)
  const byMember = new Map<string, { memberId: string; points: number; debt: number; debtBefore: number; debtNow: number; balanceBefore: number }>();
  const note = run ? `voided with import run ${run.id}` : 'voided';
  // What the orders' own entries did to lots, read once for the void: the lots each accrual created (and
  // what expiry runs expired of them), the lots each return took from.
  const j = l.store.get(journal);
  const accrued = purchases.filter((p) => p.status === 'accrued' && p.points !== 0 && p.entry_id !== null);
  const own = j.lotsCreatedBy(accrued.filter((p) => p.points > 0).map((p) => p.entry_id!));
  const taken = j.lotsTakenBy(accrued.filter((p) => p.points < 0).map((p) => p.entry_id!));
  const memberIds = [...new Set(accrued.map((p) => p.member_id))];
  const debtsBefore = l.store.get(members).debts(memberIds);
  const balancesBefore = l.store.get(members).balances(memberIds);
  // PostgreSQL: the members' open lots read once and followed in memory (and the lots the returns took
  // from, which a voided return gives back to), and the void's writes queued, not a round trip each (a
  // void of 20,000 orders took a minute and a half); SQLite: the same statements as ever
  const takenLots = [...taken.values()].flatMap((list) => list.map((t) => t.lotId));
  j.followOpenLots(memberIds);
  j.followLots(takenLots);
  const expired = new ExpiredPoints(j, own, memberIds, accrued.filter((p) => p.points > 0).map((p) => localDate(p.purchased_at, l.zone)));
  // the lots the returns took from whose own purchase an earlier void took back: a voided return's points
  // for them go where that void took them from instead (a look-up each, so only for these: a return whose
  // purchase this same void takes back gives back to that purchase's lot, as before)
  const voidedLots = j.lotsOfVoidedPurchases(takenLots);
  const marks: { id: number; entryId: number | null }[] = [];
  j.pipelined(() => {
    // Newest first, as an undo goes: a return's points come back before the purchase it returned is taken back.
    for (const p of [...purchases].reverse()) {
      const ref = `${p.source}:${p.order_id}`;
      let entryId: number | null = null;
      if (p.status === 'review') {
        const item = q.byOrder(p.order_id).find((r) => r.source === p.source && r.status === 'pending');
        if (item && !q.decide(item.id, 'rejected', l.nowIso, l.operator, note, 0, null)) throw new RefusedError('ALREADY_DECIDED', `review item ${item.id} was decided meanwhile`);
        s.reviewRejected++;
      } else if (p.status === 'accrued' && p.points !== 0) {
        let m = byMember.get(p.member_id);
        if (!m) {
          const debtBefore = debtsBefore.get(p.member_id) ?? 0;
          byMember.set(p.member_id, (m = { memberId: p.member_id, points: 0, debt: 0, debtBefore, debtNow: debtBefore, balanceBefore: balancesBefore.get(p.member_id) ?? 0 }));
        }
        if (p.points > 0) {
          const v = voidPurchasePoints(l, p, ref, note, own.get(p.entry_id ?? -1) ?? [], expired);
          entryId = v.entryId;
          s.pointsTakenBack += p.points;
          s.expiredReversed += p.points - v.fromMember;
          m.points -= v.fromMember; // (what an expiry run expired of the order was not the member's any more)
          m.debtNow += v.debt;
        } else {
          const v = voidReturnPoints(l, p, ref, note, taken.get(p.entry_id ?? -1) ?? [], { debt: m.debtNow, balance: m.balanceBefore + m.points }, voidedLots);
          entryId = v.entryId;
          s.pointsGivenBack += -p.points;
          m.points -= p.points;
          m.debtNow -= v.debtRepaid;
        }
      }
      marks.push({ id: p.id, entryId });
      s.orders++;
    }
    if (!runs.markVoidedMany(marks, l.nowIso)) throw new RefusedError('ALREADY_VOIDED', 'orders of this void were voided meanwhile');
    j.flushLotRemaining();
  });
  if (runs.countVoided(purchases.map((p) => p.id), l.nowIso) !== purchases.length) throw new RefusedError('ALREADY_VOIDED', 'orders of this void were voided meanwhile');
  const debtsAfter = l.store.get(members).debts(memberIds);
  // numbers stay exact: no void leaves a member owing past the ceiling (trial 41: a void after a return took
  // a member to 2×10^12 points of debt); thrown inside the write, so nothing is voided
  for (const [id, d] of debtsAfter) {
    if (d > POINTS_MAX) throw new RefusedError('POINTS_CEILING', `the void would leave member ${id} owing ${d} points, past the ceiling of ${POINTS_MAX} points for a member's debt: nothing was voided`, 'credit the member first, or void their orders apart (README "Limits")');
  }
  for (const m of byMember.values()) {
    m.debt = Math.max(0, (debtsAfter.get(m.memberId) ?? 0) - m.debtBefore);
    s.debt += m.debt;
  }
  s.byMember = [...byMember.values()].map(({ memberId, points, debt }) => ({ memberId, points, debt })).sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  s.members = s.byMember.length;
  if (!s.orders) throw new UsageError(run ? `import run ${run.id} has no orders to void` : 'nothing to void');
  return s;
}

/**
 * What expiry runs expired of the void's members' lots, kept as the void reverses it: the voided
 * purchases' own lots (read with them), and the other lots live on a voided purchase's day, read the
 * first time a take-back reaches past a purchase's own lot (once for the void: most take-backs never do).
 */
class ExpiredPoints extends ExpiredLeft {
  private loaded = false;

  constructor(
    private readonly j: Journal,
    own: Map<number, { lotId: number; expired: number }[]>,
    private readonly memberIds: string[],
    private readonly days: string[],
  ) {
    super();
    for (const list of own.values()) for (const x of list) this.set(x.lotId, x.expired);
  }

  /** The member's other lots with expired points, live on `day` or later, each with what is left of them expired. */
  otherLots(memberId: string): ExpiredOf[] {
    if (!this.loaded) {
      this.loaded = true;
      const byMember = this.j.expiredLots(this.memberIds, this.days.reduce((a, b) => (b < a ? b : a), this.days[0] ?? ''));
      this.addLots(byMember);
      this.j.followLots([...byMember.values()].flat().map((x) => x.id));
    }
    return this.lotsOf(memberId);
  }
}

/**
 * A voided purchase's points taken back, as into a ledger that never saw it: from the lot its accrual
 * created first (lapsed or not); the part of that lot an expiry run expired goes back from `expired` to
 * `issued` (it was never the member's to give back); only the rest, what the member spent of it, comes
 * from the member's other lots live on the purchase's day, earliest-expiring first (takeBackLots: lapsed
 * ones are the expiry run's, §7 over §4.6), and what they cannot cover becomes debt. Of such a lot that
 * lapsed since and that an expiry run expired, the points the take reaches are reopened (their expiry
 * reversed, then taken), as the take would have found them before the run. One entry; the member's
 * postings and the expired reversal add up to the points.
 */
function voidPurchasePoints(
  l: Ledger,
  p: StoredPurchase,
  ref: string,
  memo: string,
  ownLots: { lotId: number; expired: number }[],
  expired: ExpiredPoints,
): { entryId: number; fromMember: number; debt: number } {
  const j = l.store.get(journal);
  const own = ownLots.map((x) => ({ lotId: x.lotId, remaining: j.lotRemaining(x.lotId, p.member_id), expired: expired.of(x.lotId) }));
  const open = j.openLots(p.member_id);
  const others = own.reduce((s, x) => s + x.remaining + x.expired, 0) < p.points ? withExpired(open, expired.otherLots(p.member_id)) : open;
  const plan = takeBackPurchase(own, takeBackLots(others, localDate(p.purchased_at, l.zone)), p.points);
  const { postings, fromMember } = takeBackPostings(p.member_id, p.points, plan, 'issued');
  const entryId = j.post({ at: p.purchased_at, kind: 'void', memberId: p.member_id, ref, memo, postings }, l.operator, l.nowIso);
  // reopened points come back into their lot before the take moves them out (its remaining never below 0)
  for (const t of plan.reopened) {
    j.moveLot(entryId, t.lotId, t.points);
    expired.reopen(t.lotId, t.points);
  }
  for (const t of [...plan.own, ...plan.others]) j.moveLot(entryId, t.lotId, -t.points);
  for (const x of own) expired.reopen(x.lotId, x.expired); // (the own lots' expiry is all reversed or kept by the void: none left to reopen)
  if (plan.debt > 0) j.addDebt(p.member_id, plan.debt);
  return { entryId, fromMember, debt: plan.debt };
}

/**
 * A voided return's points given back, as a refund gives points back: they repay the member's debt
 * first (the part of the return that became debt comes back so), and the rest goes back to the lots the
 * return took them from, latest-expiring first, each with its own expiresOn: into a lapsed lot they are
 * lapsed (the next expiry run posts them). Points of a debt other credits repaid meanwhile are a lot of
 * their own, earned when the return was.
 */
function voidReturnPoints(
  l: Ledger,
  p: StoredPurchase,
  ref: string,
  memo: string,
  takenFrom: { lotId: number; points: number }[],
  member: { debt: number; balance: number },
  voidedLots: ReadonlySet<number>,
): { entryId: number; debtRepaid: number } {
  const j = l.store.get(journal);
  const points = -p.points;
  const plan = giveBackReturn(takenFrom, points, member.debt);
  refuseCeiling(l, p.member_id, points, member.balance);
  const entryId = j.post(
    {
      at: p.purchased_at,
      kind: 'void',
      memberId: p.member_id,
      ref,
      memo,
      postings: [
        { account: 'issued', memberId: p.member_id, points: -points },
        { account: 'member', memberId: p.member_id, points },
      ],
    },
    l.operator,
    l.nowIso,
  );
  if (plan.debtRepaid > 0) j.addDebt(p.member_id, -plan.debtRepaid);
  // points for the lot of a purchase voided already go back to the lots its void took them from instead
  // (as a refund's do, redirectFromVoided): that void took them because this return had
  const dead = plan.toLots.filter((b) => voidedLots.has(b.lotId)).map((b) => b.lotId);
  const toLots = dead.length ? redirectFromVoided(plan.toLots, j.voidedLotTargets(p.member_id, dead)) : plan.toLots;
  for (const b of toLots) j.moveLot(entryId, b.lotId, b.points);
  if (plan.newLot > 0) j.createLot(entryId, p.member_id, plan.newLot, p.purchased_at, expiresOn(rulesAt(l, p.purchased_at).rules.expiry, Date.parse(p.purchased_at), l.zone));
  return { entryId, debtRepaid: plan.debtRepaid };
}
