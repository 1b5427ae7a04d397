-- Up Migration
-- 0023 the pre-payroll check (issue 17, docs/rules.md "Pre-payroll check"): the payroll_draft feed,
-- the frozen check runs with their findings, holds and diff, four-eyes approval enforced here too,
-- the hold_not_honoured alert rule, and the holds' outcome once the actual payments arrive.

-- payroll_draft: the coming month's payroll before the money goes (key: draft_id + line_id).
-- Same conventions as every feed table (0003). The current draft of a period is the draft_id with the
-- latest prepared_at (jobs/engines/payroll-check.ts); a later file with the same draft_id corrects lines.
CREATE TABLE payroll_draft (
  draft_id    text NOT NULL,
  line_id     text NOT NULL,
  id_number   text NOT NULL,
  scheme_code text NOT NULL,
  period      date NOT NULL,
  amount      numeric(14,2) NOT NULL CHECK (amount >= 0),
  account_no  text NOT NULL,
  bank        text,
  prepared_at timestamptz NOT NULL,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('payroll_draft', 'payroll_draft_key', 'draft_id, line_id', NULL);
CREATE INDEX payroll_draft_period ON payroll_draft (period, prepared_at);
CREATE INDEX payroll_draft_person ON payroll_draft (id_number);

-- Approved holds from the auditors' workbench (docs/rules.md: "suspended … or an approved hold from the
-- workbench covers the person"). The workbench does not exist yet: this view is the extension point the
-- check reads — one row per person (scheme_code NULL = every scheme) with a reference to the hold. The
-- workbench's migration replaces it (CREATE OR REPLACE VIEW, same columns) over its payment holds.
CREATE VIEW payroll_person_holds AS
SELECT NULL::text AS id_number, NULL::text AS scheme_code, NULL::text AS hold_ref, NULL::date AS valid_from, NULL::date AS valid_until
 WHERE false;

-- A check run: the result of checking the current draft of a period as of a date, frozen. run_no is
-- the number operators use (`yinling payroll approve --run N`); version counts the runs of a period.
-- Totals: lines/people/amount on the draft; held = lines with a finding that holds them; released = the rest.
CREATE TABLE payroll_runs (
  run_no            bigserial PRIMARY KEY,
  period            date        NOT NULL,
  version           integer     NOT NULL,
  draft_id          text        NOT NULL,
  draft_prepared_at timestamptz NOT NULL,
  as_of             date        NOT NULL,
  rules             jsonb       NOT NULL,                 -- the thresholds the run used
  lines             integer     NOT NULL,
  people            integer     NOT NULL,
  amount            numeric(16,2) NOT NULL,
  held_lines        integer     NOT NULL,
  held_amount       numeric(16,2) NOT NULL,
  released_lines    integer     NOT NULL,
  released_amount   numeric(16,2) NOT NULL,
  findings          integer     NOT NULL,
  amount_at_risk    numeric(16,2) NOT NULL,
  prepared_by       text REFERENCES staff_users (username), -- NULL: the scheduler (such a run cannot be approved)
  prepared_at       timestamptz NOT NULL DEFAULT now(),
  approved_by       text REFERENCES staff_users (username),
  approved_at       timestamptz,
  job_run_id        bigint,
  UNIQUE (period, version),
  CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
  -- four eyes: only a run a person prepared can be approved, and never by that person
  CONSTRAINT payroll_runs_four_eyes CHECK (approved_by IS NULL OR (prepared_by IS NOT NULL AND approved_by <> prepared_by))
);
CREATE INDEX payroll_runs_period ON payroll_runs (period, run_no DESC);

-- One row per finding of a run (a line may have several).
CREATE TABLE payroll_run_findings (
  run_no         bigint      NOT NULL REFERENCES payroll_runs (run_no),
  draft_id       text        NOT NULL,
  line_id        text        NOT NULL,
  id_number      text        NOT NULL,
  scheme_code    text        NOT NULL,
  amount         numeric(14,2) NOT NULL,
  account_no     text,
  finding        text        NOT NULL CHECK (finding IN ('dead', 'in_custody', 'suspended', 'not_certified', 'double_receipt',
                                                         'abnormal_amount', 'shared_account')),
  amount_at_risk numeric(14,2) NOT NULL,
  held           boolean     NOT NULL,
  evidence       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (run_no, draft_id, line_id, finding)
);

-- The lines to hold (what the payroll system receives once the run is approved).
CREATE TABLE payroll_run_holds (
  run_no      bigint      NOT NULL REFERENCES payroll_runs (run_no),
  draft_id    text        NOT NULL,
  line_id     text        NOT NULL,
  id_number   text        NOT NULL,
  scheme_code text        NOT NULL,
  amount      numeric(14,2) NOT NULL,
  account_no  text,
  findings    text[]      NOT NULL,
  PRIMARY KEY (run_no, draft_id, line_id)
);
CREATE INDEX payroll_run_holds_person ON payroll_run_holds (id_number, scheme_code);

-- The diff of the draft against the paid payments of the previous period (informs, holds nothing).
CREATE TABLE payroll_run_diff (
  run_no          bigint      NOT NULL REFERENCES payroll_runs (run_no),
  kind            text        NOT NULL CHECK (kind IN ('new_payee', 'dropped_payee', 'amount_changed')),
  id_number       text        NOT NULL,
  scheme_code     text        NOT NULL,
  previous_amount numeric(14,2),
  draft_amount    numeric(14,2),
  PRIMARY KEY (run_no, id_number, scheme_code)
);

-- Frozen means frozen: a run's findings, holds and diff are written once with it and never change;
-- a run changes only by being approved (approved_by/approved_at, once); nothing is ever deleted.
CREATE FUNCTION yinling_payroll_run_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME <> 'payroll_runs' THEN
    RAISE EXCEPTION 'payroll check results are frozen: % rows are never changed or deleted', TG_TABLE_NAME
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'payroll run % is frozen: it is never deleted', OLD.run_no USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.approved_at IS NOT NULL THEN
    RAISE EXCEPTION 'payroll run % was approved by % and never changes: check again for a new version', OLD.run_no, OLD.approved_by
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (to_jsonb(NEW) - 'approved_by' - 'approved_at') IS DISTINCT FROM (to_jsonb(OLD) - 'approved_by' - 'approved_at') THEN
    RAISE EXCEPTION 'payroll run % is frozen: only its approval may be recorded', OLD.run_no USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payroll_runs_frozen BEFORE UPDATE OR DELETE ON payroll_runs FOR EACH ROW EXECUTE FUNCTION yinling_payroll_run_frozen();
CREATE TRIGGER payroll_run_findings_frozen BEFORE UPDATE OR DELETE ON payroll_run_findings FOR EACH ROW EXECUTE FUNCTION yinling_payroll_run_frozen();
CREATE TRIGGER payroll_run_holds_frozen BEFORE UPDATE OR DELETE ON payroll_run_holds FOR EACH ROW EXECUTE FUNCTION yinling_payroll_run_frozen();
CREATE TRIGGER payroll_run_diff_frozen BEFORE UPDATE OR DELETE ON payroll_run_diff FOR EACH ROW EXECUTE FUNCTION yinling_payroll_run_frozen();

-- The loop: a held line paid anyway is an alert of its own rule.
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
  'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life', 'hold_not_honoured'));

-- The outcome of every held line of the approved run of each period (the latest approved version):
-- once the period's actual payments have arrived (any payment of that period loaded), a held line
-- with no `paid` payment for the person, scheme and period was prevented; one paid anyway was not
-- honoured (detect-risk raises hold_not_honoured). region_code: the person's community. Read by the
-- semantic layer (semantic-layer/model/cubes/payroll_holds.yml: amount prevented before payment).
CREATE VIEW payroll_hold_outcomes AS
SELECT r.run_no, r.period, h.draft_id, h.line_id, h.id_number, h.scheme_code, h.amount,
       COALESCE(pe.residence_region, pe.hukou_region) AS region_code,
       a.actuals_in,
       a.actuals_in AND NOT paid.any AS prevented,
       paid.any AS paid_anyway
  FROM payroll_runs r
  JOIN payroll_run_holds h ON h.run_no = r.run_no
  LEFT JOIN persons pe ON pe.id_number = h.id_number
  CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM payments p WHERE p.period = r.period) AS actuals_in) a
  CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM payments p WHERE p.id_number = h.id_number AND p.scheme_code = h.scheme_code
                                        AND p.period = r.period AND p.status = 'paid') AS any) paid
 WHERE r.run_no = (SELECT max(x.run_no) FROM payroll_runs x WHERE x.period = r.period AND x.approved_at IS NOT NULL);

-- Down Migration
DROP VIEW IF EXISTS payroll_hold_outcomes;
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
  'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life'));
DROP TABLE IF EXISTS payroll_run_diff, payroll_run_holds, payroll_run_findings, payroll_runs;
DROP FUNCTION IF EXISTS yinling_payroll_run_frozen();
DROP VIEW IF EXISTS payroll_person_holds;
DROP TABLE IF EXISTS payroll_draft;
