// Health report for load balancers (status and schema, for anyone) and operators (the latest job runs
// and the database's own error text, for signed-in admins only: job names, counts and raw errors say
// more about the installation than a stranger needs).
import type { Pool } from '../../../core/db/pool.ts';
import { schemaVersion } from '../../../core/db/migrate.ts';

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

export async function health(pool: Pool): Promise<Health> {
  const time = new Date().toISOString();
  try {
    const version = await schemaVersion(pool);
    const ts = await pool.query(`SELECT yinling_has_timescale() AS ts`).catch(() => ({ rows: [{ ts: false }] }));
    const jobs = version
      ? (
          await pool.query(
            `SELECT DISTINCT ON (job) job, status, started_at, finished_at, rows_read::text, rows_loaded::text, rows_quarantined::text, error
             FROM job_runs ORDER BY job, started_at DESC`
          )
        ).rows
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
