// Silent certification (静默认证), docs/rules.md 1–8, as a pure decision over one person's timeline.
// This is the reference statement of the rules: the certify engine runs the same decisions
// set-based in SQL (sql/engines/certify.sql) and tests/engines-certify.test.ts checks both agree on
// hand-built and random timelines. Numbers come from configuration (rules.json `certification`).
//
// Decisions where the rules leave room (an auditor's reading, also in the engine's header and docs/rules.md):
// - Dates are Asia/Shanghai calendar dates; an evidence record's date is its occurred_at there.
// - Only what was known on the as-of date counts: evidence/certifications dated ≤ as-of, death and
//   custody records whose event date ≤ as-of and whose recorded_at (when given) is ≤ as-of.
// - "Within the last 12 months" = dated on or after as-of − 12 months (inclusive).
//   valid_until = basis date + validity months (calendar months, clamped to month end), and the
//   person is certified while as-of ≤ valid_until; the lapse date is valid_until + 1 day.
// - Negative first: a death dated ≤ as-of, or custody that started ≤ as-of and has no end date or
//   ends after as-of, makes the person negative (death wins over custody). Nothing certifies them.
// - "After any negative record": a basis must be dated strictly after the end of every *ended*
//   custody (evidence from inside prison or before it does not prove the person is back).
// - Weak corroboration: an anchor weak record at date d plus records in [d, d + window] (inclusive,
//   all within the lookback and ≤ as-of) reaching min_records records and min_sources distinct
//   sources; validity runs from d (the earlier). The most recent qualifying anchor counts.
//   Weak corroboration is behavioural data, so its method is `silent` (rule weak_corroboration).
// - Explicit certifications count only with result `pass`; a `fail` neither certifies nor negates.
// - Most recent basis date wins; on the same day silent beats explicit, strong beats weak; among
//   explicit ones the latest timestamp, then the smallest certification id (deterministic).
// - Evidence ids: every strong record on the basis date; for weak corroboration the anchor and the
//   records of its window; for an explicit certification its certification id.
// - Positive evidence (any kind) or a passed explicit certification dated after a death date is
//   post-death activity: reported separately (the risk engine raises the alert), never certifies.
export interface CertificationConfig {
  validity_months: number;
  lookback_months: number;
  weak_corroboration_days: number;
  weak_min_sources: number;
  weak_min_records: number;
}

export interface TimelineEvidence {
  evidence_id: string;
  source: string;
  kind: string;
  strength: 'strong' | 'weak';
  date: string;
}
export interface TimelineCertification {
  certification_id: string;
  method: string;
  date: string;
  at?: string;
  result: 'pass' | 'fail';
}
export interface TimelineDeath {
  record_id: string;
  death_date: string;
  recorded_on?: string | null;
}
export interface TimelineCustody {
  record_id: string;
  start_date: string;
  end_date: string | null;
  recorded_on?: string | null;
}

export interface Timeline {
  asOf: string;
  evidence?: TimelineEvidence[];
  certifications?: TimelineCertification[];
  deaths?: TimelineDeath[];
  imprisonments?: TimelineCustody[];
}

export type CertStatus = 'certified' | 'not_certified' | 'negative';
export type CertRule =
  | 'negative_death'
  | 'negative_custody'
  | 'strong_evidence'
  | 'weak_corroboration'
  | 'explicit_certification'
  | 'expired'
  | 'never_certified';

export interface CertDecision {
  status: CertStatus;
  method: string | null;
  certified_at: string | null;
  valid_until: string | null;
  rule: CertRule;
  evidence_ids: string[];
  /** For not_certified: the most recent basis ever (outside the window), to date reminders and suspension. */
  last_certified_at: string | null;
  last_valid_until: string | null;
  /** Evidence/certification ids dated after a death date (post_death_activity). */
  post_death_ids: string[];
}

// ---- calendar on 'YYYY-MM-DD' strings (UTC arithmetic on civil dates, no time zone involved) ----
const DAY_MS = 86_400_000;
const toDay = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10))) / DAY_MS;
const fromDay = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);
export function addDays(date: string, n: number): string {
  return fromDay(toDay(date) + n);
}
/** Same day-of-month n months later, clamped to the month's end (as PostgreSQL's date + interval). */
export function addMonths(date: string, n: number): string {
  const y = Number(date.slice(0, 4)),
    m = Number(date.slice(5, 7)) - 1 + n,
    d = Number(date.slice(8, 10));
  const ty = y + Math.floor(m / 12),
    tm = ((m % 12) + 12) % 12;
  const last = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  return fromDay(Date.UTC(ty, tm, Math.min(d, last)) / DAY_MS);
}

const known = (recorded: string | null | undefined, asOf: string) => !recorded || recorded <= asOf;

interface Basis {
  date: string;
  silent: boolean;
  strong: boolean;
  method: string;
  rule: CertRule;
  ids: string[];
  at: string;
  id: string;
}

function better(a: Basis, b: Basis): Basis {
  if (a.date !== b.date) return a.date > b.date ? a : b;
  if (a.silent !== b.silent) return a.silent ? a : b;
  if (a.strong !== b.strong) return a.strong ? a : b;
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return a.id <= b.id ? a : b;
}

export function decideCertification(t: Timeline, cfg: CertificationConfig): CertDecision {
  const asOf = t.asOf;
  const evidence = (t.evidence ?? []).filter((e) => e.date <= asOf);
  const certs = (t.certifications ?? []).filter((c) => c.date <= asOf && c.result === 'pass');
  const deaths = (t.deaths ?? []).filter((d) => d.death_date <= asOf && known(d.recorded_on, asOf));
  const custody = (t.imprisonments ?? []).filter((i) => i.start_date <= asOf && known(i.recorded_on, asOf));

  const deathDate = deaths.length ? deaths.map((d) => d.death_date).sort()[0] : null;
  const postDeath = deathDate
    ? [
        ...evidence.filter((e) => e.date > deathDate).map((e) => e.evidence_id),
        ...certs.filter((c) => c.date > deathDate).map((c) => c.certification_id)
      ].sort()
    : [];
  const empty = { method: null, certified_at: null, valid_until: null, last_certified_at: null, last_valid_until: null };
  if (deathDate)
    return {
      status: 'negative',
      rule: 'negative_death',
      evidence_ids: deaths.map((d) => d.record_id).sort(),
      post_death_ids: postDeath,
      ...empty
    };
  const ongoing = custody.filter((i) => i.end_date === null || i.end_date > asOf);
  if (ongoing.length)
    return {
      status: 'negative',
      rule: 'negative_custody',
      evidence_ids: ongoing.map((i) => i.record_id).sort(),
      post_death_ids: [],
      ...empty
    };

  // Bases must be dated after every ended custody.
  const after = custody.reduce<string | null>((m, i) => (i.end_date && (!m || i.end_date > m) ? i.end_date : m), null);
  const usable = (date: string) => !after || date > after;
  const windowStart = addMonths(asOf, -cfg.lookback_months);

  const bases: Basis[] = [];
  for (const e of evidence) {
    if (e.strength === 'strong' && usable(e.date)) {
      bases.push({
        date: e.date,
        silent: true,
        strong: true,
        method: 'silent',
        rule: 'strong_evidence',
        ids: [e.evidence_id],
        at: e.date,
        id: e.evidence_id
      });
    }
  }
  for (const c of certs) {
    if (usable(c.date))
      bases.push({
        date: c.date,
        silent: false,
        strong: true,
        method: c.method,
        rule: 'explicit_certification',
        ids: [c.certification_id],
        at: c.at ?? c.date,
        id: c.certification_id
      });
  }
  // Weak corroboration: anchors inside the lookback window only (rule 3: both within the last 12 months),
  // but also evaluated over all history to know when a lapsed person's last certification ran out.
  const weak = evidence.filter((e) => e.strength === 'weak' && usable(e.date));
  for (const a of weak) {
    const end = addDays(a.date, cfg.weak_corroboration_days);
    const inWin = weak.filter((w) => w.date >= a.date && w.date <= end);
    const sources = new Set(inWin.map((w) => w.source));
    if (inWin.length >= cfg.weak_min_records && sources.size >= cfg.weak_min_sources) {
      // A window only corroborates "within the last 12 months" when its records lie in it; the anchor
      // being the earliest, it suffices that the anchor does.
      bases.push({
        date: a.date,
        silent: true,
        strong: false,
        method: 'silent',
        rule: 'weak_corroboration',
        ids: inWin.map((w) => w.evidence_id),
        at: a.date,
        id: a.evidence_id
      });
    }
  }
  if (!bases.length) return { status: 'not_certified', rule: 'never_certified', evidence_ids: [], post_death_ids: [], ...empty };

  let best = bases[0];
  for (const b of bases.slice(1)) best = better(best, b);
  // All strong records of the same day explain a strong basis.
  let ids = best.ids;
  if (best.rule === 'strong_evidence')
    ids = evidence.filter((e) => e.strength === 'strong' && e.date === best.date).map((e) => e.evidence_id);
  ids = [...new Set(ids)].sort();
  const validUntil = addMonths(best.date, cfg.validity_months);
  if (best.date >= windowStart && validUntil >= asOf) {
    return {
      status: 'certified',
      method: best.method,
      certified_at: best.date,
      valid_until: validUntil,
      rule: best.rule,
      evidence_ids: ids,
      last_certified_at: best.date,
      last_valid_until: validUntil,
      post_death_ids: []
    };
  }
  return {
    status: 'not_certified',
    rule: 'expired',
    evidence_ids: ids,
    post_death_ids: [],
    method: null,
    certified_at: null,
    valid_until: null,
    last_certified_at: best.date,
    last_valid_until: validUntil
  };
}

/** Dates of the follow-up steps for a lapsing or lapsed certification (rule 5). */
export function followUpDates(
  lastValidUntil: string,
  cfg: { reminder_days_before_expiry: number; field_task_days_after_expiry: number; suspension_days_after_expiry: number }
) {
  const lapse = addDays(lastValidUntil, 1);
  return {
    reminder: addDays(lapse, -cfg.reminder_days_before_expiry),
    lapse,
    fieldTask: addDays(lapse, cfg.field_task_days_after_expiry),
    suspension: addDays(lapse, cfg.suspension_days_after_expiry)
  };
}
