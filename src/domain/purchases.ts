// Purchase rows: a streaming CSV tokenizer, column mapping, per-row validation into staged lines,
// timestamp formats and the content hash that tells a duplicate order from a conflicting one. Pure.
import crypto, { createHash } from 'node:crypto';
import { Decimal as BaseDecimal } from 'decimal.js';

// Exact for every amount an import reads: 12 integer digits and 20 decimals, times a quantity, summed over
// an order (decimal.js keeps 20 significant digits by default, and would round such a product).
const Decimal = BaseDecimal.clone({ precision: 80 });
type Decimal = BaseDecimal;
import { ENCODING_NAMES, type Encoding, normaliseEncoding, UTF16_WITHOUT_BOM } from './encoding.js';
import { AMOUNT_MAX, type Minor, formatMoney, parseMoney, quantityHint } from './money.js';
import { MIN_YEAR, dateRangeProblem, daysInMonth, dstGap, unreadTimestampReason, localDate, readIsoParts, zoneOffsetMinutes, zonedToUtcMs, zonedToUtcMsExact } from './time.js';
import { controlCharProblem, duplicateColumnProblem, lookalikeCharsProblem, trimAscii } from './text.js';

// ---- CSV tokenizer -------------------------------------------------------------------------------

export interface CsvRecord {
  fields: string[];
  /** Physical line (1-based) where the record starts. */
  line: number;
  /** Physical lines it runs over: more than 1 when a quoted field holds line breaks. */
  lines: number;
}

/** The longest a record may grow while a quote is open before the file is declared broken. */
const MAX_RECORD_CHARS = 1 << 20;

/**
 * Whether text[pos, end) is a blank record: nothing but delimiters, spaces and tabs (a spreadsheet's empty
 * row, `,,,`), skipped like an empty line: it holds nothing to import or to lose. Reads one character of
 * any other record.
 */
function blankRecord(text: string, pos: number, end: number, delim: string): boolean {
  const d = delim.charCodeAt(0);
  for (let i = pos; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== d && c !== 32 && c !== 9) return false;
  }
  return true;
}
const blankFields = (fields: readonly string[]): boolean => fields.every((f) => blankRecord(f, 0, f.length, '\t'));

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
 * quotes, CRLF or LF, a leading BOM. Blank lines are skipped, and so are lines of nothing but delimiters and spaces. Records are handed out per chunk, so
 * memory holds one chunk and one unfinished record. (csv-parse measured 3.5–5 s per million rows here,
 * more than the whole import budget; rows without quotes take a split() fast path.)
 */
export class CsvTokenizer {
  private pending = '';
  private pendingLine = 1;
  private nextLine = 1;
  private started = false;
  private readonly delim: string;
  private readonly delimCode: number;
  /**
   * The character that ends a line: '\n' (LF and CRLF files) or '\r' (a file whose first line ends
   * with a bare CR: classic Mac, Excel for Mac). Decided by the first line end seen (null until then).
   */
  private eol: '\n' | '\r' | null = null;

  /**
   * @param firstLine the line number of the first character (a stretch of a file starts further on)
   * @param fileStart whether the text is the start of a file, where a BOM may come
   */
  constructor(delimiter = ',', firstLine = 1, fileStart = true) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(`delimiter ${JSON.stringify(delimiter)} must be one character other than a quote or newline`);
    }
    this.delim = delimiter;
    this.delimCode = delimiter.charCodeAt(0);
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
    const eol = (this.eol ??= lineEnd(text, false)) ?? '\n';
    const cr = eol === '\r';
    let pos = 0;
    let line = this.pending ? this.pendingLine : this.nextLine;
    this.pending = '';
    const n = text.length;
    let q = text.indexOf('"', pos); // the next quote; -1 = none in this text, never searched again
    while (pos < n) {
      const nl = text.indexOf(eol, pos);
      if (nl < 0) break;
      if (q >= 0 && q < pos) q = text.indexOf('"', pos);
      if (q < 0 || q > nl) {
        // fast path: no quote before the end of this line
        const end = !cr && nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > pos) {
          const c0 = text.charCodeAt(pos); // (most records begin with a character that is not blank)
          if (!((c0 === this.delimCode || c0 === 32 || c0 === 9) && blankRecord(text, pos, end, this.delim))) out.push({ fields: text.slice(pos, end).split(this.delim), line, lines: 1 });
        }
        pos = nl + 1;
        line++;
        continue;
      }
      const r = this.quoted(text, pos, line, false);
      if (!r) break;
      if (r.fields) out.push({ fields: r.fields, line, lines: r.nextLine - line });
      pos = r.next;
      line = r.nextLine;
    }
    if (pos < n) {
      this.pending = text.slice(pos);
      this.pendingLine = line;
      if (this.pending.length > MAX_RECORD_CHARS) {
        throw new CsvStructureError(
          line,
          this.pending.includes('"') ? 'a quoted field is never closed, or a record is longer than 1 MB (the most one record may hold)' : 'a record is longer than 1 MB (no line end within it): not a purchase export, or a field that is not one',
        );
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
    this.eol ??= lineEnd(text, true);
    let pos = 0;
    let at = line;
    // a text with no line end after its last record holds that record, or (a first chunk that was all
    // of a small file) every record: read them all
    while (pos < text.length) {
      const r = this.quoted(text, pos, at, true);
      if (!r) throw new CsvStructureError(at, 'a quoted field is never closed');
      if (r.fields) out.push({ fields: r.fields, line: at, lines: r.nextLine - at });
      pos = r.next;
      at = r.nextLine;
    }
    this.nextLine = at;
  }

  /** Parses one record starting at pos with full quote handling; null when it needs more text. */
  private quoted(text: string, pos: number, line: number, atEnd: boolean): { fields: string[] | null; next: number; nextLine: number } | null {
    const fields: string[] = [];
    const d = this.delim.charCodeAt(0);
    const n = text.length;
    let field = '';
    let i = pos;
    let nextLine = line;
    let quotes = false;
    for (;;) {
      if (i < n && text.charCodeAt(i) === 34 /* " */) {
        // quoted field
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) return null;
          const part = text.slice(i, q);
          const eol = this.eol ?? '\n';
          for (let k = part.indexOf(eol); k >= 0; k = part.indexOf(eol, k + 1)) nextLine++;
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
        quotes = true;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === 10 || c === 13) break;
          j++;
        }
        field += text.slice(i, j);
        i = j;
      }
      if (i >= n) {
        if (!atEnd) return null;
        fields.push(field);
        return { fields: quotes || !blankFields(fields) ? fields : null, next: n, nextLine: nextLine + 1 };
      }
      const c = text.charCodeAt(i);
      if (c === d) {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      // end of record: CR, LF or CRLF
      fields.push(field);
      if (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10) i += 2;
      else if (c === 13 && i + 1 >= n && !atEnd) return null;
      else i++;
      return { fields: quotes || !blankFields(fields) ? fields : null, next: i, nextLine: nextLine + 1 };
    }
  }
}

/**
 * The line end of a text by its first one: '\n' for LF or CRLF, '\r' for a bare CR; null when the text
 * has none yet (or ends in a CR whose next character is still to come, unless `atEnd`).
 */
export function lineEnd(text: string, atEnd: boolean): '\n' | '\r' | null {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr < 0) return lf < 0 ? null : '\n';
  if (lf >= 0 && lf < cr) return '\n';
  if (cr + 1 < text.length) return text.charCodeAt(cr + 1) === 10 ? '\n' : '\r';
  return atEnd ? '\r' : null;
}

// ---- Columns -------------------------------------------------------------------------------------

export const PURCHASE_FIELDS = ['order_id', 'member_id', 'purchased_at', 'amount', 'quantity', 'unit_price', 'line_amount', 'sku', 'category'] as const;
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
      else if (map[field as PurchaseField] !== undefined && map[field as PurchaseField] !== column) {
        // never "the last one wins": which column holds the order id decides what is one order
        problems.push(`--map names ${field} twice (${map[field as PurchaseField]} and ${column}): give it one column`);
      } else map[field as PurchaseField] = column;
    }
  }
  return { map, problems };
}

/**
 * Matches the header against the fields (a mapped column by its name, else the field's own name;
 * exact first, then ignoring case and spaces). Problems mean a wrong header: exit 2, nothing written.
 */
export function planColumns(header: readonly string[], map: Partial<Record<PurchaseField, string>>): { plan?: ColumnPlan; problems: string[]; duplicate?: boolean } {
  const clean = header.map((h) => h.trim());
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  const find = (name: string): number => {
    const exact = clean.indexOf(name);
    if (exact >= 0) return exact;
    return clean.findIndex((h) => norm(h) === norm(name));
  };
  const problems: string[] = [];
  const twice = duplicateColumnProblem(header, [...PURCHASE_FIELDS, ...Object.values(map).filter((c): c is string => typeof c === 'string')]);
  if (twice) return { problems: [twice], duplicate: true };
  const index = {} as Record<PurchaseField, number>;
  for (const f of PURCHASE_FIELDS) {
    const col = map[f];
    const i = find(col ?? f);
    if (col !== undefined && i < 0) problems.push(`--map ${f}=${col}: the header has no column ${JSON.stringify(col)}`);
    index[f] = i;
  }
  // a column mapped to a field is that field's alone: `--map line_amount=amount` reads column amount as
  // line totals, and the amount field no longer finds it by its own name
  const mapped = new Set(PURCHASE_FIELDS.filter((f) => map[f] !== undefined && index[f] >= 0).map((f) => index[f]));
  for (const f of PURCHASE_FIELDS) if (map[f] === undefined && mapped.has(index[f])) index[f] = -1;
  for (const f of ['order_id', 'member_id', 'purchased_at'] as const) {
    if (index[f] >= 0 || map[f] !== undefined) continue;
    const own = find(f);
    const taker = own < 0 ? undefined : PURCHASE_FIELDS.find((g) => map[g] !== undefined && index[g] === own);
    problems.push(taker ? `missing column ${f}: column ${JSON.stringify(clean[own])} is mapped to ${taker} (--map ${taker}=${map[taker]}); map ${f} to a column of its own` : `missing column ${f}`);
  }
  // two fields mapped to one column (`--map order_id=Inv --map member_id=Inv`): each invoice its own member (trial 32)
  for (let a = 0; a < PURCHASE_FIELDS.length; a++) {
    for (let b = a + 1; b < PURCHASE_FIELDS.length; b++) {
      const [fa, fb] = [PURCHASE_FIELDS[a], PURCHASE_FIELDS[b]];
      if (index[fa] >= 0 && index[fa] === index[fb]) problems.push(`--map gives ${fa} and ${fb} one column, ${JSON.stringify(clean[index[fa]])}: give each field a column of its own`);
    }
  }
  const hasLine = (index.quantity >= 0 && index.unit_price >= 0) || index.line_amount >= 0;
  if (!hasLine && index.amount < 0) {
    if (index.quantity >= 0 || index.unit_price >= 0) problems.push(`missing column ${index.quantity >= 0 ? 'unit_price' : 'quantity'} (line-level files need quantity and unit_price, or line_amount)`);
    else problems.push('missing column amount (or quantity and unit_price, or line_amount, for one row per line)');
  }
  // a map that the file's shape leaves unused is a mistake to say, not to skip (trial 32)
  if (hasLine && map.amount !== undefined && index.amount >= 0) {
    const by = index.line_amount >= 0 ? `column ${JSON.stringify(clean[index.line_amount])} (line_amount) makes` : 'columns quantity and unit_price make';
    problems.push(`--map amount=${map.amount} is not used: ${by} each row a line, and an order's amount is the sum of its lines; leave out --map amount, or, if ${map.amount} holds the line totals, --map line_amount=${map.amount}`);
  }
  if (problems.length) return { problems };
  return { plan: { format: hasLine ? 'line' : 'order', index, header: clean }, problems };
}

// ---- Timestamps ----------------------------------------------------------------------------------

/**
 * Calendar conversions in one zone, memoised per calendar day for bulk work (an import of a million
 * rows). A day in which the zone's offset changes (a DST switch) is never memoised: those instants go
 * through domain/time.ts itself, so the results are always exactly time.ts's.
 */
export class ZoneCalendar {
  private readonly wallDayOffset = new Map<number, number>(); // wall-clock day index → utc − wall (ms), NaN = irregular
  private readonly utcDayOffset = new Map<number, number>(); // UTC day index → local − utc (ms), NaN = irregular
  private readonly dayNames = new Map<number, string>();
  /** The last wall time found in a gap of the zone (wallToUtc gave NaN), for the reason. */
  private lastGap: [number, number, number, number, number] | null = null;
  constructor(readonly zone: string) {}

  /**
   * Why the last NaN of wallToUtc: its wall time does not exist in the zone, naming the gap. Null when
   * there was none.
   */
  gapReason(): string | null {
    if (!this.lastGap) return null;
    const g = dstGap(this.zone, ...this.lastGap);
    return g ? `does not exist in ${this.zone}: the clocks jump from ${g.from} to ${g.to} that day (daylight saving time); fix the time or give its UTC offset` : null;
  }

  /**
   * The first instant of a local date: its midnight, or where the clocks skip midnight (a DST change at
   * 00:00, as in Santiago or Havana), the first minute after the gap. A date has a start even when its
   * midnight does not exist.
   */
  dayStart(y: number, mo: number, d: number): number {
    for (let minute = 0; minute < 24 * 60; minute++) {
      const at = this.wallToUtc(y, mo, d, Math.floor(minute / 60), minute % 60, 0);
      if (at === at) return at;
    }
    return NaN;
  }

  /**
   * The UTC instant of a wall-clock time in the zone: NaN when the zone's clocks skip it (a DST gap), the
   * earlier instant in an hour they repeat.
   */
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
    if (Number.isNaN(off)) {
      const exact = zonedToUtcMsExact(this.zone, y, mo, d, h, mi, s, ms);
      if (Number.isNaN(exact)) this.lastGap = [y, mo, d, h, mi];
      return exact;
    }
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
 * time.ts's parseTimestamp (a DST gap's wall time NaN, not moved) made fast for the common shapes `YYYY-MM-DD` and `YYYY-MM-DD HH:mm[:ss]` (T or
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
        return len === 10 ? cal.dayStart(y, mo, d) : cal.wallToUtc(y, mo, d, h, mi, s);
      }
    }
    const p = readIsoParts(raw);
    if (!p) return null;
    if (p.offsetMin === null) return cal.wallToUtc(p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms);
    return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms) - p.offsetMin * 60_000;
  };
}

// ---- Date formats -------------------------------------------------------------------------------

/** What a format reads from a value: wall-clock parts, and an offset in minutes when it has one. */
interface WallParts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
  offsetMin: number | null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_LONG = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const FORMAT_TOKENS = ['YYYY', 'MMMM', 'MMM', 'SSS', 'YY', 'MM', 'DD', 'HH', 'hh', 'mm', 'ss', 'SS', 'ZZ', 'M', 'D', 'H', 'h', 'm', 's', 'S', 'A', 'a', 'Z'];
const NUMERIC = new Set(['YYYY', 'YY', 'MM', 'M', 'DD', 'D', 'HH', 'H', 'hh', 'h', 'mm', 'm', 'ss', 's', 'SSS', 'SS', 'S']);

/** A format's pieces: its tokens, and literal text between them (`[...]` escapes letters). */
function formatPieces(format: string): { token?: string; text?: string }[] {
  const out: { token?: string; text?: string }[] = [];
  let i = 0;
  while (i < format.length) {
    if (format[i] === '[') {
      const close = format.indexOf(']', i);
      const lit = close < 0 ? format.slice(i + 1) : format.slice(i + 1, close);
      out.push({ text: lit });
      i = close < 0 ? format.length : close + 1;
      continue;
    }
    const t = FORMAT_TOKENS.find((k) => format.startsWith(k, i));
    if (t) {
      out.push({ token: t });
      i += t.length;
    } else {
      out.push({ text: format[i] });
      i++;
    }
  }
  return out;
}

/**
 * A timestamp format (dayjs-style tokens: YYYY YY M MM MMM MMMM D DD H HH h hh m mm s ss S SS SSS A a Z
 * ZZ, `[literal]`) compiled into a reader of wall-clock parts. Numbers are read padded or not alike
 * (`M/D/YYYY H:mm` reads `12/01/2010 08:26` and `12/1/2010 8:26`), except a two-letter token right
 * before or after another number, which takes exactly two digits (`YYYYMMDD`: `2026111` is no date,
 * not 2026-11-01 or 2026-01-11). Impossible dates read as null.
 */
export function compileDateFormat(format: string): (text: string) => WallParts | null {
  const pieces = formatPieces(format);
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  const order: string[] = [];
  let re = '^';
  pieces.forEach((p, k) => {
    if (p.text !== undefined) {
      re += esc(p.text);
      return;
    }
    const t = p.token!;
    const nextNumeric = pieces[k + 1]?.token !== undefined && NUMERIC.has(pieces[k + 1].token!);
    // glued to a number on either side (`YYYYMMDD`'s DD, `HHmm`'s mm): its own width, or `2026111` would
    // read as one of two dates (trial 32)
    const glued = nextNumeric || (pieces[k - 1]?.token !== undefined && NUMERIC.has(pieces[k - 1].token!));
    order.push(t);
    if (t === 'YYYY') re += '(\\d{4})';
    else if (t === 'YY') re += '(\\d{2})';
    else if (t === 'SSS' || t === 'SS' || t === 'S') re += glued ? `(\\d{${t.length}})` : '(\\d{1,3})';
    else if (NUMERIC.has(t)) re += t.length === 2 && glued ? '(\\d{2})' : t.length === 1 && nextNumeric ? '(\\d{1,2}?)' : '(\\d{1,2})';
    else if (t === 'MMM' || t === 'MMMM') re += '([A-Za-z]{3,9})\\.?';
    else if (t === 'A' || t === 'a') re += '([AaPp][Mm])';
    else re += '(Z|[+-]\\d{2}:?\\d{2})';
  });
  const rx = new RegExp(`${re}$`);
  return (text) => {
    const m = rx.exec(text);
    if (!m) return null;
    const p: WallParts = { y: NaN, mo: NaN, d: NaN, h: 0, mi: 0, s: 0, ms: 0, offsetMin: null };
    let pm: boolean | null = null;
    let h12 = false;
    for (let k = 0; k < order.length; k++) {
      const v = m[k + 1];
      switch (order[k]) {
        case 'YYYY': p.y = +v; break;
        case 'YY': p.y = 2000 + +v; break;
        case 'MM': case 'M': p.mo = +v; break;
        case 'MMM': case 'MMMM': {
          const n = v.toLowerCase();
          const i = n.length === 3 ? MONTHS.indexOf(n) : Math.max(MONTHS_LONG.indexOf(n), n === 'sept' ? 8 : -1);
          if (i < 0) return null;
          p.mo = i + 1;
          break;
        }
        case 'DD': case 'D': p.d = +v; break;
        case 'HH': case 'H': p.h = +v; break;
        case 'hh': case 'h': p.h = +v; h12 = true; break;
        case 'mm': case 'm': p.mi = +v; break;
        case 'ss': case 's': p.s = +v; break;
        case 'SSS': case 'SS': case 'S': p.ms = Math.floor(Number(`0.${v}`) * 1000); break;
        case 'A': case 'a': pm = v[0] === 'P' || v[0] === 'p'; break;
        default: {
          if (v === 'Z') p.offsetMin = 0;
          else {
            const digits = v.slice(1).replace(':', '');
            const oh = +digits.slice(0, 2), om = +digits.slice(2);
            if (oh > 14 || om > 59) return null;
            p.offsetMin = (v[0] === '-' ? -1 : 1) * (oh * 60 + om);
          }
        }
      }
    }
    if (h12 || pm !== null) {
      if (p.h < 1 || p.h > 12) return null;
      if (pm !== null) p.h = (p.h % 12) + (pm ? 12 : 0);
    }
    if (!(p.mo >= 1 && p.mo <= 12) || !(p.y >= 1) || !(p.d >= 1 && p.d <= daysInMonth(p.y, p.mo)) || p.h > 23 || p.mi > 59 || p.s > 59) return null;
    return p;
  };
}

/** A format must say at least a year, a month and a day. */
export function dateFormatProblem(format: string): string | null {
  const tokens = formatPieces(format).map((p) => p.token ?? '').join(' ');
  if (!/Y/.test(tokens) || !/M/.test(tokens) || !/D/.test(tokens)) return `--date-format ${JSON.stringify(format)} must contain a year (YYYY), month (M or MM) and day (D or DD)`;
  // a one-digit-or-two token glued to another number cannot be read: YYYYMD reads 2026111 as two dates (trial 32)
  const pieces = formatPieces(format);
  for (let k = 0; k < pieces.length; k++) {
    const t = pieces[k].token;
    if (t === undefined || t.length !== 1 || !NUMERIC.has(t) || t === 'S') continue;
    const near = [pieces[k - 1]?.token, pieces[k + 1]?.token].filter((n): n is string => n !== undefined && NUMERIC.has(n));
    const glued = near.find((n) => n.length === 1) ?? near[0]; // (named: the neighbour of variable width, if one is)
    if (glued !== undefined) return `--date-format ${JSON.stringify(format)}: ${t} right beside ${glued} with nothing between them cannot tell where one number ends (${t} is one or two digits): write ${t}${t} (two digits), or put a separator between them`;
  }
  return null;
}

const compiledFormats = new Map<string, (text: string) => WallParts | null>();
const readsWith = (format: string, text: string): boolean => {
  let read = compiledFormats.get(format);
  if (!read) compiledFormats.set(format, (read = compileDateFormat(format)));
  const p = read(text);
  return p !== null && p.y >= MIN_YEAR;
};
const ISO_FORMATS = ['YYYY-MM-DD', 'YYYY-MM-DD H:mm', 'YYYY-MM-DD H:mm:ss', 'YYYY-MM-DD[T]H:mm', 'YYYY-MM-DD[T]H:mm:ss', 'YYYY-MM-DD[T]H:mm:ssZ', 'YYYY-MM-DD H:mm:ss.SSS', 'YYYY-MM-DD[T]H:mm:ss.SSSZ'];

/**
 * Why a value none of the --date-format formats read may still be a date the file meant, as a hint to
 * add to the row's reason: a time the format has no room for (`01/11/2026 10:00` with `DD/MM/YYYY`), a
 * date without the format's time, an ISO row in a file of another format, or day and month the other
 * way round (`13/1/2026` with `M/D/YYYY`). Names the format that reads it, to repeat --date-format with;
 * null when none does.
 */
export function dateFormatHint(text: string, formats: readonly string[]): string | null {
  const value = text.trim();
  const more = ' (repeat --date-format to give both: each is tried in order)';
  // day and month the other way round (not MMM, a month's name)
  const swap = (f: string) => f.replace(/(?<![A-Za-z])(D{1,2})([^A-Za-z]+)(M{1,2})(?![A-Za-z])|(?<![A-Za-z])(M{1,2})([^A-Za-z]+)(D{1,2})(?![A-Za-z])/, (_, d1, s1, m1, m2, s2, d2) => (d1 ? `${m1}${s1}${d1}` : `${d2}${s2}${m2}`));
  for (const f of formats) {
    const pieces = formatPieces(f);
    const hourAt = pieces.findIndex((p) => p.token !== undefined && /^[Hh]/.test(p.token));
    // the same date with a time, or without the format's time (the format up to the separator before its hours)
    let cut = hourAt;
    while (cut > 0 && pieces[cut - 1].text !== undefined) cut--;
    const dateOnly = hourAt < 0 ? null : f.slice(0, pieces.slice(0, cut).reduce((n, p) => n + (p.token ?? p.text ?? '').length, 0)).trimEnd() || null;
    const alike = hourAt < 0 ? [f + ' H:mm', f + ' H:mm:ss'] : dateOnly ? [dateOnly] : [];
    const said = hourAt < 0 ? 'it has a time the format has no room for' : 'it has no time';
    for (const g of alike) if (readsWith(g, value)) return `: ${said}; it reads with --date-format ${JSON.stringify(g)}${more}`;
    for (const g of [f, ...alike]) {
      const w = swap(g);
      if (w !== g && readsWith(w, value)) return `: it reads with --date-format ${JSON.stringify(w)}: are day and month the other way round in this file?`;
    }
  }
  const iso = ISO_FORMATS.find((f) => readsWith(f, value));
  if (iso) return `: it is an ISO date${iso.includes('H') ? '-time' : ''}, which reads with --date-format ${JSON.stringify(iso)}${more}`;
  return null;
}

/** A parser of timestamps (UTC ms; null = not a date-time), with why it refused the last value it gave NaN for. */
export interface DateParser {
  (text: string): number | null;
  /** Why the last NaN: a local time in a DST gap, or a value two formats read as different dates. */
  reason(): string | null;
}

/**
 * A parser of purchase timestamps into UTC ms: null when no format reads the value (or it names an
 * impossible date, never moved), NaN when it is refused for a reason (`reason()`): a wall time in a
 * DST gap, or a value that two of the formats read as different instants (ambiguous). Default: the
 * ISO forms of SPEC §3 on the hand-written fast path; with formats, each tried in order (the first
 * that reads it gives its time, the others must agree). Without an offset the time is wall-clock time
 * in the ledger's zone.
 */
export function makeDateParser(zone: string | ZoneCalendar, formats?: string | readonly string[]): DateParser {
  const cal = typeof zone === 'string' ? new ZoneCalendar(zone) : zone;
  const list = formats === undefined ? [] : typeof formats === 'string' ? [formats] : formats;
  let why: string | null = null;
  const gap = (): string => cal.gapReason() ?? "does not exist in the ledger's zone (a daylight saving time gap)";
  if (!list.length) {
    const iso = isoParser(cal);
    return Object.assign((text: string) => {
      const v = iso(text);
      if (v !== null && v !== v) why = gap();
      return v;
    }, { reason: () => why });
  }
  // a format without hours reads a date: its first instant, also on a day whose midnight the clocks skip
  const readers = list.map((f) => ({ format: f, read: compileDateFormat(f), dateOnly: !formatPieces(f).some((p) => p.token !== undefined && /^[Hh]/.test(p.token)) }));
  const instant = (p: WallParts, dateOnly: boolean) =>
    p.offsetMin !== null ? Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms) - p.offsetMin * 60_000
    : dateOnly ? cal.dayStart(p.y, p.mo, p.d)
    : cal.wallToUtc(p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms);
  const cache = new Map<string, { at: number | null; why: string | null }>();
  const wall = (p: WallParts) => `${p.y}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')} ${String(p.h).padStart(2, '0')}:${String(p.mi).padStart(2, '0')}`;
  return Object.assign((raw: string) => {
    const text = raw.trim();
    let hit = cache.get(text);
    if (hit === undefined) {
      hit = { at: null, why: null };
      let first: { format: string; parts: WallParts } | null = null;
      for (const r of readers) {
        const parts = r.read(text);
        if (!parts || parts.y < MIN_YEAR) continue; // an earlier year is refused, never read as another one
        const at = instant(parts, r.dateOnly);
        if (!first) {
          first = { format: r.format, parts };
          hit = at !== at ? { at: NaN, why: gap() } : { at, why: null };
        } else if (at !== hit.at && !(at !== at && hit.at !== hit.at)) {
          hit = { at: NaN, why: `is ambiguous: ${first.format} reads it as ${wall(first.parts)}, ${r.format} as ${wall(parts)}; keep only the right --date-format, or fix the value` };
          break;
        }
      }
      if (cache.size > 50_000) cache.clear();
      cache.set(text, hit);
    }
    why = hit.why;
    return hit.at;
  }, { reason: () => why });
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
  | { kind: 'guest'; orderId: string } // no member id and --skip-guests
  | { kind: 'bad'; reason: string; orderId: string | null };

export interface RowContext {
  plan: ColumnPlan;
  digits: number;
  parseDate: (text: string) => number | null;
  skipGuests: boolean;
  /** Purchases after this instant are refused (a till clock in the future is a bad row). */
  notAfterMs: number;
  dateFormat?: string;
  /** The --date-format formats one by one (dateFormat joins them), to say which other format reads a value. */
  dateFormats?: readonly string[];
  /** The ledger's zone, to name the date a --date-format read (a two-digit year 70 as 2070). */
  zone?: string;
  /** Why parseDate's last NaN (DateParser.reason): a DST gap, or an ambiguous value. */
  dateReason?: () => string | null;
  /** The file's delimiter (a comma may split an unquoted 1,234.50 in two). */
  delimiter?: string;
}

/**
 * In a row of more fields than the header, two neighbours that read as one number split at a thousands
 * separator by the comma delimiter (1 and 234.50): the value, else null.
 */
function splitThousands(fields: readonly string[], delimiter: string | undefined): string | null {
  if (delimiter !== ',') return null;
  for (let i = 0; i + 1 < fields.length; i++) {
    const a = fields[i].trim();
    const b = fields[i + 1].trim();
    if (/^[-+(]?[^\d\s,]{0,3}\d{1,3}$/.test(a) && /^\d{3}(?:\.\d+)?\)?$/.test(b)) return `${a},${b}`;
  }
  return null;
}

const QTY_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;
const BARE_CR = /\r(?!\n)/;
/** Why a row with a bare CR inside has the wrong number of fields, and the fix. */
export const MIXED_LINE_ENDS = "a bare CR (old Mac line end) inside the row: the file mixes line endings; convert it to one, e.g. perl -pe 's/\\r\\n?/\\n/g' FILE.csv > FIXED.csv, and import that";
/** Money with more decimals than the currency has (0.001 a piece, a line total of 12.3456). */
const FINE_PRICE_RE = /^[+-]?\d{1,12}\.\d{1,20}$/;
/** The reason for a number with more decimals than FINE_PRICE_RE takes, or parseMoney's. */
const tooFine = (text: string, problem: string): string => (/^[+-]?\d{1,12}\.\d{21,}$/.test(text) ? `"${text}" has more than 20 decimal places` : problem);

/**
 * Why a record that runs over several lines looks like a quote left open that took the rows after it in,
 * else null: a field holding a line break and as many delimiters as a whole row (`"12 PIZZA` never closed:
 * the next quote, rows later, closes it, and the fields after that quote are another row's). Read as it
 * stands, such a record credits one member with another's order and drops the rows between. A text over
 * two lines with a comma or two (an address) is still text. Only for records of more than one line.
 */
export function openQuoteProblem(fields: readonly string[], header: readonly string[], delimiter: string, line: number, lines: number, width = header.length): { reason: string; field: number } | null {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.indexOf('\n') < 0 && f.indexOf('\r') < 0) continue;
    let n = 0;
    for (let k = f.indexOf(delimiter); k >= 0; k = f.indexOf(delimiter, k + 1)) n++;
    if (n < width - 1) continue;
    const what = delimiter === ',' ? 'commas' : delimiter === ';' ? 'semicolons' : delimiter === '\t' ? 'tabs' : `${JSON.stringify(delimiter)} delimiters`;
    const column = header[i]?.trim() || `column ${i + 1}`;
    return { field: i, reason: `${column} (a quoted field running over lines ${line} to ${line + lines - 1}) holds ${n} ${what}, as many as a whole row: a quote left open took the rows after it in, so this record mixes several rows; close the quote where the field ends (a quote meant as text is written twice: "") and import the rows again` };
  }
  return null;
}

/**
 * The order ids of the rows a quote left open took in (openQuoteProblem's field): each line of the field
 * after its first is (the start of) a row of the file, whose order id is at `orderIndex`; with the physical
 * line each came from. Those orders are rejected whole too: their other rows must not be credited alone.
 */
export function swallowedOrderIds(field: string, delimiter: string, orderIndex: number, line: number): [orderId: string, line: number][] {
  const out: [string, number][] = [];
  const rows = field.split(/\r\n|\r|\n/);
  for (let k = 1; k < rows.length; k++) {
    const raw = rows[k].split(delimiter)[orderIndex];
    const id = raw === undefined ? undefined : trimAscii(raw);
    if (id) out.push([id, line + k]);
  }
  return out;
}

/** What exports write for no value (R's NA, Excel's #N/A, SQL's NULL…): never a member's id (trial 30). */
const PLACEHOLDER = /^(?:n\/?a|#n\/a|n\.a\.|null|\(null\)|nil|none|nan|undefined|-+|[—–]+|\?|#null!|#value!|#ref!|#div\/0!|#name\?)$/i;
const shellWordOf = (s: string): string => (/^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

const unnamedOf = new WeakMap<readonly string[], number[]>();
/**
 * The columns a header ending in a delimiter leaves without a name, at its end: no value may stand there
 * (a 1,234.50 unquoted spills into one). An unnamed column before named ones is data of its own (pandas
 * writes its row index so) and is read as any column the import does not use.
 */
function unnamedColumns(header: readonly string[]): number[] {
  let u = unnamedOf.get(header);
  if (!u) {
    u = [];
    for (let i = header.length - 1; i >= 0 && header[i].trim() === ''; i--) u.push(i);
    unnamedOf.set(header, u);
  }
  return u;
}

/** Validates one record into a staged line, or a reason naming the column and the bad value. */
export function parseRow(fields: readonly string[], ctx: RowContext): RowResult {
  const { index, header, format } = ctx.plan;
  const name = (f: PurchaseField) => (header[index[f]] === f ? f : `${header[index[f]]} (${f})`);
  if (fields.length !== header.length) {
    const orderId = index.order_id < fields.length && fields[index.order_id] !== undefined ? trimAscii(fields[index.order_id]) || null : null;
    // a file that mixes line ends: its bare CRs (old Mac) end no row once LF or CRLF was read as the line end
    const mixed = fields.some((f) => BARE_CR.test(f)) ? `: ${MIXED_LINE_ENDS}` : '';
    // a row ending in a delimiter (some exports end every data row so): one empty field more than the header
    const trailing = !mixed && fields.length === header.length + 1 && fields[fields.length - 1].trim() === '' ? ': the row ends in a delimiter, which makes an empty last field the header does not name; remove the delimiter at the end of the rows (sed \'s/,$//\' FILE.csv for commas), or end the header with one too' : '';
    // an unquoted 1,234.50: the comma splits it (trial 42: the row said only how many fields it had)
    const split = !mixed && !trailing && fields.length > header.length ? splitThousands(fields, ctx.delimiter) : null;
    const thousands = split ? `: ${JSON.stringify(split)} looks like one number whose thousands separator the comma delimiter split; quote the value ("${split}") or drop the separator` : '';
    return { kind: 'bad', reason: `has ${fields.length} fields, the header has ${header.length}${mixed}${trailing}${thousands}`, orderId };
  }
  const orderId = trimAscii(fields[index.order_id]); // (a no-break space or a BOM at its end is refused: README "Ids")
  if (!orderId) return { kind: 'bad', reason: `${name('order_id')} is empty`, orderId: null };
  for (const i of unnamedColumns(header)) {
    if (fields[i].trim() === '') continue;
    const value = JSON.stringify(fields[i].trim());
    return { kind: 'bad', reason: `column ${i + 1} has no name in the header but holds ${value}: a delimiter inside an unquoted value, as the thousands separator of 1,234.50? quote the value ("1,234.50") or drop the separator`, orderId };
  }
  const memberId = trimAscii(fields[index.member_id]);
  if (!memberId) {
    if (ctx.skipGuests) return { kind: 'guest', orderId };
    return { kind: 'bad', reason: `${name('member_id')} is empty: a guest purchase (pass --skip-guests to drop these)`, orderId };
  }
  if (PLACEHOLDER.test(memberId)) {
    return { kind: 'bad', reason: `${name('member_id')} ${JSON.stringify(memberId)} is a placeholder for no member, not a member's id: pass --null=${shellWordOf(memberId)} to read it as empty (a guest's purchase; --skip-guests drops those)`, orderId };
  }
  const atText = fields[index.purchased_at].trim();
  if (!atText) return { kind: 'bad', reason: `${name('purchased_at')} is empty`, orderId };
  const at = ctx.parseDate(atText);
  if (at === null || !(at <= ctx.notAfterMs)) {
    if (at === null) {
      const early = ctx.dateFormat ? null : dateRangeProblem(atText);
      if (early) return { kind: 'bad', reason: `${name('purchased_at')} ${early}`, orderId };
      if (!ctx.dateFormat) return { kind: 'bad', reason: `${name('purchased_at')} ${unreadTimestampReason(atText)}`, orderId };
      const odd = lookalikeCharsProblem(atText);
      const hint = odd ? `: ${odd}` : ctx.dateFormats ? (dateFormatHint(atText, ctx.dateFormats) ?? '') : '';
      return { kind: 'bad', reason: `${name('purchased_at')} ${JSON.stringify(atText)} is not a valid date-time (expected the format ${ctx.dateFormat})${hint}`, orderId };
    }
    if (Number.isNaN(at)) return { kind: 'bad', reason: `${name('purchased_at')} ${JSON.stringify(atText)} ${ctx.dateReason?.() ?? 'is refused'}`, orderId };
    // (a date format reads the text as it says: name the instant it read, a two-digit year 70 as 2070 say)
    const read = ctx.dateFormat && ctx.zone ? ` (read as ${localDate(at, ctx.zone)})` : '';
    return { kind: 'bad', reason: `${name('purchased_at')} ${JSON.stringify(atText)}${read} is in the future`, orderId };
  }
  const sku = index.sku >= 0 ? fields[index.sku].trim() || null : null;
  const category = index.category >= 0 ? fields[index.category].trim() || null : null;
  // stored and shown to people: a control character (an ESC, a line break) would reach their terminals
  const control = (sku !== null && controlCharProblem(name('sku'), sku)) || (category !== null && controlCharProblem(name('category'), category));
  if (control) return { kind: 'bad', reason: control, orderId };

  if (format === 'order' || index.line_amount >= 0) {
    // a total: the order's (amount), or the line's (line_amount, with an optional quantity)
    const field = format === 'order' ? 'amount' : 'line_amount';
    const text = fields[index[field]];
    const m = parseMoney(text, ctx.digits);
    let quantity: string | null = null;
    if (format === 'line' && index.quantity >= 0) {
      const qText = fields[index.quantity].trim();
      if (qText && !QTY_RE.test(qText)) return { kind: 'bad', reason: `${name('quantity')} ${JSON.stringify(qText)} is not a number (${quantityHint(qText)})`, orderId };
      quantity = qText ? new Decimal(qText).toString() : null;
    }
    // A negative quantity is a return (SPEC §3): its amount cannot be positive; nor can no units cost anything.
    // (A positive quantity with a negative amount is a discount or a return by its amount: netted.)
    const sign = m.ok ? Math.sign(m.value) : FINE_PRICE_RE.test(text.trim()) ? new Decimal(text.trim()).cmp(0) : 0;
    if (quantity !== null && sign !== 0) {
      const qs = new Decimal(quantity).cmp(0);
      if (qs === 0) return { kind: 'bad', reason: `${name('quantity')} 0 with ${name(field)} ${JSON.stringify(text.trim())}: a line of no units cannot cost anything; give its units, or leave quantity empty`, orderId };
      if (qs < 0 && sign > 0) return { kind: 'bad', reason: `${name('quantity')} ${quantity} with a positive ${name(field)} ${JSON.stringify(text.trim())}: a negative quantity is a return, whose amount is negative too; sign both alike`, orderId };
    }
    if (m.ok) return { kind: 'ok', row: { orderId, line: 0, memberId, at, amount: m.value, sku, category, quantity, unitPrice: null } };
    // more decimals than the currency has: kept exact ("=" and the text), summed exactly per order, and
    // rounded once (buildOrder); the line's own amount is rounded half-up meanwhile
    const t = text.trim();
    if (!t) return { kind: 'bad', reason: `${name(field)} is empty`, orderId };
    if (!FINE_PRICE_RE.test(t)) return { kind: 'bad', reason: `${name(field)}: ${tooFine(t, m.problem)}`, orderId };
    const exact = new Decimal(t);
    const amount = exact.times(new Decimal(10).pow(ctx.digits)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
    if (!Number.isSafeInteger(amount) || Math.abs(amount) > AMOUNT_MAX) return { kind: 'bad', reason: `${name(field)} is too large an amount (at most ${formatMoney(AMOUNT_MAX, ctx.digits)})`, orderId };
    return { kind: 'ok', row: { orderId, line: 0, memberId, at, amount: amount === 0 ? 0 : amount, sku, category, quantity, unitPrice: `=${exact.toString()}` } };
  }
  const qText = fields[index.quantity].trim();
  if (!qText) return { kind: 'bad', reason: `${name('quantity')} is empty`, orderId };
  const q = QTY_RE.exec(qText);
  if (!q) return { kind: 'bad', reason: `${name('quantity')} ${JSON.stringify(qText)} is not a number (${quantityHint(qText)})`, orderId };
  const pText = fields[index.unit_price].trim();
  if (!pText) return { kind: 'bad', reason: `${name('unit_price')} is empty`, orderId };
  const p = parseMoney(pText, ctx.digits);
  // A unit price finer than the currency (0.001 a piece) is fine: the line amount is rounded once.
  const fine = !p.ok && FINE_PRICE_RE.test(pText) ? new Decimal(pText) : null;
  if (!p.ok && !fine) return { kind: 'bad', reason: `${name('unit_price')}: ${tooFine(pText, p.problem)}`, orderId };
  // a return is a negative quantity at its price; both negative would make it a sale (SPEC §3: a negative
  // quantity is a return). A positive quantity at a negative price (a discount line) is netted with the order.
  if (q[1] === '-' && !/^[0.]*$/.test(`${q[2]}${q[3] ?? ''}`) && (p.ok ? p.value < 0 : fine!.isNegative())) {
    return { kind: 'bad', reason: `${name('quantity')} ${JSON.stringify(qText)} and ${name('unit_price')} ${JSON.stringify(pText)} are both negative: a return is a negative quantity at the item's (positive) price`, orderId };
  }
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
  digits = 2,
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
  let fine = false;
  for (const l of own) {
    amount += l.amount;
    if (l.at < at) at = l.at;
    if (typeof l.unitPrice === 'string') {
      const c = l.unitPrice.charCodeAt(0);
      // a price finer than the currency, a line total finer than it, or a fractional quantity (a weight):
      // a line whose amount was rounded when read
      if (c === 126 /* ~ */ || c === 61 /* = */ || (l.quantity !== null && l.quantity.includes('.'))) fine = true;
    }
  }
  if (fine && own.length > 1) amount = roundOnce(own, digits);
  if (!Number.isSafeInteger(amount) || Math.abs(amount) > AMOUNT_MAX) return { problem: `order ${orderId} totals too large an amount (at most ${AMOUNT_MAX} minor units)` };
  // Goods sold (a line of positive units and amount) and yet below zero, with no returned line (no negative
  // quantity): discount lines larger than the goods, not a return, which would take points back from the
  // member. (An order of negative amounts alone is a return by its amount, as some tills write one.)
  if (amount < 0 && own.some((l) => l.amount > 0) && own.every((l) => l.quantity !== null && l.quantity[0] !== '-')) {
    return { problem: `order ${orderId} sells goods but totals ${formatMoney(amount, digits)}: its discount lines exceed its goods; fix the prices, or give a returned item a negative quantity` };
  }
  return {
    order: { orderId, memberId: first.memberId, at, amount, lines: own, contentHash: orderContentHash(first.memberId, own, ownParts) },
    repeats,
    repeatParts,
    ownPart,
  };
}

/**
 * A line's amount in minor units before any rounding, from what parseRow kept: `~PRICE` a unit price
 * finer than the currency (major units) times the quantity, `=TOTAL` a line total finer than it (major
 * units), a plain unit price in minor units times the quantity (a weight at a normal price), else the
 * line's amount, which is exact already.
 */
function exactAmount(l: OrderLine, scale: Decimal): Decimal {
  const u = l.unitPrice;
  if (typeof u !== 'string') return new Decimal(l.amount);
  const c = u.charCodeAt(0);
  const q = l.quantity ?? '1';
  if (c === 61 /* = */ && NUMBER_RE.test(u.slice(1))) return new Decimal(u.slice(1)).times(scale);
  if (c === 126 /* ~ */ && NUMBER_RE.test(u.slice(1)) && NUMBER_RE.test(q)) return new Decimal(q).times(u.slice(1)).times(scale);
  if (NUMBER_RE.test(u) && NUMBER_RE.test(q)) return new Decimal(q).times(u);
  return new Decimal(l.amount);
}
const NUMBER_RE = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * An order whose lines carry money finer than the currency (a unit price of 0.001, a line total of
 * 12.3456): its lines summed exactly and the total rounded once, half-up, to the minor unit (SPEC §4:
 * one rounding per order). Each line's amount (rounded on its own when read) is then moved by whole
 * minor units, those closest to the next unit first, so the lines add up to the total. Returns it.
 */
function roundOnce(lines: OrderLine[], digits: number): number {
  const scale = new Decimal(10).pow(digits);
  const exact = lines.map((l) => exactAmount(l, scale));
  const total = exact.reduce((a, b) => a.plus(b), new Decimal(0)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  let diff = total - lines.reduce((a, l) => a + l.amount, 0);
  if (diff !== 0) {
    const step = diff > 0 ? 1 : -1;
    // how far each line's exact amount lies from its rounded one, in the direction to move
    const order = lines.map((_, i) => i).sort((a, b) => exact[b].minus(lines[b].amount).times(step).comparedTo(exact[a].minus(lines[a].amount).times(step)) || a - b);
    for (let k = 0; diff !== 0; k = (k + 1) % order.length) {
      const i = order[k];
      lines[i] = { ...lines[i], amount: lines[i].amount + step }; // (a copy: the caller's lines stay as read)
      diff -= step;
    }
  }
  return total === 0 ? 0 : total;
}

// ---- Profiles ------------------------------------------------------------------------------------

export interface ImportProfile {
  map?: Partial<Record<PurchaseField, string>>;
  source?: string;
  /** One format, or several tried in order. */
  dateFormat?: string | string[];
  encoding?: Encoding;
  delimiter?: string;
  createMembers?: boolean;
  skipGuests?: boolean;
}

export { type Encoding, normaliseEncoding } from './encoding.js';

/**
 * A hint when a header read as one column holds another likely delimiter (a `;` or tab file read with
 * `,`): which --delimiter to pass. Null otherwise.
 */
export function delimiterHint(header: readonly string[], delimiter: string): string | null {
  // Excel's first line "sep=;" (read as "sep=" and "" when the delimiter it names is the one in use)
  const sep = /^sep=(.?)$/i.exec(header.length === 2 && header[1] === '' ? `${header[0]}${delimiter}` : header.length === 1 ? header[0] : '');
  if (sep) {
    const d = sep[1] || delimiter;
    const flag = d === delimiter ? '' : ` and pass --delimiter ${d === '\t' ? 'tab' : JSON.stringify(d)}`;
    return `the first line ${JSON.stringify(header.join(delimiter))} is a spreadsheet's note of the delimiter, not a header: remove that line (sed -i 1d FILE)${flag}, then import again`;
  }
  if (header.length !== 1) return null;
  const h = header[0];
  const found = [';', '\t', '|', ','].filter((d) => d !== delimiter && h.includes(d));
  if (!found.length) return null;
  const name = (d: string) => (d === '\t' ? 'tab' : d === '|' ? 'pipe' : d === ';' ? '";"' : '","');
  return `the header is one column holding ${found.map((d) => (d === '\t' ? 'tabs' : JSON.stringify(d))).join(' and ')}: the file's delimiter is not ${JSON.stringify(delimiter)}; pass --delimiter ${name(found[0])}`;
}

/**
 * Why a header that matched no column looks read in the wrong encoding, and the fix; else null. NUL
 * characters between its letters: UTF-16 without a byte-order mark, read as one byte a character. No
 * letter or digit of ASCII at all, read as UTF-16: a file in another encoding (UTF-8, GBK) read two bytes
 * a character, which makes CJK-looking text of its ASCII header.
 */
export function encodingHint(header: readonly string[], encoding: string): string | null {
  const text = header.join('');
  if (text.includes('\u0000')) {
    return `the header holds NUL characters between its letters: ${UTF16_WITHOUT_BOM}`;
  }
  if (/^utf-?16/i.test(encoding) && text.length > 0 && !/[A-Za-z0-9]/.test(text)) {
    return `the header read as ${encoding} holds no plain letters: the file is not ${encoding}; leave --encoding out (UTF-8), or pass the encoding it was written in (gbk, latin1 …)`;
  }
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
  if (Array.isArray(o.dateFormat)) {
    p.dateFormat = [];
    o.dateFormat.forEach((f, i) => {
      if (typeof f !== 'string' || !f.trim()) return void problems.push(`$.dateFormat[${i}]: must be a non-empty string`);
      const pr = dateFormatProblem(f);
      if (pr) problems.push(`$.dateFormat[${i}]: ${pr.replace(/^--date-format /, '')}`);
      (p.dateFormat as string[]).push(f);
    });
  } else {
    p.dateFormat = str('dateFormat');
    if (p.dateFormat) {
      const pr = dateFormatProblem(p.dateFormat);
      if (pr) problems.push(`$.dateFormat: ${pr.replace(/^--date-format /, '')}`);
    }
  }
  const enc = str('encoding');
  if (enc !== undefined) {
    const e = normaliseEncoding(enc);
    if (!e) problems.push(`$.encoding: ${JSON.stringify(enc)} is not one of ${ENCODING_NAMES}`);
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
