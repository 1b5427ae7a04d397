-- The residents' portal (/portal): residents sign in with their ID number and a one-time code sent by
-- SMS to the phone the registry holds; their sessions are apart from staff sessions. The SMS outbox
-- records every message the portal sends (the code itself only when no gateway is configured — demo
-- and tests read it there; a real gateway's rows keep the text without the code). core/residents.ts.
CREATE TABLE resident_codes (
  id_number    text        PRIMARY KEY,
  code_hash    text        NOT NULL,            -- SHA-256 of id_number:code
  sent_at      timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  wrong        integer     NOT NULL DEFAULT 0,  -- wrong codes since the last good one
  locked_until timestamptz
);

CREATE TABLE resident_sessions (
  session_id_hash text        PRIMARY KEY,
  id_number       text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  ip              text,
  user_agent      text
);
CREATE INDEX resident_sessions_person ON resident_sessions (id_number);

CREATE TABLE sms_outbox (
  sms_id     bigserial   PRIMARY KEY,
  phone      text        NOT NULL,
  body       text        NOT NULL,
  purpose    text        NOT NULL,               -- sign_in | …
  channel    text        NOT NULL CHECK (channel IN ('outbox', 'gateway')),
  status     text        NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'failed')),
  error      text,
  created_at timestamptz NOT NULL DEFAULT now()
);
