// `expire run|preview`: the nightly expiry job (cron-safe: no prompts, --json, --quiet, exit 5 when locked)
// and the look-ahead that can queue points.expiring warnings.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { cmdOf, confirmOnTerminal, context, emit, globals, mustAsk, useLedgerZone } from '../cli.js';
import { parseDateOpt, parseWithinOpt } from '../parse.js';
import { localTime, notice, printFields, printTable, say, stdoutIsTTY, wrapToTerminal } from '../output.js';
import { agree, count } from '../words.js';
import type { Within } from '../../domain/time.js';

const services = () => import('../../services/expiry.js');

export function register(program: Command): void {
  const expire = program.command('expire').description('expire points past their date (run) and look ahead (preview)');

  expire
    .command('run')
    .description('expire the remaining points of every lot whose expiresOn is before the as-of date (idempotent; safe from cron)')
    .option('--as-of <date>', 'expire lots whose last day (expiresOn) is before this date (default: today in the ledger zone; a past date asks on a terminal, --yes elsewhere)', parseDateOpt('--as-of'))
    .option('--dry-run', 'compute the same summary and write nothing')
    .option('--force', 'allow an --as-of date after today (it expires points still usable today)')
    .addHelpText(
      'after',
      '\nExamples:\n  pointsmall expire run --dry-run\n  pointsmall expire run --as-of 2026-12-01 --json\n' +
        '  # crontab: 5 0 * * *  pointsmall --db /srv/mall/ledger.db expire run --quiet\n',
    )
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts<{ asOf?: string; dryRun?: boolean; force?: boolean }>();
      const ctx = await context(cmd);
      const svc = await services();
      // A past --as-of books expiries back in time (changing past liability): an explicit yes (SPEC §7).
      if (o.asOf && !o.dryRun && !globals(cmd).yes) {
        const today = await svc.expiryToday(ctx);
        if (o.asOf < today && mustAsk(cmd, `an expiry run as of a past date (${o.asOf}, today is ${today})`)) {
          const d = await svc.runExpiry(ctx, { asOf: o.asOf, dryRun: true, force: Boolean(o.force) });
          await useLedgerZone(cmd);
          // nothing to expire: nothing to ask about (trial 32: "Expire 0 points … ?")
          if (d.lotsExpired > 0 && !(await confirmOnTerminal(`Expire ${count(d.pointsExpired, 'point')} from ${count(d.lotsExpired, 'lot')} of ${count(d.members, 'member')} as of ${o.asOf}, a past date (today is ${today}), booked at ${localTime(d.at)}?`))) {
            process.stderr.write('nothing was expired\n');
            return;
          }
        }
      }
      const r = await svc.runExpiry(ctx, { asOf: o.asOf, dryRun: Boolean(o.dryRun), force: Boolean(o.force) });
      // (--quiet: a cron job's run prints nothing on success; errors still go to stderr)
      await emit(cmd, r, () => {
        if (!stdoutIsTTY()) {
          printFields([
            ['asOf', r.asOf],
            ['lotsExpired', r.lotsExpired],
            ['pointsExpired', r.pointsExpired],
            ['members', r.members],
            ['dryRun', r.dryRun],
            ['notificationsQueued', r.notificationsQueued],
          ]);
          return;
        }
        const verb = r.dryRun ? 'would expire' : 'expired';
        const mark = r.dryRun ? c.yellow('dry run:') : c.green('✓');
        // (broken at spaces on a terminal, never mid-date)
        say(`${mark} ${verb} ${c.bold(String(r.pointsExpired))} ${r.pointsExpired === 1 ? 'point' : 'points'} from ${count(r.lotsExpired, 'lot')} of ${count(r.members, 'member')} (lots whose last day was before ${r.asOf})`);
        if (r.bookedLater.length) {
          const last = r.bookedLater.reduce((a, b) => (b.at > a ? b.at : a), r.bookedLater[0].at);
          const n = r.bookedLater.length;
          process.stdout.write(`  ${wrapToTerminal(`${n === 1 ? "1 member's expiry is" : `${n} members' expiries are`} booked when points came back to their lapsed lots (the latest ${localTime(last)}), not before`, 2)}\n`);
        }
        if (!r.dryRun && r.notificationsQueued) process.stdout.write(`  ${count(r.notificationsQueued, 'points.expired notification')} queued (pointsmall outbox list --pending)\n`);
      }, { done: true });
    });

  expire
    .command('preview')
    .description('members whose points expire within the window from today; --notify queues one points.expiring per lot')
    .addOption(new Option('--within <window>', 'window from today, like 30d, 2w or 3m').argParser(parseWithinOpt('--within')).default({ days: 30, months: 0 }, '30'))
    .option('--notify', 'queue one points.expiring notification per lot (never twice for the same lot)')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts<{ within: Within; notify?: boolean }>();
      const r = await (await services()).previewExpiry(await context(cmd), { within: o.within, notify: Boolean(o.notify) });
      await emit(cmd, r, async () => {
        await printTable(
          [
            { key: 'memberId', header: 'member' },
            { key: 'name', header: 'name' },
            { key: 'points', header: 'points', align: 'right' },
            { key: 'lots', header: 'lots', align: 'right' },
            { key: 'firstExpiresOn', header: 'first expires' },
            { key: 'dates', header: 'dates', format: (v) => (v as { expiresOn: string; points: number }[]).map((d) => `${d.expiresOn}:${d.points}`).join(' ') },
          ],
          r.rows,
          { title: `points expiring ${r.from} … ${r.to}` },
        );
        if (!stdoutIsTTY()) notice(`${count(r.points, 'point')} in ${count(r.lots, 'lot')} of ${count(r.members, 'member')}`);
        else {
          process.stdout.write(`${count(r.points, 'point')} in ${count(r.lots, 'lot')} of ${count(r.members, 'member')}\n`);
          if (r.overduePoints) process.stdout.write(c.yellow(`${count(r.overduePoints, 'point')} ${agree(r.overduePoints, 'is past its date and waits', 'are past their date and wait')} for: pointsmall expire run\n`));
        }
        if (o.notify) notice(`${count(r.notificationsQueued, 'points.expiring notification')} queued`);
      });
    });
}
