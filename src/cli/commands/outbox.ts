// `outbox list|export`: queued notifications (order confirmations, expiring and expired points) for a sender.
import { Command, Option } from 'commander';
import { EXIT, PointsmallError, UsageError } from '../../errors.js';
import { isClosedPipe } from '../report.js';
import { c } from '../colour.js';
import { cmdOf, context, emit, globals } from '../cli.js';
import { localTime, printTable, stderrIsTTY, writeStdout } from '../output.js';
import { emitList, exportFormat, exportOptions, fileOptions, pageOptions } from '../lists.js';
import { parseIntOpt } from '../parse.js';
import { count } from '../words.js';
import { TOPICS } from '../../domain/notifications.js';

const services = () => import('../../services/outbox.js');

const EXPORT_FORMATS = ['jsonl', 'csv'] as const;

const topicOption = () => new Option('--topic <topic>', 'only this topic').choices(TOPICS);

export function register(program: Command): void {
  const box = program.command('outbox').description('queued notifications: list them, export them for a sender');

  const list = box
    .command('list')
    .description('queued notifications, oldest first')
    .option('--pending', 'only notifications not yet exported with --mark-sent')
    .addOption(topicOption());
  fileOptions(pageOptions(list, 'notifications', { order: 'oldest first' })).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts<{ pending?: boolean; topic?: string; limit?: number; offset?: number }>();
    const r = await (await services()).listOutbox(await context(cmd), { pending: o.pending, topic: o.topic, limit: o.limit, offset: o.offset });
    await emitList(cmd, 'notifications', r, [
      { key: 'id', header: 'id', align: 'right' },
      { key: 'createdAt', header: 'created', format: localTime },
      { key: 'topic', header: 'topic', fit: 'fixed' }, // (points.expiring and points.expired must not read alike)
      { key: 'memberId', header: 'member' },
      { key: 'channel', header: 'channel' },
      { key: 'recipient', header: 'recipient' },
      { key: 'payload', header: 'payload', drop: 1, csv: 'raw' },
      { key: 'sentAt', header: 'sent', fit: 'fixed', format: (v) => (v ? localTime(v) : 'pending') },
    ]);
  });

  exportOptions(
    box.command('export').description('write notifications (pending ones by default) as JSON Lines or CSV; --mark-sent marks exactly the exported ones sent'),
    EXPORT_FORMATS,
  )
    .option('--mark-sent', 'mark exactly the exported notifications sent, together with the export: both happen or neither')
    .option('--all', 'include notifications already sent')
    .addOption(topicOption())
    .option('--skip-empty', 'with --out: write no file when nothing is to be exported (for a cron job)')
    .addHelpText(
      'after',
      '\nDelivery is at-least-once: if the process dies after the file is in place but\n' +
        'before the mark commits, the next export repeats those notifications. Each\n' +
        'record carries a stable id and dedupeKey to drop repeats. With --mark-sent,\n' +
        '--out never replaces a file that is there and not empty (an earlier batch:\n' +
        'exit 2). To stdout, a reader that stalls does not keep the ledger locked: what\n' +
        'it took is marked, the rest as it takes it.\n',
    )
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts<{ format?: 'jsonl' | 'csv'; out?: string; markSent?: boolean; all?: boolean; topic?: string; skipEmpty?: boolean }>();
      if (o.skipEmpty && !o.out) throw new UsageError('--skip-empty needs --out', 'add --out FILE');
      const format = exportFormat(o, EXPORT_FORMATS);
      if (!o.out && globals(cmd).json) throw new UsageError('--json needs --out: without it the export itself is stdout', 'add --out FILE, or drop --json');
      const r = await (await services())
        .exportOutbox(await context(cmd), {
          format,
          out: o.out,
          markSent: Boolean(o.markSent),
          all: Boolean(o.all),
          topic: o.topic,
          skipEmpty: Boolean(o.skipEmpty),
          sink: writeStdout,
        })
        .catch((e: unknown) => {
          // the reader went before it had every notification: none is marked, and a script must be able to tell
          if (o.markSent && !o.out && isClosedPipe(e)) {
            const marked = Number((e as { markedSent?: number }).markedSent ?? 0);
            const which = marked ? `the first ${count(marked, 'notification')} (written before it stalled) ${marked === 1 ? 'was' : 'were'} marked sent, the rest were not` : 'none was marked sent';
            throw new PointsmallError(`the reader of standard output closed it before every notification was written: ${which}`, {
              code: 'OUTPUT_CLOSED',
              exitCode: EXIT.usage,
              hint: 'the next export gives them again: let the reader take the whole export, or write a file with --out FILE --mark-sent and send from it',
            });
          }
          throw e;
        });
      if (!o.out) {
        if (stderrIsTTY()) process.stderr.write(`${count(r.exported, 'notification')} exported${o.markSent ? `, ${r.markedSent} marked sent` : ''}\n`);
        return;
      }
      await emit(cmd, r, () => {
        if (r.out === null) return void process.stdout.write('nothing to export; no file written\n');
        process.stdout.write(`${c.green('✓')} ${count(r.exported, 'notification')} written to ${r.out}${o.markSent ? `, ${r.markedSent} marked sent` : ''}\n`);
      }, { done: true });
    });
}
