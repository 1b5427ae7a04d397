-- Up Migration
-- 0042 the flows of the indicator facts (retirements, certifications, deaths recorded, withdrawals,
-- restorations, recoveries, closed alerts, new subsidy recipients, checkups, activities: a count or sum
-- per month and region), handed from the connection that computes them to the facts' transaction (issue
-- 22). sql/engines/indicator-flows.sql computes them on the second connection, after the payments'
-- refresh, while the facts' transaction works on the people (the city's first run: 4 s taken off the
-- 28–32 s of the facts' own transaction). Rows are the hand-over of one run (run_key): the facts'
-- transaction reads its run's rows and deletes them when it commits; rows of a run that failed are
-- removed by a later run after a day. UNLOGGED: nothing here outlives a run that would need it after a crash.
CREATE UNLOGGED TABLE ind_flow_month (
  run_key              uuid          NOT NULL,
  made_at              timestamptz   NOT NULL DEFAULT now(),
  period               date          NOT NULL,
  region_code          text          NOT NULL,
  new_retirees         numeric,
  face_certified       numeric,
  deaths_recorded      numeric,
  deaths_timely        numeric,
  records_withdrawn    numeric,
  restorations         numeric,
  recovered_amount     numeric,
  alerts_closed        numeric,
  alert_days_sum       numeric,
  subsidy_new_people   numeric,
  checkup_first_people numeric,
  checkup_bookings     numeric,
  checkup_results      numeric,
  checkup_abnormal     numeric,
  signups              numeric,
  satisfaction_sum     numeric,
  satisfaction_n       numeric,
  PRIMARY KEY (run_key, period, region_code)
);

-- The first month of the indicator facts' window as of a date: the first month with a payment, or the
-- as-of month if earlier. One definition for the facts' transaction (f_window) and the flows beside it:
-- what the payments cache (ind_pay_month) held at its last refresh, and the earliest month of the payments
-- loaded since (none after a refresh; all of them when it was never built). A month only ever joins the
-- payments (a replaced payment's successor keeps its period), so read later this is never later.
CREATE FUNCTION ind_first_period(as_of date) RETURNS date LANGUAGE sql STABLE AS $$
SELECT LEAST(COALESCE((SELECT min(period) FROM ind_pay_month WHERE payments_paid + payments_failed > 0), 'infinity'::date),
             COALESCE(CASE WHEN EXISTS (SELECT 1 FROM ind_pay_basis)
                           THEN (SELECT min(p.period) FROM payments p WHERE p.loaded_at >= (SELECT loaded_before FROM ind_pay_basis))
                           -- never built: the first month of every payment, bounded by a month some payment has so that
                           -- the BRIN index on period skips the block ranges of later months (payments arrive month by
                           -- month; a full scan of the city's 11.9 M rows was 4 s of a first run)
                           ELSE (SELECT min(p.period) FROM payments p
                                  WHERE p.period <= (SELECT min(x.period) FROM (SELECT period FROM payments LIMIT 1000) x)) END,
                      'infinity'::date),
             date_trunc('month', as_of)::date)
$$;

-- Down Migration
DROP FUNCTION IF EXISTS ind_first_period(date);
DROP TABLE IF EXISTS ind_flow_month;
