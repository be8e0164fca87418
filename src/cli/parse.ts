// Option parsers for commander: each throws a UsageError naming the flag, so bad values exit 2.
import { type Command, InvalidArgumentError, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { type Within, dateRangeProblem, parseLocalDate, parseWithin } from '../domain/time.js';

export const parseDateOpt = (flag: string) => (v: string): string => {
  const d = parseLocalDate(v);
  const early = d ? null : dateRangeProblem(v);
  if (early) throw new InvalidArgumentError(`${flag} ${early}`);
  if (!d) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} is not a calendar date YYYY-MM-DD`);
  return d;
};

/** Before any action: a --from after --to selects nothing, so it is a usage error (exit 2), never a silent empty list. */
export function checkDateRange(_program: Command, action: Command): void {
  const o = action.opts<{ from?: unknown; to?: unknown }>();
  if (typeof o.from === 'string' && typeof o.to === 'string' && o.from > o.to) {
    throw new UsageError(`--from ${o.from} is after --to ${o.to}`, 'swap them, or pass the earlier date to --from');
  }
}

export const parseIntOpt = (flag: string, min = 0) => (v: string): number => {
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
    throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}`);
  }
  return Number(v);
};

export const parseSignedIntOpt = (flag: string) => (v: string): number => {
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} must be a whole number like 500 or -200`);
  return Number(v);
};

export const parseWithinOpt = (flag: string) => (v: string): Within => {
  const d = parseWithin(v);
  if (d === null) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} is not a window like 30d, 2w or 3m`);
  return d;
};

/** A decimal amount like 100.00 (checked again against the ledger's currency by the service). */
export const parseAmountOpt = (flag: string) => (v: string): string => {
  if (!/^\d+(\.\d+)?$/.test(v.trim())) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} is not an amount like 100.00`);
  return v.trim();
};

export const parseRatioOpt = (flag: string) => (v: string): string => {
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(v.trim())) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} must be a ratio between 0 and 1 like 0.5`);
  return v.trim();
};

/**
 * Before any action: commander keeps the last of a repeated option silently (`--points 100 --points 200`
 * uses 200, `--points 5000 --no-points` uses none). A single-valued option given twice, or an option with
 * its `--no-` form, is a usage error (exit 2) before anything is read or written. Options that collect
 * (`--item`, `--line`, `--map`: their parsed value is a list) repeat freely; a flag repeated as itself
 * (`--yes --yes`) says the same thing twice and passes.
 */
export function checkRepeatedOptions(program: Command, action: Command): void {
  const options: Option[] = [];
  for (let c: Command | null = action; c; c = c.parent) options.push(...c.options);
  const byToken = new Map<string, Option>();
  for (const o of options) {
    if (o.long) byToken.set(o.long, o);
    if (o.short) byToken.set(o.short, o);
  }
  const seen = new Map<string, { token: string; value?: string }>();
  const raw = (program as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i];
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const eq = arg.indexOf('=');
    const token = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const o = byToken.get(token);
    if (!o) continue;
    let value: string | undefined;
    if (o.required || o.optional) {
      if (token !== arg) value = arg.slice(eq + 1);
      else if (o.required || (i + 1 < raw.length && !raw[i + 1].startsWith('-'))) value = raw[++i];
    }
    const owner = optionOwner(action, o);
    const attr = o.attributeName();
    if (Array.isArray(owner?.getOptionValue(attr))) continue;
    const name = o.long ?? token;
    const first = seen.get(attr);
    if (!first) {
      seen.set(attr, { token: name, value });
      continue;
    }
    if (first.token === name && value === undefined && first.value === undefined) continue;
    if (first.token === name) {
      throw new UsageError(`${name} is given twice (${JSON.stringify(first.value)} and ${JSON.stringify(value)})`, `pass ${name} once; nothing was done`);
    }
    throw new UsageError(`${first.token} and ${name} exclude one another`, 'pass one of them; nothing was done');
  }
}

/** Options that name a file or a database: an empty value names none. */
const PATH_OPTIONS = new Set(['--db', '--out', '--rejects', '--profile', '--to', '--file']);

/**
 * A preAction hook: `--out ""` (`--out "$OUTFILE"` with the variable unset) is a usage error, never a run
 * that quietly writes to stdout, or to a default path, instead of the file the script meant; so is `--out -`.
 */
export function checkEmptyPaths(_program: Command, action: Command): void {
  for (let c: Command | null = action; c; c = c.parent) {
    for (const o of c.options) {
      if (!o.long || !PATH_OPTIONS.has(o.long) || !(o.required || o.optional)) continue;
      const v = c.getOptionValue(o.attributeName());
      if (v === '') {
        throw new UsageError(`${o.long} is empty`, `give ${o.long} a ${o.long === '--db' || o.long === '--to' ? 'ledger file or postgres:// URL' : 'file path'} (an empty value, such as an unset shell variable, names none); nothing was done`);
      }
      // `--out -` reads as "standard output" to a script author, but would write a file named "-"
      if (v === '-' && (o.long === '--out' || o.long === '--rejects')) {
        throw new UsageError(`${o.long} - names a file called "-"`, o.long === '--out' ? 'leave --out out to write to standard output (--format chooses csv, json or html), or give ./- for a file of that name' : 'give --rejects a file path (./- for a file of that name)');
      }
    }
  }
}

/** The command (the action or one of its parents) that declares `o`. */
function optionOwner(action: Command, o: Option): Command | null {
  for (let c: Command | null = action; c; c = c.parent) if (c.options.includes(o)) return c;
  return null;
}
