// Lint of the Cube model: the 41 governance indicators of docs/indicators.md, each exactly once, with
// complete meta; the views per audience (screen, audit, portal) and the members the dashboard
// relies on exist; no view of the screen or the portal exposes personal data; threshold kinds
// are known.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../core/config.ts';
import { loadModel, personalMembersOf, personalMembersFrom, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { resolveMemberPath } from '../semantic-layer/engine/model.ts';
import { buildMetaConfig, visibleMeta } from '../semantic-layer/engine/meta.ts';
import { indicatorDefs, SCREEN_MEMBERS, SCREEN_VIEWS } from '../dashboard/lib/server/indicators.ts';
import { ALERTS_VIEW, PEOPLE_MEMBERS, PEOPLE_VIEW } from '../dashboard/lib/server/people.ts';
import { alertRuleNames } from '../core/reference/index.ts';

// The oracle: the specified indicator table (code → English name, unit), written out by hand —
// docs/indicators.md is generated from the model, so it cannot serve as one.
const SPEC: [string, string, string][] = [
  ['P01', 'Recipients', 'people'],
  ['P02', 'New retirees', 'people'],
  ['P03', 'Exits', 'people'],
  ['P04', 'Aged 80+ share', '%'],
  ['P05', 'Living outside the city', 'people'],
  ['P06', 'Community-managed rate', '%'],
  ['P07', 'Reaching retirement in 12 months', 'people'],
  ['A01', 'Benefit payout', 'yuan'],
  ['A02', 'Average pension', 'yuan'],
  ['A03', 'Payments made', 'payments'],
  ['A04', 'Payment success rate', '%'],
  ['A05', 'Failed or returned payments', 'payments'],
  ['A06', 'Fund payment capacity', 'months'],
  ['A07', 'Fund net flow', 'yuan'],
  ['A08', 'Support ratio (labour trend)', 'ratio'],
  ['C01', 'Certification coverage', '%'],
  ['C02', 'Silent certification rate', '%'],
  ['C03', 'Online face certifications', 'people'],
  ['C04', 'Awaiting field verification', 'people'],
  ['C05', 'Certification expired', 'people'],
  ['C06', 'Suspended, not certified', 'people'],
  ['C07', 'Weak-evidence doubts', 'people'],
  ['R01', 'Paid after death', 'alerts'],
  ['R02', 'Paid in custody', 'alerts'],
  ['R03', 'Double receipt', 'alerts'],
  ['R04', 'Abnormal amounts', 'alerts'],
  ['R05', 'Timely suspension after death', '%'],
  ['R06', 'Amount at risk', 'yuan'],
  ['R07', 'Amount recovered', 'yuan'],
  ['R08', 'Recovery rate', '%'],
  ['R09', 'Mean alert resolution time', 'days'],
  ['S01', 'Subsidy payout', 'yuan'],
  ['S02', 'Subsidy project share', '%'],
  ['S03', 'Hardship persons', 'people'],
  ['S04', 'Matched by policy', 'people'],
  ['S05', 'Eligible, not receiving', 'people'],
  ['H01', 'Checkup completion', '%'],
  ['H02', 'Checkup bookings', 'people'],
  ['H03', 'Abnormal checkup findings', '%'],
  ['H04', 'Activity and education sign-ups', 'sign-ups'],
  ['H05', 'Activity satisfaction', 'score']
];
const THRESHOLD_KINDS = new Set(['bound', 'mom', 'yoy', 'points', 'fluctuation', 'last_year']);
// Amount and count indicators carry the robust-z fluctuation test (docs/indicators.md), except R07 (neutral).
const COUNT_UNITS = new Set(['people', 'yuan', 'payments', 'alerts', 'sign-ups']);

const MODEL_DIR = path.join(ROOT, 'semantic-layer', 'model');
const model = loadModel(MODEL_DIR);
/** What indicatorDefs needs of an engine: /meta, here without a database. */
const metaOnly = { meta: () => ({ cubes: visibleMeta(buildMetaConfig(model)) }) } as unknown as SemanticEngine;
const personal = personalMembersOf(model);
const AUDIENCES = ['screen', 'audit', 'portal'];

/** The model's YAML definitions as cube.js reads them. */
function rawModel(): { cubes: unknown[]; views: unknown[] } {
  const cubes: unknown[] = [],
    views: unknown[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(e.name)) {
        const doc = (parseYaml(fs.readFileSync(full, 'utf8')) ?? {}) as { cubes?: unknown[]; views?: unknown[] };
        cubes.push(...(doc.cubes ?? []));
        views.push(...(doc.views ?? []));
      }
    }
  };
  walk(MODEL_DIR);
  return { cubes, views };
}
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

  it('gives every indicator complete meta matching the specified table', () => {
    for (const [code, en, unit] of SPEC) {
      const ind = indicators.find((i) => i.code === code)!;
      expect(ind.meta, code).toMatchObject({ family: code[0], title_en: en, unit });
      expect(ind.meta.title_zh, code).toMatch(/\p{Script=Han}/u);
      expect(['higher_better', 'lower_better', 'neutral'], code).toContain(ind.meta.direction);
      expect(typeof ind.meta.thresholds, code).toBe('object');
      for (const k of Object.keys(ind.meta.thresholds)) expect(THRESHOLD_KINDS.has(k), `${code} threshold ${k}`).toBe(true);
      // the fluctuation rule's own keys: its limits and its materiality (semantic-layer/thresholds.ts)
      for (const k of Object.keys(ind.meta.thresholds.fluctuation ?? {}))
        expect(['warn', 'critical', 'min_change', 'min_base'], `${code} fluctuation.${k}`).toContain(k);
      if (COUNT_UNITS.has(unit) && code !== 'R07' && ind.meta.thresholds.mom === undefined) {
        expect(ind.meta.thresholds.fluctuation, `${code} needs the fluctuation test`).toMatchObject({ warn: 3, critical: 5 });
      }
    }
  });

  it('points every drill-down at an existing people list', () => {
    const segments = [...model.cubes.get('people_now')!.segments.keys()];
    for (const i of indicators.filter((x) => x.meta.drill)) expect(segments, i.code).toContain(i.meta.drill.flag);
  });

  it('gives every month-grain drill-down the filters of a month, on non-personal people members of the audit view', () => {
    type F = { member?: string; operator?: string; values?: string[]; or?: F[]; and?: F[] };
    const leaves = (fs: F[]): F[] => fs.flatMap((f) => (f.or ? leaves(f.or) : f.and ? leaves(f.and) : [f]));
    const people = model.cubes.get('people_now')!;
    const monthly = indicators.filter((x) => x.meta.drill && x.meta.grain !== 'now');
    expect(monthly.map((x) => x.code).sort()).toEqual(['P01', 'P04', 'P05']);
    for (const i of monthly) {
      const month = i.meta.drill.month as F[] | undefined;
      expect(month?.length, `${i.code} drill.month`).toBeGreaterThan(0);
      const all = leaves(month!);
      // The month itself is a parameter: every list is the month's.
      expect(
        all.some((f) => f.values?.includes('$period')),
        i.code
      ).toBe(true);
      for (const f of all) {
        expect(people.dimensions.get(f.member!), `${i.code} ${f.member}`).toBeDefined();
        expect(personal[`people_now.${f.member}`], `${i.code} ${f.member} is personal`).toBeUndefined();
        expect(() => resolveMemberPath(model, `${PEOPLE_VIEW}.${f.member}`), `${i.code} ${f.member}`).not.toThrow();
      }
    }
  });

  it('gives every R indicator a list of the alerts behind it, on non-personal alert members, with the month of a month-grain one', () => {
    type F = { member?: string; operator?: string; values?: string[]; or?: F[]; and?: F[] };
    const leaves = (fs: F[]): F[] => fs.flatMap((f) => (f.or ? leaves(f.or) : f.and ? leaves(f.and) : [f]));
    const alerts = model.cubes.get('alerts')!;
    const rules = new Set(alertRuleNames.keys());
    const rs = indicators.filter((x) => x.code.startsWith('R'));
    expect(rs.length).toBe(9);
    for (const i of rs) {
      const list = i.meta.alert_list as { segment?: string; rules?: string[]; month?: F[]; amount?: string } | undefined;
      expect(list, `${i.code} alert_list`).toBeDefined();
      if (list!.segment) expect(alerts.segments.get(list!.segment), `${i.code} segment`).toBeDefined();
      for (const r of list!.rules ?? []) expect(rules.has(r), `${i.code} rule ${r}`).toBe(true);
      if (list!.amount) expect(alerts.dimensions.get(list!.amount), `${i.code} amount`).toBeDefined();
      const month = leaves(list!.month ?? []);
      expect(month.length > 0, `${i.code}: a month-grain list needs the month's filters, a "now" one none`).toBe(i.meta.grain !== 'now');
      for (const f of month) {
        expect(
          f.values?.some((v) => v.includes('$period')),
          `${i.code} ${f.member}`
        ).toBe(true);
        expect(alerts.dimensions.get(f.member!), `${i.code} ${f.member}`).toBeDefined();
        expect(personal[`alerts.${f.member}`], `${i.code} ${f.member} is personal`).toBeUndefined();
        expect(() => resolveMemberPath(model, `${ALERTS_VIEW}.${f.member}`), `${i.code} ${f.member}`).not.toThrow();
      }
    }
  });

  it("names only non-personal people members, titled in both languages, as a list's columns", () => {
    const people = model.cubes.get('people_now')!;
    const withColumns = indicators.filter((x) => x.meta.drill?.columns);
    expect(withColumns.length).toBeGreaterThan(0);
    for (const i of withColumns) {
      for (const m of i.meta.drill.columns as string[]) {
        const d = people.dimensions.get(m);
        expect(d, `${i.code} ${m}`).toBeDefined();
        expect(personal[`people_now.${m}`], `${i.code} ${m} is personal`).toBeUndefined();
        expect(d!.title, `${i.code} ${m} title`).toBeTruthy();
        expect((d!.meta as { title_en?: string } | undefined)?.title_en, `${i.code} ${m} meta.title_en`).toBeTruthy();
        expect(() => resolveMemberPath(model, `${PEOPLE_VIEW}.${m}`), `${i.code} ${m}`).not.toThrow();
      }
    }
  });

  it('has the cubes and members the dashboard queries', () => {
    for (const c of ['region_months', 'region_now', 'project_months', 'fund', 'people_now', 'alerts', 'regions'])
      expect(model.cubes.get(c), c).toBeDefined();
    for (const c of ['region_months', 'region_now', 'project_months', 'people_now', 'alerts']) {
      const scope = model.cubes.get(c)!.regionScope;
      expect(scope?.mode, c).toBe('path');
      expect(model.cubes.get(c)!.dimensions.get((scope as { dimension: string }).dimension), c).toBeDefined();
    }
    expect(model.cubes.get('alerts')!.segments.get('active')).toBeDefined();
  });

  it('has the views the dashboard reads, and every member it names', () => {
    for (const v of [...SCREEN_VIEWS, PEOPLE_VIEW, ALERTS_VIEW]) expect(model.views.get(v), v).toBeDefined();
    for (const m of [...SCREEN_MEMBERS, ...PEOPLE_MEMBERS]) expect(() => resolveMemberPath(model, m), m).not.toThrow();
    for (const m of PEOPLE_MEMBERS) expect([PEOPLE_VIEW, ALERTS_VIEW], m).toContain(m.split('.')[0]);
  });

  it("exposes each indicator exactly once in the screen views, with its cube measure's meta", () => {
    const defs = indicatorDefs(metaOnly);
    expect(defs.map((d) => d.code).sort()).toEqual(SPEC.map((s) => s[0]).sort());
    for (const d of defs) {
      const cubeInd = indicators.find((i) => i.code === d.code)!;
      expect(d.meta.thresholds, d.code).toEqual(cubeInd.meta.thresholds);
      expect(d.meta.drill, d.code).toEqual(cubeInd.meta.drill);
      const res = resolveMemberPath(model, d.member);
      expect(res.target.path, d.code).toBe(`${cubeInd.cube}.${cubeInd.name}`);
      // Cube paths in the meta are translated to members of the same view.
      for (const m of [d.meta.share_of?.measure, d.meta.share_of?.by, d.meta.breakdown, d.labels?.zh, d.labels?.en].filter(
        Boolean
      ) as string[]) {
        expect(m.split('.')[0], `${d.code} ${m}`).toBe(d.view);
        expect(() => resolveMemberPath(model, m), `${d.code} ${m}`).not.toThrow();
      }
      if (d.meta.share_of || d.meta.breakdown) expect(d.labels, d.code).toBeDefined();
      // The board's series queries name the view's period (and region path unless city-level).
      expect(SCREEN_MEMBERS, d.code).toContain(`${d.view}.period`);
      if (!d.meta.city_level) expect(SCREEN_MEMBERS, d.code).toContain(`${d.view}.region_path`);
    }
  });

  it("hides every cube (public: false): only the views per audience are queryable (Cube's style guide)", () => {
    const { cubes } = rawModel() as { cubes: { name: string; public?: boolean }[] };
    expect(cubes.length).toBeGreaterThan(0);
    for (const c of cubes) expect(c.public, c.name).toBe(false);
  });

  it('names every view after its audience, declares its region scope, and resolves every member', () => {
    expect(model.views.size).toBeGreaterThan(0);
    for (const v of model.views.values()) {
      expect(AUDIENCES, v.name).toContain(v.name.split('_')[0]);
      expect(v.regionScope, `${v.name} declares region_scope`).toBeDefined();
      for (const m of [...v.measures.values(), ...v.dimensions.values(), ...v.segments.values()]) {
        expect(resolveMemberPath(model, m.path).target, m.path).toBe(m.target);
      }
    }
    for (const a of AUDIENCES)
      expect(
        [...model.views.keys()].some((n) => n.startsWith(`${a}_`)),
        a
      ).toBe(true);
  });

  it('keeps personal data out of the screen and portal views', () => {
    expect(Object.keys(personal)).toEqual(
      expect.arrayContaining(['people_now.id_number', 'people_now.name', 'alerts.id_number', 'alerts.name'])
    );
    expect(Object.keys(personal)).toEqual(expect.arrayContaining([`${PEOPLE_VIEW}.id_number`, `${ALERTS_VIEW}.name`]));
    for (const v of model.views.values()) {
      if (v.name.startsWith('audit_')) continue;
      for (const m of [...v.measures.values(), ...v.dimensions.values(), ...v.segments.values()]) {
        expect(personal[m.path], m.path).toBeUndefined();
        // Not even a non-personal member of a person-level cube.
        expect(['people_now', 'alerts'], m.path).not.toContain(m.target.cube);
      }
    }
  });

  it('finds the same personal members as cube.js does from the YAML files', () => {
    const { cubes, views } = rawModel();
    expect(personalMembersFrom(cubes, views)).toEqual(personal);
  });

  it('derives no non-personal dimension from a personal column', () => {
    type RawMember = { name: string; sql?: string; meta?: { personal?: string } };
    for (const cube of rawModel().cubes as { name: string; dimensions?: RawMember[] }[]) {
      const dims = cube.dimensions ?? [];
      const personalDims = dims.filter((d) => d.meta?.personal);
      for (const d of dims.filter((x) => !x.meta?.personal)) {
        const sql = String(d.sql ?? '').trim();
        for (const p of personalDims) {
          expect(new RegExp(`\\{(CUBE\\.|${cube.name}\\.)?${p.name}\\}`).test(sql), `${cube.name}.${d.name} references ${p.name}`).toBe(
            false
          );
          expect(sql === String(p.sql ?? '').trim(), `${cube.name}.${d.name} repeats the column of ${p.name}`).toBe(false);
        }
      }
    }
  });
});
