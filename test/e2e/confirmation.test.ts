// What is confirmed is what is done (SPEC §4.3, §7): points requests used exactly or refused with what is allowed,
// an explicit --yes where nobody can be asked, one failure contract, hints that name real commands, one meaning of tier.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, sceneLedger, tmpLedger, type TmpLedger, PG } from '../helpers/cli.js';

/** Each test gets its own copy of the shop for these redeem rules, built once per file. */
function shop(redeem: Record<string, unknown> = {}): TmpLedger {
  return sceneLedger(`shop ${JSON.stringify(redeem)}`, (t) => {
    if (Object.keys(redeem).length) {
      const rules = join(t.dir, 'rules.json');
      writeFileSync(rules, JSON.stringify({ redeem: { pointsPerUnit: '100', ...redeem } }));
      t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']);
    }
    t.ok(['member', 'add', '--id', 'C102', '--name', 'Chen']);
    t.ok(['member', 'adjust', 'C102', '--points', '5000', '--reason', 'seed']);
    t.ok(['catalog', 'add', '--sku', 'MUG-01', '--name', 'Mug', '--price', '39.90']);
    t.ok(['catalog', 'add', '--sku', 'CUP', '--name', 'Cup', '--price', '10.00', '--pay', 'cash']);
    t.ok(['catalog', 'add', '--sku', 'GIFT', '--name', 'Gift box', '--price', '30.00', '--pay', 'points', '--points-price', '3000']);
  });
}

/** Runs with --json, expects the exit and error code, an empty stdout and one error line; returns the error. */
function fails(t: TmpLedger, args: string[], exit: number, code: string, env: Record<string, string | undefined> = {}) {
  const r = t.run([...args, '--json'], { env });
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  const err = JSON.parse(lines[0]).error;
  expect(err.code).toBe(code);
  return err as { code: string; message: string; hint?: string };
}

const entries = (t: TmpLedger) => t.ok(['ledger', 'entries', '--limit', '100000']).length;

describe('a points request is used exactly or refused (SPEC §4.3)', () => {
  it('--points under redeem.minPoints is refused naming the minimum, maximum and step, not turned into 0', () => {
    const t = shop({ pointsPerUnit: '1000', minPoints: 200 });
    const before = entries(t);
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '150', '--yes'], 3, 'POINTS_NOT_ALLOWED');
    expect(err.message).toContain('below the minimum of 200');
    expect(err.message).toContain('allowed: 0, or 200 to 5000 in steps of 10');
    expect(err.hint).toContain('--max-points');
    expect(fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '205', '--yes'], 3, 'POINTS_NOT_ALLOWED').message).toContain('not a whole number of steps of 10');
    expect(entries(t)).toBe(before);
    const paid = t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '200', '--yes']);
    expect(paid).toMatchObject({ pointsUsed: 200, pointsValue: '0.20', cashPaid: '39.70' });
  });

  it('--points on a cash-only item is refused, not ignored', () => {
    const t = shop();
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'CUP', '--points', '500', '--yes'], 3, 'POINTS_NOT_ALLOWED');
    expect(err.message).toContain('more than these items can take (at most 0)');
    expect(err.message).toContain('no points can be used here: these items take no points (they are paid in cash)');
    expect(t.ok(['order', 'list'])).toEqual([]);
  });

  it('a request above what the items can take is refused, not cut down', () => {
    const t = shop({ maxRatio: '0.5' });
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '2500', '--yes'], 3, 'POINTS_NOT_ALLOWED');
    expect(err.message).toContain('at most 1995');
    expect(err.message).toContain('allowed: 0, or 1 to 1995');
    expect(t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '1995', '--yes'])).toMatchObject({ pointsUsed: 1995, cashPaid: '19.95' });
  });

  it('--max-points below redeem.minPoints uses none and says so; the quote shows minPoints, the maximum and the step', () => {
    const t = shop({ minPoints: 6000 });
    const q = t.ok(['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01', '--max-points']);
    expect(q).toMatchObject({ pointsUsed: 0, minPoints: 6000, maxUsablePoints: 0, pointsStep: 1, allowedPoints: { required: 0, min: null, max: 0, step: 1 } });
    expect(q.note).toContain('the most usable (3990) is below the minimum of 6000');
    const r = t.run(['checkout', '--member', 'C102', '--item', 'MUG-01', '--max-points', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ pointsUsed: 0, cashPaid: '39.90' });
    expect(r.stderr).toContain('note: no points used on the mixed items');
    const human = t.run(['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01']);
    // the same plain words as a refused checkout, never "only 0"
    const plain = 'no points can be used here: at most 3990 could be used, below the minimum of 6000 points per checkout';
    expect(q.allowedText).toBe(plain);
    expect(human.stdout).toMatch(new RegExp(`^points allowed\\s+${plain}$`, 'm'));
    expect(human.stdout).not.toContain('only 0');
    const refused = fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '100', '--yes'], 3, 'POINTS_NOT_ALLOWED');
    expect(refused.message).toContain(`; ${plain}`);
  });

  it('the quote names what --points may be before anything is typed', () => {
    const t = shop({ pointsPerUnit: '1000', minPoints: 200 });
    const q = t.ok(['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01']);
    expect(q).toMatchObject({ minPoints: 200, maxUsablePoints: 5000, pointsStep: 10, allowedPoints: { required: 0, min: 200, max: 5000, step: 10 }, allowedText: '0, or 200 to 5000 in steps of 10', note: null });
    const human = t.run(['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01']).stdout;
    expect(human).toMatch(/points allowed\s+0, or 200 to 5000 in steps of 10 \(minimum 200 per checkout, at most 5000, step 10\)/);
  });
});

describe('--no-points and points-only items (issue 21 item 4)', () => {
  it('help says such a checkout is refused, it is, and the quote shows why', () => {
    const t = shop();
    const help = t.run(['checkout', '--help']).stdout;
    expect(help).toMatch(/--no-points\s+pay everything in cash \(refused when an item\s+can only be paid in points\)/);
    expect(help).not.toContain('still need their points');
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'GIFT', '--item', 'MUG-01', '--no-points', '--yes'], 3, 'POINTS_ONLY_UNCOVERED');
    expect(err.message).toContain('GIFT can only be paid in points (3000 points), and --no-points was given');
    fails(t, ['checkout', 'quote', '--member', 'C102', '--item', 'GIFT', '--no-points'], 3, 'POINTS_ONLY_UNCOVERED');
    const q = t.ok(['checkout', 'quote', '--member', 'C102', '--item', 'GIFT', '--item', 'MUG-01']);
    expect(q).toMatchObject({ requiredPoints: 3000, pointsUsed: 3000, allowedPoints: { required: 3000, min: 3001, max: 5000 } });
    expect(q.lines.find((l: { sku: string }) => l.sku === 'GIFT')).toMatchObject({ pay: 'points', requiredPoints: 3000 });
    expect(t.run(['checkout', 'quote', '--member', 'C102', '--item', 'GIFT']).stdout).toMatch(/points-only\s+GIFT takes 3000 points whatever is asked \(so --no-points is refused\)/);
    // the minimum is of the points on the mixed items, as the refusal of too few says (trial 40)
    expect(t.run(['checkout', 'quote', '--member', 'C102', '--item', 'GIFT', '--item', 'MUG-01']).stdout).toMatch(/^points allowed\t3000 \(the points-only items\), or 3001 to 5000 \(minimum \d+ on the mixed items, /m);
  });
});

describe('an explicit yes where nobody can be asked (SPEC §7)', () => {
  const noTty = [
    { CI: '1' }, // the helper's default: CI set
    { CI: undefined }, // no CI, but stdin/stdout are pipes
  ];

  it('one-shot checkout, confirm, refund, a debit, a restore and a past expiry run refuse with exit 2 and "pass --yes", writing nothing', () => {
    const t = shop();
    const backup = join(t.dir, 'backup.db');
    t.ok(['db', 'backup', backup]);
    const paid = t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '600', '--yes']);
    const held = t.ok(['checkout', 'start', '--member', 'C102', '--item', 'MUG-01', '--points', '100']);
    const before = entries(t);
    for (const env of noTty) {
      for (const args of [
        ['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '600'],
        ['checkout', 'confirm', held.checkoutId],
        ['order', 'refund', paid.orderId],
        ['member', 'adjust', 'C102', '--points', '-5', '--reason', 'fix'],
        ['db', 'restore', backup],
        ['expire', 'run', '--as-of', '2026-11-01'],
      ]) {
        if (PG && args[1] === 'restore') {
          // a PostgreSQL ledger is never restored over: said first, as a yes would not change it
          expect(fails(t, args, 2, 'USAGE', env).message).toContain('db restore replaces a SQLite ledger file');
          continue;
        }
        const err = fails(t, args, 2, 'CONFIRMATION_REQUIRED', env);
        expect(err.hint).toBe('pass --yes to go ahead');
        if (env.CI === undefined) continue;
        const human = t.run(args, { env });
        expect(human.code).toBe(2);
        expect(human.stdout).toBe('');
        expect(human.stderr).toContain('needs an explicit yes');
        expect(human.stderr).toContain('hint: pass --yes');
      }
    }
    expect(entries(t)).toBe(before);
    expect(t.ok(['order', 'show', held.checkoutId]).status).toBe('held');
    expect(t.ok(['order', 'show', paid.orderId]).status).toBe('paid');
    expect(t.verify().ok).toBe(true);
  });

  it('db restore of a file that is no backup says so first, without --yes too: a yes would not make it one', () => {
    const t = shop();
    const csv = join(t.dir, 'sales.csv');
    writeFileSync(csv, 'order_id,member_id\n');
    for (const env of noTty) {
      expect(fails(t, ['db', 'restore', join(t.dir, 'missing.db')], 2, 'USAGE', env).message).toMatch(PG ? /db restore replaces a SQLite ledger file/ : /^no backup at /);
      if (!PG) expect(fails(t, ['db', 'restore', csv], 2, 'NOT_A_LEDGER', env).message).toContain('sales.csv is not a pointsmall ledger (not an SQLite database)');
    }
  });

  it('what needs no yes: credits, today\'s or a future expiry run (that one with --force), dry runs, quotes and starts', () => {
    const t = shop();
    expect(t.run(['member', 'adjust', 'C102', '--points', '5', '--reason', 'gift', '--json']).code).toBe(0);
    expect(t.run(['expire', 'run', '--json']).code).toBe(0);
    expect(t.run(['expire', 'run', '--as-of', '2026-11-23', '--json']).code).toBe(0);
    // a future one needs no yes but --force (it expires points still usable today)
    const ahead = t.run(['expire', 'run', '--as-of', '2026-12-01', '--json']);
    expect(ahead.code).toBe(2);
    expect(JSON.parse(ahead.stderr).error.code).toBe('FUTURE_AS_OF');
    expect(t.run(['expire', 'run', '--as-of', '2026-12-01', '--force', '--json']).code).toBe(0);
    expect(t.run(['expire', 'run', '--as-of', '2026-01-01', '--dry-run', '--json']).code).toBe(0);
    expect(t.run(['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01', '--json']).code).toBe(0);
    expect(t.run(['checkout', 'start', '--member', 'C102', '--item', 'MUG-01', '--json']).code).toBe(0);
  });

  it('with --yes each of them goes ahead', () => {
    const t = shop();
    const backup = join(t.dir, 'backup.db');
    t.ok(['db', 'backup', backup]);
    const paid = t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--points', '600', '--yes']);
    const held = t.ok(['checkout', 'start', '--member', 'C102', '--item', 'MUG-01', '--points', '100']);
    expect(t.ok(['checkout', 'confirm', held.checkoutId, '--yes']).status).toBe('paid');
    expect(t.ok(['order', 'refund', paid.orderId, '--yes']).status).toBe('refunded');
    expect(t.ok(['member', 'adjust', 'C102', '--points', '-5', '--reason', 'fix', '--yes']).points).toBe(-5);
    expect(t.ok(['expire', 'run', '--as-of', '2026-11-01', '--yes']).asOf).toBe('2026-11-01');
    if (PG) {
      // a PostgreSQL ledger is not restored over (db copy moves it): refused with the way, whatever --yes says
      expect(t.run(['db', 'restore', backup, '--yes']).code).toBe(2);
      return;
    }
    expect(t.ok(['db', 'restore', backup, '--yes']).entries).toBeGreaterThan(0);
    expect(t.ok(['member', 'show', 'C102']).balance).toBe(5000);
  });
});

describe('one failure contract', () => {
  it('a JSON error carries the hint the human output gives', () => {
    const t = shop();
    const err = fails(t, ['checkout', '--member', 'NOPE', '--item', 'MUG-01', '--yes'], 2, 'NOT_FOUND');
    expect(err.hint).toBe('list members with: pointsmall member list');
    expect(t.run(['checkout', '--member', 'NOPE', '--item', 'MUG-01', '--yes']).stderr).toContain('hint: list members with: pointsmall member list');
  });

  it('an unknown coupon code is exit 2 like an unknown member or SKU; a known one of another member stays a refusal', () => {
    const t = shop();
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--coupon', 'CPN-NOPE-NOPE', '--yes'], 2, 'NOT_FOUND');
    expect(err.message).toContain('coupon "CPN-NOPE-NOPE" not found');
    expect(fails(t, ['checkout', 'quote', '--member', 'C102', '--item', 'MUG-01', '--coupon', 'CPN-NOPE-NOPE'], 2, 'NOT_FOUND').hint).toContain('pointsmall coupon list --member C102');
  });

  it('the inactive-item hint is a command that works', () => {
    const t = shop();
    t.ok(['catalog', 'deactivate', 'MUG-01']);
    const err = fails(t, ['checkout', '--member', 'C102', '--item', 'MUG-01', '--yes'], 3, 'ITEM_INACTIVE');
    expect(err.hint).toBe('put it back on sale with: pointsmall catalog activate MUG-01');
    expect(t.run(err.hint!.replace(/^.*pointsmall /, '').split(' ')).code).toBe(0);
    expect(t.ok(['checkout', '--member', 'C102', '--item', 'MUG-01', '--yes']).status).toBe('paid');
  });

  it('every command a hint or message names exists, with the flags it names', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
      }
    };
    walk(join(ROOT, 'src'));
    const named = new Map<string, Set<string>>(); // "group sub" → flags named with it
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/pointsmall ([a-z]+)(?: ([a-z][a-z-]*))?((?: (?:--[a-z-]+|[A-Z$][^ '`"),]*))*)/g)) {
        const key = [m[1], m[2]].filter(Boolean).join(' ');
        const set = named.get(key) ?? new Set<string>();
        for (const flag of (m[3] ?? '').matchAll(/--[a-z-]+/g)) set.add(flag[0]);
        named.set(key, set);
      }
    }
    // Groups and their subcommands as the program lists them; words after a group that has none are prose.
    const commandsOf = (args: string[]) => {
      const help = runCli([...args, '--help']).stdout;
      const section = help.split(/^Commands:$/m)[1] ?? '';
      return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]));
    };
    const groups = commandsOf([]);
    const subs = new Map<string, Set<string>>();
    let checked = 0;
    for (const [key, flags] of named) {
      const [group, sub] = key.split(' ');
      if (!groups.has(group)) continue; // "pointsmall process", "pointsmall needs": prose
      if (!subs.has(group)) subs.set(group, commandsOf([group]));
      const known = subs.get(group)!;
      const path = known.size && sub ? [group, sub] : [group];
      if (known.size && sub) expect(known.has(sub), `pointsmall ${group} has no subcommand ${sub}`).toBe(true);
      if (!flags.size) continue;
      const r = runCli([...path, '--help']);
      expect(r.code, `pointsmall ${path.join(' ')} --help: ${r.stderr}`).toBe(0);
      for (const flag of flags) if (flag !== '--db' && flag !== '--json') expect(r.stdout, `pointsmall ${path.join(' ')} ${flag}`).toContain(flag);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  }, 300_000);
});

describe('"tier" means one thing', () => {
  it('member show, member list and report members say the tier the member has now; --tier finds who earned it', () => {
    const t = tmpLedger();
    const rules = join(t.dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ tiers: [{ name: 'silver', minLifetimePoints: 0, multiplier: '1' }, { name: 'vip', minLifetimePoints: 1000, multiplier: '1' }] }));
    t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']);
    t.ok(['member', 'add', '--id', 'a', '--name', 'Earned VIP']);
    t.ok(['member', 'add', '--id', 'b', '--name', 'Pinned VIP', '--tier', 'vip']);
    t.ok(['member', 'add', '--id', 'c', '--name', 'Silver']);
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-11-01 10:00,1500.00\nO2,c,2026-11-01 11:00,10.00\n');
    t.ok(['import', 'purchases', csv]);
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ tier: 'vip', pinnedTier: null });
    expect(t.ok(['member', 'show', 'b'])).toMatchObject({ tier: 'vip', pinnedTier: 'vip' });
    const list = t.ok(['member', 'list']);
    expect(list.map((m: { id: string; tier: string; pinnedTier: string | null }) => [m.id, m.tier, m.pinnedTier])).toEqual([
      ['a', 'vip', null],
      ['b', 'vip', 'vip'],
      ['c', 'silver', null],
    ]);
    expect(t.ok(['member', 'list', '--tier', 'vip']).map((m: { id: string }) => m.id)).toEqual(['a', 'b']);
    expect(t.ok(['member', 'list', '--tier', 'silver']).map((m: { id: string }) => m.id)).toEqual(['c']);
    expect(t.ok(['member', 'list', '--tier', 'vip', '--limit', '1']).map((m: { id: string }) => m.id)).toEqual(['a']);
    const report = t.ok(['report', 'members', '--by', 'earned']);
    const rows = (report.members as { id: string; tier: string; pinnedTier: string | null }[]).map((m) => [m.id, m.tier, m.pinnedTier]).sort();
    expect(rows).toEqual([
      ['a', 'vip', null],
      ['b', 'vip', 'vip'],
      ['c', 'silver', null],
    ]);
    const period = t.ok(['report', 'members', '--by', 'earned', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(period.members.find((m: { id: string }) => m.id === 'a')).toMatchObject({ tier: 'vip', pinnedTier: null });
  });
});
