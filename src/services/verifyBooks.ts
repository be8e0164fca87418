// ledger verify, lots against the journal: walked beside the entries (both in entry order), each entry's
// lots and lot moves must be what its postings and the member's debt allow, and each lot's expiresOn what
// the rules in force when it was earned give. Proves the lots table from the hash-chained journal.
import type { NewPosting } from '../store/journal.js';
import type { VerifyQueries } from '../store/verify.js';
import { expiresOn, type Rules } from '../domain/rules.js';
import { type Ledger, parseStoredRules } from './ledger.js';

export interface BookProblem {
  subject: string;
  detail: string;
}

const MAX_REPORTED = 5;

/** Thrown when the lots, read in rowid order, are not in entry order: verify then reads them sorted. */
export class LotsOutOfOrder extends Error {}

/** Keeps the first few problems of a kind, and how many there were (every verify pass's checks use it). */
export class Problems {
  readonly rows: BookProblem[] = [];
  count = 0;
  add(subject: string, detail: string): void {
    this.count++;
    if (this.rows.length < MAX_REPORTED) this.rows.push({ subject, detail });
  }
}

interface EntryFacts {
  id: number;
  kind: string;
  ref: string | null;
  memberId: string | null;
  at: string;
  recordedAt: string;
  postings: readonly NewPosting[];
}

/** The entries that may reopen what an expiry run expired of a lot, to take it (a purchase void, a return, a refund's earned points). */
const REOPENS = new Set(['void', 'return', 'refund']);

export class LotBooks {
  /** lots-match-entries: an entry's lots and moves against its member postings and the debt rule. */
  readonly lots = new Problems();
  /** lot-expiry: a lot's expiresOn against the rules in force when it was earned. */
  readonly expiry = new Problems();
  /** expiry-takes-lapsed-lots: an expiry entry takes only from lots that lapsed before its run's date. */
  readonly lapsed = new Problems();
  /** Each expiry entry's takings, judged once the streams end (a run may take from a million lots: kept packed). */
  private readonly expiryTakes = new PackedTakes();
  /** Lots take-backs reopened expired points of: the points, and the last such entry (judged against the expiry takes). */
  private readonly reopened = new Map<number, { points: number; entry: string }>();
  /** member-debt: the debt cache against the debt the journal and lots leave. */
  readonly debt = new Problems();
  /** lots-match-balances: balance = Σ lots remaining + held − debt, debt and held ≥ 0. */
  readonly balances = new Problems();
  /** member-balances: balance, held and lifetime caches against the sums of the postings. */
  readonly caches = new Problems();
  /** postings-name-members: postings naming a member that does not exist. */
  readonly unknown = new Problems();
  /** Σ remaining of each member's lots, summed as the lots stream by (no GROUP BY over the lots). */
  private readonly remaining = new Map<string, number>();
  /** Per member, summed as the postings stream by: balance (member + held), held, issued (−lifetime), first entry. */
  private readonly sums = new Map<string, { balance: number; held: number; earned: number; firstEntry: number }>();

  private readonly lotIt: IterableIterator<unknown[]>;
  private nextLot: IteratorResult<unknown[]>;
  private readonly moveIt: IterableIterator<unknown[]>;
  private nextMove: IteratorResult<unknown[]>;
  private readonly debts = new Map<string, number>();
  private readonly versions: { id: number; effectiveAt: string; appliedAt: string; entriesBefore: number | null; rules: Rules }[];
  private readonly orderCreated: Map<string, { at: string; version: number }>;
  private readonly expiryCache = new Map<number, Map<number, string | null | undefined>>(); // version → hour → date
  private memo = { version: -1, hour: NaN, value: null as string | null | undefined };
  lotsSeen = 0;

  private lastLotEntry = 0;

  constructor(
    private readonly l: Ledger,
    private readonly q: VerifyQueries,
    private readonly sortedLots: boolean,
  ) {
    this.lotIt = q.lotsByEntry(sortedLots);
    this.nextLot = this.lotIt.next();
    this.moveIt = q.movesByEntry();
    this.nextMove = this.moveIt.next();
    this.versions = q.rulesVersions().map((v) => ({ id: v.id, effectiveAt: v.effective_at, appliedAt: v.applied_at, entriesBefore: v.entries_before, rules: parseStoredRules(l, v.id, v.document) }));
    this.orderCreated = q.orderCreatedAt();
  }

  private advanceLot(): void {
    this.nextLot = this.lotIt.next();
    if (this.nextLot.done || this.sortedLots) return;
    const entryId = this.nextLot.value[0] as number;
    if (entryId < this.lastLotEntry) throw new LotsOutOfOrder();
    this.lastLotEntry = entryId;
  }

  /** Ends the streams early (verify stopped before the last entry). */
  close(): void {
    this.lotIt.return?.();
    this.moveIt.return?.();
  }

  /** Lots and moves of entries before `id` belong to no entry of the chain. */
  private skipOrphans(id: number): void {
    while (!this.nextLot.done && (this.nextLot.value[0] as number) < id) {
      const lot = this.nextLot.value;
      this.lots.add(`lot ${lot[1] as number}`, `was created by entry ${lot[0] as number}, which is not in the journal`);
      this.advanceLot();
    }
    while (!this.nextMove.done && (this.nextMove.value[0] as number) < id) {
      const mv = this.nextMove.value;
      this.lots.add(`lot ${mv[1] as number}`, `was moved by entry ${mv[0] as number}, which is not in the journal`);
      this.nextMove = this.moveIt.next();
    }
  }

  entry(e: EntryFacts): void {
    this.skipOrphans(e.id);
    let lotsSum = 0;
    let lotsN = 0;
    while (!this.nextLot.done && this.nextLot.value[0] === e.id) {
      const [, lotId, memberId, points, earnedAt, expiresOnStored, remaining] = this.nextLot.value as [number, number, string, number, string, string | null, number];
      lotsSum += points;
      this.remaining.set(memberId, (this.remaining.get(memberId) ?? 0) + remaining);
      lotsN++;
      this.lotsSeen++;
      if (memberId !== e.memberId) this.lots.add(`lot ${lotId}`, `is member ${memberId}'s but entry ${e.id} (${e.kind}) credited ${e.memberId ?? 'nobody'}`);
      else if (earnedAt !== e.at) this.lots.add(`lot ${lotId}`, `was earned at ${earnedAt} but entry ${e.id} (${e.kind}) is dated ${e.at}`);
      else this.checkExpiry(lotId, earnedAt, expiresOnStored, e);
      this.advanceLot();
    }
    let movesSum = 0;
    let movesN = 0;
    let gives = false;
    let takes = false;
    let voidMoves: Map<number, { gave: number; net: number }> | undefined;
    while (!this.nextMove.done && this.nextMove.value[0] === e.id) {
      const p = this.nextMove.value[2] as number;
      movesSum += p;
      movesN++;
      if (p > 0) gives = true;
      else takes = true;
      if (REOPENS.has(e.kind)) {
        const lot = this.nextMove.value[1] as number;
        const v = (voidMoves ??= new Map()).get(lot) ?? { gave: 0, net: 0 };
        voidMoves.set(lot, { gave: v.gave + Math.max(p, 0), net: v.net + p });
      }
      if (e.kind === 'expiry' && p < 0) this.expiryTakes.push(e.id, this.nextMove.value[1] as number, -p, e.ref?.startsWith('expiry:') ? e.ref.slice(7) : null);
      this.nextMove = this.moveIt.next();
    }
    let m = 0; // the member account's change (held points are not in lots)
    for (const p of e.postings) {
      if (p.account === 'member') m += p.points;
      if (p.memberId === null) continue;
      let x = this.sums.get(p.memberId);
      if (!x) this.sums.set(p.memberId, (x = { balance: 0, held: 0, earned: 0, firstEntry: e.id }));
      if (p.account === 'member') x.balance += p.points;
      else if (p.account === 'held') {
        x.balance += p.points;
        x.held += p.points;
      } else if (p.account === 'issued') x.earned -= p.points;
    }
    if (!lotsN && !movesN && m === 0) return;
    const who = e.memberId ?? '';
    const debtBefore = this.debts.get(who) ?? 0;
    const subject = `entry ${e.id} (${e.kind})`;
    if (voidMoves && m <= 0 && gives) {
      // A take-back (a voided purchase, a return, a refund's earned points) reopens points an expiry run
      // expired of a lot (gives them back to it) only to take them: each lot it gives to, it takes at least
      // as much from. Judged by each lot's net move.
      gives = false;
      takes = false;
      for (const [lot, { gave, net }] of voidMoves) {
        if (net > 0) this.lots.add(subject, `reopens ${gave} expired points of lot ${lot} but takes only ${gave - net} of them`);
        if (gave > 0) this.reopened.set(lot, { points: (this.reopened.get(lot)?.points ?? 0) + gave, entry: subject });
        if (net > 0) gives = true;
        else if (net < 0) takes = true;
      }
    }
    let debtAfter = debtBefore;
    if (e.kind === 'void' && m > 0 && movesN) {
      // A voided return: its points go back to the lots the return took them from, repaying the member's
      // debt first (as a refund's do); what a debt other credits repaid meanwhile took is a lot of its own.
      const repaid = Math.min(debtBefore, m);
      if (takes) this.lots.add(subject, `gives back ${m} points but takes from a lot`);
      else if (lotsSum + movesSum !== m - repaid) {
        this.lots.add(subject, `gives back ${m} points with a debt of ${debtBefore} before it, so ${m - repaid} should go to lots, but ${movesSum} move back and new lots hold ${lotsSum}`);
      }
      debtAfter = debtBefore - repaid;
    } else if (lotsN || (m > 0 && !movesN)) {
      // A credit: repays the member's debt first, only the rest becomes a lot (SPEC §4.6).
      const repaid = Math.min(debtBefore, Math.max(m, 0));
      if (movesN) this.lots.add(subject, `credits a lot and also moves ${movesN} lot(s)`);
      else if (m - lotsSum !== repaid) {
        this.lots.add(subject, `credits ${m} points with a debt of ${debtBefore} before it, so its lot should hold ${m - repaid}, but lots hold ${lotsSum}`);
      }
      debtAfter = debtBefore - (m - lotsSum);
    } else if (m < 0) {
      // A debit: takes from lots; what the lots could not give becomes debt.
      if (gives) this.lots.add(subject, `debits ${-m} points but gives points to a lot`);
      else if (movesSum < m) this.lots.add(subject, `debits ${-m} points but takes ${-movesSum} from lots`);
      debtAfter = debtBefore + (movesSum - m);
    } else {
      // Points given back to the lots they came from (a release, a refund). They repay the member's debt
      // first (SPEC §4.6), and only the rest moves back; a ledger written before that rule moved them all.
      const repaid = Math.min(debtBefore, m);
      const givesBack = e.kind === 'refund' || e.kind === 'release';
      const rule = givesBack && movesSum === m - repaid;
      if (takes || (movesSum !== m && !rule)) {
        this.lots.add(subject, `gives back ${m} points but moves ${movesSum} on lots${takes ? ', taking some' : repaid > 0 && givesBack ? ` (${m - repaid} after repaying a debt of ${debtBefore})` : ''}`);
      }
      if (!takes && rule) debtAfter = debtBefore - repaid;
    }
    if (debtAfter < 0) this.lots.add(subject, `leaves member ${who} a debt of ${debtAfter}`);
    if (debtAfter !== debtBefore) this.debts.set(who, debtAfter);
  }

  /**
   * After the streams: each lot an expiry entry took from must have lapsed before the run's as-of date (SPEC
   * §4.4: usable through its expiresOn). A lot's expiresOn moved later after it was expired (its points then
   * kept by a reading of the rules) shows here.
   */
  judgeExpiryTakes(): void {
    // take-backs reopen no more of a lot than expiry runs expired of it
    if (this.reopened.size) {
      const expired = new Map<number, number>();
      for (const [, lot, points] of this.expiryTakes.rows()) if (this.reopened.has(lot)) expired.set(lot, (expired.get(lot) ?? 0) + points);
      for (const [lot, r] of this.reopened) {
        const x = expired.get(lot) ?? 0;
        if (r.points > x) this.lapsed.add(r.entry, `take-backs reopened ${r.points} expired points of lot ${lot}, but expiry runs expired ${x} of it`);
      }
    }
    if (!this.expiryTakes.length) return;
    // 500 takings at a time: their lots' expiresOn read in one query, never all the lots at once
    let expires = new Map<number, string | null>();
    let i = 0;
    for (const [entry, lot, points, asOf] of this.expiryTakes.rows()) {
      if (i++ % 500 === 0) expires = this.q.lotsExpiresOn(this.expiryTakes.lotIds(i - 1, 500));
      const on = expires.get(lot);
      if (on === undefined) continue; // no such lot: lots-match-entries says so
      if (asOf === null) this.lapsed.add(`entry ${entry} (expiry)`, `takes ${points} points from lot ${lot} but names no run date (its ref is not expiry:DATE)`);
      else if (on === null || on >= asOf) this.lapsed.add(`entry ${entry} (expiry)`, `expired ${points} points of lot ${lot}, which expires ${on === null ? 'never' : `on ${on}`}: not before the run's date ${asOf}`);
    }
  }

  /** After the last entry: leftover lots and moves, and each member's caches against the postings and the lots. */
  finish(members: Iterable<[string, number, number, number, number]>): void {
    this.skipOrphans(Number.MAX_SAFE_INTEGER);
    const seen = new Set<string>();
    for (const [id, balance, held, debt, lifetime] of members) {
      seen.add(id);
      const p = this.sums.get(id) ?? { balance: 0, held: 0, earned: 0 };
      if (balance !== p.balance || held !== p.held || lifetime !== p.earned) {
        this.caches.add(`member ${id}`, `cached balance ${balance} / held ${held} / lifetime ${lifetime} but postings sum to ${p.balance} / ${p.held} / ${p.earned}`);
      }
      const lots = this.remaining.get(id) ?? 0;
      if (balance !== lots + held - debt || debt < 0 || held < 0) {
        this.balances.add(`member ${id}`, `balance ${balance} but lots hold ${lots}, held ${held}, debt ${debt}`);
      }
      const left = this.debts.get(id) ?? 0;
      if (debt !== left) this.debt.add(`member ${id}`, `debt cache ${debt} but the journal and lots leave ${left}`);
    }
    for (const [id, p] of this.sums) if (!seen.has(id)) this.unknown.add(`entry ${p.firstEntry}`, `posts to unknown member ${id}`);
    for (const [id, left] of this.debts) if (!seen.has(id) && left !== 0) this.debt.add(`member ${id}`, `is unknown but the journal and lots leave it a debt of ${left}`);
  }

  /** The version in force at `at` among those `allowed`: latest effective ≤ at; of equal times, the one applied later. */
  private inForce(at: string, allowed: (v: { id: number; appliedAt: string; entriesBefore: number | null }) => boolean): { id: number; rules: Rules } | undefined {
    let lo = 0;
    let hi = this.versions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.versions[mid].effectiveAt <= at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = found; i >= 0; i--) if (allowed(this.versions[i])) return this.versions[i];
    return undefined;
  }

  /**
   * A lot expires by the version that was in force at its earning when it was written: a version applied
   * later with an earlier effective time does not change lots already written. Versions applied at the
   * very instant of the write may have come before or after it (the clock cannot tell), so each order
   * of them is a candidate.
   */
  private checkExpiry(lotId: number, earnedAt: string, stored: string | null, e: EntryFacts): void {
    // A checkout's earned points expire by the rules in force when its order was created; every other
    // credit's by those in force when it was earned. Either way the date runs from the earning.
    const order = e.kind === 'accrual' && e.ref !== null ? this.orderCreated.get(e.ref) : undefined;
    // since this release a capture earns under the version its order recorded at the start, even when a
    // version applied during the hold is backdated to before it; earlier builds took the version in force
    // at the order's creation as known at the capture, which the checks below accept
    if (order) {
      const recorded = this.versions.find((x) => x.id === order.version);
      if (recorded && this.expected(recorded, earnedAt) === stored) return;
    }
    const orderAt = order?.at;
    const ruleAt = orderAt ?? earnedAt;
    const rec = e.recordedAt;
    // Which versions the entry could have seen: exactly, by the last entry id stored with each version
    // (migration 7); for versions stored before that, by the clock (applied at or before the write).
    const known = (x: { appliedAt: string; entriesBefore: number | null }) => (x.entriesBefore !== null ? x.entriesBefore < e.id : x.appliedAt <= rec);
    const v = this.inForce(ruleAt, known) ?? this.inForce(ruleAt, () => true); // the latter: a ledger built by other means than init
    if (!v) {
      this.expiry.add(`lot ${lotId}`, `was earned at ${earnedAt}, when no rules version was in force`);
      return;
    }
    const expected = this.expected(v, earnedAt);
    if (expected === stored) return;
    const sameInstant = this.versions.filter((x) => x.entriesBefore === null && x.appliedAt === rec).map((x) => x.id).sort((p, q) => p - q);
    for (let k = 0; k < sameInstant.length; k++) {
      const upTo = k === 0 ? -Infinity : sameInstant[k - 1];
      const c = this.inForce(ruleAt, (x) => (x.entriesBefore !== null ? x.entriesBefore < e.id : x.appliedAt < rec || (x.appliedAt === rec && x.id <= upTo)));
      if (c && this.expected(c, earnedAt) === stored) return;
    }
    this.expiry.add(`lot ${lotId}`, `expires on ${stored ?? 'never'} but rules version ${v.id}, in force ${orderAt ? `when order ${e.ref} was created` : 'when it was earned'} (${ruleAt}), gives ${expected ?? 'never'}`);
  }

  /**
   * expiresOn by the policy, worked out once per hour of earning: the local date of an instant changes
   * at most once within an hour, and where it does (a zone off the hour) each lot is worked out alone.
   */
  private expected(v: { id: number; rules: Rules }, earnedAt: string): string | null {
    const policy = v.rules.expiry;
    if (policy.policy === 'never') return null;
    const ms = Date.parse(earnedAt);
    if (!Number.isFinite(ms)) return `(earned at ${earnedAt}, not an instant)`;
    const hourStart = ms - (((ms % 3_600_000) + 3_600_000) % 3_600_000);
    let cached: string | null | undefined;
    if (this.memo.version === v.id && this.memo.hour === hourStart) cached = this.memo.value; // the lots of one entry
    else {
      let byHour = this.expiryCache.get(v.id);
      if (!byHour) this.expiryCache.set(v.id, (byHour = new Map()));
      cached = byHour.get(hourStart);
      if (cached === undefined && !byHour.has(hourStart)) {
        const a = expiresOn(policy, hourStart, this.l.zone);
        const b = expiresOn(policy, hourStart + 3_599_999, this.l.zone);
        cached = a === b ? a : undefined;
        byHour.set(hourStart, cached);
      }
      this.memo = { version: v.id, hour: hourStart, value: cached };
    }
    return cached === undefined ? expiresOn(policy, ms, this.l.zone) : cached;
  }
}

/** [entry id, lot id, points, run date] rows in typed arrays (8 bytes a number, each date once), not an array each. */
class PackedTakes {
  private cols = [new Float64Array(1024), new Float64Array(1024), new Float64Array(1024)];
  private dateOf = new Int32Array(1024);
  private readonly dates: (string | null)[] = [];
  private readonly dateIds = new Map<string | null, number>();
  length = 0;

  push(entry: number, lot: number, points: number, date: string | null): void {
    if (this.length === this.dateOf.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.cols = this.cols.map(grow);
      this.dateOf = grow(this.dateOf);
    }
    let d = this.dateIds.get(date);
    if (d === undefined) {
      d = this.dates.push(date) - 1;
      this.dateIds.set(date, d);
    }
    const i = this.length++;
    this.cols[0][i] = entry;
    this.cols[1][i] = lot;
    this.cols[2][i] = points;
    this.dateOf[i] = d;
  }

  /** The distinct lot ids of `n` rows from `from`. */
  lotIds(from: number, n: number): number[] {
    return [...new Set(this.cols[1].subarray(from, Math.min(this.length, from + n)))];
  }

  *rows(): IterableIterator<[number, number, number, string | null]> {
    for (let i = 0; i < this.length; i++) yield [this.cols[0][i], this.cols[1][i], this.cols[2][i], this.dates[this.dateOf[i]]];
  }
}
