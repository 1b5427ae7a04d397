// What every engine run shares: the as-of date (default today in Asia/Shanghai), the rules in force,
// one transaction per run (results appear all at once or not at all), and the scope — everyone
// (full) or only the people whose feed rows changed since the engine's last run on the same as-of
// date with the same rules (incremental). The scope lives in a temp table `engine_scope` that the
// SQL files read when :full is false.
import { todayShanghai } from '../../core/time.ts';
import type { Pool, PoolClient } from '../../core/db/pool.ts';
import { runJob, type JobContext, type JobResult } from '../runner.ts';
import { readRules, type EngineRules } from '../../core/reference/rules.ts';
import { addDays, addMonths } from '../../core/domain/certification-rules.ts';

export type EngineMode = 'auto' | 'full' | 'incremental';

export interface EngineOptions {
  asOf?: string;
  trigger?: 'manual' | 'schedule' | 'startup' | 'dependency';
  log?: (m: string) => void;
  /** auto (default): incremental when the last ok run had the same as-of and rules, else full. */
  mode?: EngineMode;
  /** Incremental runs fall back to full when more people than this changed. */
  maxIncremental?: number;
  /** detect-risk: rebuild the payment screens from scratch (they are otherwise merged incrementally). */
  rebuildScreens?: boolean;
}

export interface EngineRun {
  client: PoolClient;
  ctx: JobContext;
  asOf: string;
  rules: EngineRules;
  rulesHash: string;
  full: boolean;
  scopeSize: number;
  /** Start of the oldest transaction open when this run took its snapshot: rows loaded later are for the next run. */
  watermark: string;
  opts: EngineOptions;
  /** The SQL parameters every engine file may use: as_of, as_of_end, as_of_month, prev_month, full, run_id. */
  params: AsOfParams & { full: boolean; run_id: number };
}

export interface AsOfParams {
  as_of: string;
  as_of_end: string;
  as_of_month: string;
  prev_month: string;
}

/**
 * Date parameters derived once in TypeScript, so the SQL compares columns with ready constants
 * (a date → timestamptz cast in a WHERE clause would be re-evaluated for every row: it is only STABLE).
 * as_of_end = the first instant after the as-of day in Asia/Shanghai.
 */
export function asOfParams(asOf: string): AsOfParams {
  const month = asOf.slice(0, 7) + '-01';
  return { as_of: asOf, as_of_end: `${addDays(asOf, 1)}T00:00:00+08:00`, as_of_month: month, prev_month: addMonths(month, -1) };
}

/** Memory for each sort and hash of the big set-based jobs (engines, indicator facts), transaction-local:
 * the server's 32 MB made the city's sorts and aggregates spill to disk. */
export const BATCH_WORK_MEM = '256MB';

/** Today's date in Asia/Shanghai, YYYY-MM-DD. */
export { todayShanghai };

export function assertIsoDate(s: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s + 'T00:00:00Z')))
    throw new Error(`as-of must be a date YYYY-MM-DD, got "${s}"`);
  return s;
}

/**
 * Which feed tables feed the engine, and how a changed row names its person. Changed = loaded after
 * the watermark (loaded_at), or an older version replaced after it (row_history, the old id_number).
 */
export interface ScopeSource {
  table: string;
  feed: string;
}

async function fillScope(client: PoolClient, sources: ScopeSource[], watermark: string): Promise<number> {
  for (const s of sources) {
    await client.query(`INSERT INTO engine_scope SELECT DISTINCT id_number FROM ${s.table} WHERE loaded_at > $1 ON CONFLICT DO NOTHING`, [
      watermark
    ]);
  }
  await client.query(
    `INSERT INTO engine_scope SELECT DISTINCT old_row->>'id_number' FROM row_history
      WHERE replaced_at > $1 AND feed = ANY($2) AND old_row ? 'id_number' ON CONFLICT DO NOTHING`,
    [watermark, sources.map((s) => s.feed)]
  );
  await client.query(`ANALYZE engine_scope`);
  const r = await client.query(`SELECT count(*)::int AS n FROM engine_scope`);
  return r.rows[0].n;
}

/**
 * What every engine run sets up in its transaction: room for big set-based steps and Shanghai time
 * (transaction-local), the rules in force, and the scope table (empty: a full run). A replay runs several
 * engines in one transaction, so the table may be there already.
 */
async function prepareEngineTransaction(client: PoolClient): Promise<{ rules: EngineRules; hash: string }> {
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  await client.query(`SET LOCAL TimeZone = 'Asia/Shanghai'`);
  const { rules, hash } = await readRules(client);
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS engine_scope (id_number text PRIMARY KEY) ON COMMIT DROP`);
  return { rules, hash };
}

/**
 * An engine run inside the caller's open transaction, as runEngine sets it up (full, as of `asOf`, the
 * rules in force, transaction-local settings) but without its own lock or transaction: for replays the
 * caller rolls back whole (jobs/now-backfill.ts). Its job_runs row is written in that transaction, so it
 * goes with the rollback too.
 */
export async function engineRunInTransaction(
  client: PoolClient,
  name: string,
  asOf: string,
  log: (m: string) => void = () => {}
): Promise<EngineRun> {
  assertIsoDate(asOf);
  const { rules, hash } = await prepareEngineTransaction(client);
  const ins = await client.query(
    `INSERT INTO job_runs (job, trigger, as_of, status, host) VALUES ($1, 'manual', $2, 'running', 'replay') RETURNING run_id, now() AS started`,
    [name, asOf]
  );
  const runId = Number(ins.rows[0].run_id);
  const ctx: JobContext = { runId, job: name, asOf, log, count: () => {} };
  return {
    client,
    ctx,
    asOf,
    rules,
    rulesHash: hash,
    full: true,
    scopeSize: 0,
    watermark: new Date(ins.rows[0].started).toISOString(),
    opts: { asOf, mode: 'full' },
    params: { ...asOfParams(asOf), full: true, run_id: runId }
  };
}

/**
 * Run an engine as a recorded job: lock, job_runs row, transaction, scope. `body` does the work and
 * reports counts through ctx.count.
 */
export async function runEngine(
  pool: Pool,
  name: string,
  opts: EngineOptions,
  sources: ScopeSource[],
  body: (run: EngineRun) => Promise<void>
): Promise<JobResult> {
  const asOf = assertIsoDate(opts.asOf ?? todayShanghai());
  return runJob(
    pool,
    name,
    async (ctx) => {
      const client = await pool.connect();
      try {
        // One snapshot for the whole run (every step sees the same data), and the watermark for the next
        // incremental run: the start of the oldest transaction still open now in this database — rows it
        // writes carry a loaded_at ≥ that, are invisible to this run, and must be picked up by the next one.
        // Transactions of other databases on the same server cannot write here and are left out (they
        // would only pull the watermark back and widen every incremental run).
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        const snap = await client.query(
          `SELECT LEAST(now(), (SELECT min(xact_start) FROM pg_stat_activity
                               WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND datname = current_database()
                                 AND pid <> pg_backend_pid())) AS watermark`
        );
        const { rules, hash } = await prepareEngineTransaction(client);
        let full = true;
        let scopeSize = 0;
        const mode = opts.mode ?? 'auto';
        if (mode !== 'full' && sources.length) {
          // The engine's tables hold what the last OK run wrote, whatever its as-of date: only when that run
          // had this as-of and these rules is the state a base to patch; after any other run, rebuild.
          const prev = await client.query(
            `SELECT COALESCE((counts->>'watermark')::timestamptz, started_at) AS started_at, counts->>'rules_hash' AS rules_hash, as_of FROM job_runs
            WHERE job = $1 AND status = 'ok' AND run_id <> $2 ORDER BY started_at DESC LIMIT 1`,
            [name, ctx.runId]
          );
          const usable = prev.rows[0] && prev.rows[0].rules_hash === hash && prev.rows[0].as_of === asOf;
          if (usable) {
            scopeSize = await fillScope(client, sources, prev.rows[0].started_at);
            full = scopeSize > (opts.maxIncremental ?? 20_000);
            if (full) await client.query(`TRUNCATE engine_scope`);
          } else if (mode === 'incremental') {
            ctx.log(`${name}: the last run was not on ${asOf} with the same rules — running in full`);
          }
        }
        ctx.count({
          extra: {
            as_of: asOf,
            rules_hash: hash,
            mode: full ? 'full' : 'incremental',
            scope: full ? null : scopeSize,
            watermark: snap.rows[0].watermark
          }
        });
        ctx.log(`${name}: as of ${asOf}, ${full ? 'full run' : `incremental run over ${scopeSize} people`}`);
        const watermark = new Date(snap.rows[0].watermark).toISOString();
        await body({
          client,
          ctx,
          asOf,
          rules,
          rulesHash: hash,
          full,
          scopeSize,
          watermark,
          opts,
          params: { ...asOfParams(asOf), full, run_id: ctx.runId }
        });
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    { asOf, trigger: opts.trigger, log: opts.log }
  );
}
