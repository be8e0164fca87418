// `pointsmall report …` end to end: a ledger built through the CLI, every report in every format.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { type TmpLedger, tmpLedger } from '../helpers/cli.js';

const REPORTS = ['summary', 'liability', 'activity', 'members', 'expiring', 'items', 'segments'];
const EVIL = '=HYPERLINK("http://evil.example/x","click")';

let t: TmpLedger;

beforeAll(() => {
  t = tmpLedger();
  const add = (id: string, name: string) => t.ok(['member', 'add', '--id', id, '--name', name]);
  add('A', 'Alice <b>');
  add('B', EVIL);
  add('C', '+cmd');
  add('D', '@sum');
  add('E', '-2+3');
  const adjust = (id: string, points: number, now: string) => t.ok(['member', 'adjust', id, '--points', String(points), '--reason', 'test', ...(points < 0 ? ['--yes'] : [])], { now });
  adjust('A', 1000, '2025-12-08T12:00:00+08:00'); // a rolling-365 lot expiring 2026-12-08
  adjust('B', 500, '2026-10-31T23:30:00+08:00');
  adjust('C', 300, '2026-11-01T00:30:00+08:00'); // 31 October in UTC, November in the ledger zone
  adjust('A', -200, '2026-11-10T09:00:00+08:00');
  adjust('D', 50, '2026-11-23T09:00:00+08:00');
  // From 20 November 1000 points buy one yuan.
  const rules = join(t.dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ redeem: { pointsPerUnit: '1000' } }));
  t.ok(['rules', 'apply', rules, '--effective', '2026-11-20']);
}, 300_000);

describe('report summary and liability', () => {
  it('agree with each other and with the sum of member balances', () => {
    const s = t.ok(['report', 'summary']);
    const l = t.ok(['report', 'liability']);
    const members = t.ok(['member', 'list']) as { balance: number }[];
    const sum = members.reduce((a, m) => a + m.balance, 0);
    expect(sum).toBe(1650);
    expect(s.outstanding).toBe(sum);
    expect(s.closingBalance).toBe(sum);
    expect(l.outstandingPoints).toBe(sum);
    expect(s).toMatchObject({ openingBalance: 0, issued: 0, returned: 0, redeemed: 0, expired: 0, adjusted: 1650, currency: 'CNY' });
    expect(s.reconciliation.ok).toBe(true);
    expect(t.verify().ok).toBe(true);
  });

  it('summarises a period with its opening balance, in the ledger zone', () => {
    const s = t.ok(['report', 'summary', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(s.openingBalance).toBe(1500); // B's 23:30 on 31 October is before the period
    expect(s.adjusted).toBe(300 - 200 + 50);
    expect(s.closingBalance).toBe(1650);
    expect(s.reconciliation.ok).toBe(true);
    expect(s.reconciliation.line).toBe('1500 + 0 − 0 − 0 − 0 + 150 = 1650');
  });

  it('reports liability with the contract fields, valued at the redeem rate in force at the date', () => {
    const l = t.ok(['report', 'liability']);
    expect(l).toMatchObject({ asOf: '2026-11-23', outstandingPoints: 1650, value: '1.65', currency: 'CNY', heldPoints: 0, debtPoints: 0 });
    expect(l.byExpiryMonth).toEqual([
      { month: '2026-12', points: 800, value: '0.80' },
      { month: '2027-10', points: 500, value: '0.50' },
      { month: '2027-11', points: 350, value: '0.35' },
    ]);
  });

  it('replays the journal for a past date: the balance at the end of that day and its lots then', () => {
    const l = t.ok(['report', 'liability', '--as-of', '2026-11-05']);
    expect(l).toMatchObject({ asOf: '2026-11-05', outstandingPoints: 1800, value: '18.00', basis: 'journal' });
    expect(l.byExpiryMonth).toEqual([
      { month: '2026-12', points: 1000, value: '10.00' },
      { month: '2027-10', points: 500, value: '5.00' },
      { month: '2027-11', points: 300, value: '3.00' },
    ]);
    const sumBuckets = l.byExpiryMonth.reduce((a: number, b: { points: number }) => a + b.points, 0);
    expect(sumBuckets + l.heldPoints - l.debtPoints).toBe(l.outstandingPoints);
    // --to works as the as-of date; before the first entry nothing is owed
    expect(t.ok(['report', 'liability', '--to', '2026-11-05']).outstandingPoints).toBe(1800);
    expect(t.ok(['report', 'liability', '--as-of', '2025-01-01'])).toMatchObject({ outstandingPoints: 0, value: '0.00', byExpiryMonth: [] });
  });
});

describe('report liability with points that never expire', () => {
  it('puts them in a bucket with month null (never in CSV), last', () => {
    const n = tmpLedger();
    const rules = join(n.dir, 'never.json');
    writeFileSync(rules, JSON.stringify({ expiry: { policy: 'never' } }));
    n.ok(['member', 'add', '--id', 'X', '--name', 'Keeper']);
    n.ok(['member', 'adjust', 'X', '--points', '40', '--reason', 'rolling'], { now: '2026-11-01T10:00:00+08:00' });
    n.ok(['rules', 'apply', rules, '--effective', '2026-11-10']);
    n.ok(['member', 'adjust', 'X', '--points', '70', '--reason', 'forever']);
    const l = n.ok(['report', 'liability']);
    expect(l.byExpiryMonth).toEqual([
      { month: '2027-11', points: 40, value: '0.40' },
      { month: null, points: 70, value: '0.70' },
    ]);
    expect(l).toMatchObject({ outstandingPoints: 110, value: '1.10' });
    // each row stands on its own (a cron job keeps one file a day): the date, the value and the currency
    expect(n.run(['report', 'liability', '--format', 'csv']).stdout).toBe(`asOf,month,points,value,currency\n${l.asOf},2027-11,40,0.40,CNY\n${l.asOf},never,70,0.70,CNY\n`);
  });
});

describe('report activity', () => {
  it('buckets by month in the ledger zone and fills empty months', () => {
    const a = t.ok(['report', 'activity', '--by', 'month']);
    expect(a.buckets.map((b: { bucket: string }) => b.bucket)).toEqual([
      '2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11',
    ]);
    const by = Object.fromEntries(a.buckets.map((b: { bucket: string; adjusted: number }) => [b.bucket, b.adjusted]));
    expect(by['2025-12']).toBe(1000);
    expect(by['2026-10']).toBe(500);
    expect(by['2026-11']).toBe(150);
    expect(a.totals.net).toBe(1650);
  });

  it('buckets by day and ISO week within --from/--to', () => {
    const d = t.ok(['report', 'activity', '--by', 'day', '--from', '2026-10-31', '--to', '2026-11-01']);
    expect(d.buckets.map((b: { bucket: string; adjusted: number }) => [b.bucket, b.adjusted])).toEqual([
      ['2026-10-31', 500],
      ['2026-11-01', 300],
    ]);
    const w = t.ok(['report', 'activity', '--by', 'week', '--from', '2026-11-01', '--to', '2026-11-23']);
    expect(w.buckets.map((b: { bucket: string }) => b.bucket)).toEqual(['2026-W44', '2026-W45', '2026-W46', '2026-W47', '2026-W48']);
    // W44 cut by --from starts where the period does: its 300 are of 1 November only (trial 24)
    expect(w.buckets[0]).toMatchObject({ bucket: '2026-W44', start: '2026-11-01', adjusted: 300 });
    expect(w.buckets[1]).toMatchObject({ bucket: '2026-W45', start: '2026-11-02' });
    expect(w.buckets[2]).toMatchObject({ bucket: '2026-W46', start: '2026-11-09', adjusted: -200 });
  });

  it('puts 23:30 on the last day of a month in that month even when UTC says the next', () => {
    const ny = tmpLedger({ timezone: 'America/New_York' });
    ny.ok(['member', 'add', '--id', 'N', '--name', 'Night owl']);
    ny.ok(['member', 'adjust', 'N', '--points', '300', '--reason', 'late'], { now: '2026-10-31T23:30:00-04:00' });
    ny.ok(['member', 'adjust', 'N', '--points', '20', '--reason', 'next'], { now: '2026-11-01T00:10:00-04:00' });
    const m = ny.ok(['report', 'activity', '--by', 'month']);
    expect(m.buckets.map((b: { bucket: string; adjusted: number }) => [b.bucket, b.adjusted])).toEqual([
      ['2026-10', 300],
      ['2026-11', 20],
    ]);
    const d = ny.ok(['report', 'activity', '--by', 'day']);
    expect(d.buckets[0]).toMatchObject({ bucket: '2026-10-31', adjusted: 300 });
    const nov = ny.ok(['report', 'summary', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(nov).toMatchObject({ openingBalance: 300, adjusted: 20, closingBalance: 320 });
    expect(ny.ok(['report', 'summary', '--to', '2026-10-31'])).toMatchObject({ adjusted: 300, closingBalance: 300 });
  });
});

describe('report members, expiring, segments, items', () => {
  it('ranks members by balance', () => {
    const r = t.ok(['report', 'members', '--top', '2', '--by', 'balance']);
    expect(r.members.map((m: { id: string; balance: number; rank: number }) => [m.rank, m.id, m.balance])).toEqual([
      [1, 'A', 800],
      [2, 'B', 500],
    ]);
    const past = t.ok(['report', 'members', '--top', '1', '--to', '2026-11-05']);
    expect(past.members[0]).toMatchObject({ id: 'A', balance: 1000 });
  });

  it('lists members whose points expire within the window', () => {
    const r = t.ok(['report', 'expiring', '--within', '30d']);
    expect(r).toMatchObject({ asOf: '2026-11-23', from: '2026-11-23', to: '2026-12-23', members: 1, points: 800 });
    expect(r.rows[0]).toMatchObject({ memberId: 'A', points: 800, firstExpiresOn: '2026-12-08' });
    expect(r.byDate).toEqual([{ date: '2026-12-08', points: 800, members: 1 }]);
    expect(t.ok(['report', 'expiring', '--within', '14d'])).toMatchObject({ members: 0, points: 0 });
  });

  it('segments members and prints the thresholds', () => {
    const r = t.ok(['report', 'segments']);
    expect(r.totalMembers).toBe(5);
    expect(r.segments.reduce((a: number, s: { members: number }) => a + s.members, 0)).toBe(5);
    expect(r.thresholds.recencyDays[0]).toEqual({ score: 5, min: 0, max: 30 });
    const table = t.run(['report', 'segments']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('R days');
    expect(table.stdout).toContain('0–30');
    // piped after the fields, a table's rows are keyed by the section's short name, not its long title
    expect(table.stdout).toContain('thresholds.1.score\t5\n');
    expect(table.stdout).toContain('thresholds.1.R days\t0–30\n');
    expect(table.stdout).toMatch(/^segments\.1\.segment\t/m);
    // every piped key of every report is short: NAME.N.COLUMN with a NAME of a few words
    for (const name of REPORTS) {
      const keys = t.run(['report', name]).stdout.split('\n').map((l) => l.split('\t')[0]).filter((k) => /\.\d+\./.test(k));
      for (const k of keys) expect(k.split('.')[0].length, `${name}: ${k}`).toBeLessThanOrEqual(24);
    }
  });

  it('reports items with no checkouts as empty', () => {
    expect(t.ok(['report', 'items']).items).toEqual([]);
  });
});

describe('formats and files', () => {
  it('renders every report as table, csv, json and html', () => {
    for (const r of REPORTS) {
      const table = t.run(['report', r]);
      expect(table.code, `${r} table: ${table.stderr}`).toBe(0);
      expect(table.stdout.length).toBeGreaterThan(0);
      expect(table.stdout).not.toContain('\u001b['); // no colour on a pipe

      const csv = t.run(['report', r, '--format', 'csv']);
      expect(csv.code, `${r} csv: ${csv.stderr}`).toBe(0);
      const rows = parse(csv.stdout) as string[][];
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(new Set(rows.map((x) => x.length)).size).toBe(1);

      const json = t.run(['report', r, '--format', 'json']);
      expect(json.code).toBe(0);
      expect(json.json()).toEqual(t.ok(['report', r]));

      const html = t.run(['report', r, '--format', 'html']);
      expect(html.code, `${r} html: ${html.stderr}`).toBe(0);
      expect(html.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(html.stdout).not.toMatch(/<(script|link|img)\b/i);
    }
  }, 300_000);

  it('escapes CSV cells that start with = + - @', () => {
    const csv = t.run(['report', 'members', '--top', '10', '--format', 'csv']);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    const names = Object.fromEntries(rows.map((r) => [r.member, r.name]));
    expect(names.B).toBe(`'${EVIL}`);
    expect(names.C).toBe("'+cmd");
    expect(names.D).toBe("'@sum");
    expect(names.E).toBe("'-2+3");
    expect(names.A).toBe('Alice <b>');
    // numbers stay numbers, negative ones included
    const act = parse(t.run(['report', 'activity', '--format', 'csv']).stdout, { columns: true }) as Record<string, string>[];
    expect(act.find((x) => x.month === '2026-11')!.adjusted).toBe('150');
    const week = parse(t.run(['report', 'activity', '--by', 'week', '--from', '2026-11-09', '--to', '2026-11-15', '--format', 'csv']).stdout, { columns: true }) as Record<string, string>[];
    expect(week[0].adjusted).toBe('-200');
  });

  it('escapes member names in HTML and draws SVG charts', () => {
    const html = t.run(['report', 'members', '--format', 'html']).stdout;
    expect(html).toContain('Alice &lt;b&gt;');
    expect(html).not.toContain('Alice <b>');
    expect(html).toContain('=HYPERLINK(&quot;http://evil.example/x&quot;,&quot;click&quot;)');
    expect(html).toContain('<svg ');
    const act = t.run(['report', 'activity', '--format', 'html']).stdout;
    expect(act.match(/<rect /g)!.length).toBeGreaterThanOrEqual(12 * 3);
  });

  it('writes --out files atomically, the format taken from the extension', () => {
    const csv = join(t.dir, 'liability.csv');
    const r = t.run(['report', 'liability', '--out', csv]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('wrote');
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('asOf,month,points,value,currency');
    const html = join(t.dir, 'activity.html');
    expect(t.run(['report', 'activity', '--out', html]).code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('<svg ');
    const json = join(t.dir, 's.json');
    expect(t.run(['report', 'summary', '--out', json]).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).outstanding).toBe(1650);
    const txt = join(t.dir, 's.txt');
    expect(t.run(['report', 'summary', '--out', txt]).code).toBe(0);
    expect(readFileSync(txt, 'utf8')).toContain('closing balance\t1650');
    // --json with --out: the file in its format, stdout one JSON document saying where
    const both = t.ok(['report', 'summary', '--out', join(t.dir, 'x.csv')]);
    expect(both).toMatchObject({ report: 'summary', format: 'csv' });
    expect(readFileSync(join(t.dir, 'x.csv'), 'utf8').startsWith('from,to,openingBalance')).toBe(true);
  });

  it('refuses bad arguments with exit 2 and writes nothing', () => {
    const bad = [
      ['report', 'summary', '--from', '2026-11-30', '--to', '2026-11-01'],
      ['report', 'summary', '--format', 'xml'],
      ['report', 'activity', '--by', 'year'],
      ['report', 'members', '--top', '0'],
      ['report', 'members', '--by', 'name'],
      ['report', 'liability', '--as-of', '2026-02-30'],
      ['report', 'expiring', '--within', 'soon'],
      ['report', 'summary', '--out', join(t.dir, 'report.xyz')],
      ['report', 'summary', '--out', join(t.dir, 'missing-dir', 'r.csv')],
      ['report', 'summary', '--json', '--format', 'csv'],
    ];
    for (const args of bad) {
      const r = t.run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(t.dir, 'report.xyz'))).toBe(false);
    const j = t.run(['report', 'summary', '--from', '2026-11-30', '--to', '2026-11-01', '--json']);
    expect(JSON.parse(j.stderr.trim()).error.code).toBe('USAGE');
  });

  it('refuses a path that is not a ledger', () => {
    const r = t.run(['report', 'summary', '--db', join(t.dir, 'nope.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pointsmall init');
  });
});
