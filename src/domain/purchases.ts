// Purchase rows: a streaming CSV tokenizer, column mapping, per-row validation into staged lines,
// timestamp formats and the content hash that tells a duplicate order from a conflicting one. Pure.
import crypto, { createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';
import dayjs from 'dayjs';
import customParseFormat from 'dayjs/plugin/customParseFormat.js';
import utc from 'dayjs/plugin/utc.js';
import { AMOUNT_MAX, type Minor, formatMoney, parseMoney } from './money.js';
import { MIN_YEAR, dateRangeProblem, localDate, parseTimestamp, zoneOffsetMinutes, zonedToUtcMs } from './time.js';

// ---- CSV tokenizer -------------------------------------------------------------------------------

export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) where the record starts. */
  line: number;
}

/** The longest a record may grow while a quote is open before the file is declared broken. */
const MAX_RECORD_CHARS = 1 << 20;

/** Where records go as they are read: an array, or a callback that consumes each at once. */
export interface RecordSink {
  push(r: CsvRecord): unknown;
}

export class CsvStructureError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/**
 * RFC 4180 tokenizer over decoded text chunks: quotes, doubled quotes, delimiters and newlines inside
 * quotes, CRLF or LF, a leading BOM. Blank lines are skipped. Records are handed out per chunk, so
 * memory holds one chunk and one unfinished record. (csv-parse measured 3.5–5 s per million rows here,
 * more than the whole import budget; rows without quotes take a split() fast path.)
 */
export class CsvTokenizer {
  private pending = '';
  private pendingLine = 1;
  private nextLine = 1;
  private started = false;
  private readonly delim: string;

  /**
   * @param firstLine the line number of the first character (a stretch of a file starts further on)
   * @param fileStart whether the text is the start of a file, where a BOM may come
   */
  constructor(delimiter = ',', firstLine = 1, fileStart = true) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(`delimiter ${JSON.stringify(delimiter)} must be one character other than a quote or newline`);
    }
    this.delim = delimiter;
    this.nextLine = firstLine;
    this.started = !fileStart;
  }

  /** Whether the text so far ended where a record ends (no unfinished record waits for more). */
  get atRecordEnd(): boolean {
    return this.pending === '';
  }

  /** The line the next record starts on. */
  get line(): number {
    return this.pending ? this.pendingLine : this.nextLine;
  }

  /** Tokenizes a chunk; complete records go to out. */
  push(chunk: string, out: RecordSink): void {
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const text = this.pending ? this.pending + chunk : chunk;
    let pos = 0;
    let line = this.pending ? this.pendingLine : this.nextLine;
    this.pending = '';
    const n = text.length;
    let q = text.indexOf('"', pos); // the next quote; -1 = none in this text, never searched again
    while (pos < n) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      if (q >= 0 && q < pos) q = text.indexOf('"', pos);
      if (q < 0 || q > nl) {
        // fast path: no quote before the end of this line
        const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > pos) out.push({ fields: text.slice(pos, end).split(this.delim), line });
        pos = nl + 1;
        line++;
        continue;
      }
      const r = this.quoted(text, pos, line, false);
      if (!r) break;
      if (r.fields) out.push({ fields: r.fields, line });
      pos = r.next;
      line = r.nextLine;
    }
    if (pos < n) {
      this.pending = text.slice(pos);
      this.pendingLine = line;
      if (this.pending.length > MAX_RECORD_CHARS) {
        throw new CsvStructureError(line, 'a quoted field is never closed (or a record is longer than 1 MB)');
      }
    }
    this.nextLine = line;
  }

  /** The last record, if the text did not end with a newline. */
  end(out: RecordSink): void {
    if (!this.pending) return;
    const text = this.pending;
    const line = this.pendingLine;
    this.pending = '';
    const r = this.quoted(text, 0, line, true);
    if (!r) throw new CsvStructureError(line, 'a quoted field is never closed');
    if (r.fields) out.push({ fields: r.fields, line });
  }

  /** Parses one record starting at pos with full quote handling; null when it needs more text. */
  private quoted(text: string, pos: number, line: number, atEnd: boolean): { fields: string[] | null; next: number; nextLine: number } | null {
    const fields: string[] = [];
    const d = this.delim.charCodeAt(0);
    const n = text.length;
    let field = '';
    let i = pos;
    let nextLine = line;
    let any = false;
    for (;;) {
      if (i < n && text.charCodeAt(i) === 34 /* " */) {
        // quoted field
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) return null;
          const part = text.slice(i, q);
          for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) nextLine++;
          field += part;
          if (q + 1 < n && text.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
            continue;
          }
          if (q + 1 >= n && !atEnd) return null;
          i = q + 1;
          break;
        }
        // anything after the closing quote up to the delimiter is kept literally (lenient)
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === d || c === 10 || c === 13) break;
          field += text[i];
          i++;
        }
        any = true;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === 10 || c === 13) break;
          j++;
        }
        if (j > i) any = true;
        field += text.slice(i, j);
        i = j;
      }
      if (i >= n) {
        if (!atEnd) return null;
        fields.push(field);
        return { fields: any || fields.length > 1 ? fields : null, next: n, nextLine: nextLine + 1 };
      }
      const c = text.charCodeAt(i);
      if (c === d) {
        fields.push(field);
        field = '';
        i++;
        any = true;
        continue;
      }
      // end of record: CR, LF or CRLF
      fields.push(field);
      if (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10) i += 2;
      else if (c === 13 && i + 1 >= n && !atEnd) return null;
      else i++;
      return { fields: any || fields.length > 1 ? fields : null, next: i, nextLine: nextLine + 1 };
    }
  }
}

// ---- Columns -------------------------------------------------------------------------------------

export const PURCHASE_FIELDS = ['order_id', 'member_id', 'purchased_at', 'amount', 'quantity', 'unit_price', 'sku', 'category'] as const;
export type PurchaseField = (typeof PURCHASE_FIELDS)[number];

export type FileFormat = 'order' | 'line';

export interface ColumnPlan {
  format: FileFormat;
  /** Index of each mapped field in the header (-1 when absent). */
  index: Record<PurchaseField, number>;
  header: string[];
}

/** Reads `field=Column` specs (repeatable, or comma-separated) into a mapping; problems name the spec. */
export function parseMapSpecs(specs: readonly string[]): { map: Partial<Record<PurchaseField, string>>; problems: string[] } {
  const map: Partial<Record<PurchaseField, string>> = {};
  const problems: string[] = [];
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      if (!part.trim()) continue;
      const eq = part.indexOf('=');
      if (eq < 0) {
        problems.push(`--map ${JSON.stringify(part)} is not field=Column`);
        continue;
      }
      const field = part.slice(0, eq).trim();
      const column = part.slice(eq + 1).trim();
      if (!(PURCHASE_FIELDS as readonly string[]).includes(field)) {
        problems.push(`--map: unknown field ${JSON.stringify(field)} (fields: ${PURCHASE_FIELDS.join(', ')})`);
      } else if (!column) problems.push(`--map ${field}= names no column`);
      else map[field as PurchaseField] = column;
    }
  }
  return { map, problems };
}

/**
 * Matches the header against the fields (a mapped column by its name, else the field's own name;
 * exact first, then ignoring case and spaces). Problems mean a wrong header: exit 2, nothing written.
 */
export function planColumns(header: readonly string[], map: Partial<Record<PurchaseField, string>>): { plan?: ColumnPlan; problems: string[] } {
  const clean = header.map((h) => h.trim());
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  const find = (name: string): number => {
    const exact = clean.indexOf(name);
    if (exact >= 0) return exact;
    return clean.findIndex((h) => norm(h) === norm(name));
  };
  const problems: string[] = [];
  const index = {} as Record<PurchaseField, number>;
  for (const f of PURCHASE_FIELDS) {
    const col = map[f];
    const i = find(col ?? f);
    if (col !== undefined && i < 0) problems.push(`--map ${f}=${col}: the header has no column ${JSON.stringify(col)}`);
    index[f] = i;
  }
  for (const f of ['order_id', 'member_id', 'purchased_at'] as const) {
    if (index[f] < 0 && map[f] === undefined) problems.push(`missing column ${f}`);
  }
  const hasLine = index.quantity >= 0 && index.unit_price >= 0;
  if (!hasLine && index.amount < 0) {
    if (index.quantity >= 0 || index.unit_price >= 0) problems.push(`missing column ${index.quantity >= 0 ? 'unit_price' : 'quantity'} (line-level files need quantity and unit_price)`);
    else problems.push('missing column amount (or quantity and unit_price for one row per line)');
  }
  if (problems.length) return { problems };
  return { plan: { format: hasLine ? 'line' : 'order', index, header: clean }, problems };
}

// ---- Timestamps ----------------------------------------------------------------------------------

let dayjsReady = false;
function ensureDayjs(): void {
  if (dayjsReady) return;
  dayjs.extend(customParseFormat);
  dayjs.extend(utc);
  dayjsReady = true;
}

/**
 * Calendar conversions in one zone, memoised per calendar day for bulk work (an import of a million
 * rows). A day in which the zone's offset changes (a DST switch) is never memoised: those instants go
 * through domain/time.ts itself, so the results are always exactly time.ts's.
 */
export class ZoneCalendar {
  private readonly wallDayOffset = new Map<number, number>(); // wall-clock day index → utc − wall (ms), NaN = irregular
  private readonly utcDayOffset = new Map<number, number>(); // UTC day index → local − utc (ms), NaN = irregular
  private readonly dayNames = new Map<number, string>();
  constructor(readonly zone: string) {}

  /** The UTC instant of a wall-clock time in the zone. */
  wallToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
    const wallDay = Date.UTC(y, mo - 1, d);
    const key = wallDay / 86_400_000;
    let off = this.wallDayOffset.get(key);
    if (off === undefined) {
      const start = zonedToUtcMs(this.zone, y, mo, d, 0, 0, 0);
      const end = zonedToUtcMs(this.zone, y, mo, d, 23, 59, 59);
      off = end - start === 86_399_000 ? start - wallDay : NaN;
      if (this.wallDayOffset.size > 50_000) this.wallDayOffset.clear();
      this.wallDayOffset.set(key, off);
    }
    if (Number.isNaN(off)) return zonedToUtcMs(this.zone, y, mo, d, h, mi, s, ms);
    return wallDay + off + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
  }

  /** The calendar date (YYYY-MM-DD) in the zone of the instant. */
  localDate(utcMs: number): string {
    const key = Math.floor(utcMs / 86_400_000);
    let off = this.utcDayOffset.get(key);
    if (off === undefined) {
      const a = zoneOffsetMinutes(this.zone, key * 86_400_000);
      const b = zoneOffsetMinutes(this.zone, key * 86_400_000 + 86_399_999);
      off = a === b ? a * 60_000 : NaN;
      if (this.utcDayOffset.size > 50_000) this.utcDayOffset.clear();
      this.utcDayOffset.set(key, off);
    }
    if (Number.isNaN(off)) return localDate(utcMs, this.zone);
    const day = Math.floor((utcMs + off) / 86_400_000);
    let name = this.dayNames.get(day);
    if (name === undefined) {
      name = new Date(day * 86_400_000).toISOString().slice(0, 10);
      if (this.dayNames.size > 50_000) this.dayNames.clear();
      this.dayNames.set(day, name);
    }
    return name;
  }
}

/**
 * parseTimestamp made fast for the common shapes `YYYY-MM-DD` and `YYYY-MM-DD HH:mm[:ss]` (T or
 * space) without an offset; every other shape goes through parseTimestamp itself.
 */
function isoParser(cal: ZoneCalendar): (text: string) => number | null {
  const d2 = (t: string, i: number) => {
    const a = t.charCodeAt(i) - 48, b = t.charCodeAt(i + 1) - 48;
    return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
  };
  return (raw) => {
    const t = raw.length === 10 || raw.length === 16 || raw.length === 19 ? raw : raw.trim();
    const len = t.length;
    if ((len === 10 || len === 16 || len === 19) && t.charCodeAt(4) === 45 && t.charCodeAt(7) === 45) {
      const c1 = d2(t, 0), c2 = d2(t, 2), mo = d2(t, 5), d = d2(t, 8);
      let h = 0, mi = 0, s = 0;
      let ok = c1 >= 0 && c2 >= 0 && mo >= 0 && d >= 0;
      if (ok && len >= 16) {
        const sep = t.charCodeAt(10);
        h = d2(t, 11);
        mi = d2(t, 14);
        ok = (sep === 32 || sep === 84) && t.charCodeAt(13) === 58 && h >= 0 && mi >= 0;
        if (ok && len === 19) {
          s = d2(t, 17);
          ok = t.charCodeAt(16) === 58 && s >= 0;
        }
      }
      if (ok) {
        const y = c1 * 100 + c2;
        if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || y < MIN_YEAR || h > 23 || mi > 59 || s > 59) return null;
        return cal.wallToUtc(y, mo, d, h, mi, s);
      }
    }
    return parseTimestamp(raw, cal.zone);
  };
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** A dayjs format must say at least a year, a month and a day. */
export function dateFormatProblem(format: string): string | null {
  const tokens = format.replace(/\[[^\]]*\]/g, '');
  if (!/Y/.test(tokens) || !/M/.test(tokens) || !/D/.test(tokens)) return `--date-format ${JSON.stringify(format)} must contain a year (YYYY), month (M or MM) and day (D or DD)`;
  return null;
}

/**
 * A parser of purchase timestamps into UTC ms (null = bad). Default: the ISO forms of SPEC §3 on the
 * hand-written fast path; with a format, dayjs customParseFormat in strict mode, so 2/30/2026 is
 * refused rather than moved. Without an offset the time is wall-clock time in the ledger's zone.
 */
export function makeDateParser(zone: string | ZoneCalendar, format?: string): (text: string) => number | null {
  const cal = typeof zone === 'string' ? new ZoneCalendar(zone) : zone;
  if (!format) return isoParser(cal);
  ensureDayjs();
  const hasOffset = /Z/.test(format.replace(/\[[^\]]*\]/g, ''));
  const cache = new Map<string, number | null>();
  return (raw) => {
    const text = raw.trim();
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    let out: number | null = null;
    const d = dayjs.utc(text, format, true);
    if (d.isValid() && d.year() >= MIN_YEAR) {
      out = hasOffset ? d.valueOf() : cal.wallToUtc(d.year(), d.month() + 1, d.date(), d.hour(), d.minute(), d.second(), d.millisecond());
    }
    if (cache.size > 50_000) cache.clear();
    cache.set(text, out);
    return out;
  };
}

// ---- Rows ----------------------------------------------------------------------------------------

/** One good row, as staged: a line of an order (or the whole order in an order-level file). */
export interface StagedLine {
  orderId: string;
  line: number;
  memberId: string;
  at: number; // UTC ms
  amount: Minor; // quantity × unit_price, or the order amount; negative = a return
  sku: string | null;
  category: string | null;
  quantity: string | null; // normalised decimal text (line-level files)
  unitPrice: string | null; // minor units, or ~decimal for a price finer than the currency
}

export type RowResult =
  | { kind: 'ok'; row: StagedLine }
  | { kind: 'guest' } // no member id and --skip-guests
  | { kind: 'bad'; reason: string; orderId: string | null };

export interface RowContext {
  plan: ColumnPlan;
  digits: number;
  parseDate: (text: string) => number | null;
  skipGuests: boolean;
  /** Purchases after this instant are refused (a till clock in the future is a bad row). */
  notAfterMs: number;
  dateFormat?: string;
}

const QTY_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;
const FINE_PRICE_RE = /^[+-]?\d{1,12}\.\d{1,6}$/;

/** Validates one record into a staged line, or a reason naming the column and the bad value. */
export function parseRow(fields: readonly string[], ctx: RowContext): RowResult {
  const { index, header, format } = ctx.plan;
  const name = (f: PurchaseField) => (header[index[f]] === f ? f : `${header[index[f]]} (${f})`);
  if (fields.length !== header.length) {
    const orderId = index.order_id < fields.length ? fields[index.order_id]?.trim() || null : null;
    return { kind: 'bad', reason: `has ${fields.length} fields, the header has ${header.length}`, orderId };
  }
  const orderId = fields[index.order_id].trim();
  if (!orderId) return { kind: 'bad', reason: `${name('order_id')} is empty`, orderId: null };
  const memberId = fields[index.member_id].trim();
  if (!memberId) {
    if (ctx.skipGuests) return { kind: 'guest' };
    return { kind: 'bad', reason: `${name('member_id')} is empty: a guest purchase (pass --skip-guests to drop these)`, orderId };
  }
  const atText = fields[index.purchased_at].trim();
  const at = atText ? ctx.parseDate(atText) : null;
  if (at === null) {
    const early = ctx.dateFormat ? null : dateRangeProblem(atText);
    if (early) return { kind: 'bad', reason: `${name('purchased_at')} ${early}`, orderId };
    const want = ctx.dateFormat ? `the format ${ctx.dateFormat}` : 'an ISO date or date-time like 2026-11-01 09:30';
    return { kind: 'bad', reason: `${name('purchased_at')} ${JSON.stringify(atText)} is not a valid date-time (expected ${want})`, orderId };
  }
  if (at > ctx.notAfterMs) return { kind: 'bad', reason: `${name('purchased_at')} ${JSON.stringify(atText)} is in the future`, orderId };
  const sku = index.sku >= 0 ? fields[index.sku].trim() || null : null;
  const category = index.category >= 0 ? fields[index.category].trim() || null : null;

  if (format === 'order') {
    const text = fields[index.amount];
    const m = parseMoney(text, ctx.digits);
    if (!m.ok) return { kind: 'bad', reason: `${name('amount')}: ${m.problem}`, orderId };
    return { kind: 'ok', row: { orderId, line: 0, memberId, at, amount: m.value, sku, category, quantity: null, unitPrice: null } };
  }
  const qText = fields[index.quantity].trim();
  const q = QTY_RE.exec(qText);
  if (!q) return { kind: 'bad', reason: `${name('quantity')} ${JSON.stringify(qText)} is not a number`, orderId };
  const pText = fields[index.unit_price].trim();
  const p = parseMoney(pText, ctx.digits);
  // A unit price finer than the currency (0.001 a piece) is fine: the line amount is rounded once.
  const fine = !p.ok && FINE_PRICE_RE.test(pText) ? new Decimal(pText) : null;
  if (!p.ok && !fine) return { kind: 'bad', reason: `${name('unit_price')}: ${p.problem}`, orderId };
  let amount: number;
  let quantity: string;
  const integral = !q[3] || /^0*$/.test(q[3]);
  if (integral && p.ok) {
    const n = Number(q[2]) * (q[1] === '-' ? -1 : 1);
    quantity = String(n === 0 ? 0 : n);
    amount = n * p.value;
  } else {
    // fractional quantities (weights) or fine prices: the line amount is rounded half-up to whole minor units
    const dq = new Decimal(qText);
    quantity = dq.toString();
    const price = fine ? fine.times(new Decimal(10).pow(ctx.digits)) : new Decimal(p.ok ? p.value : 0);
    amount = dq.times(price).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  }
  if (!Number.isSafeInteger(amount) || Math.abs(amount) > AMOUNT_MAX) return { kind: 'bad', reason: `quantity × unit_price is too large an amount (at most ${formatMoney(AMOUNT_MAX, ctx.digits)})`, orderId };
  if (amount === 0) amount = 0; // no -0
  return { kind: 'ok', row: { orderId, line: 0, memberId, at, amount, sku, category, quantity, unitPrice: p.ok ? String(p.value) : `~${fine!.toString()}` } };
}

// ---- Orders --------------------------------------------------------------------------------------

/** The lines of one order as read back from staging, in file order. */
export interface OrderLine {
  line: number;
  memberId: string;
  at: number;
  amount: Minor;
  sku: string | null;
  category: string | null;
  quantity: string | null;
  unitPrice: string | null;
}

export interface Order {
  orderId: string;
  memberId: string;
  at: number;
  amount: Minor; // net
  lines: OrderLine[];
  contentHash: string;
}

const oneShot = (crypto as { hash?: (alg: string, data: string, enc: string) => string }).hash;
const sha1 = oneShot ? (text: string) => oneShot('sha1', text, 'base64url') : (text: string) => createHash('sha1').update(text).digest('base64url');

/**
 * One line's share of an order's content hash, from its values as text ('' for none): its time and
 * every value it came with. The one place this text is made.
 */
export function hashPartOf(at: number, sku: string, category: string, quantity: string, unitPrice: string, amount: string): string {
  return `${at}\u001f${sku}\u001f${category}\u001f${quantity}\u001f${unitPrice}\u001f${amount}`;
}

/** One line's share of an order's content hash. */
export function contentHashPart(l: Pick<OrderLine, 'at' | 'sku' | 'category' | 'quantity' | 'unitPrice' | 'amount'>): string {
  return hashPartOf(l.at, l.sku ?? '', l.category ?? '', l.quantity ?? '', l.unitPrice ?? '', String(l.amount));
}

/**
 * The hash of what an order says: member and the multiset of its lines with their times (the order of
 * rows in the file does not matter). The same key with another hash is a conflict. `parts`, when given,
 * are the lines' contentHashParts (from a caller that built them already; they get sorted).
 */
export function orderContentHash(memberId: string, lines: readonly OrderLine[], parts?: string[]): string {
  const p = parts ?? lines.map(contentHashPart);
  if (p.length > 1) p.sort();
  return sha1(p.length === 1 ? `${memberId}\u001e${p[0]}` : `${memberId}\u001e${p.join('\u001e')}`);
}

/**
 * Assembles an order from its lines. All lines must name the same member; lines stamped at different
 * minutes (a till that rang up across a minute) are one order at the earliest time. In an order-level
 * file a second row with the same order id is a repeat (same content: a duplicate; else a conflict).
 * `parts`, when given, are the lines' contentHashParts in the same order (from a caller that built
 * them already); a repeat's part is returned with it, so the caller can compare it with the order's.
 */
export function buildOrder(
  orderId: string,
  lines: readonly OrderLine[],
  format: FileFormat,
  parts?: string[],
): { order: Order; repeats: OrderLine[]; ownPart: string; repeatParts: string[] } | { problem: string } {
  const first = lines[0];
  for (const l of lines) {
    if (l.memberId !== first.memberId) return { problem: `order ${orderId} names member ${first.memberId} on line ${first.line} but ${l.memberId} on line ${l.line}` };
  }
  const all = parts ?? lines.map(contentHashPart);
  const ownPart = all[0];
  const own = format === 'order' ? [first] : lines.slice();
  const repeats = format === 'order' ? lines.slice(1) : [];
  const ownParts = format === 'order' ? [ownPart] : all;
  const repeatParts = format === 'order' ? all.slice(1) : [];
  let amount = 0;
  let at = own[0].at;
  for (const l of own) {
    amount += l.amount;
    if (l.at < at) at = l.at;
  }
  if (!Number.isSafeInteger(amount) || Math.abs(amount) > AMOUNT_MAX) return { problem: `order ${orderId} totals too large an amount (at most ${AMOUNT_MAX} minor units)` };
  return {
    order: { orderId, memberId: first.memberId, at, amount, lines: own, contentHash: orderContentHash(first.memberId, own, ownParts) },
    repeats,
    repeatParts,
    ownPart,
  };
}

// ---- Profiles ------------------------------------------------------------------------------------

export interface ImportProfile {
  map?: Partial<Record<PurchaseField, string>>;
  source?: string;
  dateFormat?: string;
  encoding?: Encoding;
  delimiter?: string;
  createMembers?: boolean;
  skipGuests?: boolean;
}

export type Encoding = 'utf8' | 'gbk' | 'latin1';

/** Reads an encoding name (utf8, utf-8, gbk, gb2312, latin1, iso-8859-1, cp1252…). */
export function normaliseEncoding(name: string): Encoding | null {
  const n = name.trim().toLowerCase().replace(/[_\s]/g, '-');
  if (n === 'utf8' || n === 'utf-8' || n === 'utf-8-bom') return 'utf8';
  if (n === 'gbk' || n === 'gb2312' || n === 'cp936' || n === 'gb18030') return 'gbk';
  if (['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'cp1252', 'windows-1252', 'win1252'].includes(n)) return 'latin1';
  return null;
}

/** Reads a --delimiter value: one character, or tab / \t / comma / semicolon / pipe by name. */
export function normaliseDelimiter(text: string): string | null {
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|', space: ' ' };
  const d = named[text.toLowerCase()] ?? text;
  if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') return null;
  return d;
}

/** Validates a parsed profile file; problems name the JSON path. */
export function validateProfile(doc: unknown): { profile?: ImportProfile; problems: string[] } {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { problems: ['$: a profile must be a JSON object'] };
  const o = doc as Record<string, unknown>;
  const known = ['map', 'source', 'dateFormat', 'encoding', 'delimiter', 'createMembers', 'skipGuests', 'description'];
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`$.${k}: unknown field (expected one of ${known.join(', ')})`);
  const p: ImportProfile = {};
  if (o.map !== undefined) {
    if (typeof o.map !== 'object' || o.map === null || Array.isArray(o.map)) problems.push('$.map: must be an object like {"order_id": "InvoiceNo"}');
    else {
      p.map = {};
      for (const [k, v] of Object.entries(o.map)) {
        if (!(PURCHASE_FIELDS as readonly string[]).includes(k)) problems.push(`$.map.${k}: unknown field (fields: ${PURCHASE_FIELDS.join(', ')})`);
        else if (typeof v !== 'string' || !v.trim()) problems.push(`$.map.${k}: must be a column name`);
        else p.map[k as PurchaseField] = v.trim();
      }
    }
  }
  const str = (k: string): string | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'string' || !(o[k] as string).trim()) return void problems.push(`$.${k}: must be a non-empty string`);
    return o[k] as string;
  };
  p.source = str('source');
  p.dateFormat = str('dateFormat');
  if (p.dateFormat) {
    const pr = dateFormatProblem(p.dateFormat);
    if (pr) problems.push(`$.dateFormat: ${pr.replace(/^--date-format /, '')}`);
  }
  const enc = str('encoding');
  if (enc !== undefined) {
    const e = normaliseEncoding(enc);
    if (!e) problems.push(`$.encoding: ${JSON.stringify(enc)} is not one of utf8, gbk, latin1`);
    else p.encoding = e;
  }
  const del = str('delimiter');
  if (del !== undefined) {
    const d = normaliseDelimiter(del);
    if (!d) problems.push(`$.delimiter: ${JSON.stringify(del)} must be one character`);
    else p.delimiter = d;
  }
  for (const k of ['createMembers', 'skipGuests'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'boolean') problems.push(`$.${k}: must be true or false`);
    else p[k] = o[k] as boolean;
  }
  return problems.length ? { problems } : { profile: p, problems };
}
