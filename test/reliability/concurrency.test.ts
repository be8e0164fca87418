// Several real processes at once on one ledger for a bounded time: debits of one member, credits,
// imports, checkouts, expiry runs, reports, verify and backups. Afterwards every balance equals the sum
// of the acknowledged (exit 0) operations, no member's points were spent twice, and every refusal was
// a clean exit 3 (a business rule) or 5 (busy).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runCliAsync, tmpLedger, type RunResult } from '../helpers/cli.js';
import { expectClean, hasCommand } from './checks.js';

const LONG = process.env.POINTSMALL_LONG === '1';
const NOW = '2026-11-23T10:00:00+08:00';
const PAST = '2025-01-10T10:00:00+08:00'; // lots earned then expire (365 days) before NOW

export const concurrencyStats = { operations: 0, acknowledged: 0, refused: 0, busy: 0 };

type Deltas = Record<string, number>;
interface Job {
  name: string;
  argv: string[];
  now?: string;
  /** Per-member balance change of an acknowledged run, from its JSON. */
  deltas?: (json: any) => Deltas; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const has = hasCommand;

describe('concurrency', () => {
  it('processes at once never lose an update nor spend one point twice', async () => {
    const t = tmpLedger({ now: NOW });
    const members = ['shared', 'c1', 'c2', 'old'];
    for (const id of members) t.ok(['member', 'add', '--id', id, '--name', id]);
    const start: Deltas = { shared: 1200, c1: 0, c2: 0, old: 0 };
    t.ok(['member', 'adjust', 'shared', '--points', '1200', '--reason', 'start']);

    const features = { import: has('import', 'purchases'), checkout: has('checkout'), expire: has('expire', 'run') };
    if (features.checkout) t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '3.00']);

    let fileNo = 0;
    let orderNo = 0;
    const debit = (): Job => ({ name: 'debit shared', argv: ['member', 'adjust', 'shared', '--points', '-170', '--reason', 'spend', '--yes'], deltas: () => ({ shared: -170 }) });
    const jobs: (() => Job)[] = [
      debit,
      () => ({ name: 'debit shared', argv: ['member', 'adjust', 'shared', '--points', '-170', '--reason', 'spend', '--yes'], deltas: () => ({ shared: -170 }) }),
      () => ({ name: 'credit c1', argv: ['member', 'adjust', 'c1', '--points', '7', '--reason', 'gift'], deltas: () => ({ c1: 7 }) }),
      () => ({ name: 'backdated credit old', argv: ['member', 'adjust', 'old', '--points', '11', '--reason', 'old'], now: PAST, deltas: () => ({ old: 11 }) }),
      () => ({ name: 'report', argv: has('report', 'summary') ? ['report', 'summary', '--format', 'json'] : ['member', 'list'] }),
      () => ({ name: 'verify', argv: ['ledger', 'verify'] }),
      () => ({ name: 'backup', argv: ['db', 'backup', join(t.dir, `backup-${fileNo++}.db`)] }),
    ];
    if (features.import)
      jobs.push(() => {
        const f = join(t.dir, `p-${fileNo++}.csv`);
        const o = orderNo++;
        writeFileSync(f, `order_id,member_id,purchased_at,amount\nC${o},c2,2026-11-20T10:00:00+08:00,12.99\n`);
        return { name: 'import c2', argv: ['import', 'purchases', f], deltas: (j) => ({ c2: j.pointsAccrued - j.pointsReturned }) };
      });
    if (features.checkout)
      for (const points of ['--max-points', '--points=250'])
        jobs.push(() => ({
        name: 'checkout shared',
        argv: ['checkout', '--member', 'shared', '--item', 'TEA', points, '--yes'],
        deltas: (j) => ({ shared: j.pointsEarned - j.pointsUsed }),
      }));
    if (features.expire)
      jobs.push(() => ({ name: 'expire', argv: ['expire', 'run'], deltas: (j) => ({ old: -j.pointsExpired }) }));

    const total: Deltas = { ...start };
    const results: { job: Job; r: RunResult }[] = [];
    // At least MIN_OPS operations however slow the machine (enough to run the shared member dry), and more
    // until the deadline on a fast one: the count, not the clock, decides what the test exercises.
    const deadline = Date.now() + (LONG ? 60_000 : 6_000);
    const MIN_OPS = 45;
    const workers = 5;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < MIN_OPS || Date.now() < deadline) {
          const job = jobs[next++ % jobs.length]();
          const r = await runCliAsync([...job.argv, '--json'], { db: t.db, now: job.now ?? NOW, env: { POINTSMALL_BUSY_TIMEOUT: '8000' } });
          results.push({ job, r });
        }
      }),
    );

    for (const { job, r } of results) {
      concurrencyStats.operations++;
      const what = `${job.name}: ${job.argv.join(' ')}`;
      expectClean(r, what);
      expect([0, 3, 5], `${what}: ${r.stderr}`).toContain(r.code);
      if (r.code === 0) {
        concurrencyStats.acknowledged++;
        for (const [m, d] of Object.entries(job.deltas?.(r.json()) ?? {})) total[m] = (total[m] ?? 0) + d;
      } else {
        expect(r.stdout, what).toBe('');
        const err = JSON.parse(r.stderr.trim().split('\n').pop()!).error;
        if (r.code === 3) concurrencyStats.refused++;
        if (r.code === 5) concurrencyStats.busy++;
        expect(err.code, what).toBeTruthy();
      }
    }
    // Verify run during the writes saw a consistent snapshot every time.
    expect(results.filter((x) => x.job.name === 'verify' && x.r.code !== 0 && x.r.code !== 5)).toEqual([]);
    for (const m of members) {
      const show = t.ok(['member', 'show', m]);
      expect(show.balance, `member ${m}`).toBe(total[m]);
      expect(show.available, `member ${m}`).toBeGreaterThanOrEqual(0);
    }
    expect(results.filter((x) => x.job.name === 'debit shared' && x.r.code === 0).length).toBeGreaterThan(0);
    expect(t.verify().ok).toBe(true);
    expect(concurrencyStats.refused).toBeGreaterThan(0); // the shared member ran dry: refusals were exercised
    process.stderr.write(`reliability figures (concurrency): ${JSON.stringify(concurrencyStats)}\n`);
    for (const { job, r } of results) if (job.name === 'backup' && r.code === 0) expect(runCli(['ledger', 'verify'], { db: r.json().backup }).code).toBe(0);
  }, 300_000);

  it('eight debits fired at once on one member: exactly as many succeed as the balance covers', async () => {
    const t = tmpLedger({ now: NOW });
    t.ok(['member', 'add', '--id', 'x', '--name', 'X']);
    t.ok(['member', 'adjust', 'x', '--points', '1000', '--reason', 'start']);
    const rs = await Promise.all(
      Array.from({ length: 8 }, () => runCliAsync(['member', 'adjust', 'x', '--points', '-400', '--reason', 'race', '--yes', '--json'], { db: t.db, now: NOW, env: { POINTSMALL_BUSY_TIMEOUT: '10000' } })),
    );
    for (const r of rs) expectClean(r, 'debit race');
    concurrencyStats.operations += rs.length;
    expect(rs.filter((r) => r.code === 0).length).toBe(2);
    expect(rs.filter((r) => r.code === 3).length).toBe(6);
    expect(rs.filter((r) => r.code === 3).every((r) => JSON.parse(r.stderr.trim()).error.code === 'INSUFFICIENT_POINTS')).toBe(true);
    expect(t.ok(['member', 'show', 'x']).balance).toBe(200);
    expect(t.verify().ok).toBe(true);
  });

  it('six checkouts fired at once on one member spend its points at most once', async () => {
    if (!hasCommand('checkout')) return;
    const t = tmpLedger({ now: NOW });
    t.ok(['member', 'add', '--id', 'x', '--name', 'X']);
    t.ok(['member', 'adjust', 'x', '--points', '1000', '--reason', 'start']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '5.00', '--stock', '100']);
    const rs = await Promise.all(
      Array.from({ length: 6 }, () =>
        runCliAsync(['checkout', '--member', 'x', '--item', 'CUP', '--points', '400', '--tender', 'card', '--yes', '--json'], { db: t.db, now: NOW, env: { POINTSMALL_BUSY_TIMEOUT: '10000' } }),
      ),
    );
    for (const r of rs) expectClean(r, 'checkout race');
    concurrencyStats.operations += rs.length;
    const paid = rs.filter((r) => r.code === 0).map((r) => r.json());
    expect(paid.length).toBe(2);
    expect(rs.filter((r) => r.code === 3).length).toBe(4);
    const earned = paid.reduce((a, p) => a + p.pointsEarned, 0);
    const m = t.ok(['member', 'show', 'x']);
    expect(m.balance).toBe(1000 - 800 + earned);
    expect(m.held).toBe(0);
    expect(t.ok(['catalog', 'show', 'CUP']).stock).toBe(98);
    expect(t.verify().ok).toBe(true);
  });
});
