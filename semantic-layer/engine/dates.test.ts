// Relative date ranges and zone conversion against Cube's own algorithm: the gateway's
// dateParser (moment-timezone, re-stated below for the relative forms) and
// @cubejs-backend/shared localTimestampToUtc, over many clocks and zones.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { canonicalTimezone, formatFilterBound, localToUtcIso, parseDateRangeString, resolveDateRange } from './dates.ts';

const require = createRequire(import.meta.url);
const moment = require('moment-timezone');
const shared = require('@cubejs-backend/shared');

/** The relative branches of @cubejs-backend/api-gateway's dateParser, with an injectable clock. */
function cubeDateParser(dateString: string, timezone: string, now: Date): string[] {
  const s = dateString.toLowerCase();
  const at = () => moment(now).tz(timezone);
  let range: [unknown, unknown];
  let m: RegExpMatchArray | null;
  if ((m = s.match(/(this|last|next)\s+(day|week|month|year|quarter|hour|minute|second)/))) {
    const unit = m[2];
    let start = at();
    let end = at();
    if (m[1] === 'last') {
      start = start.add(-1, unit);
      end = end.add(-1, unit);
    }
    if (m[1] === 'next') {
      start = start.add(1, unit);
      end = end.add(1, unit);
    }
    const span = unit === 'week' ? 'isoWeek' : unit;
    range = [start.startOf(span), end.endOf(span)];
  } else if ((m = s.match(/(last|next)\s+(\d+)\s+(day|week|month|year|quarter|hour|minute|second)/))) {
    const unit = m[3];
    let start = at();
    let end = at();
    if (m[1] === 'last') {
      start = start.add(-parseInt(m[2], 10), unit);
      end = end.add(-1, unit);
    }
    if (m[1] === 'next') {
      start = start.add(1, unit);
      end = end.add(parseInt(m[2], 10), unit);
    }
    const span = unit === 'week' ? 'isoWeek' : unit;
    range = [start.startOf(span), end.endOf(span)];
  } else if (s.match(/today/)) {
    range = [at().startOf('day'), at().endOf('day')];
  } else if (s.match(/yesterday/)) {
    range = [at().startOf('day').add(-1, 'day'), at().endOf('day').add(-1, 'day')];
  } else if (s.match(/tomorrow/)) {
    range = [at().startOf('day').add(1, 'day'), at().endOf('day').add(1, 'day')];
  } else throw new Error(`not relative: ${dateString}`);
  return range.map((d) => (d as { format(f: string): string }).format(moment.HTML5_FMT.DATETIME_LOCAL_MS));
}

const FORMS = [
  'today',
  'yesterday',
  'tomorrow',
  'this week',
  'this month',
  'this quarter',
  'this year',
  'last week',
  'last month',
  'last quarter',
  'last year',
  'next month',
  'last 7 days',
  'last 30 days',
  'last 2 weeks',
  'last 12 months',
  'last 6 months',
  'last 2 quarters',
  'last 3 years',
  'next 2 weeks',
  'this day',
  'last hour',
  'last 3 hours'
];
const ZONES = ['Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe'];
const CLOCKS = [
  '2024-01-01T00:00:00.000Z',
  '2023-12-31T16:00:00.000Z',
  '2023-12-31T15:59:59.999Z',
  '2024-02-29T12:00:00.000Z',
  '2024-03-31T16:30:00.000Z',
  '2024-05-31T23:00:00.000Z',
  '2024-03-10T07:30:00.000Z',
  '2024-11-03T05:30:00.000Z',
  '2025-06-15T03:04:05.678Z',
  '2026-11-24T09:00:00.000Z',
  '2024-08-31T20:00:00.000Z'
];

describe('relative date ranges', () => {
  it("match Cube's dateParser for every form, zone and clock", () => {
    let checked = 0;
    for (const tz of ZONES) {
      for (const clock of CLOCKS) {
        for (const form of FORMS) {
          const now = new Date(clock);
          expect([form, tz, clock, parseDateRangeString(form, tz, now)]).toEqual([form, tz, clock, cubeDateParser(form, tz, now)]);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(ZONES.length * CLOCKS.length * FORMS.length);
  });

  it('last 12 months are the 12 full months before the current one', () => {
    expect(parseDateRangeString('last 12 months', 'Asia/Shanghai', new Date('2024-06-15T02:00:00Z'))).toEqual([
      '2023-06-01T00:00:00.000',
      '2024-05-31T23:59:59.999'
    ]);
    // 2024-06-30T20:00Z is already July 1st in Shanghai
    expect(parseDateRangeString('last month', 'Asia/Shanghai', new Date('2024-06-30T20:00:00Z'))).toEqual([
      '2024-06-01T00:00:00.000',
      '2024-06-30T23:59:59.999'
    ]);
    expect(parseDateRangeString('last month', 'UTC', new Date('2024-06-30T20:00:00Z'))).toEqual([
      '2024-05-01T00:00:00.000',
      '2024-05-31T23:59:59.999'
    ]);
  });

  it('weeks start on Monday', () => {
    // 2024-06-02 is a Sunday
    expect(parseDateRangeString('this week', 'UTC', new Date('2024-06-02T12:00:00Z'))).toEqual([
      '2024-05-27T00:00:00.000',
      '2024-06-02T23:59:59.999'
    ]);
    expect(parseDateRangeString('this week', 'Asia/Shanghai', new Date('2024-06-02T17:00:00Z'))).toEqual([
      '2024-06-03T00:00:00.000',
      '2024-06-09T23:59:59.999'
    ]);
  });

  it('absolute ranges: bare end date inclusive to 23:59:59.999', () => {
    expect(resolveDateRange(['2024-01-01', '2024-03-31'], 'UTC')).toEqual(['2024-01-01T00:00:00.000', '2024-03-31T23:59:59.999']);
    expect(resolveDateRange(['2024-01-01'], 'UTC')).toEqual(['2024-01-01T00:00:00.000', '2024-01-01T23:59:59.999']);
    expect(resolveDateRange(['2024-01-01T08:00:00', '2024-01-02T10:30'], 'UTC')).toEqual([
      '2024-01-01T08:00:00.000',
      '2024-01-02T10:30:00.000'
    ]);
    expect(resolveDateRange('from 2024-01-15 to 2024-02-03', 'Asia/Shanghai')).toEqual([
      '2024-01-15T00:00:00.000',
      '2024-02-03T23:59:59.999'
    ]);
    expect(resolveDateRange('2024-02-29', 'Asia/Shanghai')).toEqual(['2024-02-29T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(() => resolveDateRange('the day after the big storm', 'UTC')).toThrow(/Can't parse date/);
    expect(() => resolveDateRange(['2024-02-30', '2024-03-01'], 'UTC')).toThrow(/Can't parse date/);
  });
});

describe('zones', () => {
  it('local → UTC exactly as @cubejs-backend/shared localTimestampToUtc', () => {
    const locals = [
      '2024-01-01T00:00:00.000',
      '2024-03-10T02:30:00.000',
      '2024-11-03T01:30:00.000',
      '2024-03-31T23:59:59.999',
      '2024-10-27T02:30:00.000',
      '1991-04-14T01:30:00.000'
    ];
    for (const tz of [...ZONES, 'Asia/Kolkata', 'America/Sao_Paulo']) {
      for (const l of locals)
        expect([tz, l, localToUtcIso(l, tz)]).toEqual([tz, l, shared.localTimestampToUtc(tz, 'YYYY-MM-DD[T]HH:mm:ss.SSS[Z]', l)]);
    }
  });

  it('filter bounds: bare dates to day edges, zoned instants to the query zone', () => {
    expect(formatFilterBound('2024-01-31', 'from', 'Asia/Shanghai')).toBe('2024-01-31T00:00:00.000');
    expect(formatFilterBound('2024-01-31', 'to', 'Asia/Shanghai')).toBe('2024-01-31T23:59:59.999');
    expect(formatFilterBound('2024-01-31T16:00:00Z', 'from', 'Asia/Shanghai')).toBe('2024-02-01T00:00:00.000');
    expect(formatFilterBound(undefined, 'to', 'UTC', new Date('2024-05-05T10:00:00Z'))).toBe('2024-05-05T23:59:59.999');
  });

  it('only plain IANA names are accepted (they are written into SQL)', () => {
    expect(canonicalTimezone('Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimezone('UTC')).toBe('UTC');
    expect(canonicalTimezone("UTC'; DROP TABLE x; --")).toBeNull();
    expect(canonicalTimezone('Mars/Olympus')).toBeNull();
    expect(canonicalTimezone(42)).toBeNull();
  });
});
