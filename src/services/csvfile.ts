// Small CSV files for master data (members, catalog): read whole with line numbers, rejects written beside.
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { AtomicFile, checkOutput, type OutputTarget, sameFile } from './outfile.js';
import { isRejectsHeader, rejectsHeader, rejectsRow, unquoteRejectsCell } from '../domain/rejects.js';
import { duplicateColumnProblem } from '../domain/text.js';
import { unguardFormula } from '../domain/formulaCells.js';
import { MIXED_LINE_ENDS } from '../domain/purchases.js';
import { requireInputFile } from './inputFile.js';
import type { Store } from '../store/db.js';

export interface CsvRecord {
  line: number;
  values: Record<string, string>;
  /** The row's fields in the file's column order (as the header names them). */
  fields: string[];
}

/** A master-data CSV: its header as written (trimmed) and its rows. */
export interface CsvFile {
  header: string[];
  delimiter: string;
  records: CsvRecord[];
  /** The header's columns the import does not read (a list export's balance, say), as named; a rejects file's own _line and _reason left out. */
  notRead: string[];
}

export interface Reject {
  line: number;
  reason: string;
  /** The row's fields as read, in the file's column order. */
  fields: string[];
}

/** How a master-data CSV is written: the same --encoding, --delimiter and --map as a purchase import. */
export interface CsvFormat {
  encoding?: string;
  delimiter?: string;
  /** `field=Column` specs (repeatable, or comma-separated). */
  map?: string[];
}

/** The blanks String.trimEnd takes that ASCII has not (csv-parse's trim ends unquoted fields with it). */
const UNICODE_BLANKS = '\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
/** A private-use character the text does not hold, to mark a Unicode blank at a field's end through the parse. */
function unusedMark(text: string): string {
  for (let c = 0xe000; c <= 0xf8ff; c++) {
    const ch = String.fromCharCode(c);
    if (!text.includes(ch)) return ch;
  }
  throw new UsageError('the file holds every private-use character: it cannot be read as a CSV of ids', 'check that it is the right file');
}

/**
 * Reads a master-data CSV. `ids`: the fields that are ids (member id, SKU, ref), whose ends lose only ASCII
 * blanks, so that a no-break space, an ideographic space, a line separator or a BOM there is refused by
 * their checks, as `import purchases` refuses it (trial 39), instead of being trimmed into another id.
 */
export async function readCsvFile(path: string, required: string[], known: string[], format: CsvFormat = {}, ids: readonly string[] = []): Promise<CsvFile> {
  requireInputFile(path, 'check the path');
  const { normaliseEncoding, ENCODING_NAMES } = await import('../domain/encoding.js');
  const { normaliseDelimiter, delimiterHint } = await import('../domain/purchases.js');
  const encoding = format.encoding === undefined ? undefined : normaliseEncoding(format.encoding);
  if (encoding === null) throw new UsageError(`--encoding ${JSON.stringify(format.encoding)} is not one of ${ENCODING_NAMES}`);
  const delimiter = normaliseDelimiter(format.delimiter ?? ',');
  if (!delimiter) throw new UsageError(`--delimiter ${JSON.stringify(format.delimiter)} must be one character other than a quote or a line break (or tab, semicolon, pipe by name)`);
  const map = columnMap(format.map ?? [], known);
  const { decodeWhole } = await import('./textDecode.js');
  let text = await decodeWhole(path, readFileSync(path), encoding);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // csv-parse trims an unquoted field's end with String.trimEnd (Unicode blanks too): a Unicode blank at a
  // field's end is marked so it stays, and unmarked after (an id's check then names it)
  // (a mark after each such blank followed by blanks only, up to a delimiter or a line end: trimEnd takes
  // \v and \f as it takes spaces, trial 39c; a character the file does not hold, trial 39c)
  const marked = ids.length > 0 && new RegExp(`[${UNICODE_BLANKS}]`).test(text);
  const KEEP_END = marked ? unusedMark(text) : '';
  if (marked) {
    const d = delimiter.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');
    text = text.replace(new RegExp(`([${UNICODE_BLANKS}])(?=[^\\S\\r\\n]*(?:${d}|\\r|\\n|$))`, 'g'), `$1${KEEP_END}`);
  }
  const { parse } = await import('csv-parse/sync');
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  let header: string[] = [];
  let names: string[] = [];
  const rename = (h: string[]): string[] => {
    header = h.map((x) => (marked ? x.replaceAll(KEEP_END, '') : x).trim());
    const twice = duplicateColumnProblem(header, [...known, ...map.map(([, column]) => column)]);
    if (twice) throw new UsageError(`${path}:1: ${twice}`, 'rename or remove one of them; nothing was written');
    const out = header.slice();
    names = out;
    for (const [field, column] of map) {
      let i = header.indexOf(column);
      if (i < 0) i = header.findIndex((x) => x.toLowerCase() === column.toLowerCase());
      if (i < 0) throw new UsageError(`${path}:1: --map ${field}=${column}: the header has no column ${JSON.stringify(column)}`, `the header has ${header.map((x) => JSON.stringify(x)).join(', ')}`);
      out[i] = field;
    }
    // a known field's own column, written in another case or with spaces (Name, Points Price)
    const norm = (x: string) => x.toLowerCase().replace(/[\s_-]+/g, '');
    for (let i = 0; i < out.length; i++) {
      if (known.includes(out[i]) || map.some(([, col]) => col === header[i])) continue;
      const k = known.find((f) => norm(f) === norm(out[i]));
      if (k && !out.includes(k)) out[i] = k;
    }
    return out;
  };
  try {
    rows = parse(text, { columns: rename, delimiter, info: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as never;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as { message: string; lines?: number; code?: string };
    // a bare CR where LF or CRLF ends the lines: two rows read as one (the same reason as import purchases gives)
    const mixed = (err.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' || err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') && /\r(?!\n)/.test(text) && /\n/.test(text);
    throw new UsageError(`${path}:${err.lines ?? '?'}: ${err.message}${mixed ? `: ${MIXED_LINE_ENDS}` : ''}`, 'fix the CSV (quotes and column counts) and run again; nothing was written');
  }
  const columns = rows.length ? Object.keys(rows[0].record) : rename(header.length ? header : (text.split(/\r\n|\n|\r/)[0] ?? '').split(delimiter));
  const missing = required.filter((r) => !columns.includes(r));
  if (missing.length) {
    const hint = delimiterHint(header, delimiter) ?? `the header must name ${required.join(', ')} (optional: ${known.filter((k) => !required.includes(k)).join(', ')}), or map columns with --map field=Column`;
    throw new UsageError(`${path}:1: missing column(s) ${missing.join(', ')}`, hint);
  }
  // A rejects file read again: its cells lose the quote rejectsCell gave them. Any other file may be one
  // of our exports (member list --out, catalog list --out): a cell loses the one quote an export puts
  // before a formula character, so the export imports back unchanged.
  const unquote = isRejectsHeader(header) ? unquoteRejectsCell : unguardFormula;
  return {
    header,
    delimiter,
    notRead: columns.filter((x) => x.trim() !== '' && !known.includes(x) && x !== '_line' && x !== '_reason'),
    records: rows.map((r) => {
      for (const k of Object.keys(r.record)) {
        let v = r.record[k];
        if (marked && v.includes(KEEP_END)) v = ids.includes(k) ? v.replaceAll(KEEP_END, '') : v.replaceAll(KEEP_END, '').trim();
        r.record[k] = unquote(v);
      }
      return { line: r.info.lines, values: r.record, fields: names.map((n) => r.record[n] ?? '') };
    }),
  };
}

/** `field=Column` specs read against the known fields; a problem is a usage error. */
function columnMap(specs: readonly string[], known: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      if (!part.trim()) continue;
      const eq = part.indexOf('=');
      const field = part.slice(0, eq).trim();
      const column = part.slice(eq + 1).trim();
      if (eq < 0 || !column) throw new UsageError(`--map ${JSON.stringify(part)} is not field=Column`, `fields: ${known.join(', ')}`);
      if (!known.includes(field)) throw new UsageError(`--map: unknown field ${JSON.stringify(field)}`, `fields: ${known.join(', ')}`);
      const before = out.find(([f]) => f === field);
      if (before && before[1] !== column) throw new UsageError(`--map names ${field} twice (${before[1]} and ${column})`, 'give each field one column');
      if (!before) out.push([field, column]);
    }
  }
  return out;
}

/**
 * FILE.rejects.csv beside the input; for an input read through /dev or /proc (/dev/stdin redirected from
 * a file, /proc/self/fd/0), in the current folder under its base name: nothing is written into /dev
 * (trial 39). An input in a real folder under /dev (/dev/shm) keeps its rejects beside it.
 */
function defaultRejectsPath(file: string): string {
  const stem = file.replace(/\.csv$/i, '');
  let dir = dirname(resolve(file));
  try {
    dir = realpathSync(dir);
  } catch {
    // not there: the import says so
  }
  // (/dev itself, /dev/fd, /proc: not /dev/shm, a real folder)
  return /^\/dev$|^\/proc(\/|$)/.test(dir) ? `${basename(stem)}.rejects.csv` : `${stem}.rejects.csv`;
}

export function rejectsTarget(ctx: { dbPath: string }, file: string, rejectsPath?: string): OutputTarget {
  const path = rejectsPath ?? defaultRejectsPath(file);
  // A default path beside an input in a folder nobody may write (a share, a read-only mount): say how to put
  // the rejects elsewhere, since the user never chose this path
  const here = basename(path);
  const elsewhere = rejectsPath === undefined ? `nothing was imported; write the rejects elsewhere with --rejects FILE, e.g. --rejects ${/^[\w./-]+$/.test(here) ? here : `'${here.replace(/'/g, `'\\''`)}'`} (in the current folder)` : undefined;
  const target = checkOutput(path, { ledger: ctx.dbPath, flag: rejectsPath === undefined ? 'rejects file' : '--rejects', elsewhere });
  if (sameFile(target.abs, file)) {
    throw new UsageError(`cannot write --rejects ${path}: it is the file being imported`, 'choose another --rejects path; the input file is never overwritten');
  }
  // --rejects naming a file: an earlier rejects file is replaced (a re-run's); any other file with something
  // in it is not ours to replace (the members export, named by mistake): refused before anything is read or
  // written. (The default FILE.rejects.csv is the tool's own name: replaced as it always was.)
  let size = 0;
  try {
    size = statSync(target.abs).size;
  } catch {
    // not there: nothing to replace
  }
  if (rejectsPath !== undefined && size > 0 && staleRejectsFile(target) === null) {
    throw new UsageError(
      `cannot write --rejects ${path}: it exists and is not a rejects file (its first line does not begin with _line and _reason), and would be replaced`,
      'choose another --rejects path, or remove that file first; nothing was imported',
    );
  }
  return target;
}

/** Writes a master-data import's rejects file: the input's header and fields behind `_line,_reason`. */
export async function writeRejects(target: OutputTarget, { header, delimiter }: Pick<CsvFile, 'header' | 'delimiter'>, rejects: Reject[]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  // (readCsvFile unquoted the fields already; a rejects file's own _line and _reason are dropped)
  const skip = isRejectsHeader(header) ? 2 : 0;
  const rows = rejects.map((r) => rejectsRow(r.line, r.reason, r.fields.slice(skip)));
  const f = new AtomicFile(target);
  try {
    f.write(stringify([rejectsHeader(header), ...rows], { delimiter }));
  } catch (e) {
    f.abort();
    throw e;
  }
  f.commit();
  return target.path;
}

/**
 * A file whose every row was rejected is an input error (exit 2, nothing imported), as for purchases: the
 * error names the first bad row and where the rejects file is.
 */
export function everyRowRejected(file: string, rejects: readonly Reject[], rejectsFile: string | null): UsageError {
  const first = [...rejects].sort((a, b) => a.line - b.line)[0];
  return new UsageError(
    `${file}: every row was rejected, ${rejects.length} of them (the first, line ${first.line}: ${first.reason}): nothing was imported`,
    rejectsFile ? `see ${rejectsFile} for every bad row with its line and reason` : 'pass --rejects FILE to see every bad row with its line and reason',
  );
}

/** Thrown inside an import's transaction whose every row was rejected: rolled back, with the counts it carries. */
class NothingImported<T> extends Error {
  constructor(readonly result: T) {
    super('nothing imported');
  }
}

/**
 * An import's one transaction, rolled back when `nothing` says it wrote nothing (every row rejected): the
 * store's housekeeping done in a command's first write (lapsed holds released) is then not committed
 * either (SPEC §7: exit 2 means nothing written).
 */
export function writeImport<T>(store: Store, fn: () => T, nothing: () => boolean): T {
  try {
    return store.write(() => {
      const r = fn();
      if (nothing()) throw new NothingImported(r);
      return r;
    });
  } catch (e) {
    if (e instanceof NothingImported) return e.result as T;
    throw e;
  }
}

/**
 * An import that rejected no row writes no rejects file: one already at its rejects path is an earlier run's
 * (its first cells `_line` and `_reason`), and may list rows still not imported. It is left alone (it may be
 * the only list of them) and named, so that neither a person nor a script takes it for this run's. Null when
 * there is none, or something else is there.
 */
export function staleRejectsFile(target: OutputTarget | null): string | null {
  if (!target) return null;
  try {
    if (!statSync(target.abs).isFile()) return null;
    const fd = openSync(target.abs, 'r');
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, 64, 0);
    closeSync(fd);
    // its header in its own delimiter (the input's): the first line split after `_line`
    const first = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)[0];
    const delimiter = /^"?_line"?([,;\t|])/.exec(first)?.[1];
    return delimiter && isRejectsHeader(first.split(delimiter).map((cell) => cell.replace(/^"|"$/g, ''))) ? target.path : null;
  } catch {
    return null; // (none there, or not readable: nothing to say)
  }
}
