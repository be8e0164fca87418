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

// (as the table above the chart prints them: no grouping, so the two read alike)
const fmt = (n: number): string => String(n);

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

/** The months from `first` to `last` (YYYY-MM), both included. */
export function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split('-').map(Number);
  const [ly, lm] = last.split('-').map(Number);
  while (y < ly || (y === ly && m <= lm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (++m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

/**
 * Points per month with the months between them that have none filled in as 0, so a chart shows the
 * gaps as empty bars; rows without a month (points that never expire) stay last.
 */
export function fillMonths<R extends { month: string; points: number }>(rows: readonly R[], never = 'never'): { month: string; points: number }[] {
  const dated = rows.filter((r) => /^\d{4}-\d{2}$/.test(r.month));
  const other = rows.filter((r) => !/^\d{4}-\d{2}$/.test(r.month));
  if (!dated.length) return rows.map((r) => ({ month: r.month, points: r.points }));
  const sorted = dated.map((r) => r.month).sort();
  const by = new Map(dated.map((r) => [r.month, r.points]));
  return [...monthsBetween(sorted[0], sorted[sorted.length - 1]).map((month) => ({ month, points: by.get(month) ?? 0 })), ...other.map((r) => ({ month: r.month === '' ? never : r.month, points: r.points }))];
}
