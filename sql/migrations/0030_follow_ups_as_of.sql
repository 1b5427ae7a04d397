-- Up Migration
-- 0030 certification follow-ups that replay (issue 20, point 6). Running the engines at several
-- month-ends and then at D must leave the state of one run at D, and a run for an earlier date after
-- a later one must neither close what the later run opened nor count it. Like the alerts (0017), a task
-- now carries the as-of date of the engine run that opened it (opened_as_of; a task a person or a
-- service opens counts as of the day it is opened) and, when an engine run closed it, that run's as-of
-- date (closed_as_of; NULL while open and when a person closed it: done_at and result say when and
-- how). cert_status says on which day the current lapse began (lapsed_on, for people not certified:
-- the day after the last validity, or the benefit's start for someone never certified), so the "now"
-- facts read the follow-ups of the current lapse only (docs/rules.md, silent certification, rule 5).
-- Existing rows: opened_as_of = the as-of of the recorded run (job_runs.as_of), else the Asia/Shanghai
-- date of created_at; closed_as_of = the date of done_at for the tasks certify closed; lapsed_on from
-- last_valid_until, else the earliest start of the person's benefit (the next certify run rewrites it).
ALTER TABLE tasks ADD COLUMN opened_as_of date, ADD COLUMN closed_as_of date;

UPDATE tasks t
   SET opened_as_of = COALESCE((SELECT j.as_of FROM job_runs j WHERE j.run_id = t.run_id LIMIT 1),
                               (t.created_at AT TIME ZONE 'Asia/Shanghai')::date),
       closed_as_of = CASE WHEN t.status <> 'open' AND t.result ->> 'closed_by' = 'certify'
                           THEN (COALESCE(t.done_at, t.created_at) AT TIME ZONE 'Asia/Shanghai')::date END;

ALTER TABLE tasks
  ALTER COLUMN opened_as_of SET DEFAULT (now() AT TIME ZONE 'Asia/Shanghai')::date,
  ALTER COLUMN opened_as_of SET NOT NULL,
  ADD CONSTRAINT tasks_closed_as_of_closed CHECK (closed_as_of IS NULL OR status <> 'open');

ALTER TABLE cert_status ADD COLUMN lapsed_on date;
UPDATE cert_status s
   SET lapsed_on = COALESCE(s.last_valid_until + 1,
                            (SELECT min(e.start_period) FROM enrollments e WHERE e.id_number = s.id_number))
 WHERE s.status = 'not_certified';

-- Down Migration
ALTER TABLE cert_status DROP COLUMN IF EXISTS lapsed_on;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_closed_as_of_closed;
ALTER TABLE tasks DROP COLUMN IF EXISTS closed_as_of, DROP COLUMN IF EXISTS opened_as_of;
