// The one place an error becomes what a person or a script reads: `error:`/`hint:` lines, or the JSON
// error document with --json, and the exit code. main's handler and a command stopped by a signal use it.
import { CommanderError } from 'commander';
import { CancelledError, DiskFullError, EXIT, LedgerCorruptError, PointsmallError, maskPasswords, isDiskFull, mapServerCode, sqliteDamage } from '../errors.js';
import { stderrIsTTY, tell, wrapToTerminal } from './output.js';

/** The reader of stdout (or stderr) went away: `pointsmall … | head -1`. Not an error of the command. */
export const isClosedPipe = (e: unknown): boolean => ['EPIPE', 'ERR_STREAM_DESTROYED'].includes(String((e as { code?: unknown })?.code));

/** Prints `err` on stderr as this command's error and returns its exit code. */
export function report(err: unknown, json: boolean, debug: boolean): number {
  if (isClosedPipe(err)) return Number(process.exitCode ?? 0);
  if (isDiskFull(err) && !(err instanceof PointsmallError)) {
    // An output file or stdout could not be written; ledger writes that fail for space are mapped
    // where the command knows what it committed (withLedger, the import).
    err = new DiskFullError(
      (err as Error).message,
      'the output was not written whole',
      'free some space and run the command again; a command commits its ledger changes before it writes its output, and an output file is replaced only when written whole',
    );
  }
  // a PostgreSQL refusal that reached here unmapped (a role's rights, a lost connection): not a bug
  err = mapServerCode(err);
  const damage = err instanceof PointsmallError ? undefined : sqliteDamage(err);
  if (damage) {
    // a ledger whose pages SQLite finds broken (a disk, a copy cut short): its own exit, never "check --db"
    const hint = 'run pointsmall ledger verify to see what is damaged, then restore the last good backup (pointsmall db restore FILE); keep the damaged file for investigation';
    const stack = (err as Error).stack;
    err = new LedgerCorruptError('the ledger file', `${(err as Error).message} (${damage}); this command wrote nothing`, hint);
    (err as Error).stack = stack;
  }
  let code = 'INTERNAL';
  let message: string;
  let hint: string | undefined;
  let exit: number = EXIT.internal;
  if (err instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.executeSubCommandAsync'].includes(err.code)) return 0;
    if (err.code === 'commander.help' && err.exitCode === 0) return 0; // `pointsmall help [command]`
    exit = EXIT.usage;
    code = 'USAGE';
    message = err.message.replace(/^error:\s*/, '');
    // commander names the option and value, then our reason names them again: the reason alone
    if (err.code === 'commander.invalidArgument') message = message.replace(/^option '[^']*' argument '[\s\S]*?' is invalid\. (?=--)/, '');
    hint = 'run with --help for usage';
  } else if (err instanceof PointsmallError) {
    if (err.code === 'CANCELLED') return cancelled(err instanceof CancelledError && err.closed, err instanceof CancelledError ? err.note : undefined);
    exit = err.exitCode;
    code = err.code;
    message = err.message;
    hint = err.hint;
  } else if ((err as Error)?.name === 'ExitPromptError') {
    return cancelled(!/SIGINT/.test((err as Error).message));
  } else {
    const sqliteCode = (err as { code?: string })?.code;
    if (sqliteCode === 'SQLITE_NOTADB') {
      exit = EXIT.usage;
      code = 'NOT_A_LEDGER';
      message = `the ledger file is not a valid SQLite database (${(err as Error).message})`;
      hint = 'check --db; restore a backup with: pointsmall db restore FILE';
    } else if (/^SQLITE_(READONLY|CANTOPEN)/.test(sqliteCode ?? '') || (err as { code?: string })?.code === 'EACCES') {
      // a ledger another user owns (a reporting cron run as someone else): not a bug, and nothing was written
      exit = EXIT.usage;
      code = 'LEDGER_NOT_WRITABLE';
      message = `cannot use the ledger: ${(err as Error).message} (file permissions)`;
      hint = "run as the ledger's owner, or give this user write access to the ledger file and its folder (SQLite writes its -wal and -shm files beside it, also to read); nothing was written";
    } else {
      message = `internal error: ${(err as Error)?.message ?? String(err)}`;
      hint = 'this is a bug; run again with --debug for the stack trace';
    }
  }
  const details = err instanceof PointsmallError ? err.details : undefined;
  // (a driver's own message may carry the URL too)
  message = maskPasswords(message);
  if (hint !== undefined) hint = maskPasswords(hint);
  if (json) process.stderr.write(JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), ...details } }) + '\n');
  else {
    // a message of several lines (every problem of a rules file) keeps them under the first; on a terminal
    // each line is broken at spaces to its width, under the mark (a pipe gets each line whole, for grep)
    process.stderr.write(`${marked('error: ', message)}\n`);
    if (hint) process.stderr.write(`${marked('hint: ', hint)}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(maskPasswords(err.stack) + '\n');
  return exit;
}

/** `mark` before the first line of `text`, its width of spaces before the others; wrapped on a terminal. */
function marked(mark: string, text: string): string {
  const width = process.stderr.columns && process.stderr.columns > 0 ? process.stderr.columns : 80;
  return text
    .split('\n')
    .map((line, i) => (i ? ' '.repeat(mark.length) : mark) + (stderrIsTTY() ? wrapToTerminal(line, mark.length, width) : line))
    .join('\n');
}

/**
 * Ctrl-C at a prompt, or its input ended before an answer (Ctrl-D, a pipe that ended): the question stays
 * on the screen, so a line under it says it was cancelled, and how. (A terminal that went away ends the
 * process by SIGHUP instead: prompts.ts guardTerminal.)
 */
function cancelled(closed = false, note?: string): number {
  if (process.stderr.isTTY) process.stderr.write(closed ? '\ncancelled: the input ended before an answer (Ctrl-D)\n' : '\ncancelled (Ctrl-C)\n');
  if (note) tell(note);
  return EXIT.cancelled;
}
