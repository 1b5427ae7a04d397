// Dates as the bureau counts them: Asia/Shanghai, whatever the server's own time zone.

/** Today's date in Asia/Shanghai, 'YYYY-MM-DD'. */
export function todayShanghai(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
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
