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
    expect(readFileSync(rejects, 'utf8')).toMatch(/^_line;_reason;id;Name;phone;email\n2;"email: [^\n]*";A1;Ann;'\+86 138 0000 0000;not-an-email\n$/);
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
