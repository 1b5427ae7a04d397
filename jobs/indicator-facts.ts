// The `indicator-facts` job: rebuilds the additive parts of the 41 indicators
// (sql/engines/indicator-facts.sql) after the engines, in one transaction so the cockpit never
// sees a half-built month. Every indicator is then a sum or ratio of sums in the Cube model.
import type { Pool, PoolClient } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { runJob, type JobResult } from './runner.ts';
import { runSqlFile, stepCount } from './engines/sql.ts';
import { asOfParams, todayShanghai, BATCH_WORK_MEM } from './engines/context.ts';
import { readRules } from '../core/reference/rules.ts';

export function buildIndicatorFacts(pool: Pool, asOf: string, log?: (m: string) => void): Promise<{ months: number; nowRows: number }> {
  return withTransaction(pool, (client) => writeIndicatorFacts(client, asOf, log));
}

/** The facts as of `asOf`, written inside the caller's transaction (the backfill adds its own step to it). */
export async function writeIndicatorFacts(
  client: PoolClient,
  asOf: string,
  log?: (m: string) => void
): Promise<{ months: number; nowRows: number }> {
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  // "Weak-evidence doubts" look back over the same window certification does (rules.json).
  const { rules } = await readRules(client);
  const { as_of, as_of_end } = asOfParams(asOf);
  const results = await runSqlFile(
    client,
    'indicator-facts',
    { as_of, as_of_end, lookback_months: rules.certification.lookback_months },
    log
  );
  return { months: stepCount(results, 'monthly facts'), nowRows: stepCount(results, 'now facts') };
}

export function runIndicatorFacts(
  pool: Pool,
  opts: { asOf?: string; trigger?: 'manual' | 'schedule' | 'startup' | 'dependency'; log?: (m: string) => void } = {}
): Promise<JobResult> {
  const asOf = opts.asOf ?? todayShanghai();
  return runJob(
    pool,
    'indicator-facts',
    async (ctx) => {
      const r = await buildIndicatorFacts(pool, asOf, opts.log);
      ctx.count({ extra: { monthly_rows: r.months, now_rows: r.nowRows } });
    },
    { asOf, trigger: opts.trigger, log: opts.log }
  );
}
