// The `indicator-facts` job: rebuilds the additive parts of the 41 indicators
// (sql/engines/indicator-facts.sql) after the engines, in one transaction so the cockpit never
// sees a half-built month. Every indicator is then a sum or ratio of sums in the Cube model.
// The payments by month and region it reads are a cache refreshed by sql/engines/indicator-payments.sql
// in a transaction of its own on a second connection, at the same time as the facts' other steps: built
// from nothing, that refresh reads every payment (the city: 11.9 M rows), and the machine has two cores
// (issue 22). The refresh-rollups job after every load keeps it up to date (jobs/rollups.ts), so the
// facts' run usually finds little to do there — the first one on go-live day included.
// The other flows by month and region (sql/engines/indicator-flows.sql) are counted by whichever of the two
// is free first — the refresh once it is done, or the facts' transaction once it has nothing else left
// before the payments — and handed to the facts' transaction through ind_flow_month under the run's key:
// the refresh takes seconds when the cache is up to date, and as long as the facts' other steps when it
// reads every payment.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient, Queryable } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { runJob, type JobResult } from './runner.ts';
import { runSqlFile, stepCount } from './engines/sql.ts';
import { asOfParams, todayShanghai, BATCH_WORK_MEM } from './engines/context.ts';
import { readRules } from '../core/reference/rules.ts';

/** The step of indicator-facts.sql that first reads what the work beside it wrote: it waits for that work. */
const FIRST_STEP_READING_SIDE_WORK = 'payments by month';

/** Refresh the payments by month and region (ind_pay_month) inside the caller's transaction. */
export async function refreshPaymentsCache(client: Queryable, log?: (m: string) => void): Promise<void> {
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  await runSqlFile(client, 'indicator-payments', {}, log);
}

/** The flows by month and region as of `asOf`, into ind_flow_month under `runKey`. */
async function countFlows(client: Queryable, asOf: string, runKey: string, log?: (m: string) => void): Promise<void> {
  const { as_of, as_of_end } = asOfParams(asOf);
  await runSqlFile(client, 'indicator-flows', { as_of, as_of_end, run_key: runKey }, log);
}

export async function buildIndicatorFacts(
  pool: Pool,
  asOf: string,
  log?: (m: string) => void
): Promise<{ months: number; nowRows: number }> {
  const beside: Beside = { runKey: randomUUID(), flowsBy: null, done: Promise.resolve() };
  // asked for first, so a pool of one connection runs the two one after the other instead of waiting for ever
  const side = withTransaction(pool, async (client) => {
    await refreshPaymentsCache(client, log);
    if (beside.flowsBy) return; // the facts' transaction got to them first
    beside.flowsBy = 'beside';
    await countFlows(client, asOf, beside.runKey, log);
  });
  beside.done = side;
  side.catch(() => {}); // awaited below; a failure must not be an unhandled rejection meanwhile
  let facts: { months: number; nowRows: number };
  try {
    facts = await withTransaction(pool, (client) => writeIndicatorFacts(client, asOf, log, beside));
  } catch (e) {
    await side.catch(() => {}); // no connection left working behind a failed run
    throw e;
  }
  await side;
  return facts;
}

/** The work beside the facts' transaction (buildIndicatorFacts): the payments' refresh, then the flows unless taken. */
interface Beside {
  runKey: string;
  /** who counts the flows: the first of the two to be free for them (both in this one process) */
  flowsBy: 'beside' | 'facts' | null;
  done: Promise<void>;
}

/**
 * The facts as of `asOf`, written inside the caller's transaction (the backfill adds its own step to it).
 * `beside`: the payments' refresh running beside it (buildIndicatorFacts), and the flows unless this
 * transaction takes them; without it both are done first, in this transaction.
 */
export async function writeIndicatorFacts(
  client: PoolClient,
  asOf: string,
  log?: (m: string) => void,
  beside?: Beside
): Promise<{ months: number; nowRows: number }> {
  const runKey = beside?.runKey ?? randomUUID();
  if (!beside) {
    await refreshPaymentsCache(client, log);
    await countFlows(client, asOf, runKey, log);
  }
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  // "Weak-evidence doubts" look back over the same window certification does (rules.json).
  const { rules } = await readRules(client);
  const { as_of } = asOfParams(asOf);
  const results = await runSqlFile(
    client,
    'indicator-facts',
    { as_of, lookback_months: rules.certification.lookback_months, run_key: runKey },
    log,
    async (label) => {
      if (label === FIRST_STEP_READING_SIDE_WORK && beside) {
        if (!beside.flowsBy) {
          beside.flowsBy = 'facts';
          await countFlows(client, asOf, runKey, log);
        }
        const t0 = Date.now();
        await beside.done;
        log?.(`  indicator-facts: waited for the payments' refresh and the flows — ${Date.now() - t0} ms`);
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
