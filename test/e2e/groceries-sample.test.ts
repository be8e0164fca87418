// The public grocery sample (fixtures/groceries-sample.csv) as bench/recommend.js gets it in: converted to a
// purchases CSV (order id = member and date, one line per row, every line 1 × 1.00) and imported with
// `import purchases --date-format DD-MM-YYYY --create-members`. The figures are the fixture's, counted when
// it was cut (fixtures/README.md).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpLedger } from '../helpers/cli.js';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'groceries-sample.csv');

describe('groceries sample', () => {
  it('is the file fixtures/README.md describes', () => {
    const bytes = readFileSync(FIXTURE);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('ef2e24a259ecc6353570702e919e21eb44b5c4cdabb80fb2da1648c5bfb10474');
    const rows = bytes.toString('utf8').split('\n').slice(1, -1);
    expect(rows.length).toBe(5817);
    expect(rows.every((r) => /^[0-9]+,[0-9]{2}-[0-9]{2}-[0-9]{4},[^,]+$/.test(r))).toBe(true);
  });

  it('converts to one line a row, one order a member and day, and imports whole', async () => {
    const { groceriesPurchasesCsv } = await import('../../bench/recommend.js');
    const csv: string = groceriesPurchasesCsv(readFileSync(FIXTURE, 'utf8'));
    const lines = csv.split('\n').slice(1, -1);
    expect(lines.length).toBe(5817);
    expect(lines[0]).toBe('1000@24-06-2014,1000,24-06-2014,whole milk,1,1.00');
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(2222);

    const t = tmpLedger({ timezone: 'Europe/London', currency: 'GBP' });
    const file = join(t.dir, 'groceries.csv');
    writeFileSync(file, csv);
    const r = t.ok(['import', 'purchases', file, '--date-format', 'DD-MM-YYYY', '--create-members']);
    expect(r).toMatchObject({ rows: 5817, orders: 2222, accepted: 2222, rejected: 0, membersCreated: 594, pointsAccrued: 5817 });
    expect(r.firstPurchasedAt).toBe('2014-01-01T00:00:00.000Z');
    expect(r.lastPurchasedAt).toBe('2015-12-30T00:00:00.000Z');
    expect(t.verify().ok).toBe(true);
  });
});
