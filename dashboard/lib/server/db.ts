// The web process's database pool, created once from the environment. The `up` command sets
// DATABASE_URL for the web server after it has started the embedded PostgreSQL.
import { env } from '$env/dynamic/private';
import { createPool, type Pool } from '../../../core/db/pool.ts';

let pool: Pool | undefined;

export function db(): Pool {
  if (!pool) {
    if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: start the web server with `yinling up` or `yinling serve`.');
    pool = createPool(env.DATABASE_URL, { max: 10, applicationName: 'yinling-web' });
  }
  return pool;
}
