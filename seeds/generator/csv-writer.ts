// Buffered CSV file writer: RFC 4180 quoting, UTF-8 (optionally with BOM) or GB18030, LF or CRLF,
// 512 KB chunks written synchronously so memory stays bounded, and physical line numbers tracked
// for every row so the ground truth can name the exact line of each planted bad row.
import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';

export type Encoding = 'utf8' | 'utf8-bom' | 'gb18030';

export interface CsvFileOptions {
  encoding?: Encoding;
  eol?: '\n' | '\r\n';
  /** Header text exactly as written (defaults to the column names joined by commas). */
  headerText?: string;
}

const CHUNK = 1 << 19;

export function csvField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (/[",\r\n]/.test(v) || /^\s|\s$/.test(v)) return '"' + v.replaceAll('"', '""') + '"';
  return v;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** One output file. `rel` is the path relative to the inbox (e.g. `payments/payments-2025.csv`). */
export class CsvFile {
  readonly rel: string;
  readonly feed: string;
  readonly columns: readonly string[];
  private fd: number;
  /** Rows are encoded straight into this buffer, so row strings die young (cheap for the GC). */
  private buf = Buffer.allocUnsafe(CHUNK);
  private off = 0;
  private readonly encoding: Encoding;
  private readonly eol: string;
  /** Physical line number the next row will start on (header is line 1). */
  nextLine = 1;
  /** Data rows written (a multi-line quoted row counts once). */
  rows = 0;
  bytes = 0;
  private closed = false;
  /** Hooks run after each data row (used to interleave planted bad rows). */
  afterRow: ((f: CsvFile) => void) | null = null;

  constructor(root: string, rel: string, feed: string, columns: readonly string[], opts: CsvFileOptions = {}) {
    this.rel = rel;
    this.feed = feed;
    this.columns = columns;
    this.encoding = opts.encoding ?? 'utf8';
    this.eol = opts.eol ?? '\n';
    const full = path.join(root, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    this.fd = fs.openSync(full, 'w');
    if (this.encoding === 'utf8-bom') this.writeBytes(Buffer.from([0xef, 0xbb, 0xbf]));
    this.push((opts.headerText ?? columns.join(',')) + this.eol);
    this.nextLine = 2;
  }

  /** Write a data row given as values in column order. Returns the row's starting line. */
  row(values: readonly (string | null | undefined)[]): number {
    let line = '';
    for (let i = 0; i < values.length; i++) {
      if (i) line += ',';
      line += csvField(values[i]);
    }
    return this.raw(line);
  }

  /** Write a preformatted line (no trailing EOL); it may contain embedded newlines. */
  raw(line: string, opts: { noEol?: boolean; singleLine?: boolean } = {}): number {
    const start = this.nextLine;
    this.push(opts.noEol ? line : line + this.eol);
    this.nextLine += (opts.singleLine ? 0 : countNewlines(line)) + (opts.noEol ? 0 : 1);
    this.rows++;
    if (this.afterRow) this.afterRow(this);
    return start;
  }

  private push(s: string): void {
    if (this.closed) throw new Error(`write after close: ${this.rel}`);
    if (this.encoding === 'gb18030') {
      const b = iconv.encode(s, 'gb18030');
      if (b.length > CHUNK - this.off) this.flush();
      if (b.length > CHUNK) this.writeBytes(b);
      else this.off += b.copy(this.buf, this.off);
      return;
    }
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (s.length * 3 > CHUNK - this.off) {
      this.flush();
      if (s.length * 3 > CHUNK) {
        this.writeBytes(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.off += this.buf.write(s, this.off, 'utf8');
  }

  private writeBytes(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    this.bytes += buf.length;
  }

  flush(): void {
    if (!this.off) return;
    const n = this.off;
    this.off = 0;
    this.writeBytes(this.buf.subarray(0, n));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    fs.closeSync(this.fd);
    this.closed = true;
  }
}

/** A plain buffered text writer (used for the ground-truth fragments). */
export class TextSink {
  private fd: number;
  private parts: string[] = [];
  private size = 0;
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w');
  }
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) this.flush();
  }
  flush(): void {
    if (!this.parts.length) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
  }
  /** Append the whole content of another file, in chunks. */
  appendFile(file: string): void {
    this.flush();
    const src = fs.openSync(file, 'r');
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const n = fs.readSync(src, buf, 0, CHUNK, null);
      if (!n) break;
      let off = 0;
      while (off < n) off += fs.writeSync(this.fd, buf, off, n - off);
    }
    fs.closeSync(src);
  }
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}
