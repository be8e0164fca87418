// Global setup of the postgres project: drops the test databases (pm_t_…) when the run ends, and any a
// killed run left behind when it starts (one psql for them all: a run makes hundreds).
import { spawnSync } from 'node:child_process';

function dropAll(): void {
  const base = process.env.POINTSMALL_TEST_PG;
  if (!base) return;
  const list = spawnSync('psql', [base, '-qXAtc', "SELECT datname FROM pg_database WHERE datname LIKE 'pm\\_t\\_%'"], { encoding: 'utf8' });
  const drops = list.stdout
    .split('\n')
    .filter(Boolean)
    .map((name) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE);\n`)
    .join('');
  if (drops) spawnSync('psql', [base, '-qX'], { input: drops, encoding: 'utf8' });
}

export function setup(): () => void {
  dropAll();
  return dropAll;
}
