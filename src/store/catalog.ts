// Catalog items: master data (price, pay mode, coupon terms) and the stock counters checkout holds and takes.
import type { Store } from './db.js';

export interface CatalogRow {
  sku: string;
  name: string;
  category: string | null;
  price: number;
  points_price: number | null;
  pay: 'mixed' | 'cash' | 'points';
  max_points_ratio: string | null;
  stock: number | null;
  stock_held: number;
  kind: 'goods' | 'coupon';
  coupon_value: number | null;
  coupon_percent: string | null;
  coupon_days: number | null;
  active: number;
  points_discount: string | null;
  created_at: string;
  updated_at: string;
}

/** Every master-data column of an item (not the stock_held counter, not the timestamps). */
export interface CatalogFields {
  name: string;
  category: string | null;
  price: number;
  points_price: number | null;
  pay: 'mixed' | 'cash' | 'points';
  max_points_ratio: string | null;
  stock: number | null;
  kind: 'goods' | 'coupon';
  coupon_value: number | null;
  coupon_percent: string | null;
  coupon_days: number | null;
  active: number;
  /** Issue 18: the points discount percent (mixed items); absent = none (callers from before it keep working). */
  points_discount?: string | null;
}

export interface NewCatalogItem extends CatalogFields {
  sku: string;
}

export interface CatalogFilter {
  category?: string;
  /** Include inactive items. */
  all?: boolean;
}

export const CATALOG_FIELDS = [
  'name',
  'category',
  'price',
  'points_price',
  'pay',
  'max_points_ratio',
  'stock',
  'kind',
  'coupon_value',
  'coupon_percent',
  'coupon_days',
  'active',
  'points_discount',
] as const;

export class Catalog {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    this.db = store.db;
    const cols = CATALOG_FIELDS.join(', ');
    const vals = CATALOG_FIELDS.map((c) => '@' + c).join(', ');
    const sets = CATALOG_FIELDS.map((c) => `${c} = excluded.${c}`).join(', ');
    this.s = {
      get: this.db.prepare('SELECT * FROM catalog_items WHERE sku = ?'),
      sameButCase: this.db.prepare('SELECT sku FROM catalog_items WHERE lower(sku) = lower(?) ORDER BY sku LIMIT 1').pluck(),
      insert: this.db.prepare(
        `INSERT INTO catalog_items (sku, ${cols}, created_at, updated_at) VALUES (@sku, ${vals}, @at, @at)`,
      ),
      upsert: this.db.prepare(
        `INSERT INTO catalog_items (sku, ${cols}, created_at, updated_at) VALUES (@sku, ${vals}, @at, @at)
         ON CONFLICT(sku) DO UPDATE SET ${sets}, updated_at = excluded.updated_at`,
      ),
      update: this.db.prepare(
        `UPDATE catalog_items SET ${CATALOG_FIELDS.map((c) => `${c} = @${c}`).join(', ')}, updated_at = @at WHERE sku = @sku`,
      ),
      active: this.db.prepare('UPDATE catalog_items SET active = ?, updated_at = ? WHERE sku = ?'),
      reserve: this.db.prepare(
        `UPDATE catalog_items SET stock_held = stock_held + @qty
          WHERE sku = @sku AND (stock IS NULL OR stock - stock_held >= @qty)`,
      ),
      release: this.db.prepare(
        'UPDATE catalog_items SET stock_held = max(stock_held - @qty, 0) WHERE sku = @sku',
      ),
      take: this.db.prepare(
        `UPDATE catalog_items SET stock = CASE WHEN stock IS NULL THEN NULL ELSE stock - @qty END,
                stock_held = stock_held - @qty
          WHERE sku = @sku AND stock_held >= @qty AND (stock IS NULL OR stock >= @qty)`,
      ),
      count: this.db.prepare('SELECT count(*) FROM catalog_items').pluck(),
    };
  }
  get(sku: string): CatalogRow | undefined {
    return this.s.get.get(sku) as CatalogRow | undefined;
  }

  /** The SKU of an item whose SKU differs from `sku` only in case, if any (for a "did you mean" hint). */
  sameButCase(sku: string): string | undefined {
    return this.s.sameButCase.get(sku) as string | undefined;
  }

  exists(sku: string): boolean {
    return this.get(sku) !== undefined;
  }
  /** Items ordered by sku; active ones only unless filter.all. */
  list(f: CatalogFilter = {}): CatalogRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (!f.all) where.push('active = 1');
    if (f.category !== undefined) (where.push('category = ?'), args.push(f.category));
    const sql = `SELECT * FROM catalog_items ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY sku`;
    return this.db.prepare(sql).all(...args) as CatalogRow[];
  }
  insert(item: NewCatalogItem, at: string): void {
    this.s.insert.run({ points_discount: null, ...item, at });
  }
  /** Replaces every master-data field of an existing item (stock_held is kept). */
  update(item: NewCatalogItem, at: string): void {
    this.s.update.run({ points_discount: null, ...item, at });
  }
  /** Inserts or replaces items by sku, one statement reused for the whole batch. */
  upsertMany(items: NewCatalogItem[], at: string): void {
    for (const item of items) this.s.upsert.run({ points_discount: null, ...item, at });
  }
  setActive(sku: string, active: boolean, at: string): void {
    this.s.active.run(active ? 1 : 0, at, sku);
  }
  deactivate(sku: string, at: string): void {
    this.setActive(sku, false, at);
  }
  /** Holds qty units for a checkout; false (nothing changed) when the available stock is short or the sku is unknown. */
  reserveStock(sku: string, qty: number): boolean {
    return this.s.reserve.run({ sku, qty }).changes === 1;
  }
  /** Gives held units back (a declined or cancelled checkout). */
  releaseStock(sku: string, qty: number): void {
    this.s.release.run({ sku, qty });
  }
  /** Turns held units into sold ones: stock −= qty, stock_held −= qty (stock stays NULL when unlimited). */
  takeStock(sku: string, qty: number): boolean {
    return this.s.take.run({ sku, qty }).changes === 1;
  }
  count(): number {
    return this.s.count.get() as number;
  }
}

export const catalog = (store: Store): Catalog => new Catalog(store);
