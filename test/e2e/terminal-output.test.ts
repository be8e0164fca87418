// Output for people and pipes (issue 20): times in the ledger's zone without milliseconds, piped output
// that is tab-separated data only, filters that refuse bad values.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES, type TmpLedger, sceneLedger, tmpLedger } from '../helpers/cli.js';

const SALE = { now: '2026-03-01T09:25:00+08:00' };

/** A Shanghai ledger with a member, an item, rules from 2026-01-01, a 09:25 local sale and a review item. */
function shanghai(): TmpLedger {
  return sceneLedger('shanghai', (t) => {
    const early = { now: '2026-02-01T10:00:00+08:00' };
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2026-01-01'], early);
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Wang Fang', '--email', 'w@example.com'], early);
    t.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'welcome'], early);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '5'], early);
    t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '1000', '--tender', 'cash', '--yes'], SALE);
    writeFileSync(join(t.dir, 'big.csv'), 'order_id,member_id,purchased_at,amount\nB1,M1,2026-02-15,30000.00\n');
    t.ok(['import', 'purchases', join(t.dir, 'big.csv')], SALE);
  }, { timezone: 'Asia/Shanghai', now: '2025-12-01T10:00:00+08:00' });
}

/** stdout split into rows of tab-separated fields (a pipe: the test runner's stdout is never a TTY). */
const rows = (stdout: string) => stdout.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
const column = (stdout: string, header: string) => {
  const [head, ...rest] = rows(stdout);
  const i = head.indexOf(header);
  expect(i, `column ${header} in ${head.join('|')}`).toBeGreaterThanOrEqual(0);
  return rest.map((r) => r[i]);
};

describe('times in the ledger zone (issue 20 item 1)', () => {
  const t = shanghai();

  it('order list shows a 09:25 Shanghai sale as 2026-03-01 09:25; --json keeps UTC ISO 8601 with Z', () => {
    const r = t.run(['order', 'list'], SALE);
    expect(r.code).toBe(0);
    expect(column(r.stdout, 'at')).toEqual(['2026-03-01 09:25']);
    expect(t.ok(['order', 'list'], SALE)[0].createdAt).toBe('2026-03-01T01:25:00.000Z');
  });

  it('order show, ledger entries, audit list, member history and member show show local minutes', () => {
    const orderId = t.ok(['order', 'list'], SALE)[0].orderId;
    const show = t.run(['order', 'show', orderId], SALE).stdout;
    expect(show).toMatch(/created\t2026-03-01 09:25\n/);
    expect(column(t.run(['ledger', 'entries', '--kind', 'redemption'], SALE).stdout, 'at')).toEqual(['2026-03-01 09:25']);
    const audit = column(t.run(['audit', 'list'], SALE).stdout, 'at');
    expect(audit.length).toBeGreaterThan(0);
    for (const at of audit) expect(at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(column(t.run(['member', 'history', 'M1'], SALE).stdout, 'at')).toContain('2026-03-01 09:25');
    expect(t.run(['member', 'show', 'M1'], SALE).stdout).toContain('2026-02-01 10:00');
  });

  it('review list shows a row dated 2026-02-15 as 2026-02-15 00:00, not the UTC day before', () => {
    expect(column(t.run(['review', 'list'], SALE).stdout, 'purchased at')).toEqual(['2026-02-15 00:00']);
  });

  it('rules show and rules history: --effective 2026-01-01 is in force from 2026-01-01 00:00', () => {
    const show = t.run(['rules', 'show'], SALE);
    expect(show.code).toBe(0);
    expect(show.stderr).toContain('in force from 2026-01-01 00:00');
    expect(show.stderr + show.stdout).not.toMatch(/2025-12-31|\.000Z/);
    const hist = t.run(['rules', 'history'], SALE).stdout;
    expect(column(hist, 'effective from')).toEqual(['the beginning', '2026-01-01 00:00']);
    expect(column(hist, 'applied at')).toEqual(['2025-12-01 10:00', '2026-02-01 10:00']);
    expect(t.ok(['rules', 'show'], SALE).effectiveAt).toBe('2025-12-31T16:00:00.000Z');
  });

  it('outbox list shows created times in the ledger zone', () => {
    const created = column(t.run(['outbox', 'list'], SALE).stdout, 'created');
    expect(created).toContain('2026-03-01 09:25');
  });

  it('no human or piped view prints milliseconds or a Z timestamp', () => {
    const orderId = t.ok(['order', 'list'], SALE)[0].orderId;
    for (const args of [['order', 'list'], ['order', 'show', orderId], ['ledger', 'entries'], ['audit', 'list'], ['member', 'history', 'M1'], ['member', 'show', 'M1'], ['review', 'list'], ['rules', 'history'], ['outbox', 'list'], ['db', 'info'], ['holds', 'list']]) {
      const r = t.run(args, SALE);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(/\d{2}:\d{2}:\d{2}\.\d{3}Z|T\d{2}:\d{2}/);
    }
  });
});

describe('pipes get data only (issue 20 item 3)', () => {
  const t = shanghai();
  const orderId = t.ok(['order', 'list'], SALE)[0].orderId;
  const commands = [
    ['member', 'list'],
    ['member', 'show', 'M1'],
    ['member', 'history', 'M1'],
    ['order', 'list'],
    ['order', 'show', orderId],
    ['coupon', 'list'],
    ['holds', 'list'],
    ['catalog', 'list'],
    ['catalog', 'show', 'TEA'],
    ['checkout', 'quote', '--member', 'M1', '--item', 'TEA', '--points', '500'],
    ['review', 'list'],
    ['rules', 'show'],
    ['rules', 'history'],
    ['ledger', 'entries'],
    ['audit', 'list'],
    ['outbox', 'list'],
    ['expire', 'preview', '--within', '3m'],
    ['db', 'info'],
    ['report', 'summary'],
    ['report', 'liability'],
    ['report', 'activity'],
    ['report', 'members'],
    ['report', 'expiring'],
    ['report', 'items'],
    ['report', 'segments'],
  ];

  it.each(commands.map((c) => [c.join(' '), c]))('%s: one header, then rows with as many tab-separated fields, no decoration', (_name, args) => {
    const r = t.run(args as string[], SALE);
    expect(r.code, r.stderr).toBe(0);
    const [head, ...body] = rows(r.stdout);
    expect(head.length, `header of ${args}`).toBeGreaterThanOrEqual(2);
    for (const row of body) expect(row.length, `${row.join('|')} against ${head.join('|')}`).toBe(head.length);
    expect(body.map((b) => b.join('\t'))).not.toContain(head.join('\t')); // one header only
    expect(r.stdout).not.toMatch(/[✓✗●■❄]|\u001b\[|^(opening|closing) balance -?\d/m);
  });

  it('member history keeps its opening and closing balance, on stderr', () => {
    const r = t.run(['member', 'history', 'M1'], SALE);
    expect(r.stderr).toMatch(/^opening balance 0$/m);
    expect(r.stderr).toMatch(/^closing balance \d+$/m);
  });

  it('member show puts its lots after its fields as lot.N.COLUMN pairs', () => {
    const r = t.run(['member', 'show', 'M1'], SALE);
    expect(r.stdout).toMatch(/^field\tvalue\n/);
    expect(r.stdout).toMatch(/^lot\.1\.remaining\t\d+$/m);
    expect(r.stdout).toMatch(/^lot\.1\.earned\t2026-02-01 10:00$/m);
  });

  it('rules show lists one setting a line', () => {
    const r = t.run(['rules', 'show'], SALE);
    expect(r.stdout).toMatch(/^earn\.pointsPerUnit\t1$/m);
    expect(r.stdout).toMatch(/^tiers\.2\.name\tgold$/m);
  });
});

describe('bad filter values are exit 2 (issue 20 item 4)', () => {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);

  it('ledger entries --kind bogus is a usage error naming the kinds', () => {
    const r = t.run(['ledger', 'entries', '--kind', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bogus/);
    expect(r.stderr).toMatch(/accrual/);
    expect(t.run(['ledger', 'entries', '--kind', 'adjust']).code).toBe(0);
  });

  it.each([
    [['ledger', 'entries']],
    [['order', 'list']],
    [['member', 'history', 'M1']],
    [['report', 'summary']],
    [['report', 'activity']],
  ])('%j --from after --to is exit 2, not an empty list', (args) => {
    const r = t.run([...args, '--from', '2026-11-30', '--to', '2026-11-01']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--from 2026-11-30 is after --to 2026-11-01/);
    const j = t.run([...args, '--from', '2026-11-30', '--to', '2026-11-01', '--json']);
    expect(j.code).toBe(2);
    expect(j.stdout).toBe('');
    expect(JSON.parse(j.stderr).error.code).toBe('USAGE');
    expect(t.run([...args, '--from', '2026-11-01', '--to', '2026-11-01']).code).toBe(0); // one day is fine
  });
});
