// Renders one result object: JSON for scripts, a table on a TTY, tab-separated rows on a pipe, CSV to files.
import { createRequire } from 'node:module';
import { c } from './colour.js';
import { localDateTime } from '../domain/time.js';
import { guardFormula } from '../domain/formulaCells.js';

export interface Column<R> {
  key: keyof R & string;
  header: string;
  align?: 'left' | 'right';
  format?: (v: unknown, row: R) => string;
  /** How it gives way on a narrow terminal (default: right-aligned and time columns fixed, *Id/sku/code ids, else text). */
  fit?: Fit;
  /** May be left out on a terminal too narrow for every column (a higher number goes first); pipes, CSV and JSON keep it. */
  drop?: number;
  /** `raw`: CSV writes the stored value (an object as JSON), not the table's text. */
  csv?: 'raw';
  /** The header on a terminal too narrow for the whole one (default: SHORT_HEADERS), rather than the header cut with `…`. */
  short?: string;
}

/** Usual short forms of headers, shown when a terminal is too narrow for the header (`pts`, never `poin…`). */
const SHORT_HEADERS: Record<string, string> = { points: 'pts', earned: 'earn', balance: 'bal', available: 'avail', quantity: 'qty', remaining: 'left' };
const shortOf = <R>(col: Column<R>): string | undefined => col.short ?? SHORT_HEADERS[col.header];

let displayZone = 'UTC';

/** The zone times are shown in (the ledger's); set once per command before it prints (cli.ts emit). */
export function setDisplayZone(zone: string): void {
  displayZone = zone;
}

/**
 * An instant (UTC ISO 8601, as stored and as --json prints it) as wall-clock time in the ledger's zone,
 * to the minute: `2026-03-01 09:25`. Tables, key/value views and tab-separated output all use this.
 * Empty for null; a value that is not a timestamp is shown as it is.
 */
export function localTime(v: unknown): string {
  if (v === null || v === undefined || v === '') return '';
  const s = String(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s) || Number.isNaN(Date.parse(s))) return s;
  if (s < '1000') return 'the beginning';
  return localDateTime(s, displayZone);
}

const INSTANT_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g;
/** Every UTC instant inside a text (an audit detail) as localTime. */
export function localTimesIn(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(INSTANT_IN_TEXT, (m) => localTime(m));
}

/**
 * A line around a table (an opening balance, a total): on stdout for a person at a terminal, on stderr
 * when stdout is a pipe, so the pipe carries the table's rows only.
 */
export function aside(text: string): void {
  (stdoutIsTTY() ? process.stdout : process.stderr).write(text + '\n');
}

export const stdoutIsTTY = (): boolean => Boolean(process.stdout.isTTY);
export const stderrIsTTY = (): boolean => Boolean(process.stderr.isTTY);

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes to stdout and resolves once the bytes were handed on (to the pipe, file or terminal); rejects
 * when they could not be (a closed pipe: EPIPE). For output whose delivery the ledger records.
 */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
    } catch (e) {
      reject(e); // a file or device on stdout is written synchronously: ENOSPC is thrown here
    }
  });
}

/** A notice for the person at the terminal: stderr, never stdout. */
let quiet = false;
/** --quiet: notices are not written (errors are, by report()). */
export function setQuiet(on: boolean): void {
  quiet = on;
}

export function notice(text: string): void {
  if (!quiet) tell(text);
}

/** A line for the person on stderr even under --quiet (what a cancel left held, why a prompt follows), broken at spaces on a terminal. */
export function tell(text: string): void {
  process.stderr.write(fitLines(text, stderrIsTTY(), process.stderr.columns) + '\n');
}

/**
 * A line (or lines) of human output on stdout: on a terminal, a line longer than it is broken at spaces
 * like notice()'s, never mid-word by the terminal; a pipe gets every line whole.
 */
export function say(text: string): void {
  process.stdout.write(fitLines(text, stdoutIsTTY(), process.stdout.columns) + '\n');
}

/**
 * On a terminal, each line longer than it broken at spaces (its colour given up), the rest under its own
 * indent and two more; elsewhere the text as it is, for grep.
 */
function fitLines(text: string, tty: boolean, columns: number | undefined): string {
  if (!tty) return text;
  const width = columns && columns > 0 ? columns : terminalWidth();
  return text
    .split('\n')
    .map((line) => {
      if (displayWidth(line.replace(SGR, '')) <= width) return line;
      const lead = /^ */.exec(line)![0].length;
      return wrapToTerminal(line.slice(lead), 2, width - lead)
        .split('\n')
        .map((x) => ' '.repeat(lead) + x)
        .join('\n');
    })
    .join('\n');
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Neutralises control characters from data (terminal escape sequences that move the cursor, set
 * the title, clear the screen, hide text): each becomes U+FFFD. Only the colour codes this tool's own
 * palette writes (bold, dim, red, green, yellow, blue, cyan, grey and their resets) are kept, and only
 * while colour is on; with colour off no escape reaches the output at all. Lone surrogates (invalid
 * UTF-16 from a bad byte) become U+FFFD too. A palette code in data looks the same as chalk's, so data
 * goes through with colour off (scrubData, cleanRow) before a view colours it; with colour on this only
 * passes the view's own text.
 */
export function safeText(s: string, colour = c.level > 0): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[([0-9;]*)m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (m, codes: string | undefined) =>
    colour && codes !== undefined && OWN_SGR.test(codes) ? m : '\uFFFD',
  );
}
/**
 * Cleans data for a person before any of it is coloured: every string of plain objects and arrays (names,
 * SKUs, reasons from the ledger), in place, through safeText with colour off, so each escape sequence in
 * data (SGR colours included) becomes U+FFFD. The colour codes left once chalk has coloured the view are
 * then the tool's own. JSON output never goes through here (it escapes control characters itself).
 */
export function scrubData(v: unknown, seen = new Set<object>()): void {
  if (typeof v !== 'object' || v === null || seen.has(v)) return;
  const proto = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return;
  seen.add(v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === 'string') {
      const clean = safeText(x, false);
      if (clean !== x) o[k] = clean;
    } else scrubData(x, seen);
  }
}

/** A table row with its own strings cleaned as scrubData does (a copy only when one needed it). */
function cleanRow<R>(r: R): R {
  if (typeof r !== 'object' || r === null) return r;
  let copy: Record<string, unknown> | null = null;
  for (const [k, x] of Object.entries(r)) {
    if (typeof x !== 'string') continue;
    const clean = safeText(x, false);
    if (clean !== x) (copy ??= { ...(r as Record<string, unknown>) })[k] = clean;
  }
  return (copy ?? r) as R;
}

/** The SGR codes chalk writes for the palette the commands use. */
const OWN_SGR = /^(?:0|1|2|22|3[1-6]|39|90)$/;

/**
 * On a pipe, stdout carries one block of data with one header: the first block printed (a table, or the
 * `field\tvalue` pairs of a show command) decides its shape. A table after key/value pairs becomes more
 * pairs, `NAME.N.COLUMN\tVALUE` (`lot.1.remaining\t300`); anything after a table goes to stderr.
 */
let pipedShape: 'table' | 'fields' | undefined;

const tsvCell = (s: string): string => s.replace(/[\t\n\r]/g, ' ');
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'row';

/**
 * How a column gives way on a narrow terminal: `fixed` never cut (numbers, times, a status), `id` cut
 * last, `text` cut with …, `wrap` (a reason in words) narrowed like text but wrapped onto more lines.
 */
export type Fit = 'fixed' | 'id' | 'text' | 'wrap';

const fitOf = <R>(col: Column<R>): Fit =>
  col.fit ?? (col.align === 'right' || col.format === localTime ? 'fixed' : /^(id|sku|code)$|Id$/.test(col.key) ? 'id' : 'text');

/** The terminal's width in columns (80 when it does not say). */
export const terminalWidth = (): number => (process.stdout.columns && process.stdout.columns > 0 ? process.stdout.columns : 80);

let widthOf: ((s: string) => number) | undefined;
/** Display width of a text on a terminal: CJK and emoji count two columns, colour codes none (string-width). */
export function displayWidth(s: string): number {
  widthOf ??= createRequire(import.meta.url)('string-width') as (s: string) => number;
  return widthOf(s);
}

/**
 * Column widths that fit `width` terminal columns, given each column's natural width (its widest cell or
 * header), how it gives way (`fit`), the widest cell of each column (a number column's header may shrink
 * to it) and which columns may be left out (`drop`: higher first). Steps, each only while the table is
 * still too wide: the gap between columns from 2 to 1; long text columns (names, emails) down to 12 and
 * wrapped ones (reasons) down to 24; optional columns left out (and the widths worked out again without
 * them); headers that have a short form (`shortFloors`: the widest of it and the cells) down to it; text
 * down to 5 and wrapped text to 12; headers of number columns down to their widest value;
 * ids down to 8, then 4. Numbers, times and statuses (fit fixed) are never cut;
 * a table that still does not fit overflows. `widths[i]` is 0 for a column left out.
 */
export function fitWidths(natural: number[], fits: Fit[], cellWidths: number[], width: number, drop: (number | undefined)[] = [], shortFloors: (number | undefined)[] = []): { widths: number[]; gap: number } {
  const left = new Set<number>();
  const optional = drop
    .map((d, i) => ({ d, i }))
    .filter((x): x is { d: number; i: number } => x.d !== undefined)
    .sort((a, b) => b.d - a.d || b.i - a.i);
  for (;;) {
    const w = natural.map((x, i) => (left.has(i) ? 0 : x));
    let gap = 2;
    const total = () => w.reduce((a, b) => a + b, 0) + gap * Math.max(0, w.filter((x) => x > 0).length - 1);
    // Water-filling: the widest shrinkable column gives one column at a time, so long ones give first.
    const shrink = (which: Fit, floor: (i: number) => number) => {
      while (total() > width) {
        let best = -1;
        for (let i = 0; i < w.length; i++) if (fits[i] === which && w[i] > 0 && w[i] > floor(i) && (best < 0 || w[i] > w[best])) best = i;
        if (best < 0) return;
        w[best]--;
      }
    };
    if (total() > width) gap = 1;
    shrink('text', (i) => Math.min(natural[i], 12));
    shrink('wrap', (i) => Math.min(natural[i], 24));
    const next = optional.find((o) => !left.has(o.i));
    if (total() > width && next) {
      left.add(next.i);
      continue;
    }
    // a number column whose header has a short form (`pts disc`) takes it before text is cut to 5 (trial 40:
    // names cut to "乐扣…" beside a column as wide as its long header)
    shrink('fixed', (i) => Math.min(natural[i], shortFloors[i] ?? natural[i]));
    shrink('text', (i) => Math.min(natural[i], 5));
    shrink('wrap', (i) => Math.min(natural[i], 12));
    shrink('fixed', (i) => Math.min(natural[i], Math.max(cellWidths[i], 3)));
    shrink('id', (i) => Math.min(natural[i], 8));
    shrink('id', (i) => Math.min(natural[i], 4));
    return { widths: w, gap };
  }
}

/**
 * A line of text as lines of at most the terminal's width (titles and notes above a table). With `indent`,
 * each line is that much narrower and every line after the first starts with that many spaces (a hanging
 * indent under a mark of that width).
 */
export function wrapToTerminal(text: string, indent = 0, width = terminalWidth()): string {
  return wrap(text, width - indent)
    .map((x, i) => (i ? ' '.repeat(indent) + x : x))
    .join('\n');
}

/** One line of a cell on a terminal: line breaks in data become spaces (a row stays one line). */
const oneLine = (s: string): string => s.replace(/\r\n|[\n\r]/g, ' ');

/**
 * A table on a TTY: compact rows under a bold header, no borders or rules, columns sized to the terminal
 * (fitWidths) and long cells cut with `…` or, in a `wrap` column, wrapped (--json, --out or a pipe give
 * the full values); cli-table3
 * lays it out. On a pipe: plain tab-separated rows with a header, nothing cut.
 */
export async function printTable<R>(columns: Column<R>[], rows: R[], opts: { title?: string; name?: string } = {}): Promise<void> {
  // the data is cleaned before a format colours it: what colour codes the cell keeps are then the format's
  const clean = rows.map(cleanRow);
  const render = (r: R, col: Column<R>) => safeText(col.format ? col.format(r[col.key], r) : cell(r[col.key]));
  if (!stdoutIsTTY()) {
    if (pipedShape === 'fields') {
      const name = opts.name ?? slug(opts.title ?? 'row');
      const lines: string[] = [];
      clean.forEach((r, i) => {
        for (const col of columns) lines.push(`${name}.${i + 1}.${tsvCell(col.header || 'note')}\t${tsvCell(render(r, col))}`);
      });
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    const lines = [columns.map((col) => col.header).join('\t')];
    for (const r of clean) lines.push(columns.map((col) => tsvCell(render(r, col))).join('\t'));
    (pipedShape ? process.stderr : process.stdout).write(lines.join('\n') + '\n');
    pipedShape ??= 'table';
    return;
  }
  const cells = clean.map((r) => columns.map((col) => oneLine(render(r, col))));
  const cellWidths = columns.map((_col, i) => cells.reduce((m, row) => Math.max(m, displayWidth(row[i])), 0));
  const natural = columns.map((col, i) => Math.max(displayWidth(col.header), cellWidths[i], 1));
  // a column whose header has a short form gives way down to it (and to its cells)
  const floors = columns.map((col, i) => Math.max(cellWidths[i], displayWidth(shortOf(col) ?? '')));
  const fitted = fitWidths(natural, columns.map(fitOf), floors, terminalWidth(), columns.map((col) => col.drop), columns.map((col, i) => (shortOf(col) === undefined ? undefined : floors[i])));
  const keep = columns.map((_col, i) => i).filter((i) => fitted.widths[i] > 0);
  const headerOf = (i: number): string => {
    const short = shortOf(columns[i]);
    return fitted.widths[i] < displayWidth(columns[i].header) && short !== undefined && displayWidth(short) <= fitted.widths[i] ? short : columns[i].header;
  };
  const wrapped = keep.filter((i) => fitOf(columns[i]) === 'wrap');
  for (const row of cells) for (const i of wrapped) row[i] = wrap(row[i], fitted.widths[i]).join('\n');
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: keep.map((i) => c.bold(headerOf(i))),
    colAligns: keep.map((i) => columns[i].align ?? 'left'),
    colWidths: keep.map((i) => fitted.widths[i]),
    wordWrap: false,
    truncate: '…',
    chars: NO_BORDERS(' '.repeat(fitted.gap)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of cells) table.push(keep.map((i) => row[i]));
  if (opts.title) process.stdout.write(c.bold(wrapToTerminal(opts.title)) + '\n');
  // cli-table3 pads the last column too: no trailing blanks on a terminal line.
  process.stdout.write(table.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n');
  if (rows.length === 0) process.stdout.write(c.dim('(none)') + '\n');
  const left = columns.filter((_col, i) => fitted.widths[i] === 0).map((col) => col.header);
  // cells cut with … lose what a reader may need (an audit's detail, a long path): say where, and how to see them whole
  const cut = keep.filter((i) => fitOf(columns[i]) !== 'wrap' && cellWidths[i] > fitted.widths[i]).map((i) => headerOf(i));
  const notes = [...(left.length ? [`not shown at ${terminalWidth()} columns: ${left.join(', ')}`] : []), ...(cut.length ? [`cut with … to fit${left.length ? '' : ` ${terminalWidth()} columns`}: ${cut.join(', ')}`] : [])];
  if (notes.length && rows.length) process.stdout.write(c.dim(wrapToTerminal(`(${notes.join('; ')}; --json or a pipe shows ${left.length && !cut.length ? 'them' : 'every value whole'})`)) + '\n');
}

const NO_BORDERS = (middle: string) => ({
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle,
});

/** Key/value pairs (a `show` command): aligned on a TTY, tab-separated on a pipe. */
export function printFields(pairs: [string, unknown][]): void {
  if (!stdoutIsTTY()) {
    // (a key indented under another on a terminal is data on a pipe: grep '^from purchases' finds it)
    const lines = pairs.map(([k, v]) => `${tsvCell(k.trim())}\t${tsvCell(safeText(cell(v)))}`);
    if (!pipedShape) lines.unshift('field\tvalue');
    (pipedShape === 'table' ? process.stderr : process.stdout).write(lines.join('\n') + '\n');
    pipedShape ??= 'fields';
    return;
  }
  const w = Math.max(...pairs.map(([k]) => k.length));
  const room = Math.max(20, terminalWidth() - w - 2);
  const indent = ' '.repeat(w + 2);
  process.stdout.write(pairs.map(([k, v]) => `${c.dim(k.padEnd(w))}  ${wrap(oneLine(safeText(cell(v))), room).join('\n' + indent)}`).join('\n') + '\n');
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
/** A space that wrap does not break at (one column wide): it holds a command together. */
const KEEP = '\u00a0';

/**
 * A value as lines of at most `room` terminal columns, broken at spaces where it can be (a long value of a
 * show view is wrapped, never cut), but never before a number: `expired +1577` and `line 3` stay together.
 * A word longer than a line (a file's path) breaks after a `/` where it can, so a file's name stays whole;
 * a name longer than a line breaks after a `-`, `.` or `_` where it can.
 */
export function wrap(text: string, room: number): string[] {
  if (displayWidth(text) <= room) return [text];
  // a command a hint gives (`pointsmall checkout cancel ORD-1`) stays on one line where it fits, so it can be copied
  const kept = text.replace(/pointsmall [^;,()\n]*[^;,()\s]/g, (cmd) => (displayWidth(cmd) <= room ? cmd.replace(/ /g, KEEP) : cmd));
  if (kept !== text) return wrap(kept, room).map((x) => x.replaceAll(KEEP, ' '));
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  // words kept with the number after them, unless together they are wider than a line (`earnedAt 2026-11-23 10:00`)
  const words = text
    .replace(SGR, '')
    .split(/(?<= )(?![+-]?\d)/)
    .flatMap((w) => (displayWidth(w) > room ? w.split(/(?<= )/) : [w]));
  for (const word of words) {
    const ww = displayWidth(word);
    if (lineWidth + ww <= room) {
      line += word;
      lineWidth += ww;
      continue;
    }
    if (line.trim()) lines.push(line.trimEnd());
    line = '';
    lineWidth = 0;
    // a word longer than a line (a file's path) breaks after a `/` where it can, then after a `-`, `.` or
    // `_` of a name longer than the line (`purchases-bad.rejects.` / `csv`), else at any character
    const pieces = ww > room ? word.split(/(?<=\/)/).flatMap((p) => (displayWidth(p) > room ? p.split(/(?<=[-._])/) : [p])) : [word];
    for (const piece of pieces) {
      const pw = displayWidth(piece);
      if (lineWidth + pw <= room) {
        line += piece;
        lineWidth += pw;
        continue;
      }
      if (lineWidth > 0) {
        // a piece that does not fit where the line is starts the next one (a folder's name is cut only when it must be)
        lines.push(line.trimEnd());
        line = '';
        lineWidth = 0;
      }
      if (pw <= room) {
        line = piece;
        lineWidth = pw;
        continue;
      }
      for (const ch of piece) {
        const cw = displayWidth(ch);
        if (lineWidth + cw > room) {
          lines.push(line.trimEnd());
          line = '';
          lineWidth = 0;
        }
        line += ch;
        lineWidth += cw;
      }
    }
  }
  if (line.trim() || !lines.length) lines.push(line.trimEnd());
  return lines;
}

/** Neutralises spreadsheet formulas: a text cell starting with = + - @ (or tab/CR) gets a leading quote (guardFormula). */
export function csvSafe(v: unknown): string {
  return guardFormula(cell(v));
}

/** CSV text with a header row; every cell passed through csvSafe. */
export async function toCsv<R>(columns: Column<R>[], rows: R[]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  const data = rows.map((r) => columns.map((col) => csvSafe(col.format ? col.format(r[col.key], r) : r[col.key])));
  return stringify([columns.map((col) => col.header), ...data]);
}
