-- Up Migration
-- 0004 workflow and security: staff accounts with region scope, sessions, kiosk tokens, the
-- append-only audit log, risk alerts with their transitions, recovery, cases and tasks.
-- Engines write alerts/cases/tasks; people move them only through the service modules, which
-- also write the audit log.

CREATE TABLE staff_users (
  user_id       bigserial PRIMARY KEY,
  username      text        NOT NULL UNIQUE,
  display_name  text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('leader', 'auditor', 'staff', 'admin')),
  region_code   text        NOT NULL,          -- scope: this region and everything below it
  password_hash text        NOT NULL,          -- scrypt, salted (see dashboard/lib/server/auth)
  disabled      boolean     NOT NULL DEFAULT false,
  failed_logins integer     NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

CREATE TABLE staff_sessions (
  session_id_hash text PRIMARY KEY,            -- sha256 of the cookie value; the value itself is never stored
  user_id      bigint      NOT NULL REFERENCES staff_users(user_id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ip           text,
  user_agent   text
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

-- Read-only tokens for wall screens: scoped, revocable, privacy mode on by default.
CREATE TABLE kiosk_tokens (
  token_id     bigserial PRIMARY KEY,
  token_hash   text        NOT NULL UNIQUE,
  label        text        NOT NULL,
  region_code  text        NOT NULL,
  privacy_mode boolean     NOT NULL DEFAULT true,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- Append-only: who saw or changed what, when and why.
CREATE TABLE audit_log (
  audit_id    bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_type  text        NOT NULL CHECK (actor_type IN ('staff', 'kiosk', 'resident', 'operator', 'system')),
  actor       text        NOT NULL,
  action      text        NOT NULL,        -- e.g. login, unmask.person, alert.assign, export.persons
  subject     text,                        -- what it concerns (id_number, alert id, dataset…)
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  ip          text
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_subject ON audit_log (subject, at DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Fund-risk alerts. One open alert per (rule, id_number, dedup_key); re-runs update it.
CREATE TABLE alerts (
  alert_id       bigserial PRIMARY KEY,
  rule           text        NOT NULL CHECK (rule IN ('paid_after_death', 'paid_in_custody', 'double_receipt',
                                   'abnormal_amount', 'shared_account', 'post_death_activity', 'no_sign_of_life')),
  id_number      text        NOT NULL,
  dedup_key      text        NOT NULL DEFAULT '',   -- e.g. account_no for shared_account, scheme for abnormal_amount
  severity       text        NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'investigating', 'confirmed', 'dismissed')),
  amount_at_risk numeric(14,2) NOT NULL DEFAULT 0,
  periods        date[]      NOT NULL DEFAULT '{}',
  evidence       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- ids of payments/deaths/evidence rows behind it
  region_code    text,                                       -- community, for scoping and drill-down
  assignee       text,
  opened_at      timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  closed_at      timestamptz,
  close_reason   text,
  amount_due     numeric(14,2),                              -- set when confirmed (recovery case)
  run_id         bigint
);
CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, id_number, dedup_key) WHERE status NOT IN ('confirmed', 'dismissed');
CREATE INDEX alerts_status ON alerts (status, opened_at DESC);
CREATE INDEX alerts_person ON alerts (id_number);
CREATE INDEX alerts_region ON alerts (region_code);

CREATE TABLE alert_transitions (
  transition_id bigserial PRIMARY KEY,
  alert_id    bigint      NOT NULL REFERENCES alerts(alert_id),
  from_status text,
  to_status   text        NOT NULL,
  actor       text        NOT NULL,     -- user name, or 'system' for engine updates
  reason      text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_transitions_alert ON alert_transitions (alert_id, at);

-- Money recovered on confirmed alerts, recorded over time.
CREATE TABLE recoveries (
  recovery_id bigserial PRIMARY KEY,
  alert_id    bigint        NOT NULL REFERENCES alerts(alert_id),
  amount      numeric(14,2) NOT NULL CHECK (amount > 0),
  recovered_on date         NOT NULL,
  recorded_by text          NOT NULL,
  note        text,
  recorded_at timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX recoveries_alert ON recoveries (alert_id);

-- Tracked cases (after-death one-thing, recovery) and the tasks that close them.
CREATE TABLE cases (
  case_id     bigserial PRIMARY KEY,
  kind        text        NOT NULL CHECK (kind IN ('after_death', 'recovery')),
  id_number   text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('reported', 'open', 'closed')),
  opened_at   timestamptz NOT NULL DEFAULT now(),
  closed_at   timestamptz,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  region_code text
);
CREATE UNIQUE INDEX cases_one_per_person ON cases (kind, id_number) WHERE status <> 'closed';

CREATE TABLE tasks (
  task_id     bigserial PRIMARY KEY,
  kind        text        NOT NULL,          -- field_verification, suspend_benefit, funeral_grant, …
  id_number   text        NOT NULL,
  region_code text,                          -- the community that must act
  department  text,
  case_id     bigint REFERENCES cases(case_id),
  status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  due_on      date,
  created_at  timestamptz NOT NULL DEFAULT now(),
  done_at     timestamptz,
  result      jsonb
);
CREATE INDEX tasks_open ON tasks (status, region_code);
CREATE INDEX tasks_person ON tasks (id_number);

-- Down Migration
DROP TABLE tasks, cases, recoveries, alert_transitions, alerts, audit_log, kiosk_tokens, staff_sessions, staff_users;
DROP FUNCTION audit_log_append_only();
