-- Up Migration
-- 0011 subsidy facts by district and town: ind_project_month (S01 subsidy payout, S02 project shares)
-- had only the community (region_code) and its path, so a breakdown of S01/S02 by district or town —
-- what every other indicator offers through ind_region_month / ind_region_now — could only group the
-- ~800 communities (city scale: 11,200 rows for 13 months instead of 140, the slowest single-indicator
-- queries of bench:semantic). The two codes are derived from the path ('/city/district/town/
-- community/', built by region_paths from the city down), so the indicator-facts job that fills the
-- table is unchanged: its positional INSERT fills the first six columns, these are computed.
ALTER TABLE ind_project_month
  ADD COLUMN district_code text GENERATED ALWAYS AS (NULLIF(split_part(region_path, '/', 3), '')) STORED,
  ADD COLUMN town_code text GENERATED ALWAYS AS (NULLIF(split_part(region_path, '/', 4), '')) STORED;

-- Down Migration
ALTER TABLE ind_project_month DROP COLUMN IF EXISTS town_code, DROP COLUMN IF EXISTS district_code;
