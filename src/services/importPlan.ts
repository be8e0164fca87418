// An import batch's ledger writes as a plan: decided by the accruer, then applied in the batch's
// transaction, on the same thread or on the ledger writer's (importWriter.ts). The plan holds what was
// decided and the journal entries it makes, ids included (flat arrays of strings and numbers, cheap to
// send between threads); what depends on the ledger — the entries' chain hashes, how much of a credit
// repays debt, what a return takes from which lot — is worked out where it is applied.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { takeBackLots, takeFromLots } from '../domain/lots.js';
import { ExpiredLeft, takeBackPostings, takeBackPurchase, withExpired } from '../domain/voids.js';
import { localDate } from '../domain/time.js';
import { type NewPosting, chainHash, entryContent, journal, movedContent } from '../store/journal.js';
import type { Ledger } from './ledger.js';
import { members } from '../store/members.js';
import { type NewReview, reviewQueue } from '../store/review.js';
import { LINE_COLUMNS, PURCHASE_COLUMNS, purchases } from '../store/purchases.js';
import { importRuns } from '../store/importRuns.js';
import { RefusedError } from '../errors.js';

const CREDIT = 0;
const RETURN = 1;
/** Strings and numbers per journal entry (op), and per purchase row. */
const OP_S = 4; // member id, ref, business time (ISO), expires on ('' for none)
const OP_N = 2; // CREDIT | RETURN, points
const ROW_S = 4; // order id, member id, content hash, business time (ISO)
const ROW_N = 8; // return?, amount, line count, review?, points, capped, rules version, op (-1: none)

export interface BatchPlan {
  /** The id of the entry the plan's entries follow (their ids are the next ones). */
  head: number;
  /** Drop the debts tracked so far before this batch (the accruer dropped its member facts). */
  forget: boolean;
  /** Debts (≠ 0) of the members whose facts the accruer read for this batch. */
  debts: [memberId: string, debt: number][];
  /** Members created by --create-members, before any of their entries. */
  newMembers: string[];
  reviews: NewReview[];
  /** Journal entries in ledger order, one per op (accrual credits and return debits), ids following head. */
  opStr: string[];
  opNum: number[];
  /** Purchase rows in the order they are written (order id order). */
  rowStr: string[];
  rowNum: number[];
  /** Each row's lines, packed in one string as staged (orderFeed.ts packLine); rows in order. */
  lineStr: string[];
  /**
   * The entries' chain hashes as the planner worked them out (import accruals and returns are two-posting
   * entries it knows whole), from `hashFrom` (the chain's hash where the plan begins) and `hashedAs` (the
   * recorded time and operator, joined by a tab): the applier uses them while what it writes is what they
   * hash, and works the chain out itself from the first entry that is not (a return that reopens expired
   * points has three postings), and for a whole plan planned from another head. Empty: not worked out
   * (a keyed ledger: its MACs are made where they are written).
   */
  opHash: string[];
  hashFrom: string;
  hashedAs: string;
}

export interface PlannedRow {
  orderId: string;
  memberId: string;
  /** Business time, UTC ISO. */
  atIso: string;
  kind: 'purchase' | 'return';
  amount: number;
  lineCount: number;
  contentHash: string;
  status: 'accrued' | 'review';
  points: number;
  capped: number;
  rulesVersion: number;
  /** The op whose entry this row's points are, once it is planned. */
  op: number | null;
  /** The order's lines (lineCount of them), stored with it: packed as staged (FedOrder.packed). */
  lines: string;
}

/**
 * A staged line's values (orderFeed.ts packLine, its US separator; not imported, so that the writer
 * thread does not load the parsing code): line, amount, sku, category, quantity, unit price.
 */
const US = '\u001f';
const LINE_S = 6;

/**
 * The integer written at s[from, to) (a line's amount in minor units, as packLine wrote it), read
 * without making a string of it; anything but a sign and up to 15 digits is read by `+` instead.
 */
export function intAt(s: string, from: number, to: number): number {
  let i = from;
  const neg = s.charCodeAt(i) === 45; // -
  if (neg) i++;
  if (i >= to || to - i > 15) return +s.slice(from, to);
  let n = 0;
  for (; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return +s.slice(from, to);
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

/**
 * A row's packed lines as purchase_lines values (purchase id, line no, sku, category, quantity, amount;
 * an empty value is NULL), read with indexOf: only the four values stored become strings.
 */
function pushLines(out: unknown[], purchaseId: number, packed: string): void {
  const end = packed.length;
  let at = 0;
  for (let no = 1; at <= end; no++) {
    // line, amount, sku, category, quantity, unit price: LINE_S values, each ended by US (the last by the end)
    const a = packed.indexOf(US, at) + 1; // after the line number
    if (a === 0) break;
    const b = packed.indexOf(US, a) + 1;
    const c = packed.indexOf(US, b) + 1;
    const d = packed.indexOf(US, c) + 1;
    const e = packed.indexOf(US, d) + 1;
    if (b === 0 || c === 0 || d === 0 || e === 0) break;
    const next = packed.indexOf(US, e) + 1;
    out.push(purchaseId, no, b + 1 < c ? packed.slice(b, c - 1) : null, c + 1 < d ? packed.slice(c, d - 1) : null, d + 1 < e ? packed.slice(d, e - 1) : null, intAt(packed, a, b - 1));
    if (next === 0) break;
    at = next;
  }
}

/**
 * Builds one batch's plan at a time (the accruer's side). It numbers the entries on from the head it
 * is given, so purchase rows can name theirs; their hashes are chained where they are written.
 */
export class PlanBuilder {
  private p: BatchPlan;
  private ops = 0;
  private lastId = 0;
  private lastHash = '';

  /**
   * `hashing`: the recorded time and operator of the entries, when the planner works out their chain
   * hashes (BatchPlan.opHash; null: a keyed ledger, hashed where written).
   */
  constructor(
    private readonly source: string,
    private readonly hashing: { recordedAt: string; operator: string } | null = null,
  ) {
    this.p = this.fresh();
  }

  private fresh(): BatchPlan {
    const as = this.hashing ? `${this.hashing.recordedAt}\t${this.hashing.operator}` : '';
    return { head: this.lastId, forget: false, debts: [], newMembers: [], reviews: [], opStr: [], opNum: [], rowStr: [], rowNum: [], lineStr: [], opHash: [], hashFrom: this.lastHash, hashedAs: as };
  }

  /** Where the chain ends in the ledger; call before the first op, and whenever the ledger may have moved on. */
  follow(head: { id: number; hash: string }): void {
    if (this.ops) throw new Error('the chain head of a plan changes only before its first entry');
    this.lastId = head.id;
    this.lastHash = head.hash;
    this.p.head = head.id;
    this.p.hashFrom = head.hash;
  }
  /** The applier must drop the debts it tracks (facts are read again from the ledger). */
  forget(): void {
    this.p.forget = true;
    this.p.debts = [];
  }
  debt(memberId: string, debt: number): void {
    if (debt !== 0) this.p.debts.push([memberId, debt]);
  }
  newMember(id: string): void {
    this.p.newMembers.push(id);
  }
  review(r: NewReview): void {
    this.p.reviews.push(r);
  }
  /** An accrual credit (from issued to the member) at atIso (business time); returns its op number. */
  credit(memberId: string, orderId: string, points: number, atIso: string, expiresOn: string | null): number {
    return this.op(CREDIT, memberId, orderId, points, atIso, expiresOn);
  }
  /** A return's debit (from the member to issued; lots, then debt); returns its op number. */
  debit(memberId: string, orderId: string, points: number, atIso: string): number {
    return this.op(RETURN, memberId, orderId, points, atIso, null);
  }

  private op(kind: number, memberId: string, orderId: string, points: number, atIso: string, expiresOn: string | null): number {
    const id = ++this.lastId;
    const ref = `${this.source}:${orderId}`;
    this.p.opStr.push(memberId, ref, atIso, expiresOn ?? '');
    this.p.opNum.push(kind, points);
    const h = this.hashing;
    if (h) {
      // as PlanApplier.apply hashes a two-posting entry (the planner's thread has time for it; the writer's has not)
      const [from, to] = ACCOUNTS[kind];
      this.lastHash = chainHash(this.lastHash, movedContent(id, atIso, h.recordedAt, KIND_NAMES[kind], memberId, ref, h.operator, from, to, points));
      this.p.opHash.push(this.lastHash);
    }
    return this.ops++;
  }

  row(r: PlannedRow): void {
    this.p.rowStr.push(r.orderId, r.memberId, r.contentHash, r.atIso);
    this.p.rowNum.push(r.kind === 'return' ? 1 : 0, r.amount, r.lineCount, r.status === 'review' ? 1 : 0, r.points, r.capped, r.rulesVersion, r.op ?? -1);
    this.p.lineStr.push(r.lines);
  }
  /** The plan so far, and a fresh one for the next batch (following on from this one's entries). */
  take(): BatchPlan {
    const p = this.p;
    this.p = this.fresh();
    this.ops = 0;
    return p;
  }
}

/** The accounts of an op's two postings, from and to: a credit moves points from issued to the member, a return back. */
const ACCOUNTS: readonly (readonly [NewPosting['account'], NewPosting['account']])[] = [
  ['issued', 'member'], // CREDIT
  ['member', 'issued'], // RETURN
];
/** The entry kind of each op. */
const KIND_NAMES = ['accrual', 'return'] as const;

/**
 * Entries per set-based write, and purchase rows: the arguments stay small enough to die young (the
 * writer thread's young generation is small), yet many statements' worth.
 */
const ENTRIES_PER_WRITE = 500;
const ROWS_PER_WRITE = 640;
const LINES_PER_WRITE = 1280;

/**
 * Applies plans to a ledger (the writer's side), keeping the debts of the members they touch: a
 * credit repays its member's debt first and only the rest becomes a lot; a return takes from the
 * member's lots in spending order, and what they lack becomes debt.
 */
/** Whether applying the plan writes anything to the ledger (a batch whose every order was rejected, or a duplicate, writes nothing). */
export function planWrites(p: BatchPlan): boolean {
  return p.opNum.length > 0 || p.rowStr.length > 0 || p.newMembers.length > 0 || p.reviews.length > 0;
}

/** The import's run was voided by another command while it ran: it stops, writing nothing more. */
export function runVoided(runId: number): RefusedError {
  return new RefusedError(
    'RUN_VOIDED',
    `import run ${runId} was voided (pointsmall import void ${runId}) while this import was writing it: the import stopped there; the orders it had committed are voided with the run, and nothing more of the file was written`,
    `the file is not in the ledger now; import it again only if the void was a mistake (it records a new run): pointsmall import list shows run ${runId}`,
  );
}

export class PlanApplier {
  private readonly debts = new Map<string, number>();
  /** What the plans applied in this transaction add to member caches and debts, until its last plan. */
  private caches = new Map<string, { balance: number; held: number; earned: number; at: string | null }>();
  private debtChange = new Map<string, number>();
  /** Points of the credits applied since takeRepaid() that repaid members' debt (no lot of theirs). */
  private repaid = 0;
  /** No plan of this transaction that writes has been applied yet (the run-voided check is still to make). */
  private txStart = true;
  /**
   * `runId`: the import run its purchase rows name (null: none recorded yet, or a dry run). `newRun`, when
   * given and no run is recorded yet, records it in the transaction of the first plan that writes anything
   * (so an import that commits nothing leaves no run behind); `runId` then names it.
   */
  constructor(
    private readonly l: Ledger,
    private readonly source: string,
    public runId: number | null = null,
    private readonly newRun?: () => number,
  ) {}

  /** Forgets the tracked debts (the accruer starts over from the ledger). */
  reset(): void {
    this.txStart = true;
    this.debts.clear();
    this.caches.clear();
    this.debtChange.clear();
    this.repaid = 0;
  }

  /** The points credits repaid debt with in the plans applied since the last call (the import's `debtRepaid`). */
  takeRepaid(): number {
    const n = this.repaid;
    this.repaid = 0;
    return n;
  }

  /**
   * Writes one plan; call inside the write transaction. With the transaction's last plan (`last`), the
   * member caches and debts are written too, one update per member for all its plans (a batch planned
   * in parts touches most members in each). Returns how many entries it posted.
   */
  apply(p: BatchPlan, last = true): number {
    const l = this.l;
    // A run voided while this import writes it (import void RUN between two batches) takes no more orders:
    // checked at each transaction's first plan, inside it, so no void can come between (trial 43b).
    const writes = planWrites(p);
    if (this.txStart && writes) {
      if (this.runId !== null && l.store.get(importRuns).voidedWhole(this.runId)) throw runVoided(this.runId);
      this.txStart = false;
    }
    if (last) this.txStart = true;
    if (this.runId === null && this.newRun && writes) this.runId = this.newRun();
    if (p.forget) this.debts.clear();
    for (const [id, debt] of p.debts) this.debts.set(id, debt);
    const m = l.store.get(members);
    for (const id of p.newMembers) m.insert({ id, name: id, phone: null, email: null, tier: null }, l.nowIso);
    const q = l.store.get(reviewQueue);
    for (const r of p.reviews) q.insert(r);

    const j = l.store.get(journal);
    const ops = p.opNum.length / OP_N;
    const { caches, debtChange } = this;
    let entries: unknown[] = [];
    let postings: unknown[] = [];
    let lots: unknown[] = [];
    const write = () => {
      j.appendPlanned(entries, postings);
      j.createLotRows(lots);
      entries = [];
      postings = [];
      lots = [];
    };
    const end = j.end();
    if (ops && end.id !== p.head) throw new Error(`planned entries begin at ${p.head + 1} (after ${p.head}), but the chain ends at ${end.id}`);
    const pr = l.store.get(purchases);
    // What this plan reads is read before it writes: on PostgreSQL writes are queued, and a read waits for them.
    let id = pr.lastId();
    const expired = this.reopenable(p);
    let prev = end.hash;
    // the planner's hashes hold while the chain is where it planned from, with the same recorded time and
    // operator, and while each entry is the two-posting one it hashed
    let planned = !l.store.chainKey && p.opHash.length === ops && p.hashFrom === prev && p.hashedAs === `${l.nowIso}\t${l.operator}`;
    for (let i = 0; i < ops; i++) {
      const id = p.head + 1 + i;
      const s = i * OP_S;
      const memberId = p.opStr[s];
      const ref = p.opStr[s + 1];
      const at = p.opStr[s + 2];
      const kind = p.opNum[i * OP_N];
      const points = p.opNum[i * OP_N + 1];
      if (!Number.isSafeInteger(points) || points <= 0) throw new Error(`planned entry ${id} moves ${points} points`);
      const kindName = KIND_NAMES[kind];
      let c = caches.get(memberId);
      if (!c) caches.set(memberId, (c = { balance: 0, held: 0, earned: 0, at: null }));
      if (c.at === null || at > c.at) c.at = at;
      const mine = kind === RETURN ? expired?.lotsOf(memberId) : undefined;
      if (mine?.length) {
        // a return of a member with lots an expiry run expired since its day: the take, and its postings, first
        write(); // the lots a return takes from are written first
        const take = takeBackPurchase([], takeBackLots(withExpired(j.openLots(memberId), mine), localDate(at, l.zone)), points);
        const { postings: entry, fromMember } = takeBackPostings(memberId, points, take, 'issued');
        // hashed as journal.post hashes it (three postings: movedContent's two do not describe it)
        const row = { id, at, recorded_at: l.nowIso, kind: kindName, member_id: memberId, ref, memo: null, operator: l.operator };
        const hash = j.hashEntry(id, prev, entryContent(row, entry));
        entries.push(id, at, l.nowIso, kindName, memberId, ref, null, l.operator, prev, hash);
        for (const x of entry) postings.push(id, x.account, memberId, x.points);
        prev = hash;
        planned = false; // (three postings, or moved other than planned: the entries after it hash from this one)
        c.balance -= fromMember;
        c.earned -= points;
        write();
        // reopened points come back into their lot before the take moves them out (its remaining never below 0)
        for (const t of take.reopened) {
          j.moveLot(id, t.lotId, t.points);
          expired!.reopen(t.lotId, t.points);
        }
        for (const t of take.others) j.moveLot(id, t.lotId, -t.points);
        if (take.debt) this.changeDebt(memberId, take.debt, debtChange);
        continue;
      }
      const [from, to] = ACCOUNTS[kind];
      const hash = planned ? p.opHash[i] : j.hashEntry(id, prev, movedContent(id, at, l.nowIso, kindName, memberId, ref, l.operator, from, to, points));
      entries.push(id, at, l.nowIso, kindName, memberId, ref, null, l.operator, prev, hash);
      postings.push(id, from, memberId, -points, id, to, memberId, points);
      prev = hash;
      const signed = kind === CREDIT ? points : -points;
      c.balance += signed;
      c.earned += signed;
      const debt = this.debts.get(memberId) ?? 0;
      if (kind === CREDIT) {
        const repaid = Math.min(Math.max(debt, 0), points);
        if (points > repaid) lots.push(memberId, id, points - repaid, points - repaid, at, p.opStr[s + 3] || null);
        if (repaid) {
          this.changeDebt(memberId, -repaid, debtChange);
          this.repaid += repaid;
        }
        if (entries.length >= ENTRIES_PER_WRITE * 10) write();
      } else {
        write(); // the lots a return takes from are written first
        // from live lots only (takeBackLots: §7 over §4.6), as debitPoints takes a return
        const { takes, shortfall } = takeFromLots(takeBackLots(j.openLots(memberId), localDate(at, l.zone)), points);
        for (const t of takes) j.moveLot(id, t.lotId, -t.points);
        if (shortfall) this.changeDebt(memberId, shortfall, debtChange);
      }
    }
    write();

    // purchase rows, each its values in the columns' order (Purchases.insertMany), numbered on from the
    // last id so that their lines (Purchases.insertLines, written after them) can name them
    let rows: unknown[] = [];
    let lines: unknown[] = [];
    for (let s = 0, n = 0, r = 0; s < p.rowStr.length; s += ROW_S, n += ROW_N, r++) {
      const op = p.rowNum[n + 7];
      id++;
      pushLines(lines, id, p.lineStr[r]);
      rows.push(
        id, this.source, p.rowStr[s], p.rowStr[s + 1], p.rowStr[s + 3], p.rowNum[n] ? 'return' : 'purchase',
        p.rowNum[n + 1], p.rowNum[n + 2], p.rowStr[s + 2], p.rowNum[n + 3] ? 'review' : 'accrued', p.rowNum[n + 4],
        p.rowNum[n + 5], p.rowNum[n + 6], op >= 0 ? p.head + 1 + op : null, l.nowIso, this.runId,
      );
      if (rows.length === ROWS_PER_WRITE * PURCHASE_COLUMNS) {
        pr.insertMany(rows);
        rows = [];
      }
      if (lines.length >= LINES_PER_WRITE * LINE_COLUMNS) {
        pr.insertMany(rows);
        rows = [];
        pr.insertLines(lines);
        lines = [];
      }
    }
    pr.insertMany(rows);
    pr.insertLines(lines);
    if (last) {
      j.addToCaches(caches);
      j.addDebts(debtChange);
      this.caches = new Map();
      this.debtChange = new Map();
    }
    j.flushLotRemaining(); // (PostgreSQL: the lots its returns took from)
    l.store.pg?.flushQueued(); // (PostgreSQL: the server writes this plan's rows while the next one comes)
    return ops;
  }

  /**
   * What the plan's returns may reopen (journal.reopenableLots): read once for the plan, before it writes,
   * for the members with returns, from the earliest return's day; null when the plan has no return.
   * (PostgreSQL: those members' open lots, and the lots expiry runs emptied of them, followed in memory.)
   */
  private reopenable(p: BatchPlan): ExpiredLeft | null {
    const j = this.l.store.get(journal);
    const memberIds = new Set<string>();
    let first: string | null = null;
    for (let i = 0, s = 0; i < p.opNum.length; i += OP_N, s += OP_S) {
      if (p.opNum[i] !== RETURN) continue;
      memberIds.add(p.opStr[s]);
      const at = p.opStr[s + 2];
      if (first === null || at < first) first = at;
    }
    if (first === null) return null;
    const ids = [...memberIds];
    if (this.l.store.pg) j.followOpenLots(ids);
    const byMember = j.reopenableLots(ids, localDate(first, this.l.zone));
    const lots = new ExpiredLeft();
    lots.addLots(byMember);
    if (this.l.store.pg && byMember.size) j.followLots([...byMember.values()].flat().map((x) => x.id));
    return lots;
  }

  private changeDebt(memberId: string, delta: number, change: Map<string, number>): void {
    const debt = (this.debts.get(memberId) ?? 0) + delta;
    if (debt) this.debts.set(memberId, debt);
    else this.debts.delete(memberId);
    change.set(memberId, (change.get(memberId) ?? 0) + delta);
  }
}

/**
 * Memory of an import on two threads (SPEC §6: peak RSS under 300 MB with a million rows): the writer's
 * page cache, young generation and old generation (what it keeps alive — a plan, a batch's member
 * caches — is a few MB; with the limit, V8 collects its garbage as it goes, which costs it less than a
 * full collection forced after each plan), the importing thread's page cache (it only reads member
 * facts and keys then), and the young generation's semi-spaces of the importing thread.
 */
export const WRITER_CACHE_KIB = 16_000;
export const WRITER_YOUNG_MB = 8;
export const WRITER_OLD_MB = 64;
export const READER_CACHE_KIB = 2_000;
export const SEMI_SPACE_MB = 8;

/** What the ledger writer thread (importWriter.ts) is started with. */
export interface WriterData {
  path: string;
  operator: string;
  now: string;
  source: string;
  busyTimeoutMs: number;
}

/**
 * What it is asked: apply a plan (a batch's part) in the batch's transaction, begun at its first part
 * and committed after the part marked last; count the orders of a released import stage (while the
 * importing thread sorts them); start over (forget, note the ledger's version and the import run that the
 * purchase rows name, recorded by the importing thread's first committed batch); or end
 * (an open transaction is then rolled back: the importing thread stopped mid-batch).
 */
export type WriterRequest = { plan: BatchPlan; last: boolean } | { countStage: string } | { reset: true; runId: number | null; generation?: string | null } | { end: true };

/**
 * Caps the semi-spaces of this thread's young generation (V8 reads the flag as the heap grows), so
 * that two threads' heaps fit the import's memory budget beside their page caches.
 */
export function capYoungGeneration(mb: number): void {
  setFlagsFromString(`--max-semi-space-size=${mb}`);
}

let gcFn: (() => void) | null | undefined;
/**
 * A full collection between plans, on the importing thread. V8 lets the old generation fill with the
 * garbage of several plans before collecting, which alone would take the import past its memory
 * budget (SPEC §6: peak RSS under 300 MB); one collection per plan of thousands of orders costs a few
 * ms. (The main thread's heap cannot be given a limit the way a worker's is, and reaching a limit
 * there would end the process.)
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

