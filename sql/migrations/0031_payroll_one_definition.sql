-- Up Migration
-- 0031 the pre-payroll check reads the risk rules' own definitions (issue 17): which death and custody
-- records count as known on a run's as-of day, and when a custody record covers a month, are defined
-- once here and read by detect-risk (sql/engines/detect-risk.sql) and the check
-- (sql/engines/payroll-check.sql) alike — no second copy of either condition.

-- The death records in force and known on :as_of (dated on or before it, recorded before :known_before,
-- the end of that day) and not withdrawn as of it: deaths_as_of (migration 0022) gives the version of
-- each record in force, so a withdrawal recorded after the as-of day does not remove the record yet.
-- Plain SQL with one SELECT: PostgreSQL inlines it, so the callers' filters (scope, people) reach the table.
CREATE FUNCTION deaths_known(as_of date, known_before timestamptz)
RETURNS TABLE (record_id text, id_number text, death_date date)
LANGUAGE sql STABLE AS $$
  SELECT d.record_id, d.id_number, d.death_date
    FROM deaths_as_of(known_before) d
   WHERE NOT d.withdrawn AND d.death_date <= as_of AND (d.recorded_at IS NULL OR d.recorded_at < known_before)
$$;

-- The custody records in force and known on :as_of (starting on or before it, recorded before
-- :known_before) and not withdrawn as of it (imprisonments_as_of, migration 0022).
CREATE FUNCTION imprisonments_known(as_of date, known_before timestamptz)
RETURNS TABLE (record_id text, id_number text, start_date date, end_date date)
LANGUAGE sql STABLE AS $$
  SELECT i.record_id, i.id_number, i.start_date, i.end_date
    FROM imprisonments_as_of(known_before) i
   WHERE NOT i.withdrawn AND i.start_date <= as_of AND (i.recorded_at IS NULL OR i.recorded_at < known_before)
$$;

-- A custody interval (end_date inclusive; none = still in custody) covers the month starting on :period
-- when every day of that month lies inside it: a pension payment for that month is paid in custody
-- (paid_in_custody), a draft line for it is in custody (the check's in_custody).
CREATE FUNCTION custody_covers_month(start_date date, end_date date, period date)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT period >= start_date AND (period + interval '1 month' - interval '1 day')::date <= COALESCE(end_date, 'infinity'::date)
$$;

-- Down Migration
DROP FUNCTION IF EXISTS custody_covers_month(date, date, date);
DROP FUNCTION IF EXISTS imprisonments_known(date, timestamptz);
DROP FUNCTION IF EXISTS deaths_known(date, timestamptz);
