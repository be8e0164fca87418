// Random operation sequences against the real ledger (in-process services, real SQLite files or
// PostgreSQL databases) and the reference model in test/model: every member's balance, available and lots
// agree after every step. Fewer runs on PostgreSQL by default (ledgerRuns); POINTSMALL_LONG: 400 on both.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { ledgerRuns } from '../helpers/cli.js';
import { loadServices, opArb, runScenario, type Op, type RunStats } from './harness.js';

// Three members exist from the start, so most operations touch someone.
const PREFIX: Op[] = [0, 1, 2].map((m) => ({ kind: 'addMember', m }));

const LONG = process.env.POINTSMALL_LONG === '1';
export const stats: RunStats = { ops: 0, comparisons: 0, ms: {} };

describe('the ledger agrees with the reference model', () => {
  it('after every step of random operation sequences', async () => {
    const s = await loadServices();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb(s.features), { minLength: 5, maxLength: LONG ? 150 : 50, size: LONG ? 'large' : 'medium' }), (ops) => runScenario(s, [...PREFIX, ...ops], stats)),
        { numRuns: Number(process.env.POINTSMALL_RUNS ?? (LONG ? 400 : ledgerRuns(20))), interruptAfterTimeLimit: LONG ? 1_500_000 : 50_000 },
      );
    } finally {
      stats.over = true;
    }
    process.stderr.write(`model property: features [${[...s.features].join(', ')}], ${stats.ops} operations, ${stats.comparisons} member comparisons ${JSON.stringify(stats.kinds)} ms ${JSON.stringify(stats.ms, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}\n`);
  }, LONG ? 1_800_000 : 600_000);
});
