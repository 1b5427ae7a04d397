// Statutory retirement age under the 2025 gradual reform (渐进式延迟法定退休年龄), docs/rules.md.
// Pure and I/O-free. The table (original age, first affected birth month, birth months per +1
// month, final age) is configuration: core/reference/rules.json `retirement.bases`; the
// remind-retirement engine runs the same arithmetic in SQL with the same parameters, and
// tests/engines-others.test.ts checks the two agree on every birth month 1960-01…1990-12.
//
// Contract: people born before the start month keep the original age; from the start month on
// the age rises by one month for each `step` birth months (the start month itself already gets
// +1), capped at the final age. Retirement month = birth month + statutory age (in months).
// Birth months are 'YYYY-MM'; the day of birth does not matter (the reform counts by month).
import rulesJson from '../reference/rules.json' with { type: 'json' };

export type RetirementBasis = 'M60' | 'F55' | 'F50';

export interface RetirementBasisRule {
  original_age_years: number;
  /** First birth month ('YYYY-MM') whose age rises. */
  start_birth_month: string;
  /** Birth months per +1 month of statutory age. */
  step_birth_months: number;
  final_age_years: number;
}

export type RetirementTable = Record<string, RetirementBasisRule>;

export interface Retirement {
  basis: string;
  birthMonth: string;
  statutoryAgeMonths: number;
  /** 'YYYY-MM' */
  retirementMonth: string;
}

export const DEFAULT_RETIREMENT_TABLE: RetirementTable = rulesJson.retirement.bases as RetirementTable;

const MONTH_RE = /^(\d{4})-(\d{2})$/;

/** 'YYYY-MM' → months since year 0 (y*12 + m-1). */
export function monthIndex(month: string): number {
  const m = MONTH_RE.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`not a month YYYY-MM: "${month}"`);
  return Number(m[1]) * 12 + Number(m[2]) - 1;
}

export function monthFromIndex(i: number): string {
  return `${String(Math.floor(i / 12)).padStart(4, '0')}-${String((i % 12) + 1).padStart(2, '0')}`;
}

/** Statutory age in months for a birth month under one basis rule. */
export function statutoryAgeMonths(rule: RetirementBasisRule, birthMonth: string): number {
  const original = rule.original_age_years * 12;
  const maxRise = (rule.final_age_years - rule.original_age_years) * 12;
  const offset = monthIndex(birthMonth) - monthIndex(rule.start_birth_month);
  if (offset < 0) return original;
  return original + Math.min(Math.floor(offset / rule.step_birth_months) + 1, maxRise);
}

/** The retirement month for a basis (M60/F55/F50) and birth month ('YYYY-MM' or a 'YYYY-MM-DD' date). */
export function retirementMonth(basis: string, birthMonth: string, table: RetirementTable = DEFAULT_RETIREMENT_TABLE): Retirement {
  const rule = table[basis];
  if (!rule) throw new Error(`unknown retirement basis "${basis}" (known: ${Object.keys(table).join(', ')})`);
  const bm = birthMonth.slice(0, 7);
  const age = statutoryAgeMonths(rule, bm);
  return { basis, birthMonth: bm, statutoryAgeMonths: age, retirementMonth: monthFromIndex(monthIndex(bm) + age) };
}

/** Check a table's shape (used when loading configuration). Returns problems, empty when valid. */
export function validateRetirementTable(table: unknown): string[] {
  const problems: string[] = [];
  if (!table || typeof table !== 'object') return ['retirement.bases must be an object'];
  for (const [basis, r] of Object.entries(table as Record<string, Partial<RetirementBasisRule>>)) {
    const where = `retirement.bases.${basis}`;
    if (!Number.isInteger(r.original_age_years) || (r.original_age_years as number) <= 0)
      problems.push(`${where}.original_age_years must be a positive whole number`);
    if (!Number.isInteger(r.final_age_years) || (r.final_age_years as number) < (r.original_age_years as number))
      problems.push(`${where}.final_age_years must be a whole number ≥ original_age_years`);
    if (!Number.isInteger(r.step_birth_months) || (r.step_birth_months as number) <= 0)
      problems.push(`${where}.step_birth_months must be a positive whole number`);
    if (typeof r.start_birth_month !== 'string' || !MONTH_RE.test(r.start_birth_month))
      problems.push(`${where}.start_birth_month must be YYYY-MM`);
  }
  return problems;
}
