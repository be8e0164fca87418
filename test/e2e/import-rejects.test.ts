// What an import rejected (issue 20 item 7): on a terminal the first rejected rows as FILE:LINE: reason
// before the rejects-file line; nothing of it on stdout when piped; a rejects file that keeps every field of
// the row under the input's own header, behind _line and _reason, and imports again once fixed.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, DEFAULT_NOW, FIXTURES, type TmpLedger, sceneLedger, tmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, start, waitFor } from '../helpers/tmux.js';

const HEADER = 'order_id,member_id,purchased_at,sku,quantity,unit_price';
/** Every row as it should be: the orders O1..O8 of two members. */
const CLEAN = [
  'O1,M1,2026-11-01 10:00,TEA,1,10.00',
  'O2,M1,2026-11-01 11:00,"=HYPERLINK(""http://x"")",2,5.00',
  'O2,M1,2026-11-01 11:00,CUP,1,3.00',
  'O3,M2,2026-11-01 12:00,TEA,1,7.00',
  'O4,M1,2026-11-01 13:00,TEA,1,2.00',
  'O5,M2,2026-11-02 09:00,+PLUS,1,4.00',
  'O6,M1,2026-11-02 10:00,TEA,3,6.00',
  'O7,M2,2026-11-02 11:00,TEA,1,9.00',
  'O8,M2,2026-11-02 12:00,@AT,2,8.00',
];
/** The same file with seven bad rows (lines 3-6 and 8-10): a bad quantity (its order's other line goes with it), an extra field, an impossible date, bad prices. */
const BAD = [
  CLEAN[0],
  'O2,M1,2026-11-01 11:00,"=HYPERLINK(""http://x"")",two,5.00',
  CLEAN[2],
  'O3,M2,2026-11-01 12:00,TEA,1,7.00,extra',
  'O4,M1,2026-13-01 13:00,TEA,1,2.00',
  CLEAN[5],
  'O6,M1,2026-11-02 10:00,TEA,3,abc',
  'O7,M2,2026-11-02 11:00,TEA,1,9.0.0',
  'O8,M2,2026-11-02 12:00,@AT,2,',
];

const csv = (rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

function ledger(): TmpLedger {
  return sceneLedger('ledger', (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob']);
  });
}

type Row = Record<string, string>;
/** A fixing script as an operator would write one: reads the rejects CSV, fixes cells by line, writes it back. */
/** (It writes the header's columns of each row: a field past them, like an extra one, is dropped.) */
function fixRejects(path: string, fix: (row: Row) => void): void {
  const [header, ...rows] = parse(readFileSync(path, 'utf8'), { relax_column_count: true }) as string[][];
  const out = rows.map((r) => {
    const row: Row = Object.fromEntries(header.map((h, i) => [h, r[i]]));
    fix(row);
    return header.map((h) => row[h]);
  });
  writeFileSync(path, stringify([header, ...out]));
}

describe('the rejects file imports again once fixed', () => {
  it('keeps every field of a rejected row under the input header; fixed, it imports those rows only, and the totals match a clean import', () => {
    const t = ledger();
    const file = join(t.dir, 'till.csv');
    writeFileSync(file, csv(BAD));
    const first = t.run(['import', 'purchases', file, '--json']);
    expect(first.code).toBe(4);
    const s = first.json();
    expect(s).toMatchObject({ rows: 9, accepted: 2, rejected: 7, rejectsFile: join(t.dir, 'till.rejects.csv') });
    expect(s.firstRejects.map((r: { line: number }) => r.line)).toEqual([3, 4, 5, 6, 8]);
    expect(s.firstRejects[2].reason).toBe('has 7 fields, the header has 6');

    const text = readFileSync(s.rejectsFile, 'utf8');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(`_line,_reason,${HEADER}`);
    expect(lines).toHaveLength(8);
    // every field as it was, the extra one too; a formula-like cell quoted for spreadsheets
    expect(lines[3]).toBe('5,"has 7 fields, the header has 6",O3,M2,2026-11-01 12:00,TEA,1,7.00,extra');
    expect(lines[1]).toMatch(/^3,.*,O2,M1,2026-11-01 11:00,"'=HYPERLINK\(""http:\/\/x""\)",two,5\.00$/);
    expect(lines[2]).toMatch(/^4,.*,O2,M1,2026-11-01 11:00,CUP,1,3\.00$/);

    // Fix all but O8 (left for a second round): by line, as a script would.
    const fixes: Record<string, (r: Row) => void> = {
      '3': (r) => (r.quantity = '2'),
      '6': (r) => (r.purchased_at = '2026-11-01 13:00'),
      '8': (r) => (r.unit_price = '6.00'),
      '9': (r) => (r.unit_price = '9.00'),
    };
    fixRejects(s.rejectsFile, (r) => fixes[r._line]?.(r)); // (and O3's extra field dropped)
    const again = t.run(['import', 'purchases', s.rejectsFile, '--json']);
    expect(again.code, again.stderr).toBe(4);
    const a = again.json();
    expect(a).toMatchObject({ rows: 7, orders: 6, accepted: 5, rejected: 1, rejectedOrders: 1, duplicates: 0 });
    expect(a.firstRejects).toEqual([{ line: 8, reason: expect.stringContaining('unit_price') }]);
    // the rejects of a rejects file: one _line and _reason, the line in the file imported
    const second = readFileSync(join(t.dir, 'till.rejects.rejects.csv'), 'utf8').trim().split('\n');
    expect(second).toEqual([`_line,_reason,${HEADER}`, expect.stringMatching(/^8,.*,O8,M2,2026-11-02 12:00,'@AT,2,$/)]);
    fixRejects(join(t.dir, 'till.rejects.rejects.csv'), (r) => void (r.unit_price = '8.00'));
    expect(t.ok(['import', 'purchases', join(t.dir, 'till.rejects.rejects.csv')])).toMatchObject({ accepted: 1, rejected: 0 });

    // Nothing twice: the fixed file again is all duplicates; the clean file under the same source too,
    // so every field (the quoted formulas included) came back exactly as in the input.
    const thrice = t.run(['import', 'purchases', s.rejectsFile, '--json']);
    expect(thrice.code).toBe(4); // (O8's row there is still the unfixed one)
    expect(thrice.json()).toMatchObject({ accepted: 0, duplicates: 5, rejected: 1 });
    const clean = join(t.dir, 'clean.csv');
    writeFileSync(clean, csv(CLEAN));
    expect(t.ok(['import', 'purchases', clean])).toMatchObject({ orders: 8, accepted: 0, duplicates: 8, rejected: 0 });

    // The totals are a clean import's.
    const u = ledger();
    writeFileSync(join(u.dir, 'clean.csv'), csv(CLEAN));
    const direct = u.ok(['import', 'purchases', join(u.dir, 'clean.csv')]);
    expect(direct).toMatchObject({ accepted: 8, rejected: 0 });
    for (const m of ['M1', 'M2']) expect(t.ok(['member', 'show', m]).balance, m).toBe(u.ok(['member', 'show', m]).balance);
    expect(t.ok(['member', 'show', 'M1']).balance).toBeGreaterThan(0);
    expect(t.verify().ok).toBe(true);
  });

  it('keeps the input delimiter, and a member import rejects file reimports with its +phone intact', () => {
    const t = tmpLedger();
    const f = join(t.dir, 'm.csv');
    writeFileSync(f, 'id;Name;phone;email\nA1;Ann;+86 138 0000 0000;not-an-email\nA2;Bob;;b@example.com\n');
    const r = t.run(['member', 'import', f, '--delimiter', ';', '--map', 'name=Name', '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ created: 1, rejected: 1, firstRejects: [{ line: 2, reason: expect.stringContaining('email') }] });
    const rejects = join(t.dir, 'm.rejects.csv');
    expect(readFileSync(rejects, 'utf8')).toMatch(/^_line;_reason;id;Name;phone;email\n2;"email: [^\n]*";A1;Ann;\+86 138 0000 0000;not-an-email\n$/);
    writeFileSync(rejects, readFileSync(rejects, 'utf8').replace(/;not-an-email\n/, ';ann@example.com\n'));
    expect(t.ok(['member', 'import', rejects, '--delimiter', ';', '--map', 'name=Name'])).toMatchObject({ created: 1, rejected: 0 });
    expect(t.ok(['member', 'show', 'A1'])).toMatchObject({ name: 'Ann', phone: '+86 138 0000 0000', email: 'ann@example.com' });
  });

  it('a catalog rejects file has the input columns only, so importing it again clears nothing it did not name', () => {
    const t = tmpLedger();
    t.ok(['catalog', 'add', '--sku', 'A', '--name', 'a', '--price', '1.00', '--category', 'tea']);
    const f = join(t.dir, 'items.csv');
    writeFileSync(f, 'sku,name,price\nA,a,NaN\n');
    expect(t.run(['catalog', 'import', f]).code).toBe(2); // its one row rejected: the whole file, exit 2
    const rejects = join(t.dir, 'items.rejects.csv');
    expect(readFileSync(rejects, 'utf8')).toMatch(/^_line,_reason,sku,name,price\n2,.*,A,a,NaN\n$/);
    writeFileSync(rejects, readFileSync(rejects, 'utf8').replace(/,NaN\n/, ',2.00\n'));
    expect(t.ok(['catalog', 'import', rejects])).toMatchObject({ updated: 1, rejected: 0 });
    expect(t.ok(['catalog', 'show', 'A'])).toMatchObject({ price: '2.00', category: 'tea' });
  });
});

describe('a rejects file an earlier run left', () => {
  it('is named, not taken for this run\'s, when the run rejects no row, and left as it was (it may list rows still not imported)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    const f = join(t.dir, 'p.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nO1,M1,2026-11-01 10:00,10.00\nO2,M9,2026-11-01 10:00,10.00\n');
    expect(t.run(['import', 'purchases', f]).code).toBe(4);
    const rejects = join(t.dir, 'p.rejects.csv');
    const before = readFileSync(rejects, 'utf8');
    // the member added, the same file again: O2 imports, nothing is rejected, the old rejects file stays
    t.ok(['member', 'add', '--id', 'M9', '--name', 'B']);
    const r = t.run(['import', 'purchases', f, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ accepted: 1, duplicates: 1, rejected: 0, rejectsFile: null, staleRejectsFile: rejects });
    expect(readFileSync(rejects, 'utf8')).toBe(before);
    const human = t.run(['import', 'purchases', f]);
    expect(human.stderr).toContain(`note: ${rejects} is an earlier run's rejects file (this run rejected no row), left as it was: import its fixed rows, or remove it`);
    // a file of one's own at that path is not named
    writeFileSync(rejects, 'my,own\n');
    expect(t.run(['import', 'purchases', f, '--json']).json()).toMatchObject({ staleRejectsFile: null });
    // member import the same way
    const m = join(t.dir, 'm.csv');
    writeFileSync(m, 'id,name\nA1,Ann\n');
    writeFileSync(join(t.dir, 'm.rejects.csv'), '_line,_reason,id,name\n3,bad,A2,\n');
    expect(t.ok(['member', 'import', m])).toMatchObject({ created: 1, rejected: 0, staleRejectsFile: join(t.dir, 'm.rejects.csv') });
  });
});

describe('an input read through /dev (/dev/stdin redirected from a file)', () => {
  it('puts its default rejects file in the current folder under the input\'s base name, never into /dev (trial 39)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    const fed = (args: string[], name: string, text: string) => {
      const f = join(t.dir, name);
      writeFileSync(f, text);
      const fd = openSync(f, 'r');
      try {
        return spawnSync(process.execPath, [BIN, ...args, '--json'], { cwd: t.dir, env: { ...process.env, POINTSMALL_DB: t.db, POINTSMALL_NOW: DEFAULT_NOW, CI: '1' }, stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      } finally {
        closeSync(fd);
      }
    };
    const r = fed(['import', 'purchases', '/dev/stdin'], 'in.csv', 'order_id,member_id,purchased_at,amount\nO1,M1,2026-11-01 10:00,10.00\nO2,M9,2026-11-01 10:00,10.00\n');
    expect(r.status, r.stderr).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 1, rejected: 1, rejectsFile: 'stdin.rejects.csv' });
    expect(readFileSync(join(t.dir, 'stdin.rejects.csv'), 'utf8')).toMatch(/^_line,_reason,order_id,member_id,purchased_at,amount\n3,.*M9/);
    expect(existsSync('/dev/stdin.rejects.csv')).toBe(false);
    // a member import the same way
    const m = fed(['member', 'import', '/dev/stdin'], 'm.csv', 'id,name\nA1,Ann\nA2,\n');
    expect(m.status, m.stderr).toBe(4);
    expect(readFileSync(join(t.dir, 'stdin.rejects.csv'), 'utf8')).toMatch(/^_line,_reason,id,name\n3,/);
    expect(existsSync('/dev/stdin.rejects.csv')).toBe(false);
    // a real folder under /dev (/dev/shm) keeps its rejects beside the input, as any folder does (trial 39b)
    if (existsSync('/dev/shm')) {
      const shm = mkdtempSync('/dev/shm/pointsmall-');
      try {
        const f = join(shm, 'p.csv');
        writeFileSync(f, 'order_id,member_id,purchased_at,amount\nO9,M9,2026-11-01 10:00,10.00\nO10,M1,2026-11-01 10:00,10.00\n');
        const r = t.run(['import', 'purchases', f, '--json'], { cwd: t.dir });
        expect(r.code, r.stderr).toBe(4);
        expect(r.json()).toMatchObject({ rejectsFile: join(shm, 'p.rejects.csv') });
        expect(existsSync(join(shm, 'p.rejects.csv'))).toBe(true);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    }
  });
});

describe('member and catalog import: a file whose every row is rejected', () => {
  it('is exit 2 as for purchases, writes nothing (not even an audit record), and still writes the rejects file', () => {
    const t = tmpLedger();
    t.ok(['catalog', 'add', '--sku', 'A', '--name', 'a', '--price', '1.00']);
    const audits = (t.ok(['audit', 'list']) as unknown[]).length;
    const m = join(t.dir, 'm.csv');
    writeFileSync(m, 'id,name,phone\nN1,A,139\n,B,\n');
    const r = t.run(['member', 'import', m, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.message).toMatch(/every row was rejected, 2 of them \(the first, line 2: phone: .*\): nothing was imported/);
    expect(err.hint).toContain('m.rejects.csv');
    expect(readFileSync(join(t.dir, 'm.rejects.csv'), 'utf8')).toMatch(/^3,/m);
    expect(t.run(['member', 'show', 'N1']).code).toBe(2);
    const c = join(t.dir, 'c.csv');
    writeFileSync(c, 'sku,name,price\nA,a,NaN\nB,b,-1\n');
    const rc = t.run(['catalog', 'import', c, '--json']);
    expect(rc.code).toBe(2);
    expect(rc.stdout).toBe('');
    expect(JSON.parse(rc.stderr.trim()).error.message).toMatch(/every row was rejected, 2 of them/);
    expect(readFileSync(join(t.dir, 'c.rejects.csv'), 'utf8')).toMatch(/^3,/m);
    expect(t.ok(['catalog', 'show', 'A']).price).toBe('1.00');
    expect((t.ok(['audit', 'list']) as unknown[]).length).toBe(audits);
    // one good row among them: exit 4, the good row kept
    writeFileSync(m, 'id,name,phone\nN1,A,139\nN2,B,13800000000\n');
    expect(t.run(['member', 'import', m, '--json']).code).toBe(4);
    expect(t.ok(['member', 'show', 'N2']).name).toBe('B');
  });
});

describe('what a person sees of the rejects', () => {
  it('piped: stdout carries the summary only; the FILE:LINE lines and the rejects file are on stderr', () => {
    const t = ledger();
    const file = join(t.dir, 'till.csv');
    writeFileSync(file, csv(BAD));
    const r = t.run(['import', 'purchases', file]);
    expect(r.code).toBe(4);
    expect(r.stdout).not.toMatch(/till\.csv:\d+:|… and|rejects\.csv/);
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/^[^\t]+\t[^\t]*$/);
    expect(r.stderr).toContain(`${file}:3: quantity "two" is not a number`);
    expect(r.stderr).toContain(`${file}:5: has 7 fields, the header has 6\n`);
    expect(r.stderr).toContain('… and 2 more\n');
    expect(r.stderr).toContain(`! 7 rows rejected, every one in ${join(t.dir, 'till.rejects.csv')}`);
    expect(r.stderr).not.toContain(`${file}:9:`); // (the first five only)
    expect(r.stderr.indexOf(`${file}:8:`)).toBeLessThan(r.stderr.indexOf('! 7 rows rejected'));
  });

  it('a dry run names the first rejected rows too, and one bad row is "1 row"', () => {
    const t = ledger();
    const file = join(t.dir, 'one.csv');
    writeFileSync(file, csv([CLEAN[0], BAD[4]]));
    const r = t.run(['import', 'purchases', file, '--dry-run']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${file}:3: purchased_at "2026-13-01 13:00"`);
    expect(r.stderr).not.toContain('… and');
    expect(r.stderr).toContain('! 1 row would be rejected (pass --rejects FILE to keep them)');
  });

  it('a dry run with --rejects says nothing was imported, never to import the rejects file alone (trial 27)', () => {
    const t = ledger();
    const file = join(t.dir, 'one.csv');
    const rejects = join(t.dir, 'dry.rejects.csv');
    writeFileSync(file, csv([CLEAN[0], BAD[4]]));
    const r = t.run(['import', 'purchases', file, '--dry-run', '--rejects', rejects]);
    expect(r.code).toBe(4);
    expect(readFileSync(rejects, 'utf8')).toContain('2026-13-01');
    expect(r.stderr).toContain(`! 1 row would be rejected, every one in ${rejects}`);
    expect(r.stderr).toContain(`nothing was imported (a dry run): fix them in ${file} and import that file`);
    expect(r.stderr).not.toContain('import that file again');
    expect(t.ok(['import', 'list'])).toEqual([]);
  });

  it('orders waiting in review: "1 order waits", "2 orders wait"', () => {
    const t = ledger();
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2026-01-01']);
    const one = join(t.dir, 'one.csv');
    writeFileSync(one, 'order_id,member_id,purchased_at,amount\nB1,M1,2026-11-01,30000.00\n');
    expect(t.run(['import', 'purchases', one]).stderr).toContain('! 1 order waits in review: pointsmall review list');
    const two = join(t.dir, 'two.csv');
    writeFileSync(two, 'order_id,member_id,purchased_at,amount\nB2,M1,2026-11-01,30000.00\nB3,M2,2026-11-01,30000.00\n');
    expect(t.run(['import', 'purchases', two]).stderr).toContain('! 2 orders wait in review: pointsmall review list');
  });
});

describe.skipIf(!hasTmux)('import with rejects on a terminal', () => {
  afterEach(endSessions);

  it('prints the first five rejected rows as FILE:LINE: reason, then "… and 2 more", then the rejects file; a small file shows no progress bar', async () => {
    const t = ledger();
    const file = join(t.dir, 'till.csv');
    writeFileSync(file, csv(BAD));
    const s = start(t, ['import', 'purchases', file]);
    const out = await waitFor(s, /EXIT=\d+/);
    expect(out).toContain('EXIT=4');
    const at = (text: string) => {
      const i = out.indexOf(text);
      expect(i, `${text} on the screen:\n${out}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [`${file}:3: quantity "two"`, `${file}:4: `, `${file}:5: has 7 fields`, `${file}:6: purchased_at`, `${file}:8: unit_price`, '… and 2 more', '! 7 rows rejected', `fix them there and import that file again: pointsmall import purchases ${join(t.dir, 'till.rejects.csv')}`];
    const positions = order.map(at);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(out).not.toContain(`${file}:9:`);
    expect(out).toMatch(/rejected\s+7/);
    expect(out).not.toMatch(/reading\s+\[|accruing\s+\[/);
  });
});

describe('the command the import prints to import its fixed rejects again', () => {
  it('carries the options this import was given, so the fixed orders keep their source and accrue once', () => {
    const t = ledger();
    const file = join(t.dir, 'till.csv');
    writeFileSync(file, csv(BAD));
    const options = ['--source', 'till shop', '--skip-guests', '--date-format', 'YYYY-MM-DD HH:mm', '--db', t.db];
    const first = t.run(['import', 'purchases', file, ...options]);
    expect(first.code).toBe(4);
    const line = first.stderr.split('\n').find((l) => l.includes('import that file again'));
    expect(line).toBeDefined();
    const command = line!.slice(line!.indexOf(': ') + 2);
    // every option given, in a form a shell reads back (the source has a space), and the ledger it went to
    const rejects = join(t.dir, 'till.rejects.csv');
    expect(command).toBe(`pointsmall import purchases --source 'till shop' --skip-guests --date-format 'YYYY-MM-DD HH:mm' --db ${t.db} ${rejects}`);

    fixRejects(rejects, (r) => {
      if (r.quantity === 'two') r.quantity = '2';
    });
    // the printed command, run as a shell reads it: O2 (fixed) and O3 (its extra field dropped by the
    // fixing script) are imported under the first import's source
    const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
    expect(words.slice(0, 3)).toEqual(['pointsmall', 'import', 'purchases']);
    expect(words.slice(3)).toEqual([...options, rejects]);
    const again = t.run([...words.slice(1), '--json']);
    expect(again.code).toBe(4); // the rows still wrong are rejected again
    expect(again.json()).toMatchObject({ source: 'till shop', accepted: 2 });
    // the same order in the same source again is a duplicate, never a second credit
    expect(t.run([...words.slice(1), '--json']).json()).toMatchObject({ source: 'till shop', accepted: 0, duplicates: 2 });
    expect(t.verify().ok).toBe(true);
  });
});

describe('control characters in imported text', () => {
  it('a SKU or category holding a control character (ESC, a line break, a tab, DEL, a C1 control) rejects its order whole, naming the field; spaces are text', () => {
    const t = ledger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(
      file,
      csv([
        'C1,M1,2026-11-01 10:00,"R\u001b[31mS",1,10.00',
        'C2,M1,2026-11-01 10:00,"T\nU",1,10.00',
        'C3,M2,2026-11-01 10:00,TEA,1,10.00',
        'C3,M2,2026-11-01 10:00,"TAB\tBED",1,10.00',
        'C4,M2,2026-11-01 10:00,DEL\u007f,1,10.00',
        'C5,M2,2026-11-01 10:00,CSI\u009b31m,1,10.00',
        'C6,M1,2026-11-01 10:00,BANK CHARGES,1,10.00',
        'C7,M1,2026-11-01 10:00,Café  Crème 1/2,1,10.00',
      ]),
    );
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', file, '--json', '--rejects', rejects]);
    expect(r.code).toBe(4);
    // C3's good line goes with its bad one: 2 orders, 20 points
    expect(r.json()).toMatchObject({ orders: 7, accepted: 2, rejected: 6, pointsAccrued: 20 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    const reason = (order: string) => rows.filter((x) => x.order_id === order).map((x) => x._reason);
    expect(reason('C1')[0]).toMatch(/^sku "R\\u001b\[31mS" contains a control character \(U\+001B, ESC\) at position 2: text fields hold no control characters/);
    expect(reason('C2')[0]).toMatch(/^sku "T\\nU" contains a control character \(U\+000A, a line break\)/);
    expect(reason('C3')).toHaveLength(2);
    expect(reason('C3').join()).toContain('sku "TAB\\tBED" contains a control character (U+0009, a tab)');
    expect(reason('C4')[0]).toContain('(U+007F)');
    expect(reason('C5')[0]).toContain('(U+009B)');
    // the category too, and a mapped column is named as the file names it
    writeFileSync(join(t.dir, 'q.csv'), 'Order,member_id,purchased_at,amount,Group\nD1,M1,2026-11-01 10:00,5.00,"tea\u001b]0;x\u0007"\nD2,M1,2026-11-01 10:00,5.00,tea leaves\n');
    const q = t.run(['import', 'purchases', join(t.dir, 'q.csv'), '--map', 'order_id=Order,category=Group', '--json', '--rejects', join(t.dir, 'rq.csv')]);
    expect(q.json()).toMatchObject({ accepted: 1, rejected: 1 });
    expect(readFileSync(join(t.dir, 'rq.csv'), 'utf8')).toContain('Group (category) ""tea\\u001b]0;x\\u0007"" contains a control character (U+001B, ESC) at position 4');
    // nothing of them was stored: the SKUs a recommendation reads are the good ones
    expect(t.ok(['report', 'recommend', '--member', 'M2']).recommendations.map((x: { sku: string }) => x.sku).sort()).toEqual(['BANK CHARGES', 'Café  Crème 1/2']);
  });

  it('member import refuses a control character in any text field, the email included', () => {
    const t = tmpLedger();
    writeFileSync(join(t.dir, 'm.csv'), 'id,name,email\nM1,"Ann\u001b[31m",\nM2,Bob,"b\u001b[8m@x.cn"\nM3,Cy Young,c@x.cn\n');
    const r = t.run(['member', 'import', join(t.dir, 'm.csv'), '--json']);
    expect(r.json()).toMatchObject({ created: 1, rejected: 2 });
    expect(t.ok(['member', 'list']).map((x: { id: string }) => x.id)).toEqual(['M3']);
  });
});

describe('signs of a line: a negative quantity is a return', () => {
  it('a negative quantity at a negative price, or with a positive line amount, and an amount for no units are rejected, naming both fields; discounts and returns by amount are netted as before', () => {
    // one point per 1.00: a sale-signed "return" would have earned 100 points each, and the 0-unit line 100
    const t = ledger();
    const byPrice = join(t.dir, 'price.csv');
    writeFileSync(
      byPrice,
      csv([
        'P1,M1,2026-11-01 10:00,HOME,5,100.00',
        'R1,M1,2026-11-02 10:00,HOME,-1,-100.00',
        'D1,M2,2026-11-02 10:00,TEA,2,30.00',
        'D1,M2,2026-11-02 10:00,DISCOUNT,1,-10.00',
        'R0,M2,2026-11-02 11:00,TEA,-1,30.00',
        // goods of 10.00 under a 30.00 discount: not a return of 20.00 (both rows rejected)
        'D2,M2,2026-11-02 12:00,TEA,1,10.00',
        'D2,M2,2026-11-02 12:00,DISCOUNT,1,-30.00',
      ]),
    );
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', byPrice, '--json', '--rejects', rejects]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ orders: 5, accepted: 3, rejected: 3, returns: 1, pointsAccrued: 550, pointsReturned: 30 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    const exceeds = 'order D2 sells goods but totals -20.00: its discount lines exceed its goods; fix the prices, or give a returned item a negative quantity';
    expect(rows.map((x) => [x.order_id, x._reason])).toEqual([
      ['R1', 'quantity "-1" and unit_price "-100.00" are both negative: a return is a negative quantity at the item\'s (positive) price'],
      ['D2', exceeds],
      ['D2', exceeds],
    ]);

    const byAmount = join(t.dir, 'amount.csv');
    writeFileSync(
      byAmount,
      [
        'order_id,member_id,purchased_at,sku,quantity,line_amount',
        'R2,M2,2026-11-03 10:00,HOME,-1,100.00',
        'Z1,M1,2026-11-03 12:00,HOME,0,100.00',
        'R3,M1,2026-11-03 11:00,HOME,1,-100.00',
        'Z0,M1,2026-11-03 13:00,NOTE,0,0.00',
        'S1,M1,2026-11-03 14:00,HOME,,20.00',
      ].join('\n') + '\n',
    );
    const r2 = t.run(['import', 'purchases', byAmount, '--json', '--rejects', rejects]);
    expect(r2.code).toBe(4);
    expect(r2.json()).toMatchObject({ orders: 5, accepted: 3, rejected: 2, pointsAccrued: 20, pointsReturned: 100 });
    const rows2 = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    expect(rows2.map((x) => [x.order_id, x._reason])).toEqual([
      ['R2', 'quantity -1 with a positive line_amount "100.00": a negative quantity is a return, whose amount is negative too; sign both alike'],
      ['Z1', 'quantity 0 with line_amount "100.00": a line of no units cannot cost anything; give its units, or leave quantity empty'],
    ]);
    // the ledger holds what the summaries say: M1 earned 500 + 20 and returned 100; M2 earned 50 and returned 30
    const bal = (id: string) => t.ok(['member', 'show', id, '--json']).balance;
    expect([bal('M1'), bal('M2')]).toEqual([420, 20]);
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
  });
});

describe('a header row repeated inside the file', () => {
  it('(two exports joined together) is rejected as the header, not as a bad date; the rows around it import', () => {
    const t = ledger();
    const file = join(t.dir, 'joined.csv');
    writeFileSync(file, csv(['J1,M1,2026-11-01 10:00,TEA,1,10.00', HEADER, 'J2,M2,2026-11-02 10:00,CUP,2,5.00']));
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', file, '--json', '--rejects', rejects]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ rows: 3, orders: 2, accepted: 2, rejected: 1, rejectedOrders: 0, pointsAccrued: 20 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    expect(rows.map((x) => [x._line, x._reason])).toEqual([['3', 'repeats the header row: files joined together? the row is not data']]);
  });
});

// Trial 30: a header repeated in another column order was rejected as a bad date, and the rows after it read
// by the first header's columns (member J2 credited with order M002); one in upper case as a bad date too.
describe('a header row repeated in another column order or case', () => {
  it('in upper case (same columns) is rejected as the header; the rows around it import', () => {
    const t = ledger();
    const file = join(t.dir, 'joined.csv');
    writeFileSync(file, csv(['J1,M1,2026-11-01 10:00,TEA,1,10.00', ` ${HEADER.toUpperCase()}`, 'J2,M2,2026-11-02 10:00,CUP,2,5.00']));
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', file, '--json', '--rejects', rejects]);
    expect(r.json()).toMatchObject({ accepted: 2, rejected: 1, rejectedOrders: 0 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    expect(rows.map((x) => [x._line, x._reason])).toEqual([['3', 'repeats the header row: files joined together? the row is not data']]);
  });

  it('in another order stops the import (exit 2, nothing written), naming its line: the rows after it would be read by the wrong columns', () => {
    const t = ledger();
    const file = join(t.dir, 'joined.csv');
    const other = 'member_id,order_id,purchased_at,sku,quantity,unit_price';
    writeFileSync(file, csv(['J1,M1,2026-11-01 10:00,TEA,1,10.00', other, 'M2,J2,2026-11-02 10:00,CUP,2,5.00']));
    for (const threads of ['1', '2']) {
      const r = t.run(['import', 'purchases', file, '--create-members', '--json'], { env: { POINTSMALL_THREADS: threads } });
      expect(r.code).toBe(2);
      const error = JSON.parse(r.stderr).error;
      expect(error.message).toContain('joined.csv:3: a header row again, its columns in another order than line 1\'s');
      expect(error.hint).toContain('split the file at line 3');
      expect(t.ok(['ledger', 'entries'])).toEqual([]);
      expect(t.ok(['member', 'list']).map((m: { id: string }) => m.id)).toEqual(['M1', 'M2']);
    }
  });
});

// Trial 30: a row with a value under a column the header leaves unnamed (a trailing delimiter in the header,
// then an unquoted 1,234.50) was read without it: 1.00 where 1,234.50 was meant.
describe('a value under a column the header does not name', () => {
  it('rejects its order, naming the column and the likely thousands separator; empty cells there are fine', () => {
    const t = ledger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount,\nK1,M1,2026-11-01 09:00,1,234.50\nK2,M2,2026-11-01 09:00,20.00,\n');
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', file, '--json', '--rejects', rejects]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1, pointsAccrued: 20 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true, relax_column_count: true }) as Row[];
    expect(rows.map((x) => [x._line, x._reason])).toEqual([['2', 'column 5 has no name in the header but holds "234.50": a delimiter inside an unquoted value, as the thousands separator of 1,234.50? quote the value ("1,234.50") or drop the separator']]);
  });

  it('an unnamed first column (the row index pandas writes) is data the import does not use', () => {
    const t = ledger();
    const file = join(t.dir, 'pd.csv');
    writeFileSync(file, ',order_id,member_id,purchased_at,amount\n0,A1,M1,2026-03-01,10\n1,A2,M2,2026-03-01,20\n');
    expect(t.ok(['import', 'purchases', file])).toMatchObject({ accepted: 2, rejected: 0, pointsAccrued: 30 });
  });
});

// Trial 30: --create-members made members "NA", "n/a", "-" and "NULL" of guests' rows, and without it the
// reason suggested --create-members; a placeholder is never a member's id, and --null reads it as empty.
describe('a member id that is a placeholder for none (NA, #N/A, NULL, -)', () => {
  it('rejects its order naming --null, never creates such a member; with --null the rows are guests\'', () => {
    const t = ledger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 09:00,10\nA2,NA,2026-11-01 09:00,99\nA3,n/a,2026-11-01 09:00,99\nA4,-,2026-11-01 09:00,99\nA5,NULL,2026-11-01 09:00,99\nA6,#N/A,2026-11-01 09:00,99\n');
    const rejects = join(t.dir, 'r.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', rejects]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 5, membersCreated: 0 });
    const rows = parse(readFileSync(rejects, 'utf8'), { columns: true }) as Row[];
    expect(rows.map((x) => x._reason)).toEqual([
      'member_id "NA" is a placeholder for no member, not a member\'s id: pass --null=NA to read it as empty (a guest\'s purchase; --skip-guests drops those)',
      'member_id "n/a" is a placeholder for no member, not a member\'s id: pass --null=n/a to read it as empty (a guest\'s purchase; --skip-guests drops those)',
      'member_id "-" is a placeholder for no member, not a member\'s id: pass --null=- to read it as empty (a guest\'s purchase; --skip-guests drops those)',
      'member_id "NULL" is a placeholder for no member, not a member\'s id: pass --null=NULL to read it as empty (a guest\'s purchase; --skip-guests drops those)',
      'member_id "#N/A" is a placeholder for no member, not a member\'s id: pass --null=\'#N/A\' to read it as empty (a guest\'s purchase; --skip-guests drops those)',
    ]);
    expect(t.ok(['member', 'list']).map((m: { id: string }) => m.id)).toEqual(['M1', 'M2']);
    // as the reason says: each placeholder read as empty, the guests' rows skipped
    const again = t.run(['import', 'purchases', rejects, '--null=NA', '--null=n/a', '--null=-', '--null=NULL', '--null=#N/A', '--skip-guests', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ accepted: 0, guestsSkipped: 5 });
  });
});

describe('an order whose member is printed on its first line only', () => {
  it('--skip-guests never drops the blank-member lines of a member\'s order: the order is rejected whole, every line in the rejects file, and imports whole once they are filled in', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'grouped.csv');
    writeFileSync(
      file,
      [
        'order_id,member_id,purchased_at,sku,quantity,unit_price',
        'J5,M001,2026-11-01 10:00,A,1,10.00',
        'J5,,2026-11-01 10:00,B,1,90.00',
        'G1,,2026-11-01 10:05,A,1,20.00', // a guest's order: skipped, as --skip-guests says
        'J6,M002,2026-11-01 11:00,A,1,10.00',
        'J5,,2026-11-01 10:00,C,1,50.00', // (lines of an order may be apart)
        '',
      ].join('\n'),
    );
    const rej = join(t.dir, 'grouped.rejects.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--skip-guests', '--json']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ rows: 5, accepted: 1, rejected: 3, guestsSkipped: 1, pointsAccrued: 10 });
    expect(t.run(['member', 'show', 'M001', '--json']).code).toBe(2); // never created for a rejected order
    const lines = readFileSync(rej, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^2,"order J5: lines 3, 6 name no member while this line names M001: an order belongs to one member, and --skip-guests would leave out part of it; fill the member id in on every line of the order",J5,M001,/);
    expect(lines[2]).toMatch(/^3,"member_id is empty while other lines of order J5 name M001: an order belongs to one member, and --skip-guests would leave out part of it; fill the member id in on every line of the order",J5,,/);
    expect(lines[3]).toMatch(/^6,.*,J5,,2026-11-01 10:00,C,1,50.00$/);
    // filled in, the rejects file imports the whole order: 150 points, not 10
    writeFileSync(rej, readFileSync(rej, 'utf8').replace(/,J5,,/g, ',J5,M001,'));
    expect(t.ok(['import', 'purchases', rej, '--create-members', '--skip-guests'])).toMatchObject({ accepted: 1, rejected: 0, pointsAccrued: 150 });
    expect(t.ok(['member', 'show', 'M001']).balance).toBe(150);
    // the same file again: J6 a duplicate, G1 still a guest's, and J5 as it stands there rejected again
    const again = t.run(['import', 'purchases', file, '--create-members', '--skip-guests', '--json']);
    expect(again.code).toBe(4);
    expect(again.json()).toMatchObject({ duplicates: 1, rejected: 3, guestsSkipped: 1, pointsAccrued: 0 });
    expect(t.ok(['member', 'show', 'M001']).balance).toBe(150);
    expect(t.verify().ok).toBe(true);
  });

  it('--skip-guests: the blank-member lines of an order whose member line is bad go into the rejects file with it', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'bad-first.csv');
    writeFileSync(file, ['order_id,member_id,purchased_at,sku,quantity,unit_price', 'J1,M001,2026-02-30 10:00,A,1,100.00', 'J1,,2026-11-01 10:00,B,2,25.00', 'J2,M002,2026-11-01 11:00,A,1,40.00', ''].join('\n'));
    const rej = join(t.dir, 'bad-first.rejects.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--skip-guests', '--json']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 2, guestsSkipped: 0, pointsAccrued: 40 });
    const rows = readFileSync(rej, 'utf8').trim().split('\n');
    expect(rows.map((x) => x.split(',')[0])).toEqual(['_line', '2', '3']);
    expect(rows[2]).toContain('member_id is empty in order J1, whose other rows are rejected');
    // fixed (the date, and the member on its second line), the order imports whole: 150, not 100
    writeFileSync(rej, readFileSync(rej, 'utf8').replace(',2026-02-30 10:00,', ',2026-11-01 10:00,').replace(',J1,,', ',J1,M001,'));
    expect(t.ok(['import', 'purchases', rej, '--create-members', '--skip-guests'])).toMatchObject({ accepted: 1, pointsAccrued: 150 });
    expect(t.verify().ok).toBe(true);
  });
});
