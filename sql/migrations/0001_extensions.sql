-- Up Migration
-- 0001 extensions: TimescaleDB when the server has it, and the helpers later migrations use to
-- adapt themselves. On plain PostgreSQL every helper is a no-op, so the same files serve both.

-- Decide before creating the extension: on a server that has timescaledb's files but does not preload
-- its library, CREATE EXTENSION ends the connection with FATAL ("must be preloaded"), which no EXCEPTION
-- block catches. The rule (the same as core/db/timescale.ts, which prints the path after migrating):
-- not installed → plain; shared_preload_libraries not readable by this role (only superusers and
-- pg_read_all_settings see it; pg_settings hides the row from others, and such a role could not create
-- timescaledb anyway) → plain; readable without timescaledb → plain; otherwise CREATE EXTENSION, and an
-- ordinary error there (no privilege) → plain.
DO $$
DECLARE
  preload text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    RAISE NOTICE 'plain PostgreSQL: the timescaledb extension is not installed on this server';
    RETURN;
  END IF;
  SELECT setting INTO preload FROM pg_settings WHERE name = 'shared_preload_libraries';
  IF preload IS NULL THEN
    RAISE NOTICE 'plain PostgreSQL: this role can neither read shared_preload_libraries nor create timescaledb';
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM regexp_split_to_table(preload, ',') AS lib
                  WHERE regexp_replace(btrim(btrim(btrim(lib), '"')), '^.*/', '') ~ '^timescaledb(-[0-9]+(\.[0-9]+)*)?(\.so)?$') THEN
    RAISE NOTICE 'plain PostgreSQL: timescaledb is installed but not in shared_preload_libraries (%)', preload;
    RETURN;
  END IF;
  BEGIN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  EXCEPTION WHEN others THEN
    RAISE NOTICE 'plain PostgreSQL: timescaledb is preloaded but could not be created (%)', SQLERRM;
  END;
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
