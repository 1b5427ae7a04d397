// A family member reports a death (the resident portal; 身后一件事). The one service that records
// such a report: it opens the person's after_death case as `reported` — or adds to the case that is
// already open — with a verification task for the community, and writes the audit log, in one
// transaction. A department death record later confirms the case (the after-death engine).
import { withTransaction, type Pool, type PoolClient, type Queryable } from '../db/pool.ts';
import type { SmsSender } from '../sms.ts';
import { parseIdNumber } from '../domain/id-number.ts';
import { audit } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { readRules } from '../reference/rules.ts';
import { shanghaiIso, todayShanghai } from '../time.ts';

export interface DeathReport {
  id_number: string;
  reporter: string;
  relation: string;
  death_date: string;
  phone?: string;
  /** The portal's report: the signed-in reporter's own ID number and the further answers. */
  reporter_id?: string;
  place?: string;
  certificate?: string;
  bank_name?: string;
  bank_account?: string;
  survivor?: string;
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
      reporter_id: report.reporter_id ?? null,
      place: report.place ?? null,
      certificate: report.certificate ?? null,
      bank_name: report.bank_name ?? null,
      bank_account: report.bank_account ?? null,
      survivor: report.survivor ?? null,
      reported_at: shanghaiIso(new Date())
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
  await holdForReportedDeath(c, idNumber, deathDate, caseId, person.rows[0].region, rules.risk.severity.reported_death, followUp.createdBy);
  return { case_id: caseId, status: 'reported', created: true };
}

/**
 * A newly reported death, inside the report's transaction (migration 0034): the person's payments are
 * held at once — a suspension (never a stop: one unconfirmed source) of every scheme not terminated, from
 * the month after the reported death — and a P1 item, the alert reported_death, goes to the auditors'
 * workbench. Once per case (unique indexes); a second report joins the case and adds neither. The
 * engines' merge keeps the alert while the case stays `reported`; a department death record confirms the
 * case and the merge closes it (the after-death path takes over). An auditor who finds the report wrong
 * closes the alert as a false positive (alerts.ts), which releases the hold and closes the case.
 */
async function holdForReportedDeath(
  c: PoolClient,
  idNumber: string,
  deathDate: string,
  caseId: number,
  region: string | null,
  severity: string,
  by: string
): Promise<void> {
  const dedup = 'case:' + caseId;
  // paid already after the reported death: the amount at risk and its periods
  const paid = await c.query(
    `SELECT COALESCE(sum(amount), 0)::numeric(14,2)::text AS amount, COALESCE(array_agg(DISTINCT period ORDER BY period), '{}') AS periods,
            COALESCE(jsonb_agg(payment_id ORDER BY payment_id) FILTER (WHERE payment_id IS NOT NULL), '[]') AS ids
       FROM payments WHERE id_number = $1 AND status = 'paid' AND period > $2::date`,
    [idNumber, deathDate]
  );
  const a = await c.query(
    `INSERT INTO alerts (rule, id_number, dedup_key, severity, status, amount_at_risk, periods, evidence, detail, region_code, detected_as_of, last_seen_as_of)
     VALUES ('reported_death', $1, $2, $3, 'new', $4, $5, $6, $7, $8, $9, $9) RETURNING alert_id`,
    [
      idNumber,
      dedup,
      severity,
      paid.rows[0].amount,
      paid.rows[0].periods,
      JSON.stringify({ case_ids: [caseId], payment_ids: paid.rows[0].ids }),
      JSON.stringify({ case_id: caseId, reported_death_date: deathDate }),
      region,
      todayShanghai()
    ]
  );
  const alertId = Number(a.rows[0].alert_id);
  await c.query(
    `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, reason, action) VALUES ($1, NULL, 'new', $2, $3, 'detect')`,
    [alertId, by, `death reported (case ${caseId}): payments held until a department record confirms it`]
  );
  const schemes = await c.query(
    `SELECT array_agg(DISTINCT scheme_code ORDER BY scheme_code) AS s FROM enrollments WHERE id_number = $1 AND status <> 'terminated'`,
    [idNumber]
  );
  if (schemes.rows[0].s?.length)
    await c.query(
      `INSERT INTO payment_holds (id_number, scheme_codes, from_period, kind, source_confirmed, alert_id, origin, case_id)
       VALUES ($1, $2, (date_trunc('month', $3::date) + interval '1 month')::date, 'suspend', false, $4, 'death_report', $5)`,
      [idNumber, schemes.rows[0].s, deathDate, alertId, caseId]
    );
}

// ---- the portal's report, one question per page -------------------------------------------------

/** The questions, in the order the portal asks them. */
export const DEATH_REPORT_STEPS = ['relation', 'deceased', 'date', 'place', 'certificate', 'bank', 'survivor', 'declaration'] as const;
export type DeathReportStep = (typeof DEATH_REPORT_STEPS)[number];
export const RELATIONS = ['spouse', 'child', 'parent', 'sibling', 'other'] as const;

export interface DeathReportAnswers {
  relation?: string;
  deceased?: string;
  date?: string;
  place?: string;
  certificate?: string;
  bank_name?: string;
  bank_account?: string;
  survivor?: 'none' | 'spouse' | 'dependant';
  survivor_name?: string;
}
export interface DeathReportDraft {
  answers: DeathReportAnswers;
  result: { reference: string; case_id: number; created: boolean; sms: boolean } | null;
}

/** A step's answer that does not hold: the field and why (a code the portal words plainly). */
export class AnswerProblem extends Error {
  constructor(
    readonly field: string,
    readonly problem: string
  ) {
    super(`${field}: ${problem}`);
  }
}

const text = (v: unknown, max: number) =>
  String(v ?? '')
    .trim()
    .replace(/\s+/g, ' ')
    .slice(0, max);

/** Check one page's answer (from a form: strings) and return the fields it sets. Throws AnswerProblem. */
export function checkDeathReportAnswer(
  step: DeathReportStep,
  form: Record<string, unknown>,
  reporterId: string,
  today = todayShanghai()
): Partial<DeathReportAnswers> {
  switch (step) {
    case 'relation': {
      const r = text(form.relation, 20);
      if (!(RELATIONS as readonly string[]).includes(r)) throw new AnswerProblem('relation', 'choose');
      return { relation: r };
    }
    case 'deceased': {
      const id = parseIdNumber(text(form.deceased, 40));
      if (!id.ok) throw new AnswerProblem('deceased', 'invalid_id');
      if (id.value === reporterId) throw new AnswerProblem('deceased', 'own_id');
      return { deceased: id.value };
    }
    case 'date': {
      const d = text(form.date, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(d + 'T00:00:00Z'))) throw new AnswerProblem('date', 'invalid_date');
      if (d > today) throw new AnswerProblem('date', 'future_date');
      return { date: d };
    }
    case 'place': {
      const p = text(form.place, 100);
      if (!p) throw new AnswerProblem('place', 'required');
      return { place: p };
    }
    case 'certificate':
      return { certificate: text(form.certificate, 40) }; // may be empty: not issued yet
    case 'bank': {
      const account = text(form.bank_account, 40).replace(/[\s-]/g, '');
      const name = text(form.bank_name, 40);
      if (!/^\d{12,30}$/.test(account)) throw new AnswerProblem('bank_account', 'invalid_account');
      if (!name) throw new AnswerProblem('bank_name', 'required');
      return { bank_account: account, bank_name: name };
    }
    case 'survivor': {
      const s = text(form.survivor, 20);
      if (s !== 'none' && s !== 'spouse' && s !== 'dependant') throw new AnswerProblem('survivor', 'choose');
      const name = text(form.survivor_name, 40);
      if (s !== 'none' && !name) throw new AnswerProblem('survivor_name', 'required');
      return { survivor: s, survivor_name: s === 'none' ? '' : name };
    }
    case 'declaration':
      if (form.declare !== 'yes') throw new AnswerProblem('declare', 'required');
      return {};
  }
}

/** The first step whose answer is missing (the declaration when all are there). */
export function nextDeathReportStep(a: DeathReportAnswers): DeathReportStep {
  if (!a.relation) return 'relation';
  if (!a.deceased) return 'deceased';
  if (!a.date) return 'date';
  if (!a.place) return 'place';
  if (a.certificate === undefined) return 'certificate';
  if (!a.bank_account) return 'bank';
  if (!a.survivor) return 'survivor';
  return 'declaration';
}

export async function readDeathReportDraft(db: Queryable, reporterId: string): Promise<DeathReportDraft> {
  const r = (await db.query(`SELECT answers, result FROM death_report_drafts WHERE reporter_id = $1`, [reporterId])).rows[0];
  return { answers: r?.answers ?? {}, result: r?.result ?? null };
}

/** Save one page's answer to the reporter's own draft (a new answer after a submitted report starts a new draft). */
export async function saveDeathReportAnswer(
  db: Queryable,
  reporterId: string,
  step: Exclude<DeathReportStep, 'declaration'>,
  form: Record<string, unknown>
): Promise<DeathReportAnswers> {
  const set = checkDeathReportAnswer(step, form, reporterId);
  const r = await db.query(
    `INSERT INTO death_report_drafts AS d (reporter_id, answers) VALUES ($1, $2)
     ON CONFLICT (reporter_id) DO UPDATE
       SET answers = CASE WHEN d.result IS NULL THEN d.answers ELSE '{}'::jsonb END || EXCLUDED.answers, result = NULL, updated_at = now()
     RETURNING answers`,
    [reporterId, JSON.stringify(set)]
  );
  return r.rows[0].answers;
}

/** The reference a family quotes on the phone: 身后 + the case number. */
export const deathReportReference = (caseId: number) => 'SH' + String(caseId).padStart(6, '0');

/**
 * Submit the reporter's draft (after the declaration): reportDeath with every answer — the reporter's
 * name and phone from the registry by their own ID number — then a text message with the reference
 * and the next steps. The draft's answers are emptied; the result stays for the result page.
 */
export async function submitDeathReport(
  pool: Pool,
  sms: SmsSender,
  reporterId: string,
  form: Record<string, unknown>
): Promise<NonNullable<DeathReportDraft['result']>> {
  checkDeathReportAnswer('declaration', form, reporterId);
  const { answers: a } = await readDeathReportDraft(pool, reporterId);
  const missing = nextDeathReportStep(a);
  if (missing !== 'declaration') throw new AnswerProblem(missing, 'missing');
  const me = (await pool.query(`SELECT name, phone FROM persons WHERE id_number = $1`, [reporterId])).rows[0];
  if (!me) throw new HttpError(404, 'the reporter is not in the registry', 'unknown_person');
  let result: DeathReportResult;
  try {
    result = await reportDeath(pool, {
      id_number: a.deceased!,
      reporter: me.name,
      reporter_id: reporterId,
      relation: a.relation!,
      death_date: a.date!,
      phone: me.phone ?? undefined,
      place: a.place,
      certificate: a.certificate || undefined,
      bank_name: a.bank_name,
      bank_account: a.bank_account,
      survivor: a.survivor === 'none' ? 'none' : `${a.survivor}: ${a.survivor_name}`
    });
  } catch (e) {
    if (e instanceof HttpError && e.code === 'unknown_person') throw new AnswerProblem('deceased', 'unknown_person');
    throw e;
  }
  const reference = deathReportReference(result.case_id);
  let texted = false;
  if (me.phone) {
    try {
      await sms.send(pool, {
        phone: me.phone,
        purpose: 'death_report',
        text: `【银龄】您报告的家人去世信息已收到，编号 ${reference}。社区工作人员会在几天内联系您，核实后停发待遇、办理丧葬补助金。有问题请打12333。`
      });
      texted = true;
    } catch {
      texted = false; // the report stands; the result page says the text did not go out
    }
  }
  const out = { reference, case_id: result.case_id, created: result.created, sms: texted };
  await pool.query(`UPDATE death_report_drafts SET answers = '{}'::jsonb, result = $2, updated_at = now() WHERE reporter_id = $1`, [
    reporterId,
    JSON.stringify(out)
  ]);
  return out;
}

/** A death this resident reported as the surviving spouse, and where its case stands (the portal's "what happens next"). */
export interface SurvivorCase {
  reference: string;
  status: 'reported' | 'open' | 'closed';
  close_reason: string | null;
  deceased_name: string;
  death_date: string | null;
  funeral_grant: string | null;
  account_balance: string | null;
  /** The after-death tasks that concern the family: the funeral grant and the pension-account balance, open or done. */
  grant_task: 'open' | 'done' | 'cancelled' | null;
  balance_task: 'open' | 'done' | 'cancelled' | null;
}

/**
 * The after-death cases in which this resident reported the death as the spouse — their own report or
 * one that joined the case — newest first. Only what the survivor needs: the reference, the stage, the
 * amounts payable to the family and whether those tasks are done; never the bank account.
 */
export async function mySurvivorCases(db: Queryable, idNumber: string): Promise<SurvivorCase[]> {
  const r = await db.query(
    `SELECT c.case_id::int, c.status, c.close_reason, p.name AS deceased_name,
            to_char(COALESCE(c.death_date, (c.detail #>> '{report,death_date}')::date), 'YYYY-MM-DD') AS death_date,
            c.funeral_grant::text, c.account_balance::text,
            (SELECT t.status FROM tasks t WHERE t.case_id = c.case_id AND t.kind = 'funeral_grant' ORDER BY t.task_id DESC LIMIT 1) AS grant_task,
            (SELECT t.status FROM tasks t WHERE t.case_id = c.case_id AND t.kind = 'account_balance' ORDER BY t.task_id DESC LIMIT 1) AS balance_task
       FROM cases c JOIN persons p ON p.id_number = c.id_number
      WHERE c.kind = 'after_death'
        AND (c.detail -> 'report' @> jsonb_build_object('reporter_id', $1::text, 'relation', 'spouse')
             OR c.detail -> 'further_reports' @> jsonb_build_array(jsonb_build_object('reporter_id', $1::text, 'relation', 'spouse')))
      ORDER BY c.opened_at DESC`,
    [idNumber]
  );
  return r.rows.map(({ case_id, ...x }) => ({ reference: deathReportReference(case_id), ...x }));
}
