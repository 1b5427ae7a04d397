// certify — silent certification (docs/rules.md 1–8) for every benefit recipient, set-based in
// sql/engines/certify.sql; the decisions and every reading of docs/rules.md are stated in
// core/domain/certification-rules.ts (the pure reference the SQL is tested against).
// Output: cert_status (one row per recipient), cert_events (dated reminders, field tasks,
// suspensions, resumptions), field-verification tasks; returns the silent-certification rate.
//
// Follow-up steps (rule 5), dated so the history replays: reminder = lapse − 30 days, field task
// at the lapse (the day after valid_until), suspension = lapse + 60 days; a recipient never
// certified lapses on the day their benefit began. The engine cannot suspend a payment itself
// (enrollments belong to the provincial system): the suspension/resumption events are the
// instruction list for the payment run, with reason not_certified / negative_death / negative_custody.
// Field tasks are due counted from the run that opens them and close themselves when the lapse no
// longer calls for a visit; a run as of an earlier date leaves what later runs recorded alone
// (docs/rules.md, "Follow-ups when certified again, and in replays").
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount, stepRows } from './sql.ts';

export const CERTIFY_SOURCES = [
  { table: 'enrollments', feed: 'enrollments' },
  { table: 'persons', feed: 'persons' },
  { table: 'evidence', feed: 'evidence' },
  { table: 'certifications', feed: 'certifications' },
  { table: 'deaths', feed: 'deaths' },
  { table: 'imprisonments', feed: 'imprisonments' }
];

export interface CertifySummary {
  recipients: number;
  certified: number;
  silent: number;
  not_certified: number;
  negative: number;
  silent_rate: number | null;
}

export async function certifyBody(run: EngineRun): Promise<CertifySummary> {
  const c = run.rules.certification;
  const steps = await runSqlFile(
    run.client,
    'certify',
    {
      ...run.params,
      validity_months: c.validity_months,
      lookback_months: c.lookback_months,
      weak_days: c.weak_corroboration_days,
      weak_min_sources: c.weak_min_sources,
      weak_min_records: c.weak_min_records,
      reminder_days: c.reminder_days_before_expiry,
      field_days: c.field_task_days_after_expiry,
      field_due_days: c.field_task_due_days,
      suspension_days: c.suspension_days_after_expiry,
      reminder_channel: c.reminder_channel
    },
    run.ctx.log
  );
  const rate = stepRows(steps, 'rate')[0];
  const n = (k: string) => Number(rate[k]);
  const summary: CertifySummary = {
    recipients: n('recipients'),
    certified: n('certified'),
    silent: n('silent'),
    not_certified: n('not_certified'),
    negative: n('negative'),
    silent_rate: n('certified') ? Math.round((n('silent') / n('certified')) * 10000) / 100 : null
  };
  run.ctx.count({
    read: stepCount(steps, 'population'),
    loaded: stepCount(steps, 'upsert status'),
    extra: {
      ...summary,
      events: stepCount(steps, 'insert events') + stepCount(steps, 'resumptions'),
      field_tasks: stepCount(steps, 'field tasks'),
      field_tasks_closed: stepCount(steps, 'close field tasks')
    }
  });
  run.ctx.log(
    `certify: ${summary.certified} certified of ${summary.recipients} recipients, silent-certification rate ${summary.silent_rate ?? '–'}% (${summary.silent} silent), ${summary.not_certified} not certified, ${summary.negative} negative`
  );
  return summary;
}

export function runCertify(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'certify', opts, CERTIFY_SOURCES, async (run) => {
    await certifyBody(run);
  });
}
