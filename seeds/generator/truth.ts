// Ground-truth implementations of docs/rules.md's certification and per-person risk rules, written
// independently of the engines (simple and literal). Each takes a `Variant` so the generator can
// evaluate a strict and a lenient reading of every boundary (12-month cutoff ±3 days, 90-day gap
// ≤87 vs ≤93, whether an ended imprisonment counts as a negative record) and keep only data on
// which both readings agree: then no engine's boundary choice can change the expected answer.
import { addMonths, ageOn, firstDay, lastDay, monthOf, type Day, type Month } from './calendar.ts';

export interface EvidenceFact {
  day: Day;
  strong: boolean;
  source: string;
}
export interface ExplicitFact {
  day: Day;
  method: string;
  pass: boolean;
}

export interface CertFacts {
  evidence: readonly EvidenceFact[];
  explicit: readonly ExplicitFact[];
  deathDay: Day | null;
  /** Imprisonment without end date or ending after as-of. */
  ongoingCustody: boolean;
  /** End dates of imprisonments that ended on or before as-of. */
  pastCustodyEnds: readonly Day[];
}

export interface Variant {
  /** Added to the 12-month cutoff: evidence must be dated after cutoff + shift. */
  cutoffShift: number;
  /** Largest gap in days between two corroborating weak records. */
  gapMax: number;
  /** Whether positive evidence must postdate an imprisonment that has already ended. */
  pastCustodyNegative: boolean;
}

export const STRICT: Variant = { cutoffShift: 3, gapMax: 87, pastCustodyNegative: true };
export const LENIENT: Variant = { cutoffShift: -3, gapMax: 93, pastCustodyNegative: false };
/** The documented reading: evidence date > as-of minus 12 months, gap ≤ 90 days. */
export const NOMINAL: Variant = { cutoffShift: 0, gapMax: 90, pastCustodyNegative: true };

export type CertMethod = 'silent' | 'face_online' | 'field_visit' | 'kiosk' | 'counter';
export interface CertOutcome {
  status: 'certified' | 'not_certified' | 'negative';
  method: CertMethod | null;
  certifiedOn: Day | null;
}

/** docs/rules.md "Silent certification", steps 1–4 and 7. */
export function certify(f: CertFacts, asOf: Day, v: Variant): CertOutcome {
  if (f.deathDay !== null || f.ongoingCustody) return { status: 'negative', method: null, certifiedOn: null };
  const cutoff = addMonths(asOf, -12) + v.cutoffShift;
  const after = v.pastCustodyNegative && f.pastCustodyEnds.length ? Math.max(...f.pastCustodyEnds) : -Infinity;
  const inWindow = (d: Day) => d > cutoff && d <= asOf && d > after;

  let silent = -Infinity;
  const weak: EvidenceFact[] = [];
  for (const e of f.evidence) {
    if (!inWindow(e.day)) continue;
    if (e.strong) silent = Math.max(silent, e.day);
    else weak.push(e);
  }
  // Weak corroboration: two records from different sources within gapMax days; dated by the earlier.
  weak.sort((a, b) => a.day - b.day);
  for (let i = 0; i < weak.length; i++) {
    if (weak[i].day <= silent) continue;
    for (let j = i + 1; j < weak.length && weak[j].day - weak[i].day <= v.gapMax; j++) {
      if (weak[j].source !== weak[i].source) {
        silent = Math.max(silent, weak[i].day);
        break;
      }
    }
  }
  let explicit = -Infinity;
  let method: CertMethod | null = null;
  for (const c of f.explicit) {
    if (!c.pass || !inWindow(c.day)) continue;
    // Several passes on one day: any method will do, but be deterministic (alphabetical).
    if (c.day > explicit || (c.day === explicit && method !== null && c.method < method)) {
      explicit = c.day;
      method = c.method as CertMethod;
    }
  }
  if (silent === -Infinity && explicit === -Infinity) return { status: 'not_certified', method: null, certifiedOn: null };
  if (silent >= explicit) return { status: 'certified', method: 'silent', certifiedOn: silent };
  return { status: 'certified', method, certifiedOn: explicit };
}

export function sameOutcome(a: CertOutcome, b: CertOutcome): boolean {
  return a.status === b.status && a.method === b.method && a.certifiedOn === b.certifiedOn;
}

// ---- risk rules (per person; shared_account is cross-person and planned explicitly) -------------

export interface PaymentFact {
  period: Month;
  scheme: string;
  fen: number;
  status: 'paid' | 'failed' | 'returned';
}
export interface EnrollmentFact {
  scheme: string;
  updatedMonth: Month;
  fen: number;
}
export interface RiskFacts {
  birth: Day;
  deathDay: Day | null;
  custody: readonly { start: Day; end: Day | null }[];
  payments: readonly PaymentFact[];
  evidence: readonly EvidenceFact[];
  enrollments: readonly EnrollmentFact[];
}

export const EXCLUSIVE = new Set(['ENT', 'INS', 'RES', 'LLF']);

export interface RuleHit {
  rule: string;
  periods: Month[];
  fen: number;
}

/** Problems that would make the expected answer depend on a reading of the rules. */
export class AmbiguityError extends Error {}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function riskHits(f: RiskFacts, asOf: Day, v: Variant): RuleHit[] {
  const hits: RuleHit[] = [];
  const paid = f.payments.filter((p) => p.status === 'paid');
  const add = (rule: string, items: { period: Month; fen: number }[]) => {
    if (!items.length) return;
    const periods = [...new Set(items.map((i) => i.period))].sort((a, b) => a - b);
    hits.push({ rule, periods, fen: items.reduce((s, i) => s + i.fen, 0) });
  };

  if (f.deathDay !== null) {
    const d = f.deathDay;
    add(
      'paid_after_death',
      paid.filter((p) => firstDay(p.period) > d)
    );
  }

  const custody = paid.filter(
    (p) => EXCLUSIVE.has(p.scheme) && f.custody.some((c) => firstDay(p.period) >= c.start && (c.end === null || lastDay(p.period) <= c.end))
  );
  add('paid_in_custody', custody);

  const excl = paid.filter((p) => EXCLUSIVE.has(p.scheme)).sort((a, b) => a.period - b.period);
  const doubles: { period: Month; fen: number }[] = [];
  for (let i = 0; i < excl.length;) {
    let j = i;
    while (j < excl.length && excl[j].period === excl[i].period) j++;
    const group = excl.slice(i, j);
    if (group.some((p) => p.scheme !== group[0].scheme))
      doubles.push({ period: excl[i].period, fen: Math.min(...group.map((p) => p.fen)) });
    i = j;
  }
  add('double_receipt', doubles);

  const abnormal: { period: Month; fen: number }[] = [];
  const schemes = [...new Set(paid.map((p) => p.scheme))];
  for (const scheme of schemes) {
    const series = paid.filter((p) => p.scheme === scheme).sort((a, b) => a.period - b.period);
    for (let k = 6; k < series.length; k++) {
      const cur = series[k].fen;
      let same = true;
      for (let j = k - 6; j < k && same; j++) same = series[j].fen === cur;
      if (same) continue;
      const med = median(series.slice(k - 6, k).map((p) => p.fen));
      const diff = series[k].fen - med;
      const rel = Math.abs(diff) / med;
      const explained = f.enrollments.some((e) => e.scheme === scheme && e.updatedMonth === series[k].period && e.fen === series[k].fen);
      if (rel > 0.2 && !explained) {
        if (diff < 0) throw new AmbiguityError(`payment drop of ${(rel * 100).toFixed(1)}% has no defined excess`);
        abnormal.push({ period: series[k].period, fen: diff });
      } else if (rel > 0.15 && !explained) {
        throw new AmbiguityError(`payment change of ${(rel * 100).toFixed(1)}% is too close to the 20% threshold`);
      }
    }
  }
  add('abnormal_amount', abnormal);

  if (f.deathDay !== null) {
    const d = f.deathDay;
    const after = f.evidence.filter((e) => e.day > d);
    if (after.length)
      hits.push({ rule: 'post_death_activity', periods: [...new Set(after.map((e) => monthOf(e.day)))].sort((a, b) => a - b), fen: 0 });
  }

  const asOfMonth = monthOf(asOf);
  if (ageOn(f.birth, asOf) >= 100 && f.deathDay === null) {
    const cutoff = addMonths(asOf, -12) + v.cutoffShift;
    const strong = f.evidence.some((e) => e.strong && e.day > cutoff && e.day <= asOf);
    const stillPaid = paid.some((p) => p.period === asOfMonth - 1);
    if (!strong && stillPaid)
      add(
        'no_sign_of_life',
        paid.filter((p) => p.period >= asOfMonth - 12 && p.period <= asOfMonth - 1)
      );
  }
  return hits;
}

// ---- the pre-payroll check (docs/rules.md "Pre-payroll check"), per draft line --------------------

export interface DraftLineFacts {
  scheme: string;
  fen: number;
  /** Statuses of the person's enrollments of the line's scheme (empty: none). */
  enrollmentStatuses: readonly string[];
  /** Enrollments of the line's scheme: month updated and monthly amount (an explained change). */
  enrollments: readonly EnrollmentFact[];
  /** The person's paid payments of the line's scheme for periods before the draft's, known on asOf. */
  history: readonly { period: Month; fen: number }[];
}
export interface DraftPersonFacts {
  /** Earliest death day of a record known on asOf, or null. */
  deathDay: Day | null;
  custody: readonly { start: Day; end: Day | null }[];
  /** Day the certification lapsed (the day after valid_until; never certified: benefit start), or null if
   *  the person is certified on asOf, negative, or not in the certification population. */
  lapsedOn: Day | null;
}
export interface DraftFinding {
  finding: 'dead' | 'in_custody' | 'suspended' | 'not_certified' | 'abnormal_amount';
  fen: number;
  held: boolean;
}

/**
 * The per-line findings (dead, in_custody, suspended, not_certified, abnormal_amount) of a line for period
 * `period`; double_receipt and shared_account look across lines (the generator's payroll.ts).
 */
export function draftLineFindings(person: DraftPersonFacts, line: DraftLineFacts, period: Month): DraftFinding[] {
  const out: DraftFinding[] = [];
  const first = firstDay(period);
  if (person.deathDay !== null && person.deathDay < first) out.push({ finding: 'dead', fen: line.fen, held: true });
  if (EXCLUSIVE.has(line.scheme) && person.custody.some((c) => c.start <= first && (c.end === null || c.end >= lastDay(period))))
    out.push({ finding: 'in_custody', fen: line.fen, held: true });
  if (line.enrollmentStatuses.length && line.enrollmentStatuses.every((s) => s !== 'active'))
    out.push({ finding: 'suspended', fen: line.fen, held: true });
  if (person.lapsedOn !== null && first - person.lapsedOn > 60) out.push({ finding: 'not_certified', fen: line.fen, held: true });
  const h = line.history
    .filter((x) => x.period < period)
    .sort((a, b) => a.period - b.period)
    .slice(-6);
  if (h.length === 6) {
    const med = median(h.map((x) => x.fen));
    const rel = Math.abs(line.fen - med) / med;
    const last = h[5].period;
    const explained = line.enrollments.some((e) => e.scheme === line.scheme && e.fen === line.fen && e.updatedMonth > last);
    if (rel > 0.2 && !explained) out.push({ finding: 'abnormal_amount', fen: Math.max(line.fen - med, 0), held: false });
    else if (rel > 0.15 && !explained)
      throw new AmbiguityError(`draft amount ${(rel * 100).toFixed(1)}% off the median is too close to 20%`);
  }
  return out;
}
