// `rules apply|show|history`.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { canPrompt, cmdOf, confirmOnTerminal, context, emit } from '../cli.js';
import { notice, localTime, printFields, printTable, say, stdoutIsTTY, wrapToTerminal } from '../output.js';
import { parseDateOpt, parseIntOpt } from '../parse.js';
import { FORMATS } from './report.js';
import { count } from '../words.js';
import { shellWord, shownName } from '../../domain/text.js';
import { RefusedError } from '../../errors.js';

/** A rules document as `path value` pairs: objects by dotted path, list items numbered from 1. */
function rulePairs(v: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(v)) return v.length ? v.flatMap((x, i) => rulePairs(x, `${path}.${i + 1}`)) : [[path, '(none)']];
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => rulePairs(x, path ? `${path}.${k}` : k));
  return [[path, v === null ? '-' : v]];
}

interface RulesDoc {
  earn?: { pointsPerUnit?: string; rounding?: string; minOrderAmount?: string; maxPointsPerOrder?: number | null; multipliers?: { category?: string; sku?: string; multiplier: string; from?: string; to?: string }[] };
  tiers?: { name: string; minLifetimePoints: number; multiplier: string }[];
  redeem?: { pointsPerUnit?: string; minPoints?: number; maxRatio?: string };
  expiry?: { policy?: string; days?: number; years?: number };
  limits?: { dailyEarnCap?: number | null; reviewAbove?: string | null; verifyPointsAbove?: number | null; maxCheckoutsPerHour?: number | null; maxRefundsPerDay?: number | null; maxPointsSpentPerDay?: number | null };
}

const plural = (n: number | string, one: string, many = `${one}s`): string => `${n} ${String(n) === '1' ? one : many}`;
const ROUNDING: Record<string, string> = { floor: 'rounded down', round: 'rounded to the nearest point', ceil: 'rounded up' };

/** The rules in force as labelled lines and tables for a person (a stored document has every field; a missing one reads as init's default). */
async function rulesSummary(d: RulesDoc, currency: string): Promise<void> {
  const { Decimal } = await import('decimal.js');
  const earn = d.earn ?? {};
  const redeem = d.redeem ?? {};
  const expiry = d.expiry ?? { policy: 'rolling-days', days: 365 };
  const limits = d.limits ?? {};
  const minOrder = earn.minOrderAmount ?? '0';
  const expiryText =
    expiry.policy === 'never'
      ? 'never'
      : expiry.policy === 'end-of-year'
        ? `on 31 Dec, ${plural(expiry.years ?? 1, 'year')} after the year they were earned`
        : `${plural(expiry.days ?? 365, 'day')} after they were earned`;
  printFields([
    ['earn', `${plural(earn.pointsPerUnit ?? '1', 'point')} per ${currency} spent, ${ROUNDING[earn.rounding ?? 'floor'] ?? earn.rounding}`],
    ['minimum order', new Decimal(minOrder).isZero() ? 'none' : `${minOrder} ${currency} (smaller orders earn nothing)`],
    ['cap per order', earn.maxPointsPerOrder === null || earn.maxPointsPerOrder === undefined ? 'none' : plural(earn.maxPointsPerOrder, 'point')],
    ['redeem', `${plural(redeem.pointsPerUnit ?? '100', 'point')} = 1 ${currency}`],
    ['minimum to redeem', plural(redeem.minPoints ?? 0, 'point')],
    ['points pay at most', `${new Decimal(redeem.maxRatio ?? '1').times(100).toFixed()}% of an order`],
    ['points expire', expiryText],
    ['daily earn cap', limits.dailyEarnCap === null || limits.dailyEarnCap === undefined ? 'none' : `${plural(limits.dailyEarnCap, 'point')} per member per day`],
    ['review above', limits.reviewAbove === null || limits.reviewAbove === undefined ? 'none' : `orders above ${limits.reviewAbove} ${currency} wait in review`],
    // the limits on spending (trial 40: an operator could not see why a checkout asked for a code)
    ['code above', limits.verifyPointsAbove == null ? 'none' : `a checkout using more than ${plural(limits.verifyPointsAbove, 'point')} needs a one-time code sent to the member`],
    ['checkouts per hour', limits.maxCheckoutsPerHour == null ? 'no limit' : `at most ${limits.maxCheckoutsPerHour} per member`],
    ['refunds per day', limits.maxRefundsPerDay == null ? 'no limit' : `at most ${limits.maxRefundsPerDay} per member`],
    ['points spent per day', limits.maxPointsSpentPerDay == null ? 'no limit' : `at most ${plural(limits.maxPointsSpentPerDay, 'point')} per member`],
  ]);
  const multipliers = earn.multipliers ?? [];
  await printTable(
    [
      { key: 'multiplier', header: 'multiplier', align: 'right', format: (v) => `×${v}` },
      { key: 'on', header: 'on' },
      { key: 'from', header: 'from', fit: 'fixed', format: (v) => (v as string | undefined) ?? 'always' },
      { key: 'to', header: 'to', fit: 'fixed', format: (v) => (v as string | undefined) ?? '' },
    ],
    multipliers.map((m) => ({ ...m, on: m.category !== undefined ? `category ${m.category}` : `SKU ${m.sku}` })),
    { title: '\nEarn multipliers' },
  );
  await printTable(
    [
      { key: 'name', header: 'tier' },
      { key: 'minLifetimePoints', header: 'from lifetime points', align: 'right' },
      { key: 'multiplier', header: 'earns', align: 'right', format: (v) => `×${v}` },
    ],
    d.tiers ?? [],
    { title: '\nTiers' },
  );
}

export function register(program: Command): void {
  const rules = program.command('rules').description('earning, redeeming and expiry rules, in versions');
  rules
    .command('apply <file>')
    .description('validate a rules JSON file and store it as a new version (fields left out take init\'s defaults)')
    .option('--effective <date>', 'in force from this date (start of day, ledger zone) or timestamp; default now')
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const { applyRules } = await import('../../services/rules.js');
      const ctx = await context(cmd);
      // A person at a terminal sees what the draft would have changed over the last 90 days first.
      if (canPrompt(cmd)) {
        const { previewApply } = await import('../../services/simulate.js');
        const { simulateFields } = await import('./rulesView.js');
        // a draft that would earn some order past the ceiling cannot be compared, but it can be stored
        // (a ledger under it refuses such orders): the person is told and still asked
        const p = await previewApply(ctx, file).catch((e: unknown) => {
          if (e instanceof RefusedError && e.code === 'POINTS_CEILING') return e;
          throw e;
        });
        if (p instanceof RefusedError) {
          process.stdout.write(c.yellow(`no comparison: ${p.message}`) + '\n');
        } else if (p.orders === 0 && p.refunds === 0) {
          // a table of zeros reads as "no change": a new ledger, or a quiet season, says so in a line
          process.stdout.write(c.yellow('no orders in the last 90 days: nothing to compare') + '\n' + `  ${wrapToTerminal(`\`pointsmall rules simulate ${shellWord(file)} --from DATE\` compares a longer period`, 2)}\n`);
        } else {
          process.stdout.write(c.bold('Had these rules applied over the last 90 days:') + '\n');
          printFields(simulateFields(p, true));
        }
        // what the comparison is not: applying changes nothing already earned (the note after storing counts them)
        const effective = cmd.opts().effective as string | undefined;
        say(c.dim(`a what-if: orders already earned keep their points${effective ? ', whatever --effective says' : ''}; the version applies to orders dated from ${effective ?? 'now'} on that earn after it is stored (imports, checkouts)`));
        if (!(await confirmOnTerminal(`store ${file} as a new rules version?`))) {
          notice('nothing stored');
          return;
        }
      }
      const r = await applyRules(ctx, file, cmd.opts().effective);
      const { namingWords, pinnedWords } = await import('./rulesView.js');
      await emit(cmd, r, () => {
        say(`${c.green('✓')} rules version ${r.version} stored, in force from ${r.effectiveLocal}`);
        const { purchases, orders } = r.earnedBefore;
        if (purchases || orders) {
          const what = [purchases ? count(purchases, 'imported purchase') : '', orders ? count(orders, 'checkout') : ''].filter(Boolean).join(' and ');
          notice(
            c.yellow(
              `note: ${what} dated from ${r.effectiveLocal} on ${purchases + orders === 1 ? 'was earned under the versions before it and keeps its' : 'were earned under the versions before it and keep their'} points; new imports of that period earn under version ${r.version}`,
            ) +
              `\n  see what this version would have given them: pointsmall rules simulate ${file}${/^\d{4}-/.test(r.effectiveLocal) ? ` --from ${r.effectiveLocal.slice(0, 10)}` : ''}`,
          );
        }
        for (const m of r.multipliersNamingNothing) {
          const words = namingWords(r.multipliersNamingNothing, m.on === 'sku' ? { sku: m.value } : { category: m.value });
          notice(
            c.yellow(`note: the multiplier of ${m.on === 'sku' ? 'SKU' : 'category'} ${shownName(m.value)} matches nothing yet${words}`) +
              (m.near.length ? `\n  write ${shownName(m.near[0])} in ${shellWord(file)} and apply it again, if that is the one meant` : ''),
          );
        }
        for (const x of r.pinnedTiersNotInRules) {
          const tiers = ((r.rules.tiers as { name: string }[] | undefined) ?? []).map((t) => t.name);
          notice(
            c.yellow(`note: ${pinnedWords(x)}, which version ${r.version} does not define: from ${r.effectiveLocal} they earn with no tier until pinned again`) +
              `\n  ${tiers.length ? `pin each again, to one of ${tiers.join(', ')}: pointsmall member update ${x.memberIds[0]} --tier TIER` : `unpin each: pointsmall member update ${x.memberIds[0]} --tier auto`}`,
          );
        }
      });
    });
  rules
    .command('simulate <file>')
    .description('earn the period\'s orders again under a draft rules file and compare with what they earned; writes nothing')
    .option('--from <date>', 'orders from this date (inclusive, ledger zone); default: all', parseDateOpt('--from'))
    .option('--to <date>', 'orders to this date (inclusive, ledger zone); default: today', parseDateOpt('--to'))
    .addOption(new Option('--by <group>', 'group the comparison by').choices(['month', 'tier', 'category', 'source']).default('month'))
    .option('--top <n>', 'how many of the members most affected to list', parseIntOpt('--top', 1), 10)
    .addOption(new Option('--format <format>', 'table, csv, json or html (default: from --out\'s extension, else table)').choices(FORMATS))
    .option('--out <file>', 'write the comparison to a file (atomically) instead of stdout')
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const { simulateRules } = await import('../../services/simulate.js');
      const { render } = await import('./report.js');
      const { simulateView } = await import('./rulesView.js');
      const ctx = await context(cmd);
      const r = await simulateRules(ctx, { file, from: o.from, to: o.to, by: o.by, top: o.top });
      await render(cmd, ctx.now, r, () => simulateView(r));
    });
  rules
    .command('show')
    .description('the rules in force now, or at --at')
    .option('--at <date>', 'the version in force at this date or timestamp')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { showRules } = await import('../../services/rules.js');
      const r = await showRules(await context(cmd), cmd.opts().at);
      await emit(cmd, r, () => {
        process.stderr.write(`rules version ${r.version}, in force from ${r.effectiveLocal}${r.inForce ? ' (current)' : ''}\n`);
        // A person gets a summary in words; a pipe one `setting<TAB>value` line per field (earn.pointsPerUnit 1);
        // the document itself: --json.
        if (stdoutIsTTY() && !('unreadable' in r.rules)) return rulesSummary(r.rules as RulesDoc, r.currency);
        printFields(rulePairs(r.rules));
      });
    });
  rules
    .command('history')
    .description('every rules version, oldest first')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { rulesHistory } = await import('../../services/rules.js');
      const r = await rulesHistory(await context(cmd));
      await emit(cmd, r, () =>
        printTable(
          [
            { key: 'version', header: 'version', align: 'right' },
            { key: 'effectiveLocal', header: 'effective from' },
            { key: 'appliedAt', header: 'applied at', format: localTime },
            { key: 'operator', header: 'operator' },
            { key: 'source', header: 'source' },
            { key: 'inForce', header: 'in force', format: (v) => (v ? (stdoutIsTTY() ? '●' : 'yes') : '') },
          ],
          r,
        ),
      );
    });
}
