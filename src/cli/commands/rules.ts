// `rules apply|show|history`.
import { Command } from 'commander';
import { c } from '../colour.js';
import { cmdOf, context, emit } from '../cli.js';
import { localTime, printFields, printTable, stdoutIsTTY } from '../output.js';

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
      const r = await applyRules(await context(cmd), file, cmd.opts().effective);
      await emit(cmd, r, () => void process.stdout.write(`${c.green('✓')} rules version ${r.version} stored, in force from ${r.effectiveLocal}\n`));
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
