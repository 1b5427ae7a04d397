// The one way server code reaches PostgreSQL: a pg Pool per URL, numeric/date parsing that
// never turns money into floats, and the session time zone pinned to Asia/Shanghai.
import pg from 'pg';

// numeric → string (exact money); bigint count(*) → string as Cube drivers return; date → 'YYYY-MM-DD'.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(url: string, opts: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'yinling',
    options: '-c timezone=Asia/Shanghai'
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', (err) => console.error(`[db] idle connection error: ${err.message}`));
  return pool;
}

/** Run fn inside a transaction on one client. */
export async function withTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** Replace the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
