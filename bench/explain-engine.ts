// EXPLAIN (ANALYZE, BUFFERS, WAL) the statements of one engine run that contain a given text, on a fresh
// copy of the ingested city (the template bench/engines.bench.ts keeps), as in the first run; the run
// stops after the last such statement and is rolled back. For finding where a go-live run spends its time:
//   tsx bench/explain-engine.ts <certify|detect-risk|…|indicator-facts> '<text in the statement>[|<another>…]'
// Env as bench/first-run-profile.ts (BENCH_SCALE, YINLING_BENCH_PG_DIR/PORT, BENCH_DATABASE_URL, AS_OF);
// EXPLAIN_DB=<name> reuses a database instead of copying the template (e.g. one a first run wrote).
import { enginesBenchServer } from './support.ts';
import { createPool, endPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { ENGINES } from '../jobs/engines/index.ts';
import { runIndicatorFacts } from '../jobs/indicator-facts.ts';

const [name, needle] = process.argv.slice(2);
if (!name || !needle) throw new Error('usage: tsx bench/explain-engine.ts <engine|indicator-facts> <text in the statement>');
const asOf = process.env.AS_OF ?? '2026-11-15';
const DB = process.env.EXPLAIN_DB ?? 'yinling_bench_explain';

const { url, stop } = await enginesBenchServer();
const admin = createPool(url, { max: 1 });
if (!process.env.EXPLAIN_DB) {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB} TEMPLATE yinling_bench_engines_ingested STRATEGY FILE_COPY`);
  await migrate(withDatabase(url, DB));
}
const pool: Pool = createPool(withDatabase(url, DB), { max: 6 });
const connect = pool.connect.bind(pool);
class Done extends Error {}
// every client the run checks out explains the matching statements and stops the run after the last one
let matched = 0;
const needles = needle.split('|');
const expected = needles.length;
// (pool.query checks out with a callback: those clients are left as they are)
(pool as unknown as { connect: (...a: unknown[]) => unknown }).connect = (...args: unknown[]) => {
  if (args.length) return (connect as (...a: unknown[]) => unknown)(...args);
  return wrapped();
};
async function wrapped() {
  const c = await connect();
  const query = c.query.bind(c) as (t: string, v?: unknown, cb?: unknown) => Promise<{ rows: Record<string, unknown>[] }>;
  // the client goes back to the pool wrapped, and pool.query later calls it with a callback: passed through
  (c as unknown as { query: unknown }).query = async (text: string, values?: unknown[], cb?: unknown) => {
    if (typeof cb === 'function' || typeof values === 'function') return query(text, values, cb);
    if (typeof text !== 'string' || !needles.some((n) => text.includes(n)) || /^\s*(EXPLAIN|BEGIN|COMMIT|ROLLBACK)/i.test(text))
      return query(text, values);
    const t0 = Date.now();
    const r = await query('EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE false) ' + text, values);
    console.log(`--- ${text.trim().split('\n')[0].slice(0, 100)} (${Date.now() - t0} ms)`);
    console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
    if (++matched >= expected) throw new Done('explained');
    return { rows: [], rowCount: 0 };
  };
  return c;
}
const log = (m: string) => {
  if (/ \d{3,} ms$/.test(m)) console.error(m);
};
if (name === 'indicator-facts') await runIndicatorFacts(pool, { asOf, log });
else {
  const engine = ENGINES.find(([n]) => n === name);
  if (!engine) throw new Error(`no engine ${name}`);
  await engine[2](pool, { asOf, mode: 'full', log });
}
if (!matched) console.log(`no statement contained "${needle}"`);
await endPool(pool, 2000);
await admin.end();
await stop();
process.exit(0);
