// Monthly rollups behind the heavy indicators. On TimescaleDB they are continuous aggregates kept
// fresh by their policies (refreshed here too, right after a load); on plain PostgreSQL they are
// materialized views refreshed by this job. Names come from the rollup_registry table (sql/0005).
import type { Pool } from '../core/db/pool.ts';
import type { JobContext } from './runner.ts';

export async function refreshRollups(pool: Pool, ctx: JobContext): Promise<void> {
  const exists = await pool.query(`SELECT to_regclass('rollup_registry') AS t`);
  if (!exists.rows[0].t) return;
  const { rows } = await pool.query<{ view_name: string; is_cagg: boolean }>(
    `SELECT view_name, kind = 'continuous_aggregate' AS is_cagg FROM rollup_registry ORDER BY view_name`
  );
  for (const r of rows) {
    const started = Date.now();
    if (r.is_cagg) {
      // CALL cannot run inside a transaction block; pool.query runs it on its own.
      await pool.query(`CALL refresh_continuous_aggregate($1, NULL, NULL)`, [r.view_name]);
    } else {
      await pool.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${r.view_name}`);
    }
    ctx.log(`refreshed ${r.view_name} in ${Date.now() - started} ms`);
  }
  ctx.count({ extra: { rollups: rows.length } });
}
