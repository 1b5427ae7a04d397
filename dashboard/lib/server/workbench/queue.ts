// The auditors' queue (/workbench/alerts): every alert the engines raised in the caller's area, with
// filters, counts per status and keyset pages — never OFFSET, so page 400 costs what page 1 costs.
//
// Default order: MONEY AT RISK BEFORE THE NEXT PAYROLL MONTH, descending. For an alert that is
//   amount_at_risk (what has gone out already, exact) + next_payroll (the monthly amounts of the
//   person's enrollments still `active`: what the next payroll pays again unless someone acts),
// i.e. the money at stake if the alert is still untouched when the next payroll runs — kept on the alert
// (alerts.next_payroll and money_before_payroll, maintained by the database as alerts and enrollments
// change, migration 0032) with a keyset index over the open alerts. Ties, and the other orders, break
// on the alert id. `amount` (amount_at_risk alone, descending) is the fallback
// order; `newest` and `oldest` order by the time the alert was raised.
// Personal data leaves here masked (core/domain/masking.ts); the detail page unmasks on request.
import { HttpError } from '../../../../core/errors.ts';
import type { Queryable } from '../../../../core/db/pool.ts';
import { maskIdNumber, maskName } from '../../../../core/domain/masking.ts';
import { alertRuleNames, alertStates } from '../../../../core/reference/index.ts';
import { scopeSql, type Caller } from './access.ts';
import { shanghaiIsoSql } from '../../../../core/time.ts';
import { regionInScope } from '../scope.ts';
import type { Pool } from '../../../../core/db/pool.ts';

export const SORTS = ['money', 'amount', 'newest', 'oldest'] as const;
export type Sort = (typeof SORTS)[number];
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
/**
 * Status filter values besides a single status: the open alerts (default), all of them, or those
 * decided with a disposition that needs a re-review (insufficient evidence: alerts.review_due).
 */
export const STATUS_GROUPS = ['open', 'all', 'review'] as const;
export const PAGE_SIZE = 50;
const MONEY = /^\d{1,12}(\.\d{1,2})?$/;

export interface QueueFilters {
  rule: string[];
  status: string; // 'open' | 'all' | a status
  severity: string[];
  area: string | null;
  assignee: string | null; // a username, '-' for unassigned
  min: string | null;
  max: string | null;
  age: number | null; // raised at least this many days ago
  sla: string | null; // an SLA state of the view alert_sla (migration 0025)
  sort: Sort;
}

export const SLA_STATES = ['breached', 'reminder', 'ok', 'paused', 'met'] as const;

export interface QueueRow {
  alert_id: number;
  rule: string;
  rule_zh: string;
  rule_en: string;
  severity: string;
  status: string;
  amount_at_risk: string;
  next_payroll: string;
  money_before_payroll: string;
  periods: string[];
  assignee: string | null;
  opened_at: string;
  age_days: number;
  region_name: string | null;
  name: string | null;
  id_number: string;
  version: number;
  sla_state: string | null;
  due_day: string | null;
}

export interface QueuePage {
  filters: QueueFilters;
  rows: QueueRow[];
  next: string | null;
  counts: { status: string; n: number }[];
  total: number;
  /** Alerts of these filters (any status) awaiting a re-review (insufficient evidence). */
  review: number;
  /** Breached SLAs among the alerts of these filters (any status). */
  breached: number;
}

const bad = (m: string) => new HttpError(400, m, 'bad_filter');

/** The queue's filters from a query string, each checked (400 for anything that is not one of ours). */
export function parseFilters(q: URLSearchParams): QueueFilters {
  const rule = q.getAll('rule').filter(Boolean);
  for (const r of rule) if (!alertRuleNames.has(r)) throw bad(`unknown rule "${r}"`);
  const status = q.get('status') || 'open';
  if (!(STATUS_GROUPS as readonly string[]).includes(status) && !alertStates.some((s) => s.status === status))
    throw bad(`unknown status "${status}"`);
  const severity = q.getAll('severity').filter(Boolean);
  for (const s of severity) if (!(SEVERITIES as readonly string[]).includes(s)) throw bad(`unknown severity "${s}"`);
  const area = q.get('area') || null;
  const assignee = q.get('assignee') || null;
  if (assignee && !/^(-|[\w.@-]{1,64})$/.test(assignee)) throw bad('assignee must be a user name or "-"');
  const min = q.get('min') || null;
  const max = q.get('max') || null;
  for (const m of [min, max]) if (m !== null && !MONEY.test(m)) throw bad(`amount "${m}" must be yuan with at most two decimals`);
  const ageText = q.get('age') || null;
  if (ageText !== null && !/^\d{1,4}$/.test(ageText)) throw bad('age must be a whole number of days');
  const sla = q.get('sla') || null;
  if (sla !== null && !(SLA_STATES as readonly string[]).includes(sla)) throw bad(`unknown SLA state "${sla}"`);
  const sort = (q.get('sort') || 'money') as Sort;
  if (!SORTS.includes(sort)) throw bad(`unknown order "${sort}"`);
  return { rule, status, severity, area, assignee, min, max, age: ageText === null ? null : Number(ageText), sla, sort };
}

/** The filters back as a query string (for links, saved filters and exports), without the page cursor. */
export function filtersQuery(f: QueueFilters): string {
  const q = new URLSearchParams();
  for (const r of f.rule) q.append('rule', r);
  if (f.status !== 'open') q.set('status', f.status);
  for (const s of f.severity) q.append('severity', s);
  if (f.area) q.set('area', f.area);
  if (f.assignee) q.set('assignee', f.assignee);
  if (f.min) q.set('min', f.min);
  if (f.max) q.set('max', f.max);
  if (f.age !== null) q.set('age', String(f.age));
  if (f.sla) q.set('sla', f.sla);
  if (f.sort !== 'money') q.set('sort', f.sort);
  return q.toString();
}

/** The sort key of each order, its direction and the type its cursor value is read back as. */
const ORDER: Record<Sort, { key: string; dir: 'DESC' | 'ASC'; cast: string }> = {
  money: { key: 'a.money_before_payroll', dir: 'DESC', cast: 'numeric' },
  amount: { key: 'a.amount_at_risk', dir: 'DESC', cast: 'numeric' },
  newest: { key: 'a.opened_at', dir: 'DESC', cast: 'timestamptz' },
  oldest: { key: 'a.opened_at', dir: 'ASC', cast: 'timestamptz' }
};

/** The WHERE clause of the filters (status optional: the counts per status leave it out). */
async function whereOf(
  pool: Pool,
  caller: Caller,
  f: QueueFilters,
  withStatus: boolean,
  slaIds?: number[]
): Promise<{ sql: string; values: unknown[] }> {
  const values: unknown[] = [];
  const p = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  let sql = 'WHERE true';
  const scope = scopeSql(caller, 'a.region_code', values.length + 1);
  if (scope.sql) {
    values.push(...scope.values);
    sql += scope.sql;
  }
  if (f.area) {
    const region = await regionInScope(pool, caller, f.area);
    if (region.level !== 'city') sql += ` AND a.region_code IN (SELECT code FROM region_paths WHERE path LIKE ${p(region.path)} || '%')`;
  }
  if (withStatus) {
    if (f.status === 'open') sql += ' AND a.active';
    else if (f.status === 'review') sql += ' AND a.review_due IS NOT NULL';
    else if (f.status !== 'all') sql += ` AND a.status = ${p(f.status)}`;
  }
  if (f.rule.length) sql += ` AND a.rule = ANY(${p(f.rule)}::text[])`;
  if (f.severity.length) sql += ` AND a.severity = ANY(${p(f.severity)}::text[])`;
  if (f.assignee === '-') sql += ' AND a.assignee IS NULL';
  else if (f.assignee) sql += ` AND a.assignee = ${p(f.assignee)}`;
  if (f.min) sql += ` AND a.amount_at_risk >= ${p(f.min)}::numeric`;
  if (f.max) sql += ` AND a.amount_at_risk <= ${p(f.max)}::numeric`;
  if (f.age !== null) sql += ` AND a.opened_at <= now() - make_interval(days => ${p(f.age)}::int)`;
  if (f.sla) sql += ` AND a.alert_id = ANY(${p(slaIds ?? (await slaAlerts(pool, f.sla)))}::bigint[])`;
  return { sql, values };
}

// Only an alert whose next deadline kept in its SLA clock (alert_sla_clock.due_day, migration 0032) or
// whose re-review day has passed can be breached — a pause only moves a deadline later. A necessary
// condition that narrows the alerts the view alert_sla is asked about; the view decides.
const OVERDUE = `SELECT c.alert_id FROM alert_sla_clock c JOIN alerts x ON x.alert_id = c.alert_id
                  WHERE c.due_day < (now() AT TIME ZONE 'Asia/Shanghai')::date OR x.review_due < (now() AT TIME ZONE 'Asia/Shanghai')::date`;

/** The alerts in an SLA state (view alert_sla), read once, set-based: the filter then is a hashed id list. */
async function slaAlerts(pool: Pool, state: string): Promise<number[]> {
  const r = await pool.query(
    `SELECT s.alert_id::int AS id FROM alert_sla s WHERE s.sla_state = $1${state === 'breached' ? ` AND s.alert_id IN (${OVERDUE})` : ''}`,
    [state]
  );
  return r.rows.map((x) => x.id as number);
}

function encodeCursor(key: string, id: number): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}
function decodeCursor(c: string): [string, number] {
  try {
    const [key, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (typeof key === 'string' && key.length < 64 && Number.isSafeInteger(id)) return [key, id];
  } catch {
    /* below */
  }
  throw bad('the page cursor is not one of ours: start from the first page');
}

const SELECT = (sortKey: string) => `
  a.alert_id::int, a.rule, a.severity, a.status, a.amount_at_risk::text,
  a.next_payroll::text, a.money_before_payroll::text,
  ARRAY(SELECT to_char(x, 'YYYY-MM') FROM unnest(a.periods) x ORDER BY x) AS periods,
  a.assignee, ${shanghaiIsoSql('a.opened_at')} AS opened_at,
  (current_date - (a.opened_at AT TIME ZONE 'Asia/Shanghai')::date)::int AS age_days,
  rp.name AS region_name, pe.name, a.id_number, a.version, (${sortKey})::text AS sort_key`;

function toRow(x: Record<string, unknown>): QueueRow {
  const names = alertRuleNames.get(String(x.rule));
  return {
    alert_id: Number(x.alert_id),
    rule: String(x.rule),
    rule_zh: names?.name_zh ?? String(x.rule),
    rule_en: names?.name_en ?? String(x.rule),
    severity: String(x.severity),
    status: String(x.status),
    amount_at_risk: String(x.amount_at_risk),
    next_payroll: String(x.next_payroll),
    money_before_payroll: String(x.money_before_payroll),
    periods: x.periods as string[],
    assignee: (x.assignee as string | null) ?? null,
    opened_at: String(x.opened_at),
    age_days: Number(x.age_days),
    region_name: (x.region_name as string | null) ?? null,
    name: maskName(x.name as string | null),
    id_number: maskIdNumber(String(x.id_number)),
    version: Number(x.version),
    sla_state: null,
    due_day: null
  };
}

/** One page of the queue after `cursor` (null: the first), with the counts per status of the same filters. */
export async function queuePage(pool: Pool, caller: Caller, f: QueueFilters, cursor: string | null): Promise<QueuePage> {
  const order = ORDER[f.sort];
  const slaIds = f.sla ? await slaAlerts(pool, f.sla) : undefined;
  const where = await whereOf(pool, caller, f, true, slaIds);
  const values = [...where.values];
  let keyset = '';
  if (cursor) {
    const [key, id] = decodeCursor(cursor);
    values.push(key, id);
    const cmp = order.dir === 'DESC' ? '<' : '>';
    keyset = ` AND (${order.key}, a.alert_id) ${cmp} ($${values.length - 1}::${order.cast}, $${values.length}::bigint)`;
  }
  const rowsQ = pool.query(
    // the page's alerts first (filters, order, keyset on alerts alone), then their places and names
    `SELECT ${SELECT(order.key)}
       FROM (SELECT a.* FROM alerts a ${where.sql}${keyset}
              ORDER BY ${order.key} ${order.dir}, a.alert_id ${order.dir} LIMIT ${PAGE_SIZE + 1}) a
       LEFT JOIN region_paths rp ON rp.code = a.region_code
       LEFT JOIN persons pe ON pe.id_number = a.id_number
      ORDER BY ${order.key} ${order.dir}, a.alert_id ${order.dir}`,
    values
  );
  const countWhere = await whereOf(pool, caller, f, false, slaIds);
  const countsQ = pool.query(
    `SELECT a.status, count(*)::int AS n, count(*) FILTER (WHERE a.review_due IS NOT NULL)::int AS review
       FROM alerts a ${countWhere.sql} GROUP BY a.status`,
    countWhere.values
  );
  const breachedQ = pool.query(
    `SELECT count(*)::int AS n FROM alert_sla s
      WHERE s.sla_state = 'breached' AND s.alert_id IN (${OVERDUE}) AND s.alert_id IN (SELECT a.alert_id FROM alerts a ${countWhere.sql})`,
    countWhere.values
  );
  const [rows, counts, breached] = await Promise.all([rowsQ, countsQ, breachedQ]);
  const page = rows.rows.slice(0, PAGE_SIZE);
  const out = page.map(toRow);
  await withSla(pool, out);
  const last = page[page.length - 1];
  const byStatus = new Map(counts.rows.map((r) => [r.status as string, r.n as number]));
  const openStatuses = alertStates.filter((s) => s.engine_active).map((s) => s.status);
  const review = counts.rows.reduce((s, r) => s + (r.review as number), 0);
  const total =
    f.status === 'review'
      ? review
      : f.status === 'open'
        ? openStatuses.reduce((s, st) => s + (byStatus.get(st) ?? 0), 0)
        : f.status === 'all'
          ? [...byStatus.values()].reduce((s, n) => s + n, 0)
          : (byStatus.get(f.status) ?? 0);
  return {
    filters: f,
    rows: out,
    next: rows.rows.length > PAGE_SIZE && last ? encodeCursor(String(last.sort_key), Number(last.alert_id)) : null,
    counts: alertStates.map((s) => ({ status: s.status, n: byStatus.get(s.status) ?? 0 })),
    total,
    review,
    breached: breached.rows[0].n
  };
}

/** Each row's SLA state and next due day (view alert_sla: working days, pauses, the next payroll). */
async function withSla(pool: Pool, rows: QueueRow[]): Promise<void> {
  if (!rows.length) return;
  const r = await pool.query(`SELECT alert_id::int, sla_state, due_day::text FROM alert_sla WHERE alert_id = ANY($1::bigint[])`, [
    rows.map((x) => x.alert_id)
  ]);
  const by = new Map(r.rows.map((x) => [x.alert_id as number, x]));
  for (const row of rows) {
    row.sla_state = by.get(row.alert_id)?.sla_state ?? null;
    row.due_day = by.get(row.alert_id)?.due_day ?? null;
  }
}

/** Every row of the filtered queue (for exports), in the queue's order; at most `limit`. */
export async function queueAll(pool: Pool, caller: Caller, f: QueueFilters, limit = 100_000): Promise<QueueRow[]> {
  const order = ORDER[f.sort];
  const where = await whereOf(pool, caller, f, true);
  const r = await pool.query(
    `SELECT ${SELECT(order.key)}
       FROM alerts a
       LEFT JOIN region_paths rp ON rp.code = a.region_code
       LEFT JOIN persons pe ON pe.id_number = a.id_number
      ${where.sql}
      ORDER BY ${order.key} ${order.dir}, a.alert_id ${order.dir}
      LIMIT ${Math.max(1, Math.floor(limit))}`,
    where.values
  );
  const out = r.rows.map(toRow);
  await withSla(pool, out);
  return out;
}

/** The people an alert can be assigned to: auditors and admins whose area covers the caller's. */
export async function assignees(db: Queryable): Promise<{ username: string; display_name: string }[]> {
  const r = await db.query(
    `SELECT username, display_name FROM staff_users WHERE role IN ('auditor', 'admin') AND NOT disabled ORDER BY username`
  );
  return r.rows;
}

// ── Saved filters ────────────────────────────────────────────────────────────────────────────────
export interface SavedFilter {
  filter_id: number;
  name: string;
  query: string;
}

export async function savedFilters(db: Queryable, username: string): Promise<SavedFilter[]> {
  const r = await db.query(`SELECT filter_id::int, name, query FROM workbench_saved_filters WHERE username = $1 ORDER BY name`, [username]);
  return r.rows;
}

/** Save (or replace) the caller's filter `name`: the query string is parsed first, so only valid filters are kept. */
export async function saveFilter(db: Queryable, username: string, name: string, query: string): Promise<void> {
  const clean = name.trim();
  if (!clean || clean.length > 60) throw new HttpError(422, '名称须为1至60个字符 The name must be 1 to 60 characters', 'bad_name');
  const canonical = filtersQuery(parseFilters(new URLSearchParams(query)));
  await db.query(
    `INSERT INTO workbench_saved_filters (username, name, query) VALUES ($1, $2, $3)
     ON CONFLICT (username, name) DO UPDATE SET query = EXCLUDED.query, created_at = now()`,
    [username, clean, canonical]
  );
}

export async function deleteFilter(db: Queryable, username: string, filterId: number): Promise<void> {
  await db.query(`DELETE FROM workbench_saved_filters WHERE username = $1 AND filter_id = $2`, [username, filterId]);
}
