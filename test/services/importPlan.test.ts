// An import's plans against a real temp ledger: entries planned ahead (ids and chain hashes worked out
// where they are planned) are written as a verified chain, and a plan whose head the ledger has moved
// past is refused whole.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PlanApplier, PlanBuilder, intAt } from '../../src/services/importPlan.js';
import { creditPoints } from '../../src/services/points.js';
import { type Ctx, withLedger } from '../../src/services/ledger.js';
import { verifyLedger } from '../../src/services/verify.js';
import { entryContent, journal, movedContent } from '../../src/store/journal.js';
import { members } from '../../src/store/members.js';
import { tmpCtx } from '../helpers/store.js';

async function ledgerWithOneCredit(): Promise<Ctx> {
  const ctx = await tmpCtx();
  await withLedger(ctx, (l) =>
    l.store.write(() => {
      l.store.get(members).insert({ id: 'M1', name: 'M1', phone: null, email: null, tier: null }, l.nowIso);
      creditPoints(l, { memberId: 'M1', points: 40, at: '2026-11-01T02:00:00.000Z', kind: 'adjust', from: 'adjusted', expiresOn: '2027-11-01' });
    }),
  );
  return ctx;
}

const count = (ctx: Ctx) => withLedger(ctx, (l) => l.store.db.prepare('SELECT (SELECT count(*) FROM entries) || \'/\' || (SELECT count(*) FROM postings) || \'/\' || (SELECT count(*) FROM lots)').pluck().get());

describe('import plans', () => {
  it('entries planned from the chain head are written as a chain that verifies, with lots, returns and debt', async () => {
    const ctx = await ledgerWithOneCredit();
    await withLedger(ctx, (l) => {
      const plan = new PlanBuilder('shop');
      plan.follow(l.store.get(journal).head());
      // expiries as the accruer works them out: init's rolling 365 days (ledger verify proves it)
      expect(plan.credit('M1', 'A1', 100, '2026-11-02T02:00:00.000Z', '2027-11-02')).toBe(0);
      expect(plan.debit('M1', 'A2', 300, '2026-11-03T02:00:00.000Z')).toBe(1); // takes 140 from lots, 160 of debt
      expect(plan.credit('M1', 'A3', 200, '2026-11-04T02:00:00.000Z', '2027-11-04')).toBe(2); // repays 160, a lot of 40
      l.store.write(() => new PlanApplier(l, 'shop').apply(plan.take()));
      const m = l.store.get(members).get('M1')!;
      expect({ balance: m.balance, debt: m.debt, earned: m.lifetime_earned }).toEqual({ balance: 40, debt: 0, earned: 0 });
      const lots = l.store.db.prepare('SELECT entry_id, points, remaining, expires_on FROM lots ORDER BY id').raw().all();
      expect(lots).toEqual([
        [1, 40, 0, '2027-11-01'],
        [2, 100, 0, '2027-11-02'],
        [4, 40, 40, '2027-11-04'],
      ]);
      expect(l.store.db.prepare('SELECT ref FROM entries ORDER BY id').pluck().all()).toEqual([null, 'shop:A1', 'shop:A2', 'shop:A3']);
    });
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('a plan whose head the ledger has moved past is refused, and nothing of it is written', async () => {
    const ctx = await ledgerWithOneCredit();
    await withLedger(ctx, (l) => {
      const plan = new PlanBuilder('shop');
      plan.follow(l.store.get(journal).head());
      plan.credit('M1', 'A1', 100, '2026-11-02T02:00:00.000Z', '2027-11-02');
      // another writer's entry lands first
      l.store.write(() => creditPoints(l, { memberId: 'M1', points: 5, at: '2026-11-02T03:00:00.000Z', kind: 'adjust', from: 'adjusted', expiresOn: '2027-11-02' }));
      expect(() => l.store.write(() => new PlanApplier(l, 'shop').apply(plan.take()))).toThrow(/planned entries begin at 2 .*but the chain ends at 2/);
    });
    expect(await count(ctx)).toBe('2/4/2');
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it("an accrual's or a return's hashed content is entryContent's text", () => {
    const row = { id: 12, at: '2026-11-02T02:00:00.000Z', recorded_at: '2026-11-23T02:00:00.000Z', kind: 'accrual', member_id: 'M1', ref: 'shop:A1', memo: null, operator: 'bench' };
    expect(movedContent(12, row.at, row.recorded_at, 'accrual', 'M1', 'shop:A1', 'bench', 'issued', 'member', 250)).toBe(
      entryContent(row, [
        { account: 'issued', memberId: 'M1', points: -250 },
        { account: 'member', memberId: 'M1', points: 250 },
      ]),
    );
    expect(movedContent(13, row.at, row.recorded_at, 'return', 'M1', 'shop:A2', 'bench', 'member', 'issued', 7)).toBe(
      entryContent({ ...row, id: 13, kind: 'return', ref: 'shop:A2' }, [
        { account: 'member', memberId: 'M1', points: -7 },
        { account: 'issued', memberId: 'M1', points: 7 },
      ]),
    );
  });

  it("property: a packed line's amount is read as `+` reads its text, a string made or not", () => {
    for (const t of ['0', '-0', '7', '-7', '123456789012345', '-123456789012345', '1234567890123456', '', '-', '1e5', '12a']) {
      expect(Object.is(intAt(`x\u001f${t}\u001fy`, 2, 2 + t.length), +t), t).toBe(true);
    }
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const t = String(n);
        expect(intAt(`1\u001f${t}\u001f`, 2, 2 + t.length)).toBe(n);
      }),
    );
  });
});
