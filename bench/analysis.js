#!/usr/bin/env node
// Issue 19 on the 1M-line bench ledger: `rules simulate` under 10 s, and what `report recommend` costs there.
// The ledger is bench/import.js's file imported once (with its purchase lines) plus a catalog of 300 of its
// SKUs, cached in bench/out/. Each timed command is a whole process (CPU and peak RSS from /usr/bin/time -v);
// the ledger file's SHA-256 is taken before and after, since simulate and recommend must write nothing.
// Writes bench/out/analysis.json. Sizes: BENCH_RUNS (default 3); needs bench/import.js's CSV (run it first:
// npm run bench does).
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ledgerFormatTag, median, timeStats, timedRunner } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const ROWS = 1_000_000;
const MEMBERS = 50_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const NOW = '2026-11-23T10:00:00+08:00';
const LIMIT_MS = 10_000;
const env = { ...process.env, POINTSMALL_NOW: NOW, POINTSMALL_OPERATOR: 'bench', NO_COLOR: '1' };
delete env.POINTSMALL_DB;
const run = timedRunner(env);
const rm = (p) => ['', '-wal', '-shm', '-journal'].forEach((s) => rmSync(p + s, { force: true }));

const csv = join(OUT, `purchases-${ROWS}.csv`);
const membersLedger = join(OUT, `import-ledger-${MEMBERS}-${ledgerFormatTag()}.db`);
if (!existsSync(csv) || !existsSync(membersLedger)) {
  process.stderr.write('bench/analysis.js needs bench/import.js run first (its CSV and members ledger)\n');
  process.exit(2);
}
const ledger = join(OUT, `analysis-ledger-${ROWS}-${ledgerFormatTag()}.db`);
let built = null;
if (!existsSync(ledger)) {
  const tmp = `${ledger}.building`;
  rm(tmp);
  copyFileSync(membersLedger, tmp);
  process.stderr.write(`building ${ledger} (importing ${csv}) …\n`);
  const imp = run(process.execPath, [BIN, 'import', 'purchases', csv, '--db', tmp, '--skip-guests', '--json']);
  // A catalog of 300 of the file's SKUs (the first seen), each with a points price, so recommend has items.
  const seen = new Map();
  for (const line of readFileSync(csv, 'utf8').split('\n', 20_000).slice(1)) {
    const f = line.split(',');
    if (f.length >= 7 && !seen.has(f[3]) && seen.size < 300) seen.set(f[3], { category: f[4], price: f[6] });
  }
  const catalog = join(OUT, 'analysis-catalog.csv');
  writeFileSync(
    catalog,
    'sku,name,price,category,points_price,pay,max_points_ratio,stock,kind,coupon_value,coupon_percent,coupon_days,active\n' +
      [...seen].map(([sku, s]) => `${sku},Item ${sku},${s.price},${s.category},${Math.round(Number(s.price) * 100)},mixed,,100,goods,,,,true`).join('\n') +
      '\n',
  );
  run(process.execPath, [BIN, 'catalog', 'import', catalog, '--db', tmp, '--json']);
  // The draft's tiers come into force now, after every purchase (which keep the versions they earned under),
  // so a segment has members to promote to.
  run(process.execPath, [BIN, 'rules', 'apply', join(ROOT, 'fixtures', 'rules.json'), '--db', tmp, '--yes', '--json']);
  rm(`${tmp}-wal`);
  renameSync(tmp, ledger);
  built = { importMs: Math.round(imp.ms), orders: JSON.parse(imp.stdout).accepted };
}

const sha = (p) =>
  new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(p).on('data', (d) => h.update(d)).on('end', () => ok(h.digest('hex'))).on('error', fail);
  });

// The draft: fixtures/rules.json (an electronics multiplier for November, TEA-001 ×3, a gold tier ×1.5, a
// daily cap and a maximum per order) against the default rules the bench's purchases were imported under.
const draft = join(ROOT, 'fixtures', 'rules.json');
const member = 'M000001';
const item = [...readFileSync(join(OUT, 'analysis-catalog.csv'), 'utf8').split('\n')][1].split(',')[0];
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const COMMANDS = [
  { name: 'rules simulate DRAFT (all history)', args: ['rules', 'simulate', draft, '--json'], limitMs: LIMIT_MS },
  { name: 'rules simulate DRAFT --by category', args: ['rules', 'simulate', draft, '--by', 'category', '--json'], limitMs: LIMIT_MS },
  { name: 'rules simulate DRAFT --by tier', args: ['rules', 'simulate', draft, '--by', 'tier', '--json'], limitMs: LIMIT_MS },
  { name: `report recommend --member ${member}`, args: ['report', 'recommend', '--member', member, '--json'] },
  { name: `report recommend --item ${item}`, args: ['report', 'recommend', '--item', item, '--json'] },
  { name: 'report recommend --segment tier=gold', args: ['report', 'recommend', '--segment', 'tier=gold', '--json'] },
];

const before = await sha(ledger);
const results = [];
const notes = [];
let simulated = null;
for (const c of COMMANDS) {
  const ms = [];
  const cpu = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) {
    const args = [BIN, ...c.args, '--db', ledger];
    const r = timeBin ? run(timeBin, ['-v', process.execPath, ...args]) : run(process.execPath, args);
    ms.push(r.ms);
    const t = timeStats(r.stderr);
    if (t.rssMb !== null) rss.push(t.rssMb);
    if (t.cpuMs !== null) cpu.push(t.cpuMs);
    if (i === 0 && c.args[1] === 'simulate' && c.args.length === 4) simulated = JSON.parse(r.stdout);
  }
  const medianMs = Math.round(median(ms));
  results.push({
    name: c.name,
    medianMs,
    runsMs: ms.map(Math.round),
    cpuMs: cpu,
    peakRssMb: rss.length ? Math.max(...rss) : null,
    limitMs: c.limitMs ?? null,
    ok: c.limitMs ? medianMs < c.limitMs : undefined,
  });
  process.stderr.write(`${c.name}: ${ms.map((x) => Math.round(x)).join(', ')} ms\n`);
}
const after = await sha(ledger);
const unchanged = before === after;
results.push({ name: 'ledger file byte-identical after every command', ok: unchanged });

const tables = JSON.parse(
  run(process.execPath, [BIN, 'db', 'info', '--db', ledger, '--json'], { allowFail: true }).stdout || '{}',
);
notes.push(
  `CPU time (user+sys) per command: ${results
    .filter((r) => r.cpuMs?.length)
    .map((r) => `${r.name.split(' ').slice(0, 3).join(' ')}${r.name.includes('--by') ? ` ${r.name.split('--by ')[1]}` : ''} ${r.cpuMs.map((x) => (x / 1000).toFixed(2)).join('/')} s`)
    .join('; ')}; load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${cpus().length} cores.`,
  simulated
    ? `The draft (fixtures/rules.json) against the rules in force: actual ${simulated.actualPoints.toLocaleString('en')} points, simulated ${simulated.simulatedPoints.toLocaleString('en')}, difference ${simulated.difference.toLocaleString('en')}; ${simulated.membersGaining.toLocaleString('en')} members gaining, ${simulated.membersLosing.toLocaleString('en')} losing.`
    : '',
  `SHA-256 of the ledger file before and after all the runs: ${unchanged ? 'identical' : 'DIFFERENT'}.`,
  built ? `Ledger built in this run: import of ${built.orders.toLocaleString('en')} orders in ${(built.importMs / 1000).toFixed(1)} s, then a 300-item catalog.` : 'Ledger from the cache in bench/out/.',
);
writeFileSync(
  join(OUT, 'analysis.json'),
  JSON.stringify(
    {
      scenario: 'analysis',
      at: new Date().toISOString(),
      ledger: { bytes: statSync(ledger).size, orders: tables.counts?.purchases ?? null, lines: tables.counts?.purchase_lines ?? null },
      baseline: {},
      results,
      notes: notes.filter(Boolean),
    },
    null,
    2,
  ) + '\n',
);
for (const r of results) process.stdout.write(`${r.name.padEnd(48)} ${r.medianMs != null ? `${r.medianMs} ms` : ''} ${r.ok === false ? 'FAILED' : ''}\n`);
process.exitCode = results.every((r) => r.ok !== false) ? 0 : 1;
