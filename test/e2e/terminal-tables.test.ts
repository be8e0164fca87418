// Tables fit the terminal (issue 20 item 2): on a real 80-column terminal (tmux) every line fits, rows are
// compact (no rule between them), long text is cut with … while numbers and times never are; a pipe still
// gets every full value as tab-separated rows; rules show is a summary in words.
import { join } from 'node:path';
import stringWidth from 'string-width';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, type TmpLedger, demoLedger, sceneLedger, tmpDir } from '../helpers/cli.js';
import { endSessions, hasTmux, screenJoined, start, waitFor } from '../helpers/tmux.js';

const LONG_NAME = 'Alexandria Konstantinopoulou-Vanderbilt of Greater Shanghai';
const LONG_EMAIL = 'alexandria.konstantinopoulou-vanderbilt@a-very-long-domain.example.com';

/** Members with long and CJK names, a frozen one with a long reason, a partly refunded order and a few paid ones. */
function ledger(): TmpLedger {
  return sceneLedger('ledger', (t) => {
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2026-01-01']);
    t.ok(['member', 'add', '--id', 'M001', '--name', LONG_NAME, '--email', LONG_EMAIL, '--phone', '13800000001']);
    t.ok(['member', 'add', '--id', 'M002', '--name', '欧阳王芳欧阳王芳欧阳王芳欧阳王芳']);
    t.ok(['member', 'add', '--id', 'M003', '--name', 'Li Wei']);
    for (const m of ['M001', 'M002', 'M003']) t.ok(['member', 'adjust', m, '--points', '250000', '--reason', 'opening balance carried over from the old card system']);
    t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', 'West Lake Longjing 250g', '--price', '168.00', '--points-price', '15000']);
    t.ok(['catalog', 'add', '--sku', 'CUP-002', '--name', 'Celadon tea cup', '--price', '58.00']);
    const first = t.ok(['checkout', '--member', 'M001', '--item', 'TEA-001', '--item', 'CUP-002', '--points', '5000', '--tender', 'alipay', '--yes']);
    t.ok(['order', 'refund', first.orderId, '--line', 'CUP-002:1', '--reason', 'chipped', '--yes']);
    t.ok(['checkout', '--member', 'M002', '--item', 'TEA-001:3', '--max-points', '--tender', 'wechat', '--yes']);
    t.ok(['checkout', '--member', 'M003', '--item', 'CUP-002', '--no-points', '--tender', 'card', '--yes']);
    t.ok(['member', 'freeze', 'M003', '--reason', 'chargeback under review by the bank, see ticket 4711 in the support system for details']);
  });
}

/** Runs the command on a `width`-column terminal and returns its lines as written (wrapped lines joined). */
async function onTerminal(t: TmpLedger, args: string[], width = 80): Promise<string[]> {
  const s = start(t, args, { width });
  await waitFor(s, /EXIT=\d+/);
  const lines = screenJoined(s).split('\n').map((l) => l.trimEnd());
  const end = lines.findIndex((l) => /^EXIT=/.test(l));
  expect(lines[end]).toBe('EXIT=0');
  return lines.slice(0, end).filter((l) => l !== '');
}

const tooWide = (lines: string[], width: number) => lines.filter((l) => stringWidth(l) > width);
/** A line drawn to separate rows: box-drawing or ASCII rules. */
const isRule = (l: string) => /^[\s─━═┼┬┴├┤┌┐└┘│|+=-]+$/.test(l) || /[│┼├┤]/.test(l);

describe.skipIf(!hasTmux)('tables fit an 80-column terminal (issue 20 item 2)', () => {
  const t = ledger();
  afterEach(endSessions);

  it('order list: every line fits, one compact row per order, the status, amounts and times whole', async () => {
    const orders = t.ok(['order', 'list']);
    const lines = await onTerminal(t, ['order', 'list']);
    expect(tooWide(lines, 80)).toEqual([]);
    expect(lines.filter(isRule)).toEqual([]);
    // (a number column's header may shrink to its short form, never cut with …: README "Tables")
    expect(lines[0]).toMatch(/^order\s+at\s+member\s+status\s+total\s+(points|pts)\s+cash/);
    expect(lines[0]).not.toContain('…');
    const rows = lines.filter((l) => /^ORD-/.test(l));
    expect(rows).toHaveLength(orders.length);
    for (const o of orders) {
      const row = rows.find((l) => l.startsWith(o.orderId))!;
      expect(row).toContain('2026-11-23 10:00');
      for (const n of [o.total, String(o.pointsUsed), o.cashPaid]) expect(row).toMatch(new RegExp(`(^| )${n.replace('.', '\\.')}( |$)`));
    }
    // a status is a short code a person scans: never cut, the optional columns give way instead
    expect(rows.find((l) => l.startsWith(orders.find((o: { status: string }) => o.status === 'partially_refunded').orderId))).toMatch(/ partially_refunded /);
    expect(rows.join('\n')).not.toContain('…');
  });

  it('order list on a 120-column terminal shows every column whole', async () => {
    const lines = await onTerminal(t, ['order', 'list'], 120);
    expect(tooWide(lines, 120)).toEqual([]);
    expect(lines[0]).toMatch(/tender\s+earned\s+refunded\s+refunded pts$/);
    expect(lines.join('\n')).toContain('partially_refunded');
    expect(lines.join('\n')).not.toContain('…');
  });

  it('report members: every line fits, the long name cut with …, balances whole, no rules', async () => {
    const top = t.ok(['report', 'members']).members;
    const lines = await onTerminal(t, ['report', 'members']);
    expect(tooWide(lines, 80)).toEqual([]);
    expect(lines.filter(isRule)).toEqual([]);
    const row = lines.find((l) => / M001 /.test(l))!;
    expect(row).toContain('Alexandria');
    expect(row).toContain('…');
    expect(row).not.toContain(LONG_NAME);
    for (const m of top) {
      const r = lines.find((l) => new RegExp(` ${m.id} `).test(l))!;
      expect(r, m.id).toMatch(new RegExp(` ${m.balance} +${m.earned} +${m.redeemed} +${m.expired} `));
    }
    expect(lines.find((l) => / M002 /.test(l))).toContain('欧阳王芳');
  });

  it('member show: fields and lots fit, a long email and reason wrap instead of running off, no rules', async () => {
    const lines = await onTerminal(t, ['member', 'show', 'M001']);
    expect(tooWide(lines, 80)).toEqual([]);
    expect(lines.filter(isRule)).toEqual([]);
    expect(lines.join('').replace(/\s+/g, '')).toContain(LONG_EMAIL); // wrapped, not cut
    expect(lines.some((l) => /^available\s+\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /^remaining\s+of\s+held\s+earned\s+expires on/.test(l))).toBe(true);
    const frozen = await onTerminal(t, ['member', 'show', 'M003']);
    expect(tooWide(frozen, 80)).toEqual([]);
    expect(frozen.join(' ').replace(/\s+/g, ' ')).toContain('see ticket 4711 in the support system for details');
  });

  it('member list, ledger entries, audit list and catalog list fit 80 columns with CJK names', async () => {
    for (const args of [['member', 'list'], ['ledger', 'entries'], ['audit', 'list', '--limit', '20'], ['catalog', 'list'], ['report', 'items'], ['outbox', 'list']]) {
      const lines = await onTerminal(t, args);
      expect(tooWide(lines, 80), args.join(' ')).toEqual([]);
      expect(lines.filter(isRule), args.join(' ')).toEqual([]);
    }
  });

  it('report items at 80 columns keeps refunded, so a partly refunded row adds up: the gross quantity beside the units refunded (trial 39)', async () => {
    const lines = await onTerminal(t, ['report', 'items']);
    const head = lines.find((l) => /^sku\s+name/.test(l))!;
    expect(head.replace(/\s+/g, ' ')).toMatch(/quantity refunded sales \(gross\) points used cash paid$/);
    expect(lines.find((l) => l.startsWith('CUP-002'))).toMatch(/^CUP-002\s+.*\s2\s+1\s+116\.00\s/);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('not shown at 80 columns: category, orders, with points, points earned');
  });

  // Trial 40: the quote cut its pay mode to "poin…" and a header to "points discount…" beside a second
  // "points discount", and names to "乐扣…" beside columns as wide as their long headers.
  it('checkout quote at 80 columns: pay modes whole, short headers for the points discount, names kept to 12 columns', async () => {
    const q = sceneLedger('quote at 80', (x) => {
      x.ok(['member', 'add', '--id', 'M6', '--name', 'Zhou']);
      x.ok(['member', 'adjust', 'M6', '--points', '20000', '--reason', 'seed']);
      x.ok(['catalog', 'add', '--sku', 'HOME-003', '--name', '乐扣乐扣 保鲜盒三件套', '--price', '79.00', '--points-discount', '10']);
      x.ok(['catalog', 'add', '--sku', 'CPN-9Z', '--name', '全场九折券', '--price', '20.00', '--points-price', '1500', '--pay', 'points']);
      x.ok(['catalog', 'add', '--sku', 'ELEC-002', '--name', '华为 FreeBuds 无线耳机', '--price', '699.00', '--pay', 'cash']);
    });
    const lines = await onTerminal(q, ['checkout', 'quote', '--member', 'M6', '--item', 'HOME-003:2', '--item', 'CPN-9Z', '--item', 'ELEC-002', '--max-points']);
    expect(tooWide(lines, 80)).toEqual([]);
    const head = lines.find((l) => /^sku\s+name/.test(l))!;
    expect(head.replace(/\s+/g, ' ')).toBe('sku name pay qty price amount discount pts disc % pts disc');
    expect(lines.find((l) => l.startsWith('CPN-9Z'))).toMatch(/^CPN-9Z\s+全场九折券\s+points\s+1\s/);
    expect(lines.find((l) => l.startsWith('HOME-003'))).toMatch(/^HOME-003\s+乐扣乐扣 保…\s+mixed\s+2\s+79\.00\s+158\.00\s+0\.00\s+10%\s+\d+\.\d{2}$/);
  });

  // Trial 40: order list printed a declined order's points and cash as a paid one's.
  it('order list on a terminal brackets the points and cash of an order never paid, and says why; a pipe keeps the values', async () => {
    const u = sceneLedger('unpaid orders', (x) => {
      x.ok(['member', 'add', '--id', 'M6', '--name', 'Zhou']);
      x.ok(['member', 'adjust', 'M6', '--points', '5000', '--reason', 'seed']);
      x.ok(['catalog', 'add', '--sku', 'G', '--name', 'gift', '--price', '59.90']);
      expect(x.run(['checkout', '--member', 'M6', '--item', 'G', '--points', '500', '--decline', '--yes']).code).toBe(3);
      x.ok(['checkout', '--member', 'M6', '--item', 'G', '--points', '500', '--yes']);
    });
    const lines = await onTerminal(u, ['order', 'list']);
    expect(lines.find((l) => l.startsWith('ORD-000001'))).toMatch(/\sdeclined\s+59\.90\s+\(500\)\s+\(54\.90\)\s/);
    expect(lines.find((l) => l.startsWith('ORD-000002'))).toMatch(/\spaid\s+59\.90\s+500\s+54\.90\s/);
    expect(lines.join(' ')).toContain('(points) (cash): asked, never taken: the order was declined, cancelled or ran out unpaid');
    expect(u.run(['order', 'list']).stdout).toMatch(/\nORD-000001\t[^\n]*\tdeclined\t59\.90\t500\t54\.90\t/);
  });

  it("catalog list on a terminal brackets a mixed item's unused points price and says why; a pipe keeps the value", async () => {
    const lines = await onTerminal(t, ['catalog', 'list']);
    expect(lines.find((l) => l.startsWith('TEA-001'))).toMatch(/168\.00\s+\(15000\)\s+mixed/);
    expect(lines).toContain('(points price): not used, as the item is not --pay points (see catalog show)');
    expect(t.run(['catalog', 'list']).stdout).toMatch(/\nTEA-001\t[^\n]*\t15000\tmixed/);
  });

  it('ledger verify: each check wraps under its mark, the head has a line of its own; a pipe keeps one line each', async () => {
    const lines = await onTerminal(t, ['ledger', 'verify']);
    for (const l of lines) expect(stringWidth(l), l).toBeLessThanOrEqual(80);
    // a wrapped check's next line is indented under its mark
    expect(lines.some((l) => /^ {2}\S/.test(l))).toBe(true);
    expect(lines.every((l) => /^(✓|✗|  \S|ledger ok|head \d+:[0-9a-f]{64}$|\(keep it elsewhere)/.test(l)), lines.join('\n')).toBe(true);
    const piped = t.run(['ledger', 'verify']).stdout.trimEnd().split('\n');
    expect(piped.every((l) => /^(✓ |ledger ok|head )/.test(l))).toBe(true);
    expect(piped.at(-1)).toMatch(/^head \d+:[0-9a-f]{64} \(keep it elsewhere; pass it back with --anchor\)$/);
  });

  it('rules show on a terminal is a summary in words with tables, not the JSON document', async () => {
    const lines = await onTerminal(t, ['rules', 'show']);
    const text = lines.join('\n');
    expect(tooWide(lines, 80)).toEqual([]);
    expect(text).not.toMatch(/[{}]|pointsPerUnit/);
    expect(text).toMatch(/^earn\s+1 point per CNY spent, rounded down$/m);
    expect(text).toMatch(/^redeem\s+100 points = 1 CNY$/m);
    expect(text).toMatch(/^points pay at most\s+80% of an order$/m);
    expect(text).toMatch(/^points expire\s+365 days after they were earned$/m);
    expect(text).toMatch(/^daily earn cap\s+50000 points per member per day$/m);
    expect(text).toMatch(/^review above\s+orders above 20000\.00 CNY wait in review$/m);
    // the spending limits too (trial 40)
    expect(text).toMatch(/^code above\s+none$/m);
    expect(text).toMatch(/^points spent per day\s+no limit$/m);
    expect(text).toMatch(/^\s+×2\s+category electronics\s+2026-11-01\s+2026-11-30$/m);
    expect(text).toMatch(/^gold\s+10000\s+×1\.5$/m);
  });

  it('report recommend: the reason wraps onto more lines and is never cut; affordable (then score) gives way first', async () => {
    const recs: { sku: string; reason: string }[] = t.ok(['report', 'recommend', '--member', 'M002']).recommendations;
    expect(recs.length).toBeGreaterThan(0);
    const lines = await onTerminal(t, ['report', 'recommend', '--member', 'M002']);
    expect(tooWide(lines, 80)).toEqual([]);
    const head = lines.findIndex((l) => /^#\s+sku\s+name\s+(score\s+)?why\s+points price\s+points needed$/.test(l));
    expect(head).toBeGreaterThan(-1);
    expect(lines.join('\n')).toMatch(/not shown at 80 columns: (score, )?affordable;/);
    // the why column, row by row and line by line, read between its header and the next one's
    const at = (l: string, text: string) => stringWidth(l.slice(0, l.indexOf(text)));
    const from = at(lines[head], 'why');
    // up to the points price column: its header, or a wider value right-aligned under it ("13440 + 33.60 cash")
    const starts = lines.slice(head + 1).map((l) => {
      const m = /\s(\d+(?: \+ [\d.]+ cash)?)\s+\d+$/.exec(l);
      return m ? stringWidth(l.slice(0, m.index + 1)) : Infinity;
    });
    const to = Math.min(at(lines[head], 'points price'), ...starts);
    const slice = (l: string) => {
      let w = 0;
      let out = '';
      for (const ch of l) {
        if (w >= from && w < to) out += ch;
        w += stringWidth(ch);
      }
      return out.trim();
    };
    const why = lines.slice(head + 1).filter((l) => !l.startsWith('(')).map(slice).join(' ').replace(/\s+/g, ' ');
    for (const r of recs) expect(why).toContain(r.reason.replace(/\s+/g, ' '));
    expect(why).not.toContain('…');
  });

  it('report recommend for a frozen member: the header says frozen though the affordable column gives way, and no row reads "points needed 0"', async () => {
    const r = t.ok(['report', 'recommend', '--member', 'M003']);
    expect(r.frozen).toBe(true);
    expect(r.recommendations.length).toBeGreaterThan(0);
    const lines = await onTerminal(t, ['report', 'recommend', '--member', 'M003']);
    expect(tooWide(lines, 80)).toEqual([]);
    expect(lines.join('\n')).toMatch(/not shown at 80 columns: (score, )?affordable/);
    expect(lines.some((l) => /^status\s+frozen: pays nothing with points/.test(l))).toBe(true);
    const head = lines.findIndex((l) => /^#\s+sku\s+name/.test(l));
    for (const l of lines.slice(head + 1).filter((x) => /^\d+\s/.test(x))) expect(l).not.toMatch(/\s0$/);
  });
});

describe('a pipe still gets every full value, tab-separated, undecorated', () => {
  const t = ledger();

  it.each([
    [['order', 'list']],
    [['report', 'members']],
    [['member', 'list']],
    [['catalog', 'list']],
  ])('%j: one header, full values, no … and no colour', (args) => {
    const r = t.run(args);
    expect(r.code).toBe(0);
    const [head, ...rows] = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    for (const row of rows) expect(row).toHaveLength(head.length);
    expect(r.stdout).not.toContain('…');
    expect(r.stdout).not.toMatch(/\u001b\[|[│┼─]/);
  });

  it('order list keeps the tender and refunded columns and the whole status; report members the whole name', () => {
    const orders = t.run(['order', 'list']).stdout;
    // the points refunds paid back came last (trial 42b: `refunded` is the cash part), after the columns scripts cut
    expect(orders.split('\n')[0]).toBe('order\tat\tmember\tstatus\ttotal\tpoints\tcash\ttender\tearned\trefunded\trefunded pts');
    expect(orders).toContain('\tpartially_refunded\t');
    const partly = (t.ok(['order', 'list']) as { status: string; refundedCash: string; refundedPoints: number; orderId: string }[]).find((o) => o.status === 'partially_refunded')!;
    expect(t.ok(['order', 'show', partly.orderId])).toMatchObject({ refundedPoints: partly.refundedPoints, refundedCash: partly.refundedCash });
    expect(orders).toContain(`\t${partly.refundedCash}\t${partly.refundedPoints}\n`);
    expect(t.run(['report', 'members']).stdout).toContain(`\t${LONG_NAME}\t`);
  });

  it('rules show on a pipe keeps one setting a line', () => {
    const r = t.run(['rules', 'show']);
    expect(r.stdout).toMatch(/^field\tvalue\n/);
    expect(r.stdout).toMatch(/^redeem\.maxRatio\t0\.8$/m);
  });
});

describe.skipIf(!hasTmux)('what names a row is never cut at 80 columns (a newcomer\'s trial)', () => {
  let t: TmpLedger;
  beforeAll(() => {
    t = demoLedger();
  });
  afterEach(endSessions);

  it('report activity keeps its dates whole, leaving out the "issued from" columns first', async () => {
    // (a short period: the chart below the table keeps to the screen)
    for (const [by, from] of [['month', '2026-09-01'], ['week', '2026-10-15'], ['day', '2026-11-14']]) {
      const lines = await onTerminal(t, ['report', 'activity', '--by', by, '--from', from, '--to', '2026-11-20']);
      expect(tooWide(lines, 80)).toEqual([]);
      const rows = lines.filter((l) => /^20\d\d-/.test(l) && !/issued|redeemed|expired/.test(l));
      expect(rows.length, by).toBeGreaterThan(0);
      const shape = by === 'month' ? /^\d{4}-\d{2} / : by === 'week' ? /^\d{4}-W\d{2}\s+\d{4}-\d{2}-\d{2} / : /^\d{4}-\d{2}-\d{2} /;
      for (const row of rows) expect(row, by).toMatch(shape);
      expect(lines.join('\n')).toMatch(/not shown at 80 columns: from purchases/);
    }
  });

  it('long lines of words (the demo\'s story, a void\'s summary, rejected rows, the help\'s exit codes) are broken at spaces, never mid-word by the terminal', async () => {
    const runs: string[][] = [['demo', '--db', join(tmpDir(), 'again.db')], ['import', 'void', '1', '--dry-run'], ['import', 'purchases', join(FIXTURES, 'purchases-bad.csv'), '--dry-run'], ['--help']];
    for (const args of runs) {
      const s = start(t, args, { width: 80 });
      await waitFor(s, /EXIT=\d+/);
      const lines = screenJoined(s, true).split('\n').map((l) => l.trimEnd());
      expect(tooWide(lines, 80), args.join(' ')).toEqual([]);
      expect(lines.join('\n'), args.join(' ')).toMatch(/EXIT=[04]/);
    }
  });

  it('outbox topics, ledger postings, segment names and an import\'s file are whole', async () => {
    const outbox = await onTerminal(t, ['outbox', 'list', '--limit', '8']);
    expect(outbox.filter((l) => /points\.expired\b/.test(l)).length).toBeGreaterThan(0);
    expect(outbox.filter((l) => /points\.exp\S*…/.test(l))).toEqual([]);
    const entries = t.ok(['ledger', 'entries', '--limit', '6']) as { postings: { account: string; points: number }[] }[];
    const shown = await onTerminal(t, ['ledger', 'entries', '--limit', '6']);
    expect(tooWide(shown, 80)).toEqual([]);
    for (const e of entries) for (const p of e.postings) expect(shown.some((l) => l.includes(`${p.account} ${p.points > 0 ? '+' : ''}${p.points}`)), `${p.account} ${p.points}`).toBe(true);
    // the entry's kind whole (trial 37: `adju…`, `redemp…`)
    for (const e of entries as unknown as { id: number; kind: string }[]) expect(shown.some((l) => new RegExp(`^\\s*${e.id}\\s.*\\s${e.kind}\\s`).test(l)), `${e.id} ${e.kind}`).toBe(true);
    expect(shown.filter((l) => /^\s*\d+\s+\S+ \S+\s+\S*…/.test(l))).toEqual([]);
    const segments = await onTerminal(t, ['report', 'segments']);
    expect(tooWide(segments, 80)).toEqual([]);
    for (const name of ['champions', 'big spenders', 'hibernating', 'no purchases']) expect(segments.some((l) => l.startsWith(name)), name).toBe(true);
    const runs = await onTerminal(t, ['import', 'list']);
    expect(tooWide(runs, 80)).toEqual([]);
    expect(runs.filter((l) => l.includes('…'))).toEqual([]);
    expect(runs.some((l) => /purchases\.csv/.test(l))).toBe(true);
  });

  it('report anomalies wraps its detail and evidence whole; a table that cuts a cell with … says which column and how to see it whole (trial 37)', async () => {
    const r = t.ok(['report', 'anomalies']) as { members: { findings: { signal: string; evidence: Record<string, unknown>[] }[] }[] };
    const findings = r.members.flatMap((m) => m.findings);
    expect(findings.length).toBeGreaterThan(0);
    const lines = await onTerminal(t, ['report', 'anomalies']);
    expect(tooWide(lines, 80)).toEqual([]);
    const text = lines.join(' ').replace(/\s+/g, ' ');
    for (const s of findings) {
      expect(lines.some((l) => l.includes(s.signal)), s.signal).toBe(true);
      // every fact of the evidence is on the screen, with its value beside it (times as the ledger's local time)
      for (const e of s.evidence) for (const [k, v] of Object.entries(e)) if (typeof v !== 'string' || !/T\d\d:/.test(v)) expect(text, k).toContain(`${k} ${v}`);
    }
    const head = lines.findIndex((l) => /^member\s+name\s+signal\s+detail\s+evidence$/.test(l));
    expect(head).toBeGreaterThan(-1);
    const evidenceAt = lines[head].indexOf('evidence');
    expect(lines.slice(head + 1).filter((l) => l.slice(evidenceAt).includes('…'))).toEqual([]);
    const audit = await onTerminal(t, ['audit', 'list', '--limit', '5']);
    expect(tooWide(audit, 80)).toEqual([]);
    expect(audit.some((l) => l.includes('…'))).toBe(true);
    expect(audit.join(' ')).toMatch(/\(cut with … to fit 80 columns: [^)]*\bdetail; --json or a pipe shows every value whole\)/);
  });
});
