// Activities (issue 18): `points award` credits a task's points, `import activities` does so for a file,
// and a frozen member's award waits in review. Each award is keyed by (activity, ref): a repeat returns the
// first result, the same ref for another member is refused. One transaction per write, audited.
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { limitReached, limitWindows } from '../domain/activities.js';
import { dateFormatHint, makeDateParser } from '../domain/purchases.js';
import { invisibleCharProblem, trimAscii } from '../domain/text.js';
import { expiresOn } from '../domain/rules.js';
import { dateRangeProblem, shownInstant, unreadTimestampReason } from '../domain/time.js';
import { activityAwards, type AwardRow, awardEntryRef } from '../store/activities.js';
import { members } from '../store/members.js';
import { type CsvFormat, readCsvFile, type Reject, rejectsTarget, staleRejectsFile, writeRejects } from './csvfile.js';
import { type Ctx, type Ledger, rulesAt, withLedger, memberNotFound } from './ledger.js';
import { availableOf, creditPoints, recordAudit } from './points.js';
import { FIRST_REJECTS, type RejectSample } from '../domain/rejects.js';

export interface AwardResult {
  awardId: number;
  activity: string;
  ref: string;
  memberId: string;
  occurredAt: string;
  /** awarded: credited now; review: the member is frozen, nothing credited until review approve. */
  status: 'awarded' | 'review';
  points: number;
  entryId: number | null;
  expiresOn: string | null;
  rulesVersion: number;
  balance: number;
  available: number;
  /** true when this is a repeat of an award already made: the first result, nothing moved again. */
  replayed: boolean;
}

export interface AwardInput {
  memberId: string;
  activity: string;
  ref: string;
  /** Business time (UTC ms); default now. */
  atMs?: number;
}

const MAX_REF = 200;

/** Checks an award's text fields; a message per problem (empty: fine). */
function awardProblems(a: { memberId: string; activity: string; ref: string }): string[] {
  const out: string[] = [];
  if (!a.memberId.trim()) out.push('member is empty');
  if (!a.activity.trim()) out.push('activity is empty');
  if (!a.ref.trim()) out.push('ref is empty');
  else if (a.ref.length > MAX_REF) out.push(`ref is longer than ${MAX_REF} characters`);
  else {
    // a ref names one task: one that prints like another (a no-break space at its end) would award it twice (trial 39)
    const odd = invisibleCharProblem('ref', a.ref);
    if (odd) out.push(odd);
  }
  return out;
}

/** Reads --at: an ISO date or date-time (wall time in the ledger's zone without an offset); never after now. */
export function parseAwardTime(l: Ledger, text: string, flag = '--at'): number {
  const parse = makeDateParser(l.zone);
  const ms = parse(text.trim());
  if (ms === null || ms !== ms) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} ${parse.reason() ?? 'is not an ISO date or date-time like 2026-11-23 09:30'}`);
  }
  if (ms > l.now.getTime()) throw new UsageError(`${flag} ${text} is in the future`, 'an award is dated when the task was done, at the latest now');
  return ms;
}

/**
 * One award inside a write transaction. A repeat of the key by the same member returns the first result
 * (replayed); by another member it is refused. Throws UsageError (unknown member or activity) or
 * RefusedError (a limit, the key taken, the points ceiling): the caller's transaction rolls back.
 */
export function awardOne(l: Ledger, a: AwardInput & { runId?: number | null }): AwardResult {
  const problems = awardProblems(a);
  if (problems.length) throw new UsageError(problems.join('; '));
  const repo = l.store.get(activityAwards);
  const prior = repo.byKey(a.activity, a.ref);
  if (prior) {
    if (prior.member_id !== a.memberId) {
      throw new RefusedError(
        'REF_TAKEN',
        `${a.activity} ${a.ref} was already awarded to member ${prior.member_id}, not ${a.memberId}`,
        'an activity ref is awarded once; use the ref of this member\'s own task',
      );
    }
    return { ...(JSON.parse(prior.result) as AwardResult), replayed: true };
  }
  const m = l.store.get(members).get(a.memberId);
  if (!m) throw memberNotFound(l, a.memberId);
  const atMs = a.atMs ?? l.now.getTime();
  const atIso = new Date(atMs).toISOString();
  const { id: version, rules } = rulesAt(l, atIso);
  const act = rules.activities.find((x) => x.name === a.activity);
  if (!act) {
    const names = rules.activities.map((x) => x.name);
    throw new UsageError(
      `activity ${JSON.stringify(a.activity)} is not in the rules in force at ${shownInstant(atMs, l.zone)} (version ${version})`,
      names.length ? `activities then: ${names.join(', ')}` : 'those rules define no activities; add an "activities" section with pointsmall rules apply',
      'UNKNOWN_ACTIVITY',
    );
  }
  const windows = limitWindows(act, atMs, l.zone);
  const hit = limitReached(windows, windows.map((w) => repo.count(a.memberId, act.name, w.fromIso, w.toIso)));
  if (hit) {
    throw new RefusedError(
      'ACTIVITY_LIMIT',
      `member ${a.memberId} reached the limit ${hit.limit} of activity ${act.name}: ${hit.label}`,
      `the rules in force at ${shownInstant(atMs, l.zone)} (version ${version}) allow ${hit.label}`,
    );
  }
  const frozen = m.status === 'frozen';
  let entryId: number | null = null;
  let exp: string | null = null;
  if (!frozen) {
    exp = expiresOn(rules.expiry, atMs, l.zone);
    entryId = creditPoints(l, { memberId: a.memberId, points: act.points, at: atIso, kind: 'award', from: 'issued', expiresOn: exp, ref: awardEntryRef(act.name, a.ref), memo: `activity ${act.name}` }).entryId;
  }
  const awardId = repo.insert({
    activity: act.name,
    ref: a.ref,
    member_id: a.memberId,
    occurred_at: atIso,
    status: frozen ? 'review' : 'awarded',
    points: act.points,
    rules_version: version,
    entry_id: entryId,
    run_id: a.runId ?? null,
    created_at: l.nowIso,
    result: '{}',
  });
  const after = l.store.get(members).get(a.memberId)!;
  const result: AwardResult = {
    awardId,
    activity: act.name,
    ref: a.ref,
    memberId: a.memberId,
    occurredAt: atIso,
    status: frozen ? 'review' : 'awarded',
    points: act.points,
    entryId,
    expiresOn: exp,
    rulesVersion: version,
    balance: after.balance,
    available: availableOf(l, after),
    replayed: false,
  };
  repo.setResult(awardId, JSON.stringify(result));
  return result;
}

export async function awardActivity(ctx: Ctx, input: { memberId: string; activity: string; ref: string; at?: string }): Promise<AwardResult> {
  return withLedger(ctx, (l) => {
    const atMs = input.at === undefined ? undefined : parseAwardTime(l, input.at);
    return l.store.write(() => {
      const r = awardOne(l, { ...input, atMs });
      if (!r.replayed) recordAudit(l, r.status === 'review' ? 'activity.review' : 'activity.award', `${r.activity}:${r.ref}`, { member: r.memberId, points: r.points, at: r.occurredAt, entryId: r.entryId });
      return r;
    });
  });
}

// ---- review of a frozen member's awards -------------------------------------------------------------

/** An award in review as `review list` shows it beside imported orders: id `A<n>`, the ref as its order. */
export interface AwardReviewItem {
  id: string;
  source: 'activity';
  orderId: string;
  memberId: string;
  purchasedAt: string;
  kind: 'activity';
  activity: string;
  amount: null;
  lines: 0;
  reason: 'member-frozen';
  status: 'pending' | 'approved' | 'rejected';
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  points: number | null;
}

export const awardReviewId = (id: number): string => `A${id}`;

export function awardReviewView(r: AwardRow): AwardReviewItem {
  return {
    id: awardReviewId(r.id),
    source: 'activity',
    orderId: r.ref,
    memberId: r.member_id,
    purchasedAt: r.occurred_at,
    kind: 'activity',
    activity: r.activity,
    amount: null,
    lines: 0,
    reason: 'member-frozen',
    status: r.status === 'review' ? 'pending' : r.status === 'awarded' ? 'approved' : 'rejected',
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    note: r.note,
    points: r.status === 'awarded' ? r.points : r.status === 'rejected' ? 0 : null,
  };
}

/** Awards that went through review (or wait in it), for review list: `pending` = waiting. */
export function reviewedAwards(l: Ledger, f: { status?: 'pending' | 'approved' | 'rejected' | 'all'; member?: string; limit?: number }): AwardReviewItem[] {
  const rows = l.store.get(activityAwards).list({ status: f.status === 'pending' || f.status === undefined ? 'review' : 'all', memberId: f.member, limit: undefined });
  const wanted = f.status ?? 'pending';
  return rows
    .filter((r) => r.status === 'review' || r.decided_at !== null)
    .map(awardReviewView)
    .filter((x) => wanted === 'all' || x.status === wanted)
    .slice(0, f.limit ?? undefined);
}

/** The award a review command names: `A<n>`, or a ref with exactly one award waiting. Undefined: not an award. */
export function findAwardInReview(l: Ledger, ref: string): AwardRow | undefined {
  const repo = l.store.get(activityAwards);
  const m = /^A(\d{1,15})$/.exec(ref);
  if (m) return repo.byId(Number(m[1]));
  const byRef = repo.byRef(ref);
  const pending = byRef.filter((r) => r.status === 'review');
  if (pending.length > 1) throw new UsageError(`ref ${ref} waits in review for ${pending.length} activities`, `name the award: ${pending.map((r) => awardReviewId(r.id)).join(', ')}`);
  return pending[0] ?? (byRef.length === 1 && byRef[0].decided_at !== null ? byRef[0] : undefined);
}

export interface AwardDecision extends AwardReviewItem {
  capped: 0;
  balance: number;
}

/** Approves (credits with the rules and expiry of its time) or rejects an award waiting in review; call inside a write. */
export function decideAward(l: Ledger, r: AwardRow, approve: boolean, note?: string): AwardDecision {
  if (r.status !== 'review') {
    throw new RefusedError('ALREADY_DECIDED', `award ${awardReviewId(r.id)} (${r.activity} ${r.ref}) was already ${r.status === 'awarded' ? 'approved' : 'rejected'}${r.decided_by ? ` by ${r.decided_by} at ${shownInstant(r.decided_at, l.zone)}` : ''}`);
  }
  const repo = l.store.get(activityAwards);
  let entryId: number | null = null;
  if (approve) {
    const m = l.store.get(members).get(r.member_id);
    if (!m) throw new NotFoundError('member', r.member_id);
    if (m.status === 'frozen') {
      throw new RefusedError('MEMBER_FROZEN', `member ${r.member_id} is frozen; award ${awardReviewId(r.id)} stays in review`, `unfreeze first (pointsmall member unfreeze ${r.member_id}), or reject it with pointsmall review reject ${awardReviewId(r.id)}`);
    }
    const atMs = Date.parse(r.occurred_at);
    const { rules } = rulesAt(l, r.occurred_at);
    entryId = creditPoints(l, { memberId: r.member_id, points: r.points, at: r.occurred_at, kind: 'award', from: 'issued', expiresOn: expiresOn(rules.expiry, atMs, l.zone), ref: awardEntryRef(r.activity, r.ref), memo: `activity ${r.activity}` }).entryId;
  }
  if (!repo.decide(r.id, approve ? 'awarded' : 'rejected', entryId, l.nowIso, l.operator, note ?? null)) throw new RefusedError('ALREADY_DECIDED', `award ${awardReviewId(r.id)} was decided meanwhile`);
  recordAudit(l, approve ? 'review.approve' : 'review.reject', `activity:${r.activity}:${r.ref}`, { id: awardReviewId(r.id), points: approve ? r.points : 0, entryId, note });
  const m = l.store.get(members).get(r.member_id);
  return { ...awardReviewView(repo.byId(r.id)!), capped: 0, balance: m?.balance ?? 0 };
}

// ---- import activities ----------------------------------------------------------------------------

export interface ActivityImportInput extends CsvFormat {
  file: string;
  dateFormat?: string[];
  rejects?: string;
  dryRun?: boolean;
}

export interface ActivityImportSummary {
  file: string;
  rows: number;
  awarded: number;
  duplicates: number;
  review: number;
  rejected: number;
  pointsAwarded: number;
  byActivity: { activity: string; awarded: number; points: number }[];
  firstOccurredAt: string | null;
  lastOccurredAt: string | null;
  rejectsFile: string | null;
  /** An earlier run's rejects file at this run's rejects path, when this run rejected nothing. */
  staleRejectsFile: string | null;
  /** The first rejected rows (line, reason), for a person. */
  firstRejects: RejectSample[];
  dryRun: boolean;
}

const ACTIVITY_COLUMNS = ['activity', 'member_id', 'ref', 'occurred_at'];

/**
 * Awards every row of a CSV (activity, member_id, ref, occurred_at) in one transaction, in occurred_at
 * order (ties by file order), so limits count as if the awards had come one by one. Bad rows (unknown
 * member or activity, bad date, a limit reached, a ref taken by another member) go to the rejects file;
 * a repeat of an award already made counts as a duplicate. --dry-run rolls the transaction back.
 */
export async function importActivities(ctx: Ctx, input: ActivityImportInput): Promise<ActivityImportSummary> {
  const csv = await readCsvFile(input.file, ACTIVITY_COLUMNS, ACTIVITY_COLUMNS, input, ['member_id', 'ref', 'activity']);
  const records = csv.records;
  const rejectsOut = input.dryRun && !input.rejects ? null : rejectsTarget(ctx, input.file, input.rejects);
  const rejects: Reject[] = [];
  const counts = { awarded: 0, duplicates: 0, review: 0, pointsAwarded: 0 };
  const byActivity = new Map<string, { awarded: number; points: number }>();
  let first: string | null = null;
  let last: string | null = null;
  const ROLLBACK = Symbol('dry run');
  const wholeFileRejected = () => records.length > 0 && rejects.length === records.length;
  await withLedger(ctx, (l) => {
    const parse = makeDateParser(l.zone, input.dateFormat?.length ? input.dateFormat : undefined);
    const rows: { line: number; values: Record<string, string>; fields: string[]; atMs: number }[] = [];
    for (const r of records) {
      const v = r.values;
      const problems = awardProblems({ memberId: v.member_id ?? '', activity: v.activity ?? '', ref: v.ref ?? '' });
      const text = (v.occurred_at ?? '').trim();
      const atMs = text ? parse(text) : null;
      if (!text) problems.push('occurred_at is empty');
      else if (atMs === null || atMs !== atMs) {
        const why = parse.reason();
        if (why) problems.push(`occurred_at ${JSON.stringify(text)} ${why}`);
        else if (input.dateFormat?.length) problems.push(`occurred_at ${JSON.stringify(text)} does not match ${input.dateFormat.join(' or ')}${dateFormatHint(text, input.dateFormat) ?? ''}`);
        else problems.push(`occurred_at ${dateRangeProblem(text) ?? unreadTimestampReason(text)}`);
      }
      else if (atMs > l.now.getTime()) problems.push(`occurred_at ${text} is in the future`);
      if (problems.length) rejects.push({ line: r.line, reason: problems.join('; '), fields: r.fields });
      else rows.push({ line: r.line, values: v, fields: r.fields, atMs: atMs as number });
    }
    // An activity ref names one task: a member's rows repeating it must agree on its time (an exact repeat is
    // a duplicate), else every one of them is rejected, as an order whose rows differ is (whichever came
    // first would win, and a limit could make it the later one). Another member's row is refused as the
    // ref taken.
    const byRef = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = `${trimAscii(r.values.activity)}\u0000${trimAscii(r.values.ref)}\u0000${trimAscii(r.values.member_id)}`;
      const same = byRef.get(k);
      if (same) same.push(r);
      else byRef.set(k, [r]);
    }
    const conflicting = new Set<(typeof rows)[number]>();
    for (const same of byRef.values()) {
      if (same.length < 2 || same.every((r) => r.atMs === same[0].atMs)) continue;
      const lines = same.map((r) => r.line).join(', ');
      for (const r of same) {
        conflicting.add(r);
        rejects.push({ line: r.line, reason: `${trimAscii(r.values.activity)} ${trimAscii(r.values.ref)} of member ${trimAscii(r.values.member_id)} appears on lines ${lines} with different occurred_at: a ref names one task; fix the rows so that they agree (all of them are rejected)`, fields: r.fields });
      }
    }
    const awardable = rows.filter((r) => !conflicting.has(r)).sort((a, b) => a.atMs - b.atMs || a.line - b.line);
    try {
      l.store.write(() => {
        for (const r of awardable) {
          const v = r.values;
          // awardOne refuses before it writes anything, so a refused row leaves the transaction as it was.
          try {
            const res = awardOne(l, { memberId: trimAscii(v.member_id), activity: trimAscii(v.activity), ref: trimAscii(v.ref), atMs: r.atMs });
            if (res.replayed) {
              counts.duplicates++;
              continue;
            }
            if (res.status === 'review') counts.review++;
            else {
              counts.awarded++;
              counts.pointsAwarded += res.points;
              const b = byActivity.get(res.activity) ?? { awarded: 0, points: 0 };
              b.awarded++;
              b.points += res.points;
              byActivity.set(res.activity, b);
            }
            if (first === null || res.occurredAt < first) first = res.occurredAt;
            if (last === null || res.occurredAt > last) last = res.occurredAt;
          } catch (e) {
            if (e instanceof UsageError || e instanceof RefusedError) rejects.push({ line: r.line, reason: e.message, fields: r.fields });
            else throw e;
          }
        }
        // A file whose every row is rejected is an input error (exit 2), and exit 2 writes nothing, as for purchases.
        if (input.dryRun || wholeFileRejected()) throw ROLLBACK;
        recordAudit(l, 'activity.import', input.file, { rows: records.length, ...counts, rejected: rejects.length });
      });
    } catch (e) {
      if (e !== ROLLBACK) throw e;
    }
  });
  rejects.sort((a, b) => a.line - b.line);
  const rejectsFile = rejects.length && rejectsOut ? await writeRejects(rejectsOut, csv, rejects) : null;
  if (wholeFileRejected()) {
    throw new UsageError(
      `${input.file}: every row was rejected, ${rejects.length} of them (the first, line ${rejects[0].line}: ${rejects[0].reason}): nothing was imported`,
      rejectsFile ? `see ${rejectsFile} for every bad row with its line and reason` : 'pass --rejects FILE to see every bad row with its line and reason',
    );
  }
  return {
    file: input.file,
    rows: records.length,
    ...counts,
    rejected: rejects.length,
    byActivity: [...byActivity].map(([activity, b]) => ({ activity, ...b })).sort((a, b) => a.activity.localeCompare(b.activity)),
    firstOccurredAt: first,
    lastOccurredAt: last,
    rejectsFile,
    staleRejectsFile: rejects.length ? null : staleRejectsFile(rejectsOut),
    firstRejects: rejects.slice(0, FIRST_REJECTS).map((x) => ({ line: x.line, reason: x.reason })),
    dryRun: Boolean(input.dryRun),
  };
}
