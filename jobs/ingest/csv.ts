// RFC 4180 CSV on bytes, streamed: chunks of UTF-8 in, one callback per record out, with the physical
// line number of the record's first line and its raw text. Quoted fields (commas, line breaks, "" escapes)
// are handled; lines without a quote take a fast path that only records field offsets (no strings).
//
// Why not csv-parse: on this 2-core target csv-parse does ~210k rows/s (~120k with `info`/`raw`, which
// line numbers and raw text need) — slower than PostgreSQL's own COPY, so it alone would miss the
// throughput target. This scanner does ~3M rows/s of scanning and is tested against the same edge cases.
//
// Error policy (a bad record never blocks the good ones): a record that breaks the grammar (a quote inside
// an unquoted field, a character after a closing quote, a quoted field still open at the end of the file or
// after MAX_RECORD_BYTES) is reported with `error` set, covering only its first physical line; scanning
// resumes on the next line. Blank (or all-blank) lines are skipped and are not records.

export const MAX_RECORD_BYTES = 1 << 20;
const MAX_FIELDS = 1024;
const RAW_PREVIEW_BYTES = 64 * 1024;

export interface CsvRecord {
  /** Buffer holding the field bytes (the input chunk, or a scratch buffer for records with quotes). */
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  /** Number of fields (may exceed the stored offsets for absurd records; the row is then refused anyway). */
  count: number;
  /** The record's raw text, without its final line break. */
  raw: Buffer;
  rawStart: number;
  rawEnd: number;
  /** Physical line number (1-based) of the record's first line. */
  lineNo: number;
  /** Grammar problem; the record's fields are then meaningless. */
  error: string | null;
  /** The record's bytes failed the encoding check. */
  badEncoding: boolean;
}

/** Checks that the scanner applies to complete regions of input (cheap), and per record only where a region failed. */
export interface EncodingCheck {
  region(buf: Buffer, start: number, end: number): boolean;
  record(buf: Buffer, start: number, end: number): boolean;
}

const INCOMPLETE = -1;

export class CsvScanner {
  private carry: Buffer | null = null;
  private line = 1;
  private skipping = false;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly rec: CsvRecord;
  /** Records ending before this offset of the current buffer must be checked one by one. */
  private checkUntil = -1;

  constructor(
    private readonly onRecord: (r: CsvRecord) => void,
    private readonly check?: EncodingCheck
  ) {
    this.rec = {
      buf: this.scratch,
      starts: new Int32Array(MAX_FIELDS + 1),
      ends: new Int32Array(MAX_FIELDS + 1),
      count: 0,
      raw: this.scratch,
      rawStart: 0,
      rawEnd: 0,
      lineNo: 0,
      error: null,
      badEncoding: false
    };
  }

  /** Next physical line number (after the last complete record). */
  get lineNumber(): number {
    return this.line;
  }

  push(chunk: Buffer): void {
    this.scan(chunk, false);
  }

  end(): void {
    this.scan(Buffer.alloc(0), true);
  }

  private scan(chunk: Buffer, final: boolean): void {
    const buf = this.carry && this.carry.length ? (chunk.length ? Buffer.concat([this.carry, chunk]) : this.carry) : chunk;
    this.carry = null;
    const len = buf.length;
    this.checkUntil = -1;
    if (this.check && len) {
      const lastNl = final ? len : buf.lastIndexOf(10) + 1;
      if (lastNl > 0 && !this.check.region(buf, 0, lastNl)) this.checkUntil = lastNl;
    }
    const rec = this.rec;
    const starts = rec.starts;
    const ends = rec.ends;
    let pos = 0;
    while (pos < len) {
      if (this.skipping) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        pos = nl + 1;
        this.line++;
        this.skipping = false;
        continue;
      }
      // Fast path: one line, no quote.
      let i = pos;
      let f = 0;
      let c = 0;
      starts[0] = pos;
      for (; i < len; i++) {
        c = buf[i];
        if (c === 44) {
          if (f < MAX_FIELDS) {
            ends[f] = i;
            starts[f + 1] = i + 1;
          }
          f++;
        } else if (c === 10 || c === 34) break;
      }
      if (i < len && c === 34) {
        const next = this.quoted(buf, pos, final);
        if (next === INCOMPLETE) {
          if (len - pos > MAX_RECORD_BYTES) {
            pos = this.resync(buf, pos, final, `a quoted field is still open after ${MAX_RECORD_BYTES} bytes (a missing closing quote?)`);
            if (pos === INCOMPLETE) {
              this.keep(buf, this.resyncFrom);
              break;
            }
            continue;
          }
          this.keep(buf, pos);
          break;
        }
        pos = next;
        continue;
      }
      if (i >= len && !final) {
        if (len - pos > MAX_RECORD_BYTES) {
          this.emitError(buf, pos, Math.min(len, pos + RAW_PREVIEW_BYTES), `the line is longer than ${MAX_RECORD_BYTES} bytes`);
          this.skipping = true;
          break;
        }
        this.keep(buf, pos);
        break;
      }
      // A complete line [pos, i) (i === len only at the end of the input).
      if (i - pos > MAX_RECORD_BYTES) {
        this.emitError(buf, pos, pos + RAW_PREVIEW_BYTES, `the line is longer than ${MAX_RECORD_BYTES} bytes`);
        this.line++;
        pos = i + 1;
        continue;
      }
      let end = i;
      if (end > pos && buf[end - 1] === 13) end--;
      if (f === 0 && isBlank(buf, pos, end)) {
        this.line++;
        pos = i + 1;
        continue;
      }
      if (f < MAX_FIELDS) ends[f] = end < starts[f] ? starts[f] : end;
      rec.buf = buf;
      rec.count = f + 1;
      rec.raw = buf;
      rec.rawStart = pos;
      rec.rawEnd = end;
      rec.lineNo = this.line;
      rec.error = null;
      rec.badEncoding = pos < this.checkUntil && !this.check!.record(buf, pos, end);
      this.onRecord(rec);
      this.line++;
      pos = i + 1;
    }
  }

  private resyncFrom = 0;

  private keep(buf: Buffer, from: number): void {
    this.carry = from < buf.length ? buf.subarray(from) : null;
  }

  /** Report the record starting at pos as broken (its first physical line) and continue after that line. */
  private resync(buf: Buffer, pos: number, final: boolean, message: string): number {
    const nl = buf.indexOf(10, pos);
    if (nl < 0 && !final) {
      if (buf.length - pos > MAX_RECORD_BYTES) {
        this.emitError(buf, pos, Math.min(buf.length, pos + RAW_PREVIEW_BYTES), message);
        this.skipping = true;
        return buf.length;
      }
      this.resyncFrom = pos;
      return INCOMPLETE;
    }
    const lineEnd = nl < 0 ? buf.length : nl;
    let end = lineEnd;
    if (end > pos && buf[end - 1] === 13) end--;
    this.emitError(buf, pos, Math.min(end, pos + RAW_PREVIEW_BYTES), message);
    this.line++;
    return nl < 0 ? buf.length : nl + 1;
  }

  private emitError(buf: Buffer, start: number, end: number, message: string): void {
    const rec = this.rec;
    rec.buf = buf;
    rec.count = 0;
    rec.raw = buf;
    rec.rawStart = start;
    rec.rawEnd = end;
    rec.lineNo = this.line;
    rec.error = message;
    rec.badEncoding = false;
    this.onRecord(rec);
  }

  /**
   * Full RFC 4180 state machine for a record containing a quote, starting at pos. Field bytes (unescaped)
   * go to the scratch buffer. Returns the offset after the record, or INCOMPLETE when more input is needed.
   */
  private quoted(buf: Buffer, pos: number, final: boolean): number {
    const len = buf.length;
    if (this.scratch.length < len - pos) this.scratch = Buffer.allocUnsafe(Math.max(len - pos, this.scratch.length * 2));
    const out = this.scratch;
    const starts = this.rec.starts;
    const ends = this.rec.ends;
    let i = pos;
    let w = 0;
    let f = 0;
    let newlines = 0;
    let recEnd = -1;
    let next = -1;
    for (;;) {
      if (f < MAX_FIELDS) starts[f] = w;
      if (i < len && buf[i] === 34) {
        i++;
        for (;;) {
          if (i >= len) {
            if (!final) return INCOMPLETE;
            return this.resync(buf, pos, final, 'a quoted field is not closed before the end of the file');
          }
          const c = buf[i];
          if (c === 34) {
            if (i + 1 >= len && !final) return INCOMPLETE;
            if (i + 1 < len && buf[i + 1] === 34) {
              out[w++] = 34;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === 10) newlines++;
          out[w++] = c;
          i++;
        }
        if (f < MAX_FIELDS) ends[f] = w;
        f++;
        if (i >= len) {
          if (!final) return INCOMPLETE;
          recEnd = len;
          next = len;
          break;
        }
        const c = buf[i];
        if (c === 44) {
          i++;
          continue;
        }
        if (c === 10) {
          recEnd = i;
          next = i + 1;
          break;
        }
        if (c === 13) {
          if (i + 1 >= len && !final) return INCOMPLETE;
          if (i + 1 >= len) {
            recEnd = i;
            next = len;
            break;
          }
          if (buf[i + 1] === 10) {
            recEnd = i;
            next = i + 2;
            break;
          }
        }
        return this.resync(
          buf,
          pos,
          final,
          'unexpected character after a closing quote (quote the whole field and double quotes inside it)'
        );
      }
      // unquoted field
      for (;;) {
        if (i >= len) {
          if (!final) return INCOMPLETE;
          if (f < MAX_FIELDS) ends[f] = w;
          f++;
          recEnd = len;
          next = len;
          break;
        }
        const c = buf[i];
        if (c === 44) {
          if (f < MAX_FIELDS) ends[f] = w;
          f++;
          i++;
          break;
        }
        if (c === 10) {
          let e = w;
          if (e > (f < MAX_FIELDS ? starts[f] : 0) && out[e - 1] === 13) e--;
          if (f < MAX_FIELDS) ends[f] = e;
          f++;
          recEnd = i > pos && buf[i - 1] === 13 ? i - 1 : i;
          next = i + 1;
          break;
        }
        if (c === 34)
          return this.resync(buf, pos, final, 'a quote inside an unquoted field (quote the whole field and double quotes inside it)');
        out[w++] = c;
        i++;
      }
      if (recEnd >= 0) break;
    }
    if (recEnd - pos > MAX_RECORD_BYTES)
      return this.resync(buf, pos, true, `the record is longer than ${MAX_RECORD_BYTES} bytes (a missing closing quote?)`);
    const rec = this.rec;
    rec.buf = out;
    rec.count = f;
    rec.raw = buf;
    rec.rawStart = pos;
    rec.rawEnd = recEnd;
    rec.lineNo = this.line;
    rec.error = null;
    rec.badEncoding = pos < this.checkUntil && !this.check!.record(buf, pos, recEnd);
    this.onRecord(rec);
    this.line += 1 + newlines;
    return next;
  }
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Parse a whole string (tests, small inputs): records as arrays of strings with line numbers. */
export function parseCsvText(text: string): { lineNo: number; fields: string[]; raw: string; error: string | null }[] {
  const rows: { lineNo: number; fields: string[]; raw: string; error: string | null }[] = [];
  const s = new CsvScanner((r) => {
    const fields: string[] = [];
    for (let k = 0; k < Math.min(r.count, MAX_FIELDS); k++) fields.push(r.buf.toString('utf8', r.starts[k], r.ends[k]));
    rows.push({ lineNo: r.lineNo, fields, raw: r.raw.toString('utf8', r.rawStart, r.rawEnd), error: r.error });
  });
  s.push(Buffer.from(text, 'utf8'));
  s.end();
  return rows;
}
