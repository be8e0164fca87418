// `demo`: the main job end to end on a fresh ledger built from fixtures/, narrated.
import { Command } from 'commander';
import { c } from '../colour.js';
import { cmdOf, confirmOnTerminal, context, emit, globals, mustAsk, setExit } from '../cli.js';
import { displayWidth, localTime, say, stdoutIsTTY, terminalWidth, wrapToTerminal } from '../output.js';
import { cashBy, count } from '../words.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One or two lines that say what a step's result means. */
function describe(i: number, r: Obj): string[] {
  switch (i) {
    case 0:
      return [`ledger ${r.path} (${r.currency}, ${r.timezone})`];
    case 1:
      return [`rules version ${r.version} in force from ${r.effectiveLocal}`];
    case 2:
      return [`${r.rows} catalog rows: ${r.created} added`];
    case 3:
      return [`${count(r.rows, 'member')}: ${r.created} added`];
    case 4:
    case 5:
      return [
        `${count(r.rows, 'row')}, ${count(r.orders, 'order')}: ${r.accepted} accepted, ${count(r.duplicates, 'duplicate')}, ${r.rejected} rejected, ${r.review} in review`,
        `${count(r.pointsAccrued, 'point')} accrued, ${r.pointsReturned} taken back by returns${r.guestsSkipped ? `, ${count(r.guestsSkipped, 'guest row')} skipped` : ''}`,
      ];
    case 6:
      return [
        `${r.id} ${r.name}: balance ${r.balance}, available ${r.available}, tier ${r.tier ?? '-'}, ${count(r.lots.length, 'lot')} (first expires ${r.lots[0]?.expiresOn ?? 'never'})`,
        ...(r.expiredPending ? [`${r.expiredPending} of them expired, pending the expiry run: not spendable`] : []),
      ];
    case 7:
      return [`${r.memberId} +${count(r.points, 'point')} (${r.reason}); available now ${r.available}`];
    case 8:
      return [`total ${r.total} = ${count(r.pointsUsed, 'point')} worth ${r.pointsValue} + ${r.cashPaid} cash; would earn ${count(r.pointsEarned, 'point')}`];
    case 9:
      return [`order ${r.orderId} ${r.status}: ${count(r.pointsUsed, 'point')} (${r.pointsValue}) + ${cashBy(r.cashPaid, r.tender)}; earned ${r.pointsEarned}; balance now ${r.balance}${r.available !== r.balance ? `, available ${r.available}` : ''}`];
    case 10:
      return [`${count(r.pointsReturned, 'point')} back to their lots, ${r.cashRefunded} cash refunded, ${r.pointsTakenBack} earned points taken back`];
    case 11:
      return [`as of ${r.asOf}: ${count(r.pointsExpired, 'point')} in ${count(r.lotsExpired, 'lot')} of ${count(r.members, 'member')} expired`];
    case 12:
      return [
        `issued ${r.issued}, redeemed ${r.redeemed}, expired ${r.expired}, returned ${r.returned}, adjusted ${r.adjusted}, outstanding ${r.outstanding}`,
        `${r.reconciliation.line}`,
      ];
    case 13:
      return [`${count(r.outstandingPoints, 'point')} outstanding, worth ${r.value} ${r.currency}`];
    case 14:
      return [`${r.ok ? 'ledger ok' : 'LEDGER BROKEN'}: ${count(r.checks.length, 'check')} over ${count(r.entries, 'entry', 'entries')}`];
    default:
      return [];
  }
}

/**
 * A shell command shown under a step, at `indent`: on a terminal narrower than it, broken at spaces outside
 * quotes with a ` \\` at each line's end, so it still pastes into a shell as one command.
 */
function commandLines(command: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const room = terminalWidth() - indent;
  if (!stdoutIsTTY() || displayWidth(command) <= room) return pad + command;
  const words = command.match(/(?:"[^"]*"|'[^']*'|\S)+/g) ?? [command];
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    // (each line but the last ends in " \\": two more columns; lines after the first are indented 4 more)
    if (line && displayWidth(next) + 2 > room - (lines.length ? 4 : 0)) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  lines.push(line);
  return lines.map((l, i) => `${pad}${i ? '    ' : ''}${l}${i < lines.length - 1 ? ' \\' : ''}`).join('\n');
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('build a fresh demo ledger from fixtures/ and run the main job end to end')
    .option('--force', 'replace a ledger at --db other than the demo\'s own untouched one (kept aside first; asks on a terminal, --yes elsewhere; never a file that is not a ledger)')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const g = globals(cmd);
      const { DEMO_NOW, runDemo, redactUrl } = await import('../../services/demo.js');
      const wallClock = process.env.POINTSMALL_NOW ? undefined : new Date();
      if (!process.env.POINTSMALL_NOW) process.env.POINTSMALL_NOW = DEMO_NOW;
      const ctx = { ...(await context(cmd)), wallClock };
      // the demo's own ledger unless --db names another (emit shows its times in the zone of the ledger the
      // demo opened): never $POINTSMALL_DB, which names the shop's ledger once its quick start is followed
      if (!g.db) {
        const env = process.env.POINTSMALL_DB?.trim();
        if (env && env !== './pointsmall-demo.db' && env !== 'pointsmall-demo.db') {
          process.stderr.write(`note: the demo builds its own ledger, ./pointsmall-demo.db; it leaves $POINTSMALL_DB (${redactUrl(env)}) as it is (pass --db to build the demo elsewhere)\n`);
        }
        ctx.dbPath = './pointsmall-demo.db';
      }
      if (cmd.opts().force) {
        // Replacing a real ledger destroys data: the --yes rule, as for init --force.
        const { foreignLedgerAt } = await import('../../services/demo.js');
        const t = await foreignLedgerAt(ctx);
        if (t?.contents && mustAsk(cmd, 'demo --force (it erases the ledger at --db)')) {
          process.stderr.write(
            `${t.path} is a ledger with ${count(t.contents.entries, 'entry', 'entries')} and ${count(t.contents.members, 'member')}, head #${t.contents.headId} ${t.contents.headHash.slice(0, 16)}…\n` +
              (t.backend === 'postgres'
                ? 'demo --force erases it and nothing of it is kept: run pointsmall db backup FILE first to keep a copy\n'
                : 'demo --force erases it; a copy is kept aside beside it (LEDGER.before-demo-TIME)\n'),
          );
          if (!(await confirmOnTerminal(`Replace ${t.path} with the demo ledger?`))) {
            process.stderr.write('nothing was replaced\n');
            return;
          }
        }
      }
      const r = await runDemo(ctx, { force: Boolean(cmd.opts().force) });
      await emit(cmd, r, () => {
        if (r.previous) process.stderr.write(`the ledger that was at ${r.db} is kept at ${r.previous}\n`);
        else if (r.erased) process.stderr.write(`the ledger that was at ${r.db} was erased and nothing of it was kept\n`);
        say(c.bold(`pointsmall demo — the clock is set to ${localTime(r.now)} so the story is the same every time`) + '\n');
        r.steps.forEach((s, i) => {
          const title = `${String(i + 1).padStart(2)}. ${s.title}`;
          // (a title longer than the terminal goes on under itself, not under its number)
          process.stdout.write((stdoutIsTTY() && displayWidth(title) > terminalWidth() ? wrapToTerminal(title, 4) : `${c.cyan(`${String(i + 1).padStart(2)}.`)} ${c.bold(s.title)}`) + '\n');
          process.stdout.write(`${c.dim(commandLines(`$ ${s.command}`, 4))}\n`);
          for (const line of describe(i, s.result as Obj)) say(`    ${line}`);
          process.stdout.write('\n');
        });
        process.stdout.write(
          `${r.verified ? c.green('✓ done.') : c.red('✗ verify failed.')} Explore the demo ledger yourself:\n` +
            `    export POINTSMALL_DB=${r.db}\n    pointsmall member list\n    pointsmall report activity --by month\n    pointsmall ledger entries --member M001\n`,
        );
      });
      if (!r.verified) setExit(6);
    });
}
