// Calendar logic in the ledger's IANA zone. Pure: the current time is always passed in.

import { isMainThread } from 'node:worker_threads';
import { lookalikeCharsProblem } from './text.js';

export type LocalDate = string; // YYYY-MM-DD

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = partsCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsCache.set(zone, f);
  }
  return f;
}

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** TZ as the process started with it (offsetByLocalTime sets it): machineZone reads the machine's zone under it. */
const STARTED_TZ = process.env.TZ;

function setTz(tz: string | undefined): void {
  if (process.env.TZ === tz) return;
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
}

/** TZ as the process started with it: undefined when unset. */
export const startedTz = (): string | undefined => STARTED_TZ;

export function machineZone(): string {
  if (STARTED_TZ === '') return 'UTC'; // (an empty TZ is UTC, as POSIX says; ICU would say Etc/Unknown)
  const now = process.env.TZ;
  setTz(STARTED_TZ);
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return zone && zone !== 'Etc/Unknown' ? zone : 'UTC';
  } finally {
    setTz(now);
  }
}

/**
 * Offset of `zone` at `ms` from the process's own local time, run in that zone. Node applies a TZ set in
 * process.env at once, and local time reads ICU's rules of the zone in about a microsecond, where the
 * first Intl.DateTimeFormat of a process costs ICU's locale data (30–70 ms, a sixth of a command's
 * start). Only on the main thread: a worker's process.env is its own copy, and setting TZ there changes
 * nothing. Nothing here reads local time otherwise (every instant is UTC ISO, every day the ledger's).
 * The same offsets as the formatter's (test/domain/time-offsets.property.test.ts).
 */
export function offsetByLocalTime(zone: string, ms: number): number {
  setTz(tzNames.get(zone) ?? tzName(zone));
  return Math.round(-new Date(ms).getTimezoneOffset()) || 0; // (never -0)
}

/** Offset of `zone` at `ms` from the wall time Intl formats there (the workers' way, and the check of the other). */
export function offsetByIntl(zone: string, ms: number): number {
  const p = formatter(zone).formatToParts(new Date(ms));
  const get = (t: string) => Number(p.find((x) => x.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - ms) / 60_000) || 0;
}

/** Each zone's name as TZ takes it, checked once a process (tzName). */
const tzNames = new Map<string, string>([['UTC', 'UTC'], ['Etc/UTC', 'Etc/UTC'], ['GMT', 'GMT'], ['Etc/GMT', 'Etc/GMT']]);

/**
 * The name TZ must be given for `zone`. Local time reads a zone it does not know as UTC, silently, where
 * Intl throws, and it knows names only in their own case (Intl takes asia/kathmandu too): so a name not
 * in ICU's list as it is spelled (a 2 ms look-up, not 30) is resolved by Intl, which throws for an
 * unknown zone and gives a known one its spelling.
 */
function tzName(zone: string): string {
  const name = Intl.supportedValuesOf('timeZone').includes(zone) ? zone : canonicalZone(zone);
  tzNames.set(zone, name);
  return name;
}

/** The zone's IANA name as Intl spells it (asia/kathmandu → Asia/Kathmandu); throws RangeError for an unknown one. */
export function canonicalZone(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

/** The way this thread reads offsets: local time on the main thread (offsetByLocalTime), else Intl. */
const offsetOf = isMainThread ? offsetByLocalTime : offsetByIntl;

const offsetCache = new Map<string, number>();
/** A 15-minute slot in which the zone's offset changes: read at the instant itself, never cached. */
const CHANGES = 1e9;
/**
 * Offset of `zone` from UTC in minutes at the instant `utcMs`: cached per zone and 15-minute slot where
 * the offset is the same at both ends of the slot; in a slot where it changes (St John's changed at 00:01
 * until 2011), read at the instant (to the second, as Intl gives it).
 */
export function zoneOffsetMinutes(zone: string, utcMs: number): number {
  const slot = Math.floor(utcMs / 900_000);
  const key = `${zone}|${slot}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    off = offsetOf(zone, slot * 900_000);
    if (offsetOf(zone, slot * 900_000 + 899_000) !== off) off = CHANGES;
    if (offsetCache.size > 100_000) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off === CHANGES ? offsetOf(zone, Math.floor(utcMs / 1000) * 1000) : off;
}

/**
 * The wall-clock instant y-m-d h:mi:s in `zone`, as UTC milliseconds; NaN when that wall time does not
 * exist (skipped by a DST jump: 02:30 on spring-forward night). In the hour a DST end repeats, the
 * earlier instant (the first time the clock showed it).
 */
export function zonedToUtcMsExact(zone: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // the offsets a day either side: a wall time is read with one of them (zones change at most once a day)
  const before = zoneOffsetMinutes(zone, wall - 86_400_000);
  const after = zoneOffsetMinutes(zone, wall + 86_400_000);
  const a = wall - before * 60_000;
  const aOk = zoneOffsetMinutes(zone, a) === before;
  if (before === after) {
    if (aOk) return a;
  } else {
    const b = wall - after * 60_000;
    const bOk = zoneOffsetMinutes(zone, b) === after;
    if (aOk && bOk) return Math.min(a, b);
    if (aOk) return a;
    if (bOk) return b;
  }
  // offsets that change on both sides of a day (never in practice): read it at the offset there
  const guess = wall - zoneOffsetMinutes(zone, wall) * 60_000;
  const second = wall - zoneOffsetMinutes(zone, guess) * 60_000;
  if (wall - zoneOffsetMinutes(zone, second) * 60_000 === second) return second;
  return NaN;
}

/** The wall-clock instant y-m-d h:mi:s in `zone`, as UTC milliseconds (zonedToUtcMsExact, a gap's time moved past it). */
export function zonedToUtcMs(zone: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const exact = zonedToUtcMsExact(zone, y, mo, d, h, mi, s, ms);
  if (!Number.isNaN(exact)) return exact;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const guess = wall - zoneOffsetMinutes(zone, wall) * 60_000;
  const second = wall - zoneOffsetMinutes(zone, guess) * 60_000;
  // A wall time skipped by a DST jump (02:30 on spring-forward night) is moved forward past the gap,
  // as java.time and Temporal do, never back an hour.
  return Math.max(guess, second);
}

/**
 * When the wall time falls in a gap of `zone` (its clocks jumped over it), the gap's first and last
 * wall-clock minutes (`HH:mm`, the end exclusive); else null.
 */
export function dstGap(zone: string, y: number, mo: number, d: number, h = 0, mi = 0): { from: string; to: string } | null {
  if (!Number.isNaN(zonedToUtcMsExact(zone, y, mo, d, h, mi))) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const before = zoneOffsetMinutes(zone, wall - 86_400_000);
  const after = zoneOffsetMinutes(zone, wall + 86_400_000);
  // the jump lies between the wall time read at the later offset and at the earlier one
  let t = Math.floor((wall - after * 60_000) / 900_000) * 900_000;
  const end = wall - before * 60_000;
  while (t <= end && zoneOffsetMinutes(zone, t) !== after) t += 900_000;
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return { from: hhmm(t + before * 60_000), to: hhmm(t + after * 60_000) };
}

/** The calendar date in `zone` of the instant. */
export function localDate(utc: number | string | Date, zone: string): LocalDate {
  const ms = typeof utc === 'number' ? utc : typeof utc === 'string' ? Date.parse(utc) : utc.getTime();
  const shifted = new Date(ms + zoneOffsetMinutes(zone, ms) * 60_000);
  return shifted.toISOString().slice(0, 10);
}

/** Local wall-clock time of the instant in `zone` as "YYYY-MM-DD HH:mm". */
export function localDateTime(utc: number | string, zone: string): string {
  const ms = typeof utc === 'number' ? utc : Date.parse(utc);
  const shifted = new Date(ms + zoneOffsetMinutes(zone, ms) * 60_000);
  return shifted.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The earliest date pointsmall takes (README "Limits"): an earlier one is refused, never moved (Date.UTC
 * reads years 0–99 as 1900–1999, so 0001-01-01 once became 1900-12-31).
 */
export const MIN_YEAR = 1970;
export const MIN_DATE: LocalDate = '1970-01-01';

/** An ISO date's shape at the start of text (a year of four or more digits, then -M-D): its year, else null. */
function isoYear(text: string): number | null {
  const m = /^\s*([+-]?\d{4,6})-\d{1,2}-\d{1,2}(?!\d)/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Why a date or timestamp's text is out of range (an ISO date whose year is before MIN_YEAR), else null.
 * Only an ISO date has a year where one looks: `11/03/2026` is in another format, not the year 11.
 */
export function dateRangeProblem(text: string): string | null {
  const y = isoYear(text);
  if (y === null || y >= MIN_YEAR) return null;
  return `${JSON.stringify(text.trim())} is before ${MIN_DATE}, the earliest date pointsmall takes`;
}

/**
 * Why an import's timestamp that no --date-format was given for could not be read: an ISO date that is
 * not a real one (2026-02-30), or a value in another format, which --date-format can describe.
 */
export function unreadTimestampReason(text: string): string {
  const expected = 'an ISO date or date-time like 2026-11-01 09:30';
  const odd = lookalikeCharsProblem(text);
  if (odd) return `${JSON.stringify(text.trim())} is not a date-time pointsmall reads: ${odd}`;
  if (isoYear(text) !== null) return `${JSON.stringify(text.trim())} is not a valid date-time${noSuchDay(text)} (expected ${expected})`;
  return `${JSON.stringify(text.trim())} is not in a format pointsmall reads (expected ${expected}); for another format pass --date-format, e.g. "M/D/YYYY H:mm", "D/M/YY" or "DD.MM.YYYY HH:mm:ss"`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** An ISO date's month or day that does not exist, in words (": February 2026 has 28 days"); '' when both do. */
function noSuchDay(text: string): string {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)/.exec(text);
  if (!m) return '';
  const [y, month, day] = [+m[1], +m[2], +m[3]];
  if (month < 1 || month > 12) return `: there is no month ${month}`;
  const dim = daysInMonth(y, month);
  return day < 1 || day > dim ? `: ${MONTHS[month - 1]} ${y} has ${dim} days` : '';
}

/** Days in month `m` (1–12) of year `y` (Gregorian; arithmetic, no Date: the import's row parser calls it per row). */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

export function isValidYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || y < MIN_YEAR || y > 9999) return false;
  return d <= daysInMonth(y, m);
}

/** Parses a strict `YYYY-MM-DD` calendar date; null when malformed or impossible (2026-02-30). */
export function parseLocalDate(text: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return null;
  return isValidYmd(+m[1], +m[2], +m[3]) ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Days from a to b (b − a), both calendar dates. */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  const [y1, m1, d1] = a.split('-').map(Number);
  const [y2, m2, d2] = b.split('-').map(Number);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86_400_000);
}

/** UTC instant at which the calendar date starts in `zone`. */
export function startOfLocalDayMs(date: LocalDate, zone: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return zonedToUtcMs(zone, y, m, d);
}

/**
 * The UTC ISO instant a calendar date ends in `zone` (exclusive: the next day's start). The last day there
 * is (9999-12-31) ends with the last instant an ISO date can name: the day after it has no ISO form that
 * sorts with the others (+010000-…).
 */
export function localDayEndIso(date: LocalDate, zone: string): string {
  return date >= LAST_DAY ? END_OF_TIME : new Date(startOfLocalDayMs(addDays(date, 1), zone)).toISOString();
}

/** The UTC ISO range [from 00:00, to+1 00:00) covering inclusive local dates; either end may be open. */
export function localRangeUtc(zone: string, from?: LocalDate, to?: LocalDate): { fromIso?: string; toIso?: string } {
  return {
    fromIso: from ? new Date(startOfLocalDayMs(from, zone)).toISOString() : undefined,
    toIso: to ? localDayEndIso(to, zone) : undefined,
  };
}
const LAST_DAY = '9999-12-31';
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Reads an ISO-8601 date or date-time (`T` or space, optional seconds, fraction and offset).
 * Without an offset it is wall-clock time in `zone`. Returns UTC ms, or null when malformed or impossible;
 * a wall time skipped by a DST jump is moved past the gap, or with `exact` is NaN.
 */
export function parseTimestamp(text: string, zone: string, exact = false): number | null {
  const p = readIsoParts(text);
  if (!p) return null;
  if (p.offsetMin === null) return exact ? zonedToUtcMsExact(zone, p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms) : zonedToUtcMs(zone, p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms) - p.offsetMin * 60_000;
}

/** The parts of an ISO-8601 date or date-time (parseTimestamp's shapes); null when malformed or impossible. */
export function readIsoParts(text: string): { y: number; mo: number; d: number; h: number; mi: number; s: number; ms: number; offsetMin: number | null } | null {
  const m = ISO_RE.exec(text.trim());
  if (!m) return null;
  const y = +m[1], mo = +m[2], d = +m[3];
  if (!isValidYmd(y, mo, d)) return null;
  const h = m[4] ? +m[4] : 0, mi = m[5] ? +m[5] : 0, s = m[6] ? +m[6] : 0;
  if (h > 23 || mi > 59 || s > 59) return null;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const off = m[8];
  if (!off) return { y, mo, d, h, mi, s, ms, offsetMin: null };
  if (off === 'Z') return { y, mo, d, h, mi, s, ms, offsetMin: 0 };
  const sign = off[0] === '-' ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  const oh = +digits.slice(0, 2), om = digits.length > 2 ? +digits.slice(2) : 0;
  if (oh > 14 || om > 59) return null;
  return { y, mo, d, h, mi, s, ms, offsetMin: sign * (oh * 60 + om) };
}

/** Reads a window like `30d`, `2w`, `3m` (months as 30 days) into days. */
/** A window from a date: days (`30d`, `2w`, a bare `30`) or calendar months (`3m`). */
export interface Within {
  days: number;
  months: number;
}

export function parseWithin(text: string): Within | null {
  const m = /^(\d{1,4})\s*([dwm]?)$/.exec(text.trim());
  if (!m) return null;
  const n = +m[1];
  return m[2] === 'm' ? { days: 0, months: n } : { days: m[2] === 'w' ? n * 7 : n, months: 0 };
}

/** The date a window from `date` ends on: N days later, or the same day N calendar months later (the month's last day where it is shorter). */
export function addWithin(date: LocalDate, w: Within): LocalDate {
  if (!w.months) return addDays(date, w.days);
  const [y, m, d] = date.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1 + w.months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return addDays(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, last))).toISOString().slice(0, 10), w.days);
}

const DAY_MS = 86_400_000;
/** The last day isoUtc formatted, and its 'YYYY-MM-DDT'. */
let isoDay = NaN;
let isoPrefix = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * new Date(ms).toISOString(), the same text, made cheaply for many instants in time order (an
 * import's orders): the date part is formatted once per UTC day, the time of day by arithmetic.
 */
export function isoUtc(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString(); // (years 0000–1969 and past 9999 too)
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  let t = ms - day * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const s = t % 60;
  t = (t - s) / 60;
  const mi = t % 60;
  const h = (t - mi) / 60;
  return `${isoPrefix}${pad2(h)}:${pad2(mi)}:${pad2(s)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/**
 * An instant as people see it in messages and hints: wall-clock time in `zone` to the minute (README
 * "times"), like tables show it; a missing or unreadable value as it is.
 */
export function shownInstant(utc: number | string | null | undefined, zone: string): string {
  if (utc === null || utc === undefined || utc === '') return 'an unrecorded time';
  const ms = typeof utc === 'number' ? utc : Date.parse(utc);
  return Number.isFinite(ms) ? localDateTime(ms, zone) : String(utc);
}
