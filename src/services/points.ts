// The two ways points move for a member: a credit (a new lot, repaying any debt first) and a debit
// (taken from lots in spending order). Both post one balanced journal entry; call inside store.write().
import { RefusedError } from '../errors.js';
import { earnedAfter, spendableLots, takeBackLots, takeFromLots, type LotTake } from '../domain/lots.js';
import { takeBackPostings, takeBackPurchase, withExpired } from '../domain/voids.js';
import { POINTS_MAX } from '../domain/money.js';
import { localDate, localDateTime, type LocalDate } from '../domain/time.js';
import { books } from '../store/books.js';
import { type Account, journal } from '../store/journal.js';
import { members, type MemberRow } from '../store/members.js';
import { audit } from '../store/audit.js';
import { type Ledger, datedBeforeHint } from './ledger.js';

/** The ledger-local date of the operation: lots with an earlier expiresOn are lapsed (§7). */
export function ledgerToday(l: Ledger): LocalDate {
  return localDate(l.now.getTime(), l.zone);
}

/**
 * Points the member can spend now (§5, §7): the balance less open holds and less the points of lapsed
 * lots an expiry run has not posted yet. Negative for a member in debt.
 */
export function availableOf(l: Ledger, m: Pick<MemberRow, 'id' | 'balance' | 'held'>): number {
  return m.balance - m.held - l.store.get(books).lapsedOf(m.id, ledgerToday(l));
}

/**
 * Numbers stay exact: no credit takes a balance past the points ceiling (nothing is written; the
 * transaction rolls back). `balance`: the member's balance, when the caller already knows it.
 */
export function refuseCeiling(l: Ledger, memberId: string, points: number, balance = l.store.get(members).get(memberId)?.balance ?? 0): void {
  if (points > POINTS_MAX - Math.max(balance, 0)) {
    throw new RefusedError(
      'POINTS_CEILING',
      `crediting ${points} points to member ${memberId} (balance ${balance}) would pass the ceiling of ${POINTS_MAX} points`,
      'a balance holds at most 10^12 points (README "Limits")',
    );
  }
}

export interface CreditInput {
  memberId: string;
  points: number; // > 0
  at: string; // business time, UTC ISO
  kind: string; // accrual, adjust, ...
  from: Exclude<Account, 'member' | 'held'>;
  expiresOn: string | null;
  ref?: string | null;
  memo?: string | null;
}

export interface CreditResult {
  entryId: number;
  lotId: number | null;
  debtRepaid: number;
}

export function creditPoints(l: Ledger, c: CreditInput): CreditResult {
  return creditPointsKnownDebt(l, c, l.store.get(members).get(c.memberId)?.debt ?? 0);
}

/** creditPoints for bulk callers that already hold the member's current debt (an import tracks it per batch). */
export function creditPointsKnownDebt(l: Ledger, c: CreditInput, debt: number): CreditResult {
  if (!Number.isSafeInteger(c.points) || c.points <= 0) throw new Error(`credit of ${c.points} points`);
  refuseCeiling(l, c.memberId, c.points);
  const j = l.store.get(journal);
  const entryId = j.post(
    {
      at: c.at,
      kind: c.kind,
      memberId: c.memberId,
      ref: c.ref,
      memo: c.memo,
      postings: [
        { account: c.from, memberId: c.memberId, points: -c.points },
        { account: 'member', memberId: c.memberId, points: c.points },
      ],
    },
    l.operator,
    l.nowIso,
  );
  // A balance driven negative by a return is repaid first; only the rest becomes a spendable lot.
  const debtRepaid = Math.min(debt, c.points);
  if (debtRepaid > 0) j.addDebt(c.memberId, -debtRepaid);
  const lotPoints = c.points - debtRepaid;
  const lotId = lotPoints > 0 ? j.createLot(entryId, c.memberId, lotPoints, c.at, c.expiresOn) : null;
  return { entryId, lotId, debtRepaid };
}

export interface DebitInput {
  memberId: string;
  points: number; // > 0
  at: string;
  kind: string; // return, adjust, expiry, ...
  to: Exclude<Account, 'member'>;
  /** Only returns may drive a balance negative (SPEC §3): the shortfall becomes debt. */
  allowDebt: boolean;
  ref?: string | null;
  memo?: string | null;
}

export interface DebitResult {
  entryId: number;
  takes: LotTake[];
  debt: number;
}

/** A spend that would need points earned after its own time (`atIso`, shown in the ledger's zone): exit 3, nothing written. */
export function earnedLater(l: Ledger, memberId: string, points: number, atIso: string): RefusedError {
  return new RefusedError(
    'EARNED_LATER',
    `member ${memberId}'s points include ${points} earned after ${localDateTime(atIso, l.zone)}, the time of this spend: a spend cannot be dated before the points it spends`,
    datedBeforeHint(l, ', or use fewer points'),
  );
}

export function debitPoints(l: Ledger, d: DebitInput): DebitResult {
  if (!Number.isSafeInteger(d.points) || d.points <= 0) throw new Error(`debit of ${d.points} points`);
  const day = localDate(d.at, l.zone);
  if (d.allowDebt) return takeBackPoints(l, d, day);
  const j = l.store.get(journal);
  const m = l.store.get(members).get(d.memberId);
  const available = m ? availableOf(l, m) : 0;
  // §7: a spend never touches a lot lapsed on its date, posted by an expiry run or not
  let lots = spendableLots(j.openLots(d.memberId), day);
  // a spend cannot be dated before the points it spends (a backfill with POINTSMALL_NOW in the past)
  const later = earnedAfter(lots, d.at);
  if (later > 0) {
    lots = lots.filter((x) => x.earnedAt <= d.at);
    if (takeFromLots(lots, d.points).shortfall > 0) throw earnedLater(l, d.memberId, later, d.at);
  }
  const { takes, shortfall } = takeFromLots(lots, d.points);
  if (shortfall > 0 || d.points > available) {
    throw new RefusedError(
      'INSUFFICIENT_POINTS',
      `member ${d.memberId} has ${available} points available, ${d.points} needed`,
      'use fewer points, or check the balance with: pointsmall member show ' + d.memberId,
    );
  }
  const entryId = j.post(
    {
      at: d.at,
      kind: d.kind,
      memberId: d.memberId,
      ref: d.ref,
      memo: d.memo,
      postings: [
        { account: 'member', memberId: d.memberId, points: -d.points },
        { account: d.to, memberId: d.memberId, points: d.points },
      ],
    },
    l.operator,
    l.nowIso,
  );
  for (const t of takes) j.moveLot(entryId, t.lotId, -t.points);
  return { entryId, takes, debt: 0 };
}

/**
 * A take-back (allowDebt: a return, a refund's earned points) of `day`: from the earliest-expiring lots
 * live on that day (§4.6 read under §7, takeBackLots; lapsed lots are the expiry run's), and what they
 * lack becomes debt. A lot that lapsed since and that an expiry run expired is still one of them: the
 * points the take reaches in it are reopened (their expiry reversed, from `expired`, then taken), so the
 * take is the same whether the run came first or not (as a purchase void's, takeBackPurchase).
 */
function takeBackPoints(l: Ledger, d: DebitInput, day: LocalDate): DebitResult {
  const j = l.store.get(journal);
  const expired = j.reopenableLots([d.memberId], day).get(d.memberId) ?? [];
  const plan = takeBackPurchase([], takeBackLots(withExpired(j.openLots(d.memberId), expired), day), d.points);
  const { postings } = takeBackPostings(d.memberId, d.points, plan, d.to);
  const entryId = j.post({ at: d.at, kind: d.kind, memberId: d.memberId, ref: d.ref, memo: d.memo, postings }, l.operator, l.nowIso);
  // reopened points come back into their lot before the take moves them out (its remaining never below 0)
  for (const t of plan.reopened) j.moveLot(entryId, t.lotId, t.points);
  for (const t of plan.others) j.moveLot(entryId, t.lotId, -t.points);
  if (plan.debt > 0) j.addDebt(d.memberId, plan.debt);
  return { entryId, takes: plan.others, debt: plan.debt };
}

/** Records a change in the audit log with the acting operator. */
export function recordAudit(l: Ledger, action: string, subject: string | null, detail?: unknown): void {
  l.store.get(audit).record(l.nowIso, l.operator, action, subject, detail);
}
