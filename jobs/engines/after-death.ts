// after-death — the after-death one-thing (身后一件事), sql/engines/after-death.sql: one case per
// confirmed death with the suspension month, overpayments to recover, the funeral grant and the
// pension-account balance for heirs (rules.json `after_death`), and one task per department; and
// reportDeath(), the service a family report from the resident portal goes through: it opens the
// case as `reported` (with a verification task for the community) until a department record
// confirms it. Every report is audit-logged.
//
// Readings of rules.md: "confirmed" = a death record from any department, known on the as-of date;
// the earliest death date counts. Amounts: the pension scheme is the person's most recent pension
// enrollment; a person with no pension enrollment gets neither grant nor balance. A reported death
// whose record never arrives stays `reported`; a record that is withdrawn closes the case
// (`death_record_withdrawn`) and cancels its open tasks. Tasks: suspend_benefit (done at once when no
// enrollment runs past the death), recover_overpayment, funeral_grant, account_balance
// (social_security), stop_subsidies (civil_affairs, when subsidies were paid after the death),
// cancel_household (public_security, when its own record is missing).
import type { Pool } from '../../core/db/pool.ts';
import { withTransaction } from '../../core/db/pool.ts';
import { parseIdNumber } from '../../core/domain/id-number.ts';
import { audit } from '../../core/audit.ts';
import type { JobResult } from '../runner.ts';
import { runEngine, todayShanghai, type EngineOptions, type EngineRun } from './context.ts';
import { runSqlFile, stepCount } from './sql.ts';
import { readRules } from '../../core/reference/rules.ts';

export const AFTER_DEATH_SOURCES = [
  { table: 'deaths', feed: 'deaths' },
  { table: 'payments', feed: 'payments' },
  { table: 'enrollments', feed: 'enrollments' },
  { table: 'subsidies', feed: 'subsidies' },
  { table: 'persons', feed: 'persons' }
];

export async function afterDeathBody(run: EngineRun): Promise<void> {
  const a = run.rules.after_death;
  const steps = await runSqlFile(run.client, 'after-death', {
    ...run.params, funeral_grant: a.funeral_grant, account_balance: a.account_balance, task_due_days: a.task_due_days
  }, run.ctx.log);
  run.ctx.count({
    read: stepCount(steps, 'deaths'),
    loaded: stepCount(steps, 'open cases'),
    extra: {
      cases_opened: stepCount(steps, 'open cases'), reports_confirmed: stepCount(steps, 'confirm reported'), tasks: stepCount(steps, 'tasks'),
      cases_withdrawn: stepCount(steps, 'withdrawn'), cases_closed: stepCount(steps, 'close done')
    }
  });
}

export function runAfterDeath(pool: Pool, opts: EngineOptions = {}): Promise<JobResult> {
  return runEngine(pool, 'after-death', opts, AFTER_DEATH_SOURCES, afterDeathBody);
}

export interface DeathReport { id_number: string; reporter: string; relation: string; death_date: string; phone?: string }
export interface DeathReportResult { case_id: number; status: 'reported' | 'open' | 'closed'; created: boolean }

/**
 * A family member reports a death (resident portal). Opens the person's after_death case as
 * `reported` — or returns the case that already exists — with a verification task for the
 * community, and writes the audit log. A department death record later confirms it (after-death).
 */
export async function reportDeath(pool: Pool, report: DeathReport): Promise<DeathReportResult> {
  const id = parseIdNumber(report.id_number ?? '');
  if (!id.ok) throw new Error(`id_number: ${id.reason}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(report.death_date) || Number.isNaN(Date.parse(report.death_date + 'T00:00:00Z'))) throw new Error('death_date must be a date YYYY-MM-DD');
  if (!report.reporter?.trim()) throw new Error('reporter is required');
  if (!report.relation?.trim()) throw new Error('relation is required');
  const today = todayShanghai();
  if (report.death_date > today) throw new Error('death_date lies in the future');
  return withTransaction(pool, async (c) => {
    // Serialise reports for one person (two family members reporting at once).
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('yinling:death-report:' || $1))`, [id.value]);
    const person = await c.query(`SELECT COALESCE(residence_region, hukou_region) AS region FROM persons WHERE id_number = $1`, [id.value]);
    if (!person.rows.length) throw new Error('no person with this id_number in the registry');
    const existing = await c.query(`SELECT case_id, status FROM cases WHERE kind = 'after_death' AND id_number = $1 AND status <> 'closed'`, [id.value]);
    const reportJson = { reporter: report.reporter.trim(), relation: report.relation.trim(), death_date: report.death_date, phone: report.phone ?? null, reported_at: new Date().toISOString() };
    let result: DeathReportResult;
    if (existing.rows.length) {
      const row = existing.rows[0];
      await c.query(`UPDATE cases SET detail = jsonb_set(detail, '{further_reports}', COALESCE(detail->'further_reports', '[]'::jsonb) || $2::jsonb) WHERE case_id = $1`, [row.case_id, JSON.stringify([reportJson])]);
      result = { case_id: Number(row.case_id), status: row.status, created: false };
    } else {
      const ins = await c.query(
        `INSERT INTO cases (kind, id_number, status, detail, region_code) VALUES ('after_death', $1, 'reported', $2, $3) RETURNING case_id`,
        [id.value, JSON.stringify({ report: reportJson }), person.rows[0].region]
      );
      const caseId = Number(ins.rows[0].case_id);
      const { rules } = await readRules(c);
      await c.query(
        `INSERT INTO tasks (kind, id_number, region_code, department, case_id, status, due_on, dedup_key, detail, created_by)
         VALUES ('verify_death_report', $1, $2, 'community', $3, 'open', $4::date + $5::int, $6, $7, 'reportDeath')
         ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING`,
        [id.value, person.rows[0].region, caseId, today, rules.after_death.task_due_days, 'case:' + caseId, JSON.stringify({ relation: reportJson.relation, death_date: report.death_date })]
      );
      result = { case_id: caseId, status: 'reported', created: true };
    }
    await audit(c, { type: 'resident', name: reportJson.reporter }, 'death.report', id.value,
      { relation: reportJson.relation, death_date: report.death_date, case_id: result.case_id, created: result.created });
    return result;
  });
}
