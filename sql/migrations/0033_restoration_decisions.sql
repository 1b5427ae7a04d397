-- Up Migration
-- 0033 the auditors' decision on a restoration owed for a withdrawn death or custody record (issue 21).
-- The engine's `restorations` table says what is owed as of its last run (sql/engines/restorations.sql);
-- paying it back is a decision with four eyes, like every other restore: one auditor proposes the
-- restoration exactly as the engine computed it, a different one approves or rejects it. A decision
-- freezes the periods and the amount it was about; when a later run computes a different amount (a
-- period paid meanwhile, a correction) the workbench shows the item again as changed.
-- (0030–0032 are taken by work landing beside this one.)

CREATE TABLE restoration_decisions (
  decision_id     bigserial     PRIMARY KEY,
  record_kind     text          NOT NULL CHECK (record_kind IN ('death', 'custody')),
  record_id       text          NOT NULL,
  scheme_code     text          NOT NULL,
  id_number       text          NOT NULL,
  periods         date[]        NOT NULL CHECK (cardinality(periods) > 0),
  back_pay        numeric(14,2) NOT NULL CHECK (back_pay > 0),
  proposed_by     text          NOT NULL,
  proposed_at     timestamptz   NOT NULL DEFAULT now(),
  note            text          CHECK (note IS NULL OR (length(note) <= 500 AND note !~ '[0-9]{11,}')),
  outcome         text          CHECK (outcome IN ('approved', 'rejected')),
  decided_by      text,
  decided_at      timestamptz,
  decision_reason text          CHECK (decision_reason IS NULL OR (length(decision_reason) <= 500 AND decision_reason !~ '[0-9]{11,}')),
  CONSTRAINT restoration_decisions_decided CHECK ((outcome IS NULL) = (decided_by IS NULL) AND (outcome IS NULL) = (decided_at IS NULL)),
  CONSTRAINT restoration_decisions_four_eyes CHECK (decided_by IS NULL OR decided_by <> proposed_by),
  CONSTRAINT restoration_decisions_reject_reason CHECK (outcome IS DISTINCT FROM 'rejected' OR decision_reason IS NOT NULL)
);
-- at most one proposal waiting per restoration
CREATE UNIQUE INDEX restoration_decisions_one_open ON restoration_decisions (record_kind, record_id, scheme_code) WHERE outcome IS NULL;
CREATE INDEX restoration_decisions_key ON restoration_decisions (record_kind, record_id, scheme_code, decision_id DESC);

-- Kept for good: a proposal is decided once, what was proposed never changes, nothing is deleted.
CREATE FUNCTION restoration_decisions_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'restoration_decisions are kept: DELETE is not allowed' USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.outcome IS NOT NULL THEN
    RAISE EXCEPTION 'restoration decision % is % already and cannot change', OLD.decision_id, OLD.outcome USING ERRCODE = 'check_violation';
  END IF;
  IF (NEW.record_kind, NEW.record_id, NEW.scheme_code, NEW.id_number, NEW.periods, NEW.back_pay, NEW.proposed_by, NEW.proposed_at, NEW.note)
     IS DISTINCT FROM
     (OLD.record_kind, OLD.record_id, OLD.scheme_code, OLD.id_number, OLD.periods, OLD.back_pay, OLD.proposed_by, OLD.proposed_at, OLD.note) THEN
    RAISE EXCEPTION 'restoration decision %: what was proposed cannot change; reject it and propose again', OLD.decision_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER restoration_decisions_final BEFORE UPDATE OR DELETE ON restoration_decisions
  FOR EACH ROW EXECUTE FUNCTION restoration_decisions_final();

-- Down Migration
DROP TABLE IF EXISTS restoration_decisions;
DROP FUNCTION IF EXISTS restoration_decisions_final();
