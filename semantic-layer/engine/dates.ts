// Time-zone arithmetic and Cube's date-range language, without moment: wall clocks come from
// Intl, so any IANA zone Node knows works. Mirrors @cubejs-backend/api-gateway's date parser
// (relative ranges resolved in the query's zone) and schema-compiler's local→UTC conversion.
import { UserError } from './errors.ts';

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The canonical IANA name of a zone, or null when Node does not know it. */
export function canonicalTimezone(tz: unknown): string | null {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return null;
  if (!/^[A-Za-z0-9_+\-/]+$/.test(tz)) return null;
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    // The name is interpolated into SQL (AT TIME ZONE '<tz>'), so it must stay this plain.
    return /^[A-Za-z0-9_+\-/]+$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** Wall-clock reading of an instant in a zone. */
export function wallClockAt(epochMs: number, tz: string): WallClock {
  const parts = formatter(tz).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
    ms: ((epochMs % 1000) + 1000) % 1000
  };
}

/** Offset east of UTC, in milliseconds, at an instant. */
export function offsetMsAt(epochMs: number, tz: string): number {
  const w = wallClockAt(epochMs, tz);
  return toUtcMs(w) - epochMs;
}

function toUtcMs(w: WallClock): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, w.ms);
  return d.getTime();
}

function fromUtcMs(ms: number): WallClock {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds()
  };
}

const p2 = (n: number) => String(n).padStart(2, '0');
const p3 = (n: number) => String(n).padStart(3, '0');
const p4 = (n: number) => String(n).padStart(4, '0');

/** `YYYY-MM-DDTHH:mm:ss.SSS`, no zone designator (Cube's local format). */
export function formatLocal(w: WallClock): string {
  return `${p4(w.year)}-${p2(w.month)}-${p2(w.day)}T${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}.${p3(w.ms)}`;
}

export const LOCAL_MS_RE = /^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\d$/;
export const DATE_RE = /^\d\d\d\d-\d\d-\d\d$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parse an absolute date/time. Without a zone designator the value is a wall-clock time in
 * `tz`; with one it is an instant, read back as a wall clock in `tz` (as moment.tz does).
 */
export function parseAbsolute(value: string, tz: string): WallClock | null {
  const m = DATETIME_RE.exec(value.trim());
  if (!m) return null;
  const w: WallClock = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0
  };
  if (w.month < 1 || w.month > 12 || w.day < 1 || w.day > daysInMonth(w.year, w.month) || w.hour > 23 || w.minute > 59 || w.second > 59) {
    return null;
  }
  const zone = m[8];
  if (!zone) return w;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  const instant = toUtcMs(w) - offsetMin * 60_000;
  return wallClockAt(instant, tz);
}

/**
 * A local wall-clock string (`YYYY-MM-DDTHH:mm:ss.SSS`) in `tz` → UTC ISO string with `Z`.
 * Same single-step offset lookup as @cubejs-backend/shared localTimestampToUtc, so both
 * engines bind identical parameters even around DST changes.
 */
export function localToUtcIso(local: string, tz: string): string {
  const parsed = Date.parse(`${local}Z`);
  if (Number.isNaN(parsed)) throw new UserError(`Can't parse date: '${local}'`);
  return new Date(parsed - offsetMsAt(parsed, tz)).toJSON();
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/** moment's `add`: calendar units keep the wall time and clamp the day of month. */
export function addUnit(w: WallClock, n: number, unit: Unit): WallClock {
  switch (unit) {
    case 'year':
      return clampDay({ ...w, year: w.year + n });
    case 'quarter':
      return addMonths(w, 3 * n);
    case 'month':
      return addMonths(w, n);
    case 'week':
      return addDays(w, 7 * n);
    case 'day':
      return addDays(w, n);
    case 'hour':
      return fromUtcMs(toUtcMs(w) + n * 3_600_000);
    case 'minute':
      return fromUtcMs(toUtcMs(w) + n * 60_000);
    case 'second':
      return fromUtcMs(toUtcMs(w) + n * 1000);
  }
}

function addMonths(w: WallClock, n: number): WallClock {
  const total = w.year * 12 + (w.month - 1) + n;
  return clampDay({ ...w, year: Math.floor(total / 12), month: (((total % 12) + 12) % 12) + 1 });
}

function addDays(w: WallClock, n: number): WallClock {
  const d = new Date(Date.UTC(2000, 0, 1));
  d.setUTCFullYear(w.year, w.month - 1, w.day + n);
  return { ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function clampDay(w: WallClock): WallClock {
  return { ...w, day: Math.min(w.day, daysInMonth(w.year, w.month)) };
}

/** ISO weekday, Monday = 1 … Sunday = 7. */
function isoWeekday(w: WallClock): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

export function startOf(w: WallClock, unit: Unit): WallClock {
  switch (unit) {
    case 'year':
      return { year: w.year, month: 1, day: 1, hour: 0, minute: 0, second: 0, ms: 0 };
    case 'quarter':
      return { year: w.year, month: Math.floor((w.month - 1) / 3) * 3 + 1, day: 1, hour: 0, minute: 0, second: 0, ms: 0 };
    case 'month':
      return { year: w.year, month: w.month, day: 1, hour: 0, minute: 0, second: 0, ms: 0 };
    case 'week':
      return startOf(addDays(w, 1 - isoWeekday(w)), 'day');
    case 'day':
      return { ...w, hour: 0, minute: 0, second: 0, ms: 0 };
    case 'hour':
      return { ...w, minute: 0, second: 0, ms: 0 };
    case 'minute':
      return { ...w, second: 0, ms: 0 };
    case 'second':
      return { ...w, ms: 0 };
  }
}

export function endOf(w: WallClock, unit: Unit): WallClock {
  const next = addUnit(startOf(w, unit), 1, unit);
  return fromUtcMs(toUtcMs(next) - 1);
}

const UNITS = '(day|week|month|year|quarter|hour|minute|second)';
const THIS_LAST_NEXT = new RegExp(`(this|last|next)\\s+${UNITS}`);
const LAST_NEXT_N = new RegExp(`(last|next)\\s+(\\d+)\\s+${UNITS}`);

/**
 * Cube's relative and absolute date-range strings → [from, to] local wall-clock strings in
 * `tz` (`YYYY-MM-DDTHH:mm:ss.SSS`). `last 12 months` are the 12 full months before the
 * current one; weeks start on Monday.
 */
export function parseDateRangeString(input: string, tz: string, now: Date = new Date()): [string, string] {
  const s = input.toLowerCase().trim();
  const current = wallClockAt(now.getTime(), tz);
  let range: [WallClock, WallClock];
  let m: RegExpMatchArray | null;
  // moment adds calendar units on the wall clock, hours/minutes/seconds on the timeline.
  const shifted = (n: number, unit: Unit): WallClock =>
    unit === 'hour' || unit === 'minute' || unit === 'second'
      ? wallClockAt(now.getTime() + n * (unit === 'hour' ? 3_600_000 : unit === 'minute' ? 60_000 : 1000), tz)
      : addUnit(current, n, unit);
  if ((m = s.match(THIS_LAST_NEXT))) {
    const unit = m[2] as Unit;
    const shift = m[1] === 'last' ? -1 : m[1] === 'next' ? 1 : 0;
    const base = shifted(shift, unit);
    range = [startOf(base, unit), endOf(base, unit)];
  } else if ((m = s.match(LAST_NEXT_N))) {
    const n = parseInt(m[2], 10);
    const unit = m[3] as Unit;
    if (n > 100_000) throw new UserError(`Can't parse date: '${input}'`);
    const start = m[1] === 'last' ? shifted(-n, unit) : shifted(1, unit);
    const end = m[1] === 'last' ? shifted(-1, unit) : shifted(n, unit);
    range = [startOf(start, unit), endOf(end, unit)];
  } else if (/today/.test(s)) {
    range = [startOf(current, 'day'), endOf(current, 'day')];
  } else if (/yesterday/.test(s)) {
    const d = addUnit(current, -1, 'day');
    range = [startOf(d, 'day'), endOf(d, 'day')];
  } else if (/tomorrow/.test(s)) {
    const d = addUnit(current, 1, 'day');
    range = [startOf(d, 'day'), endOf(d, 'day')];
  } else if ((m = s.match(/^from\s+(.{1,50}?)\s+to\s+(.{1,50})$/))) {
    const from = parseAbsolute(m[1], tz);
    const to = parseAbsolute(m[2], tz);
    if (!from) throw new UserError(`Can't parse date: '${m[1]}'`);
    if (!to) throw new UserError(`Can't parse date: '${m[2]}'`);
    range = [startOf(from, 'day'), endOf(to, 'day')];
  } else {
    const d = parseAbsolute(s, tz);
    if (!d) throw new UserError(`Can't parse date: '${input}'`);
    range = [startOf(d, 'day'), endOf(d, 'day')];
  }
  return [formatLocal(range[0]), formatLocal(range[1])];
}

/**
 * A time dimension's `dateRange` (string, [date] or [from, to]) → the normalized pair Cube
 * puts into the answered query: bare dates become `T00:00:00.000` / `T23:59:59.999`.
 */
export function resolveDateRange(input: string | string[], tz: string, now?: Date): [string, string] {
  let range: string[];
  if (typeof input === 'string') range = parseDateRangeString(input, tz, now);
  else range = input.length === 1 ? [input[0], input[0]] : input;
  const [from, to] = range;
  return [normalizeBound(from, 'from'), normalizeBound(to, 'to')];
}

function normalizeBound(value: string, side: 'from' | 'to'): string {
  if (DATE_RE.test(value)) {
    if (!parseAbsolute(value, 'UTC')) throw new UserError(`Can't parse date: '${value}'`);
    return `${value}T${side === 'from' ? '00:00:00.000' : '23:59:59.999'}`;
  }
  if (LOCAL_MS_RE.test(value)) return value;
  // moment.utc(d).format(LOCAL_MS): a zone-less value is kept as written, a zoned one is
  // read as an instant and written in UTC.
  const w = parseAbsolute(value, 'UTC');
  if (!w) throw new UserError(`Can't parse date: '${value}'`);
  return formatLocal(w);
}

/** BaseFilter.formatFromDate / formatToDate: a filter bound as a local wall-clock string. */
export function formatFilterBound(value: string | null | undefined, side: 'from' | 'to', tz: string, now: Date = new Date()): string {
  if (value && LOCAL_MS_RE.test(value)) return value;
  if (value && DATE_RE.test(value)) return `${value}T${side === 'from' ? '00:00:00.000' : '23:59:59.999'}`;
  if (!value) {
    const w = wallClockAt(now.getTime(), tz);
    return formatLocal(side === 'from' ? startOf(w, 'day') : { ...startOf(w, 'day'), hour: 23, minute: 59, second: 59, ms: 999 });
  }
  const w = parseAbsolute(value, tz);
  if (!w) throw new UserError(`Can't parse date: '${value}'`);
  return formatLocal(w);
}
