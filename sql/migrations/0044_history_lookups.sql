-- Up Migration
-- 0044 what the wall screens and /healthz poll reads a few rows, however long the system has run.
-- ingest_files gains a row per delivered file and job_runs a row per job run, for ever (an ingest every
-- few minutes is about 100,000 of each a year). The screen's feed freshness (every screen, every
-- minute) took max(loaded_at) per feed by reading all of ingest_files; it now reads the newest loaded
-- file of each feed from this index. (/healthz and the screen's "built at" read job_runs through its
-- (job, started_at DESC) index: dashboard/lib/server/health.ts, indicators.ts.)
CREATE INDEX ingest_files_feed_loaded ON ingest_files (feed, loaded_at DESC) WHERE status = 'loaded';

-- Down Migration
DROP INDEX ingest_files_feed_loaded;
