// `init` and `db info|backup|restore|migrate`.
import type { RowsLost } from '../../services/admin.js';
import { basename } from 'node:path';
import { Command } from 'commander';
import { c } from '../colour.js';
import { cmdOf, confirmOnTerminal, context, emit, globals, mustAsk } from '../cli.js';
import { shellWord } from '../../domain/text.js';
import { localTime, notice, printFields, printTable, stdoutIsTTY, wrapToTerminal, say } from '../output.js';
import { count } from '../words.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('create a new ledger (file mode 0600) with the default rules')
    .option('--currency <code>', 'ISO currency, fixed for the ledger', 'CNY')
    .option('--timezone <zone>', 'IANA zone for calendar logic (default: this machine\'s)')
    .option('--force', 'erase the ledger at --db and start again (asks on a terminal, --yes elsewhere; a SQLite ledger is kept aside first; never a file that is not a ledger)')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const ctx = await context(cmd);
      const { initLedger, inspectInitTarget } = await import('../../services/admin.js');
      // what a person was shown and said yes to erasing: refused (exit 3) if the ledger moved since (trial 40)
      let confirmed: Awaited<ReturnType<typeof inspectInitTarget>>['contents'] = null;
      if (o.force) {
        // Erasing a ledger destroys data: the --yes rule (SPEC §7), checked before anything is written.
        const target = await inspectInitTarget(ctx);
        if (target.kind === 'ledger') {
          const ask = mustAsk(cmd, 'init --force (it erases the ledger)');
          if (ask && target.contents) {
            const t = target.contents;
            process.stderr.write(
              wrapToTerminal(`${target.path} is a ledger with ${count(t.entries, 'entry', 'entries')} and ${count(t.members, 'member')} (head #${t.headId}, ${t.headHash.slice(0, 8)})`) +
                '\n' +
                wrapToTerminal(
                  target.backend === 'postgres'
                    ? 'init --force erases it and nothing of it is kept: run pointsmall db backup FILE first to keep a copy'
                    : `init --force erases it; a copy is kept aside beside it, as ${basename(target.path)}.before-init-<time>`,
                ) +
                '\n',
            );
            // the new ledger takes the currency and zone given, else the defaults, never this one's (trial 32)
            const { machineZone } = await import('../../domain/time.js');
            const currency = String(o.currency ?? 'CNY').toUpperCase();
            const zone = String(o.timezone ?? machineZone());
            if ((t.currency !== null && t.currency !== currency) || (t.timezone !== null && t.timezone.toLowerCase() !== zone.toLowerCase())) {
              const db = globals(cmd).db !== undefined ? ` --db ${shellWord(String(globals(cmd).db))}` : '';
              process.stderr.write(wrapToTerminal(`this ledger is in ${t.currency}, ${t.timezone}; the new one would be in ${currency}, ${zone}: to keep them, answer no and run pointsmall init --force${db} --currency ${t.currency} --timezone ${t.timezone}`) + '\n');
            }
            if (!(await confirmOnTerminal(`Erase ${target.path} and start a new ledger in ${currency}, ${zone}?`))) {
              process.stderr.write('nothing was erased\n');
              return;
            }
            confirmed = t;
          }
        }
      }
      const r = await initLedger(ctx, { currency: o.currency, timezone: o.timezone, force: o.force, confirmed });
      await emit(cmd, r, () => {
        const was = r.erased ? `the previous ledger (${count(r.erased.entries, 'entry', 'entries')}, ${count(r.erased.members, 'member')})` : '';
        const erased = !r.erased ? '' : r.previous ? `; ${was} is kept at ${r.previous}` : `; ${was} was erased and nothing of it was kept`;
        say(`${c.green('✓')} ledger created at ${r.path} (${r.currency}, ${r.timezone}, schema v${r.schemaVersion})${erased}`);
        notice('next: add members (pointsmall member add), a catalog (pointsmall catalog add) and import purchases');
      });
    });

  const db = program.command('db').description('the ledger file: info, backup, restore, copy, set, migrate');
  db.command('info')
    .description('path, schema version, sizes and row counts')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { dbInfo } = await import('../../services/admin.js');
      const r = await dbInfo(await context(cmd));
      await emit(cmd, r, async () => {
        printFields([
          ['path', r.path],
          ['backend', r.backend],
          ['schema', `v${r.schemaVersion} (this tool: v${r.toolSchemaVersion})`],
          ['currency', r.currency],
          ['timezone', r.timezone],
          ['created', localTime(r.createdAt)],
          ['hold minutes', r.holdMinutes],
          ['payment minutes', r.paymentMinutes],
          ['size', r.backend === 'postgres' ? `${count(r.sizes.database, 'byte')} (the whole database)` : `${count(r.sizes.database, 'byte')} (+ ${r.sizes.wal} WAL), pages of ${count(r.sizes.pageSize, 'byte')}`],
        ]);
        await printTable(
          [
            { key: 'table', header: 'table' },
            { key: 'rows', header: 'rows', align: 'right' },
          ],
          Object.entries(r.counts).map(([table, rows]) => ({ table, rows })),
          { name: 'count' },
        );
      });
    });
  db.command('backup <file>')
    .description('online, consistent copy of the ledger (others may keep writing)')
    .option('--force', 'replace an existing file')
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const { dbBackup } = await import('../../services/admin.js');
      const r = await dbBackup(await context(cmd), file, Boolean(cmd.opts().force));
      await emit(cmd, r, () => void say(`${c.green('✓')} backup of ${count(r.entries, 'entry', 'entries')} written to ${r.backup} (${count(r.bytes, 'byte')})`), { done: true });
    });
  db.command('restore <file>')
    .description('replace the ledger with a backup that passes ledger verify (the old file is kept aside; asks on a terminal, --yes elsewhere)')
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const ctx = await context(cmd);
      const { checkBackupArgument, dbRestore, previewRestore } = await import('../../services/admin.js');
      // a file that is no backup is said first: --yes would not have made it one (trial 37)
      checkBackupArgument(ctx, file);
      const ask = mustAsk(cmd, 'a restore (it replaces the ledger)');
      if (ask) {
        const p = await previewRestore(ctx, file);
        const rows = p ? lostWords(p.entriesLost, p.lost) : '';
        const lost = !p
          ? 'the current file is not a ledger'
          : rows
            ? `the live ledger has what the backup lacks: ${rows}${p.newestLostLocal ? ` (the newest entry written ${p.newestLostLocal})` : ''}`
            : `the live ledger has nothing the backup lacks (${count(p.liveEntries, 'entry', 'entries')}, the backup ${p.backupEntries})`;
        process.stderr.write(`${wrapToTerminal(`${lost}; the old file is kept aside`)}\n`); // (asked only on a terminal)
        if (!(await confirmOnTerminal(rows ? `Restore ${file} and take those out of the ledger?` : `Restore ${file}?`))) {
          process.stderr.write('nothing was restored\n');
          return;
        }
      }
      const r = await dbRestore(ctx, file);
      await emit(cmd, r, () => {
        say(`${c.green('✓')} restored ${count(r.entries, 'entry', 'entries')} from ${r.restoredFrom}${r.previous ? `; the previous ledger is kept at ${r.previous}` : ''}`);
        if (r.lost && lostWords(r.entriesLost ?? 0, r.lost)) process.stdout.write(`  ${wrapIfTTY(`dropped what the backup lacks (kept in the previous ledger): ${lostWords(r.entriesLost ?? 0, r.lost)}`)}\n`);
      });
    });
  db.command('copy')
    .description('copy the whole ledger to another backend: a PostgreSQL database or a new SQLite file; the copy is verified (same head hash)')
    .requiredOption('--to <target>', 'where to copy: postgres://USER@HOST:PORT/DATABASE (a database with no ledger) or a new SQLite file path')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { dbCopy } = await import('../../services/admin.js');
      const r = await dbCopy(await context(cmd), cmd.opts().to as string);
      await emit(cmd, r, () => void say(`${c.green('✓')} copied ${r.entries} entries to ${r.to}; ledger verify passes there with the same head ${r.headHash.slice(0, 16)}…`));
    });
  db.command('set <setting> <value>')
    .description('change a setting: hold-minutes (how long a checkout hold lasts, default 15), payment-minutes (how long a started payment fences its order, default 10)')
    .action(async (setting: string, value: string, ...args) => {
      const cmd = cmdOf(args);
      const { setSetting } = await import('../../services/admin.js');
      const r = await setSetting(await context(cmd), setting, value);
      await emit(cmd, r, () => {
        process.stdout.write(`${c.green('✓')} ${r.setting} = ${r.value} (was ${r.previous ?? `${r.default}, the default`})\n`);
      });
    });
  db.command('migrate')
    .description('upgrade the ledger schema to this tool\'s version (a copy is kept first)')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { dbMigrate } = await import('../../services/admin.js');
      const r = await dbMigrate(await context(cmd));
      await emit(cmd, r, () =>
        void process.stdout.write(
          r.applied.length ? `${c.green('✓')} schema v${r.from} → v${r.to} (${r.applied.join(', ')}); copy kept at ${r.backup}\n` : `schema is up to date (v${r.to})\n`,
        ),
      );
    });
}

/** What a restore drops, in words: "2 entries, 1 member, 1 review item" (empty when nothing). */
function lostWords(entries: number, rows: RowsLost): string {
  const parts: [number, string, string][] = [
    [entries, 'entry', 'entries'],
    [rows.members, 'member', 'members'],
    [rows.catalogItems, 'catalog item', 'catalog items'],
    [rows.rulesVersions, 'rules version', 'rules versions'],
    [rows.importRuns, 'import run', 'import runs'],
    [rows.purchases, 'imported purchase', 'imported purchases'],
    [rows.reviewItems, 'review item', 'review items'],
    [rows.orders, 'order', 'orders'],
    [rows.coupons, 'coupon', 'coupons'],
    [rows.auditRecords, 'audit record', 'audit records'],
  ];
  return parts.filter(([n]) => n > 0).map(([n, one, many]) => count(n, one, many)).join(', ');
}

const wrapIfTTY = (text: string): string => (stdoutIsTTY() ? wrapToTerminal(text, 2) : text);
