// Activities (issue 18): which limit of an activity an award would cross. Pure: counts come from the caller.
import type { Activity } from './rules.js';
import { type LocalDate, localDate, startOfLocalDayMs, addDays } from './time.js';

export type ActivityLimit = 'once' | 'maxPerDay' | 'maxPerMonth';

/** A window of business time [fromIso, toIso) an activity's limit counts awards in. */
export interface LimitWindow {
  limit: ActivityLimit;
  max: number;
  fromIso: string;
  toIso: string;
  /** In words, for the refusal: "per day (2026-11-23)". */
  label: string;
}

const FAR_PAST = '0000';
const FAR_FUTURE = '9999';

function nextMonth(d: LocalDate): LocalDate {
  const [y, m] = d.split('-').map(Number);
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01-01` : `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
}

/** The windows the activity's limits count in, for an award at `atMs` (calendar days and months in the ledger's zone). */
export function limitWindows(a: Activity, atMs: number, zone: string): LimitWindow[] {
  const out: LimitWindow[] = [];
  const iso = (d: LocalDate) => new Date(startOfLocalDayMs(d, zone)).toISOString();
  const day = localDate(atMs, zone);
  if (a.once) out.push({ limit: 'once', max: 1, fromIso: FAR_PAST, toIso: FAR_FUTURE, label: 'once per member' });
  if (a.maxPerDay !== null) out.push({ limit: 'maxPerDay', max: a.maxPerDay, fromIso: iso(day), toIso: iso(addDays(day, 1)), label: `${a.maxPerDay} per day (${day})` });
  if (a.maxPerMonth !== null) {
    const first = `${day.slice(0, 7)}-01`;
    out.push({ limit: 'maxPerMonth', max: a.maxPerMonth, fromIso: iso(first), toIso: iso(nextMonth(first)), label: `${a.maxPerMonth} per month (${day.slice(0, 7)})` });
  }
  return out;
}

/** The first limit the award would cross given how many awards each window already holds, else null. */
export function limitReached(windows: readonly LimitWindow[], counts: readonly number[]): LimitWindow | null {
  for (let i = 0; i < windows.length; i++) if (counts[i] >= windows[i].max) return windows[i];
  return null;
}
