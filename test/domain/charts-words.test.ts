// Small things of issue 20 item 8, as pure functions: chart labels thinned to a dozen, empty months in
// the liability chart, counts that agree in number, no "by cash" when there is no cash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillMonths, monthsBetween } from '../../src/cli/charts.js';
import { chartSvg, labelStep, MAX_LABELS, shownLabels } from '../../src/cli/html.js';
import { agree, cashBy, checkoutQuestion, count } from '../../src/cli/words.js';

const days = (n: number) => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10));

describe('chart labels', () => {
  it('a month of days shows at most 12 date labels, spread evenly from the first day; a dozen or fewer all show', () => {
    const month = shownLabels(days(31), 30);
    expect(month.length).toBeLessThanOrEqual(MAX_LABELS);
    expect(month[0]).toBe('2026-01-01');
    expect(month).toEqual(['2026-01-01', '2026-01-04', '2026-01-07', '2026-01-10', '2026-01-13', '2026-01-16', '2026-01-19', '2026-01-22', '2026-01-25', '2026-01-28', '2026-01-31']);
    expect(shownLabels(days(12), 30)).toEqual(days(12));
  });

  it('never more than 12 labels nor closer than 16 px, whatever the number of buckets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 60 }), (n, groupW) => {
        const step = labelStep(n, groupW);
        expect(Math.ceil(n / step)).toBeLessThanOrEqual(MAX_LABELS);
        expect(step * groupW).toBeGreaterThanOrEqual(16);
      }),
    );
  });

  it('the SVG of 90 daily buckets writes at most 12 labels and a tooltip for every bar', () => {
    const cats = days(90);
    const svg = chartSvg({ title: 't', categories: cats, series: [{ name: 'issued', colour: '#000', values: cats.map((_, i) => i) }] });
    const labels = svg.match(/<text [^>]*rotate\(-40[^>]*>[^<]*<\/text>/g) ?? [];
    expect(labels.length).toBeGreaterThan(1);
    expect(labels.length).toBeLessThanOrEqual(12);
    expect(svg.match(/<title>/g)).toHaveLength(90);
  });
});

describe('liability months', () => {
  it('fills the months between with zero bars, keeps "never" last', () => {
    expect(monthsBetween('2026-11', '2027-02')).toEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(fillMonths([{ month: '2026-11', points: 5 }, { month: '2027-02', points: 7 }, { month: 'never', points: 1 }])).toEqual([
      { month: '2026-11', points: 5 },
      { month: '2026-12', points: 0 },
      { month: '2027-01', points: 0 },
      { month: '2027-02', points: 7 },
      { month: 'never', points: 1 },
    ]);
    expect(fillMonths([{ month: 'never', points: 3 }])).toEqual([{ month: 'never', points: 3 }]);
    expect(fillMonths([])).toEqual([]);
  });
});

describe('words', () => {
  it('counts agree in number', () => {
    expect(count(1, 'order')).toBe('1 order');
    expect(count(2, 'order')).toBe('2 orders');
    expect(count(0, 'order')).toBe('0 orders');
    expect(count(-1, 'point')).toBe('-1 point');
    expect(count(1, 'entry', 'entries')).toBe('1 entry');
    expect(count(3, 'entry', 'entries')).toBe('3 entries');
    expect(`${count(1, 'order')} ${agree(1, 'waits', 'wait')}`).toBe('1 order waits');
    expect(`${count(2, 'order')} ${agree(2, 'waits', 'wait')}`).toBe('2 orders wait');
  });

  it('no cash, no "by cash"', () => {
    expect(cashBy('0.00', 'cash')).toBe('0.00');
    expect(cashBy('2.00', 'card')).toBe('2.00 by card');
    expect(cashBy('2.00', null)).toBe('2.00');
    expect(checkoutQuestion({ pointsUsed: 1000, pointsValue: '10.00', cashPaid: '0.00' }, 'cash', 'M1')).toBe('Use 1000 points (worth 10.00) from M1?');
    expect(checkoutQuestion({ pointsUsed: 0, pointsValue: '0.00', cashPaid: '100.00' }, 'cash', 'M2')).toBe('Take 100.00 by cash from M2?');
    expect(checkoutQuestion({ pointsUsed: 1, pointsValue: '0.01', cashPaid: '9.99' }, 'card', 'M1', ' for checkout X')).toBe('Use 1 point (worth 0.01) and take 9.99 by card from M1 for checkout X?');
  });
});
