#!/usr/bin/env node
// Deterministic generator of a line-level purchase CSV (and the members it refers to) for the import bench.
// Usage: node bench/gen-purchases.js OUT.csv [--rows 1000000] [--members 50000] [--members-out members.csv] [--seed 42]
// Lines of one order are scattered over a window of a few thousand rows; ~1% of orders are returns
// (negative quantities) and ~2% of rows are guest purchases (no member id).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from './lib.js';

const pad = (n, w) => String(n).padStart(w, '0');
const CATEGORIES = ['grocery', 'tea', 'electronics', 'apparel', 'home', 'beauty', 'toys', 'books'];

export function memberId(i) {
  return `M${pad(i, 6)}`;
}

/** Writes the members CSV (id,name,phone,email) for `count` members. */
export async function writeMembers(path, count) {
  const out = createWriteStream(path);
  out.write('id,name,phone,email\n');
  for (let i = 1; i <= count; i++) {
    const ok = out.write(`${memberId(i)},Member ${i},${i % 3 === 0 ? '' : `+86 138${pad(i, 8)}`},${i % 3 === 0 ? `m${i}@example.com` : ''}\n`);
    if (!ok) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * Writes about `rows` line rows: order_id,member_id,purchased_at,sku,category,quantity,unit_price.
 * Returns { rows, orders, returns, guests } as written (guests: rows without a member id).
 */
export async function writePurchases(path, { rows = 1_000_000, members = 50_000, seed = 42, year = 2026 } = {}) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  out.write('order_id,member_id,purchased_at,sku,category,quantity,unit_price\n');
  let written = 0, orders = 0, returns = 0, guests = 0;
  const start = Date.UTC(year - 1, 10, 1); // a year of purchases up to the bench's clock
  const span = 365 * 86_400_000;
  while (written < rows) {
    // one block of orders, lines shuffled together so an order's rows are not adjacent
    const block = [];
    for (let k = 0; k < 1000 && written + block.length < rows; k++) {
      orders++;
      const isReturn = rnd() < 0.01;
      if (isReturn) returns++;
      const guest = rnd() < 0.02;
      const id = `${isReturn ? 'R' : 'O'}${pad(orders, 8)}`;
      const member = guest ? '' : memberId(int(1, members));
      const t = new Date(start + Math.floor(rnd() * span)).toISOString();
      const when = `${t.slice(0, 10)} ${t.slice(11, 19)}`;
      const n = int(1, 7);
      for (let l = 0; l < n && written + block.length < rows; l++) {
        const cat = CATEGORIES[int(0, CATEGORIES.length - 1)];
        const sku = `${cat.slice(0, 3).toUpperCase()}-${pad(int(1, 500), 4)}`;
        const qty = (isReturn ? -1 : 1) * int(1, 5);
        const price = `${int(1, 499)}.${pad(int(0, 99), 2)}`;
        block.push(`${id},${member},${when},${sku},${cat},${qty},${price}\n`);
        if (guest) guests++;
      }
    }
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [block[i], block[j]] = [block[j], block[i]];
    }
    written += block.length;
    if (!out.write(block.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { rows: written, orders, returns, guests };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const file = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
  if (!file) {
    process.stderr.write('usage: node bench/gen-purchases.js OUT.csv [--rows N] [--members N] [--members-out FILE] [--seed N]\n');
    process.exit(2);
  }
  const members = Number(opt('--members', 50_000));
  const info = await writePurchases(file, { rows: Number(opt('--rows', 1_000_000)), members, seed: Number(opt('--seed', 42)) });
  const mo = opt('--members-out');
  if (mo) await writeMembers(mo, members);
  process.stdout.write(JSON.stringify(info) + '\n');
}
