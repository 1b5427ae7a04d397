-- Up Migration
-- 0034 a death reported on the resident portal (or by community staff) holds the person's payments at
-- once and puts a P1 item on the auditors' workbench (issue 16, point 7; docs/rules.md "Reported deaths"):
--   * the alert rule reported_death: one alert per reported after_death case (dedup key 'case:<id>'),
--     raised by the report's service (core/workflow/death-reports.ts), not by detect-risk. The engines'
--     merge (sql/engines/alerts-merge.sql) never closes it while its case is still `reported`; once a
--     department death record confirms the case (after-death: reported → open) it closes it as
--     basis_disappeared and the after-death case takes over. A person closes it only as a false positive
--     (the report was refuted or withdrawn), which releases the hold and closes the case (alerts.ts).
--   * payment_holds gain an origin: 'decision' (a four-eyes approved suspension or stop, as before) or
--     'death_report' (a suspension from a single unconfirmed report: never a stop, no proposal, one per case).
--   * payroll_person_holds (the extension point of 0023 the pre-payroll check reads) now lists every
--     payment hold not released, whatever its origin.

ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
  'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life', 'hold_not_honoured', 'reported_death'));
-- one reported_death alert per case, ever (a second report of the same death joins the case, not a new item)
CREATE UNIQUE INDEX alerts_one_reported_death ON alerts (dedup_key) WHERE rule = 'reported_death';

ALTER TABLE payment_holds
  ADD COLUMN origin  text   NOT NULL DEFAULT 'decision' CHECK (origin IN ('decision', 'death_report')),
  ADD COLUMN case_id bigint REFERENCES cases(case_id);
ALTER TABLE payment_holds ALTER COLUMN proposal_id DROP NOT NULL, ALTER COLUMN proposed_by DROP NOT NULL, ALTER COLUMN approved_by DROP NOT NULL;
ALTER TABLE payment_holds ADD CONSTRAINT payment_holds_origin CHECK (
  CASE origin
    WHEN 'decision' THEN proposal_id IS NOT NULL AND proposed_by IS NOT NULL AND approved_by IS NOT NULL
    ELSE kind = 'suspend' AND NOT source_confirmed AND case_id IS NOT NULL AND proposal_id IS NULL
  END);
CREATE UNIQUE INDEX payment_holds_one_per_report ON payment_holds (case_id) WHERE origin = 'death_report';

CREATE OR REPLACE VIEW payroll_person_holds AS
SELECT h.id_number, s.scheme AS scheme_code, 'hold:' || h.hold_id AS hold_ref, h.from_period AS valid_from, NULL::date AS valid_until
  FROM payment_holds h CROSS JOIN LATERAL unnest(h.scheme_codes) AS s(scheme)
 WHERE h.released_at IS NULL;

-- Down Migration
CREATE OR REPLACE VIEW payroll_person_holds AS
SELECT NULL::text AS id_number, NULL::text AS scheme_code, NULL::text AS hold_ref, NULL::date AS valid_from, NULL::date AS valid_until
 WHERE false;
DROP INDEX IF EXISTS payment_holds_one_per_report;
DELETE FROM payment_holds WHERE origin = 'death_report';
ALTER TABLE payment_holds DROP CONSTRAINT IF EXISTS payment_holds_origin;
ALTER TABLE payment_holds ALTER COLUMN proposal_id SET NOT NULL, ALTER COLUMN proposed_by SET NOT NULL, ALTER COLUMN approved_by SET NOT NULL;
ALTER TABLE payment_holds DROP COLUMN case_id, DROP COLUMN origin;
DROP INDEX IF EXISTS alerts_one_reported_death;
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
  'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life', 'hold_not_honoured')) NOT VALID;
