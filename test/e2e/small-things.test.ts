// Issue 20 item 8 end to end: the points prompt skipped when nothing but 0 can be used, live errors in
// the prompt that name no flags, no "by cash" for no cash, and the report charts in HTML.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, sceneLedger, tmpLedger, type TmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, start, type, waitFor } from '../helpers/tmux.js';

afterEach(endSessions);

function shop(): TmpLedger {
  return sceneLedger('shop', (t) => {
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann Li']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob']);
    t.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00']);
    t.ok(['catalog', 'add', '--sku', 'PASS', '--name', 'Pass', '--price', '10.00', '--pay', 'points', '--points-price', '1000']);
  });
}

/** Waits for the confirmation question, answers it (y or n) and waits for the command to exit 0: the screen. */
async function answer(s: string, question: string, reply: 'y' | 'n' = 'y'): Promise<string> {
  await waitFor(s, question);
  keys(s, reply, 'Enter');
  const out = await waitFor(s, 'EXIT=');
  expect(out).toContain('EXIT=0');
  return out;
}

describe.skipIf(!hasTmux)('the interactive checkout prompt', () => {
  it('skips the points prompt when no points can be used, says why as checkout does, and asks about the cash alone', async () => {
    const t = shop();
    const s = start(t, ['checkout', '--member', 'M2', '--item', 'TEA', '--tender', 'cash']);
    await waitFor(s, 'no points can be used here: the member has no points available');
    const out = await answer(s, 'Take 100.00 by cash from M2?');
    expect(out).not.toContain('Points to use');
    expect(out).not.toContain('only 0');
    expect(out).not.toContain('points allowed');
    expect(out).toMatch(/cash\s+100\.00 by cash/);
    expect(t.ok(['order', 'list'])[0]).toMatchObject({ memberId: 'M2', pointsUsed: 0, cashPaid: '100.00' });
  });

  it('live errors say what to enter, naming no flags; all in points: no cash, no "by cash"', async () => {
    const t = shop();
    const s = start(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--tender', 'cash']);
    await waitFor(s, 'Points to use (0, or 1 to 5000)');
    type(s, '20000');
    await waitFor(s, '20000 is more than these items can take (at most 10000); enter 0, or 1 to 5000');
    keys(s, 'Enter');
    const refused = await waitFor(s, /^> 20000 is more than these items can take/m);
    expect(refused).not.toContain('--points');
    expect(refused).not.toContain('--max-points');
    keys(s, 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    type(s, '0');
    await waitFor(s, '→ 0 points worth 0.00, cash 100.00');
    keys(s, 'Enter');
    await answer(s, 'Take 100.00 by cash from M1?', 'n');

    const p = start(t, ['checkout', '--member', 'M1', '--item', 'PASS', '--tender', 'cash']);
    await waitFor(p, 'no points beyond the 1000 of the points-only items can be used here: no other item takes points');
    const out = await answer(p, 'Use 1000 points (worth 10.00) from M1?');
    expect(out).not.toContain('Points to use');
    expect(out).not.toContain('only 1000');
    expect(out).toMatch(/cash\s+0\.00\s*\n/);
    expect(out).not.toContain('0.00 by cash');
  });
});

describe.skipIf(!hasTmux)('errors on a terminal', () => {
  it('are broken at spaces to its width, under their mark; a pipe gets each line whole', async () => {
    const t = tmpLedger();
    const csv = join(t.dir, 'bad.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    const s = start(t, ['import', 'purchases', csv], { width: 80 });
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=2');
    const lines = out.split('\n').filter((l) => l.trim() && !l.startsWith('EXIT='));
    expect(lines[0]).toMatch(/^error: .*bad\.csv:1: wrong header: missing column order_id;/);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    const hint = lines.findIndex((l) => l.startsWith('hint: '));
    expect(hint).toBeGreaterThan(1);
    // every line after a mark starts under the text, with a whole word
    lines.slice(1, hint).forEach((l) => expect(l).toMatch(/^ {7}\S/));
    lines.slice(hint + 1).forEach((l) => expect(l).toMatch(/^ {6}\S/));
    const words = (from: string[]) => from.join(' ').replace(/\s+/g, ' ');
    expect(words(lines.slice(hint))).toBe(
      'hint: the header has "a", "b"; map columns with --map field=Column (fields: order_id, member_id, purchased_at, amount or quantity + unit_price or line_amount, sku, category)',
    );
    const piped = t.run(['import', 'purchases', csv]);
    expect(piped.stderr.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('notes too: rules applied in the past say what earned already in lines that fit, words whole (an outside trial saw "tha/t")', async () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nA1,M1,2026-03-01 10:00,50.00\n');
    t.ok(['import', 'purchases', csv]);
    const rules = join(FIXTURES, 'rules.json');
    const s = start(t, ['rules', 'apply', rules, '--effective', '2026-01-01', '--yes'], { width: 80 });
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=0');
    const lines = out.split('\n').filter((l) => l.trim() && !l.startsWith('EXIT='));
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    const words = lines.join(' ').replace(/\s+/g, ' ');
    expect(words).toContain('note: 1 imported purchase dated from 2026-01-01 00:00 on was earned under the versions before it and keeps its points');
    expect(words).toContain(`see what this version would have given them: pointsmall rules simulate ${rules} --from 2026-01-01`);
    // a pipe: each line whole
    const piped = t.run(['rules', 'apply', rules, '--effective', '2026-01-01', '--yes']);
    expect(piped.stderr.split('\n').filter(Boolean)).toHaveLength(2);
  });
});

describe('order output without "by cash" for no cash', () => {
  it('order show and checkout say cash 0.00 for an order paid in points; cash 90.00 by card otherwise', () => {
    const t = shop();
    const paid = t.run(['checkout', '--member', 'M1', '--item', 'PASS', '--yes']);
    expect(paid.code, paid.stderr).toBe(0);
    expect(paid.stdout).toMatch(/^cash\t0\.00$/m);
    const id = t.ok(['order', 'list'])[0].orderId;
    expect(t.run(['order', 'show', id]).stdout).toMatch(/^cash\t0\.00$/m);
    expect(t.run(['checkout', 'quote', '--member', 'M1', '--item', 'PASS']).stdout).toMatch(/^cash to pay\t0\.00$/m);
    const card = t.run(['checkout', '--member', 'M1', '--item', 'TEA', '--points', '1000', '--tender', 'card', '--yes']);
    expect(card.stdout).toMatch(/^cash\t90\.00 by card$/m);
  });
});

describe('report charts in HTML', () => {
  it('the liability chart shows months with nothing expiring as zero bars; the activity chart has returned and adjusted points', () => {
    const t = tmpLedger({ now: '2025-12-01T10:00:00+08:00' });
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2025-12-01'], { now: '2025-12-01T10:00:00+08:00' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann'], { now: '2025-12-01T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '500', '--reason', 'a'], { now: '2026-01-15T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '700', '--reason', 'b'], { now: '2026-04-15T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '-200', '--reason', 'c', '--yes'], { now: '2026-04-16T10:00:00+08:00' });
    const sale = join(t.dir, 'sale.csv');
    writeFileSync(sale, 'order_id,member_id,purchased_at,amount\nS1,M1,2026-04-16,50.00\nS2,M1,2026-04-17,-20.00\n');
    t.ok(['import', 'purchases', sale], { now: '2026-04-20T10:00:00+08:00' });
    const now = { now: '2026-04-20T10:00:00+08:00' };

    const liability = t.run(['report', 'liability', '--format', 'html'], now);
    expect(liability.code, liability.stderr).toBe(0);
    const tips = [...liability.stdout.matchAll(/<rect [^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(tips.filter((x) => x.endsWith('· points: 0')).map((x) => x.split(' ')[0])).toEqual(['2027-02', '2027-03']);
    expect(tips.map((x) => x.split(' ')[0])).toEqual(['2027-01', '2027-02', '2027-03', '2027-04']);

    const activity = t.run(['report', 'activity', '--by', 'day', '--from', '2026-04-01', '--to', '2026-04-30', '--format', 'html'], now);
    expect(activity.code, activity.stderr).toBe(0);
    const html = activity.stdout;
    for (const name of ['issued', 'returned', 'redeemed', 'expired', 'adjusted']) expect(html).toContain(`</i>${name}</span>`);
    expect(html).toContain('2026-04-16 · adjusted: -200');
    expect(html).toContain('2026-04-17 · returned: 20');
    const labels = html.match(/<text [^>]*rotate\(-40[^>]*>[^<]*<\/text>/g) ?? [];
    expect(labels.length).toBeGreaterThan(1);
    expect(labels.length).toBeLessThanOrEqual(12);
  });
});

describe('words for a newcomer and for grep (an outside trial)', () => {
  it('a bad option value is said once; piped keys are not indented; counts agree', () => {
    const t = shop();
    const from = t.run(['report', 'summary', '--from', '2026/01/01', '--json']);
    expect(from.code).toBe(2);
    expect(JSON.parse(from.stderr).error.message).toBe('--from "2026/01/01" is not a calendar date YYYY-MM-DD');
    // (commander's own choices keep its words)
    expect(JSON.parse(t.run(['member', 'list', '--status', 'bogus', '--json']).stderr).error.message).toMatch(/^option '--status <status>' argument 'bogus' is invalid/);
    const piped = t.run(['report', 'summary']).stdout;
    expect(piped).toMatch(/^from purchases\t0$/m);
    expect(piped).not.toMatch(/^ /m);
    const acts = join(t.dir, 'acts.csv');
    writeFileSync(acts, 'activity,member_id,ref,occurred_at\nsignup,M2,r1,2026-11-01\n');
    const rules = join(t.dir, 'acts.json');
    writeFileSync(rules, JSON.stringify({ activities: [{ name: 'signup', points: 100, once: true }] }));
    t.ok(['rules', 'apply', rules, '--effective', '2020-01-01']);
    const imported = t.run(['import', 'activities', acts]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^signup\t1 award, 100 points$/m);
    // a SKU in another case: the hint names the item meant, as for a member id
    for (const args of [['catalog', 'show', 'tea'], ['checkout', 'quote', '--member', 'M1', '--item', 'tea']]) {
      const r = t.run([...args, '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'NOT_FOUND', message: 'item "tea" not found', hint: 'did you mean TEA? SKUs are exact' });
    }
    expect(JSON.parse(t.run(['catalog', 'show', 'nope', '--json']).stderr).error.hint).toBe('list the catalog with: pointsmall catalog list --all');
  });
});
