// Dates as the bureau counts them: Asia/Shanghai, whatever the server's own time zone.

/** Today's date in Asia/Shanghai, 'YYYY-MM-DD'. */
export function todayShanghai(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/**
 * An instant as ISO 8601 in Beijing time with its offset ('2026-12-05T09:30:00+08:00'), for every time that
 * leaves the server: a person reads the bureau's clock, a program still gets the exact instant. China has
 * kept UTC+8 all year since 1991, so the offset is fixed. Seconds, like shanghaiIsoSql; 'ms' keeps the
 * milliseconds (exports, which must lose nothing the database returned).
 */
export function shanghaiIso(t: Date | string | number, precision: 's' | 'ms' = 's'): string {
  const ms = new Date(t).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${String(t)}`);
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, precision === 'ms' ? 23 : 19) + '+08:00';
}

/**
 * A time dimension the semantic layer returns as a plain dimension: Cube's format without an offset
 * ('YYYY-MM-DDTHH:mm:ss.SSS'), in UTC — Cube runs the query in a UTC session and converts only
 * time dimensions with a granularity to the query's time zone. Sent as it is, a browser in
 * Asia/Shanghai read it as local time and every alert was "8小时前". With its offset ('Z') it is the
 * same instant everywhere.
 */
export function semanticTimeToIso(value: string): string {
  return /([zZ]|[+-]\d{2}:?\d{2})$/.test(value) || !value ? value : `${value}Z`;
}

/**
 * SQL for a timestamptz column as ISO 8601 in Beijing time with its offset ('2026-12-05T09:30:00+08:00'):
 * what a person reads is the bureau's time, and a program still gets the exact instant.
 */
export const shanghaiIsoSql = (col: string) => `to_char(${col} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00'`;
