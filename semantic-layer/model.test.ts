// Lint of the Cube model: the 41 governance indicators of indicators.md, each exactly once, with
// complete meta; the members the dashboard relies on exist; threshold kinds are known.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../jobs/config.ts';
import { loadModel } from './engine/index.ts';

// The oracle: indicators.md's table (code → English name, unit).
const SPEC: [string, string, string][] = [
  ['P01', 'Recipients', 'people'], ['P02', 'New retirees', 'people'], ['P03', 'Exits', 'people'], ['P04', 'Aged 80+ share', '%'],
  ['P05', 'Living outside the city', 'people'], ['P06', 'Community-managed rate', '%'], ['P07', 'Reaching retirement in 12 months', 'people'],
  ['A01', 'Benefit payout', 'yuan'], ['A02', 'Average pension', 'yuan'], ['A03', 'Payments made', 'payments'], ['A04', 'Payment success rate', '%'],
  ['A05', 'Failed or returned payments', 'payments'], ['A06', 'Fund payment capacity', 'months'], ['A07', 'Fund net flow', 'yuan'],
  ['A08', 'Support ratio (labour trend)', 'ratio'], ['C01', 'Certification coverage', '%'], ['C02', 'Silent certification rate', '%'],
  ['C03', 'Online face certifications', 'people'], ['C04', 'Awaiting field verification', 'people'], ['C05', 'Certification expired', 'people'],
  ['C06', 'Suspended, not certified', 'people'], ['C07', 'Weak-evidence doubts', 'people'], ['R01', 'Paid after death', 'alerts'],
  ['R02', 'Paid in custody', 'alerts'], ['R03', 'Double receipt', 'alerts'], ['R04', 'Abnormal amounts', 'alerts'],
  ['R05', 'Timely suspension after death', '%'], ['R06', 'Amount at risk', 'yuan'], ['R07', 'Amount recovered', 'yuan'], ['R08', 'Recovery rate', '%'],
  ['R09', 'Mean alert resolution time', 'days'], ['S01', 'Subsidy payout', 'yuan'], ['S02', 'Subsidy project share', '%'],
  ['S03', 'Hardship persons', 'people'], ['S04', 'Matched by policy', 'people'], ['S05', 'Eligible, not receiving', 'people'],
  ['H01', 'Checkup completion', '%'], ['H02', 'Checkup bookings', 'people'], ['H03', 'Abnormal checkup findings', '%'],
  ['H04', 'Activity and education sign-ups', 'sign-ups'], ['H05', 'Activity satisfaction', 'score']
];
const THRESHOLD_KINDS = new Set(['bound', 'mom', 'yoy', 'points', 'fluctuation', 'last_year']);
// Amount and count indicators carry the robust-z fluctuation test (indicators.md), except R07 (neutral).
const COUNT_UNITS = new Set(['people', 'yuan', 'payments', 'alerts', 'sign-ups']);

const model = loadModel(path.join(ROOT, 'semantic-layer', 'model'));
type Meta = Record<string, any>;
const indicators: { code: string; cube: string; name: string; meta: Meta }[] = [];
for (const cube of model.cubes.values()) {
  for (const [name, m] of cube.measures as Map<string, any>) {
    if (m.meta?.indicator) indicators.push({ code: m.meta.indicator, cube: cube.name, name, meta: m.meta });
  }
}

describe('the Cube model', () => {
  it('defines each of the 41 indicators exactly once', () => {
    const codes = indicators.map((i) => i.code).sort();
    expect(codes).toEqual(SPEC.map((s) => s[0]).sort());
  });

  it('gives every indicator complete meta matching indicators.md', () => {
    for (const [code, en, unit] of SPEC) {
      const ind = indicators.find((i) => i.code === code)!;
      expect(ind.meta, code).toMatchObject({ family: code[0], title_en: en, unit });
      expect(ind.meta.title_zh, code).toMatch(/\p{Script=Han}/u);
      expect(['higher_better', 'lower_better', 'neutral'], code).toContain(ind.meta.direction);
      expect(typeof ind.meta.thresholds, code).toBe('object');
      for (const k of Object.keys(ind.meta.thresholds)) expect(THRESHOLD_KINDS.has(k), `${code} threshold ${k}`).toBe(true);
      if (COUNT_UNITS.has(unit) && code !== 'R07' && ind.meta.thresholds.mom === undefined) {
        expect(ind.meta.thresholds.fluctuation, `${code} needs the fluctuation test`).toEqual({ warn: 3, critical: 5 });
      }
    }
  });

  it('points every drill-down at an existing people list', () => {
    const segments = [...model.cubes.get('people_now')!.segments.keys()];
    for (const i of indicators.filter((x) => x.meta.drill)) expect(segments, i.code).toContain(i.meta.drill.flag);
  });

  it('has the cubes and members the dashboard queries', () => {
    for (const c of ['region_months', 'region_now', 'project_months', 'fund', 'people_now', 'alerts', 'regions']) expect(model.cubes.get(c), c).toBeDefined();
    for (const c of ['region_months', 'region_now', 'project_months', 'people_now', 'alerts']) {
      const scope = model.cubes.get(c)!.regionScope;
      expect(scope?.mode, c).toBe('path');
      expect(model.cubes.get(c)!.dimensions.get((scope as { dimension: string }).dimension), c).toBeDefined();
    }
    expect(model.cubes.get('alerts')!.segments.get('active')).toBeDefined();
  });
});
