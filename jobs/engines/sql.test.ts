import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindNames, ENGINE_SQL_DIR, loadSqlFile, splitStatements } from './sql.ts';
import { DEFAULT_RULES, flattenRules, unflattenRules, validateRules } from '../../core/reference/rules.ts';

describe('engine SQL files', () => {
  it('splits on top-level semicolons only and keeps step labels', () => {
    const s = splitStatements(
      `-- step: a\nSELECT ';' AS x;\nSELECT $$ ; $$, "a;b" FROM t /* ; */;\n-- step: c\nDO $f$ BEGIN PERFORM 1; END $f$;`
    );
    expect(s.map((x) => x.label)).toEqual(['a', null, 'c']);
    expect(s[2].text).toContain('PERFORM 1; END');
  });

  it('binds :names (not ::casts, literals or comments) to $n in order of first use', () => {
    const b = bindNames(`SELECT :as_of::date, ':not', '12:30', x::text -- :nor\n, :full, :as_of`);
    expect(b.text).toBe(`SELECT $1::date, ':not', '12:30', x::text -- :nor\n, $2, $1`);
    expect(b.params).toEqual(['as_of', 'full']);
  });

  it('every file opens with name/params/purpose and declares each parameter it uses', () => {
    const files = fs.readdirSync(ENGINE_SQL_DIR).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const parsed = loadSqlFile(path.basename(f, '.sql'));
      expect(parsed.header.params, f).toBeDefined();
      expect(parsed.header.purpose, f).toBeTruthy();
      expect(parsed.steps.length, f).toBeGreaterThan(0);
    }
  });
});

describe('rule configuration', () => {
  it('ships valid rules with the numbers of docs/rules.md', () => {
    expect(validateRules(DEFAULT_RULES)).toEqual([]);
    expect(DEFAULT_RULES.certification).toMatchObject({
      validity_months: 12,
      weak_corroboration_days: 90,
      weak_min_sources: 2,
      weak_min_records: 2,
      reminder_days_before_expiry: 30,
      suspension_days_after_expiry: 60
    });
    expect(DEFAULT_RULES.risk).toMatchObject({
      abnormal_threshold_ratio: '0.20',
      abnormal_lookback_periods: 6,
      shared_account_min_people: 3,
      no_sign_of_life_min_age: 100,
      no_sign_of_life_months: 12
    });
    expect(DEFAULT_RULES.retirement.reminder_milestones_months).toEqual([12, 6, 3, 1]);
  });

  it('round-trips through ref_rules rows and names what is wrong', () => {
    const rows = flattenRules(DEFAULT_RULES as unknown as Record<string, unknown>);
    expect(rows.find((r) => r.key === 'certification.validity_months')?.value).toBe(12);
    expect(unflattenRules(rows)).toEqual(DEFAULT_RULES);
    const bad = structuredClone(DEFAULT_RULES) as any;
    bad.certification.validity_months = 0;
    bad.risk.severity.double_receipt = 'urgent';
    bad.after_death.funeral_grant.ENT = 5000;
    expect(validateRules(bad)).toEqual([
      'certification.validity_months must be a positive whole number',
      'risk.severity.double_receipt must be one of low, medium, high, critical',
      'after_death.funeral_grant.ENT must be an amount in yuan (string)'
    ]);
  });
});
