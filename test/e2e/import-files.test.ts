// `import purchases` on files as real exports write them: line ends, encodings, date formats. Every file
// is built here, and every total is worked out by hand beside it.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpLedger } from '../helpers/cli.js';

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
    // a quoted field holding an LF past the middle: the only LF byte in the file
    const text = linesFile(2000, '\r').replace('O1500,M0,2026-11-01 10:00,"TEA,2"', 'O1500,M0,2026-11-01 10:00,"TEA\n2"');
    writeFileSync(file, text);
    const r = t.ok(['import', 'purchases', file, '--create-members'], { env: { POINTSMALL_THREADS: '2' } });
    expect(r).toMatchObject({ rows: 4000, orders: 2000, accepted: 2000, rejected: 0, pointsAccrued: 10_000 });
    expect(t.verify().ok).toBe(true);
  });

  it('a quoted field may hold a bare CR line end in a bare-CR file, and line numbers count CRs', () => {
    const t = tmpLedger();
    const file = join(t.dir, 'p.csv');
    const text = ['order_id,member_id,purchased_at,amount,category', 'A1,M1,2026-11-01 09:00,"12.00",tea', 'A2,M2,2026-11-01 09:00,5.00,"Tea\rLeaves"', 'A3,M3,nope,5.00,', 'A4,M4,2026-11-01,7.50,'].join('\r');
    writeFileSync(file, text); // no line end after the last record
    const r = t.run(['import', 'purchases', file, '--create-members', '--json', '--rejects', join(t.dir, 'rej.csv')]);
    expect(r.code).toBe(4);
    // A1 12 points, A2 5, A4 7 (7.50 floored)
    expect(r.json()).toMatchObject({ rows: 4, accepted: 3, rejected: 1, pointsAccrued: 24 });
    // A3 starts on physical line 5 (A2 spans lines 3 and 4)
    expect(readFileSync(join(t.dir, 'rej.csv'), 'utf8')).toMatch(/^5,.*""nope""/m);
  });
});
