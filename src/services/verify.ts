// ledger verify: recomputes the hash chain, every entry's balance and every cache (§5).
import { chainHash, entryContent, GENESIS_HASH, type NewPosting } from '../store/journal.js';
import { extraChecks, type Mismatch, verifyQueries } from '../store/verify.js';
import { type Ctx, withLedger } from './ledger.js';
import '../store/holds.js'; // registers the open-holds checks of the checkout area
import '../store/books.js'; // registers the §5 check of lots with holds open

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

/**
 * With anchors (entries recorded earlier, outside the ledger), also proves that the journal still holds
 * each of them unchanged: the chain alone cannot tell that its newest entries were cut off.
 */
export async function verifyLedger(ctx: Ctx, anchors: readonly Anchor[] = []): Promise<VerifyResult> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const q = l.store.get(verifyQueries);
      const checks: Check[] = [];

      // The chain and the zero-sum of each entry, in one merged pass over entries and postings.
      let prevHash = GENESIS_HASH;
      let expectId = 1;
      let entries = 0;
      let firstChainBreak: string | undefined;
      let firstUnbalanced: string | undefined;
      const anchorHashes = new Map<number, string | null>(anchors.map((a) => [a.id, null]));
      let lastId = 0;
      const postingsIt = q.postingsRaw();
      let nextPosting = postingsIt.next();
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
          else if (chainHash(prevHash, entryContent(row, postings)) !== e[9])
            firstChainBreak = `entry ${id} (${row.kind}): content does not match its hash (edited after it was written)`;
        }
        prevHash = e[9] as string;
        expectId = id + 1;
        lastId = id;
        if (anchorHashes.size && anchorHashes.has(id)) anchorHashes.set(id, prevHash);
      }
      const head: Anchor | null = entries ? { id: lastId, hash: prevHash } : null;
      checks.push({ name: 'hash-chain', ok: !firstChainBreak, detail: firstChainBreak ?? `${entries} entries chained` });
      checks.push({ name: 'entries-balance', ok: !firstUnbalanced, detail: firstUnbalanced ?? 'every entry sums to zero' });
      checks.push(fromMismatches('postings-have-entries', 'no orphan postings', q.orphanPostings()));
      checks.push(fromMismatches('postings-name-members', 'every posting names a known member', q.unknownMembers()));
      checks.push(fromMismatches('member-balances', 'balance, held and lifetime caches match the postings', q.memberCaches()));
      checks.push(fromMismatches('lot-remaining', 'every lot remaining = points + moves, within 0..points', q.lotRemaining()));
      checks.push(fromMismatches('lots-match-balances', 'balance = lots remaining + held − debt for every member', q.lotsAgainstBalances()));
      checks.push(fromMismatches('lot-moves-owner', "lot moves are made by the lot member's entries", q.lotMovesOwnership()));
      for (const x of extraChecks) checks.push(fromMismatches(x.name, 'ok', q.extra(x.sql)));
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
      return { ok: checks.every((c) => c.ok), entries, head, checks };
    }),
  );
}
