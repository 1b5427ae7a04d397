-- Up Migration
-- 0020 (issue 20, point 2): the monthly rollups of 0005 — payments_monthly, evidence_monthly,
-- subsidies_monthly — are dropped. Nothing read them: no cube, query, job or test; the indicators read the
-- fact tables that the indicator-facts job builds per month and community (sql/engines/indicator-facts.sql),
-- which a city-wide rollup per scheme or source cannot serve (every query is filtered to the caller's area).
-- On TimescaleDB they were continuous aggregates, refreshed every 15 minutes and after every load, and
-- tracked invalidations on every payments, evidence and subsidies write; and TimescaleDB before 2.29 leaves a
-- bucket stale when an invalidation ends exactly on its start (timescale/timescaledb#10221), so after a
-- correction payments_monthly could keep wrong amounts. rollup_registry stays (region_paths is listed there
-- and refreshed by the refresh-rollups job), and so does yinling_rollup() for the down migration.

DROP MATERIALIZED VIEW IF EXISTS payments_monthly;
DROP MATERIALIZED VIEW IF EXISTS evidence_monthly;
DROP MATERIALIZED VIEW IF EXISTS subsidies_monthly;
DELETE FROM rollup_registry WHERE view_name IN ('payments_monthly', 'evidence_monthly', 'subsidies_monthly');

-- Down Migration
-- The same definitions as 0005.
SELECT yinling_rollup('payments_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', period) AS period, scheme_code, status,
            count(*) AS payments, sum(amount) AS amount
       FROM payments GROUP BY 1, 2, 3$q$,
  $q$SELECT period, scheme_code, status, count(*) AS payments, sum(amount) AS amount
       FROM payments GROUP BY 1, 2, 3$q$,
  'period, scheme_code, status', INTERVAL '3 years');
SELECT yinling_rollup('evidence_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', occurred_at, 'Asia/Shanghai') AS month, source, kind, count(*) AS records
       FROM evidence GROUP BY 1, 2, 3$q$,
  $q$SELECT (date_trunc('month', occurred_at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai') AS month, source, kind, count(*) AS records
       FROM evidence GROUP BY 1, 2, 3$q$,
  'month, source, kind', INTERVAL '3 years');
SELECT yinling_rollup('subsidies_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', period) AS period, project_code, count(*) AS payouts, sum(amount) AS amount
       FROM subsidies GROUP BY 1, 2$q$,
  $q$SELECT period, project_code, count(*) AS payouts, sum(amount) AS amount
       FROM subsidies GROUP BY 1, 2$q$,
  'period, project_code', INTERVAL '3 years');
