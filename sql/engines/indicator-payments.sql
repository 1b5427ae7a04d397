-- name: indicator-payments
-- params:
-- purpose: the payments by month and region that the indicator facts read (ind_pay_month, migration 0036),
--   kept between runs. jobs/indicator-facts.ts runs this file in a transaction of its own on a second
--   connection, beside the facts' transaction: on a first run it reads every payment (the city: 11.9 M)
--   while the facts' other steps run on the other core, and the facts read ind_pay_month only after it
--   committed (issue 22). A person's region is person_regions' (migration 0007), '' when unknown.

-- step: payments lock
-- two refreshes at once (two facts runs, or a run beside the demo's backfill) would both apply the same
-- moves and months: one at a time
SELECT pg_advisory_xact_lock(hashtext('yinling:indicator-payments'));

-- step: payment regions
-- the area each person is counted in ('' when unknown: person_regions.area_code, migration 0043)
CREATE TEMP TABLE f_pay_region ON COMMIT DROP AS
SELECT id_number, area_code AS region_code FROM person_regions;
CREATE UNIQUE INDEX ON f_pay_region (id_number);
ANALYZE f_pay_region;

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
SELECT s.schemes, s.pensions, b.loaded_before AS since, (b.schemes IS DISTINCT FROM s.schemes) AS rebuild,
       LEAST(now(), (SELECT min(a.xact_start) FROM pg_stat_activity a WHERE a.xact_start IS NOT NULL)) AS loaded_before
  FROM (SELECT string_agg(scheme_code || '=' || COALESCE(exclusive_group, ''), ',' ORDER BY scheme_code) AS schemes,
               -- the pensions' schemes: a payment is tested against this array, not joined to the catalogue
               -- (a hash join of 11.9 M payments with four rows was 1–4 s of a rebuild)
               COALESCE(array_agg(scheme_code) FILTER (WHERE exclusive_group IS NOT NULL), '{}') AS pensions
          FROM ref_schemes) s
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
  FULL JOIN (SELECT id_number, region_code FROM f_pay_region WHERE region_code <> '') n ON n.id_number = o.id_number
 WHERE NOT (SELECT rebuild FROM f_pay_basis) AND o.region_code IS DISTINCT FROM n.region_code;
ANALYZE f_pay_moved;

-- step: forget payment months
DELETE FROM ind_pay_month WHERE (SELECT rebuild FROM f_pay_basis) OR period IN (SELECT period FROM f_pay_dirty);

-- step: move payments of the moved
INSERT INTO ind_pay_month AS t
WITH per_person AS (
  SELECT p.period, p.id_number,
         sum(p.amount) FILTER (WHERE p.status = 'paid') AS paid,
         sum(p.amount) FILTER (WHERE p.status = 'paid' AND p.scheme_code = ANY ((SELECT pensions FROM f_pay_basis)::text[])) AS pension,
         count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
         count(*) FILTER (WHERE p.status IN ('failed', 'returned')) AS n_failed
    FROM payments p
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
         COALESCE(sum(p.amount) FILTER (WHERE p.status = 'paid' AND p.scheme_code = ANY ((SELECT pensions FROM f_pay_basis)::text[])), 0) AS pension,
         count(*) FILTER (WHERE p.status = 'paid') AS n_paid,
         count(*) FILTER (WHERE p.status IN ('failed', 'returned')) AS n_failed
    FROM payments p
    LEFT JOIN f_pay_region fp ON fp.id_number = p.id_number
   WHERE (SELECT rebuild FROM f_pay_basis) OR p.period IN (SELECT period FROM f_pay_dirty)
   GROUP BY 1, 2
), pension_months AS (
  -- (the period is a date: as a timestamp without time zone its year and month need no time-zone
  -- arithmetic, which the implicit cast to timestamptz did for every payment)
  SELECT p.id_number, date_trunc('year', p.period::timestamp)::date AS year, bit_or(1 << (date_part('month', p.period)::int - 1)) AS mask
    FROM payments p
   WHERE p.status = 'paid' AND p.scheme_code = ANY ((SELECT pensions FROM f_pay_basis)::text[]) AND ((SELECT rebuild FROM f_pay_basis) OR p.period IN (SELECT period FROM f_pay_dirty))
   GROUP BY 1, 2
), patterns AS (
  SELECT pm.year, COALESCE(fp.region_code, '') AS region_code, pm.mask, count(*) AS n
    FROM pension_months pm LEFT JOIN f_pay_region fp ON fp.id_number = pm.id_number
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
-- on a rebuild every row is written again: emptied by TRUNCATE (a DELETE of a million rows left as much
-- for vacuum) and its key built once after the insert (migration 0041)
DO $$
BEGIN
  IF (SELECT rebuild FROM f_pay_basis) THEN
    TRUNCATE ind_pay_person;
    CREATE TEMP TABLE f_pay_person_indexes ON COMMIT DROP AS SELECT * FROM indexes_set_aside('ind_pay_person');
  END IF;
END $$;
DELETE FROM ind_pay_person WHERE NOT (SELECT rebuild FROM f_pay_basis) AND id_number IN (SELECT id_number FROM f_pay_moved);
INSERT INTO ind_pay_person (id_number, region_code)
SELECT id_number, region_code FROM f_pay_region
 WHERE region_code <> '' AND (SELECT rebuild FROM f_pay_basis)
UNION ALL
SELECT id_number, new_region FROM f_pay_moved WHERE new_region <> '';
DO $$
BEGIN
  IF (SELECT rebuild FROM f_pay_basis) THEN
    PERFORM indexes_put_back('ind_pay_person', constraint_name, definition) FROM f_pay_person_indexes;
  END IF;
END $$;
DELETE FROM ind_pay_basis;
INSERT INTO ind_pay_basis (schemes, loaded_before) SELECT schemes, loaded_before FROM f_pay_basis;
