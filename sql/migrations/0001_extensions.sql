-- Up Migration
-- 0001 extensions: TimescaleDB when the server has it, and the helpers later migrations use to
-- adapt themselves. On plain PostgreSQL every helper is a no-op, so the same files serve both.

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXCEPTION WHEN others THEN
      -- Installed but not preloaded (shared_preload_libraries): run plain, say why.
      RAISE NOTICE 'timescaledb is available but could not be created (%); continuing on plain PostgreSQL', SQLERRM;
    END;
  END IF;
END $$;

-- true when the timescaledb extension is active in this database.
CREATE OR REPLACE FUNCTION yinling_has_timescale() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') $$;

-- Make a table a hypertable (Timescale) or leave it plain. Unique keys of a hypertable must contain
-- the time column, which is why feed tables keep their natural-key uniqueness in a separate
-- index created by yinling_unique_key().
CREATE OR REPLACE FUNCTION yinling_hypertable(tbl regclass, time_column text, chunk interval, compress_after interval DEFAULT NULL, segment_by text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT yinling_has_timescale() THEN RETURN; END IF;
  EXECUTE format('SELECT create_hypertable(%L, by_range(%L, %L::interval), if_not_exists => true, migrate_data => true)', tbl, time_column, chunk);
  IF compress_after IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %s SET (timescaledb.compress%s)', tbl,
      CASE WHEN segment_by IS NULL THEN '' ELSE format(', timescaledb.compress_segmentby = %L', segment_by) END);
    EXECUTE format('SELECT add_compression_policy(%L, %L::interval, if_not_exists => true)', tbl, compress_after);
  END IF;
END $$;

-- The natural key: unique on the key alone on plain PostgreSQL; on a hypertable the time column
-- must join the unique index (the loader still guarantees one current row per key).
CREATE OR REPLACE FUNCTION yinling_unique_key(tbl regclass, index_name text, key_columns text, time_column text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  is_hypertable boolean := false;
BEGIN
  IF yinling_has_timescale() THEN
    -- dynamic: the catalog view does not exist on plain PostgreSQL, so it must not be planned there
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables h
                             WHERE format(''%I.%I'', h.hypertable_schema, h.hypertable_name)::regclass = $1)'
      INTO is_hypertable USING tbl;
  END IF;
  IF is_hypertable THEN
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %s (%s, %I)', index_name, tbl, key_columns, time_column);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (%s)', index_name || '_key', tbl, key_columns);
  ELSE
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %s (%s)', index_name, tbl, key_columns);
  END IF;
END $$;

-- Down Migration
DROP FUNCTION IF EXISTS yinling_unique_key(regclass, text, text, text);
DROP FUNCTION IF EXISTS yinling_hypertable(regclass, text, interval, interval, text);
DROP FUNCTION IF EXISTS yinling_has_timescale();
