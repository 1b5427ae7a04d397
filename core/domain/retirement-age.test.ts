import { describe, expect, it } from 'vitest';
import { DEFAULT_RETIREMENT_TABLE, monthFromIndex, monthIndex, retirementMonth, validateRetirementTable } from './retirement-age.ts';

// An independent restatement of docs/rules.md's table, written month by month (no shared arithmetic):
// walk birth months from the start, +1 month of age every `step` births, cap at the final age.
function expectedAgeMonths(basis: 'M60' | 'F55' | 'F50', year: number, month: number): number {
  const spec = {
    M60: { orig: 60, start: [1965, 1], step: 4, final: 63 },
    F55: { orig: 55, start: [1970, 1], step: 4, final: 58 },
    F50: { orig: 50, start: [1975, 1], step: 2, final: 55 }
  }[basis];
  let age = spec.orig * 12;
  let [y, m] = spec.start;
  let sinceStep = 0;
  if (year < y || (year === y && month < m)) return age;
  age += 1; // the first affected birth month already rises by one month
  while (!(y === year && m === month)) {
    m += 1;
    if (m === 13) {
      m = 1;
      y += 1;
    }
    sinceStep += 1;
    if (sinceStep === spec.step) {
      age += 1;
      sinceStep = 0;
    }
  }
  return Math.min(age, spec.final * 12);
}

function addMonths(year: number, month: number, n: number): string {
  const i = year * 12 + (month - 1) + n;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

describe('retirementMonth (2025 gradual reform)', () => {
  it('matches the anchors in docs/rules.md', () => {
    expect(retirementMonth('M60', '1965-01')).toMatchObject({ statutoryAgeMonths: 60 * 12 + 1, retirementMonth: '2025-02' });
    expect(retirementMonth('M60', '1965-05')).toMatchObject({ statutoryAgeMonths: 60 * 12 + 2, retirementMonth: '2025-07' });
    expect(retirementMonth('F50', '1975-01')).toMatchObject({ statutoryAgeMonths: 50 * 12 + 1, retirementMonth: '2025-02' });
    expect(retirementMonth('F50', '1975-03')).toMatchObject({ statutoryAgeMonths: 50 * 12 + 2, retirementMonth: '2025-05' });
    expect(retirementMonth('M60', '1980-06')).toMatchObject({ statutoryAgeMonths: 63 * 12, retirementMonth: '2043-06' });
  });

  it('keeps the original age before the start month and reaches the final age exactly where docs/rules.md says', () => {
    expect(retirementMonth('M60', '1964-12').statutoryAgeMonths).toBe(720);
    expect(retirementMonth('F55', '1969-12').statutoryAgeMonths).toBe(660);
    expect(retirementMonth('F50', '1974-12').statutoryAgeMonths).toBe(600);
    expect(retirementMonth('M60', '1976-08').statutoryAgeMonths).toBe(63 * 12 - 1);
    expect(retirementMonth('M60', '1976-09').statutoryAgeMonths).toBe(63 * 12);
    expect(retirementMonth('F55', '1981-08').statutoryAgeMonths).toBe(58 * 12 - 1);
    expect(retirementMonth('F55', '1981-09').statutoryAgeMonths).toBe(58 * 12);
    expect(retirementMonth('F50', '1984-10').statutoryAgeMonths).toBe(55 * 12 - 1);
    expect(retirementMonth('F50', '1984-11').statutoryAgeMonths).toBe(55 * 12);
  });

  it('is right for every birth month 1960-01…1990-12 under all three bases', () => {
    let checked = 0;
    for (const basis of ['M60', 'F55', 'F50'] as const) {
      let prevAge = 0;
      for (let y = 1960; y <= 1990; y++) {
        for (let m = 1; m <= 12; m++) {
          const bm = `${y}-${String(m).padStart(2, '0')}`;
          const r = retirementMonth(basis, bm);
          const age = expectedAgeMonths(basis, y, m);
          expect(r.statutoryAgeMonths, `${basis} ${bm}`).toBe(age);
          expect(r.retirementMonth, `${basis} ${bm}`).toBe(addMonths(y, m, age));
          expect(r.statutoryAgeMonths).toBeGreaterThanOrEqual(prevAge); // never falls for later births
          prevAge = r.statutoryAgeMonths;
          checked++;
        }
      }
    }
    expect(checked).toBe(3 * 31 * 12);
  });

  it('accepts a full birth date and rejects unknown bases and malformed months', () => {
    expect(retirementMonth('F55', '1972-07-31').retirementMonth).toBe(retirementMonth('F55', '1972-07').retirementMonth);
    expect(() => retirementMonth('X65', '1970-01')).toThrow(/unknown retirement basis/);
    expect(() => retirementMonth('M60', '1970-13')).toThrow(/YYYY-MM/);
  });

  it('follows the configured table (a changed number needs no code change)', () => {
    const table = { ...DEFAULT_RETIREMENT_TABLE, M60: { ...DEFAULT_RETIREMENT_TABLE.M60, step_birth_months: 2 } };
    expect(retirementMonth('M60', '1965-03', table).statutoryAgeMonths).toBe(722);
    expect(validateRetirementTable(DEFAULT_RETIREMENT_TABLE)).toEqual([]);
    expect(
      validateRetirementTable({ M60: { original_age_years: 60, final_age_years: 59, step_birth_months: 0, start_birth_month: '1965' } })
    ).toHaveLength(3);
  });

  it('round-trips month indexes', () => {
    expect(monthFromIndex(monthIndex('2025-02'))).toBe('2025-02');
    expect(monthIndex('2025-01') - monthIndex('2024-12')).toBe(1);
  });
});
