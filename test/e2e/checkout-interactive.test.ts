// The interactive checkout, for real, through a pseudo-terminal (tmux): pick member and items, type points
// while the value and cash remaining update, confirm. Skips cleanly where tmux is missing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, start, type, waitFor } from '../helpers/tmux.js';

afterEach(endSessions);

describe.skipIf(!hasTmux)('interactive checkout on a terminal', () => {
  /** Each test gets its own copy of the shop, built once per file. */
  function shop(): TmpLedger {
    return sceneLedger('shop', (t) => {
      t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann Li']);
      t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob']);
      t.ok(['member', 'adjust', 'M1', '--points', '5000', '--reason', 'seed']);
      t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00']);
      t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '10.00', '--pay', 'cash']);
    });
  }

  it('picks member and items, shows the balance, previews points value and cash as they are typed, then pays', async () => {
    const t = shop();
    const s = start(t, ['checkout']);
    await waitFor(s, 'Member');
    type(s, 'Ann');
    await waitFor(s, /M1\s+Ann Li/);
    keys(s, 'Enter');
    await waitFor(s, 'M1 Ann Li: 5000 points available');
    await waitFor(s, 'Items');
    keys(s, 'Down', 'Space', 'Enter'); // CUP is first, TEA second
    await waitFor(s, 'Quantity of TEA');
    keys(s, 'Enter');
    await waitFor(s, /total 100\.00 CNY; balance 5000, available 5000/);
    await waitFor(s, 'Points to use');
    type(s, '12');
    await waitFor(s, '→ 12 points worth 0.12, cash 99.88');
    type(s, '00');
    await waitFor(s, '→ 1200 points worth 12.00, cash 88.00');
    keys(s, 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    type(s, '4000');
    await waitFor(s, '→ 4000 points worth 40.00, cash 60.00');
    keys(s, 'Enter');
    await waitFor(s, 'Pay 60.00 by');
    keys(s, 'Down', 'Enter');
    await waitFor(s, 'Use 4000 points (worth 40.00) and take 60.00 by card from M1?');
    keys(s, 'y', 'Enter');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=0');
    expect(out).toMatch(/status\s+paid/);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 1060 });
    expect(t.ok(['order', 'list'])[0]).toMatchObject({ status: 'paid', pointsUsed: 4000, cashPaid: '60.00', tender: 'card' });
    expect(t.verify().ok).toBe(true);
  }, 300_000);

  it('the item picker shows a points-only item at its points price, a cash item at its price (trial 32)', async () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'ZGIFT', '--name', 'Gift', '--price', '39.00', '--pay', 'points', '--points-price', '3000']);
    // without a points price: its price at the redeem rate, as the checkout charges it (trial 39)
    t.ok(['catalog', 'add', '--sku', 'ZCPN', '--name', 'Off', '--price', '10.00', '--pay', 'points', '--kind', 'coupon', '--coupon-value', '10.00', '--coupon-days', '30']);
    const charged = t.ok(['checkout', 'quote', '--member', 'M1', '--item', 'ZCPN']).pointsUsed;
    const s = start(t, ['checkout', '--member', 'M1']);
    const screen = await waitFor(s, /ZGIFT/);
    expect(screen).toMatch(/ZGIFT\s+Gift\s+3000 points\s+\[points\]/);
    expect(screen).not.toMatch(/ZGIFT\s+Gift\s+39\.00/);
    expect(screen).toMatch(new RegExp(`ZCPN\\s+Off\\s+${charged} points\\s+\\[points, coupon\\]`));
    expect(screen).toMatch(/TEA\s+Tea\s+100\.00\s+\[mixed\]/);
    keys(s, 'C-c');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=130');
  }, 300_000);

  it('the line saying why no points can be chosen breaks at a space at 80 columns, never mid-word (trial 37)', async () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'ZGIFT', '--name', 'Gift', '--price', '39.00', '--pay', 'points', '--points-price', '3000']);
    const s = start(t, ['checkout', '--member', 'M1', '--item', 'ZGIFT', '--item', 'CUP'], { width: 80 });
    const screen = await waitFor(s, /Pay 10\.00 by/);
    const lines = screen.split('\n').map((l) => l.trimEnd());
    const at = lines.findIndex((l) => l.startsWith('no points beyond the 3000 of the points-only items'));
    expect(at, screen).toBeGreaterThan(-1);
    expect(lines[at]).toMatch(/ (other|no|here:)$/);
    expect(lines[at + 1]).toMatch(/^ {2}\S/);
    expect(lines.slice(at, at + 2).join(' ').replace(/\s+/g, ' ')).toContain('can be used here: no other item takes points');
    keys(s, 'C-c');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=130');
  }, 300_000);

  it('asks only for the points when member and items are given; saying no pays nothing', async () => {
    const t = shop();
    const s = start(t, ['checkout', '--member', 'M1', '--item', 'TEA', '--tender', 'cash']);
    await waitFor(s, 'points allowed: 0, or 1 to 5000 (minimum 0 per checkout, at most 5000, step 1)');
    await waitFor(s, 'Points to use (0, or 1 to 5000)');
    type(s, 'abc');
    await waitFor(s, 'not a whole number');
    keys(s, 'BSpace', 'BSpace', 'BSpace');
    type(s, '9999');
    await waitFor(s, 'the member has only 5000 available');
    keys(s, 'Enter'); // refused by validation: the prompt stays and shows the reason on its own line
    // Wait for that line: keys sent while the prompt validates would edit a line it then restores.
    await waitFor(s, /^> 9999 points requested but the member has only 5000 available/m);
    keys(s, 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    type(s, '5000');
    await waitFor(s, '→ 5000 points worth 50.00, cash 50.00');
    keys(s, 'Enter');
    await waitFor(s, 'Use 5000 points (worth 50.00) and take 50.00 by cash from M1?');
    keys(s, 'n', 'Enter');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=0');
    expect(t.ok(['order', 'list'])).toHaveLength(0);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 5000, held: 0 });
  }, 300_000);

  /** The figures a confirmation asked about, read back from the screen. */
  function confirmed(out: string) {
    const m = /Use (\d+) points \(worth ([\d.]+)\) and take ([\d.]+) by (\w+) from (\w+)\?/.exec(out);
    if (!m) throw new Error(`no confirmation on screen:\n${out}`);
    return { pointsUsed: Number(m[1]), pointsValue: m[2], cashPaid: m[3], tender: m[4], memberId: m[5] };
  }

  function mugShop(): TmpLedger {
    return sceneLedger('mugShop', (t) => {
      t.ok(['member', 'add', '--id', 'C102', '--name', 'Chen']);
      t.ok(['member', 'adjust', 'C102', '--points', '2500', '--reason', 'seed']);
      t.ok(['catalog', 'add', '--sku', 'MUG-01', '--name', 'Mug', '--price', '39.90']);
    });
  }

  it('--points 600: the confirmation shows 600 points, their value, the cash and the tender, and the order is that', async () => {
    const t = mugShop();
    const s = start(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '600']);
    await waitFor(s, 'Pay 33.90 by');
    keys(s, 'Enter'); // cash
    const shown = confirmed(await waitFor(s, /Use \d+ points .* from C102\?/));
    expect(shown).toEqual({ pointsUsed: 600, pointsValue: '6.00', cashPaid: '33.90', tender: 'cash', memberId: 'C102' });
    keys(s, 'y', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=0');
    const [o] = t.ok(['order', 'list']);
    expect(t.ok(['order', 'show', o.orderId])).toMatchObject({ status: 'paid', pointsUsed: shown.pointsUsed, pointsValue: shown.pointsValue, cashPaid: shown.cashPaid, tender: shown.tender, memberId: 'C102' });
  }, 300_000);

  it('--max-points --tender card: the confirmation shows the points the order then takes', async () => {
    const t = mugShop();
    const s = start(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--max-points', '--tender', 'card']);
    const shown = confirmed(await waitFor(s, /Use \d+ points .* from C102\?/));
    expect(shown).toEqual({ pointsUsed: 2500, pointsValue: '25.00', cashPaid: '14.90', tender: 'card', memberId: 'C102' });
    keys(s, 'y', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=0');
    const [o] = t.ok(['order', 'list']);
    expect(t.ok(['order', 'show', o.orderId])).toMatchObject({ pointsUsed: shown.pointsUsed, pointsValue: shown.pointsValue, cashPaid: shown.cashPaid, tender: 'card' });
    expect(t.ok(['member', 'show', 'C102'])).toMatchObject({ balance: 0 + o.pointsEarned });
  }, 300_000);

  it('a --points request that cannot be met is refused before anything is asked, naming what is allowed', async () => {
    const t = mugShop();
    const rules = join(t.dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ redeem: { pointsPerUnit: '100', minPoints: 200 } }));
    t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']);
    const s = start(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '150']);
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=3');
    expect(out).toContain('below the minimum of 200');
    expect(out).toContain('allowed: 0, or 200 to 2500');
    expect(out).not.toContain('Use ');
    expect(t.ok(['order', 'list'])).toHaveLength(0);
  }, 300_000);

  it('a refund on a terminal names the points returned, the cash refunded and the points taken back', async () => {
    const t = mugShop();
    const paid = t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '600', '--yes']);
    const s = start(t, ['order', 'refund', paid.orderId]);
    await waitFor(s, `Refund 1 × MUG-01 of ${paid.orderId} to C102: return 600 points to their lots, refund 33.90 cash, take back ${paid.pointsEarned} earned points?`);
    keys(s, 'y', 'Enter');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=0');
    // taken back is said as a count, not as a negative one
    expect(out).toMatch(new RegExp(`earned taken back\\s+${paid.pointsEarned}\\b`));
    expect(t.ok(['order', 'show', paid.orderId])).toMatchObject({ status: 'refunded', refundedPoints: 600, refundedCash: '33.90', refundedEarned: paid.pointsEarned });
  }, 300_000);

  it('Ctrl-C in a prompt exits 130 and writes nothing', async () => {
    const t = shop();
    const s = start(t, ['checkout', '--member', 'M1']);
    await waitFor(s, 'Items');
    keys(s, 'C-c');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=130');
    expect(out).toMatch(/^cancelled \(Ctrl-C\)$/m);
    expect(t.ok(['order', 'list'])).toHaveLength(0);
  }, 300_000);

  it('never prompts without a TTY: a missing argument is a usage error', () => {
    const t = shop();
    const r = t.run(['checkout', '--member', 'M1'], { env: { CI: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing --item');
  });
});
