#!/usr/bin/env node
// Which shared test files the postgres project of `npm test` runs (PG_CORE in vitest.config.ts): runs every
// shared file on PostgreSQL with V8 block coverage of every process it spawns (NODE_V8_COVERAGE; worker
// threads included), keeps the blocks of dist/store each file reaches, and prints the files that reach
// them all: first those that reach a block no other file does, then, of the rest, the most new blocks per
// second each time. About an hour on two cores; needs a build (npm run build) and a server:
//   read -r url dir < <(.ci/pg-server start); POINTSMALL_TEST_PG="$url" .ci/pg-coverage.mjs; .ci/pg-server stop "$dir"
// (Files named as arguments: those only.)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.POINTSMALL_TEST_PG) throw new Error('POINTSMALL_TEST_PG must name a PostgreSQL server (.ci/pg-server start)');
const root = new URL('..', import.meta.url).pathname;
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const env = { ...process.env, POINTSMALL_LONG: '1', NO_COLOR: '1' };
const listed = execFileSync(vitest, ['list', '--project', 'postgres', '--filesOnly'], { cwd: root, env, encoding: 'utf8' });
const only = process.argv.slice(2); // (some files only: to try the script)
const files = [...new Set(listed.split('\n').map((l) => l.trim().split(/\s+/).pop()).filter((f) => f?.endsWith('.test.ts')))]
  .filter((f) => !only.length || only.includes(f))
  .sort();
const work = mkdtempSync(join(tmpdir(), 'pg-coverage-'));

/** Each spawned process's ranges in dist/store: url → [start, end, count][]. */
function reduce(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const o = {};
    for (const s of JSON.parse(readFileSync(join(dir, f), 'utf8')).result) {
      if (!s.url.includes('/dist/store/')) continue;
      o[s.url.split('/dist/')[1]] = s.functions.flatMap((fn) => fn.ranges.map((r) => [r.startOffset, r.endOffset, r.count]));
    }
    if (Object.keys(o).length) out.push(o);
  }
  return out;
}

function run(file) {
  const dir = join(work, file.replace(/\//g, '_'));
  const started = Date.now();
  return new Promise((done) => {
    const p = spawn(vitest, ['run', '--project', 'postgres', file], { cwd: root, env: { ...env, NODE_V8_COVERAGE: dir }, stdio: 'ignore' });
    p.on('close', (code) => {
      const seconds = (Date.now() - started) / 1000;
      const procs = reduce(dir);
      rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`${file}: ${code === 0 ? 'passed' : `exit ${code}`}, ${seconds.toFixed(0)} s, ${procs.length} processes\n`);
      done({ file, seconds, procs });
    });
  });
}

const results = [];
const queue = [...files];
await Promise.all([0, 1].map(async () => {
  while (queue.length) results.push(await run(queue.shift()));
}));

// The blocks: every range any process reported, per script. A process reaches a block when the innermost
// of its own ranges around it ran (V8 reports a block only where its count differs from the enclosing one).
const universe = new Map();
for (const r of results) for (const p of r.procs) for (const [url, ranges] of Object.entries(p)) {
  const set = universe.get(url) ?? universe.set(url, new Set()).get(url);
  for (const [a, b] of ranges) set.add(`${a},${b}`);
}
const blocks = [];
const offset = new Map();
for (const [url, set] of universe) {
  offset.set(url, blocks.length);
  for (const k of [...set].map((x) => x.split(',').map(Number)).sort((x, y) => x[0] - y[0] || y[1] - x[1])) blocks.push([url, ...k]);
}
function reached(ranges, url, out) {
  const sorted = ranges.slice().sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  const open = [];
  let j = 0;
  for (let i = offset.get(url); i < blocks.length && blocks[i][0] === url; i++) {
    const [, a, b] = blocks[i];
    while (j < sorted.length && sorted[j][0] <= a) open.push(sorted[j++]);
    let k = open.length - 1;
    while (k >= 0 && !(open[k][0] <= a && open[k][1] >= b)) k--;
    if (k >= 0 && open[k][2] > 0) out.add(i);
  }
}
const reach = new Map(results.map((r) => {
  const out = new Set();
  for (const p of r.procs) for (const [url, ranges] of Object.entries(p)) reached(ranges, url, out);
  return [r.file, out];
}));
const all = new Set([...reach.values()].flatMap((s) => [...s]));
const owners = new Map();
for (const [f, s] of reach) for (const i of s) owners.set(i, [...(owners.get(i) ?? []), f]);
const chosen = new Set(files.filter((f) => [...reach.get(f)].some((i) => owners.get(i).length === 1)));
const got = new Set([...chosen].flatMap((f) => [...reach.get(f)]));
const seconds = new Map(results.map((r) => [r.file, r.seconds]));
const unique = [...chosen];
const rest = [];
while (got.size < all.size) {
  let best = null;
  for (const f of files) {
    if (chosen.has(f)) continue;
    const n = [...reach.get(f)].filter((i) => !got.has(i)).length;
    if (n && (!best || n / seconds.get(f) > best.n / seconds.get(best.f))) best = { f, n };
  }
  chosen.add(best.f);
  rest.push(best.f);
  for (const i of reach.get(best.f)) got.add(i);
}
const total = (list) => list.reduce((s, f) => s + seconds.get(f), 0).toFixed(0);
console.log(`${all.size} blocks of dist/store reached on PostgreSQL by ${files.length} files in ${total(files)} s; ${chosen.size} files reach them all in ${total([...chosen])} s:`);
console.log('  // each reaches store code no other shared file does');
for (const f of unique) console.log(`  '${f}',`);
console.log('  // then the fewest seconds for the rest');
for (const f of rest) console.log(`  '${f}',`);
rmSync(work, { recursive: true, force: true });
