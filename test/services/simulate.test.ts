// `rules simulate` against real temp ledgers: imported purchases (lines, returns, voids) earned again
// under a draft, read through the store; the ledger is left as it was.
import '../helpers/fc-seed.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awardActivity } from '../../src/services/activities.js';
import { importPurchases } from '../../src/services/importPurchases.js';
import { type Ctx, withLedger } from '../../src/services/ledger.js';
import { applyRules } from '../../src/services/rules.js';
import { simulateRules } from '../../src/services/simulate.js';
import { voidPurchase } from '../../src/services/voids.js';
import { members } from '../../src/store/members.js';
import { ledgerRuns, tmpDir } from '../helpers/cli.js';
import { ledgerFingerprint, tmpCtx } from '../helpers/store.js';

async function ledger(doc: unknown): Promise<{ ctx: Ctx; dir: string; rules: string }> {
  const ctx = await tmpCtx();
  await withLedger(ctx, (l) =>
    l.store.write(() => {
      for (const id of ['M1', 'M2', 'M3']) l.store.get(members).insert({ id, name: id, phone: null, email: null, tier: id === 'M3' ? 'gold' : null }, l.nowIso);
    }),
  );
  const dir = tmpDir();
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify(doc));
  await applyRules(ctx, rules, '2000-01-01');
  return { ctx, dir, rules };
}

const HEAD = 'order_id,member_id,purchased_at,sku,category,quantity,unit_price\n';

describe('rules simulate (services)', () => {
  it('compares a draft with what the imported lines earned, by category, and leaves the ledger untouched (a file byte for byte, a database row for row)', async () => {
    const { ctx, dir } = await ledger({});
    writeFileSync(join(dir, 'p.csv'), HEAD + 'A,M1,2026-11-01 10:00,TEA-1,tea,2,50.00\nA,M1,2026-11-01 10:00,CUP-1,home,1,20.00\nB,M2,2026-11-02 10:00,CUP-1,home,1,30.00\n');
    await importPurchases(ctx, { file: join(dir, 'p.csv') });
    const draft = join(dir, 'draft.json');
    writeFileSync(draft, JSON.stringify({ earn: { multipliers: [{ category: 'tea', multiplier: '2' }] } }));
    const before = ledgerFingerprint(ctx.dbPath);
    const r = await simulateRules(ctx, { file: draft, by: 'category' });
    expect(ledgerFingerprint(ctx.dbPath)).toBe(before);
    expect(r).toMatchObject({ orders: 2, actualPoints: 150, simulatedPoints: 250, difference: 100, membersGaining: 1, membersLosing: 0, valueDifference: '1.00' });
    expect(r.groups).toEqual([
      { key: 'tea', orders: 1, actualPoints: 100, simulatedPoints: 200, difference: 100 },
      { key: 'home', orders: 2, actualPoints: 50, simulatedPoints: 50, difference: 0 },
    ]);
    // --from/--to select by purchase date in the ledger's zone
    expect(await simulateRules(ctx, { file: draft, from: '2026-11-02', to: '2026-11-02' })).toMatchObject({ orders: 1, actualPoints: 30, difference: 0 });
  });

  it('property: the rules in force, given as the draft, simulate to a zero difference on any imported ledger', async () => {
    const doc = fc.record(
      {
        earn: fc.record({ pointsPerUnit: fc.constantFrom('1', '0.5', '2'), minOrderAmount: fc.constantFrom('0', '30.00'), maxPointsPerOrder: fc.constantFrom(null, 120), multipliers: fc.constantFrom([], [{ category: 'tea', multiplier: '2' }], [{ sku: 'B', multiplier: '1.5' }]) }, { requiredKeys: [] }),
        tiers: fc.constantFrom([], [{ name: 'gold', minLifetimePoints: 100, multiplier: '2' }]),
        limits: fc.record({ dailyEarnCap: fc.constantFrom(null, 150) }),
      },
      { requiredKeys: [] },
    );
    const line = fc.record({ o: fc.integer({ min: 1, max: 12 }), q: fc.integer({ min: -1, max: 4 }), p: fc.integer({ min: 1, max: 9000 }), sku: fc.constantFrom('A', 'B', 'C'), cat: fc.constantFrom('tea', 'home', '') });
    await fc.assert(
      fc.asyncProperty(doc, fc.array(line, { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 2 }), fc.array(fc.record({ m: fc.integer({ min: 1, max: 3 }), day: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }), fc.constantFrom(undefined, '2026-11-02', '2026-11-03'), async (d, lines, voids, awards, from) => {
        // activity awards count in lifetime points (tiers), before and inside the period
        const { ctx, dir, rules } = await ledger({ ...d, activities: [{ name: 'bonus', points: 90 }] });
        for (const [i, a] of awards.entries()) await awardActivity(ctx, { memberId: `M${a.m}`, activity: 'bonus', ref: `A${i}`, at: `2026-11-0${a.day} 10:30` });
        const row = (x: (typeof lines)[number]) => `O${x.o},M${1 + (x.o % 3)},2026-11-${String(1 + (x.o % 4)).padStart(2, '0')} ${10 + (x.o % 7)}:00,${x.sku},${x.cat},${x.q},${(x.p / 100).toFixed(2)}`;
        writeFileSync(join(dir, 'p.csv'), HEAD + lines.map(row).join('\n') + '\n');
        await importPurchases(ctx, { file: join(dir, 'p.csv') });
        for (const o of voids) await voidPurchase(ctx, 'default', `O${o}`).catch(() => undefined);
        // a second import of the same orders under other ids, after the voids: tiers and caps carry over
        writeFileSync(join(dir, 'q.csv'), HEAD + lines.map((x) => row(x).replace(/^O/, 'Q')).join('\n') + '\n');
        await importPurchases(ctx, { file: join(dir, 'q.csv') });
        const r = await simulateRules(ctx, { file: rules, by: 'tier', from });
        expect(r.difference).toBe(0);
        expect(r.simulatedPoints).toBe(r.actualPoints);
        expect(r.membersAffected).toBe(0);
        for (const g of r.groups) expect(g.difference).toBe(0);
      }),
      { numRuns: ledgerRuns(12) },
    );
  });
});
