// `outbox list|export`: channels by contact, pending vs sent, JSON Lines and CSV, and an export with
// --mark-sent that is whole or absent (a locked ledger or a bad --out leaves no file and nothing marked).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, sceneLedger, openLedgerDb } from '../helpers/cli.js';

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
});
