// The one way server code reaches PostgreSQL: a pg Pool per URL, numeric/date parsing that
// never turns money into floats, and the session time zone pinned to Asia/Shanghai.
import pg from 'pg';

// numeric → string (exact money); bigint count(*) → string as Cube drivers return; date → 'YYYY-MM-DD'.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Anything that runs a query: a pool, a client inside a transaction. */
export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are whatever the SQL selects (pg types them any too)
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

export function createPool(url: string, opts: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'yinling',
    options: '-c timezone=Asia/Shanghai'
  });
  // A client losing its connection (the server restarting or crashing) must not crash the process: an
  // idle one reports to the pool; one that is checked out but between queries (a job's lock connection)
  // reports to itself, and nobody else listens there. The query in flight, if any, fails on its own.
  pool.on('error', (err) => console.error(`[db] idle connection error: ${err.message}`));
  pool.on('connect', (client) => client.on('error', (err) => console.error(`[db] connection lost: ${err.message}`)));
  return pool;
}

/**
 * End the pool and wait until its connections have closed. pool.end() resolves once it has asked each
 * client to end, before the server has seen them go: a database stopped right after (`yinling up` stopping
 * its embedded server) cut them, and each showed up as "[db] idle connection error: terminating connection
 * due to administrator command". The pool says 'remove' when a client's connection has closed.
 */
export async function endPool(pool: pg.Pool, ms = 10_000): Promise<void> {
  const open = pool.totalCount;
  let closed = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const allClosed = new Promise<void>((resolve) => {
    if (open === 0) return resolve();
    pool.on('remove', () => {
      if (++closed >= open) resolve();
    });
    timer = setTimeout(resolve, ms); // a connection that never answers must not hold up a shutdown
  });
  await pool.end();
  await allClosed;
  clearTimeout(timer);
}

/** Run fn inside a transaction on one client. */
export async function withTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let result: T;
  try {
    await client.query('BEGIN');
    result = await fn(client);
    await client.query('COMMIT');
  } catch (e) {
    // a connection the database dropped is destroyed, not handed to the next caller
    const lost = await client.query('ROLLBACK').then(
      () => undefined,
      (r: Error) => r
    );
    client.release(lost);
    throw e;
  }
  client.release();
  return result;
}

/** Replace the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
