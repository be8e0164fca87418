// What command modules get from the wiring: global options, the context, prompting rules, rendering.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { printJson, scrubData, setDisplayZone, wrapToTerminal } from './output.js';
import type { Ctx } from '../services/ledger.js';

export interface GlobalOpts {
  db?: string;
  json?: boolean;
  operator?: string;
  debug?: boolean;
  yes?: boolean;
  color?: boolean;
}

export function globals(cmd: Command): GlobalOpts {
  return cmd.optsWithGlobals() as GlobalOpts;
}

export function dbPath(cmd: Command): string {
  // an empty POINTSMALL_DB (=$UNSET in a crontab) is unset, not the path ""
  return globals(cmd).db ?? (process.env.POINTSMALL_DB?.trim() ? process.env.POINTSMALL_DB : undefined) ?? './pointsmall.db';
}

/** Builds the command's context. Services are loaded lazily, so this only reads the environment. */
export async function context(cmd: Command): Promise<Ctx> {
  const { resolveNow, resolveOperator } = await import('../services/ledger.js');
  const person = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const tell = person ? (text: string) => void process.stderr.write(`\n${wrapToTerminal(text)}\n`) : undefined;
  return { dbPath: dbPath(cmd), operator: resolveOperator(globals(cmd).operator), now: resolveNow(), liveClock: !process.env.POINTSMALL_NOW, tell };
}

/** Prompts only for a person: stdin and stdout TTYs, and not --yes, --json or CI. */
export function canPrompt(cmd: Command): boolean {
  const g = globals(cmd);
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !g.yes && !g.json && !ci);
}

/**
 * SPEC §7, an explicit yes where nobody can be asked: a command that moves money or destroys data runs with
 * --yes; on a terminal it asks (the caller shows the amounts); otherwise (no TTY, --json or CI) it is a
 * usage error, exit 2, before anything is written. Returns true when the caller must ask.
 */
export function mustAsk(cmd: Command, what: string): boolean {
  if (globals(cmd).yes) return false;
  if (canPrompt(cmd)) return true;
  throw new UsageError(`${what} needs an explicit yes, and nobody can be asked here (no terminal, --json or CI)`, 'pass --yes to go ahead', 'CONFIRMATION_REQUIRED');
}

/** Asks a yes/no question on the terminal (default no). */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  const { confirmAction } = await import('./prompts.js');
  return confirmAction(question, false);
}

/** A value the user left out: asked for on a TTY, otherwise a usage error naming the flag. */
export async function need(cmd: Command, value: string | undefined, flag: string, message: string, problem?: (v: string) => Promise<string | null>): Promise<string> {
  if (value !== undefined && value !== '') return value;
  if (!canPrompt(cmd)) throw new UsageError(`missing ${flag}`, `pass ${flag} (prompts only appear on a terminal)`);
  const { ask } = await import('./prompts.js');
  // each answer checked as it is given (the question asked again), not after the last question
  return ask(message, problem ? { validate: async (v) => (await problem(v)) ?? true } : {});
}

/**
 * Shows times in the ledger's zone from here on (the human views; --json keeps UTC ISO 8601): the zone of
 * the ledger the command opened, else (nothing opened yet) of the one --db names.
 */
export async function useLedgerZone(cmd: Command): Promise<void> {
  const { ledgerZone, openedZone } = await import('../services/ledger.js');
  setDisplayZone(openedZone() ?? (await ledgerZone(await context(cmd))));
}

/** Emits a result: JSON with --json, else the human view. */
/**
 * Prints a command's result: JSON with --json, else `human`'s text. `done`: the text only says that what was
 * asked is done (a backup written, an import with nothing rejected), so --quiet leaves it out (cron mails nothing).
 */
export async function emit<T>(cmd: Command, result: T, human: (r: T) => void | Promise<void>, o: { done?: boolean } = {}): Promise<void> {
  if (globals(cmd).json) printJson(result);
  else if (o.done && cmd.optsWithGlobals().quiet === true) return;
  else {
    // Human output: the result's text (names, reasons, ids from the ledger) is cleaned in place before
    // any of it is coloured or printed, so no escape from data reaches a terminal (JSON escapes its own).
    scrubData(result);
    await useLedgerZone(cmd);
    await human(result);
  }
}

export function setExit(code: number): void {
  if (code > Number(process.exitCode ?? 0)) process.exitCode = code;
}

export type Action = (...args: any[]) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The last argument commander passes to an action is the command itself. */
export function cmdOf(args: unknown[]): Command {
  return args[args.length - 1] as Command;
}
