// Random sequences of member operations against a real ledger, checked against a plain model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PointsmallError, RefusedError, UsageError } from '../../src/errors.js';
import { addMember, adjustMember, listMembers, setFrozen, showMember, updateMember } from '../../src/services/members.js';
import { verifyLedger } from '../../src/services/verify.js';
import type { Ctx } from '../../src/services/ledger.js';
import { tmpCtx } from '../helpers/store.js';
import { ledgerRuns, openLedgerDb } from '../helpers/cli.js';

type Op =
  | { t: 'add'; id: string; name: string }
  | { t: 'adjust'; id: string; points: number }
  | { t: 'freeze'; id: string }
  | { t: 'unfreeze'; id: string }
  | { t: 'update'; id: string; name: string };

interface ModelMember {
  name: string;
  balance: number;
  frozen: boolean;
}

const ids = fc.constantFrom('m1', 'm2', 'm3', 'm4');
const names = fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,11}$/).filter((s) => s.trim() === s);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('add' as const), id: ids, name: names }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('adjust' as const),
      id: ids,
      points: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: -2500, max: -1 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('freeze' as const), id: ids }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unfreeze' as const), id: ids }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('update' as const), id: ids, name: names }) },
);

/** Everything a failed command must leave untouched. */
function snapshot(path: string): string {
  const db = openLedgerDb(path, { readonly: true, fileMustExist: true });
  try {
    const counts = ['entries', 'postings', 'lots', 'lot_moves', 'audit'].map((t) => db.prepare(`SELECT count(*) FROM ${t}`).pluck().get());
    const members = db.prepare('SELECT * FROM members ORDER BY id').all();
    const lots = db.prepare('SELECT id, remaining FROM lots ORDER BY id').all();
    return JSON.stringify({ counts, members, lots });
  } finally {
    db.close();
  }
}

function lotsRemaining(path: string): Map<string, number> {
  const db = openLedgerDb(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT member_id AS id, sum(remaining) AS r FROM lots GROUP BY member_id').all() as { id: string; r: number }[];
    return new Map(rows.map((x) => [x.id, x.r]));
  } finally {
    db.close();
  }
}

async function expectRefused(p: Promise<unknown>, kind: typeof UsageError | typeof RefusedError, exitCode: number, code?: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(kind);
  expect((err as PointsmallError).exitCode).toBe(exitCode);
  if (code) expect((err as PointsmallError).code).toBe(code);
}

async function apply(ctx: Ctx, model: Map<string, ModelMember>, o: Op): Promise<void> {
  const m = model.get(o.id);
  const before = snapshot(ctx.dbPath);
  const unchanged = () => expect(snapshot(ctx.dbPath)).toBe(before);
  switch (o.t) {
    case 'add': {
      if (m) {
        await expectRefused(addMember(ctx, { id: o.id, name: o.name }), UsageError, 2, 'MEMBER_EXISTS');
        return unchanged();
      }
      const v = await addMember(ctx, { id: o.id, name: o.name });
      expect(v).toMatchObject({ id: o.id, name: o.name, status: 'active', balance: 0, held: 0, available: 0, lots: [] });
      model.set(o.id, { name: o.name, balance: 0, frozen: false });
      return;
    }
    case 'adjust': {
      if (!m) {
        await expectRefused(adjustMember(ctx, o.id, o.points, 'test'), UsageError, 2, 'NOT_FOUND');
        return unchanged();
      }
      if (m.balance + o.points < 0) {
        await expectRefused(adjustMember(ctx, o.id, o.points, 'test'), RefusedError, 3, 'INSUFFICIENT_POINTS');
        return unchanged();
      }
      // SPEC leaves manual adjustments of a frozen member open: either done, or refused (exit 3) with nothing written.
      const r = await adjustMember(ctx, o.id, o.points, 'test').catch((e: unknown) => {
        if (m.frozen && e instanceof RefusedError) return undefined;
        throw e;
      });
      if (!r) return unchanged();
      m.balance += o.points;
      expect(r).toMatchObject({ memberId: o.id, points: o.points, balance: m.balance, available: m.balance });
      return;
    }
    case 'freeze':
    case 'unfreeze': {
      const freeze = o.t === 'freeze';
      if (!m) {
        await expectRefused(setFrozen(ctx, o.id, freeze, 'because'), UsageError, 2, 'NOT_FOUND');
        return unchanged();
      }
      if (m.frozen === freeze) {
        await expectRefused(setFrozen(ctx, o.id, freeze, 'because'), RefusedError, 3);
        return unchanged();
      }
      const v = await setFrozen(ctx, o.id, freeze, 'because');
      m.frozen = freeze;
      expect(v.status).toBe(freeze ? 'frozen' : 'active');
      expect(v.balance).toBe(m.balance);
      return;
    }
    case 'update': {
      if (!m) {
        await expectRefused(updateMember(ctx, o.id, { name: o.name }), UsageError, 2, 'NOT_FOUND');
        return unchanged();
      }
      const v = await updateMember(ctx, o.id, { name: o.name });
      m.name = o.name;
      expect(v).toMatchObject({ id: o.id, name: o.name, balance: m.balance });
      return;
    }
  }
}

describe('member operations (property, in-process)', () => {
  it('keep balances, lots and the journal consistent with a model; refused commands change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 20 }), async (ops) => {
        const ctx = await tmpCtx();
        const model = new Map<string, ModelMember>();
        for (const o of ops) await apply(ctx, model, o);

        const v = await verifyLedger(ctx);
        expect(v.checks.filter((c) => !c.ok)).toEqual([]);
        expect(v.ok).toBe(true);

        const list = await listMembers(ctx, {});
        expect(list.map((x) => x.id).sort()).toEqual([...model.keys()].sort());
        const lots = lotsRemaining(ctx.dbPath);
        for (const [id, mm] of model) {
          const s = await showMember(ctx, id);
          expect(s.name).toBe(mm.name);
          expect(s.status).toBe(mm.frozen ? 'frozen' : 'active');
          expect(s.balance).toBe(mm.balance);
          expect(s.held).toBe(0);
          expect(s.available).toBe(s.balance - s.held);
          expect(lots.get(id) ?? 0).toBe(mm.balance);
          expect(s.lots.reduce((a, l) => a + l.remaining, 0)).toBe(mm.balance);
          for (const l of s.lots) expect(l.remaining).toBeGreaterThan(0);
        }
        const entries = v.entries;
        const adjustsDone = ops.length; // upper bound sanity: never more entries than operations
        expect(entries).toBeLessThanOrEqual(adjustsDone);
      }),
      { numRuns: ledgerRuns(30) },
    );
  });

  it('a debit beyond the available balance is refused with exit 3 and writes nothing', async () => {
    const ctx = await tmpCtx();
    await addMember(ctx, { id: 'x', name: 'X' });
    await adjustMember(ctx, 'x', 100, 'welcome');
    const before = snapshot(ctx.dbPath);
    await expectRefused(adjustMember(ctx, 'x', -101, 'too much'), RefusedError, 3, 'INSUFFICIENT_POINTS');
    expect(snapshot(ctx.dbPath)).toBe(before);
    const r = await adjustMember(ctx, 'x', -100, 'all of it');
    expect(r.balance).toBe(0);
    expect((await showMember(ctx, 'x')).lots).toEqual([]);
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });
});
