#!/usr/bin/env node
// npm run bench:recommend — recommendations measured on a time split (issue 19): for each member with at
// least two orders, the last order is hidden and the history before it (every member's, less the hidden
// orders) is all the recommender sees; a hit is any item of the hidden order among the member's top 10.
// Reported beside the most-popular-items baseline on the same split, on generated data with planted
// structure and on two public samples of the UCI Online Retail dataset (fixtures/README.md), each imported
// with pointsmall's own import. Writes bench/out/recommend.json (npm run bench puts it in docs/benchmarks.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurchaseHistory, RANKING, WEIGHTS, mostPopular, recommendForMember } from '../dist/domain/recommend.js';
import { analysis } from '../dist/store/analysis.js';
import { openStore } from '../dist/store/db.js';
import { mulberry32 } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOP = 10;

/**
 * Hit-rate@10 of the recommender and of the baseline. `orders`: { member, at, lines: [{ sku, category }] }.
 * Orders of one member are told apart by time (the last one is hidden; ties by order id, as given).
 * `validation`: the split the ranking's settings were chosen on, which never sees the hidden orders: each
 * member's last order is dropped altogether and the one before it is hidden instead (members with 3+).
 */
export function evaluate(orders, { validation = false } = {}) {
  const byMember = new Map();
  for (const o of orders) {
    if (!byMember.has(o.member)) byMember.set(o.member, []);
    byMember.get(o.member).push(o);
  }
  const hidden = new Set();
  const dropped = new Set();
  for (const list of byMember.values()) {
    list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    if (!validation) {
      if (list.length >= 2) hidden.add(list[list.length - 1]);
    } else {
      if (list.length >= 2) dropped.add(list[list.length - 1]);
      if (list.length >= 3) hidden.add(list[list.length - 2]);
    }
  }
  const h = new PurchaseHistory();
  for (const o of [...orders].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) if (!hidden.has(o) && !dropped.has(o)) h.addBasket(o.member, o.lines);
  const candidates = h.skus.map((sku, i) => ({ sku, name: sku, category: h.categoryOf[i], pointsPrice: null }));
  const popular = new Set(mostPopular(h, TOP));
  let hits = 0;
  let baseHits = 0;
  let reachable = 0;
  for (const o of hidden) {
    const want = new Set(o.lines.map((x) => x.sku));
    if ([...want].some((s) => h.idOf(s) !== undefined)) reachable++;
    const recs = recommendForMember(h, { memberId: o.member, tier: null, tierOf: () => null, available: null }, candidates, TOP);
    if (recs.some((r) => want.has(r.sku))) hits++;
    if ([...want].some((s) => popular.has(s))) baseHits++;
  }
  const n = hidden.size;
  const rate = (x) => (n ? Math.round((x / n) * 1000) / 1000 : null);
  return { members: n, reachable, hits, baselineHits: baseHits, hitRate: rate(hits), baselineHitRate: rate(baseHits), items: h.skus.length, orders: orders.length, rebuyRate: h.rebuyRate() };
}

/**
 * Generated shop with planted structure: 200 items in 10 categories (popularity falling within each),
 * every item with a companion often bought with it, and 2,000 members who each favour one or two
 * categories and have a few staples they buy again.
 */
export function generated(seed = 19) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const CATS = 10;
  const PER = 20;
  const cat = (i) => `cat${Math.floor(i / PER)}`;
  const sku = (i) => `SKU-${String(i).padStart(3, '0')}`;
  // within a category, item k is picked with weight 1/(k+1)
  const pickIn = (c) => {
    const total = Array.from({ length: PER }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    let x = rnd() * total;
    for (let k = 0; k < PER; k++) {
      x -= 1 / (k + 1);
      if (x <= 0) return c * PER + k;
    }
    return c * PER + PER - 1;
  };
  const companion = Array.from({ length: CATS * PER }, (_, i) => (i * 7 + 13) % (CATS * PER));
  const orders = [];
  let day = 0;
  for (let m = 1; m <= 2000; m++) {
    const favs = [int(0, CATS - 1)];
    if (rnd() < 0.5) favs.push(int(0, CATS - 1));
    const staples = Array.from({ length: 3 }, () => pickIn(favs[int(0, favs.length - 1)]));
    const n = int(2, 8);
    for (let k = 0; k < n; k++) {
      const items = new Set();
      const size = int(1, 4);
      while (items.size < size) {
        const r = rnd();
        let i;
        if (r < 0.35) i = staples[int(0, staples.length - 1)];
        else if (r < 0.85) i = pickIn(favs[int(0, favs.length - 1)]);
        else i = pickIn(int(0, CATS - 1));
        items.add(i);
        if (rnd() < 0.5 && items.size < size) items.add(companion[i]);
      }
      day++;
      const at = new Date(Date.UTC(2026, 0, 1) + (day % 300) * 86_400_000 + k * 3_600_000 * 24 * 30).toISOString();
      orders.push({ member: `M${m}`, at: `${at}#${String(k).padStart(2, '0')}`, lines: [...items].map((i) => ({ sku: sku(i), category: cat(i) })) });
    }
  }
  return orders;
}

/**
 * The public sample, read the way a merchant would get it in: `pointsmall import purchases` with the
 * Online Retail profile (fixtures/profile-online-retail.json) into a throwaway ledger, then the purchase
 * lines the ledger kept, read back through the store (the same query `report recommend` uses). So the
 * import's own handling of the export's quirks applies: cancellations (C… invoices, negative quantities)
 * are returns and are not baskets, rows without a CustomerID are guests and are skipped, quoted
 * descriptions with commas and CRLF line ends are parsed. One order per invoice; the postage line (POST)
 * is kept by the import but is not a product, so it is neither recommended nor counted as a hit.
 */
export function onlineRetail(file = join(ROOT, 'fixtures', 'online-retail-uci-sample.csv'), profile = join(ROOT, 'fixtures', 'profile-online-retail.json')) {
  const dir = mkdtempSync(join(tmpdir(), 'pointsmall-recommend-'));
  const db = join(dir, 'ledger.db');
  const now = '2026-01-01T00:00:00.000Z';
  const env = { ...process.env, POINTSMALL_DB: db, POINTSMALL_NOW: now, POINTSMALL_OPERATOR: 'bench', NO_COLOR: '1' };
  const cli = (args) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'pointsmall.js'), ...args, '--json'], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`pointsmall ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  try {
    cli(['init', '--timezone', 'Europe/London', '--currency', 'GBP']);
    const imported = cli(['import', 'purchases', file, '--profile', profile]);
    const store = openStore(db);
    const byBasket = new Map();
    try {
      for (const [basket, member, at, sku, category] of analysis(store).basketLines(now)) {
        if (sku === 'POST') continue;
        if (!byBasket.has(basket)) byBasket.set(basket, { member, at: `${at}#${basket.slice(1).padStart(12, '0')}`, lines: [] });
        byBasket.get(basket).lines.push({ sku, category });
      }
    } finally {
      store.close();
    }
    return { orders: [...byBasket.values()], imported };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The public samples (fixtures/README.md says where each comes from). */
const SAMPLES = [
  {
    name: 'online-retail-uci-sample',
    file: 'fixtures/online-retail-uci-sample.csv',
    what: 'the first 1,071 rows of the UCI Online Retail dataset, one morning of trade, complete orders',
  },
  {
    name: 'online-retail-uci-year-sample',
    file: 'fixtures/online-retail-uci-year-sample.csv',
    what:
      'the first 1,783 rows of a public copy of the same dataset whose rows are a random sample of the whole year (2010-12-01 to 2011-12-09), ' +
      'so an order keeps only the few of its lines that were drawn',
  },
];

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const pct = (x) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const beats = (r) => r.members > 0 && r.hits > r.baselineHits;
  const gen = generated();
  const sets = [{ name: 'generated', orders: gen }];
  for (const x of SAMPLES) {
    const sample = onlineRetail(join(ROOT, x.file));
    sets.push({ ...x, orders: sample.orders, imported: sample.imported });
  }
  for (const x of sets) {
    x.test = evaluate(x.orders);
    x.val = evaluate(x.orders, { validation: true });
    process.stdout.write(
      `${x.name.padEnd(30)} members ${String(x.test.members).padStart(4)}  hit-rate@10 ${pct(x.test.hitRate)}  most-popular ${pct(x.test.baselineHitRate)}` +
        `  (validation ${x.val.hits}/${x.val.members} vs ${x.val.baselineHits})\n`,
    );
  }
  const count = (r, x) => `${r.hits}/${r.members} members hit (${pct(r.hitRate)}), baseline ${r.baselineHits}/${r.members} (${pct(r.baselineHitRate)})`;
  const linesPerOrder = (orders) => (orders.reduce((a, o) => a + o.lines.length, 0) / orders.length).toFixed(1);
  const input = { generated: `${gen.length} orders, ${sets[0].test.items} items` };
  for (const x of sets.slice(1)) {
    input[x.name] =
      `${x.imported.rows} rows imported with fixtures/profile-online-retail.json: ${x.orders.length} orders of ` +
      `${new Set(x.orders.map((o) => o.member)).size} customers, ${x.test.items} items, ${linesPerOrder(x.orders)} lines an order`;
  }
  const result = {
    scenario: 'recommend',
    at: new Date().toISOString(),
    input,
    baseline: {},
    results: sets.map((x) => ({ name: `${x.name}: hit-rate@10 (${x.test.members} members)`, value: x.test.hitRate, baseline: x.test.baselineHitRate, ok: beats(x.test) })),
    notes: [
      `Time split: each member's last order hidden; hit = any of its items in the member's top ${TOP}. Recommender vs most popular items (by orders) on the same split. ` +
        'Re-buy rate: of the orders in the history that are not a member\'s first, the share holding an item that member bought before (the recommender weighs buying again by it).',
      `generated: ${count(sets[0].test)}; re-buy rate ${pct(sets[0].test.rebuyRate)}.`,
      ...sets.slice(1).map(
        (x) =>
          `${x.name} (${x.file}: ${x.what}; CC BY 4.0, source in fixtures/README.md): imported through \`import purchases --profile fixtures/profile-online-retail.json\` ` +
          `(${x.imported.accepted} orders, ${x.imported.returns} cancellations taken as returns, ${x.imported.guestsSkipped} guest row(s) skipped). ` +
          `${count(x.test)}; ${x.test.reachable} hidden order(s) hold any item seen before; re-buy rate ${pct(x.test.rebuyRate)}.`,
      ),
      'Reading the public samples: the 1,071-row one has only 5 members with two orders (one morning), so its figure means little. ' +
        'In the year sample each order keeps about one line of the original invoice and a member\'s earlier purchases rarely survive the sampling ' +
        `(re-buy rate ${pct(sets[2].test.rebuyRate)} against ${pct(sets[1].test.rebuyRate)} on the complete orders of the morning), so a hidden order's item is close to a random draw from what sells: ` +
        'the most popular items are hard to beat there, and a difference of a few members is noise, not a result ' +
        '(the ranking before the re-buy weighting and the co-purchase shrinkage hit 7/253 on this test split, and 3/95 against 6 on its validation split).',
      `Ranking settings (buying again weighted ${WEIGHTS.again} × the re-buy rate, co-purchase shrunk at ${RANKING.support} shared orders, popularity prior worth ${RANKING.priorOrders} orders, ` +
        `diversity ${RANKING.diversity}, category fallback ${RANKING.categoryFallback ? 'on' : 'off'}) were chosen on the validation splits only ` +
        '(each member\'s last order dropped, the one before it hidden, members with 3+ orders; the hidden orders above are never seen): ' +
        sets.map((x) => `${x.name} ${x.val.hits}/${x.val.members} vs baseline ${x.val.baselineHits}`).join(', ') +
        '. Measured there and not taken: a popularity prior worth 0.1 to 1 order (the fewer orders a member has, the more the shop\'s favourites count) ' +
        'cost the generated data 9 to 137 hits and changed neither sample; popularity over only the last 100 to 1,600 orders moved the generated data by -9 to +1 ' +
        'and cost the year sample up to all 6 of its hits.',
      `Took ${Date.now() - started} ms.`,
    ],
  };
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'recommend.json'), JSON.stringify(result, null, 2));
}
