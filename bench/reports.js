#!/usr/bin/env node
// Times `report liability` and `ledger verify` (SPEC §6: under 10 s each) as whole processes on a large
// ledger, beside the `node -e 0` baseline, and writes bench/out/reports.json.
//
// The ledger: BENCH_LEDGER=path reuses one (the import bench's, say); otherwise one is built straight
// through the Journal in large transactions — 50,000 members, 250,000 accrual entries of 4 lots each
// (1,000,000 lots), plus redemptions and expiries that move lots — and cached in bench/out/.
// Sizes: BENCH_ENTRIES, BENCH_MEMBERS, BENCH_LOTS_PER_ENTRY, BENCH_RUNS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLedgerFile, ledgerFormatTag, mulberry32, postAccrual } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const NOW = '2026-11-23T10:00:00+08:00';
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 250_000);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 50_000);
const LOTS_PER_ENTRY = Number(process.env.BENCH_LOTS_PER_ENTRY ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMIT_MS = 10_000;

async function buildLedger(path) {
  const { ledgerFromStore } = await import('../dist/services/ledger.js');
  const { journal } = await import('../dist/store/journal.js');
  const { members } = await import('../dist/store/members.js');
  const { debitPoints } = await import('../dist/services/points.js');
  const { expiresOn } = await import('../dist/domain/rules.js');
  const { localDate } = await import('../dist/domain/time.js');
  const { books } = await import('../dist/store/books.js');
  await buildLedgerFile(path, NOW, (store, ctx) => {
    const l = ledgerFromStore(store, ctx);
    const j = store.get(journal);
    const m = store.get(members);
    const rnd = mulberry32(7);
    const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
    const mid = (i) => `M${String(i).padStart(6, '0')}`;
    store.write(() => {
      for (let i = 1; i <= MEMBERS; i++) m.insert({ id: mid(i), name: `Member ${i}`, phone: null, email: null, tier: null }, ctx.now.toISOString());
    });
    const end = ctx.now.getTime();
    const span = 400 * 86_400_000;
    const BATCH = 20_000;
    for (let b = 0; b < ENTRIES; b += BATCH) {
      store.write(() => {
        for (let i = b; i < Math.min(ENTRIES, b + BATCH); i++) {
          const member = mid(int(1, MEMBERS));
          const atMs = end - span + Math.floor((i / ENTRIES) * span);
          const at = new Date(atMs).toISOString();
          const points = int(LOTS_PER_ENTRY, 800);
          const entryId = postAccrual(j, member, at, points, `bench:O${i}`);
          // Split the credit over several lots, each expiring when init's rules say (rolling 365 days in the
          // ledger's zone; ledger verify checks it): the entries' 400 days spread them over 14 months.
          const exp = expiresOn({ policy: 'rolling-days', days: 365 }, atMs, 'Asia/Shanghai');
          let left = points;
          for (let k = 0; k < LOTS_PER_ENTRY; k++) {
            const p = k === LOTS_PER_ENTRY - 1 ? left : Math.max(1, Math.floor(points / LOTS_PER_ENTRY));
            left -= p;
            j.createLot(entryId, member, p, at, exp);
          }
          l.nowIso = at;
          l.now = new Date(atMs); // the debit below is as of that day: lapsed lots are judged on it
          // Every fifth entry a redemption, every fiftieth a manual debit (an adjust): lot moves for the as-of
          // replay. (Not an expiry: verify holds an expiry entry to lapsed lots and a run date, expiry:DATE.)
          if (i % 5 === 4 || i % 50 === 49) {
            const who = mid(int(1, MEMBERS));
            const row = m.get(who);
            // what the member can spend on that day: lapsed lots are not spendable, posted or not (SPEC §7)
            const spendable = row.balance - row.held - store.get(books).lapsedOf(who, localDate(atMs, 'Asia/Shanghai'));
            const take = Math.min(spendable, int(10, 600));
            if (take > 0) {
              const kind = i % 50 === 49 ? 'adjust' : 'redemption';
              debitPoints(l, { memberId: who, points: take, at, kind, to: kind === 'adjust' ? 'adjusted' : 'redeemed', allowDebt: false, ref: `bench:${kind}${i}` });
            }
          }
        }
      });
      process.stderr.write(`\rbuilding ledger: ${Math.min(ENTRIES, b + BATCH)}/${ENTRIES} accruals`);
    }
  });
}

function time(args, env = {}) {
  const runs = [];
  let last;
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    last = spawnSync(process.execPath, args, { env: { ...process.env, POINTSMALL_NOW: NOW, NO_COLOR: '1', ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (last.status !== 0) throw new Error(`${args.join(' ')} exited ${last.status}: ${last.stderr}`);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]), runsMs: runs.map(Math.round), stdout: last.stdout };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  let db = process.env.BENCH_LEDGER;
  if (!db) {
    db = join(OUT, `reports-ledger-${ENTRIES}-${MEMBERS}-${LOTS_PER_ENTRY}-${ledgerFormatTag()}.db`);
    if (!existsSync(db)) await buildLedger(db);
  }
  const cli = (...a) => [BIN, '--db', db, ...a];
  const baseline = time(['-e', '0']);
  const info = JSON.parse(time(cli('db', 'info', '--json')).stdout);
  const results = [];
  const scenario = (name, args, limitMs) => {
    const r = time(args);
    results.push({ name, medianMs: r.medianMs, runsMs: r.runsMs, limitMs: limitMs ?? null, ok: limitMs ? r.medianMs < limitMs : null });
    process.stderr.write(`${name.padEnd(36)} ${String(r.medianMs).padStart(7)} ms${limitMs ? `  (limit ${limitMs} ms)` : ''}\n`);
    return r;
  };
  const liab = scenario('report liability', cli('report', 'liability', '--json'), LIMIT_MS);
  scenario('report liability --as-of (replay)', cli('report', 'liability', '--as-of', '2026-06-30', '--json'), LIMIT_MS);
  const verify = scenario('ledger verify', cli('ledger', 'verify', '--json'), LIMIT_MS);
  scenario('report summary', cli('report', 'summary', '--json'));
  scenario('report activity --by month', cli('report', 'activity', '--by', 'month', '--json'));
  scenario('report members --top 20', cli('report', 'members', '--top', '20', '--json'));
  scenario('report expiring --within 30d', cli('report', 'expiring', '--within', '30d', '--json'));
  scenario('report segments', cli('report', 'segments', '--json'));
  const out = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    ledger: { path: db, bytes: statSync(db).size, counts: info.counts ?? info },
    baseline: { 'node -e 0': baseline.medianMs },
    outstandingPoints: JSON.parse(liab.stdout).outstandingPoints,
    verifyOk: JSON.parse(verify.stdout).ok,
    results,
  };
  writeFileSync(join(OUT, 'reports.json'), JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`baseline node -e 0: ${baseline.medianMs} ms; wrote bench/out/reports.json\n`);
  if (results.some((r) => r.ok === false)) process.exitCode = 1;
}

await main();
