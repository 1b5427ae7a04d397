-- Up Migration
-- 0043 the area a person is counted in, defined once. The indicator facts, the payments cache and the
-- flows each counted a person in "the region of COALESCE(residence, hukou) if it is in the region tree,
-- else the unknown area ''", each with its own copy of the expression (issue 22's review). person_regions
-- now carries it as area_code, with the region's level (the facts count a person as managed by a
-- community when their region is a community) and the person's columns the facts read beside it (birth
-- date, status, living outside the city): joining the view back to persons instead cost the facts 0.9 s
-- at city scale. Columns are added at the end, so readers are unchanged.
CREATE OR REPLACE VIEW person_regions AS
SELECT p.id_number, COALESCE(p.residence_region, p.hukou_region) AS region_code,
       rp.path AS region_path, rp.city_code, rp.district_code, rp.town_code, rp.community_code,
       (rp.community_code IS NOT NULL) AS community_managed,
       COALESCE(rp.code, '') AS area_code, rp.level AS region_level,
       p.birth_date, p.status, p.residence_outside
  FROM persons p
  LEFT JOIN region_paths rp ON rp.code = COALESCE(p.residence_region, p.hukou_region);

-- Down Migration
DROP VIEW person_regions;
CREATE VIEW person_regions AS
SELECT p.id_number, COALESCE(p.residence_region, p.hukou_region) AS region_code,
       rp.path AS region_path, rp.city_code, rp.district_code, rp.town_code, rp.community_code,
       (rp.community_code IS NOT NULL) AS community_managed
  FROM persons p
  LEFT JOIN region_paths rp ON rp.code = COALESCE(p.residence_region, p.hukou_region);
