// `points award`: credit an activity's points (issue 18).
import { Command } from 'commander';
import { c } from '../colour.js';
import { cmdOf, context, emit, need } from '../cli.js';
import { localTime, say } from '../output.js';
import type { AwardResult } from '../../services/activities.js';

function showAward(r: AwardResult): void {
  const again = r.replayed ? c.dim('  (already awarded: the same result as the first time; nothing moved)') : '';
  if (r.status === 'review') {
    process.stdout.write(`${c.yellow('review')} ${r.activity} ${r.ref} for ${r.memberId}: ${r.points} points wait in review (the member is frozen)${again}\n`);
    process.stderr.write(`decide with: pointsmall review approve A${r.awardId}  (or review reject A${r.awardId})\n`);
    return;
  }
  const exp = r.expiresOn ? `, expire after ${r.expiresOn}` : ', never expire';
  say(`${c.green('✓')} ${r.points} points for ${r.activity} ${r.ref} to ${r.memberId} at ${localTime(r.occurredAt)}${exp}; balance ${r.balance}${again}`);
}

export function register(program: Command): void {
  const points = program.command('points').description('points for tasks beyond purchases: award');

  points
    .command('award')
    .description('credit the points of an activity in the rules (a review, a signup) to a member; a repeat of the same activity and ref returns the first result')
    .option('--member <id>', 'the member who did the task')
    .option('--activity <name>', 'an activity of the rules in force at --at (rules show lists them)')
    .option('--ref <ref>', 'your id of the task (the review id, the signup form): awarded once per activity')
    .option('--at <time>', 'when the task was done: ISO date or date-time, in the ledger zone without an offset (default now)')
    .addHelpText(
      'after',
      '\nLimits of the activity (once, maxPerDay, maxPerMonth) count awards by the member in the ledger zone\'s day and month: a limit\n' +
        'reached is exit 3 naming it. The same ref with another member is exit 3; an unknown activity or member is exit 2.\n' +
        'A frozen member\'s award waits in review (review list / approve / reject).\n',
    )
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const memberId = await need(cmd, o.member, '--member', 'Member id');
      const activity = await need(cmd, o.activity, '--activity', 'Activity');
      const ref = await need(cmd, o.ref, '--ref', 'Ref of the task');
      const { awardActivity } = await import('../../services/activities.js');
      const r = await awardActivity(await context(cmd), { memberId, activity, ref, at: o.at });
      await emit(cmd, r, showAward);
    });
}
