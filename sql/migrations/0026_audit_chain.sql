-- Up Migration
-- 0026 a verifiable audit trail (issue 15 §11): every audit_log row carries the hash of the row before
-- it and its own hash over that and its content, computed here at insert, under a lock that
-- concurrent writers queue on, so they cannot fork the chain (audit_log_chain below); the row's id is
-- taken after the lock, so id order is chain order. The chain's head (last id and hash) lets a
-- verification notice rows removed from the end. `yinling audit
-- verify` (core/workflow/audit-chain.ts) recomputes every hash outside the database and names the first
-- event that does not match. audit_log stays append-only (migration 0004).
--
-- The hashed text (audit_log_hash below, and the same in core/workflow/audit-chain.ts): the fields
-- joined by U+001F — previous hash ('' for the first), id, `at` as microseconds since the epoch,
-- actor_type, actor, action, subject, detail as jsonb text, ip — a NULL written as U+2400 (␀).

ALTER TABLE audit_log ADD COLUMN prev_hash text, ADD COLUMN hash text;

CREATE FUNCTION audit_log_hash(prev text, id bigint, at timestamptz, actor_type text, actor text, action text, subject text, detail jsonb,
                               ip text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(
    COALESCE(prev, '') || chr(31) || id::text || chr(31) || (extract(epoch FROM at) * 1000000)::bigint::text || chr(31)
    || COALESCE(actor_type, chr(9216)) || chr(31) || COALESCE(actor, chr(9216)) || chr(31) || COALESCE(action, chr(9216)) || chr(31)
    || COALESCE(subject, chr(9216)) || chr(31) || COALESCE(detail::text, chr(9216)) || chr(31) || COALESCE(ip, chr(9216)), 'UTF8')), 'hex')
$$;

CREATE TABLE audit_chain_head (
  one       boolean PRIMARY KEY DEFAULT true CHECK (one),
  last_id   bigint,
  last_hash text
);

-- Chain the rows written so far, in id order (the append-only trigger steps aside for this once).
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
DO $$
DECLARE r record; prev text := NULL; last bigint := NULL;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY audit_id LOOP
    UPDATE audit_log SET prev_hash = prev,
           hash = audit_log_hash(prev, r.audit_id, r.at, r.actor_type, r.actor, r.action, r.subject, r.detail, r.ip)
     WHERE audit_id = r.audit_id RETURNING hash INTO prev;
    last := r.audit_id;
  END LOOP;
  INSERT INTO audit_chain_head (one, last_id, last_hash) VALUES (true, last, prev);
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

-- Each row: wait for the chain's lock (held to the end of the transaction, so writers queue), take the
-- id after it (id order = chain order), link to the newest row and hash. READ COMMITTED sees the rows
-- the lock's previous holder committed. Once per statement, the head records the new end; a REPEATABLE
-- READ transaction that could have linked to an old end fails there (its snapshot predates another
-- writer's head update: a serialization error) instead of forking the chain.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('yinling.audit_log.chain'));
  NEW.audit_id := nextval('audit_log_audit_id_seq'::regclass);
  SELECT hash INTO prev FROM audit_log ORDER BY audit_id DESC LIMIT 1;
  NEW.prev_hash := prev;
  NEW.hash := audit_log_hash(prev, NEW.audit_id, NEW.at, NEW.actor_type, NEW.actor, NEW.action, NEW.subject, NEW.detail, NEW.ip);
  RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_chain_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_chain_head h SET last_id = l.audit_id, last_hash = l.hash
    FROM (SELECT audit_id, hash FROM audit_log ORDER BY audit_id DESC LIMIT 1) l WHERE h.one;
  RETURN NULL;
END $$;
CREATE TRIGGER audit_log_chain_head AFTER INSERT ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_chain_head();

ALTER TABLE audit_log ALTER COLUMN hash SET NOT NULL;

-- Down Migration
DROP TRIGGER audit_log_chain_head ON audit_log;
DROP FUNCTION audit_log_chain_head();
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
DROP TABLE audit_chain_head;
DROP FUNCTION audit_log_hash(text, bigint, timestamptz, text, text, text, text, jsonb, text);
ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash;
