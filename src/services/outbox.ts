// Outbox use-cases: list queued notifications, and export them to a file (or stdout) optionally marking
// them sent. With --mark-sent to a file the rows are read, written, marked and committed under one write
// lock; to stdout, under the lock while the reader keeps up (see exportOutbox).
import { type OutboxRecord, renderOutbox } from '../domain/notifications.js';
import { outbox, type OutboxRow } from '../store/outbox.js';
import { type Ctx, withLedger } from './ledger.js';
import { AtomicFile, type MustNotExist, checkOutput } from './outfile.js';
import { recordAudit } from './points.js';

/** A stdout export's part: marked sent in one transaction once its bytes were written. */
const OUTBOX_PART = 500;
/** How long a stdout export holds the write lock waiting on its reader (at most half the busy timeout). */
const OUTBOX_STALL_MS = 1000;

/** Whether the promise settles (either way) within ms. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

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
 * a re-export repeats them (at-least-once: receivers dedupe on `id`/`dedupeKey`). Concurrent exporters to
 * files are serialised by the write lock, so two never take the same rows; to stdout, a reader that stalls
 * lets the lock go (below), and another exporter may then repeat a row it had written.
 */
export async function exportOutbox(ctx: Ctx, input: ExportInput): Promise<ExportResult> {
  // With --mark-sent the file at --out holds notifications marked sent: an earlier batch there (a fixed name,
  // a killed cron job run again within its second) may not have reached its sender yet, and replacing it
  // would lose them (trial 44a). An empty file holds nothing to lose.
  const keep: MustNotExist | undefined =
    input.markSent && input.out
      ? {
          message: `--out ${input.out} already exists: it may hold an earlier batch of notifications marked sent that its sender has not taken, and --mark-sent never replaces one`,
          hint: 'send that batch and remove the file (or empty it), or give each export a new name: --out batch-$(date +%Y%m%d-%H%M%S)-$$.jsonl',
          code: 'OUTPUT_EXISTS',
          emptyOk: true,
        }
      : undefined;
  // (--skip-empty with nothing pending writes no file: the file is checked again before it is replaced)
  const target = input.out ? checkOutput(input.out, { ledger: ctx.dbPath, flag: '--out', mustNotExist: input.skipEmpty ? undefined : keep }) : null;
  if (target && keep) target.mustNotExist = keep;
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
    // To stdout: a row is marked sent only once the sink has written its bytes (a closed pipe marks none of
    // the rest). The write lock is held while the reader keeps up; a part the reader has not taken within
    // STALL_MS is waited for without it (trial 44a: a paused sender kept every till and cron job out): what
    // was written before is marked and committed first, and each later part is marked in a transaction of
    // its own once written. Another exporter may meanwhile give a row this one has written but not yet
    // marked (at-least-once, as a failed commit is: receivers dedupe on id/dedupeKey).
    const stallMs = Math.min(OUTBOX_STALL_MS, Math.floor(l.store.busyTimeoutMs / 2));
    const written: OutboxRow[] = []; // written, not yet marked
    let marked = 0;
    let exported = 0;
    let firstId: number | null = null;
    let lastId: number | null = null;
    let locked = false;
    const lock = () => {
      l.store.openWrite();
      locked = true;
      marked += mark(written.splice(0));
    };
    const unlock = () => {
      marked += mark(written.splice(0));
      l.store.commitWrite();
      locked = false;
    };
    try {
      lock();
      let rows = pick();
      for (let i = 0; i === 0 || i < rows.length; i += OUTBOX_PART) {
        if (!locked) {
          lock();
          // rows another exporter marked while this one waited are not given again
          const still = l.store.get(outbox).stillPending(rows.slice(i).map((r) => r.id));
          rows = [...rows.slice(0, i), ...rows.slice(i).filter((r) => still.has(r.id))];
          if (i >= rows.length) break;
        }
        const part = rows.slice(i, i + OUTBOX_PART);
        const text = renderOutbox(part.map(toRecord), input.format);
        const done = Promise.resolve(input.sink!(i === 0 || input.format !== 'csv' ? text : text.slice(text.indexOf('\r\n') + 2)));
        if (!(await settlesWithin(done, stallMs))) {
          unlock(); // the reader stalls: let the ledger go while it does
          await done;
        } else await done;
        written.push(...part);
        exported += part.length;
        firstId ??= part[0]?.id ?? null;
        lastId = part[part.length - 1]?.id ?? lastId;
      }
      if (!locked) lock();
      unlock();
      return { format: input.format, out: null, exported, markedSent: marked, firstId, lastId };
    } catch (e) {
      if (locked) l.store.rollbackWrite();
      // (a reader that stalled had the parts written before marked: the caller says how many)
      if (e instanceof Error) Object.assign(e, { markedSent: marked });
      throw e;
    }
  });
}
