#!/usr/bin/env node
// Times whole-process `member show ID --json` and a one-shot `checkout --yes --json` on a large ledger
// (50,000 members, ~1,000,000 lots) beside `node -e 0` (SPEC §6: within 3×), and writes bench/out/checkout.json.
//
// The ledger is generated straight in SQL (set-based, one transaction) and cached in bench/out/; the timed
// checkouts run against a fresh copy each time the bench runs. Its hash chain is synthetic (ledger verify is
// the reports bench's business), but members, lots and balance caches are consistent.
// Sizes: BENCH_MEMBERS, BENCH_LOTS, BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLedgerFile, ledgerFormatTag } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const NOW = '2026-11-23T10:00:00+08:00';
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50_000);
const LOTS = Number(process.env.BENCH_LOTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LIMIT_RATIO = 3;

async function buildLedger(path) {
  await buildLedgerFile(path, NOW, (store) => fill(store));
}

function fill(store) {
  const db = store.db;
  const base = db.prepare('SELECT coalesce(max(id), 0) FROM entries').pluck().get();
  const entries = Math.ceil(LOTS / 4);
  store.write(() => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO members (id, name, phone, email, created_at, updated_at)
       SELECT printf('M%06d', i), 'Member ' || i, CASE WHEN i % 3 THEN printf('+86 138%08d', i) END, CASE WHEN i % 3 = 0 THEN 'm' || i || '@example.com' END, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z' FROM n`,
    ).run(MEMBERS);
    // One accrual entry per 4 lots, each entry for one member, spread over the last 400 days.
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO entries (id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash)
       SELECT @base + i, strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-23T02:00:00', '-' || (400 - (i * 400 / @entries)) || ' days'),
              '2026-11-23T02:00:00.000Z', 'accrual', printf('M%06d', (i % @members) + 1), 'bench:' || i, NULL, 'bench',
              printf('%064d', @base + i - 1), printf('%064d', @base + i)
         FROM n`,
    ).run(entries, { base, entries, members: MEMBERS });
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       INSERT INTO lots (member_id, entry_id, points, remaining, earned_at, expires_on)
       SELECT e.member_id, e.id, 50 + (n.i % 7) * 25, 50 + (n.i % 7) * 25, e.at,
              CASE WHEN n.i % 10 = 9 THEN NULL ELSE date(e.at, '+' || (365 + (n.i % 4) * 31) || ' days') END
         FROM n JOIN entries e ON e.id = @base + 1 + n.i / 4`,
    ).run(LOTS, { base });
    db.exec(
      `INSERT INTO postings (entry_id, account, member_id, points)
         SELECT entry_id, 'issued', member_id, -sum(points) FROM lots WHERE entry_id > ${base} GROUP BY entry_id
         UNION ALL
         SELECT entry_id, 'member', member_id, sum(points) FROM lots WHERE entry_id > ${base} GROUP BY entry_id;
       CREATE TEMP TABLE s AS SELECT member_id, sum(remaining) AS r FROM lots GROUP BY member_id;
       UPDATE members SET balance = s.r, lifetime_earned = s.r FROM s WHERE s.member_id = members.id;
       DROP TABLE s;`,
    );
    db.prepare(
      `INSERT INTO catalog_items (sku, name, category, price, pay, stock, created_at, updated_at)
       VALUES ('BENCH-TEA', 'Bench tea', 'tea', 10000, 'mixed', NULL, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`,
    ).run();
  });
}

function once(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, POINTSMALL_NOW: NOW, NO_COLOR: '1', CI: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function time(argsFor) {
  once(argsFor(-1)); // warm the page cache
  const runs = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    last = once(argsFor(i));
    runs.push(last.ms);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]), runsMs: runs.map(Math.round), stdout: last.stdout };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const cached = join(OUT, `checkout-ledger-${MEMBERS}-${LOTS}-${ledgerFormatTag()}.db`);
  if (!existsSync(cached)) await buildLedger(cached);
  const db = join(OUT, 'checkout-run.db');
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  copyFileSync(cached, db);
  const cli = (...a) => [BIN, '--db', db, ...a];
  const member = (i) => `M${String(1 + ((i + 2) * 7919) % MEMBERS).padStart(6, '0')}`;

  const baseline = time(() => ['-e', '0']);
  const results = [];
  const scenario = (name, argsFor) => {
    const r = time(argsFor);
    const ratio = Math.round((r.medianMs / baseline.medianMs) * 100) / 100;
    results.push({ name, medianMs: r.medianMs, runsMs: r.runsMs, ratioToNode: ratio, limitRatio: LIMIT_RATIO, ok: ratio <= LIMIT_RATIO });
    process.stderr.write(`${name.padEnd(44)} ${String(r.medianMs).padStart(6)} ms  ${ratio}× node -e 0\n`);
    return r;
  };
  const shown = scenario('member show ID --json', (i) => cli('member', 'show', member(i), '--json'));
  scenario('checkout quote --json', (i) => cli('checkout', 'quote', '--member', member(i), '--item', 'BENCH-TEA', '--max-points', '--json'));
  const paid = scenario('checkout --yes --json (one-shot)', (i) => cli('checkout', '--member', member(100 + i), '--item', 'BENCH-TEA', '--max-points', '--tender', 'card', '--yes', '--json'));
  const out = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
    ledger: { members: MEMBERS, lots: LOTS, bytes: statSync(cached).size },
    baseline: { 'node -e 0': baseline.medianMs, runsMs: baseline.runsMs },
    lotsShown: JSON.parse(shown.stdout).lots.length,
    lastCheckout: (({ orderId, status, pointsUsed, cashPaid }) => ({ orderId, status, pointsUsed, cashPaid }))(JSON.parse(paid.stdout)),
    results,
  };
  writeFileSync(join(OUT, 'checkout.json'), JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`baseline node -e 0: ${baseline.medianMs} ms; wrote bench/out/checkout.json\n`);
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

await main();
