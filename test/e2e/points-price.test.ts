// A points price of 0 would give an item away as "0 points worth 50.00" (§4.2: 0 points are worth
// 0.00): refused wherever an item is made or changed, and an item an older build stored with one is
// refused at checkout (exit 3), never sold.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TmpLedger, openLedgerDb, sceneLedger } from '../helpers/cli.js';

const NOW = '2026-11-20T02:00:00Z';

function setup(): TmpLedger {
  return sceneLedger('setup', (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A'], { now: NOW });
    t.ok(['member', 'adjust', 'M1', '--points', '10000', '--reason', 'start'], { now: NOW });
  }, { now: NOW });
}

const jsonError = (stderr: string): { code: string; message: string } => JSON.parse(stderr.trim().split('\n').pop()!).error;
const catalogState = (t: TmpLedger) => JSON.stringify([t.ok(['catalog', 'list', '--all'], { now: NOW }), t.ok(['audit', 'list'], { now: NOW })]);

describe('a points price of 0 is refused where items are made or changed', () => {
  it('catalog add --pay points --points-price 0 (or negative) exits 2 naming the field, writing nothing', () => {
    const t = setup();
    const before = catalogState(t);
    for (const price of ['0', '-10']) {
      const r = t.run(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '50.00', '--pay', 'points', '--points-price', price, '--json'], { now: NOW });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(jsonError(r.stderr).message).toMatch(/points-price/);
    }
    const mixed = t.run(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '50.00', '--points-price', '0'], { now: NOW });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/must be above zero/);
    expect(catalogState(t)).toBe(before);
  });

  it('catalog update --points-price 0 exits 2 and keeps the item as it was', () => {
    const t = setup();
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '50.00', '--pay', 'points', '--points-price', '3000'], { now: NOW });
    const before = catalogState(t);
    const r = t.run(['catalog', 'update', 'GIFT', '--points-price', '0', '--json'], { now: NOW });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(catalogState(t)).toBe(before);
  });

  it('catalog import rejects a row with points_price 0, naming its line and the column, and exits 4', () => {
    const t = setup();
    const f = join(t.dir, 'c.csv');
    writeFileSync(f, 'sku,name,price,pay,points_price,stock\nGIFT,Gift,50.00,points,0,10\nOK,Fine,50.00,points,5000,10\n');
    const rejects = join(t.dir, 'rejects.csv');
    const r = t.run(['catalog', 'import', f, '--rejects', rejects, '--json'], { now: NOW });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ created: 1, rejected: 1 });
    const lines = readFileSync(rejects, 'utf8').trim().split('\n');
    expect(lines[1]).toMatch(/^2,/);
    expect(lines[1]).toMatch(/points_price: points price ""0"" must be above zero/); // CSV-quoted
    expect(t.ok(['catalog', 'list', '--all'], { now: NOW }).map((i: { sku: string }) => i.sku)).toEqual(['OK']);
  });
});

describe('a points-only item priced 0.00 without a points price is refused too (0 points at the redeem rate; trial 24, finding 3)', () => {
  it('catalog add, update and import refuse it naming the field; with a points price it is fine; an item stored so is refused at checkout', () => {
    const t = setup();
    const before = catalogState(t);
    for (const extra of [[], ['--kind', 'coupon', '--coupon-value', '10.00']]) {
      const r = t.run(['catalog', 'add', '--sku', 'FREE', '--name', 'Free', '--price', '0', '--pay', 'points', ...extra, '--json'], { now: NOW });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(jsonError(r.stderr).message).toMatch(/price: a points-only item priced 0\.00 costs 0 points at the redeem rate and would be given away/);
    }
    expect(catalogState(t)).toBe(before);
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '0', '--pay', 'points', '--points-price', '500', '--stock', '5'], { now: NOW });
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '0', '--stock', '5'], { now: NOW }); // a free mixed item asks no points
    const kept = catalogState(t);
    for (const [args, field] of [[['TEA', '--pay', 'points'], 'pay'], [['GIFT', '--points-price', ''], 'points-price']] as const) {
      const r = t.run(['catalog', 'update', ...args, '--json'], { now: NOW });
      expect(r.code, r.stderr).toBe(2);
      expect(jsonError(r.stderr).message).toMatch(new RegExp(`${field}: a points-only item priced 0\\.00 .*would be given away`));
    }
    expect(catalogState(t)).toBe(kept);
    const f = join(t.dir, 'c.csv');
    writeFileSync(f, 'sku,name,price,pay,points_price,stock\nZERO,Zero,0.00,points,,10\nOK,Fine,0.00,points,100,10\n');
    const rejects = join(t.dir, 'zero-rejects.csv');
    const r = t.run(['catalog', 'import', f, '--rejects', rejects, '--json'], { now: NOW });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ created: 1, rejected: 1 });
    // a file's reject names the file's columns, not the flags of catalog add (trial 24)
    const reason = readFileSync(rejects, 'utf8').trim().split('\n')[1];
    expect(reason).toContain('give it a price above 0.00 or a points_price');
    expect(reason).not.toContain('--');
    // stored by an older build: never sold, and the ledger stays verifiable
    const db = openLedgerDb(t.db);
    db.prepare("UPDATE catalog_items SET points_price = NULL WHERE sku = 'GIFT'").run();
    // (with the audit record that build wrote: verify's catalog-match-audit holds the item to it)
    db.prepare(
      `INSERT INTO audit (at, operator, action, subject, detail)
       SELECT at, operator, 'catalog.update', subject, json_object('before', json(detail), 'after', json_set(detail, '$.pointsPrice', NULL))
         FROM audit WHERE action = 'catalog.add' AND subject = 'GIFT'`,
    ).run();
    db.close();
    const c = t.run(['checkout', '--member', 'M1', '--item', 'GIFT', '--yes', '--json'], { now: NOW });
    expect(c.code, c.stderr).toBe(3);
    expect(jsonError(c.stderr)).toMatchObject({ code: 'POINTS_PRICE_INVALID' });
    expect(t.ok(['order', 'list'], { now: NOW })).toEqual([]);
    expect(t.verify().ok).toBe(true);
  });
});

describe('an item stored with a points price of 0 (an older ledger) is never given away', () => {
  function withStoredZero(): TmpLedger {
    const t = setup();
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift', '--price', '50.00', '--pay', 'points', '--points-price', '3000', '--stock', '10'], { now: NOW });
    const db = openLedgerDb(t.db);
    db.prepare("UPDATE catalog_items SET points_price = 0 WHERE sku = 'GIFT'").run();
    db.close();
    return t;
  }

  it('checkout, checkout quote and checkout start refuse it with exit 3 and a clear message; nothing moves', () => {
    const t = withStoredZero();
    const member = t.ok(['member', 'show', 'M1'], { now: NOW });
    for (const cmd of [['checkout', '--yes'], ['checkout', 'quote'], ['checkout', 'start']]) {
      const r = t.run([...cmd, '--member', 'M1', '--item', 'GIFT', '--json'], { now: NOW });
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stdout).toBe('');
      const e = jsonError(r.stderr);
      expect(e.code).toBe('POINTS_PRICE_INVALID');
      expect(e.message).toContain('GIFT (Gift) can only be paid in points, but its points price is 0');
    }
    const plain = t.run(['checkout', '--member', 'M1', '--item', 'GIFT', '--yes'], { now: NOW });
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/catalog update GIFT --points-price N/);
    expect(t.ok(['order', 'list'], { now: NOW })).toEqual([]);
    expect(t.ok(['member', 'show', 'M1'], { now: NOW })).toMatchObject({ balance: member.balance, held: 0 });
    expect(t.ok(['catalog', 'show', 'GIFT'], { now: NOW })).toMatchObject({ stock: 10 });
  });

  it('a change to it must give a real points price; with one, it sells for its points', () => {
    const t = withStoredZero();
    const r = t.run(['catalog', 'update', 'GIFT', '--stock', '5'], { now: NOW });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stored points price 0 must be above zero/);
    t.ok(['catalog', 'update', 'GIFT', '--points-price', '4000'], { now: NOW });
    const c = t.ok(['checkout', '--member', 'M1', '--item', 'GIFT', '--yes'], { now: NOW });
    expect(c).toMatchObject({ status: 'paid', pointsUsed: 4000, pointsValue: '50.00', cashPaid: '0.00' });
  });
});

describe('a points-only item priced at the redeem rate costs the same points a unit, however many are bought', () => {
  it('10.01 at 3 points a yuan: 33 points a unit, 99 for three in one order as one at a time, 33 back for one refunded', () => {
    const t = sceneLedger('per-unit', (s) => {
      writeFileSync(join(s.dir, 'r.json'), JSON.stringify({ redeem: { pointsPerUnit: '3' } }));
      s.ok(['rules', 'apply', join(s.dir, 'r.json'), '--yes'], { now: NOW });
      s.ok(['member', 'add', '--id', 'M1', '--name', 'A'], { now: NOW });
      s.ok(['member', 'adjust', 'M1', '--points', '1000', '--reason', 'seed'], { now: NOW });
      s.ok(['catalog', 'add', '--sku', 'PP', '--name', 'gift', '--price', '10.01', '--pay', 'points'], { now: NOW });
    }, { now: NOW });
    const one = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'PP:1'], { now: NOW });
    const three = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'PP:3'], { now: NOW });
    expect([one.pointsUsed, three.pointsUsed]).toEqual([33, 99]);
    expect([one.pointsValue, three.pointsValue]).toEqual(['10.01', '30.03']);
    // no cash to pay: the quote names no tender, as the checkout it quotes does (it said "cash")
    expect(three).toMatchObject({ cashPaid: '0.00', tender: null, paidWith: 'points' });
    const paid = t.ok(['checkout', '--member', 'M1', '--item', 'PP:3', '--tender', 'card', '--yes'], { now: NOW });
    expect(paid.pointsUsed).toBe(99);
    expect(paid).toMatchObject({ cashPaid: '0.00', tender: null, paidWith: 'points' });
    const back = t.ok(['order', 'refund', paid.orderId, '--line', 'PP:1', '--yes'], { now: NOW });
    expect(back.pointsReturned).toBe(33);
    expect(t.verify().ok).toBe(true);
  });
});
