-- Up Migration
-- 0032 the auditors' queue at city scale (issue 15 §15): what a page reads is kept on the alert, so a
-- page costs what its 50 rows cost, not what 10,000+ open alerts cost.
--
-- 1. Money before the next payroll (the queue's default order, dashboard/lib/server/workbench/queue.ts):
--    alerts.next_payroll is the sum of the monthly amounts of the person's enrollments still `active`
--    (what the next payroll pays again unless someone acts), kept here by triggers — set when an alert
--    is written (alerts_next_payroll, BEFORE INSERT/UPDATE OF id_number) and refreshed for the person's
--    alerts whenever enrollments change (statement triggers with transition tables, so a feed load
--    costs one join). money_before_payroll = amount_at_risk + next_payroll is a stored generated
--    column with a keyset index on the open alerts. Refreshing these derived amounts is not a change
--    of the alert by anyone: it does not bump `version` (optimistic locking stays about people's
--    and the engines' changes).
-- 2. The SLA clock: the view alert_sla (0025) replayed every alert's transitions and called the
--    working-day functions for every alert before any filter applied. Now each alert's clock —
--    acknowledged at, acted at, working days paused before acting, the running pause, and the due
--    dates — is kept in alert_sla_clock, advanced by each alert_transitions row as it is written
--    (alert_sla_clock_step: the same rules as 0025's view, step by step), and the due dates come from
--    one function, alert_sla_dues. alert_sla keeps its columns and meaning but is a plain join, so a
--    filter on alert_id or sla_state is pushed down and costs a few microseconds per alert. When the
--    calendar or the SLA catalogue is reloaded, alert_sla_refresh() recomputes the stored due dates
--    (core/reference/load.ts).
-- 3. A disposition that needs a re-review (the catalogue's review_days: insufficient_evidence, 30 days)
--    is a checker's decision: the database sets it only from a proposal approved in the same
--    transaction (a maker and a different checker, 0025), and the approval sets alerts.review_due =
--    that day + review_days. Until the alert is reopened (which clears its disposition), alert_sla
--    shows the re-review as its deadline: due_day = review_due, a reminder at remind_at_fraction of
--    the time, breached after it.

-- ── 1. money before the next payroll ──────────────────────────────────────────────────────────────
ALTER TABLE alerts ADD COLUMN next_payroll numeric(14,2) NOT NULL DEFAULT 0;
-- (filling a derived column is no new version of any alert: 0021's guard steps aside for it)
ALTER TABLE alerts DISABLE TRIGGER alerts_lifecycle;
UPDATE alerts a SET next_payroll = x.s
  FROM (SELECT e.id_number, sum(e.monthly_amount) AS s FROM enrollments e WHERE e.status = 'active' GROUP BY e.id_number) x
 WHERE x.id_number = a.id_number;
ALTER TABLE alerts ENABLE TRIGGER alerts_lifecycle;
ALTER TABLE alerts ADD COLUMN money_before_payroll numeric(14,2) GENERATED ALWAYS AS (amount_at_risk + next_payroll) STORED;
CREATE INDEX alerts_queue_money ON alerts (money_before_payroll DESC, alert_id DESC) WHERE active;

CREATE FUNCTION alerts_next_payroll() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.next_payroll := COALESCE((SELECT sum(e.monthly_amount) FROM enrollments e WHERE e.id_number = NEW.id_number AND e.status = 'active'), 0);
  RETURN NEW;
END $$;
CREATE TRIGGER alerts_next_payroll BEFORE INSERT OR UPDATE OF id_number ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_next_payroll();

-- The persons whose enrollments a statement touched: their alerts' next_payroll, where it changed.
CREATE FUNCTION enrollments_refresh_next_payroll() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE alerts a SET next_payroll = COALESCE(x.s, 0)
      FROM (SELECT p.id_number, (SELECT sum(e.monthly_amount) FROM enrollments e WHERE e.id_number = p.id_number AND e.status = 'active') AS s
              FROM (SELECT DISTINCT n.id_number FROM new_rows n WHERE n.id_number IN (SELECT id_number FROM alerts)) p) x
     WHERE a.id_number = x.id_number AND a.next_payroll IS DISTINCT FROM COALESCE(x.s, 0);
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE alerts a SET next_payroll = COALESCE(x.s, 0)
      FROM (SELECT p.id_number, (SELECT sum(e.monthly_amount) FROM enrollments e WHERE e.id_number = p.id_number AND e.status = 'active') AS s
              FROM (SELECT n.id_number FROM new_rows n WHERE n.id_number IN (SELECT id_number FROM alerts)
                    UNION SELECT o.id_number FROM old_rows o WHERE o.id_number IN (SELECT id_number FROM alerts)) p) x
     WHERE a.id_number = x.id_number AND a.next_payroll IS DISTINCT FROM COALESCE(x.s, 0);
  ELSE
    UPDATE alerts a SET next_payroll = COALESCE(x.s, 0)
      FROM (SELECT p.id_number, (SELECT sum(e.monthly_amount) FROM enrollments e WHERE e.id_number = p.id_number AND e.status = 'active') AS s
              FROM (SELECT DISTINCT o.id_number FROM old_rows o WHERE o.id_number IN (SELECT id_number FROM alerts)) p) x
     WHERE a.id_number = x.id_number AND a.next_payroll IS DISTINCT FROM COALESCE(x.s, 0);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER enrollments_next_payroll_ins AFTER INSERT ON enrollments REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION enrollments_refresh_next_payroll();
CREATE TRIGGER enrollments_next_payroll_upd AFTER UPDATE ON enrollments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION enrollments_refresh_next_payroll();
CREATE TRIGGER enrollments_next_payroll_del AFTER DELETE ON enrollments REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION enrollments_refresh_next_payroll();

-- A disposition that needs a re-review, and when.
ALTER TABLE ref_alert_dispositions ADD COLUMN review_days integer CHECK (review_days > 0);
ALTER TABLE alerts ADD COLUMN review_due date;

-- 0021's guard, and: a change of the derived amounts alone (next_payroll; money_before_payroll
-- follows) is not a new version of the alert; a disposition with review_days needs an approved
-- proposal for it (four eyes) and sets review_due; any other disposition clears it.
CREATE OR REPLACE FUNCTION alerts_lifecycle_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE review integer;
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status
     AND NOT EXISTS (SELECT 1 FROM ref_alert_transitions t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
    RAISE EXCEPTION 'alert %: % → % is not an allowed transition', OLD.alert_id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', HINT = 'see ref_alert_transitions (core/reference/alert-lifecycle.json)';
  END IF;
  IF NEW.disposition IS DISTINCT FROM OLD.disposition THEN
    IF NEW.disposition IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ref_alert_dispositions d WHERE d.code = NEW.disposition) THEN
      RAISE EXCEPTION 'alert %: unknown disposition %', OLD.alert_id, NEW.disposition USING ERRCODE = 'check_violation';
    END IF;
    SELECT d.review_days INTO review FROM ref_alert_dispositions d WHERE d.code = NEW.disposition;
    IF review IS NOT NULL THEN
      IF NOT EXISTS (SELECT 1 FROM alert_proposals p WHERE p.alert_id = OLD.alert_id AND p.state = 'approved'
                        AND p.disposition = NEW.disposition AND p.checked_at = now()) THEN
        RAISE EXCEPTION 'four eyes: alert % can be decided as % (re-review in % days) only by a proposal a second person approves',
          OLD.alert_id, NEW.disposition, review USING ERRCODE = 'check_violation', HINT = 'see alert_proposals (migration 0025)';
      END IF;
      NEW.review_due := (now() AT TIME ZONE 'Asia/Shanghai')::date + review;
    ELSE
      NEW.review_due := NULL;
    END IF;
  END IF;
  IF NEW.next_payroll IS DISTINCT FROM OLD.next_payroll
     -- (generated columns are not computed yet in NEW: left out of the comparison with the derived ones)
     AND (to_jsonb(NEW) - ARRAY['next_payroll', 'money_before_payroll', 'active']) = (to_jsonb(OLD) - ARRAY['next_payroll', 'money_before_payroll', 'active']) THEN
    RETURN NEW;
  END IF;
  NEW.version := OLD.version + 1;
  RETURN NEW;
END $$;

-- ── 2. the SLA clock ──────────────────────────────────────────────────────────────────────────────
CREATE TABLE alert_sla_clock (
  alert_id     bigint      PRIMARY KEY REFERENCES alerts(alert_id) ON DELETE CASCADE,
  start_day    date        NOT NULL,           -- the day the alert was raised (Asia/Shanghai)
  ack_at       timestamptz,                    -- first left `new`
  act_at       timestamptz,                    -- first reached `proposed` or left the open phase
  paused_days  integer     NOT NULL DEFAULT 0, -- working days of the pauses ended before act_at
  paused_since timestamptz,                    -- the pause running now (act_at not yet reached)
  ack_due      date,                           -- NULL: the rule has no priority
  act_due      date,                           -- with paused_days (a running pause is added by alert_sla)
  due_day      date,                           -- the next deadline still running (ack_due, then act_due), and
  remind_day   date                            -- its reminder: what sla_state compares today with
);

-- The due dates of an alert raised on start_day under `rule`, with `paused` working days paused before
-- acting: ack within the priority's working days; act within its working days moved by the pauses, or
-- (act_by next_payroll) before the payroll of the month after start_day — payroll_day of that month or
-- the first working day after it, which pauses do not move. No row when the rule has no priority.
CREATE FUNCTION alert_sla_dues(start_day date, rule text, paused integer, OUT ack_due date, OUT act_due date)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
  SELECT yinling_add_working_days(start_day, p.ack_working_days),
         CASE WHEN p.act_by = 'next_payroll'
              THEN (SELECT CASE WHEN COALESCE(c.working, extract(isodow FROM z.pd) < 6) THEN z.pd ELSE yinling_add_working_days(z.pd, 1) END
                      FROM (SELECT (date_trunc('month', start_day) + INTERVAL '1 month')::date + (s.payroll_day - 1) AS pd
                              FROM ref_alert_sla_settings s) z LEFT JOIN ref_calendar c ON c.day = z.pd)
              ELSE yinling_add_working_days(start_day, p.act_working_days + paused) END
    FROM ref_alert_sla_rules r JOIN ref_alert_sla_priorities p ON p.priority = r.priority
   WHERE r.rule = alert_sla_dues.rule
$$;

-- The next deadline still running (acknowledge, then act; none once both happened) and the day its
-- reminder is due: remind_at_fraction of the time from start_day to the deadline.
CREATE FUNCTION alert_sla_next(start_day date, ack_at timestamptz, act_at timestamptz, ack_due date, act_due date,
                               OUT due_day date, OUT remind_day date) LANGUAGE sql STABLE AS $$
  SELECT x.d, start_day + ceil((x.d - start_day) * (SELECT s.remind_at_fraction FROM ref_alert_sla_settings s))::int
    FROM (SELECT CASE WHEN ack_at IS NULL THEN ack_due WHEN act_at IS NULL THEN act_due END AS d) x
$$;

-- A pause still running: its working days up to today, and the act due date they move to.
CREATE FUNCTION alert_sla_running_pause(paused_since timestamptz) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN yinling_working_days((paused_since AT TIME ZONE 'Asia/Shanghai')::date, (now() AT TIME ZONE 'Asia/Shanghai')::date);
END $$;
CREATE FUNCTION alert_sla_paused_act_due(start_day date, rule text, paused_days integer, paused_since timestamptz) RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT d.act_due FROM alert_sla_dues(start_day, rule, paused_days + alert_sla_running_pause(paused_since)) d);
END $$;

-- Recompute the stored due dates (after the calendar or the SLA catalogue changed), once per distinct
-- (day, rule, paused days), and the next deadline of each clock; returns the number of clocks changed.
CREATE FUNCTION alert_sla_refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH keys AS (
    SELECT DISTINCT c.start_day, a.rule, c.paused_days FROM alert_sla_clock c JOIN alerts a USING (alert_id)
  ), dues AS (
    SELECT k.start_day, k.rule, k.paused_days, d.ack_due, d.act_due
      FROM keys k LEFT JOIN LATERAL alert_sla_dues(k.start_day, k.rule, k.paused_days) d ON true
  ), clocks AS (
    SELECT c.alert_id, d.ack_due, d.act_due, nx.due_day, nx.remind_day
      FROM alert_sla_clock c JOIN alerts a USING (alert_id)
      JOIN dues d ON d.start_day = c.start_day AND d.rule = a.rule AND d.paused_days = c.paused_days
      CROSS JOIN LATERAL alert_sla_next(c.start_day, c.ack_at, c.act_at, d.ack_due, d.act_due) nx
  )
  UPDATE alert_sla_clock c SET ack_due = x.ack_due, act_due = x.act_due, due_day = x.due_day, remind_day = x.remind_day
    FROM clocks x
   WHERE x.alert_id = c.alert_id
     AND (c.ack_due, c.act_due, c.due_day, c.remind_day) IS DISTINCT FROM (x.ack_due, x.act_due, x.due_day, x.remind_day);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- A new alert's clock (once per statement: the due dates once per distinct day and rule).
CREATE FUNCTION alerts_start_sla_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO alert_sla_clock (alert_id, start_day, ack_due, act_due, due_day, remind_day)
  SELECT n.alert_id, k.start_day, d.ack_due, d.act_due, nx.due_day, nx.remind_day
    FROM (SELECT alert_id, rule, (opened_at AT TIME ZONE 'Asia/Shanghai')::date AS start_day FROM new_alerts) n
    JOIN (SELECT DISTINCT (opened_at AT TIME ZONE 'Asia/Shanghai')::date AS start_day, rule FROM new_alerts) k USING (start_day, rule)
    LEFT JOIN LATERAL alert_sla_dues(k.start_day, k.rule, 0) d ON true
    CROSS JOIN LATERAL alert_sla_next(k.start_day, NULL, NULL, d.ack_due, d.act_due) nx;
  RETURN NULL;
END $$;
CREATE TRIGGER alerts_sla_clock AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_alerts
  FOR EACH STATEMENT EXECUTE FUNCTION alerts_start_sla_clock();

-- One status change of an alert at `step_at` advances its clock (0025's view, one event at a time):
-- leaving `new` acknowledges; reaching `proposed` or leaving the open phase acts; until it acts, a pause
-- (sla_paused states) runs from entering the state to the next change, and its working days move the
-- act due date.
CREATE FUNCTION alert_sla_clock_step(id bigint, from_status text, to_status text, step_at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c alert_sla_clock;
  st ref_alert_states;
  days integer;
BEGIN
  SELECT * INTO c FROM alert_sla_clock WHERE alert_id = id FOR UPDATE;
  IF NOT FOUND OR from_status IS NULL OR to_status IS NOT DISTINCT FROM from_status THEN
    RETURN;
  END IF;
  SELECT * INTO st FROM ref_alert_states s WHERE s.status = to_status;
  IF from_status = 'new' AND (c.ack_at IS NULL OR step_at < c.ack_at) THEN
    c.ack_at := step_at;
  END IF;
  IF c.act_at IS NULL THEN
    days := c.paused_days;
    IF c.paused_since IS NOT NULL THEN
      c.paused_days := c.paused_days + yinling_working_days((c.paused_since AT TIME ZONE 'Asia/Shanghai')::date, (step_at AT TIME ZONE 'Asia/Shanghai')::date);
      c.paused_since := NULL;
    END IF;
    IF to_status = 'proposed' OR st.phase <> 'open' THEN
      c.act_at := step_at;
    ELSIF st.sla_paused THEN
      c.paused_since := step_at;
    END IF;
    IF c.paused_days <> days THEN
      SELECT d.act_due INTO c.act_due FROM alerts a, alert_sla_dues(c.start_day, a.rule, c.paused_days) d WHERE a.alert_id = id;
    END IF;
  END IF;
  SELECT nx.due_day, nx.remind_day INTO c.due_day, c.remind_day FROM alert_sla_next(c.start_day, c.ack_at, c.act_at, c.ack_due, c.act_due) nx;
  UPDATE alert_sla_clock SET ack_at = c.ack_at, act_at = c.act_at, paused_days = c.paused_days, paused_since = c.paused_since,
                             act_due = c.act_due, due_day = c.due_day, remind_day = c.remind_day
   WHERE alert_id = id;
END $$;

CREATE FUNCTION alert_transitions_sla_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM alert_sla_clock_step(NEW.alert_id, NEW.from_status, NEW.to_status, NEW.at);
  RETURN NULL;
END $$;
CREATE TRIGGER alert_transitions_sla_clock AFTER INSERT ON alert_transitions FOR EACH ROW
  WHEN (NEW.from_status IS NOT NULL AND NEW.to_status IS DISTINCT FROM NEW.from_status)
  EXECUTE FUNCTION alert_transitions_sla_clock();

-- The clocks of the alerts already there: started, then every status change replayed in order.
INSERT INTO alert_sla_clock (alert_id, start_day)
SELECT alert_id, (opened_at AT TIME ZONE 'Asia/Shanghai')::date FROM alerts;
SELECT alert_sla_refresh();
SELECT alert_sla_clock_step(t.alert_id, t.from_status, t.to_status, t.at)
  FROM (SELECT alert_id, from_status, to_status, at, transition_id FROM alert_transitions
         WHERE from_status IS NOT NULL AND to_status IS DISTINCT FROM from_status ORDER BY at, transition_id) t;

-- The SLA of every alert, in one place (columns and meaning as in 0025; a re-review due, 3. above,
-- comes first). sla_state: met | paused | breached | reminder (past remind_at_fraction of the time
-- allowed) | ok. Per alert it compares today with the clock's stored next deadline and reminder; only
-- a pause still running is computed here (up to today).
DROP VIEW alert_sla;
CREATE VIEW alert_sla AS
SELECT d.alert_id, d.rule, d.priority, d.status, d.start_day, d.ack_due, d.act_due, d.ack_at, d.act_at, d.paused_working_days,
       (d.ack_at IS NULL AND d.today > d.ack_due) OR (d.ack_at AT TIME ZONE 'Asia/Shanghai')::date > d.ack_due AS ack_breached,
       (d.act_at IS NULL AND d.today > d.act_due) OR (d.act_at AT TIME ZONE 'Asia/Shanghai')::date > d.act_due AS act_breached,
       -- the next deadline still running (a re-review first) and when its reminder is due
       CASE WHEN d.review_due IS NOT NULL THEN d.review_due ELSE d.due_day END AS due_day,
       CASE WHEN d.review_due IS NOT NULL THEN d.review_due - d.review_days + ceil(d.review_days * d.fraction)::int ELSE d.remind_day END
         AS remind_day,
       CASE WHEN d.review_due IS NOT NULL THEN
              CASE WHEN d.today > d.review_due THEN 'breached'
                   WHEN d.today >= d.review_due - d.review_days + ceil(d.review_days * d.fraction)::int THEN 'reminder' ELSE 'ok' END
            WHEN d.priority IS NULL OR (d.ack_at IS NOT NULL AND d.act_at IS NOT NULL) THEN 'met'
            WHEN d.sla_paused THEN 'paused'
            WHEN d.today > d.due_day THEN 'breached'
            WHEN d.today >= d.remind_day THEN 'reminder'
            ELSE 'ok' END AS sla_state
  FROM (SELECT a.alert_id, a.rule, r.priority, a.status, st.sla_paused, c.start_day, c.ack_due, c.ack_at, c.act_at,
               a.review_due, rd.review_days, (now() AT TIME ZONE 'Asia/Shanghai')::date AS today,
               (SELECT s.remind_at_fraction FROM ref_alert_sla_settings s) AS fraction,
               -- a pause still running counts up to today (then the act deadline is the one running)
               CASE WHEN c.paused_since IS NULL THEN c.act_due
                    ELSE alert_sla_paused_act_due(c.start_day, a.rule, c.paused_days, c.paused_since) END AS act_due,
               CASE WHEN c.paused_since IS NULL OR c.ack_at IS NULL THEN c.due_day
                    ELSE alert_sla_paused_act_due(c.start_day, a.rule, c.paused_days, c.paused_since) END AS due_day,
               CASE WHEN c.paused_since IS NULL OR c.ack_at IS NULL THEN c.remind_day
                    ELSE c.start_day + ceil((alert_sla_paused_act_due(c.start_day, a.rule, c.paused_days, c.paused_since) - c.start_day)
                                            * (SELECT s.remind_at_fraction FROM ref_alert_sla_settings s))::int END AS remind_day,
               c.paused_days + CASE WHEN c.paused_since IS NULL THEN 0 ELSE alert_sla_running_pause(c.paused_since) END AS paused_working_days
          FROM alerts a
          JOIN alert_sla_clock c ON c.alert_id = a.alert_id
          JOIN ref_alert_states st ON st.status = a.status
          LEFT JOIN ref_alert_sla_rules r ON r.rule = a.rule
          LEFT JOIN ref_alert_dispositions rd ON rd.code = a.disposition) d;

-- Down Migration
DROP VIEW alert_sla;
DROP TRIGGER alert_transitions_sla_clock ON alert_transitions;
DROP FUNCTION alert_transitions_sla_clock();
DROP FUNCTION alert_sla_clock_step(bigint, text, text, timestamptz);
DROP TRIGGER alerts_sla_clock ON alerts;
DROP FUNCTION alerts_start_sla_clock();
DROP FUNCTION alert_sla_refresh();
DROP FUNCTION alert_sla_paused_act_due(date, text, integer, timestamptz);
DROP FUNCTION alert_sla_running_pause(timestamptz);
DROP FUNCTION alert_sla_next(date, timestamptz, timestamptz, date, date);
DROP FUNCTION alert_sla_dues(date, text, integer);
DROP TABLE alert_sla_clock;
DROP TRIGGER enrollments_next_payroll_ins ON enrollments;
DROP TRIGGER enrollments_next_payroll_upd ON enrollments;
DROP TRIGGER enrollments_next_payroll_del ON enrollments;
DROP FUNCTION enrollments_refresh_next_payroll();
DROP TRIGGER alerts_next_payroll ON alerts;
DROP FUNCTION alerts_next_payroll();
DROP INDEX alerts_queue_money;
ALTER TABLE alerts DROP COLUMN money_before_payroll, DROP COLUMN next_payroll, DROP COLUMN review_due;
ALTER TABLE ref_alert_dispositions DROP COLUMN review_days;
CREATE OR REPLACE FUNCTION alerts_lifecycle_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- 0025's view
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
