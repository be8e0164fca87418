// Rough edges an outside tester found: times in messages, wording, look-alike ids, CSV headers and line
// endings, import counts and quantity messages — through the built bin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tmpLedger, type TmpLedger } from '../helpers/cli.js';

const errorOf = (r: { stderr: string }) => JSON.parse(r.stderr.trim().split('\n').pop()!).error as { code: string; message: string; hint?: string };
const UTC_ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A ledger in Asia/Shanghai (now 2026-11-23 10:00 there) with M1, an activity and review above 100.00. */
function shop(): TmpLedger {
  const t = tmpLedger();
  t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
  const f = join(t.dir, 'rules.json');
  writeFileSync(f, JSON.stringify({ activities: [{ name: 'review', points: 20, maxPerDay: 1 }], limits: { reviewAbove: '100.00' } }));
  t.ok(['rules', 'apply', f, '--effective', '2026-01-01']);
  return t;
}

function file(t: TmpLedger, name: string, text: string): string {
  const f = join(t.dir, name);
  writeFileSync(f, text);
  return f;
}

describe('times in messages and hints are the ledger zone\'s wall clock, to the minute', () => {
  it('activity limit hint, unknown activity, a second review approve and a second purchase void', () => {
    const t = shop();
    const award = (ref: string, activity = 'review') => t.run(['points', 'award', '--member', 'M1', '--activity', activity, '--ref', ref, '--at', '2026-11-20 10:30', '--json']);
    expect(award('a').code).toBe(0);
    const limit = errorOf(award('b'));
    expect(limit.hint).toContain('the rules in force at 2026-11-20 10:30 (version 2)');
    const unknown = errorOf(award('c', 'nope'));
    expect(unknown.message).toBe('activity "nope" is not in the rules in force at 2026-11-20 10:30 (version 2)');

    const csv = file(t, 'p.csv', 'order_id,member_id,purchased_at,amount\nO1,M1,2026-11-19 10:00,500.00\nO2,M1,2026-11-19 10:00,50.00\n');
    t.ok(['import', 'purchases', csv, '--source', 's']);
    t.ok(['review', 'approve', '1', '--yes']);
    const again = t.run(['review', 'approve', '1', '--yes']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('was already approved by tester at 2026-11-23 10:00');
    const first = t.run(['purchase', 'void', 's', 'O2', '--yes']);
    expect(first.code).toBe(0);
    // the result line carries its ✓ like every command's, piped too; a dry run's does not
    expect(first.stdout).toMatch(/^✓ voided order O2 of source s, 50 points taken back, 1 member affected\n/);
    const twice = t.run(['purchase', 'void', 's', 'O2', '--yes']);
    expect(twice.code).toBe(3);
    expect(twice.stderr).toContain('was voided already (at 2026-11-23 10:00)');
    for (const m of [limit.hint, unknown.message, again.stderr, twice.stderr]) expect(m).not.toMatch(UTC_ISO);
    // --json keeps the message the same; its fields keep UTC ISO 8601
    expect(errorOf(t.run(['purchase', 'void', 's', 'O2', '--yes', '--json'])).message).toContain('(at 2026-11-23 10:00)');
  });
});

describe('ids that look alike are refused, naming the field and the code point', () => {
  it('member add, member import, import purchases --create-members and a --member look-up', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const add = (id: string) => t.run(['member', 'add', '--id', id, '--name', 'X', '--json']);
    const zw = add('M1\u200b');
    expect(zw.code).toBe(2);
    expect(errorOf(zw).message).toContain('U+200B (zero-width space)');
    expect(errorOf(add('e\u0301')).message).toContain('is not in Unicode NFC form: U+0065 U+0301 for U+00E9');
    expect(errorOf(add('\uff2d1')).message).toContain('U+FF2D for U+004D');
    expect(errorOf(add('M\u00a01')).message).toContain('U+00A0 (no-break space)');
    expect(add('M 2').code).toBe(0); // an ASCII space inside is visible

    const members = file(t, 'm.csv', 'id,name\nM3,Cy\nM1\u2060,Dee\n');
    const mi = t.run(['member', 'import', members]);
    expect(mi.code).toBe(4);
    expect(mi.stderr).toMatch(/m\.csv:3: id: member id "M1\u2060" contains an invisible or blank character, U\+2060/);

    const csv = file(t, 'p.csv', 'order_id,member_id,purchased_at,amount\nO1,M1\u200b,2026-11-19 10:00,50.00\nO2,e\u0301,2026-11-19 10:00,50.00\nO3,\uff2d1,2026-11-19 10:00,50.00\nO4\u200d,M1,2026-11-19 10:00,50.00\nO5,M1,2026-11-19 10:00,50.00\n');
    const r = t.run(['import', 'purchases', csv, '--source', 's', '--create-members']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^accepted\t1$/m);
    expect(r.stdout).toMatch(/^members created\t0$/m);
    expect(r.stderr).toContain('p.csv:2: member id "M1\u200b" contains an invisible or blank character, U+200B');
    expect(r.stderr).toContain('p.csv:5: order id "O4\u200d" contains an invisible or blank character, U+200D');
    expect((t.ok(['member', 'list']) as { id: string }[]).map((m) => m.id)).toEqual(['M 2', 'M1', 'M3']);

    const show = t.run(['member', 'show', 'M1\u200b', '--json']);
    expect(show.code).toBe(2);
    expect(errorOf(show).message).toBe('member "M1\u200b" not found; it contains an invisible or blank character, U+200B (zero-width space), at position 3: ids must be visible text');
  });

  it('import purchases refuses them at an id\'s ends too: only ASCII spaces and tabs around a field are not part of it (trial 39)', () => {
    const t = tmpLedger();
    for (const id of ['M001', 'M002', 'M003']) t.ok(['member', 'add', '--id', id, '--name', id]);
    const csv = file(
      t,
      'ws.csv',
      'order_id,member_id,purchased_at,amount\n' +
        'W1,M001\u00a0,2026-11-19 10:00,10.00\nW2,\u3000M002,2026-11-19 10:00,10.00\nW3,M003\u2028,2026-11-19 10:00,10.00\n' +
        'W4\ufeff,M001,2026-11-19 10:00,10.00\n\u00a0W5,M001,2026-11-19 10:00,10.00\nW6, M002\t,2026-11-19 10:00,10.00\n',
    );
    const r = t.run(['import', 'purchases', csv, '--create-members']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^accepted\t1$/m);
    expect(r.stdout).toMatch(/^members created\t0$/m);
    expect(r.stderr).toContain('ws.csv:2: member id "M001\u00a0" contains an invisible or blank character, U+00A0 (no-break space), at position 5');
    expect(r.stderr).toContain('ws.csv:3: member id "\u3000M002" contains an invisible or blank character, U+3000');
    expect(r.stderr).toContain('ws.csv:4: member id "M003\u2028" contains an invisible or blank character, U+2028');
    expect(r.stderr).toContain('ws.csv:5: order id "W4\ufeff" contains an invisible or blank character, U+FEFF (byte order mark)');
    expect(r.stderr).toContain('ws.csv:6: order id "\u00a0W5" contains an invisible or blank character, U+00A0');
    expect((t.ok(['member', 'list']) as { id: string; balance: number }[]).map((m) => [m.id, m.balance])).toEqual([['M001', 0], ['M002', 10], ['M003', 0]]);
    const runs = t.ok(['import', 'list']) as { rejected: number }[];
    expect(runs[0].rejected).toBe(5);
  });

  it('member, catalog and activities imports refuse them at an id\'s end too; a name keeps losing them (trial 39b)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const rules = file(t, 'r.json', JSON.stringify({ activities: [{ name: 'review', points: 20 }] }));
    t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']);
    // an update of M1 by an id ending in a no-break space: refused, M1 untouched; a name's trailing one is trimmed as before
    const m = t.run(['member', 'import', file(t, 'm.csv', 'id,name\nM1\u00a0,Renamed\nM3\u2028,Cy\nM4\ufeff,Dee\nM5,Eve\u00a0\n')]);
    expect(m.code).toBe(4);
    expect(m.stdout).toMatch(/^4 rows: 1 added, 0 updated, 0 unchanged, 3 rejected$/m);
    expect(m.stderr).toContain('m.csv:2: id: member id "M1\u00a0" contains an invisible or blank character, U+00A0 (no-break space)');
    expect(m.stderr).toContain('m.csv:3: id: member id "M3\u2028" contains an invisible or blank character, U+2028');
    expect(m.stderr).toContain('m.csv:4: id: member id "M4\ufeff" contains an invisible or blank character, U+FEFF');
    expect((t.ok(['member', 'list']) as { id: string; name: string }[]).map((x) => [x.id, x.name])).toEqual([['M1', 'Ann'], ['M5', 'Eve']]);
    // nor behind a vertical tab or a form feed (trimmed as spaces are), nor in a file that holds U+E000 elsewhere (trial 39c)
    const m2 = t.run(['member', 'import', file(t, 'm2.csv', 'id,name\nM1\u00a0\v,Mallory\nM1\u3000\f,Mallory\nM6,Fay \ue000\n')]);
    expect(m2.code).toBe(4);
    expect(m2.stdout).toMatch(/^3 rows: 1 added, 0 updated, 0 unchanged, 2 rejected$/m);
    expect(m2.stderr).toContain('U+00A0');
    expect(m2.stderr).toContain('U+3000');
    expect(t.ok(['member', 'show', 'M1']).name).toBe('Ann');
    // catalog SKUs
    const c = t.run(['catalog', 'import', file(t, 'c.csv', 'sku,name,price\nSKU1\u00a0,Tea,10.00\n\u3000SKU4,Cup,5.00\nSKU5,Pot ,7.00\n')]);
    expect(c.code).toBe(4);
    expect(c.stderr).toMatch(/c\.csv:2: .*SKU1\u00a0/);
    expect(c.stderr).toMatch(/c\.csv:3: .*\u3000SKU4/);
    expect((t.ok(['catalog', 'list']) as { sku: string; name: string }[]).map((x) => [x.sku, x.name])).toEqual([['SKU5', 'Pot']]);
    // activities: a member id or a ref ending in one would award M1, or award R1 twice
    const a = t.run(['import', 'activities', file(t, 'a.csv', 'activity,member_id,ref,occurred_at\nreview,M1,R1,2026-11-20 10:00\nreview,M1\u00a0,R2,2026-11-20 10:00\nreview,M1,R1\u00a0,2026-11-20 11:00\nreview,M1,R3\ufeff,2026-11-20 12:00\n'), '--json']);
    expect(a.code).toBe(4);
    expect(a.json()).toMatchObject({ awarded: 1, rejected: 3, pointsAwarded: 20 });
    const reasons = (a.json() as { firstRejects: { line: number; reason: string }[] }).firstRejects;
    expect(reasons.map((x) => x.line)).toEqual([3, 4, 5]);
    expect(reasons[0].reason).toContain('U+00A0');
    expect(reasons[1].reason).toContain('ref "R1\u00a0" contains an invisible or blank character, U+00A0 (no-break space)');
    expect(reasons[2].reason).toContain('U+FEFF');
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(20);
  });
});

describe('ids a spreadsheet shortened to scientific notation are refused', () => {
  // Excel shows a long numeric id as 1.23457E+14 and saves it so: two customers became one member.
  it('as a new member id and as an order id (import purchases, member add)', () => {
    const t = tmpLedger();
    const csv = file(t, 'e.csv', 'order_id,member_id,purchased_at,amount\nU6,1.23457E+14,2026-11-19 10:00,10.00\nU7,1.23457E+14,2026-11-19 10:00,10.00\n1.23457E+14,M9,2026-11-19 10:00,10.00\nU8,M9,2026-11-19 10:00,10.00\n');
    const r = t.run(['import', 'purchases', csv, '--create-members']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^accepted\t1$/m);
    expect(r.stderr).toContain('e.csv:2: member id "1.23457E+14" is a number a spreadsheet shortened to scientific notation');
    expect(r.stderr).toContain('e.csv:4: order id "1.23457E+14" is a number a spreadsheet shortened');
    expect((t.ok(['member', 'list']) as { id: string }[]).map((m) => m.id)).toEqual(['M9']);
    const add = t.run(['member', 'add', '--id', '4.5E+12', '--name', 'X', '--json']);
    expect(add.code).toBe(2);
    expect(errorOf(add).message).toContain('export the column as text');
    // ids that merely hold an E are ids
    expect(t.run(['member', 'add', '--id', '12E4B', '--name', 'Y']).code).toBe(0);
  });
});

describe('a header that names a column twice is refused by every CSV import', () => {
  it('purchases, members and catalog: exit 2 naming the column and both positions, nothing written', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const p = t.run(['import', 'purchases', file(t, 'p.csv', 'order_id,member_id,purchased_at,amount,amount\nO1,M1,2026-11-19 10:00,50.00,60.00\n'), '--json']);
    expect(p.code).toBe(2);
    expect(errorOf(p).message).toMatch(/p\.csv:1: the header names column "amount" twice, at positions 4 and 5$/);
    const m = t.run(['member', 'import', file(t, 'm.csv', 'id,name,Name\nM2,Bo,Bob\n'), '--json']);
    expect(m.code).toBe(2);
    expect(errorOf(m).message).toMatch(/m\.csv:1: the header has columns "name" \(position 2\) and "Name" \(position 3\), which read as the same column$/);
    const c = t.run(['catalog', 'import', file(t, 'c.csv', 'sku,name,price,price\nX1,Tea,1.00,2.00\n'), '--json']);
    expect(c.code).toBe(2);
    expect(errorOf(c).message).toContain('the header names column "price" twice, at positions 3 and 4');
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(0);
    expect(t.ok(['member', 'list'])).toHaveLength(1);
    expect(t.ok(['catalog', 'list'])).toHaveLength(0);
    // a mapped column beside one named as the field is no duplicate: the map says which to read
    const mapped = file(t, 'q.csv', 'order_id,member_id,purchased_at,amount,Total\nO1,M1,2026-11-19 10:00,50.00,60.00\n');
    expect(t.ok(['import', 'purchases', mapped, '--map', 'amount=Total']).pointsAccrued).toBe(60);
  });
});

describe('a bare CR in a file of LF lines', () => {
  it('the merged row\'s reason names the bare CR and how to convert the file; member import says the same', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const p = t.run(['import', 'purchases', file(t, 'p.csv', 'order_id,member_id,purchased_at,amount\nO1,M1,2026-11-19 10:00,50.00\rO2,M1,2026-11-19 10:00,60.00\nO3,M1,2026-11-19 10:00,70.00\n')]);
    expect(p.code).toBe(4);
    expect(p.stderr).toContain("p.csv:2: has 7 fields, the header has 4: a bare CR (old Mac line end) inside the row: the file mixes line endings; convert it to one, e.g. perl -pe 's/\\r\\n?/\\n/g' FILE.csv > FIXED.csv");
    // a row that is merely short says nothing of line ends
    const short = t.run(['import', 'purchases', file(t, 's.csv', 'order_id,member_id,purchased_at,amount\nO4,M1,2026-11-19 10:00\nO5,M1,2026-11-19 10:00,80.00\n')]);
    expect(short.stderr).toMatch(/s\.csv:2: has 3 fields, the header has 4\n/);
    const m = t.run(['member', 'import', file(t, 'm.csv', 'id,name\nM2,Bo\rM3,Cy\nM4,Di\n'), '--json']);
    expect(m.code).toBe(2);
    expect(errorOf(m).message).toContain('a bare CR (old Mac line end) inside the row: the file mixes line endings');
  });
});

describe('a file of skipped and rejected rows', () => {
  it('is not "every row was rejected": exit 4, the guest counted as skipped, the bad row in the rejects file', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const csv = file(t, 'p.csv', 'order_id,member_id,purchased_at,amount\nO1,NA,2026-11-19 10:00,50.00\nO2,M1,2026-11-19 10:00,lots\n');
    const r = t.run(['import', 'purchases', csv, '--null', 'NA', '--skip-guests']);
    expect(r.code).toBe(4);
    expect(r.stderr).not.toContain('every row was rejected');
    expect(r.stdout).toMatch(/^guests skipped\t1$/m);
    expect(r.stdout).toMatch(/^rejected\t1$/m);
    expect(r.stderr).toContain('p.csv:3: ');
    // every row rejected is still exit 2
    const all = t.run(['import', 'purchases', file(t, 'q.csv', 'order_id,member_id,purchased_at,amount\nO3,M1,2026-11-19 10:00,lots\n')]);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('every row was rejected, 1 of them');
  });
});

describe('import counts of orders', () => {
  it('fixtures/purchases-bad.csv: orders counts every order id read, rejectedOrders every one rejected, on one thread or two', () => {
    const t = tmpLedger();
    for (const id of ['M001', 'M002', 'M003', 'M004']) t.ok(['member', 'add', '--id', id, '--name', id]);
    // 17 rows, 14 order ids (one row has none): B3001 and T1001 are accepted, the 12 others rejected
    for (const threads of ['1', '2']) {
      const r = t.run(['import', 'purchases', join(FIXTURES, 'purchases-bad.csv'), '--dry-run', '--json'], { env: { POINTSMALL_THREADS: threads } });
      expect(r.code).toBe(4);
      const s = r.json();
      expect(s).toMatchObject({ rows: 17, orders: 14, accepted: 2, rejected: 15, rejectedOrders: 12, duplicates: 0, review: 0 });
      expect(s.accepted + s.review + s.duplicates + s.rejectedOrders).toBe(s.orders);
    }
  });
});

describe('messages that say what is wrong', () => {
  it('a quantity that is not a whole number ≥ 1 is a quantity error, in --item and refund --line', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', 'Tea', '--price', '10.00']);
    for (const item of ['TEA-001:-1', 'TEA-001:1.5', 'TEA-001:0', 'TEA-001:']) {
      const r = t.run(['checkout', '--member', 'M1', '--item', item, '--tender', 'cash', '--yes', '--json']);
      expect(r.code).toBe(2);
      expect(errorOf(r).message).toContain('must be a whole number ≥ 1');
      expect(errorOf(r).message).not.toContain('not found');
    }
    const order = t.ok(['checkout', '--member', 'M1', '--item', 'TEA-001:2', '--tender', 'cash', '--yes']);
    const refund = t.run(['order', 'refund', order.orderId, '--line', 'TEA-001:-1', '--yes', '--json']);
    expect(refund.code).toBe(2);
    expect(errorOf(refund).message).toContain('--line "TEA-001:-1": quantity "-1" must be a whole number ≥ 1 (SKU:QTY)');
  });

  it('--points where no points can be used says so and why, not "only 0"', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '10.00', '--pay', 'cash']);
    const r = t.run(['checkout', '--member', 'M1', '--item', 'CUP', '--points', '500', '--tender', 'cash', '--yes', '--json']);
    expect(r.code).toBe(3);
    const e = errorOf(r);
    expect(e.message).toBe('--points 500 is more than these items can take (at most 0); no points can be used here: these items take no points (they are paid in cash)');
    expect(e.hint).toBe('leave out --points (or pass --points 0) and pay in cash');
    // the quote says the same, in the same words
    const q = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'CUP']);
    expect(q.allowedText).toBe('no points can be used here: these items take no points (they are paid in cash)');
    const human = t.run(['checkout', 'quote', '--member', 'M1', '--item', 'CUP']);
    expect(human.stdout).toMatch(/^points allowed\s+no points can be used here: these items take no points \(they are paid in cash\)$/m);
    expect(human.stdout).not.toMatch(/only \d/);
  });
});
