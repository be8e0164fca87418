// Renders one result object: JSON for scripts, a table on a TTY, tab-separated rows on a pipe, CSV to files.
import { c } from './colour.js';
import { localDateTime } from '../domain/time.js';

export interface Column<R> {
  key: keyof R & string;
  header: string;
  align?: 'left' | 'right';
  format?: (v: unknown, row: R) => string;
}

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
export function notice(text: string): void {
  process.stderr.write(text + '\n');
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Neutralises control characters from data (terminal escape sequences that move the cursor, set
 * the title, clear the screen, hide text): each becomes U+FFFD. Only the colour codes this tool's own
 * palette writes (bold, dim, red, green, yellow, blue, cyan, grey and their resets) are kept, and only
 * while colour is on; with colour off no escape reaches the output at all. Lone surrogates (invalid
 * UTF-16 from a bad byte) become U+FFFD too.
 */
export function safeText(s: string, colour = c.level > 0): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[([0-9;]*)m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (m, codes: string | undefined) =>
    colour && codes !== undefined && OWN_SGR.test(codes) ? m : '\uFFFD',
  );
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

/** A table on a TTY (cli-table3, colours per the one switch); plain tab-separated rows with a header on a pipe. */
export async function printTable<R>(columns: Column<R>[], rows: R[], opts: { title?: string; name?: string } = {}): Promise<void> {
  const render = (r: R, col: Column<R>) => safeText(col.format ? col.format(r[col.key], r) : cell(r[col.key]));
  if (!stdoutIsTTY()) {
    if (pipedShape === 'fields') {
      const name = opts.name ?? slug(opts.title ?? 'row');
      const lines: string[] = [];
      rows.forEach((r, i) => {
        for (const col of columns) lines.push(`${name}.${i + 1}.${tsvCell(col.header || 'note')}\t${tsvCell(render(r, col))}`);
      });
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    const lines = [columns.map((col) => col.header).join('\t')];
    for (const r of rows) lines.push(columns.map((col) => tsvCell(render(r, col))).join('\t'));
    (pipedShape ? process.stderr : process.stdout).write(lines.join('\n') + '\n');
    pipedShape ??= 'table';
    return;
  }
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: columns.map((col) => c.bold(col.header)),
    colAligns: columns.map((col) => col.align ?? 'left'),
    style: { head: [], border: [] },
  });
  for (const r of rows) table.push(columns.map((col) => render(r, col)));
  if (opts.title) process.stdout.write(c.bold(opts.title) + '\n');
  process.stdout.write(table.toString() + '\n');
  if (rows.length === 0) process.stdout.write(c.dim('(none)') + '\n');
}

/** Key/value pairs (a `show` command): aligned on a TTY, tab-separated on a pipe. */
export function printFields(pairs: [string, unknown][]): void {
  if (!stdoutIsTTY()) {
    const lines = pairs.map(([k, v]) => `${tsvCell(k)}\t${tsvCell(safeText(cell(v)))}`);
    if (!pipedShape) lines.unshift('field\tvalue');
    (pipedShape === 'table' ? process.stderr : process.stdout).write(lines.join('\n') + '\n');
    pipedShape ??= 'fields';
    return;
  }
  const w = Math.max(...pairs.map(([k]) => k.length));
  process.stdout.write(pairs.map(([k, v]) => `${c.dim(k.padEnd(w))}  ${safeText(cell(v))}`).join('\n') + '\n');
}

const NUMBER_RE = /^-?\d+(\.\d+)?$/;
/** Neutralises spreadsheet formulas: a text cell starting with = + - @ (or tab/CR) gets a leading quote. */
export function csvSafe(v: unknown): string {
  const s = cell(v);
  if (NUMBER_RE.test(s)) return s;
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** CSV text with a header row; every cell passed through csvSafe. */
export async function toCsv<R>(columns: Column<R>[], rows: R[]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  const data = rows.map((r) => columns.map((col) => csvSafe(col.format ? col.format(r[col.key], r) : r[col.key])));
  return stringify([columns.map((col) => col.header), ...data]);
}
