// Expiry use-cases: `expire run` (one transaction: one entry per member, set-based lot moves, points.expired
// notifications) and `expire preview` (lots expiring within a window; --notify queues points.expiring once per lot).
import { defaultAsOf, expiryEntryAt, expiryRef, type ExpirySummary, previewWindow } from '../domain/expiry.js';
import { expiredKey, expiringKey, type ExpiredPayload, type ExpiringPayload } from '../domain/notifications.js';
import { UsageError } from '../errors.js';
import { expiryQueries } from '../store/expiry.js';
import type { Within } from '../domain/time.js';
import { holds } from '../store/holds.js';
import { journal } from '../store/journal.js';
import { relaxRowChecks } from '../store/db.js';
import { type NewNotification, outbox } from '../store/outbox.js';
import { type Ctx, type Ledger, withLedger } from './ledger.js';
import { recordAudit } from './points.js';

export interface ExpiryRunInput {
  asOf?: string; // YYYY-MM-DD, default today in the ledger's zone
  dryRun?: boolean;
  /** Allow an as-of date after today (it expires points still usable today). */
  force?: boolean;
}

export interface ExpiryRunResult extends ExpirySummary {
  /** Business time of the expiry entries (end of the day before asOf, or the run time if earlier). */
  at: string;
  /**
   * Members whose expiry is booked later than `at`, when points came back to their lapsed lots (a refund, a
   * released hold after `at`), each with that time: no report sees points expire before they were there.
   */
  bookedLater: { memberId: string; at: string }[];
  entries: number;
  notificationsQueued: number;
}

/** Today in the ledger's zone (the default as-of date): an earlier --as-of backdates the run. */
export async function expiryToday(ctx: Ctx): Promise<string> {
  return withLedger(ctx, (l) => defaultAsOf(l.now.getTime(), l.zone));
}

/** Expires, in one transaction, the remaining points of every lot with expiresOn before the as-of date. */
export function expireLots(l: Ledger, input: ExpiryRunInput): ExpiryRunResult {
  const today = defaultAsOf(l.now.getTime(), l.zone);
  const asOf = input.asOf ?? today;
  if (asOf > today && !input.dryRun && !input.force) {
    throw new UsageError(
      `--as-of ${asOf} is after today (${today}): it would expire points that are still usable`,
      'check the date; --dry-run shows what it would expire, --force runs it anyway',
      'FUTURE_AS_OF',
    );
  }
  const at = expiryEntryAt(asOf, l.now.getTime(), l.zone);
  const q = l.store.get(expiryQueries);
  if (input.dryRun) {
    // A hold that ran out and is not released yet: the run releases it first (its points back to their
    // lots, a debt repaid first), so the dry run is the run itself, rolled back (trial 30: it counted none
    // of those points). Otherwise the lots' counts say it all.
    if (l.store.read(() => l.store.get(holds).expiredHolds(l.nowIso).length) > 0) {
      try {
        expireInTransaction(l, asOf, at, true);
      } catch (e) {
        if (!(e instanceof RolledBack)) throw e;
        return { ...e.result, dryRun: true, entries: 0, notificationsQueued: 0 };
      }
    }
    const { c, later } = l.store.read(() => ({ c: q.counts(asOf), later: q.givenBackAfter(at, asOf) }));
    const bookedLater = [...later].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([memberId, when]) => ({ memberId, at: when }));
    return { asOf, lotsExpired: c.lots, pointsExpired: c.points, members: c.members, dryRun: true, at, bookedLater, entries: 0, notificationsQueued: 0 };
  }
  // Lot moves are selected from existing lots to entries this run writes: no per-row FK/CHECK work.
  const relaxed = relaxRowChecks(l.store);
  try {
    return expireInTransaction(l, asOf, at);
  } finally {
    relaxed();
  }
}

/** A dry run's result, thrown out of its transaction so that it rolls back. */
class RolledBack extends Error {
  constructor(readonly result: ExpiryRunResult) {
    super('dry run: rolled back');
  }
}

function expireInTransaction(l: Ledger, asOf: string, at: string, dry = false): ExpiryRunResult {
  const q = l.store.get(expiryQueries);
  return l.store.write(() => {
    const j = l.store.get(journal);
    // A member whose lapsed lots got points back after `at` (a refund at 00:05, the run at 00:10) has the
    // expiry booked when they came back, so no report sees them expire before they were there.
    const later = q.givenBackAfter(at, asOf);
    const perMember = q.begin(asOf, j.end().id);
    const box = l.store.get(outbox);
    const ref = expiryRef(asOf);
    let points = 0;
    let lots = 0;
    let queued = 0;
    // One entry per member, written with multi-row inserts (postMany keeps the chain and caches exact).
    const list = perMember.map((m) => ({
      at: later.get(m.memberId) ?? at,
      kind: 'expiry',
      memberId: m.memberId,
      ref,
      memo: `${m.lots} lot${m.lots === 1 ? '' : 's'} expired as of ${asOf}`,
      postings: [
        { account: 'member' as const, memberId: m.memberId, points: -m.points },
        { account: 'expired' as const, memberId: m.memberId, points: m.points },
      ],
    }));
    // (its rows name members that exist and entries it writes: no per-row foreign-key checks on PostgreSQL)
    const entryIds = q.relaxed(() => j.postMany(list, l.operator, l.nowIso));
    const notices = perMember.map((m, i) => {
      q.setEntry(m.memberId, entryIds[i]);
      points += m.points;
      lots += m.lots;
      const payload: ExpiredPayload = { memberId: m.memberId, asOf, points: m.points, lots: m.lots, balance: m.balance - m.points };
      return { createdAt: l.nowIso, topic: 'points.expired', memberId: m.memberId, payload, dedupeKey: expiredKey(entryIds[i]), contact: m };
    });
    queued += box.enqueueMany(notices);
    const done = lots ? q.finish(asOf).lots : 0;
    if (done !== lots) throw new Error(`expiry moved ${done} lots, ${lots} expected`);
    const result: ExpiryRunResult = {
      asOf,
      lotsExpired: lots,
      pointsExpired: points,
      members: perMember.length,
      dryRun: false,
      at,
      bookedLater: perMember.filter((m) => later.has(m.memberId)).map((m) => ({ memberId: m.memberId, at: later.get(m.memberId)! })),
      entries: perMember.length,
      notificationsQueued: queued,
    };
    if (dry) throw new RolledBack(result);
    if (lots) recordAudit(l, 'expire.run', null, result);
    return result;
  });
}

export async function runExpiry(ctx: Ctx, input: ExpiryRunInput): Promise<ExpiryRunResult> {
  return withLedger(ctx, (l) => expireLots(l, input));
}

export interface ExpiringMember {
  memberId: string;
  name: string;
  points: number;
  lots: number;
  firstExpiresOn: string;
  lastExpiresOn: string;
  /** The member's expiring points per date, earliest first. */
  dates: { expiresOn: string; points: number }[];
}

export interface ExpiryPreview {
  asOf: string;
  from: string;
  to: string;
  members: number;
  points: number;
  lots: number;
  /** Points whose expiresOn has passed that no run has expired yet (the next `expire run` takes them). */
  overduePoints: number;
  rows: ExpiringMember[];
  notificationsQueued: number;
}

/** Members whose points expire in [today, today + days]; --notify queues points.expiring once per lot (never twice). */
export function previewLots(l: Ledger, input: { within: Within; notify?: boolean }): ExpiryPreview {
  const today = defaultAsOf(l.now.getTime(), l.zone);
  const w = previewWindow(today, input.within);
  const q = l.store.get(expiryQueries);
  const build = (): ExpiryPreview => {
    const lots = q.window(w.from, w.to);
    const byMember = new Map<string, ExpiringMember>();
    let points = 0;
    let queued = 0;
    const box = input.notify ? l.store.get(outbox) : null;
    const notices: NewNotification[] = [];
    for (const lot of lots) {
      let m = byMember.get(lot.memberId);
      if (!m) {
        m = { memberId: lot.memberId, name: lot.name, points: 0, lots: 0, firstExpiresOn: lot.expiresOn, lastExpiresOn: lot.expiresOn, dates: [] };
        byMember.set(lot.memberId, m);
      }
      m.points += lot.remaining;
      m.lots += 1;
      m.lastExpiresOn = lot.expiresOn; // lots come ordered by expiresOn
      const d = m.dates[m.dates.length - 1];
      if (d && d.expiresOn === lot.expiresOn) d.points += lot.remaining;
      else m.dates.push({ expiresOn: lot.expiresOn, points: lot.remaining });
      points += lot.remaining;
      if (box) {
        const payload: ExpiringPayload = { memberId: lot.memberId, lotId: lot.lotId, points: lot.remaining, expiresOn: lot.expiresOn };
        notices.push({ createdAt: l.nowIso, topic: 'points.expiring', memberId: lot.memberId, payload, dedupeKey: expiringKey(lot.lotId), contact: lot });
      }
    }
    if (box) queued += box.enqueueMany(notices);
    if (box && queued) recordAudit(l, 'expire.notify', null, { from: w.from, to: w.to, queued });
    const rows = [...byMember.values()];
    return {
      asOf: today,
      from: w.from,
      to: w.to,
      members: rows.length,
      points,
      lots: lots.length,
      overduePoints: q.counts(today).points,
      rows,
      notificationsQueued: queued,
    };
  };
  return input.notify ? l.store.write(build) : l.store.read(build);
}

export async function previewExpiry(ctx: Ctx, input: { within: Within; notify?: boolean }): Promise<ExpiryPreview> {
  return withLedger(ctx, (l) => previewLots(l, input));
}
