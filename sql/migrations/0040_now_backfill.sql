-- Up Migration
-- 0040 "now" snapshots at past month-ends (issue 18.11). A fresh demo city has one "now" snapshot (its
-- start), so the "now" indicators' sparklines have one point. The demo start backfills the month-ends
-- before it by running the indicator-facts job as of each (jobs/now-backfill.ts). Only the columns the
-- job computes from dated data are kept: recipients (enrollment spans), reaching_retirement (P07,
-- retirement months), hardship (S03, its since/until). The others read today's state whatever the as-of
-- date — certification status and its current lapse (C01–C07), subsidy matches (S05), the registry's
-- current status (insured: the support ratio), alerts raised by engine runs that only ran today
-- (R01–R04, R06, R08: zero before) — so a backfilled month holds NULL there ("not known"), never a figure
-- the system did not see. ind_now_backfill records the months done (a start that stopped half-way
-- redoes the rest).
ALTER TABLE ind_region_now
  ALTER COLUMN insured DROP NOT NULL,
  ALTER COLUMN cert_valid DROP NOT NULL,
  ALTER COLUMN certified DROP NOT NULL,
  ALTER COLUMN certified_silent DROP NOT NULL,
  ALTER COLUMN field_tasks_open DROP NOT NULL,
  ALTER COLUMN cert_expired DROP NOT NULL,
  ALTER COLUMN suspended_not_certified DROP NOT NULL,
  ALTER COLUMN weak_only DROP NOT NULL,
  ALTER COLUMN alerts_after_death DROP NOT NULL,
  ALTER COLUMN alerts_custody DROP NOT NULL,
  ALTER COLUMN alerts_double DROP NOT NULL,
  ALTER COLUMN alerts_abnormal DROP NOT NULL,
  ALTER COLUMN amount_at_risk DROP NOT NULL,
  ALTER COLUMN recovered_to_date DROP NOT NULL,
  ALTER COLUMN amount_due DROP NOT NULL,
  ALTER COLUMN eligible_not_receiving DROP NOT NULL;

CREATE TABLE ind_now_backfill (
  period  date PRIMARY KEY,
  as_of   date NOT NULL,
  done_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS ind_now_backfill;
DELETE FROM ind_region_now WHERE insured IS NULL OR alerts_after_death IS NULL OR cert_valid IS NULL;
ALTER TABLE ind_region_now
  ALTER COLUMN insured SET NOT NULL,
  ALTER COLUMN cert_valid SET NOT NULL,
  ALTER COLUMN certified SET NOT NULL,
  ALTER COLUMN certified_silent SET NOT NULL,
  ALTER COLUMN field_tasks_open SET NOT NULL,
  ALTER COLUMN cert_expired SET NOT NULL,
  ALTER COLUMN suspended_not_certified SET NOT NULL,
  ALTER COLUMN weak_only SET NOT NULL,
  ALTER COLUMN alerts_after_death SET NOT NULL,
  ALTER COLUMN alerts_custody SET NOT NULL,
  ALTER COLUMN alerts_double SET NOT NULL,
  ALTER COLUMN alerts_abnormal SET NOT NULL,
  ALTER COLUMN amount_at_risk SET NOT NULL,
  ALTER COLUMN recovered_to_date SET NOT NULL,
  ALTER COLUMN amount_due SET NOT NULL,
  ALTER COLUMN eligible_not_receiving SET NOT NULL;
