-- Up Migration
-- The portal's death report asks one question per page; the answers wait here, server-side and keyed
-- by the signed-in reporter's own ID number (never in the URL, never trusted from a form), until the
-- declaration page submits them (core/workflow/death-reports.ts). Submitting empties the answers —
-- the report itself lives in the after-death case — and keeps only the result for the result page.
CREATE TABLE death_report_drafts (
  reporter_id text        PRIMARY KEY,
  answers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  result      jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE death_report_drafts;
