import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openStore } from '../../src/store/db.js';
import { catalog, type NewCatalogItem } from '../../src/store/catalog.js';
import { tmpCtx } from '../helpers/store.js';
import { addItem, updateItem } from '../../src/services/catalog.js';

const item = (sku: string, stock: number | null): NewCatalogItem => ({
  sku,
  name: sku,
  category: null,
  price: 1000,
  points_price: null,
  pay: 'mixed',
  max_points_ratio: null,
  stock,
  kind: 'goods',
  coupon_value: null,
  coupon_percent: null,
  coupon_days: null,
  active: 1,
});

async function repo() {
  const ctx = await tmpCtx();
  const store = openStore(ctx.dbPath);
  const c = store.get(catalog);
  store.write(() => c.upsertMany([item('LIM', 5), item('INF', null)], '2026-11-23T02:00:00.000Z'));
  return { ctx, store, c };
}

describe('catalog stock', () => {
  it('holds stock only while enough is available', async () => {
    const { c } = await repo();
    expect(c.reserveStock('LIM', 3)).toBe(true);
    expect(c.reserveStock('LIM', 3)).toBe(false);
    expect(c.get('LIM')).toMatchObject({ stock: 5, stock_held: 3 });
    expect(c.reserveStock('LIM', 2)).toBe(true);
    expect(c.reserveStock('LIM', 1)).toBe(false);
    expect(c.reserveStock('NOPE', 1)).toBe(false);
  });

  it('unlimited stock always holds, and taking keeps it unlimited', async () => {
    const { c } = await repo();
    expect(c.reserveStock('INF', 1_000_000)).toBe(true);
    expect(c.takeStock('INF', 400_000)).toBe(true);
    expect(c.get('INF')).toMatchObject({ stock: null, stock_held: 600_000 });
  });

  it('take turns held units into sold ones; release gives them back', async () => {
    const { c } = await repo();
    c.reserveStock('LIM', 4);
    expect(c.takeStock('LIM', 3)).toBe(true);
    expect(c.get('LIM')).toMatchObject({ stock: 2, stock_held: 1 });
    c.releaseStock('LIM', 1);
    expect(c.get('LIM')).toMatchObject({ stock: 2, stock_held: 0 });
    expect(c.takeStock('LIM', 1)).toBe(false);
  });

  it('held never exceeds stock over any sequence of holds, takes and releases', async () => {
    const { c } = await repo();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('reserve', 'take', 'release'), fc.integer({ min: 1, max: 4 })), { maxLength: 40 }), (ops) => {
        c.upsertMany([item('P', 10)], '2026-11-23T02:00:00.000Z');
        c.releaseStock('P', 1_000);
        let stock = 10, held = 0;
        for (const [op, q] of ops) {
          if (op === 'reserve') {
            const ok = c.reserveStock('P', q);
            expect(ok).toBe(stock - held >= q);
            if (ok) held += q;
          } else if (op === 'take') {
            const ok = c.takeStock('P', q);
            expect(ok).toBe(held >= q);
            if (ok) (stock -= q), (held -= q);
          } else {
            c.releaseStock('P', q);
            held = Math.max(0, held - q);
          }
          const r = c.get('P')!;
          expect([r.stock, r.stock_held]).toEqual([stock, held]);
          expect(r.stock_held).toBeLessThanOrEqual(r.stock!);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('stock cannot be lowered below what open checkouts hold', async () => {
    const ctx = await tmpCtx();
    await addItem(ctx, { sku: 'TEA-001', name: '龙井', price: '168.00', stock: '5' });
    const store = openStore(ctx.dbPath);
    store.write(() => store.get(catalog).reserveStock('TEA-001', 4));
    store.close();
    await expect(updateItem(ctx, 'TEA-001', { stock: '3' })).rejects.toThrow(/--stock: .*held/);
    await expect(updateItem(ctx, 'TEA-001', { stock: '4' })).resolves.toMatchObject({ stock: 4, stockHeld: 4, stockAvailable: 0 });
  });
});
