// The set-based SQL of a file load, generated from the feed definition (one place, reviewed as a whole).
//
// merge of a staged file into its table — parameters: $1 file_id, $2 feed name
//   dups       keys present more than once in the file (usually none)
//   seq        for those keys only: each line's predecessor within the file and whether it differs from it
//   history    previous versions → row_history: table rows a different version replaced, and lines a later
//              different line of the same file replaced (the sequential reading of the file)
//   delete     table rows whose key the file holds with different content
//   insert     keys not (or no longer) in the table, with an anti-join (new keys: a plain INSERT … SELECT)
// Everything runs in the file's transaction, so a load is all or nothing.
//
// Two forms of the delete/insert steps:
//  * joined (plain tables): DELETE … USING ingest_stg and an anti-join INSERT against the table;
//  * keyed (TimescaleDB hypertables, see keyedSql below): a DELETE joined to the staging table cannot tell a
//    compressed chunk which batches it needs, so TimescaleDB decompresses every batch of every chunk — over
//    its per-transaction limit (100 000 rows) from the first compressed month on, and with the limit lifted
//    every load moved all compressed rows back into the heap. Instead the file's keys are first looked up
//    with a SELECT (reading compressed data is fine) bounded by the file's smallest and largest key as
//    constants, which skips every compressed batch outside that range (the compression order starts with
//    the key: migration 0019); only the rows found are deleted, by constant keys: one statement per key with
//    its time value on a compressed chunk (TimescaleDB then opens only the batch that holds it), one
//    statement with the chunk's keys otherwise. A file of new keys (a new month) does not get here at all:
//    it is COPYed straight into the hypertable and checked afterwards (directRows … directConflicts, used by
//    load.ts), which reads only its own days and its own key range.
import pg from 'pg';
import type { FeedDef } from './feeds.ts';

const q = (name: string) => `"${name}"`;

export interface FeedSql {
  /** Column list of the COPY rows: the feed's columns, then file_id, line_no. */
  copyColumns: string;
  directCopy: string;
  createStage: string;
  stageCopy: string;
  analyzeStage: string;
  findDups: string;
  /** Statements of the general merge in order; each returns `n` (a count) where counted. */
  seq: string;
  historyInFile: string;
  unchangedInFile: string;
  keepFirst: string;
  dropSuperseded: string;
  historyFirstVsTable: string;
  deleteChanged: string;
  insertNew: string;
  /** Rows of the table whose person is not in persons (feeds with id_number). */
  unresolved: string | null;
}

export function feedSql(feed: FeedDef): FeedSql {
  const t = q(feed.table);
  const cols = feed.columns.map((c) => q(c.name));
  const key = feed.key.map(q);
  const on = (a: string, b: string) => key.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const row = (a: string) => `ROW(${cols.map((c) => `${a}.${c}`).join(', ')})`;
  const keyText = (a: string) =>
    key.length === 1 ? `${a}.${key[0]}::text` : `concat_ws('|', ${key.map((k) => `${a}.${k}::text`).join(', ')})`;
  const copyColumns = [...cols, q('file_id'), q('line_no')].join(', ');
  const history = (alias: string, from: string) =>
    `INSERT INTO row_history (feed, natural_key, old_row, replaced_by_file) SELECT $2, ${keyText(alias)}, to_jsonb(${alias}), $1 FROM ${from}`;
  return {
    copyColumns,
    directCopy: `COPY ${t} (${copyColumns}) FROM STDIN`,
    createStage: `CREATE TEMP TABLE ingest_stg (LIKE ${t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP`,
    stageCopy: `COPY ingest_stg (${copyColumns}) FROM STDIN`,
    analyzeStage: 'ANALYZE ingest_stg',
    findDups: `CREATE TEMP TABLE ingest_dups ON COMMIT DROP AS SELECT ${key.join(', ')} FROM ingest_stg GROUP BY ${key.join(', ')} HAVING count(*) > 1`,
    seq: `CREATE TEMP TABLE ingest_seq ON COMMIT DROP AS
      SELECT s.line_no, row_number() OVER w AS rn, lead(s.line_no) OVER w IS NULL AS is_last, lag(s.line_no) OVER w AS prev_line,
             ${row('s')} IS DISTINCT FROM lag(${row('s')}) OVER w AS differs_prev
      FROM ingest_stg s JOIN ingest_dups d ON ${on('s', 'd')}
      WINDOW w AS (PARTITION BY ${key.map((k) => `s.${k}`).join(', ')} ORDER BY s.line_no)`,
    historyInFile: `${history('p', 'ingest_seq x JOIN ingest_stg p ON p.line_no = x.prev_line WHERE x.rn > 1 AND x.differs_prev')}`,
    unchangedInFile: `SELECT count(*)::int AS n FROM ingest_seq WHERE rn > 1 AND NOT differs_prev`,
    keepFirst: `CREATE TEMP TABLE ingest_first ON COMMIT DROP AS SELECT s.* FROM ingest_stg s JOIN ingest_seq x ON x.line_no = s.line_no WHERE x.rn = 1`,
    dropSuperseded: `DELETE FROM ingest_stg s USING ingest_seq x WHERE x.line_no = s.line_no AND NOT x.is_last`,
    historyFirstVsTable: `${history('tr', `${t} tr JOIN ingest_first f ON ${on('tr', 'f')} WHERE ${row('tr')} IS DISTINCT FROM ${row('f')}`)}`,
    // History here only for keys that appear once in the file (for the others the first-vs-table step did it).
    deleteChanged: `WITH gone AS (
        DELETE FROM ${t} tr USING ingest_stg s WHERE ${on('tr', 's')} AND ${row('tr')} IS DISTINCT FROM ${row('s')} RETURNING tr.*
      ), h AS (
        ${history('g', `gone g WHERE NOT EXISTS (SELECT 1 FROM ingest_dups d WHERE ${on('d', 'g')})`)} RETURNING 1
      ) SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM h)::int AS n`,
    insertNew: `INSERT INTO ${t} (${copyColumns}) SELECT ${cols.map((c) => `s.${c}`).join(', ')}, s.file_id, s.line_no FROM ingest_stg s
      WHERE NOT EXISTS (SELECT 1 FROM ${t} tr WHERE ${on('tr', 's')})`,
    unresolved:
      feed.feed !== 'persons' && feed.columns.some((c) => c.name === 'id_number')
        ? `SELECT count(*)::bigint AS n FROM ${t} x WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = x.id_number)`
        : null
  };
}

/** The chunk (or plain table) a row found by the key probe lives in; written into ingest_hit. */
export const CHUNK_COLUMN = 'ingest_chunk';

export interface KeyedSql {
  /** The staged file's smallest and largest key, as text (bounds of the probe). */
  stageBounds: string;
  /**
   * The probe: current table rows of the staged keys → ingest_hit (with the chunk they live in). `lo`/`hi`
   * are inlined as constants: TimescaleDB compares them with each compressed batch's min/max of the key.
   */
  probe(lo: string, hi: string): string;
  /** history for keys repeated in the file: the table row vs the file's first line (ingest_first). */
  historyFirstVsHit: string;
  /** Rows found whose staged version differs → ingest_changed; and the keys found unchanged → ingest_same. */
  changed: string;
  same: string;
  /** history for the changed rows of keys that appear once in the file ($1 file_id, $2 feed). */
  historyChanged: string;
  /** What to delete: chunk, key, time value and the chunk's smallest and largest time value of them (text), by chunk. */
  changedRows: string;
  /** Insert every staged row except the unchanged ones (nothing is read from the table). */
  insert: string;
  /** After a direct COPY ($1 file_id): the file's rows within days [from, to): how many, smallest and largest key. */
  directRows(from: string, to: string): string;
  /** After a direct COPY ($1 file_id): does the file hold a key twice (for two time values: the unique index allowed it)? */
  directRepeats(from: string, to: string): string;
  /** After a direct COPY ($1 file_id): are there rows of other files between the file's smallest and largest key? */
  directOthers(lo: string, hi: string): string;
  /** … and if so: does any key of the file repeat, in the file or in a row of another file? */
  directConflicts(lo: string, hi: string): string;
}

/**
 * SQL of the keyed merge for a table whose natural-key uniqueness includes the time column (a hypertable;
 * timeColumn null = a plain table, tests only). Single-column keys only (every hypertable feed has one).
 */
export function keyedSql(feed: FeedDef, timeColumn: string | null): KeyedSql {
  if (feed.key.length !== 1) throw new Error(`${feed.feed}: the keyed merge needs a single-column natural key`);
  const t = q(feed.table);
  const k = q(feed.key[0]);
  const cols = feed.columns.map((c) => q(c.name));
  const row = (a: string) => `ROW(${cols.map((c) => `${a}.${c}`).join(', ')})`;
  const copyColumns = [...cols, q('file_id'), q('line_no')].join(', ');
  const history = (alias: string, from: string) =>
    `INSERT INTO row_history (feed, natural_key, old_row, replaced_by_file) SELECT $2, ${alias}.${k}::text, to_jsonb(${alias}) - '${CHUNK_COLUMN}', $1 FROM ${from}`;
  const inDays = (from: string, to: string) => {
    if (!timeColumn) throw new Error(`${feed.table}: no time column`);
    return `${q(timeColumn)} >= ${lit(from)} AND ${q(timeColumn)} < ${lit(to)}`;
  };
  const inKeys = (lo: string, hi: string) => `${k} >= ${lit(lo)} AND ${k} <= ${lit(hi)}`;
  return {
    stageBounds: `SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ingest_stg`,
    probe: (lo, hi) => `CREATE TEMP TABLE ingest_hit ON COMMIT DROP AS
      SELECT tr.tableoid::regclass::text AS ${CHUNK_COLUMN}, tr.* FROM ${t} tr
       WHERE tr.${k} >= ${lit(lo)} AND tr.${k} <= ${lit(hi)} AND tr.${k} IN (SELECT s.${k} FROM ingest_stg s)`,
    historyFirstVsHit: history('h', `ingest_hit h JOIN ingest_first f ON f.${k} = h.${k} WHERE ${row('h')} IS DISTINCT FROM ${row('f')}`),
    changed: `CREATE TEMP TABLE ingest_changed ON COMMIT DROP AS
      SELECT h.* FROM ingest_hit h JOIN ingest_stg s ON s.${k} = h.${k} WHERE ${row('h')} IS DISTINCT FROM ${row('s')}`,
    same: `CREATE TEMP TABLE ingest_same ON COMMIT DROP AS
      SELECT DISTINCT h.${k} FROM ingest_hit h JOIN ingest_stg s ON s.${k} = h.${k} WHERE ${row('h')} IS NOT DISTINCT FROM ${row('s')}`,
    historyChanged: history('g', `ingest_changed g WHERE NOT EXISTS (SELECT 1 FROM ingest_dups d WHERE d.${k} = g.${k})`),
    changedRows: timeColumn
      ? `SELECT ${CHUNK_COLUMN} AS chunk, ${k}::text AS key, ${q(timeColumn)}::text AS time,
                (min(${q(timeColumn)}) OVER w)::text AS chunk_min, (max(${q(timeColumn)}) OVER w)::text AS chunk_max
           FROM ingest_changed WINDOW w AS (PARTITION BY ${CHUNK_COLUMN}) ORDER BY 1, 2`
      : `SELECT ${CHUNK_COLUMN} AS chunk, ${k}::text AS key, NULL AS time, NULL AS chunk_min, NULL AS chunk_max FROM ingest_changed ORDER BY 1, 2`,
    insert: `INSERT INTO ${t} (${copyColumns}) SELECT ${cols.map((c) => `s.${c}`).join(', ')}, s.file_id, s.line_no FROM ingest_stg s
      WHERE NOT EXISTS (SELECT 1 FROM ingest_same x WHERE x.${k} = s.${k})`,
    directRows: (from, to) => `SELECT count(*)::int AS n, min(${k})::text AS lo, max(${k})::text AS hi
        FROM ${t} WHERE ${inDays(from, to)} AND file_id = $1`,
    directRepeats: (from, to) =>
      `SELECT EXISTS (SELECT 1 FROM ${t} WHERE ${inDays(from, to)} AND file_id = $1 GROUP BY ${k} HAVING count(*) > 1) AS found`,
    directOthers: (lo, hi) => `SELECT EXISTS (SELECT 1 FROM ${t} WHERE ${inKeys(lo, hi)} AND file_id IS DISTINCT FROM $1) AS found`,
    directConflicts: (lo, hi) => `SELECT EXISTS (SELECT 1 FROM ${t} WHERE ${inKeys(lo, hi)} GROUP BY ${k}
        HAVING count(*) FILTER (WHERE file_id = $1) > 1
            OR (count(*) FILTER (WHERE file_id = $1) > 0 AND count(*) FILTER (WHERE file_id IS DISTINCT FROM $1) > 0)) AS found`
  };
}

/** A constant in SQL text (standard_conforming_strings either way). */
export function lit(v: string): string {
  return pg.escapeLiteral(v);
}

export interface ChangedRow {
  chunk: string;
  key: string;
  /** The row's time value and the smallest and largest of the chunk's rows to delete (PostgreSQL's text output). */
  time: string | null;
  chunk_min: string | null;
  chunk_max: string | null;
}

/**
 * The DELETE statements of the keyed merge, chunk by chunk, with constant keys and time values only (never
 * a join): a compressed chunk gets one statement per row, `key = … AND time = …`, so that TimescaleDB
 * decompresses only the batch holding it (its min/max and bloom filters on the key, chunk exclusion on the
 * time); an uncompressed chunk (or a plain table) gets statements of up to `perStatement` keys, bounded by the
 * chunk's smallest and largest time value of those rows so that only that chunk is planned.
 * Each statement deletes exactly the rows it names: the caller compares the total with rows.length.
 */
export function deleteStatements(
  table: string,
  keyColumn: string,
  timeColumn: string | null,
  rows: readonly ChangedRow[],
  compressed: (chunk: string) => boolean,
  perStatement = 5000
): string[] {
  const t = q(table),
    k = q(keyColumn),
    tc = timeColumn ? q(timeColumn) : null;
  const byChunk = new Map<string, ChangedRow[]>();
  for (const r of rows) {
    let list = byChunk.get(r.chunk);
    if (!list) byChunk.set(r.chunk, (list = []));
    list.push(r);
  }
  const out: string[] = [];
  for (const [chunk, list] of byChunk) {
    if (compressed(chunk)) {
      if (!tc) throw new Error(`${table}: a compressed chunk without a time column`);
      for (const r of list) {
        if (r.time === null) throw new Error(`${table}: no time value for key ${r.key}`);
        out.push(`DELETE FROM ${t} WHERE ${k} = ${lit(r.key)} AND ${tc} = ${lit(r.time)}`);
      }
      continue;
    }
    for (let i = 0; i < list.length; i += perStatement) {
      const part = list.slice(i, i + perStatement);
      let where = '';
      if (tc) {
        const { chunk_min: lo, chunk_max: hi } = list[0];
        if (lo === null || hi === null) throw new Error(`${table}: no time bounds for ${chunk}`);
        where = `${tc} >= ${lit(lo)} AND ${tc} <= ${lit(hi)} AND `;
      }
      out.push(`DELETE FROM ${t} WHERE ${where}${k} IN (${part.map((r) => lit(r.key)).join(', ')})`);
    }
  }
  return out;
}
