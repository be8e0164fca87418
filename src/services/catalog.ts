// Catalog use-cases: add, update, show, list, activate/deactivate and CSV import of items.
import { UsageError } from '../errors.js';
import { type CatalogItem, type ItemProblem, type ItemText, FIELD_FLAGS, parseItem, sameItem } from '../domain/catalog.js';
import { formatMoney } from '../domain/money.js';
import { trimAscii } from '../domain/text.js';
import { catalog, type CatalogRow, type NewCatalogItem } from '../store/catalog.js';
import { holds } from '../store/holds.js';
import { type Ctx, type Ledger, itemNotFound, withLedger } from './ledger.js';
import { recordAudit } from './points.js';
import { type CsvFormat, everyRowRejected, readCsvFile, type Reject, rejectsTarget, staleRejectsFile, writeImport, writeRejects } from './csvfile.js';
import { FIRST_REJECTS, type RejectSample } from '../domain/rejects.js';

export interface ItemView {
  sku: string;
  name: string;
  category: string | null;
  price: string;
  pointsPrice: number | null;
  pay: 'mixed' | 'cash' | 'points';
  maxPointsRatio: string | null;
  /** null = unlimited. */
  stock: number | null;
  stockHeld: number;
  stockAvailable: number | null;
  kind: 'goods' | 'coupon';
  couponValue: string | null;
  couponPercent: string | null;
  couponDays: number | null;
  active: boolean;
  /** Issue 18: percent by which points paying this item pay more than their value; null = none. */
  pointsDiscount: string | null;
  createdAt: string;
  updatedAt: string;
}

export function rowToItem(r: CatalogRow): CatalogItem {
  return {
    sku: r.sku,
    name: r.name,
    category: r.category,
    price: r.price,
    pointsPrice: r.points_price,
    pay: r.pay,
    maxPointsRatio: r.max_points_ratio,
    stock: r.stock,
    kind: r.kind,
    couponValue: r.coupon_value,
    couponPercent: r.coupon_percent,
    couponDays: r.coupon_days,
    active: r.active === 1,
    pointsDiscount: r.points_discount,
  };
}

function itemToRow(i: CatalogItem): NewCatalogItem {
  return {
    sku: i.sku,
    name: i.name,
    category: i.category,
    price: i.price,
    points_price: i.pointsPrice,
    pay: i.pay,
    max_points_ratio: i.maxPointsRatio,
    stock: i.stock,
    kind: i.kind,
    coupon_value: i.couponValue,
    coupon_percent: i.couponPercent,
    coupon_days: i.couponDays,
    active: i.active ? 1 : 0,
    points_discount: i.pointsDiscount,
  };
}

export function itemView(l: Pick<Ledger, 'digits'>, r: CatalogRow): ItemView {
  return {
    sku: r.sku,
    name: r.name,
    category: r.category,
    price: formatMoney(r.price, l.digits),
    pointsPrice: r.points_price,
    pay: r.pay,
    maxPointsRatio: r.max_points_ratio,
    stock: r.stock,
    stockHeld: r.stock_held,
    stockAvailable: r.stock === null ? null : r.stock - r.stock_held,
    kind: r.kind,
    couponValue: r.coupon_value === null ? null : formatMoney(r.coupon_value, l.digits),
    couponPercent: r.coupon_percent,
    couponDays: r.coupon_days,
    active: r.active === 1,
    pointsDiscount: r.points_discount,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Audit detail of an item: money as decimal strings, like the JSON. */
/** An item as audit records hold it (verify's catalog-match-audit compares the table with them). */
export function auditItem(l: Ledger, i: CatalogItem): Record<string, unknown> {
  return {
    ...i,
    price: formatMoney(i.price, l.digits),
    couponValue: i.couponValue === null ? null : formatMoney(i.couponValue, l.digits),
  };
}

/** A field of catalog add (its flag without dashes, points-price) as the file's column (points_price): a file's rejects name its columns. */
const asColumn = (field: string): string => field.replace(/-/g, '_');

function fieldError(problems: ItemProblem[]): never {
  const p = problems[0];
  throw new UsageError(
    `--${p.field}: ${p.message}`,
    problems.length > 1 ? `also: ${problems.slice(1).map((x) => `--${x.field}: ${x.message}`).join('; ')}` : undefined,
    'INVALID_ITEM',
  );
}

function requireItem(l: Ledger, sku: string): CatalogRow {
  const r = l.store.get(catalog).get(sku);
  if (!r) throw itemNotFound(l, sku, 'list the catalog with: pointsmall catalog list --all');
  return r;
}

/** Stock can be lowered, but never below the units open checkouts hold. */
function stockProblem(item: CatalogItem, held: number): ItemProblem | null {
  if (item.stock !== null && item.stock < held) {
    return { field: 'stock', message: `stock ${item.stock} is below the ${held} unit(s) held by open checkouts` };
  }
  return null;
}

export async function addItem(ctx: Ctx, input: ItemText): Promise<ItemView> {
  return withLedger(ctx, (l) => {
    const { item, problems } = parseItem(input, l.digits);
    if (!item) fieldError(problems);
    return l.store.write(() => {
      const repo = l.store.get(catalog);
      if (repo.exists(item.sku)) {
        throw new UsageError(`item ${JSON.stringify(item.sku)} already exists`, `change it with: pointsmall catalog update ${item.sku} …`, 'ITEM_EXISTS');
      }
      repo.insert(itemToRow(item), l.nowIso);
      recordAudit(l, 'catalog.add', item.sku, auditItem(l, item));
      return itemView(l, repo.get(item.sku)!);
    });
  });
}

export async function updateItem(ctx: Ctx, sku: string, input: ItemText): Promise<ItemView> {
  const changes = Object.fromEntries(Object.entries(input).filter(([k, v]) => v !== undefined && k !== 'sku')) as ItemText;
  if (!Object.keys(changes).length) {
    throw new UsageError('nothing to change', `pass one or more of ${Object.values(FIELD_FLAGS).filter((f) => f !== 'sku' && f !== 'active').map((f) => `--${f}`).join(', ')}`);
  }
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const repo = l.store.get(catalog);
      const row = requireItem(l, sku);
      const before = rowToItem(row);
      const { item, problems } = parseItem(changes, l.digits, before);
      if (!item) fieldError(problems);
      const sp = stockProblem(item, row.stock_held);
      if (sp) fieldError([sp]);
      if (!sameItem(before, item)) {
        repo.update(itemToRow(item), l.nowIso);
        recordAudit(l, 'catalog.update', sku, { before: auditItem(l, before), after: auditItem(l, item) });
      }
      return itemView(l, requireItem(l, sku));
    }),
  );
}

/**
 * A row as reads show it (one look-up for any number of rows): units of open holds that ran out count as
 * released already (the next write releases them, dated when they ran out), as member show counts their
 * points free.
 */
export function stockAsRead(l: Ledger): (r: CatalogRow) => CatalogRow {
  const ran = l.store.get(holds).ranOutStock(l.nowIso);
  return (r) => (ran.has(r.sku) ? { ...r, stock_held: Math.max(0, r.stock_held - ran.get(r.sku)!) } : r);
}

export async function showItem(ctx: Ctx, sku: string): Promise<ItemView> {
  return withLedger(ctx, (l) => l.store.read(() => itemView(l, stockAsRead(l)(requireItem(l, sku)))));
}

export interface ListInput {
  category?: string;
  all?: boolean;
}

export async function listItems(ctx: Ctx, f: ListInput): Promise<ItemView[]> {
  return withLedger(ctx, (l) => l.store.read(() => l.store.get(catalog).list(f).map(stockAsRead(l)).map((r) => itemView(l, r))));
}

/** Deactivating hides an item from checkout and the default list; it is idempotent, like activating. */
export async function setItemActive(ctx: Ctx, sku: string, active: boolean): Promise<ItemView> {
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const row = requireItem(l, sku);
      if ((row.active === 1) !== active) {
        l.store.get(catalog).setActive(sku, active, l.nowIso);
        recordAudit(l, active ? 'catalog.activate' : 'catalog.deactivate', sku);
      }
      return itemView(l, requireItem(l, sku));
    }),
  );
}

export interface CatalogImportResult {
  file: string;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rejectsFile: string | null;
  /** A rejects file an earlier run left at this run's rejects path, when this run rejected no row (left alone; null when none). */
  staleRejectsFile: string | null;
  /** The first few rejected rows (line and reason), in line order; the rejects file has them all. */
  firstRejects: RejectSample[];
  /**
   * SKUs of the file's accepted rows with a points price that checkout does not use: items paid mixed (or
   * cash) take points at the redeem rate (SPEC §4.6); a points price is the price of a points-only item.
   */
  pointsPriceUnused: string[];
}

export const CATALOG_COLUMNS = [
  'sku',
  'name',
  'price',
  'category',
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
];

const COLUMN_OF: Record<string, keyof ItemText> = Object.fromEntries(
  Object.entries(FIELD_FLAGS).map(([k, flag]) => [flag.replace(/-/g, '_'), k as keyof ItemText]),
);

/**
 * Upserts items by sku from a CSV in one transaction. A column missing from the header keeps an
 * existing item's value (a new item gets the default); an empty cell clears an optional field.
 */
export async function importCatalog(ctx: Ctx, file: string, rejectsPath?: string, format: CsvFormat = {}): Promise<CatalogImportResult> {
  const csv = await readCsvFile(file, ['sku', 'name', 'price'], CATALOG_COLUMNS, format, ['sku']);
  // checked before anything is written, so a bad --rejects path cannot leave an import half reported
  const records = csv.records;
  const rejectsOut = rejectsTarget(ctx, file, rejectsPath);
  const rejects: Reject[] = [];
  const whole = () => records.length > 0 && rejects.length === records.length;
  const result = await withLedger(ctx, (l) =>
    writeImport(l.store, () => {
      const repo = l.store.get(catalog);
      const seen = new Set<string>();
      const toWrite: NewCatalogItem[] = [];
      let created = 0, updated = 0, unchanged = 0;
      const pointsPriceUnused: string[] = [];
      // What a coupon item gave before this import changed it: ledger verify recomputes issued coupons' terms from it.
      const couponTermsBefore: Record<string, { couponValue: string | null; couponPercent: string | null; couponDays: number | null }> = {};
      for (const r of records) {
        const input: ItemText = {};
        for (const [col, v] of Object.entries(r.values)) {
          const k = COLUMN_OF[col];
          if (k) input[k] = v;
        }
        const sku = trimAscii(input.sku ?? '');
        const row = sku ? repo.get(sku) : undefined;
        const before = row ? rowToItem(row) : undefined;
        const { item, problems } = parseItem(input, l.digits, before);
        if (item && row) {
          const sp = stockProblem(item, row.stock_held);
          if (sp) problems.push(sp);
        }
        if (item && !problems.length && seen.has(item.sku)) problems.push({ field: 'sku', message: `sku ${item.sku} appears twice in the file` });
        if (!item || problems.length) {
          rejects.push({ line: r.line, reason: problems.map((p) => `${asColumn(p.field)}: ${p.message.replace(/--([a-z][a-z-]*)/g, (_m, flag: string) => asColumn(flag))}`).join('; '), fields: r.fields });
          continue;
        }
        seen.add(item.sku);
        if (item.pointsPrice !== null && item.pay !== 'points') pointsPriceUnused.push(item.sku);
        if (!before) created++;
        else if (sameItem(before, item)) {
          unchanged++;
          continue;
        } else {
          updated++;
          if (before.kind === 'coupon') {
            const a = auditItem(l, before);
            couponTermsBefore[before.sku] = { couponValue: a.couponValue as string | null, couponPercent: before.couponPercent, couponDays: before.couponDays };
          }
        }
        toWrite.push(itemToRow(item));
      }
      repo.upsertMany(toWrite, l.nowIso);
      // a file whose every row is rejected wrote nothing: no run to audit (exit 2 below)
      if (whole()) return { created, updated, unchanged, pointsPriceUnused };
      recordAudit(l, 'catalog.import', file, {
        rows: records.length,
        created,
        updated,
        unchanged,
        rejected: rejects.length,
        skus: toWrite.map((i) => i.sku),
        ...(Object.keys(couponTermsBefore).length ? { couponTermsBefore } : {}),
        // each item as written, as catalog add records it (ledger verify's catalog-match-audit)
        items: Object.fromEntries(toWrite.map((i) => [i.sku, auditItem(l, rowToItem(repo.get(i.sku)!))])),
      });
      return { created, updated, unchanged, pointsPriceUnused };
    }, whole),
  );
  const rejectsFile = rejects.length ? await writeRejects(rejectsOut, csv, rejects) : null;
  if (whole()) throw everyRowRejected(file, rejects, rejectsFile);
  const { pointsPriceUnused, ...counts } = result;
  return { file, rows: records.length, ...counts, rejected: rejects.length, rejectsFile, staleRejectsFile: rejects.length ? null : staleRejectsFile(rejectsOut), firstRejects: rejects.slice(0, FIRST_REJECTS).map((x) => ({ line: x.line, reason: x.reason })), pointsPriceUnused };
}

/**
 * For a prompt of catalog add: what is wrong with one field of a new item as typed (null when nothing), in
 * the words the command would use after the last question, so the question is asked again at once.
 */
export async function newItemFieldProblem(ctx: Ctx, field: 'sku' | 'name' | 'price', value: string): Promise<string | null> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { problems } = parseItem({ sku: 'X', name: 'X', price: '1', [field]: value }, l.digits);
      const p = problems.find((x) => x.field === field);
      if (p) return p.message;
      if (field === 'sku' && l.store.get(catalog).exists(value)) return `item ${JSON.stringify(value)} already exists: type another SKU (pointsmall catalog update ${value} changes that one)`;
      return null;
    }),
  );
}
