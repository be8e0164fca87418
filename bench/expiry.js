#!/usr/bin/env node
// Times `pointsmall expire run --json` as a whole process over 1,000,000 expiring lots of 50,000 members
// (SPEC §6: under 5 s), beside the `node -e 0` baseline, and writes bench/out/expiry.json.
//
// The ledger is built straight through the Journal in large transactions, so every cache, lot and the hash
// chain are consistent (ledger verify passes): 250,000 accrual entries (one per order) of 4 lots each, with
// expiry dates spread over the year before the as-of date; a third of the members have a phone, a third an
// email, so the run also queues 50,000 points.expired notifications over all three channels. The built
// ledger is cached in bench/out/ and copied afresh before each timed run.
// Sizes: BENCH_ENTRIES, BENCH_MEMBERS, BENCH_LOTS_PER_ENTRY, BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLedgerFile, ledgerFormatTag, median, postAccrual } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const BUILT_AT = '2025-11-23T10:00:00+08:00';
const NOW = '2026-11-23T10:00:00+08:00'; // expire run's default as-of: 2026-11-23, after every lot's expiresOn
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 250_000);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50_000);
const LOTS_PER_ENTRY = Number(process.env.BENCH_LOTS_PER_ENTRY ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMIT_MS = 5_000;

const mid = (i) => `M${String(i).padStart(6, '0')}`;

async function buildLedger(path) {
  const { journal } = await import('../dist/store/journal.js');
  const { members } = await import('../dist/store/members.js');
  const { expiresOn } = await import('../dist/domain/rules.js');
  await buildLedgerFile(path, BUILT_AT, (store, ctx) => {
    const j = store.get(journal);
    const m = store.get(members);
    store.write(() => {
      for (let i = 1; i <= MEMBERS; i++) {
        const phone = i % 3 === 0 ? `+86138${String(i).padStart(8, '0')}` : null;
        const email = i % 3 === 1 ? `m${i}@example.com` : null;
        m.insert({ id: mid(i), name: `Member ${i}`, phone, email, tier: null }, ctx.now.toISOString());
      }
    });
    const start = Date.parse('2024-11-01T00:00:00Z');
    const span = 360 * 86_400_000;
    const BATCH = 25_000;
    for (let b = 0; b < ENTRIES; b += BATCH) {
      store.write(() => {
        for (let i = b; i < Math.min(ENTRIES, b + BATCH); i++) {
          const member = mid((i % MEMBERS) + 1);
          const atMs = start + Math.floor((i / ENTRIES) * span);
          const at = new Date(atMs).toISOString();
          const points = LOTS_PER_ENTRY * (10 + (i % 97));
          const entryId = postAccrual(j, member, at, points, `bench:O${i}`);
          // The expiry init's rules give (rolling 365 days in the ledger's zone): ledger verify checks it.
          const exp = expiresOn({ policy: 'rolling-days', days: 365 }, atMs, 'Asia/Shanghai');
          for (let k = 0; k < LOTS_PER_ENTRY; k++) j.createLot(entryId, member, points / LOTS_PER_ENTRY, at, exp);
        }
      });
      process.stderr.write(`\rbuilding ledger: ${Math.min(ENTRIES, b + BATCH)}/${ENTRIES} accruals`);
    }
  });
}

// CPU time and peak RSS beside the wall time (GNU time when installed): on a shared, busy machine the
// wall time swings with other load while the CPU time stays put.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function run(args, env = {}) {
  const t = process.hrtime.bigint();
  const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', '@@ %U %S %M', process.execPath, ...args]] : [process.execPath, args];
  const r = spawnSync(cmd, argv, { env: { ...process.env, POINTSMALL_NOW: NOW, NO_COLOR: '1', ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /@@ ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { ms, stdout: r.stdout, cpuMs: m ? Math.round((Number(m[1]) + Number(m[2])) * 1000) : null, maxRssMb: m ? Math.round(Number(m[3]) / 1024) : null };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const built = join(OUT, `expiry-ledger-${ENTRIES}-${MEMBERS}-${LOTS_PER_ENTRY}-${ledgerFormatTag()}.db`);
  if (!existsSync(built)) await buildLedger(built);
  const work = join(OUT, 'expiry-run.db');
  const fresh = () => {
    for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
    copyFileSync(built, work);
  };
  const baseline = median(Array.from({ length: 3 }, () => run(['-e', '0']).ms));
  const runs = [];
  const cpu = [];
  const rss = [];
  let summary;
  for (let r = 0; r < RUNS; r++) {
    fresh();
    const res = run([BIN, '--db', work, 'expire', 'run', '--json']);
    runs.push(Math.round(res.ms));
    cpu.push(res.cpuMs);
    rss.push(res.maxRssMb);
    summary = JSON.parse(res.stdout);
    process.stderr.write(`expire run: ${Math.round(res.ms)} ms wall, ${res.cpuMs ?? '?'} ms cpu, ${res.maxRssMb ?? '?'} MB peak RSS (${summary.lotsExpired} lots, ${summary.pointsExpired} points, ${summary.members} members)\n`);
  }
  const again = run([BIN, '--db', work, 'expire', 'run', '--json']);
  const second = JSON.parse(again.stdout);
  const verify = JSON.parse(run([BIN, '--db', work, 'ledger', 'verify', '--json']).stdout);
  const medianMs = median(runs);
  const out = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    ledger: { path: built, bytes: statSync(built).size, members: MEMBERS, lots: ENTRIES * LOTS_PER_ENTRY, entries: ENTRIES },
    baseline: { 'node -e 0': Math.round(baseline) },
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    results: [
      { name: 'expire run (1st, whole process)', medianMs, runsMs: runs, cpuMs: cpu, peakRssMb: rss[0] === null ? null : median(rss), limitMs: LIMIT_MS, ok: medianMs < LIMIT_MS },
      { name: 'expire run again (nothing left)', medianMs: Math.round(again.ms), runsMs: [Math.round(again.ms)], limitMs: null, ok: second.lotsExpired === 0 },
    ],
    summary,
    verifyOk: verify.ok,
    notes: [
      `CPU time (user+sys) of the runs: ${cpu.map((x) => (x === null ? '?' : `${(x / 1000).toFixed(2)} s`)).join(', ')}; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores.`,
      'Ledger built through the Journal: 250,000 accrual entries of 4 lots each, all expiring before the as-of date; the run posts one entry per member (50,000), one lot move per lot, empties every lot and queues 50,000 points.expired notifications, then ledger verify passes.',
    ],
  };
  writeFileSync(join(OUT, 'expiry.json'), JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`expire run median ${medianMs} ms (limit ${LIMIT_MS}); second run ${Math.round(again.ms)} ms; verify ${verify.ok ? 'ok' : 'FAILED'}; baseline node -e 0: ${Math.round(baseline)} ms; wrote bench/out/expiry.json\n`);
  for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
  if (medianMs >= LIMIT_MS || !verify.ok || second.lotsExpired !== 0) process.exitCode = 1;
}

await main();
