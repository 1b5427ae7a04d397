// Runs one job as a recorded job run under a PostgreSQL advisory lock, so the same job never
// overlaps itself — not even across two scheduler processes on different machines.
//
// Contract: the lock is a session-level advisory lock keyed by hashtext('yinling:' || job), held
// on a dedicated connection for the whole run; if it is taken the run is recorded as `skipped`.
// The job function gets a JobContext to report its counts; the row in job_runs is finished with
// status ok/failed, the counts and the error message (never a stack trace for the operator). A run
// cut off before it could finish its row (the database or the process died) is marked failed,
// "interrupted", by the next run of the same job.
import os from 'node:os';
import type { Pool } from '../core/db/pool.ts';

export interface JobCounts {
  read?: number;
  loaded?: number;
  replaced?: number;
  quarantined?: number;
  /** Job-specific figures, stored as jsonb. */
  extra?: Record<string, unknown>;
}

export interface JobContext {
  runId: number;
  job: string;
  asOf: string | null;
  log: (message: string) => void;
  /** Add to the run's counts (accumulates). */
  count: (c: JobCounts) => void;
}

export interface JobResult {
  runId: number;
  status: 'ok' | 'failed' | 'skipped';
  counts: Required<Omit<JobCounts, 'extra'>> & { extra: Record<string, unknown> };
  error?: string;
  durationMs: number;
}

export interface RunJobOptions {
  trigger?: 'manual' | 'schedule' | 'startup' | 'dependency';
  asOf?: string | null;
  log?: (message: string) => void;
}

export async function runJob(
  pool: Pool,
  job: string,
  fn: (ctx: JobContext) => Promise<void>,
  opts: RunJobOptions = {}
): Promise<JobResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const lockClient = await pool.connect();
  const counts = { read: 0, loaded: 0, replaced: 0, quarantined: 0, extra: {} as Record<string, unknown> };
  let runId: number;
  try {
    const got = await lockClient.query(`SELECT pg_try_advisory_lock(hashtext('yinling:' || $1)) AS ok`, [job]);
    const inserted = await pool.query(
      `INSERT INTO job_runs (job, trigger, as_of, status, host) VALUES ($1, $2, $3, $4, $5) RETURNING run_id`,
      [job, opts.trigger ?? 'manual', opts.asOf ?? null, got.rows[0].ok ? 'running' : 'skipped', os.hostname()]
    );
    runId = Number(inserted.rows[0].run_id);
    if (got.rows[0].ok) {
      // Runs of this job still marked running were cut off (the process or the database died): we hold the
      // job's lock, so none of them is alive. Said once, by the next run, which then does the work again.
      await pool.query(
        `UPDATE job_runs SET status = 'failed', finished_at = now(),
                error = 'interrupted: the process or the database stopped during the run'
          WHERE job = $1 AND status = 'running' AND run_id <> $2`,
        [job, runId]
      );
    }
    if (!got.rows[0].ok) {
      await pool.query(`UPDATE job_runs SET finished_at = now(), error = 'another run of this job holds the lock' WHERE run_id = $1`, [
        runId
      ]);
      log(`${job}: skipped, another run is in progress`);
      return { runId, status: 'skipped', counts, durationMs: Date.now() - started };
    }
    const ctx: JobContext = {
      runId,
      job,
      asOf: opts.asOf ?? null,
      log,
      count: (c) => {
        counts.read += c.read ?? 0;
        counts.loaded += c.loaded ?? 0;
        counts.replaced += c.replaced ?? 0;
        counts.quarantined += c.quarantined ?? 0;
        for (const [k, v] of Object.entries(c.extra ?? {})) {
          const prev = counts.extra[k];
          counts.extra[k] = typeof prev === 'number' && typeof v === 'number' ? prev + v : v;
        }
      }
    };
    let status: 'ok' | 'failed' = 'ok';
    let error: string | undefined;
    try {
      await fn(ctx);
    } catch (e) {
      status = 'failed';
      error = e instanceof Error ? e.message : String(e);
      log(`${job}: failed: ${error}`);
    }
    await pool.query(
      `UPDATE job_runs SET finished_at = now(), status = $2, rows_read = $3, rows_loaded = $4, rows_replaced = $5,
              rows_quarantined = $6, counts = $7, error = $8 WHERE run_id = $1`,
      [runId, status, counts.read, counts.loaded, counts.replaced, counts.quarantined, JSON.stringify(counts.extra), error ?? null]
    );
    return { runId, status, counts, error, durationMs: Date.now() - started };
  } finally {
    // A connection the database dropped (a crash, a restart) goes, instead of back into the pool.
    const lost = await lockClient.query(`SELECT pg_advisory_unlock_all()`).then(
      () => undefined,
      (e: Error) => e
    );
    lockClient.release(lost);
  }
}
