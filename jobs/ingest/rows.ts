// Turns CSV records of one file into COPY-text rows for the feed's table, or into quarantine entries.
// Driven entirely by the feed definition (feeds.ts): the header is mapped once per file, then every record
// goes through the columns' byte parsers. Output rows are `<feed columns…>\t<file_id>\t<line_no>\n`.
import type { CsvRecord } from './csv.ts';
import { CATALOGUES, type CatalogueName, type ColumnDef, type FeedDef, type RowRule } from './feeds.ts';
import {
  intParser,
  lookupParser,
  parseDateBytes,
  parseIdNumberBytes,
  parseMoneyBytes,
  parsePeriodBytes,
  parseRegionCodeBytes,
  parseSignedMoneyBytes,
  parseTextBytes,
  parseTimestampBytes,
  type ByteParser,
  type ParseState,
  type Problem
} from './values.ts';

export type Catalogues = Record<CatalogueName, readonly string[]>;

/** File-level reason codes (quarantine rows with line_no NULL, ingest_files.reason). */
export type FileReasonCode =
  'unknown_feed' | 'not_csv' | 'bad_encoding' | 'empty_file' | 'missing_column' | 'duplicate_column' | 'db_rejected';

export class FileRejection extends Error {
  constructor(
    readonly code: FileReasonCode,
    message: string
  ) {
    super(message);
  }
}

function columnParser(col: ColumnDef, catalogues: Catalogues): ByteParser {
  const t = col.type;
  switch (t.kind) {
    case 'text':
      return parseTextBytes;
    case 'id_number':
      return parseIdNumberBytes;
    case 'region_code':
      return parseRegionCodeBytes;
    case 'date':
      return parseDateBytes;
    case 'timestamp':
      return parseTimestampBytes;
    case 'period':
      return parsePeriodBytes;
    case 'money':
      return t.signed ? parseSignedMoneyBytes : parseMoneyBytes;
    case 'int':
      return intParser(t.min, t.max);
    case 'enum':
      return lookupParser(t.values, (v) => ({
        code: 'unknown_enum',
        message: `${JSON.stringify(v)} is not one of ${t.values.join(', ')}`
      }));
    case 'catalogue': {
      const c = CATALOGUES[t.catalogue];
      return lookupParser(catalogues[t.catalogue], (v) => ({ code: 'unknown_code', message: `${JSON.stringify(v)} is not in ${c.label}` }));
    }
  }
}

/** Header analysis: which field feeds which column; unknown columns; rejections. */
export function mapHeader(feed: FeedDef, header: readonly string[]): { map: Int32Array; unknown: string[] } {
  const names = header.map((h) => h.trim().toLowerCase());
  const seen = new Map<string, number>();
  const dups: string[] = [];
  names.forEach((n, i) => {
    if (seen.has(n)) dups.push(n || '(empty)');
    else seen.set(n, i);
  });
  if (dups.length) throw new FileRejection('duplicate_column', `the header names ${[...new Set(dups)].join(', ')} more than once`);
  const missing = feed.columns.filter((c) => (c.required || c.inHeader) && !seen.has(c.name)).map((c) => c.name);
  if (missing.length) {
    throw new FileRejection(
      'missing_column',
      `the header lacks required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${names.join(',').slice(0, 300)})`
    );
  }
  const known = new Set(feed.columns.map((c) => c.name));
  const unknown = names.filter((n) => !known.has(n)).map((n) => n || '(empty)');
  const map = new Int32Array(feed.columns.length);
  feed.columns.forEach((c, j) => {
    map[j] = seen.get(c.name) ?? -1;
  });
  return { map, unknown };
}

export interface QuarantineSinkLike {
  add(lineNo: number | null, raw: string | null, problems: readonly Problem[]): void;
}

const NULL_BYTES = [92, 78]; // \N
const OUT_BYTES = 1 << 20;

/** Per-row cross-field logic (derivation from id_number, rules), working on canonical COPY-text values. */
class RowLogic {
  private readonly idx = new Map<string, number>();
  constructor(private readonly feed: FeedDef) {
    feed.columns.forEach((c, j) => this.idx.set(c.name, j));
  }
  private at(name: string): number {
    return this.idx.get(name)!;
  }

  /** Mutates values (null = absent); returns problems. */
  apply(values: (string | null)[]): Problem[] {
    const problems: Problem[] = [];
    const cols = this.feed.columns;
    const idJ = this.idx.get('id_number');
    const id = idJ === undefined ? null : values[idJ];
    for (let j = 0; j < cols.length; j++) {
      const part = cols[j].fromIdNumber;
      if (!part || !id) continue;
      const derived =
        part === 'sex' ? (Number(id[16]) % 2 === 1 ? 'M' : 'F') : `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
      const given = values[j];
      if (given === null) values[j] = derived;
      else if (given !== derived) {
        problems.push(
          part === 'sex'
            ? {
                code: 'sex_mismatch',
                message: `sex ${given} does not agree with id_number ${id} (${derived === 'M' ? 'male' : 'female'}: 17th digit ${id[16]})`
              }
            : { code: 'birth_date_mismatch', message: `birth_date ${given} does not agree with id_number ${id} (born ${derived})` }
        );
      }
    }
    for (const r of this.feed.rules ?? []) this.rule(r, values, problems);
    return problems;
  }

  private rule(r: RowRule, v: (string | null)[], problems: Problem[]): void {
    switch (r.kind) {
      case 'not_before': {
        const a = v[this.at(r.earlier)],
          b = v[this.at(r.later)];
        if (a !== null && b !== null && b < a)
          problems.push({ code: 'end_before_start', message: `${r.later} ${b.slice(0, 10)} is before ${r.earlier} ${a.slice(0, 10)}` });
        return;
      }
      case 'required_when': {
        if (v[this.at(r.when)] === r.equals && v[this.at(r.column)] === null) {
          problems.push({ code: 'missing_required', message: `${r.column} is required when ${r.when} is ${r.equals}` });
        }
        return;
      }
      case 'fits': {
        const a = v[this.at(r.column)],
          b = v[this.at(r.other)];
        if (a !== null && b !== null && r.allowed[a] && !r.allowed[a].includes(b)) {
          problems.push({ code: 'basis_mismatch', message: `${r.column} ${a} does not fit ${r.other} ${b}` });
        }
        return;
      }
      case 'tree_parent': {
        const level = v[this.at(r.level)],
          parent = v[this.at(r.parent)],
          self = v[this.at(r.self)];
        if (level === null) return;
        if (level === r.root && parent !== null)
          problems.push({ code: 'bad_parent', message: `a ${r.root} has no ${r.parent} (got ${parent})` });
        else if (level !== r.root && parent === null)
          problems.push({ code: 'missing_required', message: `${r.parent} is required for a ${level}` });
        else if (parent !== null && parent === self)
          problems.push({ code: 'bad_parent', message: `region ${self} cannot be its own parent` });
        return;
      }
    }
  }
}

export interface RowCounts {
  read: number;
  valid: number;
  quarantined: number;
}

/**
 * One file's row processing. Call process() per record (after the header), take the output with drain().
 * `exclude` holds lines the database refused in an earlier attempt; `refuseCopyRow` makes the n-th valid
 * row (1-based, as PostgreSQL numbers COPY lines) a quarantined one — how a refused row is pinned to its line.
 */
export class RowProcessor {
  private readonly parsers: ByteParser[];
  private readonly map: Int32Array;
  private readonly required: Uint8Array;
  /** Per column: the value stored when empty (ColumnDef.whenEmpty), else null (stored as NULL). */
  private readonly whenEmpty: (Buffer | null)[];
  private readonly width: number;
  private readonly ncols: number;
  private readonly logic: RowLogic | null;
  private readonly st: ParseState = { problem: null };
  private readonly colStart: Int32Array;
  private readonly colEnd: Int32Array;
  private readonly suffix: Buffer;
  private out = Buffer.allocUnsafe(OUT_BYTES);
  private o = 0;
  private full: Buffer[] = [];
  readonly counts: RowCounts = { read: 0, valid: 0, quarantined: 0 };
  /** Rows that passed validation so far, the refused one included (PostgreSQL's COPY line numbers of the previous attempt). */
  private passed = 0;
  readonly unknownColumns: string[];
  /** The tracked column (opts.trackDays): its smallest and largest day YYYY-MM-DD among the rows written. */
  private readonly track: number;
  private readonly day = Buffer.alloc(10);
  private dayMin: Buffer | null = null;
  private dayMax: Buffer | null = null;

  constructor(
    private readonly feed: FeedDef,
    header: readonly string[],
    catalogues: Catalogues,
    fileId: number,
    private readonly quarantine: QuarantineSinkLike,
    private readonly opts: {
      encodingProblem: string | (() => string);
      exclude?: ReadonlyMap<number, Problem>;
      refuseCopyRow?: { row: number; problem: Problem; onLine: (lineNo: number) => void };
      /** A date or timestamp column whose range of days (the date part as written to COPY) is kept: days(). */
      trackDays?: string;
    }
  ) {
    const { map, unknown } = mapHeader(feed, header);
    this.map = map;
    this.unknownColumns = unknown;
    this.width = header.length;
    this.ncols = feed.columns.length;
    this.parsers = feed.columns.map((c) => columnParser(c, catalogues));
    this.required = Uint8Array.from(feed.columns.map((c) => (c.required ? 1 : 0)));
    this.whenEmpty = feed.columns.map((c) => (c.whenEmpty === undefined ? null : Buffer.from(c.whenEmpty, 'utf8')));
    this.logic = feed.columns.some((c) => c.fromIdNumber) || (feed.rules?.length ?? 0) > 0 ? new RowLogic(feed) : null;
    this.colStart = new Int32Array(this.ncols);
    this.colEnd = new Int32Array(this.ncols);
    this.suffix = Buffer.from(`\t${fileId}\t`, 'latin1');
    this.track = opts.trackDays === undefined ? -1 : feed.columns.findIndex((c) => c.name === opts.trackDays);
    if (opts.trackDays !== undefined && this.track < 0) throw new Error(`${feed.feed} has no column ${opts.trackDays}`);
  }

  /**
   * The smallest and largest day (YYYY-MM-DD: the date part, before any UTC offset) of the tracked column among
   * the rows written, or null when none had one. A timestamp's instant lies within a day of its written date.
   */
  days(): { min: string; max: string } | null {
    return this.dayMin && this.dayMax ? { min: this.dayMin.toString('latin1'), max: this.dayMax.toString('latin1') } : null;
  }

  /** Complete output buffers so far (COPY text); the processor keeps writing into fresh ones. */
  drain(): Buffer[] {
    const res = this.full;
    if (this.o > 0) {
      res.push(this.out.subarray(0, this.o));
      this.out = Buffer.allocUnsafe(OUT_BYTES);
      this.o = 0;
    }
    this.full = [];
    return res;
  }

  private ensure(need: number): void {
    if (this.o + need <= this.out.length) return;
    if (this.o > 0) this.full.push(this.out.subarray(0, this.o));
    this.out = Buffer.allocUnsafe(Math.max(OUT_BYTES, need));
    this.o = 0;
  }

  private reject(rec: CsvRecord, problems: readonly Problem[]): void {
    this.counts.quarantined++;
    this.quarantine.add(rec.lineNo, rec.raw.toString('utf8', rec.rawStart, rec.rawEnd), problems);
  }

  process(rec: CsvRecord): void {
    this.counts.read++;
    if (rec.error) return this.reject(rec, [{ code: 'bad_csv', message: `not valid CSV: ${rec.error}` }]);
    if (rec.badEncoding) {
      const m = this.opts.encodingProblem;
      return this.reject(rec, [{ code: 'bad_encoding', message: typeof m === 'function' ? m() : m }]);
    }
    if (rec.count !== this.width) {
      return this.reject(rec, [
        { code: 'field_count', message: `the line has ${rec.count} field${rec.count === 1 ? '' : 's'}, the header has ${this.width}` }
      ]);
    }
    if (this.opts.exclude && this.opts.exclude.size) {
      const ex = this.opts.exclude.get(rec.lineNo);
      if (ex) return this.reject(rec, [ex]);
    }
    const src = rec.buf;
    this.ensure(2 * (rec.rawEnd - rec.rawStart) + 48 * this.ncols + 64);
    const out = this.out;
    const rowStart = this.o;
    let o = rowStart;
    let problems: Problem[] | null = null;
    const st = this.st;
    for (let j = 0; j < this.ncols; j++) {
      if (j > 0) out[o++] = 9;
      const k = this.map[j];
      let s = 0,
        e = 0;
      if (k >= 0) {
        s = rec.starts[k];
        e = rec.ends[k];
        while (s < e && (src[s] === 32 || src[s] === 9)) s++;
        while (e > s && (src[e - 1] === 32 || src[e - 1] === 9)) e--;
      }
      this.colStart[j] = o;
      const dflt = this.whenEmpty[j];
      if (s === e && dflt) {
        o += dflt.copy(out, o);
      } else if (s === e) {
        if (this.required[j])
          (problems ??= []).push({ code: 'missing_required', message: `${this.feed.columns[j].name} is required but empty` });
        out[o++] = NULL_BYTES[0];
        out[o++] = NULL_BYTES[1];
      } else {
        const r = this.parsers[j](src, s, e, out, o, st);
        if (r < 0) {
          (problems ??= []).push({ code: st.problem!.code, message: `${this.feed.columns[j].name} ${st.problem!.message}` });
          st.problem = null;
        } else o = r;
      }
      this.colEnd[j] = o;
    }
    // The tracked day is taken from the parsed value (the rule logic below may rewrite the row in place).
    const t = this.track;
    const hasDay = t >= 0 && problems === null && this.colEnd[t] - this.colStart[t] >= 10 && out[this.colStart[t] + 4] === 45;
    if (hasDay) out.copy(this.day, 0, this.colStart[t], this.colStart[t] + 10);
    if (problems === null && this.logic) {
      const values: (string | null)[] = new Array(this.ncols);
      for (let j = 0; j < this.ncols; j++) {
        const a = this.colStart[j],
          b = this.colEnd[j];
        values[j] = b - a === 2 && out[a] === 92 && out[a + 1] === 78 ? null : out.toString('utf8', a, b);
      }
      const found = this.logic.apply(values);
      if (found.length) problems = found;
      else {
        o = rowStart;
        for (let j = 0; j < this.ncols; j++) {
          if (j > 0) out[o++] = 9;
          const v = values[j];
          if (v === null) {
            out[o++] = 92;
            out[o++] = 78;
          } else o += out.write(v, o, 'utf8');
        }
      }
    }
    if (problems !== null) {
      this.o = rowStart;
      return this.reject(rec, problems);
    }
    const refuse = this.opts.refuseCopyRow;
    if (refuse && ++this.passed === refuse.row) {
      this.o = rowStart;
      refuse.onLine(rec.lineNo);
      return this.reject(rec, [refuse.problem]);
    }
    if (hasDay) {
      if (this.dayMin === null || this.day.compare(this.dayMin) < 0) this.dayMin = Buffer.from(this.day);
      if (this.dayMax === null || this.day.compare(this.dayMax) > 0) this.dayMax = Buffer.from(this.day);
    }
    for (let i = 0; i < this.suffix.length; i++) out[o++] = this.suffix[i];
    const n = rec.lineNo;
    if (n < 10) out[o++] = 48 + n;
    else {
      const t = String(n);
      for (let i = 0; i < t.length; i++) out[o++] = t.charCodeAt(i);
    }
    out[o++] = 10;
    this.o = o;
    this.counts.valid++;
  }
}
