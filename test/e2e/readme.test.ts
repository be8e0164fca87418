// The README is true for a newcomer (issue 20 item 9): its quick start and its crontab run as written,
// with `pointsmall` on the PATH the way the README installs it (a link to bin/pointsmall.js) and
// nothing else: cron's minimal environment, no npx, no shell variables but the ones the crontab sets.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, DEFAULT_NOW, ROOT, tmpDir, tmpLedger } from '../helpers/cli.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first fenced block of `lang` after the text `after`. */
function block(after: string, lang: string): string[] {
  const from = README.indexOf(after);
  expect(from, after).toBeGreaterThanOrEqual(0);
  const open = README.indexOf('```' + lang + '\n', from);
  const close = README.indexOf('\n```', open + 4);
  return README.slice(open + lang.length + 4, close).split('\n');
}

/** A folder holding `pointsmall`, as `npm link` leaves it: a link to the package's bin. */
function installed(): string {
  const bin = join(tmpDir('pointsmall-bin-'), 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, 'pointsmall'));
  return bin;
}

/** /bin/sh with only these variables, as cron runs a job. */
function sh(script: string, env: Record<string, string>, cwd: string) {
  return spawnSync('/bin/sh', ['-c', script], { env, cwd, encoding: 'utf8' });
}

describe('the README', () => {
  it('says how to put pointsmall on the PATH, and how long npm test takes', () => {
    expect(README).toMatch(/npm link +# puts the `pointsmall` command on your PATH/);
    expect(README).toMatch(/npm test +# .*about 16 minutes on two quiet cores with a PostgreSQL server named too/);
    // (every example types the installed command; npx only where the README says it works)
    for (const line of README.split('\n').filter((l) => /^npx pointsmall|\bnpx pointsmall [a-z]/.test(l))) expect(line).toContain('inside this folder');
  });

  it('quick start: "a ledger of your own" runs as written from the checkout, stopping at the first line that fails', () => {
    const lines = block('A ledger of your own', 'sh');
    expect(lines[0]).toBe('mkdir -p ~/shop && export POINTSMALL_DB=~/shop/points.db');
    const home = tmpDir('pointsmall-home-');
    const env = { PATH: `${installed()}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, POINTSMALL_NOW: DEFAULT_NOW, NO_COLOR: '1', CI: '1' };
    const r = sh(`set -e\n${lines.join('\n')}\n`, env, ROOT);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(home, 'shop', 'points.db'))).toBe(true);
    const show = sh('POINTSMALL_DB=~/shop/points.db pointsmall order list --json', env, ROOT);
    expect(JSON.parse(show.stdout)).toHaveLength(1);
  });

  it('its crontab runs under cron\'s environment: only the PATH and POINTSMALL_DB it sets', () => {
    const t = tmpLedger();
    const lines = block('Sample crontab', 'cron');
    const vars = Object.fromEntries(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]));
    expect(Object.keys(vars).sort()).toEqual(['PATH', 'POINTSMALL_DB']);
    const jobs = lines.filter((l) => /^[\d*]/.test(l)).map((l) => l.replace(/^(\S+\s+){5}/, ''));
    expect(jobs).toHaveLength(4);
    // The README's PATH with the folder pointsmall and node are in put first (as it tells the reader to),
    // its folders under a temp root.
    const root = tmpDir('pointsmall-srv-');
    for (const d of ['var/log/pointsmall', 'srv/reports', 'srv/outbox']) mkdirSync(join(root, d), { recursive: true });
    const env = { PATH: `${installed()}:${dirname(process.execPath)}:${vars.PATH}`, POINTSMALL_DB: t.db, POINTSMALL_NOW: DEFAULT_NOW };
    for (const job of jobs) {
      expect(job.startsWith('pointsmall '), job).toBe(true);
      const cmd = job.replace(/\\%/g, '%').replace(/\/(srv|var)\//g, `${root}/$1/`);
      const r = sh(cmd, env, '/');
      expect(r.status, `${job}\n${r.stderr}`).toBe(0);
    }
    expect(readFileSync(join(root, 'var/log/pointsmall/expire.log'), 'utf8')).toContain('"pointsExpired"');
    expect(readdirSync(join(root, 'srv/reports'))).toEqual([expect.stringMatching(/^liability-\d{4}-\d{2}-\d{2}\.csv$/)]);
  });
});
