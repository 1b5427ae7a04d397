// The domain engines as jobs (issue 3), for jobs/registry.ts to merge into JOBS, and their export
// datasets for jobs/exports.ts. Each engine is one recorded job run under its own advisory lock,
// taking an as-of date (default today in Asia/Shanghai); `all` runs them in dependency order:
// certify (negatives and certification first) → detect-risk (alerts, clock) → after-death (cases for
// confirmed deaths) → match-subsidies → assign-community → remind-retirement.
import type { Pool } from '../../core/db/pool.ts';
import { runJob, type JobResult } from '../runner.ts';
import type { EngineOptions } from './context.ts';
import { runCertify } from './certify.ts';
import { runDetectRisk } from './detect-risk.ts';
import { runMatchSubsidies } from './match-subsidies.ts';
import { runRemindRetirement } from './remind-retirement.ts';
import { runAssignCommunity } from './assign-community.ts';
import { runAfterDeath } from './after-death.ts';
import { todayShanghai } from './context.ts';

export { ENGINE_DATASETS } from './datasets.ts';
export { loadRules, readRules, DEFAULT_RULES, type EngineRules } from '../../core/reference/rules.ts';
export { runCertify, runDetectRisk, runMatchSubsidies, runRemindRetirement, runAssignCommunity, runAfterDeath, todayShanghai };
export type { EngineOptions };

/** The engines, in the order `all` runs them. */
export const ENGINES: [string, string, (pool: Pool, o: EngineOptions) => Promise<JobResult>][] = [
  ['certify', 'silent certification of every benefit recipient (docs/rules.md 1–8); prints the silent-certification rate', runCertify],
  [
    'detect-risk',
    'the eight fund-risk rules → alerts (no duplicates, auto-close), money-at-risk clock, recording lag per source',
    runDetectRisk
  ],
  ['after-death', 'after-death one-thing: a case per confirmed death with amounts and department tasks', runAfterDeath],
  [
    'match-subsidies',
    'policy finds people: subsidy eligibility with facts, to-enrol and to-stop lists, monthly payout list',
    runMatchSubsidies
  ],
  ['assign-community', 'community assignment of retirees (residence, else hukou) with report-in records', runAssignCommunity],
  [
    'remind-retirement',
    'statutory retirement month of every insured person (2025 reform) and 12/6/3/1-month reminders',
    runRemindRetirement
  ]
];

/** Run every engine in order as one `all` job run (each engine also records its own run). */
export async function runAllEngines(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  const asOf = opts.asOf ?? todayShanghai();
  return runJob(
    pool,
    'all',
    async (ctx) => {
      const failed: string[] = [];
      for (const [name, , run] of ENGINES) {
        const r = await run(pool, { ...opts, asOf, trigger: 'dependency' });
        ctx.count({ extra: { [name]: { status: r.status, ms: r.durationMs, run_id: r.runId, ...(r.error ? { error: r.error } : {}) } } });
        if (r.status === 'failed') failed.push(`${name}: ${r.error}`);
      }
      if (failed.length) throw new Error(failed.join('; '));
    },
    { asOf, trigger: opts.trigger, log: opts.log }
  );
}

interface JobRunOptionsLike {
  asOf?: string;
  trigger?: 'manual' | 'schedule' | 'startup' | 'dependency';
  log?: (m: string) => void;
}
interface JobDefinitionLike {
  description: string;
  run(pool: Pool, opts: JobRunOptionsLike): Promise<JobResult>;
  then?: string[];
}

/** Same shape as JOBS in jobs/registry.ts: spread into it (`...ENGINE_JOBS`). */
export const ENGINE_JOBS: Record<string, JobDefinitionLike> = {
  ...Object.fromEntries(
    ENGINES.map(([name, description, run]) => [
      name,
      {
        description: `${description} [--as-of]`,
        run: (pool: Pool, o: JobRunOptionsLike) => run(pool, { asOf: o.asOf, trigger: o.trigger, log: o.log })
      }
    ])
  ),
  all: {
    description: 'every engine in order: certify, detect-risk, after-death, match-subsidies, assign-community, remind-retirement [--as-of]',
    run: (pool, o) => runAllEngines(pool, { asOf: o.asOf, trigger: o.trigger, log: o.log })
  }
};
