// Schema migrations: numbered `.sql` files in sql/migrations, applied in order by node-pg-migrate
// (advisory-locked, recorded in `schema_migrations`). Each file adapts itself to TimescaleDB when
// the extension is installed (README.md, "TimescaleDB or plain PostgreSQL"), so the same files serve both paths.
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { ROOT } from '../config.ts';
import { createPool, endPool, type Pool } from './pool.ts';
import { describeTimescale } from './timescale.ts';

export const MIGRATIONS_DIR = path.join(ROOT, 'sql', 'migrations');
export const MIGRATIONS_TABLE = 'schema_migrations';

// node-pg-migrate expects 13- or 17-digit timestamps as file prefixes and says "Can't determine timestamp"
// (as an error) for each of our short numbers, on every start; it then orders by the number, as intended.
const NUMBERED = /^Can't determine timestamp for \d{4}$/;

/**
 * Apply the pending migrations (only the first `count` of them when given: a restore stops at its backup's schema),
 * from `dir` when given (an earlier release's files: the upgrade test builds its old schema with them).
 */
export async function migrate(
  databaseUrl: string,
  log: (m: string) => void = () => {},
  opts: { count?: number; dir?: string } = {}
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: opts.dir ?? MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    count: opts.count ?? Infinity,
    checkOrder: true,
    singleTransaction: false,
    logger: {
      debug: () => {},
      info: (m: string) => log(m),
      warn: (m: string) => log(m),
      error: (m: string) => {
        if (!NUMBERED.test(m)) log(m);
      }
    }
  });
  // One line: which path this database is on and why (migration 0001 decided it, core/db/timescale.ts says it).
  const pool = createPool(databaseUrl, { max: 1 });
  try {
    log(`database: ${(await describeTimescale(pool)).line}`);
  } finally {
    await endPool(pool);
  }
  return applied.map((m) => m.name);
}

/** The newest applied migration, or null before the first one. */
export async function schemaVersion(pool: Pool): Promise<string | null> {
  const exists = await pool.query(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
  if (!exists.rows[0].t) return null;
  const r = await pool.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id DESC LIMIT 1`);
  return r.rows[0]?.name ?? null;
}
