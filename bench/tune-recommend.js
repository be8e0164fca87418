#!/usr/bin/env node
// How the ranking's settings (src/domain/recommend.ts RANKING, WEIGHTS.popular) are chosen: every
// combination of a small grid is scored on the VALIDATION splits of bench/recommend.js only (each
// member's last order dropped, the one before it hidden), which never see the test split's hidden
// orders. A setting is ranked by how many datasets it beats the most-popular baseline on, then by its
// mean margin over the baseline (hits − baseline hits, per member). Prints the table, best first.
// These settings shape the member's own list; how many places that list gets against the favourites is
// not tuned here but calibrated by each ledger on its own history (PurchaseHistory.calibrate), inside
// evaluate as in `report recommend`.
// Run: npm run build && node bench/tune-recommend.js
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RANKING, WEIGHTS } from '../dist/domain/recommend.js';
import { evaluate, generated, groceries, onlineRetail } from './recommend.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sets = [
  { name: 'generated', orders: generated() },
  { name: 'uci-morning', orders: onlineRetail(join(ROOT, 'fixtures', 'online-retail-uci-sample.csv')).orders },
  { name: 'uci-year', orders: onlineRetail(join(ROOT, 'fixtures', 'online-retail-uci-year-sample.csv')).orders },
  { name: 'groceries', orders: groceries(join(ROOT, 'fixtures', 'groceries-sample.csv')).orders },
];
const chosen = { ...RANKING, popular: WEIGHTS.popular };
const rows = [];
for (const priorOrders of [0, 0.5, 1, 2, 4, 8])
  for (const popular of [0.05, 0.2, 0.5, 1])
    for (const diversity of [0, 0.3, 0.6]) {
      Object.assign(RANKING, { priorOrders, diversity });
      WEIGHTS.popular = popular;
      const per = sets.map((s) => evaluate(s.orders, { validation: true }));
      const wins = per.filter((r) => r.members > 0 && r.hits > r.baselineHits).length;
      const margin = per.reduce((a, r) => a + (r.members ? (r.hits - r.baselineHits) / r.members : 0), 0) / per.length;
      rows.push({ priorOrders, popular, diversity, wins, margin, per: per.map((r) => `${r.hits}-${r.baselineHits}/${r.members}`) });
    }
Object.assign(RANKING, chosen);
WEIGHTS.popular = chosen.popular;
rows.sort((a, b) => b.wins - a.wins || b.margin - a.margin);
process.stdout.write(`validation splits (hits-baseline/members): ${sets.map((s) => s.name).join(', ')}; in force now: priorOrders ${chosen.priorOrders}, popular ${chosen.popular}, diversity ${chosen.diversity}\n`);
for (const r of rows.slice(0, 15)) process.stdout.write(`priorOrders ${String(r.priorOrders).padEnd(3)} popular ${String(r.popular).padEnd(4)} diversity ${String(r.diversity).padEnd(3)}  wins ${r.wins}  margin ${(r.margin * 100).toFixed(2)}%  ${r.per.join('  ')}\n`);
