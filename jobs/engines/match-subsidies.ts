// match-subsidies — policy finds people (政策找人), sql/engines/match-subsidies.sql: eligibility per
// subsidy project from the catalogue's eligibility parameters (ref_subsidy_projects), with the facts
// that decided it; eligible-not-receiving (to enrol), receiving-not-eligible (to stop) and the
// payout list of the as-of month per project.
//
// Readings of docs/rules.md (where it is silent):
// - Everyone in the registry is considered; the dead (death record known on as-of) and people in
//   custody are never eligible (so a payout to them is "receiving, not eligible").
// - Ages are whole years on the as-of date; hardship is active when since ≤ as-of ≤ until.
// - "Receiving" = a payout of the project for the as-of month or the `receiving_lookback_months`
//   months before it (the last payment run: payouts are made for the month before the as-of month).
// - CARE "living alone" is in no feed: 70+ with an active disability qualifies on the data; an 80+
//   person already receiving CARE is taken as declared living alone (not listed to stop), an 80+
//   person not receiving is not proposed (the community must check the household first).
// - HOSP is per event: each hospital_admission in the last `admission_within_days` days of a person
//   with an active hardship of the listed kinds qualifies once; it is on the payout list until a
//   HOSP payout for the admission month or later exists.
import type { Pool } from '../../core/db/pool.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount, stepRows } from './sql.ts';

export const SUBSIDY_SOURCES = [
  { table: 'persons', feed: 'persons' },
  { table: 'hardship', feed: 'hardship' },
  { table: 'subsidies', feed: 'subsidies' },
  { table: 'deaths', feed: 'deaths' },
  { table: 'imprisonments', feed: 'imprisonments' },
  { table: 'evidence', feed: 'evidence' }
];

export async function matchSubsidiesBody(run: EngineRun): Promise<void> {
  const steps = await runSqlFile(
    run.client,
    'match-subsidies',
    {
      ...run.params,
      receiving_lookback_months: run.rules.subsidies.receiving_lookback_months
    },
    run.ctx.log
  );
  const summary: Record<string, Record<string, number>> = {};
  for (const r of stepRows(steps, 'summary')) (summary[r.project_code] ??= {})[r.category] = Number(r.people);
  run.ctx.count({
    read: stepCount(steps, 'people'),
    loaded: stepCount(steps, 'matches'),
    extra: { matches: summary, payout_list: stepCount(steps, 'payout list') }
  });
  run.ctx.log(
    `match-subsidies: ${Object.entries(summary)
      .map(([p, c]) => `${p} ${JSON.stringify(c)}`)
      .join('; ')}`
  );
}

export function runMatchSubsidies(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'match-subsidies', opts, SUBSIDY_SOURCES, matchSubsidiesBody);
}
