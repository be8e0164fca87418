// member add|update|list|show|history|adjust|freeze|unfreeze through the built bin.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, sceneLedger, tmpLedger } from '../helpers/cli.js';

const auditCount = (t: ReturnType<typeof tmpLedger>) => (t.ok(['audit', 'list', '--limit', '100000']) as unknown[]).length;

describe('member add and update', () => {
  it('adds a member and lists it', () => {
    const t = tmpLedger();
    const m = t.ok(['member', 'add', '--id', 'M001', '--name', 'Li Lei', '--phone', '+86 138 0000 0000', '--email', 'li@example.com']);
    expect(m).toMatchObject({ id: 'M001', name: 'Li Lei', phone: '+86 138 0000 0000', email: 'li@example.com', status: 'active', balance: 0 });
    expect(t.ok(['member', 'list'])).toEqual([
      { id: 'M001', name: 'Li Lei', tier: null, pinnedTier: null, status: 'active', balance: 0, held: 0, available: 0, lifetimeEarned: 0, phone: '+86 138 0000 0000', email: 'li@example.com' },
    ]);
  });

  it('refuses a duplicate id with exit 2 and writes nothing', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'First']);
    const before = auditCount(t);
    const r = t.run(['member', 'add', '--id', 'a', '--name', 'Second']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/member "a" already exists/);
    expect(auditCount(t)).toBe(before);
    expect(t.ok(['member', 'show', 'a']).name).toBe('First');
  });

  it('refuses bad fields with exit 2, naming the field, and a missing --id without prompting', () => {
    const t = tmpLedger();
    const bad = t.run(['member', 'add', '--id', 'b', '--name', 'B', '--email', 'not-an-email']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--email/);
    const missing = t.run(['member', 'add', '--name', 'B']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--id/);
    const tier = t.run(['member', 'add', '--id', 'b', '--name', 'B', '--tier', 'gold']);
    expect(tier.code).toBe(2);
    expect(tier.stderr).toMatch(/tier "gold"/);
    expect(t.ok(['member', 'list'])).toEqual([]);
  });

  it('updates fields and refuses an unknown member', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A', '--phone', '12345']);
    const u = t.ok(['member', 'update', 'a', '--name', 'Alice', '--phone', '']);
    expect(u).toMatchObject({ id: 'a', name: 'Alice', phone: null });
    expect(t.run(['member', 'update', 'zz', '--name', 'Z']).code).toBe(2);
    expect(t.run(['member', 'update', 'a']).code).toBe(2); // nothing to change
  });
});

describe('member adjust', () => {
  it('credits and debits points with a reason, creating and spending lots', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const credit = t.ok(['member', 'adjust', 'a', '--points', '500', '--reason', 'welcome']);
    expect(credit).toMatchObject({ memberId: 'a', points: 500, reason: 'welcome', balance: 500, available: 500, expiresOn: '2027-11-23' });
    const debit = t.ok(['member', 'adjust', 'a', '--points', '-200', '--reason', 'correction', '--yes'], { now: '2026-11-24T10:00:00+08:00' });
    expect(debit).toMatchObject({ points: -200, balance: 300, available: 300, expiresOn: null });
    expect(t.verify().ok).toBe(true);
  });

  it('refuses a debit beyond the available balance with exit 3 and writes nothing', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'adjust', 'a', '--points', '100', '--reason', 'r']);
    const audit = auditCount(t);
    const entries = t.ok(['ledger', 'entries']).length;
    const r = t.run(['member', 'adjust', 'a', '--points', '-101', '--reason', 'too much', '--yes']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/100 points available, 101 needed/);
    expect(auditCount(t)).toBe(audit);
    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    expect(t.ok(['member', 'show', 'a'])).toMatchObject({ balance: 100, available: 100 });
    expect(t.verify().ok).toBe(true);
  });

  it('requires --reason (exit 2) and a whole non-zero number of points', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const noReason = t.run(['member', 'adjust', 'a', '--points', '100']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    expect(t.run(['member', 'adjust', 'a', '--points', '100', '--reason', '  ']).code).toBe(2);
    expect(t.run(['member', 'adjust', 'a', '--points', '0', '--reason', 'x']).code).toBe(2);
    expect(t.run(['member', 'adjust', 'a', '--points', '1e3', '--reason', 'x']).code).toBe(2);
    expect(t.run(['member', 'adjust', 'nobody', '--points', '5', '--reason', 'x']).code).toBe(2);
    expect(t.ok(['ledger', 'entries'])).toEqual([]);
  });
});

describe('member show', () => {
  it('has every field SPEC names, with lots in spending order and only those with points left', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'adjust', 'a', '--points', '100', '--reason', 'one'], { now: '2026-01-10T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'a', '--points', '250', '--reason', 'two'], { now: '2026-03-05T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'a', '--points', '-130', '--reason', 'spend', '--yes'], { now: '2026-04-01T10:00:00+08:00' });
    const m = t.ok(['member', 'show', 'a']);
    for (const k of ['id', 'name', 'tier', 'status', 'balance', 'held', 'available', 'lifetimeEarned', 'lots']) expect(m).toHaveProperty(k);
    expect(m).toMatchObject({ id: 'a', name: 'A', tier: null, status: 'active', balance: 220, held: 0, available: 220, lifetimeEarned: 0 });
    // The first lot (expiring first) was emptied and is not shown; 30 came from the second.
    expect(m.lots).toEqual([{ points: 250, remaining: 220, held: 0, earnedAt: '2026-03-05T02:00:00.000Z', expiresOn: '2027-03-05', expired: false }]);
    for (const l of m.lots) expect(Object.keys(l).sort()).toEqual(expect.arrayContaining(['earnedAt', 'expiresOn', 'points', 'remaining']));
  });

  it('prints a readable view without --json', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'Alice']);
    t.ok(['member', 'adjust', 'a', '--points', '42', '--reason', 'r']);
    const r = t.run(['member', 'show', 'a']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Alice/);
    expect(r.stdout).toMatch(/42/);
    expect(r.stdout).toMatch(/2027-11-23/);
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour when piped
  });
});

describe('freeze and unfreeze', () => {
  it('freezes with a reason and unfreezes; repeating either is refused with exit 3', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    expect(t.run(['member', 'freeze', 'a']).code).toBe(2); // --reason required
    const f = t.ok(['member', 'freeze', 'a', '--reason', 'chargeback']);
    expect(f).toMatchObject({ status: 'frozen', frozenReason: 'chargeback' });
    expect(t.ok(['member', 'list', '--status', 'frozen']).map((m: { id: string }) => m.id)).toEqual(['a']);
    expect(t.ok(['member', 'list', '--status', 'active'])).toEqual([]);
    expect(t.run(['member', 'freeze', 'a', '--reason', 'again']).code).toBe(3);
    const u = t.ok(['member', 'unfreeze', 'a']);
    expect(u).toMatchObject({ status: 'active', frozenReason: null });
    expect(t.run(['member', 'unfreeze', 'a']).code).toBe(3);
    expect(t.run(['member', 'freeze', 'nobody', '--reason', 'x']).code).toBe(2);
    const actions = (t.ok(['audit', 'list']) as { action: string }[]).map((x) => x.action);
    expect(actions.filter((a) => a === 'member.freeze' || a === 'member.unfreeze')).toEqual(['member.unfreeze', 'member.freeze']);
  });
});

describe('member history', () => {
  it('is a statement with a running balance, filtered by inclusive local dates', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'add', '--id', 'b', '--name', 'B']);
    t.ok(['member', 'adjust', 'a', '--points', '500', '--reason', 'one'], { now: '2026-11-01T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'b', '--points', '999', '--reason', 'other member'], { now: '2026-11-02T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'a', '--points', '-200', '--reason', 'two', '--yes'], { now: '2026-11-10T23:30:00+08:00' });
    t.ok(['member', 'adjust', 'a', '--points', '100', '--reason', 'three'], { now: '2026-11-20T10:00:00+08:00' });
    const h = t.ok(['member', 'history', 'a']);
    expect(h.openingBalance).toBe(0);
    expect(h.closingBalance).toBe(400);
    expect(h.lines.map((l: { points: number; balance: number; memo: string }) => [l.points, l.balance, l.memo])).toEqual([
      [500, 500, 'one'],
      [-200, 300, 'two'],
      [100, 400, 'three'],
    ]);
    // 23:30 in Shanghai on the 10th is the 10th there, though it is the 10th 15:30 UTC.
    const w = t.ok(['member', 'history', 'a', '--from', '2026-11-10', '--to', '2026-11-10']);
    expect(w.openingBalance).toBe(500);
    expect(w.lines.map((l: { points: number; balance: number }) => [l.points, l.balance])).toEqual([[-200, 300]]);
    expect(w.closingBalance).toBe(300);
    expect(t.run(['member', 'history', 'a', '--from', '2026-02-30']).code).toBe(2);
    expect(t.run(['member', 'history', 'nobody']).code).toBe(2);
  });
});

describe('member import of some columns', () => {
  /** Each test gets its own copy of M1 pinned gold, set up once per file. */
  function withGold() {
    return sceneLedger('withGold', (t) => {
      t.ok(['rules', 'apply', `${FIXTURES}/rules.json`]);
      t.ok(['member', 'add', '--id', 'M1', '--name', 'a', '--phone', '13800000001', '--email', 'a@example.com', '--tier', 'gold']);
    });
  }
  const file = (t: ReturnType<typeof tmpLedger>, name: string, text: string) => {
    const p = join(t.dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('leaves the fields of columns absent from the file as they are (contact data, the pinned tier)', () => {
    const t = withGold();
    const same = t.ok(['member', 'import', file(t, 't1.csv', 'id,name\nM1,a\n')]);
    expect(same).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const renamed = t.ok(['member', 'import', file(t, 't2.csv', 'id,name\nM1,b\n')]);
    expect(renamed).toMatchObject({ updated: 1 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ name: 'b', phone: '13800000001', email: 'a@example.com', tier: 'gold', pinnedTier: 'gold' });
    t.ok(['member', 'import', file(t, 't3.csv', 'id,name,email\nM1,b,new@example.com\n')]);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ name: 'b', phone: '13800000001', email: 'new@example.com', pinnedTier: 'gold' });
  });

  it('records which fields an import changed for each member', () => {
    const t = withGold();
    t.ok(['member', 'import', file(t, 't.csv', 'id,name,email\nM1,b,new@example.com\n')]);
    const audit = t.ok(['audit', 'list', '--limit', '10']) as { action: string; subject: string; detail: Record<string, unknown> }[];
    const update = audit.find((a) => a.action === 'member.update' && a.subject === 'M1');
    expect(update?.detail).toMatchObject({ changed: ['name', 'email'], before: { name: 'a', email: 'a@example.com' }, after: { name: 'b', email: 'new@example.com' } });
    expect(Object.keys(update?.detail.after as object).sort()).toEqual(['email', 'name']);
  });

  it('an unknown tier\'s reason says which tiers there are, or that the rules define none (trial 39)', () => {
    const t = withGold();
    const r = t.run(['member', 'import', file(t, 'u.csv', 'id,name,tier\nM2,b,platinum\n'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error.message).toContain('tier: tier "platinum" is not in the rules in force (use one of: silver, gold)');
    const bare = tmpLedger();
    const r2 = bare.run(['member', 'import', file(bare, 'u.csv', 'id,name,tier\nM2,b,gold\nM3,c,\n')]);
    expect(r2.code).toBe(4);
    expect(r2.stderr).toContain('tier: tier "gold" is not in the rules in force (the rules in force define no tiers: apply a rules version that does (pointsmall rules apply FILE.json), or leave the tier empty)');
  });

  it('clears a field whose column is present with an empty cell (an empty tier unpins)', () => {
    const t = withGold();
    t.ok(['member', 'import', file(t, 't.csv', 'id,name,phone,tier\nM1,a,,\n')]);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ phone: null, email: 'a@example.com', pinnedTier: null });
  });

  it('creates a new member from a file of some columns with the others empty', () => {
    const t = withGold();
    expect(t.ok(['member', 'import', file(t, 'n.csv', 'id,name\nM2,c\n')])).toMatchObject({ created: 1 });
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ name: 'c', phone: null, email: null, pinnedTier: null });
  });
});

describe('member CSV round trip (list --out, then import)', () => {
  it('takes off the one quote the export put before a formula-like cell: names unchanged, nothing updated', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', '=SUM(A1)']);
    t.ok(['member', 'add', '--id', 'M2', '--name', '-Li', '--phone', '+8613800138000']);
    t.ok(['member', 'add', '--id', 'M3', '--name', "'hello"]);
    const out = join(t.dir, 'members.csv');
    t.ok(['member', 'list', '--out', out]);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain("'=SUM(A1)"); // the export still guards the spreadsheet
    expect(text).toContain("'-Li");
    const before = t.ok(['member', 'list']);
    const auditBefore = t.ok(['audit', 'list', '--limit', '100']).length;
    for (let i = 0; i < 2; i++) {
      expect(t.ok(['member', 'import', out])).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
      expect(t.ok(['member', 'list'])).toEqual(before);
      t.ok(['member', 'list', '--out', out]);
    }
    const audit = t.ok(['audit', 'list', '--limit', '100']) as { action: string }[];
    expect(audit.filter((a) => a.action === 'member.update')).toEqual([]);
    expect(audit.length).toBe(auditBefore + 2); // the two member.import records
    expect(t.ok(['member', 'show', 'M1']).name).toBe('=SUM(A1)');
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ name: '-Li', phone: '+8613800138000' });
    expect(t.ok(['member', 'show', 'M3']).name).toBe("'hello");
  });

  it('says which columns it did not read: an edited balance or status changes nothing, and the note says how they change (trial 39)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann']);
    t.ok(['member', 'adjust', 'M1', '--points', '100', '--reason', 'seed']);
    const out = join(t.dir, 'members.csv');
    t.ok(['member', 'list', '--out', out]);
    const [head, row] = readFileSync(out, 'utf8').trim().split('\n');
    const cols = head.split(',');
    expect(cols).toEqual(expect.arrayContaining(['id', 'name', 'status', 'balance']));
    const cells = row.split(',');
    cells[cols.indexOf('balance')] = '99999';
    cells[cols.indexOf('status')] = 'frozen';
    writeFileSync(out, `${head}\n${cells.join(',')}\n`);
    const notRead = cols.filter((x) => !['id', 'name', 'phone', 'email', 'tier'].includes(x));
    expect(t.ok(['member', 'import', out])).toMatchObject({ unchanged: 1, columnsNotRead: notRead });
    const human = t.run(['member', 'import', out]);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(`note: ${notRead.length} columns not read: ${notRead.join(', ')} (member import reads id, name, phone, email and tier; balances change only by pointsmall member adjust, status by member freeze and unfreeze)`);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ balance: 100, status: 'active' });
    // a file of the columns it reads says nothing of the kind
    writeFileSync(out, 'id,name\nM1,Ann\n');
    expect(t.run(['member', 'import', out]).stderr).not.toContain('not read');
  });

  it('writes phone and email into a CSV in member import\'s order, so an edited export keeps everyone\'s contact (trial 42b)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann', '--phone', '+8613800138000', '--email', 'ann@example.com']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bo']);
    const out = join(t.dir, 'members.csv');
    t.ok(['member', 'list', '--out', out]);
    const [head, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(head).toBe('id,name,phone,email,tier,status,balance,held,available');
    expect(rows).toEqual(['M1,Ann,+8613800138000,ann@example.com,,active,0,0,0', 'M2,Bo,,,,active,0,0,0']);
    writeFileSync(out, [head, rows[0].replace('Ann,', 'Ann Li,'), rows[1]].join('\n') + '\n');
    expect(t.ok(['member', 'import', out])).toMatchObject({ updated: 1, unchanged: 1 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ name: 'Ann Li', phone: '+8613800138000', email: 'ann@example.com' });
    // the pipe keeps its columns (scripts cut them by place)
    expect(t.run(['member', 'list']).stdout.split('\n')[0]).toBe('id\tname\ttier\tstatus\tbalance\theld\tavailable');
  });

  it('pins nobody: a tier column naming the tier a member has earned is no change, so promotions go on', () => {
    const t = tmpLedger();
    t.ok(['rules', 'apply', `${FIXTURES}/rules.json`, '--effective', '2020-01-01']);
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Earned']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Pinned', '--tier', 'gold']);
    const out = join(t.dir, 'members.csv');
    t.ok(['member', 'list', '--out', out]);
    expect(readFileSync(out, 'utf8')).toContain('M1,Earned,,,silver,');
    expect(t.ok(['member', 'import', out])).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ tier: 'silver', pinnedTier: null });
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ tier: 'gold', pinnedTier: 'gold' });
    // M1 still earns its way to gold: 10,000 lifetime points, then the gold multiplier
    const p = join(t.dir, 'p.csv');
    writeFileSync(p, 'order_id,member_id,purchased_at,amount\nX1,M1,2026-11-01 10:00,10000.00\nX2,M1,2026-11-02 10:00,1000.00\n');
    expect(t.ok(['import', 'purchases', p])).toMatchObject({ pointsAccrued: 10000 + 1500 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ tier: 'gold', pinnedTier: null });
    // a tier other than the earned one still pins it
    writeFileSync(out, 'id,name,tier\nM1,Earned,silver\n');
    expect(t.ok(['member', 'import', out])).toMatchObject({ updated: 1 });
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ tier: 'silver', pinnedTier: 'silver' });
  });

  it("takes off one quote only before a formula character: 'hello, ''=x and a lone quote stay as written", () => {
    const t = tmpLedger();
    const f = join(t.dir, 'q.csv');
    writeFileSync(f, "id,name\nM1,'hello\nM2,''=x\nM3,'@home\nM4,'\n");
    expect(t.ok(['member', 'import', f])).toMatchObject({ created: 4 });
    const names = Object.fromEntries((t.ok(['member', 'list']) as { id: string; name: string }[]).map((m) => [m.id, m.name]));
    expect(names).toEqual({ M1: "'hello", M2: "''=x", M3: '@home', M4: "'" });
  });
});
