// The ledger zone's offsets as the main thread reads them (the process run in that zone, offsetByLocalTime)
// against Intl's wall time there (offsetByIntl, the workers' way): the same minute for every zone this Node
// knows, at any instant from 1970 (MIN_YEAR) to 2100, and at every change of offset to the minute.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { machineZone, offsetByIntl, offsetByLocalTime, zoneOffsetMinutes } from '../../src/domain/time.js';

const ZONES = Intl.supportedValuesOf('timeZone');
const FROM = Date.UTC(1970, 0, 1);
const TO = Date.UTC(2100, 0, 1);
const DAY = 86_400_000;
const STEP = (process.env.POINTSMALL_LONG === '1' ? 10 : 40) * DAY;
const started = { tz: process.env.TZ, zone: machineZone() };

afterAll(() => {
  if (started.tz === undefined) delete process.env.TZ;
  else process.env.TZ = started.tz;
});

describe('zone offsets read from local time agree with Intl', () => {
  it('every zone, every 40 days (10 in the long run) from 1970 to 2045, and each change of offset found between to the minute', () => {
    let changes = 0;
    for (const zone of ZONES) {
      let prev = offsetByIntl(zone, FROM);
      for (let ms = FROM; ms < Date.UTC(2045, 0, 1); ms += STEP) {
        const want = offsetByIntl(zone, ms);
        expect(offsetByLocalTime(zone, ms), `${zone} at ${new Date(ms).toISOString()}`).toBe(want);
        if (want !== prev) {
          // the change lies in the last step: find its minute by Intl, and check both sides of it
          let lo = ms - STEP;
          let hi = ms;
          while (hi - lo > 60_000) {
            const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
            if (offsetByIntl(zone, mid) === want) hi = mid;
            else lo = mid;
          }
          for (const at of [lo, hi, hi - 1000, hi + 1000]) expect(offsetByLocalTime(zone, at), `${zone} at ${new Date(at).toISOString()}`).toBe(offsetByIntl(zone, at));
          changes++;
          prev = want;
        }
      }
    }
    expect(ZONES.length).toBeGreaterThan(300);
    expect(changes).toBeGreaterThan(10_000); // DST twice a year in many zones: the search above was exercised
  });

  it('any zone at any instant to 2100, through the cache of 15-minute slots too', () => {
    fc.assert(
      // (whole seconds: Intl formats no milliseconds, so a zone's offset of 44 minutes 30 seconds (Monrovia
      // to 1972) reads as 44.5 minutes only at a whole second, rounded to 44 as local time reads it)
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: FROM / 1000, max: TO / 1000 }), (zone, s) => {
        const ms = s * 1000;
        const want = offsetByIntl(zone, ms);
        expect(offsetByLocalTime(zone, ms)).toBe(want);
        expect(zoneOffsetMinutes(zone, ms)).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('a zone Intl does not know throws, as Intl does (local time would read it as UTC); an alias is known', () => {
    expect(() => offsetByLocalTime('Not/AZone', 0)).toThrow(RangeError);
    expect(() => zoneOffsetMinutes('Not/AZone', 0)).toThrow(RangeError);
    expect(offsetByLocalTime('US/Pacific', Date.UTC(2026, 0, 1))).toBe(-480);
    expect(offsetByLocalTime('UTC', 0)).toBe(0);
  });

  it('a zone named in another case reads as Intl reads it (trial 30: local time took it for UTC)', () => {
    for (const [zone, ms] of [['asia/kathmandu', Date.UTC(2026, 2, 1)], ['AMERICA/NEW_YORK', Date.UTC(2026, 6, 1)], ['etc/gmt+5', 0]] as const) {
      expect(offsetByLocalTime(zone, ms)).toBe(offsetByIntl(zone, ms));
      expect(zoneOffsetMinutes(zone, ms)).toBe(offsetByIntl(zone, ms));
    }
    expect(offsetByLocalTime('asia/kathmandu', 0)).toBe(330);
  });

  it('an offset change inside a 15-minute slot is read at the instant (St John\'s changed at 00:01 local until 2011)', () => {
    // 2010-03-14: 00:01 NST (-3:30) became 01:01 NDT (-2:30), at 03:31 UTC
    const change = Date.UTC(2010, 2, 14, 3, 31);
    expect(zoneOffsetMinutes('America/St_Johns', change - 60_000)).toBe(-210);
    expect(zoneOffsetMinutes('America/St_Johns', change + 60_000)).toBe(-150);
    expect(zoneOffsetMinutes('America/St_Johns', change)).toBe(-150);
  });

  it('the machine\'s zone reads the same after the process ran in others', () => {
    offsetByLocalTime('Pacific/Chatham', Date.UTC(2026, 0, 1));
    offsetByLocalTime('America/St_Johns', Date.UTC(2026, 6, 1));
    expect(machineZone()).toBe(started.zone);
  });
});
