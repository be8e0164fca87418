// Small CSV files for master data (members, catalog): read whole with line numbers, rejects written beside.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { AtomicFile, checkOutput, type OutputTarget } from './outfile.js';

export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

export interface Reject {
  line: number;
  reason: string;
  values: Record<string, string>;
}

export async function readCsvFile(path: string, required: string[], known: string[]): Promise<CsvRecord[]> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`cannot read ${path}: no such file`, 'check the path');
  let text = readFileSync(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const { parse } = await import('csv-parse/sync');
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parse(text, { columns: (h: string[]) => h.map((x) => x.trim()), info: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as never;
  } catch (e) {
    const err = e as { message: string; lines?: number };
    throw new UsageError(`${path}:${err.lines ?? '?'}: ${err.message}`, 'fix the CSV (quotes and column counts) and run again; nothing was written');
  }
  const header = rows.length ? Object.keys(rows[0].record) : (text.split(/\r?\n/)[0] ?? '').split(',').map((h) => h.trim());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length) {
    throw new UsageError(`${path}:1: missing column(s) ${missing.join(', ')}`, `the header must name ${required.join(', ')} (optional: ${known.filter((k) => !required.includes(k)).join(', ')})`);
  }
  return rows.map((r) => ({ line: r.info.lines, values: r.record }));
}

/**
 * The rejects file of an import of `file`: --rejects, else FILE.rejects.csv beside it. Checked before the
 * import writes anything (checkOutput), so a bad path is an exit 2 with nothing imported.
 */
export function rejectsTarget(ctx: { dbPath: string }, file: string, rejectsPath?: string): OutputTarget {
  const path = rejectsPath ?? `${file.replace(/\.csv$/i, '')}.rejects.csv`;
  return checkOutput(path, { ledger: ctx.dbPath, flag: rejectsPath === undefined ? 'rejects file' : '--rejects' });
}

export async function writeRejects(target: OutputTarget, header: string[], rejects: Reject[]): Promise<string> {
  const { csvSafe } = await import('../cli/output.js');
  const { stringify } = await import('csv-stringify/sync');
  const rows = rejects.map((r) => [String(r.line), r.reason, ...header.map((h) => csvSafe(r.values[h] ?? ''))]);
  const f = new AtomicFile(target);
  try {
    f.write(stringify([['line', 'reason', ...header], ...rows]));
  } catch (e) {
    f.abort();
    throw e;
  }
  f.commit();
  return target.path;
}
