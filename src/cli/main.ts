// Builds the commander program: global options, lazily loaded command groups, the one error handler.
import { fstatSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { EXIT, PointsmallError, UsageError } from '../errors.js';
import { isClosedPipe, report } from './report.js';
import { checkDateRange, checkEmptyPaths, checkRepeatedOptions } from './parse.js';
import { setQuiet } from './output.js';

/** Top-level command → the module that registers it. Only the invoked group is imported. */
const GROUPS: Record<string, string> = {
  init: './commands/db.js',
  db: './commands/db.js',
  ledger: './commands/ledger.js',
  audit: './commands/ledger.js',
  member: './commands/members.js',
  catalog: './commands/catalog.js',
  rules: './commands/rules.js',
  import: './commands/import.js',
  review: './commands/import.js',
  purchase: './commands/import.js',
  checkout: './commands/checkout.js',
  order: './commands/checkout.js',
  coupon: './commands/checkout.js',
  holds: './commands/checkout.js',
  expire: './commands/expire.js',
  outbox: './commands/outbox.js',
  report: './commands/report.js',
  points: './commands/points.js',
  demo: './commands/demo.js',
  completion: './commands/completion.js',
  __complete: './commands/completion.js',
};

/** Commands that need the whole tree registered (help, and completion scripts generated from it). */
const WHOLE_TREE = new Set(['help', 'completion', '__complete']);

const VALUE_OPTIONS = new Set(['--db', '--operator']);

function invokedGroup(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

async function registerGroups(program: Command, argv: string[]): Promise<void> {
  const group = invokedGroup(argv);
  const wanted = group && GROUPS[group] && !WHOLE_TREE.has(group) ? [GROUPS[group]] : [...new Set(Object.values(GROUPS))];
  for (const mod of wanted) {
    let m: { register: (p: Command) => void };
    try {
      m = await import(mod);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(mod.slice(2, -3))) continue;
      throw e;
    }
    m.register(program);
  }
  const { addExamples, fitHelp } = await import('./help.js');
  addExamples(program);
  helpFitter = fitHelp;
}

/** The version in package.json (dist/cli/main.js → ../../package.json). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/** help.ts's fitHelp, once the command tree is registered (it is loaded with it). */
let helpFitter: ((text: string, width: number) => string) | undefined;

function buildProgram(json = false): Command {
  const program = new Command('pointsmall');
  program
    .description('Run a points mall: members earn points on purchases, spend them with cash, and points expire.\nEverything lives in one ledger: a SQLite file, or a PostgreSQL database shared by many tills.')
    // (with --json, as one JSON document: {"version": "0.1.0"})
    .version(json ? JSON.stringify({ version: packageVersion() }, null, 2) : packageVersion(), '-V, --version', 'print the version')
    .option('--db <path>', 'the ledger: a SQLite file, or postgres://USER@HOST:PORT/DATABASE (default $POINTSMALL_DB, else ./pointsmall.db)')
    .option('--json', 'print one JSON document on stdout, for scripts')
    .option('--operator <name>', 'who is acting, for the audit log (default $POINTSMALL_OPERATOR, else the OS user)')
    .option('-y, --yes', 'answer yes: never prompt (a missing argument is an error); needed where nobody can be asked (no terminal, --json, CI) by commands that move money or destroy data')
    .option('--no-color', 'no colours')
    .option('-q, --quiet', 'no notes on stderr ("wrote FILE", what a run did; expire run prints nothing on success): only errors, for cron, which mails whatever a job prints')
    .option('--debug', 'show stack traces of errors')
    .helpOption('-h, --help', 'show help for the command')
    .configureHelp({ showGlobalOptions: true })
    .hook('preAction', checkRepeatedOptions)
    .hook('preAction', checkEmptyPaths)
    .hook('preAction', (p) => setQuiet(p.opts().quiet === true))
    .hook('preAction', checkDateRange)
    .exitOverride()
    // with --json, stderr holds the one error document: no usage text before it
    .configureOutput({
      outputError: () => undefined,
      // help on a terminal fits its width (help.ts fitHelp); elsewhere it is written as it is, for grep
      writeOut: (s) => void process.stdout.write(process.stdout.isTTY && helpFitter ? helpFitter(s, process.stdout.columns || 80) : s),
      ...(json ? { writeErr: () => undefined } : {}),
    });
  program.addHelpText(
    'after',
    // (each line within 80 columns: a terminal would break it mid-word)
    '\nExit codes:\n' +
      '  0 done · 1 internal error · 2 usage or input error\n' +
      '  3 refused by a business rule · 4 import finished with rejected rows\n' +
      '  5 ledger locked past the busy timeout · 6 ledger verify failed\n' +
      '  130 a prompt cancelled (Ctrl-C or Ctrl-D), or a payment stopped by Ctrl-C\n',
  );
  return program;
}

let stdoutClosed = false;

/**
 * Stdout redirected to a file (`> out.jsonl`, a cron's `>> report.csv`): Node writes a file synchronously and
 * takes a short write (a disk nearly full) for a whole one, so the output would end part way with exit 0,
 * and `outbox export --mark-sent` would mark what never reached the file. Here each write goes on until every
 * byte is in, or throws the disk's error (ENOSPC: exit 2, nothing marked).
 */
function wholeWritesToFile(): void {
  try {
    if (!fstatSync(1).isFile()) return;
  } catch {
    return;
  }
  const stdout = process.stdout as unknown as { write: (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean };
  stdout.write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : cb;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
    for (let at = 0; at < bytes.length; ) {
      const n = writeSync(1, bytes, at, bytes.length - at);
      if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      at += n;
    }
    if (typeof done === 'function') (done as (e?: Error | null) => void)(null);
    return true;
  };
}

/**
 * Once, for every printer: a closed pipe on stdout or stderr is not a crash. What is printed after the
 * reader left is dropped and the command ends as it would have (exit 0 when it succeeded), as other
 * Unix tools do. Output whose delivery is recorded (outbox export --mark-sent) waits for its write to
 * succeed before it is recorded (writeStdout). Other stream errors are reported like thrown ones.
 */
function guardStdio(json: boolean, debug: boolean): void {
  wholeWritesToFile();
  process.stdout.on('error', (e) => {
    if (isClosedPipe(e)) {
      stdoutClosed = true;
      return;
    }
    if (stdoutClosed) return;
    stdoutClosed = true; // nothing more can be written there
    const exit = report(e, json, debug);
    if (exit > Number(process.exitCode ?? 0)) process.exitCode = exit;
  });
  process.stderr.on('error', () => undefined); // nowhere left to tell
}

/**
 * `pointsmall expire` (a group without its command, as a crontab line missing `run` would be): commander
 * shows the usage and ends as if helped. It is a usage error (exit 2): a cron job must not pass doing nothing.
 */
function missingCommand(err: unknown, program: Command | undefined, argv: string[]): UsageError | undefined {
  if (!(err instanceof CommanderError) || err.code !== 'commander.help' || err.exitCode === 0 || !program) return undefined;
  const group = invokedGroup(argv);
  const sub = group ? program.commands.find((c) => c.name() === group || c.aliases().includes(group)) : undefined;
  const names = (sub ?? program).commands.map((c) => c.name()).filter((n) => n !== 'help' && !n.startsWith('__'));
  return new UsageError(`${sub ? `pointsmall ${sub.name()}` : 'pointsmall'} needs a command: ${names.join(', ')}`, `run ${sub ? `pointsmall ${sub.name()}` : 'pointsmall'} --help for what each does`);
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  guardStdio(json, debug);
  let program: Command | undefined;
  try {
    program = buildProgram(json);
    await registerGroups(program, argv);
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const exit = report(missingCommand(err, program, argv) ?? err, json, debug);
    if (exit > Number(process.exitCode ?? 0) || exit === 0) process.exitCode = exit;
  }
}

await main();
