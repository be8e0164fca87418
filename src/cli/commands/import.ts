// `import purchases` and `review list|approve|reject`.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { localDateTime } from '../../domain/time.js';
import { cmdOf, context, emit, globals, setExit } from '../cli.js';
import { parseIntOpt } from '../parse.js';
import { localTime, printFields, printTable, stderrIsTTY } from '../output.js';
import type { ImportProgress, ImportSummary } from '../../services/importPurchases.js';
import type { ReviewDecision, ReviewItem } from '../../services/review.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** A progress bar on stderr, only when stderr is a terminal and output is not --json-only scripting. */
async function progressBar(): Promise<{ update: (p: ImportProgress) => void; stop: () => void } | null> {
  if (!stderrIsTTY()) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}% | {value}/{total} {unit}', hideCursor: true, stream: process.stderr, etaBuffer: 50, fps: 10 },
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

function showSummary(r: ImportSummary): Promise<void> {
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
    ['rejected', r.rejected ? c.red(String(r.rejected)) : 0],
    ['guests skipped', r.guestsSkipped],
    ['skipped', r.skipped],
    ['members created', r.membersCreated],
    ['points accrued', r.pointsAccrued],
    ['points returned', r.pointsReturned],
    ['capped', r.capped],
    ['purchased', r.firstPurchasedAt ? `${localDateTime(r.firstPurchasedAt, r.timezone)} to ${localDateTime(r.lastPurchasedAt!, r.timezone)} (${r.timezone})` : '-'],
    ...(r.dryRun ? ([['dry run', c.yellow('yes: nothing was written')]] as [string, unknown][]) : []),
  ]);
  if (r.rejectsFile) process.stderr.write(`${c.yellow('!')} ${r.rejected} rejected rows with line numbers and reasons: ${r.rejectsFile}\n`);
  else if (r.rejected && r.dryRun) process.stderr.write(`${c.yellow('!')} ${r.rejected} rows would be rejected (pass --rejects FILE to see them)\n`);
  if (r.review) process.stderr.write(`${c.yellow('!')} ${r.review} orders wait in review: pointsmall review list\n`);
  return Promise.resolve();
}

const reviewColumns = [
  { key: 'id', header: 'id', align: 'right' },
  { key: 'source', header: 'source' },
  { key: 'orderId', header: 'order' },
  { key: 'memberId', header: 'member' },
  { key: 'purchasedAt', header: 'purchased at', format: localTime },
  { key: 'amount', header: 'amount', align: 'right' },
  { key: 'reason', header: 'reason' },
  { key: 'status', header: 'status' },
] as const;

function showDecision(r: ReviewDecision): void {
  const verb = r.status === 'approved' ? c.green('approved') : c.red('rejected');
  const pts = r.status === 'approved' ? `; ${r.points && r.points < 0 ? `${-r.points} points taken back` : `${r.points ?? 0} points credited`}${r.capped ? ` (${r.capped} over the daily cap)` : ''}` : '';
  process.stdout.write(`${verb} order ${r.orderId} of ${r.memberId}${pts}; balance ${r.balance}\n`);
}

export function register(program: Command): void {
  const imp = program.command('import').description('bulk imports: purchases from tills, e-shops and spreadsheets');

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
    .option('--skip-guests', 'drop rows without a member id silently (counted as guestsSkipped)')
    .option('--null <value>', 'a value that means an empty field, e.g. NA or NULL (repeatable); an NA member id is a guest', collect)
    .option('--skip <COLUMN=VALUE>', 'leave out rows with this value in this column, e.g. Status=cancelled (repeatable; counted as skipped)', collect)
    .option('--rejects <file>', 'where rejected rows go with line number and reason (default FILE.rejects.csv)')
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
      const bar = globals(cmd).json ? null : await progressBar();
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
        });
      } finally {
        bar?.stop();
      }
      await emit(cmd, r, showSummary);
      if (r.rejected > 0) setExit(4);
    });

  const review = program.command('review').description('imported orders waiting for approval (above limits.reviewAbove, or for a frozen member)');

  review
    .command('list')
    .description('orders waiting in review (or decided ones with --status)')
    .addOption(new Option('--status <status>', 'which items').choices(['pending', 'approved', 'rejected', 'all']).default('pending'))
    .option('--member <id>', 'only this member')
    .option('--limit <n>', 'at most N items', parseIntOpt('--limit', 1))
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const { listReview } = await import('../../services/review.js');
      const r = await listReview(await context(cmd), { status: o.status, member: o.member, limit: o.limit });
      await emit(cmd, r, (rows: ReviewItem[]) => printTable([...reviewColumns], rows));
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
