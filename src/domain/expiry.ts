// Expiry planning (§4.4): which lots an as-of date expires, the per-member totals a run posts, when the
// expiry entries are dated, and the preview window. Pure: dates and instants are passed in.
import { addDays, addWithin, localDate, type LocalDate, startOfLocalDayMs, type Within } from './time.js';

export { chooseChannel } from './notifications.js';

export interface ExpiringLot {
  id: number;
  memberId: string;
  remaining: number;
  expiresOn: LocalDate | null;
}

export interface MemberExpiry {
  memberId: string;
  points: number;
  lots: number;
}

export interface ExpirySummary {
  asOf: LocalDate;
  lotsExpired: number;
  pointsExpired: number;
  members: number;
  dryRun: boolean;
}

/** Points are usable through their expiresOn: a run as of D takes lots with expiresOn < D; never-expiring lots stay. */
export function expiresBy(expiresOn: LocalDate | null, asOf: LocalDate): boolean {
  return expiresOn !== null && expiresOn < asOf;
}

/** The default as-of date: today in the ledger's zone. */
export function defaultAsOf(nowMs: number, zone: string): LocalDate {
  return localDate(nowMs, zone);
}

/**
 * The business time of a run's entries: the last instant before the as-of day starts in the ledger's
 * zone (the points were gone by then), but never later than the run itself, so a run with a future
 * as-of date is booked when it happened and nothing is dated in the future.
 */
export function expiryEntryAt(asOf: LocalDate, nowMs: number, zone: string): string {
  const endOfPreviousDay = startOfLocalDayMs(asOf, zone) - 1;
  return new Date(Math.min(endOfPreviousDay, nowMs)).toISOString();
}

export const expiryRef = (asOf: LocalDate): string => `expiry:${asOf}`;

/** What a run as of `asOf` does to these lots: per member (sorted by id) the points and lots it expires. */
export function planExpiry(lots: readonly ExpiringLot[], asOf: LocalDate): { members: MemberExpiry[]; summary: ExpirySummary } {
  const byMember = new Map<string, MemberExpiry>();
  let lotsExpired = 0;
  let pointsExpired = 0;
  for (const l of lots) {
    if (l.remaining <= 0 || !expiresBy(l.expiresOn, asOf)) continue;
    let m = byMember.get(l.memberId);
    if (!m) byMember.set(l.memberId, (m = { memberId: l.memberId, points: 0, lots: 0 }));
    m.points += l.remaining;
    m.lots += 1;
    lotsExpired += 1;
    pointsExpired += l.remaining;
  }
  const members = [...byMember.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  return { members, summary: { asOf, lotsExpired, pointsExpired, members: members.length, dryRun: false } };
}

/** The preview window `--within N days` from today: expiresOn in [today, today + N] inclusive. */
export function previewWindow(today: LocalDate, within: Within): { from: LocalDate; to: LocalDate } {
  return { from: today, to: addWithin(today, within) };
}

export function inWindow(expiresOn: LocalDate | null, w: { from: LocalDate; to: LocalDate }): boolean {
  return expiresOn !== null && expiresOn >= w.from && expiresOn <= w.to;
}
