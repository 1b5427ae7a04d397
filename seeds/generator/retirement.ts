// Statutory retirement age under the 2025 gradual reform (docs/rules.md), computed independently of any
// engine so the ground truth can check it. Months are Month numbers (year*12 + month-1).
import { fmtMonth, type Month } from './calendar.ts';

export type Basis = 'M60' | 'F55' | 'F50';

const TABLE: Record<Basis, { baseMonths: number; fromYear: number; birthMonthsPerStep: number; maxRise: number }> = {
  M60: { baseMonths: 60 * 12, fromYear: 1965, birthMonthsPerStep: 4, maxRise: 36 },
  F55: { baseMonths: 55 * 12, fromYear: 1970, birthMonthsPerStep: 4, maxRise: 36 },
  F50: { baseMonths: 50 * 12, fromYear: 1975, birthMonthsPerStep: 2, maxRise: 60 }
};

/** Statutory age in months for someone born in birthMonth. */
export function statutoryAgeMonths(basis: Basis, birthMonth: Month): number {
  const t = TABLE[basis];
  const d = birthMonth - t.fromYear * 12;
  if (d < 0) return t.baseMonths;
  return t.baseMonths + Math.min(t.maxRise, Math.floor(d / t.birthMonthsPerStep) + 1);
}

export function retirementMonth(basis: Basis, birthMonth: Month): Month {
  return birthMonth + statutoryAgeMonths(basis, birthMonth);
}

export interface RetirementTruth {
  basis: Basis;
  birth_month: string;
  statutory_age_months: number;
  retirement_month: string;
  /** retirement month is 1–11 months after the as-of month (generated data avoids offsets 0 and 12). */
  reminder_due: boolean;
}

export function retirementTruth(basis: Basis, birthMonth: Month, asOfMonth: Month): RetirementTruth {
  const age = statutoryAgeMonths(basis, birthMonth);
  const rm = birthMonth + age;
  const off = rm - asOfMonth;
  return {
    basis,
    birth_month: fmtMonth(birthMonth),
    statutory_age_months: age,
    retirement_month: fmtMonth(rm),
    reminder_due: off >= 1 && off <= 11
  };
}
