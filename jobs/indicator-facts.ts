// The `indicator-facts` job: rebuilds the additive parts of the 41 indicators
// (sql/engines/indicator-facts.sql) after the engines, in one transaction so the cockpit never
// sees a half-built month. Every indicator is then a sum or ratio of sums in the Cube model.
// The payments by month and region it reads are a cache refreshed by sql/engines/indicator-payments.sql
// in a transaction of its own on a second connection, at the same time as the facts' other steps: on a
// first run that refresh reads every payment (the city: 11.9 M rows), and the machine has two cores (issue 22).
import type { Pool, PoolClient, Queryable } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { runJob, type JobResult } from './runner.ts';
import { runSqlFile, stepCount } from './engines/sql.ts';
import { asOfParams, todayShanghai, BATCH_WORK_MEM } from './engines/context.ts';
import { readRules } from '../core/reference/rules.ts';

/** The step of indicator-facts.sql that first reads the payments cache: it waits for the refresh. */
const FIRST_STEP_READING_PAYMENTS = 'payments by month';

/** Refresh the payments by month and region (ind_pay_month) inside the caller's transaction. */
export async function refreshPaymentsCache(client: Queryable, log?: (m: string) => void): Promise<void> {
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  await runSqlFile(client, 'indicator-payments', {}, log);
}

export async function buildIndicatorFacts(
  pool: Pool,
  asOf: string,
  log?: (m: string) => void
): Promise<{ months: number; nowRows: number }> {
  // asked for first, so a pool of one connection runs the two one after the other instead of waiting for ever
  const payments = withTransaction(pool, (client) => refreshPaymentsCache(client, log));
  payments.catch(() => {}); // awaited below; a failure must not be an unhandled rejection meanwhile
  let facts: { months: number; nowRows: number };
  try {
    facts = await withTransaction(pool, (client) => writeIndicatorFacts(client, asOf, log, payments));
  } catch (e) {
    await payments.catch(() => {}); // no connection left working behind a failed run
    throw e;
  }
  await payments;
  return facts;
}

/**
 * The facts as of `asOf`, written inside the caller's transaction (the backfill adds its own step to it).
 * `paymentsRefreshed`: the refresh running beside it (buildIndicatorFacts); without it the payments are
 * refreshed first, in this transaction.
 */
export async function writeIndicatorFacts(
  client: PoolClient,
  asOf: string,
  log?: (m: string) => void,
  paymentsRefreshed?: Promise<void>
): Promise<{ months: number; nowRows: number }> {
  if (!paymentsRefreshed) await refreshPaymentsCache(client, log);
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  // "Weak-evidence doubts" look back over the same window certification does (rules.json).
  const { rules } = await readRules(client);
  const { as_of, as_of_end } = asOfParams(asOf);
  const results = await runSqlFile(
    client,
    'indicator-facts',
    { as_of, as_of_end, lookback_months: rules.certification.lookback_months },
    log,
    async (label) => {
      if (label === FIRST_STEP_READING_PAYMENTS && paymentsRefreshed) {
        const t0 = Date.now();
        await paymentsRefreshed;
        log?.(`  indicator-facts: waited for the payments' refresh — ${Date.now() - t0} ms`);
      }
    }
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
