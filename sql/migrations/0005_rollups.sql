-- Up Migration
-- 0005 monthly rollups behind the heavy indicators. TimescaleDB: continuous aggregates with refresh
-- policies. Plain PostgreSQL: materialized views (unique index, refreshed CONCURRENTLY by the
-- refresh-rollups job after each load). Same name, same columns, same rows either way, so the
-- semantic layer reads them without caring which one it is. rollup_registry lists them for the job.
-- (Nothing ever read them; 0020 drops the three again — see there.)

CREATE TABLE rollup_registry (
  view_name text PRIMARY KEY,
  kind      text NOT NULL CHECK (kind IN ('continuous_aggregate', 'materialized_view'))
);

-- name: the rollup; ts_query uses time_bucket (hypertable source); plain_query is the same rows
-- without it; unique_cols: the grain (unique index on the plain path).
CREATE FUNCTION yinling_rollup(name text, ts_query text, plain_query text, unique_cols text, policy_start interval)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF yinling_has_timescale() THEN
    EXECUTE format('CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS %s WITH NO DATA', name, ts_query);
    EXECUTE format('SELECT add_continuous_aggregate_policy(%L, start_offset => %L::interval, end_offset => NULL, schedule_interval => INTERVAL ''15 minutes'')', name, policy_start);
    INSERT INTO rollup_registry VALUES (name, 'continuous_aggregate');
  ELSE
    EXECUTE format('CREATE MATERIALIZED VIEW %I AS %s', name, plain_query);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (%s)', name || '_grain', name, unique_cols);
    INSERT INTO rollup_registry VALUES (name, 'materialized_view');
  END IF;
END $$;

-- Payments per month, scheme and status (A01, A03, A04, A05 trends at city level).
SELECT yinling_rollup('payments_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', period) AS period, scheme_code, status,
            count(*) AS payments, sum(amount) AS amount
       FROM payments GROUP BY 1, 2, 3$q$,
  $q$SELECT period, scheme_code, status, count(*) AS payments, sum(amount) AS amount
       FROM payments GROUP BY 1, 2, 3$q$,
  'period, scheme_code, status', INTERVAL '3 years');

-- Evidence per month (Asia/Shanghai), source and kind (data-source health on the cockpit).
SELECT yinling_rollup('evidence_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', occurred_at, 'Asia/Shanghai') AS month, source, kind, count(*) AS records
       FROM evidence GROUP BY 1, 2, 3$q$,
  $q$SELECT (date_trunc('month', occurred_at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai') AS month, source, kind, count(*) AS records
       FROM evidence GROUP BY 1, 2, 3$q$,
  'month, source, kind', INTERVAL '3 years');

-- Subsidy payouts per month and project (S01, S02).
SELECT yinling_rollup('subsidies_monthly',
  $q$SELECT time_bucket(INTERVAL '1 month', period) AS period, project_code, count(*) AS payouts, sum(amount) AS amount
       FROM subsidies GROUP BY 1, 2$q$,
  $q$SELECT period, project_code, count(*) AS payouts, sum(amount) AS amount
       FROM subsidies GROUP BY 1, 2$q$,
  'period, project_code', INTERVAL '3 years');

-- Down Migration
DROP MATERIALIZED VIEW IF EXISTS subsidies_monthly, evidence_monthly, payments_monthly;
DROP FUNCTION IF EXISTS yinling_rollup(text, text, text, text, interval);
DROP TABLE IF EXISTS rollup_registry;
