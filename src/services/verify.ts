// ledger verify: recomputes the hash chain, every entry's balance and every cache (§5).
import { chainHash, chainMac, entryContent, GENESIS_HASH, type NewPosting } from '../store/journal.js';
import { bookChecks, coreChecks, extraChecks, type Mismatch, verifyQueries } from '../store/verify.js';
import type { AuditRow } from '../store/audit.js';
import { LotBooks, LotsOutOfOrder } from './verifyBooks.js';
import { checkCoupons } from './verifyCoupons.js';
import { checkOrders } from './verifyOrders.js';
import { catalogMatchAudit, detailOf, membersMatchAudit } from './verifyRecords.js';
import { auditItem, rowToItem } from './catalog.js';
import type { CatalogRow } from '../store/catalog.js';
import { LedgerCorruptError, sqliteDamage } from '../errors.js';
import { type Ctx, type Ledger, parseStoredRules, withLedger } from './ledger.js';
import { BEGINNING_OF_TIME, rulesDocumentHash } from '../domain/rules.js';
import '../store/holds.js'; // registers the open-holds checks of the checkout area
import '../store/books.js'; // registers the §5 check of lots with holds open
import '../store/importRuns.js'; // registers the check of voided purchases
import '../store/activities.js'; // registers the check of activity awards (issue 18)
import '../store/analysis.js'; // registers the check of purchase lines
import '../store/verification.js'; // registers the check of verified checkouts' codes (issue 18)

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** The newest entry: record it elsewhere (a cron log, a ticket) and pass it back as an anchor later. */
  head: Anchor | null;
  checks: Check[];
}

/** An entry id with the hash it had when it was recorded outside the ledger. */
export interface Anchor {
  id: number;
  hash: string;
}

/** Parses `ID:HASH` (as `ledger verify` prints its head), or null. */
export function parseAnchor(text: string): Anchor | null {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { id: Number(m[1]), hash: m[2] } : null;
}

const fromMismatches = (name: string, okDetail: string, rows: Mismatch[]): Check =>
  rows.length === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: rows.map((r) => `${r.subject}: ${r.detail}`).join('; ') };

/** What the chain's key proves (see docs/architecture.md, "What ledger verify proves"). */
function chainKeyCheck(haveKey: boolean, keyedFrom: number | null, head: Anchor | null, unproved: number): Check {
  const name = 'chain-key';
  if (!haveKey) {
    if (keyedFrom === null) return { name, ok: true, detail: 'plain chain (no key file): proves the entries are as written, not who wrote them' };
    return { name, ok: true, detail: `entries from ${keyedFrom} on are keyed MACs: without POINTSMALL_LEDGER_KEY_FILE only their links were proved (${unproved} entries)` };
  }
  if (keyedFrom === null) {
    return head
      ? { name, ok: false, detail: 'a key file was given but no entry is keyed: the ledger was never written with this key, or its keyed entries were rewritten as a plain chain' }
      : { name, ok: true, detail: 'no entries yet; the first write with the key file starts the keyed chain' };
  }
  if (!head || keyedFrom > head.id) return { name, ok: false, detail: `the chain is said to be keyed from entry ${keyedFrom}, past the newest entry ${head?.id ?? 0}` };
  return { name, ok: true, detail: `entries ${keyedFrom}..${head.id} carry keyed MACs that match the key file` };
}

const fromProblems = (name: string, okDetail: string, p: { rows: Mismatch[]; count: number }): Check =>
  p.count === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: p.rows.map((r) => `${r.subject}: ${r.detail}`).join('; ') + (p.count > p.rows.length ? ` (and ${p.count - p.rows.length} more)` : '') };

/**
 * Rules versions decide what every point earns and is worth and when it lapses, and they are not in the
 * chained journal: each must be what the audit record that stored it says (ledger.init the first, rules
 * apply the others): in force from the same time, applied at the same time and, where the record holds the
 * document's hash (versions stored since it does), the same document. A version no record stored, or a
 * record whose version is gone, fails. The audit log is append-only by trigger, not chained: someone who
 * edits both is not caught (a keyed chain with `ledger key` does not cover it either).
 */
function rulesMatchAudit(
  versions: { id: number; effective_at: string; applied_at: string; operator: string; source: string | null; document: string }[],
  audits: readonly AuditRow[],
): Check {
  // records from before the latest init (a ledger erased by init --force) are of another ledger's versions
  const init = audits.filter((a) => a.action === 'ledger.init').at(-1);
  const applied = new Map(audits.filter((a) => a.action === 'rules.apply' && a.id > (init?.id ?? 0) && a.subject !== null).map((a) => [a.subject!, a]));
  const initDetail = init ? detailOf(init) : {};
  const byId = [...versions].sort((a, b) => a.id - b.id);
  const initVersion = typeof initDetail.rulesVersion === 'number' ? initDetail.rulesVersion : byId.find((v) => v.source === 'init')?.id;
  const bad: Mismatch[] = [];
  let hashed = 0;
  for (const v of byId) {
    const subject = `rules version ${v.id}`;
    const edited = (recorded: unknown, record: string) => {
      if (typeof recorded !== 'string') return;
      hashed++;
      if (rulesDocumentHash(v.document) !== recorded) bad.push({ subject, detail: `is not the document ${record} stored: edited since` });
    };
    if (v.source === 'init' && v.id === initVersion && init) {
      // init's defaults are in force from the beginning of time: moved later, a version after them is undone
      if (v.effective_at !== BEGINNING_OF_TIME) bad.push({ subject, detail: `is in force from ${v.effective_at}, but init stored it in force from the beginning (${BEGINNING_OF_TIME}, audit ${init.id})` });
      if (v.operator !== init.operator) bad.push({ subject, detail: `names operator ${v.operator}, but init was run by ${init.operator} (audit ${init.id})` });
      if (typeof initDetail.rulesVersion === 'number' && v.applied_at !== init.at) bad.push({ subject, detail: `was stored at ${v.applied_at} by its row, but init stored it at ${init.at} (audit ${init.id})` });
      edited(initDetail.rulesSha256, `init (audit ${init.id}, ledger.init)`);
      continue;
    }
    const a = applied.get(String(v.id));
    if (!a) {
      bad.push({ subject, detail: 'was stored by no rules apply (no rules.apply audit record names it): the rules table was written to directly' });
      continue;
    }
    applied.delete(String(v.id));
    const d = detailOf(a);
    if (typeof d.effectiveAt === 'string' && d.effectiveAt !== v.effective_at) bad.push({ subject, detail: `is in force from ${v.effective_at}, but rules apply stored it in force from ${d.effectiveAt} (audit ${a.id})` });
    if (a.at !== v.applied_at) bad.push({ subject, detail: `was applied at ${v.applied_at} by its row, but at ${a.at} by its audit record ${a.id}` });
    if (a.operator !== v.operator) bad.push({ subject, detail: `names operator ${v.operator}, but ${a.operator} applied it (audit ${a.id})` });
    if (typeof d.file === 'string' && d.file !== v.source) bad.push({ subject, detail: `names the file ${v.source ?? '(none)'}, but rules apply stored it from ${d.file} (audit ${a.id})` });
    edited(d.sha256, `rules apply (audit ${a.id})`);
  }
  for (const [version, a] of applied) bad.push({ subject: `audit ${a.id}`, detail: `records rules apply storing rules version ${version}, which is gone` });
  const documents = hashed === versions.length ? ', the same document' : hashed ? `, and the ${hashed} whose record holds the document's hash the same document` : '';
  return fromProblems(
    'rules-match-audit',
    `${versions.length} rules version(s), each the one its audit record stored (ledger.init the first, rules apply the others): in force from and applied at the same times, by the same operator${documents}`,
    { rows: bad.slice(0, 5), count: bad.length },
  );
}

/**
 * A hold lasts the hold-minutes setting it was made under: never longer than the longest the ledger has had
 * (15 by default, every value `db set hold-minutes` recorded), never ending before it began; a hold whose
 * payment started lasts that long past the payment's fence at most (checkout.ts: so an unanswered payment
 * can be recorded). A hold pushed out (to 2099, say) would keep a member's points from them; only a length
 * within those settings goes unseen.
 */
function holdTimesCheck(q: ReturnType<typeof verifyQueries>): Check {
  const longest = Math.max(15, ...q.holdMinutesSettings().map(Number).filter((n) => Number.isFinite(n)));
  const bad: Mismatch[] = [];
  let n = 0;
  for (const h of q.holdTimes()) {
    n++;
    const minutes = (Date.parse(h.expires_at) - Date.parse(h.created_at)) / 60_000;
    const pastFence = h.paying_until === null ? null : (Date.parse(h.expires_at) - Date.parse(h.paying_until)) / 60_000;
    if (!(minutes > 0 && (minutes <= longest || (pastFence !== null && pastFence <= longest)))) {
      bad.push({ subject: `hold ${h.id} (order ${h.order_id})`, detail: `runs from ${h.created_at} to ${h.expires_at}: ${Number.isFinite(minutes) ? `${Math.round(minutes)} minutes` : 'not a time'}, not within the longest hold the ledger's settings have allowed (${longest} minutes)` });
    }
  }
  return fromProblems('hold-times', `${n} hold(s), each lasting at most the longest hold the settings have allowed (${longest} minutes)`, { rows: bad.slice(0, 5), count: bad.length });
}

/**
 * With anchors (entries recorded earlier, outside the ledger), also proves that the journal still holds
 * each of them unchanged: the chain alone cannot tell that its newest entries were cut off.
 */
export async function verifyLedger(ctx: Ctx, anchors: readonly Anchor[] = []): Promise<VerifyResult> {
  try {
    return await verifyOpen(ctx, anchors);
  } catch (e) {
    throw asCorrupt(e, ctx.dbPath);
  }
}

/**
 * A ledger that SQLite cannot read (its header is there, its pages are garbage or cut short) is a broken
 * ledger, not a usage error: exit 6 with SQLite's reason. A missing file, a file without SQLite's header
 * (a text file, an empty one: indistinguishable from the wrong path) or an SQLite file without a
 * pointsmall schema stays exit 2.
 */
function asCorrupt(e: unknown, path: string): unknown {
  const code = sqliteDamage(e, true);
  return code ? new LedgerCorruptError(path, `${(e as Error).message ?? String(e)} (${code})`) : e;
}

async function verifyOpen(ctx: Ctx, anchors: readonly Anchor[]): Promise<VerifyResult> {
  return withLedger(ctx, async (l) => {
    // SQLite's check of the file runs beside the pass, on a thread of its own (it reads every page)
    const q = l.store.get(verifyQueries);
    const file = q.startFileCheck();
    file?.catch(() => undefined);
    let r: VerifyResult;
    try {
      r = verifyPass(l, anchors, false);
    } catch (e) {
      // Lots not written in entry order (never by this code, but a ledger may come from elsewhere): read them sorted.
      if (e instanceof LotsOutOfOrder) r = verifyPass(l, anchors, true);
      else {
        // a damaged page met by the pass: SQLite's check of the file names where the damage is
        if (file && sqliteDamage(e)) {
          const problems = await file.catch(() => [] as string[]);
          if (problems.length) (e as Error).message += `; SQLite's quick_check: ${problems.join('; ')}`;
        }
        throw e;
      }
    }
    if (!file) return r;
    let problems: string[];
    try {
      problems = await file;
    } catch (e) {
      if (sqliteDamage(e, true)) throw e;
      problems = q.fileProblems(); // (its connection could not read: this one can)
    }
    const check = { name: 'sqlite-file', ok: problems.length === 0, detail: problems.length ? `SQLite's quick_check: ${problems.join('; ')}` : "SQLite's quick_check: every page, table and index of the file is well formed" };
    return { ...r, ok: r.ok && check.ok, checks: [check, ...r.checks] };
    // read-only: a backup verified offline keeps every byte, and needs no write access (trial 44a)
  }, { readOnly: true });
}

function verifyPass(l: Ledger, anchors: readonly Anchor[], sortedLots: boolean): VerifyResult {
  return l.store.read(() => {
    const q = l.store.get(verifyQueries);
    // The set-based checks start first: on PostgreSQL the server runs them while the chain streams by.
    q.startChecks([coreChecks.orphanPostings, coreChecks.lotRemaining, coreChecks.lotMovesOwnership, ...extraChecks.map((x) => x.sql), ...bookChecks.map((x) => x.sql)]);
    const checks: Check[] = [];

    // The chain and the zero-sum of each entry, in one merged pass over entries and postings.
    const keyedFrom = q.chainKeyedFrom();
    const key = l.store.chainKey;
    let keyedUnproved = 0;
    let prevHash = GENESIS_HASH;
    let expectId = 1;
    let entries = 0;
    let firstChainBreak: string | undefined;
    let firstUnbalanced: string | undefined;
    const anchorHashes = new Map<number, string | null>(anchors.map((a) => [a.id, null]));
    let lastId = 0;
    const books = new LotBooks(l, q, sortedLots);
    const postingsIt = q.postingsRaw();
    let nextPosting = postingsIt.next();
    try {
    for (const e of q.entriesRaw()) {
      const id = e[0] as number;
      const postings: NewPosting[] = [];
      // Postings of entries before this one belong to no entry (orphans are reported separately).
      while (!nextPosting.done && (nextPosting.value[0] as number) < id) nextPosting = postingsIt.next();
      while (!nextPosting.done && nextPosting.value[0] === id) {
        const p = nextPosting.value;
        postings.push({ account: p[1] as NewPosting['account'], memberId: p[2] as string | null, points: p[3] as number });
        nextPosting = postingsIt.next();
      }
      entries++;
      const row = {
        id,
        at: e[1] as string,
        recorded_at: e[2] as string,
        kind: e[3] as string,
        member_id: e[4] as string | null,
        ref: e[5] as string | null,
        memo: e[6] as string | null,
        operator: e[7] as string,
      };
      let sum = 0;
      for (const p of postings) sum += p.points;
      if (!firstUnbalanced && (sum !== 0 || postings.length < 2)) {
        firstUnbalanced = `entry ${id} (${row.kind}): postings sum to ${sum} over ${postings.length} posting(s)`;
      }
      if (!firstChainBreak) {
        if (id !== expectId) firstChainBreak = `entry ${expectId} is missing (next is ${id})`;
        else if (e[8] !== prevHash) firstChainBreak = `entry ${id}: prev_hash does not match entry ${id - 1}'s hash`;
        else if (keyedFrom !== null && id >= keyedFrom) {
          // A keyed entry: its MAC is proved with the key file, and only its link without it.
          if (!key) keyedUnproved++;
          else if (chainMac(key, prevHash, entryContent(row, postings)) !== e[9])
            firstChainBreak = `entry ${id} (${row.kind}): content does not match its keyed MAC (edited after it was written, or another key)`;
        } else if (chainHash(prevHash, entryContent(row, postings)) !== e[9])
          firstChainBreak = `entry ${id} (${row.kind}): content does not match its hash (edited after it was written)`;
      }
      books.entry({ id, kind: row.kind, ref: row.ref, memberId: row.member_id, at: row.at, recordedAt: row.recorded_at, postings });
      prevHash = e[9] as string;
      expectId = id + 1;
      lastId = id;
      if (anchorHashes.size && anchorHashes.has(id)) anchorHashes.set(id, prevHash);
    }
    } catch (e) {
      books.close();
      postingsIt.return?.();
      throw e;
    }
    const head: Anchor | null = entries ? { id: lastId, hash: prevHash } : null;
    checks.push({ name: 'hash-chain', ok: !firstChainBreak, detail: firstChainBreak ?? `${entries} entries chained` });
    checks.push(chainKeyCheck(key !== null, keyedFrom, head, keyedUnproved));
    checks.push({ name: 'entries-balance', ok: !firstUnbalanced, detail: firstUnbalanced ?? 'every entry sums to zero' });
    checks.push(fromMismatches('postings-have-entries', 'no orphan postings', q.orphanPostings()));
    books.finish(q.memberCacheRows());
    checks.push(fromProblems('postings-name-members', 'every posting names a known member', books.unknown));
    checks.push(fromProblems('member-balances', 'balance, held and lifetime caches match the postings', books.caches));
    checks.push(fromMismatches('lot-remaining', 'every lot remaining = points + moves, within 0..points (or 0..what its credit gave, for a lot that got back points of a debt its credit repaid)', q.lotRemaining()));
    checks.push(fromProblems('lots-match-balances', 'balance = lots remaining + held − debt for every member', books.balances));
    checks.push(fromMismatches('lot-moves-owner', "lot moves are made by the lot member's entries", q.lotMovesOwnership()));
    for (const x of extraChecks) checks.push(fromMismatches(x.name, 'ok', q.extra(x.sql)));
    checks.push(fromProblems('lots-match-entries', `${books.lotsSeen} lots and their moves are what their entries credited and debited`, books.lots));
    const versions = q.rulesVersions();
    checks.push(rulesMatchAudit(versions, q.rulesAudit()));
    const records = q.recordsAudit();
    checks.push(catalogMatchAudit(q.catalogRows(), records, (row) => auditItem(l, rowToItem(row as unknown as CatalogRow))));
    checks.push(membersMatchAudit(q.memberStates(), records));
    checks.push(fromProblems('lot-expiry', "every lot expires when the rules in force at its earning say", books.expiry));
    books.judgeExpiryTakes();
    checks.push(fromProblems('expiry-takes-lapsed-lots', "every expiry entry takes only from lots that lapsed before its run's date, and no void reopens more of a lot than they expired", books.lapsed));
    checks.push(fromProblems('member-debt', 'every debt cache is what the journal and lots leave', books.debt));
    for (const x of bookChecks) checks.push(fromMismatches(x.name, x.okDetail, q.extra(x.sql)));
    const documents = new Map(versions.map((v) => [v.id, v.document]));
    const ob = checkOrders(q, (id) => (documents.has(id) ? parseStoredRules(l, id, documents.get(id)!) : null), l.digits);
    checks.push(fromProblems('order-lines-add-up', `${ob.orderCount} order(s): each one's lines add up to its subtotal, discount, points used, cash paid and points discount; its points value is §4.2's value of its points by its rules version; each line is paid as its pay mode says (cash + points value + points discount + discount share = its amount), its points are spread over its mixed lines by what each let points pay (lines that keep their ratio: written after migration 15) and its earned points over the lines' cash. The points used are the journal's (orders-match-entries); the cash paid is in no chained data, so it is proved only by agreeing with the amounts and the points`, ob.orders));
    checks.push(fromProblems('refund-lines-add-up', `${ob.refundCount} refund(s): each one's points, cash and earned are the sums of its lines, and no line gives back more units than it had nor other than its share of what it carried (the last unit the exact remainder). The points and earned are the journal's (refunds-match-entries); the cash refunded is in no chained data, only bounded by the lines' cash`, ob.refunds));
    checks.push(holdTimesCheck(q));
    const cp = checkCoupons(q, l.zone, l.digits);
    // A coupon's terms are not in the journal: they are recomputed from its item and the item's recorded changes.
    const unproven = cp.unproven.count ? `; ${cp.unproven.count} coupon(s)' value and expiresOn could not be recomputed (${cp.unproven.first})` : '';
    checks.push(fromProblems('coupons-match-issuing-orders', `${cp.coupons} coupon(s): each issued by a paid order's coupon line, one per unit, to its buyer at its capture, with the value and expiresOn its item gave then (the catalog and its recorded changes; the journal does not hold coupon terms)${unproven}`, cp.issued));
    checks.push(fromProblems('coupons-match-use', "every coupon is active, held or used as the one open or paid order naming it says, and every order's discount is its coupon's", cp.used));
    for (const a of anchors) {
      const found = anchorHashes.get(a.id);
      const detail =
        found === null
          ? `entry ${a.id} of the anchor is gone: the journal was cut back to ${head ? `entry ${head.id}` : 'nothing'}`
          : found !== a.hash
            ? `entry ${a.id} no longer has the anchor's hash: the journal was rewritten up to it`
            : `entry ${a.id} is as it was anchored, and so is every entry before it`;
      checks.push({ name: 'anchor', ok: found === a.hash, detail });
    }
    q.endChecks(); // (on a throw, closing the ledger ends them)
    return { ok: checks.every((c) => c.ok), entries, head, checks };
  });
}
