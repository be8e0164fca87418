import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExpiredLeft, giveBackReturn, takeBackPostings, takeBackPurchase, withExpired } from '../../src/domain/voids.js';

const lot = (id: number, remaining: number, expiresOn: string | null) => ({ id, remaining, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn });

describe('takeBackPurchase', () => {
  it('takes from the own lot first, reverses what expired of it, and only the rest from other lots, then debt', () => {
    expect(takeBackPurchase([{ lotId: 1, remaining: 0, expired: 5000 }], [lot(2, 300, '2027-11-21')], 5000)).toEqual({ own: [], unexpire: 5000, others: [], reopened: [], debt: 0 });
    expect(takeBackPurchase([{ lotId: 1, remaining: 5000, expired: 0 }], [lot(1, 5000, '2026-11-19'), lot(2, 300, '2027-11-21')], 5000)).toEqual({
      own: [{ lotId: 1, points: 5000 }], unexpire: 0, others: [], reopened: [], debt: 0,
    });
    // 1000 spent, 4000 expired: the 1000 from the other lot's 300, 700 debt
    expect(takeBackPurchase([{ lotId: 1, remaining: 0, expired: 4000 }], [lot(2, 300, '2027-11-21')], 5000)).toEqual({ own: [], unexpire: 4000, others: [{ lotId: 2, points: 300 }], reopened: [], debt: 700 });
    // no lot of its own (it repaid a debt): as a return takes back
    expect(takeBackPurchase([], [lot(3, 50, null), lot(2, 30, '2027-01-01')], 100)).toEqual({ own: [], unexpire: 0, others: [{ lotId: 2, points: 30 }, { lotId: 3, points: 50 }], reopened: [], debt: 20 });
  });

  it('takes from another lot what an expiry run expired of it, as it would have before the run: reopened, in spending order', () => {
    // 300 spent of the own lot (its other 4700 expired); lot 2 lapsed since with its 500 expired, lot 3 live later
    const expired = { ...lot(2, 0, '2026-11-13'), expired: 500 };
    expect(takeBackPurchase([{ lotId: 1, remaining: 0, expired: 4700 }], [expired, lot(3, 1000, '2027-11-21')], 5000)).toEqual({
      own: [], unexpire: 4700, others: [{ lotId: 2, points: 300 }], reopened: [{ lotId: 2, points: 300 }], debt: 0,
    });
    // what is left in a lot comes before what expired of it; past both, the next lot
    const partly = { ...lot(2, 100, '2026-11-13'), expired: 150 };
    expect(takeBackPurchase([], [partly, lot(3, 1000, '2027-11-21')], 300)).toEqual({
      own: [], unexpire: 0, others: [{ lotId: 2, points: 250 }, { lotId: 3, points: 50 }], reopened: [{ lotId: 2, points: 150 }], debt: 0,
    });
    // never more than expired: the rest is debt
    expect(takeBackPurchase([], [{ ...lot(2, 0, null), expired: 40 }], 100)).toEqual({ own: [], unexpire: 0, others: [{ lotId: 2, points: 40 }], reopened: [{ lotId: 2, points: 40 }], debt: 60 });
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
        expect(p.reopened).toEqual([]);
      }),
    );
  });
});

describe('takeBackPurchase with expired lots', () => {
  it('reopens no more of a lot than expired of it, only after what is left in it, and accounts for every point', () => {
    const other = fc.record({ remaining: fc.nat(2000), expired: fc.nat(2000), expiresOn: fc.constantFrom('2026-11-13', '2027-01-01', null) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(other, { maxLength: 5 }), (points, lots) => {
        const p = takeBackPurchase([], lots.map((x, i) => ({ ...lot(i + 1, x.remaining, x.expiresOn), expired: x.expired })), points);
        const sum = (t: { points: number }[]) => t.reduce((a, b) => a + b.points, 0);
        expect(sum(p.others) + p.debt).toBe(points);
        for (const r of p.reopened) {
          const x = lots[r.lotId - 1];
          const took = p.others.find((t) => t.lotId === r.lotId)!.points;
          expect(r.points).toBeLessThanOrEqual(x.expired);
          expect(r.points).toBe(took - x.remaining);
        }
        // a debt only when every lot gave all it had, expired points included
        if (p.debt > 0) expect(sum(p.others)).toBe(lots.reduce((a, x) => a + x.remaining + x.expired, 0));
      }),
    );
  });
});

describe('takeBackPostings', () => {
  it('posts the reversed expiry from expired, the rest from the member, all of it to the other side, summing to zero', () => {
    const take = { unexpire: 100, reopened: [{ lotId: 2, points: 50 }] };
    expect(takeBackPostings('M1', 400, take, 'issued')).toEqual({
      postings: [
        { account: 'member', memberId: 'M1', points: -250 },
        { account: 'expired', memberId: 'M1', points: -150 },
        { account: 'issued', memberId: 'M1', points: 400 },
      ],
      fromMember: 250,
    });
    // nothing reversed: the two postings of an ordinary take-back; all reversed: no member posting
    expect(takeBackPostings('M1', 80, { unexpire: 0, reopened: [] }, 'redeemed').postings).toEqual([
      { account: 'member', memberId: 'M1', points: -80 },
      { account: 'redeemed', memberId: 'M1', points: 80 },
    ]);
    expect(takeBackPostings('M1', 80, { unexpire: 80, reopened: [] }, 'issued').postings.map((p) => p.account)).toEqual(['expired', 'issued']);
  });
  it('sums to zero for any take-back, the member giving only what was not reversed', () => {
    const other = fc.record({ remaining: fc.nat(2000), expired: fc.nat(2000) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(other, { maxLength: 4 }), fc.array(other, { maxLength: 4 }), (points, own, others) => {
        const take = takeBackPurchase(
          own.map((x, i) => ({ lotId: 100 + i, ...x })),
          others.map((x, i) => ({ ...lot(i + 1, x.remaining, null), expired: x.expired })),
          points,
        );
        const { postings, fromMember } = takeBackPostings('M', points, take, 'issued');
        expect(postings.reduce((s, p) => s + p.points, 0)).toBe(0);
        expect(postings.every((p) => p.points !== 0)).toBe(true);
        expect(fromMember).toBe(points - take.unexpire - take.reopened.reduce((s, t) => s + t.points, 0));
        expect(fromMember).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('ExpiredLeft', () => {
  it('keeps what is left expired of each lot as take-backs reopen it, so two never reopen the same points', () => {
    const left = new ExpiredLeft();
    left.addLots(new Map([['M1', [{ id: 1, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn: '2026-11-10', expired: 300 }]]]));
    left.reopen(1, 200);
    expect(left.lotsOf('M1')).toEqual([{ id: 1, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn: '2026-11-10', expired: 100 }]);
    // read again (another member's look-up): the lot keeps what is left of it
    left.addLots(new Map([['M2', [{ id: 2, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn: '2026-11-10', expired: 50 }]]]));
    expect(left.of(1)).toBe(100);
    left.reopen(1, 100);
    expect(left.lotsOf('M1')).toEqual([]);
    expect(left.lotsOf('M3')).toEqual([]);
    // with a member's open lots: the expired lot joins them, emptied (remaining 0)
    expect(withExpired([lot(9, 40, null)], left.lotsOf('M2'))).toEqual([lot(9, 40, null), { id: 2, remaining: 0, earnedAt: '2026-01-01T00:00:00.000Z', expiresOn: '2026-11-10', expired: 50 }]);
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
