// `import purchases`: stream the CSV into a staging file (memory stays bounded), sort its lines into
// orders by purchase time, then accrue the orders in batches: each batch one ledger transaction holding
// both the points and the idempotency keys, its journal entries written set-based, member by member.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BusyError, ConnectionLostError, DiskFullError, EXIT, LedgerReplacedError, PointsmallError, UsageError, isDiskFull, mapServerCode } from '../errors.js';
import { RulesTimeline, computeEarn } from '../domain/accrual.js';
import { memberProblems } from '../domain/members.js';
import { POINTS_MAX, formatMoney } from '../domain/money.js';
import { idLookalikeProblem, idTextProblem, invisibleCharProblem, shellWord, spreadsheetNumberProblem } from '../domain/text.js';
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
import { isoUtc, localDate, localRangeUtc, shownInstant } from '../domain/time.js';
import { type Store, mapBusy, openStore } from '../store/db.js';
import { PgError } from '../store/pg/database.js';
import { ImportStage, type MemberFacts, type StageShape, StagedOrders, bulkWrites, countStagedOrders, purchases, refreshStatistics, statisticsLag } from '../store/purchases.js';
import { journal } from '../store/journal.js';
import { importRuns } from '../store/importRuns.js';
import { members } from '../store/members.js';
import { rulesVersions } from '../store/rules.js';
import { type Ctx, type Ledger, ledgerFromStore, parseStoredRules, resolveNow, withLedger } from './ledger.js';
import { type ParseInput, type ParseSink, type ParsedChunk, parsePurchasesOnTwoCores, readChunks } from './importParse.js';
import { type FedOrder, feedOrders, lineNumbers } from './orderFeed.js';
import { fileEncoding, refuseUtf8Declared } from './textDecode.js';
import { newScratchDir, scratchParent } from './scratch.js';
import { ENCODING_NAMES } from '../domain/encoding.js';
import { type CreditInput, creditPointsKnownDebt, debitPoints, recordAudit } from './points.js';
import { rejectsTarget, staleRejectsFile } from './csvfile.js';
import { requireInputFile } from './inputFile.js';
import { FIRST_REJECTS, type RejectSample, isRejectsHeader, rejectsHeader, rejectsRow, unquoteRejectsCell } from '../domain/rejects.js';
import { AtomicFile, type OutputTarget } from './outfile.js';
import { type BatchPlan, type PlannedRow, PlanApplier, PlanBuilder, planWrites, READER_CACHE_KIB, SEMI_SPACE_MB, WRITER_OLD_MB, WRITER_YOUNG_MB, type WriterData, type WriterRequest, capYoungGeneration, collectGarbage } from './importPlan.js';

export interface ImportInput {
  file: string;
  map?: string[];
  profile?: string;
  source?: string;
  /** Timestamp formats, tried in order (a value two of them read differently is refused). */
  dateFormat?: string | string[];
  encoding?: string;
  delimiter?: string;
  createMembers?: boolean;
  skipGuests?: boolean;
  /** Values that mean an empty field (--null NA, repeatable). */
  nulls?: string[];
  /** `COLUMN=VALUE`: rows with that value in that column are left out, counted `skipped`. */
  skip?: string[];
  rejects?: string;
  dryRun?: boolean;
  /** More bad rows than this and nothing is committed (0: all or nothing). */
  maxRejects?: number;
  /** Orders per ledger transaction. */
  batchOrders?: number;
  /** Orders per plan, a batch's part (the tests set it; by default PART). */
  partOrders?: number;
  onProgress?: (p: ImportProgress) => void;
  /** Told, before the process ends by it, that a signal stopped the import (the CLI prints it as its error). */
  onInterrupt?: (err: PointsmallError) => void;
}

export interface ImportProgress {
  phase: 'reading' | 'accruing' | 'rejects';
  done: number;
  total: number;
}

export interface ImportSummary extends Omit<Counters, 'firstAt' | 'lastAt'> {
  /** The accepted orders' date range (accrued or in review), UTC ISO 8601; null when none was. */
  firstPurchasedAt: string | null;
  lastPurchasedAt: string | null;
  /** The ledger's zone (the human summary shows the range in it). */
  timezone: string;
  file: string;
  source: string;
  /** The import run recorded (`import list`, `import void`); null for a dry run or one that wrote nothing. */
  runId: number | null;
  format: 'order' | 'line';
  dryRun: boolean;
  rejectsFile: string | null;
  /** A rejects file an earlier run left at this run's rejects path, when this run rejected no row (left alone; null when none). */
  staleRejectsFile: string | null;
  /**
   * An earlier run that took in a file of the very same bytes under another source, whose purchases are
   * not all voided: this run's orders count again beside its (the key is source and order id); null when none.
   */
  sameFileAs: { runId: number; source: string; at: string } | null;
  /**
   * Orders whose lines carry more than one purchased_at (orders with a rejected row aside): each is booked
   * at its earliest line's time (SPEC §4.6 orders by purchased_at). 0 and null when there is none.
   */
  mixedTimeOrders: number;
  /** The first of them in the file. */
  firstMixedTimeOrder: string | null;
  /** The first few rejected rows (line and reason), in line order; the rejects file has them all. */
  firstRejects: RejectSample[];
  elapsedMs: number;
}

interface Options {
  file: string;
  source: string;
  map: Partial<Record<PurchaseField, string>>;
  dateFormats: string[];
  encoding: Encoding;
  /** The --encoding (or the profile's) a byte-order mark overrode, if one did. */
  bomOverrode?: Encoding;
  /** Where a declared encoding came from: the profile (named), or --encoding. */
  encodingFrom: string | null;
  delimiter: string;
  createMembers: boolean;
  skipGuests: boolean;
  nulls: string[];
  skips: [string, string][];
  rejects?: string;
  dryRun: boolean;
  maxRejects?: number;
}

/** UTF-16 of either byte order is one family (a BOM picks the order); every other encoding its own. */
const family = (e: Encoding): string => (e.startsWith('utf16') ? 'utf16' : e);

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
  const declared = normaliseEncoding(encName);
  if (!declared) throw new UsageError(`--encoding ${JSON.stringify(encName)} is not one of ${ENCODING_NAMES}`);
  const delimText = input.delimiter ?? profile.delimiter ?? ',';
  const delimiter = normaliseDelimiter(delimText);
  if (!delimiter) throw new UsageError(`--delimiter ${JSON.stringify(delimText)} must be one character other than a quote or a line break (or tab, semicolon, pipe by name)`);
  const given = input.dateFormat ?? profile.dateFormat;
  const dateFormats = given === undefined ? [] : typeof given === 'string' ? [given] : [...given];
  for (const f of dateFormats) {
    const p = dateFormatProblem(f);
    if (p) throw new UsageError(p, 'tokens like M/D/YYYY H:mm or DD.MM.YYYY HH:mm:ss (repeat --date-format to try several in order)');
  }
  const source = (input.source ?? profile.source ?? 'default').trim();
  if (!source || source.length > 64) throw new UsageError('--source must be a name of 1 to 64 characters');
  // half of every order's import key: an invisible character (a zero-width space, a soft hyphen) would make
  // a source that looks like another one and take the same orders in again
  // (one in another case or width than an earlier import's is refused once the ledger is open: SOURCE_CASE)
  const unclean = idTextProblem('--source', source) ?? invisibleCharProblem('--source', source);
  if (unclean) throw new UsageError(unclean, 'a source is visible text: retype it (pointsmall import list shows the sources in use)');
  requireInputFile(input.file, 'check the path');
  const encoding = fileEncoding(input.file, declared); // a BOM decides by itself
  const skips: [string, string][] = [];
  for (const spec of input.skip ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--skip ${JSON.stringify(spec)} is not COLUMN=VALUE`, 'e.g. --skip Status=cancelled (repeatable)');
    skips.push([spec.slice(0, eq).trim(), spec.slice(eq + 1).trim()]);
  }
  const nulls = (input.nulls ?? []).map((v) => v.trim());
  if (nulls.includes('')) throw new UsageError('--null needs a value, e.g. --null NA');
  return {
    file: input.file,
    source,
    map: { ...(profile.map ?? {}), ...specs.map },
    dateFormats,
    encoding,
    bomOverrode: (input.encoding ?? profile.encoding) !== undefined && family(declared) !== family(encoding) ? declared : undefined,
    encodingFrom: input.encoding === undefined && profile.encoding !== undefined ? `the profile ${input.profile}` : null,
    delimiter,
    createMembers: input.createMembers ?? profile.createMembers ?? false,
    skipGuests: input.skipGuests ?? profile.skipGuests ?? false,
    nulls,
    skips,
    rejects: input.rejects,
    dryRun: input.dryRun ?? false,
    maxRejects: input.maxRejects,
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
  /** Of pointsAccrued, those whose lot's last day was before today (old data): lapsed as they were earned. */
  pointsLapsed: number;
  pointsReturned: number;
  /** Of pointsAccrued, those that repaid members' debt (a credit repays debt first: SPEC §4.6), so no lot holds them. */
  debtRepaid: number;
  returns: number;
  guestsSkipped: number;
  /** Rows left out by --skip. */
  skipped: number;
  membersCreated: number;
  rejectedOrders: number;
  batches: number;
  /** The earliest and latest purchase time (UTC ms) of the orders taken in (accrued or in review); ±Infinity: none. */
  firstAt: number;
  lastAt: number;
}

/** Phase 1: every row validated; good lines staged in groups per order, bad rows recorded with their values. */
async function stageFile(o: Options, l: Ledger, stage: ImportStage, c: Counters, onProgress?: (p: ImportProgress) => void): Promise<ColumnPlan> {
  const total = statSync(o.file).size;
  const sink: ParseSink = {
    emit(chunk: ParsedChunk) {
      c.rows += chunk.rows;
      c.guestsSkipped += chunk.guests;
      c.skipped += chunk.skipped;
      c.rejected += chunk.rejects.length;
      stage.load(chunk.groups, chunk.bad, chunk.rejects, chunk.guestRows);
    },
    restart() {
      c.rows = c.guestsSkipped = c.skipped = c.rejected = 0;
      stage.clear();
    },
    share() {
      stage.share();
      return stage.path;
    },
  };
  const input: ParseInput = { ...o, digits: l.digits, zone: l.zone, notAfterMs: l.now.getTime() };
  return parsePurchasesOnTwoCores(input, sink, (b) => onProgress?.({ phase: 'reading', done: b, total }));
}

// ---- accruing -----------------------------------------------------------------------------------

/** What one order did to the ledger. */
export interface AccrualOutcome {
  /** 'too-large': nothing posted, the points would pass POINTS_MAX (for the order, the member's balance or, a return's, their debt: `takingBack`). */
  kind: 'purchase' | 'return' | 'too-large';
  points: number; // credited, or taken back (positive)
  capped: number;
  rulesVersion: number;
  entryId: number | null;
  /** A purchase's lot's last day (null: never expires). */
  expiresOn?: string | null;
  /** 'too-large' of a return: it would take back past the ceiling. */
  takingBack?: boolean;
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
  /** Credits waiting to be planned member by member (plan mode), with what to tell once they have op numbers. */
  private credits = new Map<string, { orderId: string; points: number; atIso: string; expiresOn: string | null; planned?: (op: number) => void }[]>();
  /** Points of this batch's credits per member and local day, not yet in the ledger, which the daily cap must count too. */
  private bufferedEarned = new Map<string, Map<string, number>>();
  /**
   * Whether some version caps the points earned per day: then every credit of the batch is counted in
   * bufferedEarned, whatever its own version says, since a capped version in force later that day counts
   * all the day's points (§4.6).
   */
  private readonly anyDailyCap: boolean;
  /** The latest valid time of the ledger's entries when first asked (undefined: not asked since forgetTimes). */
  private latestAt: string | null | undefined;
  /**
   * Of each member asked about, what their entries added to lifetime earned, by valid time: `at` ascending
   * and `after[k]` the sum of entries k and later (read once per member: a member with thousands of later
   * entries costs one read, not one per backdated order: trial 39). The entries this import writes later
   * are never valid after a later order of it (orders apply in purchased_at order), so none is missed.
   */
  private readonly timelines = new Map<string, { at: string[]; after: number[] }>();
  /**
   * For the daily cap, of each member asked about: the points their accruals (and voids' give-backs) in the
   * ledger added to lifetime earned, by valid time (`at` ascending, `before[k]` the sum of entries before
   * k), read once; and `own`, per local day, what this engine credited them since (with what the batch had
   * buffered when it was read). One read per member, not one per order (trial 39).
   */
  private readonly dayEarnings = new Map<string, { at: string[]; before: number[]; own: Map<string, number> }>();
  /** Entries held in `timelines` and `dayEarnings`, bounded by TIMELINE_ENTRIES. */
  private timelineEntries = 0;
  /**
   * @param plan credits and returns go into this plan (an import), to be written when the batch is
   * applied; without one, each is posted at once (a review approval).
   */
  constructor(private readonly l: Ledger, private readonly plan?: PlanBuilder) {
    const versions = l.store.get(rulesVersions).all();
    this.timeline = new RulesTimeline(versions.map((v) => ({ id: v.id, effectiveAt: v.effective_at, document: v.document })));
    this.anyDailyCap = versions.some((v) => parseStoredRules(l, v.id, v.document).limits.dailyEarnCap !== null);
    this.cal = new ZoneCalendar(l.zone);
  }

  /** Forgets the entries' times learnt: another writer may have added entries since. */
  forgetTimes(): void {
    this.latestAt = undefined;
    this.timelines.clear();
    this.dayEarnings.clear();
    this.timelineEntries = 0;
  }

  /**
   * §4.1 step 3: the member's lifetime earned points before an order valid at `atIso` (and §4.6: a return's,
   * at its date), from `facts.lifetime_earned` (the ledger's, with this import's orders so far, which come in
   * purchased_at order): less what the ledger's entries valid after it earned. A backdated order (a day's
   * export imported after a checkout that lifted the member to a tier) does not earn at a tier reached later.
   * Only an order older than the ledger's latest entry costs a read, one per member.
   */
  private lifetimeBefore(memberId: string, atIso: string, facts: MemberFacts): number {
    const p = this.l.store.get(purchases);
    if (this.latestAt === undefined) this.latestAt = p.latestEntryAt();
    if (this.latestAt === null || atIso >= this.latestAt) return facts.lifetime_earned;
    let t = this.timelines.get(memberId);
    if (!t) {
      const rows = p.earnedTimeline(memberId);
      this.makeRoom(rows.length);
      const after = new Array<number>(rows.length + 1);
      after[rows.length] = 0;
      for (let k = rows.length - 1; k >= 0; k--) after[k] = after[k + 1] + rows[k][1];
      this.timelines.set(memberId, (t = { at: rows.map((r) => r[0]), after }));
      this.timelineEntries += rows.length + 1;
    }
    return facts.lifetime_earned - t.after[firstAfter(t.at, atIso, true)];
  }

  /**
   * The daily cap's count (§4.6): points the member's accruals credited on the local `day` ([fromIso,
   * toIso)), in the ledger and by this engine (its buffered credits included).
   */
  private earnedOnDay(memberId: string, day: string, fromIso: string, toIso: string): number {
    let d = this.dayEarnings.get(memberId);
    if (!d) {
      const rows = this.l.store.get(purchases).accrualTimeline(memberId);
      this.makeRoom(rows.length);
      const before = new Array<number>(rows.length + 1);
      before[0] = 0;
      for (let k = 0; k < rows.length; k++) before[k + 1] = before[k] + rows[k][1];
      // what this batch credited them and has not written yet is counted from here on as this engine's own
      this.dayEarnings.set(memberId, (d = { at: rows.map((r) => r[0]), before, own: new Map(this.bufferedEarned.get(memberId) ?? []) }));
      this.timelineEntries += rows.length + 1;
    }
    return d.before[firstAfter(d.at, toIso, false)] - d.before[firstAfter(d.at, fromIso, false)] + (d.own.get(day) ?? 0);
  }

  /** Drops every member's timeline when `more` entries would go past TIMELINE_ENTRIES (each is read again when asked). */
  private makeRoom(more: number): void {
    if (this.timelineEntries + more <= TIMELINE_ENTRIES) return;
    this.timelines.clear();
    this.dayEarnings.clear();
    this.timelineEntries = 0;
  }

  rulesAt(ms: number): { id: number; rules: Rules } {
    const v = this.timeline.at(ms);
    if (!v) throw new UsageError(`no rules version is in force at ${shownInstant(ms, this.l.zone)}`, 'apply one with: pointsmall rules apply FILE.json --effective DATE');
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
   * `facts` (lifetime earned, and debt when posting at once) current as the member caches change.
   * Call inside store.write() when posting at once. `posted` is told the entry id, or in plan mode
   * the op number.
   */
  accrue(
    o: { source: string; orderId: string; memberId: string; at: number; atIso?: string; amount: number; lines: readonly { amount: number; sku: string | null; category: string | null }[] },
    facts: MemberFacts,
    posted?: (entryOrOp: number) => void,
  ): AccrualOutcome {
    const l = this.l;
    const { id: rulesVersion, rules } = this.rulesAt(o.at);
    const atIso = o.atIso ?? new Date(o.at).toISOString();
    const day = this.cal.localDate(o.at);
    if (o.amount < 0) {
      const r = computeEarn({ rules, at: o.at, zone: l.zone, digits: l.digits, pinnedTier: facts.tier, lifetimeEarned: this.lifetimeBefore(o.memberId, atIso, facts), localDate: day, lines: o.lines.map((x) => ({ amount: -x.amount, sku: x.sku, category: x.category })), purpose: 'return' });
      let entryId: number | null = null;
      // Numbers stay exact the other way too: no return takes back past the ceiling, nor drives a member's
      // balance (their debt) or lifetime total below minus the ceiling (trial 41: 9,100 returns passed 2^53)
      if (r.points > POINTS_MAX || r.points > POINTS_MAX + Math.min(facts.balance, facts.lifetime_earned, 0)) return { kind: 'too-large', points: r.points, capped: 0, rulesVersion, entryId: null, takingBack: true };
      if (r.points > 0) {
        if (this.plan) {
          this.flush(o.memberId); // the lots a return takes from come first
          posted?.(this.plan.debit(o.memberId, o.orderId, r.points, atIso));
        } else {
          const d = debitPoints(l, { memberId: o.memberId, points: r.points, at: atIso, kind: 'return', to: 'issued', allowDebt: true, ref: `${o.source}:${o.orderId}` });
          entryId = d.entryId;
          facts.debt += d.debt;
          posted?.(entryId);
        }
        facts.lifetime_earned -= r.points; // as the journal's cache: −Σ issued postings
        facts.balance -= r.points;
      }
      return { kind: 'return', points: r.points, capped: 0, rulesVersion, entryId };
    }
    let earnedToday = 0;
    if (rules.limits.dailyEarnCap !== null) {
      const [fromIso, toIso] = this.range(day);
      earnedToday = this.earnedOnDay(o.memberId, day, fromIso, toIso);
    }
    const r = computeEarn({ rules, at: o.at, zone: l.zone, digits: l.digits, pinnedTier: facts.tier, lifetimeEarned: this.lifetimeBefore(o.memberId, atIso, facts), localDate: day, lines: o.lines, earnedTodayBeforeThisOrder: earnedToday });
    // Numbers stay exact: no order earns, and no balance or lifetime total grows, past the points ceiling.
    if (r.points > POINTS_MAX - Math.max(facts.balance, facts.lifetime_earned, 0)) return { kind: 'too-large', points: r.points, capped: 0, rulesVersion, entryId: null };
    let entryId: number | null = null;
    let expires: string | null = null;
    if (r.points > 0) {
      expires = this.expiresOn(rulesVersion, rules, o.at, day);
      const own = this.dayEarnings.get(o.memberId)?.own;
      if (own) own.set(day, (own.get(day) ?? 0) + r.points);
      if (this.plan) {
        let mine = this.credits.get(o.memberId);
        if (!mine) this.credits.set(o.memberId, (mine = []));
        mine.push({ orderId: o.orderId, points: r.points, atIso, expiresOn: expires, planned: posted });
        if (this.anyDailyCap) {
          let days = this.bufferedEarned.get(o.memberId);
          if (!days) this.bufferedEarned.set(o.memberId, (days = new Map()));
          days.set(day, (days.get(day) ?? 0) + r.points);
        }
      } else {
        const input: CreditInput = { memberId: o.memberId, points: r.points, at: atIso, kind: 'accrual', from: 'issued', expiresOn: expires, ref: `${o.source}:${o.orderId}`, memo: null };
        const cr = creditPointsKnownDebt(l, input, facts.debt);
        entryId = cr.entryId;
        facts.debt -= cr.debtRepaid;
        posted?.(entryId);
      }
      facts.lifetime_earned += r.points;
      facts.balance += r.points;
    }
    return { kind: 'purchase', points: r.points, capped: r.capped, rulesVersion, entryId, expiresOn: expires };
  }

  /**
   * Plans the buffered credits, all or one member's, and tells each its op number. All of them go
   * member by member, so the indexes keyed by member are written in one sweep, not at random.
   */
  flush(memberId?: string): void {
    if (!this.plan) return;
    const plan = this.plan;
    const planOf = (id: string) => {
      for (const c of this.credits.get(id) ?? []) {
        const op = plan.credit(id, c.orderId, c.points, c.atIso, c.expiresOn);
        c.planned?.(op);
      }
    };
    if (memberId !== undefined) {
      // Planned is not yet written: what they earned stays in bufferedEarned for the daily cap until
      // the batch's plan is applied.
      planOf(memberId);
      this.credits.delete(memberId);
    } else {
      for (const id of [...this.credits.keys()].sort()) planOf(id);
      this.credits.clear();
      // the batch's plan is about to be applied: what it earned is the ledger's now, whether or not a
      // return's flush had planned every credit already (trial 39: kept, it was counted twice)
      this.bufferedEarned.clear();
    }
  }
}

/** Why an order waits in review instead of accruing, if it does. */
export function reviewReason(facts: MemberFacts, rules: Rules, amount: number): string | null {
  if (facts.status === 'frozen') return 'member-frozen';
  if (amount > 0 && rules.limits.reviewAbove !== null && amount > rules.limits.reviewAbove) return 'above-review-limit';
  return null;
}

/**
 * The index of the first of `sorted` (ISO times, ascending) after `t` (`strict`), or at or after it;
 * `sorted.length` when there is none.
 */
function firstAfter(sorted: readonly string[], t: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? sorted[mid] > t : sorted[mid] >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The most member facts an import keeps in memory. */
const MAX_FACTS = 200_000;
/** The most entries Accruer.timelines holds (about 100 bytes each) before it starts over. */
const TIMELINE_ENTRIES = 500_000;

class Accruer {
  private readonly p;
  readonly engine: AccrualEngine;
  rejects: [number, string, string | null][] = [];
  /** Purchase rows planned at the end of each batch (written in the same transaction as their points). */
  private pending: PlannedRow[] = [];
  /** Member facts of this batch, kept current as it accrues. */
  private readonly facts = new Map<string, MemberFacts>();
  /** Keys taken by this batch's orders, not yet in the table. */
  private readonly batchKeys = new Map<string, string>();
  /** The ledger's data_version when the previous batch began: unchanged, nobody else wrote since. */
  private seenVersion: number | null = null;
  /** Whether the first slice has been seen (keysMayExist is known from then on). */
  private started = false;
  /** Whether keys of this source can be in the ledger already (imported before, or by another process meanwhile). */
  private keysMayExist = true;
  /** Whether `facts` holds every member of the ledger: an id not in it is then not a member. */
  private allFacts = false;
  /** The facts were dropped while batches may be on their way to the ledger: wait for them before reading facts again. */
  needsDrain = false;
  private readonly plan: PlanBuilder;
  /** Member ids by their lower case, read when the first member is to be created, with those created since. */
  private folded: Map<string, string> | null = null;
  private readonly createdHere = new Set<string>();
  /** The ledger's local date now (lots whose last day is before it have lapsed). */
  private today: string | undefined;
  /** Whether the plan has begun a batch, and whether it has ever read where the chain ends. */
  private planning = false;
  private followed = false;
  /**
   * @param orders how many orders the file has: when the ledger has no more than twice as many members
   * (and at most MAX_FACTS), all their facts are read at once rather than slice by slice.
   * @param inTransaction each batch is planned inside the write transaction that applies it, so other
   * writers are noticed here; otherwise (a ledger writer thread) the writer notices them.
   */
  /** The amount column's name in the file, for the hint of a repeated order id. */
  amountColumn = 'amount';
  /** The import run whose orders this feed has passed already (committed by earlier batches), if any. */
  ownRun: number | null = null;
  /** The lines of an order skipped as a guest's (--skip-guests), if it has any (ImportStage.guestLines). */
  guestLinesOf: ((orderId: string) => number[] | null) | null = null;
  /** A file of one row per order that names items: the column that does (sku, else quantity), else null. */
  itemColumn: string | null = null;

  constructor(private readonly l: Ledger, private readonly o: Options, private readonly c: Counters, private readonly orders: number, private readonly inTransaction: boolean) {
    this.p = l.store.get(purchases);
    // (the chain hashes are worked out here, beside the accrual, unless a key makes them MACs)
    this.plan = new PlanBuilder(o.source, l.store.chainKey ? null : { recordedAt: l.nowIso, operator: l.operator });
    this.engine = new AccrualEngine(l, this.plan);
  }

  private rejectLines(lines: readonly number[], reason: string): void {
    for (const line of lines) this.rejects.push([line, reason, null]);
    this.c.rejected += lines.length;
    this.c.rejectedOrders++;
  }

  /**
   * An order rejected whole takes its lines that were skipped as a guest's along into the rejects file (they
   * are no longer counted as skipped): fixed, the file then imports the whole order.
   */
  private rejectGuestLines(orderId: string, reason: string): void {
    const guests = this.guestLinesOf?.(orderId);
    if (!guests) return;
    for (const line of guests) this.rejects.push([line, reason, null]);
    this.c.rejected += guests.length;
    this.c.guestsSkipped -= guests.length;
  }

  /**
   * An order that names a member on some lines and none on others (a grouped export printing the member on
   * its first line only): --skip-guests would drop those lines and credit part of it, so the order is
   * rejected whole. Returns whether it was.
   */
  private mixedWithGuests(orderId: string, memberId: string, lines: readonly number[]): boolean {
    const guests = this.guestLinesOf?.(orderId);
    if (!guests) return false;
    const why = 'an order belongs to one member, and --skip-guests would leave out part of it; fill the member id in on every line of the order';
    const list = (ls: readonly number[]) => (ls.length === 1 ? `line ${ls[0]}` : `lines ${ls.join(', ')}`);
    this.rejectLines(lines, `order ${orderId}: ${list(guests)} name${guests.length === 1 ? 's' : ''} no member while this line names ${memberId}: ${why}`);
    this.rejectGuestLines(orderId, `member_id is empty while other lines of order ${orderId} name ${memberId}: ${why}`);
    return true;
  }

  /**
   * One slice of orders, assembled by the feed, into the batch's plan. Existing keys and member facts
   * are fetched for the whole slice at once, then kept current in memory as it accrues. Planned in
   * the transaction that applies it, or ahead of a writer thread (then nothing here writes).
   */
  batch(batch: readonly FedOrder[]): void {
    if (!this.started) {
      // (the orders this import's committed batches wrote are not in this feed again: only others count)
      this.keysMayExist = this.p.anyFromSource(this.o.source, this.ownRun);
      this.started = true;
    }
    if (this.inTransaction) this.checkOtherWriters();
    if (!this.planning) {
      // In its own transaction a batch follows the chain as it is; planned ahead of a writer thread,
      // from where it was once read (another writer's entries make the writer refuse the batch).
      if (this.inTransaction || !this.followed) this.plan.follow(this.l.store.get(journal).head());
      this.followed = this.planning = true;
    }
    const c = this.c;
    const ready: Extract<FedOrder, { ok: true }>[] = [];
    for (const f of batch) {
      c.orders++;
      if (f.ok) ready.push(f);
      else {
        this.rejectLines(f.lines, f.reason);
        this.rejectGuestLines(f.orderId, `order ${f.orderId} is rejected (see its other lines), and this line of it names no member`);
      }
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
      if (all) this.learn(all);
      this.allFacts = all !== null;
    }
    const unseen = this.allFacts ? [] : [...new Set(ready.map((r) => r.memberId))].filter((id) => !facts.has(id));
    if (unseen.length) this.learn(this.p.memberFactsMany(unseen));
    for (const order of ready) {
      const lines = order.lines;
      if (this.guestLinesOf && this.mixedWithGuests(order.orderId, order.memberId, lines)) continue;
      const unclean = idTextProblem('order id', order.orderId) ?? idLookalikeProblem('order id', order.orderId) ?? spreadsheetNumberProblem('order id', order.orderId) ?? idTextProblem('member id', order.memberId);
      if (unclean) {
        this.rejectLines(lines, unclean);
        continue;
      }
      if (order.repeatConflicts.length) {
        // an order-level file naming one order on rows that differ: its lines, most likely
        const col = this.amountColumn;
        this.rejectLines(lines, `order ${order.orderId} appears on lines ${lines.join(', ')} with different content: a file of one row per order names each order once; if these rows are the order's lines, map the amount column as a line total: --map line_amount=${col} (the order is rejected whole)`);
        continue;
      }
      if (order.repeatDuplicates > 0 && this.itemColumn !== null) {
        // the same rows, in a file whose rows name items: two tickets of one price, or the order exported twice?
        this.rejectLines(lines, `order ${order.orderId} appears on lines ${lines.join(', ')} with the same content, in a file that names items (${this.itemColumn}): two lines of the same item, or the order repeated? If the rows are the order's lines, map the amount column as a line total: --map line_amount=${this.amountColumn}; if the order is repeated, remove the repeats (the order is rejected whole)`);
        continue;
      }
      const hash = existing.get(order.orderId) ?? this.batchKeys.get(order.orderId);
      if (hash !== undefined) {
        if (hash === order.contentHash) {
          c.duplicates++;
          this.repeats(order);
        } else this.rejectLines(lines, `conflict: order ${order.orderId} (source ${this.o.source}) was imported before with different content${this.differences(order)}; if the file is right, void the order first (pointsmall purchase void ${shellWord(this.o.source)} ${shellWord(order.orderId)}), then import all its lines in one file`);
        continue;
      }
      let f = facts.get(order.memberId);
      if (!f) {
        // a member id that could pass for another is refused whether or not members are created (an
        // existing member with such an id, from before the rule, still takes its purchases)
        const lookalike = idLookalikeProblem('member id', order.memberId) ?? spreadsheetNumberProblem('member id', order.memberId);
        if (lookalike) {
          this.rejectLines(lines, lookalike);
          continue;
        }
        if (!this.o.createMembers) {
          this.rejectLines(lines, `member ${order.memberId} is not in the ledger (add it with pointsmall member add, or pass --create-members)`);
          continue;
        }
        const problems = memberProblems({ id: order.memberId, name: order.memberId });
        if (problems.length) {
          this.rejectLines(lines, `member id: ${problems[0].message}`);
          continue;
        }
        // ids are compared exactly: m001 beside M001 would split a customer's points in two (trial 32)
        const spelled = this.spelledAs(order.memberId);
        if (spelled !== undefined) {
          const where = this.createdHere.has(spelled) ? `this import creates ${spelled} (for an earlier order of the file, by purchase time)` : `${spelled} is`;
          this.rejectLines(lines, `member ${order.memberId} is not in the ledger, but ${where}: ids are compared exactly, so --create-members would make a second member of ${spelled}; write the id as ${spelled} (or, if it is another customer, add it first with pointsmall member add)`);
          continue;
        }
        this.folded!.set(order.memberId.toLowerCase(), order.memberId);
        this.createdHere.add(order.memberId);
        this.plan.newMember(order.memberId);
        c.membersCreated++;
        f = { status: 'active', tier: null, lifetime_earned: 0, debt: 0, balance: 0 };
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
    if (this.seenVersion !== null && v !== this.seenVersion) {
      this.forgetFacts();
      this.keysMayExist = true;
    }
    this.seenVersion = v;
  }

  /** The member (in the ledger, or created by this import) whose id is `id` but for the case of its letters. */
  private spelledAs(id: string): string | undefined {
    if (!this.folded) {
      this.folded = new Map();
      for (const m of this.l.store.get(members).ids()) this.folded.set(m.toLowerCase(), m);
    }
    const other = this.folded.get(id.toLowerCase());
    return other !== undefined && other !== id ? other : undefined;
  }

  private forgetFacts(): void {
    this.engine.forgetTimes();
    this.facts.clear();
    this.allFacts = false;
    this.plan.forget();
  }

  /** Member facts read from the ledger; the debts among them go to the plan's applier. */
  private learn(read: Map<string, MemberFacts>): void {
    for (const [id, f] of read) {
      this.facts.set(id, f);
      this.plan.debt(id, f.debt);
    }
  }

  /** Ends a batch: the buffered credits, then the purchase rows in key order. Returns its plan. */
  finishBatch(): BatchPlan {
    this.engine.flush();
    this.pending.sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
    for (const r of this.pending) this.plan.row(r);
    this.pending = [];
    this.batchKeys.clear();
    this.planning = false;
    const plan = this.plan.take();
    if (this.facts.size > MAX_FACTS) {
      this.forgetFacts(); // bounded memory, whatever the number of members
      this.needsDrain = true;
    }
    return plan;
  }

  /**
   * What differs between an order imported before (of an earlier import; one earlier in this file is not
   * stored yet) and the file's: member, amount, time, number of lines, in words (": member M001 then, m001
   * now"), else the lines' own content. Read only for a conflict.
   */
  private differences(order: Extract<FedOrder, { ok: true }>): string {
    const before = this.p.get(this.o.source, order.orderId);
    if (!before) return '';
    const l = this.l;
    const said: string[] = [];
    if (before.member_id !== order.memberId) said.push(`member ${before.member_id} then, ${order.memberId} now`);
    if (before.amount !== order.amount) said.push(`amount ${formatMoney(before.amount, l.digits)} then, ${formatMoney(order.amount, l.digits)} now`);
    if (Date.parse(before.purchased_at) !== order.at) {
      let then = shownInstant(before.purchased_at, l.zone);
      let now = shownInstant(order.at, l.zone);
      // within one minute: the seconds (and milliseconds) that differ, as UTC ISO 8601
      if (then === now) [then, now] = [new Date(Date.parse(before.purchased_at)).toISOString(), new Date(order.at).toISOString()];
      said.push(`purchased at ${then} then, ${now} now`);
    }
    if (before.line_count !== order.own.length) said.push(`${before.line_count} lines then, ${order.own.length} now`);
    return `: ${said.length ? said.join('; ') : 'its lines differ (a sku, category, quantity, price, or a line\'s own time)'}`;
  }

  /** Repeated rows of an order-level file with the same content: duplicates (rows that differ reject the order whole). */
  private repeats(order: Extract<FedOrder, { ok: true }>): void {
    this.c.duplicates += order.repeatDuplicates;
  }

  /** Accrues (or queues) one new order. */
  private accept(order: Extract<FedOrder, { ok: true }>, facts: MemberFacts): void {
    const c = this.c;
    if (order.at < c.firstAt) c.firstAt = order.at;
    if (order.at > c.lastAt) c.lastAt = order.at;
    const { rules, id: rulesId } = this.engine.rulesAt(order.at);
    // One object per order, filled in place: its op number arrives when the batch's credits are planned.
    const row: PlannedRow = {
      orderId: order.orderId,
      memberId: order.memberId,
      atIso: isoUtc(order.at),
      kind: order.amount < 0 ? 'return' : 'purchase',
      amount: order.amount,
      lineCount: order.own.length,
      contentHash: order.contentHash,
      status: 'accrued',
      points: 0,
      capped: 0,
      rulesVersion: rulesId,
      op: null,
      lines: order.packed,
    };
    const why = reviewReason(facts, rules, order.amount);
    if (why) {
      this.plan.review({
        source: this.o.source,
        order_id: order.orderId,
        member_id: order.memberId,
        purchased_at: row.atIso,
        kind: row.kind,
        amount: order.amount,
        lines: JSON.stringify(order.own.map((x) => [x.amount, x.sku, x.category])),
        reason: why,
        created_at: this.l.nowIso,
      });
      row.status = 'review';
      this.pending.push(row);
      c.review++;
      return;
    }
    const out = this.engine.accrue({ source: this.o.source, orderId: order.orderId, memberId: order.memberId, at: order.at, atIso: row.atIso, amount: order.amount, lines: order.own }, facts, (op) => {
      row.op = op;
    });
    if (out.kind === 'too-large') {
      this.rejectLines(
        order.lines,
        out.takingBack
          ? `return ${order.orderId} would take back ${out.points} points, past the ceiling of ${POINTS_MAX} points for an order or a member's debt (README "Limits")`
          : `order ${order.orderId} would earn ${out.points} points, past the ceiling of ${POINTS_MAX} points for an order or a member's balance (README "Limits")`,
      );
      return;
    }
    row.points = out.kind === 'return' ? -out.points : out.points;
    row.capped = out.capped;
    row.rulesVersion = out.rulesVersion;
    this.pending.push(row);
    c.accepted++;
    c.capped += out.capped;
    if (out.kind === 'return') {
      c.returns++;
      c.pointsReturned += out.points;
    } else {
      c.pointsAccrued += out.points;
      if (out.expiresOn && out.expiresOn < (this.today ??= localDate(this.l.now.getTime(), this.l.zone))) c.pointsLapsed += out.points;
    }
  }
}

class DryRunRollback extends Error {}
/** A batch that wrote nothing of the import: rolled back, so its housekeeping (lapsed holds released) is not committed alone. */
class NothingWritten extends Error {
  constructor(readonly orders: number, readonly more: boolean) {
    super('nothing written');
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Orders per ledger transaction (ImportInput.batchOrders), and in the first one (the next ones double). */
const BATCH = 30_000;
const FIRST_BATCH = 2_500;
/**
 * The most orders per plan: a larger batch is planned in parts, one after another, and written in one
 * transaction (memory stays bounded, and fewer commits write the ledger's pages fewer times).
 */
const PART = 15_000;

/** What accruing the staged orders works with. */
interface Phase2 {
  l: Ledger;
  o: Options;
  c: Counters;
  stage: ImportStage;
  reader: StagedOrders;
  format: ColumnPlan['format'];
  /** The file's name of the amount column (hints). */
  amountColumn: string;
  /** The lines of an order skipped as a guest's, if any (ImportStage.guestLines). */
  guestLinesOf: ((orderId: string) => number[] | null) | null;
  /** A file of one row per order that names items: the column that does (sku, else quantity), else null. */
  itemColumn: string | null;
  total: number;
  batchOrders: number;
  partOrders: number;
  /** Orders taken from the feed so far. */
  done: number;
  /** Orders in the last batch begun (0: none yet). */
  lastBatch: number;
  /** Orders accrued by the batches this thread knows are committed (a signal's error says it). */
  committedOrders: number;
  onProgress?: (p: ImportProgress) => void;
  /**
   * The import run its purchase rows name: recorded (`create`) in the transaction of the first batch that
   * writes anything, and `id` once that transaction committed (null until then; `create` null: a dry run).
   */
  run: { id: number | null; create: (() => number) | null };
  /**
   * The feed a phase stopped in, `at` orders in (accrueInTransactions until its first commit): the next
   * phase goes on with it from there, instead of sorting the staged orders again and passing over those.
   */
  feed?: { orders: Generator<FedOrder>; at: number } | null;
}

/** The phase's accruer (`inTransaction`: its plans are applied in this thread's transaction). */
function accruerOf(ph: Phase2, inTransaction: boolean): Accruer {
  const acc = new Accruer(ph.l, ph.o, ph.c, ph.total, inTransaction);
  acc.amountColumn = ph.amountColumn;
  acc.guestLinesOf = ph.guestLinesOf;
  acc.itemColumn = ph.itemColumn;
  return acc;
}

/** The plans' applier on this thread: it records the import's run with the first plan that writes anything. */
function applierOf(ph: Phase2): PlanApplier {
  const create = ph.run.create;
  return new PlanApplier(ph.l, ph.o.source, ph.run.id, ph.run.id === null && create ? create : undefined);
}

/** One planned part of a batch: its plan and orders, whether it ends the batch, and whether orders remain. */
interface Part {
  plan: BatchPlan;
  orders: number;
  last: boolean;
  more: boolean;
}

/**
 * The batches of an import, planned part by part from the feed. The first batch is short and the next
 * ones double up to batchOrders: a writer thread has work soon, and does not wait long for the next
 * plan while this thread is getting going.
 */
class Batches {
  /** Orders the batch under way may still take (0: the next part begins a batch). */
  private left = 0;
  /** Parts of the batch under way planned so far. */
  parts = 0;

  constructor(private readonly ph: Phase2, private readonly acc: Accruer, private readonly orders: Iterator<FedOrder>) {}

  /** Plans the next part. A batch ends where the orders do, and where the accruer must read its facts afresh. */
  next(): Part {
    const ph = this.ph;
    if (!this.left) {
      this.left = ph.lastBatch = Math.min(ph.batchOrders, ph.lastBatch ? 2 * ph.lastBatch : FIRST_BATCH);
      this.parts = 0;
    }
    const p = planPart(ph, this.acc, this.orders, Math.min(ph.partOrders, this.left));
    this.left -= p.orders;
    this.parts++;
    const last = !p.more || this.left === 0 || this.acc.needsDrain;
    if (last) this.left = 0;
    return { ...p, last };
  }
}

/**
 * Plans up to `size` orders from the feed, through the accruer in slices of a few hundred (member facts
 * and existing keys are fetched per slice, so little stays alive between collections). Returns the
 * plan and whether orders remain.
 */
function planPart(ph: Phase2, acc: Accruer, orders: Iterator<FedOrder>, size: number): { plan: BatchPlan; more: boolean; orders: number } {
  let n = 0;
  for (;;) {
    const slice: FedOrder[] = [];
    while (slice.length < 500 && n < size) {
      const next = orders.next();
      if (next.done) {
        acc.batch(slice);
        return { plan: acc.finishBatch(), more: false, orders: n };
      }
      slice.push(next.value);
      ph.done++;
      n++;
    }
    acc.batch(slice);
    ph.onProgress?.({ phase: 'accruing', done: ph.done, total: ph.total });
    if (n >= size) return { plan: acc.finishBatch(), more: true, orders: n };
  }
}

/**
 * Every batch planned and applied in one transaction: --dry-run (rolled back: the same summary, nothing
 * written), and --max-rejects (committed only if the bad rows stay within the limit; the reading stops
 * as soon as they do not; and rolled back when it wrote nothing). Returns whether the bad rows stayed
 * within the limit.
 */
async function accrueInOne(ph: Phase2, commit: boolean): Promise<boolean> {
  // parts of at most 1,000 orders: a signal is heard between parts (trial 32: 15,000-order parts of a
  // long dry run kept Ctrl-C waiting half a minute)
  ph.partOrders = Math.min(ph.partOrders, 1000);
  const { l, c } = ph;
  const acc = accruerOf(ph, true);
  const applier = applierOf(ph);
  const orders = ordersFrom(ph, 0);
  const parts = new Batches(ph, acc, orders);
  const max = ph.o.maxRejects ?? Infinity;
  const undo = commit ? bulkWrites(l.store) : () => undefined;
  let withinLimit = true;
  let wrote = false;
  try {
    l.store.openWrite();
    try {
      let inBatch = 0;
      for (;;) {
        const p = parts.next();
        if (c.rejected > max) {
          withinLimit = false;
          throw new DryRunRollback();
        }
        if (p.orders || p.last) {
          wrote ||= planWrites(p.plan);
          applier.apply(p.plan, p.last);
          c.debtRepaid += applier.takeRepaid(); // (a dry run says what the import would do)
        }
        inBatch += p.orders;
        if (p.last) {
          if (inBatch) c.batches++;
          inBatch = 0;
        }
        if (!p.more) break;
        ph.onProgress?.({ phase: 'accruing', done: ph.done, total: ph.total });
        collectGarbage();
        // between parts a signal (Ctrl-C on a long dry run) is heard: it ends the process, and the
        // transaction with it, so nothing of it is written
        await new Promise<void>((r) => setImmediate(r));
      }
      if (!commit || !wrote) throw new DryRunRollback();
    } catch (e) {
      l.store.rollbackWrite();
      throw e;
    }
    l.store.commitWrite();
    ph.run.id = applier.runId;
  } catch (e) {
    if (!(e instanceof DryRunRollback)) throw e;
  } finally {
    orders.return(undefined);
    undo();
  }
  ph.stage.addRejects(acc.rejects);
  return withinLimit;
}

/**
 * The staged lines of orders with a bad row that are not in the rejects yet (an import stopped by
 * --max-rejects before it reached them), each as a reject naming the order's first bad line.
 */
function linesOfRejectedOrders(stage: ImportStage): [number, string, null][] {
  const rejected = new Set<number>();
  for (const [line] of stage.rejects()) rejected.add(line);
  const out: [number, string, null][] = [];
  for (const [orderId, packed, badLine] of stage.groupsOfBadOrders()) {
    const lines: number[] = [];
    lineNumbers(packed, lines);
    for (const line of lines) if (!rejected.has(line)) out.push([line, `order ${orderId}: another row of this order was rejected (line ${badLine}); fix it and import the whole order again`, null]);
  }
  return out;
}

/** Locked out after some batches: say what is in (a re-run skips it and accrues the rest). */
function busyAfter(ph: Phase2, e: unknown, accrued: number): unknown {
  const { l, c } = ph;
  // (the committed batches, as the messages below name them: "batch (" or "3 batches (")
  const n = c.batches === 1 ? 'batch (' : `${c.batches} batches (`;
  const firstIn = `the first ${n}${accrued} orders accrued) ${c.batches === 1 ? 'is' : 'are'} committed`;
  // the ledger was replaced between two batches (init --force, demo, db restore): what was committed before
  // is in the copy that command kept aside, and nothing more is written (trial 40b)
  if ((e as { code?: unknown })?.code === 'LEDGER_REPLACED') {
    const replaced = e instanceof LedgerReplacedError ? e : new LedgerReplacedError(l.path);
    if (c.batches === 0 || ph.run.id === null) return replaced;
    replaced.message = `${replaced.message}; this import's first ${n}${accrued} orders accrued, run ${ph.run.id}) went to the ledger it replaced, kept aside by that command`;
    return replaced.with({ committed: { batches: c.batches, ordersAccrued: accrued, runId: ph.run.id, finished: false, replaced: true } });
  }
  // batches that wrote nothing of the import (every order in already) leave no run: nothing to tell of
  if (ph.run.id === null) return e;
  // (in the error's JSON too: a script reads what is in without parsing the words)
  const committed = { committed: { batches: c.batches, ordersAccrued: accrued, runId: ph.run.id ?? null, finished: false } };
  if (c.batches > 0 && isDiskFull(e)) {
    return new DiskFullError(
      (e as Error).message,
      `${firstIn} to the ledger ${l.path}, the rest is not`,
      'free some space and run the same import again to accrue the rest (what is in is skipped, nothing doubles)',
    ).with(committed);
  }
  if (c.batches > 0 && mapServerCode(e) instanceof ConnectionLostError) {
    return new ConnectionLostError(
      (e as Error).message,
      `${firstIn} to the ledger, the batch in progress is not (unless the connection broke as it committed)`,
      'check the server, then run the same import again to accrue the rest (what is in is skipped, nothing doubles)',
    ).with(committed);
  }
  // a statement the server cancelled (statement_timeout), or a write it refused (a read-only session): the
  // batches before it are in, which exit 2 would otherwise deny (trial 40)
  const server = c.batches > 0 ? mapServerCode(e) : e;
  if (c.batches > 0 && server instanceof PointsmallError && (server.code === 'STATEMENT_CANCELLED' || server.code === 'PERMISSION_DENIED')) {
    server.message = `${server.message.replace(/the transaction it was in was rolled back$/, 'the batch it was in was rolled back')}; ${firstIn} to the ledger, the rest is not`;
    return server.with(committed);
  }
  if (c.batches === 0 || !(mapBusy(e, l.path, l.store.busyTimeoutMs) instanceof BusyError)) return e;
  return new BusyError(l.path, l.store.busyTimeoutMs, `${firstIn}, the rest is not: run the same import again to accrue the rest (what is in is skipped, nothing doubles), or raise POINTSMALL_BUSY_TIMEOUT (ms)`).with(committed);
}

/** Orders an import takes at least before it refreshes the planner's statistics (PostgreSQL). */
const STATISTICS_AFTER = 5000;
/** Changes to purchases since the planner's last statistics that make an import of any size refresh them. */
const STATISTICS_LAG = 1000;

/**
 * The run's closing write (its finish time and counts, the audit entry), after every batch committed: locked
 * out there, the import says that its orders are in and only that record is not (never "nothing was written").
 */
function closeRun(ph: Phase2): void {
  const { l, o, c } = ph;
  try {
    l.store.write(() => finishRun(l, o, c, ph.run.id));
  } catch (e) {
    if (!(mapBusy(e, l.path, l.store.busyTimeoutMs) instanceof BusyError)) throw e;
    throw new BusyError(
      l.path,
      l.store.busyTimeoutMs,
      `every order is committed (${c.accepted} accrued${c.review ? `, ${c.review} for review` : ''}); only the run's closing record is not (import list shows run ${ph.run.id ?? '?'} unfinished, and no audit entry): nothing is left to accrue, and running the same import again skips every order (nothing doubles)`,
    ).with({ committed: { batches: c.batches, ordersAccrued: c.accepted, review: c.review, runId: ph.run.id ?? null, finished: true, runClosed: false } });
  }
  // a large import on PostgreSQL: the planner learns the tables' new sizes now, not when autovacuum comes
  if (c.accepted + c.review >= STATISTICS_AFTER) refreshStatistics(l.store);
}

/** The staged orders from the first, skipping `from` of them (those are in the ledger already). */
function ordersFrom(ph: Phase2, from: number): Generator<FedOrder> {
  const kept = ph.feed;
  ph.feed = null;
  if (kept && kept.at === from) {
    ph.done = from;
    return kept.orders;
  }
  kept?.orders.return(undefined);
  const orders = feedOrders(ph.reader.rows(), ph.format, ph.l.digits);
  for (ph.done = 0; ph.done < from; ph.done++) orders.next();
  return orders;
}

/**
 * One thread: each batch planned and applied inside its own write transaction, from the `from`-th
 * order on (the batches before it are committed). A batch that writes nothing of the import (its every
 * order rejected, or a duplicate) is rolled back: the store's housekeeping that its transaction began
 * with (lapsed holds released) is then not committed, and waits for the next write. With `untilCommit`
 * it stops after the first batch committed and returns where the next one begins (null: the file ended).
 */
async function accrueInTransactions(ph: Phase2, from = 0, untilCommit = false): Promise<number | null> {
  const { l, c } = ph;
  const acc = accruerOf(ph, true);
  if (from > 0) acc.ownRun = ph.run.id;
  const applier = applierOf(ph);
  const orders = ordersFrom(ph, from);
  const undo = bulkWrites(l.store);
  let accrued = c.accepted; // by the committed batches
  const parts = new Batches(ph, acc, orders);
  try {
    for (;;) {
      // (a file that ends right at a batch's end leaves an empty last one: nothing to write or count)
      let b: { orders: number; more: boolean; wrote: boolean };
      try {
        b = l.store.write(() => {
          let n = 0;
          let wrote = false;
          for (;;) {
            const p = parts.next();
            if (p.orders || p.last) {
              wrote ||= planWrites(p.plan);
              applier.apply(p.plan, p.last);
            }
            n += p.orders;
            if (p.last) {
              if (!wrote) throw new NothingWritten(n, p.more);
              return { orders: n, more: p.more, wrote };
            }
            collectGarbage();
          }
        });
      } catch (e) {
        if (!(e instanceof NothingWritten)) throw e;
        b = { orders: e.orders, more: e.more, wrote: false };
      }
      ph.run.id = applier.runId;
      c.debtRepaid += applier.takeRepaid(); // (committed; a batch rolled back for writing nothing repaid nothing)
      if (b.orders) c.batches++;
      accrued = ph.committedOrders = c.accepted;
      ph.stage.addRejects(acc.rejects);
      acc.rejects = [];
      ph.onProgress?.({ phase: 'accruing', done: ph.done, total: ph.total });
      if (!b.more) return null;
      if (b.wrote && c.batches === 1) await commitBarrier();
      if (untilCommit && b.wrote) {
        ph.feed = { orders, at: ph.done }; // (the next phase goes on with it)
        return ph.done;
      }
      collectGarbage();
      await tick();
    }
  } catch (e) {
    throw busyAfter(ph, e, accrued);
  } finally {
    if (ph.feed?.orders !== orders) orders.return(undefined);
    undo();
  }
}

/**
 * The ledger writer thread, when it pays: a compiled build (not the TypeScript sources of the unit
 * tests), more than one batch to overlap, and not turned off (POINTSMALL_THREADS=1; =2 forces it).
 */
function writerScript(orders: number, batchOrders: number): string | null {
  const setting = process.env.POINTSMALL_THREADS;
  const script = fileURLToPath(new URL('./importWriter.js', import.meta.url));
  if (setting === '1' || !existsSync(script)) return null;
  return setting === '2' || orders > batchOrders ? script : null;
}

/**
 * Starts the ledger writer when it may pay (writerScript) and no rules version has a daily cap: a
 * thread on SQLite; on PostgreSQL a connection of its own on this thread (QueuedWriter), when the
 * ledger has the data_version its queued transactions are checked against.
 */
function startWriter(l: Ledger, source: string, rows: number, batchOrders: number): PlanWriter | null {
  const script = writerScript(rows, batchOrders);
  if (!script || anyDailyCap(l)) return null;
  const data: WriterData = { path: l.path, operator: l.operator, now: l.nowIso, source, busyTimeoutMs: l.store.busyTimeoutMs };
  if (l.store.pg) return l.store.pg.opened?.hasDataVersion ? new QueuedWriter(data) : null;
  return new WriterThread(script, data);
}

/** Whether some rules version caps the points earned per day (the cap reads the ledger as it is written). */
function anyDailyCap(l: Ledger): boolean {
  return l.store.get(rulesVersions).all().some((v) => parseStoredRules(l, v.id, v.document).limits.dailyEarnCap !== null);
}

type WriterReply = { ok?: true; stale?: true; repaid?: number; counted?: { orders: number; mixedTimes: boolean }; error?: { message: string; code?: string; stack?: string; thrown?: unknown } };

/** An error of the writer thread, as this thread throws it (a lock keeps its SQLite code: exit 5); one thrown on this thread, itself. */
function writerError(e: NonNullable<WriterReply['error']>): unknown {
  if (e.thrown !== undefined) return e.thrown;
  const err = Object.assign(new Error(`ledger writer: ${e.message}`), { code: e.code });
  if (e.stack) err.stack = e.stack;
  return err;
}

/** What the batches planned ahead go to: the ledger writer thread, or its PostgreSQL counterpart (QueuedWriter). */
interface PlanWriter {
  /** Applies a plan in its batch's transaction (committed after the last); never rejects (the reply says what happened). */
  apply(plan: BatchPlan, last: boolean): PromiseLike<WriterReply>;
  /** Counts the orders of the released stage at `path` (countStagedOrders). */
  countStage(path: string): Promise<NonNullable<WriterReply['counted']>>;
  /**
   * Forgets what it tracked and notes the ledger's version: whatever is read after this is current. The
   * purchase rows it writes from then on name the import run `runId`.
   */
  reset(runId: number | null, generation?: string | null): Promise<void>;
  /** Ends it between batches (an open batch is rolled back) and waits until it has. */
  end(): Promise<void>;
}

/** This thread's side of the ledger writer (importWriter.ts): each request answered in turn. */
class WriterThread implements PlanWriter {
  private readonly worker: Worker;
  private readonly waiting: ((r: WriterReply) => void)[] = [];
  private failed: WriterReply | null = null;
  private ended = false;

  constructor(script: string, data: WriterData) {
    this.worker = new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB, maxOldGenerationSizeMb: WRITER_OLD_MB } });
    this.worker.on('message', (r: WriterReply) => this.waiting.shift()?.(r));
    const fail = (message: string, stack?: string) => {
      this.failed ??= { error: { message, stack } };
      for (const w of this.waiting.splice(0)) w(this.failed);
    };
    this.worker.on('error', (e) => fail(e.message, e.stack));
    this.worker.on('exit', (code) => fail(`exited (${code}) with requests unanswered`));
  }

  private send(m: WriterRequest): Promise<WriterReply> {
    if (this.failed) return Promise.resolve(this.failed);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(m);
    });
  }
  /** Applies a plan in its batch's transaction (committed after the last); never rejects (the reply says what happened). */
  apply(plan: BatchPlan, last: boolean): Promise<WriterReply> {
    return this.send({ plan, last });
  }
  /** Counts the orders of the released stage at `path` (countStagedOrders), on its own connection. */
  async countStage(path: string): Promise<NonNullable<WriterReply['counted']>> {
    const r = await this.send({ countStage: path });
    if (r.error) throw writerError(r.error);
    return r.counted!;
  }
  /** Forgets what it tracked and notes the ledger's version: whatever is read after this is current. */
  async reset(runId: number | null, generation?: string | null): Promise<void> {
    const r = await this.send({ reset: true, runId, generation });
    if (r.error) throw writerError(r.error);
  }
  /** Ends it between batches (queued plans are answered first) and waits until it has exited. */
  async end(): Promise<void> {
    if (this.failed || this.ended) return; // it has exited already
    this.ended = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const r = await this.send({ end: true });
    await exited;
    if (r.error) throw writerError(r.error);
  }
}

/**
 * PostgreSQL's ledger writer: a connection of its own, on this thread, with the server as the thread
 * that writes. A part's rows go as queued COPYs (the worker thread holding the connections hands them
 * to the server and answers at once), and so do a batch's COMMIT and the next batch's BEGIN, which
 * takes the writer lock and fails on the server when another process has written since the plans'
 * facts were read (PgDatabase.beginQueued: the check the writer thread makes at a batch's start). So
 * this thread plans part k+1 while the server writes part k, as beside a writer thread, without the
 * second thread and its own connection thread (some 70 MB of an import's memory budget, and their
 * copies of every plan). Only the first batch waits for the lock, and for the check, before it is
 * applied. A part's answer waits, when awaited, until the server has written the part (its COMMIT
 * too, for a batch's last): what the plans are answered with means what it means on the thread.
 */
class QueuedWriter implements PlanWriter {
  private readonly store: Store;
  private readonly applier: PlanApplier;
  private readonly undo: () => void;
  /** The ledger's data_version when the plans' reads began. */
  private seen = 0;
  /** Whether a batch's transaction was begun since the reset (the next ones are begun queued). */
  private begun = false;
  /** Parts applied so far: each part's writes are queued with its number as their tag. */
  private tag = 0;
  /** The first part refused (another process wrote), and the part whose writes failed with `failed`. */
  private staleFrom = Infinity;
  private failedAt = Infinity;
  private failed: WriterReply | null = null;
  /** Parts known to be written (awaited). */
  private written = 0;
  private ended = false;

  constructor(data: WriterData) {
    this.store = openStore(data.path, { busyTimeoutMs: data.busyTimeoutMs });
    const l = ledgerFromStore(this.store, { dbPath: data.path, operator: data.operator, now: new Date(data.now) });
    this.undo = bulkWrites(this.store);
    this.applier = new PlanApplier(l, data.source);
  }

  apply(plan: BatchPlan, last: boolean): PromiseLike<WriterReply> {
    const tag = ++this.tag;
    if (tag >= this.failedAt || tag >= this.staleFrom) return Promise.resolve(this.answer(tag));
    const store = this.store;
    try {
      store.pg!.tagQueued(tag);
      if (!store.writing) {
        if (this.begun) store.openWriteQueued(this.seen);
        else {
          store.openWrite(); // the first batch waits for the writer lock here, and checks for other writers at once
          this.begun = true;
          if (store.dataVersion() !== this.seen) {
            store.rollbackWrite();
            this.staleFrom = tag;
            return Promise.resolve(this.answer(tag));
          }
        }
      }
      this.applier.apply(plan, last);
      if (last) store.commitWriteQueued();
    } catch (e) {
      this.failure(e, tag);
      return Promise.resolve(this.answer(tag));
    }
    const repaid = this.applier.takeRepaid();
    // (waits only when awaited, and then for this part alone: the parts after it are the server's next work)
    return {
      then: (ok, no) =>
        new Promise<WriterReply>((resolve) => {
          const r = this.wait(tag);
          resolve(r.ok ? { ...r, repaid } : r);
        }).then(ok, no),
    };
  }

  /** Part `tag`'s answer once it is written (or refused, or failed). */
  private wait(tag: number): WriterReply {
    if (tag <= this.written || tag >= this.failedAt || tag >= this.staleFrom) return this.answer(tag);
    try {
      this.store.pg!.awaitQueued(tag);
      this.written = tag;
    } catch (e) {
      this.failure(e, tag);
    }
    return this.answer(tag);
  }

  /** A part after the failed one shares its failure; one before it was written (its writes came first, and were done). */
  private answer(tag: number): WriterReply {
    if (tag >= this.failedAt) return this.failed!;
    if (tag >= this.staleFrom) return { stale: true };
    return { ok: true };
  }

  /** Notes what failed, and from which part on: a queued write's error names its part. */
  private failure(e: unknown, tag: number): void {
    const at = e instanceof PgError && e.tag !== undefined ? e.tag : tag;
    if (e instanceof PgError && e.stale) this.staleFrom = Math.min(this.staleFrom, at);
    else if (at < this.failedAt) {
      const err = e as Error & { code?: string };
      this.failedAt = at;
      this.failed = { error: { message: err.message, code: err.code, stack: err.stack, thrown: e } };
    }
  }

  async countStage(path: string): Promise<NonNullable<WriterReply['counted']>> {
    return countStagedOrders(path);
  }

  async reset(runId: number | null): Promise<void> {
    if (this.store.writing || this.written < this.tag) this.abort();
    this.staleFrom = Infinity;
    this.applier.reset();
    this.applier.runId = runId;
    this.seen = this.store.dataVersion();
    this.begun = false;
  }

  /** Rolls back what is open or queued (the server's transaction may be aborted by a failed write). */
  private abort(): void {
    this.store.pg!.abortQueued();
    this.store.rollbackWrite();
    this.written = this.tag;
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      if (this.store.writing || this.written < this.tag || this.failed || this.staleFrom !== Infinity) this.abort();
    } finally {
      this.undo();
      this.store.close();
    }
  }
}

/**
 * Two threads: this one plans batch k+1 while the ledger writer applies batch k, each in its own
 * transaction. The plans rest on member facts kept in memory from one read of the ledger; when the
 * writer finds that another process wrote meanwhile, it refuses the batch (and those after it), and
 * the import goes on from that batch on one thread, where each batch is planned inside its own
 * transaction: however busy the other writers, it makes progress.
 *
 * The batches up to the first that writes anything are planned and committed on this thread, in its own
 * transactions: the first commit records the import's run and carries the store's housekeeping (lapsed
 * holds released, which the plans must see), so an import that writes nothing commits nothing (SPEC §7:
 * exit 2 means nothing written).
 */
async function accrueOnWriter(ph: Phase2, writer: PlanWriter): Promise<void> {
  try {
    const next = await accrueInTransactions(ph, 0, true);
    if (next === null) return;
    const refusedFrom = await planAheadOfWriter(ph, writer, next);
    if (refusedFrom !== null) await accrueInTransactions(ph, refusedFrom);
  } finally {
    ph.feed?.orders.return(undefined); // (a feed handed on that nothing went on with)
    ph.feed = null;
  }
}

/**
 * The batches on the writer thread from the `from`-th order on (the batches before it are committed),
 * until the end (null) or the first refused batch (its first order).
 */
async function planAheadOfWriter(ph: Phase2, writer: PlanWriter, from: number): Promise<number | null> {
  const { l, c } = ph;
  let orders: Generator<FedOrder> | null = null;
  let accrued = c.accepted; // by the committed batches
  const restoreCache = l.store.cacheKib(READER_CACHE_KIB);
  capYoungGeneration(SEMI_SPACE_MB);
  try {
    await writer.reset(ph.run.id, l.store.generation); // it notes the ledger's version before anything is read here
    const acc = accruerOf(ph, false);
    acc.ownRun = ph.run.id; // the orders before `from` are this run's, committed
    orders = ordersFrom(ph, from);
    const inFlight: { ack: PromiseLike<WriterReply>; last: boolean; before: Counters; doneBefore: number; accepted: number; rejects: Accruer['rejects'] }[] = [];
    const parts = new Batches(ph, acc, orders);
    let more = true;
    let refusedFrom: number | null = null;
    while (more || inFlight.length) {
      // Plan ahead while the writer has at most one part, unless the facts must be read again first
      // (then a batch has just ended: the writer commits it before they are read).
      if (more && inFlight.length < 2 && !(acc.needsDrain && inFlight.length)) {
        acc.needsDrain = false;
        const before = { ...c };
        const doneBefore = ph.done;
        const p = parts.next();
        more = p.more;
        // (an empty last part is sent only to end a batch begun with earlier parts)
        if (p.orders || (p.last && parts.parts > 1)) inFlight.push({ ack: writer.apply(p.plan, p.last), last: p.last, before, doneBefore, accepted: c.accepted, rejects: acc.rejects });
        acc.rejects = [];
        collectGarbage();
        // Between batches this thread lets others run (the PostgreSQL writer answers without it), never
        // within one: on PostgreSQL its write transaction may be open, and its COMMIT not yet queued.
        if (p.last) await tick();
        // All planned: while the writer writes what is left, this thread checkpoints what is committed
        // (closing the ledger checkpoints the rest)
        if (!more) l.store.checkpointPassive();
        continue;
      }
      const f = inFlight.shift()!;
      const r = await f.ack;
      if (r.error) throw writerError(r.error);
      if (r.stale) {
        // Another process wrote: this batch (refused at its first part) and those after it were
        // refused, their counts undone.
        for (const g of inFlight) await g.ack;
        // (the debt the committed batches repaid stays: their answers came after some of these counts were taken)
        Object.assign(c, { ...f.before, batches: c.batches, debtRepaid: c.debtRepaid });
        refusedFrom = f.doneBefore;
        break;
      }
      c.debtRepaid += r.repaid ?? 0;
      if (f.last) {
        c.batches++;
        accrued = ph.committedOrders = f.accepted;
      }
      ph.stage.addRejects(f.rejects);
      ph.onProgress?.({ phase: 'accruing', done: ph.done, total: ph.total });
    }
    await writer.end();
    return refusedFrom;
  } catch (e) {
    await writer.end().catch(() => undefined); // the error that ended the import is the one to tell
    throw busyAfter(ph, e, accrued);
  } finally {
    orders?.return(undefined);
    restoreCache();
  }
}


/**
 * Whether every row of the file was rejected (exit 2, not 4): some rejected and none accepted, in review,
 * a duplicate or left out (a guest under --skip-guests, a --skip match).
 */
function wholeFileRejected(c: Counters): boolean {
  return c.rejected > 0 && c.accepted === 0 && c.review === 0 && c.duplicates === 0 && c.guestsSkipped === 0 && c.skipped === 0;
}

/** Ends a run in the transaction that audits it: its counts, or gone when it wrote no purchase. */
function finishRun(l: Ledger, o: Options, c: Counters, runId: number | null): void {
  const runs = l.store.get(importRuns);
  // (a purchase row is written for each order accepted or sent to review, and for nothing else)
  const kept = runId !== null && (c.accepted > 0 || c.review > 0);
  if (kept) runs.finish(runId, resolveNow().toISOString(), c.rows, c.rejected); // (when it ended: the command began at l.nowIso)
  else if (runId !== null) runs.drop(runId);
  recordAudit(l, 'import.purchases', resolve(o.file), { ...auditOf(o, c), runId: kept ? runId : null });
}

/** SHA-256 of the file's bytes, read beside the import's first phase. */
/** The file's device, inode, size and modification time, as a string to compare ('' when it is gone). */
function fileIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return '';
  }
}

/**
 * Test hook: POINTSMALL_IMPORT_BARRIER=DIR makes the import write DIR/read once the file is read (staged and
 * hashed), and wait for DIR/go, so a test can change the file at exactly that point (no sleeps).
 */
async function readBarrier(): Promise<void> {
  const barrier = process.env.POINTSMALL_IMPORT_BARRIER;
  if (!barrier) return;
  writeFileSync(join(barrier, 'read'), '');
  while (!existsSync(join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Test hook: POINTSMALL_IMPORT_COMMIT_BARRIER=DIR makes the import write DIR/committed once its first batch
 * is committed (more to come), and wait for DIR/go, so a test can signal it at exactly that point.
 */
async function commitBarrier(): Promise<void> {
  const barrier = process.env.POINTSMALL_IMPORT_COMMIT_BARRIER;
  if (!barrier) return;
  writeFileSync(join(barrier, 'committed'), '');
  while (!existsSync(join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 10));
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What the audit log keeps of an import. */
function auditOf(o: Options, c: Counters): Record<string, unknown> {
  return { source: o.source, ...c, firstAt: c.firstAt === Infinity ? null : new Date(c.firstAt).toISOString(), lastAt: c.lastAt === -Infinity ? null : new Date(c.lastAt).toISOString() };
}

export async function importPurchases(ctx: Ctx, input: ImportInput): Promise<ImportSummary> {
  const started = Date.now();
  const o = resolveOptions(input);
  await refuseUtf8Declared(o.file, o.encoding, o.encodingFrom);
  const c: Counters = { rows: 0, orders: 0, accepted: 0, duplicates: 0, rejected: 0, review: 0, capped: 0, pointsAccrued: 0, pointsLapsed: 0, pointsReturned: 0, debtRepaid: 0, returns: 0, guestsSkipped: 0, skipped: 0, membersCreated: 0, rejectedOrders: 0, batches: 0, firstAt: Infinity, lastAt: -Infinity };
  // The rejects file's path is checked before anything is staged or accrued: a bad one is an exit 2
  // with nothing written, never an error after the first batches committed.
  const rejectsOut = !o.dryRun || o.rejects ? rejectsTarget(ctx, o.file, o.rejects) : null; // (a dry run writes one only when asked)
  // The file's SHA-256 for the run's record (and the check that the same file was not imported under
  // another source), read beside the first phase (a stream of its own).
  const fileHash = sha256Of(o.file);
  fileHash.catch(() => undefined); // (a file that cannot be read fails the import itself)
  const guard = removeOnSignal(input.onInterrupt, o.dryRun ? 'dry run' : o.maxRejects !== undefined ? 'one transaction' : null); // (before the folder exists: no instant where a signal leaves it behind)
  const dir = (guard.dir = newScratchDir());
  const stage = new ImportStage(join(dir, 'stage.db'));
  try {
    return await withLedger(ctx, async (l) => {
      // An import key is (source, order id), compared exactly: a source typed in another case or width
      // (DEFAULT, ｄｅｆａｕｌｔ) would take the same orders in again (exit 2 before anything is read or written)
      const folded = (s: string) => s.normalize('NFKC').toLowerCase();
      const spelled = l.store.get(importRuns).sources().find((s) => s !== o.source && folded(s) === folded(o.source));
      if (spelled !== undefined) {
        throw new UsageError(
          `source ${JSON.stringify(o.source)} differs from the earlier imports' source ${JSON.stringify(spelled)} only in case or character width: sources are compared exactly, so its orders would accrue again`,
          `import into the source as it is spelled: --source ${shellWord(spelled)} (pointsmall import list shows every source); nothing was imported`,
          'SOURCE_CASE',
        );
      }
      const before = fileIdentity(o.file);
      const plan = await stageFile(o, l, stage, c, input.onProgress).catch((e: unknown) => {
        // the scratch copy's disk full (TMPDIR), not the ledger's: say which, and where to find room
        if (isDiskFull(e) && String((e as { code?: unknown }).code).startsWith('SQLITE_')) {
          throw new DiskFullError(
            `${(e as Error).message}, in ${scratchParent()}`,
            "nothing was written to the ledger: the import's scratch copy of the file's rows could not grow",
            'free some space there, or set POINTSMALL_TMPDIR (or TMPDIR) to a folder with room for a copy of the file',
          );
        }
        // bytes the BOM's encoding cannot read, in a file whose --encoding said otherwise: the BOM won, say so
        if (o.bomOverrode && e instanceof UsageError && /: bytes that are not /.test(e.message)) {
          throw new UsageError(e.message, `the file begins with a ${o.encoding === 'utf8' ? 'UTF-8' : 'UTF-16'} byte-order mark, which decides its encoding over --encoding ${o.bomOverrode}: its text is not what the mark says; remove the mark (tail -c +${o.encoding === 'utf8' ? 4 : 3} FILE > FIXED.csv) and import FIXED.csv with --encoding ${o.bomOverrode}`);
        }
        throw e;
      });
      // The same bytes imported before under another source (cron's --source till, then a hand run without
      // it): an order's key is (source, order id), so its orders count again. Said, never silent (trial 30).
      const same = l.store.get(importRuns).sameFileElsewhere(await fileHash, o.source);
      const sameFileAs = same ? { runId: same.id, source: same.source, at: same.started_at } : null;
      await readBarrier();
      // A file written while it was read (a till exporting it again as cron imports it): what was read may
      // be cut short mid-row, or mix two exports, and the hash is of neither. Refused before anything is written.
      const after = fileIdentity(o.file);
      if (after !== before) {
        throw new UsageError(
          `${o.file} changed while it was read (${before.split(':')[2]} bytes when the import began, ${after === '' ? 'gone' : `${after.split(':')[2]} bytes`} now): nothing was imported`,
          'import it again once whatever writes it has finished (export to a new name, then rename it into place)',
          'FILE_CHANGED',
        );
      }
      let tooMany = false;
      // The run is recorded in the transaction of the first batch that writes anything, not before: an
      // import that commits nothing (every row rejected: exit 2) leaves no trace in the ledger (SPEC §7),
      // and neither does the housekeeping that the store does in a command's first write (lapsed holds
      // released). Each purchase row names the run.
      const runs = l.store.get(importRuns);
      const sha = !o.dryRun && !(o.maxRejects !== undefined && c.rejected > o.maxRejects) ? await fileHash : null;
      const run: Phase2['run'] = { id: null, create: sha === null ? null : () => runs.create(o.source, resolve(o.file), sha, l.nowIso, l.operator) };
      const batchOrders = input.batchOrders ?? BATCH;
      // A writer thread starts up when the file may hold more than one batch (there are at least as
      // many rows as orders); it is ended unused if it does not.
      const writer = o.dryRun || o.maxRejects !== undefined ? null : startWriter(l, o.source, c.rows, batchOrders);
      let reader: StagedOrders | null = null;
      let mixed: { count: number; first: string | null } = { count: 0, first: null };
      try {
        let shape: StageShape;
        if (writer) {
          // The writer counts the staged orders while this thread sorts them, assuming that each
          // order's groups share one time (they do unless an order was rung up across a minute);
          // when they do not, the sort starts over on the orders' own times.
          const hasBad = stage.release();
          const counting = writer.countStage(stage.path);
          reader = new StagedOrders(stage.path, { hasBad, mixedTimes: false });
          reader.prime();
          shape = { ...(await counting), hasBad };
          if (shape.mixedTimes) {
            reader.close();
            stage.orderTimes();
            reader = new StagedOrders(stage.path, shape);
          }
        } else {
          shape = stage.finishLoad();
          reader = new StagedOrders(stage.path, shape);
        }
        const total = shape.orders;
        if (shape.mixedTimes) mixed = stage.mixedTimeOrders();
        // orders all of whose rows were rejected as they were read: counted here, the rest as they are fed
        if (shape.hasBad) {
          const onlyBad = stage.ordersOnlyBad();
          c.orders += onlyBad;
          c.rejectedOrders += onlyBad;
        }
        // a guest's row of an order with a bad row goes with the order into the rejects file: fixed, it imports whole
        if (o.skipGuests && shape.hasBad) {
          const taken = stage.guestsOfBadOrders();
          stage.addRejects(taken.map(([orderId, line]) => [line, `member_id is empty in order ${orderId}, whose other rows are rejected; an order belongs to one member: fill the member id in on every line of the order`, null]));
          c.rejected += taken.length;
          c.guestsSkipped -= taken.length;
        }
        // PostgreSQL: earlier imports' purchases the planner has not counted yet (each below STATISTICS_AFTER,
        // or another till's) are counted before this one looks up its keys (trial 40: six imports of 4,900
        // orders, each slower than the last); the server reports a session's changes when it is idle, so
        // this is where the last import's are seen
        if (total > 0 && statisticsLag(l.store, STATISTICS_LAG)) refreshStatistics(l.store);
        const phase2: Phase2 = { l, o, c, stage, reader, format: plan.format, amountColumn: plan.index.amount >= 0 ? plan.header[plan.index.amount] : 'amount', guestLinesOf: o.skipGuests ? stage.guestLines() : null, itemColumn: plan.format !== 'order' ? null : plan.index.sku >= 0 ? plan.header[plan.index.sku] : plan.index.quantity >= 0 ? plan.header[plan.index.quantity] : null, total, batchOrders, partOrders: input.partOrders ?? PART, done: 0, lastBatch: 0, committedOrders: 0, onProgress: input.onProgress, run };
        guard.committed = () => (run.id !== null && c.batches > 0 ? { batches: c.batches, ordersAccrued: phase2.committedOrders, runId: run.id, finished: false, atLeast: true } : null);
        if (o.maxRejects !== undefined && c.rejected > o.maxRejects) tooMany = true; // (phase 1's bad rows)
        else if (o.dryRun) tooMany = !(await accrueInOne(phase2, false)); // (past --max-rejects while accruing, as the real run would be)
        else if (o.maxRejects !== undefined) {
          tooMany = !(await accrueInOne(phase2, true));
          if (!tooMany && !wholeFileRejected(c)) closeRun(phase2);
        } else {
          // Committed with synchronous = FULL after the batches: its fsync of the WAL makes every batch
          // before it durable too, so what the summary reports survives a power cut.
          if (writer && writerScript(total, batchOrders)) await accrueOnWriter(phase2, writer);
          else {
            await writer?.end();
            await accrueInTransactions(phase2);
          }
          if (!wholeFileRejected(c)) closeRun(phase2);
        }
        // (a run stopped by an error after some batches stays, unfinished; before the first, none was recorded)
      } finally {
        await writer?.end().catch(() => undefined); // (ended already, unless something failed before it was used)
        reader?.close();
      }
      let rejectsFile: string | null = null;
      if (c.rejected > 0 && rejectsOut) {
        rejectsFile = rejectsOut.path;
        // stopped at the limit, orders with a bad row were not all reached: their other lines join them, so
        // the file, fixed, imports each order whole (never one line of three)
        if (tooMany) stage.addRejects(linesOfRejectedOrders(stage));
        await writeRejectsFile(o, plan, stage, rejectsOut, before, fileHash, input.onProgress).catch((e: unknown) => {
          throw rejectsNotWritten(e, o, c, run.id, rejectsOut.path);
        });
      }
      const see = rejectsFile ? `see ${rejectsFile} for every bad row with its line and reason` : 'pass --rejects FILE to see every bad row with its line and reason';
      if (tooMany) {
        // The rows are all read and checked one by one before accrual, but the orders are checked against
        // the ledger (unknown members, conflicts) only until the limit is passed: the count is a lower bound.
        const found = rejectsFile ? `${rejectsFile} holds the ${c.rejected} found and the other lines of their orders, each with its line and reason` : `pass --rejects FILE to see the ${c.rejected} found`;
        throw (new UsageError(
          `${o.file}: at least ${c.rejected} rejected ${c.rejected === 1 ? 'row' : 'rows'}, bad or of an order with a bad row (counted until there were more than --max-rejects ${o.maxRejects}, then checking stopped): nothing was imported`,
          `${found}; the rest of the file may hold more: run the same import with --dry-run --rejects FILE instead of --max-rejects to list every bad row (nothing is written), or raise --max-rejects`,
        )).with({ rejected: c.rejected, rejectsFile: rejectsFile ?? null });
      }
      if (wholeFileRejected(c)) {
        const it = stage.rejects();
        const first = it.next();
        it.return?.(undefined);
        const why = first.done ? '' : ` (the first, line ${first.value[0]}: ${first.value[1]})`;
        throw new UsageError(`${o.file}: every row was rejected, ${c.rejected} of them${why}: nothing was imported`, see).with({ rejected: c.rejected, rejectsFile: rejectsFile ?? null });
      }
      return {
        file: o.file,
        source: o.source,
        runId: run.id !== null && (c.accepted > 0 || c.review > 0) && !tooMany ? run.id : null,
        format: plan.format,
        rows: c.rows,
        orders: c.orders,
        accepted: c.accepted,
        duplicates: c.duplicates,
        rejected: c.rejected,
        review: c.review,
        capped: c.capped,
        pointsAccrued: c.pointsAccrued,
        pointsLapsed: c.pointsLapsed,
        pointsReturned: c.pointsReturned,
        debtRepaid: c.debtRepaid,
        dryRun: o.dryRun,
        returns: c.returns,
        guestsSkipped: c.guestsSkipped,
        skipped: c.skipped,
        membersCreated: c.membersCreated,
        rejectedOrders: c.rejectedOrders,
        firstPurchasedAt: c.firstAt === Infinity ? null : new Date(c.firstAt).toISOString(),
        lastPurchasedAt: c.lastAt === -Infinity ? null : new Date(c.lastAt).toISOString(),
        timezone: l.zone,
        rejectsFile,
        staleRejectsFile: c.rejected === 0 ? staleRejectsFile(rejectsOut) : null,
        sameFileAs: c.accepted > 0 ? sameFileAs : null, // (all duplicates: nothing counted again)
        mixedTimeOrders: mixed.count,
        firstMixedTimeOrder: mixed.first,
        firstRejects: c.rejected ? firstRejects(stage) : [],
        batches: c.batches,
        elapsedMs: Date.now() - started,
      };
    });
  } finally {
    guard.end();
    stage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What an import had committed when it stopped (in its error's JSON: a script reads it without parsing the words). */
interface Committed {
  batches: number;
  ordersAccrued: number;
  runId: number;
  finished: false;
  /** The batches after those may have committed too, as the signal came (import list says). */
  atLeast: true;
}

/**
 * A signal's error after the batches committed so far: those this thread has heard committed, so "at least"
 * (the writer thread may have committed one more as the signal came).
 */
function interruptedAfter(sig: NodeJS.Signals, committed: Committed | null): PointsmallError {
  const hint = 'run the same import again to finish it: the orders committed already count as duplicates, nothing accrues twice';
  if (!committed) {
    return new PointsmallError(`import interrupted by ${sig}: the batches committed before it stay, the rest was not written (pointsmall import list shows the run as unfinished, if any batch was committed)`, { code: 'INTERRUPTED', exitCode: EXIT.internal, hint });
  }
  const n = committed.batches === 1 ? 'first batch' : `first ${committed.batches} batches`;
  return new PointsmallError(
    `import interrupted by ${sig}: run ${committed.runId} is unfinished; its ${n} (${committed.ordersAccrued} ${committed.ordersAccrued === 1 ? 'order' : 'orders'} accrued) ${committed.batches === 1 ? 'is' : 'are'} committed, and the batches being written as the signal came may be too: pointsmall import list shows run ${committed.runId}'s accepted orders; the rest was not written`,
    { code: 'INTERRUPTED', exitCode: EXIT.internal, hint },
  ).with({ committed });
}

/**
 * The scratch folder holds member data: a SIGTERM or SIGINT (a cron's timeout, Ctrl-C) removes it before the
 * process ends by that signal, as it would have (exit 143 or 130; the ledger keeps the committed batches only).
 * `tell` hears what stands first (the CLI prints it as the command's error).
 */
function removeOnSignal(tell?: (err: PointsmallError) => void, whole: 'dry run' | 'one transaction' | null = null): { dir: string | null; committed: (() => Committed | null) | null; end(): void } {
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  const guard = {
    dir: null as string | null,
    committed: null as (() => Committed | null) | null,
    end: () => {
      for (const s of signals) process.removeListener(s, handler);
    },
  };
  const handler = (sig: NodeJS.Signals) => {
    guard.end();
    if (guard.dir) rmSync(guard.dir, { recursive: true, force: true });
    // what stands: a batch commits whole or not at all, so the ledger holds whole batches
    const err = whole === 'dry run'
      ? new PointsmallError(`import --dry-run interrupted by ${sig}: a dry run writes nothing, and nothing was written`, { code: 'INTERRUPTED', exitCode: EXIT.internal })
      : whole
        ? new PointsmallError(`import interrupted by ${sig}: with --max-rejects the import is one transaction, and nothing of it was written`, { code: 'INTERRUPTED', exitCode: EXIT.internal, hint: 'run the same import again' })
        : interruptedAfter(sig, guard.committed?.() ?? null);
    try {
      tell?.(err);
    } catch {
      // stderr closed: the signal still ends the process
    }
    process.kill(process.pid, sig);
  };
  for (const s of signals) process.once(s, handler);
  return guard;
}

// ---- the rejects file ---------------------------------------------------------------------------

/** The first rejected rows in line order (read from the stage's rejects, after the import). */
function firstRejects(stage: ImportStage): RejectSample[] {
  const out: RejectSample[] = [];
  const it = stage.rejects();
  for (let r = it.next(); !r.done && out.length < FIRST_REJECTS; r = it.next()) out.push({ line: r.value[0], reason: r.value[1] });
  it.return?.(undefined);
  return out;
}

/**
 * The rejects file could not be written (a full disk, its folder gone, the input changed before its rows
 * were read again): what the import committed stands, so the error says it, and how to get the rejected rows.
 */
function rejectsNotWritten(e: unknown, o: Options, c: Counters, runId: number | null, path: string): unknown {
  const committed = o.dryRun ? {} : { committed: { ordersAccrued: c.accepted, review: c.review, runId, finished: true } };
  if (e instanceof PointsmallError && e.code === 'FILE_CHANGED_BEFORE_REJECTS') return e.with({ rejected: c.rejected, rejectsFile: null, ...committed });
  const why = isDiskFull(e) ? 'no space left on the disk' : ((e as Error)?.message ?? String(e));
  const done = o.dryRun ? 'nothing was written (a dry run)' : `the import itself is done and committed (${c.accepted} ${c.accepted === 1 ? 'order' : 'orders'} accrued${c.review ? `, ${c.review} for review` : ''}${runId !== null ? `, run ${runId}` : ''})`;
  return new PointsmallError(`${o.file}: ${c.rejected} rejected ${c.rejected === 1 ? 'row' : 'rows'}, but the rejects file ${path} could not be written (${why}): ${done}`, {
    code: isDiskFull(e) ? 'DISK_FULL' : 'REJECTS_NOT_WRITTEN',
    exitCode: EXIT.usage,
    hint: `run the same import again with --rejects FILE where it can be written${o.dryRun ? '' : ': what is in is skipped (nothing doubles) and the rejected rows are written'}`,
  }).with({ rejected: c.rejected, rejectsFile: null, ...committed });
}

/** Test hook: POINTSMALL_IMPORT_REJECTS_BARRIER=DIR: before the rejected rows are read again, write DIR/rejects and wait for DIR/go. */
async function rejectsBarrier(): Promise<void> {
  const barrier = process.env.POINTSMALL_IMPORT_REJECTS_BARRIER;
  if (!barrier) return;
  writeFileSync(join(barrier, 'rejects'), '');
  while (!existsSync(join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Writes every rejected row with its line number and reason, in line order, with the file's own
 * columns. Rows rejected while accruing (whole orders) are read back from the file by line number,
 * from the file as it was imported (`identity`, fileIdentity's): a file replaced since is not read.
 */
async function writeRejectsFile(o: Options, plan: ColumnPlan, stage: ImportStage, target: OutputTarget, identity: string, hash: Promise<string>, onProgress?: (p: ImportProgress) => void): Promise<void> {
  const { stringify } = await import('csv-stringify/sync');
  const f = new AtomicFile(target);
  // The input's own fields, every one of them (a row longer than the header keeps its extra fields):
  // a rejects file read again loses its own _line and _reason, and its cells their quotes.
  const fromRejects = isRejectsHeader(plan.header);
  const own = fromRejects ? (fields: readonly string[]) => fields.slice(2).map(unquoteRejectsCell) : (fields: readonly string[]) => fields;
  let buffered: string[][] = [];
  const emit = (line: number, reason: string, fields: readonly string[]) => {
    buffered.push(rejectsRow(line, reason, own(fields)));
    if (buffered.length >= 5000) flush();
  };
  const flush = () => {
    if (buffered.length) f.write(stringify(buffered, { delimiter: o.delimiter }));
    buffered = [];
  };
  const it = stage.rejects();
  // The file as it was imported: its identity before the re-read, then its bytes, hashed as the re-read
  // reads them and on to the end (a file written over in place with as many bytes and its old time keeps
  // its identity). The rejects file is committed only after both.
  const changed = () =>
    new PointsmallError(
      `${o.file} changed after the import read it, before its rejected rows were read again for the rejects file ${target.path}: the import itself is done and committed (nothing of the new file is in), but the rejects file is not written`,
      { code: 'FILE_CHANGED_BEFORE_REJECTS', exitCode: EXIT.usage, hint: 'put the file as it was imported back and run the same import again (what is in is skipped, nothing doubles) to get its rejects file; export to a new name, then rename it into place, only once an import has finished' },
    );
  try {
    f.write(stringify([rejectsHeader(plan.header)], { delimiter: o.delimiter }));
    let cur = it.next();
    const total = statSync(o.file).size;
    if (stage.needsReread()) {
      await rejectsBarrier();
      if (fileIdentity(o.file) !== identity) throw changed();
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
      const bytes = createHash('sha256');
      let read = 0;
      for await (const _ of readChunks(o, sink, (b, chunk) => {
        bytes.update(chunk);
        read = b;
        onProgress?.({ phase: 'rejects', done: b, total });
      })) {
        void _;
        if (cur.done) break;
      }
      // (the rest of the file is hashed, not parsed)
      if (fileIdentity(o.file) !== identity) throw changed();
      for await (const chunk of createReadStream(o.file, { start: read, highWaterMark: 1 << 20 })) bytes.update(chunk as Buffer);
      if (fileIdentity(o.file) !== identity || bytes.digest('hex') !== (await hash)) throw changed();
    }
    while (!cur.done) {
      emit(cur.value[0], cur.value[1], cur.value[2] !== null ? (JSON.parse(cur.value[2]) as string[]) : []);
      cur = it.next();
    }
    flush();
  } catch (e) {
    f.abort();
    throw e;
  } finally {
    it.return?.(undefined); // (an open read of the stage would keep its connection busy: closing it would fail)
  }
  f.commit();
}

