-- Up Migration
-- 0036 the payments by month and region of the indicator facts, kept between runs (issue 22). Reading all
-- 11.9 M payments of the city on every run (grouped per person and month: 10 M groups) was the largest
-- step of indicator-facts. sql/engines/indicator-facts.sql now keeps the sums here and recomputes only
-- the months that received payment rows since its last run (ingest writes a corrected payment as a new
-- row of the same period, with a new loaded_at), and moves the payments of people whose region changed
-- from the old region to the new one. A run rebuilds everything when the cache is empty or the scheme
-- catalogue (which schemes are pensions) differs from the one it was built with.
-- (0034–0035 are taken by work landing beside this one.)

-- paid and failed payments per month and region (the person's region as in ind_pay_person), every period
-- of payments (not only up to a run's as-of date: one cache serves runs as of any date)
CREATE TABLE ind_pay_month (
  period              date          NOT NULL,
  region_code         text          NOT NULL,
  payout_amount       numeric(16,2) NOT NULL,
  pension_payout      numeric(16,2) NOT NULL,
  pension_people_paid bigint        NOT NULL,
  payments_paid       bigint        NOT NULL,
  payments_failed     bigint        NOT NULL,
  PRIMARY KEY (period, region_code)
);

-- the region each person's payments were counted in ('' = unknown, not stored)
CREATE TABLE ind_pay_person (
  id_number   text PRIMARY KEY,
  region_code text NOT NULL CHECK (region_code <> '')
);

-- one row: the scheme catalogue the cache was built with, and the instant before which every payment row
-- the last run could not see was written (the earliest start of a transaction open during that run)
CREATE TABLE ind_pay_basis (
  one           boolean     PRIMARY KEY DEFAULT true CHECK (one),
  schemes       text        NOT NULL,
  loaded_before timestamptz NOT NULL
);

-- Down Migration
DROP TABLE IF EXISTS ind_pay_basis, ind_pay_person, ind_pay_month;
