// The pre-payroll check's sign-off (docs/rules.md "Pre-payroll check"): the service the CLI calls and a
// workbench page can call the same way — which draft is current, who may sign, the frozen runs, four-eyes
// approval, the diff between two runs, the hold list. Computing a check is a job (jobs/engines/
// payroll-check.ts: it runs the certify engine and the engines' SQL first) that freezes its result as a
// run; everything here reads or approves such runs. Errors a caller can act on are HttpErrors with a
// one-line message (the CLI prints it and exits 1; a web page maps the status).
//
// Four eyes: the preparer and the approver are staff users with role auditor or admin, enabled, and not
// the same person — checked here and enforced by the database (payroll_runs_four_eyes). A run prepared
// by the scheduler (prepared_by NULL) informs but cannot be approved: a person prepares it again with
// `yinling payroll check --by USER`. An approved run never changes (a trigger refuses it): a later check
// is a new version of the period, shown with its diff to the approved one.
import { withTransaction, type Pool } from '../db/pool.ts';
import type { Queryable } from '../db/pool.ts';
import { audit, type Actor } from '../audit.ts';
import { HttpError, badRequest, forbidden, notFound } from '../errors.ts';

/** Roles that may prepare and approve a payroll check. */
export const SIGNATORY_ROLES = ['auditor', 'admin'] as const;

/** 'YYYY-MM' or 'YYYYMM' → the period's first day 'YYYY-MM-01'. */
export function parsePeriod(s: string | undefined): string {
  const m = /^(\d{4})-?(\d{2})$/.exec((s ?? '').trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw badRequest(`a period is YYYY-MM, got "${s ?? ''}"`, 'bad_period');
  return `${m[1]}-${m[2]}-01`;
}
export const periodLabel = (p: string) => p.slice(0, 7);

export interface DraftInfo {
  draft_id: string;
  prepared_at: Date;
  lines: number;
}

/** The current draft of a period: the draft with the latest prepared_at (ties: the larger draft_id). */
export async function currentDraft(db: Queryable, period: string): Promise<DraftInfo | null> {
  const r = await db.query(
    `SELECT draft_id, max(prepared_at) AS prepared_at, count(*)::int AS lines FROM payroll_draft WHERE period = $1::date
      GROUP BY draft_id ORDER BY max(prepared_at) DESC, draft_id DESC LIMIT 1`,
    [period]
  );
  return r.rows[0] ?? null;
}

/** The current draft, or the one-line error every payroll command gives for a period without one. */
export async function requireDraft(db: Queryable, period: string): Promise<DraftInfo> {
  const d = await currentDraft(db, period);
  if (!d)
    throw notFound(
      `no payroll draft for ${periodLabel(period)}: the payroll system has not delivered one (inbox folder payroll_draft/)`,
      'no_draft'
    );
  return d;
}

export interface Signatory {
  username: string;
  role: string;
}

/** A staff user who may prepare or approve: exists, enabled, role auditor or admin. */
export async function requireSignatory(db: Queryable, username: string, as: 'preparer' | 'approver'): Promise<Signatory> {
  const r = await db.query(`SELECT username, role, disabled FROM staff_users WHERE username = $1`, [username]);
  const u = r.rows[0];
  if (!u) throw notFound(`no staff user "${username}" (yinling user list)`, 'no_user');
  if (u.disabled) throw forbidden(`${username} is disabled and cannot sign as ${as}`, 'user_disabled');
  if (!(SIGNATORY_ROLES as readonly string[]).includes(u.role))
    throw forbidden(`${username} is ${u.role}: only an auditor or an admin may sign a payroll check as ${as}`, 'not_signatory');
  return { username: u.username, role: u.role };
}

export interface PayrollRun {
  run_no: number;
  period: string;
  version: number;
  draft_id: string;
  draft_prepared_at: Date;
  as_of: string;
  lines: number;
  people: number;
  amount: string;
  held_lines: number;
  held_amount: string;
  released_lines: number;
  released_amount: string;
  findings: number;
  amount_at_risk: string;
  prepared_by: string | null;
  prepared_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
}

const RUN_COLUMNS = `run_no::int, to_char(period, 'YYYY-MM-DD') AS period, version, draft_id, draft_prepared_at, to_char(as_of, 'YYYY-MM-DD') AS as_of,
  lines, people, amount::text, held_lines, held_amount::text, released_lines, released_amount::text, findings, amount_at_risk::text,
  prepared_by, prepared_at, approved_by, approved_at`;

export async function getRun(db: Queryable, runNo: number): Promise<PayrollRun> {
  const r = await db.query(`SELECT ${RUN_COLUMNS} FROM payroll_runs WHERE run_no = $1`, [runNo]);
  if (!r.rows[0]) throw notFound(`no payroll check run ${runNo} (yinling payroll runs)`, 'no_run');
  return r.rows[0];
}

export async function listRuns(db: Queryable, period?: string): Promise<PayrollRun[]> {
  const r = await db.query(`SELECT ${RUN_COLUMNS} FROM payroll_runs WHERE $1::date IS NULL OR period = $1::date ORDER BY run_no`, [
    period ?? null
  ]);
  return r.rows;
}

/** The newest run of a period (what payroll-findings and payroll-diff export), or null. */
export async function latestRun(db: Queryable, period: string): Promise<PayrollRun | null> {
  const r = await db.query(`SELECT ${RUN_COLUMNS} FROM payroll_runs WHERE period = $1::date ORDER BY run_no DESC LIMIT 1`, [period]);
  return r.rows[0] ?? null;
}

/** The run whose holds the payroll system receives: the newest approved run of the period, or null. */
export async function approvedRun(db: Queryable, period: string): Promise<PayrollRun | null> {
  const r = await db.query(
    `SELECT ${RUN_COLUMNS} FROM payroll_runs WHERE period = $1::date AND approved_at IS NOT NULL ORDER BY run_no DESC LIMIT 1`,
    [period]
  );
  return r.rows[0] ?? null;
}

/** The latest run of a period, or a one-line error (no draft / not checked yet). */
export async function requireLatestRun(db: Queryable, period: string): Promise<PayrollRun> {
  await requireDraft(db, period);
  const run = await latestRun(db, period);
  if (!run)
    throw notFound(`${periodLabel(period)} has a draft but no check yet: yinling payroll check --period ${periodLabel(period)}`, 'no_run');
  return run;
}

/** The approved run of a period, or a one-line error. */
export async function requireApprovedRun(db: Queryable, period: string): Promise<PayrollRun> {
  await requireDraft(db, period);
  const run = await approvedRun(db, period);
  if (!run)
    throw notFound(
      `no approved check for ${periodLabel(period)} yet: yinling payroll approve --run N --by USER (runs: yinling payroll runs --period ${periodLabel(period)})`,
      'not_approved'
    );
  return run;
}

/**
 * Approve a run (four eyes). Only the newest run of its period can be approved (an older one has been
 * superseded by a later check); an approved run is never approved again.
 */
export async function approveRun(pool: Pool, opts: { runNo: number; by: string; actor?: Actor }): Promise<PayrollRun> {
  return withTransaction(pool, async (c) => {
    const lock = await c.query(`SELECT run_no, period, prepared_by, approved_by FROM payroll_runs WHERE run_no = $1 FOR UPDATE`, [
      opts.runNo
    ]);
    const run = lock.rows[0];
    if (!run) throw notFound(`no payroll check run ${opts.runNo} (yinling payroll runs)`, 'no_run');
    if (run.approved_by)
      throw new HttpError(
        409,
        `run ${opts.runNo} was already approved by ${run.approved_by}; an approved run never changes`,
        'already_approved'
      );
    const newest = await c.query(`SELECT max(run_no)::int AS n FROM payroll_runs WHERE period = $1`, [run.period]);
    if (newest.rows[0].n !== opts.runNo)
      throw new HttpError(
        409,
        `run ${opts.runNo} has been superseded by run ${newest.rows[0].n} of the same period: approve that one`,
        'superseded'
      );
    if (run.prepared_by === null)
      throw new HttpError(
        409,
        `run ${opts.runNo} was prepared by the scheduler: an auditor prepares it first (yinling payroll check --period P --by USER)`,
        'no_preparer'
      );
    await requireSignatory(c, opts.by, 'approver');
    if (opts.by === run.prepared_by)
      throw forbidden(`four eyes: ${opts.by} prepared run ${opts.runNo} and cannot approve it; another auditor or admin must`, 'four_eyes');
    await c.query(`UPDATE payroll_runs SET approved_by = $2, approved_at = now() WHERE run_no = $1`, [opts.runNo, opts.by]);
    const approved = await getRun(c, opts.runNo);
    await audit(c, opts.actor ?? { type: 'staff', name: opts.by }, 'payroll.approve', `payroll_run:${opts.runNo}`, {
      period: periodLabel(approved.period),
      version: approved.version,
      approved_by: opts.by,
      prepared_by: approved.prepared_by,
      held_lines: approved.held_lines,
      held_amount: approved.held_amount
    });
    return approved;
  });
}

export interface HoldChange {
  change: 'hold_added' | 'hold_removed' | 'hold_changed';
  id_number: string;
  scheme_code: string;
  before: { amount: string; findings: string[] } | null;
  after: { amount: string; findings: string[] } | null;
}
export interface RunDiff {
  from: PayrollRun;
  to: PayrollRun;
  holds: HoldChange[];
  totals: Record<'lines' | 'held_lines' | 'released_lines' | 'findings', number> &
    Record<'amount' | 'held_amount' | 'released_amount' | 'amount_at_risk', string>;
}

/**
 * What changed from one run to another: the holds by person and scheme (added, removed, changed in amount
 * or findings — a new draft renumbers its lines, so lines are matched by person and scheme) and the totals.
 */
export async function diffRuns(db: Queryable, fromRunNo: number, toRunNo: number): Promise<RunDiff> {
  const from = await getRun(db, fromRunNo);
  const to = await getRun(db, toRunNo);
  if (from.period !== to.period) throw badRequest(`runs ${fromRunNo} and ${toRunNo} check different periods`, 'other_period');
  const r = await db.query(
    `WITH a AS (SELECT id_number, scheme_code, sum(amount) AS amount, array_agg(DISTINCT f ORDER BY f) AS findings
                  FROM payroll_run_holds, unnest(findings) AS f WHERE run_no = $1 GROUP BY id_number, scheme_code),
          b AS (SELECT id_number, scheme_code, sum(amount) AS amount, array_agg(DISTINCT f ORDER BY f) AS findings
                  FROM payroll_run_holds, unnest(findings) AS f WHERE run_no = $2 GROUP BY id_number, scheme_code)
     SELECT COALESCE(a.id_number, b.id_number) AS id_number, COALESCE(a.scheme_code, b.scheme_code) AS scheme_code,
            a.amount::text AS a_amount, a.findings AS a_findings, b.amount::text AS b_amount, b.findings AS b_findings
       FROM a FULL JOIN b ON a.id_number = b.id_number AND a.scheme_code = b.scheme_code
      WHERE a.id_number IS NULL OR b.id_number IS NULL OR a.amount <> b.amount OR a.findings <> b.findings
      ORDER BY 1, 2`,
    [fromRunNo, toRunNo]
  );
  const holds: HoldChange[] = r.rows.map((x) => ({
    change: x.a_amount === null ? 'hold_added' : x.b_amount === null ? 'hold_removed' : 'hold_changed',
    id_number: x.id_number,
    scheme_code: x.scheme_code,
    before: x.a_amount === null ? null : { amount: x.a_amount, findings: x.a_findings },
    after: x.b_amount === null ? null : { amount: x.b_amount, findings: x.b_findings }
  }));
  const t = await db.query(
    `SELECT b.lines - a.lines AS lines, b.held_lines - a.held_lines AS held_lines, b.released_lines - a.released_lines AS released_lines,
            b.findings - a.findings AS findings, (b.amount - a.amount)::text AS amount, (b.held_amount - a.held_amount)::text AS held_amount,
            (b.released_amount - a.released_amount)::text AS released_amount, (b.amount_at_risk - a.amount_at_risk)::text AS amount_at_risk
       FROM payroll_runs a, payroll_runs b WHERE a.run_no = $1 AND b.run_no = $2`,
    [fromRunNo, toRunNo]
  );
  return { from, to, holds, totals: t.rows[0] };
}

/** What a run should be compared with: the approved run of its period if it is another run, else null. */
export async function comparisonBase(db: Queryable, run: PayrollRun): Promise<PayrollRun | null> {
  const approved = await approvedRun(db, run.period);
  return approved && approved.run_no !== run.run_no ? approved : null;
}

/** Amount prevented before payment (held lines not paid once the period's actual payments arrived). */
export async function preventedAmounts(db: Queryable, period: string): Promise<{ this_period: string; to_date: string }> {
  const r = await db.query(
    `SELECT COALESCE(sum(amount) FILTER (WHERE period = $1::date AND prevented), 0)::text AS this_period,
            COALESCE(sum(amount) FILTER (WHERE period <= $1::date AND prevented), 0)::text AS to_date
       FROM payroll_hold_outcomes`,
    [period]
  );
  return r.rows[0];
}

// ---------------------------------------------------------------------------------------------------
// The workbench page (dashboard/routes/(workbench)/workbench/payroll) reads and writes through here.

/**
 * Running a check is a job (jobs/engines/payroll-check.ts: the certify engine, then the engines' SQL),
 * which this bottom layer cannot import. The process that hosts the web app (jobs/web/http-server.ts, for
 * `yinling serve`/`up` and the browser tests) provides it once at start-up; requestCheck calls it. Kept on
 * a process-wide symbol because the web app's bundle carries its own copy of this module.
 */
export type CheckRunner = (
  pool: Pool,
  opts: { period: string; preparedBy: string; actor: Actor; trigger: 'manual' }
) => Promise<{ run_no: number }>;
const RUNNER = Symbol.for('yinling.payroll.checkRunner');
type WithRunner = { [RUNNER]?: CheckRunner };

export function provideCheckRunner(fn: CheckRunner): void {
  (globalThis as WithRunner)[RUNNER] = fn;
}

/**
 * Run the check of a period now, prepared by a signed-in auditor or admin (the workbench's button):
 * the preparer must be a signatory, the period must have a draft. Returns the new run's number.
 */
export async function requestCheck(pool: Pool, opts: { period: string; by: string; actor: Actor }): Promise<number> {
  await requireSignatory(pool, opts.by, 'preparer');
  await requireDraft(pool, opts.period);
  const run = (globalThis as WithRunner)[RUNNER];
  if (!run)
    throw new HttpError(
      503,
      `the check runs where the jobs run (yinling serve / up); here: yinling payroll check --period ${periodLabel(opts.period)} --by ${opts.by}`,
      'no_runner'
    );
  const r = await run(pool, { period: opts.period, preparedBy: opts.by, actor: opts.actor, trigger: 'manual' });
  return r.run_no;
}

/** The periods that have a draft or a run, newest first, with their current draft. */
export async function payrollPeriods(db: Queryable): Promise<{ period: string; draft_id: string | null; draft_lines: number }[]> {
  const r = await db.query(
    `WITH p AS (SELECT DISTINCT period FROM payroll_draft UNION SELECT DISTINCT period FROM payroll_runs),
          d AS (SELECT DISTINCT ON (period) period, draft_id, count(*) OVER (PARTITION BY period, draft_id)::int AS lines
                  FROM payroll_draft ORDER BY period, prepared_at DESC, draft_id DESC)
     SELECT to_char(p.period, 'YYYY-MM-DD') AS period, d.draft_id, COALESCE(d.lines, 0) AS draft_lines
       FROM p LEFT JOIN d USING (period) ORDER BY p.period DESC`
  );
  return r.rows;
}

/** A run's findings by rule: how many, the amount at risk, how many hold their line. */
export async function findingsByRule(
  db: Queryable,
  runNo: number
): Promise<{ finding: string; findings: number; amount_at_risk: string; held: number }[]> {
  const r = await db.query(
    `SELECT finding, count(*)::int AS findings, sum(amount_at_risk)::text AS amount_at_risk, count(*) FILTER (WHERE held)::int AS held
       FROM payroll_run_findings WHERE run_no = $1 GROUP BY finding ORDER BY finding`,
    [runNo]
  );
  return r.rows;
}

export interface HeldLine {
  draft_id: string;
  line_id: string;
  id_number: string;
  scheme_code: string;
  amount: string;
  account_no: string | null;
  findings: string[];
}

/** A run's held lines (draft and line order), at most `limit`. */
export async function heldLines(db: Queryable, runNo: number, limit = 500): Promise<HeldLine[]> {
  const r = await db.query(
    `SELECT draft_id, line_id, id_number, scheme_code, amount::text, account_no, findings FROM payroll_run_holds
      WHERE run_no = $1 ORDER BY draft_id, line_id LIMIT $2`,
    [runNo, limit]
  );
  return r.rows;
}

/** A run's diff against last month's paid payments: counts by kind and the first `limit` rows. */
export async function runDiff(
  db: Queryable,
  runNo: number,
  limit = 500
): Promise<{
  counts: Record<string, number>;
  rows: { kind: string; id_number: string; scheme_code: string; previous_amount: string | null; draft_amount: string | null }[];
}> {
  const c = await db.query(`SELECT kind, count(*)::int AS n FROM payroll_run_diff WHERE run_no = $1 GROUP BY kind`, [runNo]);
  const r = await db.query(
    `SELECT kind, id_number, scheme_code, previous_amount::text, draft_amount::text FROM payroll_run_diff
      WHERE run_no = $1 ORDER BY kind, id_number, scheme_code LIMIT $2`,
    [runNo, limit]
  );
  return { counts: Object.fromEntries(c.rows.map((x) => [x.kind, x.n])), rows: r.rows };
}

/**
 * The loop's other side (view payroll_release_outcomes, migration 0031): the lines an approved run
 * released (not held) that were later found improper — an alert about the person covering the period
 * (any rule but hold_not_honoured), not closed as a false positive, duplicate or by the data. Counted
 * against the check, per run.
 */
export async function releasedImproper(db: Queryable, runNo: number): Promise<{ lines: number; amount: string }> {
  const r = await db.query(
    `SELECT count(*)::int AS lines, COALESCE(sum(amount), 0)::text AS amount FROM payroll_release_outcomes WHERE run_no = $1`,
    [runNo]
  );
  return r.rows[0];
}

/** The payroll-holds export's columns and query, one definition for the CLI's dataset and the workbench's file. */
export const HOLDS_EXPORT_COLUMNS = [
  'run_no',
  'draft_id',
  'line_id',
  'id_number',
  'scheme_code',
  'amount',
  'account_no',
  'findings',
  'approved_by',
  'approved_at'
] as const;
/** `run` is an SQL expression for the run number (a parameter or a subquery). */
export const holdsExportSql = (run: string) =>
  `SELECT h.run_no, h.draft_id, h.line_id, h.id_number, h.scheme_code, h.amount, h.account_no,
          array_to_string(h.findings, ';') AS findings, r.approved_by, r.approved_at
     FROM payroll_run_holds h JOIN payroll_runs r ON r.run_no = h.run_no
    WHERE h.run_no = ${run}
    ORDER BY h.draft_id, h.line_id`;
