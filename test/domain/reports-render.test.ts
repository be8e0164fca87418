// The renderers behind `report --format html` and the terminal chart of `report activity` (pure text).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bar, barChart, FLOW_SERIES } from '../../src/cli/charts.js';
import { esc, renderHtml } from '../../src/cli/html.js';

describe('terminal bar chart', () => {
  it('draws bars in eighths of a cell, the largest value full width', () => {
    expect(bar(8, 8, 1)).toBe('█');
    expect(bar(1, 8, 1)).toBe('▏');
    expect(bar(4, 8, 1)).toBe('▌');
    expect(bar(10, 10, 5)).toBe('█████');
    expect(bar(0, 10, 5)).toBe('');
    expect(bar(-3, 10, 5)).toBe('');
  });

  it('never draws a bar longer than the width, and a positive value always shows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 200 }), (v, extra, w) => {
        const max = v + extra;
        const b = bar(v, max, w);
        expect(b.length).toBeGreaterThan(0);
        expect([...b].length).toBeLessThanOrEqual(w);
      }),
    );
  });

  it('labels every bucket once and every series on its own line', () => {
    const text = barChart(
      [
        { label: '2026-10', values: [1200, 300, 50] },
        { label: '2026-11', values: [600, 0, 0] },
      ],
      FLOW_SERIES,
      80,
    );
    const lines = text.split('\n');
    expect(lines).toHaveLength(1 + 2 * 3);
    expect(lines[0]).toContain('issued');
    expect(lines[1]).toMatch(/^2026-10\s+issued\s+█+ 1200$/);
    expect(lines.filter((l) => l.includes('2026-11'))).toHaveLength(1);
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(80);
  });
});

describe('HTML report', () => {
  const evil = '<script>alert("x")</script> & \'quotes\'';
  const html = renderHtml({
    title: `Report ${evil}`,
    subtitle: evil,
    fields: [[evil, evil]],
    sections: [
      {
        title: evil,
        headers: [{ header: evil }, { header: 'points', align: 'right' }],
        rows: [[evil, '5']],
        chart: { title: evil, categories: [evil, 'b'], series: [{ name: evil, colour: '#123456', values: [5, -2] }] },
      },
      {
        title: 'horizontal',
        headers: [{ header: 'a' }],
        rows: [],
        chart: { title: 'h', horizontal: true, categories: [evil], series: [{ name: 'points', colour: '#123456', values: [3] }] },
      },
    ],
    footer: evil,
  });

  it('escapes every piece of text', () => {
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert("x")');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
    expect(esc('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });

  it('is self-contained: inline SVG charts, no scripts, no external references', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/\bsrc=/);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('(none)');
  });
});
