-- Up Migration
-- 0006 domain engines (issue 3): the rule configuration table and the tables the engines write —
-- certification status and its dated events, risk clock and recording lags, subsidy matches and
-- payout lists, retirement months and reminders, community assignments — plus the columns the
-- engines need on alerts, cases and tasks (0004). Every row says which run produced it.

-- Rule configuration: seeds/catalogues/rules.json, one row per leaf (key = dotted path).
CREATE TABLE ref_rules (
  rule_key  text PRIMARY KEY,
  section   text        NOT NULL,
  value     jsonb       NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);

-- Incremental engine runs look for feed rows loaded since their last run: BRIN on loaded_at (rows
-- arrive in load order, so the index is tiny and nearly free to maintain) for the big feeds.
CREATE INDEX payments_loaded_brin ON payments USING brin (loaded_at);
CREATE INDEX evidence_loaded_brin ON evidence USING brin (loaded_at);
CREATE INDEX subsidies_loaded_brin ON subsidies USING brin (loaded_at);

-- Exact median of numbers (money stays numeric: the mean of the two middle values for an even count).
CREATE FUNCTION yinling_median(numeric[]) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n = 0 THEN NULL WHEN n % 2 = 1 THEN s[(n + 1) / 2] ELSE (s[n / 2] + s[n / 2 + 1]) / 2 END
    FROM (SELECT array_agg(v ORDER BY v) AS s, count(v)::int AS n FROM unnest($1) AS v) x
$$;

-- Silent certification: one row per benefit recipient, as of the last certify run.
CREATE TABLE cert_status (
  id_number        text PRIMARY KEY,
  as_of            date        NOT NULL,
  status           text        NOT NULL CHECK (status IN ('certified', 'not_certified', 'negative')),
  method           text,                        -- silent | face_online | field_visit | kiosk | counter
  certified_at     date,                        -- date of the evidence/certification that certifies
  valid_until      date,
  rule             text        NOT NULL,        -- negative_death | negative_custody | strong_evidence | weak_corroboration | explicit_certification | expired | never_certified
  evidence_ids     text[]      NOT NULL DEFAULT '{}',
  last_certified_at date,                       -- most recent basis ever (also when expired)
  last_valid_until date,
  region_code      text,                        -- the person's community (residence, else hukou)
  run_id           bigint,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cert_status_status ON cert_status (status, method);
CREATE INDEX cert_status_valid_until ON cert_status (valid_until);

-- Dated certification events, so a person's history can be replayed: certified (a new basis),
-- reminder (30 days before expiry), field_task (at expiry), suspension (60 days after expiry, or
-- negative), resumption (certified again after a suspension). cycle_key ties the steps of one
-- lapse together (the lapsed valid_until, or the negative record's date); one event per step.
CREATE TABLE cert_events (
  event_id    bigserial PRIMARY KEY,
  id_number   text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('certified', 'reminder', 'field_task', 'suspension', 'resumption')),
  event_date  date        NOT NULL,
  cycle_key   date        NOT NULL,
  reason      text,                             -- e.g. not_certified, negative_death, negative_custody
  method      text,
  rule        text,
  evidence_ids text[]     NOT NULL DEFAULT '{}',
  region_code text,
  as_of       date        NOT NULL,             -- the run's as-of date that first recorded it
  run_id      bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id_number, kind, cycle_key)
);
CREATE INDEX cert_events_person ON cert_events (id_number, event_date);
CREATE INDEX cert_events_kind_date ON cert_events (kind, event_date);

-- Screens over every paid payment version ever loaded (no as-of): per person and scheme, and per
-- account. detect-risk keeps them current by merging the rows loaded since its last run (and rebuilds
-- them from scratch now and then); they only pick candidates — a stale entry can only widen the
-- screen, never hide a case — and the rules then read the exact payments of the candidates. Derived
-- data, so UNLOGGED (no WAL); after a crash they are empty and the next run rebuilds them.
CREATE UNLOGGED TABLE risk_pay_screen (
  id_number   text NOT NULL,
  scheme_code text NOT NULL,
  min_amount  numeric(14,2) NOT NULL,
  max_amount  numeric(14,2) NOT NULL,
  payments    bigint NOT NULL,
  max_period  date NOT NULL,
  PRIMARY KEY (id_number, scheme_code)
);
CREATE UNLOGGED TABLE risk_account_screen (
  account_no text PRIMARY KEY,
  min_id     text NOT NULL,
  max_id     text NOT NULL
);
-- Small engine bookkeeping (e.g. the screens' watermark and last rebuild).
CREATE TABLE engine_state (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Money-at-risk clock per death / custody record: event → department record → benefit stop.
CREATE TABLE risk_clock (
  record_id        text        NOT NULL,
  event_kind       text        NOT NULL CHECK (event_kind IN ('death', 'custody')),
  id_number        text        NOT NULL,
  source           text        NOT NULL,
  event_date       date        NOT NULL,
  recorded_on      date,
  first_due_period date        NOT NULL,        -- first payment period that should not have been paid
  stop_period      date,                        -- first period from then on without a paid pension; NULL = still paid
  days_to_record   integer,
  days_to_stop     integer,                     -- event → stop (NULL while still paid)
  days_running     integer,                     -- event → as-of while still paid
  amount_paid      numeric(14,2) NOT NULL DEFAULT 0,  -- paid meanwhile (periods ≥ first_due_period)
  periods_paid     integer     NOT NULL DEFAULT 0,
  stopped_timely   boolean,                     -- stopped before the first payment run after the record arrived
  as_of            date        NOT NULL,
  run_id           bigint,
  PRIMARY KEY (event_kind, record_id)
);
CREATE INDEX risk_clock_person ON risk_clock (id_number);

-- Per source, the typical (median) delay between the event and the department's record.
CREATE TABLE risk_source_lags (
  event_kind  text    NOT NULL,
  source      text    NOT NULL,
  records     integer NOT NULL,
  median_days numeric(10,1),
  p90_days    numeric(10,1),
  max_days    integer,
  as_of       date    NOT NULL,
  run_id      bigint,
  PRIMARY KEY (event_kind, source)
);

-- Policy finds people: per project and person, eligibility with its facts and whether paid.
CREATE TABLE subsidy_matches (
  project_code  text    NOT NULL,
  id_number     text    NOT NULL,
  eligible      boolean NOT NULL,
  receiving     boolean NOT NULL,
  category      text    NOT NULL CHECK (category IN ('eligible_receiving', 'eligible_not_receiving', 'receiving_not_eligible')),
  facts         jsonb   NOT NULL DEFAULT '{}'::jsonb,
  amount        numeric(14,2),
  last_payout_period date,
  region_code   text,
  as_of         date    NOT NULL,
  run_id        bigint,
  PRIMARY KEY (project_code, id_number)
);
CREATE INDEX subsidy_matches_category ON subsidy_matches (category, project_code);

-- The monthly payout list per project (per event for per-event projects: event_key).
CREATE TABLE subsidy_payout_list (
  project_code text    NOT NULL,
  period       date    NOT NULL,
  id_number    text    NOT NULL,
  event_key    text    NOT NULL DEFAULT '',
  amount       numeric(14,2) NOT NULL,
  facts        jsonb   NOT NULL DEFAULT '{}'::jsonb,
  region_code  text,
  as_of        date    NOT NULL,
  run_id       bigint,
  PRIMARY KEY (project_code, period, id_number, event_key)
);

-- Statutory retirement month of every insured person (2025 reform).
CREATE TABLE retirements (
  id_number            text PRIMARY KEY,
  basis                text    NOT NULL,
  basis_source         text    NOT NULL CHECK (basis_source IN ('registry', 'derived_from_sex')),
  birth_month          date    NOT NULL,
  statutory_age_months integer NOT NULL,
  retirement_month     date    NOT NULL,
  months_to_retirement integer NOT NULL,
  region_code          text,
  as_of                date    NOT NULL,
  run_id               bigint
);
CREATE INDEX retirements_month ON retirements (retirement_month);

-- Retirement reminders, once per (person, retirement month, milestone).
CREATE TABLE retirement_reminders (
  reminder_id      bigserial PRIMARY KEY,
  id_number        text    NOT NULL,
  retirement_month date    NOT NULL,
  milestone_months integer NOT NULL,
  due_on           date    NOT NULL,
  region_code      text,
  as_of            date    NOT NULL,
  run_id           bigint,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id_number, retirement_month, milestone_months)
);

-- Community assignment of retirees (residence community, else hukou community) with the report-in record.
CREATE TABLE community_assignments (
  assignment_id  bigserial PRIMARY KEY,
  id_number      text    NOT NULL,
  community_code text    NOT NULL,
  basis          text    NOT NULL CHECK (basis IN ('residence', 'hukou')),
  retired_on     date,
  assigned_on    date    NOT NULL,
  report_in_due  date,
  reported_in_at timestamptz,
  ended_on       date,                     -- set when the person moved and was reassigned
  end_reason     text,
  run_id         bigint,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX community_assignments_current ON community_assignments (id_number) WHERE ended_on IS NULL;
CREATE INDEX community_assignments_community ON community_assignments (community_code) WHERE ended_on IS NULL;

-- Alerts: the facts behind the finding (death date, median, people on the account…) and the run.
ALTER TABLE alerts ADD COLUMN detail jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE alerts ADD COLUMN last_seen_run bigint;

-- Cases: the after-death amounts as columns (indicators sum them), the close reason.
ALTER TABLE cases ADD COLUMN death_date date;
ALTER TABLE cases ADD COLUMN amount_overpaid numeric(14,2);
ALTER TABLE cases ADD COLUMN funeral_grant numeric(14,2);
ALTER TABLE cases ADD COLUMN account_balance numeric(14,2);
ALTER TABLE cases ADD COLUMN close_reason text;
ALTER TABLE cases ADD COLUMN run_id bigint;

-- Tasks: a dedup key so engines create each task once, what it is about, who made it.
ALTER TABLE tasks ADD COLUMN dedup_key text;
ALTER TABLE tasks ADD COLUMN detail jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE tasks ADD COLUMN created_by text;
ALTER TABLE tasks ADD COLUMN run_id bigint;
CREATE UNIQUE INDEX tasks_dedup ON tasks (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX tasks_case ON tasks (case_id);

-- Down Migration
DROP INDEX IF EXISTS tasks_case;
DROP INDEX IF EXISTS tasks_dedup;
ALTER TABLE tasks DROP COLUMN IF EXISTS run_id, DROP COLUMN IF EXISTS created_by, DROP COLUMN IF EXISTS detail, DROP COLUMN IF EXISTS dedup_key;
ALTER TABLE cases DROP COLUMN IF EXISTS run_id, DROP COLUMN IF EXISTS close_reason, DROP COLUMN IF EXISTS account_balance,
  DROP COLUMN IF EXISTS funeral_grant, DROP COLUMN IF EXISTS amount_overpaid, DROP COLUMN IF EXISTS death_date;
ALTER TABLE alerts DROP COLUMN IF EXISTS last_seen_run, DROP COLUMN IF EXISTS detail;
DROP TABLE IF EXISTS engine_state, risk_account_screen, risk_pay_screen;
DROP TABLE IF EXISTS community_assignments, retirement_reminders, retirements, subsidy_payout_list, subsidy_matches,
  risk_source_lags, risk_clock, cert_events, cert_status, ref_rules;
DROP FUNCTION IF EXISTS yinling_median(numeric[]);
DROP INDEX IF EXISTS subsidies_loaded_brin, evidence_loaded_brin, payments_loaded_brin;
