// `catalog add|update|show|list|deactivate|activate|import`.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { cmdOf, context, emit, need, setExit } from '../cli.js';
import { type Column, notice, printFields, printTable, stdoutIsTTY, say } from '../output.js';
import { emitList, fileOptions } from '../lists.js';
import { count, rejectsAgainOptions, showRejects } from '../words.js';
import type { ItemText } from '../../domain/catalog.js';
import type { ItemView } from '../../services/catalog.js';

const services = () => import('../../services/catalog.js');

const ITEM_KEYS: (keyof ItemText)[] = [
  'name',
  'price',
  'category',
  'pointsPrice',
  'pay',
  'maxPointsRatio',
  'stock',
  'kind',
  'couponValue',
  'couponPercent',
  'couponDays',
  'pointsDiscount',
];

/** The item flags shared by add and update; values stay text, the domain validates them against the ledger's currency. */
function itemOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'display name')
    .option('--price <amount>', 'cash price, like 100.00')
    .option('--category <category>', 'category (rules can multiply points per category)')
    .option('--points-price <n>', 'price in points of a points-only item (--pay points); default: the price at the redeem rate (mixed items always pay points at that rate)')
    .addOption(new Option('--pay <mode>', 'how the item may be paid').choices(['mixed', 'cash', 'points']))
    .option('--max-points-ratio <ratio>', 'share of a mixed item points may pay, 0..1 (default: the rules\' maxRatio)')
    .option('--stock <n>', 'units in stock, or "unlimited"')
    .addOption(new Option('--kind <kind>', 'goods, or a coupon issued to the buyer').choices(['goods', 'coupon']))
    .option('--coupon-value <amount>', 'coupon: fixed discount, like 10.00')
    .option('--coupon-percent <pct>', 'coupon: percent off, 1..100')
    .option('--coupon-days <n>', 'coupon: days it stays valid after issue (default 30)')
    .option('--points-discount <pct>', 'mixed items: points paying this item pay 100/(100−PCT) times their value, 0..90 (0 or "" clears)');
}

function itemText(o: Record<string, unknown>): ItemText {
  const t: ItemText = {};
  for (const k of ITEM_KEYS) if (typeof o[k] === 'string') t[k] = o[k] as string;
  return t;
}

/**
 * A points price checkout uses: a points-only item's. A mixed or cash item keeps one it was given (it applies
 * if the item turns --pay points) but pays points at the redeem rate (SPEC §4.6), so it is shown as unused.
 */
const pointsPriceUnused = (i: Pick<ItemView, 'pay' | 'pointsPrice'>): boolean => i.pointsPrice !== null && i.pay !== 'points';
const unusedNote = (skus: string[]): string =>
  `note: ${skus.join(', ')} ${skus.length === 1 ? 'has a points price but is' : 'have a points price but are'} not paid in points alone (--pay points): checkout takes points for ${skus.length === 1 ? 'it' : 'them'} at the redeem rate, so the points price is unused`;

const stockCell = (i: ItemView): string => (i.stock === null ? 'unlimited' : `${i.stockAvailable} of ${i.stock}`);

function showView(i: ItemView): void {
  printFields([
    ['item', `${i.sku}  ${i.name}`],
    ['status', i.active ? c.green('active') : c.red('inactive')],
    ['category', i.category ?? '-'],
    ['price', i.price],
    ['points price', pointsPriceUnused(i) ? `${i.pointsPrice} (unused: ${i.pay === 'cash' ? 'a cash item takes no points' : 'a mixed item pays points at the redeem rate'})` : (i.pointsPrice ?? (i.pay === 'cash' ? '-' : 'at the redeem rate'))],
    ['pay', i.pay],
    ['max points ratio', i.maxPointsRatio ?? (i.pay === 'mixed' ? 'rules default' : '-')],
    ['points discount', i.pointsDiscount === null ? '-' : `${i.pointsDiscount}% (points pay 100/(100−${i.pointsDiscount}) of their value)`],
    ['stock', i.stock === null ? 'unlimited' : i.stock],
    ['held', i.stockHeld],
    ['available', i.stockAvailable === null ? 'unlimited' : i.stockAvailable],
    ['kind', i.kind],
    ...(i.kind === 'coupon'
      ? ([
          ['coupon', i.couponValue !== null ? `${i.couponValue} off` : `${i.couponPercent}% off`],
          ['coupon days', i.couponDays],
        ] as [string, unknown][])
      : []),
  ]);
}

export function register(program: Command): void {
  const catalog = program.command('catalog').description('catalog items: add, update, show, list, deactivate, activate, import');

  itemOptions(catalog.command('add').description('add an item or coupon to the catalog').option('--sku <sku>', 'stock keeping unit, e.g. TEA-001')).action(
    async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const ctx = await context(cmd);
      const check = (field: 'sku' | 'name' | 'price') => async (v: string) => (await services()).newItemFieldProblem(ctx, field, v);
      const sku = await need(cmd, o.sku, '--sku', 'SKU', check('sku'));
      const name = await need(cmd, o.name, '--name', 'Name', check('name'));
      const price = await need(cmd, o.price, '--price', 'Price (like 100.00)', check('price'));
      const r = await (await services()).addItem(await context(cmd), { ...itemText(o), sku, name, price });
      await emit(cmd, r, () => {
        say(`${c.green('✓')} item ${r.sku} (${r.name}) added at ${r.price}`);
        if (pointsPriceUnused(r)) notice(unusedNote([r.sku]));
      });
    },
  );

  itemOptions(catalog.command('update <sku>').description('change an item (an empty value clears an optional field)')).action(
    async (sku: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await services()).updateItem(await context(cmd), sku, itemText(cmd.opts()));
      await emit(cmd, r, () => {
        say(`${c.green('✓')} item ${r.sku} updated`);
        const o = cmd.opts();
        if (pointsPriceUnused(r) && (o.pointsPrice !== undefined || o.pay !== undefined)) notice(unusedNote([r.sku]));
      });
    },
  );

  catalog
    .command('show <sku>')
    .description('an item with its prices, pay mode, stock and coupon terms')
    .action(async (sku: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await services()).showItem(await context(cmd), sku);
      await emit(cmd, r, showView);
    });

  /**
   * A catalog list's CSV: catalog import's own columns (CATALOG_COLUMNS, each the snake_case of an item
   * field) and stored values, so that the file imports again unchanged.
   */
  const catalogCsv = (columns: readonly string[]): Column<ItemView>[] =>
    columns.map((header) => {
      const key = header.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase()) as keyof ItemView & string;
      return { key, header, ...(key === 'active' ? { format: (v: unknown) => (v ? 'true' : 'false') } : {}) };
    });

  const list = catalog
    .command('list')
    .description('active items (--all: inactive ones too), in SKU order')
    .option('--category <category>', 'only this category')
    .option('--all', 'include deactivated items');
  fileOptions(list).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const svc = await services();
    const r = await svc.listItems(await context(cmd), { category: o.category, all: Boolean(o.all) });
    const columns: Column<ItemView>[] = [
      { key: 'sku', header: 'sku' },
      { key: 'name', header: 'name' },
      { key: 'category', header: 'category' },
      { key: 'price', header: 'price', align: 'right' },
      { key: 'pointsPrice', header: 'points price', align: 'right' },
      { key: 'pay', header: 'pay', fit: 'fixed' },
      { key: 'stock', header: 'stock', align: 'right', format: (_v, i) => stockCell(i) },
      { key: 'kind', header: 'kind', drop: 1, format: (v, i) => (v === 'coupon' ? (i.couponValue !== null ? `coupon ${i.couponValue}` : `coupon ${i.couponPercent}%`) : String(v)) },
      ...(o.all ? [{ key: 'active' as const, header: 'active', format: (v: unknown) => (v ? 'yes' : c.red('no')) }] : []),
    ];
    // The table (a person's) shows an unused points price (a mixed or cash item's) in brackets, with a note:
    // checkout does not charge it. Pipes and files get the stored value, as data.
    const table = async () => {
      if (!stdoutIsTTY()) return printTable(columns, r);
      await printTable(
        columns.map((col) => (col.key === 'pointsPrice' ? { ...col, format: (v: unknown, i: ItemView) => (v === null ? '' : pointsPriceUnused(i) ? `(${v})` : String(v)) } : col)),
        r,
      );
      if (r.some(pointsPriceUnused)) process.stdout.write(c.dim('(points price): not used, as the item is not --pay points (see catalog show)\n'));
    };
    await emitList(cmd, 'items', r, columns, table, catalogCsv(svc.CATALOG_COLUMNS));
  });

  catalog
    .command('deactivate <sku>')
    .description('take an item off sale (checkout refuses it; history and reports keep it)')
    .action(async (sku: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await services()).setItemActive(await context(cmd), sku, false);
      await emit(cmd, r, () => void process.stdout.write(`${c.yellow('■')} item ${r.sku} deactivated\n`));
    });

  catalog
    .command('activate <sku>')
    .description('put a deactivated item back on sale')
    .action(async (sku: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await services()).setItemActive(await context(cmd), sku, true);
      await emit(cmd, r, () => void say(`${c.green('✓')} item ${r.sku} active`));
    });

  catalog
    .command('import <file>')
    .description('add or update items from a CSV: sku,name,price[,category,points_price,pay,max_points_ratio,stock,kind,coupon_value,coupon_percent,coupon_days,active,points_discount]')
    .option('--rejects <file>', 'where bad rows go (default FILE.rejects.csv)')
    .option('--encoding <enc>', 'file encoding: utf8 (default), utf16, gbk, gb18030, latin1, windows-1252, macroman; a BOM picks UTF-8 or UTF-16 by itself')
    .option('--delimiter <c>', 'field delimiter (default ","; tab, semicolon, pipe by name)')
    .option('--map <field=Column>', 'read a field from another column (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (file: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await services()).importCatalog(await context(cmd), file, cmd.opts().rejects, { encoding: cmd.opts().encoding, delimiter: cmd.opts().delimiter, map: cmd.opts().map });
      await emit(cmd, r, () => {
        process.stdout.write(`${count(r.rows, 'row')}: ${r.created} added, ${r.updated} updated, ${r.unchanged} unchanged, ${r.rejected} rejected\n`);
        if (r.pointsPriceUnused.length) notice(unusedNote(r.pointsPriceUnused));
        showRejects(r, { command: 'pointsmall catalog import', options: rejectsAgainOptions(['--db', '--delimiter', '--map']) });
      });
      if (r.rejected) setExit(4);
    });
}
