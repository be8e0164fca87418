// Which form a report or a list is written in: --format, else --out's extension, else --json, else a table.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { globals } from './cli.js';

export type OutFormat = 'table' | 'csv' | 'json' | 'html';

/** The format an --out file's extension names (.txt and .tsv: the tab-separated rows a pipe gets). */
export function inferFormat(out: string): OutFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(out)?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'json') return 'json';
  if (ext === 'html' || ext === 'htm') return 'html';
  if (ext === 'txt' || ext === 'tsv') return 'table';
  return undefined;
}

/**
 * --format wins; else --out's extension (one of `allowed`); else --json; else table. --json with another
 * --format on stdout is a conflict (exit 2).
 */
export function pickFormat(cmd: Command, allowed: readonly OutFormat[]): { format: OutFormat; out?: string } {
  const o = cmd.opts() as { format?: OutFormat; out?: string };
  const json = Boolean(globals(cmd).json);
  if (o.out) {
    const inferred = inferFormat(o.out);
    const format = o.format ?? (inferred && allowed.includes(inferred) ? inferred : undefined) ?? (json ? 'json' : undefined);
    if (!format) {
      // a folder has no extension to read: say what it is, not that its format is unknown
      if (isFolder(o.out)) throw new UsageError(`cannot write --out ${o.out}: it is a folder`, 'give --out a file path in it, e.g. report.csv');
      const exts = ['.csv', '.json', ...(allowed.includes('html') ? ['.html'] : []), '.txt'].join(', ');
      throw new UsageError(`cannot tell the format of --out ${o.out} from its extension`, `pass --format ${allowed.join('|')} or use ${exts}`);
    }
    return { format, out: o.out };
  }
  if (json && o.format && o.format !== 'json') throw new UsageError(`--json and --format ${o.format} disagree`, 'use one of them');
  return { format: o.format ?? (json ? 'json' : 'table') };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
