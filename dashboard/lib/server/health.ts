// Health report for load balancers (status and schema, for anyone) and operators (the latest job runs
// and the database's own error text, for signed-in admins only: job names, counts and raw errors say
// more about the installation than a stranger needs).
import type { Pool } from '../../../core/db/pool.ts';
import { schemaVersion } from '../../../core/db/migrate.ts';
import { shanghaiIso } from '../../../core/time.ts';

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  time: string;
  database: { status: 'ok' | 'down'; error?: string; timescale?: boolean; schemaVersion?: string | null };
  data?: { persons: number; payments: number };
  jobs: {
    job: string;
    status: string;
    started_at: string;
    finished_at: string | null;
    rows_read: string;
    rows_loaded: string;
    rows_quarantined: string;
    error: string | null;
  }[];
}

/**
 * The newest run of every job. job_runs grows by a row per run for ever, so this does not read it all
 * (as DISTINCT ON did): it steps from one job name to the next through the (job, started_at DESC) index
 * and takes each job's newest run from the same index — two probes per job.
 */
export const LATEST_RUNS_SQL = `WITH RECURSIVE jobs(job) AS (
    (SELECT job FROM job_runs ORDER BY job LIMIT 1)
    UNION ALL
    SELECT (SELECT r.job FROM job_runs r WHERE r.job > jobs.job ORDER BY r.job LIMIT 1) FROM jobs WHERE jobs.job IS NOT NULL)
  SELECT r.job, r.status, r.started_at, r.finished_at, r.rows_read::text, r.rows_loaded::text, r.rows_quarantined::text, r.error
    FROM jobs, LATERAL (SELECT * FROM job_runs x WHERE x.job = jobs.job ORDER BY x.started_at DESC LIMIT 1) r
   WHERE jobs.job IS NOT NULL
   ORDER BY r.job`;

export async function health(pool: Pool): Promise<Health> {
  const time = shanghaiIso(new Date());
  try {
    const version = await schemaVersion(pool);
    const ts = await pool.query(`SELECT yinling_has_timescale() AS ts`).catch(() => ({ rows: [{ ts: false }] }));
    const jobs: Health['jobs'] = version
      ? (await pool.query(LATEST_RUNS_SQL)).rows.map((r) => ({
          ...r,
          started_at: shanghaiIso(r.started_at),
          finished_at: r.finished_at ? shanghaiIso(r.finished_at) : null
        }))
      : [];
    const failed = jobs.some((j) => j.status === 'failed');
    return {
      status: version && !failed ? 'ok' : 'degraded',
      time,
      database: { status: 'ok', timescale: ts.rows[0].ts, schemaVersion: version },
      jobs
    };
  } catch (e) {
    return { status: 'down', time, database: { status: 'down', error: e instanceof Error ? e.message : String(e) }, jobs: [] };
  }
}

/** What anyone may see of the health report: the status, the time and the schema, no jobs or errors. */
export function publicHealth(h: Health): Health {
  const { error: _e, ...database } = h.database;
  return { status: h.status, time: h.time, database, jobs: [] };
}
