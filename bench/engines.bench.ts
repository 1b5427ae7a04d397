// Engines benchmark (`npm run bench:engines` = `tsx bench/engines.bench.ts`): at city scale (330k
// recipients, 36 months of payments) the time of every engine's full run and of the indicator facts —
//   * the FIRST run, on a freshly ingested database (engine tables empty, everything vacuumed and
//     analyzed: the day a bureau goes live; issue 22), and
//   * the steady state (the same full run again on its own output),
// both against the same target, then detect-risk with its screens rebuilt and incremental runs after a
// small feed (1,000 evidence rows, 50 deaths). Each time is printed next to a plain `SELECT count(*)`
// over the engine's input tables (the floor), with the node process's peak RSS.
// Targets (issues 3, 22): first and steady full ≤ 30 s per engine, incremental ≤ 5 s, RSS ≤ 500 MB.
//
// Data: .cache/bench/<scale>-seed1 (generateCity, BENCH_SCALE=city|demo|tiny, default city; generated
// when missing). The database lives in an embedded PostgreSQL under $YINLING_BENCH_PG_DIR (default
// <tmp>/yinling-bench-engines[-<scale>]) and is kept between runs: the city is ingested once into
// a template database (from a hard-linked copy of the inbox, since ingestion moves files to .done/),
// and every run starts from a fresh copy of it. BENCH_DATABASE_URL uses a server instead.
// Results: printed, and written to .cache/bench/engines-result[-<scale>].json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { startEmbeddedPostgres, portInUse, embeddedUrl } from '../core/db/embedded.ts';
import { createPool, endPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { loadRules } from '../core/reference/rules.ts';
import { ENGINES as ALL_ENGINES, type EngineOptions } from '../jobs/engines/index.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';
import { refreshRollups } from '../jobs/rollups.ts';
import { runJob, type JobResult } from '../jobs/runner.ts';
import { generatedAsOf } from './support.ts';

const SCALE = (process.env.BENCH_SCALE ?? 'city') as 'city' | 'demo' | 'tiny';
const SUFFIX = SCALE === 'city' ? '' : `-${SCALE}`;
const CITY_DIR = path.join(ROOT, '.cache', 'bench', `${SCALE}-seed1`);
const PG_DIR = process.env.YINLING_BENCH_PG_DIR ?? path.join(os.tmpdir(), `yinling-bench-engines${SUFFIX}`);
const PG_PORT = Number(process.env.YINLING_BENCH_PG_PORT ?? (SCALE === 'city' ? 54391 : 54392));
const DB = 'yinling_bench_engines';
/** The freshly ingested city, never run on: every run starts from a copy of it. */
const TEMPLATE = 'yinling_bench_engines_ingested';
const TARGET_FULL_MS = 30_000;
const TARGET_INCREMENTAL_MS = 5_000;
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

const INPUTS: Record<string, string[]> = {
  certify: ['enrollments', 'persons', 'evidence', 'certifications', 'deaths', 'imprisonments'],
  'detect-risk': ['payments', 'deaths', 'imprisonments', 'evidence', 'certifications', 'enrollments', 'persons'],
  'after-death': ['deaths', 'enrollments', 'payments', 'subsidies', 'persons'],
  'match-subsidies': ['persons', 'hardship', 'subsidies', 'deaths', 'imprisonments'],
  'assign-community': ['persons', 'deaths', 'regions'],
  'remind-retirement': ['persons'],
  'indicator-facts': ['persons', 'enrollments', 'payments', 'subsidies', 'evidence', 'cert_status', 'cert_events', 'alerts', 'tasks']
};
/** Every engine in the order `all` runs them, then the indicator facts (what the scheduler runs nightly). */
const ENGINES: Record<string, (pool: Pool, o: EngineOptions) => Promise<JobResult>> = {
  ...Object.fromEntries(ALL_ENGINES.map(([name, , run]) => [name, run])),
  'indicator-facts': (pool, o) => runIndicatorFacts(pool, { asOf: o.asOf, log: o.log })
};
/** The ones with an incremental mode measured after the small feed. */
const INCREMENTAL = ['certify', 'detect-risk', 'match-subsidies'];

async function floor(pool: Pool, tables: string[]): Promise<number> {
  const t0 = Date.now();
  for (const t of tables) await pool.query(`SELECT count(*) FROM ${t}`);
  return Date.now() - t0;
}

async function timed(pool: Pool, name: string, opts: EngineOptions): Promise<{ ms: number; result: JobResult }> {
  const t0 = Date.now();
  const result = await ENGINES[name](pool, {
    ...opts,
    log: (m) => {
      if (/^\s/.test(m) && process.env.BENCH_VERBOSE) log(m);
    }
  });
  if (result.status !== 'ok') throw new Error(`${name} ${result.status}: ${result.error}`);
  return { ms: Date.now() - t0, result };
}

async function main(): Promise<void> {
  // ---- data ----
  if (!fs.existsSync(path.join(CITY_DIR, '.ground-truth.json'))) {
    log(`generating the ${SCALE} city into ${CITY_DIR} (once)…`);
    const { generateCity } = await import('../seeds/generator/index.ts');
    const t0 = Date.now();
    await generateCity({ scale: SCALE, seed: 1, outDir: CITY_DIR });
    log(`generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const asOf = generatedAsOf(CITY_DIR);

  // ---- database: the ingested city as a template, a fresh copy of it for every run ----
  let stop: (() => Promise<void>) | undefined;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) {
    if (await portInUse(PG_PORT)) adminUrl = embeddedUrl(PG_PORT, PG_DIR);
    else {
      fs.mkdirSync(PG_DIR, { recursive: true });
      fs.chmodSync(PG_DIR, 0o755);
      const server = await startEmbeddedPostgres({ dir: PG_DIR, port: PG_PORT });
      adminUrl = server.url;
      stop = () => server.stop();
    }
  }
  const admin = createPool(adminUrl, { max: 1 });
  const templateUrl = withDatabase(adminUrl, TEMPLATE);
  let ingestMs: number | null = null;
  const ready = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate`, [TEMPLATE])).rowCount;
  if (!ready) {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    await migrate(templateUrl);
    const tpool = createPool(templateUrl, { max: 6 });
    await loadCatalogues(tpool);
    await loadRules(tpool);
    const inbox = path.join(PG_DIR, 'inbox-copy');
    fs.rmSync(inbox, { recursive: true, force: true });
    execFileSync('cp', ['-al', CITY_DIR, inbox]);
    log('ingesting the city (once)…');
    const { ingestInbox } = await import('../jobs/ingest/index.ts');
    const t0 = Date.now();
    await ingestInbox(tpool, { inbox, log: () => {} });
    ingestMs = Date.now() - t0;
    log(`ingested in ${(ingestMs / 1000).toFixed(0)} s`);
    fs.rmSync(inbox, { recursive: true, force: true });
    // The rollups, as the scheduler refreshes them after a load: the area tree (region_paths; without it
    // every person falls in the unknown region and the indicator facts work on 37 rows instead of the
    // city's grid) and the payments by month and area the facts read (jobs/rollups.ts).
    await runJob(tpool, 'refresh-rollups', (ctx) => refreshRollups(tpool, ctx), { trigger: 'manual' });
    // As on the day a bureau goes live: inputs loaded and their rollups refreshed, engine tables empty,
    // everything vacuumed and analyzed.
    await tpool.query('VACUUM ANALYZE');
    await tpool.end();
    await admin.query(`ALTER DATABASE ${TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  } else {
    await admin.query(`ALTER DATABASE ${TEMPLATE} WITH ALLOW_CONNECTIONS true`);
    await migrate(templateUrl); // migrations added since the city was ingested (engine tables stay empty)
    const tpool = createPool(templateUrl, { max: 2 });
    // a template ingested before the rollups were refreshed here, or before they included the payments by
    // month and area (jobs/rollups.ts): refresh them now (see above)
    if (
      !(await tpool.query('SELECT 1 FROM region_paths LIMIT 1')).rowCount ||
      !(await tpool.query('SELECT 1 FROM ind_pay_basis')).rowCount
    ) {
      log('refreshing the rollups (region_paths, the payments by month and area) of the template…');
      await runJob(tpool, 'refresh-rollups', (ctx) => refreshRollups(tpool, ctx), { trigger: 'manual' });
      await tpool.query('VACUUM ANALYZE region_paths, ind_pay_month, ind_pay_person');
    }
    await tpool.end();
    await admin.query(`ALTER DATABASE ${TEMPLATE} WITH ALLOW_CONNECTIONS false`);
  }
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  const tc = Date.now();
  await admin.query(`CREATE DATABASE ${DB} TEMPLATE ${TEMPLATE} STRATEGY FILE_COPY`);
  log(`fresh copy of the ingested city in ${((Date.now() - tc) / 1000).toFixed(0)} s`);
  await admin.end();
  const url = withDatabase(adminUrl, DB);
  const pool = createPool(url, { max: 6 });
  const sizes = (
    await pool.query(`SELECT (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM evidence)::int AS evidence,
      (SELECT count(DISTINCT id_number) FROM enrollments WHERE status = 'active')::int AS recipients, (SELECT count(*) FROM persons)::int AS persons`)
  ).rows[0];
  const engineRows = (
    await pool.query(`SELECT (SELECT count(*) FROM cert_status) + (SELECT count(*) FROM cert_events) + (SELECT count(*) FROM alerts)
      + (SELECT count(*) FROM community_assignments) + (SELECT count(*) FROM ind_person_now) AS n`)
  ).rows[0].n;
  if (Number(engineRows) !== 0) throw new Error(`the fresh copy holds ${engineRows} engine rows: it is not a first run`);
  log(`city: ${JSON.stringify(sizes)}, as of ${asOf}`);

  // ---- full runs: the first (empty engine tables) and the steady state (the same run again) ----
  const rows: { run: string; ms: number; floor_ms: number; target_ms: number; detail: string }[] = [];
  const describe = (name: string, result: JobResult): string => {
    const ex = result.counts.extra;
    return name === 'certify'
      ? `silent rate ${ex.silent_rate}% of ${ex.certified} certified / ${ex.recipients} recipients`
      : name === 'detect-risk'
        ? `findings ${JSON.stringify(ex.findings)}`
        : name === 'match-subsidies'
          ? `${JSON.stringify(ex.matches)}`
          : name === 'indicator-facts'
            ? `${ex.monthly_rows} monthly fact rows, ${ex.now_rows} "now" rows`
            : `${result.counts.loaded} rows written`;
  };
  for (const pass of ['first', 'steady state'] as const) {
    for (const name of Object.keys(ENGINES)) {
      const f = await floor(pool, INPUTS[name]);
      const { ms, result } = await timed(pool, name, { asOf, mode: 'full' });
      const detail = describe(name, result);
      rows.push({ run: `${name} (full, ${pass})`, ms, floor_ms: f, target_ms: TARGET_FULL_MS, detail });
      log(`${name} full, ${pass}: ${(ms / 1000).toFixed(1)} s (count(*) floor ${(f / 1000).toFixed(1)} s) — ${detail}`);
    }
  }

  // ---- detect-risk with its payment screens rebuilt from every payment (as on the first run; then weekly) ----
  {
    const f = await floor(pool, ['payments']);
    const { ms } = await timed(pool, 'detect-risk', { asOf, mode: 'full', rebuildScreens: true });
    rows.push({
      run: 'detect-risk (full, screens rebuilt)',
      ms,
      floor_ms: f,
      target_ms: TARGET_FULL_MS,
      detail: 'weekly: screens recomputed from all payments'
    });
    log(`detect-risk full with screen rebuild: ${(ms / 1000).toFixed(1)} s (count(*) payments ${(f / 1000).toFixed(1)} s)`);
  }

  // ---- a small feed: 1,000 evidence rows, 50 deaths (through the ingestion, as in production) ----
  const people = (
    await pool.query(`SELECT id_number FROM cert_status WHERE status <> 'negative' ORDER BY md5(id_number) LIMIT 1050`)
  ).rows.map((r) => r.id_number as string);
  const feedDir = path.join(PG_DIR, 'small-feed');
  fs.rmSync(feedDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(feedDir, 'evidence'), { recursive: true });
  fs.mkdirSync(path.join(feedDir, 'deaths'), { recursive: true });
  const stamp = Date.now().toString(36);
  const day = (n: number) => new Date(Date.parse(asOf + 'T00:00:00Z') - n * 86_400_000).toISOString().slice(0, 10);
  const kinds = [
    ['outpatient_visit', 'HEALTH_HIS'],
    ['bus_swipe', 'TRANSIT_CARD'],
    ['face_login', 'GOV_APP'],
    ['phone_topup', 'TELECOM']
  ];
  const ev = ['evidence_id,id_number,source,kind,occurred_at'];
  for (let i = 0; i < 1000; i++) {
    const [kind, source] = kinds[i % kinds.length];
    ev.push(`BENCH-${stamp}-E${i},${people[i]},${source},${kind},${day(3 + (i % 40))}T10:00:00`);
  }
  fs.writeFileSync(path.join(feedDir, 'evidence', `bench-${stamp}.csv`), ev.join('\n') + '\n');
  const de = ['record_id,id_number,death_date,source,recorded_at'];
  for (let i = 0; i < 50; i++) de.push(`BENCH-${stamp}-D${i},${people[1000 + i]},${day(60 + i)},health,${day(5)}T09:00:00`);
  fs.writeFileSync(path.join(feedDir, 'deaths', `bench-${stamp}.csv`), de.join('\n') + '\n');
  const { ingestInbox } = await import('../jobs/ingest/index.ts');
  const ti = Date.now();
  await ingestInbox(pool, { inbox: feedDir, log: () => {} });
  log(`small feed ingested in ${((Date.now() - ti) / 1000).toFixed(1)} s`);

  for (const name of INCREMENTAL) {
    const { ms, result } = await timed(pool, name, { asOf });
    const ex = result.counts.extra;
    if (ex.mode !== 'incremental') throw new Error(`${name} did not run incrementally (${ex.mode})`);
    const f = await floor(pool, [
      "(SELECT * FROM evidence WHERE evidence_id LIKE 'BENCH-%') x",
      "(SELECT * FROM deaths WHERE record_id LIKE 'BENCH-%') y"
    ]);
    const detail =
      `scope ${ex.scope} people` +
      (name === 'detect-risk' ? `, opened ${ex.alerts_opened}, updated ${ex.alerts_updated}, closed ${ex.alerts_closed}` : '');
    rows.push({ run: `${name} (incremental)`, ms, floor_ms: f, target_ms: TARGET_INCREMENTAL_MS, detail });
    log(`${name} incremental: ${(ms / 1000).toFixed(2)} s — ${detail}`);
  }
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  console.log('\n| run | time (s) | target (s) | | count(*) floor (s) | notes |\n|---|---:|---:|---|---:|---|');
  for (const r of rows) {
    const pass = r.ms <= r.target_ms ? 'PASS' : 'FAIL';
    console.log(
      `| ${r.run} | ${(r.ms / 1000).toFixed(2)} | ≤ ${r.target_ms / 1000} | ${pass} | ${(r.floor_ms / 1000).toFixed(2)} | ${r.detail} |`
    );
  }
  console.log(
    `\nscale ${SCALE}: ${JSON.stringify(sizes)}${ingestMs !== null ? `, ingested in ${(ingestMs / 1000).toFixed(0)} s this run` : ''}; node peak RSS: ${rssMb} MB; ${os.cpus().length} CPUs`
  );
  fs.writeFileSync(
    path.join(ROOT, '.cache', 'bench', `engines-result${SUFFIX}.json`),
    JSON.stringify({ at: new Date().toISOString(), scale: SCALE, asOf, sizes, ingestMs, rows, rssMb }, null, 2)
  );

  await pool.query(`DELETE FROM evidence WHERE evidence_id LIKE 'BENCH-%'`);
  await pool.query(`DELETE FROM deaths WHERE record_id LIKE 'BENCH-%'`);
  await endPool(pool);
  await stop?.();
  fs.rmSync(feedDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
