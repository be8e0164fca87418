// Outbox use-cases: list queued notifications, and export them to a file (or stdout) optionally marking
// them sent. With --mark-sent the rows are read, written, marked and committed under one write lock.
import { type OutboxRecord, renderOutbox } from '../domain/notifications.js';
import { outbox, type OutboxRow } from '../store/outbox.js';
import { type Ctx, withLedger } from './ledger.js';
import { AtomicFile, checkOutput } from './outfile.js';
import { recordAudit } from './points.js';

export function toRecord(r: OutboxRow): OutboxRecord {
  let payload: unknown;
  try {
    payload = JSON.parse(r.payload);
  } catch {
    payload = r.payload;
  }
  return {
    id: r.id,
    createdAt: r.created_at,
    topic: r.topic,
    memberId: r.member_id,
    channel: r.channel,
    recipient: r.recipient,
    dedupeKey: r.dedupe_key,
    payload,
    sentAt: r.sent_at,
  };
}

export interface ListInput {
  pending?: boolean;
  topic?: string;
  limit?: number;
  offset?: number;
}

export async function listOutbox(ctx: Ctx, input: ListInput = {}): Promise<OutboxRecord[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const rows = l.store.get(outbox).list({ pending: input.pending });
      const picked = input.topic ? rows.filter((r) => r.topic === input.topic) : rows;
      const start = input.offset ?? 0;
      return picked.slice(start, input.limit === undefined ? undefined : start + input.limit).map(toRecord);
    }),
  );
}

export interface ExportInput {
  format: 'jsonl' | 'csv';
  /** Destination file; written whole (temp file, fsync, rename). Without it, `sink` receives the text. */
  out?: string;
  /** Receives the text; resolves once its bytes were written (with markSent, the rows are marked after). */
  sink?: (text: string) => void | Promise<void>;
  markSent?: boolean;
  /** Include notifications already sent (default: pending only). */
  all?: boolean;
  topic?: string;
  /** With `out`: write no file at all when nothing is to be exported (a cron job's empty runs). */
  skipEmpty?: boolean;
}

export interface ExportResult {
  format: 'jsonl' | 'csv';
  out: string | null;
  exported: number;
  markedSent: number;
  firstId: number | null;
  lastId: number | null;
}

/**
 * Exports queued notifications. With markSent, one BEGIN IMMEDIATE transaction reads the pending rows,
 * writes them completely (a file: temp + fsync; stdout: until the sink says the bytes were written),
 * marks exactly those ids sent, renames the file into place and commits: a crash or a closed pipe before
 * that leaves no file and nothing marked; a failed commit after it leaves the file and the rows pending, so
 * a re-export repeats them (at-least-once: receivers dedupe on `id`/`dedupeKey`). Concurrent exporters are
 * serialised by the write lock, so two never take the same rows.
 */
export async function exportOutbox(ctx: Ctx, input: ExportInput): Promise<ExportResult> {
  const target = input.out ? checkOutput(input.out, { ledger: ctx.dbPath, flag: '--out' }) : null;
  if (!target && !input.sink) throw new Error('exportOutbox needs out or sink');
  return withLedger(ctx, async (l) => {
    const box = l.store.get(outbox);
    const pick = () => {
      let rows = box.list({ pending: !input.all });
      if (input.topic) rows = rows.filter((r) => r.topic === input.topic);
      return rows;
    };
    const result = (rows: OutboxRow[], marked: number, out: string | null): ExportResult => ({
      format: input.format,
      out,
      exported: rows.length,
      markedSent: marked,
      firstId: rows[0]?.id ?? null,
      lastId: rows[rows.length - 1]?.id ?? null,
    });
    const mark = (rows: OutboxRow[]): number => {
      if (!input.markSent) return 0;
      const marked = box.markSent(
        rows.filter((r) => r.sent_at === null).map((r) => r.id),
        l.nowIso,
      );
      if (marked) recordAudit(l, 'outbox.mark-sent', null, { count: marked, firstId: rows[0]?.id ?? null, lastId: rows[rows.length - 1]?.id ?? null, out: target?.abs ?? null });
      return marked;
    };
    if (target) {
      const run = (): ExportResult => {
        const rows = pick();
        if (input.skipEmpty && rows.length === 0) return result(rows, 0, null);
        const f = new AtomicFile(target);
        try {
          f.write(renderOutbox(rows.map(toRecord), input.format));
          const marked = mark(rows);
          return result(rows, marked, f.commit());
        } catch (e) {
          f.abort();
          throw e;
        }
      };
      return input.markSent ? l.store.write(run) : l.store.read(run);
    }
    if (!input.markSent) {
      const rows = l.store.read(pick);
      await input.sink!(renderOutbox(rows.map(toRecord), input.format));
      return result(rows, 0, null);
    }
    // To stdout: the rows are marked only once the sink has written their bytes (a closed pipe marks none).
    l.store.openWrite();
    try {
      const rows = pick();
      await input.sink!(renderOutbox(rows.map(toRecord), input.format));
      const marked = mark(rows);
      l.store.commitWrite();
      return result(rows, marked, null);
    } catch (e) {
      l.store.rollbackWrite();
      throw e;
    }
  });
}
