// remind-retirement — statutory retirement month of every insured person (2025 gradual reform,
// core/domain/retirement-age.ts is the pure statement; sql/engines/remind-retirement.sql runs the
// same arithmetic set-based with the table from rules.json) and reminders at the configured
// milestones (12/6/3/1 months before), once each.
//
// Readings of docs/rules.md: the basis is the registry's retirement_basis; a man without one is M60 (the
// only basis for men); a woman without one is not placed (F55 or F50 cannot be told apart) and is
// counted as `basis_missing`. Months to retirement = retirement month − as-of month; reminders go to
// people 1…horizon months ahead, for the milestone in force (the smallest milestone ≥ months left),
// never backfilling milestones already passed.
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount, stepRows } from './sql.ts';

export const RETIREMENT_SOURCES = [{ table: 'persons', feed: 'persons' }];

export async function remindRetirementBody(run: EngineRun): Promise<void> {
  const r = run.rules.retirement;
  const steps = await runSqlFile(
    run.client,
    'remind-retirement',
    {
      ...run.params,
      bases: r.bases,
      milestones: r.reminder_milestones_months,
      horizon_months: r.horizon_months
    },
    run.ctx.log
  );
  const missing = Number(stepRows(steps, 'missing basis')[0].n);
  run.ctx.count({
    read: stepCount(steps, 'compute') + missing,
    loaded: stepCount(steps, 'retirements'),
    extra: { reminders: stepCount(steps, 'reminders'), basis_missing: missing }
  });
  run.ctx.log(
    `remind-retirement: ${stepCount(steps, 'retirements')} insured people placed, ${stepCount(steps, 'reminders')} reminders, ${missing} without a basis`
  );
}

export function runRemindRetirement(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'remind-retirement', opts, RETIREMENT_SOURCES, remindRetirementBody);
}
