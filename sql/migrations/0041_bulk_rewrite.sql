-- Up Migration
-- 0041 indexes set aside while a job rewrites a table whole (issue 22). indicator-facts empties
-- ind_person_now (TRUNCATE) and inserts every person again, 1.09 M rows at city scale: maintaining its
-- three indexes row by row took 7.8 s of the insert; inserting without them and building each once from
-- the sorted rows, 4.8 s. These two functions drop a table's indexes and put them back from what the
-- catalogue said of them (pg_get_indexdef, pg_get_constraintdef), so the migrations that made the indexes
-- stay their one definition. Both run inside the job's transaction: a failure rolls the drop back.
CREATE FUNCTION indexes_set_aside(tbl regclass)
  RETURNS TABLE (index_name text, constraint_name text, definition text)
  LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT i.indexrelid::regclass::text AS idx, c.conname,
           CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid) ELSE pg_get_constraintdef(c.oid) END AS def
      FROM pg_index i
      LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
     WHERE i.indrelid = tbl
     ORDER BY c.conname IS NULL, i.indexrelid -- constraints first: put back first, they are what the others assume
  LOOP
    IF r.conname IS NOT NULL THEN
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, r.conname);
    ELSE
      EXECUTE format('DROP INDEX %s', r.idx);
    END IF;
    index_name := r.idx;
    constraint_name := r.conname;
    definition := r.def;
    RETURN NEXT;
  END LOOP;
END $$;

CREATE FUNCTION indexes_put_back(tbl regclass, constraint_name text, definition text) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF constraint_name IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', tbl, constraint_name, definition);
  ELSE
    EXECUTE definition;
  END IF;
END $$;

-- the owner's tools: nobody else may even try (the application role could not drop the indexes anyway)
REVOKE EXECUTE ON FUNCTION indexes_set_aside(regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION indexes_put_back(regclass, text, text) FROM PUBLIC;

-- Down Migration
DROP FUNCTION IF EXISTS indexes_put_back(regclass, text, text);
DROP FUNCTION IF EXISTS indexes_set_aside(regclass);
