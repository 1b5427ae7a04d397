-- Up Migration
-- 0002 system records: job runs, delivered files, quarantine, row history, reference catalogues.

-- Every job execution (ingest, engines, refreshes). read = loaded + replaced + quarantined.
CREATE TABLE job_runs (
  run_id       bigserial,
  job          text        NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  status       text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
  trigger      text        NOT NULL DEFAULT 'manual',   -- manual | schedule | startup | dependency
  as_of        date,
  rows_read        bigint NOT NULL DEFAULT 0,
  rows_loaded      bigint NOT NULL DEFAULT 0,
  rows_replaced    bigint NOT NULL DEFAULT 0,
  rows_quarantined bigint NOT NULL DEFAULT 0,
  counts       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- job-specific figures
  error        text,
  host         text,
  PRIMARY KEY (run_id, started_at)
);
CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC);
SELECT yinling_hypertable('job_runs', 'started_at', '1 month');

-- Every delivered file, by content hash: a file is loaded once whatever its name or how often it arrives.
CREATE TABLE ingest_files (
  file_id      bigserial PRIMARY KEY,
  feed         text        NOT NULL,
  file_name    text        NOT NULL,
  content_sha256 text      NOT NULL UNIQUE,
  size_bytes   bigint      NOT NULL,
  encoding     text,
  status       text        NOT NULL CHECK (status IN ('loading', 'loaded', 'rejected')),
  reason       text,                                   -- why a whole file was rejected
  rows_read        bigint NOT NULL DEFAULT 0,
  rows_loaded      bigint NOT NULL DEFAULT 0,
  rows_replaced    bigint NOT NULL DEFAULT 0,
  rows_quarantined bigint NOT NULL DEFAULT 0,
  unknown_columns text[],
  run_id       bigint,
  received_at  timestamptz NOT NULL DEFAULT now(),
  loaded_at    timestamptz
);
CREATE INDEX ingest_files_feed ON ingest_files (feed, received_at DESC);

-- Rows (or whole files, line NULL) that could not be loaded, with the reason a person can act on.
CREATE TABLE quarantine (
  quarantine_id bigserial PRIMARY KEY,
  file_id      bigint REFERENCES ingest_files(file_id),
  feed         text        NOT NULL,
  file_name    text        NOT NULL,
  line_no      integer,
  raw_line     text,
  reason       text        NOT NULL,
  reason_code  text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (file_id, line_no, reason_code)
);
CREATE INDEX quarantine_feed ON quarantine (feed, created_at DESC);

-- Previous versions of replaced rows (corrections): which row, what it was, which file replaced it.
CREATE TABLE row_history (
  history_id   bigserial PRIMARY KEY,
  feed         text        NOT NULL,
  natural_key  text        NOT NULL,
  old_row      jsonb       NOT NULL,
  replaced_by_file bigint REFERENCES ingest_files(file_id),
  replaced_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX row_history_key ON row_history (feed, natural_key);

-- Reference catalogues, loaded from seeds/catalogues/*.json by `yinling migrate` (deployments may extend).
CREATE TABLE ref_schemes (
  scheme_code     text PRIMARY KEY,
  name_zh         text NOT NULL,
  name_en         text NOT NULL,
  exclusive_group text,
  is_pension      boolean NOT NULL
);
CREATE TABLE ref_subsidy_projects (
  project_code text PRIMARY KEY,
  name_zh      text NOT NULL,
  name_en      text NOT NULL,
  per          text NOT NULL CHECK (per IN ('month', 'event')),
  amount       numeric(14,2) NOT NULL,
  eligibility  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE TABLE ref_evidence_kinds (
  kind     text PRIMARY KEY,
  strength text NOT NULL CHECK (strength IN ('strong', 'weak')),
  name_zh  text NOT NULL
);
CREATE TABLE ref_evidence_sources (
  source_code text PRIMARY KEY,
  name_zh     text NOT NULL,
  department  text NOT NULL
);

-- Down Migration
DROP TABLE ref_evidence_sources, ref_evidence_kinds, ref_subsidy_projects, ref_schemes, row_history, quarantine, ingest_files, job_runs;
