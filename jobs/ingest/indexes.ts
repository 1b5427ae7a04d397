// Bulk loads. Maintaining indexes row by row costs about twice what building them once costs, so when a run
// brings a feed many rows compared with what its table holds (the first city load, a catch-up), the loader
// drops the table's secondary indexes for the duration and builds them afterwards.
//
// When the table is empty at that moment (an initial load) the natural-key index goes too and every file
// of the batch is COPYed straight in ("append" mode). Keys delivered more than once in the batch are then
// settled when the unique index is built: if CREATE UNIQUE INDEX meets duplicates, resolveDuplicates()
// applies exactly the rules of the per-file merge — the last delivery wins (files in load order, then
// lines), each earlier version that a different later one replaced goes to row_history, identical
// re-deliveries are "unchanged" — and corrects the counts of the files concerned. Only plain tables with a
// unique index on exactly the natural key get append mode (not TimescaleDB hypertables).
//
// Definitions are kept in ingest_deferred_indexes in the same transaction as the DROP, so an interrupted
// run loses no index: the next run (and the end of this one) re-creates whatever is listed there, the
// natural-key index first, with the duplicate resolution if needed.
import os from 'node:os';
import type { Pool, PoolClient } from '../../core/db/pool.ts';
import { FEEDS, type FeedDef } from './feeds.ts';

/** Estimated bytes of CSV per row, used to compare a pending load with the table. */
export const BYTES_PER_ROW_ESTIMATE = 100;

export async function estimatedRows(pool: Pool, table: string): Promise<number> {
  const r = await pool.query(
    `SELECT c.reltuples::float8 AS reltuples, c.relpages::int AS relpages, yinling_has_timescale() AS ts FROM pg_class c WHERE c.oid = $1::regclass`,
    [table]
  );
  const { reltuples, relpages, ts } = r.rows[0];
  if (ts) {
    const h = await pool.query(`SELECT approximate_row_count($1::regclass)::float8 AS n`, [table]).catch(() => null);
    if (h && Number(h.rows[0].n) > 0) return Number(h.rows[0].n);
  }
  if (reltuples >= 0 && !(reltuples === 0 && relpages > 0)) return reltuples;
  if (relpages === 0) return 0;
  const c = await pool.query(`SELECT count(*)::float8 AS n FROM ${table}`);
  return Number(c.rows[0].n);
}

export async function isEmpty(pool: Pool, table: string): Promise<boolean> {
  return !(await pool.query(`SELECT EXISTS (SELECT 1 FROM ${table}) AS x`)).rows[0].x;
}

/** Should this run defer the feed's secondary indexes? */
export function wantsBulk(pendingBytes: number, tableRows: number, opts: { minRows: number }): boolean {
  const incoming = pendingBytes / BYTES_PER_ROW_ESTIMATE;
  return incoming >= opts.minRows && incoming >= 0.5 * tableRows;
}

/**
 * Drop the table's secondary indexes (and with `withKey` its unique natural-key index), remembering their
 * definitions. Returns their names.
 */
export async function deferIndexes(pool: Pool, feed: FeedDef, opts: { withKey: boolean }): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = await client.query(
      `SELECT ci.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS uniq
         FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass AND NOT i.indisprimary AND ci.relname <> $2
          AND (NOT i.indisunique OR ($3 AND i.indpred IS NULL AND i.indexprs IS NULL
               AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                     WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) = $4::text[]))
        ORDER BY i.indisunique DESC, ci.relname`,
      [feed.table, `${feed.table}_key_key`, opts.withKey, [...feed.key].sort()]
    );
    for (const { name, def } of r.rows) {
      await client.query(
        `INSERT INTO ingest_deferred_indexes (index_name, table_name, definition) VALUES ($1, $2, $3) ON CONFLICT (index_name) DO NOTHING`,
        [name, feed.table, def]
      );
      await client.query(`DROP INDEX IF EXISTS "${name.replace(/"/g, '""')}"`);
    }
    await client.query('COMMIT');
    return r.rows.map((x) => x.name as string);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** How the duplicate resolution changed a file's counts: `replaced` rows move from loaded to replaced. */
export interface CountAdjustment {
  fileId: number;
  feed: string;
  replaced: number;
  unchanged: number;
}

const q = (name: string) => `"${name}"`;

/**
 * Settle keys present more than once in the table (an append-mode batch): keep the last delivery, put each
 * earlier version that a different later one replaced into row_history, delete the earlier versions.
 * Runs inside the caller's transaction.
 */
export async function resolveDuplicates(client: PoolClient, feed: FeedDef): Promise<CountAdjustment[]> {
  const t = q(feed.table);
  const key = feed.key.map(q);
  const row = (a: string) => `ROW(${feed.columns.map((c) => `${a}.${q(c.name)}`).join(', ')})`;
  const keyText = key.length === 1 ? `x.${key[0]}::text` : `concat_ws('|', ${key.map((k) => `x.${k}::text`).join(', ')})`;
  await client.query(`DROP TABLE IF EXISTS ingest_dupver`);
  await client.query(
    `CREATE TEMP TABLE ingest_dupver ON COMMIT DROP AS
     SELECT t.file_id, t.line_no, row_number() OVER w AS rn, lead(t.file_id) OVER w AS next_file, lead(t.file_id) OVER w IS NULL AS is_last,
            lead(${row('t')}) OVER w IS DISTINCT FROM ${row('t')} AS next_differs,
            ${row('t')} IS DISTINCT FROM lag(${row('t')}) OVER w AS differs_prev
       FROM ${t} t LEFT JOIN ingest_files f ON f.file_id = t.file_id
      WHERE (${key.map((k) => `t.${k}`).join(', ')}) IN (SELECT ${key.join(', ')} FROM ${t} GROUP BY ${key.join(', ')} HAVING count(*) > 1)
     WINDOW w AS (PARTITION BY ${key.map((k) => `t.${k}`).join(', ')} ORDER BY f.loaded_at NULLS FIRST, t.file_id, t.line_no)`
  );
  await client.query(
    `INSERT INTO row_history (feed, natural_key, old_row, replaced_by_file)
     SELECT $1, ${keyText}, to_jsonb(x), d.next_file FROM ${t} x JOIN ingest_dupver d ON d.file_id = x.file_id AND d.line_no = x.line_no
      WHERE NOT d.is_last AND d.next_differs`,
    [feed.feed]
  );
  await client.query(`DELETE FROM ${t} x USING ingest_dupver d WHERE d.file_id = x.file_id AND d.line_no = x.line_no AND NOT d.is_last`);
  const adj = await client.query(
    `SELECT file_id, count(*) FILTER (WHERE differs_prev)::int AS replaced, count(*) FILTER (WHERE NOT differs_prev)::int AS unchanged
       FROM ingest_dupver WHERE rn > 1 GROUP BY file_id`
  );
  const out: CountAdjustment[] = [];
  for (const a of adj.rows) {
    if (a.file_id === null) continue;
    if (a.replaced)
      await client.query(`UPDATE ingest_files SET rows_loaded = rows_loaded - $2, rows_replaced = rows_replaced + $2 WHERE file_id = $1`, [
        a.file_id,
        a.replaced
      ]);
    out.push({ fileId: Number(a.file_id), feed: feed.feed, replaced: a.replaced, unchanged: a.unchanged });
  }
  return out;
}

const FEED_BY_TABLE = new Map(FEEDS.map((f) => [f.table, f]));

/** How long an index takes to build, in rank only: unique first, then wider B-trees, then one-pass kinds. */
export function buildWeight(definition: string): number {
  if (/^CREATE UNIQUE /.test(definition)) return 1000;
  const m = / USING (\w+) \((.*?)\)(?: WITH | WHERE |$)/.exec(definition);
  if (!m || m[1] === 'brin' || m[1] === 'hash') return 0;
  return 1 + m[2].split(',').length;
}

/**
 * How deferred indexes are rebuilt. On a machine with few cores the cheapest schedule is one build per core,
 * each without parallel workers: a parallel build costs ~10% more CPU (worker start-up, the extra merge) and
 * several parallel builds at once only oversubscribe the cores. Measured on the city's payments (11.9 M rows,
 * 2 cores): natural key 23.0 s of CPU with 2 workers and 512 MB against 20.7 s single-process in memory.
 *
 * A small maintenance_work_mem is faster than an in-memory sort. The keys (ID numbers, payment ids, account
 * numbers) share long prefixes, so PostgreSQL gives up its abbreviated keys and every comparison reads both
 * tuples: sorting 800 MB at once is one cache miss after another. With 16 MB runs (sorted in cache, then
 * merged through temp files) the city's payments indexes build in about half the time — one at a time, key
 * 17.4 → 7.8 s, person/scheme/period 18.0 → 11.4 s, account 10.1 → 6.6 s; two side by side (key +
 * person/scheme/period) 24.7 → 12.9 s. 4 MB and 8 MB were as fast, 64 MB between. INGEST_INDEX_MEM overrides it.
 */
const CPUS = Math.max(1, os.availableParallelism());
export const BUILD_CONCURRENCY = Math.min(4, CPUS);
const BUILD_WORKERS = Math.max(0, Math.floor(CPUS / BUILD_CONCURRENCY) - 1);
const BUILD_MEM = process.env.INGEST_INDEX_MEM ?? '16MB';

/**
 * Re-create deferred indexes (of one table, or all), BUILD_CONCURRENCY at a time on separate connections,
 * unique ones first then the others (the most expensive kinds first, so the last to finish is a cheap one).
 * A unique index that meets duplicate keys (an append-mode batch) gets them resolved first — its DELETE waits
 * for the builds running beside it (their ShareLock), which never wait for it, so this cannot deadlock. Each
 * index is built in its own transaction together with the removal of its bookkeeping row. Concurrent builds
 * of one table are fine: CREATE INDEX takes a ShareLock, which does not conflict with itself.
 */
export async function restoreIndexes(
  pool: Pool,
  table: string | null,
  log: (m: string) => void
): Promise<{ rebuilt: number; adjustments: CountAdjustment[] }> {
  const r = await pool.query(
    `SELECT index_name, table_name, definition FROM ingest_deferred_indexes
      WHERE $1::text IS NULL OR table_name = $1
      ORDER BY dropped_at, index_name`, // the order among builds of equal buildWeight
    [table]
  );
  const adjustments: CountAdjustment[] = [];
  type Row = { index_name: string; table_name: string; definition: string };
  const build = async (client: PoolClient, { index_name, table_name, definition }: Row) => {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      await client.query('BEGIN');
      try {
        const feed = FEED_BY_TABLE.get(table_name);
        if (attempt > 0 && feed) {
          const adj = await resolveDuplicates(client, feed);
          adjustments.push(...adj);
          const replaced = adj.reduce((n, a) => n + a.replaced, 0),
            unchanged = adj.reduce((n, a) => n + a.unchanged, 0);
          log(
            `ingest: ${feed.feed}: ${replaced + unchanged} row(s) of this bulk load repeated a key; the last delivery kept, ${replaced} earlier version(s) to row_history`
          );
        }
        const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [index_name]);
        if (!exists.rows[0].ok) await client.query(definition);
        await client.query(`DELETE FROM ingest_deferred_indexes WHERE index_name = $1`, [index_name]);
        await client.query('COMMIT');
        break;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        if (attempt === 0 && (e as { code?: string }).code === '23505' && FEED_BY_TABLE.has(table_name)) continue;
        throw e;
      }
    }
    log(`ingest: rebuilt index ${index_name} on ${table_name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  const withClient = async (fn: (c: PoolClient) => Promise<void>) => {
    const client = await pool.connect();
    try {
      await client.query(`SET maintenance_work_mem = '${BUILD_MEM.replace(/'/g, '')}'`).catch(() => {});
      await client.query(`SET max_parallel_maintenance_workers = ${BUILD_WORKERS}`).catch(() => {});
      await fn(client);
    } finally {
      await client.query('RESET maintenance_work_mem; RESET max_parallel_maintenance_workers').catch(() => {});
      client.release();
    }
  };
  // Longest first, so that the builds running side by side end close together: the unique key (its
  // duplicate resolution must come first anyway), then B-trees by their number of key columns, BRIN and
  // hash last (one cheap pass over the table).
  const rows = (r.rows as Row[]).map((x) => ({ ...x, weight: buildWeight(x.definition) })).sort((a, b) => b.weight - a.weight);
  let next = 0;
  let failure: unknown = null;
  await Promise.all(
    Array.from({ length: Math.min(BUILD_CONCURRENCY, rows.length) }, () =>
      withClient(async (c) => {
        while (!failure && next < rows.length) {
          try {
            await build(c, rows[next++]);
          } catch (e) {
            failure ??= e;
          }
        }
      })
    )
  );
  if (failure) throw failure;
  if (rows.length && table) await pool.query(`ANALYZE ${table}`).catch(() => {});
  return { rebuilt: rows.length, adjustments };
}
