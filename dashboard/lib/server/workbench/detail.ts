// One alert as an auditor works it (/workbench/alerts/[id]): the rule and its facts, the person
// (masked until the auditor unmasks — audit-logged), related alerts, the transitions, and the
// evidence timeline: everything held about the person over the data window on one time axis, each
// row carrying its lineage — the feed, file name and line it was loaded from and when, or for the
// engines' own rows the job run that wrote them — so every number is traceable to its row.
import { HttpError } from '../../../../core/errors.ts';
import type { Pool, Queryable } from '../../../../core/db/pool.ts';
import { audit } from '../../../../core/audit.ts';
import { maskIdNumber, maskIdNumbersIn, maskName, maskPhone } from '../../../../core/domain/masking.ts';
import { alertDispositions, alertRuleNames, alertStates, alertTransitions } from '../../../../core/reference/index.ts';
import { scopeSql, type Caller } from './access.ts';
import { shanghaiIsoSql } from '../../../../core/time.ts';
import { mayUnmask } from '../scope.ts';

/** Months of history the timeline shows, up to the current month (36: the issue's data window). */
export const WINDOW_MONTHS = 36;

export interface Lineage {
  feed: string | null;
  file_id: number | null;
  file_name: string | null;
  line_no: number | null;
  loaded_at: string | null;
  run_id: number | null;
  job: string | null;
}

export interface TimelineRow {
  kind: string;
  lane: string;
  day: string;
  at: string | null;
  ref: string;
  title: string;
  amount: string | null;
  info: string | null;
  evidence: boolean;
  lineage: Lineage;
}

export interface AlertDetail {
  alert: {
    alert_id: number;
    rule: string;
    rule_zh: string;
    rule_en: string;
    severity: string;
    status: string;
    status_zh: string;
    status_en: string;
    amount_at_risk: string;
    amount_due: string | null;
    periods: string[];
    dedup_key: string;
    assignee: string | null;
    disposition: string | null;
    duplicate_of: number | null;
    opened_at: string;
    updated_at: string;
    updated_by: string | null;
    closed_at: string | null;
    close_reason: string | null;
    version: number;
    detected_as_of: string;
    run_id: number | null;
    region_name: string | null;
    detail: Record<string, unknown>;
    evidence: Record<string, unknown>;
  };
  reason_zh: string;
  reason_en: string;
  person: { id_number: string; name: string | null; sex: string | null; birth_date: string | null; phone: string | null; masked: boolean };
  may_unmask: boolean;
  related: { alert_id: number; rule: string; rule_zh: string; status: string; amount_at_risk: string; opened_at: string; why: string }[];
  transitions: {
    at: string;
    actor: string;
    from_status: string | null;
    to_status: string;
    action: string | null;
    reason: string | null;
  }[];
  recoveries: { amount: string; recovered_on: string; recorded_by: string; note: string | null; recorded_at: string }[];
  recovered_total: string;
  timeline: TimelineRow[];
  window: { from: string; to: string };
  actions: string[];
  /** The proposal waiting for a checker, with what changed since the maker saw the alert. */
  proposal: PendingProposal | null;
  ledger: { amount_due: string; recovered: string; outstanding: string; ledger_status: string; days_to_recover: number | null } | null;
  sla: { priority: string | null; sla_state: string; due_day: string | null; ack_due: string | null; act_due: string | null } | null;
}

export interface PendingProposal {
  proposal_id: number;
  action: string;
  disposition: string | null;
  intentional: boolean | null;
  amount: string | null;
  reason: string;
  made_by: string;
  made_at: string;
  alert_version: number;
  hold: { from_period: string; schemes: string[]; source_confirmed: boolean } | null;
  /** The alert's facts then and now, the fields that differ only. */
  changes: { field: string; then: string; now: string }[];
  /** Timeline rows loaded (or written by a run) after the proposal was made. */
  new_rows: TimelineRow[];
}

const FACT_FIELDS = ['status', 'amount_at_risk', 'periods', 'evidence', 'detail', 'run_id', 'last_seen_run'] as const;
/** A date as 'YYYY-MM-DD' in Asia/Shanghai, whether it came as a date string or a serialised instant. */
const dayOf = (x: unknown) => {
  const t = String(x);
  return /T/.test(t) ? new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(t)) : t.slice(0, 10);
};
const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

const money = (v: unknown) => (v === null || v === undefined ? '—' : String(v));

/** The rule's finding in plain words, Chinese and English, from the alert's own facts (exact amounts). */
export function reasonOf(rule: string, amount: string, periods: string[], detail: Record<string, unknown>): { zh: string; en: string } {
  const span = periods.length ? `${periods[0]}${periods.length > 1 ? ` – ${periods[periods.length - 1]}` : ''}` : '—';
  const n = periods.length;
  const d = detail as Record<string, unknown>;
  switch (rule) {
    case 'paid_after_death':
      return {
        zh: `死亡登记日期为 ${money(d.death_date)}，此后仍发放养老待遇 ${n} 个月（${span}），共 ${amount} 元，应予追回。`,
        en: `Death recorded on ${money(d.death_date)}; benefits were still paid for ${n} month(s) (${span}), ${amount} yuan in all, to be recovered.`
      };
    case 'paid_in_custody':
      return {
        zh: `服刑（羁押）期间仍领取养老金 ${n} 个月（${span}），共 ${amount} 元。`,
        en: `A pension was paid for ${n} month(s) while the person was in custody (${span}), ${amount} yuan in all.`
      };
    case 'double_receipt':
      return {
        zh: `同一月份同时领取两种互斥的养老待遇，共 ${n} 个月（${span}），重复部分（较小一笔）合计 ${amount} 元。`,
        en: `Two mutually exclusive pensions were paid for the same month, ${n} month(s) (${span}); the duplicate (smaller) payments total ${amount} yuan.`
      };
    case 'abnormal_amount':
      return {
        zh: `发放金额偏离此前各期的中位数超过阈值，共 ${n} 期（${span}），超出中位数部分合计 ${amount} 元。`,
        en: `Payments differ from the median of the previous ones by more than the threshold in ${n} period(s) (${span}); the excess over the median totals ${amount} yuan.`
      };
    case 'shared_account':
      return {
        zh: `账户 ${money(d.account_no)} 在同一月份为多人收取养老待遇，共 ${n} 个月（${span}），涉及金额 ${amount} 元。`,
        en: `Account ${money(d.account_no)} received pensions for several people in the same month, ${n} month(s) (${span}), ${amount} yuan in all.`
      };
    case 'post_death_activity':
      return {
        zh: `死亡登记日期为 ${money(d.death_date)}，此后仍有本人的活动或认证记录（${span}），需核实身份是否被冒用。`,
        en: `Death recorded on ${money(d.death_date)}, yet the person's own activity or certification appears afterwards (${span}): check for impersonation.`
      };
    case 'no_sign_of_life':
      return {
        zh: `${money(d.age)} 岁，近期没有任何有力生存证据，仍在领取待遇（${span}），涉及金额 ${amount} 元。`,
        en: `Aged ${money(d.age)}, no strong sign of life recently and still paid (${span}): ${amount} yuan at stake.`
      };
    default:
      return { zh: `预警金额 ${amount} 元（${span}）。`, en: `${amount} yuan at risk (${span}).` };
  }
}

/** The lifecycle actions open from a status (the catalogue's transitions; the engines' own excluded). */
export function actionsFrom(status: string): string[] {
  return alertTransitions.filter((t) => t.from.includes(status) && t.action !== 'system_close').map((t) => t.action);
}

const LINEAGE = (t: string) =>
  `f.feed, ${t}.file_id::int AS file_id, f.file_name, ${t}.line_no, ${shanghaiIsoSql(`${t}.loaded_at`)} AS loaded_at, NULL::int AS run_id, NULL::text AS job`;
const RUN_LINEAGE = (t: string) =>
  `NULL::text AS feed, NULL::int AS file_id, NULL::text AS file_name, NULL::int AS line_no, ${shanghaiIsoSql('j.finished_at')} AS loaded_at, ${t}.run_id::int AS run_id, j.job`;
const RUN_JOIN = (t: string) => `LEFT JOIN LATERAL (SELECT job, finished_at FROM job_runs WHERE run_id = ${t}.run_id LIMIT 1) j ON true`;

/**
 * The person's rows over [from, today]: payments per scheme, enrollments, certifications and their
 * basis (cert_events, cert_status), evidence per source, death and custody records, subsidies, cases
 * and tasks, earlier alerts and their transitions. $1 id_number, $2 window start (date).
 */
const TIMELINE_SQL = `
SELECT 'payment' AS kind, 'payment:' || p.scheme_code AS lane, p.period::text AS day, ${shanghaiIsoSql('p.paid_at')} AS at, p.payment_id AS ref,
       p.scheme_code || ' ' || p.status AS title, p.amount::text AS amount, 'account ' || COALESCE(p.account_no, '—') AS info, ${LINEAGE('p')}
  FROM payments p LEFT JOIN ingest_files f ON f.file_id = p.file_id
 WHERE p.id_number = $1 AND p.period >= $2::date
UNION ALL
SELECT 'enrollment', 'enrollment:' || e.scheme_code, e.start_period::text, ${shanghaiIsoSql('e.updated_at')}, e.enrollment_id,
       e.scheme_code || ' ' || e.status, e.monthly_amount::text,
       'from ' || to_char(e.start_period, 'YYYY-MM') || COALESCE(' to ' || to_char(e.end_period, 'YYYY-MM'), '') || COALESCE(', ' || e.suspended_reason, ''),
       ${LINEAGE('e')}
  FROM enrollments e LEFT JOIN ingest_files f ON f.file_id = e.file_id
 WHERE e.id_number = $1
UNION ALL
SELECT 'certification', 'certification', (c.certified_at AT TIME ZONE 'Asia/Shanghai')::date::text, ${shanghaiIsoSql('c.certified_at')}, c.certification_id,
       c.method || ' ' || c.result, NULL, c.operator, ${LINEAGE('c')}
  FROM certifications c LEFT JOIN ingest_files f ON f.file_id = c.file_id
 WHERE c.id_number = $1 AND c.certified_at >= $2::date
UNION ALL
SELECT 'evidence', 'evidence:' || ev.source, (ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date::text, ${shanghaiIsoSql('ev.occurred_at')}, ev.evidence_id,
       ev.source || ' ' || ev.kind, NULL, ev.detail, ${LINEAGE('ev')}
  FROM evidence ev LEFT JOIN ingest_files f ON f.file_id = ev.file_id
 WHERE ev.id_number = $1 AND ev.occurred_at >= $2::date
UNION ALL
SELECT 'death', 'death', d.death_date::text, ${shanghaiIsoSql('d.recorded_at')}, d.record_id, 'death ' || d.source, NULL,
       'recorded ' || COALESCE(to_char(d.recorded_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), '—'), ${LINEAGE('d')}
  FROM deaths d LEFT JOIN ingest_files f ON f.file_id = d.file_id
 WHERE d.id_number = $1
UNION ALL
SELECT 'custody', 'custody', i.start_date::text, ${shanghaiIsoSql('i.recorded_at')}, i.record_id, 'custody ' || i.source, NULL,
       to_char(i.start_date, 'YYYY-MM-DD') || ' – ' || COALESCE(to_char(i.end_date, 'YYYY-MM-DD'), '…'), ${LINEAGE('i')}
  FROM imprisonments i LEFT JOIN ingest_files f ON f.file_id = i.file_id
 WHERE i.id_number = $1
UNION ALL
SELECT 'subsidy', 'subsidy:' || s.project_code, s.period::text, ${shanghaiIsoSql('s.paid_at')}, s.payout_id, s.project_code, s.amount::text, NULL, ${LINEAGE('s')}
  FROM subsidies s LEFT JOIN ingest_files f ON f.file_id = s.file_id
 WHERE s.id_number = $1 AND s.period >= $2::date
UNION ALL
SELECT 'cert_event', 'certification', ce.event_date::text, ${shanghaiIsoSql('ce.created_at')}, 'cert_event:' || ce.event_id, 'cert ' || ce.kind, NULL,
       concat_ws(' ', ce.reason, ce.rule, ce.method, NULLIF(array_to_string(ce.evidence_ids, ','), '')), ${RUN_LINEAGE('ce')}
  FROM cert_events ce ${RUN_JOIN('ce')}
 WHERE ce.id_number = $1 AND ce.event_date >= $2::date
UNION ALL
SELECT 'cert_status', 'certification', COALESCE(cs.certified_at, cs.as_of)::text, ${shanghaiIsoSql('cs.updated_at')}, 'cert_status', 'status ' || cs.status, NULL,
       concat_ws(' ', cs.rule, cs.method, 'valid until ' || cs.valid_until::text, NULLIF(array_to_string(cs.evidence_ids, ','), '')), ${RUN_LINEAGE('cs')}
  FROM cert_status cs ${RUN_JOIN('cs')}
 WHERE cs.id_number = $1
UNION ALL
SELECT 'case', 'case', (ca.opened_at AT TIME ZONE 'Asia/Shanghai')::date::text, ${shanghaiIsoSql('ca.opened_at')}, 'case:' || ca.case_id, ca.kind || ' ' || ca.status,
       ca.amount_overpaid::text, ca.close_reason, ${RUN_LINEAGE('ca')}
  FROM cases ca ${RUN_JOIN('ca')}
 WHERE ca.id_number = $1
UNION ALL
SELECT 'task', 'task', (t.created_at AT TIME ZONE 'Asia/Shanghai')::date::text, ${shanghaiIsoSql('t.created_at')}, 'task:' || t.task_id,
       t.kind || ' ' || t.status, NULL, concat_ws(' ', t.department, 'due ' || t.due_on::text), ${RUN_LINEAGE('t')}
  FROM tasks t ${RUN_JOIN('t')}
 WHERE t.id_number = $1
UNION ALL
SELECT 'alert', 'alert', a.detected_as_of::text, ${shanghaiIsoSql('a.opened_at')}, 'alert:' || a.alert_id, a.rule || ' ' || a.status, a.amount_at_risk::text,
       a.disposition, ${RUN_LINEAGE('a')}
  FROM alerts a ${RUN_JOIN('a')}
 WHERE a.id_number = $1
UNION ALL
SELECT 'transition', 'alert', (tr.at AT TIME ZONE 'Asia/Shanghai')::date::text, ${shanghaiIsoSql('tr.at')}, 'transition:' || tr.transition_id,
       'alert ' || tr.alert_id || ' ' || COALESCE(tr.action, '') || ' → ' || tr.to_status, NULL, tr.actor || COALESCE(': ' || tr.reason, ''),
       NULL::text, NULL::int, NULL::text, NULL::int, NULL::text, NULL::int, NULL::text
  FROM alert_transitions tr JOIN alerts a ON a.alert_id = tr.alert_id
 WHERE a.id_number = $1 AND tr.at >= $2::date
ORDER BY day, at NULLS FIRST, kind, ref`;

/** The ids of the rows the alert's finding rests on (alerts.evidence), to mark them in the timeline. */
function evidenceRefs(evidence: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const key of ['payment_ids', 'evidence_ids', 'death_record_ids', 'custody_record_ids']) {
    const v = evidence[key];
    if (Array.isArray(v)) for (const x of v) out.add(String(x).replace(/^certification:/, ''));
  }
  if (typeof evidence.last_strong_evidence_id === 'string') out.add(evidence.last_strong_evidence_id);
  return out;
}

/** The timeline of a person over the window starting `from` ('YYYY-MM-DD'). */
export async function timelineOf(db: Queryable, idNumber: string, from: string, refs = new Set<string>()): Promise<TimelineRow[]> {
  const r = await db.query(TIMELINE_SQL, [idNumber, from]);
  return r.rows.map((x) => ({
    kind: x.kind,
    lane: x.lane,
    day: x.day,
    at: x.at,
    ref: x.ref,
    title: x.title,
    amount: x.amount,
    // Raw feed text (evidence detail, notes) may carry other people's ID numbers: masked where they stand.
    info: maskIdNumbersIn(x.info),
    evidence: refs.has(x.ref),
    lineage: {
      feed: x.feed,
      file_id: x.file_id,
      file_name: x.file_name,
      line_no: x.line_no,
      loaded_at: x.loaded_at,
      run_id: x.run_id,
      job: x.job
    }
  }));
}

/** Mask every ID number inside a JSON value (the facts of a shared account name its members). */
function maskDeep(v: unknown): unknown {
  if (typeof v === 'string') return maskIdNumbersIn(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskDeep(x)]));
  return v;
}

/**
 * The alert `id` in the caller's area (404 outside it: an auditor of one district does not learn
 * that another district's alert exists). `unmask`: the person unmasked — only for roles that may,
 * and logged in audit_log ('unmask.alert') before the data leaves.
 */
export async function alertDetail(
  pool: Pool,
  caller: Caller,
  id: number,
  opts: { unmask?: boolean; ip?: string; today?: string } = {}
): Promise<AlertDetail> {
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(404, `没有预警 ${id} No alert ${id}`, 'unknown_alert');
  const scope = scopeSql(caller, 'a.region_code', 2);
  const r = await pool.query(
    `SELECT a.alert_id::int, a.rule, a.severity, a.status, a.amount_at_risk::text, a.amount_due::text,
            ARRAY(SELECT to_char(x, 'YYYY-MM') FROM unnest(a.periods) x ORDER BY x) AS periods, a.dedup_key, a.assignee,
            a.disposition, a.duplicate_of::int, ${shanghaiIsoSql('a.opened_at')} AS opened_at, ${shanghaiIsoSql('a.updated_at')} AS updated_at, a.updated_by,
            ${shanghaiIsoSql('a.closed_at')} AS closed_at, a.close_reason, a.version, a.detected_as_of::text, a.run_id::int, rp.name AS region_name,
            a.detail, a.evidence, a.id_number, pe.name, pe.sex, pe.birth_date::text, pe.phone
       FROM alerts a
       LEFT JOIN region_paths rp ON rp.code = a.region_code
       LEFT JOIN persons pe ON pe.id_number = a.id_number
      WHERE a.alert_id = $1${scope.sql}`,
    [id, ...scope.values]
  );
  const a = r.rows[0];
  if (!a) throw new HttpError(404, `没有预警 ${id}，或不在您的辖区内 No alert ${id} in your area`, 'unknown_alert');
  if (opts.unmask && !mayUnmask(caller))
    throw new HttpError(403, '您的角色不能查看完整身份信息 Your role may not see unmasked personal data', 'unmask_forbidden');
  const unmasked = !!opts.unmask;
  if (unmasked)
    await audit(pool, { type: 'staff', name: caller.name, ip: opts.ip }, 'unmask.alert', String(id), {
      id_number: a.id_number,
      role: caller.role,
      fields: ['id_number', 'name', 'phone', 'birth_date']
    });

  // The window: 36 months up to the current month, widened to the alert's first period if older.
  const w = await pool.query(
    `SELECT LEAST((date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') - make_interval(months => $1::int - 1))::date,
                  COALESCE($2::date, 'infinity'::date))::text AS from, (now() AT TIME ZONE 'Asia/Shanghai')::date::text AS to`,
    [WINDOW_MONTHS, a.periods[0] ? `${a.periods[0]}-01` : null]
  );
  const window = w.rows[0] as { from: string; to: string };
  const accounts = await pool.query(`SELECT DISTINCT account_no FROM payments WHERE id_number = $1 AND account_no IS NOT NULL`, [
    a.id_number
  ]);
  const accountNos = accounts.rows.map((x) => x.account_no as string);
  const [timeline, related, transitions, recoveries] = await Promise.all([
    timelineOf(pool, a.id_number, window.from, evidenceRefs(a.evidence)),
    pool.query(
      `SELECT a.alert_id::int, a.rule, a.status, a.amount_at_risk::text, ${shanghaiIsoSql('a.opened_at')} AS opened_at,
              CASE WHEN a.id_number = $2 THEN 'person' ELSE 'account' END AS why
         FROM alerts a
        WHERE a.alert_id <> $1
          AND (a.id_number = $2 OR (a.rule = 'shared_account' AND a.dedup_key = ANY($3::text[])) OR a.evidence -> 'persons' ? $2)
        ORDER BY a.opened_at DESC, a.alert_id DESC LIMIT 100`,
      [id, a.id_number, accountNos]
    ),
    pool.query(
      `SELECT ${shanghaiIsoSql('at')} AS at, actor, from_status, to_status, action, reason FROM alert_transitions WHERE alert_id = $1 ORDER BY at, transition_id`,
      [id]
    ),
    pool.query(
      `SELECT amount::text, recovered_on::text, recorded_by, note, ${shanghaiIsoSql('recorded_at')} AS recorded_at FROM recoveries WHERE alert_id = $1 ORDER BY recovered_on, recovery_id`,
      [id]
    )
  ]);
  const total = await pool.query(`SELECT COALESCE(sum(amount), 0)::text AS t FROM recoveries WHERE alert_id = $1`, [id]);
  const [pending, ledger, sla, now] = await Promise.all([
    pool.query(
      `SELECT proposal_id::int, action, disposition, intentional, amount::text, reason, made_by, ${shanghaiIsoSql('made_at')} AS made_at, made_at AS made_ts,
              alert_version, snapshot
         FROM alert_proposals WHERE alert_id = $1 AND state = 'pending'`,
      [id]
    ),
    pool.query(
      `SELECT amount_due::text, recovered::text, outstanding::text, ledger_status, days_to_recover FROM recovery_ledger WHERE alert_id = $1`,
      [id]
    ),
    pool.query(`SELECT priority, sla_state, due_day::text, ack_due::text, act_due::text FROM alert_sla WHERE alert_id = $1`, [id]),
    pool.query(
      `SELECT status, amount_at_risk::text, ARRAY(SELECT x::text FROM unnest(periods) x ORDER BY x) AS periods, evidence, detail,
              run_id::int, last_seen_run::int FROM alerts WHERE alert_id = $1`,
      [id]
    )
  ]);
  let proposal: PendingProposal | null = null;
  const p = pending.rows[0];
  if (p) {
    const snap = p.snapshot as Record<string, unknown>;
    const cur = now.rows[0] as Record<string, unknown>;
    const norm = (f: string, v: unknown) =>
      f === 'periods' && Array.isArray(v) ? v.map(dayOf) : f === 'run_id' || f === 'last_seen_run' ? (v === null ? null : Number(v)) : v;
    const changes = FACT_FIELDS.filter((f) => f !== 'status')
      .map((f) => ({ field: f, then: show(norm(f, snap[f])), now: show(norm(f, cur[f])) }))
      .filter((c) => c.then !== c.now)
      .map((c) => (unmasked ? c : { ...c, then: maskIdNumbersIn(c.then)!, now: maskIdNumbersIn(c.now)! }));
    const madeAt = Date.parse(p.made_at);
    proposal = {
      proposal_id: p.proposal_id,
      action: p.action,
      disposition: p.disposition,
      intentional: p.intentional,
      amount: p.amount,
      reason: maskIdNumbersIn(p.reason) ?? '',
      made_by: p.made_by,
      made_at: p.made_at,
      alert_version: p.alert_version,
      hold: (snap.hold as PendingProposal['hold']) ?? null,
      changes,
      new_rows: timeline.filter((t) => t.lineage.loaded_at !== null && Date.parse(t.lineage.loaded_at) > madeAt && t.kind !== 'transition')
    };
  }
  const names = alertRuleNames.get(a.rule);
  const state = alertStates.find((s) => s.status === a.status);
  const reason = reasonOf(a.rule, a.amount_at_risk, a.periods, a.detail ?? {});
  const detail = unmasked ? a.detail : (maskDeep(a.detail) as Record<string, unknown>);
  const evidence = unmasked ? a.evidence : (maskDeep(a.evidence) as Record<string, unknown>);
  return {
    alert: {
      alert_id: a.alert_id,
      rule: a.rule,
      rule_zh: names?.name_zh ?? a.rule,
      rule_en: names?.name_en ?? a.rule,
      severity: a.severity,
      status: a.status,
      status_zh: state?.name_zh ?? a.status,
      status_en: state?.name_en ?? a.status,
      amount_at_risk: a.amount_at_risk,
      amount_due: a.amount_due,
      periods: a.periods,
      dedup_key: a.rule === 'shared_account' ? a.dedup_key : a.dedup_key,
      assignee: a.assignee,
      disposition: a.disposition,
      duplicate_of: a.duplicate_of,
      opened_at: a.opened_at,
      updated_at: a.updated_at,
      updated_by: a.updated_by,
      closed_at: a.closed_at,
      close_reason: unmasked ? a.close_reason : maskIdNumbersIn(a.close_reason),
      version: a.version,
      detected_as_of: a.detected_as_of,
      run_id: a.run_id,
      region_name: a.region_name,
      detail,
      evidence
    },
    reason_zh: reason.zh,
    reason_en: reason.en,
    person: {
      id_number: unmasked ? a.id_number : maskIdNumber(a.id_number),
      name: unmasked ? a.name : maskName(a.name),
      sex: a.sex,
      birth_date: unmasked ? a.birth_date : a.birth_date ? `${a.birth_date.slice(0, 4)}-**-**` : null,
      phone: unmasked ? a.phone : maskPhone(a.phone),
      masked: !unmasked
    },
    may_unmask: mayUnmask(caller),
    related: related.rows.map((x) => ({ ...x, rule_zh: alertRuleNames.get(x.rule)?.name_zh ?? x.rule })),
    transitions: transitions.rows.map((x) => ({ ...x, reason: maskIdNumbersIn(x.reason) })),
    recoveries: recoveries.rows.map((x) => ({ ...x, note: maskIdNumbersIn(x.note) })),
    recovered_total: total.rows[0].t,
    timeline,
    window,
    actions: actionsFrom(a.status),
    proposal,
    ledger: ledger.rows[0] ?? null,
    sla: sla.rows[0] ?? null
  };
}

export const dispositionsForPeople = alertDispositions.filter((d) => !d.system_only);
