// detect-risk — the fund-risk rules of docs/rules.md (sql/engines/detect-risk.sql), merged into
// alerts without duplicates (sql/engines/alerts-merge.sql), and the money-at-risk clock per death
// and custody record with the typical recording lag per source (sql/engines/risk-clock.sql).
//
// Readings of docs/rules.md (an auditor's, where it is silent):
// - Only `paid` payments for periods up to the as-of month (and paid_at, when given, on or before
//   it) count; only death/custody records dated ≤ as-of and recorded (recorded_at) ≤ as-of.
// - A person with several death records: the earliest death date counts; all record ids are evidence.
// - One alert per (rule, person) with all its periods; shared_account: one per (person, account).
// - paid_after_death: every paid benefit (all schemes) for a period whose first day is after the death.
// - paid_in_custody: exclusive-group schemes; the period's first and last day lie inside
//   [start_date, end_date] (both inclusive; no end date = still in custody).
// - double_receipt: two or more schemes of one exclusive group paid for a period; at risk the
//   smallest payment of that period.
// - abnormal_amount: the median of the previous `abnormal_lookback_periods` paid payments of that
//   scheme (exact: the mean of the two middle values); no alert without that much history. An
//   enrollment of that scheme updated in the payment's month to exactly that amount explains it.
//   A payment more than 20% *below* the median also raises the alert (an underpayment is an anomaly
//   too) with 0 at risk; above it, the excess over the median is at risk (sum over periods, cents).
// - shared_account: ≥ shared_account_min_people different people paid a pension into one account
//   in one period; each of them gets an alert (dedup key = the account) whose amount is every
//   pension payment to the account in those periods (all payments to that account that period).
// - post_death_activity: any evidence record, or a passed explicit certification, dated (Asia/
//   Shanghai) after the death date; periods = the months of that activity; 0 at risk.
// - no_sign_of_life: aged ≥ 100 on as-of, no death record, paid in the last payment run (the month
//   before the as-of month) and no *strong* evidence in the last 12 months (an explicit certification
//   does not count: docs/rules.md names strong evidence only); at risk the paid payments of the 12
//   periods before the as-of month.
// - hold_not_honoured: a payment hold of the workbench (payment_holds, approved, not released) and a
//   `paid` payment of a held scheme for its from_period or later; one alert per hold, at risk those payments.
// - Severity per rule from rules.json. A finding already decided by a person (any alert past the
//   engine-active states but one closed as basis_disappeared) with the same facts is not raised
//   again; a finding that grew beyond it opens a new alert (sql/engines/alerts-merge.sql).
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount, stepRows } from './sql.ts';
import { addMonths } from '../../core/domain/certification-rules.ts';

export const RISK_SOURCES = [
  { table: 'payments', feed: 'payments' },
  { table: 'deaths', feed: 'deaths' },
  { table: 'imprisonments', feed: 'imprisonments' },
  { table: 'evidence', feed: 'evidence' },
  { table: 'certifications', feed: 'certifications' },
  { table: 'enrollments', feed: 'enrollments' },
  { table: 'persons', feed: 'persons' }
];

/**
 * Bring the payment screens up to date: merge the paid rows loaded since the last run, or rebuild
 * them when they were never built or the last rebuild is older than risk.screen_rebuild_days.
 */
export async function refreshScreens(run: EngineRun, force = false): Promise<{ rebuilt: boolean; rows: number }> {
  const st = await run.client.query(
    `SELECT value, NOT EXISTS (SELECT 1 FROM risk_pay_screen) AS empty FROM engine_state WHERE key = 'risk_screens'`
  );
  const state = st.rows[0]?.value as { watermark: string; rebuilt_at: string } | undefined;
  // Never built, emptied (unlogged tables are emptied by a crash), or due for a periodic rebuild.
  const stale = !state || st.rows[0].empty || Date.now() - Date.parse(state.rebuilt_at) > run.rules.risk.screen_rebuild_days * 86_400_000;
  const rebuild = force || stale;
  if (rebuild) await run.client.query(`TRUNCATE risk_pay_screen, risk_account_screen`);
  const pension =
    (await run.client.query(`SELECT array_agg(scheme_code ORDER BY scheme_code) AS s FROM ref_schemes WHERE is_pension`)).rows[0].s ?? [];
  const steps = await runSqlFile(run.client, 'risk-screens', { rebuild, watermark: state?.watermark ?? '-infinity', pension }, run.ctx.log);
  const value = { watermark: run.watermark, rebuilt_at: rebuild ? new Date().toISOString() : state!.rebuilt_at };
  await run.client.query(
    `INSERT INTO engine_state (key, value, updated_at) VALUES ('risk_screens', $1, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [JSON.stringify(value)]
  );
  return { rebuilt: rebuild, rows: stepCount(steps, 'person rows') };
}

export async function detectRiskBody(run: EngineRun): Promise<void> {
  const r = run.rules.risk;
  const log = run.ctx.log;
  const screens = await refreshScreens(run, run.opts.rebuildScreens ?? false);
  run.ctx.count({ extra: { screens_rebuilt: screens.rebuilt, screen_rows_merged: screens.rows } });
  const find = await runSqlFile(
    run.client,
    'detect-risk',
    {
      ...run.params,
      nsol_since: `${addMonths(run.asOf, -r.no_sign_of_life_months)}T00:00:00+08:00`,
      abnormal_ratio: r.abnormal_threshold_ratio,
      abnormal_lookback: r.abnormal_lookback_periods,
      shared_min: r.shared_account_min_people,
      nsol_age: r.no_sign_of_life_min_age,
      nsol_months: r.no_sign_of_life_months
    },
    log
  );
  const merge = await runSqlFile(run.client, 'alerts-merge', { ...run.params, severity: r.severity }, log);
  const clock = await runSqlFile(run.client, 'risk-clock', { ...run.params }, log);
  const byRule: Record<string, number> = {};
  for (const row of stepRows(merge, 'summary')) byRule[row.rule] = Number(row.findings);
  run.ctx.count({
    read: stepCount(find, 'findings'),
    loaded: stepCount(merge, 'open new alerts'),
    replaced: stepCount(merge, 'update alerts'),
    extra: {
      findings: byRule,
      alerts_opened: stepCount(merge, 'open new alerts'),
      alerts_updated: stepCount(merge, 'update alerts'),
      alerts_closed: stepCount(merge, 'close vanished'),
      clock_records: stepCount(clock, 'clock')
    }
  });
  log(
    `detect-risk: ${stepCount(find, 'findings')} findings (${
      Object.entries(byRule)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }); ` +
      `${stepCount(merge, 'open new alerts')} opened, ${stepCount(merge, 'update alerts')} updated, ${stepCount(merge, 'close vanished')} closed`
  );
}

export function runDetectRisk(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'detect-risk', opts, RISK_SOURCES, detectRiskBody);
}
