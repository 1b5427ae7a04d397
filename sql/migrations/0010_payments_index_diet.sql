-- Up Migration
-- 0010 payments: only the indexes the engines and indicators read, so a bulk load builds fewer and
-- cheaper ones (issue 2, item 8). Found by the access paths of sql/engines/*.sql and by
-- pg_stat_user_indexes after a full and an incremental engine + indicator run on the demo city:
--
--   * payments_period_status (period, status) served exactly two queries of indicator-facts.sql:
--     `min(period)` (an index-only probe) and the payments-by-month scan of the whole window, where it was
--     harmful: the window bound is an InitPlan, the planner guesses a few thousand rows and walks the
--     entire table in index order (demo: 1.6 s index scan against 0.35 s for a bitmap scan over a BRIN;
--     at city scale that is 12 M random heap reads). A BRIN on period replaces it: it serves range scans
--     (the generator and the departments deliver payments month by month or year by year, so blocks
--     correlate with period), costs one sequential pass to build instead of a 12 M-row sort (city, 11.9 M
--     rows: 1.9 s of CPU against 17.7 s) and nearly nothing to maintain. `min(period)` becomes a parallel sequential scan (city: ~1–2 s,
--     once per indicator run). No query filters on status without a person, an account or a period.
--   * payments_account_period (account_no, period) → payments_account (account_no): the only reader is the
--     shared-account rule of detect-risk.sql (`account_no IN (shared accounts)`, then grouped by period in
--     memory); period in the key was never used as a bound. The narrower key builds cheaper (city: 11.5 s of CPU
--     against 13.1 s; a hash index would cost 16.8 s).
--
-- Kept: payments_key (natural key, unique — the loader's direct COPY and merge rely on it),
-- payments_person_scheme_period (every per-person rule, after-death, no-sign-of-life, the screens'
-- scope), payments_loaded_brin (incremental engine runs). Evidence keeps its three: key, person+time, BRIN.
--
-- TimescaleDB: the same statements apply to the hypertable (DROP/CREATE INDEX propagate to chunks). A
-- hypertable on period already has Timescale's own time index (and chunk exclusion), so the BRIN is only
-- created where no index leads with period. A bulk load interrupted before this migration may have left the
-- old definitions in ingest_deferred_indexes: they are removed, or the loader would re-create them.

DELETE FROM ingest_deferred_indexes WHERE index_name IN ('payments_period_status', 'payments_account_period');
DROP INDEX IF EXISTS payments_period_status;
DROP INDEX IF EXISTS payments_account_period;
CREATE INDEX IF NOT EXISTS payments_account ON payments (account_no);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = 'payments'::regclass AND a.attname = 'period') THEN
    CREATE INDEX payments_period_brin ON payments USING brin (period);
  END IF;
END $$;

-- Down Migration
DROP INDEX IF EXISTS payments_period_brin;
DROP INDEX IF EXISTS payments_account;
DELETE FROM ingest_deferred_indexes WHERE index_name IN ('payments_period_brin', 'payments_account');
CREATE INDEX IF NOT EXISTS payments_period_status ON payments (period, status);
CREATE INDEX IF NOT EXISTS payments_account_period ON payments (account_no, period);
