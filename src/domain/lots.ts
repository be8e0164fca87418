// Lots: every credit is a lot with its own expiresOn; spending takes from the lot expiring first.
import type { Points } from './money.js';
import type { LocalDate } from './time.js';

export interface OpenLot {
  id: number;
  remaining: Points;
  earnedAt: string; // UTC ISO
  expiresOn: LocalDate | null;
}

export interface LotTake {
  lotId: number;
  points: Points; // > 0, taken from the lot
}

/** §4.4 spending order: earliest expiresOn first, never-expiring last, then oldest earned, then id. */
export function compareSpendingOrder(a: OpenLot, b: OpenLot): number {
  if (a.expiresOn !== b.expiresOn) {
    if (a.expiresOn === null) return 1;
    if (b.expiresOn === null) return -1;
    return a.expiresOn < b.expiresOn ? -1 : 1;
  }
  if (a.earnedAt !== b.earnedAt) return a.earnedAt < b.earnedAt ? -1 : 1;
  return a.id - b.id;
}

/**
 * §7 "Expired is expired": a lot is spendable through its expiresOn (a date in the ledger's zone) and
 * not after, whether or not an expiry run has posted it yet. `today` is the ledger-local date of the
 * operation.
 */
export function isLapsed(expiresOn: LocalDate | null, today: LocalDate): boolean {
  return expiresOn !== null && expiresOn < today;
}

/**
 * The points of a hold whose lots have lapsed by `today` (§7: held points are spent at capture, and a
 * lot that lapsed since the hold cannot be spent then), with the earliest of those lots' expiresOn.
 */
export function lapsedHeld(takes: readonly { points: Points; expiresOn: LocalDate | null }[], today: LocalDate): { points: Points; expiresOn: LocalDate | null } {
  let points = 0;
  let expiresOn: LocalDate | null = null;
  for (const t of takes) {
    if (t.points <= 0 || !isLapsed(t.expiresOn, today)) continue;
    points += t.points;
    if (expiresOn === null || t.expiresOn! < expiresOn) expiresOn = t.expiresOn;
  }
  return { points, expiresOn };
}

/** The lots points may be spent, held or redeemed from on `today`: lapsed ones left out. */
export function spendableLots<T extends { expiresOn: LocalDate | null }>(lots: readonly T[], today: LocalDate): T[] {
  return lots.filter((l) => !isLapsed(l.expiresOn, today));
}

/**
 * The points of spendable lots earned after `atIso`: a spend dated then (a backfill with POINTSMALL_NOW in the
 * past) may not use them, since they did not exist yet.
 */
export function earnedAfter(lots: readonly OpenLot[], atIso: string): Points {
  return lots.reduce((a, l) => a + (l.earnedAt > atIso ? l.remaining : 0), 0);
}

/**
 * The lots a take-back (a return, a refund's earned points, the part of a voided purchase the member spent)
 * may take from: §7 "Expired is expired" governs §4.6's "earliest-expiring lots", so a lot lapsed on the
 * take-back's own date is not one, posted by an expiry run or not. Lapsed lots are left for `expire run`:
 * a refund made today leaves the same books whether or not the run came first. A backdated return (an
 * import of past trade) takes from the lots live on its own date, as it would have when it happened.
 */
export function takeBackLots<T extends { expiresOn: LocalDate | null }>(lots: readonly T[], takeBackDay: LocalDate): T[] {
  return spendableLots(lots, takeBackDay);
}

/**
 * Takes `points` from the lots in spending order. Returns the takes and the shortfall
 * (points the lots could not cover: a debt when a return takes back more than is left).
 */
export function takeFromLots(lots: readonly OpenLot[], points: Points): { takes: LotTake[]; shortfall: Points } {
  const ordered = [...lots].sort(compareSpendingOrder);
  const takes: LotTake[] = [];
  let left = points;
  for (const lot of ordered) {
    if (left <= 0) break;
    if (lot.remaining <= 0) continue;
    const t = Math.min(lot.remaining, left);
    takes.push({ lotId: lot.id, points: t });
    left -= t;
  }
  return { takes, shortfall: left };
}
