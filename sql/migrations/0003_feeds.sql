-- Up Migration
-- 0003 feeds: one table per department feed (docs/feeds.md), loaded by jobs/ingest.
--
-- Conventions for every feed table:
--   * columns are named and typed as in docs/feeds.md: dates `date`, timestamps `timestamptz`,
--     periods `date` (first day of the month), money `numeric(14,2)`, fixed enumerations as
--     text with a CHECK; catalogue codes (scheme, project, evidence kind/source) are checked by
--     the loader against the ref_* tables, not by constraints, so deployments can extend them;
--   * required columns are NOT NULL;
--   * file_id / line_no say which delivered file and line produced the current version (no
--     foreign key: it would cost a lookup per loaded row; ingest_files rows are never deleted);
--     loaded_at is when that version was loaded; older versions live in row_history;
--   * the natural key is unique (yinling_unique_key: on a hypertable the time column joins the
--     unique index and the loader keeps one current row per key itself);
--   * no foreign key to persons: rows may arrive before their person (docs/feeds.md);
--   * an id_number index on every person-related feed; where a composite index starts with
--     id_number it serves that access path and no single-column index is added.

-- regions: the area tree city → district → town → community (key: code).
CREATE TABLE regions (
  code        text NOT NULL,
  name        text NOT NULL,
  level       text NOT NULL CHECK (level IN ('city', 'district', 'town', 'community')),
  parent_code text,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((level = 'city') = (parent_code IS NULL))
);
SELECT yinling_unique_key('regions', 'regions_key', 'code', NULL);
CREATE INDEX regions_parent ON regions (parent_code);

-- persons: the registry from the provincial social-security system (key: id_number).
-- sex and birth_date are always filled: given values must agree with the id_number, absent ones are derived from it.
CREATE TABLE persons (
  id_number         text NOT NULL,
  name              text NOT NULL,
  sex               text NOT NULL CHECK (sex IN ('M', 'F')),
  birth_date        date NOT NULL,
  phone             text,
  hukou_region      text NOT NULL,
  residence_region  text,
  residence_outside text,
  status            text NOT NULL CHECK (status IN ('insured', 'retired')),
  retirement_basis  text CHECK (retirement_basis IN ('M60', 'F55', 'F50')),
  retired_on        date,
  updated_at        timestamptz,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('persons', 'persons_key', 'id_number', NULL);
CREATE INDEX persons_hukou ON persons (hukou_region);
CREATE INDEX persons_residence ON persons (residence_region);
CREATE INDEX persons_status ON persons (status);

-- enrollments: who is entitled to which scheme (key: enrollment_id).
CREATE TABLE enrollments (
  enrollment_id    text NOT NULL,
  id_number        text NOT NULL,
  scheme_code      text NOT NULL,
  status           text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
  monthly_amount   numeric(14,2) NOT NULL CHECK (monthly_amount >= 0),
  start_period     date NOT NULL,
  end_period       date,
  account_no       text,
  suspended_reason text,
  updated_at       timestamptz,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('enrollments', 'enrollments_key', 'enrollment_id', NULL);
CREATE INDEX enrollments_person_status ON enrollments (id_number, status);

-- payments: monthly benefit payments (key: payment_id). Hypertable on period when TimescaleDB is present.
CREATE TABLE payments (
  payment_id  text NOT NULL,
  id_number   text NOT NULL,
  scheme_code text NOT NULL,
  period      date NOT NULL,
  amount      numeric(14,2) NOT NULL CHECK (amount >= 0),
  paid_at     timestamptz,
  status      text NOT NULL CHECK (status IN ('paid', 'failed', 'returned')),
  account_no  text,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_hypertable('payments', 'period', '3 months', '6 months', 'scheme_code');
SELECT yinling_unique_key('payments', 'payments_key', 'payment_id', 'period');
CREATE INDEX payments_person_scheme_period ON payments (id_number, scheme_code, period);
CREATE INDEX payments_period_status ON payments (period, status);
CREATE INDEX payments_account_period ON payments (account_no, period);

-- evidence: behaviour records used for silent certification (key: evidence_id). Hypertable on occurred_at.
CREATE TABLE evidence (
  evidence_id text NOT NULL,
  id_number   text NOT NULL,
  source      text NOT NULL,
  kind        text NOT NULL,
  occurred_at timestamptz NOT NULL,
  region      text,
  detail      text,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_hypertable('evidence', 'occurred_at', '1 month');
SELECT yinling_unique_key('evidence', 'evidence_key', 'evidence_id', 'occurred_at');
CREATE INDEX evidence_person_time ON evidence (id_number, occurred_at);

-- certifications: explicit certifications (key: certification_id).
CREATE TABLE certifications (
  certification_id text NOT NULL,
  id_number        text NOT NULL,
  method           text NOT NULL CHECK (method IN ('face_online', 'field_visit', 'kiosk', 'counter')),
  certified_at     timestamptz NOT NULL,
  result           text NOT NULL CHECK (result IN ('pass', 'fail')),
  operator         text,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('certifications', 'certifications_key', 'certification_id', NULL);
CREATE INDEX certifications_person ON certifications (id_number, certified_at);

-- deaths: death records from four departments (key: record_id).
CREATE TABLE deaths (
  record_id   text NOT NULL,
  id_number   text NOT NULL,
  death_date  date NOT NULL,
  source      text NOT NULL CHECK (source IN ('public_security', 'health', 'civil_affairs', 'court')),
  recorded_at timestamptz,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('deaths', 'deaths_key', 'record_id', NULL);
CREATE INDEX deaths_person ON deaths (id_number);

-- imprisonments: custody records; end_date NULL = still in custody (key: record_id).
CREATE TABLE imprisonments (
  record_id   text NOT NULL,
  id_number   text NOT NULL,
  start_date  date NOT NULL,
  end_date    date,
  source      text NOT NULL CHECK (source IN ('prison', 'court', 'public_security')),
  recorded_at timestamptz,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('imprisonments', 'imprisonments_key', 'record_id', NULL);
CREATE INDEX imprisonments_person ON imprisonments (id_number);

-- subsidies: subsidy payouts per project and month (key: payout_id). Hypertable on period.
CREATE TABLE subsidies (
  payout_id    text NOT NULL,
  id_number    text NOT NULL,
  project_code text NOT NULL,
  period       date NOT NULL,
  amount       numeric(14,2) NOT NULL CHECK (amount >= 0),
  paid_at      timestamptz,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_hypertable('subsidies', 'period', '3 months');
SELECT yinling_unique_key('subsidies', 'subsidies_key', 'payout_id', 'period');
CREATE INDEX subsidies_person_project_period ON subsidies (id_number, project_code, period);
CREATE INDEX subsidies_project_period ON subsidies (project_code, period);

-- hardship: hardship status from civil affairs and the disability federation (key: id_number + kind + since).
-- The unique key starts with id_number and serves lookups by person.
CREATE TABLE hardship (
  id_number text NOT NULL,
  kind      text NOT NULL CHECK (kind IN ('minimum_living', 'extreme_poverty', 'disability', 'low_income')),
  level     text,
  since     date NOT NULL,
  until     date,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('hardship', 'hardship_key', 'id_number, kind, since', NULL);

-- checkups: health checkups (key: checkup_id). Hypertable on booked_for.
CREATE TABLE checkups (
  checkup_id  text NOT NULL,
  id_number   text NOT NULL,
  hospital    text,
  booked_for  date NOT NULL,
  attended_at timestamptz,
  result      text CHECK (result IN ('normal', 'abnormal', 'pending')),
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_hypertable('checkups', 'booked_for', '3 months');
SELECT yinling_unique_key('checkups', 'checkups_key', 'checkup_id', 'booked_for');
CREATE INDEX checkups_person ON checkups (id_number, booked_for);

-- fund_ledger: the `fund` feed, monthly fund ledger per scheme (key: period + scheme_code).
-- balance may be negative (a deficit); income and expenditure may not.
CREATE TABLE fund_ledger (
  period      date NOT NULL,
  scheme_code text NOT NULL,
  income      numeric(14,2) NOT NULL CHECK (income >= 0),
  expenditure numeric(14,2) NOT NULL CHECK (expenditure >= 0),
  balance     numeric(14,2) NOT NULL,
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_unique_key('fund_ledger', 'fund_ledger_key', 'period, scheme_code', NULL);

-- activities: activity and elderly-education sign-ups (key: signup_id). Hypertable on signed_up_at.
CREATE TABLE activities (
  signup_id     text NOT NULL,
  id_number     text NOT NULL,
  activity_code text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('activity', 'education')),
  signed_up_at  timestamptz NOT NULL,
  attended_at   timestamptz,
  satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
  file_id     bigint,
  line_no     integer,
  loaded_at   timestamptz NOT NULL DEFAULT now()
);
SELECT yinling_hypertable('activities', 'signed_up_at', '3 months');
SELECT yinling_unique_key('activities', 'activities_key', 'signup_id', 'signed_up_at');
CREATE INDEX activities_person ON activities (id_number, signed_up_at);

-- Secondary indexes the loader dropped for a bulk load (rebuilding an index once is far cheaper than
-- maintaining it row by row). The loader re-creates every index listed here when the bulk load ends
-- and at the start of every ingest run, so an interrupted load never leaves an index missing for long.
CREATE TABLE ingest_deferred_indexes (
  index_name  text PRIMARY KEY,
  table_name  text        NOT NULL,
  definition  text        NOT NULL,
  dropped_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS ingest_deferred_indexes, activities, fund_ledger, checkups, hardship, subsidies, imprisonments, deaths,
  certifications, evidence, payments, enrollments, persons, regions;
