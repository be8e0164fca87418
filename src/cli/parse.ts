// Option parsers for commander: each throws a UsageError naming the flag, so bad values exit 2.
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';
import { dateRangeProblem, parseLocalDate, parseWithin } from '../domain/time.js';

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

export const parseWithinOpt = (flag: string) => (v: string): number => {
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
