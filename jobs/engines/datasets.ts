// Export datasets of the engines (`yinling export <name>`): documented, stable columns in a fixed
// order. Lists are ';'-joined text so CSV and JSON carry the same value; periods as YYYY-MM; evidence
// ids prefixed with what they are (payment:, death:, custody:, evidence:, certification:, person:).
// Datasets that take --as-of use it as an upper bound (NULL = everything).
import type { Dataset } from '../exports.ts';
import { maskIdNumber, maskIdNumbersIn, maskName } from '../../core/domain/masking.ts';

const id = (v: string | null) => (v === null ? null : maskIdNumber(v));
const PERSONAL = { id_number: id, name: maskName };

const EVIDENCE_IDS = `(SELECT string_agg(CASE WHEN v LIKE 'certification:%' THEN v ELSE
          CASE k WHEN 'payment_ids' THEN 'payment:' WHEN 'death_record_ids' THEN 'death:' WHEN 'custody_record_ids' THEN 'custody:'
                 WHEN 'evidence_ids' THEN 'evidence:' WHEN 'persons' THEN 'person:' ELSE k || ':' END || v END, ';' ORDER BY k, v)
     FROM jsonb_each(a.evidence) AS e(k, arr),
          jsonb_array_elements_text(CASE WHEN jsonb_typeof(arr) = 'array' THEN arr ELSE jsonb_build_array(arr) END) AS v)`;
const MONTHS = (col: string) => `array_to_string(ARRAY(SELECT to_char(x, 'YYYY-MM') FROM unnest(${col}) AS x ORDER BY x), ';')`;

export const ENGINE_DATASETS: Record<string, Dataset> = {
  alerts: {
    description:
      'fund-risk alerts (detect-risk): rule, person, exact amount at risk, periods, severity, status, evidence; opened_at = real time, ' +
      'detected_as_of / last_seen_as_of = as-of date of the run that raised / last changed it; --as-of = detected_as_of on or before (status as now)',
    sql: `SELECT a.alert_id, a.rule, a.id_number, pe.name, a.amount_at_risk, ${MONTHS('a.periods')} AS periods, a.severity, a.status,
                 ${EVIDENCE_IDS} AS evidence_ids, a.opened_at, a.detected_as_of, a.last_seen_as_of
            FROM alerts a LEFT JOIN persons pe ON pe.id_number = a.id_number
           WHERE $1::date IS NULL OR a.detected_as_of <= $1::date
           ORDER BY a.alert_id`,
    columns: [
      'alert_id',
      'rule',
      'id_number',
      'name',
      'amount_at_risk',
      'periods',
      'severity',
      'status',
      'evidence_ids',
      'opened_at',
      'detected_as_of',
      'last_seen_as_of'
    ],
    personal: { ...PERSONAL, evidence_ids: maskIdNumbersIn },
    takesAsOf: true
  },
  certifications: {
    description:
      'silent certification per benefit recipient as of the last certify run (status, method, basis date, validity, rule, evidence)',
    sql: `SELECT id_number, status, method, certified_at, valid_until, rule, array_to_string(evidence_ids, ';') AS evidence_ids
            FROM cert_status ORDER BY id_number`,
    columns: ['id_number', 'status', 'method', 'certified_at', 'valid_until', 'rule', 'evidence_ids'],
    personal: { id_number: id }
  },
  'certification-events': {
    description: 'dated certification events (certified, reminder, field_task, suspension, resumption); --as-of = dated on or before',
    sql: `SELECT event_id, id_number, kind, event_date, reason, method, rule, array_to_string(evidence_ids, ';') AS evidence_ids, region_code, as_of
            FROM cert_events WHERE $1::date IS NULL OR event_date <= $1::date ORDER BY id_number, event_date, event_id`,
    columns: ['event_id', 'id_number', 'kind', 'event_date', 'reason', 'method', 'rule', 'evidence_ids', 'region_code', 'as_of'],
    personal: { id_number: id },
    takesAsOf: true
  },
  retirements: {
    description: 'statutory retirement month of every insured person (2025 gradual reform)',
    sql: `SELECT id_number, basis, to_char(birth_month, 'YYYY-MM') AS birth_month, statutory_age_months, to_char(retirement_month, 'YYYY-MM') AS retirement_month
            FROM retirements ORDER BY id_number`,
    columns: ['id_number', 'basis', 'birth_month', 'statutory_age_months', 'retirement_month'],
    personal: { id_number: id }
  },
  'retirement-reminders': {
    description: 'retirement reminders sent, once per milestone',
    sql: `SELECT reminder_id, id_number, to_char(retirement_month, 'YYYY-MM') AS retirement_month, milestone_months, due_on, region_code, as_of
            FROM retirement_reminders ORDER BY reminder_id`,
    columns: ['reminder_id', 'id_number', 'retirement_month', 'milestone_months', 'due_on', 'region_code', 'as_of'],
    personal: { id_number: id }
  },
  'subsidy-matches': {
    description:
      'policy finds people: per project and person eligible/receiving with the facts (eligible_not_receiving = to enrol, receiving_not_eligible = to stop)',
    sql: `SELECT m.project_code, m.id_number, pe.name, m.category, m.eligible, m.receiving, m.amount, to_char(m.last_payout_period, 'YYYY-MM') AS last_payout_period,
                 m.facts, m.region_code, m.as_of
            FROM subsidy_matches m LEFT JOIN persons pe ON pe.id_number = m.id_number
           ORDER BY m.project_code, m.category, m.id_number`,
    columns: [
      'project_code',
      'id_number',
      'name',
      'category',
      'eligible',
      'receiving',
      'amount',
      'last_payout_period',
      'facts',
      'region_code',
      'as_of'
    ],
    personal: PERSONAL
  },
  'subsidy-payouts': {
    description:
      'the payout list per project for a month (monthly projects: every eligible person; per-event projects: each unpaid qualifying event); --as-of = that month',
    sql: `SELECT l.project_code, to_char(l.period, 'YYYY-MM') AS period, l.id_number, pe.name, l.event_key, l.amount, l.region_code
            FROM subsidy_payout_list l LEFT JOIN persons pe ON pe.id_number = l.id_number
           WHERE l.period = COALESCE(date_trunc('month', $1::date)::date, (SELECT max(period) FROM subsidy_payout_list))
           ORDER BY l.project_code, l.id_number, l.event_key`,
    columns: ['project_code', 'period', 'id_number', 'name', 'event_key', 'amount', 'region_code'],
    personal: PERSONAL,
    takesAsOf: true
  },
  cases: {
    description:
      'tracked cases (after-death one-thing): status, death date, overpayment to recover, funeral grant and account balance for heirs',
    sql: `SELECT c.case_id, c.kind, c.id_number, pe.name, c.status, c.death_date, c.amount_overpaid, c.funeral_grant, c.account_balance,
                 c.opened_at, c.closed_at, c.close_reason, c.region_code, c.detail
            FROM cases c LEFT JOIN persons pe ON pe.id_number = c.id_number ORDER BY c.case_id`,
    columns: [
      'case_id',
      'kind',
      'id_number',
      'name',
      'status',
      'death_date',
      'amount_overpaid',
      'funeral_grant',
      'account_balance',
      'opened_at',
      'closed_at',
      'close_reason',
      'region_code',
      'detail'
    ],
    personal: PERSONAL
  },
  tasks: {
    description: 'tasks for communities and departments (field verification, report-in, after-death steps…)',
    sql: `SELECT t.task_id, t.kind, t.id_number, pe.name, t.region_code, t.department, t.case_id, t.status, t.due_on, t.created_at, t.done_at, t.detail
            FROM tasks t LEFT JOIN persons pe ON pe.id_number = t.id_number ORDER BY t.task_id`,
    columns: [
      'task_id',
      'kind',
      'id_number',
      'name',
      'region_code',
      'department',
      'case_id',
      'status',
      'due_on',
      'created_at',
      'done_at',
      'detail'
    ],
    personal: PERSONAL
  },
  'risk-clock': {
    description:
      'money-at-risk clock per death/custody record: days to the department record and to the benefit stop, amount paid meanwhile',
    sql: `SELECT event_kind, record_id, id_number, source, event_date, recorded_on, to_char(stop_period, 'YYYY-MM') AS stop_period, days_to_record,
                 days_to_stop, days_running, amount_paid, periods_paid, stopped_timely, as_of
            FROM risk_clock ORDER BY event_kind, event_date, record_id`,
    columns: [
      'event_kind',
      'record_id',
      'id_number',
      'source',
      'event_date',
      'recorded_on',
      'stop_period',
      'days_to_record',
      'days_to_stop',
      'days_running',
      'amount_paid',
      'periods_paid',
      'stopped_timely',
      'as_of'
    ],
    personal: { id_number: id }
  },
  restorations: {
    description:
      'restorations owed for withdrawn death/custody records (detect-risk): per record and scheme the unpaid periods from the month after ' +
      'the record arrived to the month of the withdrawal, and the exact back pay; as_of = the run that found them',
    sql: `SELECT id_number, record_id, scheme_code, ${MONTHS('periods')} AS periods, back_pay, as_of
            FROM restorations ORDER BY id_number, record_kind, record_id, scheme_code`,
    columns: ['id_number', 'record_id', 'scheme_code', 'periods', 'back_pay', 'as_of'],
    personal: { id_number: id }
  },
  'recording-lags': {
    description: 'per source the typical (median) and p90 delay between a death/custody event and the department record',
    sql: `SELECT event_kind, source, records, median_days, p90_days, max_days, as_of FROM risk_source_lags ORDER BY event_kind, source`,
    columns: ['event_kind', 'source', 'records', 'median_days', 'p90_days', 'max_days', 'as_of']
  },
  'community-assignments': {
    description: 'retirees per community (residence, else hukou) with the report-in record',
    sql: `SELECT assignment_id, id_number, community_code, basis, retired_on, assigned_on, report_in_due, reported_in_at, ended_on, end_reason
            FROM community_assignments ORDER BY assignment_id`,
    columns: [
      'assignment_id',
      'id_number',
      'community_code',
      'basis',
      'retired_on',
      'assigned_on',
      'report_in_due',
      'reported_in_at',
      'ended_on',
      'end_reason'
    ],
    personal: { id_number: id }
  }
};
