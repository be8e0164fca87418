// A self-contained HTML report: inline CSS and inline SVG bar charts, no script, no network, no
// external assets; every piece of text from the ledger is HTML-escaped.

export interface HtmlSeries {
  name: string;
  colour: string; // a CSS colour literal from this module's palette
  values: number[];
}

export interface HtmlChart {
  title: string;
  categories: string[];
  series: HtmlSeries[];
  horizontal?: boolean;
}

export interface HtmlSection {
  title: string;
  headers: { header: string; align?: 'left' | 'right' }[];
  rows: string[][];
  chart?: HtmlChart;
}

export interface HtmlDoc {
  title: string;
  subtitle: string;
  fields: [string, string][];
  sections: HtmlSection[];
  footer: string;
}

export const PALETTE = {
  issued: '#2e7d32',
  redeemed: '#1565c0',
  expired: '#c62828',
  returned: '#ef6c00',
  adjusted: '#6a1b9a',
  neutral: '#455a64',
} as const;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (ch) => ESC[ch]);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** A round step for about `ticks` gridlines over [0, span]. */
function niceStep(span: number, ticks = 4): number {
  if (span <= 0) return 1;
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return Math.max(1, (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag);
}

function legend(series: HtmlSeries[]): string {
  return `<div class="legend">${series
    .map((s) => `<span><i style="background:${s.colour}"></i>${esc(s.name)}</span>`)
    .join('')}</div>`;
}

/** Most category labels under a vertical chart: a month of days shows every third day, not 31 crowded dates. */
export const MAX_LABELS = 12;

/**
 * Every how many categories a label is written under a vertical chart: at most MAX_LABELS labels, and
 * never closer than 16 px apart. Every label is kept for a dozen categories or fewer.
 */
export function labelStep(n: number, groupW: number, maxLabels = MAX_LABELS): number {
  return Math.max(1, Math.ceil(16 / Math.max(1, groupW)), Math.ceil(n / maxLabels));
}

/** The labels a chart of these categories shows (the others are left blank; every bar keeps its tooltip). */
export function shownLabels(categories: readonly string[], groupW: number, maxLabels = MAX_LABELS): string[] {
  const step = labelStep(categories.length, groupW, maxLabels);
  return categories.filter((_, i) => i % step === 0);
}

function verticalChart(ch: HtmlChart): string {
  const n = ch.categories.length;
  const k = ch.series.length;
  const all = ch.series.flatMap((s) => s.values);
  const max = Math.max(0, ...all);
  const min = Math.min(0, ...all);
  const step = niceStep(max - min || 1);
  const top = Math.ceil(max / step) * step || step;
  const bottom = Math.floor(min / step) * step;
  const plotH = 220;
  const left = 64;
  const barW = Math.max(2, Math.min(28, Math.floor(900 / Math.max(1, n * k + n))));
  const groupW = barW * k + Math.max(2, Math.round(barW * 0.8));
  const width = left + n * groupW + 16;
  const labelEvery = labelStep(n, groupW);
  const height = plotH + 80;
  const y = (v: number) => 10 + ((top - v) / (top - bottom)) * plotH;
  const parts: string[] = [];
  for (let t = bottom; t <= top; t += step) {
    parts.push(`<line x1="${left}" x2="${width - 8}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(fmt(t))}</text>`);
  }
  ch.categories.forEach((cat, i) => {
    const gx = left + i * groupW + 4;
    ch.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const y0 = y(Math.max(0, v));
      const h = Math.abs(y(v) - y(0));
      parts.push(
        `<rect x="${gx + j * barW}" y="${y0.toFixed(1)}" width="${Math.max(1, barW - 1)}" height="${h.toFixed(1)}" fill="${s.colour}"><title>${esc(`${cat} · ${s.name}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    if (i % labelEvery === 0) {
      const lx = gx + (barW * k) / 2;
      parts.push(`<text x="${lx}" y="${plotH + 24}" transform="rotate(-40 ${lx} ${plotH + 24})" text-anchor="end" class="tick">${esc(cat)}</text>`);
    }
  });
  parts.push(`<line x1="${left}" x2="${width - 8}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" class="axis"/>`);
  return `<svg role="img" aria-label="${esc(ch.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function horizontalChart(ch: HtmlChart): string {
  const rowH = 22;
  const labelW = 180;
  const plotW = 520;
  const k = ch.series.length;
  const max = Math.max(1, ...ch.series.flatMap((s) => s.values));
  const height = ch.categories.length * rowH * k + 10;
  const parts: string[] = [];
  ch.categories.forEach((cat, i) => {
    const gy = 5 + i * rowH * k;
    const label = cat.length > 26 ? cat.slice(0, 25) + '…' : cat;
    parts.push(`<text x="${labelW - 8}" y="${gy + (rowH * k) / 2 + 4}" text-anchor="end" class="tick">${esc(label)}</text>`);
    ch.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const w = (Math.max(0, v) / max) * plotW;
      const by = gy + j * rowH + 3;
      parts.push(`<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${s.colour}"><title>${esc(`${cat} · ${s.name}: ${fmt(v)}`)}</title></rect>`);
      parts.push(`<text x="${labelW + w + 6}" y="${by + rowH - 10}" class="tick">${esc(fmt(v))}</text>`);
    });
  });
  const width = labelW + plotW + 90;
  return `<svg role="img" aria-label="${esc(ch.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

export function chartSvg(ch: HtmlChart): string {
  if (!ch.categories.length) return '<p class="empty">no data to chart</p>';
  return `<figure><figcaption>${esc(ch.title)}</figcaption>${legend(ch.series)}${ch.horizontal ? horizontalChart(ch) : verticalChart(ch)}</figure>`;
}

function table(s: HtmlSection): string {
  const cls = (i: number) => (s.headers[i]?.align === 'right' ? ' class="num"' : '');
  const head = s.headers.map((h, i) => `<th${cls(i)}>${esc(h.header)}</th>`).join('');
  const body = s.rows.length
    ? s.rows.map((r) => `<tr>${r.map((v, i) => `<td${cls(i)}>${esc(v)}</td>`).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${s.headers.length}" class="empty">(none)</td></tr>`;
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1c2430;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:2rem 0 .6rem;border-bottom:1px solid #dde3ea;padding-bottom:.3rem}
.sub{color:#5b6775;margin:0 0 1.2rem}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.2rem;margin:0}
dl.fields dt{color:#5b6775}dl.fields dd{margin:0;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e6ebf0;text-align:left;white-space:nowrap}
th{background:#f3f6f9;font-weight:600}td.num,th.num{text-align:right}
.empty{color:#8a96a3;font-style:italic}
figure{margin:.5rem 0 1rem;overflow-x:auto}figcaption{font-weight:600;margin-bottom:.3rem}
.legend span{margin-right:1rem;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:baseline}
svg .grid{stroke:#e6ebf0}svg .axis{stroke:#7b8794}svg .tick{font-size:11px;fill:#5b6775}
footer{margin-top:2rem;color:#8a96a3;font-size:12px}
@media print{body{margin:0}figure{break-inside:avoid}}
`;

/** The whole page. */
export function renderHtml(doc: HtmlDoc): string {
  const fields = doc.fields.length
    ? `<dl class="fields">${doc.fields.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`
    : '';
  const sections = doc.sections
    .map((s) => `<section><h2>${esc(s.title)}</h2>${s.chart ? chartSvg(s.chart) : ''}${table(s)}</section>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(doc.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(doc.title)}</h1>
<p class="sub">${esc(doc.subtitle)}</p>
${fields}
${sections}
<footer>${esc(doc.footer)}</footer>
</body>
</html>
`;
}
