// Step-by-step timings of one engine on the benchmark database (bench/engines.bench.ts builds it):
//   tsx bench/engines-profile.ts <certify|detect-risk|match-subsidies|…> [full|auto]
import { enginesBenchServer } from './support.ts';
import { createPool, withDatabase } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { ENGINES } from '../jobs/engines/index.ts';

const name = process.argv[2] ?? 'certify';
const mode = (process.argv[3] ?? 'full') as 'full' | 'auto';
const asOf = process.env.AS_OF ?? '2026-11-15';

const { url, stop } = await enginesBenchServer();
const dbUrl = withDatabase(url, 'yinling_bench_engines');
await migrate(dbUrl);
const pool = createPool(dbUrl, { max: 6 });
const engine = ENGINES.find((e) => e[0] === name);
// SMALLFEED=1: 1,000 evidence rows and 50 deaths inserted straight into the feeds (removed afterwards).
if (process.env.SMALLFEED === '1') {
  await pool.query(
    `INSERT INTO evidence (evidence_id, id_number, source, kind, occurred_at)
    SELECT 'PROF-E' || row_number() OVER (), id_number, 'GOV_APP', 'face_login', $1::timestamptz - interval '5 days'
      FROM (SELECT id_number FROM cert_status WHERE status <> 'negative' ORDER BY md5(id_number) LIMIT 1000) x`,
    [asOf + 'T10:00:00+08:00']
  );
  await pool.query(
    `INSERT INTO deaths (record_id, id_number, death_date, source, recorded_at)
    SELECT 'PROF-D' || row_number() OVER (), id_number, $1::date - 90, 'health', $1::date - 5
      FROM (SELECT id_number FROM cert_status WHERE status <> 'negative' ORDER BY md5(id_number) DESC LIMIT 50) x`,
    [asOf]
  );
}
if (!engine) throw new Error(`unknown engine ${name}`);
const t0 = Date.now();
const r = await engine[2](pool, {
  asOf,
  mode,
  rebuildScreens: process.env.REBUILD === '1',
  log: (m) => console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} ${m}`)
});
console.log(r.status, r.error ?? '', `${(r.durationMs / 1000).toFixed(1)} s`, JSON.stringify(r.counts.extra).slice(0, 400));
if (process.env.SMALLFEED === '1') {
  await pool.query(`DELETE FROM evidence WHERE evidence_id LIKE 'PROF-%'`);
  await pool.query(`DELETE FROM deaths WHERE record_id LIKE 'PROF-%'`);
}
await pool.end();
await stop();
