-- name: restorations
-- params: as_of, as_of_end, full, run_id
-- purpose: restorations owed for death and custody records withdrawn as of :as_of (docs/rules.md,
--   "Withdrawn records"). Per record and per scheme whose payments stopped because of it (a death: every
--   scheme; custody: the exclusive-group pensions), the periods from the month after the record arrived
--   (its valid version's recorded_at, else the event date) up to the month of the withdrawal in which an
--   enrollment of that scheme ran and no `paid` payment of it is known on :as_of; back pay = that
--   enrollment's monthly amount per period, exact. Nothing is owed while another record still in force
--   explains the stop: a death record of the person, or (custody) another custody record covering the
--   whole period. Rebuilt for the scope on every run: the table holds the state as of the last run.

-- step: withdrawn
CREATE TEMP TABLE w_rec ON COMMIT DROP AS
SELECT 'death'::text AS record_kind, d.record_id, d.id_number,
       COALESCE((d.recorded_at AT TIME ZONE 'Asia/Shanghai')::date, d.death_date) AS arrived_on,
       (d.withdrawn_at AT TIME ZONE 'Asia/Shanghai')::date AS withdrawn_on, false AS pensions_only
  FROM deaths_as_of(:as_of_end::timestamptz) d
 WHERE d.withdrawn AND (:full::boolean OR d.id_number IN (SELECT id_number FROM engine_scope))
UNION ALL
SELECT 'custody', i.record_id, i.id_number,
       COALESCE((i.recorded_at AT TIME ZONE 'Asia/Shanghai')::date, i.start_date),
       (i.withdrawn_at AT TIME ZONE 'Asia/Shanghai')::date, true
  FROM imprisonments_as_of(:as_of_end::timestamptz) i
 WHERE i.withdrawn AND (:full::boolean OR i.id_number IN (SELECT id_number FROM engine_scope));
-- A handful of rows (the city: 7); analyzed, or the planner takes the temp table for a thousand rows.
ANALYZE w_rec;

-- step: owed periods
CREATE TEMP TABLE w_owed ON COMMIT DROP AS
SELECT w.record_kind, w.record_id, w.id_number, w.arrived_on, w.withdrawn_on, e.scheme_code, m.period::date AS period, e.monthly_amount
  FROM w_rec w
 CROSS JOIN LATERAL generate_series(date_trunc('month', w.arrived_on) + interval '1 month', date_trunc('month', w.withdrawn_on),
                                    interval '1 month') AS m(period)
 CROSS JOIN LATERAL (
   SELECT DISTINCT ON (en.scheme_code) en.scheme_code, en.monthly_amount
     FROM enrollments en JOIN ref_schemes s ON s.scheme_code = en.scheme_code
    WHERE en.id_number = w.id_number AND (NOT w.pensions_only OR s.exclusive_group IS NOT NULL)
      AND en.start_period <= m.period AND (en.end_period IS NULL OR en.end_period >= m.period)
    ORDER BY en.scheme_code, en.start_period DESC, en.enrollment_id) e
 WHERE NOT EXISTS (SELECT 1 FROM payments p
                    WHERE p.id_number = w.id_number AND p.scheme_code = e.scheme_code AND p.period = m.period::date AND p.status = 'paid'
                      AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
                    -- OFFSET 0 keeps this a probe per owed period (by payments_person_scheme_period): as an
                    -- anti-join the planner may hash every payment for a few periods (city: 11.9 M rows, 21 s)
                    OFFSET 0)
   AND NOT EXISTS (SELECT 1 FROM deaths_as_of(:as_of_end::timestamptz) d
                    WHERE d.id_number = w.id_number AND NOT d.withdrawn AND d.death_date <= :as_of::date
                      AND (d.recorded_at IS NULL OR d.recorded_at < :as_of_end::timestamptz))
   AND NOT (w.pensions_only AND EXISTS (
         SELECT 1 FROM imprisonments_as_of(:as_of_end::timestamptz) i
          WHERE i.id_number = w.id_number AND NOT i.withdrawn AND (i.recorded_at IS NULL OR i.recorded_at < :as_of_end::timestamptz)
            AND i.start_date <= m.period::date
            AND (m.period + interval '1 month' - interval '1 day')::date <= COALESCE(i.end_date, 'infinity'::date)));

-- step: clear
DELETE FROM restorations WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope);

-- step: restorations
INSERT INTO restorations (record_kind, record_id, id_number, scheme_code, periods, back_pay, arrived_on, withdrawn_on, region_code, as_of, run_id)
SELECT o.record_kind, o.record_id, o.id_number, o.scheme_code, array_agg(o.period ORDER BY o.period), sum(o.monthly_amount),
       min(o.arrived_on), min(o.withdrawn_on), min(COALESCE(pe.residence_region, pe.hukou_region)), :as_of::date, :run_id::bigint
  FROM w_owed o LEFT JOIN persons pe ON pe.id_number = o.id_number
 GROUP BY o.record_kind, o.record_id, o.id_number, o.scheme_code;
