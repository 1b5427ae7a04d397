// payroll-check — the pre-payroll check of docs/rules.md on the current draft of a period, as of a check
// date (default today, Asia/Shanghai), frozen as a new numbered run (sql/engines/payroll-check.sql). The
// sign-off, diffs and hold list are the service in core/workflow/payroll.ts.
//
// One definition of each rule and threshold: the abnormal-amount threshold and look-back and the
// shared-account minimum are the risk rules' (rules.json risk.*), the not-certified delay is the
// certification engine's suspension delay (certification.suspension_days_after_expiry) and the diff's share
// is payroll.diff_amount_change_ratio; the median is the engines' yinling_median. The certification state
// is the certify engine's own, run as of the check date first (incremental when it already ran then).
//
// Readings of docs/rules.md where it leaves room:
// - Current draft: the draft_id with the latest prepared_at among the lines of the period (ties: the larger
//   draft_id); only its lines of that period are checked. An older draft is ignored wholly.
// - Known on D: death and custody records dated on or before D and recorded (recorded_at) by the end of D;
//   paid payments with paid_at (when given) by the end of D — as detect-risk reads them.
// - dead: the earliest death date of the person's records is before the period's first day.
// - in_custody: exclusive-group line; a custody record starting on or before the period's first day and
//   ending (end_date, inclusive; none = still in custody) on or after its last day.
// - suspended: none of the person's enrollments of the line's scheme is active (all suspended or
//   terminated), or a row of payroll_person_holds covers the person and period (the workbench's approved
//   holds; empty until the workbench provides it). A line with no enrollment of its scheme at all gets no
//   finding from this rule (the diff shows it as a new payee when it was not paid last month).
// - not_certified: the person is not certified on D (cert_status) and lapsed — the day after the last
//   valid_until, or for someone never certified the first start_period of their active or suspended
//   enrollments — more than suspension_days (60) days before the period's first day. People the certify
//   engine holds negative (dead, in custody) get those findings instead.
// - double_receipt: two or more lines of one exclusive group for a person (also two lines of one scheme):
//   every line but the largest (equal amounts: the smallest line_id stays) is at risk and held.
// - abnormal_amount: the line against the median of the person's previous 6 paid payments of that scheme
//   (periods before P); explained by an enrollment of that scheme updated, after the month of the latest
//   of those payments, to exactly the line's amount. Below the median: flagged with 0 at risk.
// - shared_account: an account on lines of 3 or more different people (any scheme) → all its lines; or an
//   account that received a paid payment for a person now known dead → the lines of the others on it
//   (the dead person's own line is held as `dead`).
// - Totals: held = lines with at least one holding finding; released = the other lines; amount at risk
//   = the sum over findings (a line with two findings counts twice there; held_amount counts it once).
// - Diff per person and scheme (lines summed): new_payee = on the draft, no paid payment in P−1;
//   dropped_payee = paid in P−1, not on the draft; amount_changed = |draft − paid| > paid × 10%.
import type { Pool } from '../../core/db/pool.ts';
import { audit, type Actor } from '../../core/audit.ts';
import { addDays, addMonths } from '../../core/domain/certification-rules.ts';
import {
  comparisonBase,
  diffRuns,
  getRun,
  periodLabel,
  requireDraft,
  requireSignatory,
  type PayrollRun,
  type RunDiff
} from '../../core/workflow/payroll.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, todayShanghai } from './context.ts';
import { runCertify } from './certify.ts';
import { refreshScreens } from './detect-risk.ts';
import { runSqlFile, stepCount, stepRows } from './sql.ts';

export interface PayrollCheckOptions {
  /** First day of the period, YYYY-MM-01 (core/workflow/payroll.ts parsePeriod). */
  period: string;
  asOf?: string;
  /** The staff user preparing the run (auditor or admin); null = the scheduler. */
  preparedBy?: string | null;
  actor?: Actor;
  trigger?: 'manual' | 'schedule' | 'startup' | 'dependency';
  log?: (m: string) => void;
}

export interface PayrollCheckResult {
  job: JobResult;
  certify: JobResult;
  run: PayrollRun;
  findings: { finding: string; findings: number; amount_at_risk: string; held: number }[];
  diffCounts: Record<string, number>;
  /** The diff to the approved run of the period, when there is one and it is another run. */
  againstApproved: RunDiff | null;
}

export async function runPayrollCheck(pool: Pool, opts: PayrollCheckOptions): Promise<PayrollCheckResult> {
  const asOf = opts.asOf ?? todayShanghai();
  const draft = await requireDraft(pool, opts.period);
  if (opts.preparedBy) await requireSignatory(pool, opts.preparedBy, 'preparer');
  const log = opts.log ?? (() => {});
  // The certification state as of the check date: the certify engine's (incremental when it ran then already).
  const certify = await runCertify(pool, { asOf, trigger: 'dependency', log });
  if (certify.status !== 'ok') throw new Error(`the certify engine failed as of ${asOf}: ${certify.error}`);
  let runNo = 0;
  let findings: PayrollCheckResult['findings'] = [];
  const job = await runEngine(pool, 'payroll-check', { asOf, trigger: opts.trigger, log, mode: 'full' }, [], async (run) => {
    const r = run.rules;
    // detect-risk's payment screens pick the abnormal-amount candidates: bring them up to date (a merge of
    // the payments loaded since they were last refreshed; a rebuild when never built).
    await refreshScreens(run);
    const steps = await runSqlFile(
      run.client,
      'payroll-check',
      {
        draft_id: draft.draft_id,
        period: opts.period,
        period_last: addDays(addMonths(opts.period, 1), -1),
        prev_period: addMonths(opts.period, -1),
        as_of: run.params.as_of,
        as_of_end: run.params.as_of_end,
        abnormal_ratio: r.risk.abnormal_threshold_ratio,
        abnormal_lookback: r.risk.abnormal_lookback_periods,
        shared_min: r.risk.shared_account_min_people,
        suspension_days: r.certification.suspension_days_after_expiry,
        diff_ratio: r.payroll.diff_amount_change_ratio,
        prepared_by: opts.preparedBy ?? null,
        rules: {
          abnormal_threshold_ratio: r.risk.abnormal_threshold_ratio,
          abnormal_lookback_periods: r.risk.abnormal_lookback_periods,
          shared_account_min_people: r.risk.shared_account_min_people,
          suspension_days_after_expiry: r.certification.suspension_days_after_expiry,
          diff_amount_change_ratio: r.payroll.diff_amount_change_ratio,
          rules_hash: run.rulesHash
        },
        job_run_id: run.ctx.runId
      },
      log
    );
    runNo = Number(stepRows(steps, 'run number')[0].run_no);
    findings = stepRows(steps, 'summary').map((x) => ({
      finding: x.finding,
      findings: Number(x.findings),
      amount_at_risk: String(x.amount_at_risk),
      held: Number(x.held)
    }));
    run.ctx.count({
      read: stepCount(steps, 'draft lines'),
      loaded: stepCount(steps, 'freeze findings'),
      extra: {
        period: periodLabel(opts.period),
        draft_id: draft.draft_id,
        payroll_run: runNo,
        holds: stepCount(steps, 'freeze holds'),
        diff: stepCount(steps, 'freeze diff'),
        findings: Object.fromEntries(findings.map((f) => [f.finding, f.findings]))
      }
    });
    await audit(run.client, opts.actor ?? { type: 'system', name: 'payroll-check' }, 'payroll.check', `payroll_run:${runNo}`, {
      period: periodLabel(opts.period),
      draft_id: draft.draft_id,
      as_of: asOf,
      prepared_by: opts.preparedBy ?? null
    });
  });
  if (job.status !== 'ok') throw new Error(`the payroll check failed: ${job.error}`);
  const run = await getRun(pool, runNo);
  const dc = await pool.query(`SELECT kind, count(*)::int AS n FROM payroll_run_diff WHERE run_no = $1 GROUP BY kind`, [runNo]);
  const diffCounts = Object.fromEntries(dc.rows.map((x) => [x.kind, x.n]));
  const base = await comparisonBase(pool, run);
  return { job, certify, run, findings, diffCounts, againstApproved: base ? await diffRuns(pool, base.run_no, run.run_no) : null };
}

/** The month a scheduled check covers: the month of its run day (Asia/Shanghai). */
export function scheduledPeriod(asOf: string): string {
  return `${asOf.slice(0, 7)}-01`;
}
