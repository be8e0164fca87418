// `import purchases|list|void`, `purchase void` and `review list|approve|reject`.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { localDateTime } from '../../domain/time.js';
import { cmdOf, confirmOnTerminal, context, emit, globals, mustAsk, setExit } from '../cli.js';
import { parseIntOpt } from '../parse.js';
import { localTime, notice, printFields, printTable, safeText, say, stderrIsTTY, stdoutIsTTY, tell } from '../output.js';
import { emitList, fileOptions, pageOptions } from '../lists.js';
import { agree, count, rejectsAgainOptions, showRejects } from '../words.js';
import { report } from '../report.js';
import type { ImportProgress, ImportSummary } from '../../services/importPurchases.js';
import type { ReviewDecision, ReviewItem } from '../../services/review.js';
import type { ActivityImportSummary, AwardDecision, AwardReviewItem } from '../../services/activities.js';
import type { ImportRunView, VoidOptions, VoidSummary } from '../../services/voids.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** An import shows no bar until it has run this long (POINTSMALL_PROGRESS_AFTER_MS; 0: from the start). */
const PROGRESS_AFTER_MS = 1000;
/** Nor for a file smaller than this (it imports in well under a second), unless the wait is set to 0. */
const PROGRESS_MIN_BYTES = 1 << 20;

/**
 * A progress bar on stderr, only when stderr is a terminal and output is not --json-only scripting, and
 * only for an import that takes a while: a file of 1 MiB or more, once it has run for a second. A small
 * file never gets one, however slow the machine.
 */
async function progressBar(file: string): Promise<{ update: (p: ImportProgress) => void; stop: () => void } | null> {
  // a person watching: the bar draws on stderr, and only when stdout is the terminal too (piped into a
  // file or another program, the output is a script's: nothing decorative, as colour and tables)
  if (!stderrIsTTY() || !stdoutIsTTY()) return null;
  const env = process.env.POINTSMALL_PROGRESS_AFTER_MS;
  const after = env !== undefined && /^\d+$/.test(env) ? Number(env) : PROGRESS_AFTER_MS;
  if (after > 0) {
    const { statSync } = await import('node:fs');
    const size = (() => {
      try {
        return statSync(file).size;
      } catch {
        return 0; // (the import itself says what is wrong with the file)
      }
    })();
    if (size < PROGRESS_MIN_BYTES) return null;
  }
  const since = Date.now();
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    // the text beside the bar takes up to 45 columns (a million orders): the bar the rest, 10 to 40 cells
    { format: '{phase} [{bar}] {percentage}% | {value}/{total} {unit}', hideCursor: true, stream: process.stderr, etaBuffer: 50, fps: 10, barsize: Math.max(10, Math.min(40, (process.stderr.columns || 80) - 45)) },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  let started = false;
  const labels: Record<ImportProgress['phase'], [string, string]> = {
    reading: ['reading  ', 'KiB'],
    accruing: ['accruing ', 'orders'],
    rejects: ['rejects  ', 'KiB'],
  };
  const scale = (p: ImportProgress, v: number) => (p.phase === 'accruing' ? v : Math.round(v / 1024));
  return {
    update(p) {
      if (!started && Date.now() - since < after) return; // (the bar starts with the first news after the wait)
      const [label, unit] = labels[p.phase];
      if (p.phase !== phase) {
        if (started) bar.stop();
        bar.start(Math.max(1, scale(p, p.total)), scale(p, p.done), { phase: label, unit });
        started = true;
        phase = p.phase;
      } else bar.update(scale(p, p.done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function showSummary(r: ImportSummary, options: string[]): Promise<void> {
  printFields([
    ['file', r.file],
    ['source', r.source],
    ['format', r.format === 'line' ? 'one row per line' : 'one row per order'],
    ['rows', r.rows],
    ['orders', r.orders],
    ['accepted', c.green(String(r.accepted))],
    ['returns', r.returns],
    ['duplicates', r.duplicates],
    ['review', r.review ? c.yellow(String(r.review)) : 0],
    // rows, where accepted counts orders: a person is told which (a pipe keeps the number, for awk)
    ['rejected', r.rejected ? c.red(stdoutIsTTY() ? `${count(r.rejected, 'row')} (${count(r.rejectedOrders, 'order')})` : String(r.rejected)) : 0],
    ['guests skipped', r.guestsSkipped],
    ['skipped', r.skipped],
    ['members created', r.membersCreated],
    ['points accrued', r.pointsAccrued],
    // old data: points whose lot had lapsed before today are in the balance but not spendable (README "Expiry")
    ...(r.pointsLapsed ? ([['already lapsed', stdoutIsTTY() ? c.yellow(`${r.pointsLapsed} of them were earned by orders whose points expired before today: they cannot be spent (less what returns took back or a debt took; member show says what is left)`) : r.pointsLapsed]] as [string, unknown][]) : []),
    // a credit repays its member's debt before it makes a lot (SPEC §4.6): said, or the balance seems to move by less (trial 42)
    ...(r.debtRepaid ? ([['debt repaid', stdoutIsTTY() ? `${r.debtRepaid} of them repaid members' debt: no lot holds those` : r.debtRepaid]] as [string, unknown][]) : []),
    ['points returned', r.pointsReturned],
    ['capped', r.capped],
    ...(r.runId !== null ? ([['import run', `${r.runId} (undo with: pointsmall import void ${r.runId})`]] as [string, unknown][]) : []),
    ['purchased', r.firstPurchasedAt ? `${localDateTime(r.firstPurchasedAt, r.timezone)} to ${localDateTime(r.lastPurchasedAt!, r.timezone)} (${r.timezone})` : '-'],
    ...(r.dryRun ? ([['dry run', c.yellow('yes: nothing was written')]] as [string, unknown][]) : []),
  ]);
  showRejects(r, { command: 'pointsmall import purchases', options }, r.dryRun);
  if (r.sameFileAs) {
    const s = r.sameFileAs;
    // (broken at spaces on a terminal, never mid-word: trial 42 at 80 columns)
    tell(
      `${c.yellow('!')} this file has the same bytes as the one import run ${s.runId} took in under source ${safeText(s.source, false)} (${localTime(s.at)}): under source ${safeText(r.source, false)} its orders ${r.dryRun ? 'would count' : 'count'} again; ${r.dryRun ? `import it with --source ${safeText(s.source, false)} to find them duplicates` : r.runId !== null ? `undo with: pointsmall import void ${r.runId}` : 'nothing was written'}`,
    );
  }
  if (r.mixedTimeOrders) {
    tell(`${c.yellow('!')} ${count(r.mixedTimeOrders, 'order')} had lines at different purchase times (the first: ${safeText(r.firstMixedTimeOrder ?? '', false)}); each is booked at its earliest line's time`);
  }
  if (r.review) tell(`${c.yellow('!')} ${count(r.review, 'order')} ${agree(r.review, 'waits', 'wait')} in review: pointsmall review list`);
  return Promise.resolve();
}

// --- activities (issue 18) ---
function showActivitySummary(r: ActivityImportSummary): void {
  printFields([
    ['file', r.file],
    ['rows', r.rows],
    ['awarded', c.green(String(r.awarded))],
    ['duplicates', r.duplicates],
    ['review', r.review ? c.yellow(String(r.review)) : 0],
    ['rejected', r.rejected ? c.red(String(r.rejected)) : 0],
    ['points awarded', r.pointsAwarded],
    ...r.byActivity.map((b) => [`  ${b.activity}`, `${count(b.awarded, 'award')}, ${count(b.points, 'point')}`] as [string, unknown]),
    ['occurred', r.firstOccurredAt ? `${localTime(r.firstOccurredAt)} to ${localTime(r.lastOccurredAt)}` : '-'],
    ...(r.dryRun ? ([['dry run', c.yellow('yes: nothing was written')]] as [string, unknown][]) : []),
  ]);
  // the first rejected rows, then where they all are and how to import them again, as the other imports say it
  showRejects(r, { command: 'pointsmall import activities', options: rejectsAgainOptions(['--db', '--delimiter', '--map', '--date-format']) }, r.dryRun);
  if (r.review) process.stderr.write(`${c.yellow('!')} ${count(r.review, 'award')} ${agree(r.review, 'waits', 'wait')} in review (frozen members): pointsmall review list\n`);
}
// --- end activities ---

const reviewColumns = [
  { key: 'id', header: 'id', align: 'right' },
  { key: 'source', header: 'source' },
  { key: 'orderId', header: 'order' },
  { key: 'memberId', header: 'member' },
  { key: 'purchasedAt', header: 'purchased at', format: localTime },
  { key: 'amount', header: 'amount', align: 'right' },
  { key: 'reason', header: 'reason' },
  { key: 'status', header: 'status', fit: 'fixed' },
] as const;

function showDecision(r: ReviewDecision | AwardDecision): void {
  const verb = r.status === 'approved' ? c.green('approved') : c.red('rejected');
  const pts = r.status === 'approved' ? `; ${r.points && r.points < 0 ? `${count(-r.points, 'point')} taken back` : `${count(r.points ?? 0, 'point')} credited`}${r.capped ? ` (${r.capped} over the daily cap)` : ''}` : '';
  const what = r.kind === 'activity' ? `award ${r.activity} ${r.orderId}` : `order ${r.orderId}`;
  say(`${c.green('✓')} ${verb} ${what} of ${r.memberId}${pts}; balance ${r.balance}`);
}

const runColumns = [
  { key: 'id', header: 'run', align: 'right' },
  { key: 'source', header: 'source', fit: 'id' },
  { key: 'file', header: 'file', fit: 'wrap' }, // (a path cut at its end loses the file's name)
  { key: 'sha256', header: 'sha256', drop: 4 }, // (cut with … where a terminal is too narrow; whole elsewhere)
  { key: 'importedAt', header: 'imported at', format: localTime },
  { key: 'operator', header: 'operator', drop: 3 },
  { key: 'rows', header: 'rows', align: 'right', format: (v: unknown) => (v === null ? 'unfinished' : String(v)) },
  { key: 'accepted', header: 'accepted', align: 'right' },
  { key: 'points', header: 'points', align: 'right' },
  { key: 'firstPurchasedAt', header: 'first purchase', format: (v: unknown) => (v === null ? '-' : localTime(v)), fit: 'fixed', drop: 1 },
  { key: 'lastPurchasedAt', header: 'last purchase', format: (v: unknown) => (v === null ? '-' : localTime(v)), fit: 'fixed', drop: 2 },
  { key: 'voided', header: 'voided', align: 'right' },
] as const;

/** What a void does, in words: the confirmation question and the human result. */
function voidWords(s: VoidSummary, orderId?: string): string {
  const parts = [s.runId !== null ? `${count(s.orders, 'order')} of import run ${s.runId} (source ${s.source})` : orderId !== undefined ? `order ${orderId} of source ${s.source}` : `${count(s.orders, 'order')} of source ${s.source}`];
  if (s.pointsTakenBack) parts.push(`${count(s.pointsTakenBack, 'point')} taken back${s.expiredReversed ? ` (${s.expiredReversed} of them expired already, not the members')` : ''}`);
  if (s.pointsGivenBack) parts.push(`${count(s.pointsGivenBack, 'point')} of returns given back`);
  parts.push(`${count(s.members, 'member')} affected`);
  if (s.debt) parts.push(`${count(s.debt, 'point')} already spent or held by a checkout ${agree(s.debt, 'becomes', 'become')} debt`);
  if (s.reviewRejected) parts.push(`${s.reviewRejected} rejected from review`);
  return parts.join(', ');
}

/**
 * The void's result line (piped too, as every command's), then each member's change under a header: on a
 * terminal the first 20 (then a count), on a pipe every member, as tab-separated rows.
 */
async function showVoid(s: VoidSummary, orderId?: string): Promise<void> {
  const tty = stdoutIsTTY();
  const verb = s.dryRun ? c.yellow('would void') : `${c.green('✓')} voided`;
  say(`${verb} ${voidWords(s, orderId)}${s.dryRun ? ' (dry run: nothing was written)' : ''}`);
  const rows = tty ? s.byMember.slice(0, 20) : s.byMember;
  await printTable(
    [
      { key: 'memberId', header: 'member' },
      { key: 'points', header: 'points', align: 'right', format: (v) => `${(v as number) > 0 ? '+' : ''}${v}` },
      { key: 'debt', header: 'debt', align: 'right', format: (v) => ((v as number) ? (tty ? c.red(`+${v}`) : `+${v}`) : '') },
    ],
    rows,
  );
  if (s.byMember.length > rows.length) process.stdout.write(c.dim(`… and ${s.byMember.length - rows.length} more members (a pipe or --json lists them all)`) + '\n');
  if (!s.dryRun) notice('the orders\' keys are free: import the corrected file under the same source');
}

/**
 * A void moves points: --dry-run just shows it; with --yes it goes; on a terminal the same figures are
 * worked out first (a dry run), asked about, then applied only if they still hold.
 */
async function runVoid(cmd: Command, what: string, go: (o: VoidOptions) => Promise<VoidSummary>, orderId?: string): Promise<void> {
  const dryRun = Boolean(cmd.opts().dryRun);
  let expect: VoidOptions['expect'];
  if (!dryRun && mustAsk(cmd, what)) {
    const preview = await go({ dryRun: true });
    if (!(await confirmOnTerminal(`Void ${voidWords(preview, orderId)}?`))) {
      process.stderr.write('nothing was changed\n');
      return;
    }
    expect = preview;
  }
  const r = await go({ dryRun, expect });
  await emit(cmd, r, (v) => showVoid(v, orderId));
}

export function register(program: Command): void {
  const imp = program.command('import').description('bulk imports: purchases from tills, e-shops and spreadsheets, and activities');

  imp
    .command('purchases <file>')
    .description('accrue points for the purchases in a CSV (one row per order, or one row per line)')
    .option('--map <field=Column>', 'read a field from another column (repeatable): order_id, member_id, purchased_at, amount, quantity, unit_price, line_amount, sku, category', collect)
    .option('--profile <file.json>', 'saved mapping and format options: {"map": {...}, "dateFormat", "encoding", "delimiter", "source"}')
    .option('--source <name>', 'where the file comes from; (source, order id) is the idempotency key (default "default")')
    .option('--date-format <fmt>', 'timestamp format, e.g. "M/D/YYYY H:mm" (numbers padded or not; default ISO 8601); repeatable: tried in order, a value two formats read as different dates is rejected as ambiguous', collect)
    .option('--encoding <enc>', 'file encoding: utf8 (default), utf16, gbk, gb18030, latin1, windows-1252, macroman; a BOM picks UTF-8 or UTF-16 by itself')
    .option('--delimiter <c>', 'field delimiter (default ","; tab, semicolon, pipe by name)')
    .option('--create-members', 'add members the ledger does not know yet (named by their id)')
    .option('--no-create-members', 'do not, whatever --profile says')
    .option('--skip-guests', 'drop rows without a member id silently (counted as guestsSkipped)')
    .option('--no-skip-guests', 'do not, whatever --profile says')
    .option('--null <value>', 'a value that means an empty field, e.g. NA or NULL (repeatable); an NA member id is a guest', collect)
    .option('--skip <COLUMN=VALUE>', 'leave out rows with this value in this column, in any case, e.g. Status=cancelled (repeatable; counted as skipped)', collect)
    .option('--rejects <file>', 'where rejected rows go: the file\'s own columns behind _line and _reason, to fix and import again (default FILE.rejects.csv)')
    .option('--dry-run', 'compute the same summary and write nothing')
    .option('--max-rejects <n>', 'more bad rows than N and nothing is committed (exit 2); 0: all or nothing', parseIntOpt('--max-rejects', 0))
    .option('--batch <n>', 'orders committed together (default 30000): an import stopped midway keeps the batches it finished, and running it again skips them as duplicates', parseIntOpt('--batch', 1))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pointsmall import purchases till.csv\n' +
        '  pointsmall import purchases online-retail.csv --source online-retail --date-format "M/D/YYYY H:mm" \\\n' +
        '      --map order_id=InvoiceNo --map member_id=CustomerID --map purchased_at=InvoiceDate \\\n' +
        '      --map quantity=Quantity --map unit_price=UnitPrice --map sku=StockCode --create-members --skip-guests\n' +
        '\nExit 4 when some rows were rejected (every order with a bad row is rejected whole, the other orders are imported; see the rejects file); exit 2 when every row was, or more than --max-rejects.\n',
    )
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const bar = globals(cmd).json ? null : await progressBar(file);
      const { importPurchases } = await import('../../services/importPurchases.js');
      let r: ImportSummary;
      try {
        r = await importPurchases(await context(cmd), {
          file,
          map: o.map,
          profile: o.profile,
          source: o.source,
          dateFormat: o.dateFormat,
          encoding: o.encoding,
          delimiter: o.delimiter,
          createMembers: o.createMembers,
          skipGuests: o.skipGuests,
          nulls: o.null,
          skip: o.skip,
          rejects: o.rejects,
          dryRun: o.dryRun,
          maxRejects: o.maxRejects,
          batchOrders: o.batch,
          onProgress: bar ? bar.update : undefined,
          // a signal ends the process: the bar gives its line back, then the error says what stands
          onInterrupt: (err) => {
            bar?.stop();
            report(err, Boolean(globals(cmd).json), Boolean(globals(cmd).debug));
          },
        });
      } finally {
        bar?.stop();
      }
      // (the options that read the file and name the ledger: the fixed rejects file is imported again with them)
      const options = rejectsAgainOptions(['--db', '--map', '--profile', '--source', '--date-format', '--delimiter', '--null', '--skip'], ['--create-members', '--no-create-members', '--skip-guests', '--no-skip-guests']);
      await emit(cmd, r, (x: ImportSummary) => showSummary(x, options), { done: r.rejected === 0 && !r.review && !r.dryRun && !r.mixedTimeOrders && !r.pointsLapsed && !r.sameFileAs });
      if (r.rejected > 0) setExit(4);
    });

  // --- activities (issue 18) ---
  imp
    .command('activities <file>')
    .description('award the activities in a CSV with columns activity, member_id, ref, occurred_at (all or nothing of the good rows; limits count in occurred_at order)')
    .option('--map <field=Column>', 'read a field from another column (repeatable): activity, member_id, ref, occurred_at', collect)
    .option('--date-format <fmt>', 'occurred_at format, e.g. "M/D/YYYY H:mm" (default ISO 8601); repeatable, as for purchases', collect)
    .option('--encoding <enc>', 'file encoding: utf8 (default), utf16, gbk, gb18030, latin1, windows-1252, macroman; a BOM picks UTF-8 or UTF-16 by itself')
    .option('--delimiter <c>', 'field delimiter (default ","; tab, semicolon, pipe by name)')
    .option('--rejects <file>', 'where rejected rows go with line number and reason (default FILE.rejects.csv)')
    .option('--dry-run', 'compute the same summary and write nothing')
    .addHelpText('after', '\nA row already awarded (same activity and ref, same member) counts as a duplicate. Exit 4 when some rows were rejected\n(unknown member or activity, bad date, a limit reached, a ref awarded to another member); see the rejects file.\n')
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const { importActivities } = await import('../../services/activities.js');
      const r = await importActivities(await context(cmd), { file, map: o.map, dateFormat: o.dateFormat, encoding: o.encoding, delimiter: o.delimiter, rejects: o.rejects, dryRun: o.dryRun });
      await emit(cmd, r, showActivitySummary);
      if (r.rejected > 0) setExit(4);
    });
  // --- end activities ---

  fileOptions(imp.command('list').description('every import run: its file (name and sha256), when, by whom, rows, orders accepted, points and purchase dates')).action(async (...args) => {
    const cmd = cmdOf(args);
    const { listImportRuns } = await import('../../services/voids.js');
    const r: ImportRunView[] = await listImportRuns(await context(cmd));
    await emitList(cmd, 'import runs', r, [...runColumns]);
  });

  imp
    .command('void <run>')
    .description('undo an import run: reverse the points of every order it accrued with new entries, reject its orders in review, and free their keys')
    .option('--dry-run', 'show what it would do and write nothing')
    .addHelpText(
      'after',
      '\nPoints the members spent already become their debt, as a return does. The journal keeps everything: the void\n' +
        'adds entries. Afterwards the corrected file imports under the same source.\n' +
        '\nExamples:\n  pointsmall import list\n  pointsmall import void 3 --dry-run\n  pointsmall import void 3 --yes\n',
    )
    .action(async (run: string, ...args) => {
      const cmd = cmdOf(args);
      const id = Number(run);
      if (!/^\d{1,15}$/.test(run) || !Number.isSafeInteger(id)) {
        const { UsageError } = await import('../../errors.js');
        throw new UsageError(`import run must be a number, got ${JSON.stringify(run)}`, 'see the runs with: pointsmall import list');
      }
      const { voidImportRun } = await import('../../services/voids.js');
      const ctx = await context(cmd);
      await runVoid(cmd, `voiding import run ${id}`, (o) => voidImportRun(ctx, id, o));
    });

  program
    .command('purchase')
    .description('one imported order')
    .command('void <source> <order-id>')
    .description("undo one imported order: reverse its points with a new entry (or reject it from review) and free its key")
    .option('--dry-run', 'show what it would do and write nothing')
    .addHelpText('after', '\nExample:\n  pointsmall purchase void till 10023 --yes\n')
    .action(async (source: string, orderId: string, ...args) => {
      const cmd = cmdOf(args);
      const { voidPurchase } = await import('../../services/voids.js');
      const ctx = await context(cmd);
      await runVoid(cmd, `voiding order ${orderId} of source ${source}`, (o) => voidPurchase(ctx, source, orderId, o), orderId);
    });

  const review = program.command('review').description('imported orders waiting for approval (above limits.reviewAbove, or for a frozen member), and frozen members\' activity awards');

  const reviewList = review
    .command('list')
    .description('orders waiting in review (or decided ones with --status), oldest first')
    .addOption(new Option('--status <status>', 'which items').choices(['pending', 'approved', 'rejected', 'all']).default('pending'))
    .option('--member <id>', 'only this member');
  fileOptions(pageOptions(reviewList, 'items', { order: 'oldest first' })).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const { listReview } = await import('../../services/review.js');
    const r: (ReviewItem | AwardReviewItem)[] = await listReview(await context(cmd), { status: o.status, member: o.member, limit: o.limit, offset: o.offset });
    await emitList(cmd, 'review items', r, [...reviewColumns]);
  });

  review
    .command('approve <id>')
    .description('accrue a waiting order by the rules in force at its purchase time (ID: the review number or the order id)')
    .option('--note <text>', 'why, for the audit log')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const { approveReview } = await import('../../services/review.js');
      const r = await approveReview(await context(cmd), id, cmd.opts().note);
      await emit(cmd, r, showDecision);
    });

  review
    .command('reject <id>')
    .description('reject a waiting order: it never accrues, and importing it again counts as a duplicate')
    .option('--note <text>', 'why, for the audit log')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const { rejectReview } = await import('../../services/review.js');
      const r = await rejectReview(await context(cmd), id, cmd.opts().note);
      await emit(cmd, r, showDecision);
    });
}
