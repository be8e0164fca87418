// What every list command shares: pages (--limit/--offset) and --format table|csv|json with --out FILE, chosen
// as the reports choose (formats.ts) and written through the same output guards (services/outfile.ts).
import { type Command, Option } from 'commander';
import { dbPath, emit, globals, useLedgerZone } from './cli.js';
import { pickFormat, type OutFormat } from './formats.js';
import { type Column, csvSafe, notice, printJson, printTable, safeText } from './output.js';
import { parseIntOpt } from './parse.js';
import { count } from './words.js';

const LIST_FORMATS: OutFormat[] = ['table', 'csv', 'json'];

/** --limit N and --offset N: pages of a list in its stable order; both whole numbers ≥ 0, else exit 2. */
export function pageOptions(cmd: Command, noun: string, o: { order?: string; limitDefault?: number; offset?: string } = {}): Command {
  return cmd
    .option('--limit <n>', `at most N ${noun}${o.order ? `, ${o.order}` : ''}`, parseIntOpt('--limit', 0), o.limitDefault)
    .option('--offset <n>', o.offset ?? `skip the first N ${noun}; with --limit, one page after another`, parseIntOpt('--offset', 0));
}

/** --format table|csv|json and --out FILE, as the reports take them. */
export function fileOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', "table, csv or json (default: from --out's extension, else table)").choices(LIST_FORMATS))
    .option('--out <file>', 'write the list to this file (whole or not at all; .csv, .json, or .txt for tab-separated rows) instead of stdout');
}

/**
 * --format and --out FILE for an export (a whole file in one of `formats`, not a list's table): the format
 * defaults to --out's extension when it names one of them, else the first.
 */
export function exportOptions<F extends string>(cmd: Command, formats: readonly [F, ...F[]]): Command {
  return cmd
    .addOption(new Option('--format <format>', `${formats.join(' or ')} (default: from --out's extension, else ${formats[0]})`).choices(formats))
    .option('--out <file>', 'write to this file, whole or not at all (default: stdout)');
}

/** The format an export writes: --format, else --out's extension when it is one of `formats`, else the first. */
export function exportFormat<F extends string>(o: { format?: F; out?: string }, formats: readonly [F, ...F[]]): F {
  const ext = o.out?.match(/\.([a-z0-9]+)$/i)?.[1].toLowerCase();
  return o.format ?? formats.find((f) => f === ext) ?? formats[0];
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;

/** A cell for CSV: an instant stays UTC ISO 8601 (as in JSON), other cells as the table shows them, uncoloured. */
function csvCell<R>(col: Column<R>, r: R): unknown {
  const v = r[col.key];
  if (typeof v === 'string' && INSTANT.test(v)) return v;
  if (v !== null && typeof v === 'object' && col.csv === 'raw') return JSON.stringify(v);
  const text = col.format ? col.format(v, r) : v;
  return typeof text === 'string' ? safeText(text.replace(SGR, ''), false) : text;
}

async function csvText<R>(columns: Column<R>[], rows: R[]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  return stringify([columns.map((col) => col.header), ...rows.map((r) => columns.map((col) => csvSafe(csvCell(col, r))))]);
}

/** The tab-separated rows a pipe gets (local times, one header), for --out FILE.txt. */
function tsvText<R>(columns: Column<R>[], rows: R[]): string {
  const cellOf = (col: Column<R>, r: R) => {
    const v = r[col.key];
    const text = col.format ? col.format(v, r) : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return safeText(text.replace(SGR, ''), false).replace(/[\t\n\r]/g, ' ');
  };
  return [columns.map((col) => col.header).join('\t'), ...rows.map((r) => columns.map((col) => cellOf(col, r)).join('\t'))].join('\n') + '\n';
}

/**
 * Emits a list: a table on a terminal (tab-separated rows on a pipe), JSON with --json or --format json, CSV
 * with --format csv (in `csvColumns` when given: an import's columns, so the file imports again); with --out
 * the same text goes to the file (checked, written whole, mode 0600) and a line saying so to stderr
 * (`{ "list", "format", "out", "rows" }` on stdout with --json).
 */
export async function emitList<R>(cmd: Command, name: string, rows: R[], columns: Column<R>[], human?: () => Promise<void>, csvColumns?: Column<R>[]): Promise<void> {
  const { format, out } = pickFormat(cmd, LIST_FORMATS);
  if (!out && format === 'table') return emit(cmd, rows, human ?? (() => printTable(columns, rows)));
  let text: string;
  if (format === 'json') text = JSON.stringify(rows, null, 2) + '\n';
  else {
    await useLedgerZone(cmd);
    text = format === 'csv' ? await csvText(csvColumns ?? columns, rows) : tsvText(columns, rows);
  }
  if (!out) return void process.stdout.write(text);
  const { writeOutputFile } = await import('../services/outfile.js');
  const path = writeOutputFile(out, text, { ledger: dbPath(cmd), flag: '--out' });
  if (globals(cmd).json) printJson({ list: name, format, out: path, rows: rows.length });
  else notice(`wrote ${path} (${count(rows.length, 'row')})`);
}
