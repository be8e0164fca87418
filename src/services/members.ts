// Member use-cases: add, update, import, list, show, history, adjust, freeze.
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { memberProblems } from '../domain/members.js';
import { POINTS_MAX } from '../domain/money.js';
import { currentTierName, expiresOn } from '../domain/rules.js';
import { localRangeUtc, type LocalDate } from '../domain/time.js';
import { books } from '../store/books.js';
import { members, type MemberRow } from '../store/members.js';
import { memberStatements } from '../store/statements.js';
import { type Ctx, type Ledger, rulesAt, withLedger, memberNotFound } from './ledger.js';
import { availableOf, creditPoints, debitPoints, ledgerToday, recordAudit } from './points.js';
import { ranOutRepayments } from './holds.js';
import { type CsvFormat, everyRowRejected, readCsvFile, type Reject, rejectsTarget, staleRejectsFile, writeImport, writeRejects } from './csvfile.js';
import { FIRST_REJECTS, type RejectSample } from '../domain/rejects.js';

export interface MemberView {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  tier: string | null;
  pinnedTier: string | null;
  /** The pinned tier is not in the rules in force (renamed or dropped since): the member earns with no tier. */
  pinnedTierMissing: boolean;
  status: 'active' | 'frozen';
  frozenReason: string | null;
  /** Σ lots' remaining − debt (§5). */
  balance: number;
  /** Points reserved by open holds (still counted in their lots' remaining until capture). */
  held: number;
  /** balance − held − expiredPending: what can be spent now. */
  available: number;
  /** Points of lots whose expiresOn has passed, not yet posted by `expire run` (§7: not spendable). */
  expiredPending: number;
  debt: number;
  lifetimeEarned: number;
  createdAt: string;
  /** Lots with points remaining; `held` of them reserved by open holds, `expired` when lapsed. */
  lots: { points: number; remaining: number; held: number; earnedAt: string; expiresOn: string | null; expired: boolean }[];
}

function requireMember(l: Ledger, id: string): MemberRow {
  const m = l.store.get(members).get(id);
  if (!m) throw memberNotFound(l, id);
  return m;
}


function checkTier(l: Ledger, tier: string | null | undefined): void {
  if (!tier) return;
  const { rules } = rulesAt(l, l.nowIso);
  if (!rules.tiers.some((t) => t.name === tier)) {
    const names = rules.tiers.map((t) => t.name);
    throw new UsageError(`tier ${JSON.stringify(tier)} is not in the rules in force`, names.length ? `use one of: ${names.join(', ')}` : 'the rules in force define no tiers; add them with pointsmall rules apply');
  }
}

function fieldError(problems: { field: string; message: string }[]): never {
  const p = problems[0];
  throw new UsageError(`--${p.field}: ${p.message}`, problems.length > 1 ? `also: ${problems.slice(1).map((x) => x.message).join('; ')}` : undefined);
}

const NONE_RAN_OUT = { points: 0, lapsed: 0 };

export function memberView(l: Ledger, m: MemberRow): MemberView {
  const today = ledgerToday(l);
  const b = l.store.get(books);
  // a hold that ran out, not released yet, holds nothing: its points are free (or lapsed), as checkout counts them
  const ran = m.held ? (b.ranOut(l.nowIso, today).get(m.id) ?? NONE_RAN_OUT) : NONE_RAN_OUT;
  // and its release repays a debt first: so much of its points goes back into no lot
  const repaid = m.debt > 0 && ran.points > 0 ? ranOutRepayments(l, l.nowIso, today, m.id).get(m.id) : undefined;
  const expiredPending = b.lapsedOf(m.id, today) + ran.lapsed - (repaid?.lapsed ?? 0);
  const lots = b
    .lotsOf(m.id, l.nowIso)
    .map((x) => (repaid?.cuts.has(x.id) ? { ...x, free: x.free - repaid.cuts.get(x.id)! } : x))
    .filter((x) => x.free + x.held > 0);
  const { rules } = rulesAt(l, l.nowIso);
  const tier = currentTierName(rules, m.tier, m.lifetime_earned);
  return {
    id: m.id,
    name: m.name,
    phone: m.phone,
    email: m.email,
    tier,
    pinnedTier: m.tier,
    pinnedTierMissing: m.tier !== null && !rules.tiers.some((t) => t.name === m.tier),
    status: m.status,
    frozenReason: m.frozen_reason,
    balance: m.balance,
    held: m.held - ran.points,
    available: m.balance - (m.held - ran.points) - expiredPending,
    expiredPending,
    debt: m.debt - (repaid?.debtRepaid ?? 0),
    lifetimeEarned: m.lifetime_earned,
    createdAt: m.created_at,
    lots: lots.map((x) => ({ points: x.points, remaining: x.free + x.held, held: x.held, earnedAt: x.earned_at, expiresOn: x.expires_on, expired: x.expires_on !== null && x.expires_on < today })),
  };
}

export interface AddMemberInput {
  id: string;
  name: string;
  phone?: string;
  email?: string;
  tier?: string;
}

export async function addMember(ctx: Ctx, input: AddMemberInput): Promise<MemberView> {
  const problems = memberProblems(input);
  if (problems.length) fieldError(problems);
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const repo = l.store.get(members);
      if (repo.exists(input.id)) throw new UsageError(`member ${JSON.stringify(input.id)} already exists`, `change it with: pointsmall member update ${input.id}`, 'MEMBER_EXISTS');
      checkTier(l, input.tier);
      repo.insert({ id: input.id, name: input.name, phone: input.phone || null, email: input.email || null, tier: input.tier || null }, l.nowIso);
      recordAudit(l, 'member.add', input.id, { name: input.name, phone: input.phone, email: input.email, tier: input.tier });
      return memberView(l, repo.get(input.id)!);
    }),
  );
}

export interface UpdateMemberInput {
  name?: string;
  phone?: string;
  email?: string;
  tier?: string;
}

export async function updateMember(ctx: Ctx, id: string, input: UpdateMemberInput): Promise<MemberView> {
  const fields: Record<string, string | null> = {};
  for (const k of ['name', 'phone', 'email', 'tier'] as const) {
    const v = input[k];
    if (v !== undefined) fields[k] = v === '' || (k === 'tier' && v === 'auto') ? null : v;
  }
  if (!Object.keys(fields).length) throw new UsageError('nothing to change', 'pass --name, --phone, --email or --tier (--tier auto unpins it)');
  const problems = memberProblems({ ...fields, name: fields.name ?? undefined } as never, { partial: true });
  if (problems.length) fieldError(problems);
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const before = requireMember(l, id);
      if (fields.name === null) throw new UsageError('--name: name is empty');
      checkTier(l, fields.tier);
      l.store.get(members).update(id, fields, l.nowIso);
      recordAudit(l, 'member.update', id, { before: { name: before.name, phone: before.phone, email: before.email, tier: before.tier }, after: fields });
      return memberView(l, requireMember(l, id));
    }),
  );
}

export async function showMember(ctx: Ctx, id: string): Promise<MemberView> {
  return withLedger(ctx, (l) => l.store.read(() => memberView(l, requireMember(l, id))));
}

export interface ListInput {
  tier?: string;
  status?: 'active' | 'frozen';
  minBalance?: number;
  /** Case-insensitive substring of the id, name, phone or email. */
  search?: string;
  limit?: number;
  offset?: number;
}

export interface MemberListRow {
  id: string;
  name: string;
  /** The tier the member has now (pinned, else earned), as member show says. */
  tier: string | null;
  pinnedTier: string | null;
  status: string;
  balance: number;
  held: number;
  available: number;
  lifetimeEarned: number;
  phone: string | null;
  email: string | null;
}

/**
 * Every member's points that are in the balance but no longer spendable now, as memberView counts them
 * (its expiredPending and held): lapsed lots no expiry run has taken, and holds that ran out.
 */
export function unspendableByMember(l: Ledger): { expiredPending: (id: string) => number; held: (id: string, held: number) => number } {
  const today = ledgerToday(l);
  const lapsed = l.store.get(books).lapsedByMember(today);
  const ran = l.store.get(books).ranOut(l.nowIso, today);
  const repaid = ranOutRepayments(l, l.nowIso, today);
  return {
    expiredPending: (id) => (lapsed.get(id) ?? 0) + (ran.get(id) ?? NONE_RAN_OUT).lapsed - (repaid.get(id)?.lapsed ?? 0),
    held: (id, held) => held - (ran.get(id) ?? NONE_RAN_OUT).points,
  };
}

/** Members with balances; --tier matches the tier a member has now (earned or pinned), not only pins. */
export async function listMembers(ctx: Ctx, f: ListInput): Promise<MemberListRow[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { rules } = rulesAt(l, l.nowIso);
      const unspendable = unspendableByMember(l);
      const rows = l.store
        .get(members)
        .list({ ...f, tier: undefined, limit: f.tier ? undefined : f.limit, offset: f.tier ? undefined : f.offset })
        .map((m) => ({
          id: m.id,
          name: m.name,
          tier: currentTierName(rules, m.tier, m.lifetime_earned),
          pinnedTier: m.tier,
          status: m.status,
          balance: m.balance,
          held: unspendable.held(m.id, m.held),
          available: m.balance - unspendable.held(m.id, m.held) - unspendable.expiredPending(m.id),
          lifetimeEarned: m.lifetime_earned,
          phone: m.phone,
          email: m.email,
        }));
      // the tier a member has now is worked out here, so its filter and page are too (in id order, as the store's)
      if (!f.tier) return rows;
      // a tier nobody can have is a typo, not an empty list (exit 2)
      if (!rules.tiers.some((t) => t.name === f.tier) && !rows.some((r) => r.pinnedTier === f.tier)) checkTier(l, f.tier);
      const start = f.offset ?? 0;
      return rows.filter((r) => r.tier === f.tier).slice(start, f.limit === undefined ? undefined : start + f.limit);
    }),
  );
}

export interface StatementLine {
  entryId: number;
  at: string;
  kind: string;
  ref: string | null;
  memo: string | null;
  points: number;
  held: number;
  balance: number;
}

export interface Statement {
  memberId: string;
  from: string | null;
  to: string | null;
  openingBalance: number;
  closingBalance: number;
  lines: StatementLine[];
}

export async function memberHistory(ctx: Ctx, id: string, from?: LocalDate, to?: LocalDate): Promise<Statement> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      requireMember(l, id);
      const { fromIso, toIso } = localRangeUtc(l.zone, from, to);
      const q = l.store.get(memberStatements);
      const opening = fromIso ? q.balanceBefore(id, fromIso) : 0;
      let balance = opening;
      const lines = q.lines(id, fromIso, toIso).map((r) => {
        balance += r.points;
        return { entryId: r.entry_id, at: r.at, kind: r.kind, ref: r.ref, memo: r.memo, points: r.points, held: r.held, balance };
      });
      return { memberId: id, from: from ?? null, to: to ?? null, openingBalance: opening, closingBalance: balance, lines };
    }),
  );
}

export interface AdjustResult {
  memberId: string;
  points: number;
  reason: string;
  entryId: number;
  expiresOn: string | null;
  balance: number;
  available: number;
}

/**
 * `member adjust`. With `expect` (the available balance a debit's question quoted), a debit that would now
 * start from another balance is refused (exit 3) before anything is written: SPEC §7.
 */
export async function adjustMember(ctx: Ctx, id: string, points: number, reason: string, expect?: { available: number }): Promise<AdjustResult> {
  if (!Number.isSafeInteger(points) || points === 0) throw new UsageError('--points must be a non-zero whole number like 500 or -200');
  if (Math.abs(points) > POINTS_MAX) throw new UsageError(`--points ${points} is past the ceiling of ${POINTS_MAX} points`, 'an adjust moves at most 10^12 points (README "Limits")');
  if (!reason.trim()) throw new UsageError('--reason is empty', 'say why the points change, for the audit log');
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const before = requireMember(l, id);
      if (expect) {
        const available = availableOf(l, before);
        if (available !== expect.available) {
          throw new RefusedError(
            'ADJUST_CHANGED',
            `member ${id}'s available balance changed since the ${points < 0 ? 'debit' : 'credit'} was confirmed: now ${available}, confirmed ${expect.available}; nothing was ${points < 0 ? 'taken' : 'given'}`,
            'run it again and check the figures',
          );
        }
      }
      let entryId: number;
      let exp: string | null = null;
      if (points > 0) {
        const { rules } = rulesAt(l, l.nowIso);
        exp = expiresOn(rules.expiry, l.now.getTime(), l.zone);
        entryId = creditPoints(l, { memberId: id, points, at: l.nowIso, kind: 'adjust', from: 'adjusted', expiresOn: exp, memo: reason }).entryId;
      } else {
        entryId = debitPoints(l, { memberId: id, points: -points, at: l.nowIso, kind: 'adjust', to: 'adjusted', allowDebt: false, memo: reason }).entryId;
      }
      recordAudit(l, 'member.adjust', id, { points, reason, entryId });
      const m = requireMember(l, id);
      return { memberId: id, points, reason, entryId, expiresOn: exp, balance: m.balance, available: availableOf(l, m) };
    }),
  );
}

export async function setFrozen(ctx: Ctx, id: string, frozen: boolean, reason?: string): Promise<MemberView> {
  if (frozen && !reason?.trim()) throw new UsageError('--reason is required to freeze a member', 'say why, for the audit log');
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const m = requireMember(l, id);
      if (frozen && m.status === 'frozen') throw new RefusedError('ALREADY_FROZEN', `member ${id} is already frozen (${m.frozen_reason ?? 'no reason'})`);
      if (!frozen && m.status === 'active') throw new RefusedError('NOT_FROZEN', `member ${id} is not frozen`);
      l.store.get(members).setStatus(id, frozen ? 'frozen' : 'active', frozen ? reason!.trim() : null, l.nowIso);
      recordAudit(l, frozen ? 'member.freeze' : 'member.unfreeze', id, frozen ? { reason } : undefined);
      return memberView(l, requireMember(l, id));
    }),
  );
}

export interface MemberImportResult {
  file: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rejectsFile: string | null;
  /** A rejects file an earlier run left at this run's rejects path, when this run rejected no row (left alone; null when none). */
  staleRejectsFile: string | null;
  /** The first few rejected rows (line and reason), in line order; the rejects file has them all. */
  firstRejects: RejectSample[];
  /** Columns of the file the import does not read (member list --out's status and balances, say): they changed nothing. */
  columnsNotRead: string[];
}

const MEMBER_COLUMNS = ['id', 'name', 'phone', 'email', 'tier'];

/** Upserts members by id from a CSV; bad rows go to the rejects file, good ones are kept (one transaction). */
/** The fields a member import may set; each only when the file has its column. */
const IMPORT_FIELDS = ['name', 'phone', 'email', 'tier'] as const;

export async function importMembers(ctx: Ctx, file: string, rejectsPath?: string, format: CsvFormat = {}): Promise<MemberImportResult> {
  const csv = await readCsvFile(file, ['id', 'name'], MEMBER_COLUMNS, format, ['id']);
  const records = csv.records;
  const rejectsOut = rejectsTarget(ctx, file, rejectsPath);
  const rejects: Reject[] = [];
  const whole = () => records.length > 0 && rejects.length === records.length;
  const result = await withLedger(ctx, (l) =>
    writeImport(l.store, () => {
      const repo = l.store.get(members);
      const { rules } = rulesAt(l, l.nowIso);
      const tiers = new Set(rules.tiers.map((t) => t.name));
      const seen = new Set<string>();
      let created = 0, updated = 0, unchanged = 0;
      for (const r of records) {
        const v = r.values;
        // A column absent from the file leaves its field as it is; present with an empty cell, it clears it.
        const input = { id: v.id ?? '', name: v.name ?? '', phone: v.phone || null, email: v.email || null, tier: v.tier || null };
        const problems = memberProblems(input);
        if (input.tier && !tiers.has(input.tier)) {
          // (the fix, as member add's hint gives it: a reject line has no hint of its own)
          const fix = tiers.size ? `use one of: ${[...tiers].join(', ')}` : 'the rules in force define no tiers: apply a rules version that does (pointsmall rules apply FILE.json), or leave the tier empty';
          problems.push({ field: 'tier', message: `tier ${JSON.stringify(input.tier)} is not in the rules in force (${fix})` });
        }
        if (!problems.length && seen.has(input.id)) problems.push({ field: 'id', message: `member ${input.id} appears twice in the file` });
        if (problems.length) {
          rejects.push({ line: r.line, reason: problems.map((p) => `${p.field}: ${p.message}`).join('; '), fields: r.fields });
          continue;
        }
        seen.add(input.id);
        const before = repo.get(input.id);
        if (!before) {
          repo.insert(input, l.nowIso);
          created++;
          continue;
        }
        // a tier column that names the tier the member has earned, with none pinned, is no change (a
        // `member list --out` file re-imported): pinning it would stop the member's promotions
        const earned = (k: string) => k === 'tier' && before.tier === null && input.tier === currentTierName(rules, null, before.lifetime_earned);
        const changed = IMPORT_FIELDS.filter((k) => k in v && before[k] !== input[k] && !earned(k));
        if (!changed.length) {
          unchanged++;
          continue;
        }
        const after = Object.fromEntries(changed.map((k) => [k, input[k]]));
        repo.update(input.id, after, l.nowIso);
        recordAudit(l, 'member.update', input.id, { via: 'member import', file, changed, before: Object.fromEntries(changed.map((k) => [k, before[k]])), after });
        updated++;
      }
      // a file whose every row is rejected wrote nothing: no run to audit (exit 2 below)
      if (whole()) return { created, updated, unchanged };
      // changesRecorded: each member it changed has a member.update record of its own (ledger verify's members-match-audit)
      recordAudit(l, 'member.import', file, { rows: records.length, created, updated, unchanged, rejected: rejects.length, changesRecorded: true });
      return { created, updated, unchanged };
    }, whole),
  );
  const rejectsFile = rejects.length ? await writeRejects(rejectsOut, csv, rejects) : null;
  if (whole()) throw everyRowRejected(file, rejects, rejectsFile);
  return { file, rows: records.length, ...result, rejected: rejects.length, rejectsFile, staleRejectsFile: rejects.length ? null : staleRejectsFile(rejectsOut), firstRejects: rejects.slice(0, FIRST_REJECTS).map((x) => ({ line: x.line, reason: x.reason })), columnsNotRead: csv.notRead };
}

/** For a prompt of member add: what is wrong with the id typed (null when nothing), so it is asked again at once. */
export async function newMemberIdProblem(ctx: Ctx, id: string): Promise<string | null> {
  const p = memberProblems({ id }, { partial: true }).find((x) => x.field === 'id');
  if (p) return p.message;
  return withLedger(ctx, (l) =>
    l.store.read(() => (l.store.get(members).exists(id) ? `member ${JSON.stringify(id)} already exists: type another id (pointsmall member update ${id} changes that one)` : null)),
  );
}
