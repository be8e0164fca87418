// Purchase rows (pure): the streaming CSV tokenizer against csv-stringify, timestamps against time.ts,
// column plans, row validation and the order content hash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import Decimal from 'decimal.js';
import {
  CsvTokenizer,
  type CsvRecord,
  ZoneCalendar,
  buildOrder,
  dateFormatHint,
  dateFormatProblem,
  makeDateParser,
  openQuoteProblem,
  swallowedOrderIds,
  type OrderLine,
  parseMapSpecs,
  parseRow,
  planColumns,
  validateProfile,
} from '../../src/domain/purchases.js';
import { localDate, parseTimestamp } from '../../src/domain/time.js';

function tokenize(text: string, cuts: number[] = [], delimiter = ','): CsvRecord[] {
  const tok = new CsvTokenizer(delimiter);
  const out: CsvRecord[] = [];
  let pos = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    tok.push(text.slice(pos, c), out);
    pos = c;
  }
  tok.push(text.slice(pos), out);
  tok.end(out);
  return out;
}

describe('CsvTokenizer', () => {
  it('reads a bare-CR file like its LF twin, cut anywhere, line numbers counting CRs', () => {
    const lf = 'a,b,c\n1,"x, y",z\n2,"two\nlines",z\n\n3,,\n4,last,"q"\n';
    const cr = lf.replace(/\n/g, '\r');
    const want = tokenize(lf);
    expect(want).toHaveLength(5);
    for (let cut = 0; cut <= cr.length; cut++) {
      const got = tokenize(cr, [cut]);
      expect(got.map((r) => r.line)).toEqual(want.map((r) => r.line));
      expect(got.map((r) => r.fields)).toEqual(want.map((r) => r.fields.map((f) => f.replace(/\n/g, '\r'))));
    }
    // a file of records with no line end after the last, all in one chunk
    expect(tokenize('a,b\r1,2\r3,4').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
  });

  it('reads quotes, doubled quotes, delimiters and newlines inside quotes, CRLF and a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",z\r\n\r\n3,,\n4,last,"q"';
    const recs = tokenize(text);
    expect(recs.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', 'z'],
      ['3', '', ''],
      ['4', 'last', 'q'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 6, 7]);
  });

  it('gives the same records however the text is cut into chunks (property, csv-stringify as oracle)', () => {
    const field = fc.oneof(fc.string(), fc.constantFrom('', ',', '"', '""', '\n', '\r\n', 'a,b', '"q"', ' x ', '铁观音', 'Müller'));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((w) => fc.array(fc.array(field, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 12 })),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom(',', ';', '\t'),
        (rows, cutSeeds, crlf, delimiter) => {
          // a record that is one empty field is a blank line, which CSV readers skip; so is one of nothing
          // but spaces and delimiters (a spreadsheet's empty row): the oracle quotes empty fields, not spaces
          const kept = rows.filter((r) => !(r.length === 1 && r[0] === '') && !r.every((f) => f !== '' && /^[ \t]*$/.test(f) && !f.includes(delimiter)));
          const text = stringify(kept, { record_delimiter: crlf ? 'windows' : 'unix', delimiter, quoted_match: /[\r\n]|^$/ });
          const cuts = cutSeeds.map((s) => (text.length ? s % text.length : 0));
          expect(tokenize(text, cuts, delimiter).map((r) => r.fields)).toEqual(kept);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts physical lines, so a record after a quoted newline gets its own line number', () => {
    const recs = tokenize('h\n"a\nb\nc"\nnext\n');
    expect(recs.map((r) => [r.fields[0], r.line])).toEqual([
      ['h', 1],
      ['a\nb\nc', 2],
      ['next', 5],
    ]);
  });

  it('tells how many physical lines a record runs over', () => {
    expect(tokenize('h,i\n"a\nb\nc",d\nnext,e\n').map((r) => [r.fields[0], r.line, r.lines])).toEqual([
      ['h', 1, 1],
      ['a\nb\nc', 2, 3],
      ['next', 5, 1],
    ]);
  });

  it('openQuoteProblem: a field over lines holding as many delimiters as a whole row is a quote left open; an address is text', () => {
    const header = ['order_id', 'member_id', 'note', 'purchased_at', 'amount'];
    expect(openQuoteProblem(['K7', 'M2', 'Deliver to: 12 Main St, Apt 4\nSpringfield, IL', '2026-11-01', '7'], header, ',', 8, 2)).toBeNull();
    expect(openQuoteProblem(['K3', 'M3', '12 PIZZA,2026-11-01,30\nK4,M004,BIG', '2026-11-01', '40'], header, ',', 3, 2)?.reason).toMatch(
      /^note \(a quoted field running over lines 3 to 4\) holds 4 commas, as many as a whole row: a quote left open/,
    );
    expect(openQuoteProblem(['K3', 'M3', '12 PIZZA\t1\t2\rK4\tM4\tBIG', '2026-11-01', '40'], header, '\t', 3, 2)?.reason).toMatch(/holds 4 tabs/);
    // the rows it took in, by their order ids and lines
    expect(swallowedOrderIds('12 PIZZA,2026-11-01,30\nK4,M004,ok,2026-11-01,40\r\nK5,M002,BIG', ',', 0, 3)).toEqual([['K4', 4], ['K5', 5]]);
    // a rejects file's row: two more columns in front, the same threshold for the rows it took in
    const rejectsHeader = ['_line', '_reason', ...header];
    const fromRejects = ['3', 'reason, with, commas', 'K3', 'M3', '12 PIZZA,2026-11-01,30\nK4,M004,BIG', '2026-11-01', '40'];
    expect(openQuoteProblem(fromRejects, rejectsHeader, ',', 2, 2)).toBeNull();
    expect(openQuoteProblem(fromRejects, rejectsHeader, ',', 2, 2, header.length)?.field).toBe(4);
    // commas in a field of one line are the record's business, not this check's
    expect(openQuoteProblem(['K3', 'M3', 'a,b,c,d,e', '2026-11-01', '40'], header, ',', 3, 1)).toBeNull();
  });

  it('refuses a quote that never closes', () => {
    expect(() => tokenize('a\n"never closed\n')).toThrow(/never closed/);
  });
});

describe('timestamps', () => {
  const zones = ['Asia/Shanghai', 'UTC', 'Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago'];
  it('the fast ISO path agrees with time.ts parseTimestamp, DST days included (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 1990, max: 2040 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.constantFrom('date', 'min', 'sec', 'T'),
        (zone, y, mo, d, h, mi, s, shape) => {
          const p2 = (n: number) => String(n).padStart(2, '0');
          const date = `${y}-${p2(mo)}-${p2(d)}`;
          const text = shape === 'date' ? date : shape === 'min' ? `${date} ${p2(h)}:${p2(mi)}` : `${date}${shape === 'T' ? 'T' : ' '}${p2(h)}:${p2(mi)}:${p2(s)}`;
          expect(makeDateParser(zone)(text)).toBe(parseTimestamp(text, zone));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('ZoneCalendar.localDate agrees with time.ts localDate (property)', () => {
    const cal = new Map(zones.map((z) => [z, new ZoneCalendar(z)]));
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, ms) => {
        expect(cal.get(zone)!.localDate(ms)).toBe(localDate(ms, zone));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses impossible dates on both paths instead of moving them', () => {
    expect(makeDateParser('UTC')('2026-02-30')).toBeNull();
    expect(makeDateParser('UTC')('2026-02-29 10:00')).toBeNull();
    expect(makeDateParser('UTC')('2024-02-29 10:00')).toBe(Date.UTC(2024, 1, 29, 10));
    const us = makeDateParser('UTC', 'M/D/YYYY H:mm');
    expect(us('12/1/2010 8:26')).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(us('2/30/2010 8:26')).toBeNull();
    expect(us('2010-12-01 08:26')).toBeNull();
    expect(makeDateParser('Asia/Shanghai', 'DD.MM.YYYY HH:mm')('01.12.2010 08:26')).toBe(Date.UTC(2010, 11, 1, 0, 26));
  });
});

describe('columns and rows', () => {
  const ctxFor = (header: string[], map = {}) => {
    const { plan, problems } = planColumns(header, map);
    if (!plan) throw new Error(problems.join('; '));
    return { plan, digits: 2, parseDate: makeDateParser('UTC'), skipGuests: false, notAfterMs: Date.UTC(2030, 0, 1) };
  };

  it('maps columns by --map, then by name ignoring case and spaces, and names what is missing', () => {
    expect(planColumns(['Order ID', 'member_id', 'Purchased At', 'Amount'], {}).plan?.format).toBe('order');
    expect(planColumns(['a', 'b', 'c', 'q', 'p'], { order_id: 'a', member_id: 'b', purchased_at: 'c', quantity: 'q', unit_price: 'p' }).plan?.format).toBe('line');
    // two fields mapped to one column are a wrong header (trial 32); a mapped column is its field's alone
    expect(planColumns(['Inv', 'Date', 'Amt'], { order_id: 'Inv', member_id: 'Inv', purchased_at: 'Date', amount: 'Amt' }).problems).toEqual(['--map gives order_id and member_id one column, "Inv": give each field a column of its own']);
    expect(planColumns(['order_id', 'purchased_at', 'amount'], { member_id: 'order_id' }).problems).toEqual(['missing column order_id: column "order_id" is mapped to member_id (--map member_id=order_id); map order_id to a column of its own']);
    // a map the file's shape leaves unused is said, not skipped
    expect(planColumns(['order_id', 'member_id', 'purchased_at', 'Total', 'line_amount'], { amount: 'Total' }).problems).toEqual([
      '--map amount=Total is not used: column "line_amount" (line_amount) makes each row a line, and an order\'s amount is the sum of its lines; leave out --map amount, or, if Total holds the line totals, --map line_amount=Total',
    ]);
    const lineTotals = planColumns(['order_id', 'member_id', 'purchased_at', 'sku', 'amount'], { line_amount: 'amount' });
    expect(lineTotals.problems).toEqual([]);
    expect(lineTotals.plan).toMatchObject({ format: 'line', index: { line_amount: 4, amount: -1 } });
    expect(planColumns(['order_id', 'member_id', 'purchased_at', 'quantity'], {}).problems).toEqual(['missing column unit_price (line-level files need quantity and unit_price, or line_amount)']);
    expect(planColumns(['x'], { order_id: 'InvoiceNo' }).problems[0]).toBe('--map order_id=InvoiceNo: the header has no column "InvoiceNo"');
    expect(parseMapSpecs(['order_id=InvoiceNo,member_id=CustomerID', 'bogus=X']).problems).toEqual(['--map: unknown field "bogus" (fields: order_id, member_id, purchased_at, amount, quantity, unit_price, line_amount, sku, category)']);
  });

  it('computes line amounts exactly, fractional quantities rounded half-up once', () => {
    const ctx = ctxFor(['order_id', 'member_id', 'purchased_at', 'quantity', 'unit_price']);
    const amount = (q: string, p: string) => {
      const r = parseRow(['O', 'M', '2026-01-01', q, p], ctx);
      return r.kind === 'ok' ? r.row.amount : r.kind;
    };
    expect(amount('3', '0.10')).toBe(30);
    expect(amount('-2', '19.99')).toBe(-3998);
    expect(amount('1.5', '0.33')).toBe(50); // 49.5 → 50
    expect(amount('0', '5.00')).toBe(0);
    expect(amount('1e3', '1.00')).toBe('bad');
    expect(amount('1', '1.001')).toBe(100); // a price finer than the currency: rounded (and the order's total once: buildOrder)
    expect(amount('1000', '0.001')).toBe(100);
    expect(amount('3', '0.335')).toBe(101); // 100.5 → 101
    expect(amount('1', '1.0000000001')).toBe(100);
    expect(amount('3', '2.5500000000000003')).toBe(765); // a float's digits as pandas writes them
    expect(amount('1', '1.1234567890123456789012')).toBe('bad'); // more than 20 decimals
    expect(amount('1', '1,00')).toBe('bad');
  });

  it('names the column in every reason, with the mapped file column first', () => {
    const ctx = ctxFor(['InvoiceNo', 'CustomerID', 'InvoiceDate', 'Total'], { order_id: 'InvoiceNo', member_id: 'CustomerID', purchased_at: 'InvoiceDate', amount: 'Total' });
    const reason = (f: string[]) => {
      const r = parseRow(f, ctx);
      return r.kind === 'bad' ? r.reason : r.kind;
    };
    expect(reason(['A', '', '2026-01-01', '1'])).toBe('CustomerID (member_id) is empty: a guest purchase (pass --skip-guests to drop these)');
    expect(reason(['A', 'M', '2026-13-01', '1'])).toMatch(/^InvoiceDate \(purchased_at\) "2026-13-01" is not a valid date-time: there is no month 13 \(expected/);
    // a day the month does not have is named so (trial 42: "not a valid date-time" of an ISO date puzzled)
    expect(reason(['A', 'M', '2026-02-30 09:33', '1'])).toMatch(/"2026-02-30 09:33" is not a valid date-time: February 2026 has 28 days \(expected/);
    expect(reason(['A', 'M', '2026-11-23T25:00', '1'])).toMatch(/"2026-11-23T25:00" is not a valid date-time \(expected/);
    expect(reason(['A', 'M', '2031-01-01', '1'])).toMatch(/is in the future$/);
    expect(reason(['A', 'M', '2026-01-01', 'ten'])).toMatch(/^Total \(amount\): "ten" is not a decimal amount/);
    expect(reason(['A', 'M', '2026-01-01'])).toBe('has 3 fields, the header has 4');
    expect(reason(['A', 'M', '2026-01-01', '1', ''])).toMatch(/^has 5 fields, the header has 4: the row ends in a delimiter, which makes an empty last field the header does not name; remove the delimiter/);
    // an unquoted 1,234.50 split by the comma (trial 42): said so, with the fix; another delimiter would not split it
    const comma = { ...ctx, delimiter: ',' };
    const split = parseRow(['A', 'M', '2026-01-01', '1', '234.50'], comma);
    expect(split.kind === 'bad' && split.reason).toBe('has 5 fields, the header has 4: "1,234.50" looks like one number whose thousands separator the comma delimiter split; quote the value ("1,234.50") or drop the separator');
    const negative = parseRow(['A', 'M', '2026-01-01', '-12', '000'], comma);
    expect(negative.kind === 'bad' && negative.reason).toMatch(/"-12,000" looks like one number/);
    expect(reason(['A', 'M', '2026-01-01', '1', '234.50'])).toBe('has 5 fields, the header has 4');
    expect(parseRow(['A', 'M', '2026-01-01', '1', 'x'], comma)).toMatchObject({ reason: 'has 5 fields, the header has 4' });
    expect(parseRow(['A', '', '2026-01-01', '1'], { ...ctx, skipGuests: true }).kind).toBe('guest');
    // a --date-format's reading is named: a two-digit year 70 is 2070, which is in the future
    const yy = { ...ctx, parseDate: makeDateParser('UTC', ['M/D/YY']), dateFormat: 'M/D/YY', zone: 'UTC' };
    const r = parseRow(['A', 'M', '1/2/70', '1'], yy);
    expect(r.kind === 'bad' && r.reason).toBe('InvoiceDate (purchased_at) "1/2/70" (read as 2070-01-02) is in the future');
  });

  it('validates profiles by JSON path', () => {
    expect(validateProfile({ map: { order_id: 'InvoiceNo' }, dateFormat: 'M/D/YYYY H:mm', encoding: 'latin1', skipGuests: true }).profile).toBeTruthy();
    expect(validateProfile({ map: { nope: 'x' }, encoding: 'ebcdic', dateFormat: 'HH:mm', extra: 1 }).problems).toEqual([
      '$.extra: unknown field (expected one of map, source, dateFormat, encoding, delimiter, createMembers, skipGuests, description)',
      '$.map.nope: unknown field (fields: order_id, member_id, purchased_at, amount, quantity, unit_price, line_amount, sku, category)',
      '$.dateFormat: "HH:mm" must contain a year (YYYY), month (M or MM) and day (D or DD)',
      '$.encoding: "ebcdic" is not one of utf8, utf16 (utf16le, utf16be), gbk, gb18030, latin1, windows-1252, macroman',
    ]);
  });
});

describe('orders', () => {
  const line = (n: number, o: Partial<OrderLine> = {}): OrderLine => ({ line: n, memberId: 'M1', at: 1000, amount: 100 * n, sku: `S${n}`, category: null, quantity: '1', unitPrice: 100 * n, ...o });

  it('hashes the content whatever the order of its lines, and any change shows', () => {
    const lines = [line(1), line(2), line(3)];
    const a = buildOrder('O', lines, 'line');
    const b = buildOrder('O', [...lines].reverse(), 'line');
    if ('problem' in a || 'problem' in b) throw new Error('unexpected');
    expect(a.order.contentHash).toBe(b.order.contentHash);
    expect(a.order.amount).toBe(600);
    const changed = buildOrder('O', [line(1), line(2), line(3, { amount: 301 })], 'line');
    if ('problem' in changed) throw new Error('unexpected');
    expect(changed.order.contentHash).not.toBe(a.order.contentHash);
  });

  it('takes the earliest time of an order rung up across a minute, refuses two members', () => {
    const o = buildOrder('O', [line(1, { at: 2000 }), line(2, { at: 1000 })], 'line');
    expect('order' in o && o.order.at).toBe(1000);
    expect(buildOrder('O', [line(1), line(2, { memberId: 'M2' })], 'line')).toEqual({ problem: 'order O names member M1 on line 1 but M2 on line 2' });
  });

  it('treats a second row of an order-level file as a repeat', () => {
    const o = buildOrder('O', [line(1), line(2)], 'order');
    expect('order' in o && [o.order.amount, o.repeats.length]).toEqual([100, 1]);
  });
});

describe('orders of money finer than the currency', () => {
  const ctx = (header: string[]) => {
    const { plan, problems } = planColumns(header, {});
    if (!plan) throw new Error(problems.join('; '));
    return { plan, digits: 2, parseDate: makeDateParser('UTC'), skipGuests: false, notAfterMs: Date.UTC(2030, 0, 1) };
  };
  const LINES = ['order_id', 'member_id', 'purchased_at', 'quantity', 'unit_price'];
  /** The order of these (quantity, unit_price) rows, through parseRow and buildOrder as an import reads it. */
  const orderOf = (rows: [string, string][]) => {
    const c = ctx(LINES);
    const lines = rows.map(([q, p], i) => {
      const r = parseRow(['O', 'M', '2026-01-01', q, p], c);
      if (r.kind !== 'ok') throw new Error(`${q} × ${p}: ${r.kind === 'bad' ? r.reason : r.kind}`);
      return { ...r.row, line: i + 2 };
    });
    const built = buildOrder('O', lines, 'line', undefined, 2);
    if ('problem' in built) throw new Error(built.problem);
    return built.order;
  };
  /** SPEC §7: the lines summed exactly, the order rounded once (half-up, in minor units). */
  const exact = (rows: [string, string][]) =>
    rows.reduce((a, [q, p]) => a.plus(new Decimal(q).times(p)), new Decimal(0)).times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();

  // A normal price beside a finer one was read as its minor units less their first digit, its quantity
  // left out: 123.45 + 0.001 made 23.45 (2345 points), and a return of both took back nothing.
  it('sums normal and finer prices, integral and fractional quantities, exactly; rounds the order once', () => {
    expect(orderOf([['1', '123.45'], ['1', '0.001']]).amount).toBe(12345);
    expect(orderOf([['3', '99.99'], ['1', '0.004']]).amount).toBe(29997);
    expect(orderOf([['-1', '123.45'], ['-1', '0.001']]).amount).toBe(-12345);
    expect(orderOf([['-2', '150.00'], ['-1', '0.001']]).amount).toBe(-30000);
    expect(orderOf([['1', '100.00'], ['1', '0.001']]).amount).toBe(10000);
    // weights at a normal price: 1.5 × 3.33 = 4.995 twice is 9.99, not 5.00 + 5.00
    expect(orderOf([['1.5', '3.33'], ['1.5', '3.33']]).amount).toBe(999);
  });

  it('on any order: the amount is the exact sum rounded once, and the lines add up to it', () => {
    const price = fc.oneof(
      fc.integer({ min: 1, max: 99_999 }).map((c) => (c / 100).toFixed(2)),
      fc.integer({ min: 1, max: 9_999_999 }).map((m) => new Decimal(m).div(10_000).toFixed(4)),
      fc.integer({ min: 1, max: 9_999 }).map((m) => new Decimal(m).div(1000).toFixed(3)),
    );
    const quantity = fc.oneof(fc.integer({ min: 1, max: 40 }).map(String), fc.integer({ min: 1, max: 4000 }).map((g) => new Decimal(g).div(1000).toString()));
    fc.assert(
      fc.property(fc.array(fc.tuple(quantity, price), { minLength: 1, maxLength: 8 }), fc.boolean(), (rows, isReturn) => {
        const signed: [string, string][] = rows.map(([q, p]) => [isReturn ? `-${q}` : q, p]);
        const o = orderOf(signed);
        expect(o.amount).toBe(exact(signed));
        expect(o.lines.reduce((a, l) => a + l.amount, 0)).toBe(o.amount);
        // no line moves by more than a minor unit from its own amount rounded alone
        for (const [i, l] of o.lines.entries()) {
          const alone = new Decimal(signed[i][0]).times(signed[i][1]).times(100);
          expect(alone.minus(l.amount).abs().lessThan(2)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('encodings', () => {
  it('finds the first byte that is not UTF-8, and leaves a cut-off character for the next chunk', async () => {
    const { firstInvalidUtf8, lineOfByte, bomEncoding, normaliseEncoding } = await import('../../src/domain/encoding.js');
    const good = Buffer.from('a,é,中,😀\n', 'utf8');
    expect(firstInvalidUtf8(good, true)).toEqual({ bad: -1, complete: good.length });
    // cut inside 😀 (4 bytes): not bad yet unless it is the end
    const cut = good.subarray(0, good.length - 3);
    expect(firstInvalidUtf8(cut, false)).toEqual({ bad: -1, complete: cut.length - 2 });
    expect(firstInvalidUtf8(cut, true).bad).toBe(cut.length - 2);
    for (const bad of [[0xe9, 0x2c], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80]]) {
      expect(firstInvalidUtf8(Buffer.from([0x41, 0x0a, ...bad]), true).bad).toBe(2);
    }
    expect(lineOfByte(Buffer.from('a\nb\nc'), 4)).toBe(3);
    expect(lineOfByte(Buffer.from('a\rb\rc'), 4)).toBe(3);
    expect(lineOfByte(Buffer.from('a\r\nb\r\nc'), 6)).toBe(3);
    expect(bomEncoding(Buffer.from([0xfe, 0xff, 0, 0x41]))).toEqual({ encoding: 'utf16be', length: 2 });
    expect(['UTF-8', 'utf16', 'GB18030', 'cp936', 'ISO-8859-1', 'Windows-1252', 'MacRoman', 'ebcdic'].map(normaliseEncoding)).toEqual(['utf8', 'utf16', 'gb18030', 'gbk', 'latin1', 'windows-1252', 'macroman', null]);
  });
});

describe('date formats', () => {
  it('reads numbers padded or not, names of months, 12-hour clocks and offsets; refuses impossible dates', () => {
    const us = makeDateParser('UTC', 'M/D/YYYY H:mm');
    for (const v of ['12/1/2010 8:26', '12/01/2010 08:26', '12/1/2010 08:26', '12/01/2010 8:26']) expect(us(v)).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(makeDateParser('UTC', 'DD/MM/YYYY HH:mm')('1/12/2010 8:26')).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(makeDateParser('UTC', 'YYYYMMDD HHmmss')('20101201 082600')).toBe(Date.UTC(2010, 11, 1, 8, 26));
    // a two-letter token glued to a number takes its two digits on either side (trial 32): 2026111 is
    // 2026-11-01 or 2026-01-11, so no date; 20261130145 is 14:05 or 1:45
    expect(makeDateParser('UTC', 'YYYYMMDD')('2026111')).toBeNull();
    expect(makeDateParser('UTC', 'YYYYMMDD')('20261101')).toBe(Date.UTC(2026, 10, 1));
    expect(makeDateParser('UTC', 'YYYYMMDDHHmm')('20261130145')).toBeNull();
    expect(makeDateParser('UTC', 'YYYYMMDDHHmm')('202611301405')).toBe(Date.UTC(2026, 10, 30, 14, 5));
    expect(makeDateParser('UTC', 'HHmmssSSS YYYY-MM-DD')('08260012 2010-12-01')).toBeNull();
    // a one-letter number glued to another cannot be read at all: the format is refused
    expect(dateFormatProblem('YYYYMD')).toBe('--date-format "YYYYMD": M right beside D with nothing between them cannot tell where one number ends (M is one or two digits): write MM (two digits), or put a separator between them');
    expect(dateFormatProblem('DMYYYY')).toMatch(/^--date-format "DMYYYY": D right beside M /);
    expect(dateFormatProblem('M/D/YYYY H:mm')).toBeNull();
    expect(dateFormatProblem('YYYYMMDD HHmmss')).toBeNull();
    expect(makeDateParser('UTC', 'HHmmssSSS YYYY-MM-DD')('082600120 2010-12-01')).toBe(Date.UTC(2010, 11, 1, 8, 26, 0, 120));
    expect(makeDateParser('UTC', 'D MMM YYYY h:mm A')('1 Dec 2010 8:26 PM')).toBe(Date.UTC(2010, 11, 1, 20, 26));
    expect(makeDateParser('UTC', 'D MMMM YYYY h:mm a')('1 december 2010 12:05 am')).toBe(Date.UTC(2010, 11, 1, 0, 5));
    expect(makeDateParser('UTC', 'YYYY-MM-DD[T]HH:mm:ssZ')('2010-12-01T08:26:00+08:00')).toBe(Date.UTC(2010, 11, 1, 0, 26));
    expect(us('2/30/2010 8:26')).toBeNull();
    expect(us('13/1/2010 8:26')).toBeNull();
    expect(us('12/1/2010 24:00')).toBeNull();
    expect(us('12/1/2010')).toBeNull();
  });

  it('tries several formats in order; a value two formats read as different dates is refused as ambiguous', () => {
    const p = makeDateParser('UTC', ['M/D/YYYY H:mm', 'D/M/YYYY H:mm', 'YYYY-MM-DD HH:mm:ss']);
    expect(p('12/13/2010 8:26')).toBe(Date.UTC(2010, 11, 13, 8, 26)); // only M/D reads it
    expect(p('13/12/2010 8:26')).toBe(Date.UTC(2010, 11, 13, 8, 26)); // only D/M reads it
    expect(p('5/5/2010 8:26')).toBe(Date.UTC(2010, 4, 5, 8, 26)); // both read the same date
    expect(p('2010-12-01 08:26:00')).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(p('1/2/2010 8:26')).toBeNaN();
    expect(p.reason()).toBe('is ambiguous: M/D/YYYY H:mm reads it as 2010-01-02 08:26, D/M/YYYY H:mm as 2010-02-01 08:26; keep only the right --date-format, or fix the value');
    expect(p('1/2/2010 8:26')).toBeNaN(); // from the cache, with its reason
    expect(p.reason()).toContain('is ambiguous');
    expect(p('nonsense')).toBeNull();
  });

  it('says which format reads a value the given ones do not: a time, no time, day and month swapped, ISO (trial 42b)', () => {
    const cases: [string, string[], string | null][] = [
      ['01/11/2026 10:00', ['DD/MM/YYYY'], 'DD/MM/YYYY H:mm'],
      ['01/11/2026 10:00:59', ['DD/MM/YYYY'], 'DD/MM/YYYY H:mm:ss'],
      ['1/11/2026', ['M/D/YYYY H:mm'], 'M/D/YYYY'],
      ['3 Nov 2026', ['D MMM YYYY h:mm A'], 'D MMM YYYY'],
      ['13/1/2026', ['M/D/YYYY'], 'D/M/YYYY'],
      ['13/1/2026 10:00', ['M/D/YYYY'], 'D/M/YYYY H:mm'],
      ['13/1/2026', ['M/D/YYYY H:mm'], 'D/M/YYYY'],
      ['2026-13-01', ['YYYY-MM-DD'], 'YYYY-DD-MM'],
      ['2026-11-02', ['DD/MM/YYYY'], 'YYYY-MM-DD'],
      ['2026-11-02 10:00', ['DD/MM/YYYY'], 'YYYY-MM-DD H:mm'],
      ['2026-11-02T10:00:00+08:00', ['DD/MM/YYYY'], 'YYYY-MM-DD[T]H:mm:ssZ'],
      ['nonsense', ['DD/MM/YYYY'], null],
      ['3 Nov 2026', ['M/D/YYYY'], null],
      ['2/30/2026', ['M/D/YYYY'], null], // impossible either way round
      ['1969-12-31', ['DD/MM/YYYY'], null], // an earlier year is refused, never suggested
    ];
    for (const [value, formats, reads] of cases) {
      const hint = dateFormatHint(value, formats);
      if (reads === null) {
        expect(hint, value).toBeNull();
        continue;
      }
      expect(hint, value).toContain(`--date-format ${JSON.stringify(reads)}`);
      // the format it names does read the value, and the given ones do not
      expect(makeDateParser('UTC', reads)(value), value).toEqual(expect.any(Number));
      expect(makeDateParser('UTC', formats)(value), value).toBeNull();
    }
    expect(dateFormatHint('13/1/2026', ['M/D/YYYY'])).toBe(': it reads with --date-format "D/M/YYYY": are day and month the other way round in this file?');
    expect(dateFormatHint('2026-11-02', ['DD/MM/YYYY'])).toBe(': it is an ISO date, which reads with --date-format "YYYY-MM-DD" (repeat --date-format to give both: each is tried in order)');
  });
});

describe('CsvTokenizer: a record past 1 MB', () => {
  it('names an unclosed quote when one is open, and a record with no line end when none is', () => {
    const sink: unknown[] = [];
    const quoted = new CsvTokenizer();
    expect(() => quoted.push('a,b\n1,"' + 'x'.repeat((1 << 20) + 10), { push: (r: unknown) => sink.push(r) } as never)).toThrow(/a quoted field is never closed/);
    const long = new CsvTokenizer();
    expect(() => long.push('a,b\n1,' + 'x'.repeat((1 << 20) + 10), { push: (r: unknown) => sink.push(r) } as never)).toThrow(/a record is longer than 1 MB \(no line end within it\)/);
  });
});
