// Phase 1 of `import purchases`: the file read, decoded and tokenized, every row validated, the good
// lines grouped per order and packed, in chunks of a few thousand rows for the caller to stage. It
// reads nothing but the file, so it runs in a worker thread as well as in the calling one.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import {
  type ColumnPlan,
  type CsvRecord,
  CsvStructureError,
  CsvTokenizer,
  type Encoding,
  type PurchaseField,
  type RecordSink,
  type RowContext,
  ZoneCalendar,
  makeDateParser,
  parseRow,
  planColumns,
} from '../domain/purchases.js';
import type { StageGroup } from '../store/purchases.js';
import { joinLines, packLine } from './orderFeed.js';

/** How to read the file (the resolved import options). */
export interface ReadInput {
  file: string;
  encoding: Encoding;
  delimiter: string;
}

/** What validating its rows needs besides: the mapping, formats and the ledger's settings. */
export interface ParseInput extends ReadInput {
  map: Partial<Record<PurchaseField, string>>;
  dateFormat?: string;
  skipGuests: boolean;
  digits: number;
  zone: string;
  notAfterMs: number;
}

/** One stretch of the file: groups of good lines, bad rows' order ids, rejects, and what was counted. */
export interface ParsedChunk {
  groups: StageGroup[];
  bad: [orderId: string, line: number][];
  rejects: [line: number, reason: string, vals: string | null][];
  rows: number;
  guests: number;
}

/**
 * Streams the file's records into the sink as they are tokenized (decoded: utf8 with or without BOM,
 * GBK, Latin-1/cp1252), yielding after each chunk of the file so the caller can flush its work.
 */
export async function* readChunks(o: ReadInput, sink: RecordSink, onBytes?: (bytes: number) => void): AsyncGenerator<void> {
  const tok = new CsvTokenizer(o.delimiter);
  let decode: (b: Buffer) => string;
  let flush: () => string;
  if (o.encoding === 'utf8') {
    const d = new StringDecoder('utf8');
    decode = (b) => d.write(b);
    flush = () => d.end();
  } else {
    const iconv = (await import('iconv-lite')).default;
    const d = iconv.getDecoder(o.encoding === 'gbk' ? 'gbk' : 'win1252');
    decode = (b) => d.write(b);
    flush = () => d.end() ?? '';
  }
  let bytes = 0;
  try {
    for await (const buf of createReadStream(o.file, { highWaterMark: 1 << 18 })) {
      bytes += (buf as Buffer).length;
      tok.push(decode(buf as Buffer), sink);
      onBytes?.(bytes);
      yield;
    }
    const rest = flush();
    if (rest) tok.push(rest, sink);
    tok.end(sink);
    yield;
  } catch (e) {
    if (e instanceof CsvStructureError) throw new UsageError(`${o.file}:${e.line}: ${e.message}`, 'fix the quoting and run again; nothing was written');
    if ((e as { code?: string }).code === 'EACCES' || (e as { code?: string }).code === 'EISDIR') throw new UsageError(`cannot read ${o.file}: ${(e as Error).message}`);
    throw e;
  }
}

/** Rows per chunk: small enough that its objects die young. */
const CHUNK = 5_000;

/**
 * Reads and validates the whole file, handing each chunk to `emit`; returns the column plan. `pause`
 * runs between stretches of the file (a worker waits there for the stager to catch up).
 */
export async function parsePurchases(o: ParseInput, emit: (chunk: ParsedChunk) => void, onBytes?: (bytes: number) => void, pause?: () => Promise<void>): Promise<ColumnPlan> {
  let plan: ColumnPlan | undefined;
  let ctx: RowContext | undefined;
  let groups = new Map<string, { g: StageGroup; parts: string[] }>();
  let chunk: ParsedChunk = { groups: [], bad: [], rejects: [], rows: 0, guests: 0 };
  const flushChunk = () => {
    for (const { g, parts } of groups.values()) {
      g.lines = joinLines(parts);
      chunk.groups.push(g);
    }
    emit(chunk);
    groups = new Map();
    chunk = { groups: [], bad: [], rejects: [], rows: 0, guests: 0 };
  };
  const sink: RecordSink = {
    push(rec: CsvRecord) {
      if (!plan) {
        const p = planColumns(rec.fields, o.map);
        if (!p.plan) {
          throw new UsageError(`${o.file}:${rec.line}: wrong header: ${p.problems.join('; ')}`, `the header has ${rec.fields.map((h) => JSON.stringify(h.trim())).join(', ')}; map columns with --map field=Column (fields: order_id, member_id, purchased_at, amount or quantity + unit_price, sku, category)`);
        }
        plan = p.plan;
        ctx = { plan, digits: o.digits, parseDate: makeDateParser(new ZoneCalendar(o.zone), o.dateFormat), skipGuests: o.skipGuests, notAfterMs: o.notAfterMs, dateFormat: o.dateFormat };
        return;
      }
      chunk.rows++;
      const r = parseRow(rec.fields, ctx!);
      if (r.kind === 'ok') {
        const row = r.row;
        const packed = packLine(rec.line, row);
        let key = row.orderId;
        let e = groups.get(key);
        if (e && (e.g.memberId !== row.memberId || e.g.at !== row.at)) {
          key = `${row.orderId}\u0000${rec.line}`;
          e = undefined;
        }
        if (e) e.parts.push(packed);
        else groups.set(key, { g: { orderId: row.orderId, memberId: row.memberId, at: row.at, firstLine: rec.line, lines: '' }, parts: [packed] });
      } else if (r.kind === 'guest') chunk.guests++;
      else {
        chunk.rejects.push([rec.line, r.reason, JSON.stringify(rec.fields)]);
        if (r.orderId) chunk.bad.push([r.orderId, rec.line]);
      }
      if (chunk.rows >= CHUNK) flushChunk();
    },
  };
  for await (const _ of readChunks(o, sink, onBytes)) if (pause) await pause();
  if (!plan) throw new UsageError(`${o.file} is empty: a header row is required`, 'the first line names the columns: order_id,member_id,purchased_at,amount (or quantity,unit_price)');
  flushChunk();
  return plan;
}

// ---- on the second core ---------------------------------------------------------------------------

/** Chunks the worker may run ahead of the stager (bounded memory). */
export const AHEAD = 8;
/** Below this file size a worker's start-up outweighs what it saves. */
const THREAD_MIN_BYTES = 4 << 20;

export type ParseMessage =
  | { chunk: ParsedChunk; bytes: number }
  | { plan: ColumnPlan }
  | { error: { message: string; hint?: string; usage: boolean; stack?: string } };

/**
 * parsePurchases in a worker thread while this thread stages the chunks, for files big enough and
 * where the compiled worker exists (not when running from TypeScript sources, as the unit tests do);
 * else in this thread. POINTSMALL_THREADS=1 keeps it in this thread, =2 uses the worker for any size.
 */
export async function parsePurchasesOnTwoCores(o: ParseInput, emit: (chunk: ParsedChunk) => void, onBytes?: (bytes: number) => void): Promise<ColumnPlan> {
  const setting = process.env.POINTSMALL_THREADS;
  const script = fileURLToPath(new URL('./importParseWorker.js', import.meta.url));
  const big = setting === '2' || statSync(o.file).size >= THREAD_MIN_BYTES;
  if (setting === '1' || !big || !existsSync(script)) return parsePurchases(o, emit, onBytes);
  const worker = new Worker(script, { workerData: o });
  try {
    return await new Promise<ColumnPlan>((resolve, reject) => {
      worker.on('message', (m: ParseMessage) => {
        try {
          if ('chunk' in m) {
            emit(m.chunk);
            onBytes?.(m.bytes);
            worker.postMessage('ack');
          } else if ('plan' in m) resolve(m.plan);
          else {
            const e = m.error.usage ? new UsageError(m.error.message, m.error.hint) : new Error(m.error.message);
            if (!m.error.usage && m.error.stack) e.stack = m.error.stack;
            reject(e);
          }
        } catch (e) {
          reject(e);
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the import's reading thread exited (${code}) before the end of the file`)));
    });
  } finally {
    await worker.terminate();
  }
}
