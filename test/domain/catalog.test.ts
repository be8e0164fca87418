import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type CatalogItem, DEFAULT_COUPON_DAYS, parseItem, sameItem } from '../../src/domain/catalog.js';
import { formatMoney, pointsStep, pointsValue } from '../../src/domain/money.js';
import { pointsForLine } from '../../src/domain/split.js';

const ok = (input: Parameters<typeof parseItem>[0], base?: CatalogItem, digits = 2): CatalogItem => {
  const r = parseItem(input, digits, base);
  if (!r.item) throw new Error(JSON.stringify(r.problems));
  return r.item;
};
const fields = (input: Parameters<typeof parseItem>[0], base?: CatalogItem, digits = 2): string[] =>
  parseItem(input, digits, base).problems.map((p) => p.field);

const tea = { sku: 'TEA-001', name: '西湖龙井 250g', price: '168.00' };

describe('parseItem: single fields', () => {
  it('reads a minimal item with the defaults', () => {
    expect(ok(tea)).toEqual({
      sku: 'TEA-001',
      name: '西湖龙井 250g',
      category: null,
      price: 16800,
      pointsPrice: null,
      pay: 'mixed',
      maxPointsRatio: null,
      stock: null,
      kind: 'goods',
      couponValue: null,
      couponPercent: null,
      couponDays: null,
      active: true,
      pointsDiscount: null,
    });
  });

  it.each(['1,2x', '-5', '1e5', 'NaN', '1.234', '', ' ', '¥100', 'Infinity', '-0'])('refuses the price %j naming price', (price) => {
    expect(fields({ ...tea, price })).toEqual(['price']);
  });

  it('reads prices exactly in minor units, with the ledger digits', () => {
    expect(ok({ ...tea, price: '29.9' }).price).toBe(2990);
    expect(ok({ ...tea, price: '0' }).price).toBe(0);
    expect(ok({ ...tea, price: '1500' }, undefined, 0).price).toBe(1500);
    expect(fields({ ...tea, price: '15.5' }, undefined, 0)).toEqual(['price']);
  });

  it.each(['', 'has space', '-LEAD', 'a'.repeat(65), 'TEA\u0007'])('refuses the sku %j', (sku) => {
    expect(fields({ ...tea, sku })).toEqual(['sku']);
  });

  it('names the character a refused sku may not hold: an accent, composed or written apart, a full-width letter, a space', () => {
    const problem = (sku: string) => parseItem({ ...tea, sku }, 2).problems.find((p) => p.field === 'sku')?.message;
    expect(problem('CAF\u00c9-1')).toMatch(/ASCII letters \(A-Z, a-z\).*: "É" \(U\+00C9\) is not one$/);
    expect(problem('CAFE\u0301-1')).toMatch(/: U\+0301, a combining mark \(an accent written apart from its letter\), is not one$/);
    expect(problem('\uff34EA')).toMatch(/: "Ｔ" \(U\+FF34\) is not one$/);
    expect(problem('TEA 1')).toMatch(/: " " is not one$/);
    expect(problem('-LEAD')).toMatch(/: "-" is not one to start with$/);
    expect(problem('a'.repeat(65))).toMatch(/: it is longer than 64 characters$/);
  });

  it('refuses an empty or over-long name', () => {
    expect(fields({ ...tea, name: '  ' })).toEqual(['name']);
    expect(fields({ ...tea, name: 'x'.repeat(201) })).toEqual(['name']);
  });

  it('reads points price, pay, ratio and stock', () => {
    const i = ok({ ...tea, pointsPrice: '15000', pay: 'MIXED', maxPointsRatio: '0.50', stock: '12', category: 'tea' });
    expect(i).toMatchObject({ pointsPrice: 15000, pay: 'mixed', maxPointsRatio: '0.5', stock: 12, category: 'tea' });
    expect(ok({ ...tea, stock: 'unlimited' }).stock).toBeNull();
    expect(ok({ ...tea, stock: '0' }).stock).toBe(0);
  });

  it.each([
    [{ pointsPrice: '1.5' }, 'points-price'],
    [{ pointsPrice: '-10' }, 'points-price'],
    [{ pay: 'card' }, 'pay'],
    [{ maxPointsRatio: '1.01' }, 'max-points-ratio'],
    [{ maxPointsRatio: '-0.1' }, 'max-points-ratio'],
    [{ maxPointsRatio: '5e-1' }, 'max-points-ratio'],
    [{ stock: '-1' }, 'stock'],
    [{ stock: '2.5' }, 'stock'],
    [{ kind: 'service' }, 'kind'],
    [{ active: 'maybe' }, 'active'],
  ])('refuses %j naming %s', (extra, field) => {
    expect(fields({ ...tea, ...extra })).toEqual([field]);
  });

  it('reports every bad field at once', () => {
    expect(fields({ sku: '', name: '', price: 'x', pay: 'card' })).toEqual(['sku', 'name', 'price', 'pay']);
  });
});

describe('parseItem: cross-field rules', () => {
  const coupon = { sku: 'CPN-10', name: '满100减10元券', price: '10.00', kind: 'coupon' };

  it('a coupon needs a value or a percent, and gets 30 days by default', () => {
    expect(fields(coupon)).toEqual(['coupon-value']);
    expect(ok({ ...coupon, couponValue: '10.00' })).toMatchObject({ couponValue: 1000, couponPercent: null, couponDays: DEFAULT_COUPON_DAYS });
    expect(ok({ ...coupon, couponPercent: '10', couponDays: '14' })).toMatchObject({ couponValue: null, couponPercent: '10', couponDays: 14 });
  });

  it('a coupon has a value or a percent, not both', () => {
    expect(fields({ ...coupon, couponValue: '10.00', couponPercent: '10' })).toEqual(['coupon-percent']);
  });

  it.each(['0', '0.5', '101', 'x', '100.5'])('refuses coupon percent %j outside 1..100', (couponPercent) => {
    expect(fields({ ...coupon, couponPercent })).toEqual(['coupon-percent']);
  });

  it('refuses a zero coupon value and zero coupon days', () => {
    expect(fields({ ...coupon, couponValue: '0' })).toEqual(['coupon-value']);
    expect(fields({ ...coupon, couponValue: '5', couponDays: '0' })).toEqual(['coupon-days']);
  });

  it('coupon fields only on coupon items', () => {
    expect(fields({ ...tea, couponValue: '10' })).toEqual(['coupon-value']);
    expect(fields({ ...tea, couponPercent: '10' })).toEqual(['coupon-percent']);
    expect(fields({ ...tea, couponDays: '30' })).toEqual(['coupon-days']);
  });

  it('a cash item takes no points price and no ratio', () => {
    expect(fields({ ...tea, pay: 'cash', pointsPrice: '100' })).toEqual(['points-price']);
    expect(fields({ ...tea, pay: 'cash', maxPointsRatio: '0.5' })).toEqual(['max-points-ratio']);
    expect(fields({ ...tea, pay: 'points', maxPointsRatio: '0.5' })).toEqual(['max-points-ratio']);
  });

  it('refuses a points price of 0 or below (0 points are worth nothing, §4.2), on any pay mode', () => {
    for (const pay of ['points', 'mixed']) {
      expect(fields({ ...tea, pay, pointsPrice: '0' })).toEqual(['points-price']);
      expect(fields({ ...tea, pay, pointsPrice: '-5' })).toEqual(['points-price']);
      expect(fields({ ...tea, pay, pointsPrice: '+0' })).toEqual(['points-price']);
    }
    expect(parseItem({ ...tea, pay: 'points', pointsPrice: '0' }, 2).problems[0].message).toMatch(/points price "0" must be above zero/);
    expect(ok({ ...tea, pay: 'points', pointsPrice: '1' })).toMatchObject({ pointsPrice: 1 });
  });

  it('a change to an item stored with a points price of 0 must set a real one (or go cash)', () => {
    const old: CatalogItem = { ...ok({ ...tea, pay: 'points', pointsPrice: '100' }), pointsPrice: 0 };
    expect(fields({ stock: '5' }, old)).toEqual(['points-price']);
    expect(ok({ stock: '5', pointsPrice: '500' }, old)).toMatchObject({ pointsPrice: 500, stock: 5 });
    expect(ok({ pointsPrice: '' }, old)).toMatchObject({ pointsPrice: null });
    expect(ok({ pay: 'cash' }, old)).toMatchObject({ pay: 'cash', pointsPrice: null });
  });

  it('a points item without a points price is valid (converted at the redeem rate)', () => {
    expect(ok({ ...tea, pay: 'points' })).toMatchObject({ pay: 'points', pointsPrice: null });
  });
});

describe('parseItem: changes to an existing item', () => {
  const base = ok({ ...tea, pointsPrice: '15000', maxPointsRatio: '0.5', stock: '10', category: 'tea' });

  it('keeps what is not given and clears optional fields given empty', () => {
    const i = ok({ name: '龙井 新茶', category: '', stock: '' }, base);
    expect(i).toMatchObject({ sku: 'TEA-001', name: '龙井 新茶', price: 16800, pointsPrice: 15000, category: null, stock: null, maxPointsRatio: '0.5' });
  });

  it('drops inherited fields a change made meaningless, refuses given ones', () => {
    expect(ok({ pay: 'cash' }, base)).toMatchObject({ pay: 'cash', pointsPrice: null, maxPointsRatio: null });
    expect(fields({ pay: 'cash', pointsPrice: '100' }, base)).toEqual(['points-price']);
  });

  it('switches a coupon from a value to a percent', () => {
    const c = ok({ sku: 'C', name: 'c', price: '1', kind: 'coupon', couponValue: '5' });
    expect(ok({ couponPercent: '15' }, c)).toMatchObject({ couponValue: null, couponPercent: '15', couponDays: 30 });
    expect(ok({ kind: 'goods' }, c)).toMatchObject({ kind: 'goods', couponValue: null, couponDays: null });
  });

  it('refuses an empty price or name on update', () => {
    expect(fields({ price: '' }, base)).toEqual(['price']);
    expect(fields({ name: '' }, base)).toEqual(['name']);
  });

  it('sameItem sees no change when nothing changed', () => {
    expect(sameItem(base, ok({ price: '168' }, base))).toBe(true);
    expect(sameItem(base, ok({ price: '168.01' }, base))).toBe(false);
  });
});

describe('money round-trip and all-points price', () => {
  it('any price formatted and read back is the same number of minor units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.constantFrom(0, 2, 3), (minor, digits) => {
        expect(ok({ ...tea, price: formatMoney(minor, digits) }, undefined, digits).price).toBe(minor);
      }),
    );
  });

  it("a points-only unit's converted price is worth at least its price, one step less is not, and a line is its units'", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 9 }), fc.integer({ min: 1, max: 50 }), fc.constantFrom('100', '1000', '33', '7.5', '1', '3', '0.3'), (price, quantity, ppu) => {
        const step = pointsStep(ppu, 2);
        const stepValue = pointsValue(step, ppu, 2);
        const line = (q: number) => pointsForLine({ sku: 'P', name: 'P', category: null, kind: 'goods', pay: 'points', quantity: q, unitPrice: price, pointsPrice: null, maxPointsRatio: null }, step, stepValue);
        const unit = line(1);
        expect(unit % step).toBe(0);
        expect(pointsValue(unit, ppu, 2)).toBeGreaterThanOrEqual(price);
        expect(pointsValue(unit - step, ppu, 2)).toBeLessThan(price);
        expect(line(quantity)).toBe(unit * quantity);
      }),
    );
  });

  it('uses the points price when there is one', () => {
    const p = (pointsPrice: number | null, quantity: number) => pointsForLine({ sku: 'P', name: 'P', category: null, kind: 'goods', pay: 'points', quantity, unitPrice: 16800, pointsPrice, maxPointsRatio: null }, 1, 1);
    expect([p(15000, 1), p(15000, 3), p(null, 2)]).toEqual([15000, 45000, 33600]);
  });
});
