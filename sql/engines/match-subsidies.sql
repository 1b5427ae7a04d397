-- name: match-subsidies
-- params: as_of, as_of_end, full, as_of_month, receiving_lookback_months, run_id
-- purpose: policy finds people (政策找人). Per subsidy project of ref_subsidy_projects, eligibility of
--   every living person from the registry, hardship and evidence data, with the facts that decided it;
--   "receiving" = a payout of the project for a period in the last :receiving_lookback_months months
--   before the as-of month (the last payment run) or the as-of month itself. Writes subsidy_matches
--   (eligible_receiving / eligible_not_receiving / receiving_not_eligible) and the payout list of the
--   as-of month (subsidy_payout_list). Eligibility keys understood (rules.json-style, in the
--   catalogue's eligibility jsonb; every key present must hold): min_age; hardship_kinds (+ optional
--   disability_levels); min_age_with_disability / min_age_living_alone (either suffices);
--   admission_within_days (a hospital_admission within that many days, per event).

-- step: people
CREATE TEMP TABLE s_person ON COMMIT DROP AS
WITH d AS (
  SELECT id_number, min(death_date) AS death_date FROM deaths_as_of(:as_of_end::timestamptz)
   WHERE NOT withdrawn AND death_date <= :as_of::date AND (recorded_at IS NULL OR recorded_at < :as_of_end::timestamptz)
   GROUP BY id_number
), c AS (
  SELECT id_number, min(start_date) AS custody_start FROM imprisonments_as_of(:as_of_end::timestamptz)
   WHERE NOT withdrawn AND start_date <= :as_of::date AND (end_date IS NULL OR end_date > :as_of::date)
     AND (recorded_at IS NULL OR recorded_at < :as_of_end::timestamptz)
   GROUP BY id_number
), h AS (
  SELECT id_number, array_agg(DISTINCT kind) AS kinds,
         array_agg(DISTINCT level) FILTER (WHERE kind = 'disability' AND level IS NOT NULL) AS levels,
         jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', kind, 'level', NULLIF(level, ''), 'since', since, 'until', until)) ORDER BY kind, since) AS facts
    FROM hardship WHERE since <= :as_of::date AND (until IS NULL OR until >= :as_of::date)
   GROUP BY id_number
), hx AS (
  SELECT id_number, jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', kind, 'level', NULLIF(level, ''), 'since', since, 'until', until)) ORDER BY until DESC) AS facts
    FROM hardship WHERE until < :as_of::date
   GROUP BY id_number
)
SELECT pe.id_number, pe.birth_date, date_part('year', age(:as_of::date, pe.birth_date))::int AS age,
       COALESCE(pe.residence_region, pe.hukou_region) AS region_code,
       d.death_date, c.custody_start,
       COALESCE(h.kinds, '{}') AS hardship_kinds, COALESCE(h.levels, '{}') AS disability_levels, h.facts AS hardship_facts,
       hx.facts AS ended_hardship
  FROM persons pe
  LEFT JOIN d USING (id_number)
  LEFT JOIN c USING (id_number)
  LEFT JOIN h USING (id_number)
  LEFT JOIN hx USING (id_number)
 WHERE :full::boolean OR pe.id_number IN (SELECT id_number FROM engine_scope);
CREATE UNIQUE INDEX ON s_person (id_number);
ANALYZE s_person;

-- step: receiving
CREATE TEMP TABLE s_recv ON COMMIT DROP AS
SELECT s.project_code, s.id_number, max(s.period) AS last_period
  FROM subsidies s
 WHERE s.period >= (:as_of_month::date - make_interval(months => :receiving_lookback_months::int))::date
   AND s.period <= :as_of_month::date
   AND (:full::boolean OR s.id_number IN (SELECT id_number FROM engine_scope))
 GROUP BY s.project_code, s.id_number;
CREATE UNIQUE INDEX ON s_recv (project_code, id_number);
ANALYZE s_recv;

-- step: evaluate
-- Every (project, person) that is eligible or receiving, with each condition's outcome.
CREATE TEMP TABLE s_eval ON COMMIT DROP AS
WITH pr AS (SELECT project_code, per, amount, eligibility AS e FROM ref_subsidy_projects)
SELECT pr.project_code, pr.per, pr.amount, pr.e, p.*, r.last_period,
       (r.id_number IS NOT NULL) AS receiving,
       (p.death_date IS NULL AND p.custody_start IS NULL) AS alive_free,
       (NOT pr.e ? 'min_age' OR p.age >= (pr.e->>'min_age')::int) AS ok_age,
       (NOT pr.e ? 'hardship_kinds' OR EXISTS (
          SELECT 1 FROM hardship hs WHERE hs.id_number = p.id_number AND hs.since <= :as_of::date AND (hs.until IS NULL OR hs.until >= :as_of::date)
             AND hs.kind IN (SELECT jsonb_array_elements_text(pr.e->'hardship_kinds'))
             AND (NOT pr.e ? 'disability_levels' OR hs.kind <> 'disability' OR hs.level IN (SELECT jsonb_array_elements_text(pr.e->'disability_levels'))))) AS ok_hardship,
       (NOT (pr.e ? 'min_age_with_disability' OR pr.e ? 'min_age_living_alone')
        OR (pr.e ? 'min_age_with_disability' AND p.age >= (pr.e->>'min_age_with_disability')::int AND 'disability' = ANY (p.hardship_kinds))
        OR (pr.e ? 'min_age_living_alone' AND p.age >= (pr.e->>'min_age_living_alone')::int AND r.id_number IS NOT NULL)) AS ok_care,
       (pr.e ? 'min_age_living_alone' AND p.age >= (pr.e->>'min_age_living_alone')::int AND r.id_number IS NOT NULL
        AND NOT (pr.e ? 'min_age_with_disability' AND p.age >= (pr.e->>'min_age_with_disability')::int AND 'disability' = ANY (p.hardship_kinds))) AS living_alone_declared
  FROM pr CROSS JOIN s_person p
  LEFT JOIN s_recv r ON r.project_code = pr.project_code AND r.id_number = p.id_number
 WHERE r.id_number IS NOT NULL
    OR (p.death_date IS NULL AND p.custody_start IS NULL
        AND (NOT pr.e ? 'min_age' OR p.age >= (pr.e->>'min_age')::int)
        AND (NOT pr.e ? 'hardship_kinds' OR cardinality(p.hardship_kinds) > 0)
        AND (NOT (pr.e ? 'min_age_with_disability' OR pr.e ? 'min_age_living_alone')
             OR (pr.e ? 'min_age_with_disability' AND p.age >= (pr.e->>'min_age_with_disability')::int AND 'disability' = ANY (p.hardship_kinds))));

-- step: admissions
-- Per-event projects: the qualifying hospital admissions (within the window before :as_of) of people
-- who meet the project's other conditions.
CREATE TEMP TABLE s_adm ON COMMIT DROP AS
SELECT e.project_code, e.id_number, ev.evidence_id, (ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS admitted_on,
       EXISTS (SELECT 1 FROM subsidies s WHERE s.id_number = e.id_number AND s.project_code = e.project_code
                  AND s.period >= date_trunc('month', ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date) AS paid
  FROM s_eval e
  JOIN evidence ev ON ev.id_number = e.id_number AND ev.kind = 'hospital_admission'
                  AND ev.occurred_at >= (:as_of::date - (e.e->>'admission_within_days')::int)::timestamptz
                  AND ev.occurred_at < :as_of_end::timestamptz
 WHERE e.e ? 'admission_within_days' AND e.alive_free AND e.ok_age AND e.ok_hardship AND e.ok_care;

-- step: clear matches
DELETE FROM subsidy_matches WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope);

-- step: matches
INSERT INTO subsidy_matches (project_code, id_number, eligible, receiving, category, facts, amount, last_payout_period, region_code, as_of, run_id)
SELECT project_code, id_number, eligible, receiving,
       CASE WHEN eligible AND receiving THEN 'eligible_receiving' WHEN eligible THEN 'eligible_not_receiving' ELSE 'receiving_not_eligible' END,
       jsonb_strip_nulls(jsonb_build_object(
         'age', age, 'birth_date', birth_date,
         'hardship', hardship_facts,
         'admissions', adm,
         'living_alone', CASE WHEN living_alone_declared THEN 'declared (already receiving; not in any feed)' END,
         'last_payout_period', last_period,
         'not_eligible_because', CASE WHEN NOT eligible THEN to_jsonb(array_remove(ARRAY[
             CASE WHEN death_date IS NOT NULL THEN 'died ' || death_date::text END,
             CASE WHEN custody_start IS NOT NULL THEN 'in custody since ' || custody_start::text END,
             CASE WHEN NOT ok_age THEN 'age ' || age || ' below ' || (e->>'min_age') END,
             CASE WHEN NOT ok_hardship THEN 'no active hardship of kind ' || (e->'hardship_kinds')::text
                  || CASE WHEN e ? 'disability_levels' THEN ' (disability grade ' || (e->'disability_levels')::text || ')' ELSE '' END
                  || CASE WHEN ended_hardship IS NOT NULL THEN '; ended: ' || ended_hardship::text ELSE '' END END,
             CASE WHEN NOT ok_care THEN 'neither ' || (e->>'min_age_with_disability') || '+ with a disability nor ' || (e->>'min_age_living_alone') || '+ living alone' END,
             CASE WHEN e ? 'admission_within_days' AND adm IS NULL THEN 'no hospital admission in the last ' || (e->>'admission_within_days') || ' days' END
           ], NULL)) END)),
       CASE WHEN eligible THEN amount END, last_period, region_code, :as_of::date, :run_id::bigint
  FROM (
    SELECT v.*, a.adm,
           (v.alive_free AND v.ok_age AND v.ok_hardship AND v.ok_care AND (NOT v.e ? 'admission_within_days' OR a.adm IS NOT NULL)) AS eligible
      FROM s_eval v
      -- grouped once and joined: a LATERAL subquery scanned every admission for every (project, person) —
      -- quadratic (city 2.5 s, 3× city 23 s; issue 22)
      LEFT JOIN (SELECT x.project_code, x.id_number,
                        jsonb_agg(jsonb_build_object('evidence_id', x.evidence_id, 'admitted_on', x.admitted_on, 'paid', x.paid) ORDER BY x.admitted_on) AS adm
                   FROM s_adm x GROUP BY x.project_code, x.id_number) a ON a.project_code = v.project_code AND a.id_number = v.id_number
  ) z
 WHERE eligible OR receiving;

-- step: clear payout list
DELETE FROM subsidy_payout_list
 WHERE period = :as_of_month::date AND (:full::boolean OR id_number IN (SELECT id_number FROM engine_scope));

-- step: payout list
-- Monthly projects: every eligible person; per-event projects: each qualifying admission not yet paid.
INSERT INTO subsidy_payout_list (project_code, period, id_number, event_key, amount, facts, region_code, as_of, run_id)
SELECT m.project_code, :as_of_month::date, m.id_number, '', m.amount, m.facts, m.region_code, :as_of::date, :run_id::bigint
  FROM subsidy_matches m JOIN ref_subsidy_projects p USING (project_code)
 WHERE p.per = 'month' AND m.eligible AND (:full::boolean OR m.id_number IN (SELECT id_number FROM engine_scope))
UNION ALL
SELECT a.project_code, :as_of_month::date, a.id_number, a.evidence_id, p.amount,
       jsonb_build_object('evidence_id', a.evidence_id, 'admitted_on', a.admitted_on), pe.region_code, :as_of::date, :run_id::bigint
  FROM s_adm a JOIN ref_subsidy_projects p USING (project_code) JOIN s_person pe USING (id_number)
 WHERE p.per = 'event' AND NOT a.paid;

-- step: summary
SELECT project_code, category, count(*) AS people FROM subsidy_matches GROUP BY 1, 2 ORDER BY 1, 2;
