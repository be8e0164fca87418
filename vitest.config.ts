import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The suites every backend must pass alike: run on SQLite always, and on PostgreSQL too when
// POINTSMALL_TEST_PG names a server (.ci/run starts one). The rest are about SQLite's file itself
// (its modes, WAL, pages, crash recovery, tampering through sqlite3) or about pure code.
export const SHARED = [
  'test/e2e/**/*.test.ts',
  'test/services/**/*.test.ts',
  'test/reliability/concurrency.test.ts',
  'test/reliability/model.property.test.ts',
  'test/reliability/spec4.property.test.ts',
  'test/reliability/spec4.seeds.test.ts',
];
export const SQLITE_ONLY: string[] = [
  'test/e2e/db.test.ts', // backup, restore and migrate of the file itself (PostgreSQL's: test/pg/)
  'test/e2e/outputs.test.ts', // output paths against the ledger's file, its links, -wal and -shm; SQLite's full disk
  'test/e2e/verify.test.ts', // tampering with the file through sqlite3, then verify
  'test/e2e/verify-books.test.ts',
  'test/e2e/verify-key.test.ts',
  'test/e2e/verify-coupons.test.ts',
  'test/e2e/verify-orders.test.ts',
  // no ledger at all, so nothing a backend changes: a second run would repeat the first
  'test/e2e/help.test.ts', // --help of every command, --version: commander's text
  'test/e2e/repeated-options.test.ts', // refused while the options are parsed, before any ledger is opened
  'test/services/importParse-split.test.ts', // reading a CSV into the import's stage (a scratch SQLite file on both backends)
  'test/services/orderFeed.test.ts', // pure assembly of staged rows into orders
  'test/services/outfile.test.ts', // guarded writes of output files
];

// The shared files the postgres project runs in `npm test`. Between them they reach every block of the store
// (dist/store: its SQL, the PostgreSQL worker and dialect) that all the shared files reach on PostgreSQL,
// measured with V8 block coverage of every pointsmall process they spawn (.ci/pg-coverage), in under half
// their time: each of the rest exercises the server through code these run too. `npm run test:long`
// (POINTSMALL_LONG=1) runs every shared file on PostgreSQL. A file added to SHARED runs there only under
// test:long until it is listed here (or .ci/pg-coverage, run again, picks it).
export const PG_CORE = [
  // each reaches store code no other shared file does
  'test/services/import-writer.test.ts',
  'test/e2e/activities.test.ts',
  'test/e2e/anomalies.test.ts',
  'test/e2e/checkout.test.ts',
  'test/e2e/concurrency.test.ts',
  'test/e2e/confirm-terminal.test.ts',
  'test/e2e/foundation.test.ts',
  'test/e2e/import.test.ts',
  'test/e2e/key-mismatch.test.ts',
  'test/e2e/lists.test.ts',
  'test/e2e/simulate.test.ts',
  'test/e2e/terminal-output.test.ts',
  'test/e2e/verified-checkout.test.ts',
  // then the fewest seconds for the rest
  'test/e2e/confirmed-changed.test.ts',
  'test/reliability/concurrency.test.ts',
  'test/e2e/verified-terminal.test.ts',
  'test/e2e/report-flows.test.ts',
  'test/e2e/order-ratio-migration.test.ts',
  'test/e2e/takeback-lapsed.test.ts',
  // the few paths of members, catalog, expire and recommend (270 s together on PostgreSQL) that no file above
  // reaches: member update and --status, catalog update, activate and --category, a repeated --notify,
  // recommendations from returns, redemptions and tiers; measured to reach them all in 16 s
  'test/e2e/edits-and-filters.test.ts',
  // newer than the last measurement
  'test/e2e/return-after-expiry.test.ts',
  // not for its reach: the independent model of SPEC §4 checks every number on this backend too
  'test/reliability/spec4.property.test.ts',
];

// Generous: a test's time is spawned processes, which a loaded machine stretches; no test waits on the clock.
// One id per test run, in every test database's name (pm_t_<run>_…): a run drops only its own databases, and
// at start those of runs no longer alive, so two runs can share one PostgreSQL server.
process.env.POINTSMALL_TEST_RUN ??= String(process.pid);
// Node reads the bundle NODE_EXTRA_CA_CERTS names at every start, TLS or not (40–70 ms a process on a machine
// that sets it): the processes the tests spawn talk no TLS, so they start without it.
delete process.env.NODE_EXTRA_CA_CERTS;

const base = {
  testTimeout: 180_000,
  hookTimeout: 180_000,
  setupFiles: ['test/helpers/fc-seed.ts', 'test/helpers/tmp-cleanup.ts'],
};

export default defineConfig({
  test: {
    pool: 'forks',
    // Most of a test's time is a spawned pointsmall (or the PostgreSQL server) working: two test files at
    // once keep both cores of a small machine busy, where vitest's default (cores - 1) leaves one idle.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { ...base, name: 'sqlite', include: ['test/**/*.test.ts'] } },
      ...(process.env.POINTSMALL_TEST_PG
        ? [
            {
              test: {
                ...base,
                name: 'postgres',
                include: process.env.POINTSMALL_LONG === '1' ? SHARED : PG_CORE,
                exclude: SQLITE_ONLY,
                env: { POINTSMALL_TEST_BACKEND: 'postgres' },
                globalSetup: ['test/helpers/pg-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
