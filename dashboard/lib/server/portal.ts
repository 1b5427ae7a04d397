// What a signed-in resident reads about themselves — and nothing about anyone else: every query here
// is keyed by the session's own ID number, never by a value from the URL or a form.
import type { Pool } from '../../../core/db/pool.ts';
import { todayShanghai } from '../../../core/time.ts';

/** Kinds of evidence whose place (the hospital, the checkup centre) a resident recognises and may see. */
const PLACE_KINDS = new Set([
  'hospital_admission',
  'hospital_discharge',
  'outpatient_visit',
  'checkup_visit',
  'nursing_home_checkin',
  'vaccination'
]);

export interface EvidenceLine {
  date: string;
  what: string;
  source: string;
  place: string | null;
}

export interface MyStatus {
  name: string;
  today: string;
  /** certified: valid until; due: certified but ends within 30 days; lapsed: not certified; negative: a death or custody record */
  state: 'certified' | 'due' | 'lapsed' | 'negative';
  validUntil: string | null;
  daysLeft: number | null;
  method: string | null;
  certifiedBy: EvidenceLine[];
  /** Since when a benefit is suspended for want of certification (null: not suspended). */
  suspendedSince: string | null;
  benefits: { scheme: string; name_zh: string; name_en: string; monthly: string; status: string; suspendedReason: string | null }[];
  lastPayment: { period: string; paidAt: string | null; amount: string; scheme_zh: string; scheme_en: string } | null;
}

const DUE_DAYS = 30;

export async function myStatus(pool: Pool, idNumber: string, today = todayShanghai()): Promise<MyStatus | null> {
  const p = (await pool.query(`SELECT name FROM persons WHERE id_number = $1`, [idNumber])).rows[0];
  if (!p) return null;
  const cs = (
    await pool.query(
      `SELECT status, method, to_char(valid_until, 'YYYY-MM-DD') AS valid_until, (valid_until - $2::date) AS days_left, evidence_ids
       FROM cert_status WHERE id_number = $1`,
      [idNumber, today]
    )
  ).rows[0];
  const evidence = cs?.evidence_ids?.length
    ? (
        await pool.query(
          `SELECT to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS date, e.kind, e.detail, k.name_zh AS what, s.name_zh AS source
           FROM evidence e LEFT JOIN ref_evidence_kinds k ON k.kind = e.kind LEFT JOIN ref_evidence_sources s ON s.source_code = e.source
          WHERE e.id_number = $1 AND e.evidence_id = ANY($2) ORDER BY e.occurred_at DESC`,
          [idNumber, cs.evidence_ids]
        )
      ).rows
    : [];
  const suspension = (
    await pool.query(
      `SELECT to_char(max(s.event_date), 'YYYY-MM-DD') AS since FROM cert_events s
      WHERE s.id_number = $1 AND s.kind = 'suspension' AND s.event_date <= $2::date
        AND NOT EXISTS (SELECT 1 FROM cert_events r WHERE r.id_number = s.id_number AND r.kind = 'resumption' AND r.cycle_key = s.cycle_key AND r.event_date <= $2::date)`,
      [idNumber, today]
    )
  ).rows[0];
  const benefits = (
    await pool.query(
      `SELECT e.scheme_code AS scheme, sc.name_zh, sc.name_en, e.monthly_amount::text AS monthly, e.status, e.suspended_reason
       FROM enrollments e JOIN ref_schemes sc ON sc.scheme_code = e.scheme_code
      WHERE e.id_number = $1 AND e.status IN ('active', 'suspended') ORDER BY e.start_period DESC`,
      [idNumber]
    )
  ).rows;
  const last = (
    await pool.query(
      `SELECT to_char(py.period, 'YYYY-MM') AS period, to_char(py.paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS paid_at, py.amount::text AS amount,
            sc.name_zh, sc.name_en
       FROM payments py JOIN ref_schemes sc ON sc.scheme_code = py.scheme_code
      WHERE py.id_number = $1 AND py.status = 'paid' ORDER BY py.period DESC, py.paid_at DESC NULLS LAST LIMIT 1`,
      [idNumber]
    )
  ).rows[0];
  const daysLeft = cs?.days_left ?? null;
  const state: MyStatus['state'] =
    !cs || cs.status === 'not_certified'
      ? 'lapsed'
      : cs.status === 'negative'
        ? 'negative'
        : daysLeft !== null && daysLeft <= DUE_DAYS
          ? 'due'
          : 'certified';
  return {
    name: p.name,
    today,
    state,
    validUntil: cs?.status === 'certified' ? cs.valid_until : null,
    daysLeft: cs?.status === 'certified' ? daysLeft : null,
    method: cs?.status === 'certified' ? cs.method : null,
    certifiedBy: evidence.map((e) => ({
      date: e.date,
      what: e.what ?? e.kind,
      source: e.source ?? '',
      place: PLACE_KINDS.has(e.kind) && e.detail ? e.detail : null
    })),
    suspendedSince: suspension?.since ?? null,
    benefits: benefits.map((b) => ({
      scheme: b.scheme,
      name_zh: b.name_zh,
      name_en: b.name_en,
      monthly: b.monthly,
      status: b.status,
      suspendedReason: b.suspended_reason
    })),
    lastPayment: last
      ? { period: last.period, paidAt: last.paid_at, amount: last.amount, scheme_zh: last.name_zh, scheme_en: last.name_en }
      : null
  };
}
