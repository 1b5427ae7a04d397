// Conformance with real Cube over the real model (semantic-layer/model, cubes and views), on real
// data: the tiny synthetic city through ingestion, the engines and the indicator facts (the jobs
// the scheduler runs after a load). Every indicator measure — discovered from the engine's /meta,
// so renames and new views are picked up — is compiled by Cube's own schema-compiler
// (semantic-layer/test-model/cube-oracle.ts) and by the embedded engine with a region breakdown
// and the month time dimension where the cube or view has one; both SQL statements run on the
// same database and the rows must be identical. Plus the people drill (every segment, counts and
// the drill list, unmasked for an auditor who asked; for a leader the same rows with the personal
// values masked by the engine), the alerts, and every indicator again for a district caller (the
// engine's region rule vs Cube compiling the rewritten query, as real Cube's queryRewrite would).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { ROOT, loadConfig } from '../core/config.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { createSemanticEngine, type ResultObject, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { normalizeQuery, toRestQuery } from '../semantic-layer/engine/query.ts';
import { applyRegionRule, type RegionScopes } from '../semantic-layer/engine/region-rule.js';
import { createCubeOracle, type CubeOracle } from '../semantic-layer/test-model/cube-oracle.ts';

const MODEL_DIR = path.join(ROOT, 'semantic-layer', 'model');
const NOW = new Date();
const SH = 'Asia/Shanghai';
type Q = Record<string, unknown>;
type Row = Record<string, unknown>;
interface MetaMember {
  name: string;
  type: string;
  meta?: Record<string, unknown>;
}
interface MetaCube {
  name: string;
  type: 'cube' | 'view';
  measures: MetaMember[];
  dimensions: MetaMember[];
  segments: MetaMember[];
}

let db: TestDatabase;
let dir: string;
let engine: SemanticEngine;
let oracle: CubeOracle;
let cubes: MetaCube[];
let scopes: RegionScopes;
let CITY_CTX: Q;
let DISTRICT_CTX: Q;
/** The months the indicator queries cover (newest payment month − 12 … as-of month). */
let range: [string, string];

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-conformance-model-'));
  const truth = await generateCity({ scale: 'tiny', seed: 7, outDir: dir });
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: dir };
  const results = await runWithDependents(db.pool, 'ingest', { config, inbox: dir, asOf: truth.asOf, trigger: 'manual', log: () => {} });
  expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
  engine = createSemanticEngine({ modelDir: MODEL_DIR, pool: db.pool, apiSecret: 'test-secret', now: () => NOW, log: () => {} });
  oracle = await createCubeOracle(MODEL_DIR);
  cubes = engine.meta().cubes as unknown as MetaCube[];
  scopes = {};
  for (const c of engine.model.cubes.values()) scopes[c.name] = c.regionScope;
  for (const v of engine.model.views.values()) scopes[v.name] = v.regionScope;
  const city = (await db.pool.query(`SELECT code FROM region_paths WHERE level = 'city'`)).rows[0].code;
  // The district with the most people, so the scoped queries return rows.
  const district = (
    await db.pool.query(
      `SELECT district_code FROM person_regions WHERE district_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
    )
  ).rows[0].district_code;
  CITY_CTX = { role: 'leader', region_code: city, region_level: 'city' };
  DISTRICT_CTX = { role: 'leader', region_code: district, region_level: 'district' };
  // From 12 months before the newest payment month to the newest "now" snapshot (the as-of month).
  const last = (
    await db.pool.query(`SELECT to_char(GREATEST(max(period), (SELECT max(period) FROM ind_region_now)), 'YYYY-MM-DD') AS p,
      to_char(max(period) - INTERVAL '12 months', 'YYYY-MM-DD') AS f FROM payments`)
  ).rows[0];
  range = [last.f, last.p];
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function canon(rows: Row[]): string[] {
  return rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k]])
      )
    )
    .sort();
}

/** Rows from the engine and from Cube's SQL for the same query (Cube compiles the rewritten query for scoped callers). */
async function both(query: Q, ctx: Q): Promise<{ mine: Row[]; cube: Row[] }> {
  const normalized = normalizeQuery(query, { now: NOW });
  const forCube =
    ctx.region_level === 'city' ? normalized : normalizeQuery(applyRegionRule(toRestQuery(normalized), ctx, scopes), { now: NOW });
  const mine = (await engine.load(query, ctx)) as ResultObject;
  return { mine: mine.data as Row[], cube: await oracle.load(db.pool, forCube) };
}

const short = (member: string) => member.split('.').pop()!;
/** The indicator measures of every cube and view, as /meta lists them. */
function indicators(): { owner: MetaCube; member: MetaMember; code: string }[] {
  return cubes.flatMap((c) =>
    c.measures.filter((m) => m.meta?.indicator).map((m) => ({ owner: c, member: m, code: String(m.meta!.indicator) }))
  );
}
/** A query for one indicator: by district or town (else the finest region dimension, else scheme), by month where there is a period. */
function indicatorQuery(owner: MetaCube, measure: string, level: 'district' | 'town'): Q {
  const dims = owner.dimensions;
  const by = [`${level}_code`, 'region_code', 'scheme_code'].map((n) => dims.find((d) => short(d.name) === n)).find(Boolean);
  const period = dims.find((d) => d.type === 'time' && short(d.name) === 'period');
  return {
    measures: [measure],
    dimensions: by ? [by.name] : [],
    timeDimensions: period ? [{ dimension: period.name, granularity: 'month', dateRange: range }] : [],
    timezone: SH,
    limit: 50000
  };
}

describe("conformance with Cube's schema-compiler on the real model", () => {
  it('finds the 41 indicators in the views that expose them; every cube is hidden (public: false)', () => {
    expect(cubes.filter((c) => c.type === 'cube').map((c) => c.name)).toEqual([]);
    const screen = indicators()
      .filter((i) => i.owner.name.startsWith('screen_'))
      .map((i) => i.code);
    expect(new Set(screen).size).toBe(41);
    expect(screen).toHaveLength(41);
  });

  it('the fact tables name the same district and town for a region as the area tree', async () => {
    const r = await db.pool
      .query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE f.district_code IS DISTINCT FROM rp.district_code OR f.town_code IS DISTINCT FROM rp.town_code)::int AS bad
      FROM (SELECT region_code, district_code, town_code FROM ind_project_month UNION ALL SELECT region_code, district_code, town_code FROM ind_region_month
            UNION ALL SELECT region_code, district_code, town_code FROM ind_region_now) f
      JOIN region_paths rp ON rp.code = f.region_code`);
    expect(r.rows[0].n).toBeGreaterThan(0);
    expect(r.rows[0].bad).toBe(0);
  });

  it('every indicator measure, by region and month, city-wide', async () => {
    const failures: string[] = [];
    let nonEmpty = 0;
    for (const { owner, member, code } of indicators()) {
      const query = indicatorQuery(owner, member.name, 'district');
      try {
        const { mine, cube } = await both(query, CITY_CTX);
        if (JSON.stringify(canon(mine)) !== JSON.stringify(canon(cube)))
          failures.push(
            `${code} ${member.name}: engine ${mine.length} rows ≠ Cube ${cube.length} rows, e.g. ${JSON.stringify(mine[0])} vs ${JSON.stringify(cube[0])}`
          );
        if (cube.length) nonEmpty += 1;
      } catch (e) {
        failures.push(`${code} ${member.name}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(nonEmpty).toBe(indicators().length);
  });

  it('every indicator measure by town for a district caller (region rule vs Cube compiling the rewritten query)', async () => {
    const inDistrict = new Set(
      (await db.pool.query(`SELECT code FROM region_paths WHERE district_code = $1`, [DISTRICT_CTX.region_code])).rows.map(
        (r) => r.code as string
      )
    );
    const failures: string[] = [];
    let nonEmpty = 0;
    for (const { owner, member, code } of indicators()) {
      const query = indicatorQuery(owner, member.name, 'town');
      try {
        const { mine, cube } = await both(query, DISTRICT_CTX);
        if (JSON.stringify(canon(mine)) !== JSON.stringify(canon(cube)))
          failures.push(`${code} ${member.name}: engine ${mine.length} rows ≠ Cube ${cube.length} rows`);
        if (cube.length) nonEmpty += 1;
        // Every town in the breakdown lies in the caller's district.
        const towns = mine
          .map((r) => Object.entries(r).find(([k]) => short(k) === 'town_code')?.[1])
          .filter((v) => v !== undefined && v !== null);
        const outside = towns.filter((t) => !inDistrict.has(String(t)));
        if (outside.length) failures.push(`${code} ${member.name}: rows outside the district: ${outside.join(',')}`);
      } catch (e) {
        failures.push(`${code} ${member.name}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(nonEmpty).toBe(indicators().length);
  });

  it('the people drill: every segment, counts by region and the drill list (unmasked auditor; masked for a leader)', async () => {
    const auditor = { ...CITY_CTX, role: 'auditor', unmask: true };
    const owners = cubes.filter((c) => c.segments.length && c.measures.some((m) => short(m.name) === 'count'));
    expect(owners.length).toBeGreaterThan(0);
    let checked = 0;
    let maskedChecked = 0;
    for (const owner of owners) {
      const count = owner.measures.find((m) => short(m.name) === 'count')!.name;
      const region = owner.dimensions.find((d) => short(d.name) === 'region_code' || short(d.name) === 'rule');
      const key =
        owner.dimensions.find((d) => (d as { primaryKey?: boolean }).primaryKey) ??
        owner.dimensions.find((d) => short(d.name) === 'id_number');
      const drill = (owner.measures.find((m) => m.name === count) as { drillMembers?: string[] }).drillMembers ?? [];
      for (const seg of owner.segments) {
        const counts = await both(
          { measures: [count], dimensions: region ? [region.name] : [], segments: [seg.name], limit: 50000 },
          auditor
        );
        expect(canon(counts.mine), `${seg.name} counts`).toEqual(canon(counts.cube));
        const members = [...new Set([...(key ? [key.name] : []), ...drill])];
        // The drill list as the dashboard asks for it: drill members, ordered by the key (a total order when it is the primary key).
        const list = await both(
          { dimensions: members, segments: [seg.name], ...(key ? { order: [[key.name, 'asc']], limit: 200 } : { limit: 50000 }) },
          auditor
        );
        if (key) expect(list.mine, `${seg.name} drill list`).toEqual(list.cube);
        else expect(canon(list.mine), `${seg.name} drill list`).toEqual(canon(list.cube));
        if (list.cube.length) checked += 1;
        // A caller without the right to unmask gets the same rows with the personal values masked.
        const personal = owner.dimensions.filter((d) => d.meta?.personal).map((d) => d.name);
        if (!personal.some((m) => members.includes(m))) continue;
        const masked = await both({ dimensions: members, segments: [seg.name], limit: 50000 }, CITY_CTX);
        const strip = (rows: Row[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !personal.includes(k))));
        expect(canon(strip(masked.mine)), `${seg.name} masked list`).toEqual(canon(strip(masked.cube)));
        for (const m of personal) {
          const raw = new Set<unknown>(masked.cube.map((r) => r[m]).filter((v) => v !== null && v !== undefined));
          expect(
            masked.mine.filter((r) => raw.has(r[m])),
            `${seg.name} ${m} unmasked`
          ).toEqual([]);
          if (raw.size) maskedChecked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(3);
    expect(maskedChecked).toBeGreaterThan(3);
  });

  it('the alerts: counts and amounts by rule and status, the active queue, the ticker list', async () => {
    const alerts = cubes.filter(
      (c) => c.dimensions.some((d) => short(d.name) === 'rule') && c.dimensions.some((d) => short(d.name) === 'alert_id')
    );
    expect(alerts.map((c) => c.name)).toContain('audit_alerts');
    let rows = 0;
    for (const a of alerts) {
      const m = (n: string) => a.measures.find((x) => short(x.name) === n)?.name;
      const d = (n: string) => a.dimensions.find((x) => short(x.name) === n)?.name;
      const s = a.segments.find((x) => short(x.name) === 'active')?.name;
      const queries: Q[] = [
        { measures: [m('count'), m('amount')].filter(Boolean), dimensions: [d('rule'), d('status')].filter(Boolean), limit: 50000 },
        {
          measures: [m('count')].filter(Boolean),
          dimensions: [d('severity')].filter(Boolean),
          segments: s ? [s] : [],
          timeDimensions: d('opened_at') ? [{ dimension: d('opened_at'), granularity: 'month' }] : [],
          timezone: SH
        },
        // "as of D": the alerts raised by runs as of D or earlier (a date column as a time dimension)
        {
          measures: [m('count')].filter(Boolean),
          dimensions: [d('rule')].filter(Boolean),
          timeDimensions: d('detected_as_of')
            ? [{ dimension: d('detected_as_of'), granularity: 'day', dateRange: ['2000-01-01', '2026-12-31'] }]
            : [],
          timezone: SH
        },
        {
          dimensions: [d('alert_id'), d('rule'), d('severity'), d('status'), d('amount_at_risk'), d('opened_at'), d('region_name')].filter(
            Boolean
          ),
          segments: s ? [s] : [],
          order: [
            [d('opened_at'), 'desc'],
            [d('alert_id'), 'asc']
          ],
          limit: 30,
          timezone: SH
        }
      ];
      for (const ctx of [CITY_CTX, DISTRICT_CTX]) {
        for (const q of queries) {
          const { mine, cube } = await both(q, ctx);
          if (q.order) expect(mine).toEqual(cube);
          else expect(canon(mine)).toEqual(canon(cube));
          rows += cube.length;
        }
      }
    }
    expect(rows).toBeGreaterThan(0);
  });
});
