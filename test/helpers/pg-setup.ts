// Global setup of the postgres project: drops this run's test databases (pm_t_<run>_…) when the run ends, and
// at start those of runs no longer alive (a killed run's), leaving a concurrent run's alone. One psql for them
// all: a run makes hundreds. The run id is the vitest process's pid (vitest.config.ts).
import { spawnSync } from 'node:child_process';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function drop(which: (run: number) => boolean): void {
  const base = process.env.POINTSMALL_TEST_PG;
  if (!base) return;
  const list = spawnSync('psql', [base, '-qXAtc', "SELECT datname FROM pg_database WHERE datname LIKE 'pm\\_t\\_%'"], { encoding: 'utf8' });
  const drops = list.stdout
    .split('\n')
    .filter((name) => name && which(Number(name.split('_')[2])))
    .map((name) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE);\n`)
    .join('');
  if (drops) spawnSync('psql', [base, '-qX'], { input: drops, encoding: 'utf8' });
}

export function setup(): () => void {
  const run = Number(process.env.POINTSMALL_TEST_RUN ?? process.pid);
  drop((r) => r !== run && !alive(r));
  return () => drop((r) => r === run);
}
