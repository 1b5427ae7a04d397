-- Up Migration
-- 0009 region shapes: district and town polygons (GeoJSON geometry) for the cockpit's map, imported
-- with `yinling import-geo FILE` (the demo city's file is imported by `yinling up`).
CREATE TABLE region_shapes (
  code        text PRIMARY KEY,
  level       text NOT NULL,
  parent_code text,
  name        text,
  geometry    jsonb NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_shapes_parent ON region_shapes (parent_code);

-- Down Migration
DROP TABLE IF EXISTS region_shapes;
