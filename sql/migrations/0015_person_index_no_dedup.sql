-- Up Migration
-- 0015 the per-person indexes of the two biggest tables without B-tree deduplication (issue 2, item 8).
-- payments_person_scheme_period (id_number, scheme_code, period) and evidence_person_time (id_number,
-- occurred_at) hold one entry per payment or behaviour record: their keys almost never repeat, so
-- deduplication saves no space, yet every build and every page split tries it. Without it the city's
-- payments index builds in 17.8 s instead of 19.4 s (11.9 M rows, one process). The unique natural keys
-- never deduplicate on build anyway; payments_account (about 36 payments per account) keeps it, where it
-- halves the index.
--
-- The option is part of the index definition, so the loader's deferred rebuilds (pg_get_indexdef) keep
-- it. Entries already deduplicated stay as they are until the index is next built (a bulk load or
-- REINDEX). On TimescaleDB the option is set on the hypertable's index, from which new chunks' indexes
-- are created.
ALTER INDEX IF EXISTS payments_person_scheme_period SET (deduplicate_items = off);
ALTER INDEX IF EXISTS evidence_person_time SET (deduplicate_items = off);
-- An interrupted bulk load may have left the definitions in ingest_deferred_indexes: rebuild them with it.
UPDATE ingest_deferred_indexes SET definition = definition || ' WITH (deduplicate_items=off)'
 WHERE index_name IN ('payments_person_scheme_period', 'evidence_person_time') AND definition NOT LIKE '%deduplicate_items%';

-- Down Migration
ALTER INDEX IF EXISTS payments_person_scheme_period RESET (deduplicate_items);
ALTER INDEX IF EXISTS evidence_person_time RESET (deduplicate_items);
UPDATE ingest_deferred_indexes SET definition = replace(definition, ' WITH (deduplicate_items=off)', '')
 WHERE index_name IN ('payments_person_scheme_period', 'evidence_person_time');
