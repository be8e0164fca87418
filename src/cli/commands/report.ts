// `report summary|liability|activity|members|expiring|items|segments`: each calls one service and
// renders its result object as a table (TTY) or tab-separated rows (pipe), CSV, JSON or HTML.
import { Command, Option } from 'commander';
import { c } from '../colour.js';
import { cmdOf, context, dbPath, globals, useLedgerZone } from '../cli.js';
import { type OutFormat, pickFormat } from '../formats.js';
import { parseDateOpt, parseIntOpt, parseWithinOpt } from '../parse.js';
import { type Column, aside, displayWidth, localTime, notice, terminalWidth, wrapToTerminal, printFields, printJson, printTable, safeText, scrubData, stderrIsTTY, stdoutIsTTY, toCsv } from '../output.js';
import { writeOutputFile } from '../../services/outfile.js';
import type { HtmlChart } from '../html.js';
import { fillMonths } from '../charts.js';
import { type ScoreBand, bandText } from '../../domain/reports.js';
import type { AnomalyReport } from '../../services/anomalies.js';
import type {
  ActivityReport,
  ExpiringReport,
  ItemsReport,
  LiabilityReport,
  MembersReport,
  SegmentsReport,
  SummaryReport,
} from '../../services/reports.js';
import type { ItemRecommendations, MemberRecommendations, SegmentRecommendations } from '../../services/recommend.js';
import { count } from '../words.js';

const services = () => import('../../services/reports.js');

export type Format = OutFormat;
export const FORMATS: OutFormat[] = ['table', 'csv', 'json', 'html'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRow = any;

export interface Section {
  title: string;
  /** The short name piped keys use after the fields (`NAME.N.COLUMN`); default: the title as a slug. */
  name?: string;
  columns: Column<AnyRow>[];
  rows: AnyRow[];
  chart?: HtmlChart;
  /** Only in the HTML page (the table view already shows it as fields). */
  htmlOnly?: boolean;
}

/** One report as the renderers see it: headline fields, tables (with optional charts), and the CSV table. */
export interface View {
  name: string;
  title: string;
  subtitle: string;
  fields: [string, string | number][];
  sections: Section[];
  csv: { columns: Column<AnyRow>[]; rows: AnyRow[] };
  /** The command named in an HTML page's footer (default `report NAME`). */
  command?: string;
  /** Drawn under the table on a TTY (report activity). */
  terminalChart?: () => Promise<string | null>;
  /** Why the CSV has no rows, which its columns cannot say: told on stderr beside it. */
  csvEmptyNote?: string;
  /** Told on stderr after the table (a terminal or a pipe): what the figures hold that their columns do not say. */
  note?: string;
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--from <date>', 'from this date (inclusive, ledger zone)', parseDateOpt('--from'))
    .option('--to <date>', 'to this date (inclusive, ledger zone)', parseDateOpt('--to'))
    .addOption(new Option('--format <format>', 'table, csv, json or html (default: from --out\'s extension, else table)').choices(FORMATS))
    .option('--out <file>', 'write the report to a file (atomically) instead of stdout');
}

export const period = (from: string | null, to: string | null): string =>
  from || to ? `${from ?? 'the beginning'} … ${to ?? 'now'}` : 'all time';

const cellText = (col: Column<AnyRow>, r: AnyRow): string => {
  const v = col.format ? col.format(r[col.key], r) : r[col.key];
  return v === null || v === undefined ? '' : String(v);
};

/** The tab-separated text a pipe gets, for --out FILE.txt. */
function plainText(v: View): string {
  const lines: string[] = v.fields.map(([k, x]) => `${k}\t${safeText(String(x))}`);
  for (const s of v.sections) {
    if (s.htmlOnly) continue;
    if (lines.length) lines.push('');
    lines.push(s.columns.map((col) => col.header).join('\t'));
    for (const r of s.rows) lines.push(s.columns.map((col) => safeText(cellText(col, r)).replace(/[\t\n]/g, ' ')).join('\t'));
  }
  return lines.join('\n') + '\n';
}

async function htmlOf(v: View, now: Date): Promise<string> {
  const { renderHtml } = await import('../html.js');
  return renderHtml({
    title: v.title,
    subtitle: v.subtitle,
    fields: v.fields.map(([k, x]) => [k, String(x)]),
    sections: v.sections.map((s) => ({
      title: s.title,
      headers: s.columns.map((col) => ({ header: col.header, align: col.align })),
      rows: s.rows.map((r) => s.columns.map((col) => cellText(col, r))),
      chart: s.chart,
    })),
    footer: `pointsmall ${v.command ?? `report ${v.name}`} · generated ${localTime(now.toISOString())}`,
  });
}

export async function render(cmd: Command, now: Date, result: unknown, view: () => View): Promise<void> {
  const { format, out } = pickFormat(cmd, FORMATS);
  // Times in the views (localTime) are for people: the ledger's zone, as every other command shows them.
  if (format !== 'json') await useLedgerZone(cmd);
  // every view but JSON is text for people (a table, a file they open, a page): the data's escapes go first
  if (format !== 'json') scrubData(result);
  let text: string;
  let csvNote: string | undefined;
  if (format === 'json') text = JSON.stringify(result, null, 2) + '\n';
  else if (format === 'csv') {
    const v = view();
    text = await toCsv(v.csv.columns, v.csv.rows);
    if (!v.csv.rows.length) csvNote = v.csvEmptyNote;
  } else if (format === 'html') text = await htmlOf(view(), now);
  else if (out) text = plainText(view());
  else {
    const v = view();
    if (v.fields.length) {
      if (stdoutIsTTY()) process.stdout.write(c.bold(v.title) + (displayWidth(`${v.title}  ${v.subtitle}`) <= terminalWidth() ? c.dim(`  ${v.subtitle}`) : '\n' + c.dim(wrapToTerminal(v.subtitle))) + '\n');
      printFields(v.fields.map(([k, x]) => [k, x]));
    }
    for (const s of v.sections) if (!s.htmlOnly) await printTable(s.columns, s.rows, { title: s.title, name: s.name });
    if (stdoutIsTTY() && v.terminalChart) {
      const chart = await v.terminalChart();
      if (chart) process.stdout.write('\n' + chart + '\n');
    }
    if (v.note) aside(stdoutIsTTY() ? c.dim(wrapToTerminal(`note: ${v.note}`)) : `note: ${v.note}`);
    return;
  }
  if (out) {
    const path = writeOutputFile(out, text, { ledger: dbPath(cmd), flag: '--out' });
    if (globals(cmd).json) printJson({ report: view().name, format, out: path });
    else notice(`wrote ${path}${csvNote ? ` (no rows: ${csvNote})` : ''}`);
  } else {
    process.stdout.write(text);
    if (csvNote) notice(`note: no rows: ${csvNote}`);
  }
}

const PALETTE = { issued: '#2e7d32', redeemed: '#1565c0', expired: '#c62828', returned: '#ef6c00', adjusted: '#6a1b9a' };
export const signed = (n: unknown): string => ((n as number) > 0 ? `+${n}` : String(n));
export const num = (key: string, header = key): Column<AnyRow> => ({ key, header, align: 'right' });

// ----------------------------------------------------------------------------------------------
function summaryView(r: SummaryReport): View {
  const csvRow = { ...r, reconciled: r.reconciliation.ok, ...issuedByCells(r.issuedBy) };
  return {
    name: 'summary',
    title: 'Points summary',
    subtitle: period(r.from, r.to),
    fields: [
      ['opening balance', r.openingBalance],
      ['issued', r.issued],
      ['  from purchases', r.issuedBy.purchases],
      ['  from activities', r.issuedBy.activities],
      ['returned', r.returned],
      ['redeemed', r.redeemed],
      ['expired', r.expired],
      ['adjusted', signed(r.adjusted)],
      ['  adjust credits', r.issuedBy.adjustments],
      ['closing balance', r.closingBalance],
      // what it holds, as report liability counts it: closing = lapsed pending − debt − expired at its end + outstanding
      ...(r.lapsedPending ? [['  lapsed, expiry run due', r.lapsedPending] as [string, number]] : []),
      ...(r.memberDebt ? [['  members\' debt', `−${r.memberDebt}`] as [string, string]] : []),
      ...(r.expiredAtEnd ? [['  expired at its end, spendable through it', `−${r.expiredAtEnd}`] as [string, string]] : []),
      ['  outstanding', r.outstanding],
      ['    of which on hold', r.held],
      ['outstanding value', `${r.outstandingValue} ${r.currency}`],
      ['entries in period', r.entries],
      ['reconciliation', `${r.reconciliation.ok ? (stdoutIsTTY() ? '✓' : 'ok') : 'MISMATCH'} ${r.reconciliation.line}`],
    ],
    sections: [
      {
        title: 'Flows in the period',
        columns: [{ key: 'flow', header: 'flow' }, num('points')],
        rows: (['issued', 'returned', 'redeemed', 'expired', 'adjusted'] as const).map((k) => ({ flow: k, points: r[k] })),
        chart: {
          title: 'Points by flow',
          categories: ['issued', 'returned', 'redeemed', 'expired', 'adjusted'],
          series: [{ name: 'points', colour: '#455a64', values: [r.issued, r.returned, r.redeemed, r.expired, r.adjusted] }],
        },
      },
    ].map((x) => ({ ...x, htmlOnly: true })),
    csv: {
      columns: [
        { key: 'from', header: 'from' },
        { key: 'to', header: 'to' },
        num('openingBalance'),
        num('issued'),
        num('returned'),
        num('redeemed'),
        num('expired'),
        num('adjusted'),
        ...ISSUED_BY_COLUMNS,
        num('closingBalance'),
        num('held'),
        num('lapsedPending'),
        num('memberDebt'),
        num('expiredAtEnd'),
        num('outstanding'),
        num('outstandingValue'),
        { key: 'currency', header: 'currency' },
        { key: 'reconciled', header: 'reconciled' },
      ],
      rows: [csvRow],
    },
  };
}

function liabilityView(r: LiabilityReport): View {
  const lotTotal = r.byExpiryMonth.reduce((a, b) => a + b.points, 0);
  const rows = r.byExpiryMonth.map((b) => ({
    month: b.month ?? 'never',
    points: b.points,
    share: lotTotal ? `${((b.points * 100) / lotTotal).toFixed(1)}%` : '',
  }));
  const columns: Column<AnyRow>[] = [{ key: 'month', header: 'expires in' }, num('points'), num('share')];
  // the chart shows the months in between with nothing expiring as empty bars (the table lists months with points)
  const chartMonths = fillMonths(rows);
  return {
    name: 'liability',
    title: 'Points liability',
    subtitle: `as of the end of ${r.asOf}`,
    fields: [
      ['as of', r.asOf],
      ['outstanding points', r.outstandingPoints],
      ['value', `${r.value} ${r.currency}`],
      ['redeem rate', `${r.redeemPointsPerUnit} points per ${r.currency}`],
      ['lapsed, expiry run due', r.lapsedPendingPoints],
      ['on hold', r.heldPoints],
      ['member debt', r.memberDebt],
      ['net of debt', r.netPoints],
      ['basis', r.basis === 'lots' ? 'current lots' : 'journal replayed to the date'],
    ],
    sections: [
      {
        title: 'Points by expiry month',
        columns,
        rows,
        chart: { title: 'Points by expiry month', categories: chartMonths.map((x) => x.month), series: [{ name: 'points', colour: '#1565c0', values: chartMonths.map((x) => x.points) }] },
      },
    ],
    // Each row says its date, value and currency, so a file a cron job keeps stands on its own.
    csv: {
      columns: [{ key: 'asOf', header: 'asOf' }, { key: 'month', header: 'month' }, num('points'), num('value'), { key: 'currency', header: 'currency' }],
      rows: r.byExpiryMonth.map((b) => ({ asOf: r.asOf, month: b.month ?? 'never', points: b.points, value: b.value, currency: r.currency })),
    },
  };
}

// --- activities (issue 18): issued points by source, as flat cells for tables and CSV ---
const issuedByCells = (b: { purchases: number; activities: number; adjustments: number }) => ({ issuedPurchases: b.purchases, issuedActivities: b.activities, creditedByAdjusts: b.adjustments });
const ISSUED_BY_COLUMNS: Column<AnyRow>[] = [num('issuedPurchases', 'from purchases'), num('issuedActivities', 'from activities'), num('creditedByAdjusts', 'adjust credits')];
// --- end activities ---

const FLOW_COLUMNS: Column<AnyRow>[] = [num('issued'), num('returned'), num('redeemed'), num('expired'), { key: 'adjusted', header: 'adjusted', align: 'right', format: signed }, { key: 'net', header: 'net', align: 'right', format: signed }];

function activityView(r: ActivityReport): View {
  // the bucket and its first day are dates: never cut; on a narrow terminal the three "issued from" columns
  // give way first (the fields above the table hold their totals)
  const columns: Column<AnyRow>[] = [
    { key: 'bucket', header: r.by, fit: 'fixed' },
    ...(r.by === 'week' ? [{ key: 'start', header: 'from', fit: 'fixed' } as Column<AnyRow>] : []),
    ...FLOW_COLUMNS,
    ...ISSUED_BY_COLUMNS.map((col, i) => ({ ...col, drop: ISSUED_BY_COLUMNS.length - i })),
  ];
  const rows = r.buckets.map((b) => ({ ...b, ...issuedByCells(b.issuedBy) }));
  return {
    name: 'activity',
    title: `Points activity by ${r.by}`,
    subtitle: `${period(r.from, r.to)} · buckets in ${r.zone}`,
    fields: [
      ['period', period(r.from, r.to)],
      ['zone', r.zone],
      ['issued', r.totals.issued],
      ['  from purchases', r.totals.issuedBy.purchases],
      ['  from activities', r.totals.issuedBy.activities],
      ['  adjust credits', r.totals.issuedBy.adjustments],
      ['returned', r.totals.returned],
      ['redeemed', r.totals.redeemed],
      ['expired', r.totals.expired],
      ['adjusted', signed(r.totals.adjusted)],
      ['net change', signed(r.totals.net)],
    ],
    sections: [
      {
        title: `By ${r.by}`,
        columns,
        rows,
        chart: {
          title: `Issued, returned, redeemed, expired and adjusted points by ${r.by}`,
          categories: r.buckets.map((b) => b.bucket),
          series: [
            { name: 'issued', colour: PALETTE.issued, values: r.buckets.map((b) => b.issued) },
            { name: 'returned', colour: PALETTE.returned, values: r.buckets.map((b) => b.returned) },
            { name: 'redeemed', colour: PALETTE.redeemed, values: r.buckets.map((b) => b.redeemed) },
            { name: 'expired', colour: PALETTE.expired, values: r.buckets.map((b) => b.expired) },
            { name: 'adjusted', colour: PALETTE.adjusted, values: r.buckets.map((b) => b.adjusted) },
          ],
        },
      },
    ],
    csv: { columns: [{ key: 'bucket', header: r.by }, { key: 'start', header: 'start' }, ...FLOW_COLUMNS.map((col) => ({ ...col, format: undefined })), ...ISSUED_BY_COLUMNS], rows },
    terminalChart: async () => {
      if (!r.buckets.length) return null;
      if (r.buckets.length > 120) return c.dim(`(chart left out: ${count(r.buckets.length, 'bucket')}; try --by week or --by month)`);
      const { barChart, FLOW_SERIES } = await import('../charts.js');
      return barChart(
        r.buckets.map((b) => ({ label: b.bucket, values: [b.issued, b.redeemed, b.expired] })),
        FLOW_SERIES,
        process.stdout.columns || 80,
      );
    },
  };
}

function membersView(r: MembersReport): View {
  const columns: Column<AnyRow>[] = [
    num('rank', '#'),
    { key: 'id', header: 'member' },
    { key: 'name', header: 'name' },
    { key: 'tier', header: 'tier' },
    { key: 'status', header: 'status', fit: 'fixed' },
    num('balance'),
    num('earned'),
    num('redeemed'),
    num('expired'),
    // the day, in the ledger's zone (CSV and JSON keep the instant)
    { key: 'lastActivity', header: 'last activity', fit: 'fixed', format: (v) => localTime(v).slice(0, 10) },
  ];
  return {
    name: 'members',
    title: `Top members by ${r.by}`,
    subtitle: period(r.from, r.to),
    fields: [],
    sections: [
      {
        title: `Top ${r.top ?? 'all'} by ${r.by}`,
        columns,
        rows: r.members,
        chart: {
          title: `${r.by} points`,
          horizontal: true,
          categories: r.members.map((m) => `${m.id} ${m.name}`),
          series: [{ name: r.by, colour: '#2e7d32', values: r.members.map((m) => m[r.by]) }],
        },
      },
    ],
    csv: { columns: [...columns.map((col) => (col.key === 'lastActivity' ? { ...col, format: undefined } : col)), num('expiredPending', 'expired pending')], rows: r.members },
    note: pendingNote(r.members),
  };
}

/** Balances that still hold lapsed points no expiry run has taken (trial 42b: the column said balance only). */
function pendingNote(rows: readonly { expiredPending: number }[]): string | undefined {
  const pending = rows.filter((m) => m.expiredPending > 0);
  if (!pending.length) return undefined;
  const points = pending.reduce((n, m) => n + m.expiredPending, 0);
  return `${count(pending.length, 'balance')} above ${pending.length === 1 ? 'holds' : 'hold'} ${count(points, 'point')} that have lapsed and no expiry run has taken yet (not spendable; pointsmall expire run posts them; member show lists them as expired, pending)`;
}

function expiringView(r: ExpiringReport): View {
  const columns: Column<AnyRow>[] = [
    { key: 'memberId', header: 'member' },
    { key: 'name', header: 'name' },
    num('points', 'expiring'),
    { ...num('lots'), drop: 1 },
    { key: 'firstExpiresOn', header: 'first expires on', fit: 'fixed' },
    { key: 'lastExpiresOn', header: 'last expires on', fit: 'fixed', drop: 2 },
    num('balance'),
    { key: 'phone', header: 'phone' },
    { key: 'email', header: 'email', drop: 3 },
  ];
  return {
    name: 'expiring',
    title: 'Points expiring',
    subtitle: `${r.from} … ${r.to}`,
    fields: [
      ['window', `${r.from} … ${r.to}`],
      ['members', r.members],
      ['points', r.points],
      ['lots', r.lots],
      ['overdue (expiry run due)', r.overduePoints],
    ],
    sections: [
      { title: 'Members with points expiring', name: 'members', columns, rows: r.rows },
      {
        title: 'By expiry date',
        columns: [{ key: 'date', header: 'expires on' }, num('points'), num('members')],
        rows: r.byDate,
        chart: { title: 'Points expiring by date', categories: r.byDate.map((d) => d.date), series: [{ name: 'points', colour: '#c62828', values: r.byDate.map((d) => d.points) }] },
      },
    ],
    csv: { columns, rows: r.rows },
  };
}

function itemsView(r: ItemsReport): View {
  const columns: Column<AnyRow>[] = [
    { key: 'sku', header: 'sku' },
    { key: 'name', header: 'name' },
    { key: 'category', header: 'category', drop: 3 },
    { ...num('orders'), drop: 4 },
    { ...num('redemptions', 'with points'), drop: 5 },
    num('quantity'),
    // kept over points earned: points used and cash paid are net of refunds, quantity and sales are not,
    // so a row without it does not add up (trial 39)
    { ...num('refundedQty', 'refunded'), drop: 1 },
    num('sales', 'sales (gross)'),
    num('pointsUsed', 'points used'),
    num('cashPaid', 'cash paid'),
    { ...num('pointsEarned', 'points earned'), drop: 2 },
  ];
  return {
    name: 'items',
    title: 'Redemptions by item',
    subtitle: `${period(r.from, r.to)} · checkout orders paid in the period, less the refunds made in it`,
    fields: [
      ['period', period(r.from, r.to)],
      ['lines with points', r.totals.redemptions],
      ['units', r.totals.quantity],
      ['sales', `${r.totals.sales} ${r.currency}`],
      ['points used', r.totals.pointsUsed],
      ['cash paid', `${r.totals.cashPaid} ${r.currency}`],
      ['points earned', r.totals.pointsEarned],
    ],
    sections: [
      {
        title: 'By item',
        columns,
        rows: r.items,
        chart: {
          title: 'Points used and earned by item',
          horizontal: true,
          categories: r.items.map((i) => `${i.sku} ${i.name}`),
          series: [
            { name: 'points used', colour: PALETTE.redeemed, values: r.items.map((i) => i.pointsUsed) },
            { name: 'points earned', colour: PALETTE.issued, values: r.items.map((i) => i.pointsEarned) },
          ],
        },
      },
    ],
    csv: { columns, rows: r.items },
  };
}

function segmentsView(r: SegmentsReport): View {
  const band = (bands: ScoreBand[], score: number): string => {
    const b = bands.find((x) => x.score === score);
    return b ? bandText(b) : '—';
  };
  const thresholds = [5, 4, 3, 2, 1].map((s) => ({
    score: s,
    recency: band(r.thresholds.recencyDays, s),
    orders: band(r.thresholds.orders, s),
    points: band(r.thresholds.pointsEarned, s),
  }));
  const segColumns: Column<AnyRow>[] = [
    { key: 'segment', header: 'segment', fit: 'fixed' },
    { key: 'rule', header: 'rule', fit: 'wrap' },
    num('members'),
    { key: 'share', header: 'share %', align: 'right' },
    { key: 'avgRecencyDays', header: 'avg days', align: 'right' }, // (since the last order: R, as the thresholds say)
    num('orders'),
    num('pointsEarned', 'points earned'),
  ];
  const sections: Section[] = [
    {
      title: 'Thresholds (R: days since last order · F: orders · M: points earned, in the period)',
      name: 'thresholds',
      columns: [num('score'), { key: 'recency', header: 'R days' }, { key: 'orders', header: 'F orders' }, { key: 'points', header: 'M points' }],
      rows: thresholds,
    },
    {
      title: 'Segments',
      columns: segColumns,
      rows: r.segments,
      chart: { title: 'Members per segment', horizontal: true, categories: r.segments.map((s) => s.segment), series: [{ name: 'members', colour: '#6a1b9a', values: r.segments.map((s) => s.members) }] },
    },
  ];
  const memberColumns: Column<AnyRow>[] = [
    { key: 'memberId', header: 'member' },
    { key: 'name', header: 'name' },
    { key: 'segment', header: 'segment' },
    num('r', 'R'),
    num('f', 'F'),
    num('m', 'M'),
    { key: 'lastOn', header: 'last order' },
    num('recencyDays', 'days'),
    num('orders'),
    num('earned', 'points earned'),
  ];
  if (r.members) sections.push({ title: 'Members', columns: memberColumns, rows: r.members });
  return {
    name: 'segments',
    title: 'RFM segments',
    subtitle: `${period(r.from, r.to)} · recency as of ${r.asOf}`,
    fields: [
      ['period', period(r.from, r.to)],
      ['recency as of', r.asOf],
      ['members', r.totalMembers],
      ['with orders', r.buyers],
      ['scores', 'R fixed day bands; F and M by quintiles of members with orders; first matching rule wins'],
    ],
    sections,
    csv: r.members ? { columns: memberColumns, rows: r.members } : { columns: segColumns, rows: r.segments },
  };
}

// --- activities (issue 18): report anomalies ---
/** One evidence item in a line: `key value` pairs, times in the ledger zone. */
const evidenceText = (e: Record<string, unknown>): string =>
  Object.entries(e)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k} ${typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? localTime(v) : String(v)}`)
    .join(', ');

function anomaliesView(r: AnomalyReport): View {
  const rows = r.members.flatMap((m) =>
    m.findings.map((f) => ({ memberId: m.memberId, name: m.name, signal: f.signal, detail: f.detail, evidence: f.evidence.map(evidenceText).join(' | '), evidenceJson: JSON.stringify(f.evidence) })),
  );
  const t = r.thresholds;
  const columns: Column<AnyRow>[] = [{ key: 'memberId', header: 'member' }, { key: 'name', header: 'name' }, { key: 'signal', header: 'signal', fit: 'id' }, { key: 'detail', header: 'detail', fit: 'wrap' }, { key: 'evidence', header: 'evidence', fit: 'wrap' }];
  return {
    name: 'anomalies',
    title: 'Anomalies',
    subtitle: period(r.from, r.to),
    fields: [
      ['period', period(r.from, r.to)],
      ['members flagged', r.members.length],
      ['quick-return', `a refund or return within ${t.quickReturnDays} days of earning`],
      ['many-refunds', `${t.manyRefunds} or more refunds and returns in the period`],
      ['spend-after-adjust', `points spent within ${t.spendAfterAdjustHours} h of a manual credit of ${t.largeAdjustPoints}+ points`],
      ['shared-contact', `${t.sharedContactMembers} or more members on one phone or email`],
    ],
    sections: [{ title: 'Signals', columns, rows }],
    csv: { columns: [{ key: 'memberId', header: 'member' }, { key: 'name', header: 'name' }, { key: 'signal', header: 'signal' }, { key: 'detail', header: 'detail' }, { key: 'evidenceJson', header: 'evidence' }], rows },
  };
}
// --- end activities ---

type AnyRecommendations = MemberRecommendations | ItemRecommendations | SegmentRecommendations;

/** The points price cell: points, with the cash a mixed item takes besides it ("2392 + 5.98"); "cash only" for an item points cannot pay. */
function pointsAndCash(v: unknown, row: AnyRow): string {
  if (v === null || v === undefined) return 'cash only';
  const cash = row.cashWithPoints;
  return typeof cash === 'string' && /[1-9]/.test(cash) ? `${v} + ${cash} cash` : String(v);
}

function recommendView(r: AnyRecommendations): View {
  const yesNo = (v: unknown) => (v === null || v === undefined ? '' : v ? 'yes' : 'no');
  // On a narrow terminal the reason wraps (it is what a merchant reads); the score goes first, then whether it is affordable (points needed 0 says it).
  const base: Column<AnyRow>[] = [num('rank', '#'), { key: 'sku', header: 'sku' }, { key: 'name', header: 'name' }, { ...num('score'), drop: 1 }, { key: 'reason', header: 'why', fit: 'wrap' }, { key: 'pointsPrice', header: 'points price', align: 'right', format: r.noCatalog ? () => 'not in catalog' : pointsAndCash }];
  let title: string;
  let fields: [string, string | number][];
  let columns: Column<AnyRow>[];
  if ('memberId' in r) {
    title = `Recommended for member ${r.memberId}`;
    fields = [['member', r.memberId], ['tier', r.tier ?? '-'], ['available points', r.availablePoints]];
    // said above the table: at 80 columns the affordable column gives way
    if (r.frozen) fields.push(['status', 'frozen: pays nothing with points (checkout refuses), so no item is affordable and no points are needed']);
    if (r.debt > 0) fields.push(['debt', `${r.debt} points, repaid first by the points earned next (counted in points needed)`]);
    columns = [...base, { key: 'affordable', header: 'affordable', format: yesNo, drop: 2 }, { key: 'pointsNeeded', header: 'points needed', align: 'right' }];
  } else if ('segment' in r) {
    title = `Redemption options for ${r.segment}`;
    fields = [['segment', r.segment], ['members', r.members]];
    if (r.note) fields.push(['note', r.note]);
    columns = [...base, { key: 'membersAffording', header: 'members affording', align: 'right' }];
  } else {
    title = `Bought together with ${r.sku}`;
    fields = [['item', r.sku], ['name', r.name]];
    if (r.note) fields.push(['note', r.note]);
    columns = base;
  }
  if (r.excluded.length) {
    const named = r.excludedNotSeen.map((sku) => (r.excludedMeant[sku] !== undefined ? `${sku}: did you mean ${r.excludedMeant[sku]}?` : sku));
    const unseen = named.length ? ` (not seen on this ledger: ${named.join(', ')})` : '';
    fields.push(['left out', `${r.excluded.join(', ')}${unseen}`]);
  }
  const rows = r.recommendations.map((x, i) => ({ rank: i + 1, ...x }));
  return {
    name: 'recommend',
    title,
    subtitle: 'from purchase lines and redemptions',
    fields,
    sections: [{ title: 'Recommendations', columns, rows }],
    csvEmptyNote: 'note' in r ? (r.note ?? undefined) : undefined,
    // CSV: numbers a spreadsheet can add up, the points price and the cash besides it in columns of their own
    csv: {
      columns: columns.flatMap((col): Column<AnyRow>[] =>
        col.key === 'pointsPrice' ? [{ ...col, format: undefined }, { key: 'cashWithPoints', header: 'cash with points', align: 'right' }] : col.key === 'affordable' ? [{ ...col, format: undefined }] : [col],
      ),
      rows,
    },
  };
}

// ----------------------------------------------------------------------------------------------
export function register(program: Command): void {
  const report = program.command('report').description('reports: summary, liability, activity, members, expiring, items, segments, anomalies, recommend');

  addCommon(report.command('summary').description('issued, returned, redeemed, expired, adjusted and outstanding points, reconciled')).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).summaryReport(ctx, { from: o.from, to: o.to });
    await render(cmd, ctx.now, r, () => summaryView(r));
  });

  addCommon(
    report
      .command('liability')
      .description('points members hold and their value at the redeem rate, by expiry month')
      .option('--as-of <date>', 'balance at the end of this date (default today; --to works too)', parseDateOpt('--as-of')),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    if (o.from) notice('note: --from has no effect on liability, a balance at one date (use --as-of)');
    const ctx = await context(cmd);
    const r = await (await services()).liabilityReport(ctx, { asOf: o.asOf ?? o.to });
    if (r.lapsedPendingPoints > 0) {
      // a past day is replayed from the journal: what a run has posted since is no advice to give
      const why =
        r.basis === 'journal'
          ? 'no expiry run had posted them by then'
          : 'no expiry run has posted them yet: `pointsmall expire run` posts them, on or after the day they lapse (points held by an open checkout wait for it to end)';
      const note = `note: ${r.lapsedPendingPoints} points lapsed by ${r.asOf} (worth ${r.lapsedPendingValue} ${r.currency}) are not counted as outstanding; ${why}`;
      notice(stderrIsTTY() ? wrapToTerminal(note) : note);
    }
    await render(cmd, ctx.now, r, () => liabilityView(r));
  });

  addCommon(
    report
      .command('activity')
      .description('issued, returned, redeemed, expired and adjusted points per day, ISO week or month (chart on a terminal)')
      .addOption(new Option('--by <bucket>', 'bucket size').choices(['day', 'week', 'month']).default('month')),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).activityReport(ctx, { from: o.from, to: o.to, by: o.by });
    await render(cmd, ctx.now, r, () => activityView(r));
  });

  addCommon(
    report
      .command('members')
      .description('top members by balance, points earned or points redeemed')
      .option('--top <n>', 'how many', parseIntOpt('--top', 1), 10)
      .addOption(new Option('--by <measure>', 'rank by').choices(['balance', 'earned', 'redeemed']).default('balance')),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).membersReport(ctx, { from: o.from, to: o.to, top: o.top, by: o.by });
    await render(cmd, ctx.now, r, () => membersView(r));
  });

  addCommon(
    report
      .command('expiring')
      .description('members and points expiring from today through today + the window (--from/--to override it)')
      .addOption(new Option('--within <window>', 'window like 30d, 2w, 3m').argParser(parseWithinOpt('--within')).default({ days: 30, months: 0 }, '30')),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).expiringReport(ctx, { from: o.from, to: o.to, within: o.within });
    await render(cmd, ctx.now, r, () => expiringView(r));
  });

  // --- activities (issue 18) ---
  addCommon(
    report
      .command('anomalies')
      .description('members whose activity crosses simple fraud signals (quick returns, many refunds, spending right after a large adjust, shared phone or email), with the evidence'),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const { anomaliesReport } = await import('../../services/anomalies.js');
    const r = await anomaliesReport(ctx, { from: o.from, to: o.to });
    await render(cmd, ctx.now, r, () => anomaliesView(r));
  });
  // --- end activities ---

  addCommon(report.command('items').description('checkout redemptions by catalog item: orders, units, points used and earned, cash')).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).itemsReport(ctx, { from: o.from, to: o.to });
    await render(cmd, ctx.now, r, () => itemsView(r));
  });

  addCommon(
    report
      .command('segments')
      .description('recency / frequency / monetary segments of members, with the thresholds used')
      .option('--detail', 'list every member with orders and their scores'),
  ).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const ctx = await context(cmd);
    const r = await (await services()).segmentsReport(ctx, { from: o.from, to: o.to, detail: Boolean(o.detail) });
    await render(cmd, ctx.now, r, () => segmentsView(r));
  });
  report
    .command('recommend')
    .description('items a member is likely to want (--member), items bought together with one (--item), or redemption options for a group (--segment tier=NAME)')
    .option('--member <id>', 'recommend to this member, with whether their points cover each item')
    .option('--item <sku>', 'items bought together with this one')
    .option('--segment <segment>', 'redemption options to promote to a group: tier=NAME')
    .option('--top <n>', 'how many items', parseIntOpt('--top', 1), 10)
    .option('--exclude <sku>', 'leave out a SKU that is not a product (postage, fees, manual lines): never recommended, a reason or a count (repeatable, or SKU,SKU,…)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--format <format>', 'table, csv, json or html (default: from --out\'s extension, else table)').choices(FORMATS))
    .option('--out <file>', 'write the recommendations to a file (atomically) instead of stdout')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const ctx = await context(cmd);
      const { recommend } = await import('../../services/recommend.js');
      const r = await recommend(ctx, { member: o.member, item: o.item, segment: o.segment, top: o.top, exclude: o.exclude });
      await render(cmd, ctx.now, r, () => recommendView(r));
    });
}
