#!/usr/bin/env node
// Times `pointsmall import purchases` of a 1,000,000-row line-level CSV (about 250,000 orders of 50,000
// members, lines of an order scattered, 1% returns, 2% guest rows) beside `sqlite3 .import` of the same file
// into a bare table (SPEC §6: within 6×, peak RSS under 300 MB), and writes bench/out/import.json.
// The file and a ledger with the 50,000 members are built once and cached in bench/out/; every timed run
// imports into a fresh copy of that ledger. Sizes: BENCH_ROWS, BENCH_MEMBERS, BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMembers, writePurchases } from './gen-purchases.js';
import { ledgerFormatTag, median, timeStats, timedRunner } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NOW = '2026-11-23T10:00:00+08:00'; // after every generated purchase
const LIMIT_RATIO = 6;
const LIMIT_RSS_MB = 300;

mkdirSync(OUT, { recursive: true });
const csv = join(OUT, `purchases-${ROWS}.csv`);
const membersCsv = join(OUT, `members-${MEMBERS}.csv`);
const template = join(OUT, `import-ledger-${MEMBERS}-${ledgerFormatTag()}.db`);
const work = join(OUT, 'import-run.db');
const env = { ...process.env, POINTSMALL_NOW: NOW, POINTSMALL_OPERATOR: 'bench', NO_COLOR: '1' };
const rm = (p) => ['', '-wal', '-shm', '-journal'].forEach((s) => rmSync(p + s, { force: true }));

const run = timedRunner(env);

let info = { rows: ROWS };
if (!existsSync(csv)) {
  process.stderr.write(`generating ${csv} …\n`);
  info = await writePurchases(csv, { rows: ROWS, members: MEMBERS, seed: 42 });
  writeFileSync(`${csv}.json`, JSON.stringify(info));
} else if (existsSync(`${csv}.json`)) info = JSON.parse(readFileSync(`${csv}.json`, 'utf8'));
if (!existsSync(template)) {
  process.stderr.write(`building ${template} with ${MEMBERS} members …\n`);
  await writeMembers(membersCsv, MEMBERS);
  rm(template);
  run(process.execPath, [BIN, 'init', '--db', template, '--timezone', 'Asia/Shanghai', '--currency', 'CNY', '--json']);
  run(process.execPath, [BIN, 'member', 'import', membersCsv, '--db', template, '--json']);
}

// Baseline and import run in turns (baseline, import, baseline, import, …) so both see the same state of a
// shared machine; the ratio is of their medians, and each pair's own ratio is noted beside it.
const sqlite = existsSync('/usr/bin/sqlite3') ? '/usr/bin/sqlite3' : 'sqlite3';
const baseDb = join(OUT, 'import-baseline.db');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const baseline = [];
const times = [];
const cpu = [];
const rss = [];
let summary;
for (let i = 0; i < RUNS; i++) {
  // The baseline: the sqlite3 shell importing the same file into a bare table.
  rm(baseDb);
  baseline.push(run(sqlite, [baseDb, '-cmd', '.mode csv', '-cmd', `.import ${csv} purchases`, 'SELECT count(*) FROM purchases']).ms);
  rm(baseDb);
  // The import: a whole process, CPU time and peak RSS from /usr/bin/time -v when there is one.
  rm(work);
  copyFileSync(template, work);
  const args = [BIN, 'import', 'purchases', csv, '--db', work, '--skip-guests', '--json'];
  const r = timeBin ? run(timeBin, ['-v', process.execPath, ...args]) : run(process.execPath, args);
  times.push(r.ms);
  const t = timeStats(r.stderr);
  if (t.rssMb !== null) rss.push(t.rssMb);
  if (t.cpuMs !== null) cpu.push(t.cpuMs);
  summary = JSON.parse(r.stdout);
  process.stderr.write(`run ${i + 1}: sqlite3 .import ${Math.round(baseline.at(-1))} ms, import ${Math.round(r.ms)} ms${t.rssMb !== null ? `, peak RSS ${t.rssMb} MB` : ''}\n`);
}
const baseMs = median(baseline);
const verify = run(process.execPath, [BIN, 'ledger', 'verify', '--db', work, '--json'], { allowFail: true });
const verified = verify.status === 0;
rm(work);

const importMs = median(times);
const ratio = Math.round((importMs / baseMs) * 100) / 100;
const peak = rss.length ? Math.max(...rss) : null;
const result = {
  scenario: 'import',
  at: new Date().toISOString(),
  machine: { cores: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
  input: { rows: info.rows, orders: summary.orders, members: MEMBERS, returns: info.returns, guestRows: summary.guestsSkipped, bytes: statSync(csv).size },
  baseline: { 'sqlite3 .import': Math.round(baseMs) },
  results: [
    {
      name: 'import purchases (1M rows, accrual)',
      medianMs: Math.round(importMs),
      runsMs: times.map(Math.round),
      ratio,
      limitRatio: LIMIT_RATIO,
      peakRssMb: peak,
      ok: ratio <= LIMIT_RATIO && (peak === null || peak < LIMIT_RSS_MB),
    },
  ],
  summary,
  notes: [
    `Runs in turns: sqlite3 .import ${baseline.map((x) => (x / 1000).toFixed(2)).join(', ')} s; import ${times.map((x) => (x / 1000).toFixed(2)).join(', ')} s${cpu.length ? ` (CPU ${cpu.map((x) => (x / 1000).toFixed(2)).join(', ')} s)` : ''}; ratio of each pair ${times.map((t, i) => (t / baseline[i]).toFixed(2)).join(', ')}.`,
    `Accrued ${summary.pointsAccrued.toLocaleString('en')} points on ${summary.accepted.toLocaleString('en')} orders (${summary.returns} returns); ledger verify ${verified ? 'passed' : 'FAILED'} afterwards.`,
  ],
};
writeFileSync(join(OUT, 'import.json'), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`sqlite3 .import        ${Math.round(baseMs)} ms\n`);
process.stdout.write(`import purchases       ${Math.round(importMs)} ms  (${ratio}× baseline, limit ${LIMIT_RATIO}×)\n`);
process.stdout.write(`peak RSS               ${peak ?? '?'} MB  (limit ${LIMIT_RSS_MB} MB)\n`);
process.stdout.write(`ledger verify          ${verified ? 'ok' : 'FAILED'}\n`);
