-- Up Migration
-- 0024 field tasks for community staff (issue 17, point 5). Community and town staff work the open
-- tasks of their area on a tablet (/field) and record visits; core/workflow/field-visits.ts is the one
-- service that does it. Staff accounts need no new column: staff_users.region_code is already the
-- area ("this region and everything below it"); a field account is a `staff` account whose region is
-- a community or a town.

-- One visit per task: the result that closed it. Append-only, like the audit log.
CREATE TABLE field_visits (
  visit_id         bigserial   PRIMARY KEY,
  task_id          bigint      NOT NULL UNIQUE REFERENCES tasks(task_id),
  id_number        text        NOT NULL,
  region_code      text        NOT NULL,            -- the task's community
  outcome          text        NOT NULL CHECK (outcome IN ('seen', 'not_found', 'deceased')),
  visited_on       date        NOT NULL,
  place            text,                            -- seen: where (home, community centre…)
  not_found_reason text        CHECK (not_found_reason IN ('moved', 'unknown', 'hospital', 'nursing_home')),
  death_date       date,
  note             text,
  recorded_by      text        NOT NULL,            -- the staff user
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  certification_id text,                            -- seen: the certification it wrote
  case_id          bigint,                          -- deceased: the after-death case
  CHECK (outcome <> 'seen' OR (place IS NOT NULL AND certification_id IS NOT NULL)),
  CHECK (outcome <> 'not_found' OR (not_found_reason IS NOT NULL AND note IS NOT NULL)),
  CHECK (outcome <> 'deceased' OR (death_date IS NOT NULL AND death_date <= visited_on)),
  -- The service refuses ID numbers and phone numbers in free text (core/domain/free-text.ts, which
  -- also catches separated and shorter forms); the database refuses at least any run of 11+ digits.
  CHECK (note IS NULL OR (length(note) <= 500 AND note !~ '[0-9]{11,}')),
  CHECK (place IS NULL OR (length(place) <= 200 AND place !~ '[0-9]{11,}'))
);
CREATE INDEX field_visits_person ON field_visits (id_number, visited_on);

CREATE FUNCTION field_visits_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'field_visits is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER field_visits_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON field_visits
  FOR EACH STATEMENT EXECUTE FUNCTION field_visits_append_only();

-- A closed task stays closed: no engine run or service may reopen a task that is done or cancelled
-- (a field visit's result must survive the next `run all`).
CREATE FUNCTION tasks_stay_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'task % is % and cannot be reopened', OLD.task_id, OLD.status;
END $$;
CREATE TRIGGER tasks_no_reopen BEFORE UPDATE OF status ON tasks
  FOR EACH ROW WHEN (OLD.status <> 'open' AND NEW.status = 'open') EXECUTE FUNCTION tasks_stay_closed();

-- Lineage of certifications entered in Yinling rather than delivered in a feed file: the staff user who
-- recorded the field visit (file_id/line_no are then NULL). A later feed row with the same key replaces
-- the row as any correction does, and entered_by goes with it.
ALTER TABLE certifications ADD COLUMN entered_by text;
ALTER TABLE certifications ADD CONSTRAINT certifications_entered_or_loaded CHECK (entered_by IS NULL OR file_id IS NULL);

-- The open tasks of an area, by due date.
CREATE INDEX tasks_open_due ON tasks (region_code, due_on) WHERE status = 'open';

-- Down Migration
DROP INDEX IF EXISTS tasks_open_due;
ALTER TABLE certifications DROP CONSTRAINT IF EXISTS certifications_entered_or_loaded;
ALTER TABLE certifications DROP COLUMN IF EXISTS entered_by;
DROP TRIGGER IF EXISTS tasks_no_reopen ON tasks;
DROP FUNCTION IF EXISTS tasks_stay_closed();
DROP TABLE IF EXISTS field_visits;
DROP FUNCTION IF EXISTS field_visits_append_only();
