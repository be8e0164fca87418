// What the bench scripts share: a seeded generator, the median, and the building of cached ledgers.
// Cached ledgers in bench/out/ carry the ledger format in their names (schema version and page size of a
// new ledger), so a change of format rebuilds them.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { LEDGER_PAGE_SIZE } from '../dist/store/db.js';
import { latestVersion } from '../dist/store/migrations/index.js';

export const ledgerFormatTag = () => `v${latestVersion()}p${LEDGER_PAGE_SIZE}`;

/** A small seeded PRNG (mulberry32): the same data on every machine. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A timed spawn with env: run(cmd, args, { allowFail }) → { ms, status, stdout, stderr }; throws on failure unless allowFail. */
export const timedRunner =
  (env) =>
  (cmd, args, opts = {}) => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
    const ms = performance.now() - t0;
    if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
    return { ms, ...r };
  };

/** Peak RSS (MB) and CPU time (user + sys, ms) from `/usr/bin/time -v`'s report on stderr; null where absent. */
export function timeStats(stderr) {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr ?? '');
  const u = /User time \(seconds\): ([\d.]+)/.exec(stderr ?? '');
  const sy = /System time \(seconds\): ([\d.]+)/.exec(stderr ?? '');
  return { rssMb: m ? Math.round(Number(m[1]) / 1024) : null, cpuMs: u && sy ? Math.round((Number(u[1]) + Number(sy[1])) * 1000) : null };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Builds a ledger at path: `pointsmall init` at the given clock, then fill(store, ctx) writes the data
 * (synchronous = OFF: building only; the timed commands open the file normally). Built aside and renamed
 * into place, so an interrupted build leaves no half ledger in the cache.
 */
export async function buildLedgerFile(path, now, fill) {
  const { initLedger } = await import('../dist/services/admin.js');
  const { openStore } = await import('../dist/store/db.js');
  const tmp = `${path}.building`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const t0 = performance.now();
  const ctx = { dbPath: tmp, operator: 'bench', now: new Date(now) };
  await initLedger(ctx, { timezone: 'Asia/Shanghai', currency: 'CNY' });
  const store = openStore(tmp);
  store.db.pragma('synchronous = OFF');
  await fill(store, ctx);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  renameSync(tmp, path);
  for (const f of [`${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  process.stderr.write(`\rbuilt ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** One accrual entry (issued → member) of `points`, as an import posts it; returns its id. */
export function postAccrual(j, member, at, points, ref) {
  return j.post(
    {
      at,
      kind: 'accrual',
      memberId: member,
      ref,
      postings: [
        { account: 'issued', memberId: member, points: -points },
        { account: 'member', memberId: member, points },
      ],
    },
    'bench',
    at,
  );
}
