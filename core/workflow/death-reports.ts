// A family member reports a death (the resident portal; 身后一件事). The one service that records
// such a report: it opens the person's after_death case as `reported` — or adds to the case that is
// already open — with a verification task for the community, and writes the audit log, in one
// transaction. A department death record later confirms the case (the after-death engine).
import { withTransaction, type Pool, type PoolClient } from '../db/pool.ts';
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
  if (!isDate(report.death_date)) throw new HttpError(400, 'death_date must be a date YYYY-MM-DD', 'invalid_date');
  if (!report.reporter?.trim()) throw new HttpError(400, 'reporter is required', 'missing_reporter');
  if (!report.relation?.trim()) throw new HttpError(400, 'relation is required', 'missing_relation');
  if (report.death_date > todayShanghai()) throw new HttpError(400, 'death_date lies in the future', 'future_date');
  return withTransaction(pool, async (c) => {
    const reportJson = {
      reporter: report.reporter.trim(),
      relation: report.relation.trim(),
      death_date: report.death_date,
      phone: report.phone ?? null,
      reported_at: new Date().toISOString()
    };
    const result = await openReportedDeathCase(c, id.value, report.death_date, reportJson, {
      kind: 'verify_death_report',
      department: 'community',
      detail: { relation: reportJson.relation, death_date: report.death_date },
      createdBy: 'reportDeath'
    });
    await audit(c, { type: 'resident', name: reportJson.reporter }, 'death.report', id.value, {
      relation: reportJson.relation,
      death_date: report.death_date,
      case_id: result.case_id,
      created: result.created
    });
    return result;
  });
}

export const isDate = (s: unknown): s is string =>
  typeof s === 'string' &&
  /^\d{4}-\d{2}-\d{2}$/.test(s) &&
  !Number.isNaN(Date.parse(s + 'T00:00:00Z')) &&
  new Date(s + 'T00:00:00Z').toISOString().startsWith(s);

/**
 * Inside the caller's transaction: a death reported for a person (by the family on the portal, or by
 * community staff who found the person deceased) opens their after_death case as `reported`, with
 * one follow-up task (`followUp`) to the person's community area — or, when a case is open already,
 * adds the report to it (no new task). The caller validates and audit-logs. The after-death engine
 * confirms the case when a department death record arrives.
 */
export async function openReportedDeathCase(
  c: PoolClient,
  idNumber: string,
  deathDate: string,
  report: Record<string, unknown>,
  followUp: { kind: string; department: string; detail: Record<string, unknown>; createdBy: string }
): Promise<DeathReportResult> {
  // Serialise reports for one person (two family members reporting at once).
  await c.query(`SELECT pg_advisory_xact_lock(hashtext('yinling:death-report:' || $1))`, [idNumber]);
  const person = await c.query(`SELECT COALESCE(residence_region, hukou_region) AS region FROM persons WHERE id_number = $1`, [idNumber]);
  if (!person.rows.length) throw new HttpError(404, 'no person with this id_number in the registry', 'unknown_person');
  const existing = await c.query(`SELECT case_id, status FROM cases WHERE kind = 'after_death' AND id_number = $1 AND status <> 'closed'`, [
    idNumber
  ]);
  if (existing.rows.length) {
    const row = existing.rows[0];
    await c.query(
      `UPDATE cases SET detail = jsonb_set(detail, '{further_reports}', COALESCE(detail->'further_reports', '[]'::jsonb) || $2::jsonb) WHERE case_id = $1`,
      [row.case_id, JSON.stringify([report])]
    );
    return { case_id: Number(row.case_id), status: row.status, created: false };
  }
  const ins = await c.query(
    `INSERT INTO cases (kind, id_number, status, detail, region_code) VALUES ('after_death', $1, 'reported', $2, $3) RETURNING case_id`,
    [idNumber, JSON.stringify({ report }), person.rows[0].region]
  );
  const caseId = Number(ins.rows[0].case_id);
  const { rules } = await readRules(c);
  await c.query(
    `INSERT INTO tasks (kind, id_number, region_code, department, case_id, status, due_on, dedup_key, detail, created_by)
     VALUES ($1, $2, $3, $4, $5, 'open', $6::date + $7::int, $8, $9, $10)
     ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING`,
    [
      followUp.kind,
      idNumber,
      person.rows[0].region,
      followUp.department,
      caseId,
      todayShanghai(),
      rules.after_death.task_due_days,
      'case:' + caseId,
      JSON.stringify({ ...followUp.detail, death_date: deathDate }),
      followUp.createdBy
    ]
  );
  return { case_id: caseId, status: 'reported', created: true };
}
