-- Up Migration
-- 0039 the application's own role (issue 19 §7): the web server and the workbench services connect as
-- `yinling_app`, a login that is not a superuser and owns nothing; the migrations, the ingest and the
-- engines (which truncate, analyse, rebuild indexes and refresh views of their own tables) run as the
-- owner — the embedded cluster's superuser, or the DATABASE_URL user that owns the schema.
--
-- This file is the one definition of what the application role may do:
--   * read and write the tables (SELECT, INSERT, UPDATE, DELETE — never TRUNCATE) and use the sequences;
--   * audit_log: INSERT and SELECT only. Append-only by privileges, not only by its trigger — and the role
--     cannot switch the trigger off either: session_replication_role needs a superuser;
--   * schema_migrations: SELECT only (the schema is the owner's to change).
-- Tables and sequences the owner creates later get the same grants (default privileges below).
--
-- The role is created here when missing (NOLOGIN: nobody can sign in with it yet). The embedded server
-- gives it a login and a random password of its own at every start (core/db/embedded.ts); with a real
-- server (DATABASE_URL) the operator creates it with a password beforehand — README, "Running it for real" —
-- since the owner there usually may not create roles.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'yinling_app') THEN
    BEGIN
      CREATE ROLE yinling_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'the role yinling_app does not exist and % may not create it', current_user
        USING HINT = 'As a superuser: CREATE ROLE yinling_app LOGIN PASSWORD ''…''; then start again (README, "Running it for real").';
    END;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO yinling_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO yinling_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO yinling_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM yinling_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM yinling_app;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO yinling_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO yinling_app;

-- Down Migration
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM yinling_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM yinling_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM yinling_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM yinling_app;
REVOKE USAGE ON SCHEMA public FROM yinling_app;
