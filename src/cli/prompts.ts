// Prompt helpers (lazy-loaded: @inquirer/prompts is the slowest import we have). Ctrl-C exits 130.
import { writeSync } from 'node:fs';
import { CancelledError, asCancelled } from '../errors.js';

function cancelled(e: unknown): never {
  // (inquirer's ExitPromptError says "… with SIGINT" for Ctrl-C, "… with 0 null" when its input closed)
  throw asCancelled(e) ?? e;
}

let guarded = false;
/** What to undo when the terminal goes away at a prompt (a hold the command made), set by onHangUp. */
let hangUpUndo: (() => Promise<unknown>) | null = null;
let hungUpAlready = false;

/**
 * `undo` runs when the terminal goes away at a prompt from now on (null: nothing), before the process ends
 * as a hung-up one: a checkout that held points releases them (trial 39b). It is given 10 seconds.
 */
export function onHangUp(undo: (() => Promise<unknown>) | null): void {
  hangUpUndo = undo;
  // the terminal's SIGHUP itself (its window closed), while there is something to undo
  process.removeListener('SIGHUP', onSighup);
  if (undo) process.on('SIGHUP', onSighup);
}
const onSighup = (): void => hangUp(() => undefined);

/** Ends the process as a hung-up one (exit 129), once what onHangUp registered has run. */
function hangUp(say: (text: string) => void): void {
  if (hungUpAlready) return;
  hungUpAlready = true;
  say('\ncancelled: the terminal went away before an answer\n');
  const end = () => {
    process.removeAllListeners('SIGHUP'); // (inquirer's signal-exit listens to it)
    process.kill(process.pid, 'SIGHUP');
    process.kill(process.pid, 'SIGKILL'); // (SIGHUP ignored, as under nohup: still never Node's abort)
  };
  if (!hangUpUndo) return end();
  void Promise.race([hangUpUndo().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]).finally(end);
}

/**
 * The terminal went away at a prompt (its window closed, an ssh session dropped): readline's next switch of
 * raw mode fails with EIO, an 'error' event of inquirer's own interface that nothing can catch, and Node 20
 * then aborts on its way out (it cannot restore the terminal's mode: a core dump, exit 134 or 139). Such an
 * error ends the process by SIGHUP instead (exit 129, as a hung-up process does), which Node does not
 * intercept, before what the prompt asked about is done (the transaction that answers it). Any other
 * uncaught error is an internal error, as it would have been. Installed by every prompt, once.
 */
export function guardTerminal(): void {
  if (guarded) return;
  guarded = true;
  process.on('uncaughtException', (e: NodeJS.ErrnoException) => {
    const say = (text: string) => {
      try {
        writeSync(2, text);
      } catch {
        // stderr was the terminal
      }
    };
    if ((e?.code === 'EIO' || e?.code === 'ENXIO' || e?.code === 'EBADF') && /setRawMode|read|write/i.test(String(e.syscall ?? e.message))) return hangUp(say);
    if (hungUpAlready) return; // (what the gone terminal throws while the undo runs)
    say(`error: internal error: ${e?.message ?? String(e)}\nhint: this is a bug; run again with --debug for the stack trace\n`);
    process.exit(1);
  });
}

export async function ask(message: string, opts: { validate?: (v: string) => true | string | Promise<true | string>; default?: string } = {}): Promise<string> {
  guardTerminal();
  const { input } = await import('@inquirer/prompts');
  return input({ message, required: true, validate: opts.validate, default: opts.default }).catch(cancelled);
}

export async function confirmAction(message: string, dflt = false): Promise<boolean> {
  guardTerminal();
  const { confirm } = await import('@inquirer/prompts');
  await discardTypeAhead();
  return confirm({ message, default: dflt }).catch(cancelled);
}

/**
 * Keys typed before a yes/no question or a choice is drawn never answer it (trial 32: `y` Enter typed
 * after the command, before its figures showed, paid it; an Enter picked the tender): what the terminal
 * holds is read and dropped, and the person is told. Ctrl-C among them still cancels (exit 130).
 */
export async function discardTypeAhead(): Promise<void> {
  guardTerminal();
  const stdin = process.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return;
  const wasRaw = stdin.isRaw;
  let dropped = '';
  const onData = (b: Buffer | string) => (dropped += b.toString());
  stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  try {
    // what was typed already is there at the first read (the poll phase before this timer can run)
    await new Promise((r) => setTimeout(r, 40));
  } finally {
    stdin.off('data', onData);
    stdin.pause();
    stdin.setRawMode(wasRaw);
  }
  if (dropped.includes('\u0003')) throw new CancelledError();
  if (dropped.length) process.stderr.write(`(${dropped.replace(/[\r\n]/g, '').length ? 'keys' : 'Enter'} typed before the question was shown: ignored; answer it now)\n`);
}

export async function choose<T extends string>(message: string, choices: { name: string; value: T; description?: string }[]): Promise<T> {
  guardTerminal();
  const { select } = await import('@inquirer/prompts');
  await discardTypeAhead(); // (an Enter typed ahead would pick the first choice)
  return select({ message, choices }).catch(cancelled);
}
