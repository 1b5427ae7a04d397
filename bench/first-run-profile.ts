// Step-by-step timings of the FIRST run (issue 22): a fresh copy of the ingested city that
// bench/engines.bench.ts keeps as a template, then every engine in order and the indicator facts,
// printing each step that takes ≥ PROFILE_MIN_MS (default 300 ms).
//   tsx bench/first-run-profile.ts            (BENCH_SCALE=city|demo|tiny as bench:engines)
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, portInUse, embeddedUrl } from '../core/db/embedded.ts';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { ENGINES } from '../jobs/engines/index.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';

const SCALE = process.env.BENCH_SCALE ?? 'city';
const SUFFIX = SCALE === 'city' ? '' : `-${SCALE}`;
const PG_DIR = process.env.YINLING_BENCH_PG_DIR ?? path.join(os.tmpdir(), `yinling-bench-engines${SUFFIX}`);
const PG_PORT = Number(process.env.YINLING_BENCH_PG_PORT ?? (SCALE === 'city' ? 54391 : 54392));
const DB = 'yinling_bench_first_run';
const MIN_MS = Number(process.env.PROFILE_MIN_MS ?? 300);
const asOf = process.env.AS_OF ?? '2026-11-15';

let stop: (() => Promise<void>) | undefined;
let url = process.env.BENCH_DATABASE_URL;
if (!url) {
  if (await portInUse(PG_PORT)) url = embeddedUrl(PG_PORT, PG_DIR);
  else {
    const s = await startEmbeddedPostgres({ dir: PG_DIR, port: PG_PORT });
    url = s.url;
    stop = () => s.stop();
  }
}
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
await stop?.();
