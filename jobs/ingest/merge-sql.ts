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
  const keyText = (a: string) => (key.length === 1 ? `${a}.${key[0]}::text` : `concat_ws('|', ${key.map((k) => `${a}.${k}::text`).join(', ')})`);
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
    unresolved: feed.feed !== 'persons' && feed.columns.some((c) => c.name === 'id_number')
      ? `SELECT count(*)::bigint AS n FROM ${t} x WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = x.id_number)`
      : null
  };
}
