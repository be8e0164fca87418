// `import purchases` on files as real exports write them: line ends, encodings, date formats. Every file
// is built here, and every total is worked out by hand beside it.
import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURES, runCliAsync, tmpLedger } from '../helpers/cli.js';

/**
 * A line-level file of `orders` orders, each of two lines (2 × 1.25 and 1 × 3.10 = 5.60: 5 points at
 * init's 1 point per unit, floored), for 50 members, every line ended by `eol`.
 */
function linesFile(orders: number, eol: string): string {
  const rows = ['order_id,member_id,purchased_at,sku,quantity,unit_price'];
  for (let i = 0; i < orders; i++) {
    const m = `M${i % 50}`;
    const at = `2026-11-${String(1 + (i % 20)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}`;
    rows.push(`O${i},${m},${at},"TEA,${i % 7}",2,1.25`);
    rows.push(`O${i},${m},${at},CUP,1,3.10`);
  }
  return rows.join(eol) + eol;
}

describe('line ends', () => {
  it.each([
    ['bare CR under 1 MB', '\r', 300],
    ['bare CR over 1 MB', '\r', 13_000],
    ['CRLF over 1 MB', '\r\n', 13_000],
    ['LF under 1 MB', '\n', 300],
  ])('%s imports every row', (_name, eol, orders) => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, linesFile(orders, eol));
    const r = t.ok(['import', 'purchases', file, '--create-members']);
    expect(r).toMatchObject({ rows: 2 * orders, orders, accepted: orders, rejected: 0, membersCreated: 50, pointsAccrued: 5 * orders });
    // member M0 has orders 0, 50, 100, …: ⌈orders / 50⌉ of them
    expect(t.ok(['member', 'show', 'M0']).balance).toBe(5 * Math.ceil(orders / 50));
  });

  it('a bare-CR file read on two threads gives the same totals (it is never cut at a newline byte)', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    // a quoted field holding an LF past the middle: the only LF byte in the file (a SKU holding a line
    // break rejects its order, for that reason and no other: the file was read whole and in order)
    const text = linesFile(2000, '\r').replace('O1500,M0,2026-11-01 10:00,"TEA,2"', 'O1500,M0,2026-11-01 10:00,"TEA\n2"');
    writeFileSync(file, text);
    const run = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')], { env: { POINTSMALL_THREADS: '2' } });
    expect(run.code).toBe(4);
    expect(run.json()).toMatchObject({ rows: 4000, orders: 2000, accepted: 1999, rejected: 2, pointsAccrued: 9995 });
    const rejected = readFileSync(join(t.dir, 'rej.csv'), 'utf8');
    expect(rejected).toContain('sku ""TEA\\n2"" contains a control character (U+000A, a line break)');
    expect(rejected).toContain('order O1500: another row of this order was rejected');
    expect(t.verify().ok).toBe(true);
  });

  it('a quoted field may hold a bare CR line end in a bare-CR file, and line numbers count CRs', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    // (in a column the import does not read: a SKU or category with a line break is a rejected row)
    const text = ['order_id,member_id,purchased_at,amount,category,note', 'A1,M1,2026-11-01 09:00,"12.00",tea,', 'A2,M2,2026-11-01 09:00,5.00,tea,"Tea\rLeaves"', 'A3,M3,nope,5.00,,', 'A4,M4,2026-11-01,7.50,,'].join('\r');
    writeFileSync(file, text); // no line end after the last record
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(r.code).toBe(4);
    // A1 12 points, A2 5, A4 7 (7.50 floored)
    expect(r.json()).toMatchObject({ rows: 4, accepted: 3, rejected: 1, pointsAccrued: 24 });
    // A3 starts on physical line 5 (A2 spans lines 3 and 4)
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toMatch(/^5,.*""nope""/m);
  });
});

describe('a quote left open', () => {
  it.each([
    ['over three lines, LF', '\n', '1'],
    ['over two lines, CRLF', '\r\n', '1'],
    ['over three lines, bare CR', '\r', '1'],
  ])('%s: the record that swallowed whole rows is rejected, naming the lines; no other member is credited with them', (name, eol, threads) => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const two = name.includes('two lines');
    const rows = [
      'order_id,member_id,note,purchased_at,amount',
      'K1,M001,ok,2026-11-01,10',
      // the opening quote of K3's note is never closed where it should be: the next quote, on K5's row (or
      // on K4's), closes it, and the fields after it are K5's (K4's): read as it stands, M003 would get 50
      // (40) points of another member's order and K4, K5 would vanish
      'K3,M003,"12 PIZZA,2026-11-01,30',
      two ? 'K4,M004,BIG",2026-11-01,40' : 'K4,M004,ok,2026-11-01,40',
      ...(two ? [] : ['K5,M002,BIG",2026-11-01,50']),
      'K6,M001,ok,2026-11-01,60',
    ];
    // a legitimate note over two lines (an address, commas and all) is still text
    rows.push('K7,M002,"Deliver to: 12 Main St, Apt 4' + eol + 'Springfield",2026-11-01,7');
    writeFileSync(file, rows.join(eol) + eol);
    const rej = join(t.dir, 'rej.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', rej], { env: { POINTSMALL_THREADS: threads } });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json()).toMatchObject({ rejected: 1, accepted: 3, pointsAccrued: 10 + 60 + 7 });
    const text = readFileSync(rej, 'utf8');
    const swallowed = two ? 'lines 3 to 4' : 'lines 3 to 5';
    expect(text).toContain(`note (a quoted field running over ${swallowed}) holds ${two ? 4 : 8} commas, as many as a whole row`);
    expect(text).toContain('a quote left open');
    // what the open quote took in is in the rejects file as it was read: nothing is lost
    expect(text).toContain(two ? 'K4,M004,BIG' : 'K4,M004,ok,2026-11-01,40');
    expect(r.json().rejected).toBe(1);
    expect(t.run(['member', 'show', 'M003', '--json']).code).toBe(2);
    expect(t.ok(['member', 'show', 'M002']).balance).toBe(7);
    // the rejects file imported again as it is: the record is still one that took rows in
    const again = t.run(['import', 'purchases', rej, '--create-members', '--json', '--rejects', join(t.dir, 'rej2.csv')]);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toContain('a quote left open took the rows after it in');
    expect(t.ok(['member', 'show', 'M002']).balance).toBe(7);
    expect(t.verify().ok).toBe(true);
  });

  it('the orders whose rows a quote left open took in are rejected whole, not credited for the rows outside it', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const rows = [
      'order_id,member_id,note,purchased_at,amount',
      'B1,M001,"12 PIZZA,2026-11-01,10',
      'B2,M002,ok,2026-11-01,50',
      'B3,M003,"Y",2026-11-01,30', // its opening quote closes B1's note
      'B2,M002,ok,2026-11-01,20',
      'B3,M003,ok,2026-11-01,9',
      'B4,M004,ok,2026-11-01,4',
    ];
    writeFileSync(file, rows.join('\n') + '\n');
    const rej = join(t.dir, 'rej.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', rej]);
    expect(r.code, r.stderr).toBe(4);
    // B1 swallowed B2's line 3 and B3's line 4: B2 and B3 are rejected whole, B4 alone is taken
    expect(r.json()).toMatchObject({ accepted: 1, pointsAccrued: 4 });
    const text = readFileSync(rej, 'utf8');
    expect(text).toContain('order B2: another row of this order was rejected (line 3)');
    expect(text).toContain('order B3: another row of this order was rejected (line 4)');
    expect(t.ok(['member', 'list']).map((m: { id: string }) => m.id)).toEqual(['M004']);
    expect(t.verify().ok).toBe(true);
  });
});

describe('a profile\'s switches turned off on the command line', () => {
  it('--no-create-members and --no-skip-guests win over a profile that turns them on; with the switch itself, exit 2', () => {
    const t = tmpLedger();
    const profile = join(t.dir, 'p.json');
    writeFileSync(profile, JSON.stringify({ createMembers: true, skipGuests: true }));
    const file = join(t.dir, 'pf.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nA1,NEW1,2026-11-01,10\nA2,,2026-11-01,5\nA3,NEW2,2026-11-01,7\n');
    expect(t.ok(['import', 'purchases', file, '--profile', profile, '--dry-run'])).toMatchObject({ accepted: 2, guestsSkipped: 1, membersCreated: 2 });
    const off = t.run(['import', 'purchases', file, '--profile', profile, '--no-create-members', '--dry-run', '--json']);
    expect(off.code).toBe(4);
    expect(off.json()).toMatchObject({ accepted: 0, rejected: 2, guestsSkipped: 1, membersCreated: 0 });
    const guests = t.run(['import', 'purchases', file, '--profile', profile, '--no-skip-guests', '--dry-run', '--json']);
    expect(guests.json()).toMatchObject({ accepted: 2, rejected: 1, guestsSkipped: 0 });
    const both = t.run(['import', 'purchases', file, '--create-members', '--no-create-members', '--json']);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stderr).error.message).toBe('--create-members and --no-create-members exclude one another');
    expect(t.ok(['member', 'list'])).toEqual([]);
  });
});

describe('options that would take the same orders in twice', () => {
  it('--map naming a field twice is exit 2 (never "the last one wins"); --source with an invisible character is exit 2; nothing written', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'mp.csv');
    writeFileSync(file, 'Invoice,Cust,Date,Total\nK1,M001,2026-11-01,10\n');
    const cols = ['--map', 'member_id=Cust', '--map', 'purchased_at=Date', '--map', 'amount=Total', '--create-members'];
    for (const maps of [['--map', 'order_id=Invoice', '--map', 'order_id=Cust'], ['--map', 'order_id=Cust,order_id=Invoice']]) {
      const r = t.run(['import', 'purchases', file, ...maps, ...cols, '--json']);
      expect(r.code, r.stderr).toBe(2);
      expect(JSON.parse(r.stderr).error.message).toMatch(/^--map names order_id twice \((Invoice and Cust|Cust and Invoice)\): give it one column$/);
    }
    // the same column twice is no conflict
    expect(t.ok(['import', 'purchases', file, '--map', 'order_id=Invoice', '--map', 'order_id=Invoice', ...cols, '--source', 'till'])).toMatchObject({ accepted: 1, pointsAccrued: 10 });
    for (const source of ['till\u200b', 'ti\u00adll', 'till\u0007']) {
      const r = t.run(['import', 'purchases', file, '--map', 'order_id=Invoice', ...cols, '--source', source, '--json']);
      expect(r.code, JSON.stringify(source)).toBe(2);
      expect(JSON.parse(r.stderr).error.message).toMatch(/^--source "ti.*" contains (an invisible or blank character|a control character)/);
    }
    expect(t.ok(['member', 'show', 'M001']).balance).toBe(10);
    // the activities import's --map too
    const acts = join(t.dir, 'acts.csv');
    writeFileSync(acts, 'kind,who,ref,at\nsignup,M001,r1,2026-11-01\n');
    const a = t.run(['import', 'activities', acts, '--map', 'member_id=who', '--map', 'member_id=kind', '--json']);
    expect(a.code, a.stderr).toBe(2);
    expect(JSON.parse(a.stderr).error.message).toBe('--map names member_id twice (who and kind)');
    expect(t.verify().ok).toBe(true);
  });
});

/** UTF-16 with its BOM, little- or big-endian. */
function utf16(text: string, be: boolean): Buffer {
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  return be ? le.swap16() : le;
}

describe('encodings', () => {
  // three orders: 12.50 → 12 points, 30.00 → 30, 7.99 → 7
  const ORDERS = 'order_id,member_id,purchased_at,amount,category\nA1,M1,2026-11-01 09:00,12.50,Café\nA2,M2,2026-11-02 09:00,30.00,thé\nA3,M1,2026-11-03 09:00,7.99,\n';

  it('a wrong encoding is named as such: UTF-16 without a BOM, UTF-8 read as UTF-16, a BOM that overrides --encoding', () => {
    const t = tmpLedger();
    const u16 = join(t.dir, 'u16.csv');
    // (all ASCII, it decodes as UTF-8 and its header is wrong; with Café in it, its bytes are not UTF-8)
    for (const text of [ORDERS.replace(/é/g, 'e'), ORDERS]) {
      writeFileSync(u16, Buffer.from(text, 'utf16le'));
      const a = t.run(['import', 'purchases', u16, '--create-members', '--json']);
      expect(a.code).toBe(2);
      expect(JSON.parse(a.stderr).error.hint).toMatch(/^the (header|file) h(olds|as) NUL (characters|bytes) between its letters: (the file|it) is UTF-16 without a byte-order mark; pass --encoding utf16le/);
    }
    expect(t.ok(['import', 'purchases', u16, '--create-members', '--encoding', 'utf16le'])).toMatchObject({ accepted: 3 });
    const u8 = join(t.dir, 'u8.csv');
    writeFileSync(u8, ORDERS.length % 2 ? ORDERS + '\n' : ORDERS); // (an even length: read as UTF-16 it decodes whole)
    const b = t.run(['import', 'purchases', u8, '--encoding', 'utf16le', '--json']);
    expect(b.code).toBe(2);
    expect(JSON.parse(b.stderr).error.hint).toMatch(/^the header read as utf16le holds no plain letters: the file is not utf16le; leave --encoding out/);
    const bom = join(t.dir, 'bom.csv');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('order_id,member_id,purchased_at,amount\nB1,M\xe9,2026-11-01,10\n', 'latin1')]));
    const c = t.run(['import', 'purchases', bom, '--encoding', 'latin1', '--json']);
    expect(c.code).toBe(2);
    expect(JSON.parse(c.stderr).error.hint).toBe('the file begins with a UTF-8 byte-order mark, which decides its encoding over --encoding latin1: its text is not what the mark says; remove the mark (tail -c +4 FILE > FIXED.csv) and import FIXED.csv with --encoding latin1');
  });

  it.each([
    ['UTF-16LE', false],
    ['UTF-16BE', true],
  ])('%s with a BOM is read by itself, without --encoding', (_n, be) => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, utf16(ORDERS.replace(/\n/g, '\r\n'), be));
    expect(t.ok(['import', 'purchases', file, '--create-members'])).toMatchObject({ rows: 3, accepted: 3, rejected: 0, pointsAccrued: 49 });
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(19);
  });

  /** UTF-16 bytes of `text` as written, lone surrogates and all (Node writes each unit as it is). */
  const units16 = (text: string, be: boolean, bom = true): Buffer => {
    const le = Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
    return be ? le.swap16() : le;
  };

  it.each([
    ['UTF-16LE by its BOM', false, true, []],
    ['UTF-16BE by its BOM', true, true, []],
    ['UTF-16LE declared', false, false, ['--encoding', 'utf16le']],
    ['UTF-16BE declared', true, false, ['--encoding', 'utf16be']],
  ])('an unpaired surrogate in %s is an error naming its line and byte, as bad UTF-8 is, never U+FFFD (two SKUs never become one); nothing is written', (_n, be, bom, enc) => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const head = 'order_id,member_id,purchased_at,sku,quantity,unit_price\n';
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, units16(`${head}E1,M1,2026-11-01 10:00,S\ud800,1,10.00\nE2,M1,2026-11-01 10:00,S\udfff,1,20.00\n`, be, bom));
    const r = t.run(['import', 'purchases', file, ...enc, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // the unit after "E1,M1,2026-11-01 10:00,S" on line 2: (BOM) + 2 bytes a unit
    const at = (bom ? 2 : 0) + 2 * (head.length + 'E1,M1,2026-11-01 10:00,S'.length);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.message).toContain(`p.csv:2: bytes that are not valid UTF-16${be ? 'BE' : 'LE'}: an unpaired surrogate 0xD800 at byte ${at}`);
    expect(t.run(['import', 'purchases', file, ...enc]).stderr).toMatch(/hint: export the file again .*--encoding/);
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
    // a low half alone, on line 3
    writeFileSync(file, units16(`${head}E2,M1,2026-11-01 10:00,S\udfff,1,20.00\n`.replace('E2', 'E1,M1,2026-11-01 10:00,T,1,1.00\nE2'), be, bom));
    expect(JSON.parse(t.run(['import', 'purchases', file, ...enc, '--json']).stderr.trim()).error.message).toContain('p.csv:3: bytes that are not valid UTF-16');
    // member import and catalog import alike
    writeFileSync(join(t.dir, 'm.csv'), units16('id,name\nM7,Ann\nM101,Ann\ud800a\n', be, bom));
    const m = t.run(['member', 'import', join(t.dir, 'm.csv'), ...enc, '--json']);
    expect(m.code).toBe(2);
    expect(JSON.parse(m.stderr.trim()).error.message).toContain('m.csv:3: bytes that are not valid UTF-16');
    writeFileSync(join(t.dir, 'c.csv'), units16('sku,name,price\nT1,Tea\udc00,10.00\n', be, bom));
    const c = t.run(['catalog', 'import', join(t.dir, 'c.csv'), ...enc, '--json']);
    expect(c.code).toBe(2);
    expect(JSON.parse(c.stderr.trim()).error.message).toContain('c.csv:2: bytes that are not valid UTF-16');
    expect(t.ok(['member', 'list']).map((x: { id: string }) => x.id)).toEqual(['M1']);
    expect(t.ok(['catalog', 'list'])).toEqual([]);
  });

  it('bad bytes in a file of bare-CR (or CR LF) line ends name their own line, in any encoding (trial 37)', () => {
    const t = tmpLedger();
    const rows = ['order_id,member_id,purchased_at,sku,amount', 'A1,M001,2026-11-01,a,1', 'A2,M001,2026-11-01,b,1', 'A3,M001,2026-11-01,c,1'];
    for (const [eol, enc] of [['\r', 'windows-1252'], ['\r\n', 'windows-1252'], ['\r', 'gbk'], ['\r', 'utf8']] as const) {
      const file = join(t.dir, 'cr.csv');
      writeFileSync(file, Buffer.concat([Buffer.from(rows.join(eol) + eol + 'A4,M001,2026-11-01,'), Buffer.from([enc === 'windows-1252' ? 0x81 : 0xff]), Buffer.from(',1' + eol)]));
      const r = t.run(['import', 'purchases', file, '--encoding', enc, '--json']);
      expect(r.code, `${JSON.stringify(eol)} ${enc}`).toBe(2);
      expect(JSON.parse(r.stderr).error.message, `${JSON.stringify(eol)} ${enc}`).toMatch(/cr\.csv:5: bytes that are not /);
    }
    writeFileSync(join(t.dir, 'm.csv'), Buffer.concat([Buffer.from('id,name\rM1,Ann\rM2,B'), Buffer.from([0x81]), Buffer.from('\r')]));
    expect(JSON.parse(t.run(['member', 'import', join(t.dir, 'm.csv'), '--encoding', 'windows-1252', '--json']).stderr).error.message).toMatch(/m\.csv:3: bytes that are not windows-1252/);
    // a UTF-16 file of bare CRs, an unpaired surrogate on line 3
    writeFileSync(join(t.dir, 'u.csv'), units16('id,name\rM7,Ann\rM101,Ann\ud800a\r', false, true));
    expect(JSON.parse(t.run(['member', 'import', join(t.dir, 'u.csv'), '--json']).stderr).error.message).toContain('u.csv:3: bytes that are not valid UTF-16');
  });

  it('a temp folder that is missing or no folder (TMPDIR, POINTSMALL_TMPDIR) is exit 2 naming it, not a bug; nothing written (trial 37)', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01,1.00\n');
    for (const [env, where, why] of [
      [{ TMPDIR: join(t.dir, 'gone') }, 'TMPDIR', 'it does not exist'],
      [{ POINTSMALL_TMPDIR: file }, 'POINTSMALL_TMPDIR', 'it is not a folder'],
    ] as const) {
      const r = t.run(['import', 'purchases', file, '--create-members', '--json'], { env });
      expect(r.code, where).toBe(2);
      expect(JSON.parse(r.stderr).error.message).toMatch(new RegExp(`^cannot make the import's scratch folder in \\S+ \\(${where}\\): ${why}; nothing was written$`));
    }
    expect(t.ok(['member', 'list'])).toEqual([]);
  });

  it('a UTF-16 file ending in half a unit is refused, not cut short silently', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, Buffer.concat([utf16(ORDERS, false), Buffer.from([0x41])]));
    const r = t.run(['import', 'purchases', file, '--create-members', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim()).error.message).toContain('bytes that are not valid UTF-16LE: the file ends in half a character');
    writeFileSync(join(t.dir, 'm.csv'), Buffer.concat([utf16('id,name\nM7,Ann\n', true), Buffer.from([0x41])]));
    expect(t.run(['member', 'import', join(t.dir, 'm.csv')]).stderr).toContain('the file ends in half a character');
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
  });

  it('a surrogate pair (an emoji) is text in UTF-16, also where a read of the file cuts it in two', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    // pad so that the pair's high half ends the first 256 KiB the import reads (bytes 262142–262143)
    const head = 'order_id,member_id,purchased_at,amount,category\n';
    const row = (i: number, cat: string) => `A${i},M1,2026-11-01 09:00,1.00,${cat}\n`;
    let text = head;
    let i = 0;
    while (1 + text.length + row(i, 'x').length < 131_000) text += row(i++, 'tea');
    const before = 1 + text.length + `A${i},M1,2026-11-01 09:00,1.00,`.length; // units before the category (BOM first)
    text += row(i++, 'x'.repeat(131_071 - before) + '\u{1F375}') + row(i++, 'tea');
    const bytes = utf16(text, false);
    expect(bytes.readUInt16LE(262_142)).toBe(0xd83c);
    writeFileSync(file, bytes);
    expect(t.ok(['import', 'purchases', file, '--create-members'])).toMatchObject({ accepted: i, rejected: 0 });
    writeFileSync(file, utf16(text, true));
    expect(t.run(['import', 'purchases', file, '--create-members', '--json']).json()).toMatchObject({ accepted: 0, duplicates: i });
  });

  it('MacRoman bytes with bare CRs: --encoding macroman for purchases and members', () => {
    const t = tmpLedger();
    // é is 0x8E in MacRoman; the names come back as written
    const members = Buffer.from('id;name\rM1;Jos\x8E\rM2;Ren\x8Ee\r', 'latin1');
    writeFileSync(join(t.dir, 'm.csv'), members);
    expect(t.ok(['member', 'import', join(t.dir, 'm.csv'), '--encoding', 'macroman', '--delimiter', ';'])).toMatchObject({ rows: 2, created: 2, rejected: 0 });
    expect(t.ok(['member', 'show', 'M1']).name).toBe('José');
    expect(t.ok(['member', 'show', 'M2']).name).toBe('Renée');
    writeFileSync(join(t.dir, 'p.csv'), Buffer.from(ORDERS.replace(/\n/g, '\r').replace('Café', 'Caf\x8E').replace('thé', 'th\x8E'), 'latin1'));
    expect(t.ok(['import', 'purchases', join(t.dir, 'p.csv'), '--encoding', 'macroman'])).toMatchObject({ rows: 3, accepted: 3, pointsAccrued: 49 });
  });

  it.each([
    ['gbk', Buffer.concat([Buffer.from('order_id,member_id,purchased_at,sku,category,quantity,unit_price\nK1,M1,2026-11-01 09:30,TEA-001,'), Buffer.from([0xb2, 0xe8]), Buffer.from(',1,10.00\nK2,M1,2026-11-01 09:30,TEA-'), Buffer.from([0xff]), Buffer.from('1,tea,1,10.00\n')]), 3],
    ['windows-1252', Buffer.concat([Buffer.from('order_id,member_id,purchased_at,sku,category,quantity,unit_price\nW1,M1,2026-11-01 09:30,TEA-001,caf'), Buffer.from([0x81]), Buffer.from(',1,10.00\n')]), 2],
  ])('bytes that %s has no character for are an error naming their line, never a silent U+FFFD (SPEC §7); nothing is written', (encoding, bytes, line) => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, bytes);
    const r = t.run(['import', 'purchases', file, '--encoding', encoding, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim()).error.message).toContain(`p.csv:${line}: bytes that are not ${encoding}`);
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
    // the same bytes in a member file
    writeFileSync(join(t.dir, 'm.csv'), Buffer.concat([Buffer.from('id,name\nM7,Ann\nM8,Jo'), Buffer.from([0x81]), Buffer.from('\n')]));
    const m = t.run(['member', 'import', join(t.dir, 'm.csv'), '--encoding', encoding, '--json']);
    expect(m.code).toBe(2);
    expect(JSON.parse(m.stderr.trim()).error.message).toContain(`m.csv:3: bytes that are not ${encoding}`);
    expect(t.ok(['member', 'list']).map((x: { id: string }) => x.id)).toEqual(['M1']);
  });

  it('a UTF-8 file declared gbk or windows-1252 is refused, naming the line as both read it; nothing is written (trial 32)', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nCN1,王芳,2026-11-10 09:00,100.00\n');
    const r = t.run(['import', 'purchases', file, '--encoding', 'gbk', '--create-members', '--json']);
    expect(r.code, r.stderr).toBe(2);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.message).toBe(`${file}:2: --encoding gbk was given, but the file is UTF-8: line 2 reads "CN1,王芳,2026-11-10 09:00,100.00" as UTF-8 and "CN1,鐜嬭姵,2026-11-10 09:00,100.00" as gbk; nothing was written`);
    expect(err.hint).toContain('leave out --encoding');
    expect(t.ok(['member', 'list'])).toEqual([]);
    expect(t.ok(['import', 'list'])).toEqual([]);
    // a profile's encoding is named as such, and the way out is --encoding utf8, which overrides it
    const viaProfile = t.run(['import', 'purchases', file, '--profile', join(FIXTURES, 'profile-gbk.json'), '--json']);
    expect(viaProfile.code).toBe(2);
    expect(JSON.parse(viaProfile.stderr.trim()).error.message).toContain(`the profile ${join(FIXTURES, 'profile-gbk.json')} says encoding gbk, but the file is UTF-8`);
    expect(JSON.parse(viaProfile.stderr.trim()).error.hint).toMatch(/^pass --encoding utf8 \(it overrides the profile's\)/);
    // without --encoding it is read as written
    expect(t.ok(['import', 'purchases', file, '--create-members'])).toMatchObject({ accepted: 1, membersCreated: 1 });
    expect(t.ok(['member', 'list']).map((m: { id: string }) => m.id)).toEqual(['王芳']);
    // a member file in UTF-8 declared windows-1252
    writeFileSync(join(t.dir, 'm.csv'), 'id,name\nM9,café\n');
    const m = t.run(['member', 'import', join(t.dir, 'm.csv'), '--encoding', 'windows-1252', '--json']);
    expect(m.code).toBe(2);
    expect(JSON.parse(m.stderr.trim()).error.message).toContain('reads "M9,café" as UTF-8 and "M9,cafÃ©" as windows-1252');
    // a real windows-1252 file, and an ASCII one, are read as declared
    writeFileSync(join(t.dir, 'm.csv'), Buffer.concat([Buffer.from('id,name\nM9,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(t.ok(['member', 'import', join(t.dir, 'm.csv'), '--encoding', 'windows-1252'])).toMatchObject({ created: 1 });
    expect(t.ok(['member', 'show', 'M9']).name).toBe('café');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nA1,M9,2026-11-10 09:00,10.00\n');
    expect(t.ok(['import', 'purchases', file, '--encoding', 'gbk'])).toMatchObject({ accepted: 1 });
  });

  it('over 1 MB: UTF-8 throughout (a character across the first MiB) is refused under --encoding gbk; a gbk byte late in the file makes it gbk', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const head = 'order_id,member_id,purchased_at,amount\n';
    const rows: string[] = [];
    for (let i = 0, n = head.length; n < (1 << 20) - 40; i++) {
      rows.push(`A${i},M${i % 9},2026-11-10 09:00,10.00\n`);
      n += rows[i].length;
    }
    let text = head + rows.join('');
    const pad = (1 << 20) - 1 - Buffer.byteLength(text) - 'B0,'.length; // 王 (3 bytes) starts one byte before the first MiB ends
    text += `B0,${'x'.repeat(Math.max(0, pad))}王,2026-11-10 09:00,10.00\n` + 'C0,M1,2026-11-10 09:00,10.00\n'.repeat(2000);
    expect(Buffer.from(text).indexOf(Buffer.from('王'))).toBe((1 << 20) - 1);
    writeFileSync(file, text);
    const r = t.run(['import', 'purchases', file, '--encoding', 'gbk', '--create-members', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stderr.trim()).error.message).toMatch(new RegExp(`:${rows.length + 2}: --encoding gbk was given, but the file is UTF-8`));
    // the same, with a gbk character (0xCD 0xF5, 王) near the end: not UTF-8, so read as gbk (past the checks of this test)
    writeFileSync(file, Buffer.concat([Buffer.from(text), Buffer.from('D0,'), Buffer.from([0xcd, 0xf5]), Buffer.from(',2026-11-10 09:00,10.00\n')]));
    const g = t.run(['import', 'purchases', file, '--encoding', 'gbk', '--create-members', '--json']);
    expect(g.stderr).not.toContain('the file is UTF-8');
  });

  it('invalid UTF-8 is an error naming the first bad line and suggesting --encoding; nothing is written', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    // Latin-1 é (0xE9) on line 2, read as UTF-8
    writeFileSync(file, Buffer.from(ORDERS, 'latin1'));
    const r = t.run(['import', 'purchases', file, '--create-members', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.message).toContain('p.csv:2: bytes that are not UTF-8');
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
    const human = t.run(['import', 'purchases', file, '--create-members']);
    expect(human.stderr).toMatch(/hint: .*--encoding .*windows-1252/);
    // read as what it is, it imports
    expect(t.ok(['import', 'purchases', file, '--create-members', '--encoding', 'latin1'])).toMatchObject({ accepted: 3, pointsAccrued: 49 });
    // the same for member import
    writeFileSync(join(t.dir, 'm.csv'), Buffer.from('id,name\nM7,Ann\nM8,Jos\xe9\n', 'latin1'));
    const m = t.run(['member', 'import', join(t.dir, 'm.csv')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('m.csv:3: bytes that are not UTF-8');
    expect(t.run(['member', 'show', 'M7']).code).toBe(2);
  });

  it('a real U+FFFD in a UTF-8 file is text, not an error', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, ORDERS.replace('Café', 'Caf\ufffd'));
    expect(t.ok(['import', 'purchases', file, '--create-members'])).toMatchObject({ accepted: 3, pointsAccrued: 49 });
  });

  it('a bad byte deep in a file read on two threads names its own line', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const text = linesFile(3000, '\n');
    const lines = text.split('\n');
    const bytes = Buffer.from(text, 'utf8');
    bytes[bytes.indexOf(Buffer.from(`${lines[5000]}\n`, 'utf8')) + 2] = 0xff; // on line 5001, in the second half
    writeFileSync(file, bytes);
    const r = t.run(['import', 'purchases', file, '--create-members'], { env: { POINTSMALL_THREADS: '2' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('p.csv:5001: bytes that are not UTF-8');
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
  });

  it('a bad byte more than 2 MiB into the file stops the import too, on one thread and on two (trial 30: it was read as U+FFFD)', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const rows = ['order_id,member_id,purchased_at,sku,category,quantity,unit_price'];
    for (let i = 0; i < 60_000; i++) rows.push(`W${i},M001,2026-11-01 09:00,SKU${i % 50},${i >= 50_000 ? 'Caf\xe9' : 'Tea'},1,10.00`);
    writeFileSync(file, Buffer.from(rows.join('\r\n') + '\r\n', 'latin1')); // the first é (0xE9 alone) at about 2.4 MB
    expect(Buffer.from(rows.slice(0, 50_001).join('\r\n')).length).toBeGreaterThan(2 * 1024 * 1024);
    for (const threads of ['1', '2']) {
      const r = t.run(['import', 'purchases', file, '--create-members'], { env: { POINTSMALL_THREADS: threads } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('p.csv:50002: bytes that are not UTF-8');
      expect(t.ok(['ledger', 'entries'])).toEqual([]);
    }
  });

  it('a header of one column holding ";" or tabs suggests --delimiter, in every import', () => {
    const t = tmpLedger();
    writeFileSync(join(t.dir, 'p.csv'), ORDERS.replace(/,/g, ';'));
    const p = t.run(['import', 'purchases', join(t.dir, 'p.csv')]);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/hint: .*--delimiter ";"/);
    writeFileSync(join(t.dir, 'm.csv'), 'id\tname\nM1\tAnn\n');
    const m = t.run(['member', 'import', join(t.dir, 'm.csv')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/hint: .*--delimiter tab/);
    writeFileSync(join(t.dir, 'c.csv'), 'sku;name;price\nT1;Tea;10.00\n');
    expect(t.run(['catalog', 'import', join(t.dir, 'c.csv')]).stderr).toMatch(/hint: .*--delimiter ";"/);
    // Excel's "sep=;" first line: the hints went in a circle (--delimiter, then --map for a header "sep=")
    writeFileSync(join(t.dir, 's.csv'), `sep=;\n${ORDERS.replace(/,/g, ';')}`);
    for (const args of [[], ['--delimiter', ';']]) {
      const s = t.run(['import', 'purchases', join(t.dir, 's.csv'), ...args]);
      expect(s.code).toBe(2);
      expect(s.stderr).toContain(`hint: the first line "sep=;" is a spreadsheet's note of the delimiter, not a header: remove that line (sed -i 1d FILE)${args.length ? '' : ' and pass --delimiter ";"'}, then import again`);
    }
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
  });

  it('member import and catalog import take --map, --delimiter and --encoding', () => {
    const t = tmpLedger();
    writeFileSync(join(t.dir, 'm.csv'), Buffer.from('Kundennr;Name;Telefon\r\nK1;J\xfcrgen;13800000001\r\n', 'latin1'));
    expect(t.ok(['member', 'import', join(t.dir, 'm.csv'), '--delimiter', 'semicolon', '--encoding', 'windows-1252', '--map', 'id=Kundennr', '--map', 'phone=Telefon'])).toMatchObject({ created: 1, rejected: 0 });
    expect(t.ok(['member', 'show', 'K1'])).toMatchObject({ name: 'Jürgen', phone: '13800000001' });
    writeFileSync(join(t.dir, 'c.csv'), utf16('Artikel\tBezeichnung\tPreis\r\nT1\tTee\t10.00\r\n', false));
    expect(t.ok(['catalog', 'import', join(t.dir, 'c.csv'), '--delimiter', 'tab', '--map', 'sku=Artikel,name=Bezeichnung,price=Preis'])).toMatchObject({ created: 1, rejected: 0 });
    expect(t.ok(['catalog', 'show', 'T1'])).toMatchObject({ name: 'Tee', price: '10.00' });
    const bad = t.run(['member', 'import', join(t.dir, 'm.csv'), '--delimiter', ';', '--encoding', 'latin1', '--map', 'id=Nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--map id=Nope: the header has no column "Nope"');
  });
});

describe('local times around DST', () => {
  it('a time in the spring-forward gap is a rejected row naming the gap; the repeated autumn hour takes its earlier instant', () => {
    const t = tmpLedger({ timezone: 'America/New_York', currency: 'USD' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(
      file,
      [
        'order_id,member_id,purchased_at,amount',
        'G1,M1,2026-03-08 02:30,10.00', // does not exist: rejected
        'G2,M1,2026-03-08 01:59,11.00',
        'G3,M1,2026-03-08 03:00,12.00',
        'G4,M1,2026-03-08T02:30:00-05:00,13.00', // with its offset it is an instant: 07:30Z
        'A1,M2,2026-11-01 01:30,14.00', // 01:30 EDT (05:30Z), not 01:30 EST (06:30Z)
      ].join('\n'),
    );
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ rows: 5, accepted: 4, rejected: 1, pointsAccrued: 11 + 12 + 13 + 14 });
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toContain('purchased_at ""2026-03-08 02:30"" does not exist in America/New_York: the clocks jump from 02:00 to 03:00 that day');
    const at = (m: string) => t.ok(['ledger', 'entries', '--member', m]).map((e: { at: string }) => e.at).sort();
    expect(at('M1')).toEqual(['2026-03-08T06:59:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:30:00.000Z']);
    expect(at('M2')).toEqual(['2026-11-01T05:30:00.000Z']);
    // the same with a --date-format
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nF1,M3,3/8/2026 2:05,10.00\nF2,M3,3/8/2026 3:05,10.00\n');
    const f = t.run(['import', 'purchases', file, '--create-members', '--date-format', 'M/D/YYYY H:mm', '--json', '--rejects', join(t.dir, 'rej2.csv')]);
    expect(f.json()).toMatchObject({ rejected: 1, accepted: 1 });
    expect(readFileSync(join(t.dir, 'rej2.csv'), 'utf8')).toContain('does not exist in America/New_York');
  });
});

describe('a date on a day whose midnight the clocks skip', () => {
  // Santiago moves its clocks from 00:00 to 01:00: a plain date that day was refused as a time in the gap,
  // and files of dates only (the groceries export) lost that day's orders every year.
  it('is read as the first instant of the day (01:00), with or without --date-format; a time in the gap is still refused', () => {
    const t = tmpLedger({ timezone: 'America/Santiago' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nD1,M1,2026-09-06,10.00\nD2,M1,2026-09-06 00:30,10.00\n');
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1, firstPurchasedAt: '2026-09-06T04:00:00.000Z' });
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toContain('does not exist in America/Santiago: the clocks jump from 00:00 to 01:00');
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nD3,M1,06-09-2026,10.00\n');
    expect(t.ok(['import', 'purchases', file, '--date-format', 'DD-MM-YYYY'])).toMatchObject({ accepted: 1, firstPurchasedAt: '2026-09-06T04:00:00.000Z' });
  });
});

describe('date formats', () => {
  it('several --date-format values read a mixed column; an ambiguous value is rejected; the summary gives the date range', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(
      file,
      [
        'order_id,member_id,purchased_at,amount',
        'D1,M1,2026-11-01 09:30,10.00', // ISO: read by the third format
        'D2,M1,11/13/2026 9:05,20.00', // M/D only
        'D3,M2,13/11/2026 09:05,30.00', // D/M only
        'D4,M2,7/7/2026 18:00,40.00', // both, the same date
        'D5,M3,3/4/2026 12:00,50.00', // March 4th or April 3rd: ambiguous
      ].join('\n'),
    );
    const args = ['import', 'purchases', file, '--create-members', '--date-format', 'M/D/YYYY H:mm', '--date-format', 'D/M/YYYY H:mm', '--date-format', 'YYYY-MM-DD HH:mm', '--rejects', join(t.dir, 'rej.csv')];
    const dry = t.run([...args, '--dry-run', '--json']);
    expect(dry.code).toBe(4);
    const want = { rows: 5, accepted: 4, rejected: 1, pointsAccrued: 100, firstPurchasedAt: '2026-07-07T18:00:00.000Z', lastPurchasedAt: '2026-11-13T09:05:00.000Z' };
    expect(dry.json()).toMatchObject({ ...want, dryRun: true });
    const human = t.run([...args, '--dry-run']);
    expect(human.stdout).toMatch(/^purchased\t2026-07-07 18:00 to 2026-11-13 09:05 \(UTC\)$/m);
    const r = t.run([...args, '--json']);
    expect(r.json()).toMatchObject({ ...want, dryRun: false });
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toContain('""3/4/2026 12:00"" is ambiguous: M/D/YYYY H:mm reads it as 2026-03-04 12:00, D/M/YYYY H:mm as 2026-04-03 12:00');
    expect(t.ok(['member', 'show', 'M2']).balance).toBe(70);
  });

  it('the Online Retail profile reads the copies that pad their dates (12/01/2010 08:26) like those that do not', () => {
    const t = tmpLedger({ timezone: 'Europe/London', currency: 'GBP' });
    const sample = readFileSync(join(__dirname, '..', '..', 'fixtures', 'online-retail-sample.csv'), 'utf8');
    const pad = (n: string) => n.padStart(2, '0');
    const padded = sample.replace(/(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})/g, (_m, mo, d, y, h, mi) => `${pad(mo)}/${pad(d)}/${y} ${pad(h)}:${mi}`);
    expect(padded).toContain('12/01/2010 08:26');
    writeFileSync(join(t.dir, 'padded.csv'), padded);
    const profile = join(__dirname, '..', '..', 'fixtures', 'profile-online-retail.json');
    // the same totals as the unpadded sample (import.test.ts): 492 points accrued, 50 taken back
    expect(t.ok(['import', 'purchases', join(t.dir, 'padded.csv'), '--profile', profile])).toMatchObject({
      rows: 29, orders: 13, accepted: 13, rejected: 0, pointsAccrued: 492, pointsReturned: 50,
      firstPurchasedAt: '2010-12-01T08:26:00.000Z', lastPurchasedAt: '2011-12-09T12:50:00.000Z',
    });
    // Online Retail II's columns and ISO dates, by its own profile
    const ii = sample
      .replace('InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country', 'Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country')
      .replace(/(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})/g, (_m, mo, d, y, h, mi) => `${y}-${pad(mo)}-${pad(d)} ${pad(h)}:${mi}:00`);
    writeFileSync(join(t.dir, 'ii.csv'), ii);
    expect(t.ok(['import', 'purchases', join(t.dir, 'ii.csv'), '--profile', join(__dirname, '..', '..', 'fixtures', 'profile-online-retail-ii.json')])).toMatchObject({
      source: 'online-retail-ii', rows: 29, accepted: 13, rejected: 0, pointsAccrued: 492, pointsReturned: 50,
    });
  });
});

describe('empty rows a spreadsheet writes', () => {
  // A row of nothing but separators (Excel's ",,,") or spaces was a rejected row (exit 4); an empty line was skipped.
  it('are skipped like empty lines, in every line end; line numbers still count them', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'p.csv');
    for (const eol of ['\n', '\r\n', '\r']) {
      const n = eol.length + (eol === '\r' ? 10 : 0);
      writeFileSync(file, ['order_id,member_id,purchased_at,amount', `E${n},M1,2026-11-01 10:00,10.00`, ',,,', '   ', ' , ,\t,', '', `F${n},M1,2026-11-01 10:00,bad`, ',,,'].join(eol) + eol);
      const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
      expect(r.code).toBe(4);
      expect(r.json()).toMatchObject({ rows: 2, accepted: 1, rejected: 1 });
      expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toMatch(/^_line,_reason.*\n7,/);
    }
    expect(t.verify().ok).toBe(true);
  });
});

describe('missing values, filters and whole orders', () => {
  it('--null NA empties fields: an NA customer is a guest; --skip Status=cancelled leaves rows out, counted skipped', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(
      file,
      [
        'order_id,member_id,purchased_at,sku,category,quantity,unit_price,Status',
        'S1,M1,2026-11-01 10:00,TEA,NA,2,5.00,paid', // category NA: none → 10 points
        'S1,M1,2026-11-01 10:00,CUP,NULL,1,3.50,paid', // 3.50 → order S1 13.50 → 13 points
        'S2,NA,2026-11-01 11:00,TEA,tea,1,9.00,paid', // a guest
        'S3,M2,2026-11-01 12:00,TEA,tea,4,10.00,cancelled', // left out
        'S3,M2,2026-11-01 12:00,CUP,tea,1,1.00,Cancelled', // left out too (the second value)
        'S4,M2,2026-11-01 13:00,TEA,tea,1,20.00,paid', // 20 points
      ].join('\n'),
    );
    const r = t.run(['import', 'purchases', file, '--create-members', '--null', 'NA', '--null', 'NULL', '--skip-guests', '--skip', 'Status=cancelled', '--skip', 'status=Cancelled', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ rows: 6, orders: 2, accepted: 2, rejected: 0, guestsSkipped: 1, skipped: 2, membersCreated: 2, pointsAccrued: 33 });
    expect(t.ok(['member', 'list']).map((m: { id: string }) => m.id).sort()).toEqual(['M1', 'M2']); // no member called "NA"
    // without --null, an NA member is no member either: its order is rejected, naming --null (trial 30: it
    // made a member "NA"); a category NA is text
    // (a value in any case, as the column's name: Cancelled is left out by --skip Status=cancelled)
    const plain = t.run(['import', 'purchases', file, '--source', 'other', '--create-members', '--skip', 'Status=CANCELLED', '--json']);
    expect(plain.code).toBe(4);
    expect(plain.json()).toMatchObject({ accepted: 2, rejected: 1, membersCreated: 0, pointsAccrued: 33 });
    expect(plain.json().firstRejects[0].reason).toContain('member_id "NA" is a placeholder for no member');
    const bad = t.run(['import', 'purchases', file, '--skip', 'State=cancelled']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--skip State=cancelled: the header has no column "State"');
    // an NA where a value is needed: the reason says the field is empty (not `""`), the rejects file keeps the NA
    const needed = join(t.dir, 'needed.csv');
    writeFileSync(needed, ['order_id,member_id,purchased_at,sku,quantity,unit_price', 'N1,M1,NA,TEA,1,5.00', 'N2,M1,2026-11-02 10:00,TEA,NA,5.00', 'N3,M1,2026-11-02 11:00,TEA,1,NA'].join('\n'));
    const empty = t.run(['import', 'purchases', needed, '--null', 'NA', '--json', '--rejects', join(t.dir, 'needed.rejects.csv')]);
    expect(empty.code).toBe(2);
    expect(readFileSync(join(t.dir, 'needed.rejects.csv'), 'utf8').trim().split('\n').slice(1)).toEqual([
      '2,purchased_at is empty,N1,M1,NA,TEA,1,5.00',
      '3,quantity is empty,N2,M1,2026-11-02 10:00,TEA,NA,5.00',
      '4,unit_price is empty,N3,M1,2026-11-02 11:00,TEA,1,NA',
    ]);
  });

  it('an order-level file repeating an order id with other amounts rejects that order whole, suggesting line_amount', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, ['order_id,member_id,purchased_at,Total', 'R1,M1,2026-11-01,10.00', 'R2,M1,2026-11-01,30.00', 'R1,M1,2026-11-01,5.00', 'R3,M2,2026-11-01,7.00', 'R3,M2,2026-11-01,7.00'].join('\n'));
    const r = t.run(['import', 'purchases', file, '--create-members', '--map', 'amount=Total', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(r.code).toBe(4);
    // R2 30 points, R3 7 (its repeat is the same row: a duplicate); R1 nothing, neither line
    expect(r.json()).toMatchObject({ rows: 5, orders: 3, accepted: 2, duplicates: 1, rejected: 2, pointsAccrued: 37 });
    const rejects = readFileSync(join(t.dir, 'rej.csv'), 'utf8').trim().split('\n');
    expect(rejects.map((l) => l.split(',')[0])).toEqual(['_line', '2', '4']);
    expect(rejects[1]).toContain('order R1 appears on lines 2, 4 with different content');
    expect(rejects[1]).toContain('--map line_amount=Total');
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(30);
  });

  it('a file of one row per order that names items (sku or quantity): rows repeating an order exactly are ambiguous, the order is rejected whole, never halved', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'tickets.csv');
    // two tickets of 45.00 on K1, three on K3, with the line total in a column called amount
    writeFileSync(file, ['order_id,member_id,purchased_at,sku,amount', 'K1,M001,2026-11-01 19:00,TICKET,45.00', 'K1,M001,2026-11-01 19:00,TICKET,45.00', 'K2,M002,2026-11-01 19:05,TICKET,45.00', 'K3,M003,2026-11-01 19:10,TICKET,45.00', 'K3,M003,2026-11-01 19:10,TICKET,45.00', 'K3,M003,2026-11-01 19:10,TICKET,45.00', ''].join('\n'));
    const rej = join(t.dir, 'rej.csv');
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', rej]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ accepted: 1, duplicates: 0, rejected: 5, pointsAccrued: 45 });
    const rows = readFileSync(rej, 'utf8').trim().split('\n');
    expect(rows.map((x) => x.split(',')[0])).toEqual(['_line', '2', '3', '5', '6', '7']);
    expect(rows[1]).toContain('order K1 appears on lines 2, 3 with the same content, in a file that names items (sku): two lines of the same item, or the order repeated? If the rows are the order\'s lines, map the amount column as a line total: --map line_amount=amount; if the order is repeated, remove the repeats');
    // mapped as line totals, every ticket counts
    expect(t.ok(['import', 'purchases', file, '--create-members', '--map', 'line_amount=amount', '--source', 'box-office'])).toMatchObject({ accepted: 3, pointsAccrued: 270 });
    expect(t.ok(['member', 'show', 'M003']).balance).toBe(135);
    expect(t.verify().ok).toBe(true);
  });

  it('a whole file rejected exits 2, nothing written; --max-rejects stops before anything is committed', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'p.csv');
    writeFileSync(file, ['order_id,member_id,purchased_at,amount', 'W1,M1,2026-11-01,x', 'W2,M1,yesterday,1.00'].join('\n'));
    const all = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(all.code).toBe(2);
    expect(all.stdout).toBe('');
    expect(JSON.parse(all.stderr.trim()).error.message).toContain('every row was rejected, 2 of them (the first, line 2: amount');
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(t.ok(['audit', 'list'])).toEqual(expect.not.arrayContaining([expect.objectContaining({ action: 'import.purchases' })]));

    // two good orders (12 + 8 points), one bad row in phase 1 and one conflict found while accruing
    writeFileSync(join(t.dir, 'first.csv'), 'order_id,member_id,purchased_at,amount\nK1,M1,2026-11-01,1.00\n');
    t.ok(['import', 'purchases', join(t.dir, 'first.csv'), '--create-members']);
    const mixed = join(t.dir, 'mixed.csv');
    writeFileSync(mixed, ['order_id,member_id,purchased_at,amount', 'K2,M1,2026-11-02,12.00', 'K3,M1,2026-11-02,8.00', 'K4,M1,2026-11-02,nope', 'K1,M1,2026-11-01,2.00'].join('\n'));
    for (const max of ['0', '1']) {
      const r = t.run(['import', 'purchases', mixed, '--max-rejects', max, '--json', '--rejects', join(t.dir, 'rej.csv')]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr.trim()).error.message).toMatch(new RegExp(`at least \\d+ rejected rows?, bad or of an order with a bad row \\(counted until there were more than --max-rejects ${max}, then checking stopped\\): nothing was imported`));
      expect(t.ok(['member', 'show', 'M1']).balance).toBe(1);
      // a dry run says the same: the conflict found while accruing passes the limit there too
      const dry = t.run(['import', 'purchases', mixed, '--max-rejects', max, '--dry-run', '--json']);
      expect(dry.code).toBe(2);
      expect(JSON.parse(dry.stderr.trim()).error.message).toMatch(/at least \d+ rejected rows?, bad or of an order with a bad row \(counted until/);
    }
    const ok = t.run(['import', 'purchases', mixed, '--max-rejects', '2', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(ok.code).toBe(4);
    expect(ok.json()).toMatchObject({ accepted: 2, rejected: 2, pointsAccrued: 20 });
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(21);
    expect(t.verify().ok).toBe(true);
  });
});

describe('--max-rejects and the rejects file', () => {
  it('stopped by --max-rejects, the rejects file holds whole orders, so fixed it imports every line; a dry run writes no rejects file unless --rejects names one', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'mr.csv');
    const rej = join(t.dir, 'mr.rejects.csv');
    writeFileSync(file, ['order_id,member_id,purchased_at,sku,quantity,unit_price', 'MR1,M001,2026-11-01,A,1,10', 'MR1,M001,2026-11-01,B,1,bad', 'MR1,M001,2026-11-01,C,1,10', 'MR2,M002,2026-11-01,A,1,10', 'MR3,M003,2026-11-01,A,1,zz', 'MR3,M003,2026-11-01,B,1,5', ''].join('\n'));
    // a dry run writes nothing: an edited rejects file beside the input stays as it was
    writeFileSync(rej, 'MY EDITS\n');
    for (const max of ['0', '1']) {
      const dry = t.run(['import', 'purchases', file, '--create-members', '--dry-run', '--max-rejects', max, '--json']);
      expect(dry.code).toBe(2);
      expect(JSON.parse(dry.stderr).error.hint).toMatch(/^pass --rejects FILE to see/);
      expect(readFileSync(rej, 'utf8')).toBe('MY EDITS\n');
    }
    const r = t.run(['import', 'purchases', file, '--create-members', '--max-rejects', '0', '--json']);
    expect(r.code).toBe(2);
    const rows = readFileSync(rej, 'utf8').trim().split('\n');
    // the two bad rows and the other lines of their orders, in line order
    expect(rows.map((x) => x.split(',')[0])).toEqual(['_line', '2', '3', '4', '6', '7']);
    expect(rows[1]).toMatch(/^2,"?order MR1: another row of this order was rejected \(line 3\)/);
    // fixed, the rejects file imports both orders whole: 30 + 15 points, not 10 + 5
    writeFileSync(rej, readFileSync(rej, 'utf8').replace(',1,bad', ',1,10').replace(',1,zz', ',1,10'));
    expect(t.ok(['import', 'purchases', rej, '--create-members', '--max-rejects', '0'])).toMatchObject({ accepted: 2, rejected: 0, pointsAccrued: 45 });
    expect(t.ok(['member', 'show', 'M001']).balance).toBe(30);
    expect(t.ok(['member', 'show', 'M003']).balance).toBe(15);
    expect(t.verify().ok).toBe(true);
  });
});

describe('line totals and money finer than the currency', () => {
  it('line_amount is a line total; lines are summed exactly and each order rounded once', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'lines.csv');
    writeFileSync(
      file,
      [
        'Order,Customer,Date,Item,Qty,Total',
        'L1,M1,2026-11-01 10:00,A,1,3.3333',
        'L1,M1,2026-11-01 10:00,B,2,3.3333',
        'L1,M1,2026-11-01 10:00,C,1,3.3334', // 10.0000 exactly: 10 points (rounded per line: 9.99, 9 points)
        'L2,M2,2026-11-01 11:00,A,,12.50', // 12 points
        'L3,M2,2026-11-01 12:00,A,1,-2.4999', // a return of 2.4999 → 2.50 → 2 points back
      ].join('\n'),
    );
    const r = t.ok(['import', 'purchases', file, '--create-members', '--map', 'order_id=Order,member_id=Customer,purchased_at=Date,sku=Item,quantity=Qty,line_amount=Total']);
    expect(r).toMatchObject({ format: 'line', rows: 5, orders: 3, accepted: 3, rejected: 0, pointsAccrued: 22, pointsReturned: 2 });
    // the same again is a duplicate, not a conflict
    expect(t.ok(['import', 'purchases', file, '--create-members', '--map', 'order_id=Order,member_id=Customer,purchased_at=Date,sku=Item,quantity=Qty,line_amount=Total'])).toMatchObject({ duplicates: 3, accepted: 0 });

    // unit prices finer than the currency: 2 × 4.995 summed exactly is 9.99 (9 points), not 5.00 + 5.00
    writeFileSync(join(t.dir, 'fine.csv'), 'order_id,member_id,purchased_at,sku,quantity,unit_price\nF1,M3,2026-11-01,A,1,4.995\nF1,M3,2026-11-01,B,1,4.995\n');
    expect(t.ok(['import', 'purchases', join(t.dir, 'fine.csv'), '--create-members'])).toMatchObject({ accepted: 1, pointsAccrued: 9 });

    // a normal price beside a finer one: 123.45 + 0.001 is 123.451 → 123.45 (123 points; it was 2345), and its
    // return takes them back (it took none); weights at a normal price: 1.5 × 3.33 twice is 9.99 (9, not 10)
    writeFileSync(join(t.dir, 'mixed.csv'), 'order_id,member_id,purchased_at,sku,quantity,unit_price\nX1,M5,2026-11-01,A,1,123.45\nX1,M5,2026-11-01,B,1,0.001\nX2,M5,2026-11-02,A,1.5,3.33\nX2,M5,2026-11-02,C,1.5,3.33\n');
    expect(t.ok(['import', 'purchases', join(t.dir, 'mixed.csv'), '--create-members'])).toMatchObject({ accepted: 2, pointsAccrued: 132 });
    writeFileSync(join(t.dir, 'mixed-return.csv'), 'order_id,member_id,purchased_at,sku,quantity,unit_price\nX3,M5,2026-11-03,A,-1,123.45\nX3,M5,2026-11-03,B,-1,0.001\n');
    expect(t.ok(['import', 'purchases', join(t.dir, 'mixed-return.csv')])).toMatchObject({ accepted: 1, pointsAccrued: 0, pointsReturned: 123 });
    expect(t.ok(['member', 'show', 'M5']).balance).toBe(9);

    // an order amount with 3 decimals is accepted and rounded once: 19.995 → 20.00
    writeFileSync(join(t.dir, 'orders.csv'), 'order_id,member_id,purchased_at,amount\nA1,M4,2026-11-01,19.995\nA2,M4,2026-11-01,0.004\n');
    expect(t.ok(['import', 'purchases', join(t.dir, 'orders.csv'), '--create-members'])).toMatchObject({ accepted: 2, rejected: 0, pointsAccrued: 20 });
    expect(t.verify().ok).toBe(true);
  });
});

describe('times finer than a millisecond', () => {
  it('are kept to the millisecond, the rest dropped (not rounded): a re-import differing only there is a duplicate', () => {
    const t = tmpLedger();
    const a = join(t.dir, 'a.csv');
    const b = join(t.dir, 'b.csv');
    writeFileSync(a, 'order_id,member_id,purchased_at,amount\nN1,M1,2026-11-10T10:00:00.123456789Z,20.00\n');
    writeFileSync(b, 'order_id,member_id,purchased_at,amount\nN1,M1,2026-11-10T10:00:00.123999Z,20.00\n');
    expect(t.ok(['import', 'purchases', a, '--create-members'])).toMatchObject({ accepted: 1, firstPurchasedAt: '2026-11-10T10:00:00.123Z' });
    expect(t.ok(['import', 'purchases', b, '--create-members'])).toMatchObject({ accepted: 0, duplicates: 1, rejected: 0 });
  });
});

describe('an input that is not a regular file', () => {
  it('a pipe (FIFO, <(…)) or a folder is refused with what it is and the fix, exit 2, nothing written', () => {
    const t = tmpLedger();
    const fifo = join(t.dir, 'purchases.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const before = t.verify().entries;
    const r = t.run(['import', 'purchases', fifo, '--create-members', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('it is a pipe or a device, not a regular file');
    expect(r.stderr).toContain('save it to a file first');
    const dir = t.run(['import', 'purchases', t.dir, '--json']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain('it is a folder, not a file');
    expect(t.verify().entries).toBe(before);
    expect(t.ok(['import', 'list'])).toEqual([]);
  });
});

describe('a workbook or a compressed file', () => {
  // An .xlsx or .gz was "bytes that are not UTF-8 … pass --encoding", and with --encoding latin1 the hint
  // printed a binary dump as "the header".
  it('is refused by what it is, with the fix, in every import, exit 2, nothing written', () => {
    const t = tmpLedger();
    const files: [string, Buffer, RegExp][] = [
      ['sales.xlsx', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), /it is a ZIP archive \(an Excel \.xlsx workbook is one\), not a text file/],
      ['sales.csv.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]), /it is gzip-compressed, not a text file/],
      ['sales.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1]), /it is an old Excel \.xls workbook/],
    ];
    for (const [name, bytes, message] of files) {
      writeFileSync(join(t.dir, name), bytes);
      for (const args of [['import', 'purchases', join(t.dir, name), '--encoding', 'latin1'], ['member', 'import', join(t.dir, name)], ['catalog', 'import', join(t.dir, name)]]) {
        const r = t.run([...args, '--json']);
        expect(r.code, `${name} ${args[0]}`).toBe(2);
        expect(JSON.parse(r.stderr).error.message).toMatch(message);
      }
    }
    expect(t.ok(['member', 'list'])).toEqual([]);
  });
});

describe('a file written while it is read', () => {
  // A till that exports sales.csv again while cron imports it: the import read 19,627 of 50,000 rows, took the
  // cut-off tail for a whole row (73.63 stored as 73), exited 0 and recorded the hash of the whole file.
  it('is refused (exit 2, FILE_CHANGED) with nothing imported, whether cut short or grown; the same file then imports', async () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'sales.csv');
    const rows = ['order_id,member_id,purchased_at,sku,quantity,unit_price'];
    for (let i = 0; i < 200; i++) rows.push(`O${i},M${i % 7},2026-11-01 10:00,S${i % 5},2,73.63`);
    const whole = rows.join('\n') + '\n';
    for (const change of [() => truncateSync(file, 4000), () => appendFileSync(file, 'O999,M1,2026-11-01 10:00,S1,1,5.00\n')]) {
      writeFileSync(file, whole);
      const barrier = mkdtempSync(join(t.dir, 'barrier-'));
      const running = runCliAsync(['import', 'purchases', file, '--create-members', '--json'], { db: t.db, env: { POINTSMALL_IMPORT_BARRIER: barrier } });
      while (!existsSync(join(barrier, 'read'))) await new Promise((r) => setTimeout(r, 20));
      change();
      writeFileSync(join(barrier, 'go'), '');
      const r = await running;
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const err = JSON.parse(r.stderr).error;
      expect(err.code).toBe('FILE_CHANGED');
      expect(err.message).toMatch(/sales\.csv changed while it was read \(\d+ bytes when the import began, \d+ bytes now\): nothing was imported/);
      expect(t.ok(['import', 'list'])).toEqual([]);
      expect(t.ok(['member', 'list'])).toEqual([]);
    }
    writeFileSync(file, whole);
    expect(t.ok(['import', 'purchases', file, '--create-members'])).toMatchObject({ accepted: 200, rejected: 0, pointsAccrued: 200 * 147 });
    expect(t.verify().ok).toBe(true);
  });
});

describe('the rejects file, written once the import has committed (trial 37)', () => {
  // O1..O300 of M1 and M2, and X1 of a member the ledger lacks: rejected while accruing, its row read again
  const rows = ['order_id,member_id,purchased_at,amount', ...Array.from({ length: 300 }, (_, i) => `O${i},M${1 + (i % 2)},2026-11-01 10:00,10.00`), 'X1,nobody,2026-11-01 10:00,5.00'];

  /** Runs the import to the point where it reads the rejected rows again, does `meanwhile`, and lets it end. */
  async function atRejects(meanwhile: (dir: string) => void, lines = rows) {
    const t = tmpLedger({ timezone: 'UTC' });
    for (const m of ['M1', 'M2']) t.ok(['member', 'add', '--id', m, '--name', m]);
    const file = join(t.dir, 'sales.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    mkdirSync(join(t.dir, 'rej'));
    const barrier = mkdtempSync(join(t.dir, 'barrier-'));
    const running = runCliAsync(['import', 'purchases', file, '--rejects', join(t.dir, 'rej', 'r.csv'), '--json'], { db: t.db, env: { POINTSMALL_IMPORT_REJECTS_BARRIER: barrier } });
    while (!existsSync(join(barrier, 'rejects'))) await new Promise((r) => setTimeout(r, 20));
    meanwhile(t.dir);
    writeFileSync(join(barrier, 'go'), '');
    return { t, file, r: await running };
  }

  it('an input replaced before its rejected rows are read again: exit 2 saying what is committed, never the new file\'s rows under the old reasons', async () => {
    const { t, file, r } = await atRejects((dir) => {
      writeFileSync(join(dir, 'next.csv'), rows.map((x) => x.replace(/^O/, 'Q')).join('\n') + '\n');
      renameSync(join(dir, 'next.csv'), join(dir, 'sales.csv'));
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const err = JSON.parse(r.stderr).error;
    expect(err).toMatchObject({ code: 'FILE_CHANGED_BEFORE_REJECTS', rejected: 1, rejectsFile: null, committed: { ordersAccrued: 300, review: 0, runId: 1, finished: true } });
    expect(err.message).toContain('changed after the import read it, before its rejected rows were read again');
    expect(existsSync(join(t.dir, 'rej', 'r.csv'))).toBe(false);
    expect(t.ok(['import', 'list'])).toMatchObject([{ accepted: 300 }]);
    // the file as imported, put back: its rejects file, and nothing doubles
    writeFileSync(file, rows.join('\n') + '\n');
    expect(t.run(['import', 'purchases', file, '--rejects', join(t.dir, 'rej', 'r.csv')]).code).toBe(4);
    expect(readFileSync(join(t.dir, 'rej', 'r.csv'), 'utf8')).toMatch(/^_line,_reason,order_id,member_id,purchased_at,amount\n302,"member nobody is not in the ledger[^\n]*",X1,nobody,2026-11-01 10:00,5\.00\n$/);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(1500);
    expect(t.verify().ok).toBe(true);
  });

  it('an input written over in place with as many bytes and its old time (cp -p): refused too, by its bytes (trial 37 check, finding 7)', async () => {
    const { t, r } = await atRejects((dir) => {
      writeFileSync(join(dir, 'next.csv'), rows.map((x) => x.replace(/^O/, 'Q')).join('\n') + '\n');
      expect(spawnSync('touch', ['-r', join(dir, 'sales.csv'), join(dir, 'next.csv')]).status).toBe(0);
      expect(spawnSync('cp', ['-p', join(dir, 'next.csv'), join(dir, 'sales.csv')]).status).toBe(0);
    });
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'FILE_CHANGED_BEFORE_REJECTS', committed: { ordersAccrued: 300 } });
    expect(existsSync(join(t.dir, 'rej', 'r.csv'))).toBe(false);
  });

  it('a change after the last rejected row (which the re-read stops short of parsing) is refused too: the rest of the file is hashed', async () => {
    // X1 first: the re-read has what it needs after line 2, the changed amount is on the last line, beyond
    // the first chunk it reads (256 KB: a note of 1,000 bytes on each row)
    const note = 'n'.repeat(2000);
    const early = [rows[0], rows[301], ...rows.slice(1, 301)].map((x, i) => (i === 0 ? `${x},note` : `${x},${note}`));
    const { t, file, r } = await atRejects((dir) => {
      writeFileSync(join(dir, 'next.csv'), early.join('\n').replace(/10\.00,n+$/, (x) => x.replace('10.00', '90.00')) + '\n');
      expect(spawnSync('touch', ['-r', join(dir, 'sales.csv'), join(dir, 'next.csv')]).status).toBe(0);
      expect(spawnSync('cp', ['-p', join(dir, 'next.csv'), join(dir, 'sales.csv')]).status).toBe(0);
    }, early);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'FILE_CHANGED_BEFORE_REJECTS', rejected: 1, committed: { ordersAccrued: 300 } });
    expect(existsSync(join(t.dir, 'rej', 'r.csv'))).toBe(false);
    // the file as imported, put back: the same early stop, and the hash of the whole file matches
    writeFileSync(file, early.join('\n') + '\n');
    expect(statSync(file).size).toBeGreaterThan(2 * 262_144);
    expect(t.run(['import', 'purchases', file, '--rejects', join(t.dir, 'rej', 'r.csv')]).code).toBe(4);
    expect(readFileSync(join(t.dir, 'rej', 'r.csv'), 'utf8')).toBe(`_line,_reason,order_id,member_id,purchased_at,amount,note\n2,"member nobody is not in the ledger (add it with pointsmall member add, or pass --create-members)",X1,nobody,2026-11-01 10:00,5.00,${note}\n`);
  });

  it('a rejects file that cannot be written (its folder gone): exit 2 saying what is committed and how to get the rows, not an internal error', async () => {
    const { t, r } = await atRejects((dir) => rmSync(join(dir, 'rej'), { recursive: true }));
    expect(r.code, r.stderr).toBe(2);
    const err = JSON.parse(r.stderr).error;
    expect(err).toMatchObject({ code: 'REJECTS_NOT_WRITTEN', rejected: 1, rejectsFile: null, committed: { ordersAccrued: 300, runId: 1, finished: true } });
    expect(err.message).toMatch(/^\S*sales\.csv: 1 rejected row, but the rejects file \S*r\.csv could not be written \(.*does not exist\): the import itself is done and committed \(300 orders accrued, run 1\)$/);
    expect(err.hint).toContain('run the same import again with --rejects FILE');
    expect(t.ok(['member', 'show', 'M2']).balance).toBe(1500);
    expect(t.verify().ok).toBe(true);
  });
});

describe('old data whose points lapsed before today (trial 37)', () => {
  it('the summary says how many of the points accrued had lapsed already (JSON pointsLapsed); a pipe gets the number, and a recent order is not counted', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    const file = join(t.dir, 'old.csv');
    // rolling 365 days (init's rules), today 2026-11-23: the 2024 orders lapsed in 2025, the 2026 one lives
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nH1,M1,2024-03-01 10:00,120.00\nH2,M2,2024-06-01 10:00,80.50\nN1,M1,2026-11-20 10:00,10.00\n');
    const dry = t.ok(['import', 'purchases', file, '--create-members', '--dry-run']);
    expect(dry).toMatchObject({ pointsAccrued: 210, pointsLapsed: 200 });
    const piped = t.run(['import', 'purchases', file, '--create-members']);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^points accrued\t210\nalready lapsed\t200\n/m);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 130, available: 10 });
    // nothing lapsed: no such line
    writeFileSync(file, 'order_id,member_id,purchased_at,amount\nN2,M2,2026-11-21 10:00,5.00\n');
    const fresh = t.run(['import', 'purchases', file]);
    expect(fresh.stdout).not.toContain('already lapsed');
    expect(t.ok(['import', 'purchases', file, '--dry-run'])).toMatchObject({ pointsLapsed: 0 });
  });
});
