// Engines benchmark (`npm run bench:engines` = `tsx bench/engines.bench.ts`): at city scale (330k
// recipients, 36 months of payments) the time of full certify / detect-risk / match-subsidies runs
// and of incremental runs after a small feed (1,000 evidence rows, 50 deaths), each next to the time
// of a plain `SELECT count(*)` over its input tables measured in the same run (the floor), and the
// node process's peak RSS. Targets (issue 3): full ≤ 30 s, incremental ≤ 5 s, RSS ≤ 500 MB.
//
// Data: .cache/bench/city-seed1 (generateCity scale city, seed 1; generated when missing). The
// database lives in an embedded PostgreSQL under $YINLING_BENCH_PG_DIR (default
// <tmp>/yinling-bench-engines) and is kept between runs: the city is ingested once (from a hard-linked
// copy of the inbox, since ingestion moves files to .done/). BENCH_DATABASE_URL uses a server instead.
// Results: printed, and written to .cache/bench/engines-result.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../core/config.ts';
import { startEmbeddedPostgres, portInUse, embeddedUrl } from '../core/db/embedded.ts';
import { createPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { loadRules } from '../core/reference/rules.ts';
import { runCertify, runDetectRisk, runMatchSubsidies, type EngineOptions } from '../jobs/engines/index.ts';
import type { JobResult } from '../jobs/runner.ts';

const CITY_DIR = path.join(ROOT, '.cache', 'bench', 'city-seed1');
const PG_DIR = process.env.YINLING_BENCH_PG_DIR ?? path.join(os.tmpdir(), 'yinling-bench-engines');
const PG_PORT = Number(process.env.YINLING_BENCH_PG_PORT ?? 54391);
const DB = 'yinling_bench_engines';
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

const INPUTS: Record<string, string[]> = {
  certify: ['enrollments', 'persons', 'evidence', 'certifications', 'deaths', 'imprisonments'],
  'detect-risk': ['payments', 'deaths', 'imprisonments', 'evidence', 'certifications', 'enrollments', 'persons'],
  'match-subsidies': ['persons', 'hardship', 'subsidies', 'deaths', 'imprisonments']
};
const ENGINES: Record<string, (pool: Pool, o: EngineOptions) => Promise<JobResult>> = {
  certify: runCertify, 'detect-risk': runDetectRisk, 'match-subsidies': runMatchSubsidies
};

async function floor(pool: Pool, tables: string[]): Promise<number> {
  const t0 = Date.now();
  for (const t of tables) await pool.query(`SELECT count(*) FROM ${t}`);
  return Date.now() - t0;
}

async function timed(pool: Pool, name: string, opts: EngineOptions): Promise<{ ms: number; result: JobResult }> {
  const t0 = Date.now();
  const result = await ENGINES[name](pool, { ...opts, log: (m) => { if (/^\s/.test(m) && process.env.BENCH_VERBOSE) log(m); } });
  if (result.status !== 'ok') throw new Error(`${name} ${result.status}: ${result.error}`);
  return { ms: Date.now() - t0, result };
}

async function main(): Promise<void> {
  // ---- data ----
  if (!fs.existsSync(path.join(CITY_DIR, '.ground-truth.json'))) {
    log(`generating the city into ${CITY_DIR} (once)…`);
    const { generateCity } = await import('../seeds/generator/index.ts');
    const t0 = Date.now();
    await generateCity({ scale: 'city', seed: 1, outDir: CITY_DIR });
    log(`generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const truth = JSON.parse(fs.readFileSync(path.join(CITY_DIR, '.ground-truth.json'), 'utf8').split('\n').filter((l) => /^"(asOf|seed|scale)"/.test(l)).map((l) => l.replace(/,$/, '')).join(',').replace(/^/, '{') + '}');
  const asOf: string = truth.asOf;

  // ---- database ----
  let stop: (() => Promise<void>) | undefined;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) {
    if (await portInUse(PG_PORT)) adminUrl = embeddedUrl(PG_PORT);
    else {
      fs.mkdirSync(PG_DIR, { recursive: true });
      fs.chmodSync(PG_DIR, 0o755);
      const server = await startEmbeddedPostgres({ dir: PG_DIR, port: PG_PORT });
      adminUrl = server.url;
      stop = () => server.stop();
    }
  }
  const admin = createPool(adminUrl, { max: 1 });
  const exists = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [DB])).rowCount;
  if (!exists) await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const url = withDatabase(adminUrl, DB);
  await migrate(url);
  const pool = createPool(url, { max: 6 });
  await loadCatalogues(pool);
  await loadRules(pool);
  const ingested = (await pool.query(`SELECT count(*)::int AS n FROM ingest_files WHERE status = 'loaded'`)).rows[0].n;
  if (!ingested) {
    const inbox = path.join(PG_DIR, 'inbox-copy');
    fs.rmSync(inbox, { recursive: true, force: true });
    execFileSync('cp', ['-al', CITY_DIR, inbox]);
    log('ingesting the city (once)…');
    const { ingestInbox } = await import('../jobs/ingest/index.ts');
    const t0 = Date.now();
    await ingestInbox(pool, { inbox, log: () => {} });
    log(`ingested in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    fs.rmSync(inbox, { recursive: true, force: true });
  }
  // Remove a previous run's small feed so every run starts from the same data.
  await pool.query(`DELETE FROM evidence WHERE evidence_id LIKE 'BENCH-%'`);
  await pool.query(`DELETE FROM deaths WHERE record_id LIKE 'BENCH-%'`);
  await pool.query('VACUUM ANALYZE');
  const sizes = (await pool.query(`SELECT (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM evidence)::int AS evidence,
      (SELECT count(DISTINCT id_number) FROM enrollments WHERE status = 'active')::int AS recipients, (SELECT count(*) FROM persons)::int AS persons`)).rows[0];
  log(`city: ${JSON.stringify(sizes)}, as of ${asOf}`);

  // ---- full runs (each engine twice: the second is the steady state) ----
  const rows: { run: string; ms: number; floor_ms: number; detail: string }[] = [];
  for (const name of Object.keys(ENGINES)) {
    const f = await floor(pool, INPUTS[name]);
    await timed(pool, name, { asOf, mode: 'full' });
    const { ms, result } = await timed(pool, name, { asOf, mode: 'full' });
    const ex = result.counts.extra;
    const detail = name === 'certify' ? `silent rate ${ex.silent_rate}% of ${ex.certified} certified / ${ex.recipients} recipients`
      : name === 'detect-risk' ? `findings ${JSON.stringify(ex.findings)}` : `${JSON.stringify(ex.matches)}`;
    rows.push({ run: `${name} (full)`, ms, floor_ms: f, detail });
    log(`${name} full: ${(ms / 1000).toFixed(1)} s (count(*) floor ${(f / 1000).toFixed(1)} s) — ${detail}`);
  }

  // ---- detect-risk with its payment screens rebuilt from every payment (first run; then weekly) ----
  {
    const f = await floor(pool, ['payments']);
    const { ms } = await timed(pool, 'detect-risk', { asOf, mode: 'full', rebuildScreens: true });
    rows.push({ run: 'detect-risk (full, screens rebuilt)', ms, floor_ms: f, detail: 'first run / weekly: screens recomputed from all payments' });
    log(`detect-risk full with screen rebuild: ${(ms / 1000).toFixed(1)} s (count(*) payments ${(f / 1000).toFixed(1)} s)`);
  }

  // ---- a small feed: 1,000 evidence rows, 50 deaths (through the ingestion, as in production) ----
  const people = (await pool.query(`SELECT id_number FROM cert_status WHERE status <> 'negative' ORDER BY md5(id_number) LIMIT 1050`)).rows.map((r) => r.id_number as string);
  const feedDir = path.join(PG_DIR, 'small-feed');
  fs.rmSync(feedDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(feedDir, 'evidence'), { recursive: true });
  fs.mkdirSync(path.join(feedDir, 'deaths'), { recursive: true });
  const stamp = Date.now().toString(36);
  const day = (n: number) => new Date(Date.parse(asOf + 'T00:00:00Z') - n * 86_400_000).toISOString().slice(0, 10);
  const kinds = [['outpatient_visit', 'HEALTH_HIS'], ['bus_swipe', 'TRANSIT_CARD'], ['face_login', 'GOV_APP'], ['phone_topup', 'TELECOM']];
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

  for (const name of Object.keys(ENGINES)) {
    const { ms, result } = await timed(pool, name, { asOf });
    const ex = result.counts.extra;
    if (ex.mode !== 'incremental') throw new Error(`${name} did not run incrementally (${ex.mode})`);
    const f = await floor(pool, ['(SELECT * FROM evidence WHERE evidence_id LIKE \'BENCH-%\') x', '(SELECT * FROM deaths WHERE record_id LIKE \'BENCH-%\') y']);
    const detail = `scope ${ex.scope} people` + (name === 'detect-risk' ? `, opened ${ex.alerts_opened}, updated ${ex.alerts_updated}, closed ${ex.alerts_closed}` : '');
    rows.push({ run: `${name} (incremental)`, ms, floor_ms: f, detail });
    log(`${name} incremental: ${(ms / 1000).toFixed(2)} s — ${detail}`);
  }
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  console.log('\n| run | time (s) | count(*) floor (s) | notes |\n|---|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.run} | ${(r.ms / 1000).toFixed(2)} | ${(r.floor_ms / 1000).toFixed(2)} | ${r.detail} |`);
  console.log(`\nnode peak RSS: ${rssMb} MB; city ${JSON.stringify(sizes)}; ${os.cpus().length} CPUs`);
  fs.writeFileSync(path.join(ROOT, '.cache', 'bench', 'engines-result.json'), JSON.stringify({ at: new Date().toISOString(), asOf, sizes, rows, rssMb }, null, 2));

  await pool.query(`DELETE FROM evidence WHERE evidence_id LIKE 'BENCH-%'`);
  await pool.query(`DELETE FROM deaths WHERE record_id LIKE 'BENCH-%'`);
  await pool.end();
  await stop?.();
  fs.rmSync(feedDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
