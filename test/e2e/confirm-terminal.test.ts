// On a real terminal (tmux), destructive commands ask a question that names their amounts (SPEC §7), and
// answering no changes nothing. Skips cleanly where tmux is missing.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PG, sceneLedger, type TmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, start, waitFor } from '../helpers/tmux.js';

afterEach(endSessions);

describe.skipIf(!hasTmux)('questions on a terminal name the amounts', () => {
  function shop(file = false): TmpLedger {
    return sceneLedger('shop', (t) => {
      t.ok(['member', 'add', '--id', 'a', '--name', 'Ann']);
      t.ok(['member', 'adjust', 'a', '--points', '300', '--reason', 'seed']);
    }, { file });
  }

  it('keys typed before a question is drawn never answer it: the debit and the checkout are asked again, and say so (trial 32)', async () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '20.00']);
    for (const [args, question] of [
      [['member', 'adjust', 'a', '--points', '-100', '--reason', 'typeahead'], /Take 100 points from a/],
      [['checkout', '--member', 'a', '--item', 'TEA', '--points', '200', '--tender', 'card'], /Use 200 points/],
    ] as const) {
      // the command starts only once "y" Enter wait in the terminal: typed before anything was shown
      const flag = join(t.dir, `go-${args[0]}`);
      const s = start(t, [...args], { before: `while [ ! -e '${flag}' ]; do sleep 0.05; done` });
      keys(s, 'y', 'Enter');
      writeFileSync(flag, '');
      await waitFor(s, question);
      const asked = await waitFor(s, '(y/N)');
      expect(asked).toContain('typed before the question was shown: ignored; answer it now');
      keys(s, 'n', 'Enter');
      const out = await waitFor(s, 'EXIT=');
      expect(out).toContain('EXIT=0');
    }
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
    expect(t.ok(['order', 'list'])).toEqual([]);
  }, 300_000);

  it('checkout confirm of a checkout started without --tender asks how the cash part is paid, and the question and the order say it (trial 32)', async () => {
    const t = shop();
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '20.00']);
    const id = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--points', '200']).checkoutId as string;
    // an Enter typed before the choice is drawn does not pick the first tender (trial 32)
    const flag = join(t.dir, 'go-confirm');
    const s = start(t, ['checkout', 'confirm', id], { before: `while [ ! -e '${flag}' ]; do sleep 0.05; done` });
    keys(s, 'Enter');
    writeFileSync(flag, '');
    const chooser = await waitFor(s, 'Pay 18.00 by');
    expect(chooser).toContain('typed before the question was shown: ignored');
    keys(s, 'Down', 'Enter'); // cash, card, …: card
    await waitFor(s, /Use 200 points \(worth 2\.00\) and take 18\.00 by card/);
    keys(s, 'y', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=0');
    expect(t.ok(['order', 'show', id])).toMatchObject({ status: 'paid', tender: 'card', cashPaid: '18.00' });
  }, 300_000);

  it('db restore says what the live ledger has that the backup lacks; no keeps the ledger', async () => {
    const t = shop(true); // restore replaces a SQLite file (a PostgreSQL ledger moves with db copy)
    const backup = join(t.dir, 'backup.db');
    t.ok(['db', 'backup', backup]);
    t.ok(['member', 'adjust', 'a', '--points', '20', '--reason', 'after the backup'], { now: '2026-11-23T11:30:00+08:00' });
    t.ok(['member', 'adjust', 'a', '--points', '22', '--reason', 'after the backup'], { now: '2026-11-23T11:45:00+08:00' });
    const s = start(t, ['db', 'restore', backup]);
    // (wrapped at the terminal's width: any space may be a line break)
    const words = (text: string) => new RegExp(text.split(' ').map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('\\s+'));
    await waitFor(s, words('the live ledger has what the backup lacks: 2 entries, 2 audit records (the newest entry written 2026-11-23 11:45 Asia/Shanghai); the old file is kept aside'));
    await waitFor(s, words('and take those out of the ledger?'));
    keys(s, 'n', 'Enter');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('nothing was restored');
    expect(out).toContain('EXIT=0');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(342);
  }, 300_000);

  // Trial 40: what init --force erased was counted before it held the ledger; another till's writes after
  // the question were erased too, unsaid.
  it('init --force: a write by another process between the question and its yes refuses the erase (exit 3), nothing erased', async () => {
    const t = shop();
    const s = start(t, ['init', '--force', '--timezone', 'Asia/Shanghai'], { env: { TZ: 'UTC' } });
    await waitFor(s, 'and start a new ledger in CNY, Asia/Shanghai?');
    t.ok(['member', 'add', '--id', 'b', '--name', 'Bo']);
    keys(s, 'y', 'Enter');
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('EXIT=3');
    expect(out.replace(/\s+/g, ' ')).toContain('changed since the erase was confirmed: it now holds 1 entry and 2 members');
    expect(t.ok(['member', 'list'])).toHaveLength(2);
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
    // a change that adds no entry nor member (a rename: trial 40b) is seen too
    const again = start(t, ['init', '--force', '--timezone', 'Asia/Shanghai'], { env: { TZ: 'UTC' } });
    await waitFor(again, 'and start a new ledger in CNY, Asia/Shanghai?');
    t.ok(['member', 'update', 'b', '--name', 'Bob']);
    keys(again, 'y', 'Enter');
    expect(await waitFor(again, 'EXIT=')).toContain('EXIT=3');
    expect(t.ok(['member', 'show', 'b']).name).toBe('Bob');
  }, 300_000);

  it('init --force names what it erases (entries, members, head); no is the default and erases nothing', async () => {
    const t = shop();
    const head = t.verify().entries;
    const s = start(t, ['init', '--force'], { env: { TZ: 'UTC' } });
    await waitFor(s, new RegExp(`is a ledger with ${head} entr(y|ies) and 1 member \\(head #\\d+, [0-9a-f]{8}\\)`));
    // the new ledger would take the defaults, not this one's currency and zone: said before the question (trial 32)
    await waitFor(s, /this ledger is in CNY, Asia\/Shanghai; the new one would be in CNY, UTC: to keep them, answer no and run\s+pointsmall init --force --currency CNY --timezone Asia\/Shanghai/);
    await waitFor(s, 'and start a new ledger in CNY, UTC?');
    // the copy it keeps, by the ledger's own name (trial 30: LEDGER.before-init-TIME); PostgreSQL keeps none
    await waitFor(s, PG ? 'nothing of it is kept: run pointsmall db backup FILE first' : `a copy is kept aside beside it, as ${basename(t.db)}.before-init-<time>`);
    keys(s, 'Enter'); // the default: no
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('nothing was erased');
    expect(out).toContain('EXIT=0');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
    const again = start(t, ['init', '--force', '--timezone', 'Asia/Shanghai'], { env: { TZ: 'UTC' } });
    const asked = await waitFor(again, 'and start a new ledger in CNY, Asia/Shanghai?');
    expect(asked).not.toContain('this ledger is in');
    keys(again, 'y', 'Enter');
    expect(await waitFor(again, 'EXIT=')).toContain('ledger created');
    expect(t.ok(['member', 'list'])).toEqual([]);
    // given --db, the command that keeps them names it too (trial 32: without it, it erased ./pointsmall.db)
    const named = start(t, ['init', '--force', '--db', t.db], { env: { TZ: 'UTC' } });
    await waitFor(named, new RegExp(`answer no and run\\s+pointsmall\\s+init\\s+--force\\s+--db\\s+${t.db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+--currency\\s+CNY\\s+--timezone\\s+Asia/Shanghai`));
    await waitFor(named, 'and start a new ledger in CNY, UTC?'); // (an answer typed before the question is dropped)
    keys(named, 'Enter');
    expect(await waitFor(named, 'EXIT=')).toContain('nothing was erased');
  }, 300_000);

  it('a debit names the points and the available balance before and after; yes takes them', async () => {
    const t = shop();
    const s = start(t, ['member', 'adjust', 'a', '--points', '-120', '--reason', 'fix']);
    await waitFor(s, 'Take 120 points from a (Ann; available 300 → 180), reason "fix"?');
    keys(s, 'y', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=0');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(180);
  }, 300_000);

  // Trial 40: a debit beyond the available points was offered ("available 1050 → -950"), then refused after yes.
  it('a debit of more than is available is refused at once (exit 3), with no question', async () => {
    const t = shop();
    const s = start(t, ['member', 'adjust', 'a', '--points', '-500', '--reason', 'oops']);
    const out = await waitFor(s, 'EXIT=');
    expect(out).not.toContain('(y/N)');
    expect(out).toContain('member a has 300 points available, 500 needed');
    expect(out).toContain('EXIT=3');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
  }, 300_000);

  it('a past expiry run names what it expires; no expires nothing', async () => {
    const t = shop();
    t.ok(['member', 'adjust', 'a', '--points', '50', '--reason', 'old'], { now: '2024-01-01T10:00:00+08:00' }); // expires 2024-12-31
    const s = start(t, ['expire', 'run', '--as-of', '2026-01-01']);
    await waitFor(s, /Expire 50 points from 1 lot of 1 member as of 2026-01-01, a past date \(today is 2026-11-23\)/);
    keys(s, 'n', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('nothing was expired');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(350);
    // as of a date when nothing had lapsed: nothing to ask about (trial 32: "Expire 0 points …?")
    const none = start(t, ['expire', 'run', '--as-of', '2024-06-01']);
    const out = await waitFor(none, 'EXIT=');
    expect(out).not.toContain('(y/N)');
    expect(out).toContain('EXIT=0');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(350);
  }, 300_000);

  it('--json on a terminal is a script: no question, exit 2 without --yes', async () => {
    const t = shop();
    const s = start(t, ['member', 'adjust', 'a', '--points', '-1', '--reason', 'fix', '--json']);
    const out = await waitFor(s, 'EXIT=');
    expect(out).toContain('CONFIRMATION_REQUIRED');
    expect(out).toContain('EXIT=2');
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
  }, 300_000);
});
