// The auditors' workbench: the one service layer for every write to an alert (issue 15), called by the
// web app and the CLI alike. Each function checks, in order: the actor is a workbench user (auditor or
// admin, read from staff_users — a role claimed by a form is not trusted), the alert is in the actor's
// area, the version the actor saw is still current (optimistic locking: "changed by X at T — reload"),
// the step is one the catalogue allows (core/reference/alert-lifecycle.json; the database refuses the
// rest too, migrations 0021/0025), free text carries no ID or phone number. Then it writes the alert,
// its event (alert_transitions: who, role, before/after, reason, rule version and job runs behind the
// alert) and the hash-chained audit log, in one transaction.
//
// Four eyes (the catalogue's four_eyes transitions: approve, write_off, waive, restore): a maker's
// proposal freezes the alert's facts; a different person approves it. `propose` moves an open alert
// to `proposed`; `approve`/`reject` are the checker's answer. write_off / waive / restore called on an
// alert without a pending proposal record one (result `pending: true`); called by someone else on an
// alert with one, they approve and apply it. The database refuses self-approval and a four-eyes status
// change without an approved proposal (migration 0025) whatever calls it.
import { withTransaction, type Pool, type PoolClient, type Queryable } from '../db/pool.ts';
import { audit, auditWith } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { refusePersonalData } from '../domain/free-text.ts';
import { alertDispositions, alertTransitions } from '../reference/index.ts';
import { todayShanghai } from '../time.ts';

/** Who acts: a staff user name and the role the caller believes they have (checked against staff_users). */
export interface WorkbenchActor {
  user: string;
  role: string;
  ip?: string;
}

export const WORKBENCH_ROLES = ['auditor', 'admin'] as const;

/** The actions a person may take (the catalogue's transitions but the engines' system_close) and assign. */
export type AlertAction =
  | 'acknowledge'
  | 'investigate'
  | 'await_resident'
  | 'await_agency'
  | 'resume'
  | 'propose'
  | 'reject'
  | 'approve'
  | 'take_action'
  | 'start_recovery'
  | 'recover'
  | 'write_off'
  | 'waive'
  | 'restore'
  | 'close'
  | 'reopen';
export const ALERT_ACTIONS: readonly AlertAction[] = alertTransitions
  .map((t) => t.action)
  .filter((a) => a !== 'system_close') as AlertAction[];

/** What a maker proposes with `propose`: suspend or stop the benefit (a payment hold), recover money, or nothing. */
export type ProposedAction = 'suspend' | 'stop' | 'recovery' | 'no_action';
export const PROPOSED_ACTIONS: readonly ProposedAction[] = ['suspend', 'stop', 'recovery', 'no_action'];

export interface TransitionInput {
  alertId: number;
  action: AlertAction;
  actor: WorkbenchActor;
  /** The alert's version the actor saw; a different current version is refused (409). */
  expectedVersion: number;
  /** Why (required for propose, reject, write_off, waive, restore, reopen). */
  reason?: string;
  note?: string;
  /** A code of the disposition catalogue: required to close (unless the alert has one) and to propose. */
  disposition?: string;
  /** Improper with money lost: was it intentional? */
  intentional?: boolean;
  /** close with disposition `duplicate`: the primary alert. */
  duplicateOf?: number;
  /** propose: what should happen. Default `recovery` for an improper_loss disposition, else `no_action`. */
  proposedAction?: ProposedAction;
  /** propose: the amount due (default the alert's amount at risk, for an improper_loss disposition). */
  amountDue?: string;
  /** propose suspend/stop: the first period held, 'YYYY-MM' (default next month) and the schemes (default those paid). */
  holdFrom?: string;
  holdSchemes?: string[];
  /** restore: the last period the back pay covers, 'YYYY-MM' (default this month). */
  restoreThrough?: string;
}

export interface TransitionResult {
  alertId: number;
  action: AlertAction | 'assign';
  status: string;
  version: number;
  /** A four-eyes step recorded as a proposal waiting for a second person (the alert did not move). */
  pending: boolean;
  proposalId?: number;
  holdId?: number;
  restorationId?: number;
  backPay?: string;
}

interface AlertRow {
  alert_id: number;
  rule: string;
  id_number: string;
  dedup_key: string;
  status: string;
  version: number;
  updated_by: string | null;
  updated_at: Date;
  amount_at_risk: string;
  amount_due: string | null;
  periods: string[];
  evidence: Record<string, unknown>;
  detail: Record<string, unknown>;
  disposition: string | null;
  disposition_intentional: boolean | null;
  duplicate_of: number | null;
  assignee: string | null;
  region_code: string | null;
  run_id: number | null;
  last_seen_run: number | null;
  closed_at: Date | null;
}

const LATER_PROPOSALS: Record<string, 'written_off' | 'waived' | 'restored'> = {
  write_off: 'written_off',
  waive: 'waived',
  restore: 'restored'
};
const TERMINAL = new Set(['recovered', 'written_off', 'waived', 'closed']);
const dispositionOf = (code: string) => alertDispositions.find((d) => d.code === code);
const shanghai = (d: Date) => d.toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' }).slice(0, 16);

// ── checks ──────────────────────────────────────────────────────────────────────────────────────

/**
 * The actor as staff_users knows them: an enabled auditor or admin, else 403. The role the caller
 * passed must be the stored one (a form cannot claim a role). Returns the user's region.
 */
export async function requireWorkbenchUser(db: Queryable, actor: WorkbenchActor): Promise<{ user: string; role: string; region: string }> {
  checkRoleClaim(actor);
  const r = await db.query(`SELECT role, region_code, disabled FROM staff_users WHERE username = $1`, [actor.user]);
  return checkUser(actor, r.rows[0]);
}

function checkRoleClaim(actor: WorkbenchActor): void {
  if (!(WORKBENCH_ROLES as readonly string[]).includes(actor?.role))
    throw new HttpError(
      403,
      `the workbench is for auditors and admins; role ${actor?.role ?? 'none'} may not change alerts`,
      'forbidden_role'
    );
}

function checkUser(
  actor: WorkbenchActor,
  u: { role: string; region_code: string; disabled: boolean } | undefined
): { user: string; role: string; region: string } {
  if (!u || u.disabled) throw new HttpError(403, `no enabled staff account ${actor.user}`, 'forbidden_user');
  if (u.role !== actor.role || !(WORKBENCH_ROLES as readonly string[]).includes(u.role))
    throw new HttpError(403, `${actor.user} is ${u.role}, not ${actor.role}: only auditors and admins may change alerts`, 'forbidden_role');
  return { user: actor.user, role: u.role, region: u.region_code };
}

// The alert lies in the area of the user whose region code is `region` (a city-level user sees all).
const IN_AREA = (region: string) => `(NOT EXISTS (SELECT 1 FROM region_paths ru WHERE ru.code = ${region} AND ru.level <> 'city')
             OR EXISTS (SELECT 1 FROM region_paths rp JOIN region_paths ru ON ru.code = ${region}
                         WHERE rp.code = a.region_code AND rp.path LIKE ru.path || '%'))`;

const alertRow = (a: Record<string, unknown>): AlertRow =>
  ({
    ...a,
    alert_id: Number(a.alert_id),
    run_id: a.run_id && Number(a.run_id),
    last_seen_run: a.last_seen_run && Number(a.last_seen_run)
  }) as AlertRow;

/**
 * requireWorkbenchUser, then `between` (the caller's own checks), then lockAlert — the same checks in
 * the same order, with the user and the locked alert read in one round trip (a transition's latency
 * is mostly its round trips).
 */
async function userAndAlert(
  c: Queryable,
  actor: WorkbenchActor,
  alertId: number,
  between: () => void
): Promise<{ who: { user: string; role: string; region: string }; a: AlertRow }> {
  if (!Number.isSafeInteger(alertId) || alertId <= 0) {
    const who = await requireWorkbenchUser(c, actor);
    between();
    return { who, a: await lockAlert(c, alertId, who.region) };
  }
  checkRoleClaim(actor);
  const r = await c.query(
    `SELECT u.role AS "user.role", u.region_code AS "user.region_code", u.disabled AS "user.disabled", x.*
       FROM staff_users u
       LEFT JOIN LATERAL (SELECT a.* FROM alerts a WHERE a.alert_id = $2 AND ${IN_AREA('u.region_code')} FOR UPDATE OF a) x ON true
      WHERE u.username = $1`,
    [actor.user, alertId]
  );
  const row = r.rows[0];
  const who = checkUser(actor, row && { role: row['user.role'], region_code: row['user.region_code'], disabled: row['user.disabled'] });
  between();
  if (row.alert_id === null) throw new HttpError(404, `no alert ${alertId} in your area`, 'unknown_alert');
  delete row['user.role'];
  delete row['user.region_code'];
  delete row['user.disabled'];
  return { who, a: alertRow(row) };
}

/** The alert, locked for this transaction, if it lies in the user's area (else 404, not telling it exists). */
async function lockAlert(c: Queryable, alertId: number, region: string): Promise<AlertRow> {
  if (!Number.isSafeInteger(alertId) || alertId <= 0) throw new HttpError(400, `not an alert id: ${alertId}`, 'invalid_alert_id');
  const r = await c.query(`SELECT a.* FROM alerts a WHERE a.alert_id = $1 AND ${IN_AREA('$2')} FOR UPDATE OF a`, [alertId, region]);
  if (!r.rows.length) throw new HttpError(404, `no alert ${alertId} in your area`, 'unknown_alert');
  return alertRow(r.rows[0]);
}

/** Optimistic locking: the version the actor saw must be the current one, else 409 "changed by X at T — reload". */
export function checkVersion(
  a: { alert_id: number | string; version: number; updated_by: string | null; updated_at: Date | string },
  expected: number | undefined
): void {
  if (expected === undefined || expected === null || !Number.isInteger(Number(expected)))
    throw new HttpError(400, 'expectedVersion is required (the version of the alert you saw)', 'missing_version');
  if (Number(expected) !== a.version)
    throw new HttpError(
      409,
      `alert ${a.alert_id} was changed by ${a.updated_by ?? 'the system'} at ${shanghai(new Date(a.updated_at))} — reload (version ${a.version}, you saw ${expected})`,
      'stale_version'
    );
}

function checkText(...texts: (string | undefined | null)[]): void {
  for (const t of texts) refusePersonalData(t);
}

function need(value: string | undefined, what: string): string {
  if (!value?.trim()) throw new HttpError(400, `${what} is required`, 'missing_' + what.replace(/\W+/g, '_'));
  return value.trim();
}

function money(value: string | number | undefined, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const s = String(value).trim();
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(s)) throw new HttpError(400, `${what} must be an amount like 1234.56, got "${s}"`, 'invalid_amount');
  return s;
}

function month(value: string | undefined, what: string): string | undefined {
  if (!value) return undefined;
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new HttpError(400, `${what} must be a month YYYY-MM, got "${value}"`, 'invalid_month');
  return `${value}-01`;
}

function nextMonth(): string {
  const [y, m] = todayShanghai().split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

function allowed(from: string, action: string): { to: string; four_eyes: boolean } | null {
  const t = alertTransitions.find((x) => x.action === action && x.from.includes(from));
  return t ? { to: t.to, four_eyes: t.four_eyes } : null;
}

// ── events ──────────────────────────────────────────────────────────────────────────────────────

const TRACKED: (keyof AlertRow)[] = [
  'status',
  'disposition',
  'disposition_intentional',
  'duplicate_of',
  'assignee',
  'amount_due',
  'closed_at'
];

/** Write the alert's event and the audit log entry for one action (after the alert row was updated). */
async function recordEvent(
  c: Queryable,
  before: AlertRow,
  after: AlertRow,
  e: { action: string; actor: WorkbenchActor; role: string; reason?: string | null; note?: string | null; extra?: Record<string, unknown> }
): Promise<void> {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const k of TRACKED) {
    const b = before[k] instanceof Date ? (before[k] as Date).toISOString() : (before[k] ?? null);
    const a = after[k] instanceof Date ? (after[k] as Date).toISOString() : (after[k] ?? null);
    if (String(b) !== String(a)) changes[k] = [b, a];
  }
  const runIds = [...new Set([before.run_id, before.last_seen_run].filter((x): x is number => x !== null && x !== undefined))];
  // the rule configuration of the newest run behind the alert, looked up in the same statement; the
  // event and its audit entry written by one statement
  await auditWith(
    c,
    {
      sql: `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, actor_role, reason, action, changes, run_ids, rules_hash, note)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                    (SELECT counts->>'rules_hash' FROM job_runs WHERE run_id = ANY($9::bigint[]) ORDER BY run_id DESC LIMIT 1), $10)
            RETURNING rules_hash`,
      values: [
        before.alert_id,
        before.status,
        after.status,
        e.actor.user,
        e.role,
        e.reason ?? null,
        e.action,
        JSON.stringify(changes),
        runIds,
        e.note ?? null
      ],
      merge: ['rules_hash']
    },
    { type: 'staff', name: e.actor.user, ip: e.actor.ip },
    `alert.${e.action}`,
    String(before.alert_id),
    {
      role: e.role,
      rule: before.rule,
      from: before.status,
      to: after.status,
      version: after.version,
      changes,
      reason: e.reason ?? null,
      note: e.note ?? null,
      run_ids: runIds,
      ...(e.extra ?? {})
    }
  );
}

async function update(c: Queryable, a: AlertRow, user: string, set: Record<string, unknown>): Promise<AlertRow> {
  const cols = Object.keys(set);
  const r = await c.query(
    `UPDATE alerts SET ${cols.map((k, i) => `${k} = $${i + 3}`).join(', ')}, updated_at = now(), updated_by = $2
      WHERE alert_id = $1 RETURNING *`,
    [a.alert_id, user, ...cols.map((k) => set[k])]
  );
  const x = r.rows[0];
  return {
    ...x,
    alert_id: Number(x.alert_id),
    run_id: x.run_id && Number(x.run_id),
    last_seen_run: x.last_seen_run && Number(x.last_seen_run)
  };
}

/** The alert's facts a checker compares with today's (the evidence diff of a proposal). */
function snapshotOf(a: AlertRow): Record<string, unknown> {
  return {
    rule: a.rule,
    status: a.status,
    version: a.version,
    amount_at_risk: a.amount_at_risk,
    periods: a.periods,
    evidence: a.evidence,
    detail: a.detail,
    run_id: a.run_id,
    last_seen_run: a.last_seen_run
  };
}

/** Whether the alert's basis rests on more than one single unconfirmed source (a hold may then stop, not only suspend). */
async function sourceConfirmed(c: Queryable, a: AlertRow): Promise<boolean> {
  if (a.rule === 'paid_in_custody') return true; // a court custody record is an official record
  if (a.rule === 'paid_after_death' || a.rule === 'post_death_activity') {
    const r = await c.query(`SELECT count(DISTINCT source)::int AS n FROM deaths WHERE id_number = $1`, [a.id_number]);
    return r.rows[0].n >= 2;
  }
  if (a.rule === 'hold_not_honoured') {
    const r = await c.query(`SELECT bool_or(source_confirmed) AS c FROM payment_holds WHERE hold_id = ANY($1::bigint[])`, [
      ((a.evidence as { hold_ids?: number[] }).hold_ids ?? []).map(Number)
    ]);
    return r.rows[0].c === true;
  }
  return false;
}

// ── transitions ─────────────────────────────────────────────────────────────────────────────────

/** One action on one alert (see the module comment). */
export async function transitionAlert(db: Pool, input: TransitionInput): Promise<TransitionResult> {
  return withTransaction(db, (c) => transitionIn(c, input));
}

/** transitionAlert inside a caller's transaction. */
export async function transitionIn(c: PoolClient, input: TransitionInput): Promise<TransitionResult> {
  const action = input.action;
  const { who, a } = await userAndAlert(c, input.actor, input.alertId, () => {
    if (!(ALERT_ACTIONS as readonly string[]).includes(action))
      throw new HttpError(400, `unknown action ${action}: one of ${ALERT_ACTIONS.join(', ')}`, 'unknown_action');
    checkText(input.reason, input.note);
  });
  checkVersion(a, input.expectedVersion);
  const ctx = { c, a, input, who };
  if (action === 'propose') return propose(ctx);
  if (action === 'approve' || action === 'reject') return decide(ctx);
  if (LATER_PROPOSALS[action]) return laterFourEyes(ctx);
  const step = allowed(a.status, action);
  if (!step) throw new HttpError(409, `alert ${a.alert_id} is ${a.status}: ${action} is not allowed from there`, 'transition_not_allowed');
  const set: Record<string, unknown> = { status: step.to };
  if (action === 'close') {
    let code = input.disposition ?? a.disposition ?? undefined;
    if (!code) throw new HttpError(400, 'closing needs a disposition from the catalogue', 'missing_disposition');
    if (
      input.disposition &&
      a.disposition &&
      input.disposition !== a.disposition &&
      !['new', 'acknowledged', 'investigating', 'awaiting_resident', 'awaiting_agency'].includes(a.status)
    )
      throw new HttpError(
        409,
        `alert ${a.alert_id} was decided as ${a.disposition}; close it with that disposition`,
        'disposition_decided'
      );
    code = code.trim();
    const d = dispositionOf(code);
    if (!d) throw new HttpError(400, `unknown disposition ${code}`, 'unknown_disposition');
    if (d.system_only) throw new HttpError(400, `the disposition ${code} is set by the engines, not by people`, 'system_disposition');
    if (d.group === 'improper_loss' && !a.disposition)
      throw new HttpError(
        409,
        `an improper disposition with money lost (${code}) needs a proposal and a checker: propose it`,
        'needs_four_eyes'
      );
    if (d.review_days && a.disposition !== code)
      throw new HttpError(
        409,
        `${code} needs a re-review within ${d.review_days} days and a checker: propose it, a second auditor approves it`,
        'needs_four_eyes'
      );
    if (a.rule === 'reported_death') await checkReportedDeathClose(c, a, d.group);
    set.disposition = code;
    if (input.intentional !== undefined) set.disposition_intentional = input.intentional;
    if (code === 'duplicate') {
      const dup = Number(input.duplicateOf);
      if (!Number.isSafeInteger(dup) || dup <= 0)
        throw new HttpError(400, 'a duplicate names its primary alert (duplicateOf)', 'missing_duplicate_of');
      if (dup === a.alert_id) throw new HttpError(400, 'an alert cannot be a duplicate of itself', 'self_duplicate');
      const p = await c.query(`SELECT 1 FROM alerts WHERE alert_id = $1`, [dup]);
      if (!p.rowCount) throw new HttpError(400, `no alert ${dup} to be the primary`, 'unknown_primary');
      set.duplicate_of = dup;
    } else if (input.duplicateOf !== undefined)
      throw new HttpError(400, 'duplicateOf goes with the disposition duplicate only', 'unexpected_duplicate_of');
  } else if (input.disposition) {
    throw new HttpError(400, `a disposition is chosen when proposing or closing, not with ${action}`, 'unexpected_disposition');
  }
  if (action === 'reopen') {
    need(input.reason, 'reason');
    Object.assign(set, { disposition: null, duplicate_of: null, disposition_intentional: null, closed_at: null });
  }
  if (action === 'recover') {
    const r = await c.query(`SELECT COALESCE(sum(amount), 0) AS s FROM recoveries WHERE alert_id = $1`, [a.alert_id]);
    if (a.amount_due === null || Number(r.rows[0].s) < Number(a.amount_due))
      throw new HttpError(
        409,
        `alert ${a.alert_id}: ${r.rows[0].s} recovered of ${a.amount_due ?? 'no amount'} due — record the recoveries first`,
        'not_recovered'
      );
  }
  if (TERMINAL.has(step.to) && !a.closed_at) set.closed_at = new Date();
  const after = await update(c, a, who.user, set);
  const released =
    action === 'close' && a.rule === 'reported_death' ? await refuteReportedDeath(c, a, who.user, String(set.disposition)) : null;
  await recordEvent(c, a, after, {
    action,
    actor: input.actor,
    role: who.role,
    reason: input.reason,
    note: input.note,
    ...(released ? { extra: released } : {})
  });
  return { alertId: a.alert_id, action, status: after.status, version: after.version, pending: false };
}

/**
 * A reported death (rule reported_death, migration 0034) is closed by a person only as a false positive
 * (the report was refuted, or withdrawn by the family) and only while its case still waits for a
 * department record: once a record confirmed the death, the after-death case decides, not this item.
 */
async function checkReportedDeathClose(c: Queryable, a: AlertRow, group: string): Promise<void> {
  if (group !== 'false_positive')
    throw new HttpError(
      409,
      `a reported death is confirmed by a department death record, not closed by hand: close it only as a false positive (the report was wrong or withdrawn)`,
      'reported_death_confirmed_by_record'
    );
  const k = await c.query(`SELECT status FROM cases WHERE 'case:' || case_id = $1 AND kind = 'after_death'`, [a.dedup_key]);
  if (k.rows[0]?.status !== 'reported')
    throw new HttpError(
      409,
      `the death reported for alert ${a.alert_id} is ${k.rows[0]?.status === 'open' ? 'confirmed by a department record' : 'no longer awaiting confirmation'}: the after-death case decides`,
      'reported_death_not_pending'
    );
}

/** The report did not stand: release its payment hold and close its after_death case and open tasks, all recorded. */
async function refuteReportedDeath(c: Queryable, a: AlertRow, user: string, disposition: string): Promise<Record<string, unknown>> {
  const caseId = Number(a.dedup_key.slice('case:'.length));
  const h = await c.query(
    `UPDATE payment_holds SET released_at = now(), released_by = $2, release_reason = $3
      WHERE case_id = $1 AND origin = 'death_report' AND released_at IS NULL RETURNING hold_id`,
    [caseId, user, `death report refuted (${disposition}, alert ${a.alert_id})`]
  );
  await c.query(
    `UPDATE cases SET status = 'closed', closed_at = now(), close_reason = 'report_refuted',
            detail = detail || jsonb_build_object('refuted', jsonb_build_object('by', $2::text, 'disposition', $3::text, 'alert_id', $4::bigint))
      WHERE case_id = $1 AND status = 'reported'`,
    [caseId, user, disposition, a.alert_id]
  );
  await c.query(
    `UPDATE tasks SET status = 'cancelled', done_at = now(), result = jsonb_build_object('by', $2::text, 'why', 'death report refuted')
      WHERE case_id = $1 AND status = 'open'`,
    [caseId, user]
  );
  return { case_id: caseId, released_hold_ids: h.rows.map((x) => Number(x.hold_id)) };
}

type Ctx = { c: PoolClient; a: AlertRow; input: TransitionInput; who: { user: string; role: string; region: string } };

async function propose({ c, a, input, who }: Ctx): Promise<TransitionResult> {
  const step = allowed(a.status, 'propose');
  if (!step) throw new HttpError(409, `alert ${a.alert_id} is ${a.status}: propose is not allowed from there`, 'transition_not_allowed');
  const reason = need(input.reason, 'reason');
  const code = need(input.disposition, 'disposition');
  const d = dispositionOf(code);
  if (!d) throw new HttpError(400, `unknown disposition ${code}`, 'unknown_disposition');
  if (d.system_only) throw new HttpError(400, `the disposition ${code} is set by the engines, not by people`, 'system_disposition');
  if (code === 'duplicate')
    throw new HttpError(400, 'a duplicate is closed (close with duplicateOf), not proposed', 'duplicate_not_proposed');
  const loss = d.group === 'improper_loss';
  const act = input.proposedAction ?? (loss ? 'recovery' : 'no_action');
  if (!PROPOSED_ACTIONS.includes(act))
    throw new HttpError(400, `proposedAction must be one of ${PROPOSED_ACTIONS.join(', ')}`, 'invalid_proposed_action');
  if (loss && input.intentional === undefined)
    throw new HttpError(400, 'an improper disposition with money lost says whether it was intentional', 'missing_intentional');
  const amount = money(input.amountDue, 'amountDue') ?? (loss ? a.amount_at_risk : undefined);
  const snapshot: Record<string, unknown> = snapshotOf(a);
  if (act === 'suspend' || act === 'stop') {
    const confirmed = await sourceConfirmed(c, a);
    if (act === 'stop' && !confirmed)
      throw new HttpError(
        409,
        'a single unconfirmed source can only suspend the benefit, never stop it: propose suspend',
        'unconfirmed_source'
      );
    const from = month(input.holdFrom, 'holdFrom') ?? nextMonth();
    let schemes = input.holdSchemes?.filter(Boolean);
    if (!schemes?.length) {
      const ids = ((a.evidence as { payment_ids?: string[] }).payment_ids ?? []).map(String);
      const r = await c.query(
        `SELECT array_agg(DISTINCT scheme_code ORDER BY scheme_code) AS s FROM (
           SELECT scheme_code FROM payments WHERE payment_id = ANY($1::text[]) AND id_number = $2
           UNION SELECT scheme_code FROM enrollments WHERE id_number = $2 AND status = 'active' AND cardinality($1::text[]) = 0) x`,
        [ids, a.id_number]
      );
      schemes = r.rows[0].s ?? [];
    }
    if (!schemes?.length) throw new HttpError(400, 'no scheme to hold: name the schemes (holdSchemes)', 'missing_schemes');
    snapshot.hold = { from_period: from, schemes, source_confirmed: confirmed };
  }
  const p = await c.query(
    `INSERT INTO alert_proposals (alert_id, action, target_status, disposition, intentional, amount, reason, snapshot, alert_version, made_by, made_role)
     VALUES ($1, $2, 'approved', $3, $4, $5, $6, $7, $8, $9, $10) RETURNING proposal_id`,
    [
      a.alert_id,
      act,
      code,
      loss ? input.intentional : null,
      amount ?? null,
      reason,
      JSON.stringify(snapshot),
      a.version,
      who.user,
      who.role
    ]
  );
  const proposalId = Number(p.rows[0].proposal_id);
  const after = await update(c, a, who.user, { status: step.to });
  await recordEvent(c, a, after, {
    action: 'propose',
    actor: input.actor,
    role: who.role,
    reason,
    note: input.note,
    extra: { proposal_id: proposalId, proposed_action: act, disposition: code, amount: amount ?? null }
  });
  return { alertId: a.alert_id, action: 'propose', status: after.status, version: after.version, pending: false, proposalId };
}

async function pendingProposal(c: Queryable, alertId: number) {
  const r = await c.query(`SELECT * FROM alert_proposals WHERE alert_id = $1 AND state = 'pending' FOR UPDATE`, [alertId]);
  return r.rows[0] as
    | {
        proposal_id: string;
        action: string;
        target_status: string;
        disposition: string | null;
        intentional: boolean | null;
        amount: string | null;
        snapshot: Record<string, unknown>;
        made_by: string;
      }
    | undefined;
}

function refuseOwn(p: { made_by: string; proposal_id: string }, who: { user: string }, verb: string): void {
  if (p.made_by === who.user)
    throw new HttpError(403, `four eyes: you made proposal ${p.proposal_id} and cannot ${verb} it — another auditor must`, 'own_proposal');
}

async function decide({ c, a, input, who }: Ctx): Promise<TransitionResult> {
  const action = input.action as 'approve' | 'reject';
  const p = await pendingProposal(c, a.alert_id);
  if (!p) throw new HttpError(409, `alert ${a.alert_id} has no proposal waiting for a decision`, 'no_pending_proposal');
  refuseOwn(p, who, action);
  if (action === 'reject') need(input.reason, 'reason');
  await c.query(
    `UPDATE alert_proposals SET state = $2, checked_by = $3, checked_role = $4, checked_at = now(), check_note = $5 WHERE proposal_id = $1`,
    [p.proposal_id, action === 'approve' ? 'approved' : 'rejected', who.user, who.role, input.reason ?? input.note ?? null]
  );
  const proposalId = Number(p.proposal_id);
  if (p.target_status !== 'approved') {
    // a write-off / waiver / restore proposal: approving it applies it
    if (action === 'approve') return applyLater(c, a, p, input, who);
    const after = a;
    await c.query(
      `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, actor_role, reason, action, changes, note)
       VALUES ($1, $2, $2, $3, $4, $5, 'reject', '{}', $6)`,
      [a.alert_id, a.status, who.user, who.role, input.reason, `proposal ${proposalId} (${p.action}) rejected`]
    );
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'alert.reject', String(a.alert_id), {
      role: who.role,
      proposal_id: proposalId,
      proposed_action: p.action,
      reason: input.reason
    });
    return { alertId: a.alert_id, action, status: after.status, version: after.version, pending: false, proposalId };
  }
  if (a.status !== 'proposed') throw new HttpError(409, `alert ${a.alert_id} is ${a.status}, not proposed`, 'transition_not_allowed');
  if (action === 'reject') {
    const after = await update(c, a, who.user, { status: 'investigating' });
    await recordEvent(c, a, after, {
      action,
      actor: input.actor,
      role: who.role,
      reason: input.reason,
      note: input.note,
      extra: { proposal_id: proposalId }
    });
    return { alertId: a.alert_id, action, status: after.status, version: after.version, pending: false, proposalId };
  }
  const d = dispositionOf(p.disposition!)!;
  const set: Record<string, unknown> = { status: 'approved', disposition: p.disposition, disposition_intentional: p.intentional };
  if (d.group === 'improper_loss') set.amount_due = p.amount ?? a.amount_at_risk;
  const after = await update(c, a, who.user, set);
  let holdId: number | undefined;
  const hold = p.snapshot.hold as { from_period: string; schemes: string[]; source_confirmed: boolean } | undefined;
  if ((p.action === 'suspend' || p.action === 'stop') && hold) {
    const h = await c.query(
      `INSERT INTO payment_holds (id_number, scheme_codes, from_period, kind, source_confirmed, alert_id, proposal_id, proposed_by, approved_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING hold_id`,
      [a.id_number, hold.schemes, hold.from_period, p.action, hold.source_confirmed, a.alert_id, proposalId, p.made_by, who.user]
    );
    holdId = Number(h.rows[0].hold_id);
  }
  await recordEvent(c, a, after, {
    action,
    actor: input.actor,
    role: who.role,
    reason: input.reason,
    note: input.note,
    extra: { proposal_id: proposalId, maker: p.made_by, proposed_action: p.action, hold_id: holdId ?? null }
  });
  return { alertId: a.alert_id, action, status: after.status, version: after.version, pending: false, proposalId, holdId };
}

/** write_off / waive / restore: record the proposal, or (someone else, a proposal waiting) approve and apply it. */
async function laterFourEyes({ c, a, input, who }: Ctx): Promise<TransitionResult> {
  const action = input.action;
  const target = LATER_PROPOSALS[action];
  if (!allowed(a.status, action))
    throw new HttpError(409, `alert ${a.alert_id} is ${a.status}: ${action} is not allowed from there`, 'transition_not_allowed');
  const p = await pendingProposal(c, a.alert_id);
  if (p) {
    if (p.action !== action)
      throw new HttpError(
        409,
        `alert ${a.alert_id} has a ${p.action} proposal waiting: approve or reject it first`,
        'other_proposal_pending'
      );
    refuseOwn(p, who, 'approve');
    await c.query(
      `UPDATE alert_proposals SET state = 'approved', checked_by = $2, checked_role = $3, checked_at = now(), check_note = $4 WHERE proposal_id = $1`,
      [p.proposal_id, who.user, who.role, input.reason ?? input.note ?? null]
    );
    return applyLater(c, a, p, input, who);
  }
  const reason = need(input.reason, 'reason');
  const snapshot: Record<string, unknown> = snapshotOf(a);
  let amount: string;
  let disposition = a.disposition;
  if (action === 'restore') {
    // a wrongful suspension was a false positive: say which (the alert's improper disposition and amount due end)
    disposition = need(input.disposition, 'disposition');
    if (dispositionOf(disposition)?.group !== 'false_positive')
      throw new HttpError(
        400,
        `a restore names why the suspension was wrongful: a false-positive disposition, not ${disposition}`,
        'invalid_disposition'
      );
    const through = month(input.restoreThrough, 'restoreThrough') ?? `${todayShanghai().slice(0, 7)}-01`;
    const bp = await backPay(c, a.alert_id, through);
    snapshot.restore = { through, ...bp };
    amount = bp.backPay;
  } else {
    const r = await c.query(`SELECT outstanding FROM recovery_ledger WHERE alert_id = $1`, [a.alert_id]);
    amount = r.rows[0]?.outstanding ?? '0.00';
  }
  const ins = await c.query(
    `INSERT INTO alert_proposals (alert_id, action, target_status, disposition, amount, reason, snapshot, alert_version, made_by, made_role)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING proposal_id`,
    [a.alert_id, action, target, disposition, amount, reason, JSON.stringify(snapshot), a.version, who.user, who.role]
  );
  const proposalId = Number(ins.rows[0].proposal_id);
  await c.query(
    `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, actor_role, reason, action, changes, note)
     VALUES ($1, $2, $2, $3, $4, $5, $6, '{}', $7)`,
    [a.alert_id, a.status, who.user, who.role, reason, `propose_${action}`, `proposal ${proposalId}: ${action} ${amount ?? ''}`.trim()]
  );
  await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, `alert.propose_${action}`, String(a.alert_id), {
    role: who.role,
    proposal_id: proposalId,
    amount,
    reason
  });
  return {
    alertId: a.alert_id,
    action,
    status: a.status,
    version: a.version,
    pending: true,
    proposalId,
    backPay: action === 'restore' ? amount! : undefined
  };
}

async function applyLater(
  c: PoolClient,
  a: AlertRow,
  p: {
    proposal_id: string;
    action: string;
    target_status: string;
    disposition: string | null;
    amount: string | null;
    snapshot: Record<string, unknown>;
    made_by: string;
  },
  input: TransitionInput,
  who: { user: string; role: string }
): Promise<TransitionResult> {
  const proposalId = Number(p.proposal_id);
  const set: Record<string, unknown> = { status: p.target_status };
  if (TERMINAL.has(p.target_status) && !a.closed_at) set.closed_at = new Date();
  // restored: not money lost after all — its false-positive disposition, no amount due
  if (p.action === 'restore') Object.assign(set, { disposition: p.disposition, disposition_intentional: null, amount_due: null });
  const after = await update(c, a, who.user, set);
  let restorationId: number | undefined;
  let backPayAmount: string | undefined;
  if (p.action === 'restore') {
    const through = (p.snapshot.restore as { through: string }).through;
    const bp = await backPay(c, a.alert_id, through);
    const holds = await c.query(
      `UPDATE payment_holds SET released_at = now(), released_by = $2, release_reason = $3
        WHERE alert_id = $1 AND released_at IS NULL RETURNING hold_id`,
      [a.alert_id, who.user, `restored (proposal ${proposalId})`]
    );
    const r = await c.query(
      `INSERT INTO benefit_restorations (alert_id, proposal_id, hold_id, id_number, periods, back_pay, recorded_by, approved_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING restoration_id`,
      [a.alert_id, proposalId, holds.rows[0]?.hold_id ?? null, a.id_number, JSON.stringify(bp.periods), bp.backPay, p.made_by, who.user]
    );
    restorationId = Number(r.rows[0].restoration_id);
    backPayAmount = bp.backPay;
  }
  await recordEvent(c, a, after, {
    action: p.action,
    actor: input.actor,
    role: who.role,
    reason: input.reason,
    note: input.note,
    extra: { proposal_id: proposalId, maker: p.made_by, amount: backPayAmount ?? p.amount, restoration_id: restorationId ?? null }
  });
  return {
    alertId: a.alert_id,
    action: p.action as AlertAction,
    status: after.status,
    version: after.version,
    pending: false,
    proposalId,
    restorationId,
    backPay: backPayAmount
  };
}

/**
 * The back pay owed when a wrongful suspension is restored: for every scheme and period each hold of
 * the alert covered (its from_period through `through`), the monthly amount of the person's enrollment
 * in that scheme for that period, less what a `paid` payment for it already paid. Exact (numeric).
 */
export async function backPay(
  c: Queryable,
  alertId: number,
  through: string
): Promise<{ backPay: string; periods: { scheme: string; period: string; monthly_amount: string; paid: string }[] }> {
  const r = await c.query(
    `WITH held AS (
       SELECT DISTINCT h.id_number, s.scheme, g::date AS period
         FROM payment_holds h, unnest(h.scheme_codes) s(scheme), generate_series(h.from_period, $2::date, INTERVAL '1 month') g
        WHERE h.alert_id = $1 AND h.released_at IS NULL)
     SELECT x.scheme, to_char(x.period, 'YYYY-MM') AS period, e.monthly_amount, COALESCE(p.paid, 0)::numeric(14,2) AS paid
       FROM held x
       JOIN LATERAL (SELECT monthly_amount FROM enrollments e WHERE e.id_number = x.id_number AND e.scheme_code = x.scheme
                        AND e.start_period <= x.period AND (e.end_period IS NULL OR e.end_period >= x.period)
                      ORDER BY e.start_period DESC LIMIT 1) e ON true
       LEFT JOIN LATERAL (SELECT sum(amount) AS paid FROM payments p WHERE p.id_number = x.id_number AND p.scheme_code = x.scheme
                             AND p.period = x.period AND p.status = 'paid') p ON true
      ORDER BY 1, 2`,
    [alertId, through]
  );
  const s = await c.query(
    `SELECT COALESCE(sum(greatest(m - p, 0)), 0)::numeric(14,2) AS total FROM unnest($1::numeric[], $2::numeric[]) AS t(m, p)`,
    [r.rows.map((x) => x.monthly_amount), r.rows.map((x) => x.paid)]
  );
  return { backPay: s.rows[0].total, periods: r.rows };
}

// ── assign, bulk ────────────────────────────────────────────────────────────────────────────────

export async function assignAlert(
  db: Pool,
  input: { alertId: number; assignee: string | null; actor: WorkbenchActor; expectedVersion: number; note?: string }
): Promise<TransitionResult> {
  return withTransaction(db, (c) => assignIn(c, input));
}

async function assignIn(
  c: PoolClient,
  input: { alertId: number; assignee: string | null; actor: WorkbenchActor; expectedVersion: number; note?: string }
): Promise<TransitionResult> {
  const who = await requireWorkbenchUser(c, input.actor);
  checkText(input.note);
  const a = await lockAlert(c, input.alertId, who.region);
  checkVersion(a, input.expectedVersion);
  if (input.assignee) {
    const u = await c.query(`SELECT role, disabled FROM staff_users WHERE username = $1`, [input.assignee]);
    if (!u.rowCount || u.rows[0].disabled || !(WORKBENCH_ROLES as readonly string[]).includes(u.rows[0].role))
      throw new HttpError(400, `${input.assignee} is not an enabled auditor or admin`, 'invalid_assignee');
  }
  const after = await update(c, a, who.user, { assignee: input.assignee || null });
  await recordEvent(c, a, after, { action: 'assign', actor: input.actor, role: who.role, note: input.note });
  return { alertId: a.alert_id, action: 'assign', status: after.status, version: after.version, pending: false };
}

/** The actions that may be applied to many alerts at once; no suspension in bulk. */
export const BULK_ACTIONS = ['assign', 'acknowledge', 'close_duplicate'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export interface BulkPreview {
  action: BulkAction;
  /** Alerts the action would change, per rule. */
  count: number;
  rules: Record<string, number>;
  /** Alerts it would skip, and why (unknown, not in a state that allows it). */
  skipped: { alertId: number; reason: string }[];
}

function bulkAction(action: string): BulkAction {
  if (!(BULK_ACTIONS as readonly string[]).includes(action))
    throw new HttpError(400, `only ${BULK_ACTIONS.join(', ')} may be done in bulk, not ${action}`, 'not_bulk_action');
  return action as BulkAction;
}

/** What a bulk action would touch: how many alerts, which rules, which would be skipped. */
export async function previewBulk(db: Pool, input: { alertIds: number[]; action: string; actor: WorkbenchActor }): Promise<BulkPreview> {
  const action = bulkAction(input.action);
  const who = await requireWorkbenchUser(db, input.actor);
  const ids = [...new Set(input.alertIds.map(Number))].filter((x) => Number.isSafeInteger(x) && x > 0);
  const r = await db.query(
    `SELECT a.alert_id, a.rule, a.status FROM alerts a
      WHERE a.alert_id = ANY($1::bigint[])
        AND (NOT EXISTS (SELECT 1 FROM region_paths u WHERE u.code = $2 AND u.level <> 'city')
             OR EXISTS (SELECT 1 FROM region_paths rp JOIN region_paths u ON u.code = $2 WHERE rp.code = a.region_code AND rp.path LIKE u.path || '%'))`,
    [ids, who.region]
  );
  const found = new Map(r.rows.map((x) => [Number(x.alert_id), x]));
  const out: BulkPreview = { action, count: 0, rules: {}, skipped: [] };
  for (const id of ids) {
    const a = found.get(id);
    let why: string | null = null;
    if (!a) why = 'no such alert in your area';
    else if (action === 'acknowledge' && !allowed(a.status, 'acknowledge')) why = `${a.status}: cannot be acknowledged`;
    else if (action === 'close_duplicate' && !allowed(a.status, 'close')) why = `${a.status}: cannot be closed`;
    if (why) out.skipped.push({ alertId: id, reason: why });
    else {
      out.count++;
      out.rules[a.rule] = (out.rules[a.rule] ?? 0) + 1;
    }
  }
  return out;
}

/**
 * Apply a bulk action, each alert in its own transaction through the same service (same checks, same
 * events). expectedVersions: the versions the user saw (from the queue); an alert without one uses
 * its current version (a bulk acknowledge of what the preview listed).
 */
export async function applyBulk(
  db: Pool,
  input: {
    alertIds: number[];
    action: string;
    actor: WorkbenchActor;
    assignee?: string | null;
    duplicateOf?: number;
    reason?: string;
    expectedVersions?: Record<number, number>;
  }
): Promise<{ done: TransitionResult[]; refused: { alertId: number; message: string }[] }> {
  const action = bulkAction(input.action);
  await requireWorkbenchUser(db, input.actor);
  if (action === 'close_duplicate' && !input.duplicateOf)
    throw new HttpError(400, 'close_duplicate names the primary alert (duplicateOf)', 'missing_duplicate_of');
  const done: TransitionResult[] = [];
  const refused: { alertId: number; message: string }[] = [];
  for (const id of [...new Set(input.alertIds.map(Number))]) {
    try {
      const v =
        input.expectedVersions?.[id] ?? (await db.query(`SELECT version FROM alerts WHERE alert_id = $1`, [id])).rows[0]?.version ?? 0;
      if (action === 'assign')
        done.push(await assignAlert(db, { alertId: id, assignee: input.assignee ?? null, actor: input.actor, expectedVersion: v }));
      else if (action === 'acknowledge')
        done.push(await transitionAlert(db, { alertId: id, action: 'acknowledge', actor: input.actor, expectedVersion: v }));
      else
        done.push(
          await transitionAlert(db, {
            alertId: id,
            action: 'close',
            actor: input.actor,
            expectedVersion: v,
            disposition: 'duplicate',
            duplicateOf: input.duplicateOf,
            reason: input.reason
          })
        );
    } catch (e) {
      if (e instanceof HttpError && e.status < 500) refused.push({ alertId: id, message: e.message });
      else throw e;
    }
  }
  return { done, refused };
}

// ── unmask ──────────────────────────────────────────────────────────────────────────────────────

/** The alert's person unmasked (ID number, name, phone), audit-logged with the reason. */
export async function unmaskAlertPerson(
  db: Pool,
  input: { alertId: number; actor: WorkbenchActor; reason: string }
): Promise<{ id_number: string; name: string | null; phone: string | null }> {
  return withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    const reason = need(input.reason, 'reason');
    checkText(reason);
    const r = await c.query(
      `SELECT a.alert_id, a.id_number, a.region_code, p.name, p.phone FROM alerts a LEFT JOIN persons p ON p.id_number = a.id_number
        WHERE a.alert_id = $1
          AND (NOT EXISTS (SELECT 1 FROM region_paths u WHERE u.code = $2 AND u.level <> 'city')
               OR EXISTS (SELECT 1 FROM region_paths rp JOIN region_paths u ON u.code = $2 WHERE rp.code = a.region_code AND rp.path LIKE u.path || '%'))`,
      [input.alertId, who.region]
    );
    if (!r.rowCount) throw new HttpError(404, `no alert ${input.alertId} in your area`, 'unknown_alert');
    const x = r.rows[0];
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'unmask.alert_person', x.id_number, {
      role: who.role,
      alert_id: input.alertId,
      reason
    });
    return { id_number: x.id_number, name: x.name ?? null, phone: x.phone ?? null };
  });
}
