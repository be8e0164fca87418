// The command an import prints for its fixed rejects file: the options it was given, as typed, in a form
// a POSIX shell reads back; the rejects file is UTF-8 whatever the input was, so an encoding becomes utf8.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rejectsAgainOptions, repeatOptions, shellWord } from '../../src/cli/words.js';

describe('repeatOptions', () => {
  it('keeps the named options with their values, and the named flags, in the order typed; leaves the rest', () => {
    const argv = ['import', 'purchases', 'f.csv', '--source', 'till', '--dry-run', '--map=sku=Code', '--skip-guests', '--rejects', 'r.csv', '--map', 'order_id=No'];
    expect(repeatOptions(['--source', '--map'], ['--skip-guests'], argv)).toEqual(['--source', 'till', '--map=sku=Code', '--skip-guests', '--map', 'order_id=No']);
    expect(repeatOptions(['--source'], [], ['f.csv', '--', '--source', 'x'])).toEqual([]); // operands after --
  });
});

describe('rejectsAgainOptions', () => {
  it('turns a given encoding into utf8 (the rejects file is UTF-8), and adds it after a --profile, which may hold one', () => {
    expect(rejectsAgainOptions(['--source'], [], ['x.csv', '--encoding', 'gbk', '--source', 's'])).toEqual(['--source', 's', '--encoding', 'utf8']);
    expect(rejectsAgainOptions(['--source'], [], ['x.csv', '--encoding=latin1'])).toEqual(['--encoding', 'utf8']);
    expect(rejectsAgainOptions(['--profile'], [], ['x.csv', '--profile', 'p.json'])).toEqual(['--profile', 'p.json', '--encoding', 'utf8']);
    expect(rejectsAgainOptions(['--source'], [], ['x.csv'])).toEqual([]);
  });
});

describe('shellWord', () => {
  it('a shell reads every word back as it was (bare when plain, quoted otherwise)', () => {
    expect(shellWord('--source')).toBe('--source');
    expect(shellWord('till shop')).toBe("'till shop'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 4 }), (words) => {
        const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellWord).join(' ')}`], { encoding: 'utf8' });
        expect(out.split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 40 },
    );
  });
});
