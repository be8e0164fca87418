import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { giveBackReturn, takeBackPurchase } from '../../src/domain/voids.js';

const lot = (id: number, remaining: number, expiresOn: string | null) => ({ id, remaining, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn });

describe('takeBackPurchase', () => {
  it('takes from the own lot first, reverses what expired of it, and only the rest from other lots, then debt', () => {
    expect(takeBackPurchase([{ lotId: 1, remaining: 0, expired: 5000 }], [lot(2, 300, '2027-11-21')], 5000)).toEqual({ own: [], unexpire: 5000, others: [], debt: 0 });
    expect(takeBackPurchase([{ lotId: 1, remaining: 5000, expired: 0 }], [lot(1, 5000, '2026-11-19'), lot(2, 300, '2027-11-21')], 5000)).toEqual({
      own: [{ lotId: 1, points: 5000 }], unexpire: 0, others: [], debt: 0,
    });
    // 1000 spent, 4000 expired: the 1000 from the other lot's 300, 700 debt
    expect(takeBackPurchase([{ lotId: 1, remaining: 0, expired: 4000 }], [lot(2, 300, '2027-11-21')], 5000)).toEqual({ own: [], unexpire: 4000, others: [{ lotId: 2, points: 300 }], debt: 700 });
    // no lot of its own (it repaid a debt): as a return takes back
    expect(takeBackPurchase([], [lot(3, 50, null), lot(2, 30, '2027-01-01')], 100)).toEqual({ own: [], unexpire: 0, others: [{ lotId: 2, points: 30 }, { lotId: 3, points: 50 }], debt: 20 });
  });

  it('always accounts for exactly the points', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(10_000), fc.nat(10_000), fc.array(fc.nat(3000), { maxLength: 4 }), (points, r, x, others) => {
        const remaining = Math.min(r, points);
        const expired = Math.min(x, points - remaining);
        const p = takeBackPurchase([{ lotId: 0, remaining, expired }], others.map((n, i) => lot(i + 1, n, '2027-01-01')), points);
        const sum = (t: { points: number }[]) => t.reduce((a, b) => a + b.points, 0);
        expect(sum(p.own) + p.unexpire + sum(p.others) + p.debt).toBe(points);
        expect(sum(p.own)).toBe(remaining);
        expect(p.unexpire).toBe(expired);
        expect(p.others.every((t, i) => t.points <= others[t.lotId - 1] && t.points > 0 && i >= 0)).toBe(true);
      }),
    );
  });
});

describe('giveBackReturn', () => {
  it('gives back to the lots taken from, latest first; debt repaid first; a debt repaid meanwhile comes back as a new lot', () => {
    const taken = [{ lotId: 1, points: 600 }, { lotId: 2, points: 400 }];
    expect(giveBackReturn(taken, 1000, 0)).toEqual({ toLots: [{ lotId: 2, points: 400 }, { lotId: 1, points: 600 }], debtRepaid: 0, newLot: 0 });
    // the return left 900 of debt (took 100 from lot 1): the debt goes, the 100 back
    expect(giveBackReturn([{ lotId: 1, points: 100 }], 1000, 900)).toEqual({ toLots: [{ lotId: 1, points: 100 }], debtRepaid: 900, newLot: 0 });
    // another debt of 500: repaid first, from the earliest-expiring lot's part (as a refund)
    expect(giveBackReturn(taken, 1000, 500)).toEqual({ toLots: [{ lotId: 2, points: 400 }, { lotId: 1, points: 100 }], debtRepaid: 500, newLot: 0 });
    // the return's 900 of debt repaid meanwhile by other credits: a lot of its own
    expect(giveBackReturn([{ lotId: 1, points: 100 }], 1000, 0)).toEqual({ toLots: [{ lotId: 1, points: 100 }], debtRepaid: 0, newLot: 900 });
  });
});
