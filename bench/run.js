#!/usr/bin/env node
// npm run bench: runs every SPEC §6 scenario (each a script beside this one that writes bench/out/NAME.json),
// then writes docs/benchmarks.md with each figure beside the machine's own baseline.
// Pick scenarios with: npm run bench -- import expiry; re-render only: node bench/run.js --report-only
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const SCENARIOS = [
  { name: 'import', script: 'import.js', target: 'import with accrual within 6× of `sqlite3 .import`, peak RSS < 300 MB' },
  { name: 'expiry', script: 'expiry.js', target: 'expiry run over 1,000,000 lots < 5 s' },
  { name: 'checkout', script: 'checkout.js', target: '`member show` and one-shot `checkout` within 3× of `node -e 0`' },
  { name: 'reports', script: 'reports.js', target: '`report liability` and `ledger verify` < 10 s' },
  {
    name: 'postgres',
    script: 'postgres.js',
    target: 'the same on PostgreSQL: import within 6× of `psql \\copy` of the same file, peak RSS < 300 MB; expiry over 1,000,000 lots < 5 s; `report liability` and `ledger verify` < 10 s',
  },
  {
    name: 'analysis',
    script: 'analysis.js',
    target: 'issue 19: `rules simulate` on the 1M-line bench ledger < 10 s, and `report recommend` on it; neither may change the ledger file',
    issue: true,
  },
  { name: 'recommend', script: 'recommend.js', target: 'issue 19: `report recommend` hit-rate@10 on a time split above the most-popular baseline, on generated data and on public retail samples (fixtures/online-retail-uci-sample.csv, fixtures/online-retail-uci-days-sample.csv, fixtures/online-retail-uci-week-sample.csv, fixtures/online-retail-uci-year-sample.csv and fixtures/groceries-sample.csv, imported with `import purchases`)', issue: true },
];

const reportOnly = process.argv.includes('--report-only'); // re-render docs/benchmarks.md from bench/out
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const chosen = reportOnly ? [] : SCENARIOS.filter((s) => !wanted.length || wanted.includes(s.name));
let failedToRun = 0;
for (const s of chosen) {
  process.stderr.write(`\n=== bench ${s.name} ===\n`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', s.script)], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) {
    failedToRun++;
    process.stderr.write(`bench ${s.name} exited ${r.status}\n`);
  }
}

/** "members 50,000, lots 1,000,000" from a flat or nested object (paths left out). */
const describe = (o) =>
  Object.entries(o)
    .filter(([k]) => k !== 'path')
    .map(([k, v]) => (v && typeof v === 'object' ? describe(v) : `${k} ${typeof v === 'number' ? v.toLocaleString('en') : v}`))
    .join(', ');
const fmtMs = (ms) => (ms == null ? '' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const lines = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model?.trim() ?? '?'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Whole-process wall times, medians of several runs; ` +
    'each figure beside the baseline this machine measured in the same run.',
  '',
];
// A scenario not run now (no bench/out file: another machine's clone, or `npm run bench -- recommend`)
// keeps the figures the page holds for it, with their own "Measured at" time.
const page = join(ROOT, 'docs', 'benchmarks.md');
const HAND = '## Notes kept by hand';
const previous = existsSync(page) ? readFileSync(page, 'utf8') : '';
const previousBody = (name) => {
  const block = previous.split(HAND)[0].split(/^## /m).find((b) => b.startsWith(`${name}\n`));
  if (!block) return null;
  const body = block.split('\n').slice(1);
  const target = body.findIndex((l) => l.startsWith('Target ('));
  return body.slice(target + 1).join('\n').replace(/^\n+|\n+$/g, '');
};
let allOk = true;
for (const s of SCENARIOS) {
  const file = join(OUT, `${s.name}.json`);
  lines.push(`## ${s.name}`, '', s.issue ? `Target (${s.target}).` : `Target (SPEC §6): ${s.target}.`, '');
  if (!existsSync(file)) {
    const kept = previousBody(s.name);
    if (kept && kept !== '_not measured in this run_' && kept.includes('| ✗ |')) allOk = false;
    lines.push(kept || '_not measured in this run_', '');
    continue;
  }
  const data = JSON.parse(readFileSync(file, 'utf8'));
  if (data.ledger) lines.push(`Data: ${describe(data.ledger)}.`, '');
  if (data.input) lines.push(`Input: ${describe(data.input)}.`, '');
  if (s.name === 'recommend') {
    // hit rates, not times
    lines.push('| measurement | recommender | most popular | ok |', '| --- | --- | --- | --- |');
    const pct = (x) => (x == null ? '-' : `${(x * 100).toFixed(1)}%`);
    for (const r of data.results ?? []) {
      if (r.ok === false) allOk = false;
      lines.push(`| ${r.name} | ${pct(r.value)} | ${pct(r.baseline)} | ${r.ok ? '✓' : '✗'} |`);
    }
    if (data.notes) lines.push('', ...[].concat(data.notes));
    lines.push('', `Measured at ${data.at ?? '?'}.`, '');
    continue;
  }
  const baseline = data.baseline ?? {};
  lines.push(`Baseline: ${Object.entries(baseline).filter(([, v]) => typeof v === 'number').map(([k, v]) => `\`${k}\` ${fmtMs(v)}`).join(', ') || '-'}`, '');
  lines.push('| measurement | median | vs baseline | limit | peak RSS | ok |', '| --- | --- | --- | --- | --- | --- |');
  for (const r of data.results ?? []) {
    const ratio = r.ratio ?? r.ratioToNode ?? r.ratioToBaseline;
    const limit = r.limitMs != null ? fmtMs(r.limitMs) : r.limitRatio != null ? `${r.limitRatio}×` : '';
    const rss = r.peakRssMb != null ? `${r.peakRssMb} MB` : '';
    if (r.ok === false) allOk = false;
    lines.push(`| ${r.name} | ${fmtMs(r.medianMs)} | ${ratio != null ? `${ratio}×` : ''} | ${limit} | ${rss} | ${r.ok === true ? '✓' : r.ok === false ? '✗' : ''} |`);
  }
  if (data.notes) lines.push('', ...[].concat(data.notes));
  lines.push('', `Measured at ${data.at ?? '?'}.`, '');
}
// Notes written by hand at the end of the page (one-off measurements) are kept as they are.
const kept = previous ? previous.split(HAND)[1] : undefined;
if (kept !== undefined) lines.push(HAND + kept.replace(/\n+$/, ''), '');
writeFileSync(page, lines.join('\n'));
process.stderr.write(`\nwrote docs/benchmarks.md${allOk ? '' : ' (some targets missed: see the ✗ rows)'}\n`);
process.exitCode = failedToRun ? 1 : 0;
