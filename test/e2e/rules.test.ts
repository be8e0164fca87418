// rules apply|show|history: validation by JSON path, versions in force, defaults from init.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tmpLedger } from '../helpers/cli.js';

const file = (dir: string, name: string, doc: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
};

describe('rules apply', () => {
  it('refuses a document with problems, naming each JSON path, and stores nothing', () => {
    const t = tmpLedger();
    const history = t.ok(['rules', 'history']);
    expect(history).toHaveLength(1);
    const bad = file(t.dir, 'bad.json', {
      earn: { pointsPerUnit: 'x', rounding: 'up', multipliers: [{ category: 'tea', multiplier: '2', from: '2026-02-30' }] },
      tiers: [{ name: '' }],
      redeem: { maxRatio: 2 },
      expiry: { policy: 'sometimes' },
      extra: 1,
    });
    const r = t.run(['rules', 'apply', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const path of ['$.earn.pointsPerUnit', '$.earn.rounding', '$.earn.multipliers[0].from', '$.tiers[0].name', '$.redeem.maxRatio', '$.expiry.policy', '$.extra']) {
      expect(r.stderr).toContain(`${bad}: ${path}:`);
    }
    expect(r.stderr).toMatch(/nothing was stored/);
    const j = t.run(['rules', 'apply', bad, '--json']);
    expect(j.code).toBe(2);
    expect(j.stdout).toBe('');
    const e = JSON.parse(j.stderr.trim()).error;
    expect(e.code).toBe('INVALID_RULES');
    // one problem a line: a script splits the JSON message on line breaks; a person sees them under "error: "
    const problems = e.message.split('\n');
    expect(problems).toHaveLength(r.stderr.split('\n').filter((x) => x.includes(`${bad}: $.`)).length);
    for (const p of problems) expect(p.startsWith(`${bad}: $.`)).toBe(true);
    expect(r.stderr.split('\n').slice(1).filter((x) => x.includes(`${bad}: $.`)).every((x) => x.startsWith(`       ${bad}: $.`))).toBe(true);
    expect(t.ok(['rules', 'history'])).toEqual(history);
  });

  it('refuses invalid JSON, a missing file and a bad --effective with exit 2', () => {
    const t = tmpLedger();
    const broken = file(t.dir, 'broken.json', '{"earn": ');
    const r = t.run(['rules', 'apply', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(t.run(['rules', 'apply', join(t.dir, 'none.json')]).code).toBe(2);
    const ok = file(t.dir, 'ok.json', {});
    expect(t.run(['rules', 'apply', ok, '--effective', '2026-02-30']).code).toBe(2);
    expect(t.ok(['rules', 'history'])).toHaveLength(1);
  });

  it('stores a version in force from now by default, with every omitted field at init defaults', () => {
    const t = tmpLedger();
    const v2 = t.ok(['rules', 'apply', file(t.dir, 'v2.json', { redeem: { pointsPerUnit: '1000', minPoints: 50 }, expiry: { policy: 'never' } })]);
    expect(v2).toMatchObject({ version: 2, effectiveAt: '2026-11-23T02:00:00.000Z', inForce: true, operator: 'tester' });
    const v3 = t.ok(['rules', 'apply', file(t.dir, 'v3.json', { earn: { pointsPerUnit: 2 } })], { now: '2026-11-24T10:00:00+08:00' });
    // v3 says nothing about redeem or expiry: they are init's, not v2's.
    expect(v3.rules).toEqual({
      earn: { pointsPerUnit: '2', rounding: 'floor', minOrderAmount: '0.00', maxPointsPerOrder: null, multipliers: [] },
      tiers: [],
      redeem: { pointsPerUnit: '100', minPoints: 0, maxRatio: '1' },
      expiry: { policy: 'rolling-days', days: 365 },
      limits: { dailyEarnCap: null, reviewAbove: null, verifyPointsAbove: null, maxCheckoutsPerHour: null, maxRefundsPerDay: null, maxPointsSpentPerDay: null },
      activities: [],
    });
    const shown = t.ok(['rules', 'show'], { now: '2026-11-24T10:00:00+08:00' });
    expect(shown.version).toBe(3);
    expect(shown.rules).toEqual(v3.rules);
    const audit = (t.ok(['audit', 'list']) as { action: string }[]).filter((a) => a.action === 'rules.apply');
    expect(audit).toHaveLength(2);
  });

  it('gives new lots the expiry policy of the version in force when they are earned', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['rules', 'apply', file(t.dir, 'never.json', { expiry: { policy: 'never' } }), '--effective', '2026-12-01']);
    t.ok(['rules', 'apply', file(t.dir, 'eoy.json', { expiry: { policy: 'end-of-year', years: 1 } }), '--effective', '2027-01-01']);
    expect(t.ok(['member', 'adjust', 'a', '--points', '10', '--reason', 'r']).expiresOn).toBe('2027-11-23');
    expect(t.ok(['member', 'adjust', 'a', '--points', '10', '--reason', 'r'], { now: '2026-12-01T00:00:00+08:00' }).expiresOn).toBeNull();
    expect(t.ok(['member', 'adjust', 'a', '--points', '10', '--reason', 'r'], { now: '2027-03-01T12:00:00+08:00' }).expiresOn).toBe('2028-12-31');
    expect(t.verify().ok).toBe(true);
  });
});

describe('rules apply in force from the past', () => {
  it('says how many purchases and checkouts of that period earned already under earlier versions, and that they keep their points', () => {
    const t = tmpLedger({ timezone: 'UTC' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'tea', '--price', '50.00']);
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,M1,2026-01-05 10:00,100.00\nO2,M1,2026-03-05 10:00,100.00\n');
    t.ok(['import', 'purchases', csv], { now: '2026-04-01T00:00:00Z' });
    t.ok(['checkout', '--member', 'M1', '--item', 'TEA', '--no-points', '--yes'], { now: '2026-04-02T00:00:00Z' });
    const five = file(t.dir, 'five.json', { earn: { pointsPerUnit: '5' } });
    // from now: nothing earned before it
    expect(t.ok(['rules', 'apply', five], { now: '2026-04-03T00:00:00Z' }).earnedBefore).toEqual({ purchases: 0, orders: 0 });
    // from February: O2 and the checkout earned already, and keep their points
    const back = t.ok(['rules', 'apply', five, '--effective', '2026-02-01'], { now: '2026-04-03T00:00:00Z' });
    expect(back.earnedBefore).toEqual({ purchases: 1, orders: 1 });
    const person = t.run(['rules', 'apply', five, '--effective', '2026-01-01'], { now: '2026-04-03T00:00:00Z' });
    expect(person.code).toBe(0);
    expect(person.stderr).toContain('note: 2 imported purchases and 1 checkout dated from 2026-01-01 00:00 on were earned under the versions before it and keep their points');
    expect(person.stderr).toContain(`pointsmall rules simulate ${five} --from 2026-01-01`);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(250);
    expect(t.verify().ok).toBe(true);
  });
});

describe('rules show --at and rules history', () => {
  it('picks the version in force at a date; of two with the same effective time, the later applied wins', () => {
    const t = tmpLedger();
    t.ok(['rules', 'apply', file(t.dir, 'a.json', { earn: { pointsPerUnit: '2' } }), '--effective', '2026-12-01']);
    t.ok(['rules', 'apply', file(t.dir, 'b.json', { earn: { pointsPerUnit: '3' } }), '--effective', '2026-12-01'], { now: '2026-11-23T11:00:00+08:00' });
    t.ok(['rules', 'apply', file(t.dir, 'c.json', { earn: { pointsPerUnit: '4' } }), '--effective', '2026-11-25T12:00:00+08:00']);
    const at = (when: string) => {
      const r = t.ok(['rules', 'show', '--at', when]);
      return [r.version, r.rules.earn.pointsPerUnit];
    };
    expect(at('2026-11-24')).toEqual([1, '1']);
    expect(at('2026-11-25T11:59:59+08:00')).toEqual([1, '1']);
    expect(at('2026-11-25T12:00:00+08:00')).toEqual([4, '4']);
    expect(at('2026-11-30')).toEqual([4, '4']);
    // --effective 2026-12-01 is the start of that day in the ledger zone (Asia/Shanghai)
    expect(at('2026-11-30T23:59:59+08:00')).toEqual([4, '4']);
    expect(at('2026-12-01')).toEqual([3, '3']);
    expect(at('2027-06-01')).toEqual([3, '3']);
    expect(at('1999-01-01')).toEqual([1, '1']);
    expect(t.run(['rules', 'show', '--at', 'soon']).code).toBe(2);

    const h = t.ok(['rules', 'history']);
    expect(h.map((v: { version: number; effectiveAt: string; inForce: boolean }) => [v.version, v.effectiveAt, v.inForce])).toEqual([
      [1, '0001-01-01T00:00:00.000Z', true],
      [2, '2026-11-30T16:00:00.000Z', false],
      [3, '2026-11-30T16:00:00.000Z', false],
      [4, '2026-11-25T04:00:00.000Z', false],
    ]);
    const later = t.ok(['rules', 'history'], { now: '2026-12-02T00:00:00+08:00' });
    expect(later.filter((v: { inForce: boolean }) => v.inForce).map((v: { version: number }) => v.version)).toEqual([3]);
  });
});

describe('a tier renamed or dropped while members are pinned to it', () => {
  // found by an outside trial: renaming gold to vip left M008 pinned to a tier no rules define, earning with
  // no tier, while member show still said "gold (pinned)" and neither simulate nor apply said a word
  it('is named by rules simulate, rules apply and member show: those members earn with no tier until pinned again', () => {
    const t = tmpLedger();
    const doc = JSON.parse(readFileSync(join(FIXTURES, 'rules.json'), 'utf8'));
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json')], { now: '2026-01-01T00:00:00Z' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'Ann', '--tier', 'gold']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Bob']);
    const p = join(t.dir, 'p.csv');
    writeFileSync(p, 'order_id,member_id,purchased_at,amount\nA1,M1,2026-11-01 10:00,100.00\n');
    expect(t.ok(['import', 'purchases', p])).toMatchObject({ pointsAccrued: 150 });
    const renamed = file(t.dir, 'vip.json', { ...doc, tiers: [doc.tiers[0], { ...doc.tiers[1], name: 'vip' }] });
    const sim = t.ok(['rules', 'simulate', renamed]);
    expect(sim.pinnedTiersNotInDraft).toEqual([{ tier: 'gold', members: 1, memberIds: ['M1'] }]);
    // as it would earn: with no tier (100, not 150)
    expect(sim).toMatchObject({ actualPoints: 150, simulatedPoints: 100 });
    expect(t.run(['rules', 'simulate', renamed]).stdout).toContain('1 member is pinned to tier gold (M1), which the draft does not define: simulated with no tier');
    expect(t.ok(['rules', 'simulate', join(FIXTURES, 'rules.json')]).pinnedTiersNotInDraft).toEqual([]);
    const applied = t.run(['rules', 'apply', renamed, '--yes']);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain('note: 1 member is pinned to tier gold (M1), which version 3 does not define');
    expect(applied.stderr).toContain('pin each again, to one of silver, vip: pointsmall member update M1 --tier TIER');
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ tier: 'gold', pinnedTier: 'gold', pinnedTierMissing: true });
    expect(t.ok(['member', 'show', 'M2'])).toMatchObject({ pinnedTierMissing: false });
    expect(t.run(['member', 'show', 'M1']).stdout).toMatch(/tier\s+gold \(pinned; not in the rules in force: earns with no tier\)/);
    // pinned again: nothing to say
    t.ok(['member', 'update', 'M1', '--tier', 'vip']);
    expect(t.ok(['member', 'show', 'M1'])).toMatchObject({ tier: 'vip', pinnedTierMissing: false });
    expect(t.ok(['rules', 'apply', renamed]).pinnedTiersNotInRules).toEqual([]);
  });
});

describe('a multiplier whose name the ledger has nowhere', () => {
  it('is stored, with a note on stderr naming the name it likely meant (case or spacing only) and the field in --json', () => {
    const t = tmpLedger();
    const doc = JSON.parse(readFileSync(join(FIXTURES, 'rules.json'), 'utf8'));
    const p = join(t.dir, 'p.csv');
    writeFileSync(p, 'order_id,member_id,purchased_at,sku,category,quantity,unit_price\nA1,M1,2026-11-01 10:00,GT-1,green tea,1,10.00\n');
    expect(t.ok(['import', 'purchases', p, '--create-members'])).toMatchObject({ accepted: 1 });
    const draft = file(t.dir, 'gt.json', { ...doc, earn: { ...doc.earn, multipliers: [{ category: 'Green Tea', multiplier: '2' }, { sku: 'gt-1', multiplier: '3' }, { category: 'garden', multiplier: '2' }] } });
    const r = t.run(['rules', 'apply', draft, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const said = r.stderr.replace(/\s+/g, ' ');
    expect(said).toContain('note: the multiplier of category "Green Tea" matches nothing yet; the ledger has category "green tea", which differs only in case, spacing or look-alike characters: a multiplier matches its name exactly');
    expect(said).toContain(`write "green tea" in ${draft} and apply it again, if that is the one meant`);
    expect(said).toContain('note: the multiplier of SKU "gt-1" matches nothing yet; the ledger has SKU "GT-1"');
    expect(said).toContain('note: the multiplier of category "garden" matches nothing yet; no category of that name is in the catalog or any line bought so far');
    expect(t.ok(['rules', 'apply', draft]).multipliersNamingNothing).toEqual([
      { on: 'category', value: 'Green Tea', near: ['green tea'] },
      { on: 'sku', value: 'gt-1', near: ['GT-1'] },
      { on: 'category', value: 'garden', near: [] },
    ]);
    // names in bought lines that print like the multiplier's: a full-width SKU, a no-break space, shown escaped
    const q = join(t.dir, 'q.csv');
    writeFileSync(q, 'order_id,member_id,purchased_at,sku,category,quantity,unit_price\nB1,M1,2026-11-02 10:00,ＴＥＡ-002,Oolong\u00a0Tea,1,10.00\n');
    expect(t.ok(['import', 'purchases', q])).toMatchObject({ accepted: 1 });
    const look = file(t.dir, 'look.json', { ...doc, earn: { ...doc.earn, multipliers: [{ sku: 'TEA-002', multiplier: '2' }, { category: 'Oolong Tea', multiplier: '2' }] } });
    const sim = t.ok(['rules', 'simulate', look]);
    expect(sim.multipliersNamingNothing).toEqual([
      { on: 'sku', value: 'TEA-002', near: ['ＴＥＡ-002'] },
      { on: 'category', value: 'Oolong Tea', near: ['Oolong\u00a0Tea'] },
    ]);
    expect(t.run(['rules', 'apply', look, '--yes']).stderr.replace(/\s+/g, ' ')).toContain('the ledger has category "Oolong\\u00a0Tea"');
    // the names as the ledger has them: nothing to say
    const mended = file(t.dir, 'gt2.json', { ...doc, earn: { ...doc.earn, multipliers: [{ category: 'green tea', multiplier: '2' }, { sku: 'GT-1', multiplier: '3' }] } });
    const quiet = t.run(['rules', 'apply', mended, '--yes']);
    expect(quiet.stderr).not.toContain('matches nothing');
    expect(t.ok(['rules', 'apply', mended]).multipliersNamingNothing).toEqual([]);
  });
});
