// `npm run bench:scale` — the cost curve from the tiny city to three times the city (issue 22): at each
// size, in a fresh embedded PostgreSQL, ingest the whole inbox (and refresh the rollups), then (as on the day a bureau goes live:
// engine tables empty, everything vacuumed and analyzed) `run all` — the six engines — and the
// indicator facts, then the 41-indicator board for the largest district, cold. Printed per size: the
// time of each part and its cost per input row, and between consecutive sizes the growth factor of
// rows, of time and of cost per row. Target: cost per row flat (within ±30 %) from demo's size up to
// 3× city. The band is measured from the town — 1/16 of the city in the city's mix (its people per
// community and 36 months of payments; city3 is 3× the city the same way); demo's own 24 months make
// payments, the cheapest rows, a smaller share of its input, so its cost per row is printed beside for
// reference only. Every engine step whose cost per row grows by more than 30 % from one size to the
// next of the same mix (and takes ≥ 1 s at the larger) is named with its file and step: that is where a
// size goes super-linear.
//
// Sizes: BENCH_SCALES=tiny,demo,town,city,city3 (default); each city is generated once into
// .cache/bench/<scale>-seed1-<key of its settings> (city3 ≈ 6 GB of CSV): a change of a scale's settings
// (seeds/generator/plan.ts) generates it again instead of measuring the old one.
// Each size's cluster lives in a scratch dir removed after it (BENCH_KEEP=1 keeps them).
// Results: printed (a Markdown table for the README), and written to .cache/bench/scale-result.json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { scratchDir, startEmbeddedPostgres } from '../core/db/embedded.ts';
import { migrate } from '../core/db/migrate.ts';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { loadRules } from '../core/reference/rules.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { refreshRollups } from '../jobs/rollups.ts';
import { runJob } from '../jobs/runner.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';
import { createSemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard } from '../dashboard/lib/server/indicators.ts';
import type { Caller, Region } from '../dashboard/lib/server/scope.ts';
import { generateCity, type Scale } from '../seeds/generator/index.ts';
import { SCALES as GENERATOR_SCALES } from '../seeds/generator/plan.ts';
import { freePort, generatedAsOf, linkTree } from './support.ts';

const SCALES = (process.env.BENCH_SCALES ?? 'tiny,demo,town,city,city3').split(',').map((s) => s.trim()) as Scale[];
const SEED = 1;
const FLAT = 0.3;
const FEED_TABLES = [
  'regions',
  'persons',
  'enrollments',
  'payments',
  'evidence',
  'certifications',
  'deaths',
  'imprisonments',
  'subsidies',
  'hardship',
  'checkups',
  'fund_ledger',
  'activities'
];
const MODEL_DIR = path.join(ROOT, 'semantic-layer', 'model');
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

interface SizeResult {
  scale: Scale;
  rows: number;
  recipients: number;
  payments: number;
  dbBytes: number;
  ingestMs: number;
  runAllMs: number;
  factsMs: number;
  boardMs: number;
  engineMs: Record<string, number>;
  /** "<file>: <step>" → ms (summed when a step name repeats). */
  stepMs: Record<string, number>;
  rssMb: number;
}

async function measure(scale: Scale): Promise<SizeResult> {
  const settings = createHash('sha256').update(JSON.stringify(GENERATOR_SCALES[scale])).digest('hex').slice(0, 8);
  const cache = path.join(ROOT, '.cache', 'bench', `${scale}-seed${SEED}-${settings}`);
  if (!fs.existsSync(path.join(cache, '.ground-truth.json'))) {
    log(`generating the ${scale} city into ${path.relative(ROOT, cache)} (once) …`);
    const t = Date.now();
    await generateCity({ scale, seed: SEED, outDir: cache, clean: true });
    log(`  generated in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  const asOf = generatedAsOf(cache);
  const dir = scratchDir(`yinling-bench-scale-${scale}-`);
  const pg = await startEmbeddedPostgres({ dir, port: await freePort() });
  const admin = createPool(pg.url, { max: 1 });
  await admin.query('CREATE DATABASE bench_scale');
  await admin.end();
  const url = withDatabase(pg.url, 'bench_scale');
  const pool = createPool(url, { max: 6 });
  try {
    await migrate(url);
    await loadCatalogues(pool);
    await loadRules(pool);
    const inbox = path.join(dir, 'inbox');
    linkTree(cache, inbox);

    log(`${scale}: ingesting …`);
    let t = Date.now();
    await ingestInbox(pool, { inbox, log: () => {} });
    const loadMs = Date.now() - t;
    fs.rmSync(inbox, { recursive: true, force: true });
    // What the scheduler runs after a load before the engines: the refresh-rollups job (region_paths, the area tree).
    t = Date.now();
    const rollups = await runJob(pool, 'refresh-rollups', (ctx) => refreshRollups(pool, ctx), { trigger: 'manual' });
    if (rollups.status !== 'ok') throw new Error(`refresh-rollups: ${rollups.error}`);
    const ingestMs = loadMs + (Date.now() - t);
    await pool.query('VACUUM ANALYZE');
    const counts = (
      await pool.query(`SELECT ${FEED_TABLES.map((f) => `(SELECT count(*) FROM ${f})`).join(' + ')} AS rows,
        (SELECT count(*) FROM payments) AS payments,
        (SELECT count(DISTINCT id_number) FROM enrollments WHERE status = 'active') AS recipients, pg_database_size(current_database()) AS bytes`)
    ).rows[0];
    const rows = Number(counts.rows);
    log(
      `${scale}: ${rows.toLocaleString('en-US')} input rows ingested in ${(loadMs / 1000).toFixed(1)} s, rollups refreshed in ${((ingestMs - loadMs) / 1000).toFixed(1)} s`
    );

    // run all, first run: engine tables empty and analyzed. Steps timed from the engines' own log lines.
    const stepMs: Record<string, number> = {};
    const stepLog = (m: string) => {
      const s = /^\s+([a-z-]+): (.+) — (\d+) rows, (\d+) ms$/.exec(m);
      if (s) stepMs[`${s[1]}: ${s[2]}`] = (stepMs[`${s[1]}: ${s[2]}`] ?? 0) + Number(s[4]);
      if (s && process.env.BENCH_VERBOSE) log(m);
    };
    t = Date.now();
    const all = await runAllEngines(pool, { asOf, mode: 'full', log: stepLog });
    const runAllMs = Date.now() - t;
    if (all.status !== 'ok') throw new Error(`run all: ${all.error}`);
    const engineMs = Object.fromEntries(Object.entries(all.counts.extra).map(([k, v]) => [k, Number((v as { ms: number }).ms)]));
    t = Date.now();
    const facts = await runIndicatorFacts(pool, { asOf, log: stepLog });
    const factsMs = Date.now() - t;
    if (facts.status !== 'ok') throw new Error(`indicator-facts: ${facts.error}`);
    log(
      `${scale}: run all ${(runAllMs / 1000).toFixed(1)} s ${JSON.stringify(engineMs)}, indicator facts ${(factsMs / 1000).toFixed(1)} s`
    );

    // The board for the district with the most people, cold (a new engine and pool).
    const regions = (
      await pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'district' ORDER BY code`)
    ).rows as Region[];
    const big = (
      await pool.query(
        `SELECT district_code FROM person_regions WHERE district_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
      )
    ).rows[0].district_code;
    const district = regions.find((r) => r.code === big)!;
    const caller: Caller = { kind: 'staff', name: 'bench-scale', role: 'leader', scope: district, privacy: false };
    const bpool = createPool(url, { max: 6 });
    const engine = createSemanticEngine({ modelDir: MODEL_DIR, pool: bpool, apiSecret: 'bench-scale', log: () => {} });
    t = Date.now();
    await buildBoard(engine, bpool, caller, district, null);
    const boardMs = Date.now() - t;
    await endPool(bpool);
    log(`${scale}: board ${boardMs} ms`);
    return {
      scale,
      rows,
      recipients: Number(counts.recipients),
      payments: Number(counts.payments),
      dbBytes: Number(counts.bytes),
      ingestMs,
      runAllMs,
      factsMs,
      boardMs,
      engineMs,
      stepMs,
      rssMb: Math.round(process.resourceUsage().maxRSS / 1024)
    };
  } finally {
    await endPool(pool).catch(() => {});
    await pg.stop();
    if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const us = (ms: number, rows: number) => (ms * 1000) / rows;
// Cost per row compares only inputs of one mix: the same months of payments (the rows' largest share).
const sameMix = (a: Scale, b: Scale) => GENERATOR_SCALES[a].months === GENERATOR_SCALES[b].months;
const f = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  const results: SizeResult[] = [];
  for (const scale of SCALES) results.push(await measure(scale));

  // The band is measured from the town: 1/16 of the city in the city's mix. Demo itself has 24
  // months of payments against the cities' 36, so payments are a smaller share of its rows and its cost
  // per row is not comparable (it is printed beside, for reference).
  const base = results.find((r) => r.scale === 'town') ?? results.find((r) => r.scale === 'demo');
  const demo = results.find((r) => r.scale === 'demo');
  const perRow = (r: SizeResult, b: SizeResult) => [
    us(r.ingestMs, r.rows) / us(b.ingestMs, b.rows),
    us(r.runAllMs + r.factsMs, r.rows) / us(b.runAllMs + b.factsMs, b.rows)
  ];
  console.log(
    `\n| size | input rows | recipients | ingest + rollups (s) | µs/row | run all + facts (s) | µs/row | board cold (ms) | rows × | time × (ingest / engines) | µs/row vs ${base?.scale ?? '–'} (ingest / engines) | µs/row vs demo (ingest / engines) |`
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const flat: string[] = [];
  const flatDemo: string[] = [];
  results.forEach((r, i) => {
    const prev = results[i - 1];
    const eng = r.runAllMs + r.factsMs;
    const growth = prev ? `${f(r.rows / prev.rows, 1)}` : '';
    const tgrowth = prev ? `${f(r.ingestMs / prev.ingestMs, 1)} / ${f(eng / (prev.runAllMs + prev.factsMs), 1)}` : '';
    const ratios = (b: SizeResult | undefined, into: string[] | null) => {
      if (!b || r.scale === 'tiny') return '';
      const [a, e] = perRow(r, b);
      if (into && (into === flatDemo || sameMix(r.scale, b.scale)) && r.rows >= b.rows)
        for (const [what, x] of [
          ['ingest', a],
          ['run all + facts', e]
        ] as const)
          if (Math.abs(x - 1) > FLAT) into.push(`${r.scale} ${what}: ${f(x)}× ${b.scale}'s cost per row`);
      return `${f(a)} / ${f(e)}`;
    };
    const vs = ratios(base, flat);
    const vsDemo = ratios(demo, base === demo ? null : flatDemo);
    console.log(
      `| ${r.scale} | ${r.rows.toLocaleString('en-US')} | ${r.recipients.toLocaleString('en-US')} | ${f(r.ingestMs / 1000, 1)} | ${f(us(r.ingestMs, r.rows))} | ${f(eng / 1000, 1)} | ${f(us(eng, r.rows))} | ${r.boardMs} | ${growth} | ${tgrowth} | ${vs} | ${vsDemo} |`
    );
  });

  console.log(
    '\nper engine (s): ' +
      results
        .map(
          (r) =>
            `${r.scale} ${Object.entries(r.engineMs)
              .map(([k, v]) => `${k} ${f(v / 1000, 1)}`)
              .join(', ')}, indicator-facts ${f(r.factsMs / 1000, 1)}`
        )
        .join('; ')
  );
  const superLinear: string[] = [];
  for (let i = 1; i < results.length; i++) {
    const [p, r] = [results[i - 1], results[i]];
    if (p.scale === 'tiny' || !sameMix(p.scale, r.scale)) continue;
    for (const [step, ms] of Object.entries(r.stepMs)) {
      const before = p.stepMs[step];
      if (!before || ms < 1000) continue;
      const perRow = us(ms, r.rows) / us(before, p.rows);
      if (perRow > 1 + FLAT) superLinear.push(`${step}: ${p.scale} → ${r.scale} ${before} → ${ms} ms (cost per row ×${f(perRow)})`);
    }
  }
  const sized = results.filter((r) => base && sameMix(r.scale, base.scale) && r.rows >= base.rows).map((r) => r.scale);
  console.log(
    `\ncost per row flat within ±${FLAT * 100} % of ${base?.scale ?? '–'}'s (${sized.join(', ')}): ${flat.length ? 'NO — ' + flat.join('; ') : 'yes'}`
  );
  if (base !== demo && demo)
    console.log(
      `  for reference, against demo's (${GENERATOR_SCALES.demo.months} months of payments, not the cities' ${GENERATOR_SCALES.city.months}): ${flatDemo.length ? 'outside ±30 % — ' + flatDemo.join('; ') : 'within ±30 %'}`
    );
  console.log(
    `super-linear steps (cost per row up > ${FLAT * 100} % from one size to the next, ≥ 1 s): ${superLinear.length ? '\n  ' + superLinear.join('\n  ') : 'none'}`
  );
  console.log(
    `\nnode peak RSS ${Math.max(...results.map((r) => r.rssMb))} MB; database ${results.map((r) => `${r.scale} ${f(r.dbBytes / 2 ** 30, 1)} GiB`).join(', ')}; ${os.cpus().length} CPUs, ${f(os.totalmem() / 2 ** 30, 0)} GiB`
  );
  fs.mkdirSync(path.join(ROOT, '.cache', 'bench'), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, '.cache', 'bench', 'scale-result.json'),
    JSON.stringify({ at: new Date().toISOString(), base: base?.scale, results, flat, flatAgainstDemo: flatDemo, superLinear }, null, 2)
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
