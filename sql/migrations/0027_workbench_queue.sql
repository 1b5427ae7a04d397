-- Up Migration
-- 0027 the auditors' queue (/workbench/alerts, issue 15): what its default order and keyset pages
-- read, and each auditor's saved filters.
--
-- The queue's default order is "money at risk before the next payroll month", descending: the alert's
-- amount at risk (what has gone out already) plus the person's next-payroll exposure — the monthly
-- amounts of their enrollments still `active`, which the next payroll pays again unless someone acts
-- (dashboard/lib/server/workbench/queue.ts, one definition). Exposure is read per alert by an
-- index-only scan of the partial index below (id_number → monthly_amount of active enrollments).
-- The fallback order, amount_at_risk descending, and the "newest" order page through indexes on the
-- open alerts (alerts.active, 0021) with the alert id as the tie-breaker, so a page never needs OFFSET.

CREATE INDEX enrollments_active_amount ON enrollments (id_number) INCLUDE (monthly_amount) WHERE status = 'active';
CREATE INDEX alerts_queue_amount ON alerts (amount_at_risk DESC, alert_id DESC) WHERE active;
CREATE INDEX alerts_queue_opened ON alerts (opened_at DESC, alert_id DESC) WHERE active;
CREATE INDEX alerts_assignee ON alerts (assignee) WHERE assignee IS NOT NULL;

-- A saved filter is the queue's query string under a name, per user (staff_users.username).
CREATE TABLE workbench_saved_filters (
  filter_id  bigserial PRIMARY KEY,
  username   text        NOT NULL,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  query      text        NOT NULL CHECK (length(query) <= 2000),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (username, name)
);

-- Down Migration
DROP TABLE workbench_saved_filters;
DROP INDEX alerts_assignee, alerts_queue_opened, alerts_queue_amount, enrollments_active_amount;
