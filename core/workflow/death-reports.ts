// A family member reports a death (the resident portal; 身后一件事). The one service that records
// such a report: it opens the person's after_death case as `reported` — or adds to the case that is
// already open — with a verification task for the community, and writes the audit log, in one
// transaction. A department death record later confirms the case (the after-death engine).
import { withTransaction, type Pool } from '../db/pool.ts';
import { parseIdNumber } from '../domain/id-number.ts';
import { audit } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { readRules } from '../reference/rules.ts';
import { todayShanghai } from '../time.ts';

export interface DeathReport {
  id_number: string;
  reporter: string;
  relation: string;
  death_date: string;
  phone?: string;
}
export interface DeathReportResult {
  case_id: number;
  status: 'reported' | 'open' | 'closed';
  created: boolean;
}

/**
 * A family member reports a death (resident portal). Opens the person's after_death case as
 * `reported` — or returns the case that already exists — with a verification task for the
 * community, and writes the audit log. A department death record later confirms it (after-death).
 */
export async function reportDeath(pool: Pool, report: DeathReport): Promise<DeathReportResult> {
  const id = parseIdNumber(report.id_number ?? '');
  if (!id.ok) throw new HttpError(400, `id_number: ${id.reason}`, 'invalid_id_number');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(report.death_date) || Number.isNaN(Date.parse(report.death_date + 'T00:00:00Z')))
    throw new HttpError(400, 'death_date must be a date YYYY-MM-DD', 'invalid_date');
  if (!report.reporter?.trim()) throw new HttpError(400, 'reporter is required', 'missing_reporter');
  if (!report.relation?.trim()) throw new HttpError(400, 'relation is required', 'missing_relation');
  const today = todayShanghai();
  if (report.death_date > today) throw new HttpError(400, 'death_date lies in the future', 'future_date');
  return withTransaction(pool, async (c) => {
    // Serialise reports for one person (two family members reporting at once).
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('yinling:death-report:' || $1))`, [id.value]);
    const person = await c.query(`SELECT COALESCE(residence_region, hukou_region) AS region FROM persons WHERE id_number = $1`, [id.value]);
    if (!person.rows.length) throw new HttpError(404, 'no person with this id_number in the registry', 'unknown_person');
    const existing = await c.query(
      `SELECT case_id, status FROM cases WHERE kind = 'after_death' AND id_number = $1 AND status <> 'closed'`,
      [id.value]
    );
    const reportJson = {
      reporter: report.reporter.trim(),
      relation: report.relation.trim(),
      death_date: report.death_date,
      phone: report.phone ?? null,
      reported_at: new Date().toISOString()
    };
    let result: DeathReportResult;
    if (existing.rows.length) {
      const row = existing.rows[0];
      await c.query(
        `UPDATE cases SET detail = jsonb_set(detail, '{further_reports}', COALESCE(detail->'further_reports', '[]'::jsonb) || $2::jsonb) WHERE case_id = $1`,
        [row.case_id, JSON.stringify([reportJson])]
      );
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
        [
          id.value,
          person.rows[0].region,
          caseId,
          today,
          rules.after_death.task_due_days,
          'case:' + caseId,
          JSON.stringify({ relation: reportJson.relation, death_date: report.death_date })
        ]
      );
      result = { case_id: caseId, status: 'reported', created: true };
    }
    await audit(c, { type: 'resident', name: reportJson.reporter }, 'death.report', id.value, {
      relation: reportJson.relation,
      death_date: report.death_date,
      case_id: result.case_id,
      created: result.created
    });
    return result;
  });
}
