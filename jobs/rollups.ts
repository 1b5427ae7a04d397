// The materialized views listed in rollup_registry (sql/0005; today region_paths, sql/0007), refreshed
// after every load and nightly. A continuous aggregate listed there would be refreshed here too (none is
// since 0020 dropped the unread monthly rollups). Then the payments by month and area that the indicator
// facts read (ind_pay_month, sql/engines/indicator-payments.sql): kept up to date as payments arrive, so
// that the facts' run after a load — on the day a bureau goes live, the first — reads only the payments
// loaded since, not all of them (the city: 11.9 M payments, 12–23 s; issue 22). The facts' run still
// refreshes them itself first (nothing to do when this ran).
import type { Pool } from '../core/db/pool.ts';
import { withTransaction } from '../core/db/pool.ts';
import { refreshPaymentsCache } from './indicator-facts.ts';
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
  // (after region_paths: a person's area is read through it)
  const started = Date.now();
  await withTransaction(pool, (client) => refreshPaymentsCache(client));
  ctx.log(`refreshed the payments by month and area (ind_pay_month) in ${Date.now() - started} ms`);
  ctx.count({ extra: { rollups: rows.length + 1 } });
}
