#!/usr/bin/env node
// npm run bench:recommend — recommendations measured on a time split (issue 19): for each member with at
// least two orders, the last order is hidden and the history before it (every member's, less the hidden
// orders) is all the recommender sees; a hit is any item of the hidden order among the member's top 10.
// Reported beside the most-popular-items baseline on the same split, on generated data with planted
// structure and on fixtures/online-retail-sample.csv. Writes bench/out/recommend.json (npm run bench
// puts it in docs/benchmarks.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { PurchaseHistory, mostPopular, recommendForMember } from '../dist/domain/recommend.js';
import { mulberry32 } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOP = 10;

/**
 * Hit-rate@10 of the recommender and of the baseline. `orders`: { member, at, lines: [{ sku, category }] }.
 * Orders of one member are told apart by time (the last one is hidden; ties by order id, as given).
 */
export function evaluate(orders) {
  const byMember = new Map();
  for (const o of orders) {
    if (!byMember.has(o.member)) byMember.set(o.member, []);
    byMember.get(o.member).push(o);
  }
  const hidden = new Set();
  for (const list of byMember.values()) {
    list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    if (list.length >= 2) hidden.add(list[list.length - 1]);
  }
  const h = new PurchaseHistory();
  for (const o of [...orders].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) if (!hidden.has(o)) h.addBasket(o.member, o.lines);
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
  return { members: n, reachable, hits, baselineHits: baseHits, hitRate: rate(hits), baselineHitRate: rate(baseHits), items: h.skus.length, orders: orders.length };
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

/** The public sample: one order per invoice of a known customer (returns, guests and postage left out). */
export function onlineRetail(file = join(ROOT, 'fixtures', 'online-retail-sample.csv')) {
  const rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true, relax_quotes: true });
  const byInvoice = new Map();
  for (const r of rows) {
    if (!r.CustomerID || r.InvoiceNo.startsWith('C') || Number(r.Quantity) <= 0 || r.StockCode === 'POST') continue;
    const [mo, d, y, hh, mi] = r.InvoiceDate.split(/[/ :]/).map(Number);
    const at = new Date(Date.UTC(y, mo - 1, d, hh, mi)).toISOString();
    if (!byInvoice.has(r.InvoiceNo)) byInvoice.set(r.InvoiceNo, { member: r.CustomerID, at: `${at}#${r.InvoiceNo}`, lines: [] });
    byInvoice.get(r.InvoiceNo).lines.push({ sku: r.StockCode, category: null });
  }
  return [...byInvoice.values()];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const gen = evaluate(generated());
  const retail = evaluate(onlineRetail());
  const pct = (x) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  for (const [name, r] of [['generated', gen], ['online-retail-sample', retail]]) {
    process.stdout.write(`${name.padEnd(22)} members ${r.members}  hit-rate@10 ${pct(r.hitRate)}  most-popular ${pct(r.baselineHitRate)}  (hidden orders with an item seen before: ${r.reachable})\n`);
  }
  const beats = (r) => r.members > 0 && r.hits > r.baselineHits;
  const result = {
    scenario: 'recommend',
    at: new Date().toISOString(),
    input: { generated: `${gen.orders} orders, ${gen.items} items`, 'online-retail-sample': `${retail.orders} orders, ${retail.items} items` },
    baseline: {},
    results: [
      { name: `generated: hit-rate@10 (${gen.members} members)`, value: gen.hitRate, baseline: gen.baselineHitRate, ok: beats(gen) },
      { name: `online-retail-sample: hit-rate@10 (${retail.members} members)`, value: retail.hitRate, baseline: retail.baselineHitRate, ok: beats(retail) },
    ],
    notes: [
      `Time split: each member's last order hidden; hit = any of its items in the member's top ${TOP}. Recommender vs most popular items (by orders) on the same split.`,
      `generated: ${gen.hits}/${gen.members} members hit (${pct(gen.hitRate)}), baseline ${gen.baselineHits}/${gen.members} (${pct(gen.baselineHitRate)}).`,
      `online-retail-sample: ${retail.hits}/${retail.members} members hit (${pct(retail.hitRate)}), baseline ${retail.baselineHits}/${retail.members} (${pct(retail.baselineHitRate)}); ` +
        `${retail.reachable} hidden order(s) hold any item seen before, so no recommender that learns from history can hit more.`,
      `Took ${Date.now() - started} ms.`,
    ],
  };
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'recommend.json'), JSON.stringify(result, null, 2));
}
