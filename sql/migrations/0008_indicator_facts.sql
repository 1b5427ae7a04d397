-- Up Migration
-- 0008 indicator facts: the additive parts of the 41 governance indicators per month and region
-- (the person's community), rebuilt by the `indicator-facts` job from the feeds and the engines'
-- outputs (sql/engines/indicator-facts.sql). The Cube model (semantic-layer/model) defines each
-- indicator as a sum or a ratio of sums over these columns, so ratios are computed from their parts
-- at every level. region_path ('/city/district/town/community/') serves breakdowns and scoping;
-- rows of people with no known region have region_code '' and no path (visible city-wide only).

-- Flows and month-reconstructible stocks: rebuilt for every month with data.
CREATE TABLE ind_region_month (
  period        date    NOT NULL,
  region_code   text    NOT NULL,
  region_path   text,
  district_code text,
  town_code     text,
  -- P: people
  recipients          bigint NOT NULL DEFAULT 0,   -- active exclusive-group pension enrollment in the month
  aged80              bigint NOT NULL DEFAULT 0,   -- of which aged 80+ at month end
  living_outside      bigint NOT NULL DEFAULT 0,   -- of which residence_outside set
  community_managed   bigint NOT NULL DEFAULT 0,   -- of which assigned to a community
  new_retirees        bigint NOT NULL DEFAULT 0,   -- retired_on in the month
  exits               bigint NOT NULL DEFAULT 0,   -- last pension enrollment ended in the month
  -- A: payments
  payout_amount       numeric(16,2) NOT NULL DEFAULT 0,  -- paid, all schemes
  pension_payout      numeric(16,2) NOT NULL DEFAULT 0,  -- paid, exclusive-group schemes
  pension_people_paid bigint NOT NULL DEFAULT 0,
  payments_paid       bigint NOT NULL DEFAULT 0,
  payments_failed     bigint NOT NULL DEFAULT 0,         -- failed or returned
  -- C: explicit face certifications (people)
  face_certified      bigint NOT NULL DEFAULT 0,
  -- R: flows
  deaths_recorded     bigint NOT NULL DEFAULT 0,   -- death records that arrived in the month (recipients)
  deaths_timely       bigint NOT NULL DEFAULT 0,   -- of which benefit stopped before the next payment run
  recovered_amount    numeric(16,2) NOT NULL DEFAULT 0,
  alerts_closed       bigint NOT NULL DEFAULT 0,
  alert_days_sum      numeric(16,2) NOT NULL DEFAULT 0,
  -- S: subsidies
  subsidy_payout      numeric(16,2) NOT NULL DEFAULT 0,
  subsidy_new_people  bigint NOT NULL DEFAULT 0,   -- first-ever payout of a project in the month
  -- H: health and activities
  checkup_ytd_people  bigint NOT NULL DEFAULT 0,   -- attended a checkup this calendar year up to month end
  checkup_bookings    bigint NOT NULL DEFAULT 0,
  checkup_results     bigint NOT NULL DEFAULT 0,   -- attended with a normal/abnormal result
  checkup_abnormal    bigint NOT NULL DEFAULT 0,
  signups             bigint NOT NULL DEFAULT 0,
  satisfaction_sum    bigint NOT NULL DEFAULT 0,
  satisfaction_n      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (period, region_code)
);
CREATE INDEX ind_region_month_path ON ind_region_month (region_path text_pattern_ops, period);

-- Subsidy payout per project (S01 by project, S02 shares).
CREATE TABLE ind_project_month (
  period       date NOT NULL,
  region_code  text NOT NULL,
  region_path  text,
  project_code text NOT NULL,
  payout       numeric(16,2) NOT NULL DEFAULT 0,
  payouts      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (period, region_code, project_code)
);
CREATE INDEX ind_project_month_path ON ind_project_month (region_path text_pattern_ops, period);

-- State "now" (as of the run): snapshot for the as-of month, kept across runs so history accrues.
CREATE TABLE ind_region_now (
  period            date NOT NULL,
  region_code       text NOT NULL,
  region_path       text,
  district_code     text,
  town_code         text,
  as_of             date NOT NULL,
  recipients        bigint NOT NULL DEFAULT 0,
  insured           bigint NOT NULL DEFAULT 0,
  reaching_retirement bigint NOT NULL DEFAULT 0,   -- P07
  cert_valid        bigint NOT NULL DEFAULT 0,     -- C01 numerator
  certified         bigint NOT NULL DEFAULT 0,     -- C02 denominator
  certified_silent  bigint NOT NULL DEFAULT 0,
  field_tasks_open  bigint NOT NULL DEFAULT 0,     -- C04
  cert_expired      bigint NOT NULL DEFAULT 0,     -- C05
  suspended_not_certified bigint NOT NULL DEFAULT 0, -- C06
  weak_only         bigint NOT NULL DEFAULT 0,     -- C07
  alerts_after_death bigint NOT NULL DEFAULT 0,    -- R01
  alerts_custody    bigint NOT NULL DEFAULT 0,     -- R02
  alerts_double     bigint NOT NULL DEFAULT 0,     -- R03
  alerts_abnormal   bigint NOT NULL DEFAULT 0,     -- R04
  amount_at_risk    numeric(16,2) NOT NULL DEFAULT 0, -- R06
  recovered_to_date numeric(16,2) NOT NULL DEFAULT 0, -- R08 numerator
  amount_due        numeric(16,2) NOT NULL DEFAULT 0, -- R08 denominator
  hardship          bigint NOT NULL DEFAULT 0,     -- S03
  eligible_not_receiving bigint NOT NULL DEFAULT 0, -- S05
  PRIMARY KEY (period, region_code)
);
CREATE INDEX ind_region_now_path ON ind_region_now (region_path text_pattern_ops, period);

-- The people behind the "now" counts, as of the last run (drill-down lists; replaced each run).
CREATE TABLE ind_person_now (
  as_of          date NOT NULL,
  id_number      text PRIMARY KEY,
  region_code    text NOT NULL,
  region_path    text,
  district_code  text,
  town_code      text,
  recipient      boolean NOT NULL,
  aged80         boolean NOT NULL,
  living_outside boolean NOT NULL,
  community_managed boolean NOT NULL,
  insured        boolean NOT NULL,
  reaching_retirement boolean NOT NULL,
  cert_valid     boolean NOT NULL,
  certified      boolean NOT NULL,
  certified_silent boolean NOT NULL,
  field_task_open boolean NOT NULL,
  cert_expired   boolean NOT NULL,
  suspended_not_certified boolean NOT NULL,
  weak_only      boolean NOT NULL,
  hardship       boolean NOT NULL,
  eligible_not_receiving boolean NOT NULL
);
CREATE INDEX ind_person_now_path ON ind_person_now (region_path text_pattern_ops);

-- Fund ledger per scheme with the trailing-12-month mean expenditure (A06 payment capacity).
CREATE VIEW fund_capacity AS
SELECT period, scheme_code, income, expenditure, balance,
       avg(expenditure) OVER (PARTITION BY scheme_code ORDER BY period ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS mean_expenditure_12m
  FROM fund_ledger;

-- Down Migration
DROP VIEW IF EXISTS fund_capacity;
DROP TABLE IF EXISTS ind_person_now, ind_region_now, ind_project_month, ind_region_month;
