-- name: risk-clock
-- params: as_of, as_of_end, full, as_of_month, run_id
-- purpose: the money-at-risk clock per death and custody record known on :as_of: days from the event
--   to the department's record and to the benefit stop, and what was paid meanwhile; then per source
--   the typical (median) recording lag. Deaths count every paid benefit for periods starting after
--   the death; custody counts exclusive-group pensions for periods wholly inside it. stop_period = the
--   period after the last such paid period (NULL while still paid in the latest payment run);
--   stopped_timely = nothing was paid for a due period after the record arrived; amount_before_record = what
--   was paid for due periods before it arrived (the recording lag's cost). Records withdrawn as of
--   :as_of are left out (so is R05, built on this table).

-- step: events
CREATE TEMP TABLE k_ev ON COMMIT DROP AS
SELECT 'death'::text AS event_kind, d.record_id, d.id_number, d.source, d.death_date AS event_date, d.recorded_at,
       (d.recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS recorded_on,
       (date_trunc('month', d.death_date) + interval '1 month')::date AS first_due, NULL::date AS last_due
  FROM deaths_as_of(:as_of_end::timestamptz) d
 WHERE NOT d.withdrawn AND d.death_date <= :as_of::date AND (d.recorded_at IS NULL OR d.recorded_at < :as_of_end::timestamptz)
   AND (:full::boolean OR d.id_number IN (SELECT id_number FROM engine_scope))
UNION ALL
SELECT 'custody', i.record_id, i.id_number, i.source, i.start_date, i.recorded_at, (i.recorded_at AT TIME ZONE 'Asia/Shanghai')::date,
       CASE WHEN extract(day FROM i.start_date) = 1 THEN i.start_date ELSE (date_trunc('month', i.start_date) + interval '1 month')::date END,
       CASE WHEN i.end_date IS NOT NULL AND i.end_date <= :as_of::date THEN (date_trunc('month', i.end_date + 1) - interval '1 month')::date END
  FROM imprisonments_as_of(:as_of_end::timestamptz) i
 WHERE NOT i.withdrawn AND i.start_date <= :as_of::date AND (i.recorded_at IS NULL OR i.recorded_at < :as_of_end::timestamptz)
   AND (:full::boolean OR i.id_number IN (SELECT id_number FROM engine_scope));
ANALYZE k_ev;

-- step: clear
DELETE FROM risk_clock WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope);

-- step: clock
INSERT INTO risk_clock (record_id, event_kind, id_number, source, event_date, recorded_on, first_due_period, stop_period,
                        days_to_record, days_to_stop, days_running, amount_paid, amount_before_record, periods_paid, stopped_timely,
                        as_of, run_id)
WITH run AS (
  SELECT max(period) AS last_run FROM payments WHERE status = 'paid' AND period <= :as_of_month::date
), paid AS (
  -- Only events of people paid for a period at or after the first due one (the screen's last period) can
  -- have been paid meanwhile; their payments are read by index.
  SELECT e.event_kind, e.record_id, x.*
    FROM (SELECT * FROM k_ev e0 WHERE EXISTS (SELECT 1 FROM risk_pay_screen s WHERE s.id_number = e0.id_number AND s.max_period >= e0.first_due)) e
    CROSS JOIN LATERAL (
      SELECT sum(p.amount) AS amount, count(DISTINCT p.period) AS periods, max(p.period) AS last_paid,
             count(*) FILTER (WHERE e.recorded_at IS NOT NULL AND COALESCE(p.paid_at, p.period::timestamptz) > e.recorded_at) AS after_record,
             sum(p.amount) FILTER (WHERE e.recorded_at IS NOT NULL AND COALESCE(p.paid_at, p.period::timestamptz) <= e.recorded_at) AS before_record
        FROM payments p
        JOIN ref_schemes s ON s.scheme_code = p.scheme_code AND (e.event_kind = 'death' OR s.exclusive_group IS NOT NULL)
       WHERE p.id_number = e.id_number AND p.status = 'paid' AND p.period >= e.first_due
         AND p.period <= LEAST(COALESCE(e.last_due, 'infinity'::date), :as_of_month::date)
         AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)) x
   WHERE x.amount IS NOT NULL
), x AS (
  SELECT e.*, COALESCE(pd.amount, 0) AS amount, COALESCE(pd.before_record, 0) AS before_record, COALESCE(pd.periods, 0) AS periods,
         pd.last_paid, pd.after_record,
         CASE WHEN pd.last_paid IS NULL THEN e.first_due
              WHEN pd.last_paid >= LEAST(COALESCE(e.last_due, 'infinity'::date), run.last_run) THEN NULL
              ELSE (pd.last_paid + interval '1 month')::date END AS stop_period
    FROM k_ev e CROSS JOIN run
    LEFT JOIN paid pd USING (event_kind, record_id)
   WHERE EXISTS (SELECT 1 FROM risk_pay_screen s WHERE s.id_number = e.id_number)
)
SELECT record_id, event_kind, id_number, source, event_date, recorded_on, first_due, stop_period,
       recorded_on - event_date, stop_period - event_date,
       CASE WHEN stop_period IS NULL THEN :as_of::date - event_date END,
       amount, before_record, periods,
       CASE WHEN recorded_at IS NULL THEN NULL ELSE COALESCE(after_record, 0) = 0 END,
       :as_of::date, :run_id::bigint
  FROM x;

-- step: lags
DELETE FROM risk_source_lags;
INSERT INTO risk_source_lags (event_kind, source, records, median_days, p90_days, max_days, as_of, run_id)
SELECT event_kind, source, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_record),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY days_to_record), max(days_to_record), :as_of::date, :run_id::bigint
  FROM risk_clock WHERE days_to_record IS NOT NULL
 GROUP BY event_kind, source;
