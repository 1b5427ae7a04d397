// A fresh, migrated database for one test suite, cloned from the run's template.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPool, endPool, withDatabase, type Pool } from '../core/db/pool.ts';

export interface TestDatabase {
  /** The owner's (a superuser's) URL: what migrations, ingest and engines use. */
  url: string;
  /** The application role's URL (yinling_app): what the web server and the workbench services use. */
  appUrl: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A migrated database (a clone of the run's template); `empty: true` — no schema at all. */
export async function freshDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = 'yinling_t_' + randomBytes(5).toString('hex');
  const admin = createPool(adminUrl, { max: 1 });
  try {
    await admin.query(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = createPool(url, { max: 4 });
  return {
    url,
    appUrl: withDatabase(inject('pgAppUrl'), name),
    pool,
    async drop() {
      await endPool(pool); // closed before the FORCE below, which would cut them
      const a = createPool(adminUrl, { max: 1 });
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    }
  };
}
