-- Up Migration
-- 0007 region paths: every region with its ancestors by level and a path string
-- ('/city/district/town/community/' of codes), the basis of region breakdowns and of scoping
-- ("this region and everything below it" = path LIKE scope_path || '%'). person_regions gives each
-- person their region (residence community, falling back to hukou community — docs/indicators.md).
-- A materialized view refreshed with the rollups after each load (cheap: thousands of rows).

CREATE MATERIALIZED VIEW region_paths AS
WITH RECURSIVE tree AS (
  SELECT r.code, r.name, r.level, r.parent_code, ('/' || r.code || '/') AS path, 1 AS depth,
         ARRAY[r.code] AS codes, ARRAY[r.level] AS levels, ARRAY[r.name] AS names
    FROM regions r
   WHERE r.parent_code IS NULL
  UNION ALL
  SELECT c.code, c.name, c.level, c.parent_code, t.path || c.code || '/', t.depth + 1,
         t.codes || c.code, t.levels || c.level, t.names || c.name
    FROM regions c JOIN tree t ON c.parent_code = t.code
   WHERE t.depth < 8 AND NOT c.code = ANY (t.codes)          -- guard against cycles in bad data
)
SELECT code, name, level, parent_code, path, depth,
       codes[array_position(levels, 'city')]      AS city_code,
       names[array_position(levels, 'city')]      AS city_name,
       codes[array_position(levels, 'district')]  AS district_code,
       names[array_position(levels, 'district')]  AS district_name,
       codes[array_position(levels, 'town')]      AS town_code,
       names[array_position(levels, 'town')]      AS town_name,
       codes[array_position(levels, 'community')] AS community_code,
       names[array_position(levels, 'community')] AS community_name
  FROM tree;
CREATE UNIQUE INDEX region_paths_code ON region_paths (code);
CREATE INDEX region_paths_path ON region_paths (path text_pattern_ops);
INSERT INTO rollup_registry VALUES ('region_paths', 'materialized_view');

-- Each person's effective region: residence community if given, else hukou community.
CREATE VIEW person_regions AS
SELECT p.id_number, COALESCE(p.residence_region, p.hukou_region) AS region_code,
       rp.path AS region_path, rp.city_code, rp.district_code, rp.town_code, rp.community_code,
       (rp.community_code IS NOT NULL) AS community_managed
  FROM persons p
  LEFT JOIN region_paths rp ON rp.code = COALESCE(p.residence_region, p.hukou_region);

-- Down Migration
DROP VIEW IF EXISTS person_regions;
DELETE FROM rollup_registry WHERE view_name = 'region_paths';
DROP MATERIALIZED VIEW IF EXISTS region_paths;
