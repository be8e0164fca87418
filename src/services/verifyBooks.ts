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

/** Keeps the first few problems of a kind, and how many there were. */
class Problems {
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
  postings: readonly NewPosting[];
}

export class LotBooks {
  /** lots-match-entries: an entry's lots and moves against its member postings and the debt rule. */
  readonly lots = new Problems();
  /** lot-expiry: a lot's expiresOn against the rules in force when it was earned. */
  readonly expiry = new Problems();
  /** member-debt: the debt cache against the debt the journal and lots leave. */
  readonly debt = new Problems();

  private readonly lotIt: IterableIterator<unknown[]>;
  private nextLot: IteratorResult<unknown[]>;
  private readonly moveIt: IterableIterator<unknown[]>;
  private nextMove: IteratorResult<unknown[]>;
  private readonly debts = new Map<string, number>();
  private readonly versions: { id: number; effectiveAt: string; rules: Rules }[];
  private readonly orderRules: Map<string, number>;
  private readonly expiryCache = new Map<string, string | null | undefined>();
  lotsSeen = 0;

  constructor(
    private readonly l: Ledger,
    private readonly q: VerifyQueries,
  ) {
    this.lotIt = q.lotsByEntry();
    this.nextLot = this.lotIt.next();
    this.moveIt = q.movesByEntry();
    this.nextMove = this.moveIt.next();
    this.versions = q.rulesVersions().map((v) => ({ id: v.id, effectiveAt: v.effective_at, rules: parseStoredRules(l, v.id, v.document) }));
    this.orderRules = q.orderRulesVersions();
  }

  /** Lots and moves of entries before `id` belong to no entry of the chain. */
  private skipOrphans(id: number): void {
    while (!this.nextLot.done && (this.nextLot.value[0] as number) < id) {
      const lot = this.nextLot.value;
      this.lots.add(`lot ${lot[1] as number}`, `was created by entry ${lot[0] as number}, which is not in the journal`);
      this.nextLot = this.lotIt.next();
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
      const [, lotId, memberId, points, earnedAt, expiresOnStored] = this.nextLot.value as [number, number, string, number, string, string | null];
      lotsSum += points;
      lotsN++;
      this.lotsSeen++;
      if (memberId !== e.memberId) this.lots.add(`lot ${lotId}`, `is member ${memberId}'s but entry ${e.id} (${e.kind}) credited ${e.memberId ?? 'nobody'}`);
      else if (earnedAt !== e.at) this.lots.add(`lot ${lotId}`, `was earned at ${earnedAt} but entry ${e.id} (${e.kind}) is dated ${e.at}`);
      else this.checkExpiry(lotId, earnedAt, expiresOnStored, e);
      this.nextLot = this.lotIt.next();
    }
    let movesSum = 0;
    let movesN = 0;
    let gives = false;
    let takes = false;
    while (!this.nextMove.done && this.nextMove.value[0] === e.id) {
      const p = this.nextMove.value[2] as number;
      movesSum += p;
      movesN++;
      if (p > 0) gives = true;
      else takes = true;
      this.nextMove = this.moveIt.next();
    }
    let m = 0; // the member account's change (held points are not in lots)
    for (const p of e.postings) if (p.account === 'member') m += p.points;
    if (!lotsN && !movesN && m === 0) return;
    const who = e.memberId ?? '';
    const debtBefore = this.debts.get(who) ?? 0;
    const subject = `entry ${e.id} (${e.kind})`;
    let debtAfter = debtBefore;
    if (lotsN || (m > 0 && !movesN)) {
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
      // Points given back to the lots they came from (a release, a refund): all of them, no debt change.
      if (takes || movesSum !== m) this.lots.add(subject, `gives back ${m} points but moves ${movesSum} on lots${takes ? ', taking some' : ''}`);
    }
    if (debtAfter < 0) this.lots.add(subject, `leaves member ${who} a debt of ${debtAfter}`);
    if (debtAfter !== debtBefore) this.debts.set(who, debtAfter);
  }

  /** After the last entry: leftover lots and moves, and the members' debt caches. */
  finish(cachedDebts: Map<string, number>): void {
    this.skipOrphans(Number.MAX_SAFE_INTEGER);
    for (const [id, d] of this.debts) {
      if ((cachedDebts.get(id) ?? 0) !== d) this.debt.add(`member ${id}`, `debt cache ${cachedDebts.get(id) ?? 0} but the journal and lots leave ${d}`);
    }
    for (const [id, d] of cachedDebts) if (!this.debts.has(id)) this.debt.add(`member ${id}`, `debt cache ${d} but the journal and lots leave 0`);
  }

  /** The version in force at `at` (latest effective ≤ at; of equal times, the one applied later). */
  private versionAt(at: string): { id: number; rules: Rules } | undefined {
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
    return found < 0 ? undefined : this.versions[found];
  }

  private checkExpiry(lotId: number, earnedAt: string, stored: string | null, e: EntryFacts): void {
    // A checkout's earned points expire by the rules of its order; every other credit by those in force when earned.
    const orderVersion = e.kind === 'accrual' && e.ref !== null ? this.orderRules.get(e.ref) : undefined;
    const v = orderVersion !== undefined ? this.versions.find((x) => x.id === orderVersion) : this.versionAt(earnedAt);
    if (!v) {
      this.expiry.add(`lot ${lotId}`, `was earned at ${earnedAt}, when no rules version was in force`);
      return;
    }
    const expected = this.expected(v, earnedAt);
    if (expected !== stored) {
      this.expiry.add(`lot ${lotId}`, `expires on ${stored ?? 'never'} but rules version ${v.id}, in force when it was earned (${earnedAt}), gives ${expected ?? 'never'}`);
    }
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
    const key = `${v.id}|${hourStart}`;
    let cached = this.expiryCache.get(key);
    if (cached === undefined && !this.expiryCache.has(key)) {
      const a = expiresOn(policy, hourStart, this.l.zone);
      const b = expiresOn(policy, hourStart + 3_599_999, this.l.zone);
      cached = a === b ? a : undefined;
      this.expiryCache.set(key, cached);
    }
    return cached === undefined ? expiresOn(policy, ms, this.l.zone) : cached;
  }
}
