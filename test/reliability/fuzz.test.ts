// Hostile input: malformed CSVs, injection in ids and names, odd --out paths and random argv for every
// command. Never exit 1, never a stack trace, never a partial write (ledger verify and row counts).
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliAsync, tmpLedger, type TmpLedger } from '../helpers/cli.js';
import { expectClean, fingerprint, hasCommand } from './checks.js';

const LONG = process.env.POINTSMALL_LONG === '1';
export const fuzzStats = { argvCases: 0, csvCases: 0, injectionCases: 0 };

const HOSTILE = [
  '', ' ', '0', '-0', '-1', '1e5', '1e400', 'NaN', 'Infinity', '-Infinity', '100000000000000000000', '0x10', '1.005', '12,5', '9007199254740993',
  '2026-02-30', '2026-13-01', '0000-00-00', '9999-12-31', '2026-11-23T25:00', 'yesterday',
  "'; DROP TABLE members;--", '" OR 1=1 --', '\u001b[2J\u001b[31mred', '\u0007\u0008', '=HYPERLINK("http://evil")', '+1', '@SUM(A1)', '-2+3',
  'x'.repeat(5000), '测试', '🙂', '%s%n%x', '$(touch pwned)', '`id`', '--', '-', 'SKU-1:0', 'SKU-1:-1', 'SKU-1:1e3', 'SKU-1:2', 'm1', 'm2', 'ghost',
  '../outside.csv', 'nope/dir/file.csv', '/dev/null', '.', 'existing.csv', 'purchases.csv', 'rules.json', 'members.csv',
  'csv', 'json', 'jsonl', 'table', 'day', 'balance', '30d', '0d', '-5d', 'mixed', 'points', 'cash', 'coupon', 'cash', 'card',
];

interface CommandSpec {
  path: string[];
  options: string[];
}

async function discover(): Promise<CommandSpec[]> {
  // at most four `--help` processes at a time: all of them at once (a hundred) swamped a busy two-core
  // machine past the hook's timeout
  let running = 0;
  const waiting: (() => void)[] = [];
  const help = async (args: string[]) => {
    while (running >= 4) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await runCliAsync([...args, '--help']);
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
  const commandsOf = (text: string) => {
    const i = text.indexOf('Commands:');
    if (i < 0) return [] as string[];
    // the section ends at its first blank line (the exit codes after it are indented too: "  0 done …")
    const lines = text.slice(i).split('\n').slice(1);
    const end = lines.findIndex((l) => l.trim() === '');
    return (end < 0 ? lines : lines.slice(0, end))
      .map((l) => /^  (\w[\w-]*)/.exec(l)?.[1])
      .filter((x): x is string => Boolean(x) && x !== 'help');
  };
  const optionsOf = (text: string) => [...text.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]).filter((o) => o !== '--help');
  const top = commandsOf((await help([])).stdout);
  const specs: CommandSpec[] = [];
  await Promise.all(
    top.map(async (g) => {
      const h = (await help([g])).stdout;
      const subs = commandsOf(h);
      if (!subs.length) specs.push({ path: [g], options: optionsOf(h) });
      await Promise.all(
        subs.map(async (s) => {
          const hs = (await help([g, s])).stdout;
          const subsubs = commandsOf(hs);
          specs.push({ path: [g, s], options: optionsOf(hs) });
          for (const x of subsubs) specs.push({ path: [g, s, x], options: optionsOf((await help([g, s, x])).stdout) });
        }),
      );
    }),
  );
  return specs.sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')));
}

function seedLedger(t: TmpLedger): void {
  writeFileSync(join(t.dir, 'members.csv'), 'id,name,phone\nm1,Ann,13800000001\nm2,Bob,\n');
  t.run(['member', 'import', join(t.dir, 'members.csv')]);
  t.run(['member', 'adjust', 'm1', '--points', '5000', '--reason', 'seed']);
  t.run(['catalog', 'add', '--sku', 'SKU-1', '--name', 'Tea', '--price', '100.00', '--stock', '50']);
  writeFileSync(join(t.dir, 'purchases.csv'), 'order_id,member_id,purchased_at,amount\nA1,m1,2026-11-01,120.50\nA2,m2,2026-11-02 09:30,80\n');
  t.run(['import', 'purchases', join(t.dir, 'purchases.csv')]);
  writeFileSync(join(t.dir, 'existing.csv'), 'keep,me\n');
  writeFileSync(join(t.dir, 'rules.json'), JSON.stringify({ earn: { pointsPerUnit: '2' }, expiry: { policy: 'rolling-days', days: 30 } }));
}

describe('fuzz', () => {
  let specs: CommandSpec[] = [];
  beforeAll(async () => {
    specs = await discover();
  }, 600_000);
  afterAll(() => process.stderr.write(`reliability figures (fuzz): ${JSON.stringify({ commands: specs.length, ...fuzzStats })}\n`));

  it('random argv for every command: a clean exit, no stack trace, nothing written on failure', async () => {
    expect(specs.length).toBeGreaterThan(10);
    const lanes = 4;
    const ledgers = Array.from({ length: lanes }, () => {
      const t = tmpLedger();
      seedLedger(t);
      return t;
    });
    const argvArb = fc
      .tuple(
        fc.constantFrom(...specs),
        fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 }).map((s) => s.replace(/\u0000/g, ''))), { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 6 }),
        fc.boolean(),
      )
      .map(([spec, values, picks, json]) => {
        const argv = [...spec.path];
        values.forEach((v, i) => {
          // --debug asks for stack traces (SPEC §2): it is the one flag whose output may carry one
          const opts = [...spec.options.filter((o) => o !== '--debug'), '--yes', '--debug-not-a-flag'];
          if (picks[i] !== undefined && picks[i] % 3 !== 0) argv.push(opts[picks[i] % opts.length]);
          argv.push(v);
        });
        // Never point a random command at another ledger file, and never erase this one.
        const clean = argv.filter((a, i) => a !== '--db' && a !== '--force' && argv[i - 1] !== '--db');
        if (json) clean.push('--json');
        return clean;
      });
    const cases = fc.sample(argvArb, { numRuns: LONG ? 3000 : 40, seed: 20261123 });
    const queue = [...cases];
    await Promise.all(
      ledgers.map(async (t) => {
        for (let argv = queue.shift(); argv; argv = queue.shift()) {
          const before = fingerprint(t.db);
          const r = await runCliAsync(argv, { db: t.db, cwd: t.dir });
          fuzzStats.argvCases++;
          const what = `pointsmall ${JSON.stringify(argv)}`;
          expectClean(r, what);
          if (argv.includes('--json') && r.code !== 0 && r.code !== 4 && r.code !== 6) {
            expect(r.stdout, what).toBe('');
            expect(() => JSON.parse(r.stderr.trim().split('\n').pop()!), `${what}: ${r.stderr}`).not.toThrow();
          }
          if (r.code !== 0 && r.code !== 4) expect(fingerprint(t.db), `${what} failed (exit ${r.code}) but changed the ledger`).toBe(before);
        }
      }),
    );
    for (const t of ledgers) {
      expect(t.verify().ok).toBe(true);
      expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(existsSync(join(t.dir, 'pwned'))).toBe(false);
    }
  }, 300_000);

  const CSV_CASES: [string, string | Buffer][] = [
    ['unbalanced quote', 'order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,"10\nB2,m1,2026-11-01,5\n'],
    ['huge field', `order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,${'9'.repeat(200_000)}\n`],
    ['huge id', `order_id,member_id,purchased_at,amount\n${'X'.repeat(100_000)},m1,2026-11-01,5\n`],
    ['NUL bytes', 'order_id,member_id,purchased_at,amount\nB1,m\u00001,2026-11-01,5\nB2\u0000,m1,2026-11-01,5\n'],
    ['latin1 bytes read as utf8', Buffer.from('order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,5\nB2,m\xe9\xff,2026-11-01,5\n', 'latin1')],
    ['UTF-16 file', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,5\n', 'utf16le')])],
    ['10^20 amount', 'order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,100000000000000000000\n'],
    ['NaN, 1e5, -0, Infinity', 'order_id,member_id,purchased_at,amount\nB1,m1,2026-11-01,NaN\nB2,m1,2026-11-01,1e5\nB3,m1,2026-11-01,-0\nB4,m1,2026-11-01,Infinity\nB5,m1,2026-11-01,0x10\n'],
    ['impossible dates', 'order_id,member_id,purchased_at,amount\nB1,m1,2026-02-30,5\nB2,m1,2026-13-01,5\nB3,m1,2026-11-01T24:61,5\nB4,m1,,5\n'],
    ['injection in ids', "order_id,member_id,purchased_at,amount\n'; DROP TABLE entries;--,m1,2026-11-01,5\n=cmd|' /C calc'!A0,m1,2026-11-01,5\n\u001b[2J,m1,2026-11-01,5\n"],
    ['wrong header', 'foo,bar\n1,2\n'],
    ['header only', 'order_id,member_id,purchased_at,amount\n'],
    ['empty file', ''],
    ['binary junk', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
    ['ragged rows', 'order_id,member_id,purchased_at,amount\nB1,m1\nB2,m1,2026-11-01,5,extra,extra\n'],
    ['CRLF and BOM', '\uFEFForder_id,member_id,purchased_at,amount\r\nB1,m1,2026-11-01,5\r\n'],
  ];

  it('malformed purchase CSVs: exit 0, 2 or 4, never a partial batch', async () => {
    const t = tmpLedger();
    seedLedger(t);
    const imports = hasCommand('import', 'purchases');
    const member = join(t.dir, 'member-cases');
    mkdirSync(member);
    for (const [ci, [name, body]] of CSV_CASES.entries()) {
      for (const kind of imports ? ['purchases', ...(LONG || ci % 3 === 0 ? ['members', 'catalog'] : [])] : ['members', 'catalog']) {
        const file = join(t.dir, `${kind}-${name.replace(/\W+/g, '_')}.csv`);
        // Member and catalog imports get the same hostile bodies with their own header.
        let text = body;
        if (kind === 'members' && typeof body === 'string') text = body.replace('order_id,member_id,purchased_at,amount', 'id,name,phone,email');
        if (kind === 'catalog' && typeof body === 'string') text = body.replace('order_id,member_id,purchased_at,amount', 'sku,name,price,stock');
        writeFileSync(file, text);
        const before = fingerprint(t.db);
        const args = kind === 'members' ? ['member', 'import', file] : kind === 'catalog' ? ['catalog', 'import', file] : ['import', 'purchases', file];
        const r = t.run([...args, '--json']);
        fuzzStats.csvCases++;
        const what = `${kind} import, ${name}`;
        expectClean(r, what);
        expect([0, 2, 4], `${what}: ${r.stderr}`).toContain(r.code);
        if (r.code === 2) expect(fingerprint(t.db), `${what} failed but changed the ledger`).toBe(before);
        if (r.code === 4) expect(existsSync(file.replace(/\.csv$/, '.rejects.csv')), `${what}: rejects file`).toBe(true);
      }
      // The same bytes read with the wrong declared encoding or delimiter.
      if (imports && ci % 4 === 0)
        for (const extra of [['--encoding', 'gbk'], ['--encoding', 'latin1'], ['--delimiter', ';']]) {
          const file = join(t.dir, `enc-${ci}.csv`);
          writeFileSync(file, body);
          const before = fingerprint(t.db);
          const r = t.run(['import', 'purchases', file, ...extra, '--source', `enc${ci}${extra[1]}`, '--json']);
          fuzzStats.csvCases++;
          const what = `purchase import ${extra.join(' ')}, ${name}`;
          expectClean(r, what);
          expect([0, 2, 4], `${what}: ${r.stderr}`).toContain(r.code);
          if (r.code === 2) expect(fingerprint(t.db), `${what} failed but changed the ledger`).toBe(before);
        }
    }
    expect(t.verify().ok).toBe(true);
  }, 300_000);

  it('injection in ids and names stays data: SQL inert, escapes stripped on screen, formulas escaped in CSV', async () => {
    const t = tmpLedger();
    const evil = ["'; DROP TABLE members;--", '=HYPERLINK("http://evil","x")', '+SUM(1)', '@cmd', '-1+2', '\u001b]0;pwned\u0007\u001b[2Jname'];
    evil.forEach((name, i) => {
      const r = t.run(['member', 'add', '--id', `${name.slice(0, 20)}#${i}`, '--name', name, '--json']);
      fuzzStats.injectionCases++;
      expectClean(r, name);
    });
    const list = t.run(['member', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain('\u001b');
    expect(list.stdout).not.toContain('\u0007');
    const ids = (t.ok(['member', 'list']) as { id: string }[]).map((m) => m.id);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const adj = t.run(['member', 'adjust', '--points', '10', '--reason', '=1+1', '--json', '--', id]);
      expect(adj.code, adj.stderr).toBe(0);
      const show = t.run(['member', 'show', '--', id]);
      expect(show.stdout).not.toContain('\u001b');
    }
    // Every CSV this tool writes neutralises formulas.
    const outs: string[] = [];
    const exp = join(t.dir, 'entries.csv');
    if (t.run(['ledger', 'export', '--format', 'csv', '--out', exp]).code === 0) outs.push(exp);
    for (const rep of ['members', 'summary', 'activity']) {
      const f = join(t.dir, `report-${rep}.csv`);
      const r = t.run(['report', rep, '--format', 'csv', '--out', f]);
      if (r.code === 0) outs.push(f);
    }
    expect(outs.length).toBeGreaterThan(0);
    const { parse } = await import('csv-parse/sync');
    for (const f of outs) {
      const rows = parse(readFileSync(f, 'utf8'), { relax_column_count: true }) as string[][];
      for (const row of rows) for (const cell of row) expect((/^[=+@\t\r]/.test(cell) && !/^\+\d[\d ]*$/.test(cell)) || (/^-/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell)), `${f}: cell ${JSON.stringify(cell)}`).toBe(false);
    }
    expect(t.verify().ok).toBe(true);
    expect(fingerprint(t.db)).toMatch(/members=/);
  });

  it('--out into a missing folder or onto a folder fails cleanly; onto an existing file replaces it whole', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const targets = [
      ['ledger', 'export', '--format', 'csv'],
      ['report', 'summary', '--format', 'csv'],
      ['report', 'liability', '--format', 'json'],
      ['outbox', 'export', '--format', 'jsonl'],
    ].filter((a) => hasCommand(a[0], a[1]));
    expect(targets.length).toBeGreaterThan(0);
    for (const args of targets) {
      const missing = join(t.dir, 'no', 'such', 'folder', 'x.out');
      const r1 = t.run([...args, '--out', missing]);
      expectClean(r1, `${args.join(' ')} --out missing`);
      expect(r1.code).toBe(2);
      expect(existsSync(join(t.dir, 'no'))).toBe(false);
      const r2 = t.run([...args, '--out', t.dir]);
      expectClean(r2, `${args.join(' ')} --out folder`);
      expect(r2.code).toBe(2);
      const existing = join(t.dir, 'existing.out');
      writeFileSync(existing, 'x'.repeat(100_000));
      const r3 = t.run([...args, '--out', existing]);
      expectClean(r3, `${args.join(' ')} --out existing`);
      if (r3.code === 0) expect(readFileSync(existing, 'utf8')).not.toContain('x'.repeat(1000));
      else expect(readFileSync(existing, 'utf8')).toBe('x'.repeat(100_000));
    }
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
