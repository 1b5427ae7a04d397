-- Up Migration
-- 0014 what puts a person on a "now" list: the people lists behind C04 (awaiting field
-- verification), C05 (certification expired), C06 (suspended, not certified) and P07 (reaching
-- retirement age within 12 months) show, next to each person, the date that makes them count —
-- when the field task was issued, until when the last certification was valid, since when the
-- benefit is suspended, the retirement month (the indicators' drill.columns in the model). Text, as
-- the list months of 0013 ('YYYY-MM-DD', retirement 'YYYY-MM'): they are only shown, never summed.
-- Written by the indicator-facts job ("now per person"); rows written before this migration show
-- no date until the job's next run (after every ingest that brings data, and nightly after the
-- engines); the counts do not change.
ALTER TABLE ind_person_now ADD COLUMN field_task_since text, ADD COLUMN cert_valid_until text,
  ADD COLUMN suspended_since text, ADD COLUMN retirement_month text;

-- Down Migration
ALTER TABLE ind_person_now DROP COLUMN IF EXISTS field_task_since, DROP COLUMN IF EXISTS cert_valid_until,
  DROP COLUMN IF EXISTS suspended_since, DROP COLUMN IF EXISTS retirement_month;
