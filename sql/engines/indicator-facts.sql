-- name: indicator-facts
-- params: as_of, as_of_end, lookback_months
-- purpose: the additive parts of the 41 governance indicators (docs/indicators.md) per month and region,
--   into ind_region_month / ind_project_month (rebuilt for every month from the first payment month
--   to the as-of month) and ind_region_now (the state as of :as_of, kept per month so history
--   accrues). A person counts in their region: residence community, else hukou community. Readings
--   of docs/indicators.md made here:
--   * recipient in a month = an exclusive-group (ENT/INS/RES/LLF) enrollment covering the month:
--     start_period ≤ month ≤ end_period; an active one without end runs on; a suspended/terminated
--     one without end_period ended in the month it was last updated;
--   * aged 80+ is judged at the end of each month; "living outside" and "community-managed" (the
--     person's region resolves to a known community) by the current registry;
--   * the month stocks (recipients, aged 80+, living outside) count exactly the people whose span,
--     turns80 and outside columns in ind_person_now put them in the month (the drill-down lists of
--     P01/P04/P05 for a month filter on those columns: the model's drill meta);
--   * S04 "newly found eligible" = people whose first-ever payout of a subsidy project is in the month;
--   * H01 counts people with an attended checkup from 1 January to the month's end;
--   * the counter-metric next to R05: death and custody records withdrawn (as of :as_of, by the month of
--     the withdrawal) and the restorations the last detect-risk run recorded for them (same month);
--   * C04 / C06 "now" (awaiting field verification, suspended not certified) = the people not certified
--     as of :as_of whose current lapse (cert_status.lapsed_on) has reached its field task, not answered
--     by a staff visit on or before :as_of, / its not_certified suspension: what runs as of other dates
--     recorded for other lapses does not count (docs/rules.md, "Follow-ups when certified again, and in
--     replays"); the lists' "since" dates are the rule's dates of those events;
--   * the alert counts and amounts "now" (R01–R04, R06, R08) take the alerts raised by engine runs
--     as of :as_of or earlier (detected_as_of, migration 0017; not the wall-clock opened_at), in
--     their current status.

-- step: person regions
CREATE TEMP TABLE f_person ON COMMIT DROP AS
SELECT p.id_number, p.birth_date, p.status,
       COALESCE(NULLIF(btrim(p.residence_outside), ''), NULL) IS NOT NULL AS outside,
       COALESCE(rp.code, '') AS region_code, rp.path AS region_path, rp.district_code, rp.town_code,
       (rp.level = 'community') AS managed
  FROM persons p
  LEFT JOIN region_paths rp ON rp.code = COALESCE(p.residence_region, p.hukou_region);
CREATE UNIQUE INDEX ON f_person (id_number);
ANALYZE f_person;

-- Payments by month and region are kept between runs in ind_pay_month (migration 0036): reading every
-- payment again on each run was the largest step (city: 11.9 M rows, 10 M person-months). A run
--   * rebuilds the cache when it is empty or the scheme catalogue (which schemes are pensions) changed;
--   * otherwise recomputes the months that received payment rows since the last run: the loader writes
--     new and corrected payments as new rows of their period with loaded_at = its transaction's start,
--     and removes a replaced version only by writing its successor (same key, so the same period);
--   * and moves the payments of people whose region changed (or who appeared or left) in the months
--     kept from the region they were counted in (ind_pay_person) to the new one: the sums are additive
--     per person and month, and exact (numeric).
-- "Since the last run" is loaded_at ≥ the basis' loaded_before: the earliest start of any transaction
-- open when the last run began (pg_stat_activity, which shows the sessions of this role), so a
-- payment committed after that run's snapshot is never missed.

-- step: payments basis
CREATE TEMP TABLE f_pay_basis ON COMMIT DROP AS
SELECT s.schemes, b.loaded_before AS since, (b.schemes IS DISTINCT FROM s.schemes) AS rebuild,
       LEAST(now(), (SELECT min(a.xact_start) FROM pg_stat_activity a WHERE a.xact_start IS NOT NULL)) AS loaded_before
  FROM (SELECT string_agg(scheme_code || '=' || COALESCE(exclusive_group, ''), ',' ORDER BY scheme_code) AS schemes FROM ref_schemes) s
  LEFT JOIN ind_pay_basis b ON true;

-- step: payment months loaded since
CREATE TEMP TABLE f_pay_dirty ON COMMIT DROP AS
SELECT DISTINCT p.period FROM payments p
 WHERE NOT (SELECT rebuild FROM f_pay_basis) AND p.loaded_at >= (SELECT since FROM f_pay_basis);
ANALYZE f_pay_dirty;

-- step: people moved
CREATE TEMP TABLE f_pay_moved ON COMMIT DROP AS
SELECT COALESCE(o.id_number, n.id_number) AS id_number, COALESCE(o.region_code, '') AS old_region, COALESCE(n.region_code, '') AS new_region
  FROM ind_pay_person o
  FULL JOIN (SELECT id_number, region_code FROM f_person WHERE region_code <> '') n ON n.id_number = o.id_number
 WHERE NOT (SELECT rebuild FROM f_pay_basis) AND o.region_code IS DISTINCT FROM n.region_code;
ANALYZE f_pay_moved;

-- step: forget payment months
DELETE FROM ind_pay_month WHERE (SELECT rebuild FROM f_pay_basis) OR period IN (SELECT period FROM f_pay_dirty);

-- step: move payments of the moved
INSERT INTO ind_pay_month AS t
WITH per_person AS (
  SELECT p.period, p.id_number,
         sum(p.amount) FILTER (WHERE p.status = 'paid') AS paid,
         sum(p.amount) FILTER (WHERE p.status = 'paid' AND s.exclusive_group IS NOT NULL) AS pension,
         count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
         count(*) FILTER (WHERE p.status IN ('failed', 'returned')) AS n_failed
    FROM payments p
    LEFT JOIN ref_schemes s ON s.scheme_code = p.scheme_code
   WHERE p.id_number IN (SELECT id_number FROM f_pay_moved)
     AND NOT EXISTS (SELECT 1 FROM f_pay_dirty d WHERE d.period = p.period)
   GROUP BY p.period, p.id_number
)
SELECT pp.period, x.region_code,
       COALESCE(sum(x.sign * pp.paid), 0), COALESCE(sum(x.sign * pp.pension), 0),
       COALESCE(sum(x.sign) FILTER (WHERE pp.pension IS NOT NULL), 0), sum(x.sign * pp.n_paid), sum(x.sign * pp.n_failed)
  FROM per_person pp JOIN f_pay_moved m USING (id_number)
 CROSS JOIN LATERAL (VALUES (m.old_region, -1), (m.new_region, 1)) AS x(region_code, sign)
 GROUP BY 1, 2
ON CONFLICT (period, region_code) DO UPDATE SET
  payout_amount = t.payout_amount + EXCLUDED.payout_amount, pension_payout = t.pension_payout + EXCLUDED.pension_payout,
  pension_people_paid = t.pension_people_paid + EXCLUDED.pension_people_paid,
  payments_paid = t.payments_paid + EXCLUDED.payments_paid, payments_failed = t.payments_failed + EXCLUDED.payments_failed;

-- step: payments of the months to compute
-- Every month on a rebuild, else the months loaded since. Sums and counts go straight to month and
-- region (one hash join to the person's region); the people with a paid pension in a month are counted
-- from one bit per month per person and year (bit_or), grouped by region and bit pattern, then spread
-- over the months — exact, as counting distinct people per month. Grouping every payment by person and
-- month first (10 M groups at city scale) spilled to disk and made most of a first run (issue 22).
INSERT INTO ind_pay_month (period, region_code, payout_amount, pension_payout, pension_people_paid, payments_paid, payments_failed)
WITH sums AS (
  SELECT p.period, COALESCE(fp.region_code, '') AS region_code,
         COALESCE(sum(p.amount) FILTER (WHERE p.status = 'paid'), 0) AS paid,
         COALESCE(sum(p.amount) FILTER (WHERE p.status = 'paid' AND s.exclusive_group IS NOT NULL), 0) AS pension,
         count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
         count(*) FILTER (WHERE p.status IN ('failed', 'returned')) AS n_failed
    FROM payments p
    LEFT JOIN ref_schemes s ON s.scheme_code = p.scheme_code
    LEFT JOIN f_person fp ON fp.id_number = p.id_number
   WHERE (SELECT rebuild FROM f_pay_basis) OR p.period IN (SELECT period FROM f_pay_dirty)
   GROUP BY 1, 2
), pension_months AS (
  SELECT p.id_number, date_trunc('year', p.period)::date AS year, bit_or(1 << (extract(month FROM p.period)::int - 1)) AS mask
    FROM payments p
    JOIN ref_schemes s ON s.scheme_code = p.scheme_code AND s.exclusive_group IS NOT NULL
   WHERE p.status = 'paid' AND ((SELECT rebuild FROM f_pay_basis) OR p.period IN (SELECT period FROM f_pay_dirty))
   GROUP BY 1, 2
), patterns AS (
  SELECT pm.year, COALESCE(fp.region_code, '') AS region_code, pm.mask, count(*) AS n
    FROM pension_months pm LEFT JOIN f_person fp ON fp.id_number = pm.id_number
   GROUP BY 1, 2, 3
), pension_people AS (
  SELECT (pt.year + make_interval(months => m.i))::date AS period, pt.region_code, sum(pt.n) AS n
    FROM patterns pt CROSS JOIN generate_series(0, 11) AS m(i)
   WHERE pt.mask & (1 << m.i) <> 0
   GROUP BY 1, 2
)
SELECT s.period, s.region_code, s.paid, s.pension, COALESCE(pp.n, 0), s.n_paid, s.n_failed
  FROM sums s LEFT JOIN pension_people pp USING (period, region_code);

-- step: people's payment regions
DELETE FROM ind_pay_person WHERE (SELECT rebuild FROM f_pay_basis) OR id_number IN (SELECT id_number FROM f_pay_moved);
INSERT INTO ind_pay_person (id_number, region_code)
SELECT id_number, region_code FROM f_person
 WHERE region_code <> '' AND (SELECT rebuild FROM f_pay_basis)
UNION ALL
SELECT id_number, new_region FROM f_pay_moved WHERE new_region <> '';
DELETE FROM ind_pay_basis;
INSERT INTO ind_pay_basis (schemes, loaded_before) SELECT schemes, loaded_before FROM f_pay_basis;

-- step: window
-- From the first month with a payment (every period of payments is in ind_pay_month, each with a
-- payment counted as paid or failed) to the as-of month.
CREATE TEMP TABLE f_window ON COMMIT DROP AS
SELECT LEAST(COALESCE((SELECT min(period) FROM ind_pay_month WHERE payments_paid + payments_failed > 0), date_trunc('month', :as_of::date)::date),
             date_trunc('month', :as_of::date)::date) AS first_period,
       date_trunc('month', :as_of::date)::date AS last_period;
-- temp tables are never analyzed by autovacuum: without statistics the one-row window was taken for
-- 2,260 rows and the joins after it planned for billions (merge joins over sorts; issue 22)
ANALYZE f_window;

-- step: region grid
CREATE TEMP TABLE f_grid ON COMMIT DROP AS
WITH r AS (
  SELECT DISTINCT region_code, region_path, district_code, town_code FROM f_person
  UNION SELECT '', NULL, NULL, NULL
)
SELECT m.period::date AS period, r.region_code, r.region_path, r.district_code, r.town_code
  FROM r CROSS JOIN f_window w
 CROSS JOIN LATERAL generate_series(w.first_period, w.last_period, INTERVAL '1 month') AS m(period);
CREATE UNIQUE INDEX ON f_grid (region_code, period);
ANALYZE f_grid;

-- step: recipient spans
-- One span per person from the first to the last month of any exclusive-group enrollment (gaps
-- between enrollments of one person are rare transfers between schemes and count as covered).
CREATE TEMP TABLE f_span ON COMMIT DROP AS
SELECT e.id_number, min(e.start_period) AS first_month,
       max(CASE WHEN e.end_period IS NOT NULL THEN date_trunc('month', e.end_period)::date
                WHEN e.status = 'active' THEN 'infinity'::date
                ELSE date_trunc('month', COALESCE(e.updated_at, e.loaded_at) AT TIME ZONE 'Asia/Shanghai')::date END) AS last_month
  FROM enrollments e
  JOIN ref_schemes s ON s.scheme_code = e.scheme_code AND s.exclusive_group IS NOT NULL
 GROUP BY e.id_number;
CREATE UNIQUE INDEX ON f_span (id_number);
ANALYZE f_span;

-- step: people by month
-- Stocks by month from +1/−1 events at span edges, summed cumulatively per region. A person counts
-- in month m when first_month ≤ m ≤ last_month (aged 80+: also turn80 ≤ m); a span that ends before
-- it starts covers no month (without the guard its events would count −1 in between).
CREATE TEMP TABLE f_people ON COMMIT DROP AS
WITH s AS (
  SELECT sp.id_number, GREATEST(sp.first_month, w.first_period) AS a, sp.last_month AS b,
         date_trunc('month', fp.birth_date + INTERVAL '80 years')::date AS turn80,
         COALESCE(fp.region_code, '') AS region_code, COALESCE(fp.outside, false) AS outside, COALESCE(fp.managed, false) AS managed
    FROM f_span sp CROSS JOIN f_window w
    LEFT JOIN f_person fp ON fp.id_number = sp.id_number
   WHERE sp.first_month <= w.last_period AND sp.last_month >= w.first_period AND sp.first_month <= sp.last_month
), ev AS (
  SELECT region_code, a AS period, 1 AS rec, 0 AS old, outside::int AS out, managed::int AS man FROM s
  UNION ALL
  SELECT region_code, (b + INTERVAL '1 month')::date, -1, 0, -outside::int, -managed::int FROM s WHERE b <> 'infinity'
  UNION ALL
  SELECT region_code, GREATEST(a, turn80), 0, 1, 0, 0 FROM s WHERE turn80 <= b
  UNION ALL
  SELECT region_code, (b + INTERVAL '1 month')::date, 0, -1, 0, 0 FROM s WHERE turn80 <= b AND b <> 'infinity'
), d AS (
  SELECT region_code, period, sum(rec) AS rec, sum(old) AS old, sum(out) AS out, sum(man) AS man FROM ev GROUP BY 1, 2
)
SELECT g.period, g.region_code,
       sum(COALESCE(d.rec, 0)) OVER w AS recipients,
       sum(COALESCE(d.old, 0)) OVER w AS aged80,
       sum(COALESCE(d.out, 0)) OVER w AS living_outside,
       sum(COALESCE(d.man, 0)) OVER w AS community_managed
  FROM f_grid g LEFT JOIN d ON d.region_code = g.region_code AND d.period = g.period
WINDOW w AS (PARTITION BY g.region_code ORDER BY g.period);
ANALYZE f_people;

-- step: payments by month
CREATE TEMP TABLE f_pay ON COMMIT DROP AS
SELECT period, region_code, payout_amount, pension_payout, pension_people_paid, payments_paid, payments_failed
  FROM ind_pay_month
 WHERE period BETWEEN (SELECT first_period FROM f_window) AND (SELECT last_period FROM f_window);
ANALYZE f_pay;

-- step: replace project facts
DELETE FROM ind_project_month;

-- step: project facts
-- (before the other flows: their subsidy payout per month and region is these rows' sum)
-- Grouped first, the window applied to the groups: a filter on the window's bounds (unknown when the
-- statement is planned) was estimated at 0.5 % of the subsidies and planned as a nested loop (issue 22).
INSERT INTO ind_project_month
SELECT g.* FROM (
  SELECT s.period, COALESCE(fp.region_code, ''), max(fp.region_path), s.project_code, sum(s.amount), count(*)
    FROM subsidies s LEFT JOIN f_person fp USING (id_number)
   GROUP BY s.period, COALESCE(fp.region_code, ''), s.project_code
  OFFSET 0) g -- keeps the window's filter out of the grouping (the planner would push it down again)
 WHERE g.period BETWEEN (SELECT first_period FROM f_window) AND (SELECT last_period FROM f_window);

-- step: other flows by month
CREATE TEMP TABLE f_flow ON COMMIT DROP AS
WITH w AS (SELECT first_period, last_period FROM f_window),
retired AS (
  SELECT date_trunc('month', p.retired_on)::date AS period, fp.region_code, count(*) AS n
    FROM persons p JOIN f_person fp USING (id_number) WHERE p.retired_on IS NOT NULL GROUP BY 1, 2
), exits AS (
  SELECT sp.last_month AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM f_span sp LEFT JOIN f_person fp USING (id_number) WHERE sp.last_month <> 'infinity' GROUP BY 1, 2
), face AS (
  SELECT date_trunc('month', c.certified_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code,
         count(DISTINCT c.id_number) AS n
    FROM certifications c LEFT JOIN f_person fp USING (id_number)
   WHERE c.method = 'face_online' AND c.result = 'pass' GROUP BY 1, 2
), deaths AS (
  SELECT date_trunc('month', rc.recorded_on)::date AS period, COALESCE(fp.region_code, '') AS region_code,
         count(*) AS n, count(*) FILTER (WHERE rc.stopped_timely) AS timely
    FROM risk_clock rc LEFT JOIN f_person fp USING (id_number)
   WHERE rc.event_kind = 'death' AND rc.recorded_on IS NOT NULL GROUP BY 1, 2
), withdrawn AS (
  SELECT date_trunc('month', w.withdrawn_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM (SELECT id_number, withdrawn_at FROM deaths_as_of(:as_of_end::timestamptz) WHERE withdrawn
          UNION ALL
          SELECT id_number, withdrawn_at FROM imprisonments_as_of(:as_of_end::timestamptz) WHERE withdrawn) w
    LEFT JOIN f_person fp USING (id_number) GROUP BY 1, 2
), restored AS (
  SELECT date_trunc('month', r.withdrawn_on)::date AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM restorations r LEFT JOIN f_person fp USING (id_number) WHERE r.withdrawn_on <= :as_of::date GROUP BY 1, 2
), recovered AS (
  SELECT date_trunc('month', r.recovered_on)::date AS period, COALESCE(fp.region_code, '') AS region_code, sum(r.amount) AS amount
    FROM recoveries r JOIN alerts a USING (alert_id) LEFT JOIN f_person fp ON fp.id_number = a.id_number GROUP BY 1, 2
), closed AS (
  SELECT date_trunc('month', a.closed_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code,
         count(*) AS n, sum(extract(epoch FROM a.closed_at - a.opened_at) / 86400.0) AS days
    FROM alerts a LEFT JOIN f_person fp USING (id_number)
   WHERE a.closed_at IS NOT NULL GROUP BY 1, 2
), subsidy AS (
  SELECT period, region_code, sum(payout) AS amount FROM ind_project_month GROUP BY 1, 2
), subsidy_new AS (
  SELECT first_period AS period, region_code, count(DISTINCT id_number) AS n
    FROM (SELECT s.id_number, s.project_code, min(s.period) AS first_period, COALESCE(max(fp.region_code), '') AS region_code
            FROM subsidies s LEFT JOIN f_person fp USING (id_number) GROUP BY 1, 2) x
   GROUP BY 1, 2
), checkup_first AS (
  -- first attended checkup per person and calendar year
  SELECT c.id_number, date_trunc('year', c.attended_at AT TIME ZONE 'Asia/Shanghai')::date AS year,
         min(date_trunc('month', c.attended_at AT TIME ZONE 'Asia/Shanghai'))::date AS period
    FROM checkups c WHERE c.attended_at IS NOT NULL GROUP BY 1, 2
), checkup_first_n AS (
  SELECT cf.period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM checkup_first cf LEFT JOIN f_person fp USING (id_number) GROUP BY 1, 2
), bookings AS (
  -- the checkups feed's bookings, and the portal's open bookings (migration 0028) that the feed does
  -- not carry yet (a centre's feed row for a portal booking has checkup_id 'P' || booking_id)
  SELECT date_trunc('month', x.booked_for)::date AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM (SELECT c.id_number, c.booked_for FROM checkups c
          UNION ALL
          SELECT b.id_number, s.day FROM checkup_bookings b JOIN checkup_slots s USING (slot_id)
           WHERE b.status = 'booked' AND NOT EXISTS (SELECT 1 FROM checkups c WHERE c.checkup_id = 'P' || b.booking_id)) x
    LEFT JOIN f_person fp USING (id_number) GROUP BY 1, 2
), results AS (
  SELECT date_trunc('month', c.attended_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code,
         count(*) FILTER (WHERE c.result IN ('normal', 'abnormal')) AS n, count(*) FILTER (WHERE c.result = 'abnormal') AS abnormal
    FROM checkups c LEFT JOIN f_person fp USING (id_number) WHERE c.attended_at IS NOT NULL GROUP BY 1, 2
), signups AS (
  -- H04: the activities feed's sign-ups, and the portal's open sign-ups (migration 0037) that the feed
  -- does not carry yet (a feed row for a portal sign-up has signup_id 'A' || signup_id), by sign-up month
  SELECT date_trunc('month', x.signed_up_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS n
    FROM (SELECT a.id_number, a.signed_up_at FROM activities a
          UNION ALL
          SELECT s.id_number, s.signed_up_at FROM activity_signups s
           WHERE s.status = 'signed_up' AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.signup_id = 'A' || s.signup_id)) x
    LEFT JOIN f_person fp USING (id_number) GROUP BY 1, 2
), satisfaction AS (
  SELECT date_trunc('month', a.attended_at AT TIME ZONE 'Asia/Shanghai')::date AS period, COALESCE(fp.region_code, '') AS region_code,
         sum(a.satisfaction) AS s, count(a.satisfaction) AS n
    FROM activities a LEFT JOIN f_person fp USING (id_number)
   WHERE a.attended_at IS NOT NULL AND a.satisfaction IS NOT NULL GROUP BY 1, 2
)
SELECT g.period, g.region_code,
       COALESCE(retired.n, 0) AS new_retirees, COALESCE(exits.n, 0) AS exits, COALESCE(face.n, 0) AS face_certified,
       COALESCE(deaths.n, 0) AS deaths_recorded, COALESCE(deaths.timely, 0) AS deaths_timely,
       COALESCE(recovered.amount, 0) AS recovered_amount, COALESCE(closed.n, 0) AS alerts_closed, COALESCE(closed.days, 0) AS alert_days_sum,
       COALESCE(subsidy.amount, 0) AS subsidy_payout, COALESCE(subsidy_new.n, 0) AS subsidy_new_people,
       sum(COALESCE(checkup_first_n.n, 0)) OVER (PARTITION BY g.region_code, date_trunc('year', g.period) ORDER BY g.period) AS checkup_ytd_people,
       COALESCE(bookings.n, 0) AS checkup_bookings, COALESCE(results.n, 0) AS checkup_results, COALESCE(results.abnormal, 0) AS checkup_abnormal,
       COALESCE(signups.n, 0) AS signups, COALESCE(satisfaction.s, 0) AS satisfaction_sum, COALESCE(satisfaction.n, 0) AS satisfaction_n,
       COALESCE(withdrawn.n, 0) AS records_withdrawn, COALESCE(restored.n, 0) AS restorations
  FROM f_grid g
  LEFT JOIN retired USING (period, region_code)
  LEFT JOIN exits USING (period, region_code)
  LEFT JOIN face USING (period, region_code)
  LEFT JOIN deaths USING (period, region_code)
  LEFT JOIN recovered USING (period, region_code)
  LEFT JOIN closed USING (period, region_code)
  LEFT JOIN subsidy USING (period, region_code)
  LEFT JOIN subsidy_new USING (period, region_code)
  LEFT JOIN checkup_first_n USING (period, region_code)
  LEFT JOIN bookings USING (period, region_code)
  LEFT JOIN results USING (period, region_code)
  LEFT JOIN signups USING (period, region_code)
  LEFT JOIN satisfaction USING (period, region_code)
  LEFT JOIN withdrawn USING (period, region_code)
  LEFT JOIN restored USING (period, region_code);
ANALYZE f_flow;

-- step: replace monthly facts
DELETE FROM ind_region_month;

-- step: monthly facts
INSERT INTO ind_region_month
SELECT g.period, g.region_code, g.region_path, g.district_code, g.town_code,
       COALESCE(pe.recipients, 0), COALESCE(pe.aged80, 0), COALESCE(pe.living_outside, 0), COALESCE(pe.community_managed, 0),
       f.new_retirees, f.exits,
       COALESCE(pay.payout_amount, 0), COALESCE(pay.pension_payout, 0), COALESCE(pay.pension_people_paid, 0),
       COALESCE(pay.payments_paid, 0), COALESCE(pay.payments_failed, 0),
       f.face_certified, f.deaths_recorded, f.deaths_timely, f.recovered_amount, f.alerts_closed, f.alert_days_sum,
       f.subsidy_payout, f.subsidy_new_people, f.checkup_ytd_people, f.checkup_bookings, f.checkup_results, f.checkup_abnormal,
       f.signups, f.satisfaction_sum, f.satisfaction_n, f.records_withdrawn, f.restorations
  FROM f_grid g
  LEFT JOIN f_people pe USING (period, region_code)
  LEFT JOIN f_pay pay USING (period, region_code)
  JOIN f_flow f USING (period, region_code);

-- step: now per person
-- The state as of :as_of per person: the people behind every "now" count (drill-down lists read
-- this table, the region totals below are its sums — one definition for both). Also everyone with
-- a recipient span in the window, with the span (recipient_from..recipient_until, NULL = runs on),
-- the month they turn 80 and whether they live outside: the people behind the month stocks of
-- "people by month" for any month of the window, by the same rules (people whose span ended no
-- longer count "now" and have every flag false).
CREATE TEMP TABLE f_now_person ON COMMIT DROP AS
WITH w AS (SELECT last_period FROM f_window),
weak_only AS (
  -- not certified, with weak positive evidence in the lookback window and no strong one
  SELECT ev.id_number
    FROM evidence ev JOIN ref_evidence_kinds k ON k.kind = ev.kind
   WHERE ev.occurred_at > (:as_of::date - make_interval(months => :lookback_months::int))::timestamptz
     AND ev.occurred_at < (:as_of::date + 1)::timestamptz
     AND ev.id_number IN (SELECT id_number FROM cert_status WHERE status = 'not_certified')
   GROUP BY ev.id_number
  HAVING bool_or(k.strength = 'weak') AND NOT bool_or(k.strength = 'strong')
), lapsed AS (
  -- the follow-ups of the current lapse only (cert_status.lapsed_on, migration 0030): what earlier runs
  -- recorded for a lapse that has since ended (certified again, then lapsed anew) or for a later date
  -- does not count now, so these facts depend on the data and :as_of, not on which runs came before
  SELECT cs.id_number, cs.lapsed_on - 1 AS cycle_key FROM cert_status cs WHERE cs.status = 'not_certified'
), suspended AS (
  SELECT s.id_number, s.event_date AS since
    FROM lapsed l JOIN cert_events s ON s.id_number = l.id_number AND s.kind = 'suspension' AND s.cycle_key = l.cycle_key
   WHERE s.reason = 'not_certified' AND s.event_date <= :as_of::date
     AND NOT EXISTS (SELECT 1 FROM cert_events r WHERE r.id_number = s.id_number AND r.kind = 'resumption'
                      AND r.cycle_key = s.cycle_key AND r.event_date <= :as_of::date)
), rec AS (
  SELECT sp.id_number FROM f_span sp CROSS JOIN w WHERE sp.first_month <= w.last_period AND sp.last_month >= w.last_period
), retiring AS (
  SELECT r.id_number, r.retirement_month FROM retirements r CROSS JOIN w
   WHERE r.retirement_month > w.last_period AND r.retirement_month <= (w.last_period + INTERVAL '12 months')::date
), tasks_open AS (
  -- awaiting field verification: the current lapse has reached its field task (rule 5; the event's date
  -- is when the rules issue it) and community staff have not answered it by a visit on or before
  -- :as_of (a visit closes the lapse's task: closed_as_of NULL, the visit's day in result.visited_on)
  SELECT f.id_number, f.event_date AS since
    FROM lapsed l JOIN cert_events f ON f.id_number = l.id_number AND f.kind = 'field_task' AND f.cycle_key = l.cycle_key
   WHERE f.event_date <= :as_of::date
     AND NOT EXISTS (SELECT 1 FROM tasks t
                      WHERE t.kind = 'field_verification' AND t.id_number = l.id_number AND t.status <> 'open' AND t.closed_as_of IS NULL
                        AND split_part(t.dedup_key, '#', 1) = 'cert:' || l.cycle_key::text
                        AND COALESCE((t.result ->> 'visited_on')::date, (t.done_at AT TIME ZONE 'Asia/Shanghai')::date) <= :as_of::date)
), hard AS (
  SELECT DISTINCT id_number FROM hardship WHERE since <= :as_of::date AND (until IS NULL OR until >= :as_of::date)
), enr AS (
  SELECT DISTINCT id_number FROM subsidy_matches WHERE category = 'eligible_not_receiving'
), spans AS (
  SELECT sp.id_number, sp.first_month, NULLIF(sp.last_month, 'infinity') AS last_month
    FROM f_span sp CROSS JOIN f_window w
   WHERE sp.first_month <= w.last_period AND sp.last_month >= w.first_period AND sp.first_month <= sp.last_month
), people AS (
  SELECT id_number FROM rec UNION SELECT id_number FROM f_person WHERE status = 'insured'
  UNION SELECT id_number FROM tasks_open UNION SELECT id_number FROM enr UNION SELECT id_number FROM spans
)
SELECT :as_of::date AS as_of, pe.id_number, COALESCE(fp.region_code, '') AS region_code, fp.region_path, fp.district_code, fp.town_code,
       (rec.id_number IS NOT NULL) AS recipient,
       -- COALESCE: a person the engines' tables do not know (no registry row, no cert_status row — e.g. a run
       -- as of another date built them) is on no list, never NULL (the columns are NOT NULL)
       COALESCE(rec.id_number IS NOT NULL AND fp.birth_date + INTERVAL '80 years' <= (SELECT (last_period + INTERVAL '1 month' - INTERVAL '1 day') FROM w), false) AS aged80,
       (rec.id_number IS NOT NULL AND COALESCE(fp.outside, false)) AS living_outside,
       (rec.id_number IS NOT NULL AND COALESCE(fp.managed, false)) AS community_managed,
       COALESCE(fp.status = 'insured', false) AS insured,
       (rt.id_number IS NOT NULL) AS reaching_retirement,
       COALESCE(rec.id_number IS NOT NULL AND cs.status = 'certified' AND cs.valid_until >= :as_of::date, false) AS cert_valid,
       COALESCE(rec.id_number IS NOT NULL AND cs.status = 'certified', false) AS certified,
       COALESCE(rec.id_number IS NOT NULL AND cs.status = 'certified' AND cs.method = 'silent', false) AS certified_silent,
       (t.id_number IS NOT NULL) AS field_task_open,
       COALESCE(rec.id_number IS NOT NULL AND cs.rule = 'expired', false) AS cert_expired,
       (rec.id_number IS NOT NULL AND su.id_number IS NOT NULL) AS suspended_not_certified,
       (rec.id_number IS NOT NULL AND wo.id_number IS NOT NULL) AS weak_only,
       (rec.id_number IS NOT NULL AND h.id_number IS NOT NULL) AS hardship,
       (enr.id_number IS NOT NULL) AS eligible_not_receiving,
       spans.first_month AS recipient_from, spans.last_month AS recipient_until,
       date_trunc('month', fp.birth_date + INTERVAL '80 years')::date AS turns80,
       COALESCE(fp.outside, false) AS outside,
       -- what puts a person on a "now" list (the lists' columns, migration 0014)
       -- the day the rules issued the field task of the current lapse, shown as suspended_since below
       CASE WHEN t.since < (SELECT first_period FROM f_window) THEN 'before ' || to_char((SELECT first_period FROM f_window), 'YYYY-MM')
            ELSE to_char(t.since, 'YYYY-MM-DD') END AS field_task_since,
       to_char(COALESCE(cs.valid_until, cs.last_valid_until), 'YYYY-MM-DD') AS cert_valid_until,
       -- a suspension dated before the first month of data is the engine's reading of "never certified
       -- in the data" (its lapse is the benefit's start, e.g. 1995): the system cannot know that date,
       -- only that it is before the data begins — 'before YYYY-MM', as the lists show it
       CASE WHEN su.since < (SELECT first_period FROM f_window) THEN 'before ' || to_char((SELECT first_period FROM f_window), 'YYYY-MM')
            ELSE to_char(su.since, 'YYYY-MM-DD') END AS suspended_since,
       to_char(rt.retirement_month, 'YYYY-MM') AS retirement_month
  FROM people pe
  LEFT JOIN f_person fp ON fp.id_number = pe.id_number
  LEFT JOIN rec ON rec.id_number = pe.id_number
  LEFT JOIN retiring rt ON rt.id_number = pe.id_number
  LEFT JOIN cert_status cs ON cs.id_number = pe.id_number
  LEFT JOIN tasks_open t ON t.id_number = pe.id_number
  LEFT JOIN suspended su ON su.id_number = pe.id_number
  LEFT JOIN weak_only wo ON wo.id_number = pe.id_number
  LEFT JOIN hard h ON h.id_number = pe.id_number
  LEFT JOIN enr ON enr.id_number = pe.id_number
  LEFT JOIN spans ON spans.id_number = pe.id_number;
ANALYZE f_now_person;

-- step: replace person now
-- TRUNCATE, not DELETE: the whole table is rewritten every run; a deleted million rows left as much dead
-- space for vacuum, and (wal_level=minimal, the embedded server) rows written into a table truncated in
-- the same transaction need no WAL. Readers of the lists wait for the commit, a few seconds (the steps
-- after this one are small).
TRUNCATE ind_person_now;

-- step: person now
INSERT INTO ind_person_now (as_of, id_number, region_code, region_path, district_code, town_code, recipient, aged80, living_outside,
  community_managed, insured, reaching_retirement, cert_valid, certified, certified_silent, field_task_open, cert_expired,
  suspended_not_certified, weak_only, hardship, eligible_not_receiving, recipient_from, recipient_until, turns80, outside, list_order,
  recipient_from_month, recipient_until_month, turns80_month, field_task_since, cert_valid_until, suspended_since, retirement_month)
SELECT f.as_of, f.id_number, f.region_code, f.region_path, f.district_code, f.town_code, f.recipient, f.aged80, f.living_outside,
  f.community_managed, f.insured, f.reaching_retirement, f.cert_valid, f.certified, f.certified_silent, f.field_task_open, f.cert_expired,
  f.suspended_not_certified, f.weak_only, f.hardship, f.eligible_not_receiving, f.recipient_from, f.recipient_until, f.turns80, f.outside,
  -- the lists' stable order without a personal member (see migration 0013)
  row_number() OVER (ORDER BY f.region_path, p.birth_date, f.id_number),
  -- the months the lists filter on, as the people_now cube compares them ('YYYY-MM')
  to_char(f.recipient_from, 'YYYY-MM'), to_char(f.recipient_until, 'YYYY-MM'), to_char(f.turns80, 'YYYY-MM'),
  f.field_task_since, f.cert_valid_until, f.suspended_since, f.retirement_month
  FROM f_now_person f LEFT JOIN persons p ON p.id_number = f.id_number;

-- step: now
CREATE TEMP TABLE f_now ON COMMIT DROP AS
WITH al AS (
  SELECT COALESCE(fp.region_code, '') AS region_code,
         count(*) FILTER (WHERE a.rule = 'paid_after_death' AND a.active) AS after_death,
         count(*) FILTER (WHERE a.rule = 'paid_in_custody' AND a.active) AS custody,
         count(*) FILTER (WHERE a.rule = 'double_receipt' AND a.active) AS double,
         count(*) FILTER (WHERE a.rule IN ('abnormal_amount', 'shared_account') AND a.active) AS abnormal,
         -- at risk: every alert not closed as something other than money lost (migration 0021's phases)
         COALESCE(sum(a.amount_at_risk) FILTER (WHERE st.phase <> 'closed' OR d.grp = 'improper_loss'), 0) AS at_risk,
         COALESCE(sum(a.amount_due) FILTER (WHERE st.phase = 'decided' OR d.grp = 'improper_loss'), 0) AS due,
         COALESCE(sum((SELECT sum(r.amount) FROM recoveries r WHERE r.alert_id = a.alert_id))
                  FILTER (WHERE st.phase = 'decided' OR d.grp = 'improper_loss'), 0) AS recovered
    FROM alerts a LEFT JOIN f_person fp USING (id_number)
    JOIN ref_alert_states st ON st.status = a.status
    LEFT JOIN ref_alert_dispositions d ON d.code = a.disposition
   WHERE a.detected_as_of <= :as_of::date
   GROUP BY 1
), pn AS (
  SELECT region_code,
         count(*) FILTER (WHERE recipient) AS recipients, count(*) FILTER (WHERE insured) AS insured,
         count(*) FILTER (WHERE reaching_retirement) AS reaching_retirement,
         count(*) FILTER (WHERE cert_valid) AS cert_valid, count(*) FILTER (WHERE certified) AS certified,
         count(*) FILTER (WHERE certified_silent) AS certified_silent, count(*) FILTER (WHERE field_task_open) AS field_tasks_open,
         count(*) FILTER (WHERE cert_expired) AS cert_expired, count(*) FILTER (WHERE suspended_not_certified) AS suspended_not_certified,
         count(*) FILTER (WHERE weak_only) AS weak_only, count(*) FILTER (WHERE hardship) AS hardship,
         count(*) FILTER (WHERE eligible_not_receiving) AS eligible_not_receiving
    FROM f_now_person GROUP BY 1
), regions_all AS (
  SELECT DISTINCT region_code, region_path, district_code, town_code FROM f_grid
)
SELECT (SELECT last_period FROM f_window) AS period, r.region_code, r.region_path, r.district_code, r.town_code, :as_of::date AS as_of,
       COALESCE(pn.recipients, 0) AS recipients, COALESCE(pn.insured, 0) AS insured, COALESCE(pn.reaching_retirement, 0) AS reaching_retirement,
       COALESCE(pn.cert_valid, 0) AS cert_valid, COALESCE(pn.certified, 0) AS certified, COALESCE(pn.certified_silent, 0) AS certified_silent,
       COALESCE(pn.field_tasks_open, 0) AS field_tasks_open, COALESCE(pn.cert_expired, 0) AS cert_expired,
       COALESCE(pn.suspended_not_certified, 0) AS suspended_not_certified, COALESCE(pn.weak_only, 0) AS weak_only,
       COALESCE(al.after_death, 0) AS alerts_after_death, COALESCE(al.custody, 0) AS alerts_custody,
       COALESCE(al.double, 0) AS alerts_double, COALESCE(al.abnormal, 0) AS alerts_abnormal,
       COALESCE(al.at_risk, 0) AS amount_at_risk, COALESCE(al.recovered, 0) AS recovered_to_date, COALESCE(al.due, 0) AS amount_due,
       COALESCE(pn.hardship, 0) AS hardship, COALESCE(pn.eligible_not_receiving, 0) AS eligible_not_receiving
  FROM regions_all r
  LEFT JOIN pn USING (region_code)
  LEFT JOIN al USING (region_code);

-- step: replace now facts
DELETE FROM ind_region_now WHERE period = (SELECT last_period FROM f_window);

-- step: now facts
INSERT INTO ind_region_now SELECT * FROM f_now;
