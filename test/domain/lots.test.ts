import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareSpendingOrder, isLapsed, lapsedHeld, type OpenLot, spendableLots, takeBackLots, takeFromLots } from '../../src/domain/lots.js';

const lot = (id: number, remaining: number, earnedAt: string, expiresOn: string | null): OpenLot => ({ id, remaining, earnedAt, expiresOn });

describe('takeFromLots (§4.4 spending order)', () => {
  it('takes from the lot expiring first', () => {
    const lots = [lot(1, 100, '2026-01-01T00:00:00.000Z', '2027-06-01'), lot(2, 100, '2026-03-01T00:00:00.000Z', '2026-12-31')];
    expect(takeFromLots(lots, 150)).toEqual({ takes: [{ lotId: 2, points: 100 }, { lotId: 1, points: 50 }], shortfall: 0 });
  });

  it('takes never-expiring lots last', () => {
    const lots = [lot(1, 50, '2020-01-01T00:00:00.000Z', null), lot(2, 50, '2026-05-01T00:00:00.000Z', '2099-12-31')];
    expect(takeFromLots(lots, 60).takes).toEqual([{ lotId: 2, points: 50 }, { lotId: 1, points: 10 }]);
  });

  it('of lots expiring the same day, takes the oldest earned first', () => {
    const lots = [
      lot(3, 10, '2026-03-01T00:00:00.000Z', '2026-12-31'),
      lot(1, 10, '2026-02-01T00:00:00.000Z', '2026-12-31'),
      lot(2, 10, '2026-01-01T00:00:00.000Z', '2026-12-31'),
    ];
    expect(takeFromLots(lots, 25).takes).toEqual([{ lotId: 2, points: 10 }, { lotId: 1, points: 10 }, { lotId: 3, points: 5 }]);
  });

  it('of never-expiring lots, takes the oldest earned first', () => {
    const lots = [lot(1, 10, '2026-02-01T00:00:00.000Z', null), lot(2, 10, '2026-01-01T00:00:00.000Z', null)];
    expect(takeFromLots(lots, 5).takes).toEqual([{ lotId: 2, points: 5 }]);
  });

  it('reports what the lots cannot cover as a shortfall and skips empty lots', () => {
    const lots = [lot(1, 0, '2026-01-01T00:00:00.000Z', '2026-02-01'), lot(2, 30, '2026-01-02T00:00:00.000Z', '2026-03-01')];
    expect(takeFromLots(lots, 50)).toEqual({ takes: [{ lotId: 2, points: 30 }], shortfall: 20 });
    expect(takeFromLots([], 7)).toEqual({ takes: [], shortfall: 7 });
    expect(takeFromLots(lots, 0)).toEqual({ takes: [], shortfall: 0 });
  });

  it('does not reorder the caller\'s array', () => {
    const lots = [lot(1, 1, '2026-01-02T00:00:00.000Z', null), lot(2, 1, '2026-01-01T00:00:00.000Z', '2026-05-01')];
    takeFromLots(lots, 2);
    expect(lots.map((l) => l.id)).toEqual([1, 2]);
  });

  it('property: takes sum to min(points, Σ remaining), never overdraw a lot, and follow the spending order', () => {
    const arbLot = fc.record({
      remaining: fc.integer({ min: 0, max: 1000 }),
      day: fc.integer({ min: 0, max: 30 }),
      expiresIn: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(arbLot, { maxLength: 12 }), fc.integer({ min: 0, max: 15000 }), (raw, points) => {
        const lots = raw.map((r, i) => {
          const earned = new Date(Date.UTC(2026, 0, 1 + r.day)).toISOString();
          const exp = r.expiresIn === null ? null : new Date(Date.UTC(2026, 6, 1 + r.expiresIn)).toISOString().slice(0, 10);
          return lot(i + 1, r.remaining, earned, exp);
        });
        const total = lots.reduce((a, l) => a + l.remaining, 0);
        const { takes, shortfall } = takeFromLots(lots, points);
        const taken = takes.reduce((a, t) => a + t.points, 0);
        expect(taken).toBe(Math.min(points, total));
        expect(shortfall).toBe(points - taken);
        const byId = new Map(lots.map((l) => [l.id, l]));
        for (const t of takes) {
          expect(t.points).toBeGreaterThan(0);
          expect(t.points).toBeLessThanOrEqual(byId.get(t.lotId)!.remaining);
        }
        // Every lot taken from comes after all lots that were emptied, in spending order; only the last may be partial.
        for (let i = 1; i < takes.length; i++) {
          expect(compareSpendingOrder(byId.get(takes[i - 1].lotId)!, byId.get(takes[i].lotId)!)).toBeLessThan(0);
          expect(takes[i - 1].points).toBe(byId.get(takes[i - 1].lotId)!.remaining);
        }
        // No untouched lot with points comes before a lot that was taken from.
        const takenIds = new Set(takes.map((t) => t.lotId));
        const last = takes.length ? byId.get(takes[takes.length - 1].lotId)! : undefined;
        if (last)
          for (const l of lots)
            if (!takenIds.has(l.id) && l.remaining > 0) expect(compareSpendingOrder(l, last)).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('spendableLots (§7 "Expired is expired")', () => {
  it('keeps a lot through its expiresOn and drops it the day after; never-expiring lots always stay', () => {
    expect(isLapsed('2026-01-10', '2026-01-10')).toBe(false);
    expect(isLapsed('2026-01-10', '2026-01-11')).toBe(true);
    expect(isLapsed(null, '9999-12-31')).toBe(false);
    const lots = [lot(1, 300, '2025-01-10T02:00:00.000Z', '2026-01-10'), lot(2, 200, '2026-06-10T02:00:00.000Z', '2027-06-10'), lot(3, 50, '2020-01-01T00:00:00.000Z', null)];
    expect(spendableLots(lots, '2026-01-10').map((l) => l.id)).toEqual([1, 2, 3]);
    expect(spendableLots(lots, '2026-11-23').map((l) => l.id)).toEqual([2, 3]);
    // a spend on 2026-11-23 never reaches the lapsed lot, however much is asked
    expect(takeFromLots(spendableLots(lots, '2026-11-23'), 400)).toEqual({ takes: [{ lotId: 2, points: 200 }, { lotId: 3, points: 50 }], shortfall: 150 });
  });

  it('never takes from a lot lapsed on the day, whatever the lots and the amount', () => {
    const day = fc.integer({ min: 0, max: 60 }).map((d) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
    fc.assert(
      fc.property(fc.array(fc.record({ remaining: fc.integer({ min: 0, max: 500 }), expiresOn: fc.option(day, { nil: null }) }), { maxLength: 8 }), day, fc.integer({ min: 1, max: 3000 }), (ls, today, points) => {
        const lots = ls.map((l, i) => lot(i + 1, l.remaining, '2025-12-01T00:00:00.000Z', l.expiresOn));
        const { takes, shortfall } = takeFromLots(spendableLots(lots, today), points);
        for (const t of takes) expect(isLapsed(lots[t.lotId - 1].expiresOn, today)).toBe(false);
        const live = lots.filter((l) => !isLapsed(l.expiresOn, today)).reduce((a, l) => a + l.remaining, 0);
        expect(points - shortfall).toBe(Math.min(points, live));
      }),
    );
  });
});

describe('takeBackLots (§7 "Expired is expired" over §4.6: a take-back leaves lapsed lots to the expiry run)', () => {
  it('keeps the lots live on the take-back\'s own date, earliest-expiring first', () => {
    const lots = [lot(1, 1000, '2025-11-01T02:00:00.000Z', '2025-11-11'), lot(2, 500, '2025-11-14T02:00:00.000Z', '2025-11-24'), lot(3, 50, '2020-01-01T00:00:00.000Z', null)];
    // a refund on 2025-11-15: the lot lapsed on 11-12 is not taken, whatever is asked
    expect(takeFromLots(takeBackLots(lots, '2025-11-15'), 600)).toEqual({ takes: [{ lotId: 2, points: 500 }, { lotId: 3, points: 50 }], shortfall: 50 });
    // a return dated 11-10 (an import of past trade): lot 1 was live then, and takes it as it would have
    expect(takeFromLots(takeBackLots(lots, '2025-11-10'), 100)).toEqual({ takes: [{ lotId: 1, points: 100 }], shortfall: 0 });
    // through its expiresOn a lot is live
    expect(takeFromLots(takeBackLots(lots, '2025-11-11'), 100)).toEqual({ takes: [{ lotId: 1, points: 100 }], shortfall: 0 });
  });
});

describe('lapsedHeld (§7: held points whose lot lapsed before the capture)', () => {
  it('counts the held points of lots lapsed by today, with the earliest of their expiresOn', () => {
    const takes = [
      { points: 300, expiresOn: '2026-01-11' },
      { points: 200, expiresOn: '2026-01-09' },
      { points: 500, expiresOn: '2026-01-12' },
      { points: 100, expiresOn: null },
    ];
    // through its expiresOn a lot is spendable: on 01-11 only the 01-09 lot has lapsed
    expect(lapsedHeld(takes, '2026-01-11')).toEqual({ points: 200, expiresOn: '2026-01-09' });
    expect(lapsedHeld(takes, '2026-01-12')).toEqual({ points: 500, expiresOn: '2026-01-09' });
    expect(lapsedHeld(takes, '2026-01-13')).toEqual({ points: 1000, expiresOn: '2026-01-09' });
    expect(lapsedHeld(takes, '2026-01-09')).toEqual({ points: 0, expiresOn: null });
    expect(lapsedHeld([], '2030-01-01')).toEqual({ points: 0, expiresOn: null });
  });
});
