// Calendar arithmetic on plain integers: a Day is days since 1970-01-01, a Month is year*12 + (month-1).
// Dates are civil (Asia/Shanghai) dates; no time zone is ever involved, so output is machine-independent.

export type Day = number;
export type Month = number;

const MS_PER_DAY = 86_400_000;

export function day(iso: string): Day {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${iso}`);
  return dayFromParts(Number(m[1]), Number(m[2]), Number(m[3]));
}

const firstDayCache = new Map<number, Day>();

export function dayFromParts(y: number, m: number, d: number): Day {
  if (m >= 1 && m <= 12 && d >= 1 && d <= 28) {
    const key = y * 12 + m - 1;
    let f = firstDayCache.get(key);
    if (f === undefined) {
      f = Math.round(Date.UTC(y, m - 1, 1) / MS_PER_DAY);
      firstDayCache.set(key, f);
    }
    return f + d - 1;
  }
  return Math.round(Date.UTC(y, m - 1, d) / MS_PER_DAY);
}

// Days 1880-01-01 .. 2159-12-31 are cached: the generator formats the same few thousand dates
// millions of times.
const CACHE_FROM = -32872;
const CACHE_SIZE = 102_272;
const partsCache: ({ y: number; m: number; d: number } | undefined)[] = new Array(CACHE_SIZE);
const isoCache: (string | undefined)[] = new Array(CACHE_SIZE);

function computeParts(d: Day): { y: number; m: number; d: number } {
  const dt = new Date(d * MS_PER_DAY);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

/** Calendar parts of a day (treat the result as read-only: it may be shared). */
export function parts(d: Day): { y: number; m: number; d: number } {
  const i = d - CACHE_FROM;
  if (i < 0 || i >= CACHE_SIZE) return computeParts(d);
  return (partsCache[i] ??= computeParts(d));
}

const p2 = (n: number) => (n < 10 ? '0' + n : String(n));

export function fmtDay(d: Day): string {
  const i = d - CACHE_FROM;
  const cached = i >= 0 && i < CACHE_SIZE ? isoCache[i] : undefined;
  if (cached !== undefined) return cached;
  const p = parts(d);
  const s = `${p.y}-${p2(p.m)}-${p2(p.d)}`;
  if (i >= 0 && i < CACHE_SIZE) isoCache[i] = s;
  return s;
}

/** `YYYY/MM/DD` — an accepted alternative date format. */
export function fmtDaySlash(d: Day): string {
  return fmtDay(d).replaceAll('-', '/');
}

/** `YYYYMMDD` — an accepted alternative date format. */
export function fmtDayCompact(d: Day): string {
  return fmtDay(d).replaceAll('-', '');
}

/** Local timestamp `YYYY-MM-DDTHH:MM:SS` (no offset = Asia/Shanghai). secondsOfDay in [0, 86400). */
export function fmtTs(d: Day, secondsOfDay: number, style: 'local' | 'offset' | 'utc' = 'local'): string {
  const h = Math.floor(secondsOfDay / 3600);
  const mi = Math.floor((secondsOfDay % 3600) / 60);
  const s = secondsOfDay % 60;
  if (style === 'utc') {
    // Only used for local times 08:00–23:59, so the UTC date is the same civil date.
    if (h < 8) throw new Error('utc style needs a local time after 08:00');
    return `${fmtDay(d)}T${p2(h - 8)}:${p2(mi)}:${p2(s)}Z`;
  }
  return `${fmtDay(d)}T${p2(h)}:${p2(mi)}:${p2(s)}${style === 'offset' ? '+08:00' : ''}`;
}

export function monthOf(d: Day): Month {
  const p = parts(d);
  return p.y * 12 + p.m - 1;
}

export function monthFromParts(y: number, m: number): Month {
  return y * 12 + m - 1;
}

export function yearOfMonth(m: Month): number {
  return Math.floor(m / 12);
}

export function monthNumber(m: Month): number {
  return (m % 12) + 1;
}

export function fmtMonth(m: Month): string {
  return `${yearOfMonth(m)}-${p2(monthNumber(m))}`;
}

export function fmtMonthCompact(m: Month): string {
  return `${yearOfMonth(m)}${p2(monthNumber(m))}`;
}

export function firstDay(m: Month): Day {
  return dayFromParts(yearOfMonth(m), monthNumber(m), 1);
}

export function lastDay(m: Month): Day {
  return firstDay(m + 1) - 1;
}

export function daysInMonth(m: Month): number {
  return lastDay(m) - firstDay(m) + 1;
}

/** The same day-of-month n months later, clamped to the month's end (2026-01-31 + 1 month = 2026-02-28). */
export function addMonths(d: Day, n: number): Day {
  const p = parts(d);
  const m = monthFromParts(p.y, p.m) + n;
  return firstDay(m) + Math.min(p.d, daysInMonth(m)) - 1;
}

/** A day inside month m with the given day-of-month, clamped. */
export function dayInMonth(m: Month, dom: number): Day {
  return firstDay(m) + Math.min(dom, daysInMonth(m)) - 1;
}

/** Whole years between birth and d (the age on day d). */
export function ageOn(birth: Day, d: Day): number {
  const b = parts(birth);
  const x = parts(d);
  let age = x.y - b.y;
  if (x.m < b.m || (x.m === b.m && x.d < b.d)) age--;
  return age;
}
