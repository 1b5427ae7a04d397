-- Up Migration
-- 0025 the write side of the auditors' workbench (issue 15, docs/rules.md "Alert lifecycle"): the
-- database keeps the same rules as core/workflow/alerts.ts, so no page, CLI or script can skip them.
--   * alert_proposals: a maker proposes (suspend / stop the benefit, recovery, no action; later write
--     off, waive, restore) with the alert's facts frozen; a different checker approves. A status change
--     the catalogue marks four_eyes needs an approved proposal not yet used (trigger on alerts).
--   * payment_holds: what an approved suspension or stop tells the payroll system; a hold from a single
--     unconfirmed source suspends, never terminates (CHECK).
--   * recoveries gain a method (cash, offset, instalment); benefit_restorations record the back pay of a
--     wrongful suspension found and restored.
--   * alert_suppressions: a rule silenced for a person or an account, with an owner and an expiry of at
--     most 12 months (CHECK); alerts-merge.sql opens no alert a live suppression covers.
--   * SLA: ref_calendar (working days, holidays-cn.json), ref_alert_sla_* (alert-sla.json) and the one
--     definition of due dates, reminders and breaches: the view alert_sla.
--   * alert_transitions become the alert's event log: role, before/after of the changed fields, the rule
--     version and job runs behind the alert; append-only.
--   * hold_not_honoured joins the alert rules (an approved hold that the payments feed shows paid anyway).

ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
  'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life', 'hold_not_honoured'));

-- The event log of an alert. Rows written before this migration keep NULL in the new columns.
ALTER TABLE alert_transitions
  ADD COLUMN actor_role text,
  ADD COLUMN changes    jsonb,          -- {field: [before, after]} of the alert's changed fields
  ADD COLUMN run_ids    bigint[],       -- the job runs behind the alert's facts (run_id, last_seen_run)
  ADD COLUMN rules_hash text,           -- the rule configuration those runs used (job_runs.counts.rules_hash)
  ADD COLUMN note       text;
CREATE FUNCTION alert_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'alert_transitions is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER alert_transitions_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON alert_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION alert_transitions_append_only();

-- ── Four eyes ─────────────────────────────────────────────────────────────────────────────────────
CREATE TABLE alert_proposals (
  proposal_id   bigserial PRIMARY KEY,
  alert_id      bigint      NOT NULL REFERENCES alerts(alert_id),
  action        text        NOT NULL CHECK (action IN ('suspend', 'stop', 'recovery', 'no_action', 'write_off', 'waive', 'restore')),
  target_status text        NOT NULL,
  disposition   text        REFERENCES ref_alert_dispositions(code),
  intentional   boolean,
  amount        numeric(14,2) CHECK (amount >= 0),  -- due (first decision), written off / waived, or back pay (restore)
  reason        text        NOT NULL,
  snapshot      jsonb       NOT NULL,               -- the alert's facts when proposed: the checker's evidence diff
  alert_version integer     NOT NULL,
  made_by       text        NOT NULL,
  made_role     text        NOT NULL,
  made_at       timestamptz NOT NULL DEFAULT now(),
  state         text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
  checked_by    text,
  checked_role  text CHECK (checked_role IN ('auditor', 'admin')),
  checked_at    timestamptz,
  check_note    text,
  applied_at    timestamptz,
  CONSTRAINT alert_proposals_checker_not_maker CHECK (checked_by IS NULL OR checked_by <> made_by),
  CONSTRAINT alert_proposals_checked CHECK ((state = 'pending') = (checked_by IS NULL) AND (state = 'pending') = (checked_at IS NULL)),
  CONSTRAINT alert_proposals_target CHECK (target_status = CASE action WHEN 'write_off' THEN 'written_off' WHEN 'waive' THEN 'waived'
                                                                      WHEN 'restore' THEN 'restored' ELSE 'approved' END),
  CONSTRAINT alert_proposals_decision_has_disposition CHECK (target_status <> 'approved' OR disposition IS NOT NULL)
);
CREATE UNIQUE INDEX alert_proposals_one_pending ON alert_proposals (alert_id) WHERE state = 'pending';
CREATE INDEX alert_proposals_alert ON alert_proposals (alert_id, proposal_id);

-- A decided proposal is frozen (only its use, applied_at, is recorded once); none is deleted; a
-- maker never checks their own (said plainly here, the CHECK above is the backstop).
CREATE FUNCTION alert_proposals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'alert_proposals are kept: DELETE is not allowed';
  END IF;
  IF NEW.checked_by IS NOT NULL AND NEW.checked_by = NEW.made_by THEN
    RAISE EXCEPTION 'four eyes: % made proposal % and cannot also approve or reject it', NEW.made_by, NEW.proposal_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.state <> 'pending' AND (ROW(NEW.alert_id, NEW.action, NEW.target_status, NEW.disposition, NEW.intentional, NEW.amount, NEW.reason,
        NEW.snapshot, NEW.alert_version, NEW.made_by, NEW.made_role, NEW.made_at, NEW.state, NEW.checked_by, NEW.checked_role, NEW.checked_at,
        NEW.check_note) IS DISTINCT FROM ROW(OLD.alert_id, OLD.action, OLD.target_status, OLD.disposition, OLD.intentional, OLD.amount,
        OLD.reason, OLD.snapshot, OLD.alert_version, OLD.made_by, OLD.made_role, OLD.made_at, OLD.state, OLD.checked_by, OLD.checked_role,
        OLD.checked_at, OLD.check_note) OR (OLD.applied_at IS NOT NULL AND NEW.applied_at IS DISTINCT FROM OLD.applied_at)) THEN
    RAISE EXCEPTION 'proposal % is % already and cannot change', OLD.proposal_id, OLD.state USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.state = 'pending' AND (ROW(NEW.alert_id, NEW.action, NEW.target_status, NEW.made_by, NEW.snapshot, NEW.amount, NEW.disposition)
        IS DISTINCT FROM ROW(OLD.alert_id, OLD.action, OLD.target_status, OLD.made_by, OLD.snapshot, OLD.amount, OLD.disposition)) THEN
    RAISE EXCEPTION 'proposal %: what was proposed cannot change; reject it and propose again', OLD.proposal_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER alert_proposals_frozen BEFORE UPDATE OR DELETE ON alert_proposals FOR EACH ROW EXECUTE FUNCTION alert_proposals_guard();

-- A four-eyes status change (ref_alert_transitions.four_eyes) uses up one approved proposal for it.
CREATE FUNCTION alerts_four_eyes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE pid bigint;
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status
     AND EXISTS (SELECT 1 FROM ref_alert_transitions t WHERE t.from_status = OLD.status AND t.to_status = NEW.status AND t.four_eyes) THEN
    SELECT p.proposal_id INTO pid FROM alert_proposals p
     WHERE p.alert_id = OLD.alert_id AND p.state = 'approved' AND p.applied_at IS NULL AND p.target_status = NEW.status
     ORDER BY p.proposal_id DESC LIMIT 1 FOR UPDATE;
    IF pid IS NULL THEN
      RAISE EXCEPTION 'four eyes: alert % → % needs a proposal approved by a second person', OLD.alert_id, NEW.status
        USING ERRCODE = 'check_violation', HINT = 'see alert_proposals (migration 0025)';
    END IF;
    UPDATE alert_proposals SET applied_at = now() WHERE proposal_id = pid;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER alerts_four_eyes BEFORE UPDATE OF status ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_four_eyes_guard();

-- ── Payment holds ─────────────────────────────────────────────────────────────────────────────────
CREATE TABLE payment_holds (
  hold_id          bigserial PRIMARY KEY,
  id_number        text        NOT NULL,
  scheme_codes     text[]      NOT NULL CHECK (cardinality(scheme_codes) > 0),
  from_period      date        NOT NULL CHECK (extract(day FROM from_period) = 1),
  kind             text        NOT NULL CHECK (kind IN ('suspend', 'stop')),
  source_confirmed boolean     NOT NULL,   -- two or more independent sources (or an official record) behind the alert
  alert_id         bigint      NOT NULL REFERENCES alerts(alert_id),
  proposal_id      bigint      NOT NULL REFERENCES alert_proposals(proposal_id),
  proposed_by      text        NOT NULL,
  approved_by      text        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  released_at      timestamptz,
  released_by      text,
  release_reason   text,
  CONSTRAINT payment_holds_unconfirmed_suspends CHECK (kind = 'suspend' OR source_confirmed),
  CONSTRAINT payment_holds_four_eyes CHECK (approved_by <> proposed_by),
  CONSTRAINT payment_holds_release CHECK ((released_at IS NULL) = (released_by IS NULL))
);
CREATE INDEX payment_holds_person ON payment_holds (id_number) WHERE released_at IS NULL;
CREATE INDEX payment_holds_alert ON payment_holds (alert_id);

-- ── Recovery ledger ───────────────────────────────────────────────────────────────────────────────
ALTER TABLE recoveries
  ADD COLUMN method text NOT NULL DEFAULT 'cash' CHECK (method IN ('cash', 'offset', 'instalment')),
  ADD COLUMN offset_against text;   -- what an offset was taken from (e.g. the funeral grant of an after-death case)

-- Back pay owed after a wrongful suspension: per scheme and period held, the enrollment's monthly
-- amount, less any payment actually made (jobs: core/workflow/alerts.ts restore()).
CREATE TABLE benefit_restorations (
  restoration_id bigserial PRIMARY KEY,
  alert_id       bigint        NOT NULL REFERENCES alerts(alert_id),
  proposal_id    bigint        NOT NULL REFERENCES alert_proposals(proposal_id),
  hold_id        bigint        REFERENCES payment_holds(hold_id),
  id_number      text          NOT NULL,
  periods        jsonb         NOT NULL,   -- [{scheme, period, monthly_amount, paid}] behind the sum
  back_pay       numeric(14,2) NOT NULL CHECK (back_pay >= 0),
  recorded_by    text          NOT NULL,
  approved_by    text          NOT NULL,
  recorded_at    timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT benefit_restorations_four_eyes CHECK (approved_by <> recorded_by)
);

-- Per alert with an amount due: recovered so far (offsets among it), what is left, status, days.
CREATE VIEW recovery_ledger AS
SELECT a.alert_id, a.rule, a.id_number, a.region_code, a.status, a.disposition, a.amount_due,
       COALESCE(r.recovered, 0)::numeric(14,2) AS recovered,
       COALESCE(r.offsets, 0)::numeric(14,2) AS offsets,
       COALESCE(r.instalments, 0) AS instalments,
       CASE WHEN a.status IN ('written_off', 'waived', 'restored') THEN 0
            ELSE greatest(a.amount_due - COALESCE(r.recovered, 0), 0) END::numeric(14,2) AS outstanding,
       CASE WHEN a.status IN ('recovered', 'written_off', 'waived', 'restored') THEN a.status
            WHEN COALESCE(r.recovered, 0) >= a.amount_due THEN 'recovered'
            WHEN COALESCE(r.recovered, 0) > 0 THEN 'partly_recovered' ELSE 'due' END AS ledger_status,
       d.decided_at,
       r.last_recovered_on,
       CASE WHEN COALESCE(r.recovered, 0) >= a.amount_due AND d.decided_at IS NOT NULL
            THEN r.last_recovered_on - (d.decided_at AT TIME ZONE 'Asia/Shanghai')::date END AS days_to_recover
  FROM alerts a
  LEFT JOIN (SELECT alert_id, sum(amount) AS recovered, sum(amount) FILTER (WHERE method = 'offset') AS offsets,
                    count(*) FILTER (WHERE method = 'instalment') AS instalments, max(recovered_on) AS last_recovered_on
               FROM recoveries GROUP BY alert_id) r USING (alert_id)
  LEFT JOIN (SELECT alert_id, min(at) AS decided_at FROM alert_transitions WHERE to_status = 'approved' GROUP BY alert_id) d USING (alert_id)
 WHERE a.amount_due IS NOT NULL;

-- ── Suppressions ──────────────────────────────────────────────────────────────────────────────────
CREATE TABLE alert_suppressions (
  suppression_id  bigserial PRIMARY KEY,
  rule            text        NOT NULL,
  scope           text        NOT NULL CHECK (scope IN ('person', 'account')),
  subject         text        NOT NULL,   -- the person's id_number, or the account number
  source_alert_id bigint      REFERENCES alerts(alert_id),
  disposition     text        NOT NULL REFERENCES ref_alert_dispositions(code),
  reason          text        NOT NULL,
  owner           text        NOT NULL,
  created_by      text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_by      text,
  CONSTRAINT alert_suppressions_expiry CHECK (expires_at > created_at AND expires_at <= created_at + INTERVAL '12 months')
);
CREATE INDEX alert_suppressions_live ON alert_suppressions (rule, subject) WHERE revoked_at IS NULL;

-- ── SLA ───────────────────────────────────────────────────────────────────────────────────────────
CREATE TABLE ref_calendar (day date PRIMARY KEY, working boolean NOT NULL);
CREATE INDEX ref_calendar_working ON ref_calendar (day) WHERE working;
CREATE TABLE ref_alert_sla_priorities (
  priority         text    PRIMARY KEY,
  ack_working_days integer NOT NULL CHECK (ack_working_days > 0),
  act_working_days integer CHECK (act_working_days > 0),
  act_by           text    NOT NULL CHECK (act_by IN ('working_days', 'next_payroll')),
  name_zh          text    NOT NULL,
  CHECK ((act_by = 'working_days') = (act_working_days IS NOT NULL))
);
CREATE TABLE ref_alert_sla_rules (rule text PRIMARY KEY, priority text NOT NULL REFERENCES ref_alert_sla_priorities(priority));
CREATE TABLE ref_alert_sla_settings (
  one                 boolean PRIMARY KEY DEFAULT true CHECK (one),
  payroll_day         integer NOT NULL CHECK (payroll_day BETWEEN 1 AND 28),
  remind_at_fraction  numeric NOT NULL CHECK (remind_at_fraction > 0 AND remind_at_fraction < 1)
);

-- The n-th working day after d (d itself when n = 0); past the calendar, weekdays.
CREATE FUNCTION yinling_add_working_days(d date, n integer) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN n <= 0 THEN d ELSE COALESCE(
    (SELECT c.day FROM ref_calendar c WHERE c.working AND c.day > d ORDER BY c.day OFFSET n - 1 LIMIT 1),
    (SELECT g::date FROM generate_series(d + 1, d + n * 2 + 14, INTERVAL '1 day') g
      WHERE extract(isodow FROM g) < 6 ORDER BY g OFFSET n - 1 LIMIT 1)) END
$$;
-- Working days in [a, b).
CREATE FUNCTION yinling_working_days(a date, b date) RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN b <= a THEN 0 ELSE
    (SELECT count(*)::int FROM generate_series(a, b - 1, INTERVAL '1 day') g
       LEFT JOIN ref_calendar c ON c.day = g::date
      WHERE COALESCE(c.working, extract(isodow FROM g) < 6)) END
$$;

-- The SLA of every alert, in one place. Days are Asia/Shanghai dates; a deadline is met when the step
-- happened on or before its due date. ack: the alert left `new`. act: it reached a proposal or left
-- the open phase. The act deadline moves by the working days spent in sla_paused states (awaiting
-- resident or agency) before it was met; P1's "before the next payroll" does not move.
-- sla_state: met | paused | breached | reminder (past remind_at_fraction of the time allowed) | ok.
CREATE VIEW alert_sla AS
WITH base AS (
  SELECT a.alert_id, a.rule, a.status, st.sla_paused, st.phase, r.priority, p.ack_working_days, p.act_working_days, p.act_by,
         (a.opened_at AT TIME ZONE 'Asia/Shanghai')::date AS start_day,
         (now() AT TIME ZONE 'Asia/Shanghai')::date AS today,
         (SELECT min(t.at) FROM alert_transitions t WHERE t.alert_id = a.alert_id AND t.from_status = 'new' AND t.to_status <> 'new') AS ack_at,
         (SELECT min(t.at) FROM alert_transitions t JOIN ref_alert_states s2 ON s2.status = t.to_status
           WHERE t.alert_id = a.alert_id AND t.to_status <> t.from_status AND (t.to_status = 'proposed' OR s2.phase <> 'open')) AS act_at
    FROM alerts a
    JOIN ref_alert_states st ON st.status = a.status
    LEFT JOIN ref_alert_sla_rules r ON r.rule = a.rule
    LEFT JOIN ref_alert_sla_priorities p ON p.priority = r.priority
), paused AS (
  -- working days inside each paused spell (from entering a paused state to leaving it, or today)
  SELECT b.alert_id, sum(yinling_working_days((x.at AT TIME ZONE 'Asia/Shanghai')::date,
                                              (COALESCE(x.next_at, least(now(), COALESCE(b.act_at, now()))) AT TIME ZONE 'Asia/Shanghai')::date))::int AS days
    FROM base b
    JOIN LATERAL (SELECT t.at, t.to_status, lead(t.at) OVER (ORDER BY t.at, t.transition_id) AS next_at
                    FROM alert_transitions t WHERE t.alert_id = b.alert_id AND t.to_status IS DISTINCT FROM t.from_status) x ON true
    JOIN ref_alert_states s ON s.status = x.to_status AND s.sla_paused
   WHERE b.act_at IS NULL OR x.at < b.act_at
   GROUP BY b.alert_id
), due AS (
  SELECT b.*, COALESCE(pz.days, 0) AS paused_working_days,
         yinling_add_working_days(b.start_day, b.ack_working_days) AS ack_due,
         CASE WHEN b.act_by = 'next_payroll'
              THEN (SELECT CASE WHEN COALESCE(c.working, extract(isodow FROM z.pd) < 6) THEN z.pd
                                ELSE yinling_add_working_days(z.pd, 1) END
                      FROM (SELECT (date_trunc('month', b.start_day) + INTERVAL '1 month')::date + (s.payroll_day - 1) AS pd
                              FROM ref_alert_sla_settings s) z LEFT JOIN ref_calendar c ON c.day = z.pd)
              ELSE yinling_add_working_days(b.start_day, b.act_working_days + COALESCE(pz.days, 0)) END AS act_due,
         (SELECT remind_at_fraction FROM ref_alert_sla_settings) AS fraction
    FROM base b LEFT JOIN paused pz USING (alert_id)
)
SELECT d.alert_id, d.rule, d.priority, d.status, d.start_day, d.ack_due, d.act_due, d.ack_at, d.act_at, d.paused_working_days,
       (d.ack_at IS NULL AND d.today > d.ack_due) OR (d.ack_at AT TIME ZONE 'Asia/Shanghai')::date > d.ack_due AS ack_breached,
       (d.act_at IS NULL AND d.today > d.act_due) OR (d.act_at AT TIME ZONE 'Asia/Shanghai')::date > d.act_due AS act_breached,
       -- the next deadline still running and when its reminder is due
       CASE WHEN d.ack_at IS NULL THEN d.ack_due WHEN d.act_at IS NULL THEN d.act_due END AS due_day,
       CASE WHEN d.ack_at IS NULL THEN d.start_day + ceil((d.ack_due - d.start_day) * d.fraction)::int
            WHEN d.act_at IS NULL THEN d.start_day + ceil((d.act_due - d.start_day) * d.fraction)::int END AS remind_day,
       CASE WHEN d.priority IS NULL OR (d.ack_at IS NOT NULL AND d.act_at IS NOT NULL) THEN 'met'
            WHEN d.sla_paused THEN 'paused'
            WHEN d.today > CASE WHEN d.ack_at IS NULL THEN d.ack_due ELSE d.act_due END THEN 'breached'
            WHEN d.today >= d.start_day + ceil(((CASE WHEN d.ack_at IS NULL THEN d.ack_due ELSE d.act_due END) - d.start_day) * d.fraction)::int
              THEN 'reminder'
            ELSE 'ok' END AS sla_state
  FROM due d;

-- Down Migration
DROP VIEW alert_sla;
DROP FUNCTION yinling_working_days(date, date);
DROP FUNCTION yinling_add_working_days(date, integer);
DROP TABLE ref_alert_sla_settings, ref_alert_sla_rules, ref_alert_sla_priorities, ref_calendar;
DROP TABLE alert_suppressions;
DROP VIEW recovery_ledger;
DROP TABLE benefit_restorations;
ALTER TABLE recoveries DROP COLUMN method, DROP COLUMN offset_against;
DROP TABLE payment_holds;
DROP TRIGGER alerts_four_eyes ON alerts;
DROP FUNCTION alerts_four_eyes_guard();
DROP TRIGGER alert_proposals_frozen ON alert_proposals;
DROP FUNCTION alert_proposals_guard();
DROP TABLE alert_proposals;
DROP TRIGGER alert_transitions_no_update ON alert_transitions;
DROP FUNCTION alert_transitions_append_only();
ALTER TABLE alert_transitions DROP COLUMN actor_role, DROP COLUMN changes, DROP COLUMN run_ids, DROP COLUMN rules_hash, DROP COLUMN note;
