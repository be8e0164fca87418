import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDays,
  isoUtc,
  daysBetween,
  isValidZone,
  localDate,
  localDateTime,
  localRangeUtc,
  parseLocalDate,
  parseTimestamp,
  parseWithin,
  addWithin,
  startOfLocalDayMs,
} from '../../src/domain/time.js';

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('parseTimestamp (the ISO forms of SPEC §3)', () => {
  it('reads a date alone as the start of that day in the ledger zone', () => {
    expect(iso(parseTimestamp('2026-11-01', SH))).toBe('2026-10-31T16:00:00.000Z');
    expect(iso(parseTimestamp('2026-11-01', 'UTC'))).toBe('2026-11-01T00:00:00.000Z');
  });

  it('reads date-times with T or a space, with or without seconds, in the ledger zone', () => {
    expect(iso(parseTimestamp('2026-11-01 09:30', SH))).toBe('2026-11-01T01:30:00.000Z');
    expect(iso(parseTimestamp('2026-11-01T09:30', SH))).toBe('2026-11-01T01:30:00.000Z');
    expect(iso(parseTimestamp('2026-11-01 09:30:15', SH))).toBe('2026-11-01T01:30:15.000Z');
    expect(iso(parseTimestamp('2026-11-01T09:30:15.250', SH))).toBe('2026-11-01T01:30:15.250Z');
  });

  it('honours an explicit offset or Z whatever the ledger zone', () => {
    for (const zone of [SH, NY, 'UTC']) {
      expect(iso(parseTimestamp('2026-11-01T09:30:00+08:00', zone))).toBe('2026-11-01T01:30:00.000Z');
      expect(iso(parseTimestamp('2026-11-01T09:30:00Z', zone))).toBe('2026-11-01T09:30:00.000Z');
      expect(iso(parseTimestamp('2026-11-01 09:30-0530', zone))).toBe('2026-11-01T15:00:00.000Z');
      expect(iso(parseTimestamp('2026-11-01T09:30+05', zone))).toBe('2026-11-01T04:30:00.000Z');
    }
  });

  it('refuses impossible dates and times instead of moving them', () => {
    expect(parseTimestamp('2026-02-30', SH)).toBeNull();
    expect(parseTimestamp('2026-02-29 10:00', SH)).toBeNull(); // 2026 is not a leap year
    expect(parseTimestamp('2028-02-29', 'UTC')).not.toBeNull();
    expect(parseTimestamp('2026-13-01', SH)).toBeNull();
    expect(parseTimestamp('2026-04-31', SH)).toBeNull();
    expect(parseTimestamp('2026-11-01T24:00', SH)).toBeNull();
    expect(parseTimestamp('2026-11-01T10:60', SH)).toBeNull();
    expect(parseTimestamp('2026-11-01T10:00:00+15:00', SH)).toBeNull();
  });

  it('refuses other forms', () => {
    for (const t of ['', '2026-1-01', '01/11/2026', '2026-11-01T9:30', 'yesterday', '2026-11-01T09:30:00 PST', '20261101']) {
      expect(parseTimestamp(t, SH), t).toBeNull();
    }
  });

  it('reads a zone-less time in a DST zone with the offset in force on that day', () => {
    expect(iso(parseTimestamp('2026-01-15 12:00', NY))).toBe('2026-01-15T17:00:00.000Z'); // EST, UTC−5
    expect(iso(parseTimestamp('2026-07-01 12:00', NY))).toBe('2026-07-01T16:00:00.000Z'); // EDT, UTC−4
    expect(iso(parseTimestamp('2026-03-08 01:59', NY))).toBe('2026-03-08T06:59:00.000Z'); // just before the jump
    expect(iso(parseTimestamp('2026-03-08 03:00', NY))).toBe('2026-03-08T07:00:00.000Z'); // just after
    expect(iso(parseTimestamp('2026-11-01 02:30', NY))).toBe('2026-11-01T07:30:00.000Z'); // after fall-back
  });

  it('moves a wall time skipped by spring-forward past the gap, never back an hour', () => {
    const ms = parseTimestamp('2026-03-08 02:30', NY)!;
    expect(iso(ms)).toBe('2026-03-08T07:30:00.000Z');
    expect(localDateTime(ms, NY)).toBe('2026-03-08 03:30');
    const berlin = parseTimestamp('2026-03-29 02:30', 'Europe/Berlin')!;
    expect(localDateTime(berlin, 'Europe/Berlin')).toBe('2026-03-29 03:30');
  });

  it('reads an ambiguous fall-back wall time as one of its two instants', () => {
    const ms = parseTimestamp('2026-11-01 01:30', NY)!;
    expect(['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']).toContain(iso(ms));
    expect(localDateTime(ms, NY)).toBe('2026-11-01 01:30');
  });

  it('property: a zone-less wall time reads back as itself in the zone (outside DST gaps)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(SH, NY, 'Europe/London', 'UTC', 'Asia/Kolkata', 'Australia/Sydney'),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2037, 11, 31) }),
        (zone, utc) => {
          const wall = localDateTime(utc, zone);
          const back = parseTimestamp(wall, zone)!;
          expect(localDateTime(back, zone)).toBe(wall);
          expect(localDate(back, zone)).toBe(wall.slice(0, 10));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('calendar dates in the ledger zone', () => {
  it('gives the local date of an instant', () => {
    expect(localDate('2026-11-22T16:30:00.000Z', SH)).toBe('2026-11-23');
    expect(localDate('2026-11-22T16:30:00.000Z', 'UTC')).toBe('2026-11-22');
    expect(localDate(Date.parse('2026-07-01T03:00:00Z'), NY)).toBe('2026-06-30');
  });

  it('parses strict calendar dates only', () => {
    expect(parseLocalDate('2026-11-23')).toBe('2026-11-23');
    expect(parseLocalDate('2026-02-30')).toBeNull();
    expect(parseLocalDate('2026-11-23T00:00')).toBeNull();
    expect(parseLocalDate('26-11-23')).toBeNull();
  });

  it('adds days and counts days across months, years and DST', () => {
    expect(addDays('2026-11-23', 365)).toBe('2027-11-23');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(30);
    expect(daysBetween('2026-12-31', '2026-01-01')).toBe(-364);
  });

  it('starts each local day at local midnight, even where midnight is skipped by DST', () => {
    expect(iso(startOfLocalDayMs('2026-11-23', SH))).toBe('2026-11-22T16:00:00.000Z');
    expect(iso(startOfLocalDayMs('2026-03-08', NY))).toBe('2026-03-08T05:00:00.000Z');
    // Santiago springs forward at midnight: the day starts at 01:00 and must still be that date.
    const santiago = startOfLocalDayMs('2026-09-06', 'America/Santiago');
    expect(localDate(santiago, 'America/Santiago')).toBe('2026-09-06');
    expect(localDateTime(santiago, 'America/Santiago')).toBe('2026-09-06 01:00');
  });

  it('covers inclusive local dates with a half-open UTC range', () => {
    expect(localRangeUtc(SH, '2026-11-01', '2026-11-30')).toEqual({ fromIso: '2026-10-31T16:00:00.000Z', toIso: '2026-11-30T16:00:00.000Z' });
    expect(localRangeUtc(SH, undefined, '2026-11-30')).toEqual({ fromIso: undefined, toIso: '2026-11-30T16:00:00.000Z' });
  });

  it('reads windows and zones', () => {
    expect(parseWithin('30d')).toEqual({ days: 30, months: 0 });
    expect(parseWithin('2w')).toEqual({ days: 14, months: 0 });
    expect(parseWithin('3m')).toEqual({ days: 0, months: 3 });
    expect(parseWithin('7')).toEqual({ days: 7, months: 0 });
    expect(parseWithin('x')).toBeNull();
    // months are calendar months (trial 26: 12m was 360 days), on the month's last day where it is shorter
    expect(addWithin('2026-03-10', parseWithin('12m')!)).toBe('2027-03-10');
    expect(addWithin('2026-01-31', parseWithin('1m')!)).toBe('2026-02-28');
    expect(addWithin('2024-01-31', parseWithin('1m')!)).toBe('2024-02-29');
    expect(addWithin('2026-11-23', parseWithin('2m')!)).toBe('2027-01-23');
    expect(addWithin('2026-11-23', parseWithin('30d')!)).toBe('2026-12-23');
    expect(isValidZone('America/New_York')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
  });
});

describe('DST gaps and repeated hours', () => {
  it('a wall time the clocks skip does not exist; a repeated one is its earlier instant, east or west of UTC', async () => {
    const { zonedToUtcMsExact, zonedToUtcMs, dstGap, parseTimestamp } = await import('../../src/domain/time.js');
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(zonedToUtcMsExact('America/New_York', 2026, 3, 8, 2, 30)).toBeNaN();
    expect(dstGap('America/New_York', 2026, 3, 8, 2, 30)).toEqual({ from: '02:00', to: '03:00' });
    expect(dstGap('America/New_York', 2026, 3, 8, 3, 0)).toBeNull();
    expect(iso(zonedToUtcMsExact('America/New_York', 2026, 3, 8, 1, 59))).toBe('2026-03-08T06:59:00.000Z');
    expect(iso(zonedToUtcMsExact('America/New_York', 2026, 3, 8, 3, 0))).toBe('2026-03-08T07:00:00.000Z');
    // elsewhere (rules --effective) a gap's time still moves past it
    expect(iso(zonedToUtcMs('America/New_York', 2026, 3, 8, 2, 30))).toBe('2026-03-08T07:30:00.000Z');
    expect(parseTimestamp('2026-03-08 02:30', 'America/New_York', true)).toBeNaN();
    // 01:30 happens twice on 1 Nov in New York (EDT, then EST): the first, 05:30Z
    expect(iso(zonedToUtcMsExact('America/New_York', 2026, 11, 1, 1, 30))).toBe('2026-11-01T05:30:00.000Z');
    // 02:30 twice on 25 Oct in Berlin (CEST, then CET): the first, 00:30Z (was the second, 01:30Z)
    expect(iso(zonedToUtcMs('Europe/Berlin', 2026, 10, 25, 2, 30))).toBe('2026-10-25T00:30:00.000Z');
    expect(dstGap('Europe/Berlin', 2026, 3, 29, 2, 15)).toEqual({ from: '02:00', to: '03:00' });
    // Lord Howe moves by half an hour
    expect(dstGap('Australia/Lord_Howe', 2026, 10, 4, 2, 10)).toEqual({ from: '02:00', to: '02:30' });
    expect(iso(zonedToUtcMsExact('Asia/Shanghai', 2026, 3, 8, 2, 30))).toBe('2026-03-07T18:30:00.000Z');
  });
});

describe('the last day there is', () => {
  it('a range to 9999-12-31 ends at the last instant an ISO date names (a report --to 9999-12-31 is not an internal error)', () => {
    expect(localRangeUtc('Asia/Shanghai', '2026-01-01', '9999-12-31')).toEqual({ fromIso: '2025-12-31T16:00:00.000Z', toIso: '9999-12-31T23:59:59.999Z' });
  });
});

describe('isoUtc', () => {
  it('is toISOString exactly, for instants in any order (its day cache never leaks)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 })), { minLength: 1, maxLength: 50 }), (list) => {
        for (const ms of list) expect(isoUtc(ms)).toBe(new Date(ms).toISOString());
      }),
    );
    for (const ms of [0, 999, 86_399_999, 86_400_000, 253_402_300_799_999, -1]) expect(isoUtc(ms)).toBe(new Date(ms).toISOString());
  });
});
