// Expiry runs against real temp ledgers, checked against the pure planner and ledger verify.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planExpiry, type ExpiringLot } from '../../src/domain/expiry.js';
import { addDays } from '../../src/domain/time.js';
import { expireLots, previewLots } from '../../src/services/expiry.js';
import { type Ctx, withLedger } from '../../src/services/ledger.js';
import { availableOf, creditPoints, debitPoints } from '../../src/services/points.js';
import { verifyLedger } from '../../src/services/verify.js';
import { members } from '../../src/store/members.js';
import { outbox } from '../../src/store/outbox.js';
import { expiryQueries } from '../../src/store/expiry.js';
import { journal } from '../../src/store/journal.js';
import { relaxRowChecks } from '../../src/store/db.js';
import { ledgerRuns, PG } from '../helpers/cli.js';
import { addFailingTrigger, at, dropFailingTrigger, earnedAtFor, rulesForFabricatedLots, tmpCtx } from '../helpers/store.js';

const MEMBERS = ['a', 'b', 'c'];

async function seed(ctx: Ctx, credits: { m: number; points: number; exp: string | null }[], debits: { m: number; points: number }[]) {
  await withLedger(ctx, (l) =>
    l.store.write(() => {
      const ms = l.store.get(members);
      for (const id of MEMBERS) ms.insert({ id, name: id.toUpperCase(), phone: id === 'a' ? '+8613800000001' : null, email: id === 'b' ? 'b@example.com' : null, tier: null }, l.nowIso);
      rulesForFabricatedLots(l.store);
      for (const c of credits) creditPoints(l, { memberId: MEMBERS[c.m], points: c.points, at: earnedAtFor(c.exp), kind: 'accrual', from: 'issued', expiresOn: c.exp });
      for (const d of debits) {
        const m = ms.get(MEMBERS[d.m])!;
        const take = Math.min(d.points, availableOf(l, m)); // lapsed lots are not spendable (§7)
        if (take > 0) debitPoints(l, { memberId: MEMBERS[d.m], points: take, at: l.nowIso, kind: 'redemption', to: 'redeemed', allowDebt: false });
      }
    }),
  );
}

async function lotsNow(ctx: Ctx): Promise<ExpiringLot[]> {
  return withLedger(ctx, (l) =>
    (l.store.db.prepare('SELECT id, member_id AS memberId, remaining, expires_on AS expiresOn FROM lots').all() as ExpiringLot[]),
  );
}

const dateArb = fc.integer({ min: 0, max: 120 }).map((d) => addDays('2026-10-01', d));

describe('expire run (services)', () => {
  it('turns foreign keys and CHECKs back on for the connection after a run, even a refused one', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 50, exp: '2026-10-01' }, { m: 1, points: 70, exp: '2026-10-02' }], []);
    await withLedger(at(ctx, '2026-11-23T02:00:00Z'), (l) => {
      const on = () => [l.store.db.pragma('foreign_keys', { simple: true }), l.store.db.pragma('ignore_check_constraints', { simple: true })];
      // a run that fails inside its transaction (its lot moves refused) writes nothing and restores both
      const refuseMoves = { name: 'refuse_moves', table: 'lot_moves', message: 'disk on fire', temp: true };
      addFailingTrigger(l.store.db, refuseMoves);
      expect(() => expireLots(l, { asOf: '2026-10-02' })).toThrow(/disk on fire/);
      expect(on()).toEqual([1, 0]);
      expect(l.store.db.prepare('SELECT sum(remaining) FROM lots').pluck().get()).toBe(120);
      dropFailingTrigger(l.store.db, refuseMoves);
      expect(expireLots(l, { asOf: '2026-10-02' }).lotsExpired).toBe(1);
      expect(on()).toEqual([1, 0]);
      // the CHECK on lots is live again: a negative remaining is refused
      expect(() => l.store.db.prepare('UPDATE lots SET remaining = -1').run()).toThrow(/CHECK constraint failed|violates check constraint/);
    });
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('expires exactly what the planner says, one entry per member, and verify passes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ m: fc.integer({ min: 0, max: 2 }), points: fc.integer({ min: 1, max: 500 }), exp: fc.option(dateArb, { nil: null }) }), { minLength: 1, maxLength: 15 }),
        fc.array(fc.record({ m: fc.integer({ min: 0, max: 2 }), points: fc.integer({ min: 1, max: 400 }) }), { maxLength: 5 }),
        dateArb,
        dateArb,
        async (credits, debits, d1, d2) => {
          const ctx = await tmpCtx();
          await seed(ctx, credits, debits);
          for (const asOf of [d1, d2, d1]) {
            const before = await lotsNow(ctx);
            const plan = planExpiry(before, asOf);
            const r = await withLedger(ctx, (l) => expireLots(l, { asOf, force: true }));
            expect(r).toMatchObject({ ...plan.summary, dryRun: false, entries: plan.members.length });
            const after = await lotsNow(ctx);
            for (const lot of after) {
              const was = before.find((b) => b.id === lot.id)!;
              expect(lot.remaining).toBe(lot.expiresOn !== null && lot.expiresOn < asOf ? 0 : was.remaining);
            }
            const again = await withLedger(ctx, (l) => expireLots(l, { asOf, force: true }));
            expect(again).toMatchObject({ lotsExpired: 0, pointsExpired: 0, members: 0 });
          }
          const v = await verifyLedger(ctx);
          expect(v.checks.filter((c) => !c.ok)).toEqual([]);
        },
      ),
      { numRuns: ledgerRuns(12) },
    );
  });

  it('posts member −N / expired +N per member with ref expiry:<asOf>, dated before the as-of day', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 100, exp: '2026-11-01' }, { m: 0, points: 50, exp: '2026-11-02' }, { m: 1, points: 70, exp: '2026-11-01' }], []);
    const r = await withLedger(ctx, (l) => expireLots(l, { asOf: '2026-11-10' }));
    expect(r).toMatchObject({ asOf: '2026-11-10', lotsExpired: 3, pointsExpired: 220, members: 2, at: '2026-11-09T15:59:59.999Z' });
    await withLedger(ctx, (l) => {
      const entries = l.store.db.prepare("SELECT id, member_id, ref, at FROM entries WHERE kind = 'expiry' ORDER BY id").all() as { id: number; member_id: string; ref: string; at: string }[];
      expect(entries.map((e) => [e.member_id, e.ref, e.at])).toEqual([
        ['a', 'expiry:2026-11-10', '2026-11-09T15:59:59.999Z'],
        ['b', 'expiry:2026-11-10', '2026-11-09T15:59:59.999Z'],
      ]);
      const postings = l.store.db.prepare('SELECT account, member_id, points FROM postings WHERE entry_id = ? ORDER BY rowid').all(entries[0].id);
      expect(postings).toEqual([
        { account: 'member', member_id: 'a', points: -150 },
        { account: 'expired', member_id: 'a', points: 150 },
      ]);
      const moves = l.store.db.prepare('SELECT lot_id, points FROM lot_moves WHERE entry_id = ? ORDER BY lot_id').all(entries[0].id);
      expect(moves).toEqual([
        { lot_id: 1, points: -100 },
        { lot_id: 2, points: -50 },
      ]);
    });
  });

  it('a dry run returns the same summary and writes nothing', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 100, exp: '2026-11-01' }, { m: 2, points: 30, exp: null }], []);
    const dry = await withLedger(ctx, (l) => expireLots(l, { asOf: '2026-12-01', dryRun: true }));
    const count = () => withLedger(ctx, (l) => l.store.db.prepare('SELECT (SELECT count(*) FROM entries) + (SELECT count(*) FROM lot_moves) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM audit)').pluck().get());
    const before = await count();
    expect(dry).toMatchObject({ asOf: '2026-12-01', lotsExpired: 1, pointsExpired: 100, members: 1, dryRun: true });
    expect(await count()).toBe(before);
    const real = await withLedger(ctx, (l) => expireLots(l, { asOf: '2026-12-01', force: true }));
    expect({ ...real, dryRun: true, entries: 0, notificationsQueued: 0 }).toEqual(dry);
  });

  it('queues one points.expired per member per run on the member\'s channel', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 10, exp: '2026-11-01' }, { m: 0, points: 10, exp: '2026-11-01' }, { m: 1, points: 5, exp: '2026-11-01' }, { m: 2, points: 5, exp: '2026-11-01' }], []);
    await withLedger(ctx, (l) => expireLots(l, { asOf: '2026-11-05' }));
    const rows = await withLedger(ctx, (l) => l.store.get(outbox).list());
    expect(rows.map((r) => [r.topic, r.member_id, r.channel, r.recipient, JSON.parse(r.payload).points])).toEqual([
      ['points.expired', 'a', 'sms', '+8613800000001', 20],
      ['points.expired', 'b', 'email', 'b@example.com', 5],
      ['points.expired', 'c', 'none', null, 5],
    ]);
  });

  it('preview --notify queues one points.expiring per lot, never twice', async () => {
    const ctx = await tmpCtx(); // now 2026-11-23 10:00 Shanghai
    await seed(ctx, [{ m: 0, points: 10, exp: '2026-11-23' }, { m: 0, points: 20, exp: '2026-12-23' }, { m: 1, points: 5, exp: '2026-12-24' }, { m: 2, points: 7, exp: '2026-11-22' }], []);
    const p = await withLedger(ctx, (l) => previewLots(l, { within: { days: 30, months: 0 }, notify: true }));
    expect(p).toMatchObject({ asOf: '2026-11-23', from: '2026-11-23', to: '2026-12-23', members: 1, points: 30, lots: 2, overduePoints: 7, notificationsQueued: 2 });
    expect(p.rows).toEqual([{ memberId: 'a', name: 'A', points: 30, lots: 2, firstExpiresOn: '2026-11-23', lastExpiresOn: '2026-12-23', dates: [{ expiresOn: '2026-11-23', points: 10 }, { expiresOn: '2026-12-23', points: 20 }] }]);
    const again = await withLedger(at(ctx, '2026-11-24T02:00:00Z'), (l) => previewLots(l, { within: { days: 30, months: 0 }, notify: true }));
    expect(again.notificationsQueued).toBe(1); // only b's lot entered the window
    const keys = await withLedger(ctx, (l) => l.store.get(outbox).list().map((r) => r.dedupe_key));
    expect(keys).toEqual(['expiring:1', 'expiring:2', 'expiring:3']);
  });
  it('moves each lot\'s remaining points to its member\'s own entry, the entries numbered after those before the run', async () => {
    const ctx = await tmpCtx();
    // partly spent lots (the debits take the earliest first), a lot of a later date, and entries before the run
    await seed(ctx, [{ m: 2, points: 40, exp: '2026-12-01' }, { m: 0, points: 100, exp: '2026-12-01' }, { m: 0, points: 60, exp: '2026-12-03' }, { m: 1, points: 70, exp: '2026-12-02' }, { m: 1, points: 9, exp: '2027-02-01' }], [{ m: 0, points: 30 }, { m: 2, points: 40 }]);
    const before = await lotsNow(ctx);
    const lastBefore = await withLedger(ctx, (l) => l.store.get(journal).head().id);
    const r = await withLedger(ctx, (l) => expireLots(l, { asOf: '2027-01-10', force: true }));
    expect(r).toMatchObject({ lotsExpired: 3, pointsExpired: 200, members: 2, entries: 2 });
    await withLedger(ctx, (l) => {
      const entries = l.store.db.prepare("SELECT id, member_id AS memberId FROM entries WHERE kind = 'expiry' ORDER BY id").all();
      expect(entries).toEqual([{ id: lastBefore + 1, memberId: 'a' }, { id: lastBefore + 2, memberId: 'b' }]);
      const moves = l.store.db.prepare('SELECT entry_id AS entryId, lot_id AS lotId, points FROM lot_moves WHERE entry_id > ? ORDER BY lot_id').all(lastBefore);
      const expected = before
        .filter((b) => b.expiresOn !== null && b.expiresOn < '2027-01-10' && b.remaining > 0)
        .sort((x, y) => x.id - y.id)
        .map((b) => ({ entryId: lastBefore + (b.memberId === 'a' ? 1 : 2), lotId: b.id, points: -b.remaining }));
      expect(moves).toEqual(expected);
      expect(expected.map((m) => m.points)).toEqual([-70, -60, -70]); // a's first lot 30 spent, c's lot all spent
    });
    expect(await withLedger(ctx, (l) => expireLots(l, { asOf: '2027-01-10', force: true }))).toMatchObject({ lotsExpired: 0, entries: 0 });
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it('a run whose lot moves do not add up to its entries fails whole: no entry, move, emptied lot or notice', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 7, exp: '2026-11-01' }, { m: 0, points: 50, exp: '2026-11-01' }, { m: 1, points: 70, exp: '2026-11-02' }], []);
    await withLedger(at(ctx, '2026-11-23T02:00:00Z'), (l) => {
      // a trigger that silently drops one lot move (the 7-point lot's): the run's own counts must catch it
      const db = l.store.db as unknown as { exec(sql: string): void; execDdl(sql: string): void };
      if (PG) {
        db.execDdl(`CREATE FUNCTION skip_one_fn() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NULL; END $f$;
          CREATE TRIGGER skip_one BEFORE INSERT ON lot_moves FOR EACH ROW WHEN (NEW.points = -7) EXECUTE FUNCTION skip_one_fn();
          ALTER TABLE lot_moves ENABLE ALWAYS TRIGGER skip_one;`);
      } else db.exec('CREATE TEMP TRIGGER skip_one BEFORE INSERT ON lot_moves WHEN NEW.points = -7 BEGIN SELECT RAISE(IGNORE); END');
      const count = () => l.store.db.prepare('SELECT (SELECT count(*) FROM entries) || \' \' || (SELECT count(*) FROM lot_moves) || \' \' || (SELECT count(*) FROM outbox) || \' \' || (SELECT sum(remaining) FROM lots)').pluck().get();
      const was = count();
      // (PostgreSQL checks the counts on the server, in the block that writes the moves; SQLite after them)
      expect(() => expireLots(l, { asOf: '2026-11-10' })).toThrow(PG ? /expiry moved 2 lots and emptied 3, 3 expected/ : /expiry moved 2 lots but emptied 3/);
      expect(count()).toBe(was);
      if (PG) db.execDdl('DROP TRIGGER skip_one ON lot_moves; DROP FUNCTION skip_one_fn();');
      else db.exec('DROP TRIGGER temp.skip_one');
      expect(expireLots(l, { asOf: '2026-11-10' })).toMatchObject({ lotsExpired: 3, pointsExpired: 127 });
    });
    expect((await verifyLedger(ctx)).ok).toBe(true);
  });

  it.skipIf(!PG)('PostgreSQL: an entry numbered otherwise than the queued lot moves expect fails the run', async () => {
    const ctx = await tmpCtx();
    await seed(ctx, [{ m: 0, points: 10, exp: '2026-11-01' }, { m: 1, points: 20, exp: '2026-11-01' }], []);
    await withLedger(ctx, (l) => {
      const relaxed = relaxRowChecks(l.store);
      try {
        expect(() =>
          l.store.write(() => {
            const q = l.store.get(expiryQueries);
            const last = l.store.get(journal).end().id;
            const rows = q.begin('2026-11-10', last + 1); // as if an entry came between: the moves expect ids from last + 2
            expect(q.movesQueued).toBe(true);
            q.setEntry(rows[0].memberId, last + 1);
          }),
        ).toThrow(/not the one the lot moves were numbered with/);
      } finally {
        relaxed();
      }
      expect(l.store.db.prepare('SELECT count(*) FROM lot_moves').pluck().get()).toBe(0);
      expect(l.store.db.prepare('SELECT sum(remaining) FROM lots').pluck().get()).toBe(30);
    });
  });
});
