// Rules versions: apply (validate, store as a new version), show the one in force, history.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { requireInputFile } from './inputFile.js';
import { type MultiplierNamingNothing, type PinnedOutside, type Rules, multiplierNames, multipliersNamingNothing, pinnedOutside, rulesDocumentHash, rulesToDocument, validateRules } from '../domain/rules.js';
import { dateRangeProblem, localDateTime, parseLocalDate, parseTimestamp, startOfLocalDayMs } from '../domain/time.js';
import { analysis } from '../store/analysis.js';
import { rulesVersions, type RulesVersionRow } from '../store/rules.js';
import { type Ctx, type Ledger, rulesAt, withLedger } from './ledger.js';
import { recordAudit } from './points.js';

export interface RulesVersionView {
  version: number;
  effectiveAt: string;
  /** effectiveAt as wall-clock time in the ledger's zone. */
  effectiveLocal: string;
  appliedAt: string;
  operator: string;
  source: string | null;
  /** In force now (`rules show --at` gives the version in force then, which may no longer be). */
  inForce: boolean;
  rules: Record<string, unknown>;
}

const view = (r: RulesVersionRow, inForceId: number | undefined, zone: string): RulesVersionView => ({
  version: r.id,
  effectiveAt: r.effective_at,
  effectiveLocal: r.effective_at < '1000' ? 'the beginning' : localDateTime(r.effective_at, zone),
  appliedAt: r.applied_at,
  operator: r.operator,
  source: r.source,
  inForce: r.id === inForceId,
  rules: readDocument(r.document),
});

/** A stored document as JSON; one that does not parse is shown as its text rather than failing the command. */
function readDocument(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unreadable: text };
  }
}

/** A date (start of that day in the ledger zone) or a full timestamp. */
function instant(l: Ledger, text: string, flag: string): string {
  const d = parseLocalDate(text);
  if (d) return new Date(startOfLocalDayMs(d, l.zone)).toISOString();
  const ms = parseTimestamp(text, l.zone);
  const early = ms === null ? dateRangeProblem(text) : null;
  if (early) throw new UsageError(`${flag} ${early}`);
  if (ms === null) throw new UsageError(`${flag} ${JSON.stringify(text)} is not a date (YYYY-MM-DD) or timestamp`);
  return new Date(ms).toISOString();
}

/** Reads a rules JSON file (before the ledger is opened): a missing file or bad JSON is a usage error. */
export function readRulesFile(file: string, outcome = 'nothing was stored'): unknown {
  requireInputFile(file, 'give the path of a rules JSON file');
  try {
    return JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`, `fix the JSON syntax; ${outcome}`);
  }
}

/** Validates a rules document read from `file`; every problem is named, and it is a usage error. */
export function rulesOfDocument(l: Ledger, file: string, doc: unknown, outcome = 'nothing was stored'): Rules {
  const v = validateRules(doc, l.digits);
  if (!v.rules) {
    const lines = v.problems.map((p) => `${file}: ${p.path}: ${p.message}`);
    throw new UsageError(lines.join('\n'), `fix ${v.problems.length === 1 ? 'this problem' : `these ${v.problems.length} problems`}; ${outcome}`, 'INVALID_RULES');
  }
  return v.rules;
}


export interface AppliedRules extends RulesVersionView {
  /**
   * A version in force from the past: the imported purchases and paid checkouts dated from its effective time
   * on that earned already, under the versions before it. They keep what they earned (the ledger is
   * append-only); `rules simulate` shows what this version would have given them. Zeros for a version in
   * force from now.
   */
  earnedBefore: { purchases: number; orders: number };
  /** Tiers members are pinned to that this version does not define (they earn with no tier under it). */
  pinnedTiersNotInRules: PinnedOutside[];
  /**
   * Its multipliers whose SKU or category the ledger names nowhere (catalog, imported and checkout lines),
   * each with the names that differ from it only in case or spacing: a multiplier matches exactly, so such
   * a one earns nothing extra until lines of that name come (a new product line) or the name is mended.
   */
  multipliersNamingNothing: MultiplierNamingNothing[];
}

/** What the ledger names like the multipliers of `rules` do (Analysis.namesLike). */
export function namesOf(a: ReturnType<typeof analysis>, rules: Rules): { skus: Set<string>; categories: Set<string> } {
  const n = multiplierNames(rules);
  return a.namesLike(n.skus, n.categories);
}

export async function applyRules(ctx: Ctx, file: string, effective?: string): Promise<AppliedRules> {
  const doc = readRulesFile(file);
  return withLedger(ctx, (l) => {
    const rules = rulesOfDocument(l, file, doc);
    const effectiveAt = effective ? instant(l, effective, '--effective') : l.nowIso;
    // (read before the write: on a ledger of millions of lines a name the catalog lacks costs a scan of them)
    const a = l.store.get(analysis);
    const naming = rules.earn.multipliers.length ? multipliersNamingNothing(rules, namesOf(a, rules)) : [];
    return l.store.write(() => {
      const repo = l.store.get(rulesVersions);
      const document = JSON.stringify(rulesToDocument(rules, l.digits));
      const id = repo.insert(effectiveAt, l.nowIso, l.operator, file, document);
      const earnedBefore = effectiveAt < l.nowIso ? repo.earnedSince(effectiveAt) : { purchases: 0, orders: 0 };
      // the document's hash: ledger verify proves the stored version is the one applied (rules-match-audit)
      recordAudit(l, 'rules.apply', String(id), { file, effectiveAt, earnedBefore, sha256: rulesDocumentHash(document) });
      const row = repo.history().find((r) => r.id === id)!;
      const pinnedTiersNotInRules = pinnedOutside(a.pinnedTiers(), rules);
      return { ...view(row, repo.inForceAt(l.nowIso)?.id, l.zone), earnedBefore, pinnedTiersNotInRules, multipliersNamingNothing: naming };
    });
  });
}

export async function showRules(ctx: Ctx, at?: string): Promise<RulesVersionView & { currency: string }> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const when = at ? instant(l, at, '--at') : l.nowIso;
      const { id } = rulesAt(l, when);
      const row = l.store.get(rulesVersions).history().find((r) => r.id === id)!;
      return { ...view(row, l.store.get(rulesVersions).inForceAt(l.nowIso)?.id, l.zone), currency: l.currency };
    }),
  );
}

export async function rulesHistory(ctx: Ctx): Promise<Omit<RulesVersionView, 'rules'>[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const repo = l.store.get(rulesVersions);
      const current = repo.inForceAt(l.nowIso)?.id;
      return repo.history().map((r) => {
        const { rules: _rules, ...rest } = view(r, current, l.zone);
        return rest;
      });
    }),
  );
}
