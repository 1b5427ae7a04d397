// What every wall screen and /healthz poll reads from the history tables that grow for ever (a row per
// delivered file in ingest_files, a row per job run in job_runs: about 100,000 of each a year at an
// ingest every few minutes) must not grow with them. With a year of history in both tables, each query
// gives the same answer as a plain pass over the table would, and reads at most a few rows per feed
// or job — counted from PostgreSQL's own EXPLAIN ANALYZE, not timed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { FACTS_BUILT_SQL, FRESHNESS_SQL, feedFreshness } from '../dashboard/lib/server/indicators.ts';
import { LATEST_RUNS_SQL } from '../dashboard/lib/server/health.ts';
import feedsConfig from '../core/reference/feeds.json' with { type: 'json' };
import { shanghaiIso } from '../core/time.ts';

const FILES = 30_000;
const RUNS = 30_000;
const FEEDS = Object.keys(feedsConfig.expected_hours);
const JOBS = ['ingest', 'all', 'certify', 'detect-risk', 'indicator-facts', 'refresh-rollups', 'payroll-check'];

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase();
  // A year of deliveries, every feed in turn (one in ten rejected, a few still loading), and a year of
  // job runs, every job in turn (one in ten failed); the newest run of indicator-facts failed, so
  // "built at" has to look past it.
  await db.pool.query(
    `INSERT INTO ingest_files (feed, file_name, content_sha256, size_bytes, status, received_at, loaded_at)
     SELECT ($2::text[])[1 + i % array_length($2::text[], 1)], 'f' || i || '.csv', md5(i::text), 100,
            CASE WHEN i % 10 = 0 THEN 'rejected' WHEN i % 997 = 0 THEN 'loading' ELSE 'loaded' END,
            now() - (($1 - i) * interval '17 minutes'),
            CASE WHEN i % 10 = 0 OR i % 997 = 0 THEN NULL ELSE now() - (($1 - i) * interval '17 minutes') + interval '5 seconds' END
       FROM generate_series(1, $1) i`,
    [FILES, FEEDS]
  );
  await db.pool.query(
    `INSERT INTO job_runs (job, started_at, finished_at, status)
     SELECT ($2::text[])[1 + i % array_length($2::text[], 1)], now() - (($1 - i) * interval '17 minutes'),
            now() - (($1 - i) * interval '17 minutes') + interval '3 seconds', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'ok' END
       FROM generate_series(1, $1) i`,
    [RUNS, JOBS]
  );
  await db.pool.query(
    `INSERT INTO job_runs (job, started_at, finished_at, status, error) VALUES ('indicator-facts', now(), now(), 'failed', 'x')`
  );
  await db.pool.query('ANALYZE ingest_files; ANALYZE job_runs');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows the query read from `table` (returned by its scans plus those its filters threw away), by EXPLAIN ANALYZE. */
async function rowsRead(sql: string, params: unknown[], table: string): Promise<number> {
  const r = await db.pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  const walk = (n: PlanNode): number => {
    const loops = n['Actual Loops'] ?? 1;
    const own =
      n['Relation Name'] === table
        ? ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * loops
        : 0;
    return own + (n.Plans ?? []).reduce((a, c) => a + walk(c), 0);
  };
  return walk(r.rows[0]['QUERY PLAN'][0].Plan);
}

describe('queries polled by every screen and by /healthz over a year of history', () => {
  it("the feeds' freshness: the newest loaded file of each feed, reading a few rows per feed", async () => {
    const plain = await db.pool.query(`SELECT feed, max(loaded_at) AS last FROM ingest_files WHERE status = 'loaded' GROUP BY feed`);
    const want = new Map(plain.rows.map((x) => [x.feed, shanghaiIso(x.last as Date)]));
    const got = await feedFreshness(db.pool);
    expect(got.map((f) => f.feed)).toEqual(FEEDS);
    for (const f of got) expect(f.last_loaded_at, f.feed).toBe(want.get(f.feed) ?? null);
    expect(got.filter((f) => f.last_loaded_at).length).toBe(FEEDS.length);
    for (const f of got) expect(f.last_loaded_at).toMatch(/\+08:00$/);

    const read = await rowsRead(FRESHNESS_SQL, [FEEDS], 'ingest_files');
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(FEEDS.length * 3);
  });

  it('/healthz: the newest run of every job, reading a few rows per job', async () => {
    const plain = await db.pool.query(`SELECT DISTINCT ON (job) job, status, started_at FROM job_runs ORDER BY job, started_at DESC`);
    const got = await db.pool.query(LATEST_RUNS_SQL);
    expect(got.rows.map((r) => [r.job, r.status, (r.started_at as Date).toISOString()])).toEqual(
      plain.rows.map((r) => [r.job, r.status, (r.started_at as Date).toISOString()])
    );
    expect(got.rows.find((r) => r.job === 'indicator-facts')?.status).toBe('failed');

    const read = await rowsRead(LATEST_RUNS_SQL, [], 'job_runs');
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(JOBS.length * 3 + 3);
  });

  it('"built at": the newest ok run of the indicator facts, past a failed one, reading a few rows', async () => {
    const plain = await db.pool.query(`SELECT max(finished_at) AS t FROM job_runs WHERE job = 'indicator-facts' AND status = 'ok'`);
    const got = await db.pool.query(FACTS_BUILT_SQL);
    expect((got.rows[0].finished_at as Date).toISOString()).toBe((plain.rows[0].t as Date).toISOString());

    const read = await rowsRead(FACTS_BUILT_SQL, [], 'job_runs');
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(10);
  });
});
