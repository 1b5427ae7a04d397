// The map's shapes: GeoJSON polygons of an area's child areas — districts, towns, or a town's
// communities (a community has no children, so no map). Names come from the area tree, so a renamed area shows its new name.
import type { Pool } from '../../../core/db/pool.ts';
import type { GeoCollection } from '../api-types.ts';
import type { Region } from './scope.ts';

export async function childShapes(pool: Pool, region: Region): Promise<GeoCollection> {
  const r = await pool.query(
    `SELECT s.code, s.level, s.parent_code, COALESCE(rp.name, s.name) AS name, s.geometry
       FROM region_shapes s JOIN region_paths rp ON rp.code = s.code
      WHERE rp.parent_code = $1 ORDER BY s.code`,
    [region.code]
  );
  return {
    type: 'FeatureCollection',
    features: r.rows.map((x) => ({
      type: 'Feature',
      properties: { code: x.code, name: x.name, level: x.level, parent_code: x.parent_code },
      geometry: x.geometry
    }))
  };
}
