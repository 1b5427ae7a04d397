-- name: remind-retirement
-- params: bases, full, as_of, run_id, milestones, horizon_months
-- purpose: statutory retirement month of every insured person under the 2025 gradual reform (the same
--   arithmetic as jobs/domain/retirement-age.ts, with the table from rules.json passed as :bases), into
--   retirements; and a reminder once per milestone (:milestones months before) for people retiring
--   within :horizon_months months, into retirement_reminders. Only the milestone in force on :as_of is
--   sent (a person first seen 5 months ahead gets the 6-month reminder, not a late 12-month one).

-- step: compute
CREATE TEMP TABLE t_ret ON COMMIT DROP AS
WITH b AS (
  SELECT key AS basis, (value->>'original_age_years')::int * 12 AS orig, (value->>'final_age_years')::int * 12 AS final,
         (value->>'step_birth_months')::int AS step,
         split_part(value->>'start_birth_month', '-', 1)::int * 12 + split_part(value->>'start_birth_month', '-', 2)::int - 1 AS start_idx
    FROM jsonb_each(:bases::jsonb)
), p AS (
  SELECT pe.id_number, COALESCE(pe.residence_region, pe.hukou_region) AS region_code,
         COALESCE(pe.retirement_basis, CASE WHEN pe.sex = 'M' THEN 'M60' END) AS basis,
         CASE WHEN pe.retirement_basis IS NOT NULL THEN 'registry' ELSE 'derived_from_sex' END AS basis_source,
         date_trunc('month', pe.birth_date)::date AS birth_month,
         (extract(year FROM pe.birth_date) * 12 + extract(month FROM pe.birth_date) - 1)::int AS bm_idx
    FROM persons pe
   WHERE pe.status = 'insured' AND (:full::boolean OR pe.id_number IN (SELECT id_number FROM engine_scope))
)
SELECT p.id_number, p.region_code, p.basis, p.basis_source, p.birth_month,
       b.orig + CASE WHEN p.bm_idx < b.start_idx THEN 0 ELSE LEAST((p.bm_idx - b.start_idx) / b.step + 1, b.final - b.orig) END AS age_months
  FROM p JOIN b USING (basis);

-- step: missing basis
-- Insured women without a retirement basis in the registry cannot be placed (F55 or F50): counted, not guessed.
SELECT count(*) AS n FROM persons pe
 WHERE pe.status = 'insured' AND pe.retirement_basis IS NULL AND pe.sex = 'F'
   AND (:full::boolean OR pe.id_number IN (SELECT id_number FROM engine_scope));

-- step: clear
DELETE FROM retirements WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope);

-- step: retirements
INSERT INTO retirements (id_number, basis, basis_source, birth_month, statutory_age_months, retirement_month, months_to_retirement, region_code, as_of, run_id)
SELECT id_number, basis, basis_source, birth_month, age_months, (birth_month + make_interval(months => age_months))::date,
       ((extract(year FROM birth_month) * 12 + extract(month FROM birth_month)) + age_months
         - (extract(year FROM :as_of::date) * 12 + extract(month FROM :as_of::date)))::int,
       region_code, :as_of::date, :run_id::bigint
  FROM t_ret;

-- step: reminders
INSERT INTO retirement_reminders (id_number, retirement_month, milestone_months, due_on, region_code, as_of, run_id)
SELECT r.id_number, r.retirement_month, m.milestone, (r.retirement_month - make_interval(months => m.milestone))::date, r.region_code, :as_of::date, :run_id::bigint
  FROM retirements r
  CROSS JOIN LATERAL (SELECT min(x) AS milestone FROM unnest(:milestones::int[]) x WHERE x >= r.months_to_retirement) m
 WHERE r.months_to_retirement BETWEEN 1 AND :horizon_months::int AND m.milestone IS NOT NULL
   AND (:full::boolean OR r.id_number IN (SELECT id_number FROM engine_scope))
ON CONFLICT (id_number, retirement_month, milestone_months) DO NOTHING;
