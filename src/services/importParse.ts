// Phase 1 of `import purchases`: the file read, decoded and tokenized, every row validated, the good
// lines grouped per order and packed, in chunks of a few thousand rows for the caller to stage. It
// reads nothing but the file, so it runs in a worker thread as well as in the calling one.
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import {
  type ColumnPlan,
  type CsvRecord,
  CsvStructureError,
  CsvTokenizer,
  openQuoteProblem,
  swallowedOrderIds,
  type Encoding,
  type PurchaseField,
  type RecordSink,
  type RowContext,
  ZoneCalendar,
  lineEnd,
  makeDateParser,
  parseRow,
  delimiterHint,
  encodingHint,
  planColumns,
} from '../domain/purchases.js';
import { asciiCompatible } from '../domain/encoding.js';
import { trimAscii } from '../domain/text.js';
import { isRejectsHeader, unquoteRejectsCell } from '../domain/rejects.js';
import type { StageGroups } from '../store/purchases.js';
import { joinLines, packLine } from './orderFeed.js';
import { fileDecoder } from './textDecode.js';

/** How to read the file (the resolved import options). */
export interface ReadInput {
  file: string;
  encoding: Encoding;
  delimiter: string;
}

/** What validating its rows needs besides: the mapping, formats and the ledger's settings. */
export interface ParseInput extends ReadInput {
  map: Partial<Record<PurchaseField, string>>;
  /** Timestamp formats tried in order (none: ISO 8601). */
  dateFormats: string[];
  /** Values that mean an empty field (--null NA). */
  nulls: string[];
  /** Rows left out: a column (by its header name) and the values that leave a row out (--skip Status=cancelled). */
  skips: [column: string, value: string][];
  skipGuests: boolean;
  digits: number;
  zone: string;
  notAfterMs: number;
  /** Only this stretch of the file (one of two read on two cores). */
  part?: FilePart;
  /**
   * In a worker: the import stage file it appends its groups and bad rows to itself (ImportStage.share);
   * its chunks then carry only counts and rejects.
   */
  stage?: string;
}

/** What reading (a stretch of) the file found: its columns (null: a first stretch ended inside the header), and where it stopped. */
export interface ParseResult extends ReadEnd {
  plan: ColumnPlan | null;
}

/** One stretch of the file: groups of good lines, bad rows' order ids, rejects, and what was counted. */
export interface ParsedChunk {
  groups: StageGroups;
  bad: [orderId: string, line: number][];
  /** Rows skipped as a guest's (--skip-guests): their order ids, for an order that names a member on other lines. */
  guestRows: [orderId: string, line: number][];
  rejects: [line: number, reason: string, vals: string | null][];
  rows: number;
  guests: number;
  /** Rows left out by --skip. */
  skipped: number;
}

/**
 * A stretch of the file read on its own: bytes [start, end) starting on line firstLine, with the header
 * (read from the start of the file) when it does not start the file. Where it ends short of the end of
 * the file, the caller checks that a record ended exactly there (ParseResult).
 */
export interface FilePart {
  start: number;
  end: number;
  firstLine: number;
  header: string[] | null;
  last: boolean;
}

/** Where the reading stopped: the next line, and whether a record ended exactly there. */
export interface ReadEnd {
  line: number;
  atRecordEnd: boolean;
}

/**
 * Streams the file's records into the sink as they are tokenized (decoded by textDecode.ts: UTF-8,
 * whose bad bytes fail naming their line, or an encoding iconv-lite reads), yielding after each chunk of the file so the caller can flush its work. With a
 * part, only its bytes; `end` then tells where the reading stopped. `onBytes` hears the bytes read so far
 * and the chunk just read.
 */
export async function* readChunks(o: ReadInput, sink: RecordSink, onBytes?: (bytes: number, chunk: Buffer) => void, part?: FilePart, end?: ReadEnd): AsyncGenerator<void> {
  const tok = new CsvTokenizer(o.delimiter, part?.firstLine ?? 1, !part || part.start === 0);
  const d = await fileDecoder(o.file, o.encoding, part?.start ?? 0, part?.firstLine ?? 1);
  const decode = (b: Buffer) => d.decode(b);
  const flush = () => d.end();
  let bytes = 0;
  try {
    const range = part ? { start: part.start, end: part.end - 1 } : {};
    if (!part || part.end > part.start) {
      for await (const buf of createReadStream(o.file, { highWaterMark: 1 << 18, ...range })) {
        bytes += (buf as Buffer).length;
        tok.push(decode(buf as Buffer), sink);
        onBytes?.(bytes, buf as Buffer);
        yield;
      }
    }
    if (!part || part.last) {
      const rest = flush();
      if (rest) tok.push(rest, sink);
      tok.end(sink);
    } else if (end) {
      // a stretch ends at a newline byte, which no multi-byte character of these encodings contains
      end.atRecordEnd = tok.atRecordEnd && flush() === '';
    }
    if (end) end.line = tok.line;
    yield;
  } catch (e) {
    if (e instanceof CsvStructureError) throw new UsageError(`${o.file}:${e.line}: ${e.message}`, 'close the quote that opens on that line (a quote inside a quoted field is written twice: ""), or cut a field longer than 1 MB, and run again; nothing was written');
    if ((e as { code?: string }).code === 'EACCES' || (e as { code?: string }).code === 'EISDIR') throw new UsageError(`cannot read ${o.file}: ${(e as Error).message}`);
    throw e;
  }
}

/** Lines of one order with one member and time, in one chunk, as they are read. */
interface OpenGroup {
  orderId: string;
  memberId: string;
  at: number;
  firstLine: number;
  parts: string[];
}

/** Rows per chunk: small enough that its objects die young. */
const CHUNK = 5_000;

/**
 * Reads and validates the whole file, handing each chunk to `emit`; returns the column plan. `pause`
 * runs between stretches of the file (a worker waits there for the stager to catch up).
 */
export async function parsePurchases(o: ParseInput, emit: (chunk: ParsedChunk) => void, onBytes?: (bytes: number) => void, pause?: () => Promise<void>): Promise<ParseResult> {
  let plan: ColumnPlan | undefined;
  let ctx: RowContext | undefined;
  let filter: RowFilter | null = null;
  /** The file is a rejects file (`_line,_reason` first): its cells lose the quote the rejects file gave them. */
  let unquote = false;
  const header = (fields: string[], line: number) => {
    const p = planColumns(fields, o.map);
    if (!p.plan) {
      if (p.duplicate) throw new UsageError(`${o.file}:${line}: ${p.problems[0]}`, 'rename or remove one of them; nothing was written');
      const hint = encodingHint(fields, o.encoding) ?? delimiterHint(fields, o.delimiter) ?? `the header has ${fields.map((h) => JSON.stringify(h.trim())).join(', ')}; map columns with --map field=Column (fields: order_id, member_id, purchased_at, amount or quantity + unit_price or line_amount, sku, category)`;
      throw new UsageError(`${o.file}:${line}: wrong header: ${p.problems.join('; ')}`, hint);
    }
    plan = p.plan;
    unquote = isRejectsHeader(p.plan.header);
    filter = rowFilter(p.plan.header, o, line);
    const cal = new ZoneCalendar(o.zone);
    const parseDate = makeDateParser(cal, o.dateFormats);
    ctx = { plan, digits: o.digits, parseDate, skipGuests: o.skipGuests, notAfterMs: o.notAfterMs, zone: o.zone, dateFormat: o.dateFormats.length ? o.dateFormats.join(' or ') : undefined, dateFormats: o.dateFormats.length ? o.dateFormats : undefined, dateReason: parseDate.reason, delimiter: o.delimiter };
  };
  if (o.part?.header) header(o.part.header, 1);
  let groups = new Map<string, OpenGroup>();
  const newChunk = (): ParsedChunk => ({ groups: { str: [], num: [] }, bad: [], guestRows: [], rejects: [], rows: 0, guests: 0, skipped: 0 });
  let chunk = newChunk();
  const flushChunk = () => {
    const { str, num } = chunk.groups;
    for (const g of groups.values()) {
      str.push(g.orderId, g.memberId, joinLines(g.parts));
      num.push(g.at, g.firstLine);
    }
    emit(chunk);
    groups = new Map();
    chunk = newChunk();
  };
  const sink: RecordSink = {
    push(rec: CsvRecord) {
      if (!plan) {
        header(rec.fields, rec.line);
        return;
      }
      chunk.rows++;
      let fields = unquote ? rec.fields.map(unquoteRejectsCell) : rec.fields;
      // a record over several lines may be rows a quote left open took in: rejected whole, before --skip reads it
      // (a rejects file's rows carry _line and _reason in front: the rows it took in do not)
      const lead = unquote ? 2 : 0;
      const width = plan.header.length - lead;
      // (a rejects file of a bare-CR file keeps that record's CRs in one line of its own LF file: looked at too)
      const open = rec.lines > 1 || unquote ? openQuoteProblem(fields, plan.header, o.delimiter, rec.line, rec.lines, width) : null;
      if (open) {
        chunk.rejects.push([rec.line, open.reason, JSON.stringify(rec.fields)]);
        const cell = fields[plan.index.order_id];
        const orderId = cell === undefined ? undefined : trimAscii(cell);
        if (orderId) chunk.bad.push([orderId, rec.line]);
        for (const taken of swallowedOrderIds(fields[open.field], o.delimiter, plan.index.order_id - lead, rec.line)) chunk.bad.push(taken);
        if (chunk.rows >= CHUNK) flushChunk();
        return;
      }
      if (filter) {
        const kept = filter(fields);
        if (!kept) {
          chunk.skipped++;
          if (chunk.rows >= CHUNK) flushChunk();
          return;
        }
        fields = kept;
      }
      const r = parseRow(fields, ctx!);
      if (r.kind === 'ok') {
        const row = r.row;
        const packed = packLine(rec.line, row);
        let key = row.orderId;
        let e = groups.get(key);
        if (e && (e.memberId !== row.memberId || e.at !== row.at)) {
          key = `${row.orderId}\u0000${rec.line}`;
          e = undefined;
        }
        if (e) e.parts.push(packed);
        else groups.set(key, { orderId: row.orderId, memberId: row.memberId, at: row.at, firstLine: rec.line, parts: [packed] });
      } else if (r.kind === 'guest') {
        chunk.guests++;
        chunk.guestRows.push([r.orderId, rec.line]);
      }
      else {
        // the header again (files joined together): said as such, not as its first bad value; in another
        // column order, the rows after it would be read by the first header's columns: stop (nothing written)
        const again = headerAgain(rec.fields, plan!.header);
        if (again === 'reordered') {
          throw new UsageError(
            `${o.file}:${rec.line}: a header row again, its columns in another order than line 1's (${rec.fields.map((f) => f.trim()).join(o.delimiter)}): the rows after it would be read by line 1's columns`,
            `split the file at line ${rec.line} and import each part (the header of each names its columns)`,
          );
        }
        const reason = again ? 'repeats the header row: files joined together? the row is not data' : r.reason;
        chunk.rejects.push([rec.line, reason, JSON.stringify(rec.fields)]);
        if (r.orderId && !again) chunk.bad.push([r.orderId, rec.line]); // (a repeated header is no order)
      }
      if (chunk.rows >= CHUNK) flushChunk();
    },
  };
  const end: ReadEnd = { line: 1, atRecordEnd: true };
  for await (const _ of readChunks(o, sink, onBytes, o.part, end)) if (pause) await pause();
  if (!plan && o.part && !o.part.last) return { plan: null, line: end.line, atRecordEnd: false };
  if (!plan) throw new UsageError(`${o.file} is empty: a header row is required`, 'the first line names the columns: order_id,member_id,purchased_at,amount (or quantity,unit_price)');
  flushChunk();
  return { plan, ...end };
}

/**
 * Whether a row is the header again (files joined together): its column names, in any case; `reordered`
 * when they come in another order, so that the rows after it are another file's columns.
 */
function headerAgain(fields: readonly string[], header: readonly string[]): false | 'same' | 'reordered' {
  if (fields.length !== header.length) return false;
  const norm = (f: string) => f.trim().toLowerCase();
  if (fields.every((f, i) => norm(f) === norm(header[i]))) return 'same';
  const a = fields.map(norm).sort();
  const b = header.map(norm).sort();
  return a.every((f, i) => f === b[i]) && a.some((f) => f !== '') ? 'reordered' : false;
}

/** What --skip and --null do to a row: null to leave it out, else its fields (null values emptied). */
type RowFilter = (fields: string[]) => string[] | null;

/**
 * The row filter of --skip and --null for this header, or null when neither is given (then rows are
 * not touched at all). A --skip column the header lacks is a usage error.
 */
function rowFilter(header: readonly string[], o: ParseInput, line: number): RowFilter | null {
  if (!o.skips.length && !o.nulls.length) return null;
  const norm = (h: string) => h.trim().toLowerCase();
  const skip = new Map<number, Set<string>>();
  for (const [column, value] of o.skips) {
    let i = header.findIndex((h) => h.trim() === column);
    if (i < 0) i = header.findIndex((h) => norm(h) === norm(column));
    if (i < 0) throw new UsageError(`${o.file}:${line}: --skip ${column}=${value}: the header has no column ${JSON.stringify(column)}`, `the header has ${header.map((h) => JSON.stringify(h.trim())).join(', ')}`);
    let set = skip.get(i);
    if (!set) skip.set(i, (set = new Set()));
    set.add(value.toLowerCase()); // (values as the column's name: in any case, Cancelled as cancelled)
  }
  const skips = [...skip];
  const nulls = o.nulls.length ? new Set(o.nulls) : null;
  return (fields) => {
    for (const [i, values] of skips) if (i < fields.length && values.has(fields[i].trim().toLowerCase())) return null;
    if (nulls) {
      let out: string[] | null = null;
      for (let i = 0; i < fields.length; i++) {
        if (nulls.has(fields[i].trim())) (out ??= fields.slice())[i] = '';
      }
      if (out) return out;
    }
    return fields;
  };
}

// ---- on two cores --------------------------------------------------------------------------------

/** Chunks a worker may run ahead of the stager (bounded memory). */
export const AHEAD = 8;
/** Below this file size a worker's start-up outweighs what it saves. */
const THREAD_MIN_BYTES = 4 << 20;

export type ParseMessage =
  | { chunk: ParsedChunk; bytes: number }
  | { done: ParseResult }
  | { error: { message: string; hint?: string; usage: boolean; stack?: string; code?: string } };

/** What a parse worker is told: a chunk was handled (it may run further ahead), or stop (between stretches). */
export type ParseControl = 'ack' | 'stop';

/** The stager's side of a parse: what to do with each chunk, and how to start over (dropping every chunk). */
export interface ParseSink {
  emit(chunk: ParsedChunk): void;
  restart(): void;
  /**
   * Lets workers append their groups and bad rows to the stage file themselves; returns its path. Their
   * chunks then come to emit with counts and rejects only.
   */
  share?(): string;
}

/**
 * parsePurchases on two cores for files big enough, where the compiled worker exists (not when running
 * from TypeScript sources, as the unit tests do); else in this thread. Two workers read the two halves
 * of the file while this thread stages their chunks. The halves meet at a newline byte, which is only
 * a record boundary if no quoted field spans it: the first half's reader tells whether a record ended
 * exactly there on the line where the second half's reader started, and if not (a quoted field with a
 * newline, or a file ending records with a bare CR), every chunk is dropped and one worker reads the
 * whole file. POINTSMALL_THREADS=1 keeps it in this thread, =2 uses the workers for any size.
 */
export async function parsePurchasesOnTwoCores(o: ParseInput, sink: ParseSink, onBytes?: (bytes: number) => void): Promise<ColumnPlan> {
  const setting = process.env.POINTSMALL_THREADS;
  const script = fileURLToPath(new URL('./importParseWorker.js', import.meta.url));
  const size = statSync(o.file).size;
  const big = setting === '2' || size >= THREAD_MIN_BYTES;
  if (setting === '1' || !big || !existsSync(script)) return planOf(await parsePurchases(o, sink.emit, onBytes));
  const split = await splitPoint(o, size);
  o = { ...o, stage: sink.share?.() };
  if (split) {
    const bytes = [0, 0];
    const first = inWorker(script, { ...o, part: { start: 0, end: split.at, firstLine: 1, header: null, last: false } }, sink.emit, (b) => onBytes?.((bytes[0] = b) + bytes[1]));
    const second = inWorker(script, { ...o, part: { start: split.at, end: size, firstLine: split.line, header: split.header, last: true } }, sink.emit, (b) => onBytes?.(bytes[0] + (bytes[1] = b)));
    let a: ParseResult;
    try {
      a = await first.result; // its error comes first: it is earlier in the file
    } catch (e) {
      await second.stop();
      throw e;
    }
    const met = a.plan !== null && a.atRecordEnd && a.line === split.line;
    if (met) {
      await second.result.finally(second.stop); // its error, if any, is the file's first
      return a.plan!;
    }
    await second.stop();
    sink.restart();
  }
  const whole = inWorker(script, o, sink.emit, onBytes);
  try {
    return planOf(await whole.result);
  } finally {
    await whole.stop();
  }
}

const planOf = (r: ParseResult): ColumnPlan => r.plan!; // a whole file always has one, or threw

/**
 * Where to cut the file in two: just after the first newline byte past the middle, with the line the
 * second half starts on and the header it needs; null when there is no such point (or no header).
 */
async function splitPoint(o: ParseInput, size: number): Promise<{ at: number; line: number; header: string[] } | null> {
  let header: string[] | null = null;
  const firstRecord: RecordSink = {
    push(r: CsvRecord) {
      header ??= r.fields;
    },
  };
  // (UTF-16 newlines are two bytes; a bare-CR file has no newline bytes to cut at, or only in quotes)
  if (!asciiCompatible(o.encoding)) return null;
  for await (const _ of readChunks(o, firstRecord)) if (header) break;
  if (!header) return null;
  const fd = openSync(o.file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const head = buf.subarray(0, readSync(fd, buf, 0, 1 << 16, 0));
    if (lineEnd(head.toString('latin1'), head.length < 1 << 16) !== '\n') return null;
    let at = -1;
    for (let pos = size >> 1; pos < size && at < 0; pos += buf.length) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      const k = buf.subarray(0, n).indexOf(10);
      if (k >= 0) at = pos + k + 1;
    }
    if (at < 0 || at >= size) return null;
    let line = 1;
    for (let pos = 0; pos < at; pos += buf.length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, at - pos), pos);
      if (n <= 0) break;
      for (let k = buf.indexOf(10, 0); k >= 0 && k < n; k = buf.indexOf(10, k + 1)) line++;
    }
    return { at, line, header };
  } finally {
    closeSync(fd);
  }
}

/**
 * One worker reading (a stretch of) the file, its chunks handed to emit as they come. It is stopped by
 * asking (it ends between two stretches of the file), never terminated: it may be inside an SQLite
 * call, appending to the stage.
 */
function inWorker(script: string, input: ParseInput, emit: (chunk: ParsedChunk) => void, onBytes?: (bytes: number) => void): { result: Promise<ParseResult>; stop: () => Promise<void> } {
  const worker = new Worker(script, { workerData: input });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopped = false;
  const result = new Promise<ParseResult>((resolve, reject) => {
    worker.on('message', (m: ParseMessage) => {
      if (stopped) return; // a chunk still queued when the caller dropped this worker
      try {
        if ('chunk' in m) {
          emit(m.chunk);
          onBytes?.(m.bytes);
          worker.postMessage('ack' satisfies ParseControl);
        } else if ('done' in m) resolve(m.done);
        else {
          const e = m.error.usage ? new UsageError(m.error.message, m.error.hint) : new Error(m.error.message);
          if (!m.error.usage && m.error.stack) e.stack = m.error.stack;
          if (m.error.code) Object.assign(e, { code: m.error.code }); // SQLITE_FULL of the stage: a full disk, not a bug
          reject(e);
        }
      } catch (e) {
        reject(e);
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the import's reading thread exited (${code}) before the end of the file`)));
  });
  result.catch(() => undefined); // awaited by the caller, or dropped with the worker
  return {
    result,
    stop: async () => {
      stopped = true;
      worker.postMessage('stop' satisfies ParseControl);
      await exited;
    },
  };
}
