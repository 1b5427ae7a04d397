// assign-community — each retiree belongs to a community (sql/engines/assign-community.sql):
// residence community when the registry gives a known one, else the hukou community. New retirees
// (retired within `community.new_retiree_months`) get a report-in record and task; moving reassigns.
// Readings: retirees with a death record are not assigned; every other retiree is assigned on the
// first run (the management relationship), but only new retirees and movers owe a report-in.
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount } from './sql.ts';

export const COMMUNITY_SOURCES = [
  { table: 'persons', feed: 'persons' },
  { table: 'deaths', feed: 'deaths' }
];

export async function assignCommunityBody(run: EngineRun): Promise<void> {
  const c = run.rules.community;
  const steps = await runSqlFile(
    run.client,
    'assign-community',
    {
      ...run.params,
      new_retiree_months: c.new_retiree_months,
      report_in_days: c.report_in_days
    },
    run.ctx.log
  );
  run.ctx.count({
    read: stepCount(steps, 'targets'),
    loaded: stepCount(steps, 'assign'),
    extra: { moved: stepCount(steps, 'moved'), report_in_tasks: stepCount(steps, 'report-in tasks') }
  });
}

export function runAssignCommunity(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'assign-community', opts, COMMUNITY_SOURCES, assignCommunityBody);
}
