// Shared set-up of the benchmarks that need the synthetic city in a throw-away database: the city
// generated once into .cache/bench (BENCH_SCALE=city|demo|tiny, BENCH_SEED, as of today in
// Shanghai) and reused through hard links, an embedded PostgreSQL in a scratch dir, migrations and
// catalogues, then ingestion with every dependent job (engines, rollups, indicator facts) through
// jobs/registry.ts — exactly what the scheduler does after a load. BENCH_DIR=<dir> keeps the
// cluster in that directory and reuses an already ingested city on the next run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../tests/free-port.ts';
import { ROOT, loadConfig } from '../core/config.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { scratchDir, startEmbeddedPostgres, portInUse, embeddedUrl, type EmbeddedServer } from '../core/db/embedded.ts';
import { migrate } from '../core/db/migrate.ts';
import { createPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { todayShanghai } from '../jobs/engines/context.ts';

export { freePort };

export type Scale = 'city' | 'demo' | 'tiny';
export const SCALE = (process.env.BENCH_SCALE ?? 'city') as Scale;
export const SEED = Number(process.env.BENCH_SEED ?? 1);

/**
 * The server that holds bench:engines' databases (the ingested city as a template, per BENCH_SCALE):
 * BENCH_DATABASE_URL, else the embedded one under YINLING_BENCH_PG_DIR / YINLING_BENCH_PG_PORT — reused
 * when it is already running (stop() then leaves it running).
 */
export async function enginesBenchServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const suffix = SCALE === 'city' ? '' : `-${SCALE}`;
  const dir = process.env.YINLING_BENCH_PG_DIR ?? path.join(os.tmpdir(), `yinling-bench-engines${suffix}`);
  const port = Number(process.env.YINLING_BENCH_PG_PORT ?? (SCALE === 'city' ? 54391 : 54392));
  const none = async () => {};
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: none };
  if (await portInUse(port)) return { url: embeddedUrl(port, dir), stop: none };
  const s = await startEmbeddedPostgres({ dir, port });
  return { url: s.url, stop: () => s.stop() };
}

/** Hard-link a cached inbox into a fresh directory (ingestion moves files; the cache stays intact). */
export function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) linkTree(a, b);
    else fs.linkSync(a, b);
  }
}

/** The city's feed files for today (Shanghai), generated on first use into .cache/bench. */
export async function cachedCity(
  say: (m: string) => void,
  scale: Scale = SCALE,
  seed: number = SEED
): Promise<{ dir: string; asOf: string }> {
  const asOf = todayShanghai();
  const dir = path.join(ROOT, '.cache', 'bench', `${scale}-seed${seed}-${asOf}`);
  if (!fs.existsSync(path.join(dir, '.ground-truth.json'))) {
    say(`generating the ${scale} city (seed ${seed}, as of ${asOf}) into ${path.relative(ROOT, dir)} …`);
    const { generateCity } = await import('../seeds/generator/index.ts');
    await generateCity({ scale, seed, outDir: dir, asOf, clean: true });
  }
  return { dir, asOf };
}

/**
 * The as-of date a generated city was made for: the "asOf" line at the head of its .ground-truth.json,
 * read without loading the file (the city's is 145 MB: read whole, it was most of bench:engines' 509 MB RSS).
 */
export function generatedAsOf(dir: string): string {
  const fd = fs.openSync(path.join(dir, '.ground-truth.json'), 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const asOf = /"asOf":\s*"(\d{4}-\d{2}-\d{2})"/.exec(head.subarray(0, n).toString('utf8'))?.[1];
    if (!asOf) throw new Error(`no "asOf" at the head of ${dir}/.ground-truth.json`);
    return asOf;
  } finally {
    fs.closeSync(fd);
  }
}

export interface CityDatabase {
  /** Scratch dir (PostgreSQL cluster and the hard-linked inbox). */
  dir: string;
  inbox: string;
  asOf: string;
  pg: EmbeddedServer;
  url: string;
  pool: Pool;
  /** Ends the pool, stops PostgreSQL and removes the scratch dir (kept with BENCH_KEEP=1). */
  stop(): Promise<void>;
}

/** A fresh embedded PostgreSQL holding the ingested city with the engines' and indicator facts' outputs. */
/** With BENCH_DIR set, that directory is used and kept, and a city already ingested there is reused. */
export async function cityDatabase(name: string, say: (m: string) => void): Promise<CityDatabase> {
  const { dir: cache, asOf } = await cachedCity(say);
  const reuse = process.env.BENCH_DIR;
  const dir = reuse ? path.resolve(reuse) : scratchDir(`yinling-bench-${name}-`);
  if (reuse) {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
  }
  const inbox = path.join(dir, 'inbox');
  let pg: EmbeddedServer | undefined;
  let pool: Pool | undefined;
  const stop = async () => {
    await pool?.end().catch(() => {});
    await pg?.stop();
    if (!process.env.BENCH_KEEP && !reuse) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    pg = await startEmbeddedPostgres({ dir, port: await freePort() });
    const admin = createPool(pg.url, { max: 1 });
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [`bench_${name}`])).rowCount;
    if (!exists) await admin.query(`CREATE DATABASE bench_${name}`);
    await admin.end();
    const url = withDatabase(pg.url, `bench_${name}`);
    if (exists) {
      pool = createPool(url, { max: 6 });
      const persons = (await pool.query('SELECT count(*)::int AS n FROM persons').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n;
      if (persons) {
        await migrate(url); // migrations added since the city was ingested
        say(`reusing the city in ${dir} (${persons.toLocaleString('en-US')} persons)`);
        return { dir, inbox, asOf, pg, url, pool, stop };
      }
      throw new Error(`${dir} holds a database bench_${name} without a city: remove the directory`);
    }
    fs.rmSync(inbox, { recursive: true, force: true });
    linkTree(cache, inbox);
    await migrate(url);
    pool = createPool(url, { max: 6 });
    await loadCatalogues(pool);
    say('ingesting the city and running the engines …');
    const t = Date.now();
    const config = { ...loadConfig({ ...process.env, DATABASE_URL: url }), inboxDir: inbox };
    const results = await runWithDependents(pool, 'ingest', { config, inbox, trigger: 'manual', log: () => {} });
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length) throw new Error(failed.map((r) => r.error).join('; '));
    const persons = (await pool.query('SELECT count(*)::int AS n FROM persons')).rows[0].n;
    say(`loaded ${persons.toLocaleString('en-US')} persons in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    return { dir, inbox, asOf, pg, url, pool, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
