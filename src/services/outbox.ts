// Outbox use-cases: list queued notifications, and export them to a file (or stdout) optionally marking
// them sent. With --mark-sent the rows are read, written, marked and committed under one write lock.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type OutboxRecord, renderOutbox } from '../domain/notifications.js';
import { UsageError } from '../errors.js';
import { outbox, type OutboxRow } from '../store/outbox.js';
import { type Ctx, withLedger } from './ledger.js';
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
}

export async function listOutbox(ctx: Ctx, input: ListInput = {}): Promise<OutboxRecord[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const rows = l.store.get(outbox).list({ pending: input.pending });
      const picked = input.topic ? rows.filter((r) => r.topic === input.topic) : rows;
      return (input.limit ? picked.slice(0, input.limit) : picked).map(toRecord);
    }),
  );
}

export interface ExportInput {
  format: 'jsonl' | 'csv';
  /** Destination file; written whole (temp file, fsync, rename). Without it, `sink` receives the text. */
  out?: string;
  sink?: (text: string) => void;
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

function checkOut(path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`cannot write ${path}: folder ${dir} does not exist`, 'create the folder first or choose another --out path');
  if (existsSync(abs) && !statSync(abs).isFile()) throw new UsageError(`cannot write ${path}: it exists and is not a regular file`, 'choose another --out path');
  return abs;
}

/** Writes the text to a temp file beside `abs` and fsyncs it; the caller renames it into place. */
function writeTemp(abs: string, text: string): string {
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * Exports queued notifications. With markSent, one BEGIN IMMEDIATE transaction reads the pending rows,
 * writes the file completely (temp + fsync), marks exactly those ids sent, renames the file into place and
 * commits: a crash before the rename leaves no file and nothing marked; a failed commit after it leaves the
 * file and the rows pending, so a re-export repeats them (at-least-once: receivers dedupe on `id`/`dedupeKey`).
 * Concurrent exporters are serialised by the write lock, so two never take the same rows.
 */
export async function exportOutbox(ctx: Ctx, input: ExportInput): Promise<ExportResult> {
  const abs = input.out ? checkOut(input.out) : null;
  if (!abs && !input.sink) throw new Error('exportOutbox needs out or sink');
  return withLedger(ctx, (l) => {
    const box = l.store.get(outbox);
    const run = (): ExportResult => {
      let rows = box.list({ pending: !input.all });
      if (input.topic) rows = rows.filter((r) => r.topic === input.topic);
      if (abs && input.skipEmpty && rows.length === 0) return { format: input.format, out: null, exported: 0, markedSent: 0, firstId: null, lastId: null };
      const text = renderOutbox(rows.map(toRecord), input.format);
      const tmp = abs ? writeTemp(abs, text) : null;
      try {
        let marked = 0;
        if (input.markSent) {
          marked = box.markSent(
            rows.filter((r) => r.sent_at === null).map((r) => r.id),
            l.nowIso,
          );
          if (marked) recordAudit(l, 'outbox.mark-sent', null, { count: marked, firstId: rows[0]?.id ?? null, lastId: rows[rows.length - 1]?.id ?? null, out: abs });
        }
        if (tmp && abs) renameSync(tmp, abs);
        else input.sink!(text);
        return { format: input.format, out: abs, exported: rows.length, markedSent: marked, firstId: rows[0]?.id ?? null, lastId: rows[rows.length - 1]?.id ?? null };
      } catch (e) {
        if (tmp && existsSync(tmp)) unlinkSync(tmp);
        throw e;
      }
    };
    return input.markSent ? l.store.write(run) : l.store.read(run);
  });
}
