// `npm run bench:semantic` (tsx bench/semantic.bench.ts) — the semantic layer at city scale against
// the targets of issue 4, measured through the embedded engine (`engine.load(query, context)`, the
// same call /cubejs-api/v1/load makes, so JSON parsing/HTTP are not included):
//  (a) single-indicator queries with a region breakdown: each indicator measure of the model (found
//      in engine.meta(): measures whose meta has `indicator`), by district for the whole city (city
//      leader) and by town for one district (a district-scoped caller, so the region rule applies),
//      month granularity over the last 13 months where the cube has a `period`. Cubes without a
//      district/town dimension are broken down by their finest region dimension (region_code),
//      city-level cubes (no region) by their scheme. Target: p95 ≤ 100 ms.
//  (b) the whole 41-indicator board for one district, built by the dashboard's own code
//      (dashboard/lib/server/indicators.ts buildBoard) with a district caller. Target: ≤ 1 s cold.
//  (c) rollups vs raw tables: a few heavy indicators computed through the engine (rollup cubes) and
//      by a hand-written SQL on the raw tables (payments / evidence / subsidies joined to
//      person_regions) in the same run — the figures are compared, the ratio raw/rollup printed.
//  (d) the lists of people behind a number (dashboard/lib/server/people.ts peopleBehind, first page
//      of 50 with its total): P01 (a month's recipients) and C05 (certification expired, "now") for
//      the district, its largest town and that town's largest community, each with a caller of that
//      area; next to a hand-written SQL giving the same page and total straight from the tables.
// "Cold" = the first execution of each query on a fresh engine with a fresh connection pool (no
// plan or connection reuse); PostgreSQL's shared buffers and the OS page cache are not flushed
// (the embedded server cannot be restarted without its cache in the OS, and pg_prewarm is not
// available), so cold means "first run", not "first read from disk". "Warm" = the repeats.
//
// Data: bench/support.ts (the city generated once into .cache/bench, ingested with every dependent
// job into an embedded PostgreSQL in a scratch dir). BENCH_SCALE=city|demo|tiny (default city),
// BENCH_SEED (1), BENCH_REPEATS (warm repeats per query, default 5), BENCH_KEEP=1 keeps the scratch
// dir, BENCH_DIR=<dir> keeps the cluster there and reuses the ingested city on the next run (PostgreSQL
// restarts, so its shared buffers start empty; the OS cache does not). Results: printed, and written
// to test-results/bench-semantic.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { createPool, type Pool } from '../core/db/pool.ts';
import { readRules } from '../core/reference/rules.ts';
import { createSemanticEngine, type ResultObject, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { addMonths, buildBoard } from '../dashboard/lib/server/indicators.ts';
import { securityContext, type Caller, type Region } from '../dashboard/lib/server/scope.ts';
import { peopleBehind } from '../dashboard/lib/server/people.ts';
import { cityDatabase, SCALE } from './support.ts';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const TARGET_SINGLE_P95_MS = 100;
const TARGET_BOARD_COLD_MS = 1000;
const MODEL_DIR = path.join(ROOT, 'semantic-layer', 'model');
const say = (m: string) => console.log(`[bench:semantic] ${m}`);

type Row = Record<string, unknown>;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { ms: ms(t0), value };
}
function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const median = (xs: number[]) => pct(xs, 50);
const f1 = (x: number) => x.toFixed(1);

/** A fresh engine on a fresh pool: nothing cached in the process, new server connections. */
function freshEngine(url: string): { engine: SemanticEngine; pool: Pool } {
  const pool = createPool(url, { max: 6 });
  return {
    pool,
    engine: createSemanticEngine({ modelDir: MODEL_DIR, pool, apiSecret: 'bench-semantic', log: (m) => say(`engine: ${m}`) })
  };
}

async function main(): Promise<void> {
  const db = await cityDatabase('semantic', say);
  try {
    await db.pool.query('VACUUM ANALYZE');
    const sizes = (
      await db.pool.query(`SELECT (SELECT count(*) FROM persons)::int AS persons, (SELECT count(*) FROM payments)::int AS payments,
        (SELECT count(*) FROM evidence)::int AS evidence, (SELECT count(*) FROM subsidies)::int AS subsidies,
        (SELECT count(*) FROM ind_region_month)::int AS ind_region_month, (SELECT count(*) FROM ind_project_month)::int AS ind_project_month,
        (SELECT count(*) FROM ind_region_now)::int AS ind_region_now`)
    ).rows[0];
    say(`data: ${JSON.stringify(sizes)}, as of ${db.asOf}`);
    const regions = (
      await db.pool.query(
        `SELECT code, name, level, path, parent_code FROM region_paths WHERE level IN ('city', 'district') ORDER BY depth, code`
      )
    ).rows as Region[];
    const city = regions.find((r) => r.level === 'city')!;
    // The district with the most people (a representative, not a small, one).
    const big = (
      await db.pool.query(
        `SELECT district_code FROM person_regions WHERE district_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
      )
    ).rows[0].district_code;
    const district = regions.find((r) => r.code === big)!;
    const leader: Caller = { kind: 'staff', name: 'bench-leader', role: 'leader', scope: city, privacy: false };
    const districtCaller: Caller = { kind: 'staff', name: 'bench-district', role: 'leader', scope: district, privacy: false };
    say(`city ${city.code}, district ${district.code} ${district.name}`);

    // ---- (b) the board, cold first (before anything else touched the indicator cubes) ----
    const b0 = freshEngine(db.url);
    const boardCold = await timed(() => buildBoard(b0.engine, b0.pool, districtCaller, district, null));
    const boardWarm: number[] = [];
    for (let i = 0; i < REPEATS; i++)
      boardWarm.push((await timed(() => buildBoard(b0.engine, b0.pool, districtCaller, district, null))).ms);
    const period = boardCold.value.period;
    const noData = boardCold.value.indicators.filter((i) => i.status === 'no_data').map((i) => i.code);
    say(
      `board (${boardCold.value.indicators.length} indicators, ${district.code}, ${period}): cold ${f1(boardCold.ms)} ms, warm median ${f1(median(boardWarm))} ms, p95 ${f1(pct(boardWarm, 95))} ms; no_data: ${noData.join(' ') || 'none'}`
    );
    // The engine calls the board makes (for the report): count them on a wrapped engine.
    let boardQueries = 0;
    const counting = {
      ...b0.engine,
      load: (...a: Parameters<SemanticEngine['load']>) => {
        boardQueries++;
        return b0.engine.load(...a);
      }
    } as SemanticEngine;
    await buildBoard(counting, b0.pool, districtCaller, district, null);
    await b0.pool.end();

    // ---- (a) single-indicator queries ----
    const a0 = freshEngine(db.url);
    const meta = a0.engine.meta();
    const dims = new Map(meta.cubes.map((c) => [c.name, new Map(c.dimensions.map((d) => [d.name, d.type]))]));
    // The indicator measures of the model's cubes (views re-expose the same measures with the same meta).
    const defs = meta.cubes
      .filter((c) => c.type === 'cube')
      .flatMap((c) =>
        c.measures
          .filter((m) => (m.meta as { indicator?: string } | undefined)?.indicator)
          .map((m) => ({ code: (m.meta as { indicator: string }).indicator, member: m.name, cube: c.name }))
      )
      .sort((a, b) => a.code.localeCompare(b.code));
    const from = addMonths(period, -12);
    const to = addMonths(period, 1);
    const range = [`${from}-01`, `${addMonths(to, 1)}-01`];
    const breakdown = (cube: string, level: 'district' | 'town'): string[] => {
      const d = dims.get(cube)!;
      for (const name of [`${cube}.${level}_code`, `${cube}.region_code`, `${cube}.scheme_code`]) if (d.has(name)) return [name];
      return [];
    };
    interface Single {
      code: string;
      member: string;
      scope: 'city' | 'district';
      query: Row;
      rows: number;
      cold: number;
      warm: number[];
    }
    const singles: Single[] = [];
    for (const d of defs) {
      for (const scope of ['city', 'district'] as const) {
        const cube = d.cube;
        const hasPeriod = dims.get(cube)!.get(`${cube}.period`) === 'time';
        const hasPath = dims.get(cube)!.has(`${cube}.region_path`);
        const query: Row = {
          measures: [d.member],
          dimensions: breakdown(cube, scope === 'city' ? 'district' : 'town'),
          timeDimensions: hasPeriod ? [{ dimension: `${cube}.period`, granularity: 'month', dateRange: range }] : [],
          filters:
            scope === 'district' && hasPath ? [{ member: `${cube}.region_path`, operator: 'startsWith', values: [district.path] }] : [],
          timezone: 'Asia/Shanghai',
          limit: 50000
        };
        const ctx = securityContext(scope === 'city' ? leader : districtCaller);
        const cold = await timed(() => a0.engine.load(query, ctx) as Promise<ResultObject>);
        singles.push({ code: d.code, member: d.member, scope, query, rows: (cold.value.data as Row[]).length, cold: cold.ms, warm: [] });
      }
    }
    for (let i = 0; i < REPEATS; i++) {
      for (const s of singles)
        s.warm.push((await timed(() => a0.engine.load(s.query, securityContext(s.scope === 'city' ? leader : districtCaller)))).ms);
    }
    await a0.pool.end();
    const coldAll = singles.map((s) => s.cold);
    const warmAll = singles.flatMap((s) => s.warm);
    const single = {
      queries: singles.length,
      indicators: defs.length,
      cold: { p50: median(coldAll), p95: pct(coldAll, 95), max: Math.max(...coldAll) },
      warm: { p50: median(warmAll), p95: pct(warmAll, 95), max: Math.max(...warmAll) }
    };
    say(
      `single-indicator (${defs.length} indicators × city-by-district and district-by-town = ${singles.length} queries): cold p50 ${f1(single.cold.p50)} / p95 ${f1(single.cold.p95)} / max ${f1(single.cold.max)} ms; warm (${REPEATS}×) p50 ${f1(single.warm.p50)} / p95 ${f1(single.warm.p95)} / max ${f1(single.warm.max)} ms`
    );
    const slowest = [...singles].sort((a, b) => median(b.warm) - median(a.warm)).slice(0, 5);
    for (const s of slowest)
      say(
        `  slowest warm: ${s.code} ${s.member} (${s.scope}, ${s.rows} rows): cold ${f1(s.cold)} ms, warm median ${f1(median(s.warm))} ms`
      );

    // ---- (c) rollups vs raw tables ----
    const c0 = freshEngine(db.url);
    const { rules } = await readRules(c0.pool);
    const lookback = rules.certification.lookback_months;
    const asOfMonth = db.asOf.slice(0, 8) + '01';
    interface Pair {
      name: string;
      engine: Row;
      raw: string;
      params: unknown[];
      key: (r: Row) => string;
      value: (r: Row) => string;
      rawKey: (r: Row) => string;
      rawValue: (r: Row) => string;
      ctx: Caller;
    }
    const dateKey = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 7);
    const num = (v: unknown) => (v === null || v === undefined ? '0' : Number(v).toFixed(2));
    const pairs: Pair[] = [
      {
        name: 'A01 benefit payout per month by district (payments)',
        engine: {
          measures: ['screen_months.payout'],
          dimensions: ['screen_months.district_code'],
          timeDimensions: [{ dimension: 'screen_months.period', granularity: 'month' }],
          limit: 50000
        },
        raw: `SELECT date_trunc('month', p.period)::date AS month, pr.district_code, sum(p.amount) AS payout
                FROM payments p LEFT JOIN person_regions pr ON pr.id_number = p.id_number
               WHERE p.status = 'paid' GROUP BY 1, 2`,
        params: [],
        key: (r) => `${dateKey(r['screen_months.period.month'])}/${r['screen_months.district_code'] ?? ''}`,
        value: (r) => num(r['screen_months.payout']),
        rawKey: (r) => `${dateKey(r.month)}/${r.district_code ?? ''}`,
        rawValue: (r) => num(r.payout),
        ctx: leader
      },
      {
        name: 'C07 weak-evidence doubts now, by district (evidence)',
        engine: {
          measures: ['screen_now.weak_only'],
          dimensions: ['screen_now.district_code'],
          timeDimensions: [{ dimension: 'screen_now.period', dateRange: [asOfMonth, asOfMonth] }],
          limit: 50000
        },
        // Recipients (an exclusive-group enrollment span covering the as-of month), not certified,
        // with weak positive evidence in the lookback window and no strong one.
        raw: `WITH span AS (
                SELECT e.id_number FROM enrollments e JOIN ref_schemes s ON s.scheme_code = e.scheme_code AND s.exclusive_group IS NOT NULL
                 GROUP BY e.id_number
                HAVING min(e.start_period) <= $1::date
                   AND max(CASE WHEN e.end_period IS NOT NULL THEN date_trunc('month', e.end_period)::date
                                WHEN e.status = 'active' THEN 'infinity'::date
                                ELSE date_trunc('month', COALESCE(e.updated_at, e.loaded_at) AT TIME ZONE 'Asia/Shanghai')::date END) >= $1::date
              ), weak AS (
                SELECT ev.id_number FROM evidence ev JOIN ref_evidence_kinds k ON k.kind = ev.kind
                 WHERE ev.occurred_at > ($2::date - make_interval(months => $3::int))::timestamptz AND ev.occurred_at < ($2::date + 1)::timestamptz
                   AND ev.id_number IN (SELECT id_number FROM cert_status WHERE status = 'not_certified')
                 GROUP BY ev.id_number HAVING bool_or(k.strength = 'weak') AND NOT bool_or(k.strength = 'strong')
              )
              SELECT pr.district_code, count(*) AS n FROM weak JOIN span USING (id_number) LEFT JOIN person_regions pr USING (id_number) GROUP BY 1`,
        params: [asOfMonth, db.asOf, lookback],
        key: (r) => String(r['screen_now.district_code'] ?? ''),
        value: (r) => String(Number(r['screen_now.weak_only'])),
        rawKey: (r) => String(r.district_code ?? ''),
        rawValue: (r) => String(Number(r.n)),
        ctx: leader
      },
      {
        name: `S01 subsidy payout per month by project in district ${district.code} (subsidies)`,
        engine: {
          measures: ['screen_projects.payout'],
          dimensions: ['screen_projects.project_code'],
          timeDimensions: [{ dimension: 'screen_projects.period', granularity: 'month' }],
          filters: [{ member: 'screen_projects.region_path', operator: 'startsWith', values: [district.path] }],
          limit: 50000
        },
        raw: `SELECT date_trunc('month', s.period)::date AS month, s.project_code, sum(s.amount) AS payout
                FROM subsidies s JOIN person_regions pr ON pr.id_number = s.id_number
               WHERE pr.region_path LIKE $1 || '%' GROUP BY 1, 2`,
        params: [district.path],
        key: (r) => `${dateKey(r['screen_projects.period.month'])}/${r['screen_projects.project_code']}`,
        value: (r) => num(r['screen_projects.payout']),
        rawKey: (r) => `${dateKey(r.month)}/${r.project_code}`,
        rawValue: (r) => num(r.payout),
        ctx: districtCaller
      }
    ];
    interface RawResult {
      name: string;
      rows: number;
      same: boolean;
      mismatches: string[];
      rollup: { cold: number; warm: number };
      raw: { cold: number; warm: number };
      ratioCold: number;
      ratioWarm: number;
    }
    const rawResults: RawResult[] = [];
    for (const p of pairs) {
      const ctx = securityContext(p.ctx);
      const rc = await timed(() => c0.engine.load({ ...p.engine, timezone: 'UTC' }, ctx) as Promise<ResultObject>);
      const xc = await timed(() => c0.pool.query(p.raw, p.params));
      const rw: number[] = [],
        xw: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        rw.push((await timed(() => c0.engine.load({ ...p.engine, timezone: 'UTC' }, ctx))).ms);
        xw.push((await timed(() => c0.pool.query(p.raw, p.params))).ms);
      }
      // Same figure? Compare every (key → value), ignoring zero rows the rollup's grid carries.
      const a = new Map((rc.value.data as Row[]).map((r): [string, string] => [p.key(r), p.value(r)]).filter(([, v]) => Number(v) !== 0));
      const b = new Map(xc.value.rows.map((r: Row): [string, string] => [p.rawKey(r), p.rawValue(r)]).filter(([, v]) => Number(v) !== 0));
      const mismatches = [...new Set([...a.keys(), ...b.keys()])]
        .filter((k) => a.get(k) !== b.get(k))
        .map((k) => `${k}: rollup ${a.get(k)} raw ${b.get(k)}`);
      const r: RawResult = {
        name: p.name,
        rows: a.size,
        same: mismatches.length === 0,
        mismatches: mismatches.slice(0, 5),
        rollup: { cold: rc.ms, warm: median(rw) },
        raw: { cold: xc.ms, warm: median(xw) },
        ratioCold: xc.ms / rc.ms,
        ratioWarm: median(xw) / median(rw)
      };
      rawResults.push(r);
      say(
        `${p.name}: ${r.rows} figures, ${r.same ? 'identical' : `${mismatches.length} differ (${r.mismatches.join('; ')})`}; rollup cold ${f1(r.rollup.cold)} / warm ${f1(r.rollup.warm)} ms, raw cold ${f1(r.raw.cold)} / warm ${f1(r.raw.warm)} ms → raw/rollup ×${r.ratioCold.toFixed(0)} cold, ×${r.ratioWarm.toFixed(0)} warm`
      );
    }
    await c0.pool.end();

    // ---- (d) people lists ----
    const d0 = freshEngine(db.url);
    const town = (
      await d0.pool.query(
        `SELECT code, name, level, path, parent_code FROM region_paths WHERE code = (
      SELECT town_code FROM person_regions WHERE district_code = $1 AND town_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)`,
        [district.code]
      )
    ).rows[0] as Region;
    const community = (
      await d0.pool.query(
        `SELECT code, name, level, path, parent_code FROM region_paths WHERE code = (
      SELECT region_code FROM person_regions WHERE town_code = $1 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)`,
        [town.code]
      )
    ).rows[0] as Region;
    const monthStart = `${period}-01`;
    // The same page and total straight from the tables (the model's drill rules written out by hand).
    const listSql = (code: 'P01' | 'C05') => {
      const where =
        `n.region_path LIKE $1 || '%' AND ` +
        (code === 'P01'
          ? `n.recipient_from <= $2::date AND (n.recipient_until IS NULL OR n.recipient_until >= $2::date)`
          : `n.cert_expired AND $2::date IS NOT NULL`);
      return [
        `SELECT n.id_number, p.name, p.sex, p.birth_date, rp.name AS region_name FROM ind_person_now n
           LEFT JOIN persons p ON p.id_number = n.id_number LEFT JOIN region_paths rp ON rp.code = n.region_code
          WHERE ${where} ORDER BY n.list_order LIMIT 50`,
        `SELECT count(*) FROM ind_person_now n WHERE ${where}`
      ];
    };
    interface ListResult {
      code: string;
      area: string;
      total: number;
      engine: { cold: number; warm: number };
      raw: { cold: number; warm: number };
    }
    const lists: ListResult[] = [];
    for (const area of [district, town, community]) {
      const caller: Caller = { kind: 'staff', name: `bench-${area.level}`, role: 'auditor', scope: area, privacy: false };
      for (const code of ['P01', 'C05'] as const) {
        const run = () => peopleBehind(d0.engine, d0.pool, caller, area, code, { offset: 0, limit: 50, unmask: false, period });
        const [pageSql, totalSql] = listSql(code);
        const raw = () => Promise.all([d0.pool.query(pageSql, [area.path, monthStart]), d0.pool.query(totalSql, [area.path, monthStart])]);
        const ec = await timed(run);
        const xc = await timed(raw);
        const ew: number[] = [],
          xw: number[] = [];
        for (let i = 0; i < REPEATS; i++) {
          ew.push((await timed(run)).ms);
          xw.push((await timed(raw)).ms);
        }
        const total = ec.value.total;
        const rawTotal = Number(xc.value[1].rows[0].count);
        if (total !== rawTotal) throw new Error(`${code} ${area.code}: the list says ${total} people, the tables ${rawTotal}`);
        lists.push({
          code,
          area: `${area.level} ${area.code}`,
          total,
          engine: { cold: ec.ms, warm: median(ew) },
          raw: { cold: xc.ms, warm: median(xw) }
        });
        say(
          `people list ${code}, ${area.level} ${area.code} (${total} people, first page of 50): cold ${f1(ec.ms)} / warm ${f1(median(ew))} ms; same page by hand-written SQL cold ${f1(xc.ms)} / warm ${f1(median(xw))} ms`
        );
      }
    }
    await d0.pool.end();

    // ---- verdict ----
    const passSingle = single.cold.p95 <= TARGET_SINGLE_P95_MS && single.warm.p95 <= TARGET_SINGLE_P95_MS;
    const passBoard = boardCold.ms <= TARGET_BOARD_COLD_MS;
    console.log('\n| measurement | cold | warm p50 | warm p95 | target | |\n|---|---:|---:|---:|---|---|');
    console.log(
      `| single indicator, p95 over ${singles.length} queries | p50 ${f1(single.cold.p50)} / p95 ${f1(single.cold.p95)} ms | ${f1(single.warm.p50)} ms | ${f1(single.warm.p95)} ms | p95 ≤ ${TARGET_SINGLE_P95_MS} ms | ${passSingle ? 'PASS' : 'FAIL'} |`
    );
    console.log(
      `| board, 41 indicators, district ${district.code} (${boardQueries} engine queries) | ${f1(boardCold.ms)} ms | ${f1(median(boardWarm))} ms | ${f1(pct(boardWarm, 95))} ms | cold ≤ ${TARGET_BOARD_COLD_MS} ms | ${passBoard ? 'PASS' : 'FAIL'} |`
    );
    for (const l of lists)
      console.log(
        `| people list ${l.code}, ${l.area} (${l.total} people): engine vs SQL by hand | ${f1(l.engine.cold)} vs ${f1(l.raw.cold)} ms | ${f1(l.engine.warm)} vs ${f1(l.raw.warm)} ms | | | |`
      );
    for (const r of rawResults)
      console.log(
        `| ${r.name}: rollup vs raw | ${f1(r.rollup.cold)} vs ${f1(r.raw.cold)} ms (×${r.ratioCold.toFixed(0)}) | ${f1(r.rollup.warm)} vs ${f1(r.raw.warm)} ms (×${r.ratioWarm.toFixed(0)}) | | ${r.same ? 'same figures' : 'FIGURES DIFFER'} | |`
      );
    console.log(
      `\n${SCALE} scale, ${JSON.stringify(sizes)}; ${os.cpus().length} CPUs; cold = first execution on a fresh engine and pool (server caches not flushed)`
    );
    console.log(`SINGLE ${passSingle ? 'PASS' : 'FAIL'}, BOARD ${passBoard ? 'PASS' : 'FAIL'}`);

    const out = {
      date: new Date().toISOString(),
      scale: SCALE,
      asOf: db.asOf,
      cpus: os.cpus().length,
      sizes,
      repeats: REPEATS,
      district: { code: district.code, name: district.name },
      period,
      targets: { singleP95Ms: TARGET_SINGLE_P95_MS, boardColdMs: TARGET_BOARD_COLD_MS },
      single: {
        ...single,
        perQuery: singles.map((s) => ({
          code: s.code,
          member: s.member,
          scope: s.scope,
          rows: s.rows,
          coldMs: s.cold,
          warmMedianMs: median(s.warm)
        }))
      },
      board: {
        coldMs: boardCold.ms,
        warmMedianMs: median(boardWarm),
        warmP95Ms: pct(boardWarm, 95),
        engineQueries: boardQueries,
        indicators: boardCold.value.indicators.length,
        noData
      },
      rollupVsRaw: rawResults,
      peopleLists: lists,
      pass: { single: passSingle, board: passBoard }
    };
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-semantic.json'), JSON.stringify(out, null, 2));
    say('written to test-results/bench-semantic.json');
    if (!passSingle || !passBoard) process.exitCode = 1;
  } finally {
    await db.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
