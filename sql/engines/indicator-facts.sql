-- name: indicator-facts
-- params: as_of, lookback_months, run_key
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
-- the area each person is counted in ('' when unknown: person_regions.area_code, migration 0043)
CREATE TEMP TABLE f_person ON COMMIT DROP AS
SELECT id_number, birth_date, status,
       COALESCE(NULLIF(btrim(residence_outside), ''), NULL) IS NOT NULL AS outside,
       area_code AS region_code, region_path, district_code, town_code,
       (region_level = 'community') AS managed
  FROM person_regions;
ANALYZE f_person;

-- step: window
-- From the first month with a payment to the as-of month (ind_first_period, migration 0042). The payments
-- cache it reads (ind_pay_month) is refreshed beside this transaction (indicator-payments.sql).
CREATE TEMP TABLE f_window ON COMMIT DROP AS
SELECT ind_first_period(:as_of::date) AS first_period, date_trunc('month', :as_of::date)::date AS last_period;
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
ANALYZE f_span;

-- step: people by month
-- Stocks by month from +1/−1 events at span edges, summed cumulatively per region. A person counts
-- in month m when first_month ≤ m ≤ last_month (aged 80+: also turn80 ≤ m); a span that ends before
-- it starts covers no month (without the guard its events would count −1 in between).
CREATE TEMP TABLE f_people ON COMMIT DROP AS
WITH s AS (
  SELECT x.id_number, GREATEST(x.first_month, w.first_period) AS a, x.last_month AS b, x.turn80, x.region_code, x.outside, x.managed
    FROM (SELECT sp.id_number, sp.first_month, sp.last_month, date_trunc('month', fp.birth_date + INTERVAL '80 years')::date AS turn80,
                 COALESCE(fp.region_code, '') AS region_code, COALESCE(fp.outside, false) AS outside, COALESCE(fp.managed, false) AS managed
            FROM f_span sp LEFT JOIN f_person fp ON fp.id_number = sp.id_number
          OFFSET 0) x -- every span joined before the window's filter: filtered first, the 330k spans were taken for 12k
                      -- and looked up in f_person one by one (issue 22)
   CROSS JOIN f_window w
   WHERE x.first_month <= w.last_period AND x.last_month >= w.first_period AND x.first_month <= x.last_month
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

-- step: replace project facts
DELETE FROM ind_project_month;

-- step: project facts
-- (before the other flows: their subsidy payout per month and region is these rows' sum)
-- Grouped first, the window applied to the groups: a filter on the window's bounds (unknown when the
-- statement is planned) was estimated at 0.5 % of the subsidies and planned as a nested loop (issue 22).
-- The region's path is looked up per group, not carried through 2.5 M rows (max() of a text per row).
INSERT INTO ind_project_month
SELECT g.period, g.region_code, rp.path, g.project_code, g.payout, g.n FROM (
  SELECT s.period, COALESCE(fp.region_code, '') AS region_code, s.project_code, sum(s.amount) AS payout, count(*) AS n
    FROM subsidies s LEFT JOIN f_person fp USING (id_number)
   GROUP BY 1, 2, 3
  OFFSET 0) g -- keeps the window's filter out of the grouping (the planner would push it down again)
  LEFT JOIN region_paths rp ON rp.code = g.region_code
 WHERE g.period BETWEEN (SELECT first_period FROM f_window) AND (SELECT last_period FROM f_window);

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
  -- everyone with a recipient span in the window; `current`: a recipient now (the span covers the as-of month)
  SELECT sp.id_number, sp.first_month, NULLIF(sp.last_month, 'infinity') AS last_month, (sp.last_month >= w.last_period) AS current
    FROM f_span sp CROSS JOIN f_window w
   WHERE sp.first_month <= w.last_period AND sp.last_month >= w.first_period AND sp.first_month <= sp.last_month
), marks AS (
  -- the small sets above (each at most one row per person), one row per person: three joins on a million
  -- people below instead of one per set (issue 22)
  SELECT id_number,
         bool_or(k = 'task') AS task_open, max(since) FILTER (WHERE k = 'task') AS task_since,
         bool_or(k = 'suspended') AS suspended, max(since) FILTER (WHERE k = 'suspended') AS suspended_since,
         bool_or(k = 'weak') AS weak_only, bool_or(k = 'hardship') AS hardship, bool_or(k = 'enr') AS eligible_not_receiving,
         max(since) FILTER (WHERE k = 'retiring') AS retirement_month
    FROM (SELECT id_number, 'task' AS k, since FROM tasks_open
          UNION ALL SELECT id_number, 'suspended', since FROM suspended
          UNION ALL SELECT id_number, 'weak', NULL::date FROM weak_only
          UNION ALL SELECT id_number, 'hardship', NULL FROM hard
          UNION ALL SELECT id_number, 'enr', NULL FROM enr
          UNION ALL SELECT id_number, 'retiring', retirement_month FROM retiring) x
   GROUP BY id_number
)
-- the people: the insured, everyone with a span in the window, those awaiting field verification and
-- those eligible but not receiving (FULL JOINs: a person in a feed without a registry row is kept)
SELECT :as_of::date AS as_of, id_number, COALESCE(fp.region_code, '') AS region_code, fp.region_path, fp.district_code, fp.town_code,
       COALESCE(sp.current, false) AS recipient,
       -- COALESCE: a person the engines' tables do not know (no registry row, no cert_status row — e.g. a run
       -- as of another date built them) is on no list, never NULL (the columns are NOT NULL)
       COALESCE(sp.current AND fp.birth_date + INTERVAL '80 years' <= (SELECT (last_period + INTERVAL '1 month' - INTERVAL '1 day') FROM w), false) AS aged80,
       COALESCE(sp.current AND fp.outside, false) AS living_outside,
       COALESCE(sp.current AND fp.managed, false) AS community_managed,
       COALESCE(fp.status = 'insured', false) AS insured,
       (m.retirement_month IS NOT NULL) AS reaching_retirement,
       COALESCE(sp.current AND cs.status = 'certified' AND cs.valid_until >= :as_of::date, false) AS cert_valid,
       COALESCE(sp.current AND cs.status = 'certified', false) AS certified,
       COALESCE(sp.current AND cs.status = 'certified' AND cs.method = 'silent', false) AS certified_silent,
       COALESCE(m.task_open, false) AS field_task_open,
       COALESCE(sp.current AND cs.rule = 'expired', false) AS cert_expired,
       COALESCE(sp.current AND m.suspended, false) AS suspended_not_certified,
       COALESCE(sp.current AND m.weak_only, false) AS weak_only,
       COALESCE(sp.current AND m.hardship, false) AS hardship,
       COALESCE(m.eligible_not_receiving, false) AS eligible_not_receiving,
       sp.first_month AS recipient_from, sp.last_month AS recipient_until,
       date_trunc('month', fp.birth_date + INTERVAL '80 years')::date AS turns80,
       COALESCE(fp.outside, false) AS outside,
       -- what puts a person on a "now" list (the lists' columns, migration 0014)
       -- the day the rules issued the field task of the current lapse, shown as suspended_since below
       CASE WHEN m.task_since < (SELECT first_period FROM f_window) THEN 'before ' || to_char((SELECT first_period FROM f_window), 'YYYY-MM')
            ELSE to_char(m.task_since, 'YYYY-MM-DD') END AS field_task_since,
       to_char(COALESCE(cs.valid_until, cs.last_valid_until), 'YYYY-MM-DD') AS cert_valid_until,
       -- a suspension dated before the first month of data is the engine's reading of "never certified
       -- in the data" (its lapse is the benefit's start, e.g. 1995): the system cannot know that date,
       -- only that it is before the data begins — 'before YYYY-MM', as the lists show it
       CASE WHEN m.suspended_since < (SELECT first_period FROM f_window) THEN 'before ' || to_char((SELECT first_period FROM f_window), 'YYYY-MM')
            ELSE to_char(m.suspended_since, 'YYYY-MM-DD') END AS suspended_since,
       to_char(m.retirement_month, 'YYYY-MM') AS retirement_month,
       fp.birth_date -- the lists' order (person now)
  FROM f_person fp
  FULL JOIN spans sp USING (id_number)
  FULL JOIN marks m USING (id_number)
  LEFT JOIN cert_status cs USING (id_number)
 WHERE fp.status = 'insured' OR sp.id_number IS NOT NULL OR m.task_open OR m.eligible_not_receiving;
ANALYZE f_now_person;

-- step: replace person now
-- TRUNCATE, not DELETE: the whole table is rewritten every run; a deleted million rows left as much dead
-- space for vacuum, and (wal_level=minimal, the embedded server) rows written into a table truncated in
-- the same transaction need no WAL. Readers of the lists wait for the commit: the steps after this one,
-- a few seconds — on a first run also what is left of the payments' rebuild beside (city: up to 5 s seen).
TRUNCATE ind_person_now;
-- and its indexes built once after the insert, not maintained row by row (migration 0041): 7.8 s → 4.8 s
CREATE TEMP TABLE f_person_now_indexes ON COMMIT DROP AS SELECT * FROM indexes_set_aside('ind_person_now');

-- step: person now
INSERT INTO ind_person_now (as_of, id_number, region_code, region_path, district_code, town_code, recipient, aged80, living_outside,
  community_managed, insured, reaching_retirement, cert_valid, certified, certified_silent, field_task_open, cert_expired,
  suspended_not_certified, weak_only, hardship, eligible_not_receiving, recipient_from, recipient_until, turns80, outside, list_order,
  recipient_from_month, recipient_until_month, turns80_month, field_task_since, cert_valid_until, suspended_since, retirement_month)
SELECT f.as_of, f.id_number, f.region_code, f.region_path, f.district_code, f.town_code, f.recipient, f.aged80, f.living_outside,
  f.community_managed, f.insured, f.reaching_retirement, f.cert_valid, f.certified, f.certified_silent, f.field_task_open, f.cert_expired,
  f.suspended_not_certified, f.weak_only, f.hardship, f.eligible_not_receiving, f.recipient_from, f.recipient_until, f.turns80, f.outside,
  -- the lists' stable order without a personal member (see migration 0013)
  row_number() OVER (ORDER BY f.region_path, f.birth_date, f.id_number),
  -- the months the lists filter on, as the people_now cube compares them ('YYYY-MM')
  to_char(f.recipient_from, 'YYYY-MM'), to_char(f.recipient_until, 'YYYY-MM'), to_char(f.turns80, 'YYYY-MM'),
  f.field_task_since, f.cert_valid_until, f.suspended_since, f.retirement_month
  FROM f_now_person f;

-- step: person now indexes
SELECT indexes_put_back('ind_person_now', constraint_name, definition) FROM f_person_now_indexes;

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


-- The monthly facts come last: they read ind_pay_month, which the payments' refresh beside this
-- transaction has committed by now (jobs/indicator-facts.ts waits for it before this step).
-- step: payments by month
CREATE TEMP TABLE f_pay ON COMMIT DROP AS
SELECT period, region_code, payout_amount, pension_payout, pension_people_paid, payments_paid, payments_failed
  FROM ind_pay_month
 WHERE period BETWEEN (SELECT first_period FROM f_window) AND (SELECT last_period FROM f_window);
ANALYZE f_pay;

-- step: other flows by month
-- The flows counted beside this transaction (indicator-flows.sql, handed over in ind_flow_month under this
-- run's key, then deleted with this transaction's commit), the exits (spans ending in the month) counted
-- here, and the subsidy payout per month and region: the project facts' sums.
CREATE TEMP TABLE f_flow ON COMMIT DROP AS
WITH exits AS (
  SELECT x.last_month AS period, COALESCE(fp.region_code, '') AS region_code, count(*) AS exits
    FROM f_span x LEFT JOIN f_person fp USING (id_number)
   WHERE x.last_month <> 'infinity'
   GROUP BY 1, 2
), subsidy AS (
  SELECT period, region_code, sum(payout) AS amount FROM ind_project_month GROUP BY 1, 2
), by_region AS (
  SELECT * FROM ind_flow_month WHERE run_key = :run_key::uuid
)
SELECT g.period, g.region_code,
       COALESCE(f.new_retirees, 0)::bigint AS new_retirees, COALESCE(x.exits, 0)::bigint AS exits,
       COALESCE(f.face_certified, 0)::bigint AS face_certified,
       COALESCE(f.deaths_recorded, 0)::bigint AS deaths_recorded, COALESCE(f.deaths_timely, 0)::bigint AS deaths_timely,
       COALESCE(f.recovered_amount, 0) AS recovered_amount, COALESCE(f.alerts_closed, 0)::bigint AS alerts_closed,
       COALESCE(f.alert_days_sum, 0) AS alert_days_sum,
       COALESCE(subsidy.amount, 0) AS subsidy_payout, COALESCE(f.subsidy_new_people, 0)::bigint AS subsidy_new_people,
       (sum(COALESCE(f.checkup_first_people, 0)) OVER (PARTITION BY g.region_code, date_trunc('year', g.period) ORDER BY g.period))::bigint AS checkup_ytd_people,
       COALESCE(f.checkup_bookings, 0)::bigint AS checkup_bookings, COALESCE(f.checkup_results, 0)::bigint AS checkup_results,
       COALESCE(f.checkup_abnormal, 0)::bigint AS checkup_abnormal,
       COALESCE(f.signups, 0)::bigint AS signups, COALESCE(f.satisfaction_sum, 0) AS satisfaction_sum,
       COALESCE(f.satisfaction_n, 0)::bigint AS satisfaction_n,
       COALESCE(f.records_withdrawn, 0)::bigint AS records_withdrawn, COALESCE(f.restorations, 0)::bigint AS restorations
  FROM f_grid g
  LEFT JOIN by_region f USING (period, region_code)
  LEFT JOIN exits x USING (period, region_code)
  LEFT JOIN subsidy USING (period, region_code);
DELETE FROM ind_flow_month WHERE run_key = :run_key::uuid;

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
