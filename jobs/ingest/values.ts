// Value parsers for feed fields (docs/feeds.md, "Values"). They work on the bytes of one
// field (UTF-8, already trimmed, never empty) and write the canonical PostgreSQL COPY-text form into an
// output buffer, so the hot path allocates no strings. On failure they return -1 and leave a Problem
// (stable reason code + human-readable message) in the state object. String wrappers (parseDate, …)
// exist for tests and for code that holds strings.
import { parseIdNumber } from '../../core/domain/id-number.ts';

/** Stable reason codes stored in quarantine.reason_code (row level) — see REASONS for their meaning. */
export type RowReasonCode =
  | 'missing_required'
  | 'id_length'
  | 'id_chars'
  | 'id_birth_date'
  | 'id_check_char'
  | 'bad_date'
  | 'bad_timestamp'
  | 'bad_period'
  | 'bad_money'
  | 'negative_money'
  | 'bad_number'
  | 'out_of_range'
  | 'unknown_enum'
  | 'unknown_code'
  | 'bad_region_code'
  | 'bad_text'
  | 'sex_mismatch'
  | 'birth_date_mismatch'
  | 'basis_mismatch'
  | 'bad_parent'
  | 'end_before_start'
  | 'field_count'
  | 'bad_csv'
  | 'bad_encoding'
  | 'db_rejected';

export interface Problem {
  code: RowReasonCode;
  message: string;
}

/** Every reason code the loader writes to quarantine.reason_code, with what it means (file level: line_no NULL). */
export const REASON_CODES = {
  missing_required: 'a required value is empty (or retirement_basis for an insured person, parent_code below the city)',
  id_length: 'id_number is neither 18 characters nor a 15-digit legacy number',
  id_chars: 'id_number holds characters other than digits and a final X',
  id_birth_date: 'id_number holds an impossible birth date',
  id_check_char: 'id_number check character (ISO 7064 MOD 11-2) is wrong',
  bad_date: 'not a real calendar date in YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD',
  bad_timestamp: 'not an ISO-8601 timestamp (or an impossible one)',
  bad_period: 'not a real month in YYYY-MM or YYYYMM',
  bad_money: 'not an amount in yuan with at most 2 decimals (or too large)',
  negative_money: 'a negative amount where amounts are never negative',
  bad_number: 'not a whole number',
  out_of_range: 'a number outside its range (satisfaction 1–5)',
  unknown_enum: 'a value outside the enumeration fixed by the contract',
  unknown_code: 'a code missing from its catalogue (ref_schemes, ref_subsidy_projects, ref_evidence_kinds, ref_evidence_sources)',
  bad_region_code: 'a region code that is not a digit string',
  bad_text: 'free text holding a NUL character',
  sex_mismatch: 'sex disagrees with the id_number',
  birth_date_mismatch: 'birth_date disagrees with the id_number',
  basis_mismatch: 'retirement_basis does not fit the sex (M60 men; F55, F50 women)',
  bad_parent: 'a city with a parent, or a region that is its own parent',
  end_before_start: 'an end (end_period, end_date, until) before its start',
  field_count: 'the line has another number of fields than the header',
  bad_csv: 'the line breaks RFC 4180 (stray or unclosed quote, over-long record)',
  bad_encoding:
    "the line holds bytes invalid in the file's encoding — or, for a whole file, the file is in another encoding (Big5, Shift-JIS…)",
  db_rejected: 'PostgreSQL refused the row (a constraint the validator does not know); its message is the reason',
  // file level
  unknown_feed: 'the file lies in a folder that is not a feed',
  not_csv: 'the file is not CSV text (binary, UTF-16, or an unreadable header row)',
  empty_file: 'the file has no header row',
  missing_column: 'the header lacks a required column',
  duplicate_column: 'the header names a column twice'
} as const;

/** Mutable scratch shared by the parsers of one row: the first problem of the current field. */
export interface ParseState {
  problem: Problem | null;
}

export type ByteParser = (src: Buffer, s: number, e: number, out: Buffer, o: number, st: ParseState) => number;

const Q = (src: Buffer, s: number, e: number): string =>
  JSON.stringify(src.toString('utf8', s, Math.min(e, s + 80)) + (e - s > 80 ? '…' : ''));

function fail(st: ParseState, code: RowReasonCode, message: string): number {
  st.problem = { code, message };
  return -1;
}

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Years accepted in dates, periods and timestamps (a real calendar date; typos like 0202 are refused). */
export const MIN_YEAR = 1800;
export const MAX_YEAR = 9999;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
export function validYmd(y: number, m: number, d: number): boolean {
  if (y < MIN_YEAR || y > MAX_YEAR || m < 1 || m > 12 || d < 1) return false;
  return d <= (m === 2 && isLeap(y) ? 29 : DAYS[m]);
}

/** n decimal digits at src[p..p+n) as a number, or -1 when one is not a digit. */
function digits(src: Buffer, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = src[p + i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function put2(out: Buffer, o: number, v: number): void {
  out[o] = 48 + ((v / 10) | 0);
  out[o + 1] = 48 + (v % 10);
}
function put4(out: Buffer, o: number, v: number): void {
  out[o] = 48 + ((v / 1000) | 0);
  out[o + 1] = 48 + (((v / 100) | 0) % 10);
  out[o + 2] = 48 + (((v / 10) | 0) % 10);
  out[o + 3] = 48 + (v % 10);
}
function putYmd(out: Buffer, o: number, y: number, m: number, d: number): number {
  put4(out, o, y);
  out[o + 4] = 45;
  put2(out, o + 5, m);
  out[o + 7] = 45;
  put2(out, o + 8, d);
  return o + 10;
}

// ---------------------------------------------------------------- dates: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD

export const parseDateBytes: ByteParser = (src, s, e, out, o, st) => {
  const n = e - s;
  let y: number, m: number, d: number;
  if (n === 10 && (src[s + 4] === 45 || src[s + 4] === 47) && src[s + 7] === src[s + 4]) {
    y = digits(src, s, 4);
    m = digits(src, s + 5, 2);
    d = digits(src, s + 8, 2);
  } else if (n === 8) {
    y = digits(src, s, 4);
    m = digits(src, s + 4, 2);
    d = digits(src, s + 6, 2);
  } else {
    return fail(st, 'bad_date', `${Q(src, s, e)} is not a date (expected YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)`);
  }
  if (y < 0 || m < 0 || d < 0) return fail(st, 'bad_date', `${Q(src, s, e)} is not a date (expected YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)`);
  if (!validYmd(y, m, d))
    return fail(
      st,
      'bad_date',
      `${Q(src, s, e)} is not a real calendar date${y < MIN_YEAR || y > MAX_YEAR ? ` (year outside ${MIN_YEAR}–${MAX_YEAR})` : ''}`
    );
  return putYmd(out, o, y, m, d);
};

// ---------------------------------------------------------------- periods: YYYY-MM or YYYYMM → first day of the month

export const parsePeriodBytes: ByteParser = (src, s, e, out, o, st) => {
  const n = e - s;
  let y: number, m: number;
  if (n === 7 && src[s + 4] === 45) {
    y = digits(src, s, 4);
    m = digits(src, s + 5, 2);
  } else if (n === 6) {
    y = digits(src, s, 4);
    m = digits(src, s + 4, 2);
  } else return fail(st, 'bad_period', `${Q(src, s, e)} is not a period (expected YYYY-MM or YYYYMM)`);
  if (y < 0 || m < 0) return fail(st, 'bad_period', `${Q(src, s, e)} is not a period (expected YYYY-MM or YYYYMM)`);
  if (m < 1 || m > 12 || y < MIN_YEAR || y > MAX_YEAR) return fail(st, 'bad_period', `${Q(src, s, e)} is not a real month`);
  return putYmd(out, o, y, m, 1);
};

// ---------------------------------------------------------------- timestamps: ISO-8601, no offset = Asia/Shanghai
// Accepted: a date (YYYY-MM-DD or basic YYYYMMDD), optionally followed by `T` (or one space) and a time
// HH:MM[:SS[.fraction]] (or basic HHMM[SS[.fraction]]), optionally followed by `Z` or an offset ±HH[:MM] / ±HHMM.
// Written as `YYYY-MM-DD HH:MM:SS[.f][±HH:MM]`; without an offset PostgreSQL reads it in the loading
// session's time zone, which the loader pins to Asia/Shanghai (exact even for the 1986–91 summer times).

function badTimestamp(src: Buffer, s: number, e: number, st: ParseState): number {
  return fail(
    st,
    'bad_timestamp',
    `${Q(src, s, e)} is not an ISO-8601 timestamp (e.g. 2024-03-05T14:30:00+08:00; without an offset Asia/Shanghai time)`
  );
}

export const parseTimestampBytes: ByteParser = (src, s, e, out, o, st) => {
  let p = s;
  let y: number, m: number, d: number;
  if (e - p >= 10 && src[p + 4] === 45 && src[p + 7] === 45) {
    y = digits(src, p, 4);
    m = digits(src, p + 5, 2);
    d = digits(src, p + 8, 2);
    p += 10;
  } else if (e - p >= 8) {
    y = digits(src, p, 4);
    m = digits(src, p + 4, 2);
    d = digits(src, p + 6, 2);
    p += 8;
  } else return badTimestamp(src, s, e, st);
  if (y < 0 || m < 0 || d < 0) return badTimestamp(src, s, e, st);
  if (!validYmd(y, m, d)) return fail(st, 'bad_timestamp', `${Q(src, s, e)} does not hold a real calendar date`);
  let hh = 0,
    mi = 0,
    ss = 0,
    fracStart = 0,
    fracEnd = 0;
  let tz = 0; // 0 none, 1 Z, 2 offset
  let tzSign = 43,
    tzh = 0,
    tzm = 0;
  if (p < e) {
    const sep = src[p];
    if (sep !== 84 && sep !== 116 && sep !== 32) return badTimestamp(src, s, e, st); // T t space
    p++;
    if (e - p >= 5 && src[p + 2] === 58) {
      // extended HH:MM[:SS]
      hh = digits(src, p, 2);
      mi = digits(src, p + 3, 2);
      p += 5;
      if (p < e && src[p] === 58) {
        if (e - p < 3) return badTimestamp(src, s, e, st);
        ss = digits(src, p + 1, 2);
        p += 3;
      }
    } else if (e - p >= 4) {
      // basic HHMM[SS]
      hh = digits(src, p, 2);
      mi = digits(src, p + 2, 2);
      p += 4;
      if (e - p >= 2 && src[p] >= 48 && src[p] <= 57) {
        ss = digits(src, p, 2);
        p += 2;
      }
    } else return badTimestamp(src, s, e, st);
    if (hh < 0 || mi < 0 || ss < 0) return badTimestamp(src, s, e, st);
    if (p < e && (src[p] === 46 || src[p] === 44)) {
      // fraction
      p++;
      fracStart = p;
      while (p < e && src[p] >= 48 && src[p] <= 57) p++;
      fracEnd = p;
      if (fracEnd === fracStart || fracEnd - fracStart > 9) return badTimestamp(src, s, e, st);
    }
    if (p < e) {
      const z = src[p];
      if ((z === 90 || z === 122) && p + 1 === e) {
        tz = 1;
        p++;
      } else if (z === 43 || z === 45) {
        tzSign = z;
        p++;
        if (e - p === 2) {
          tzh = digits(src, p, 2);
          p += 2;
        } else if (e - p === 5 && src[p + 2] === 58) {
          tzh = digits(src, p, 2);
          tzm = digits(src, p + 3, 2);
          p += 5;
        } else if (e - p === 4) {
          tzh = digits(src, p, 2);
          tzm = digits(src, p + 2, 2);
          p += 4;
        } else return badTimestamp(src, s, e, st);
        if (tzh < 0 || tzm < 0) return badTimestamp(src, s, e, st);
        if (tzh > 14 || tzm > 59) return fail(st, 'bad_timestamp', `${Q(src, s, e)} has an impossible UTC offset`);
        tz = 2;
      } else return badTimestamp(src, s, e, st);
    }
    if (p !== e) return badTimestamp(src, s, e, st);
    if (hh > 23 || mi > 59 || ss > 59) return fail(st, 'bad_timestamp', `${Q(src, s, e)} holds an impossible time of day`);
  }
  o = putYmd(out, o, y, m, d);
  out[o++] = 32;
  put2(out, o, hh);
  out[o + 2] = 58;
  put2(out, o + 3, mi);
  out[o + 5] = 58;
  put2(out, o + 6, ss);
  o += 8;
  if (fracEnd > fracStart) {
    out[o++] = 46;
    for (let i = fracStart; i < fracEnd; i++) out[o++] = src[i];
  }
  if (tz === 1) {
    out[o++] = 43;
    out[o++] = 48;
    out[o++] = 48;
  } else if (tz === 2) {
    out[o++] = tzSign;
    put2(out, o, tzh);
    out[o + 2] = 58;
    put2(out, o + 3, tzm);
    o += 5;
  }
  return o;
};

// ---------------------------------------------------------------- money: yuan with up to 2 decimals

const MONEY_MAX_INT_DIGITS = 12; // numeric(14,2)

function moneyParser(signed: boolean): ByteParser {
  return (src, s, e, out, o, st) => {
    let p = s;
    let negative = false;
    if (src[p] === 45) {
      negative = true;
      p++;
    }
    const intStart = p;
    while (p < e && src[p] >= 48 && src[p] <= 57) p++;
    const intEnd = p;
    let decs = 0;
    let nonZero = false;
    for (let i = intStart; i < intEnd; i++)
      if (src[i] !== 48) {
        nonZero = true;
        break;
      }
    if (p < e && src[p] === 46) {
      p++;
      const ds = p;
      while (p < e && src[p] >= 48 && src[p] <= 57) {
        if (src[p] !== 48) nonZero = true;
        p++;
      }
      decs = p - ds;
      if (decs === 0) p = -1; // "12." is not an amount
    }
    if (p !== e || intEnd === intStart) {
      return fail(st, 'bad_money', `${Q(src, s, e)} is not an amount in yuan (digits with up to 2 decimals, e.g. 3125.50)`);
    }
    if (decs > 2) return fail(st, 'bad_money', `${Q(src, s, e)} has more than 2 decimals`);
    let lead = intStart;
    while (lead < intEnd - 1 && src[lead] === 48) lead++;
    if (intEnd - lead > MONEY_MAX_INT_DIGITS)
      return fail(st, 'bad_money', `${Q(src, s, e)} is too large for an amount (at most ${MONEY_MAX_INT_DIGITS} digits before the point)`);
    if (negative && nonZero && !signed) return fail(st, 'negative_money', `${Q(src, s, e)} is negative; amounts are never negative here`);
    const n = e - s;
    if (n <= 32) {
      for (let i = 0; i < n; i++) out[o + i] = src[s + i];
      return o + n;
    }
    return o + src.copy(out, o, s, e);
  };
}
export const parseMoneyBytes = moneyParser(false);
export const parseSignedMoneyBytes = moneyParser(true);

// ---------------------------------------------------------------- whole numbers in a range (satisfaction 1–5)

export function intParser(min: number, max: number): ByteParser {
  return (src, s, e, out, o, st) => {
    let p = s;
    if (src[p] === 45 || src[p] === 43) p++;
    if (p === e || e - p > 9) return fail(st, 'bad_number', `${Q(src, s, e)} is not a whole number`);
    for (let i = p; i < e; i++) if (src[i] < 48 || src[i] > 57) return fail(st, 'bad_number', `${Q(src, s, e)} is not a whole number`);
    const v = Number(src.toString('latin1', s, e));
    if (v < min || v > max) return fail(st, 'out_of_range', `${Q(src, s, e)} is outside ${min}–${max}`);
    const txt = String(v);
    for (let i = 0; i < txt.length; i++) out[o + i] = txt.charCodeAt(i);
    return o + txt.length;
  };
}

// ---------------------------------------------------------------- region codes: digit strings

export const parseRegionCodeBytes: ByteParser = (src, s, e, out, o, st) => {
  const n = e - s;
  if (n > 24) return fail(st, 'bad_region_code', `${Q(src, s, e)} is not a region code (a digit string, at most 24 digits)`);
  for (let i = 0; i < n; i++) {
    const c = src[s + i];
    if (c < 48 || c > 57) return fail(st, 'bad_region_code', `${Q(src, s, e)} is not a region code (digits only)`);
    out[o + i] = c;
  }
  return o + n;
};

// ---------------------------------------------------------------- free text (COPY text escaping)

/** Copies text, escaping backslash, tab, LF and CR for COPY text format; refuses NUL (PostgreSQL text cannot hold it). */
export const parseTextBytes: ByteParser = (src, s, e, out, o, st) => {
  for (let i = s; i < e; i++) {
    const c = src[i];
    if (c > 92 || (c > 13 && c !== 92)) {
      out[o++] = c;
      continue;
    }
    if (c === 92) {
      out[o++] = 92;
      out[o++] = 92;
    } else if (c === 9) {
      out[o++] = 92;
      out[o++] = 116;
    } else if (c === 10) {
      out[o++] = 92;
      out[o++] = 110;
    } else if (c === 13) {
      out[o++] = 92;
      out[o++] = 114;
    } else if (c === 0) return fail(st, 'bad_text', 'the value contains a NUL character');
    else out[o++] = c;
  }
  return o;
};

// ---------------------------------------------------------------- id_number (GB 11643-1999)

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = [49, 48, 88, 57, 56, 55, 54, 53, 52, 51, 50]; // '10X98765432'

/** Reason code for an id_number parseIdNumber refused, from the same rules it applies (in its order). */
export function idReasonCode(raw: string): RowReasonCode {
  const s = raw.trim().toUpperCase();
  if (s.length !== 15 && s.length !== 18) return 'id_length';
  if (s.length === 15 ? !/^\d{15}$/.test(s) : !/^\d{17}[\dX]$/.test(s)) return 'id_chars';
  const value = s.length === 15 ? s.slice(0, 6) + '19' + s.slice(6) : s;
  const y = Number(value.slice(6, 10)),
    m = Number(value.slice(10, 12)),
    d = Number(value.slice(12, 14));
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (m < 1 || m > 12 || d < 1 || y < 1880 || dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d)
    return 'id_birth_date';
  return 'id_check_char';
}

/**
 * 18-character numbers are checked here on bytes (the overwhelming case); anything else goes through
 * parseIdNumber (15-digit conversion, reasons). Writes the 18-character upper-case value.
 */
export const parseIdNumberBytes: ByteParser = (src, s, e, out, o, st) => {
  if (e - s === 18) {
    let sum = 0;
    let ok = true;
    for (let i = 0; i < 17; i++) {
      const c = src[s + i] - 48;
      if (c < 0 || c > 9) {
        ok = false;
        break;
      }
      sum += c * W[i];
    }
    if (ok) {
      let last = src[s + 17];
      if (last === 120) last = 88;
      const y = digits(src, s + 6, 4),
        m = digits(src, s + 10, 2),
        d = digits(src, s + 12, 2);
      if (last === CHECK[sum % 11] && y >= 1880 && m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && isLeap(y) ? 29 : DAYS[m])) {
        for (let i = 0; i < 17; i++) out[o + i] = src[s + i];
        out[o + 17] = last;
        return o + 18;
      }
    }
  }
  const raw = src.toString('utf8', s, e);
  const r = parseIdNumber(raw);
  if (!r.ok)
    return fail(
      st,
      idReasonCode(raw),
      `${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw)}: ${r.reason.replace(/^id_number /, '')}`
    );
  return o + out.write(r.value, o, 'latin1');
};

// ---------------------------------------------------------------- enumerations and catalogue codes

/**
 * A lookup of allowed values: exact bytes of the previous hit are remembered (feeds repeat values row
 * after row), otherwise a Map lookup, exact first, then case-insensitive. Writes the canonical spelling.
 */
export function lookupParser(values: Iterable<string>, unknown: (value: string) => Problem): ByteParser {
  const exact = new Map<string, Buffer>();
  const folded = new Map<string, Buffer>();
  for (const v of values) {
    const b = Buffer.from(v, 'utf8');
    exact.set(v, b);
    if (!folded.has(v.toLowerCase())) folded.set(v.toLowerCase(), b);
  }
  let lastRaw: Buffer = Buffer.alloc(0);
  let lastOut: Buffer = Buffer.alloc(0);
  return (src, s, e, out, o, st) => {
    const n = e - s;
    if (n === lastRaw.length) {
      let same = true;
      for (let i = 0; i < n; i++)
        if (src[s + i] !== lastRaw[i]) {
          same = false;
          break;
        }
      if (same) {
        for (let i = 0; i < lastOut.length; i++) out[o + i] = lastOut[i];
        return o + lastOut.length;
      }
    }
    const v = src.toString('utf8', s, e);
    const hit = exact.get(v) ?? folded.get(v.toLowerCase());
    if (!hit) {
      st.problem = unknown(v);
      return -1;
    }
    lastRaw = Buffer.from(src.subarray(s, e));
    lastOut = hit;
    for (let i = 0; i < hit.length; i++) out[o + i] = hit[i];
    return o + hit.length;
  };
}

// ---------------------------------------------------------------- string wrappers (tests, callers holding strings)

export type ParseResult = { ok: true; value: string } | { ok: false; code: RowReasonCode; message: string };

/** Run a byte parser on a string (trimmed; the caller handles empty = null). */
export function runParser(parser: ByteParser, raw: string): ParseResult {
  const src = Buffer.from(raw.trim(), 'utf8');
  const out = Buffer.allocUnsafe(src.length * 2 + 64);
  const st: ParseState = { problem: null };
  const end = parser(src, 0, src.length, out, 0, st);
  if (end < 0) return { ok: false, code: st.problem!.code, message: st.problem!.message };
  return { ok: true, value: out.toString('utf8', 0, end) };
}

export const parseDate = (raw: string) => runParser(parseDateBytes, raw);
export const parsePeriod = (raw: string) => runParser(parsePeriodBytes, raw);
export const parseTimestamp = (raw: string) => runParser(parseTimestampBytes, raw);
export const parseMoney = (raw: string, opts: { signed?: boolean } = {}) =>
  runParser(opts.signed ? parseSignedMoneyBytes : parseMoneyBytes, raw);
export const parseIdNumberField = (raw: string) => runParser(parseIdNumberBytes, raw);
