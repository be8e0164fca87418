import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, type TmpLedger, sceneLedger, tmpLedger } from '../helpers/cli.js';

const TEA = ['catalog', 'add', '--sku', 'TEA-001', '--name', '西湖龙井 250g', '--price', '168.00', '--category', 'tea', '--points-price', '15000', '--stock', '50'];

/** A ledger holding TEA and nothing else: each test gets its own copy, added once per file. */
const withTea = (): TmpLedger => sceneLedger('TEA', (t) => t.ok(TEA));

/** What a failed command must leave untouched: the catalog and the audit log. */
function snapshot(t: TmpLedger): string {
  return JSON.stringify([t.ok(['catalog', 'list', '--all']), t.ok(['audit', 'list'])]);
}

function expectVerified(t: TmpLedger): void {
  const v = t.verify();
  expect(v.ok, JSON.stringify(v.checks)).toBe(true);
}

function jsonError(stderr: string): { code: string; message: string } {
  return JSON.parse(stderr.trim().split('\n').pop()!).error;
}

describe('catalog add', () => {
  it('adds an item and prints it as JSON with money as decimal strings', () => {
    const t = tmpLedger();
    const item = t.ok(TEA);
    expect(item).toEqual({
      sku: 'TEA-001',
      name: '西湖龙井 250g',
      category: 'tea',
      price: '168.00',
      pointsPrice: 15000,
      pay: 'mixed',
      maxPointsRatio: null,
      stock: 50,
      stockHeld: 0,
      stockAvailable: 50,
      kind: 'goods',
      couponValue: null,
      couponPercent: null,
      couponDays: null,
      active: true,
      pointsDiscount: null,
      createdAt: '2026-11-23T02:00:00.000Z',
      updatedAt: '2026-11-23T02:00:00.000Z',
    });
    expect(t.ok(['catalog', 'show', 'TEA-001'])).toEqual(item);
    const audit = t.ok(['audit', 'list']);
    expect(audit[0]).toMatchObject({ action: 'catalog.add', subject: 'TEA-001', operator: 'tester' });
    expectVerified(t);
  });

  it('adds coupon items with a value or a percent, unlimited stock by default', () => {
    const t = tmpLedger();
    const v = t.ok(['catalog', 'add', '--sku', 'CPN-10Y', '--name', '满100减10元券', '--price', '10.00', '--kind', 'coupon', '--coupon-value', '10.00', '--pay', 'points', '--points-price', '800']);
    expect(v).toMatchObject({ kind: 'coupon', couponValue: '10.00', couponPercent: null, couponDays: 30, stock: null, stockAvailable: null, pay: 'points' });
    const p = t.ok(['catalog', 'add', '--sku', 'CPN-9Z', '--name', '全场九折券', '--price', '20', '--kind', 'coupon', '--coupon-percent', '10', '--coupon-days', '14']);
    expect(p).toMatchObject({ couponValue: null, couponPercent: '10', couponDays: 14, price: '20.00' });
    const r = t.ok(['catalog', 'add', '--sku', 'CASH-1', '--name', '耳机', '--price', '699', '--pay', 'cash', '--max-points-ratio', '']);
    expect(r).toMatchObject({ pay: 'cash', maxPointsRatio: null });
  });

  it('refuses a duplicate sku with ITEM_EXISTS (exit 2) and keeps the original', () => {
    const t = withTea();
    const before = snapshot(t);
    const r = t.run(['catalog', 'add', '--sku', 'TEA-001', '--name', 'other', '--price', '1.00', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(jsonError(r.stderr).code).toBe('ITEM_EXISTS');
    const h = t.run(['catalog', 'add', '--sku', 'TEA-001', '--name', 'other', '--price', '1.00']);
    expect(h.stderr).toMatch(/hint: .*catalog update TEA-001/);
    expect(snapshot(t)).toBe(before);
  });

  it.each(['1,2x', '-5', '1e5', 'NaN', '1.234', '', 'Infinity'])('refuses the price %j with exit 2 naming --price, writing nothing', (price) => {
    const t = tmpLedger();
    const before = snapshot(t);
    const r = t.run(['catalog', 'add', '--sku', 'X-1', '--name', 'x', '--price', price]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--price');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(snapshot(t)).toBe(before);
  });

  it.each([
    [['--sku', 'X', '--name', 'x'], '--price'],
    [['--sku', 'X', '--price', '1'], '--name'],
    [['--name', 'x', '--price', '1'], '--sku'],
  ])('without a TTY a missing flag is exit 2, never a prompt (%j)', (args, flag) => {
    const t = tmpLedger();
    const r = t.run(['catalog', 'add', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`missing ${flag}`);
    expect(t.ok(['catalog', 'list', '--all'])).toEqual([]);
  });

  it.each([
    [['--sku', 'bad sku'], '--sku'],
    [['--points-price', '1.5'], '--points-price'],
    [['--max-points-ratio', '1.5'], '--max-points-ratio'],
    [['--stock', '-1'], '--stock'],
    [['--pay', 'card'], '--pay'],
    [['--kind', 'service'], '--kind'],
    [['--coupon-value', '10.00'], '--coupon-value'],
    [['--kind', 'coupon'], '--coupon-value'],
    [['--kind', 'coupon', '--coupon-value', '5', '--coupon-percent', '10'], '--coupon-percent'],
    [['--kind', 'coupon', '--coupon-percent', '101'], '--coupon-percent'],
    [['--kind', 'coupon', '--coupon-percent', '10', '--coupon-days', '0'], '--coupon-days'],
    [['--pay', 'cash', '--points-price', '100'], '--points-price'],
  ])('refuses bad item values %j with exit 2 naming the flag', (extra, flag) => {
    const t = tmpLedger();
    const r = t.run(['catalog', 'add', '--sku', 'X-1', '--name', 'x', '--price', '10.00', ...extra]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(t.ok(['catalog', 'list', '--all'])).toEqual([]);
  });
});

describe('catalog update, show, deactivate, activate', () => {
  it('updates only the given fields, clears optional ones with an empty value, and audits before/after', () => {
    const t = withTea();
    const u = t.ok(['catalog', 'update', 'TEA-001', '--price', '158.00', '--category', '', '--stock', 'unlimited'], { now: '2026-11-24T10:00:00+08:00' });
    expect(u).toMatchObject({ sku: 'TEA-001', name: '西湖龙井 250g', price: '158.00', category: null, stock: null, pointsPrice: 15000, updatedAt: '2026-11-24T02:00:00.000Z', createdAt: '2026-11-23T02:00:00.000Z' });
    const audit = t.ok(['audit', 'list']);
    expect(audit[0]).toMatchObject({ action: 'catalog.update', subject: 'TEA-001' });
    expect(audit[0].detail.before.price).toBe('168.00');
    expect(audit[0].detail.after.price).toBe('158.00');
    expectVerified(t);
  });

  it('turning an item into cash-only drops its points price', () => {
    const t = withTea();
    expect(t.ok(['catalog', 'update', 'TEA-001', '--pay', 'cash'])).toMatchObject({ pay: 'cash', pointsPrice: null });
  });

  it('refuses a malformed price on update with exit 2, writing nothing', () => {
    const t = withTea();
    const before = snapshot(t);
    const r = t.run(['catalog', 'update', 'TEA-001', '--price', '1,2x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--price');
    expect(snapshot(t)).toBe(before);
  });

  it('refuses an update with nothing to change', () => {
    const t = withTea();
    const r = t.run(['catalog', 'update', 'TEA-001']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing to change');
  });

  it.each([
    [['catalog', 'show', 'NOPE']],
    [['catalog', 'update', 'NOPE', '--price', '1.00']],
    [['catalog', 'deactivate', 'NOPE']],
    [['catalog', 'activate', 'NOPE']],
  ])('an unknown sku is NOT_FOUND, exit 2 (%j)', (args) => {
    const t = tmpLedger();
    const before = snapshot(t);
    const r = t.run([...args, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(jsonError(r.stderr)).toMatchObject({ code: 'NOT_FOUND' });
    expect(jsonError(r.stderr).message).toContain('NOPE');
    expect(snapshot(t)).toBe(before);
  });

  it('deactivate hides an item from the default list; activate brings it back; both are idempotent', () => {
    const t = withTea();
    t.ok(['catalog', 'add', '--sku', 'HOME-001', '--name', '保温杯', '--price', '89.00', '--category', 'household']);
    expect(t.ok(['catalog', 'deactivate', 'TEA-001']).active).toBe(false);
    expect(t.ok(['catalog', 'list']).map((i: { sku: string }) => i.sku)).toEqual(['HOME-001']);
    expect(t.ok(['catalog', 'list', '--all']).map((i: { sku: string }) => i.sku)).toEqual(['HOME-001', 'TEA-001']);
    const audits = t.ok(['audit', 'list']).length;
    expect(t.ok(['catalog', 'deactivate', 'TEA-001']).active).toBe(false);
    expect(t.ok(['audit', 'list']).length).toBe(audits);
    expect(t.ok(['catalog', 'activate', 'TEA-001']).active).toBe(true);
    expect(t.ok(['audit', 'list'])[0]).toMatchObject({ action: 'catalog.activate', subject: 'TEA-001' });
    expectVerified(t);
  });

  it('show without --json prints fields; a piped list is tab-separated with a header', () => {
    const t = withTea();
    const s = t.run(['catalog', 'show', 'TEA-001']);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('price\t168.00');
    const l = t.run(['catalog', 'list']);
    expect(l.stdout.split('\n')[0].split('\t')[0]).toBe('sku');
    expect(l.stdout).toContain('TEA-001\t西湖龙井 250g\ttea\t168.00');
  });
});

describe('catalog list', () => {
  it('filters by category and lists in sku order', () => {
    const t = tmpLedger();
    t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')]);
    const tea = t.ok(['catalog', 'list', '--category', 'tea']);
    expect(tea.map((i: { sku: string }) => i.sku)).toEqual(['TEA-001', 'TEA-002', 'TEA-003']);
    expect(t.ok(['catalog', 'list', '--category', 'tea', '--all'])).toHaveLength(4);
    expect(t.ok(['catalog', 'list', '--category', 'none'])).toEqual([]);
  });
});

describe("a mixed item's points price, which checkout does not charge (SPEC §4.6)", () => {
  it('is named unused by add, update, show and import, while checkout takes the points at the redeem rate', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'C1', '--name', 'Chen']);
    t.ok(['member', 'adjust', 'C1', '--points', '20000', '--reason', 'seed']);
    const add = t.run(TEA);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain('note: TEA-001 has a points price but is not paid in points alone (--pay points): checkout takes points for it at the redeem rate, so the points price is unused');
    // a script gets the stored value and no note
    const json = t.run([...TEA.map((a) => (a === 'TEA-001' ? 'TEA-002' : a)), '--json']);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ pay: 'mixed', pointsPrice: 15000 });
    // what checkout charges for all of it: the price at the redeem rate (100 points a yuan), not 15000
    expect(t.ok(['checkout', 'quote', '--member', 'C1', '--item', 'TEA-001', '--max-points'])).toMatchObject({ pointsUsed: 16800, cashPaid: '0.00' });
    expect(t.run(['catalog', 'show', 'TEA-001']).stdout).toMatch(/points price\s+15000 \(unused: a mixed item pays points at the redeem rate\)/);
    expect(t.run(['catalog', 'update', 'TEA-001', '--price', '158.00']).stderr).toBe(''); // not about the points price
    expect(t.run(['catalog', 'update', 'TEA-001', '--points-price', '14000']).stderr).toContain('note: TEA-001 has a points price');
    // paid in points alone, the points price is what checkout takes
    const points = t.run(['catalog', 'update', 'TEA-001', '--pay', 'points']);
    expect(points.stderr).toBe('');
    expect(t.run(['catalog', 'show', 'TEA-001']).stdout).toMatch(/points price\s+14000\n/);
    expect(t.ok(['checkout', 'quote', '--member', 'C1', '--item', 'TEA-001'])).toMatchObject({ pointsUsed: 14000, cashPaid: '0.00' });
    // a piped list keeps the stored value as data
    expect(t.run(['catalog', 'list']).stdout).toMatch(/\nTEA-002\t[^\n]*\t15000\tmixed\t/);
  });

  it('catalog import lists the SKUs whose points price is unused, in JSON and in a note', () => {
    const t = tmpLedger();
    const r = t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')]);
    expect(r.pointsPriceUnused).toEqual(['TEA-001', 'TEA-003', 'ELEC-003', 'HOME-003']);
    const human = t.run(['catalog', 'import', join(FIXTURES, 'catalog.csv')]);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain('note: TEA-001, TEA-003, ELEC-003, HOME-003 have a points price but are not paid in points alone (--pay points)');
  });
});

describe('catalog import', () => {
  it('imports the fixture, and a re-run changes nothing', () => {
    const t = tmpLedger();
    const r = t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')]);
    expect(r).toMatchObject({ rows: 13, created: 13, updated: 0, unchanged: 0, rejected: 0, rejectsFile: null });
    const all = t.ok(['catalog', 'list', '--all']);
    const by = Object.fromEntries(all.map((i: { sku: string }) => [i.sku, i]));
    expect(by['GIFT-001']).toMatchObject({ pay: 'points', pointsPrice: 3000 });
    expect(by['ELEC-002']).toMatchObject({ pay: 'cash', pointsPrice: null });
    expect(by['ELEC-003']).toMatchObject({ stock: null, price: '29.90' });
    expect(by['CPN-10Y']).toMatchObject({ kind: 'coupon', couponValue: '10.00', couponDays: 30 });
    expect(by['CPN-9Z']).toMatchObject({ kind: 'coupon', couponPercent: '10', couponDays: 14 });
    expect(by['TEA-004'].active).toBe(false);
    expect(t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')])).toMatchObject({ created: 0, updated: 0, unchanged: 13 });
    expectVerified(t);
  });

  it('a catalog list --out file imports again unchanged: the quote before a formula-like cell comes off', () => {
    const t = tmpLedger();
    t.ok(['catalog', 'add', '--sku', 'EQ-1', '--name', '=HYPERLINK("x")', '--price', '10.00', '--category', '-sale']);
    t.ok(['catalog', 'add', '--sku', 'AT-1', '--name', '@home mug', '--price', '12.00']);
    t.ok(['catalog', 'add', '--sku', 'AP-1', '--name', "'quoted", '--price', '1.00']);
    const out = join(t.dir, 'catalog.csv');
    t.ok(['catalog', 'list', '--all', '--out', out]);
    expect(readFileSync(out, 'utf8')).toContain("'-sale");
    const before = t.ok(['catalog', 'list', '--all']);
    expect(t.ok(['catalog', 'import', out])).toMatchObject({ created: 0, updated: 0, unchanged: 3, rejected: 0 });
    expect(t.ok(['catalog', 'list', '--all'])).toEqual(before);
    expect(t.ok(['catalog', 'show', 'EQ-1'])).toMatchObject({ name: '=HYPERLINK("x")', category: '-sale' });
    expect(t.ok(['catalog', 'show', 'AP-1']).name).toBe("'quoted");
  });

  it('a catalog list --out file has catalog import\'s columns and values: stock, coupons and ratios import again unchanged', () => {
    const t = tmpLedger();
    t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', 'Tea', '--price', '168.00', '--points-price', '15000', '--max-points-ratio', '0.5', '--stock', '120']);
    t.ok(['catalog', 'add', '--sku', 'CPN-10Y', '--name', '10 off', '--price', '10.00', '--pay', 'points', '--points-price', '1000', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '30']);
    t.ok(['catalog', 'add', '--sku', 'CPN-9Z', '--name', '10% off', '--price', '5.00', '--kind', 'coupon', '--coupon-percent', '10', '--coupon-days', '14']);
    t.ok(['catalog', 'deactivate', 'CPN-9Z']);
    const out = join(t.dir, 'catalog.csv');
    t.ok(['catalog', 'list', '--all', '--out', out]);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toBe('sku,name,price,category,points_price,pay,max_points_ratio,stock,kind,coupon_value,coupon_percent,coupon_days,active,points_discount');
    expect(rows).toEqual(['CPN-10Y,10 off,10.00,,1000,points,,,coupon,10.00,,30,true,', 'CPN-9Z,10% off,5.00,,,mixed,,,coupon,,10,14,false,', 'TEA-001,Tea,168.00,,15000,mixed,0.5,120,goods,,,,true,']);
    const before = t.ok(['catalog', 'list', '--all']);
    expect(t.ok(['catalog', 'import', out])).toMatchObject({ created: 0, updated: 0, unchanged: 3, rejected: 0 });
    expect(t.ok(['catalog', 'list', '--all'])).toEqual(before);
  });

  it('upserts by sku: columns absent from the header keep their values', () => {
    const t = withTea();
    const f = join(t.dir, 'prices.csv');
    writeFileSync(f, 'sku,name,price\nTEA-001,西湖龙井 250g,148.00\nTEA-009,新茶,10\n');
    expect(t.ok(['catalog', 'import', f])).toMatchObject({ created: 1, updated: 1, rejected: 0 });
    expect(t.ok(['catalog', 'show', 'TEA-001'])).toMatchObject({ price: '148.00', pointsPrice: 15000, stock: 50, category: 'tea' });
  });

  it('keeps good rows, sends bad ones to the rejects file with line and reason, and exits 4', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'items.csv');
    writeFileSync(
      f,
      [
        'sku,name,price,category,pay,kind,coupon_value,coupon_percent',
        'OK-1,好茶,10.00,tea,,,,',
        'BAD-1,坏价格,"1,2x",tea,,,,',
        'BAD-2,负价格,-5,tea,,,,',
        'BAD-3,券,5.00,coupons,,coupon,,',
        'BAD-4,商品券字段,5.00,tea,,goods,3.00,',
        'OK-1,重复,11.00,tea,,,,',
        'BAD-5,付款,5.00,tea,card,,,',
        'OK-2,九折券,1.00,coupons,points,coupon,,10',
      ].join('\n') + '\n',
    );
    const rejects = join(t.dir, 'bad.csv');
    const r = t.run(['catalog', 'import', f, '--rejects', rejects, '--json']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ rows: 8, created: 2, rejected: 6, rejectsFile: rejects });
    const lines = readFileSync(rejects, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('_line,_reason,sku,name,price,category,pay,kind,coupon_value,coupon_percent'); // the input's own columns
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['3', '4', '5', '6', '7', '8']);
    expect(lines[1]).toMatch(/price: .*1,2x/);
    expect(lines[3]).toContain('coupon_value: a coupon item needs');
    expect(lines[4]).toContain('coupon_value');
    expect(lines[5]).toContain('appears twice');
    expect(lines[6]).toContain('pay');
    expect(t.ok(['catalog', 'list', '--all']).map((i: { sku: string }) => i.sku)).toEqual(['OK-1', 'OK-2']);
    expect(t.ok(['catalog', 'show', 'OK-1']).price).toBe('10.00');
    expectVerified(t);
  });

  it('writes rejects beside the file by default', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'items.csv');
    writeFileSync(f, 'sku,name,price\nA,a,NaN\nB,b,1.00\n');
    const r = t.run(['catalog', 'import', f]);
    expect(r.code).toBe(4);
    expect(readFileSync(join(t.dir, 'items.rejects.csv'), 'utf8')).toContain('2,');
  });

  it('refuses a file without the required columns (exit 2), writing nothing', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'items.csv');
    writeFileSync(f, 'sku,title,cost\nA,a,1\n');
    const before = snapshot(t);
    const r = t.run(['catalog', 'import', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing column\(s\) name, price/);
    expect(snapshot(t)).toBe(before);
  });

  it('refuses a missing file (exit 2)', () => {
    const t = tmpLedger();
    const r = t.run(['catalog', 'import', join(t.dir, 'nope.csv'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(jsonError(r.stderr).message).toContain('nope.csv');
  });

  it('refuses a --rejects path in a missing folder before importing anything', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'items.csv');
    writeFileSync(f, 'sku,name,price\nA,a,1\nB,b,x\n');
    const before = snapshot(t);
    const r = t.run(['catalog', 'import', f, '--rejects', join(t.dir, 'no', 'bad.csv')]);
    expect(r.code).toBe(2);
    expect(snapshot(t)).toBe(before);
  });
});
