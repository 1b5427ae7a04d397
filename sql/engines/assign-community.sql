-- name: assign-community
-- params: as_of, as_of_end, new_retiree_months, full, report_in_days, run_id
-- purpose: every retiree belongs to one community: the residence community when the registry gives one
--   that is a known community, else the hukou community. New retirees (retired within
--   :new_retiree_months months) get a report-in record (report_in_due) and a report-in task for that
--   community; a retiree whose community changed is reassigned (old assignment ended, new one with a
--   report-in record and task).

-- step: targets
CREATE TEMP TABLE a_target ON COMMIT DROP AS
SELECT pe.id_number, pe.retired_on,
       CASE WHEN rr.code IS NOT NULL THEN pe.residence_region ELSE pe.hukou_region END AS community_code,
       CASE WHEN rr.code IS NOT NULL THEN 'residence' ELSE 'hukou' END AS basis,
       (pe.retired_on IS NOT NULL AND pe.retired_on >= (:as_of::date - make_interval(months => :new_retiree_months::int))::date) AS is_new
  FROM persons pe
  LEFT JOIN regions rr ON rr.code = pe.residence_region AND rr.level = 'community'
 WHERE pe.status = 'retired'
   AND (:full::boolean OR pe.id_number IN (SELECT id_number FROM engine_scope))
   AND NOT EXISTS (SELECT 1 FROM deaths_as_of(:as_of_end::timestamptz) d
                    WHERE d.id_number = pe.id_number AND NOT d.withdrawn AND d.death_date <= :as_of::date);
CREATE UNIQUE INDEX ON a_target (id_number);
ANALYZE a_target;

-- step: moved
UPDATE community_assignments c
   SET ended_on = :as_of::date, end_reason = 'moved to ' || t.community_code || ' (' || t.basis || ')'
  FROM a_target t
 WHERE c.id_number = t.id_number AND c.ended_on IS NULL AND c.community_code <> t.community_code;

-- step: to assign
-- Retirees without a current assignment (report-in due when new, or when they had one before), read
-- before community_assignments is written: an insert that probes its own table may be planned as a
-- nested loop over a scan of it, which re-reads every row the statement has added — quadratic on a
-- first run, when the table is empty (issue 22).
CREATE TEMP TABLE a_new ON COMMIT DROP AS
SELECT t.id_number, t.community_code, t.basis, t.retired_on,
       (t.is_new OR EXISTS (SELECT 1 FROM community_assignments o WHERE o.id_number = t.id_number)) AS report_in
  FROM a_target t
 WHERE NOT EXISTS (SELECT 1 FROM community_assignments c WHERE c.id_number = t.id_number AND c.ended_on IS NULL);

-- step: assign
INSERT INTO community_assignments (id_number, community_code, basis, retired_on, assigned_on, report_in_due, run_id)
SELECT t.id_number, t.community_code, t.basis, t.retired_on, :as_of::date,
       CASE WHEN t.report_in THEN :as_of::date + :report_in_days::int END,
       :run_id::bigint
  FROM a_new t;

-- step: report-in tasks
INSERT INTO tasks (kind, id_number, region_code, department, status, due_on, dedup_key, detail, created_by, run_id, opened_as_of)
SELECT 'report_in', c.id_number, c.community_code, 'community', 'open', c.report_in_due, 'assign:' || c.assignment_id,
       jsonb_build_object('basis', c.basis, 'retired_on', c.retired_on, 'assignment_id', c.assignment_id), 'assign-community', :run_id::bigint, :as_of::date
  FROM community_assignments c
 WHERE c.ended_on IS NULL AND c.report_in_due IS NOT NULL AND c.reported_in_at IS NULL AND c.run_id = :run_id::bigint
ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING;
