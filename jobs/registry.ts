// The jobs Yinling runs, by name: what `yinling run <job>`, the scheduler and `up` call.
// Each runs through runJob (advisory lock + job_runs row). Engines (certification, risk, policy,
// reminders) register here as they land.
import type { Config } from '../core/config.ts';
import type { Pool } from '../core/db/pool.ts';
import { runJob, type JobResult } from './runner.ts';
import { runIngestJob } from './ingest/index.ts';
import { refreshRollups } from './rollups.ts';
import { ENGINE_JOBS } from './engines/index.ts';
import { runIndicatorFacts } from './indicator-facts.ts';
import { runPayrollCheck, scheduledPeriod } from './engines/payroll-check.ts';
import { todayShanghai } from '../core/time.ts';
import { HttpError } from '../core/errors.ts';

export interface JobRunOptions {
  config: Config;
  asOf?: string;
  trigger?: 'manual' | 'schedule' | 'startup' | 'dependency';
  log?: (m: string) => void;
  inbox?: string;
}

export interface JobDefinition {
  description: string;
  run(pool: Pool, opts: JobRunOptions): Promise<JobResult>;
  /** Jobs to run after this one when it changed data. */
  then?: string[];
}

export const JOBS: Record<string, JobDefinition> = {
  ingest: {
    description: 'load every ready file in the inbox (docs/feeds.md), quarantine bad rows',
    // The scheduler's pickup waits for files to settle (a writer without `.part` may still be appending);
    // an operator's `yinling ingest` or the first start loads what is there now.
    run: (pool, o) =>
      runIngestJob(pool, {
        inbox: o.inbox ?? o.config.inboxDir,
        trigger: o.trigger,
        log: o.log,
        settleMs: o.trigger === 'schedule' ? o.config.inboxSettleSeconds * 1000 : 0
      }),
    then: ['refresh-rollups', 'all']
  },
  'refresh-rollups': {
    description: 'refresh the materialized views listed in rollup_registry (region_paths, the area tree)',
    run: (pool, o) => runJob(pool, 'refresh-rollups', (ctx) => refreshRollups(pool, ctx), { trigger: o.trigger, log: o.log })
  },
  ...Object.fromEntries(
    Object.entries(ENGINE_JOBS).map(([name, job]) => [name, { ...job, then: name === 'all' ? ['indicator-facts'] : undefined }])
  ),
  'indicator-facts': {
    description: 'rebuild the parts of the 41 governance indicators per month and area (after the engines) [--as-of]',
    run: (pool, o) => runIndicatorFacts(pool, { asOf: o.asOf, trigger: o.trigger, log: o.log })
  },
  'payroll-check': {
    description:
      "the pre-payroll check of the as-of day's month (its current payroll draft), frozen as a run for approval; prepared by the scheduler [--as-of]",
    run: async (pool, o) => {
      const asOf = o.asOf ?? todayShanghai();
      try {
        return (await runPayrollCheck(pool, { period: scheduledPeriod(asOf), asOf, trigger: o.trigger, log: o.log })).job;
      } catch (e) {
        // No draft delivered for the month: nothing to check — recorded as a run that says so, not a failure.
        if (!(e instanceof HttpError && e.code === 'no_draft')) throw e;
        return runJob(pool, 'payroll-check', async (ctx) => ctx.log(e.message), { asOf, trigger: o.trigger, log: o.log });
      }
    }
  }
};

/** Run a job and, when it changed rows, the jobs that depend on it. */
export async function runWithDependents(pool: Pool, name: string, opts: JobRunOptions): Promise<JobResult[]> {
  const job = JOBS[name];
  if (!job) throw new Error(`unknown job "${name}"`);
  const result = await job.run(pool, opts);
  const results = [result];
  // Engines report no loaded rows: a successful engine run always feeds its dependents.
  const changed = result.counts.loaded + result.counts.replaced > 0 || (name !== 'ingest' && result.status === 'ok');
  if (result.status === 'ok' && changed) {
    for (const next of job.then ?? []) {
      results.push(...(await runWithDependents(pool, next, { ...opts, trigger: 'dependency' })));
    }
  }
  return results;
}
