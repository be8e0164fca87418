// Shell completion (issue 20 item 6): scripts generated from the command tree, with ids from the ledger.
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, tmpDir, tmpLedger } from '../helpers/cli.js';

describe('completion (issue 20 item 6)', () => {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'M-4711', '--name', 'Wang Fang']);
  t.ok(['catalog', 'add', '--sku', 'TEA-9', '--name', 'Tea', '--price', '10.00']);
  // a `pointsmall` on PATH, as an installed package would be
  const bin = tmpDir();
  writeFileSync(join(bin, 'pointsmall'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'pointsmall'), 0o755);

  it('__complete lists member ids and SKUs from the ledger, and nothing without one', () => {
    expect(t.run(['__complete', 'members']).stdout.split('\n')).toContain('M-4711');
    expect(t.run(['__complete', 'skus']).stdout.split('\n')).toContain('TEA-9');
    const none = runCli(['__complete', 'members'], { db: join(tmpDir(), 'missing.db') });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
  });

  it('the bash script is valid bash and completes commands, options and member ids', () => {
    const script = join(t.dir, 'pointsmall.bash');
    writeFileSync(script, t.run(['completion', 'bash']).stdout);
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    // --json gives one JSON document holding the same script (trial 32: it printed the bare script)
    expect(t.ok(['completion', 'bash'])).toEqual({ shell: 'bash', script: t.run(['completion', 'bash']).stdout });
    const complete = (words: string[]) => {
      const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pointsmall; printf '%s\\n' "\${COMPREPLY[@]}"`, 'x', script], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, POINTSMALL_DB: t.db, NO_COLOR: '1' },
      });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(complete(['pointsmall', 'mem'])).toEqual(['member']);
    expect(complete(['pointsmall', 'member', 'sh'])).toEqual(['show']);
    expect(complete(['pointsmall', 'order', 'list', '--fr'])).toEqual(['--from']);
    expect(complete(['pointsmall', 'member', 'show', 'M-'])).toEqual(['M-4711']);
    expect(complete(['pointsmall', 'checkout', '--member', ''])).toEqual(['M-4711']);
    expect(complete(['pointsmall', 'checkout', '--item', 'TE'])).toEqual(['TEA-9']);
  });

  it('zsh and fish scripts are printed for the same tree; an unknown shell is exit 2', () => {
    const zsh = t.run(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^autoload -U \+X bashcompinit && bashcompinit$/m);
    expect(zsh.stdout).toContain('complete -o default -F _pointsmall pointsmall');
    const fish = t.run(['completion', 'fish']).stdout;
    expect(fish).toContain("complete -c pointsmall -n '__pointsmall_at \\'member\\'' -a 'show'");
    expect(fish).toContain('__complete members');
    expect(t.run(['completion', 'tcsh']).code).toBe(2);
  });
});
