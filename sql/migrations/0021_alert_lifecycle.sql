-- Up Migration
-- 0021 the alert lifecycle of the auditors' workbench (docs/rules.md "Alert lifecycle"). The five
-- statuses of 0004 (open, assigned, investigating, confirmed, dismissed) become the catalogue's
-- states (core/reference/alert-lifecycle.json, loaded into the ref_alert_* tables below), and the
-- database itself refuses a status change the catalogue does not allow, so no page, CLI or engine
-- can skip a step. A closed alert always carries its disposition. `version` counts every change
-- of an alert, for optimistic locking ("changed by X at T — reload").

CREATE TABLE ref_alert_states (
  status        text    PRIMARY KEY,
  phase         text    NOT NULL CHECK (phase IN ('open', 'decided', 'restored', 'closed')),
  engine_active boolean NOT NULL,
  sla_paused    boolean NOT NULL,
  name_zh       text    NOT NULL,
  name_en       text    NOT NULL
);

CREATE TABLE ref_alert_transitions (
  action      text    NOT NULL,
  from_status text    NOT NULL,
  to_status   text    NOT NULL,
  four_eyes   boolean NOT NULL,
  PRIMARY KEY (from_status, to_status, action)
);

CREATE TABLE ref_alert_dispositions (
  code        text    PRIMARY KEY,
  grp         text    NOT NULL CHECK (grp IN ('improper_loss', 'improper_no_loss', 'unknown', 'false_positive', 'duplicate', 'resolved_by_data')),
  name_zh     text    NOT NULL,
  name_en     text    NOT NULL,
  follow_up   text    NOT NULL,
  system_only boolean NOT NULL
);

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
DROP INDEX alerts_one_active;

UPDATE alerts SET status = CASE status WHEN 'open' THEN 'new' WHEN 'assigned' THEN 'acknowledged'
                                       WHEN 'confirmed' THEN 'approved' WHEN 'dismissed' THEN 'closed' ELSE status END;
UPDATE alert_transitions SET
  from_status = CASE from_status WHEN 'open' THEN 'new' WHEN 'assigned' THEN 'acknowledged' WHEN 'confirmed' THEN 'approved'
                                 WHEN 'dismissed' THEN 'closed' ELSE from_status END,
  to_status = CASE to_status WHEN 'open' THEN 'new' WHEN 'assigned' THEN 'acknowledged' WHEN 'confirmed' THEN 'approved'
                             WHEN 'dismissed' THEN 'closed' ELSE to_status END;

ALTER TABLE alerts
  ALTER COLUMN status SET DEFAULT 'new',
  ADD CONSTRAINT alerts_status_check CHECK (status IN ('new', 'acknowledged', 'investigating', 'awaiting_resident', 'awaiting_agency',
    'proposed', 'approved', 'action_taken', 'in_recovery', 'recovered', 'written_off', 'waived', 'restored', 'closed')),
  ADD COLUMN disposition text,
  ADD COLUMN disposition_intentional boolean,          -- improper with money lost: intentional or not
  ADD COLUMN duplicate_of bigint REFERENCES alerts(alert_id),
  ADD COLUMN version integer NOT NULL DEFAULT 1,
  ADD COLUMN updated_by text,
  -- The states whose facts the engines still maintain (ref_alert_states.engine_active, kept equal by
  -- tests/alert-lifecycle.test.ts): a generated column, so the one-active-alert index can use it.
  ADD COLUMN active boolean GENERATED ALWAYS AS (status IN ('new', 'acknowledged', 'investigating', 'awaiting_resident',
    'awaiting_agency', 'proposed')) STORED;

UPDATE alerts SET disposition = CASE WHEN close_reason LIKE 'basis_disappeared%' THEN 'basis_disappeared' ELSE 'already_actioned' END
 WHERE status = 'closed';

ALTER TABLE alerts
  ADD CONSTRAINT alerts_closed_has_disposition CHECK (status <> 'closed' OR disposition IS NOT NULL),
  ADD CONSTRAINT alerts_duplicate_names_primary CHECK ((disposition = 'duplicate') = (duplicate_of IS NOT NULL) OR disposition IS NULL),
  ADD CONSTRAINT alerts_not_own_duplicate CHECK (duplicate_of <> alert_id);

CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, id_number, dedup_key) WHERE active;

ALTER TABLE alert_transitions ADD COLUMN action text;

-- Every status change must be a transition of the catalogue; a disposition must be one of its codes.
CREATE FUNCTION alerts_lifecycle_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status
     AND NOT EXISTS (SELECT 1 FROM ref_alert_transitions t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
    RAISE EXCEPTION 'alert %: % → % is not an allowed transition', OLD.alert_id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', HINT = 'see ref_alert_transitions (core/reference/alert-lifecycle.json)';
  END IF;
  IF NEW.disposition IS NOT NULL AND NEW.disposition IS DISTINCT FROM OLD.disposition
     AND NOT EXISTS (SELECT 1 FROM ref_alert_dispositions d WHERE d.code = NEW.disposition) THEN
    RAISE EXCEPTION 'alert %: unknown disposition %', OLD.alert_id, NEW.disposition USING ERRCODE = 'check_violation';
  END IF;
  NEW.version := OLD.version + 1;
  RETURN NEW;
END $$;
CREATE TRIGGER alerts_lifecycle BEFORE UPDATE ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_lifecycle_guard();

CREATE FUNCTION alerts_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'new' THEN
    RAISE EXCEPTION 'a new alert starts as new, not %', NEW.status USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER alerts_start_new BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_insert_guard();

-- Down Migration
DROP TRIGGER alerts_start_new ON alerts;
DROP FUNCTION alerts_insert_guard();
DROP TRIGGER alerts_lifecycle ON alerts;
DROP FUNCTION alerts_lifecycle_guard();
ALTER TABLE alert_transitions DROP COLUMN action;
DROP INDEX alerts_one_active;
ALTER TABLE alerts DROP CONSTRAINT alerts_closed_has_disposition, DROP CONSTRAINT alerts_duplicate_names_primary,
  DROP CONSTRAINT alerts_not_own_duplicate, DROP CONSTRAINT alerts_status_check,
  DROP COLUMN active, DROP COLUMN disposition, DROP COLUMN disposition_intentional, DROP COLUMN duplicate_of, DROP COLUMN version,
  DROP COLUMN updated_by;
UPDATE alerts SET status = CASE WHEN status = 'new' THEN 'open' WHEN status = 'acknowledged' THEN 'assigned'
                                WHEN status = 'closed' THEN 'dismissed' WHEN status = 'investigating' THEN 'investigating'
                                WHEN status IN ('awaiting_resident', 'awaiting_agency', 'proposed') THEN 'investigating' ELSE 'confirmed' END;
ALTER TABLE alerts ALTER COLUMN status SET DEFAULT 'open',
  ADD CONSTRAINT alerts_status_check CHECK (status IN ('open', 'assigned', 'investigating', 'confirmed', 'dismissed'));
CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, id_number, dedup_key) WHERE status NOT IN ('confirmed', 'dismissed');
DROP TABLE ref_alert_dispositions, ref_alert_transitions, ref_alert_states;
