// Reading the books: journal entries, export, and the audit log.
import { guardFormula as csvSafe } from '../domain/formulaCells.js';
import { localRangeUtc, startOfLocalDayMs } from '../domain/time.js';
import { audit, type AuditRow } from '../store/audit.js';
import { entries, type EntryWithPostings } from '../store/entries.js';
import { members } from '../store/members.js';
import { NotFoundError } from '../errors.js';
import { type Ctx, withLedger } from './ledger.js';

export interface EntriesInput {
  member?: string;
  kind?: string;
  from?: string;
  to?: string;
  limit?: number;
  /** Skips this many of the newest entries. */
  offset?: number;
}

export async function listEntries(ctx: Ctx, f: EntriesInput): Promise<EntryWithPostings[]> {
  return withLedger(ctx, (l) => {
    const { fromIso, toIso } = localRangeUtc(l.zone, f.from, f.to);
    return l.store.read(() => {
      if (f.member && !l.store.get(members).exists(f.member)) throw new NotFoundError('member', f.member, 'list members with: pointsmall member list');
      return l.store.get(entries).list({ memberId: f.member, kind: f.kind, fromIso, toIso, limit: f.limit, offset: f.offset }).reverse();
    });
  });
}

export async function exportJournal(ctx: Ctx, format: 'csv' | 'jsonl'): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const parts: string[] = [];
      if (format === 'csv') parts.push(stringify([['entry', 'at', 'kind', 'member', 'ref', 'memo', 'operator', 'account', 'accountMember', 'points', 'hash']]));
      for (const chunk of l.store.get(entries).iterateAll()) {
        if (format === 'jsonl') parts.push(chunk.map((e) => JSON.stringify(e)).join('\n') + (chunk.length ? '\n' : ''));
        else
          parts.push(
            stringify(
              chunk.flatMap((e) =>
                e.postings.map((p) => [e.id, e.at, e.kind, csvSafe(e.memberId ?? ''), csvSafe(e.ref ?? ''), csvSafe(e.memo ?? ''), csvSafe(e.operator), p.account, csvSafe(p.memberId ?? ''), p.points, e.hash]),
              ),
            ),
          );
      }
      return parts.join('');
    }),
  );
}

export async function listAudit(ctx: Ctx, f: { since?: string; operator?: string; limit?: number; offset?: number }): Promise<AuditRow[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() =>
      l.store
        .get(audit)
        .list({ sinceIso: f.since ? new Date(startOfLocalDayMs(f.since, l.zone)).toISOString() : undefined, operator: f.operator, limit: f.limit, offset: f.offset })
        .map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null })),
    ),
  );
}
