// Terminal bar charts in Unicode blocks (eighths of a cell), one line per series per bucket,
// coloured through the one colour switch; drawn only on a TTY.
import { c } from './colour.js';

export interface TermSeries {
  name: string;
  paint: (s: string) => string;
}

export interface TermRow {
  label: string;
  values: number[];
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `value / max` of `width` cells, in whole blocks and one partial block. */
export function bar(value: number, max: number, width: number): string {
  if (value <= 0 || max <= 0 || width <= 0) return '';
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The chart as text (no trailing newline); bars scale to the largest value across all series. */
export function barChart(rows: TermRow[], series: TermSeries[], columns = 80): string {
  const labelW = Math.max(...rows.map((r) => r.label.length), 0);
  const nameW = Math.max(...series.map((s) => s.name.length));
  const max = Math.max(0, ...rows.flatMap((r) => r.values));
  const numW = Math.max(...rows.flatMap((r) => r.values.map((v) => fmt(v).length)), 1);
  const width = Math.max(10, columns - labelW - nameW - numW - 6);
  const lines = [series.map((s) => `${s.paint('█')} ${s.name}`).join('   ')];
  for (const r of rows) {
    series.forEach((s, i) => {
      const v = r.values[i] ?? 0;
      const label = i === 0 ? r.label.padEnd(labelW) : ' '.repeat(labelW);
      lines.push(`${c.dim(label)}  ${s.name.padEnd(nameW)} ${s.paint(bar(v, max, width))}${v > 0 ? ' ' : ''}${fmt(v)}`);
    });
  }
  return lines.join('\n');
}

export const FLOW_SERIES: TermSeries[] = [
  { name: 'issued', paint: (s) => c.green(s) },
  { name: 'redeemed', paint: (s) => c.cyan(s) },
  { name: 'expired', paint: (s) => c.red(s) },
];
