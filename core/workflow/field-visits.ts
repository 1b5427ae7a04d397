// Field tasks for community staff (issue 17, point 5): the one service that lists the open tasks of a
// staff member's area, shows a task with the personal data the visit needs, and records a visit. The
// web pages (/field) and the CLI (`yinling field`) call it; nothing else changes these rows.
//
// Who: a `staff` account whose area (staff_users.region_code) is a community or a town. A community's
// staff see that community's tasks; a town's staff see every community of the town, with overdue
// tasks flagged as escalated to them. Leaders, auditors, admins, district or city staff are refused
// (403); a task outside the caller's area is "not found" (404), so an id tells nothing.
//
// Which tasks: open tasks of the community departments — field_verification (certification lapsed,
// certify.sql), report_in (new retirees, assign-community.sql), verify_death_report (a death reported
// on the portal, death-reports.ts). The after-death engine's steps go to departments (social security,
// civil affairs, public security), not to the community; any task it gives a community department later
// appears here by itself.
//
// A visit closes the task (done, with the result) and every other open field task of the same person in
// the area, and is evidence for the engines:
//   seen      — a certification row (certifications: method `field_visit`, result `pass`, dated the visit
//               day, entered_by = the staff user, no file): docs/rules.md rule 4, "an explicit certification
//               certifies by that method". The next certify run certifies the person with method
//               field_visit. (Not an evidence row community_visit/GRID_SYSTEM: that kind is strong
//               evidence and certifies as `silent` — the grid system's own records arrive that way.)
//               A report_in task marks the person reported in.
//   not_found — recorded with the reason and a note; the person stays uncertified, and rule 5 (suspension
//               60 days after expiry) runs its course.
//   deceased  — opens the after_death case as `reported` (as a family's report does) with a follow-up
//               task for the auditors (review_field_visit); a department death record confirms it.
// Every list and every view of a person's data is audit-logged (core/audit.ts).
import { withTransaction, type Pool, type PoolClient, type Queryable } from '../db/pool.ts';
import { audit, type Actor } from '../audit.ts';
import { HttpError } from '../errors.ts';
import type { StaffUser } from '../accounts.ts';
import { checkFreeText } from '../domain/free-text.ts';
import { maskIdNumber } from '../domain/masking.ts';
import { shanghaiIso, todayShanghai } from '../time.ts';
import { isDate, openReportedDeathCase } from './death-reports.ts';

/** The departments whose tasks community staff work on. */
export const FIELD_DEPARTMENTS = ['community', 'community_grid'] as const;
/** The auditors' follow-up of a visit (the workbench's queue). */
export const FOLLOW_UP_KIND = 'review_field_visit';
export const NOT_FOUND_REASONS = ['moved', 'unknown', 'hospital', 'nursing_home'] as const;
export type NotFoundReason = (typeof NOT_FOUND_REASONS)[number];
/** A visit is recorded soon after it happens: at most this many days back. */
export const MAX_DAYS_BACK = 30;
/** The auditors' follow-up of a person seen alive after a death report is due in this many days. */
export const FOLLOW_UP_DUE_DAYS = 14;

export interface FieldArea {
  code: string;
  name: string;
  level: 'town' | 'community';
  path: string;
}

/** Overdue = due before today (Asia/Shanghai). A town's staff see their communities' overdue tasks as escalated. */
export function isOverdue(dueOn: string | null, today: string = todayShanghai()): boolean {
  return dueOn !== null && dueOn < today;
}

/** The caller's area, or 403 when the account is not a community's or a town's staff. */
export async function fieldArea(db: Queryable, user: StaffUser | null | undefined): Promise<FieldArea> {
  if (!user) throw new HttpError(401, 'sign in first', 'unauthenticated');
  if (user.role !== 'staff')
    throw new HttpError(
      403,
      '实地核实任务只对社区和乡镇（街道）工作人员开放 Field tasks are for community and town staff',
      'not_field_staff'
    );
  const r = await db.query(`SELECT code, name, level, path FROM region_paths WHERE code = $1`, [user.region_code]);
  const area = r.rows[0];
  if (!area || (area.level !== 'town' && area.level !== 'community'))
    throw new HttpError(
      403,
      '实地核实任务只对社区和乡镇（街道）工作人员开放 Field tasks are for community and town staff',
      'not_field_staff'
    );
  return area;
}

export interface CertSummary {
  status: 'certified' | 'not_certified' | 'negative';
  rule: string;
  method: string | null;
  certified_at: string | null;
  valid_until: string | null;
  last_certified_at: string | null;
  last_valid_until: string | null;
}
export interface FieldTask {
  task_id: number;
  kind: string;
  department: string;
  region_code: string;
  community_name: string;
  town_name: string | null;
  due_on: string | null;
  created_on: string;
  overdue: boolean;
  /** Overdue, seen by the town's staff. */
  escalated: boolean;
  /** What the task says about why (certify: reason, rule, lapsed_on; report_in: basis, retired_on; death report: relation, death_date). */
  detail: Record<string, unknown>;
  name: string;
  id_masked: string;
  sex: 'M' | 'F';
  age: number | null;
  cert: CertSummary | null;
  last_evidence: { date: string; kind: string; source: string } | null;
  enrollments: { scheme_code: string; status: string; monthly_amount: string; start_period: string }[];
  case_status: string | null;
}
export interface FieldTaskDetail extends FieldTask {
  phone: string | null;
  residence: string | null;
  residence_outside: string | null;
  hukou: string | null;
  visits: { visited_on: string; outcome: string; recorded_by: string }[];
}

const TASK_SELECT = `
  SELECT t.task_id, t.kind, t.department, t.region_code, rp.name AS community_name, rp.town_name,
         to_char(t.due_on, 'YYYY-MM-DD') AS due_on, to_char(t.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS created_on,
         t.detail, p.name, t.id_number, p.sex, to_char(p.birth_date, 'YYYY-MM-DD') AS birth_date,
         CASE WHEN cs.id_number IS NULL THEN NULL ELSE jsonb_build_object(
           'status', cs.status, 'rule', cs.rule, 'method', cs.method,
           'certified_at', to_char(cs.certified_at, 'YYYY-MM-DD'), 'valid_until', to_char(cs.valid_until, 'YYYY-MM-DD'),
           'last_certified_at', to_char(cs.last_certified_at, 'YYYY-MM-DD'), 'last_valid_until', to_char(cs.last_valid_until, 'YYYY-MM-DD')) END AS cert,
         ev.last_evidence, en.enrollments, ca.status AS case_status
    FROM tasks t
    JOIN region_paths rp ON rp.code = t.region_code
    LEFT JOIN persons p ON p.id_number = t.id_number
    LEFT JOIN cert_status cs ON cs.id_number = t.id_number
    LEFT JOIN cases ca ON ca.case_id = t.case_id
    LEFT JOIN LATERAL (
      SELECT jsonb_build_object('date', to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), 'kind', e.kind, 'source', e.source) AS last_evidence
        FROM evidence e WHERE e.id_number = t.id_number ORDER BY e.occurred_at DESC LIMIT 1) ev ON true
    LEFT JOIN LATERAL (
      SELECT COALESCE(jsonb_agg(jsonb_build_object('scheme_code', e.scheme_code, 'status', e.status, 'monthly_amount', e.monthly_amount::text,
                                                   'start_period', to_char(e.start_period, 'YYYY-MM')) ORDER BY e.start_period, e.enrollment_id), '[]') AS enrollments
        FROM enrollments e WHERE e.id_number = t.id_number AND e.status <> 'terminated') en ON true`;

function ageOn(birth: string | null, today: string): number | null {
  if (!birth) return null;
  const a = Number(today.slice(0, 4)) - Number(birth.slice(0, 4));
  return today.slice(5) < birth.slice(5) ? a - 1 : a;
}

function toTask(row: Record<string, unknown>, area: FieldArea, today: string): FieldTask {
  const due = (row.due_on as string | null) ?? null;
  const overdue = isOverdue(due, today);
  return {
    task_id: Number(row.task_id),
    kind: row.kind as string,
    department: row.department as string,
    region_code: row.region_code as string,
    community_name: row.community_name as string,
    town_name: (row.town_name as string | null) ?? null,
    due_on: due,
    created_on: row.created_on as string,
    overdue,
    escalated: overdue && area.level === 'town',
    detail: (row.detail as Record<string, unknown>) ?? {},
    name: (row.name as string | null) ?? '（不在登记册中 not in the registry）',
    id_masked: maskIdNumber(row.id_number as string),
    sex: row.sex as 'M' | 'F',
    age: ageOn((row.birth_date as string | null) ?? null, today),
    cert: (row.cert as CertSummary | null) ?? null,
    last_evidence: (row.last_evidence as FieldTask['last_evidence']) ?? null,
    enrollments: (row.enrollments as FieldTask['enrollments']) ?? [],
    case_status: (row.case_status as string | null) ?? null
  };
}

const actorOf = (user: StaffUser, ip?: string): Actor => ({ type: 'staff', name: user.username, ip });

/**
 * The open field tasks of the caller's area, earliest due first (no due date last). Names are shown
 * (the staff must know whom to visit); ID numbers masked; phone and address only on the task's page.
 * The view is audit-logged with the task ids it showed.
 */
export async function listFieldTasks(
  pool: Pool,
  user: StaffUser,
  opts: { ip?: string; today?: string } = {}
): Promise<{ area: FieldArea; today: string; tasks: FieldTask[] }> {
  const area = await fieldArea(pool, user);
  const today = opts.today ?? todayShanghai();
  const r = await pool.query(
    `${TASK_SELECT}
     WHERE t.status = 'open' AND t.department = ANY($1) AND starts_with(rp.path, $2)
     ORDER BY t.due_on NULLS LAST, t.task_id`,
    [FIELD_DEPARTMENTS, area.path]
  );
  const tasks = r.rows.map((row) => toTask(row, area, today));
  await audit(pool, actorOf(user, opts.ip), 'field.list', area.code, {
    tasks: tasks.length,
    task_ids: tasks.map((t) => t.task_id),
    overdue: tasks.filter((t) => t.overdue).length
  });
  return { area, today, tasks };
}

/** One task in the caller's area, locked when `lock` (inside a transaction); 404 otherwise. */
async function taskInArea(db: Queryable, area: FieldArea, taskId: number, lock = false) {
  if (!Number.isSafeInteger(taskId) || taskId <= 0) throw new HttpError(404, 'no such task in your area', 'unknown_task');
  const r = await db.query(
    `SELECT t.task_id, t.kind, t.status, t.id_number, t.region_code, t.case_id, t.detail
       FROM tasks t JOIN region_paths rp ON rp.code = t.region_code
      WHERE t.task_id = $1 AND t.department = ANY($2) AND starts_with(rp.path, $3)
      ${lock ? 'FOR UPDATE OF t' : ''}`,
    [taskId, FIELD_DEPARTMENTS, area.path]
  );
  if (!r.rows.length) throw new HttpError(404, 'no such task in your area', 'unknown_task');
  return r.rows[0] as { task_id: string; kind: string; status: string; id_number: string; region_code: string; case_id: string | null };
}

/**
 * A task of the caller's area with what the visit needs: phone, residence and hukou address, earlier
 * visits. Every view is audit-logged (field.view_person, subject = the person's ID number). A closed
 * task is still shown (its result), an unknown one or one outside the area is 404.
 */
export async function fieldTask(
  pool: Pool,
  user: StaffUser,
  taskId: number,
  opts: { ip?: string; today?: string } = {}
): Promise<{ area: FieldArea; today: string; task: FieldTaskDetail; status: string; result: Record<string, unknown> | null }> {
  const area = await fieldArea(pool, user);
  const today = opts.today ?? todayShanghai();
  await taskInArea(pool, area, taskId);
  const r = await pool.query(
    `SELECT x.*, t.status, t.result, p.phone, p.residence_outside,
            (SELECT concat_ws(' · ', r.town_name, r.name) FROM region_paths r WHERE r.code = p.residence_region) AS residence,
            (SELECT concat_ws(' · ', r.town_name, r.name) FROM region_paths r WHERE r.code = p.hukou_region) AS hukou,
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('visited_on', to_char(v.visited_on, 'YYYY-MM-DD'), 'outcome', v.outcome,
                                                          'recorded_by', v.recorded_by) ORDER BY v.visited_on DESC, v.visit_id DESC), '[]')
               FROM field_visits v WHERE v.id_number = t.id_number) AS visits
       FROM (${TASK_SELECT} WHERE t.task_id = $1) x
       JOIN tasks t ON t.task_id = x.task_id
       LEFT JOIN persons p ON p.id_number = t.id_number`,
    [taskId]
  );
  const row = r.rows[0];
  const task: FieldTaskDetail = {
    ...toTask(row, area, today),
    phone: row.phone ?? null,
    residence: row.residence || null,
    residence_outside: row.residence_outside ?? null,
    hukou: row.hukou || null,
    visits: row.visits
  };
  await audit(pool, actorOf(user, opts.ip), 'field.view_person', row.id_number, {
    task_id: task.task_id,
    shown: ['name', 'phone', 'residence', 'hukou', 'certification', 'enrollments']
  });
  return { area, today, task, status: row.status, result: row.result ?? null };
}

export type VisitInput =
  | { outcome: 'seen'; visited_on: string; place: string; note?: string | null }
  | { outcome: 'not_found'; visited_on: string; reason: string; note: string }
  | { outcome: 'deceased'; visited_on: string; death_date: string; note?: string | null };

export interface VisitResult {
  visit_id: number;
  task_id: number;
  outcome: VisitInput['outcome'];
  /** Other open field tasks of the same person in the area that this visit closed too. */
  also_closed: number[];
  certification_id?: string;
  case_id?: number;
  case_created?: boolean;
}

const bad = (message: string, code: string, field: string) => Object.assign(new HttpError(400, message, code), { field });

/** Validate a visit; the HttpError carries `field`, the form field to point at. */
export function checkVisit(input: VisitInput, today: string = todayShanghai()): void {
  const earliest = new Date(Date.parse(today + 'T00:00:00Z') - MAX_DAYS_BACK * 86400_000).toISOString().slice(0, 10);
  if (!isDate(input.visited_on)) throw bad('请填写走访日期 Enter the date of the visit (YYYY-MM-DD)', 'invalid_date', 'visited_on');
  if (input.visited_on > today) throw bad('走访日期不能晚于今天 The visit date cannot be in the future', 'future_date', 'visited_on');
  if (input.visited_on < earliest)
    throw bad(`走访须在 ${MAX_DAYS_BACK} 天内登记 Record a visit within ${MAX_DAYS_BACK} days`, 'date_too_old', 'visited_on');
  const text = (field: string, value: string | null | undefined, max: number, required: string | null) => {
    const v = value?.trim() ?? '';
    if (!v && required) throw bad(required, `missing_${field}`, field);
    if (v.length > max) throw bad(`最多 ${max} 个字 At most ${max} characters`, `too_long_${field}`, field);
    const c = checkFreeText(v);
    if (!c.ok) throw bad(c.message!, `${field}_has_${c.problem}`, field);
  };
  text('note', input.note, 500, input.outcome === 'not_found' ? '请写明情况 Add a note saying what you found' : null);
  if (input.outcome === 'seen') text('place', input.place, 200, '请填写在哪里见到本人 Enter where you saw the person');
  else if (input.outcome === 'not_found') {
    if (!(NOT_FOUND_REASONS as readonly string[]).includes(input.reason))
      throw bad('请选择未找到的原因 Choose why the person was not found', 'invalid_reason', 'reason');
  } else if (input.outcome === 'deceased') {
    if (!isDate(input.death_date)) throw bad('请填写去世日期 Enter the date of death (YYYY-MM-DD)', 'invalid_date', 'death_date');
    if (input.death_date > input.visited_on)
      throw bad('去世日期不能晚于走访日期 The date of death cannot be after the visit', 'death_after_visit', 'death_date');
    if (input.death_date < '1900-01-01') throw bad('去世日期不对 The date of death is not plausible', 'invalid_date', 'death_date');
  } else throw bad('unknown outcome', 'invalid_outcome', 'outcome');
}

/**
 * Record a visit on a task of the caller's area and close it (see the header for what each outcome
 * writes). One transaction: the task is locked, must be open (409 when another visit closed it first),
 * and must lie in the caller's area (404). Audit-logged as field.visit.
 */
export async function recordVisit(
  pool: Pool,
  user: StaffUser,
  taskId: number,
  input: VisitInput,
  opts: { ip?: string; via?: string } = {}
): Promise<VisitResult> {
  const area = await fieldArea(pool, user);
  const today = todayShanghai();
  checkVisit(input, today);
  const note = input.note?.trim() || null;
  return withTransaction(pool, async (c) => {
    const task = await taskInArea(c, area, taskId, true);
    if (task.status !== 'open') throw new HttpError(409, '这项任务已经办结 This task is closed already', 'task_closed');
    const id = task.id_number;
    let caseId: number | null = null;
    let caseCreated: boolean | undefined;
    if (input.outcome === 'deceased') {
      const opened = await openReportedDeathCase(
        c,
        id,
        input.death_date,
        {
          reporter: user.username,
          relation: 'community_staff',
          death_date: input.death_date,
          via: 'field_visit',
          field_task_id: Number(task.task_id),
          reported_at: shanghaiIso(new Date())
        },
        {
          kind: FOLLOW_UP_KIND,
          department: 'audit',
          detail: { why: 'found_deceased', field_task_id: Number(task.task_id) },
          createdBy: 'field-visit'
        }
      ).catch((e) => {
        if (e instanceof HttpError && e.code === 'unknown_person')
          throw new HttpError(409, '此人不在登记册中，无法登记去世 The person is not in the registry', 'unknown_person');
        throw e;
      });
      caseId = opened.case_id;
      caseCreated = opened.created;
    }
    const visitId = Number((await c.query(`SELECT nextval('field_visits_visit_id_seq') AS id`)).rows[0].id);
    const certificationId = input.outcome === 'seen' ? `yinling-visit-${visitId}` : null;
    await c.query(
      `INSERT INTO field_visits (visit_id, task_id, id_number, region_code, outcome, visited_on, place, not_found_reason, death_date, note,
                                 recorded_by, certification_id, case_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        visitId,
        task.task_id,
        id,
        task.region_code,
        input.outcome,
        input.visited_on,
        input.outcome === 'seen' ? input.place.trim() : null,
        input.outcome === 'not_found' ? input.reason : null,
        input.outcome === 'deceased' ? input.death_date : null,
        note,
        user.username,
        certificationId,
        caseId
      ]
    );
    if (certificationId) {
      // An explicit certification by field visit, entered in Yinling (no feed file): docs/rules.md rule 4.
      await c.query(
        `INSERT INTO certifications (certification_id, id_number, method, certified_at, result, operator, entered_by)
         VALUES ($1, $2, 'field_visit', ($3::date + time '12:00') AT TIME ZONE 'Asia/Shanghai', 'pass', $4, $4)`,
        [certificationId, id, input.visited_on, user.username]
      );
    }
    const result = {
      by: 'field_visit',
      visit_id: visitId,
      outcome: input.outcome,
      visited_on: input.visited_on,
      recorded_by: user.username,
      ...(input.outcome === 'not_found' ? { reason: input.reason } : {}),
      ...(input.outcome === 'deceased' ? { death_date: input.death_date, case_id: caseId } : {}),
      ...(certificationId ? { certification_id: certificationId } : {})
    };
    // This task and the person's other open field tasks in the area: one visit answers them all.
    const closed = await c.query(
      `UPDATE tasks t SET status = 'done', done_at = now(),
              result = $3::jsonb || CASE WHEN t.task_id = $1 THEN '{}'::jsonb ELSE jsonb_build_object('via_task', $1::bigint) END
         FROM region_paths rp
        WHERE rp.code = t.region_code AND t.status = 'open' AND t.department = ANY($4) AND starts_with(rp.path, $5)
          AND (t.task_id = $1 OR t.id_number = $2)
       RETURNING t.task_id, t.kind, t.detail`,
      [task.task_id, id, JSON.stringify(result), FIELD_DEPARTMENTS, area.path]
    );
    if (input.outcome === 'seen') {
      const assignments = closed.rows.filter((t) => t.kind === 'report_in' && t.detail?.assignment_id).map((t) => t.detail.assignment_id);
      if (assignments.length)
        await c.query(
          `UPDATE community_assignments SET reported_in_at = now() WHERE assignment_id = ANY($1::bigint[]) AND reported_in_at IS NULL`,
          [assignments]
        );
      // Seen alive although the family reported a death: the auditors look into it.
      if (closed.rows.some((t) => t.kind === 'verify_death_report')) await followUp(c, task, id, 'alive_despite_death_report', visitId);
    }
    await audit(c, actorOf(user, opts.ip), 'field.visit', id, {
      task_id: Number(task.task_id),
      visit_id: visitId,
      outcome: input.outcome,
      closed: closed.rows.map((t) => Number(t.task_id)),
      ...(certificationId ? { certification_id: certificationId } : {}),
      ...(caseId ? { case_id: caseId, case_created: caseCreated } : {}),
      ...(opts.via ? { via: opts.via } : {})
    });
    return {
      visit_id: visitId,
      task_id: Number(task.task_id),
      outcome: input.outcome,
      also_closed: closed.rows.map((t) => Number(t.task_id)).filter((t) => t !== Number(task.task_id)),
      ...(certificationId ? { certification_id: certificationId } : {}),
      ...(caseId ? { case_id: caseId, case_created: caseCreated } : {})
    };
  });
}

async function followUp(
  c: PoolClient,
  task: { task_id: string; region_code: string; case_id: string | null },
  id: string,
  why: string,
  visitId: number
) {
  await c.query(
    `INSERT INTO tasks (kind, id_number, region_code, department, case_id, status, due_on, dedup_key, detail, created_by)
     VALUES ($1, $2, $3, 'audit', $4, 'open', $5::date + $8::int, $6, $7, 'field-visit')
     ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING`,
    [
      FOLLOW_UP_KIND,
      id,
      task.region_code,
      task.case_id,
      todayShanghai(),
      'visit:' + visitId,
      JSON.stringify({ why, field_task_id: Number(task.task_id), visit_id: visitId }),
      FOLLOW_UP_DUE_DAYS
    ]
  );
}

/** A staff account by name (the CLI records visits on a staff member's behalf). */
export async function staffByName(db: Queryable, username: string): Promise<StaffUser> {
  const r = await db.query(`SELECT user_id, username, display_name, role, region_code, disabled FROM staff_users WHERE username = $1`, [
    username
  ]);
  if (!r.rows.length || r.rows[0].disabled) throw new HttpError(404, `no active staff account ${username}`, 'unknown_user');
  return { ...r.rows[0], user_id: Number(r.rows[0].user_id) };
}
