// after-death — the after-death one-thing (身后一件事), sql/engines/after-death.sql: one case per
// confirmed death with the suspension month, overpayments to recover, the funeral grant and the
// pension-account balance for heirs (rules.json `after_death`), and one task per department. A family
// report from the resident portal opens the case as `reported` first (core/workflow/death-reports.ts);
// a department record confirms it here.
//
// Readings of docs/rules.md: "confirmed" = a death record from any department, known on the as-of date;
// the earliest death date counts. Amounts: the pension scheme is the person's most recent pension
// enrollment; a person with no pension enrollment gets neither grant nor balance. A reported death
// whose record never arrives stays `reported`; a record that is withdrawn closes the case
// (`death_record_withdrawn`) and cancels its open tasks. Tasks: suspend_benefit (done at once when no
// enrollment runs past the death), recover_overpayment, funeral_grant, account_balance
// (social_security), stop_subsidies (civil_affairs, when subsidies were paid after the death),
// cancel_household (public_security, when its own record is missing).
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount } from './sql.ts';

export const AFTER_DEATH_SOURCES = [
  { table: 'deaths', feed: 'deaths' },
  { table: 'payments', feed: 'payments' },
  { table: 'enrollments', feed: 'enrollments' },
  { table: 'subsidies', feed: 'subsidies' },
  { table: 'persons', feed: 'persons' }
];

export async function afterDeathBody(run: EngineRun): Promise<void> {
  const a = run.rules.after_death;
  const steps = await runSqlFile(
    run.client,
    'after-death',
    {
      ...run.params,
      funeral_grant: a.funeral_grant,
      account_balance: a.account_balance,
      task_due_days: a.task_due_days
    },
    run.ctx.log
  );
  run.ctx.count({
    read: stepCount(steps, 'deaths'),
    loaded: stepCount(steps, 'open cases'),
    extra: {
      cases_opened: stepCount(steps, 'open cases'),
      reports_confirmed: stepCount(steps, 'confirm reported'),
      tasks: stepCount(steps, 'tasks'),
      cases_withdrawn: stepCount(steps, 'withdrawn'),
      cases_closed: stepCount(steps, 'close done')
    }
  });
}

export function runAfterDeath(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'after-death', opts, AFTER_DEATH_SOURCES, afterDeathBody);
}
