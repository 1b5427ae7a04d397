-- Up Migration
-- 0019 TimescaleDB layout (issue 20, point 5). Nothing happens on plain PostgreSQL.
--
-- Compression order of payments, explicit: (payment_id, period DESC), segmented by scheme_code.
--   Without it TimescaleDB derives one per chunk and logs it every time ("order_by default: …"). The key
--   first is what the loader needs: every compressed batch then carries the min/max of payment_id, so
--   the loader's key probe (a SELECT with the staged file's key range as constants) skips every batch
--   outside the file's keys, and its per-key DELETE (key = constant, period = constant) opens only the
--   batch that holds the key (jobs/ingest/merge-sql.ts). TimescaleDB also keeps a bloom filter on
--   (payment_id, period) for the unique index. Chunks compressed earlier keep their order until
--   recompressed; new settings apply to future compressions.
--
-- Chunk intervals. TimescaleDB 2.28 has no calendar intervals: an interval is a fixed duration (a month
-- counts as 30 days) from the Unix epoch, so chunks of '3 months' ran 2024-09-14 … 2024-12-13 and never
-- matched a quarter. payments and subsidies are grouped by month, and their time column, period, is
-- always the first day of a month — so an interval of one day makes every chunk exactly one calendar
-- month (a chunk holds one period value; chunks are made only for days that have rows). Monthly queries and
-- the compression policy (whole months older than 6 months) then work month by month, and a correction
-- of one month touches one chunk. Only new chunks get the new interval (an existing chunk keeps its range,
-- and rows whose period falls in it still go there).
-- The timestamptz tables (evidence, activities, job_runs) and checkups (any day) keep theirs: months
-- of different lengths cannot be fixed durations, and a monthly query reads at most two chunks.

DO $$
BEGIN
  IF NOT yinling_has_timescale() THEN
    RETURN;
  END IF;
  ALTER TABLE payments SET (timescaledb.compress_segmentby = 'scheme_code', timescaledb.compress_orderby = 'payment_id, period DESC');
  PERFORM set_chunk_time_interval('payments', INTERVAL '1 day');
  PERFORM set_chunk_time_interval('subsidies', INTERVAL '1 day');
END $$;

-- Down Migration
DO $$
BEGIN
  IF NOT yinling_has_timescale() THEN
    RETURN;
  END IF;
  PERFORM set_chunk_time_interval('payments', INTERVAL '3 months');
  PERFORM set_chunk_time_interval('subsidies', INTERVAL '3 months');
  ALTER TABLE payments RESET (timescaledb.compress_orderby);
END $$;
