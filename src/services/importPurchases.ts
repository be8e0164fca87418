// `import purchases`: stream the CSV into a staging file (memory stays bounded), sort its lines into
// orders by purchase time, then accrue the orders in batches: each batch one ledger transaction holding
// both the points and the idempotency keys, its journal entries written set-based, member by member.
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BusyError, UsageError } from '../errors.js';
import { RulesTimeline, computeEarn } from '../domain/accrual.js';
import { memberProblems } from '../domain/members.js';
import {
  type ColumnPlan,
  type CsvRecord,
  type Encoding,
  type ImportProfile,
  type PurchaseField,
  type RecordSink,
  ZoneCalendar,
  dateFormatProblem,
  normaliseDelimiter,
  normaliseEncoding,
  parseMapSpecs,
  validateProfile,
} from '../domain/purchases.js';
import { type Rules, expiresOn } from '../domain/rules.js';
import { localRangeUtc } from '../domain/time.js';
import { members } from '../store/members.js';
import { mapBusy } from '../store/db.js';
import { ImportStage, type MemberFacts, type PurchaseRow, StagedOrders, bulkWrites, purchases } from '../store/purchases.js';
import { reviewQueue } from '../store/review.js';
import { rulesVersions } from '../store/rules.js';
import { type Ctx, type Ledger, parseStoredRules, withLedger } from './ledger.js';
import { type ParseInput, type ParseSink, type ParsedChunk, parsePurchasesOnTwoCores, readChunks } from './importParse.js';
import { type FedOrder, feedOrders } from './orderFeed.js';
import { type CreditInput, creditPointsKnownDebt, creditPointsMany, debitPoints, recordAudit } from './points.js';

export interface ImportInput {
  file: string;
  map?: string[];
  profile?: string;
  source?: string;
  dateFormat?: string;
  encoding?: string;
  delimiter?: string;
  createMembers?: boolean;
  skipGuests?: boolean;
  rejects?: string;
  dryRun?: boolean;
  /** Orders per ledger transaction. */
  batchOrders?: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  phase: 'reading' | 'accruing' | 'rejects';
  done: number;
  total: number;
}

export interface ImportSummary extends Counters {
  file: string;
  source: string;
  format: 'order' | 'line';
  dryRun: boolean;
  rejectsFile: string | null;
  elapsedMs: number;
}

interface Options {
  file: string;
  source: string;
  map: Partial<Record<PurchaseField, string>>;
  dateFormat?: string;
  encoding: Encoding;
  delimiter: string;
  createMembers: boolean;
  skipGuests: boolean;
  rejects?: string;
  dryRun: boolean;
}

/** Merges a profile with the flags (flags win) and validates everything before the ledger is opened. */
export function resolveOptions(input: ImportInput): Options {
  let profile: ImportProfile = {};
  if (input.profile) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(input.profile, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read profile ${input.profile}: ${(e as Error).message}`, 'a profile is a JSON file like {"map": {"order_id": "InvoiceNo"}, "dateFormat": "M/D/YYYY H:mm"}');
    }
    const v = validateProfile(doc);
    if (!v.profile) throw new UsageError(`profile ${input.profile}: ${v.problems[0]}`, v.problems.length > 1 ? `also: ${v.problems.slice(1).join('; ')}` : undefined);
    profile = v.profile;
  }
  const specs = parseMapSpecs(input.map ?? []);
  if (specs.problems.length) throw new UsageError(specs.problems[0], 'write --map field=Column, e.g. --map order_id=InvoiceNo');
  const encName = input.encoding ?? profile.encoding ?? 'utf8';
  const encoding = normaliseEncoding(encName);
  if (!encoding) throw new UsageError(`--encoding ${JSON.stringify(encName)} is not one of utf8, gbk, latin1`);
  const delimText = input.delimiter ?? profile.delimiter ?? ',';
  const delimiter = normaliseDelimiter(delimText);
  if (!delimiter) throw new UsageError(`--delimiter ${JSON.stringify(delimText)} must be one character (or tab, semicolon, pipe)`);
  const dateFormat = input.dateFormat ?? profile.dateFormat;
  if (dateFormat) {
    const p = dateFormatProblem(dateFormat);
    if (p) throw new UsageError(p, 'dayjs tokens, e.g. M/D/YYYY H:mm or DD.MM.YYYY HH:mm:ss');
  }
  const source = (input.source ?? profile.source ?? 'default').trim();
  if (!source || source.length > 64) throw new UsageError('--source must be a name of 1 to 64 characters');
  if (!existsSync(input.file) || !statSync(input.file).isFile()) throw new UsageError(`cannot read ${input.file}: no such file`, 'check the path');
  return {
    file: input.file,
    source,
    map: { ...(profile.map ?? {}), ...specs.map },
    dateFormat,
    encoding,
    delimiter,
    createMembers: input.createMembers ?? profile.createMembers ?? false,
    skipGuests: input.skipGuests ?? profile.skipGuests ?? false,
    rejects: input.rejects,
    dryRun: input.dryRun ?? false,
  };
}

// ---- reading the file ---------------------------------------------------------------------------

/** What an import counts as it goes; the summary is these plus where and how. */
interface Counters {
  rows: number;
  orders: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  review: number;
  capped: number;
  pointsAccrued: number;
  pointsReturned: number;
  returns: number;
  guestsSkipped: number;
  membersCreated: number;
  rejectedOrders: number;
  batches: number;
}

/** Phase 1: every row validated; good lines staged in groups per order, bad rows recorded with their values. */
async function stageFile(o: Options, l: Ledger, stage: ImportStage, c: Counters, onProgress?: (p: ImportProgress) => void): Promise<ColumnPlan> {
  const total = statSync(o.file).size;
  const sink: ParseSink = {
    emit(chunk: ParsedChunk) {
      c.rows += chunk.rows;
      c.guestsSkipped += chunk.guests;
      c.rejected += chunk.rejects.length;
      stage.load(chunk.groups, chunk.bad, chunk.rejects);
    },
    restart() {
      c.rows = c.guestsSkipped = c.rejected = 0;
      stage.clear();
    },
  };
  const input: ParseInput = { ...o, digits: l.digits, zone: l.zone, notAfterMs: l.now.getTime() };
  return parsePurchasesOnTwoCores(input, sink, (b) => onProgress?.({ phase: 'reading', done: b, total }));
}

// ---- accruing -----------------------------------------------------------------------------------

/** What one order did to the ledger. */
export interface AccrualOutcome {
  kind: 'purchase' | 'return';
  points: number; // credited, or taken back (positive)
  capped: number;
  rulesVersion: number;
  entryId: number | null;
}

/**
 * Earning for many orders: rules versions by effective time (parsed once), calendar lookups memoised
 * per day. Shared by an import and a review approval.
 */
export class AccrualEngine {
  private readonly timeline;
  readonly cal: ZoneCalendar;
  private readonly expiry = new Map<string, string | null>();
  private readonly dayRange = new Map<string, [string, string]>();
  /** Credits waiting to be written set-based (bulk mode), with what to tell once they have entry ids. */
  private credits = new Map<string, { input: CreditInput & { debt: number }; posted?: (entryId: number) => void }[]>();
  /** Points of buffered credits per member and local day, which the daily cap must count too. */
  private bufferedEarned = new Map<string, Map<string, number>>();
  /**
   * @param bulk credits are buffered and written together by flush() (an import); otherwise each is
   * posted at once (a review approval).
   */
  constructor(private readonly l: Ledger, private readonly bulk = false) {
    this.timeline = new RulesTimeline(l.store.get(rulesVersions).all().map((v) => ({ id: v.id, effectiveAt: v.effective_at, document: v.document })));
    this.cal = new ZoneCalendar(l.zone);
  }

  rulesAt(ms: number): { id: number; rules: Rules } {
    const v = this.timeline.at(ms);
    if (!v) throw new UsageError(`no rules version is in force at ${new Date(ms).toISOString()}`, 'apply one with: pointsmall rules apply FILE.json --effective DATE');
    return { id: v.id, rules: parseStoredRules(this.l, v.id, v.document) };
  }

  /** expiresOn of a lot earned at the instant (depends only on the rules and the local date). */
  private expiresOn(rulesId: number, rules: Rules, at: number, day: string): string | null {
    const key = `${rulesId}|${day}`;
    let v = this.expiry.get(key);
    if (v === undefined) {
      v = expiresOn(rules.expiry, at, this.l.zone);
      if (this.expiry.size > 20_000) this.expiry.clear();
      this.expiry.set(key, v);
    }
    return v;
  }

  private range(day: string): [string, string] {
    let r = this.dayRange.get(day);
    if (!r) {
      const { fromIso, toIso } = localRangeUtc(this.l.zone, day, day);
      r = [fromIso!, toIso!];
      if (this.dayRange.size > 20_000) this.dayRange.clear();
      this.dayRange.set(day, r);
    }
    return r;
  }

  /**
   * Earns (or takes back) the points of one order by the rules in force at its own time, and keeps
   * `facts` (lifetime earned, debt) current as the member caches change. Call inside store.write().
   */
  accrue(
    o: { source: string; orderId: string; memberId: string; at: number; atIso?: string; amount: number; lines: readonly { amount: number; sku: string | null; category: string | null }[] },
    facts: MemberFacts,
    posted?: (entryId: number) => void,
  ): AccrualOutcome {
    const l = this.l;
    const { id: rulesVersion, rules } = this.rulesAt(o.at);
    const atIso = o.atIso ?? new Date(o.at).toISOString();
    const day = this.cal.localDate(o.at);
    const ref = `${o.source}:${o.orderId}`;
    if (o.amount < 0) {
      const r = computeEarn({ rules, at: o.at, zone: l.zone, digits: l.digits, pinnedTier: facts.tier, lifetimeEarned: facts.lifetime_earned, localDate: day, lines: o.lines.map((x) => ({ amount: -x.amount, sku: x.sku, category: x.category })), purpose: 'return' });
      let entryId: number | null = null;
      if (r.points > 0) {
        this.flush(o.memberId); // the lots a return takes from must be written first
        const d = debitPoints(l, { memberId: o.memberId, points: r.points, at: atIso, kind: 'return', to: 'issued', allowDebt: true, ref });
        entryId = d.entryId;
        facts.debt += d.debt;
        facts.lifetime_earned -= r.points; // as the journal's cache: −Σ issued postings
      }
      return { kind: 'return', points: r.points, capped: 0, rulesVersion, entryId };
    }
    let earnedToday = 0;
    if (rules.limits.dailyEarnCap !== null) {
      const [fromIso, toIso] = this.range(day);
      earnedToday = l.store.get(purchases).earnedBetween(o.memberId, fromIso, toIso) + (this.bufferedEarned.get(o.memberId)?.get(day) ?? 0);
    }
    const r = computeEarn({ rules, at: o.at, zone: l.zone, digits: l.digits, pinnedTier: facts.tier, lifetimeEarned: facts.lifetime_earned, localDate: day, lines: o.lines, earnedTodayBeforeThisOrder: earnedToday });
    let entryId: number | null = null;
    if (r.points > 0) {
      // debt: the member's debt just before this credit (what a bulk write repays first)
      const input: CreditInput & { debt: number } = { memberId: o.memberId, points: r.points, at: atIso, kind: 'accrual', from: 'issued', expiresOn: this.expiresOn(rulesVersion, rules, o.at, day), ref, memo: null, debt: facts.debt };
      if (this.bulk) {
        let mine = this.credits.get(o.memberId);
        if (!mine) this.credits.set(o.memberId, (mine = []));
        mine.push({ input, posted });
        if (rules.limits.dailyEarnCap !== null) {
          let days = this.bufferedEarned.get(o.memberId);
          if (!days) this.bufferedEarned.set(o.memberId, (days = new Map()));
          days.set(day, (days.get(day) ?? 0) + r.points);
        }
        facts.debt -= Math.min(facts.debt, r.points);
      } else {
        const cr = creditPointsKnownDebt(l, input, facts.debt);
        entryId = cr.entryId;
        facts.debt -= cr.debtRepaid;
        posted?.(entryId);
      }
      facts.lifetime_earned += r.points;
    }
    return { kind: 'purchase', points: r.points, capped: r.capped, rulesVersion, entryId };
  }

  /**
   * Writes the buffered credits (bulk mode), all or one member's, and tells each its entry id. All of
   * them go member by member, so the indexes keyed by member are written in one sweep, not at random.
   */
  flush(memberId?: string): void {
    if (!this.credits.size) return;
    let list: { input: CreditInput & { debt: number }; posted?: (entryId: number) => void }[];
    if (memberId !== undefined) {
      list = this.credits.get(memberId) ?? [];
      this.credits.delete(memberId);
      this.bufferedEarned.delete(memberId);
    } else {
      list = [];
      for (const id of [...this.credits.keys()].sort()) list.push(...this.credits.get(id)!);
      this.credits.clear();
      this.bufferedEarned.clear();
    }
    // in slices, so the set-based writes never hold more than a few thousand rows of arguments
    for (let i = 0; i < list.length; i += 2000) {
      const part = list.slice(i, i + 2000);
      const out = creditPointsMany(this.l, part.map((c) => c.input));
      out.forEach((r, k) => part[k].posted?.(r.entryId));
    }
  }
}

/** Why an order waits in review instead of accruing, if it does. */
export function reviewReason(facts: MemberFacts, rules: Rules, amount: number): string | null {
  if (facts.status === 'frozen') return 'member-frozen';
  if (amount > 0 && rules.limits.reviewAbove !== null && amount > rules.limits.reviewAbove) return 'above-review-limit';
  return null;
}

/** The most member facts an import keeps in memory. */
const MAX_FACTS = 200_000;

class Accruer {
  private readonly p;
  private readonly m;
  private readonly q;
  readonly engine: AccrualEngine;
  rejects: [number, string, string | null][] = [];
  /** Purchase rows written in bulk at the end of each slice (same transaction as their points). */
  private pending: PurchaseRow[] = [];
  /** Member facts of this batch, kept current as it accrues. */
  private readonly facts = new Map<string, MemberFacts>();
  /** Keys taken by this batch's orders, not yet in the table. */
  private readonly batchKeys = new Map<string, string>();
  /** The ledger's data_version when the previous batch began: unchanged, nobody else wrote since. */
  private seenVersion: number | null = null;
  /** Whether keys of this source can be in the ledger already (imported before, or by another process meanwhile). */
  private keysMayExist = true;
  /** Whether `facts` holds every member of the ledger: an id not in it is then not a member. */
  private allFacts = false;
  /**
   * @param orders how many orders the file has: when the ledger has no more than twice as many members
   * (and at most MAX_FACTS), all their facts are read at once rather than slice by slice.
   */
  constructor(private readonly l: Ledger, private readonly o: Options, private readonly c: Counters, private readonly orders: number) {
    this.p = l.store.get(purchases);
    this.m = l.store.get(members);
    this.q = l.store.get(reviewQueue);
    this.engine = new AccrualEngine(l, true);
  }

  private rejectLines(lines: readonly number[], reason: string): void {
    for (const line of lines) this.rejects.push([line, reason, null]);
    this.c.rejected += lines.length;
    this.c.rejectedOrders++;
  }

  /**
   * One slice of orders, assembled by the feed. Existing keys and member facts are fetched for the
   * whole slice at once, then kept current in memory as it accrues. Must run inside store.write().
   */
  batch(batch: readonly FedOrder[]): void {
    this.checkOtherWriters();
    const c = this.c;
    const ready: Extract<FedOrder, { ok: true }>[] = [];
    for (const f of batch) {
      c.orders++;
      if (f.ok) ready.push(f);
      else this.rejectLines(f.lines, f.reason);
    }
    if (!ready.length) return;
    // An order id comes in one batch only (the stage groups the file by order), so only keys from
    // before this import, or written by another process meanwhile, can be there already.
    const existing = this.keysMayExist ? this.p.findMany(this.o.source, ready.map((r) => r.orderId)) : new Map<string, string>();
    // Facts stay in memory, kept current as orders accrue: the member caches in the table lag until
    // finishBatch() writes them, and after it they agree, so the next batch starts from them.
    const facts = this.facts;
    if (!facts.size && !this.allFacts) {
      const all = this.p.allMemberFacts(Math.min(MAX_FACTS, 2 * this.orders));
      if (all) for (const [id, f] of all) facts.set(id, f);
      this.allFacts = all !== null;
    }
    const unseen = this.allFacts ? [] : [...new Set(ready.map((r) => r.memberId))].filter((id) => !facts.has(id));
    if (unseen.length) for (const [id, f] of this.p.memberFactsMany(unseen)) facts.set(id, f);
    for (const order of ready) {
      const lines = order.lines;
      const hash = existing.get(order.orderId) ?? this.batchKeys.get(order.orderId);
      if (hash !== undefined) {
        if (hash === order.contentHash) {
          c.duplicates++;
          this.repeats(order);
        } else this.rejectLines(lines, `conflict: order ${order.orderId} (source ${this.o.source}) was imported before with different content`);
        continue;
      }
      let f = facts.get(order.memberId);
      if (!f) {
        if (!this.o.createMembers) {
          this.rejectLines(lines, `member ${order.memberId} is not in the ledger (add it with pointsmall member add, or pass --create-members)`);
          continue;
        }
        const problems = memberProblems({ id: order.memberId, name: order.memberId });
        if (problems.length) {
          this.rejectLines(lines, `member id: ${problems[0].message}`);
          continue;
        }
        this.m.insert({ id: order.memberId, name: order.memberId, phone: null, email: null, tier: null }, this.l.nowIso);
        c.membersCreated++;
        f = { status: 'active', tier: null, lifetime_earned: 0, debt: 0 };
        facts.set(order.memberId, f);
      }
      this.accept(order, f);
      this.batchKeys.set(order.orderId, order.contentHash);
      this.repeats(order);
    }
  }

  /**
   * Inside each transaction, before anything is read: if another process committed since the
   * previous batch began (a checkout, a freeze, another import of this source), the member facts
   * kept from earlier batches are dropped and existing keys are looked up from then on.
   */
  private checkOtherWriters(): void {
    const v = this.l.store.dataVersion();
    if (this.seenVersion === null) this.keysMayExist = this.p.anyFromSource(this.o.source);
    else if (v !== this.seenVersion) {
      this.facts.clear();
      this.allFacts = false;
      this.keysMayExist = true;
    }
    this.seenVersion = v;
  }

  /** Ends a batch (inside its transaction): the buffered credits, then the purchase rows in key order. */
  finishBatch(): void {
    this.engine.flush();
    this.pending.sort((a, b) => (a.order_id < b.order_id ? -1 : a.order_id > b.order_id ? 1 : 0));
    this.p.insertMany(this.pending);
    this.pending = [];
    this.batchKeys.clear();
    if (this.facts.size > MAX_FACTS) {
      this.facts.clear(); // bounded memory, whatever the number of members
      this.allFacts = false;
    }
  }

  /** Repeated rows of an order-level file: the same content is a duplicate, other content a conflict. */
  private repeats(order: Extract<FedOrder, { ok: true }>): void {
    this.c.duplicates += order.repeatDuplicates;
    for (const line of order.repeatConflicts) {
      this.rejects.push([line, `conflict: order ${order.orderId} appears again with different content (first on line ${order.firstLine})`, null]);
      this.c.rejected++;
    }
  }

  /** Accrues (or queues) one new order. */
  private accept(order: Extract<FedOrder, { ok: true }>, facts: MemberFacts): void {
    const c = this.c;
    const { rules, id: rulesId } = this.engine.rulesAt(order.at);
    const kind = order.amount < 0 ? 'return' : 'purchase';
    const base = {
      source: this.o.source,
      order_id: order.orderId,
      member_id: order.memberId,
      purchased_at: new Date(order.at).toISOString(),
      kind,
      amount: order.amount,
      line_count: order.own.length,
      content_hash: order.contentHash,
      imported_at: this.l.nowIso,
    } as const;
    const why = reviewReason(facts, rules, order.amount);
    if (why) {
      this.q.insert({
        source: base.source,
        order_id: base.order_id,
        member_id: base.member_id,
        purchased_at: base.purchased_at,
        kind,
        amount: order.amount,
        lines: JSON.stringify(order.own.map((x) => [x.amount, x.sku, x.category])),
        reason: why,
        created_at: this.l.nowIso,
      });
      this.pending.push({ ...base, status: 'review', points: 0, capped: 0, rules_version: rulesId, entry_id: null });
      c.review++;
      return;
    }
    // One object per order, filled in place (no spread copies): its entry id arrives when the batch's credits are written.
    const row: PurchaseRow = {
      source: base.source,
      order_id: base.order_id,
      member_id: base.member_id,
      purchased_at: base.purchased_at,
      kind,
      amount: base.amount,
      line_count: base.line_count,
      content_hash: base.content_hash,
      status: 'accrued',
      points: 0,
      capped: 0,
      rules_version: null,
      entry_id: null,
      imported_at: base.imported_at,
    };
    const out = this.engine.accrue({ source: this.o.source, orderId: order.orderId, memberId: order.memberId, at: order.at, atIso: base.purchased_at, amount: order.amount, lines: order.own }, facts, (id) => {
      row.entry_id = id;
    });
    row.points = out.kind === 'return' ? -out.points : out.points;
    row.capped = out.capped;
    row.rules_version = out.rulesVersion;
    if (out.entryId !== null) row.entry_id = out.entryId;
    this.pending.push(row);
    c.accepted++;
    c.capped += out.capped;
    if (out.kind === 'return') {
      c.returns++;
      c.pointsReturned += out.points;
    } else c.pointsAccrued += out.points;
  }
}

class DryRunRollback extends Error {}

let gcFn: (() => void) | null | undefined;
/**
 * A full collection between batches. V8 lets the old generation fill with the garbage of several
 * batches before collecting, which alone would take the import past its memory budget (SPEC §6:
 * peak RSS under 300 MB); one collection per batch of thousands of orders costs a few ms.
 */
function collectGarbage(): void {
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

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function importPurchases(ctx: Ctx, input: ImportInput): Promise<ImportSummary> {
  const started = Date.now();
  const o = resolveOptions(input);
  const c: Counters = { rows: 0, orders: 0, accepted: 0, duplicates: 0, rejected: 0, review: 0, capped: 0, pointsAccrued: 0, pointsReturned: 0, returns: 0, guestsSkipped: 0, membersCreated: 0, rejectedOrders: 0, batches: 0 };
  const dir = mkdtempSync(join(process.env.POINTSMALL_TMPDIR || tmpdir(), 'pointsmall-import-'));
  const stage = new ImportStage(join(dir, 'stage.db'));
  try {
    return await withLedger(ctx, async (l) => {
      const plan = await stageFile(o, l, stage, c, input.onProgress);

      const { orders: total, hasBad } = stage.finishLoad();
      const acc = new Accruer(l, o, c, total);
      const batchOrders = input.batchOrders ?? 20_000;
      let done = 0;
      const reader = new StagedOrders(stage.path, hasBad);
      const orders = feedOrders(reader.rows(), plan.format);
      // One transaction per batchOrders orders; member facts and existing keys are fetched per
      // slice of a few hundred orders, so little stays alive between collections.
      const runBatch = (): boolean => {
        let n = 0;
        for (;;) {
          const slice: FedOrder[] = [];
          while (slice.length < 500 && n < batchOrders) {
            const next = orders.next();
            if (next.done) {
              acc.batch(slice);
              acc.finishBatch();
              return false;
            }
            slice.push(next.value);
            done++;
            n++;
          }
          acc.batch(slice);
          input.onProgress?.({ phase: 'accruing', done, total });
          if (n >= batchOrders) {
            acc.finishBatch();
            return true;
          }
        }
      };
      try {
        if (o.dryRun) {
          // one transaction over everything, rolled back: the same summary, nothing written
          try {
            l.store.write(() => {
              while (runBatch()) {
                c.batches++;
                input.onProgress?.({ phase: 'accruing', done, total });
                collectGarbage();
              }
              c.batches++;
              throw new DryRunRollback();
            });
          } catch (e) {
            if (!(e instanceof DryRunRollback)) throw e;
          }
        } else {
          const undo = bulkWrites(l.store);
          let accrued = 0; // by the committed batches
          try {
            for (;;) {
              const more = l.store.write(runBatch);
              c.batches++;
              accrued = c.accepted;
              stage.addRejects(acc.rejects);
              acc.rejects = [];
              input.onProgress?.({ phase: 'accruing', done, total });
              if (!more) break;
              collectGarbage();
              await tick();
            }
          } catch (e) {
            // Locked out after some batches: say what is in (a re-run skips it and accrues the rest).
            if (c.batches > 0 && mapBusy(e, l.path, l.store.busyTimeoutMs) instanceof BusyError) {
              const n = c.batches === 1 ? 'batch (' : `${c.batches} batches (`;
              throw new BusyError(l.path, l.store.busyTimeoutMs, `the first ${n}${accrued} orders accrued) ${c.batches === 1 ? 'is' : 'are'} committed, the rest is not: run the same import again to accrue the rest (what is in is skipped, nothing doubles), or raise POINTSMALL_BUSY_TIMEOUT (ms)`);
            }
            throw e;
          } finally {
            undo();
          }
          // Committed with synchronous = FULL after the batches: its fsync of the WAL makes every batch
          // before it durable too, so what the summary reports survives a power cut.
          l.store.write(() => recordAudit(l, 'import.purchases', resolve(o.file), { source: o.source, ...c }));
        }
      } finally {
        orders.return(undefined);
        reader.close();
      }
      stage.addRejects(acc.rejects);
      let rejectsFile: string | null = null;
      if (c.rejected > 0 && (!o.dryRun || o.rejects)) {
        rejectsFile = o.rejects ?? `${o.file.replace(/\.csv$/i, '')}.rejects.csv`;
        await writeRejectsFile(o, plan, stage, rejectsFile, input.onProgress);
      }
      return {
        file: o.file,
        source: o.source,
        format: plan.format,
        rows: c.rows,
        orders: c.orders,
        accepted: c.accepted,
        duplicates: c.duplicates,
        rejected: c.rejected,
        review: c.review,
        capped: c.capped,
        pointsAccrued: c.pointsAccrued,
        pointsReturned: c.pointsReturned,
        dryRun: o.dryRun,
        returns: c.returns,
        guestsSkipped: c.guestsSkipped,
        membersCreated: c.membersCreated,
        rejectedOrders: c.rejectedOrders,
        rejectsFile,
        batches: c.batches,
        elapsedMs: Date.now() - started,
      };
    });
  } finally {
    stage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the rejects file ---------------------------------------------------------------------------

/**
 * Writes every rejected row with its line number and reason, in line order, with the file's own
 * columns. Rows rejected while accruing (whole orders) are read back from the file by line number.
 */
async function writeRejectsFile(o: Options, plan: ColumnPlan, stage: ImportStage, path: string, onProgress?: (p: ImportProgress) => void): Promise<void> {
  const { stringify } = await import('csv-stringify/sync');
  const { csvSafe } = await import('../cli/output.js');
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write rejects to ${path}: folder ${dir} does not exist`, 'pass --rejects FILE in an existing folder');
  const tmp = join(dir, `.${basename(abs)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  let buffered: string[][] = [];
  const emit = (line: number, reason: string, fields: readonly string[]) => {
    buffered.push([String(line), reason, ...plan.header.map((_, i) => csvSafe(fields[i] ?? ''))]);
    if (buffered.length >= 5000) flush();
  };
  const flush = () => {
    if (buffered.length) writeSync(fd, stringify(buffered));
    buffered = [];
  };
  try {
    writeSync(fd, stringify([['line', 'reason', ...plan.header]]));
    const it = stage.rejects();
    let cur = it.next();
    const total = statSync(o.file).size;
    if (stage.needsReread()) {
      const sink: RecordSink = {
        push(rec: CsvRecord) {
          while (!cur.done && (cur.value[2] !== null || cur.value[0] < rec.line)) {
            emit(cur.value[0], cur.value[1], cur.value[2] !== null ? (JSON.parse(cur.value[2]) as string[]) : []);
            cur = it.next();
          }
          while (!cur.done && cur.value[0] === rec.line) {
            emit(cur.value[0], cur.value[1], cur.value[2] !== null ? (JSON.parse(cur.value[2]) as string[]) : rec.fields);
            cur = it.next();
          }
        },
      };
      for await (const _ of readChunks(o, sink, (b) => onProgress?.({ phase: 'rejects', done: b, total }))) {
        void _;
        if (cur.done) break;
      }
    }
    while (!cur.done) {
      emit(cur.value[0], cur.value[1], cur.value[2] !== null ? (JSON.parse(cur.value[2]) as string[]) : []);
      cur = it.next();
    }
    it.return?.(undefined);
    flush();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, abs);
}

