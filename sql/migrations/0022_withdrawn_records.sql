-- Up Migration
-- 0022 withdrawn death and custody records (issue 21). A department withdraws a record it sent in error by
-- delivering the same record_id again with status `withdrawn`: an ordinary correction, so the valid version
-- it replaces is kept in row_history. (0021 is taken by the alert lifecycle landing on main.)
--
-- The engines never read deaths / imprisonments directly any more but deaths_as_of / imprisonments_as_of:
-- one definition of "the version of each record in force for a run whose as-of day ends at known_before".
--   * a valid record: the current row;
--   * a withdrawn record whose withdrawal is known (its recorded_at before known_before, or no recorded_at):
--     withdrawn = true — it counts for nothing — with the fields of the valid version it replaced (what
--     arrived when, for restorations); withdrawn_at = the withdrawal's recorded_at (else when it was loaded);
--   * a withdrawn record whose withdrawal is not known yet (a replay as of an earlier date): the valid version
--     from row_history, as it was before the withdrawal; a record first delivered already withdrawn (no valid
--     version) is in force before its withdrawal with its own fields and no recorded_at (known from the event).
-- recorded_at is always the valid version's: the engines keep their own "known on the as-of date" filter on it.
-- Plain SQL functions with one SELECT: PostgreSQL inlines them, so the callers' filters reach the tables.

ALTER TABLE deaths ADD COLUMN status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'withdrawn'));
ALTER TABLE imprisonments ADD COLUMN status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'withdrawn'));

CREATE FUNCTION deaths_as_of(known_before timestamptz)
RETURNS TABLE (record_id text, id_number text, death_date date, source text, recorded_at timestamptz,
               withdrawn boolean, withdrawn_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT d.record_id, d.id_number,
         COALESCE((v.old_row->>'death_date')::date, d.death_date),
         COALESCE(v.old_row->>'source', d.source),
         CASE WHEN d.status = 'valid' THEN d.recorded_at ELSE (v.old_row->>'recorded_at')::timestamptz END,
         d.status = 'withdrawn' AND (d.recorded_at IS NULL OR d.recorded_at < known_before),
         CASE WHEN d.status = 'withdrawn' THEN COALESCE(d.recorded_at, d.loaded_at) END
    FROM deaths d
    LEFT JOIN LATERAL (
      SELECT h.old_row FROM row_history h
       WHERE d.status = 'withdrawn' AND h.feed = 'deaths' AND h.natural_key = d.record_id
         AND COALESCE(h.old_row->>'status', 'valid') = 'valid'
       ORDER BY h.history_id DESC LIMIT 1) v ON true
$$;

CREATE FUNCTION imprisonments_as_of(known_before timestamptz)
RETURNS TABLE (record_id text, id_number text, start_date date, end_date date, source text, recorded_at timestamptz,
               withdrawn boolean, withdrawn_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT i.record_id, i.id_number,
         COALESCE((v.old_row->>'start_date')::date, i.start_date),
         CASE WHEN v.old_row IS NULL THEN i.end_date ELSE (v.old_row->>'end_date')::date END,
         COALESCE(v.old_row->>'source', i.source),
         CASE WHEN i.status = 'valid' THEN i.recorded_at ELSE (v.old_row->>'recorded_at')::timestamptz END,
         i.status = 'withdrawn' AND (i.recorded_at IS NULL OR i.recorded_at < known_before),
         CASE WHEN i.status = 'withdrawn' THEN COALESCE(i.recorded_at, i.loaded_at) END
    FROM imprisonments i
    LEFT JOIN LATERAL (
      SELECT h.old_row FROM row_history h
       WHERE i.status = 'withdrawn' AND h.feed = 'imprisonments' AND h.natural_key = i.record_id
         AND COALESCE(h.old_row->>'status', 'valid') = 'valid'
       ORDER BY h.history_id DESC LIMIT 1) v ON true
$$;

-- Restorations (detect-risk, sql/engines/restorations.sql): per withdrawn record known on the run's as-of
-- date and per scheme whose payments stopped because of it, the unpaid periods from the month after the
-- record arrived to the month of the withdrawal and the back pay owed (the enrollment's monthly amount per
-- period). Rebuilt by every run for its scope, like risk_clock: the table holds the state as of the last run.
CREATE TABLE restorations (
  record_kind  text          NOT NULL CHECK (record_kind IN ('death', 'custody')),
  record_id    text          NOT NULL,
  id_number    text          NOT NULL,
  scheme_code  text          NOT NULL,
  periods      date[]        NOT NULL,
  back_pay     numeric(14,2) NOT NULL,
  arrived_on   date,
  withdrawn_on date          NOT NULL,
  region_code  text,
  as_of        date          NOT NULL,
  run_id       bigint,
  PRIMARY KEY (record_kind, record_id, scheme_code)
);
CREATE INDEX restorations_person ON restorations (id_number);

-- The counter-metric next to R05: withdrawn records (by the month of the withdrawal) and restorations.
ALTER TABLE ind_region_month
  ADD COLUMN records_withdrawn bigint NOT NULL DEFAULT 0,
  ADD COLUMN restorations      bigint NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE ind_region_month DROP COLUMN IF EXISTS records_withdrawn, DROP COLUMN IF EXISTS restorations;
DROP TABLE IF EXISTS restorations;
DROP FUNCTION IF EXISTS deaths_as_of(timestamptz);
DROP FUNCTION IF EXISTS imprisonments_as_of(timestamptz);
ALTER TABLE deaths DROP COLUMN IF EXISTS status;
ALTER TABLE imprisonments DROP COLUMN IF EXISTS status;
