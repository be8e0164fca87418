// Undoing a voided import order (issue 16), as into a ledger that never saw it: which lots a voided
// purchase's points come back from, and which lots a voided return's points go back to. A return's own
// take (own lots none) is the same take. Pure.
import { takeFromLots, type LotTake, type OpenLot } from './lots.js';
import type { Points } from './money.js';
import { repayBeforeLots, returnToLots } from './refund.js';

/** A lot the voided purchase's own accrual created: what is left in it, and what expiry runs expired of it. */
export interface OwnLot {
  lotId: number;
  remaining: Points;
  expired: Points;
}

/**
 * Another lot of the member's, live on the voided purchase's (or the return's) day: what is left in it,
 * and (`expired`) what expiry runs have expired of it since it lapsed (less what take-backs reopened of
 * it before).
 */
export interface OtherLot extends OpenLot {
  expired?: Points;
}

/** A lot of which expiry runs expired points (less what take-backs reopened of it before): `expired` of them. */
export interface ExpiredOf {
  id: number;
  earnedAt: string;
  expiresOn: string | null;
  expired: Points;
}

/**
 * The member's open lots with what expiry runs expired of each (`expired`), and the lots emptied by a
 * run among them too: what a take-back draws from (takeBackPurchase's `others`). Lots with nothing
 * expired left are as they are.
 */
export function withExpired(open: readonly OpenLot[], expired: readonly ExpiredOf[]): OtherLot[] {
  if (!expired.length) return [...open];
  const out: OtherLot[] = open.map((l) => ({ ...l }));
  const byId = new Map(out.map((l) => [l.id, l]));
  for (const x of expired) {
    if (x.expired <= 0) continue;
    const lot = byId.get(x.id);
    if (lot) lot.expired = x.expired;
    else out.push({ id: x.id, remaining: 0, earnedAt: x.earnedAt, expiresOn: x.expiresOn, expired: x.expired });
  }
  return out;
}

/**
 * What is left expired of lots as take-backs reopen them (one void, or one import plan's returns): each
 * lot starts at what expiry runs expired of it (less what earlier take-backs reopened), and a reopening
 * lowers it, so no two take-backs reopen the same points.
 */
export class ExpiredLeft {
  private readonly left = new Map<number, Points>();
  private readonly byMember = new Map<string, ExpiredOf[]>();

  /** Adds members' lots with expired points; a lot already here keeps what is left of it. */
  addLots(byMember: ReadonlyMap<string, readonly ExpiredOf[]>): void {
    for (const [memberId, list] of byMember) {
      this.byMember.set(memberId, [...(this.byMember.get(memberId) ?? []), ...list]);
      for (const x of list) if (!this.left.has(x.id)) this.left.set(x.id, x.expired);
    }
  }

  /** Sets what is left expired of one lot (a voided purchase's own lot). */
  set(lotId: number, expired: Points): void {
    this.left.set(lotId, expired);
  }

  of(lotId: number): Points {
    return this.left.get(lotId) ?? 0;
  }

  /** Lowers what is left expired of a lot by `points` reopened (or reversed) from it. */
  reopen(lotId: number, points: Points): void {
    this.left.set(lotId, this.of(lotId) - points);
  }

  /** The member's lots added here with expired points left, each with what is left (none: empty). */
  lotsOf(memberId: string): ExpiredOf[] {
    return (this.byMember.get(memberId) ?? []).map((x) => ({ ...x, expired: this.of(x.id) })).filter((x) => x.expired > 0);
  }
}

export interface PurchaseTakeBack {
  /** Taken from the purchase's own lots (lapsed or not). */
  own: LotTake[];
  /** Of its own lots' points, what expiry runs posted: reversed from `expired`, not the member's to give back. */
  unexpire: Points;
  /**
   * The rest (points of it the member spent, or that repaid a debt), taken from the member's other lots:
   * from what is left in each, then from what an expiry run expired of it (`reopened`).
   */
  others: LotTake[];
  /**
   * Of `others`, the points that came from what expiry runs expired of a lot: its expiry reversed for
   * them (from `expired`, as the own lot's), since had the purchase never been, the spending would have
   * taken them from that lot before it lapsed.
   */
  reopened: LotTake[];
  /** What the other lots could not cover: the member's debt. */
  debt: Points;
}

/**
 * A voided purchase's `points` taken back: first what is left in the lots its accrual created, then
 * the part of them an expiry run expired (reversed, never taken from the member), then the rest from
 * the member's other lots live on the purchase's day (`others`: takeBackLots; earliest-expiring first),
 * each with what an expiry run has expired of it since, so that the take is the same whether or not
 * the run came first; what those cannot cover becomes debt.
 */
export function takeBackPurchase(own: readonly OwnLot[], others: readonly OtherLot[], points: Points): PurchaseTakeBack {
  let left = points;
  const ownTakes: LotTake[] = [];
  for (const l of own) {
    const n = Math.min(l.remaining, left);
    if (n > 0) ownTakes.push({ lotId: l.lotId, points: n });
    left -= n;
  }
  const unexpire = Math.min(own.reduce((s, l) => s + l.expired, 0), left);
  left -= unexpire;
  const ownIds = new Set(own.map((l) => l.lotId));
  const candidates = others.filter((l) => !ownIds.has(l.id));
  const { takes, shortfall } = takeFromLots(
    candidates.map((l) => ({ ...l, remaining: l.remaining + (l.expired ?? 0) })),
    left,
  );
  const left0 = new Map(candidates.map((l) => [l.id, l.remaining]));
  const reopened: LotTake[] = [];
  for (const t of takes) {
    const n = t.points - Math.min(t.points, left0.get(t.lotId) ?? 0);
    if (n > 0) reopened.push({ lotId: t.lotId, points: n });
  }
  return { own: ownTakes, unexpire, others: takes, reopened, debt: shortfall };
}

/** A posting of a take-back's entry, as the journal takes it. */
export interface TakeBackPosting<A extends string> {
  account: 'member' | 'expired' | A;
  memberId: string;
  points: Points;
}

/**
 * The postings of one take-back entry of `points` (a purchase void, a return, a refund's earned points):
 * what the take reversed from expiry (`take.unexpire`, an own lot's expired part, and `take.reopened`)
 * comes out of `expired`, the rest out of the member's account (left out at 0), and `to` receives all of
 * it. They sum to zero; `fromMember` is the member's part.
 */
export function takeBackPostings<A extends string>(
  memberId: string,
  points: Points,
  take: Pick<PurchaseTakeBack, 'unexpire' | 'reopened'>,
  to: A,
): { postings: TakeBackPosting<A>[]; fromMember: Points } {
  const reversed = take.unexpire + take.reopened.reduce((s, t) => s + t.points, 0);
  const fromMember = points - reversed;
  const postings: TakeBackPosting<A>[] = [];
  if (fromMember > 0) postings.push({ account: 'member', memberId, points: -fromMember });
  if (reversed > 0) postings.push({ account: 'expired', memberId, points: -reversed });
  postings.push({ account: to, memberId, points });
  return { postings, fromMember };
}

export interface ReturnGiveBack {
  /** Points back into the lots the return took them from (latest expiresOn first), each keeping its expiresOn. */
  toLots: { lotId: number; points: Points }[];
  /** Points that repay the member's debt (SPEC §4.6: a credit repays debt first). */
  debtRepaid: Points;
  /**
   * Points neither: the return's debt, repaid meanwhile by other credits (whose lots are spent or
   * gone): a lot of their own, as a void gave them back before.
   */
  newLot: Points;
}

/**
 * A voided return's `points` given back: as a refund gives points back (returnToLots, repayBeforeLots),
 * they repay the member's debt first, and the rest goes back to the lots the return took them from
 * (`taken`, in the order it took them), latest-expiring first. The part of the return that became debt
 * comes back as less debt while the member still owes it.
 */
export function giveBackReturn(taken: readonly { lotId: number; points: Points }[], points: Points, debt: Points): ReturnGiveBack {
  const fromLots = taken.reduce((s, t) => s + t.points, 0);
  const debtRepaid = Math.max(0, Math.min(debt, points));
  const toLotsTotal = points - debtRepaid;
  const back = returnToLots(taken.map((t) => ({ lotId: t.lotId, taken: t.points, returned: 0 })), Math.min(fromLots, points));
  if (toLotsTotal >= fromLots) return { toLots: back, debtRepaid, newLot: toLotsTotal - fromLots };
  return { toLots: repayBeforeLots(back, fromLots - toLotsTotal).toLots, debtRepaid, newLot: 0 };
}
