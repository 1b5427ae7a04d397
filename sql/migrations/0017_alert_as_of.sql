-- Up Migration
-- 0017 alerts know the date they were detected for. opened_at/updated_at are wall-clock times, so an
-- alert raised by `yinling run all --as-of 2026-11-01` on a later day looked opened after its as-of
-- and `export alerts --as-of 2026-11-01` left it out. Now each alert carries the as-of date of the
-- run that raised it (detected_as_of, with run_id) and of the run that last changed or closed it
-- (last_seen_as_of, with last_seen_run); detect-risk sets both from its as-of. Exports, indicator
-- facts and the semantic layer select alerts by them; opened_at stays the real time, for display.
-- Existing rows: the as-of of the recorded run (job_runs.as_of), else the Asia/Shanghai date of
-- opened_at / updated_at. An alert inserted outside an engine run counts as of the day it is inserted.
-- Plain ALTERs: alerts is an ordinary table on plain PostgreSQL and on TimescaleDB alike.
ALTER TABLE alerts ADD COLUMN detected_as_of date, ADD COLUMN last_seen_as_of date;

UPDATE alerts a
   SET detected_as_of = COALESCE((SELECT j.as_of FROM job_runs j WHERE j.run_id = a.run_id LIMIT 1),
                                 (a.opened_at AT TIME ZONE 'Asia/Shanghai')::date),
       last_seen_as_of = COALESCE((SELECT j.as_of FROM job_runs j WHERE j.run_id = a.last_seen_run LIMIT 1),
                                  (a.updated_at AT TIME ZONE 'Asia/Shanghai')::date);

ALTER TABLE alerts
  ALTER COLUMN detected_as_of SET DEFAULT (now() AT TIME ZONE 'Asia/Shanghai')::date,
  ALTER COLUMN detected_as_of SET NOT NULL,
  ALTER COLUMN last_seen_as_of SET DEFAULT (now() AT TIME ZONE 'Asia/Shanghai')::date,
  ALTER COLUMN last_seen_as_of SET NOT NULL;

-- Down Migration
ALTER TABLE alerts DROP COLUMN IF EXISTS detected_as_of, DROP COLUMN IF EXISTS last_seen_as_of;
