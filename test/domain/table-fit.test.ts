// fitWidths: how a table gives way on a narrow terminal (property and example tests of the pure sizing step).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fit, fitWidths, wrap } from '../../src/cli/output.js';

const sum = (w: number[], gap: number) => w.reduce((a, b) => a + b, 0) + gap * Math.max(0, w.filter((x) => x > 0).length - 1);

describe('fitWidths', () => {
  it('leaves a table that fits as it is, two columns apart', () => {
    expect(fitWidths([4, 10, 7], ['id', 'text', 'fixed'], [4, 10, 4], 80)).toEqual({ widths: [4, 10, 7], gap: 2 });
  });

  it('narrows the gap, then cuts the longest text first, never a number column', () => {
    const { widths, gap } = fitWidths([6, 40, 30, 7, 16], ['id', 'text', 'text', 'fixed', 'fixed'], [6, 40, 30, 5, 16], 60);
    expect(gap).toBe(1);
    expect(sum(widths, gap)).toBe(60);
    expect(widths[0]).toBe(6);
    expect(widths.slice(3)).toEqual([7, 16]);
    expect(Math.abs(widths[1] - widths[2])).toBeLessThanOrEqual(1); // both long texts gave, the longer more
  });

  it('leaves out optional columns (higher first) before cutting text below 12, and sizes again without them', () => {
    // 61 columns at gap 1; the text at 12 still leaves 58 > 50, so `refunded` (drop 2) goes, then the
    // text gives only what is needed without it: 10 + 16 + 13 + 8 + 3 gaps = 50
    const r = fitWidths([10, 16, 15, 8, 8], ['id', 'fixed', 'text', 'fixed', 'fixed'], [10, 16, 15, 4, 4], 50, [undefined, undefined, undefined, 1, 2]);
    expect(r).toEqual({ widths: [10, 16, 13, 8, 0], gap: 1 });
  });

  it('a wrapped column (a reason) keeps 24 columns while optional ones are left out, and gives only after text is at 5', () => {
    // gap 1: 2 + 12 (text) + 40 (wrap) + 8 + 5 + 4 gaps = 71 > 50: the text gives to 12, the reason to 24, still 55 > 50,
    // so the optional 8 goes: 2 + 12 + 24 + 5 + 3 gaps = 46, and the reason takes back what is left (28)
    const r = fitWidths([2, 20, 40, 8, 5], ['fixed', 'text', 'wrap', 'fixed', 'fixed'], [2, 20, 40, 8, 5], 50, [undefined, undefined, undefined, 1, undefined]);
    expect(r).toEqual({ widths: [2, 12, 28, 0, 5], gap: 1 });
    // nothing left to leave out: text goes to 5 before the reason goes below 24, and the reason stops at 12
    expect(fitWidths([20, 40], ['text', 'wrap'], [20, 40], 30)).toEqual({ widths: [5, 24], gap: 1 });
    expect(fitWidths([20, 40], ['text', 'wrap'], [20, 40], 10)).toEqual({ widths: [5, 12], gap: 1 });
  });

  it('property: numbers never get narrower than their widest value; a fitting result is within the width', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ natural: fc.integer({ min: 1, max: 60 }), fit: fc.constantFrom<Fit>('fixed', 'id', 'text', 'wrap'), drop: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 20, max: 200 }),
        (cols, width) => {
          const cells = cols.map((c) => c.natural);
          const { widths, gap } = fitWidths(cols.map((c) => c.natural), cols.map((c) => c.fit), cells, width, cols.map((c) => c.drop));
          cols.forEach((c, i) => {
            if (widths[i] === 0) expect(c.drop).not.toBeUndefined();
            else if (c.fit === 'fixed') expect(widths[i]).toBe(c.natural);
            expect(widths[i]).toBeLessThanOrEqual(c.natural);
          });
          const floor = cols.reduce((a, c, i) => a + (widths[i] === 0 ? 0 : c.fit === 'fixed' ? c.natural : Math.min(c.natural, c.fit === 'id' ? 4 : c.fit === 'wrap' ? 12 : 5)), 0);
          if (floor + Math.max(0, widths.filter((x) => x > 0).length - 1) <= width) expect(sum(widths, gap)).toBeLessThanOrEqual(width);
        },
      ),
    );
  });

  it('a path longer than its column breaks after a slash, so the file name stays whole; a piece longer than a line still breaks', () => {
    expect(wrap('/tmp/x/fixtures/demo/purchases.csv', 20)).toEqual(['/tmp/x/fixtures/', 'demo/purchases.csv']);
    expect(wrap('file /tmp/abcdef/fixtures/purchases.csv', 24)).toEqual(['file', '/tmp/abcdef/fixtures/', 'purchases.csv']);
    expect(wrap('/a/averyveryverylongfilename.csv', 12)).toEqual(['/a/', 'averyveryver', 'ylongfilenam', 'e.csv']);
    // a file's name longer than the line breaks after a - . or _ where it can (trial 39: "…rejects.cs" / "v")
    expect(wrap('/tmp/trH-work/imp/purchases-bad.rejects.csv', 24)).toEqual(['/tmp/trH-work/imp/', 'purchases-bad.rejects.', 'csv']);
    // a folder name longer than the column starts a line of its own (trial 25), broken after a - where it must be (trial 39)
    expect(wrap('/tmp/trial1/imports/shop-north-district-2026-x/daily/p.csv', 24)).toEqual(['/tmp/trial1/imports/', 'shop-north-district-', '2026-x/daily/p.csv']);
  });

  it('property: wrapped lines are within the room and hold the text (spaces at breaks aside)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z/. ]{0,80}$/), fc.integer({ min: 1, max: 30 }), (text, room) => {
        const lines = wrap(text, room);
        for (const x of lines) expect(x.length).toBeLessThanOrEqual(room);
        expect(lines.join('').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
      }),
    );
  });

  it('a command a hint gives stays on one line where it fits, so it can be copied whole (trial 25)', () => {
    const hint = 'check the payment terminal: if it was paid, record it with: pointsmall checkout confirm ORD-000005 --already-paid --tender card; if not, cancel it: pointsmall checkout cancel ORD-000005';
    const lines = wrap(hint, 74);
    for (const x of lines) expect(x.length).toBeLessThanOrEqual(74);
    expect(lines.some((x) => x.includes('pointsmall checkout confirm ORD-000005 --already-paid --tender card'))).toBe(true);
    expect(lines.some((x) => x.includes('pointsmall checkout cancel ORD-000005'))).toBe(true);
    expect(lines.join(' ')).toBe(hint);
    // a command longer than the room breaks as any text does
    expect(wrap('run: pointsmall checkout confirm ORD-000005 --tender card', 20).every((x) => x.length <= 20)).toBe(true);
  });
});
