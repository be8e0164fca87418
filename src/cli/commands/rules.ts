// `rules apply|show|history`.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { canPrompt, cmdOf, confirmOnTerminal, context, emit } from '../cli.js';
import { notice, localTime, printFields, printTable, stdoutIsTTY } from '../output.js';
import { parseDateOpt, parseIntOpt } from '../parse.js';
import { FORMATS } from './report.js';

/** A rules document as `path value` pairs: objects by dotted path, list items numbered from 1. */
function rulePairs(v: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(v)) return v.length ? v.flatMap((x, i) => rulePairs(x, `${path}.${i + 1}`)) : [[path, '(none)']];
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => rulePairs(x, path ? `${path}.${k}` : k));
  return [[path, v === null ? '-' : v]];
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
        const p = await previewApply(ctx, file);
        process.stdout.write(c.bold('Had these rules applied over the last 90 days:') + '\n');
        printFields(simulateFields(p));
        if (!(await confirmOnTerminal(`store ${file} as a new rules version?`))) {
          notice('nothing stored');
          return;
        }
      }
      const r = await applyRules(ctx, file, cmd.opts().effective);
      await emit(cmd, r, () => void process.stdout.write(`${c.green('✓')} rules version ${r.version} stored, in force from ${r.effectiveLocal}\n`));
    });
  rules
    .command('simulate <file>')
    .description('earn the period\'s orders again under a draft rules file and compare with what they earned; writes nothing')
    .option('--from <date>', 'orders from this date (inclusive, ledger zone); default: all', parseDateOpt('--from'))
    .option('--to <date>', 'orders to this date (inclusive, ledger zone); default: today', parseDateOpt('--to'))
    .addOption(new Option('--by <group>', 'group the comparison by').choices(['month', 'tier', 'category', 'source']).default('month'))
    .option('--top <n>', 'how many of the members most affected to list', parseIntOpt('--top', 0), 10)
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
        printFields(rulePairs(r.rules)); // one line per setting (earn.pointsPerUnit  1); the document itself: --json
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
