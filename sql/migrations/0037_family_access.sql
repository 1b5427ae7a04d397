-- Up Migration
-- 0037 family access, and activities and elderly education, on the resident portal (issue 16).
-- Family access (point 8; core/family-access.ts): a signed-in
-- resident (the helper, e.g. a son or daughter) asks to act for a parent by the parent's ID number; the
-- parent consents with a one-time code texted to the parent's phone; the link has a role (view, help
-- with certification, submit requests) and lasts 12 months from the consent. The database keeps the rules:
--   * helper and parent differ; one pending or active link per pair;
--   * at most 3 active, unexpired helpers per parent — checked under a per-parent lock by a trigger, so
--     concurrent consents cannot pass it together;
--   * an active link's end is its consent + 12 months, exactly;
--   * a portal session acts for a parent only through an active, unexpired link of that session's own
--     resident (resident_sessions.acting_link_id, checked by a trigger; the session read re-checks it,
--     so a revoked or expired link stops at the next page).
CREATE TABLE family_links (
  link_id      bigserial   PRIMARY KEY,
  helper_id    text        NOT NULL,
  parent_id    text        NOT NULL,
  role         text        NOT NULL CHECK (role IN ('view', 'certify', 'requests')),
  status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'refused', 'revoked')),
  code_hash    text,                                   -- SHA-256 of link_id:code, while pending
  code_expires_at timestamptz,
  wrong        integer     NOT NULL DEFAULT 0,
  requested_at timestamptz NOT NULL DEFAULT now(),
  consented_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  revoked_by   text,                                   -- the ID number of whoever revoked (parent or helper)
  CONSTRAINT family_links_two_people CHECK (helper_id <> parent_id),
  CONSTRAINT family_links_twelve_months CHECK ((status IN ('pending', 'refused')) OR (consented_at IS NOT NULL AND expires_at = consented_at + interval '12 months')),
  CONSTRAINT family_links_revoked CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX family_links_one_per_pair ON family_links (helper_id, parent_id) WHERE status IN ('pending', 'active');
CREATE INDEX family_links_parent ON family_links (parent_id) WHERE status = 'active';
CREATE INDEX family_links_helper ON family_links (helper_id) WHERE status IN ('pending', 'active');

CREATE FUNCTION family_links_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'active') THEN
    PERFORM pg_advisory_xact_lock(hashtext('yinling:family:' || NEW.parent_id));
    SELECT count(*) INTO n FROM family_links
     WHERE parent_id = NEW.parent_id AND status = 'active' AND expires_at > now() AND link_id <> NEW.link_id;
    IF n >= 3 THEN
      RAISE EXCEPTION 'family_links_max_helpers: % has 3 helpers already', NEW.parent_id USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER family_links_max_helpers BEFORE INSERT OR UPDATE OF status ON family_links FOR EACH ROW EXECUTE FUNCTION family_links_limit();

ALTER TABLE resident_sessions ADD COLUMN acting_link_id bigint REFERENCES family_links(link_id);
CREATE FUNCTION resident_sessions_acting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.acting_link_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM family_links l WHERE l.link_id = NEW.acting_link_id AND l.helper_id = NEW.id_number
          AND l.status = 'active' AND l.expires_at > now()) THEN
    RAISE EXCEPTION 'resident_sessions_acting: link % is not an active link of this resident', NEW.acting_link_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER resident_sessions_acting BEFORE INSERT OR UPDATE OF acting_link_id ON resident_sessions
  FOR EACH ROW EXECUTE FUNCTION resident_sessions_acting();

-- Activities and elderly education on the portal (issue 16, point 6; core/workflow/activities.ts): a
-- session is one activity or class at a place and time with a capacity; `taken` counts its open
-- sign-ups and never passes the capacity (the CHECK, and the conditional UPDATE … WHERE taken < capacity
-- that takes a place). One open sign-up per resident and session (partial unique index). Open sign-ups
-- count in H04 (indicator-facts.sql) until the activities feed carries them (signup_id = 'A' || signup_id).
CREATE TABLE activity_sessions (
  session_id  bigserial   PRIMARY KEY,
  activity_code text      NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('activity', 'education')),
  title_zh    text        NOT NULL,
  title_en    text        NOT NULL,
  place       text        NOT NULL,
  starts_at   timestamptz NOT NULL,
  capacity    integer     NOT NULL CHECK (capacity > 0),
  taken       integer     NOT NULL DEFAULT 0,
  CONSTRAINT activity_sessions_within_capacity CHECK (taken >= 0 AND taken <= capacity),
  UNIQUE (activity_code, starts_at)
);
CREATE INDEX activity_sessions_start ON activity_sessions (starts_at);

CREATE TABLE activity_signups (
  signup_id    bigserial   PRIMARY KEY,
  session_id   bigint      NOT NULL REFERENCES activity_sessions (session_id),
  id_number    text        NOT NULL,
  status       text        NOT NULL DEFAULT 'signed_up' CHECK (status IN ('signed_up', 'cancelled')),
  signed_up_at timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz
);
CREATE UNIQUE INDEX activity_signups_one_open ON activity_signups (session_id, id_number) WHERE status = 'signed_up';
CREATE INDEX activity_signups_person ON activity_signups (id_number) WHERE status = 'signed_up';

-- Down Migration
DROP TABLE IF EXISTS activity_signups, activity_sessions;
DROP TRIGGER IF EXISTS resident_sessions_acting ON resident_sessions;
DROP FUNCTION IF EXISTS resident_sessions_acting();
ALTER TABLE resident_sessions DROP COLUMN IF EXISTS acting_link_id;
DROP TABLE IF EXISTS family_links;
DROP FUNCTION IF EXISTS family_links_limit();
