// Global setup of the postgres project: drops the test databases (pm_t_…) when the run ends, and any a
// killed run left behind when it starts.
import { spawnSync } from 'node:child_process';

function dropAll(): void {
  const base = process.env.POINTSMALL_TEST_PG;
  if (!base) return;
  const list = spawnSync('psql', [base, '-qXAtc', "SELECT datname FROM pg_database WHERE datname LIKE 'pm\\_t\\_%'"], { encoding: 'utf8' });
  for (const name of list.stdout.split('\n').filter(Boolean)) spawnSync('psql', [base, '-qXc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}

export function setup(): () => void {
  dropAll();
  return dropAll;
}
