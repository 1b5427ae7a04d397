-- Up Migration
-- 0038 the other half of R05 (issue 18.4): what was paid between a death and the day its record
-- arrived. R05 measures whether payments stopped in time *after* the record arrived; the money paid
-- before it (the recording lag) cannot be stopped by the bureau and is shown beside the rate, so a
-- 100 % rate and open paid-after-death alerts visibly agree. Filled by the risk clock's next run.
-- (0034–0037 are taken by work landing beside this one.)
ALTER TABLE risk_clock ADD COLUMN amount_before_record numeric(14,2) NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE risk_clock DROP COLUMN amount_before_record;
