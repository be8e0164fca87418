// ledger verify: recomputes the hash chain, every entry's balance and every cache (§5).
import { chainHash, entryContent, GENESIS_HASH, type NewPosting } from '../store/journal.js';
import { extraChecks, type Mismatch, verifyQueries } from '../store/verify.js';
import { type Ctx, withLedger } from './ledger.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  checks: Check[];
}

const fromMismatches = (name: string, okDetail: string, rows: Mismatch[]): Check =>
  rows.length === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: rows.map((r) => `${r.subject}: ${r.detail}`).join('; ') };

export async function verifyLedger(ctx: Ctx): Promise<VerifyResult> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const q = l.store.get(verifyQueries);
      const checks: Check[] = [];

      // The chain and the zero-sum of each entry, in one pass over the journal.
      let prevHash = GENESIS_HASH;
      let expectId = 1;
      let entries = 0;
      let firstChainBreak: string | undefined;
      let firstUnbalanced: string | undefined;
      let cur: { row: Parameters<typeof entryContent>[0]; prev: string; hash: string; postings: NewPosting[] } | undefined;
      const finish = () => {
        if (!cur) return;
        entries++;
        const sum = cur.postings.reduce((a, p) => a + p.points, 0);
        if (!firstUnbalanced && (sum !== 0 || cur.postings.length < 2)) {
          firstUnbalanced = `entry ${cur.row.id} (${cur.row.kind}): postings sum to ${sum} over ${cur.postings.length} posting(s)`;
        }
        if (!firstChainBreak) {
          if (cur.row.id !== expectId) firstChainBreak = `entry ${expectId} is missing (next is ${cur.row.id})`;
          else if (cur.prev !== prevHash) firstChainBreak = `entry ${cur.row.id}: prev_hash does not match entry ${cur.row.id - 1}'s hash`;
          else if (chainHash(prevHash, entryContent(cur.row, cur.postings)) !== cur.hash)
            firstChainBreak = `entry ${cur.row.id} (${cur.row.kind}): content does not match its hash (edited after it was written)`;
        }
        prevHash = cur.hash;
        expectId = cur.row.id + 1;
      };
      for (const r of q.chain()) {
        if (!cur || cur.row.id !== r.id) {
          finish();
          cur = {
            row: { id: r.id, at: r.at, recorded_at: r.recorded_at, kind: r.kind, member_id: r.member_id, ref: r.ref, memo: r.memo, operator: r.operator },
            prev: r.prev_hash,
            hash: r.hash,
            postings: [],
          };
        }
        if (r.account !== null) cur.postings.push({ account: r.account, memberId: r.pmember, points: r.points as number });
      }
      finish();
      checks.push({ name: 'hash-chain', ok: !firstChainBreak, detail: firstChainBreak ?? `${entries} entries chained` });
      checks.push({ name: 'entries-balance', ok: !firstUnbalanced, detail: firstUnbalanced ?? 'every entry sums to zero' });
      checks.push(fromMismatches('postings-have-entries', 'no orphan postings', q.orphanPostings()));
      checks.push(fromMismatches('postings-name-members', 'every posting names a known member', q.unknownMembers()));
      checks.push(fromMismatches('member-balances', 'balance, held and lifetime caches match the postings', q.memberCaches()));
      checks.push(fromMismatches('lot-remaining', 'every lot remaining = points + moves, within 0..points', q.lotRemaining()));
      checks.push(fromMismatches('lots-match-balances', 'balance = lots remaining + held − debt for every member', q.lotsAgainstBalances()));
      checks.push(fromMismatches('lot-moves-owner', "lot moves are made by the lot member's entries", q.lotMovesOwnership()));
      for (const x of extraChecks) checks.push(fromMismatches(x.name, 'ok', q.extra(x.sql)));
      return { ok: checks.every((c) => c.ok), entries, checks };
    }),
  );
}
