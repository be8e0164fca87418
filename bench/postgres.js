#!/usr/bin/env node
// The SPEC §6 targets on the PostgreSQL backend, written to bench/out/postgres.json:
// - `import purchases` of the same 1,000,000-row file as bench/import.js into a ledger with 50,000 members,
//   beside `psql -c "\copy … from …"` of that file into a bare table (within 6×, peak RSS < 300 MB);
// - `expire run` over the 1,000,000 lots of bench/expiry.js's ledger, copied into PostgreSQL (< 5 s);
// - `report liability` and `ledger verify` on bench/reports.js's ledger, copied likewise (< 10 s each).
// The server: POINTSMALL_BENCH_PG (a URL of a database the role may CREATE DATABASE from), or a
// throwaway one started with .ci/pg-server. Needs the SQLite ledgers the other scenarios cache in
// bench/out/ (run them first: npm run bench does). Sizes: BENCH_RUNS (default 3). BENCH_ONLY=import (or
// expiry, reports; several separated by commas) runs those parts alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timedRunner } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'pointsmall.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY;
const part = (name) => !ONLY || ONLY.split(',').map((x) => x.trim()).includes(name);
const NOW = '2026-11-23T10:00:00+08:00';
const env = { ...process.env, POINTSMALL_NOW: NOW, POINTSMALL_OPERATOR: 'bench', NO_COLOR: '1' };
delete env.POINTSMALL_DB;

const run = timedRunner(env);

let server = null;
let base = process.env.POINTSMALL_BENCH_PG;
if (!base) {
  const s = run(join(ROOT, '.ci', 'pg-server'), ['start']);
  const [url, dir] = s.stdout.trim().split(/\s+/);
  base = url;
  server = dir;
}
const at = (name) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};
const psql = (sql, db = base) => run('psql', [db, '-qXAtc', sql]);
const recreate = (name, template) => {
  psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  psql(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
};
const find = (prefix) => readdirSync(OUT).find((f) => f.startsWith(prefix) && f.endsWith('.db'));
/** A cached SQLite ledger of another scenario, upgraded to this schema in a scratch copy, copied into database `name`. */
function fromCache(file, name) {
  const scratch = join(OUT, 'pg-source.db');
  for (const x of ['', '-wal', '-shm', `.v${/-v(\d+)p/.exec(file)?.[1]}.bak`]) rmSync(scratch + x, { force: true });
  copyFileSync(join(OUT, file), scratch);
  run(process.execPath, [BIN, 'db', 'migrate', '--db', scratch, '--json']);
  recreate(name);
  const c = run(process.execPath, [BIN, 'db', 'copy', '--db', scratch, '--to', at(name), '--json']);
  for (const f of readdirSync(OUT)) if (f.startsWith('pg-source.db')) rmSync(join(OUT, f), { force: true });
  return c.ms;
}

const results = [];
const notes = [];
const baseline = {};
const ledger = {};
try {
  // ---- import ----
  if (part('import')) {
    const csv = join(OUT, 'purchases-1000000.csv');
    const members = join(OUT, 'members-50000.csv');
    if (!existsSync(csv) || !existsSync(members)) throw new Error('bench/out has no 1M-row purchases file: run `npm run bench -- import` first');
    recreate('pm_bench_tpl');
    run(process.execPath, [BIN, 'init', '--db', at('pm_bench_tpl'), '--timezone', 'Asia/Shanghai', '--currency', 'CNY', '--json']);
    run(process.execPath, [BIN, 'member', 'import', members, '--db', at('pm_bench_tpl'), '--json']);
    const header = spawnSync('head', ['-n', '1', csv], { encoding: 'utf8' }).stdout.trim().split(',');
    const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
    const copyMs = [];
    const importMs = [];
    const rss = [];
    let summary;
    for (let i = 0; i < RUNS; i++) {
      recreate('pm_bench_copy');
      psql(`CREATE TABLE purchases (${header.map((h) => `"${h}" text`).join(', ')})`, at('pm_bench_copy'));
      copyMs.push(run('psql', [at('pm_bench_copy'), '-qXc', `\\copy purchases from '${csv}' csv header`]).ms);
      recreate('pm_bench_run', 'pm_bench_tpl');
      const args = [BIN, 'import', 'purchases', csv, '--db', at('pm_bench_run'), '--skip-guests', '--json'];
      const r = timeBin ? run(timeBin, ['-v', process.execPath, ...args]) : run(process.execPath, args);
      importMs.push(r.ms);
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
      if (m) rss.push(Math.round(Number(m[1]) / 1024));
      summary = JSON.parse(r.stdout);
      process.stderr.write(`run ${i + 1}: psql \\copy ${Math.round(copyMs.at(-1))} ms, import ${Math.round(r.ms)} ms${m ? `, peak RSS ${rss.at(-1)} MB` : ''}\n`);
    }
    const verify = run(process.execPath, [BIN, 'ledger', 'verify', '--db', at('pm_bench_run'), '--json'], { allowFail: true });
    const ratio = Math.round((median(importMs) / median(copyMs)) * 100) / 100;
    const peak = rss.length ? Math.max(...rss) : null;
    baseline['psql \\copy'] = Math.round(median(copyMs));
    results.push({ name: 'import purchases (1M rows, accrual) on PostgreSQL', medianMs: Math.round(median(importMs)), runsMs: importMs.map(Math.round), ratio, limitRatio: 6, peakRssMb: peak, ok: ratio <= 6 && (peak === null || peak < 300) });
    notes.push(
      `Import runs in turns: psql \\copy ${copyMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; import ${importMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; ` +
        `accrued ${summary.pointsAccrued.toLocaleString('en')} points on ${summary.accepted.toLocaleString('en')} orders; ledger verify ${verify.status === 0 ? 'passed' : 'FAILED'} afterwards.`,
    );
    ledger.import = { rows: 1_000_000, members: 50_000 };
  }

  // ---- expiry over 1M lots ----
  const expiryDb = find('expiry-ledger-');
  if (!part('expiry')) {
    // (left out: BENCH_ONLY)
  } else if (expiryDb) {
    const ms = fromCache(expiryDb, 'pm_bench_exp_tpl');
    notes.push(`db copy of ${expiryDb} (${(statSync(join(OUT, expiryDb)).size / 2 ** 20).toFixed(0)} MB, upgraded to this schema first) into PostgreSQL: ${(ms / 1000).toFixed(2)} s, verified, same head hash.`);
    const times = [];
    let res;
    for (let i = 0; i < RUNS; i++) {
      recreate('pm_bench_exp', 'pm_bench_exp_tpl');
      const r = run(process.execPath, [BIN, '--db', at('pm_bench_exp'), 'expire', 'run', '--json']);
      times.push(r.ms);
      res = JSON.parse(r.stdout);
      process.stderr.write(`expiry run ${i + 1}: ${Math.round(r.ms)} ms\n`);
    }
    results.push({ name: `expire run on PostgreSQL (${(res.lots ?? res.lotsExpired ?? 0).toLocaleString('en')} lots)`, medianMs: Math.round(median(times)), runsMs: times.map(Math.round), limitMs: 5000, ok: median(times) < 5000 });
    psql('DROP DATABASE IF EXISTS pm_bench_exp WITH (FORCE)');
    psql('DROP DATABASE IF EXISTS pm_bench_exp_tpl WITH (FORCE)');
  } else notes.push('expiry: no cached expiry ledger in bench/out (run `npm run bench -- expiry` first)');

  // ---- reports ----
  const reportsDb = find('reports-ledger-');
  if (!part('reports')) {
    // (left out: BENCH_ONLY)
  } else if (reportsDb) {
    fromCache(reportsDb, 'pm_bench_rep');
    for (const [name, args, limit] of [
      ['report liability on PostgreSQL', ['report', 'liability', '--json'], 10_000],
      ['ledger verify on PostgreSQL', ['ledger', 'verify', '--json'], 10_000],
      ['report summary on PostgreSQL', ['report', 'summary', '--json'], null],
    ]) {
      const times = [];
      for (let i = 0; i < RUNS; i++) times.push(run(process.execPath, [BIN, '--db', at('pm_bench_rep'), ...args]).ms);
      results.push({ name, medianMs: Math.round(median(times)), runsMs: times.map(Math.round), limitMs: limit ?? undefined, ok: limit ? median(times) < limit : undefined });
      process.stderr.write(`${name}: ${Math.round(median(times))} ms\n`);
    }
    psql('DROP DATABASE IF EXISTS pm_bench_rep WITH (FORCE)');
  } else notes.push('reports: no cached reports ledger in bench/out (run `npm run bench -- reports` first)');
  for (const d of ['pm_bench_run', 'pm_bench_copy', 'pm_bench_tpl']) psql(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
} finally {
  if (server) run(join(ROOT, '.ci', 'pg-server'), ['stop', server], { allowFail: true });
}
const version = spawnSync('psql', ['--version'], { encoding: 'utf8' }).stdout.trim();
writeFileSync(
  join(OUT, 'postgres.json'),
  JSON.stringify(
    {
      scenario: 'postgres',
      at: new Date().toISOString(),
      machine: { cores: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
      ledger,
      baseline,
      results,
      notes: [`Server: ${version.replace('psql ', '')} on this machine (loopback; ${server ? 'a throwaway cluster from .ci/pg-server, fsync off' : 'POINTSMALL_BENCH_PG'}).`, ...notes],
    },
    null,
    2,
  ) + '\n',
);
for (const r of results) process.stdout.write(`${r.name.padEnd(55)} ${Math.round(r.medianMs)} ms${r.ratio ? ` (${r.ratio}× psql \\copy)` : ''}${r.ok === false ? '  MISSED' : ''}\n`);
