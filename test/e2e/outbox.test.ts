// `outbox list|export`: channels by contact, pending vs sent, JSON Lines and CSV, and an export with
// --mark-sent that is whole or absent (a locked ledger or a bad --out leaves no file and nothing marked).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, type TmpLedger, sceneLedger, openLedgerDb, spawnCli } from '../helpers/cli.js';

const NOW = { now: '2026-01-20T10:00:00+08:00' };

function ledgerWithNotifications(): TmpLedger {
  return sceneLedger('ledgerWithNotifications', (t) => {
    const early = { now: '2025-01-10T10:00:00+08:00' };
    t.ok(['member', 'add', '--id', 'p', '--name', 'Phone', '--phone', '+8613800000001', '--email', 'p@example.com'], early);
    t.ok(['member', 'add', '--id', 'e', '--name', 'Email', '--email', 'e@example.com'], early);
    t.ok(['member', 'add', '--id', 'n', '--name', 'Nobody'], early);
    for (const m of ['p', 'e', 'n']) t.ok(['member', 'adjust', m, '--points', '100', '--reason', 'welcome'], early);
    t.ok(['expire', 'run'], NOW); // three points.expired
  }, { now: '2025-01-01T10:00:00+08:00' });
}

describe('outbox', () => {
  it('reaches a member by phone (sms), else email, else none', () => {
    const t = ledgerWithNotifications();
    const rows = t.ok(['outbox', 'list', '--pending'], NOW) as { memberId: string; topic: string; channel: string; recipient: string | null; sentAt: null; payload: { points: number } }[];
    expect(rows.map((r) => [r.memberId, r.topic, r.channel, r.recipient, r.payload.points, r.sentAt])).toEqual([
      ['e', 'points.expired', 'email', 'e@example.com', 100, null],
      ['n', 'points.expired', 'none', null, 100, null],
      ['p', 'points.expired', 'sms', '+8613800000001', 100, null],
    ]);
  });

  it('exports JSON Lines to a file, marks exactly those sent, and the next export is empty', () => {
    const t = ledgerWithNotifications();
    const out = join(t.dir, 'out.jsonl');
    const r = t.ok(['outbox', 'export', '--format', 'jsonl', '--out', out, '--mark-sent'], NOW);
    expect(r).toMatchObject({ format: 'jsonl', exported: 3, markedSent: 3 });
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.channel)).toEqual(['email', 'none', 'sms']);
    expect(lines.every((l) => typeof l.id === 'number' && l.dedupeKey.startsWith('expired:'))).toBe(true);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toEqual([]);
    expect((t.ok(['outbox', 'list'], NOW) as { sentAt: string | null }[]).every((x) => x.sentAt !== null)).toBe(true);
    const again = t.ok(['outbox', 'export', '--out', join(t.dir, 'again.jsonl'), '--mark-sent'], NOW);
    expect(again).toMatchObject({ exported: 0, markedSent: 0 });
    expect(readFileSync(join(t.dir, 'again.jsonl'), 'utf8')).toBe('');
    // a cron job's empty run with --skip-empty writes no file at all, and says so
    const skipped = t.ok(['outbox', 'export', '--out', join(t.dir, 'empty.jsonl'), '--mark-sent', '--skip-empty'], NOW);
    expect(skipped).toMatchObject({ out: null, exported: 0, markedSent: 0 });
    expect(existsSync(join(t.dir, 'empty.jsonl'))).toBe(false);
    // a second expiry run with the same as-of queues nothing new
    expect(t.ok(['expire', 'run'], NOW).notificationsQueued).toBe(0);
  });

  it('exports through a symlink into the file it points to (the sender reads that one), and marks sent only what is there', () => {
    const t = ledgerWithNotifications();
    mkdirSync(join(t.dir, 'spool'));
    const spool = join(t.dir, 'spool', 'sender-input.jsonl');
    writeFileSync(spool, '');
    symlinkSync(spool, join(t.dir, 'out.jsonl'));
    const r = t.ok(['outbox', 'export', '--format', 'jsonl', '--out', join(t.dir, 'out.jsonl'), '--mark-sent'], NOW);
    expect(r).toMatchObject({ exported: 3, markedSent: 3 });
    expect(lstatSync(join(t.dir, 'out.jsonl')).isSymbolicLink()).toBe(true);
    expect(readFileSync(spool, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).memberId)).toEqual(['e', 'n', 'p']);
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toEqual([]);
  });

  it('exports CSV to stdout without marking anything', () => {
    const t = ledgerWithNotifications();
    const r = t.run(['outbox', 'export', '--format', 'csv'], NOW);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,createdAt,topic,memberId,channel,recipient,dedupeKey,payload,sentAt');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toContain(',sms,+8613800000001,');
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(3);
  });

  it('--topic takes only the topics pointsmall queues, on list and export alike (a typo is exit 2, not an empty export marked done)', () => {
    const t = ledgerWithNotifications();
    for (const cmd of ['list', 'export']) {
      const r = t.run(['outbox', cmd, '--topic', 'points.expire', '--json'], NOW);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(JSON.parse(r.stderr).error.message).toContain('order.confirmed, auth.code, points.expiring, points.expired');
    }
    const expired = t.run(['outbox', 'export', '--topic', 'points.expired'], NOW);
    expect(expired.code).toBe(0);
    expect(expired.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).topic)).toEqual(['points.expired', 'points.expired', 'points.expired']);
    expect(t.run(['outbox', 'export', '--topic', 'order.confirmed'], NOW).stdout).toBe('');
  });

  it('a bad --out writes nothing and marks nothing (exit 2)', () => {
    const t = ledgerWithNotifications();
    const r = t.run(['outbox', 'export', '--out', join(t.dir, 'no', 'such', 'dir.jsonl'), '--mark-sent', '--json'], NOW);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(3);
    expect(t.run(['outbox', 'export', '--json']).code).toBe(2);
    expect(t.run(['outbox', 'export', '--format', 'xml']).code).toBe(2);
  });

  it('--mark-sent never replaces an earlier batch its sender may not have taken (trial 44a): exit 2, the batch and the pending rows stay', () => {
    const t = ledgerWithNotifications();
    const out = join(t.dir, 'batch.jsonl');
    expect(t.ok(['outbox', 'export', '--out', out, '--mark-sent'], NOW)).toMatchObject({ exported: 3, markedSent: 3 });
    const first = readFileSync(out, 'utf8');
    // a fixed file name (or a killed cron job run again within the same second) with nothing pending …
    const empty = t.run(['outbox', 'export', '--out', out, '--mark-sent', '--json'], NOW);
    expect(empty.code).toBe(2);
    expect(empty.stdout).toBe('');
    const e = JSON.parse(empty.stderr).error;
    expect(e.code).toBe('OUTPUT_EXISTS');
    expect(e.message).toContain('batch.jsonl');
    expect(e.message).toContain('marked sent');
    expect(readFileSync(out, 'utf8')).toBe(first);
    // (a cron job's --skip-empty run with nothing pending writes nothing, so it replaces nothing: exit 0)
    expect(t.ok(['outbox', 'export', '--out', out, '--mark-sent', '--skip-empty'], NOW)).toMatchObject({ out: null, exported: 0 });
    expect(readFileSync(out, 'utf8')).toBe(first);
    // … and with new notifications pending: the old batch stays, the new ones stay pending
    t.ok(['member', 'adjust', 'p', '--points', '50', '--reason', 'more'], { now: '2025-02-10T10:00:00+08:00' });
    t.ok(['expire', 'run'], { now: '2026-03-01T10:00:00+08:00' });
    const pending = (t.ok(['outbox', 'list', '--pending'], NOW) as unknown[]).length;
    expect(pending).toBeGreaterThan(0);
    expect(t.run(['outbox', 'export', '--out', out, '--mark-sent', '--skip-empty'], NOW).code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe(first);
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(pending);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // an empty file holds nothing to lose (a sender that truncates what it sent): it is written
    writeFileSync(out, '');
    expect(t.ok(['outbox', 'export', '--out', out, '--mark-sent'], NOW)).toMatchObject({ exported: pending, markedSent: pending });
    // without --mark-sent nothing is marked, so nothing can be lost: the file is replaced as any --out is
    expect(t.ok(['outbox', 'export', '--all', '--out', out], NOW)).toMatchObject({ markedSent: 0 });
  });

  it('on a ledger locked past the busy timeout, exits 5 with no file and nothing marked', () => {
    const t = ledgerWithNotifications();
    const out = join(t.dir, 'locked.jsonl');
    const db = openLedgerDb(t.db);
    db.exec('BEGIN IMMEDIATE');
    try {
      const r = t.run(['outbox', 'export', '--out', out, '--mark-sent', '--json'], { ...NOW, env: { POINTSMALL_BUSY_TIMEOUT: '200' } });
      expect(r.code).toBe(5);
      expect(r.stdout).toBe('');
      expect(JSON.parse(r.stderr).error.code).toBe('LEDGER_BUSY');
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(t.ok(['outbox', 'list', '--pending'], NOW)).toHaveLength(3);
  });

  it('to stdout, a reader that stalls does not keep the ledger locked: a till writes meanwhile, and every notification is still given once and marked (trial 44a)', async () => {
    // 1,500 notifications: far more than a pipe's buffer, so the export waits on its reader
    const t = sceneLedger('ledgerWithManyNotifications', (x) => {
      const rows = ['order_id,member_id,purchased_at,sku,category,quantity,unit_price'];
      for (let i = 0; i < 1500; i++) rows.push(`O${i},m${String(i).padStart(4, '0')},2025-01-10 10:00,SKU,tea,1,10.00`);
      writeFileSync(join(x.dir, 'many.csv'), rows.join('\n') + '\n');
      x.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2025-01-01', '--yes'], { now: '2025-01-01T10:00:00+08:00' });
      x.ok(['import', 'purchases', join(x.dir, 'many.csv'), '--create-members'], { now: '2025-01-10T12:00:00+08:00' });
      x.ok(['expire', 'run'], { now: '2030-01-20T10:00:00+08:00' });
    });
    const later = { now: '2030-01-21T10:00:00+08:00' };
    const pending = (t.ok(['outbox', 'list', '--pending'], later) as unknown[]).length;
    expect(pending).toBe(1500);
    const exporter = spawnCli(['outbox', 'export', '--mark-sent'], { ...later, db: t.db });
    exporter.stdout.pause(); // the reader takes nothing yet
    let err = '';
    exporter.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((res) => exporter.on('close', (code) => res(code)));
    // wait (without a clock) until the export has filled the pipe: its first bytes are readable
    await new Promise<void>((res) => exporter.stdout.once('readable', () => res()));
    // a till's write while the reader still takes nothing: it gets the lock (a minute's busy timeout, so
    // a loaded machine cannot fail it; before the fix it waited for the reader and ran out)
    const till = t.run(['member', 'adjust', 'm0001', '--points', '5', '--reason', 'till', '--json'], { ...later, env: { POINTSMALL_BUSY_TIMEOUT: '60000' } });
    expect(till.code, till.stderr).toBe(0);
    expect(exporter.exitCode).toBe(null); // the export is still waiting on its reader
    let out = '';
    exporter.stdout.on('data', (d) => (out += d));
    exporter.stdout.resume();
    expect(await exited, err).toBe(0);
    const ids = out.trimEnd().split('\n').map((l) => JSON.parse(l).id as number);
    expect(ids).toHaveLength(1500);
    expect(new Set(ids).size).toBe(1500);
    expect(t.ok(['outbox', 'list', '--pending'], later)).toEqual([]);
    expect(t.verify().ok).toBe(true);
  });
});
