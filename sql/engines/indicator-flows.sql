-- name: indicator-flows
-- params: as_of, as_of_end, run_key
-- purpose: the flows of the indicator facts per month and region — people retired, certified face to
--   face, deaths recorded (and stopped in time), records withdrawn and restored, money recovered, alerts
--   closed, new subsidy recipients, checkups, activities — handed to the facts' transaction through
--   ind_flow_month (migration 0042) under the run's key. jobs/indicator-facts.ts runs this file in the
--   payments' refresh transaction on the second connection once the refresh is done, or in the facts'
--   own transaction if that has nothing else left to do first (a first run's refresh reads every
--   payment); the facts read these rows once both committed or in their own transaction (issue 22). The
--   exits (recipient spans ending) are counted by the facts themselves, from their spans.
--   docs/indicators.md's readings are in indicator-facts.sql's header.

-- step: forget old hand-overs
-- rows of runs whose facts failed after this committed (a successful run deletes its own)
DELETE FROM ind_flow_month WHERE made_at < now() - INTERVAL '1 day';

-- step: flow regions
-- the area each person is counted in ('' when unknown: person_regions.area_code, migration 0043)
CREATE TEMP TABLE f_flow_region ON COMMIT DROP AS
SELECT id_number, area_code AS region_code FROM person_regions;
ANALYZE f_flow_region;

-- step: flows by month
-- Every flow's rows (a person, a month, one or two measures) in one list, joined to the people's regions
-- once and summed by flow, month and region: one join with a million people instead of one per flow.
INSERT INTO ind_flow_month (run_key, period, region_code, new_retirees, face_certified, deaths_recorded, deaths_timely,
  records_withdrawn, restorations, recovered_amount, alerts_closed, alert_days_sum, subsidy_new_people, checkup_first_people,
  checkup_bookings, checkup_results, checkup_abnormal, signups, satisfaction_sum, satisfaction_n)
WITH flows (flow, id_number, period, a, b) AS (
  SELECT 'retired', p.id_number, date_trunc('month', p.retired_on)::date, 1::numeric, NULL::numeric FROM persons p WHERE p.retired_on IS NOT NULL
  UNION ALL
  -- people certified face-to-face online in the month (each once)
  SELECT DISTINCT 'face', c.id_number, date_trunc('month', c.certified_at AT TIME ZONE 'Asia/Shanghai')::date, 1::numeric, NULL::numeric
    FROM certifications c WHERE c.method = 'face_online' AND c.result = 'pass'
  UNION ALL
  SELECT 'death', rc.id_number, date_trunc('month', rc.recorded_on)::date, 1, CASE WHEN rc.stopped_timely THEN 1 ELSE 0 END
    FROM risk_clock rc WHERE rc.event_kind = 'death' AND rc.recorded_on IS NOT NULL
  UNION ALL
  SELECT 'withdrawn', w.id_number, date_trunc('month', w.withdrawn_at AT TIME ZONE 'Asia/Shanghai')::date, 1, NULL
    FROM (SELECT id_number, withdrawn_at FROM deaths_as_of(:as_of_end::timestamptz) WHERE withdrawn
          UNION ALL
          SELECT id_number, withdrawn_at FROM imprisonments_as_of(:as_of_end::timestamptz) WHERE withdrawn) w
  UNION ALL
  SELECT 'restored', r.id_number, date_trunc('month', r.withdrawn_on)::date, 1, NULL FROM restorations r WHERE r.withdrawn_on <= :as_of::date
  UNION ALL
  SELECT 'recovered', a.id_number, date_trunc('month', r.recovered_on)::date, r.amount, NULL FROM recoveries r JOIN alerts a USING (alert_id)
  UNION ALL
  SELECT 'closed', a.id_number, date_trunc('month', a.closed_at AT TIME ZONE 'Asia/Shanghai')::date, 1,
         extract(epoch FROM a.closed_at - a.opened_at) / 86400.0
    FROM alerts a WHERE a.closed_at IS NOT NULL
  UNION ALL
  -- people whose first-ever payout of a subsidy project is in the month (each once per month)
  SELECT DISTINCT 'subsidy_new', x.id_number, x.first_period, 1::numeric, NULL::numeric
    FROM (SELECT s.id_number, min(s.period) AS first_period FROM subsidies s GROUP BY s.id_number, s.project_code) x
  UNION ALL
  -- first attended checkup per person and calendar year
  SELECT 'checkup_first', c.id_number, min(date_trunc('month', c.attended_at AT TIME ZONE 'Asia/Shanghai'))::date, 1, NULL
    FROM checkups c WHERE c.attended_at IS NOT NULL
   GROUP BY c.id_number, date_trunc('year', c.attended_at AT TIME ZONE 'Asia/Shanghai')
  UNION ALL
  -- the checkups feed's bookings, and the portal's open bookings (migration 0028) that the feed does
  -- not carry yet (a centre's feed row for a portal booking has checkup_id 'P' || booking_id)
  SELECT 'booking', c.id_number, date_trunc('month', c.booked_for)::date, 1, NULL FROM checkups c
  UNION ALL
  SELECT 'booking', b.id_number, date_trunc('month', s.day)::date, 1, NULL FROM checkup_bookings b JOIN checkup_slots s USING (slot_id)
   WHERE b.status = 'booked' AND NOT EXISTS (SELECT 1 FROM checkups c WHERE c.checkup_id = 'P' || b.booking_id)
  UNION ALL
  SELECT 'result', c.id_number, date_trunc('month', c.attended_at AT TIME ZONE 'Asia/Shanghai')::date,
         CASE WHEN c.result IN ('normal', 'abnormal') THEN 1 ELSE 0 END, CASE WHEN c.result = 'abnormal' THEN 1 ELSE 0 END
    FROM checkups c WHERE c.attended_at IS NOT NULL
  UNION ALL
  -- H04: the activities feed's sign-ups, and the portal's open sign-ups (migration 0037) that the feed
  -- does not carry yet (a feed row for a portal sign-up has signup_id 'A' || signup_id), by sign-up month
  SELECT 'signup', a.id_number, date_trunc('month', a.signed_up_at AT TIME ZONE 'Asia/Shanghai')::date, 1, NULL FROM activities a
  UNION ALL
  SELECT 'signup', s.id_number, date_trunc('month', s.signed_up_at AT TIME ZONE 'Asia/Shanghai')::date, 1, NULL FROM activity_signups s
   WHERE s.status = 'signed_up' AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.signup_id = 'A' || s.signup_id)
  UNION ALL
  SELECT 'satisfaction', a.id_number, date_trunc('month', a.attended_at AT TIME ZONE 'Asia/Shanghai')::date, a.satisfaction, 1
    FROM activities a WHERE a.attended_at IS NOT NULL AND a.satisfaction IS NOT NULL
), by_region AS (
  SELECT f.period, COALESCE(fp.region_code, '') AS region_code,
         sum(f.a) FILTER (WHERE f.flow = 'retired') AS new_retirees,
         sum(f.a) FILTER (WHERE f.flow = 'face') AS face_certified,
         sum(f.a) FILTER (WHERE f.flow = 'death') AS deaths_recorded, sum(f.b) FILTER (WHERE f.flow = 'death') AS deaths_timely,
         sum(f.a) FILTER (WHERE f.flow = 'withdrawn') AS records_withdrawn, sum(f.a) FILTER (WHERE f.flow = 'restored') AS restorations,
         sum(f.a) FILTER (WHERE f.flow = 'recovered') AS recovered_amount,
         sum(f.a) FILTER (WHERE f.flow = 'closed') AS alerts_closed, sum(f.b) FILTER (WHERE f.flow = 'closed') AS alert_days_sum,
         sum(f.a) FILTER (WHERE f.flow = 'subsidy_new') AS subsidy_new_people,
         sum(f.a) FILTER (WHERE f.flow = 'checkup_first') AS checkup_first_people,
         sum(f.a) FILTER (WHERE f.flow = 'booking') AS checkup_bookings,
         sum(f.a) FILTER (WHERE f.flow = 'result') AS checkup_results, sum(f.b) FILTER (WHERE f.flow = 'result') AS checkup_abnormal,
         sum(f.a) FILTER (WHERE f.flow = 'signup') AS signups,
         sum(f.a) FILTER (WHERE f.flow = 'satisfaction') AS satisfaction_sum, sum(f.b) FILTER (WHERE f.flow = 'satisfaction') AS satisfaction_n
    FROM flows f LEFT JOIN f_flow_region fp USING (id_number)
   -- the window's months only (the facts keep no other): most retirements are decades old, and grouping
   -- them all spilled 214k groups to disk for 30k kept (issue 22). Read after the payments' refresh, the
   -- window starts no later than the facts' own (ind_first_period).
   WHERE f.period BETWEEN (SELECT ind_first_period(:as_of::date)) AND date_trunc('month', :as_of::date)::date
   GROUP BY 1, 2
)
SELECT :run_key::uuid, period, region_code, new_retirees, face_certified, deaths_recorded, deaths_timely,
       records_withdrawn, restorations, recovered_amount, alerts_closed, alert_days_sum, subsidy_new_people, checkup_first_people,
       checkup_bookings, checkup_results, checkup_abnormal, signups, satisfaction_sum, satisfaction_n
  FROM by_region;
