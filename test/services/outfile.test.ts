// The one guarded way to write a user-named file: temp files made exclusively (a planted symlink is
// never followed), private, cleaned up; targets that are the ledger refused by identity and by path.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { AtomicFile, checkOutput, writeOutputFile } from '../../src/services/outfile.js';
import { ImportStage } from '../../src/store/purchases.js';
import { tmpDir } from '../helpers/cli.js';

describe('outfile', () => {
  it('never follows a symlink planted at a temp file name; the output is 0600 and no temp is left', () => {
    const dir = tmpDir();
    const ledger = join(dir, 'ledger.db');
    writeFileSync(ledger, 'ledger');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious', { mode: 0o644 });
    const out = join(dir, 'report.csv');
    // every name this process could pick next
    const planted = Array.from({ length: 200 }, (_, k) => join(dir, `.${basename(out)}.${process.pid}.${k}.tmp`));
    for (const p of planted) symlinkSync(victim, p);
    writeOutputFile(out, 'a,b\n1,2\n', { ledger, flag: '--out' });
    expect(readFileSync(out, 'utf8')).toBe('a,b\n1,2\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(planted.every((p) => lstatSync(p).isSymbolicLink())).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length).toBe(planted.length);
  });

  it('writes through a symlink: the file it points to gets the output, the link stays; a dangling link makes its file', () => {
    const dir = tmpDir();
    const ledger = join(dir, 'ledger.db');
    writeFileSync(ledger, 'ledger');
    mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'report.csv');
    writeFileSync(real, 'old\n', { mode: 0o644 });
    symlinkSync(real, join(dir, 'out.csv'));
    expect(writeOutputFile(join(dir, 'out.csv'), 'a,b\n', { ledger, flag: '--out' })).toBe(realpathSync(real));
    expect(lstatSync(join(dir, 'out.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('a,b\n');
    expect(statSync(real).mode & 0o777).toBe(0o600);
    symlinkSync(join(dir, 'real', 'new.csv'), join(dir, 'dangling.csv'));
    writeOutputFile(join(dir, 'dangling.csv'), 'c\n', { ledger, flag: '--out' });
    expect(lstatSync(join(dir, 'dangling.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'new.csv'), 'utf8')).toBe('c\n');
    // a link into a folder that does not exist is refused before anything is written
    symlinkSync(join(dir, 'nowhere', 'x.csv'), join(dir, 'lost.csv'));
    expect(() => checkOutput(join(dir, 'lost.csv'), { ledger, flag: '--out' })).toThrow(/points into folder .*nowhere, which does not exist/);
    expect(readdirSync(join(dir, 'real')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('abort removes the temp file and leaves the target as it was', () => {
    const dir = tmpDir();
    const out = join(dir, 'out.jsonl');
    writeFileSync(out, 'old');
    const f = new AtomicFile(checkOutput(out, { ledger: join(dir, 'ledger.db'), flag: '--out' }));
    f.write('half');
    expect(statSync(f.tmp).mode & 0o777).toBe(0o600);
    f.abort();
    expect(existsSync(f.tmp)).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe('old');
  });

  it("refuses the ledger's -wal and -shm by name before they exist, also through a dangling symlink", () => {
    const dir = tmpDir();
    const ledger = join(dir, 'ledger.db');
    writeFileSync(ledger, 'ledger');
    symlinkSync(`${ledger}-shm`, join(dir, 'shm-link'));
    for (const p of [`${ledger}-wal`, `${ledger}-shm`, join(dir, 'shm-link'), ledger]) {
      expect(() => checkOutput(p, { ledger, flag: '--out' })).toThrow(UsageError);
    }
    // the ledger named through a symlink: its real files are refused too
    symlinkSync(ledger, join(dir, 'alias.db'));
    expect(() => checkOutput(`${ledger}-wal`, { ledger: join(dir, 'alias.db'), flag: '--out' })).toThrow(/is the ledger/);
    expect(checkOutput(join(dir, 'ok.csv'), { ledger, flag: '--out' }).abs).toBe(join(dir, 'ok.csv'));
  });

  it("an import's scratch files are private and new: 0600, and a symlink at their name is refused, not followed", () => {
    const dir = tmpDir();
    const stage = new ImportStage(join(dir, 'stage.db'));
    try {
      expect(statSync(join(dir, 'stage.db')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'stage.db-rejects')).mode & 0o777).toBe(0o600);
    } finally {
      stage.close();
    }
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'planted.db'));
    expect(() => new ImportStage(join(dir, 'planted.db'))).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });
});

describe('temp files a killed writer left behind (trial 38c, finding 4)', () => {
  it('are removed by the next write of the same target when their process is gone and they are a minute old; a live one, a fresh one and others are kept', () => {
    const dir = tmpDir();
    const target = join(dir, 'report.csv');
    const old = (Date.now() - 120_000) / 1000;
    // a pid no process has (the kernel's limit is far below it), and this process's own parent (alive)
    const gone = 2 ** 22 + 7;
    const names = {
      stale: `.report.csv.${gone}.0.tmp`,
      staleWal: `.report.csv.${gone}.0.tmp-wal`,
      fresh: `.report.csv.${gone}.1.tmp`,
      live: `.report.csv.${process.ppid}.0.tmp`,
      other: `.other.csv.${gone}.0.tmp`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'member data');
    for (const n of [names.stale, names.staleWal, names.live, names.other]) utimesSync(join(dir, n), old, old);
    writeOutputFile(target, 'a,b\n', { ledger: join(dir, 'ledger.db'), flag: '--out' });
    expect(readFileSync(target, 'utf8')).toBe('a,b\n');
    expect(readdirSync(dir).sort()).toEqual([names.fresh, names.live, names.other, 'report.csv'].sort());
  });
});
