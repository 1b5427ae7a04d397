// Dates as the bureau counts them: Asia/Shanghai, whatever the server's own time zone.

/** Today's date in Asia/Shanghai, 'YYYY-MM-DD'. */
export function todayShanghai(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
