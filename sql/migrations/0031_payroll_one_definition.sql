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

-- The loop's other side (docs/rules.md "Pre-payroll check", the loop): the lines an approved run released
-- (a line of its draft not among its holds) and later found improper — an alert about that person whose
-- periods include the run's period, raised by the engines from the actual payments or any later run (any
-- rule but hold_not_honoured, which is about held lines), and not closed as a false positive, a duplicate or
-- resolved by the data (ref_alert_dispositions). One row per such line and approved run; `current` marks the
-- newest approved run of its period (what the payroll system acted on). Counted against the check: the
-- workbench's payroll page per run, the semantic layer's payroll_holds.released_improper_* measures.
CREATE VIEW payroll_release_outcomes AS
WITH improper AS (
  SELECT a.id_number, p.period, array_agg(DISTINCT a.alert_id ORDER BY a.alert_id) AS alert_ids, array_agg(DISTINCT a.rule ORDER BY a.rule) AS rules
    FROM alerts a
    CROSS JOIN LATERAL unnest(a.periods) AS p(period)
    LEFT JOIN ref_alert_dispositions rd ON rd.code = a.disposition
   WHERE a.rule <> 'hold_not_honoured' AND COALESCE(rd.grp, '') NOT IN ('false_positive', 'duplicate', 'resolved_by_data')
   GROUP BY a.id_number, p.period
)
SELECT r.run_no, r.period, d.draft_id, d.line_id, d.id_number, d.scheme_code, d.amount,
       COALESCE(pe.residence_region, pe.hukou_region) AS region_code,
       i.alert_ids, i.rules,
       r.run_no = (SELECT max(x.run_no) FROM payroll_runs x WHERE x.period = r.period AND x.approved_at IS NOT NULL) AS current
  FROM improper i
  JOIN payroll_runs r ON r.period = i.period AND r.approved_at IS NOT NULL
  JOIN payroll_draft d ON d.draft_id = r.draft_id AND d.period = r.period AND d.id_number = i.id_number
  LEFT JOIN persons pe ON pe.id_number = d.id_number
 WHERE NOT EXISTS (SELECT 1 FROM payroll_run_holds h WHERE h.run_no = r.run_no AND h.draft_id = d.draft_id AND h.line_id = d.line_id);

-- Down Migration
DROP VIEW IF EXISTS payroll_release_outcomes;
DROP FUNCTION IF EXISTS custody_covers_month(date, date, date);
DROP FUNCTION IF EXISTS imprisonments_known(date, timestamptz);
DROP FUNCTION IF EXISTS deaths_known(date, timestamptz);
