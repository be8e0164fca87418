import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  LocalDays,
  RECENCY_DAYS,
  SEGMENT_RULES,
  bucketOf,
  bucketStart,
  bucketsBetween,
  cutBands,
  isoWeek,
  netChange,
  nextBucket,
  orderExpiryBuckets,
  quintileCuts,
  reconcile,
  recencyBands,
  recencyScore,
  rfmSegments,
  scoreByCuts,
  segmentOf,
  partValues,
  valueOf,
} from '../../src/domain/reports.js';
import { addDays, localDate } from '../../src/domain/time.js';

const dateArb = fc.integer({ min: 0, max: 365 * 60 }).map((n) => addDays('1990-01-01', n));
const dow = (d: string) => new Date(`${d}T00:00:00Z`).getUTCDay();

describe('calendar buckets', () => {
  it('numbers ISO weeks across year ends', () => {
    expect(isoWeek('2026-01-01')).toBe('2026-W01'); // a Thursday
    expect(isoWeek('2027-01-01')).toBe('2026-W53'); // a Friday: still the last week of 2026
    expect(isoWeek('2024-12-30')).toBe('2025-W01'); // a Monday in week 1 of the next year
    expect(isoWeek('2021-01-03')).toBe('2020-W53'); // a Sunday
    expect(isoWeek('2026-11-23')).toBe('2026-W48');
  });

  it('starts every ISO week on the Monday on or before the date', () => {
    fc.assert(
      fc.property(dateArb, (d) => {
        const k = isoWeek(d);
        const start = bucketStart(k, 'week');
        expect(dow(start)).toBe(1);
        expect(start <= d && addDays(start, 6) >= d).toBe(true);
        expect(isoWeek(start)).toBe(k);
      }),
    );
  });

  it('walks buckets without gaps or repeats', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 400 }), fc.constantFrom('day', 'week', 'month' as const), (d, n, by) => {
        const first = by === 'day' ? d : by === 'month' ? d.slice(0, 7) : isoWeek(d);
        const last = by === 'day' ? addDays(d, n) : by === 'month' ? addDays(d, n * 3).slice(0, 7) : isoWeek(addDays(d, n));
        const ks = bucketsBetween(first, last, by)!;
        expect(ks[0]).toBe(first);
        expect(ks[ks.length - 1]).toBe(last);
        for (let i = 1; i < ks.length; i++) {
          expect(ks[i] > ks[i - 1]).toBe(true);
          expect(nextBucket(ks[i - 1], by)).toBe(ks[i]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('maps instants to local dates by day boundaries exactly as localDate does, DST included', () => {
    const from = Date.parse('2025-12-01T00:00:00Z');
    const to = Date.parse('2027-04-01T00:00:00Z');
    for (const zone of ['America/New_York', 'Europe/London', 'Asia/Shanghai', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'UTC']) {
      const days = new LocalDays(zone, from, to);
      fc.assert(
        fc.property(fc.integer({ min: from - 86_400_000, max: to + 86_400_000 }), (ms) => {
          expect(days.dateOf(ms)).toBe(localDate(ms, zone));
        }),
        { numRuns: 300 },
      );
      // exactly at and just before each local midnight around a DST change
      for (const d of ['2026-03-08', '2026-03-29', '2026-10-04', '2026-11-01', '2026-10-25']) {
        const boundary = Date.parse(`${d}T00:00:00Z`);
        for (let k = -30; k <= 30; k++) {
          const ms = boundary + k * 15 * 60_000;
          expect(days.dateOf(ms)).toBe(localDate(ms, zone));
        }
      }
    }
  });

  it('gives up filling gaps beyond the limit', () => {
    expect(bucketsBetween('2000-01-01', '2030-01-01', 'day', 100)).toBeNull();
  });

  it('buckets an instant by its date in the ledger zone, not its UTC date', () => {
    // 23:30 on 31 October in New York is already 1 November in UTC
    expect(bucketOf('2026-11-01T03:30:00.000Z', 'America/New_York', 'month')).toBe('2026-10');
    expect(bucketOf('2026-11-01T03:30:00.000Z', 'UTC', 'month')).toBe('2026-11');
    // 00:30 on 1 November in Shanghai is still 31 October in UTC
    expect(bucketOf('2026-10-31T16:30:00.000Z', 'Asia/Shanghai', 'month')).toBe('2026-11');
    expect(bucketOf('2026-10-31T16:30:00.000Z', 'Asia/Shanghai', 'day')).toBe('2026-11-01');
    // the night the clocks go back in New York (1 Nov 2026): 23:59 local is 04:59Z
    expect(bucketOf('2026-11-02T04:59:00.000Z', 'America/New_York', 'day')).toBe('2026-11-01');
    expect(bucketOf('2026-11-02T05:00:00.000Z', 'America/New_York', 'day')).toBe('2026-11-02');
    // a Sunday late in Kathmandu (+05:45) belongs to the week that ends that day
    expect(bucketOf('2026-11-22T18:00:00.000Z', 'Asia/Kathmandu', 'week')).toBe('2026-W47');
    expect(bucketOf('2026-11-22T18:15:00.000Z', 'Asia/Kathmandu', 'week')).toBe('2026-W48');
  });
});

describe('flows and reconciliation', () => {
  const flowArb = fc.record({
    issued: fc.nat(1e9),
    returned: fc.nat(1e9),
    redeemed: fc.integer({ min: -1e6, max: 1e9 }),
    expired: fc.nat(1e9),
    adjusted: fc.integer({ min: -1e9, max: 1e9 }),
  });

  it('reconciles opening plus flows with the closing balance', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), flowArb, (opening, f) => {
        const closing = opening + f.issued - f.returned - f.redeemed - f.expired + f.adjusted;
        expect(netChange(f)).toBe(closing - opening);
        expect(reconcile(opening, f, closing).ok).toBe(true);
        expect(reconcile(opening, f, closing + 1).ok).toBe(false);
      }),
    );
  });

  it('prints the reconciliation line with the sign of the adjustments', () => {
    expect(reconcile(100, { issued: 50, returned: 5, redeemed: 20, expired: 10, adjusted: -15 }, 100).line).toBe('100 + 50 − 5 − 20 − 10 − 15 = 100');
    expect(reconcile(0, { issued: 0, returned: 0, redeemed: 0, expired: 0, adjusted: 7 }, 8).line).toBe('0 + 0 − 0 − 0 − 0 + 7 = 7 ≠ 8');
  });
});

describe('liability', () => {
  it('values points at the redeem rate, whole minor units only', () => {
    expect(valueOf(700, '100', 2)).toBe('7.00');
    expect(valueOf(12345, '100', 2)).toBe('123.45');
  });

  it('the parts of a total (expiry months) are shared out of its value and add up to it exactly', () => {
    // 725 and 16125 points at 1000 a yuan: floored apart 0.72 + 16.12 = 16.84, the total 16.85
    expect(partValues([725, 16125], '1000', 2)).toEqual(['0.73', '16.12']);
    const minor = (v: string) => Math.round(Number(v) * 100);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 12 }), fc.constantFrom('1', '7', '100', '1000', '33.3'), (points, rate) => {
        const parts = partValues(points, rate, 2);
        const total = points.reduce((a, p) => a + p, 0);
        expect(parts.reduce((a, v) => a + minor(v), 0)).toBe(minor(valueOf(total, rate, 2)));
        parts.forEach((v, i) => expect(Math.abs(minor(v) - minor(valueOf(points[i], rate, 2)))).toBeLessThanOrEqual(1));
      }),
    );
    expect(valueOf(12345, '1000', 2)).toBe('12.34');
    expect(valueOf(999, '100', 0)).toBe('9');
  });

  it('orders expiry months in calendar order with never last and drops empty months', () => {
    expect(
      orderExpiryBuckets([
        { month: null, points: 5 },
        { month: '2027-02', points: 3 },
        { month: '2026-12', points: 0 },
        { month: '2026-11', points: 9 },
      ]),
    ).toEqual([
      { month: '2026-11', points: 9 },
      { month: '2027-02', points: 3 },
      { month: null, points: 5 },
    ]);
  });
});

describe('RFM segments', () => {
  it('scores recency on the printed day bands', () => {
    expect(RECENCY_DAYS).toEqual([30, 60, 90, 180]);
    expect([0, 30, 31, 60, 61, 90, 91, 180, 181, 5000].map(recencyScore)).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    for (const b of recencyBands()) {
      if (b.min !== null) expect(recencyScore(b.min)).toBe(b.score);
      if (b.max !== null) expect(recencyScore(b.max)).toBe(b.score);
    }
  });

  it('splits distinct values into even quintiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const cuts = quintileCuts(values);
    expect(cuts).toEqual([20, 40, 60, 80]);
    const counts = [0, 0, 0, 0, 0];
    for (const v of values) counts[scoreByCuts(v, cuts) - 1]++;
    expect(counts).toEqual([20, 20, 20, 20, 20]);
  });

  it('scores monotonically, keeps ties together, and prints bands that agree with the scores', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }), (values) => {
        const cuts = quintileCuts(values);
        const bands = cutBands(cuts);
        const sorted = [...values].sort((a, b) => a - b);
        for (let i = 1; i < sorted.length; i++) expect(scoreByCuts(sorted[i], cuts)).toBeGreaterThanOrEqual(scoreByCuts(sorted[i - 1], cuts));
        for (const v of values) {
          const s = scoreByCuts(v, cuts);
          expect(s).toBeGreaterThanOrEqual(1);
          expect(s).toBeLessThanOrEqual(5);
          const band = bands.find((b) => (b.min === null || v >= b.min) && (b.max === null || v <= b.max));
          expect(band?.score).toBe(s);
        }
      }),
    );
  });

  it('puts every score combination in exactly one named segment', () => {
    const names = new Set(SEGMENT_RULES.map((r) => r.segment));
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) for (const n of [1, 4]) expect(names.has(segmentOf(r, f, m, n))).toBe(true);
    expect(segmentOf(5, 5, 5, 20)).toBe('champions');
    expect(segmentOf(5, 1, 1, 1)).toBe('new');
    // four orders in the lowest fifth of frequency are not a new customer's
    expect(segmentOf(5, 1, 1, 4)).toBe('promising');
    expect(segmentOf(1, 5, 5, 20)).toBe('at risk');
    expect(segmentOf(1, 1, 1, 1)).toBe('lost');
    expect(segmentOf(2, 1, 1, 1)).toBe('hibernating');
  });

  it('counts every member once, buyers or not, with recency in the ledger zone', () => {
    const buyers = [
      { memberId: 'A', lastAt: '2026-11-22T16:30:00.000Z', orders: 9, earned: 900 }, // 23 Nov 00:30 in Shanghai
      { memberId: 'B', lastAt: '2026-01-01T00:00:00.000Z', orders: 1, earned: 10 },
      { memberId: 'C', lastAt: '2026-11-01T00:00:00.000Z', orders: 2, earned: 50 },
    ];
    const r = rfmSegments(buyers, 5, '2026-11-23', 'Asia/Shanghai');
    expect(r.members.find((m) => m.memberId === 'A')!.recencyDays).toBe(0);
    expect(r.segments.reduce((a, s) => a + s.members, 0)).toBe(5);
    expect(r.segments.find((s) => s.segment === 'no purchases')!.members).toBe(2);
    expect(r.members.find((m) => m.memberId === 'A')!.segment).toBe('champions');
    expect(r.members.find((m) => m.memberId === 'B')!.segment).toBe('lost');
    expect(r.thresholds.recencyDays[0]).toEqual({ score: 5, min: 0, max: 30 });
  });
});
