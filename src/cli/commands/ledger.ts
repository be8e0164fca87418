// `ledger verify|entries|export` and `audit list`.
import { Command, Option } from 'commander';
import { UsageError, VerifyFailedError } from '../../errors.js';
import { c } from '../colour.js';
import { cmdOf, context, dbPath, emit, setExit } from '../cli.js';
import { parseDateOpt } from '../parse.js';
import { localTime, localTimesIn, notice, stdoutIsTTY, wrapToTerminal } from '../output.js';
import { emitList, exportFormat, exportOptions, fileOptions, pageOptions } from '../lists.js';

const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
import { writeOutputFile } from '../../services/outfile.js';
import { count } from '../words.js';

export function register(program: Command): void {
  const ledger = program.command('ledger').description('the journal: verify, list and export entries');
  ledger
    .command('verify')
    .description('recompute the hash chain and every cache; exit 6 on any broken invariant')
    .option('--anchor <id:hash>', 'also prove that this entry (a head printed by an earlier verify) is still there unchanged; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addHelpText(
      'after',
      '\nThe chain proves every entry up to the newest one, but not that newer entries were never cut off.\n' +
        'Keep the head it prints somewhere else (a cron log) and pass it back later:\n' +
        '  pointsmall ledger verify | awk \'/^head /{print $2}\' >> /srv/anchors.txt\n' +
        '  pointsmall ledger verify --anchor "$(tail -n 1 /srv/anchors.txt)"\n',
    )
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { parseAnchor, verifyLedger } = await import('../../services/verify.js');
      const anchors = (cmd.opts<{ anchor: string[] }>().anchor ?? []).map((text) => {
        const a = parseAnchor(text);
        if (!a) throw new UsageError(`--anchor ${JSON.stringify(text)} is not ID:HASH`, 'pass the head an earlier ledger verify printed, like 1042:3f5a… (the entry id, a colon and 64 hex digits)');
        return a;
      });
      const r = await verifyLedger(await context(cmd), anchors);
      await emit(cmd, r, () => {
        // a terminal gets each check wrapped under its mark, and the head on a line of its own (to copy);
        // a pipe gets one line each, as scripts read them (awk '/^head /{print $2}')
        const tty = stdoutIsTTY();
        for (const ch of r.checks) process.stdout.write(`${ch.ok ? c.green('✓') : c.red('✗')} ${tty ? wrapToTerminal(`${ch.name}: ${ch.detail}`, 2) : `${ch.name}: ${ch.detail}`}\n`);
        process.stdout.write(r.ok ? `${c.green('ledger ok')} (${count(r.entries, 'entry', 'entries')})\n` : `${c.red('ledger BROKEN')}\n`);
        if (r.ok && r.head) process.stdout.write(`head ${r.head.id}:${r.head.hash}${tty ? '\n' + c.dim('(keep it elsewhere; pass it back with --anchor)') : ' (keep it elsewhere; pass it back with --anchor)'}\n`);
      });
      if (!r.ok) {
        setExit(6);
        if (!cmd.optsWithGlobals().json) {
          const bad = r.checks.find((x) => !x.ok)!;
          const e = new VerifyFailedError(`${bad.name}: ${bad.detail}`, dbPath(cmd));
          process.stderr.write(`error: ${e.message}\nhint: ${e.hint}\n`);
        }
      }
    });
  const entriesCmd = ledger
    .command('entries')
    .description('list journal entries with their postings, newest first')
    .option('--member <id>', 'only entries of this member')
    .addOption(new Option('--kind <kind>', 'only entries of this kind').choices(['accrual', 'return', 'redemption', 'hold', 'release', 'refund', 'expiry', 'adjust', 'void', 'award']))
    .option('--from <date>', 'from this date (inclusive, ledger zone)', parseDateOpt('--from'))
    .option('--to <date>', 'to this date (inclusive, ledger zone)', parseDateOpt('--to'));
  fileOptions(pageOptions(entriesCmd, 'entries', { order: 'newest first', limitDefault: 100 }))
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const { listEntries } = await import('../../services/journal.js');
      const r = await listEntries(await context(cmd), { member: o.member, kind: o.kind, from: o.from, to: o.to, limit: o.limit, offset: o.offset });
      await emitList(cmd, 'entries', r, [
        { key: 'id', header: 'entry', align: 'right' },
        { key: 'at', header: 'at', format: localTime },
        { key: 'kind', header: 'kind', fit: 'fixed' }, // (the entry's kind is what a reader looks for: never cut)
        { key: 'memberId', header: 'member' },
        { key: 'ref', header: 'ref', fit: 'id' },
        { key: 'postings', header: 'postings', fit: 'wrap', format: (v) => (v as { account: string; points: number }[]).map((p) => `${p.account} ${p.points > 0 ? '+' : ''}${p.points}`).join(', ') },
        { key: 'memo', header: 'memo', drop: 1 },
      ]);
    });
  exportOptions(ledger.command('export').description('the whole journal with postings, for an auditor or a warehouse'), EXPORT_FORMATS).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts<{ format?: 'jsonl' | 'csv'; out?: string }>();
    const json = cmd.optsWithGlobals().json === true;
    // as outbox export: with --json, stdout is the one JSON document, so the export needs a file
    if (!o.out && json) throw new UsageError('--json needs --out: without it the export itself is stdout', 'add --out FILE, or drop --json');
    const format = exportFormat(o, EXPORT_FORMATS);
    const { exportJournal } = await import('../../services/journal.js');
    const text = await exportJournal(await context(cmd), format);
    if (o.out) {
      const path = writeOutputFile(o.out, text, { ledger: dbPath(cmd), flag: '--out' });
      if (json) process.stdout.write(JSON.stringify({ out: path, format, bytes: Buffer.byteLength(text) }, null, 2) + '\n');
      else notice(`wrote ${path}`);
    } else process.stdout.write(text);
  });

  const auditList = program
    .command('audit')
    .description('the audit log: who changed what')
    .command('list')
    .description('audit entries, newest first')
    .option('--since <date>', 'from this date (ledger zone)', parseDateOpt('--since'))
    .option('--operator <name>', 'only this operator');
  fileOptions(pageOptions(auditList, 'audit entries', { order: 'newest first', limitDefault: 100 }))
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const { listAudit } = await import('../../services/journal.js');
      // --operator is also the global flag; on a read-only command it can only mean the filter.
      const r = await listAudit(await context(cmd), { since: o.since, operator: cmd.optsWithGlobals().operator, limit: o.limit, offset: o.offset });
      await emitList(cmd, 'audit entries', r, [
        { key: 'id', header: 'id', align: 'right' },
        { key: 'at', header: 'at', format: localTime },
        { key: 'operator', header: 'operator' },
        { key: 'action', header: 'action', fit: 'id' }, // (an action id, never cut before the detail: trial 40)
        { key: 'subject', header: 'subject' },
        { key: 'detail', header: 'detail', format: localTimesIn, csv: 'raw' },
      ]);
    });
}
