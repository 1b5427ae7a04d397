// What a signed-in resident reads about themselves — and nothing about anyone else: every query here
// is keyed by the session's own ID number, never by a value from the URL or a form.
import type { Pool } from '../../../core/db/pool.ts';
import { todayShanghai } from '../../../core/time.ts';
import { HttpError } from '../../../core/errors.ts';

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

/** One month's payment of one scheme, with why the amount differs from the month before (if it does). */
export interface PaymentLine {
  period: string;
  paidAt: string | null;
  amount: string;
  status: 'paid' | 'failed' | 'returned';
  /** new: the scheme's first payment; resumed: paid again after months without; changed: the amount moved */
  change: 'new' | 'resumed' | 'changed' | null;
  previous: string | null;
  difference: string | null;
}
export interface SchemePayments {
  scheme: string;
  name_zh: string;
  name_en: string;
  lines: PaymentLine[];
  /** The enrollment is suspended now: since which month and why (the registry's reason code). */
  suspended: { since: string | null; reason: string | null } | null;
}

/**
 * The last 12 months (the current month and the 11 before it) of the resident's payments, per scheme,
 * newest first. Amounts and differences are computed and rendered as PostgreSQL numeric text — never
 * as floating point. The comparison with the month before looks at the whole history, so the first
 * month of the window is explained too.
 */
export async function myPayments(pool: Pool, idNumber: string, today = todayShanghai()): Promise<SchemePayments[]> {
  const rows = (
    await pool.query(
      `WITH mine AS (
         SELECT py.scheme_code, py.period, py.amount, py.status, py.paid_at, py.payment_id,
                lag(py.amount) OVER w AS prev_amount, lag(py.period) OVER w AS prev_period
           FROM payments py WHERE py.id_number = $1 AND py.status = 'paid'
         WINDOW w AS (PARTITION BY py.scheme_code ORDER BY py.period, py.paid_at NULLS FIRST, py.payment_id)
         UNION ALL
         SELECT py.scheme_code, py.period, py.amount, py.status, py.paid_at, py.payment_id, NULL, NULL
           FROM payments py WHERE py.id_number = $1 AND py.status <> 'paid'
       )
       SELECT m.scheme_code AS scheme, sc.name_zh, sc.name_en, to_char(m.period, 'YYYY-MM') AS period,
              to_char(m.paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS paid_at, m.amount::text AS amount, m.status,
              m.prev_amount::text AS previous, (m.amount - m.prev_amount)::text AS difference,
              CASE WHEN m.status <> 'paid' THEN NULL
                   WHEN m.prev_period IS NULL THEN 'new'
                   WHEN m.prev_period < (m.period - interval '1 month')::date THEN 'resumed'
                   WHEN m.prev_amount <> m.amount THEN 'changed' END AS change
         FROM mine m JOIN ref_schemes sc ON sc.scheme_code = m.scheme_code
        WHERE m.period >= (date_trunc('month', $2::date) - interval '11 months')::date AND m.period <= $2::date
        ORDER BY m.scheme_code, m.period DESC, m.paid_at DESC NULLS LAST, m.payment_id`,
      [idNumber, today]
    )
  ).rows;
  const enrolled = (
    await pool.query(
      `SELECT DISTINCT ON (e.scheme_code) e.scheme_code AS scheme, sc.name_zh, sc.name_en, e.status, e.suspended_reason,
              to_char((SELECT max(py.period) FROM payments py WHERE py.id_number = e.id_number AND py.scheme_code = e.scheme_code AND py.status = 'paid')
                      + interval '1 month', 'YYYY-MM') AS since
         FROM enrollments e JOIN ref_schemes sc ON sc.scheme_code = e.scheme_code
        WHERE e.id_number = $1 AND e.status IN ('active', 'suspended')
        ORDER BY e.scheme_code, (e.status = 'active') DESC, e.start_period DESC`,
      [idNumber]
    )
  ).rows;
  const byScheme = new Map<string, SchemePayments>();
  const scheme = (r: { scheme: string; name_zh: string; name_en: string }) => {
    let s = byScheme.get(r.scheme);
    if (!s) byScheme.set(r.scheme, (s = { scheme: r.scheme, name_zh: r.name_zh, name_en: r.name_en, lines: [], suspended: null }));
    return s;
  };
  for (const e of enrolled) {
    const s = scheme(e);
    if (e.status === 'suspended') s.suspended = { since: e.since, reason: e.suspended_reason || null };
  }
  for (const r of rows)
    scheme(r).lines.push({
      period: r.period,
      paidAt: r.paid_at,
      amount: r.amount,
      status: r.status,
      change: r.change,
      previous: r.previous,
      difference: r.difference
    });
  return [...byScheme.values()].filter((s) => s.lines.length || s.suspended);
}

/** Why the policy engine found the resident eligible, from the facts it recorded (subsidy_matches.facts). */
export type ClaimReason =
  | { kind: 'age'; age: number; month: string }
  | { kind: 'hardship'; hardship: string[] }
  | { kind: 'age_disability'; age: number }
  | { kind: 'admission'; date: string };
export interface Claim {
  project: string;
  name_zh: string;
  name_en: string;
  per: 'month' | 'event';
  amount: string;
  reasons: ClaimReason[];
}
export interface Received {
  project: string;
  name_zh: string;
  name_en: string;
  lines: { period: string; amount: string; paidAt: string | null }[];
}

/**
 * Subsidies I may claim — the policy engine's matches of the resident that are eligible and not
 * received (per-event projects: only while an admission is unpaid) — with the facts that made them
 * eligible; and the subsidies received in the last 12 months (the subsidies feed).
 */
export async function mySubsidies(
  pool: Pool,
  idNumber: string,
  today = todayShanghai()
): Promise<{ claims: Claim[]; received: Received[] }> {
  const matches = (
    await pool.query(
      `SELECT m.project_code AS project, p.name_zh, p.name_en, p.per, p.amount::text AS amount, p.eligibility AS e, m.facts,
              CASE WHEN p.eligibility ? 'min_age' AND m.facts ? 'birth_date'
                   THEN to_char((m.facts->>'birth_date')::date + make_interval(years => (p.eligibility->>'min_age')::int), 'YYYY-MM') END AS turned
         FROM subsidy_matches m JOIN ref_subsidy_projects p USING (project_code)
        WHERE m.id_number = $1 AND m.category = 'eligible_not_receiving'
        ORDER BY p.per, p.amount DESC, m.project_code`,
      [idNumber]
    )
  ).rows;
  const claims: Claim[] = [];
  for (const m of matches) {
    const e = m.e ?? {};
    const f = m.facts ?? {};
    const reasons: ClaimReason[] = [];
    if (e.min_age != null && m.turned) reasons.push({ kind: 'age', age: Number(e.min_age), month: m.turned });
    if (Array.isArray(e.hardship_kinds) && Array.isArray(f.hardship)) {
      const kinds = [...new Set((f.hardship as { kind: string }[]).map((h) => h.kind).filter((k) => e.hardship_kinds.includes(k)))];
      if (kinds.length) reasons.push({ kind: 'hardship', hardship: kinds });
    }
    if (e.min_age_with_disability != null && Array.isArray(f.hardship) && f.hardship.some((h: { kind: string }) => h.kind === 'disability'))
      reasons.push({ kind: 'age_disability', age: Number(e.min_age_with_disability) });
    if (e.admission_within_days != null) {
      const unpaid = ((f.admissions ?? []) as { admitted_on: string; paid: boolean }[]).filter((a) => !a.paid);
      if (!unpaid.length) continue; // every qualifying admission is paid already: nothing to claim
      for (const a of unpaid) reasons.push({ kind: 'admission', date: a.admitted_on });
    }
    claims.push({ project: m.project, name_zh: m.name_zh, name_en: m.name_en, per: m.per, amount: m.amount, reasons });
  }
  const rows = (
    await pool.query(
      `SELECT s.project_code AS project, p.name_zh, p.name_en, to_char(s.period, 'YYYY-MM') AS period, s.amount::text AS amount,
              to_char(s.paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS paid_at
         FROM subsidies s JOIN ref_subsidy_projects p USING (project_code)
        WHERE s.id_number = $1 AND s.period >= (date_trunc('month', $2::date) - interval '11 months')::date AND s.period <= $2::date
        ORDER BY s.project_code, s.period DESC, s.paid_at DESC NULLS LAST, s.payout_id`,
      [idNumber, today]
    )
  ).rows;
  const received = new Map<string, Received>();
  for (const r of rows) {
    let x = received.get(r.project);
    if (!x) received.set(r.project, (x = { project: r.project, name_zh: r.name_zh, name_en: r.name_en, lines: [] }));
    x.lines.push({ period: r.period, amount: r.amount, paidAt: r.paid_at });
  }
  return { claims, received: [...received.values()] };
}

/** A helper's step their role does not cover: 'refused' (the page says so in words); any other error goes on. */
export async function helperStep<T>(step: () => Promise<T>): Promise<T | 'refused'> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof HttpError && e.code === 'helper_not_allowed') return 'refused';
    throw e;
  }
}
