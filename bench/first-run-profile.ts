// Step-by-step timings of the FIRST run (issue 22): a fresh copy of the ingested city that
// bench/engines.bench.ts keeps as a template, then every engine in order and the indicator facts,
// printing each step that takes ≥ PROFILE_MIN_MS (default 300 ms).
//   tsx bench/first-run-profile.ts            (BENCH_SCALE=city|demo|tiny as bench:engines)
import { enginesBenchServer } from './support.ts';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { ENGINES } from '../jobs/engines/index.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';

const DB = 'yinling_bench_first_run';
const MIN_MS = Number(process.env.PROFILE_MIN_MS ?? 300);
const asOf = process.env.AS_OF ?? '2026-11-15';

const { url, stop } = await enginesBenchServer();
const admin = createPool(url, { max: 1 });
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB} TEMPLATE yinling_bench_engines_ingested STRATEGY FILE_COPY`);
// a template ingested before the newest migrations: bring the copy up to date (engine tables stay empty)
await migrate(withDatabase(url, DB));
const pool = createPool(withDatabase(url, DB), { max: 6 });
const t0 = Date.now();
const log = (m: string) => {
  const s = / (\d+) ms$/.exec(m);
  if (!s || Number(s[1]) >= MIN_MS) console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} ${m}`);
};
for (const [name, , run] of ENGINES) {
  const r = await run(pool, { asOf, mode: 'full', log });
  console.log(`${name}: ${r.status} ${(r.durationMs / 1000).toFixed(1)} s ${r.error ?? ''}`);
}
const f = await runIndicatorFacts(pool, { asOf, log });
console.log(`indicator-facts: ${f.status} ${(f.durationMs / 1000).toFixed(1)} s ${f.error ?? ''}`);
await endPool(pool);
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
await stop();
