// EXPLAIN ANALYZE a statement (stdin) on the benchmark database, inside a transaction that is rolled
// back. Named parameters :as_of and :full are bound ('2026-11-15', true). Setup SQL: env SETUP (';'-separated).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, portInUse, embeddedUrl } from '../core/db/embedded.ts';
import { createPool, withDatabase } from '../core/db/pool.ts';
import { bindNames, splitStatements } from '../jobs/engines/sql.ts';

const PG_DIR = process.env.YINLING_BENCH_PG_DIR ?? path.join(os.tmpdir(), 'yinling-bench-engines');
const PG_PORT = Number(process.env.YINLING_BENCH_PG_PORT ?? 54391);
let stop: (() => Promise<void>) | undefined;
let url: string;
if (await portInUse(PG_PORT)) url = embeddedUrl(PG_PORT, PG_DIR);
else {
  const s = await startEmbeddedPostgres({ dir: PG_DIR, port: PG_PORT });
  url = s.url;
  stop = () => s.stop();
}
const pool = createPool(withDatabase(url, 'yinling_bench_engines'), { max: 1 });
const params: Record<string, unknown> = { as_of: '2026-11-15', full: true, ...JSON.parse(process.env.PARAMS ?? '{}') };
const c = await pool.connect();
try {
  await c.query('BEGIN');
  await c.query(`SET LOCAL work_mem = '256MB'`);
  await c.query(`CREATE TEMP TABLE engine_scope (id_number text PRIMARY KEY) ON COMMIT DROP`);
  const stmts = splitStatements(fs.readFileSync(0, 'utf8'));
  for (const [i, s] of stmts.entries()) {
    const b = bindNames(s.text);
    const values = b.params.map((p) => params[p]);
    const last = i === stmts.length - 1;
    const t0 = Date.now();
    const r = await c.query((last ? 'EXPLAIN (ANALYZE, BUFFERS) ' : '') + b.text, values);
    if (last) console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
    else console.error(`setup ${i + 1}: ${Date.now() - t0} ms`);
  }
} finally {
  await c.query('ROLLBACK').catch(() => {});
  c.release();
  await pool.end();
  await stop?.();
}
