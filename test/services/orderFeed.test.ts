// Assembling staged groups into orders: the pure step between the stage's sorted stream and accrual.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OrderLine, orderContentHash } from '../../src/domain/purchases.js';
import { MAX_ORDER_LINES, US, feedOrders, joinLines, packLine } from '../../src/services/orderFeed.js';
import type { StageRow } from '../../src/store/purchases.js';

const line = (n: number, amount: number, sku = '', cat = '', qty = '', price = '') => packLine(n, { amount, sku: sku || null, category: cat || null, quantity: qty || null, unitPrice: price || null });
/** An order's packed lines (FedOrder.packed) read back: six values a line, as packLine writes them. */
const unpacked = (packed: string) => {
  const f = packed.split(US);
  const out: (string | number | null)[][] = [];
  for (let i = 0; i + 6 <= f.length; i += 6) out.push([+f[i], +f[i + 1], f[i + 2] || null, f[i + 3] || null, f[i + 4] || null, f[i + 5] || null]);
  return out;
};
const asPacked = (lines: readonly OrderLine[]) => lines.map((l) => [l.line, l.amount, l.sku, l.category, l.quantity, l.unitPrice]);
const group = (orderId: string, memberId: string, at: number, lines: string[], bad: number | null = null): StageRow => [orderId, memberId, at, Number(lines[0].split(US)[0]), joinLines(lines), bad];

describe('feedOrders', () => {
  it('joins the groups of one order into one order, its lines in file order, and counts its groups', () => {
    const at = Date.UTC(2026, 0, 5, 2);
    const out = [...feedOrders([group('A', 'M1', at, [line(9, 300, 'TEA', 'tea', '1', '3.00')]), group('A', 'M1', at, [line(2, 1000, 'CUP', 'home', '2', '5.00')]), group('B', 'M2', at + 1, [line(3, 500)])], 'line')];
    expect(out).toHaveLength(2);
    const a = out[0];
    if (!a.ok) throw new Error(a.reason);
    expect(a).toMatchObject({ orderId: 'A', memberId: 'M1', at, amount: 1300, groups: 2, lines: [2, 9], firstLine: 2, repeatDuplicates: 0, repeatConflicts: [] });
    expect(a.own.map((l) => [l.line, l.sku, l.category])).toEqual([[2, 'CUP', 'home'], [9, 'TEA', 'tea']]);
    expect(out[1]).toMatchObject({ ok: true, orderId: 'B', amount: 500, groups: 1 });
  });

  it('the content hash ignores the order of the rows in the file', () => {
    const at = Date.UTC(2026, 0, 5, 2);
    const x = line(1, 300, 'TEA', 'tea', '1', '3.00');
    const y = line(2, 1000, 'CUP', 'home', '2', '5.00');
    const [one] = [...feedOrders([group('A', 'M1', at, [x, y])], 'line')];
    const [two] = [...feedOrders([group('A', 'M1', at, [y.replace(/^2/, '1'), x.replace(/^1/, '2')])], 'line')];
    expect(one.ok && two.ok && one.contentHash === two.contentHash).toBe(true);
  });

  it('rejects a whole order when one of its rows was rejected, or when its rows name two members', () => {
    const at = Date.UTC(2026, 0, 5, 2);
    const out = [...feedOrders([group('A', 'M1', at, [line(4, 100), line(6, 100)], 5), group('B', 'M1', at, [line(7, 100)]), group('B', 'M2', at, [line(8, 100)])], 'line')];
    expect(out[0]).toMatchObject({ ok: false, orderId: 'A', lines: [4, 6] });
    expect(out[0].ok ? '' : out[0].reason).toContain('line 5');
    expect(out[1]).toMatchObject({ ok: false, orderId: 'B', lines: [7, 8] });
    expect(out[1].ok ? '' : out[1].reason).toContain('names member M1 on line 7 but M2 on line 8');
  });

  it('in an order-level file, repeats of an order are duplicates when equal and conflicts when not', () => {
    const at = Date.UTC(2026, 0, 5, 2);
    const [o] = [...feedOrders([group('A', 'M1', at, [line(2, 1000), line(5, 1000), line(9, 1200)])], 'order')];
    if (!o.ok) throw new Error(o.reason);
    expect(o).toMatchObject({ amount: 1000, firstLine: 2, repeatDuplicates: 1, repeatConflicts: [9], lines: [2, 5, 9] });
    expect(o.own).toHaveLength(1);
  });

  it('gives every order the content hash of its lines as parsed, however its rows are grouped (the hash the ledger keeps)', () => {
    const value = fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }).map((v) => v.replace(/[\u001e\u001f]/g, ' ') || null));
    const row = fc.record({ amount: fc.integer({ min: -1e9, max: 1e9 }), sku: value, category: value, quantity: value, unitPrice: value, dt: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('line' as const, 'order' as const), (rows, groupsOf, format) => {
        const at = Date.UTC(2026, 0, 5, 2);
        const lines: OrderLine[] = rows.map((r, i) => ({ line: 10 + i, memberId: 'M1', at: at + r.dt * 60_000, amount: r.amount, sku: r.sku, category: r.category, quantity: r.quantity, unitPrice: r.unitPrice }));
        // groups of consecutive lines with one time each, as a stretch of the file stages them
        const staged: StageRow[] = [];
        for (let i = 0; i < lines.length; ) {
          let j = i + 1;
          while (j < lines.length && j - i < groupsOf && lines[j].at === lines[i].at) j++;
          staged.push(group('A', 'M1', lines[i].at, lines.slice(i, j).map((l) => packLine(l.line, l))));
          i = j;
        }
        const [o] = [...feedOrders(staged, format)];
        if (!o.ok) throw new Error(o.reason);
        const own = format === 'order' ? lines.slice(0, 1) : lines;
        expect(o.contentHash).toBe(orderContentHash('M1', own));
        expect(o.own).toEqual(own);
        expect(unpacked(o.packed)).toEqual(asPacked(own));
        if (format === 'order') expect(o.repeatDuplicates).toBe(lines.slice(1).filter((l) => orderContentHash('M1', [l]) === o.contentHash).length);
      }),
    );
  });
});

describe('feedOrders: an order\'s lines packed for the plan (issue 19: purchase lines)', () => {
  const at = Date.UTC(2026, 0, 5, 2);
  it('are the staged text itself when it holds the order\'s own lines in file order', () => {
    const g = group('A', 'M1', at, [line(2, 1000, 'CUP', 'home', '2', '5.00'), line(4, 300, 'TEA', '', '1', '3.00')]);
    const [o] = [...feedOrders([g], 'line')];
    if (!o.ok) throw new Error(o.reason);
    expect(o.packed).toBe(g[4]);
    const h = group('A', 'M1', at, [line(7, 500, 'PEN')]);
    const [two] = [...feedOrders([g, h], 'line')];
    if (!two.ok) throw new Error(two.reason);
    expect(two.packed).toBe(`${g[4]}${US}${h[4]}`);
    expect(unpacked(two.packed)).toEqual(asPacked(two.own));
  });

  it('are packed again from its own lines when groups interleave, when an order-level file repeats it, or when its amounts were rounded once', () => {
    const interleaved = [...feedOrders([group('A', 'M1', at, [line(9, 300, 'TEA')]), group('A', 'M1', at, [line(2, 1000, 'CUP')])], 'line')][0];
    if (!interleaved.ok) throw new Error(interleaved.reason);
    expect(unpacked(interleaved.packed).map((x) => x[0])).toEqual([2, 9]);
    const repeated = [...feedOrders([group('A', 'M1', at, [line(2, 1000), line(5, 1000)])], 'order')][0];
    if (!repeated.ok) throw new Error(repeated.reason);
    expect(unpacked(repeated.packed)).toEqual([[2, 1000, null, null, null, null]]);
    // two lines of 1.005 each: 1.01 + 1.01 as read, 2.01 once rounded, so one line gives up a cent
    const fine = [...feedOrders([group('A', 'M1', at, [line(3, 101, 'X', '', '1', '~1.005'), line(4, 101, 'Y', '', '1', '~1.005')])], 'line')][0];
    if (!fine.ok) throw new Error(fine.reason);
    expect(fine.amount).toBe(201);
    const amounts = unpacked(fine.packed).map((x) => x[1]);
    expect(amounts).toEqual(fine.own.map((l) => l.amount));
    expect(amounts.reduce((a, b) => Number(a) + Number(b), 0)).toBe(201);
  });
});

describe('feedOrders: an order past MAX_ORDER_LINES (issue 14 item 9)', () => {
  const at = Date.UTC(2026, 0, 5, 2);
  /** Groups of up to 5,000 lines (a parse chunk's worth), lazily: the test holds no more than the feed does. */
  function* staged(orderId: string, from: number, count: number): Generator<StageRow> {
    for (let i = 0; i < count; i += 5000) {
      const n = Math.min(5000, count - i);
      yield group(orderId, 'M1', at, Array.from({ length: n }, (_, k) => line(from + i + k, 1)));
    }
  }

  it('is rejected whole with every line number and a reason naming the mapping; the orders around it are fed', () => {
    expect(MAX_ORDER_LINES).toBe(10_000);
    const rows = function* () {
      yield group('A', 'M1', at, [line(1, 100)]);
      yield* staged('DE', 2, MAX_ORDER_LINES + 1);
      yield* staged('FR', 20_000, MAX_ORDER_LINES);
      yield group('Z', 'M1', at, [line(99_999, 5)]);
    };
    const out = [...feedOrders(rows(), 'line')];
    expect(out.map((o) => [o.orderId, o.ok, o.lines.length])).toEqual([
      ['A', true, 1],
      ['DE', false, MAX_ORDER_LINES + 1],
      ['FR', true, MAX_ORDER_LINES],
      ['Z', true, 1],
    ]);
    const de = out[1] as Extract<(typeof out)[number], { ok: false }>;
    expect(de.reason).toContain(`order DE has ${MAX_ORDER_LINES + 1} lines, more than ${MAX_ORDER_LINES}: is order_id mapped to the right column (--map order_id=`);
    expect(de.lines[0]).toBe(2);
    expect(de.lines[de.lines.length - 1]).toBe(MAX_ORDER_LINES + 2);
    expect(de.groups).toBe(3);
  });

  it('keeps only line numbers of a million-line order, never its lines', () => {
    const big = [...feedOrders(staged('X', 1, 1_000_000), 'line')];
    expect(big).toHaveLength(1);
    expect(big[0]).toMatchObject({ ok: false, orderId: 'X', groups: 200 });
    expect(big[0].lines).toHaveLength(1_000_000);
    expect('own' in big[0]).toBe(false);
  });
});
