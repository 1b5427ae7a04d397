-- Up Migration
-- 0012 person spans: the people behind the month stocks P01 (recipients), P04 (aged 80+) and P05
-- (living outside) of a month. ind_person_now held only the state as of the last indicator-facts
-- run ("now": span covers the as-of month), so the list behind a month's P01 was a different set
-- of people than the count (someone whose pension ended in the month shown counted in it but was
-- not listed). The job now also writes everyone with a recipient span in the window, with:
--   recipient_from / recipient_until  the span's first and last month (until NULL: runs on);
--   turns80                           the first day of the month the person turns 80;
--   outside                           lives outside the city (current registry).
-- A month's people are then `recipient_from ≤ m AND (recipient_until IS NULL OR recipient_until ≥ m)`
-- (aged 80+: and `turns80 ≤ m`; outside: and `outside`) — the rules of the job's "people by month"
-- step, declared once as the indicators' month drill in the Cube model. A plain table (no
-- hypertable), so no TimescaleDB-specific path.
ALTER TABLE ind_person_now
  ADD COLUMN recipient_from  date,
  ADD COLUMN recipient_until date,
  ADD COLUMN turns80         date,
  ADD COLUMN outside         boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE ind_person_now DROP COLUMN IF EXISTS outside, DROP COLUMN IF EXISTS turns80,
  DROP COLUMN IF EXISTS recipient_until, DROP COLUMN IF EXISTS recipient_from;
