// Lists scale (issue 20 item 4): --limit/--offset pages in a stable order, member list --search, and every
// list's --format csv|json --out FILE, through the same output guards as the reports.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, sceneLedger } from '../helpers/cli.js';

/**
 * 23 members (two with % and _ in their names), 7 orders, 5 coupons, an item in review, notifications: each
 * describe gets its own copy, built once per file.
 */
function seeded(): TmpLedger {
  return sceneLedger('seeded', (t) => {
    const rows = ['id,name,phone,email'];
    for (let i = 1; i <= 20; i++) rows.push(`M${String(i).padStart(3, '0')},Member ${i},1380000${String(i).padStart(4, '0')},m${i}@example.com`);
    rows.push('X-1,Wang Fang,,WANG.fang@Shop.example');
    rows.push('X-2,100% Tea Lover,,');
    rows.push('X-3,snake_case,,');
    writeFileSync(join(t.dir, 'members.csv'), rows.join('\n') + '\n');
    t.ok(['member', 'import', join(t.dir, 'members.csv')]);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00']);
    t.ok(['catalog', 'add', '--sku', 'CPN', '--name', '5 off', '--price', '1.00', '--kind', 'coupon', '--coupon-value', '5.00', '--coupon-days', '30']);
    for (let i = 1; i <= 6; i++) t.ok(['checkout', '--member', `M00${i}`, '--item', 'TEA', '--no-points', '--tender', 'cash', '--yes']);
    t.ok(['checkout', '--member', 'M001', '--item', 'CPN:5', '--no-points', '--tender', 'cash', '--yes']);
    writeFileSync(join(t.dir, 'rules.json'), JSON.stringify({ limits: { reviewAbove: '100.00' } }));
    t.ok(['rules', 'apply', join(t.dir, 'rules.json'), '--effective', '2026-11-01']);
    writeFileSync(join(t.dir, 'big.csv'), 'order_id,member_id,purchased_at,amount\nB1,M020,2026-11-20,500.00\n');
    t.ok(['import', 'purchases', join(t.dir, 'big.csv')]);
  });
}

const ids = (rows: Record<string, unknown>[], key: string) => rows.map((r) => r[key]);

describe('--limit and --offset page every list in a stable order', () => {
  const t = seeded();

  it.each([
    ['member list', ['member', 'list'], 'id'],
    ['ledger entries', ['ledger', 'entries'], 'id'],
    ['order list', ['order', 'list'], 'orderId'],
    ['coupon list', ['coupon', 'list'], 'code'],
    ['audit list', ['audit', 'list'], 'id'],
    ['outbox list', ['outbox', 'list'], 'id'],
  ])('%s: pages of 4 concatenated are the whole list, none twice, none left out', (_name, args, key) => {
    const all = ids(t.ok([...args, '--limit', '100000']), key);
    expect(all.length).toBeGreaterThan(4);
    const pages: unknown[] = [];
    for (let offset = 0; offset < all.length + 4; offset += 4) pages.push(...ids(t.ok([...args, '--limit', '4', '--offset', String(offset)]), key));
    expect(pages).toEqual(all);
    expect(new Set(pages).size).toBe(pages.length);
    expect(t.ok([...args, '--offset', String(all.length)])).toEqual([]);
    expect(ids(t.ok([...args, '--offset', '2', '--limit', '100000']), key)).toEqual(all.slice(2));
  });

  it.each([
    [['order', 'list', '--member', 'GHOST'], /member "GHOST"/],
    [['ledger', 'entries', '--member', 'GHOST'], /member "GHOST"/],
    [['review', 'list', '--member', 'GHOST'], /member "GHOST"/],
    [['member', 'list', '--tier', 'platinum'], /tier "platinum" is not in the rules in force/],
    [['outbox', 'list', '--topic', 'order.confirmd'], /order\.confirmd/],
  ])('a filter value that can match nothing by construction is exit 2, not an empty list: %j', (args, message) => {
    const r = t.run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('lists newest first page back in time: the first page of ledger entries holds the newest', () => {
    const all = ids(t.ok(['ledger', 'entries', '--limit', '100000']), 'id') as number[];
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(ids(t.ok(['ledger', 'entries', '--limit', '3']), 'id')).toEqual(all.slice(0, 3));
  });

  it.each([
    [['member', 'list', '--limit', '-1'], '--limit'],
    [['order', 'list', '--limit', 'ten'], '--limit'],
    [['ledger', 'entries', '--offset', '1.5'], '--offset'],
    [['audit', 'list', '--offset', '-3'], '--offset'],
    [['coupon', 'list', '--limit', '1e3'], '--limit'],
    [['outbox', 'list', '--offset', ''], '--offset'],
  ])('%j is exit 2 naming %s, nothing on stdout', (args, flag) => {
    const r = t.run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(flag);
    const j = t.run([...args, '--json']);
    expect(j.code).toBe(2);
    expect(j.stdout).toBe('');
    expect(JSON.parse(j.stderr).error.code).toBe('USAGE');
  });
});

describe('member list --search', () => {
  const t = seeded();
  const search = (text: string) => ids(t.ok(['member', 'list', '--search', text]), 'id');

  it('matches the id, name, phone and email, in any case', () => {
    expect(search('x-1')).toEqual(['X-1']); // id
    expect(search('wang')).toEqual(['X-1']); // name, and the email
    expect(search('shop.EXAMPLE')).toEqual(['X-1']); // email only
    expect(search('13800000017')).toEqual(['M017']); // phone
    expect(search('member 1')).toEqual(['M001', 'M010', 'M011', 'M012', 'M013', 'M014', 'M015', 'M016', 'M017', 'M018', 'M019']);
    expect(search('nobody like this')).toEqual([]);
  });

  it('takes % and _ as themselves, not as wildcards', () => {
    expect(search('%')).toEqual(['X-2']);
    expect(search('0% t')).toEqual(['X-2']);
    expect(search('_')).toEqual(['X-3']);
    expect(search('e_c')).toEqual(['X-3']);
    expect(search('\\')).toEqual([]);
  });

  it('combines with the other filters and pages', () => {
    expect(ids(t.ok(['member', 'list', '--search', 'member', '--limit', '3', '--offset', '1']), 'id')).toEqual(['M002', 'M003', 'M004']);
    expect(ids(t.ok(['member', 'list', '--search', 'member', '--min-balance', '1']), 'id')).toEqual(['M001', 'M002', 'M003', 'M004', 'M005', 'M006']);
  });
});

describe('every list takes --format csv|json --out FILE', () => {
  const t = seeded();
  const lists = [
    ['member', 'list'],
    ['order', 'list'],
    ['ledger', 'entries'],
    ['audit', 'list'],
    ['coupon', 'list'],
    ['catalog', 'list'],
    ['review', 'list', '--status', 'all'],
    ['outbox', 'list'],
    ['import', 'list'],
    ['holds', 'list'],
  ];

  it.each(lists.map((l) => [l.join(' '), l]))('%s --out x.json holds what --json prints; --out x.csv one header and a row each', (name, args) => {
    const json = t.ok(args as string[]);
    const jf = join(t.dir, `${name.replace(/ /g, '-')}.json`);
    const r = t.run([...(args as string[]), '--out', jf]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`wrote ${jf}`);
    expect(JSON.parse(readFileSync(jf, 'utf8'))).toEqual(json);
    expect(statSync(jf).mode & 0o777).toBe(0o600);
    const cf = join(t.dir, `${name.replace(/ /g, '-')}.data`);
    const c = t.run([...(args as string[]), '--format', 'csv', '--out', cf]);
    expect(c.code, c.stderr).toBe(0);
    const lines = readFileSync(cf, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^[^,\s][^,]*(,[^,]+)+$/);
    if (json.length) expect(lines.length).toBeGreaterThan(1);
  });

  it('a pipe and CSV carry every value whole: import list gives the file\'s whole sha256', () => {
    const runs = t.ok(['import', 'list']) as { sha256: string }[];
    expect(runs.length).toBeGreaterThan(0);
    const sha = runs[0].sha256;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const piped = t.run(['import', 'list']);
    expect(piped.code, piped.stderr).toBe(0);
    const header = piped.stdout.split('\n')[0].split('\t');
    expect(piped.stdout.split('\n')[1].split('\t')[header.indexOf('sha256')]).toBe(sha);
    const out = join(t.dir, 'runs.csv');
    expect(t.run(['import', 'list', '--out', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[1]).toContain(`,${sha},`);
  });

  it('CSV keeps instants as UTC ISO 8601 and escapes formulas; --json prints where the file went', () => {
    t.ok(['member', 'add', '--id', 'EVIL', '--name', '=HYPERLINK("http://x")']);
    const out = join(t.dir, 'members.csv.out');
    const r = t.run(['member', 'list', '--search', 'evil', '--format', 'csv', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ list: 'members', format: 'csv', out, rows: 1 });
    expect(readFileSync(out, 'utf8')).toContain(`'=HYPERLINK`);
    const orders = join(t.dir, 'orders.csv');
    t.run(['order', 'list', '--out', orders]);
    expect(readFileSync(orders, 'utf8').split('\n')[1]).toMatch(/,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,/);
  });

  it('ledger export --format csv escapes a formula in a memo, as every CSV the tool writes does', () => {
    t.ok(['member', 'add', '--id', 'EVIL2', '--name', 'Eve']);
    t.ok(['member', 'adjust', 'EVIL2', '--points', '5', '--reason', '=HYPERLINK("http://x")']);
    const csv = t.run(['ledger', 'export', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const row = csv.stdout.split('\n').find((l) => l.includes('HYPERLINK'));
    expect(row).toContain(`'=HYPERLINK`);
    // --json: the one JSON document on stdout, so the export needs --out (exit 2 without), and says what it wrote
    const bare = t.run(['ledger', 'export', '--format', 'csv', '--json']);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    const out = join(t.dir, 'journal.csv');
    expect(t.ok(['ledger', 'export', '--out', out])).toEqual({ out, format: 'csv', bytes: readFileSync(out).length });
  });

  it('--format csv without --out writes CSV to stdout; a .txt file gets the tab-separated rows a pipe gets', () => {
    const csv = t.run(['order', 'list', '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('order,at,member,status,total,points,cash,tender,earned,refunded,refunded pts');
    const txt = join(t.dir, 'orders.txt');
    expect(t.run(['order', 'list', '--out', txt]).code).toBe(0);
    expect(readFileSync(txt, 'utf8')).toBe(t.run(['order', 'list']).stdout);
  });

  it('refuses the ledger, an unknown extension and --json with another --format (exit 2, nothing written)', () => {
    const onLedger = t.run(['member', 'list', '--format', 'csv', '--out', t.db]);
    expect(onLedger.code).toBe(2);
    expect(onLedger.stderr).toMatch(/it is the ledger/);
    expect(t.ok(['member', 'list', '--limit', '1'])).toHaveLength(1); // the ledger is intact
    const html = t.run(['order', 'list', '--out', join(t.dir, 'orders.html')]);
    expect(html.code).toBe(2);
    expect(html.stderr).toMatch(/--format table\|csv\|json/);
    const both = t.run(['coupon', 'list', '--format', 'csv', '--json']);
    expect(both.code).toBe(2);
    expect(both.stdout).toBe('');
    const badFormat = t.run(['audit', 'list', '--format', 'xml']);
    expect(badFormat.code).toBe(2);
  });
});
