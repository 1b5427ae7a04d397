import type { RequestHandler } from './$types';
import { api, db, requireCaller } from '$lib/server/api';
import { regionInScope } from '$lib/server/scope';

/** GET /api/geo?region=CODE — GeoJSON of the child areas' polygons (empty below town level). */
export const GET: RequestHandler = (event) => api(async () => {
  const caller = await requireCaller(event);
  const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
  const r = await db().query(
    `SELECT s.code, s.level, s.parent_code, COALESCE(rp.name, s.name) AS name, s.geometry
       FROM region_shapes s JOIN region_paths rp ON rp.code = s.code
      WHERE rp.parent_code = $1 ORDER BY s.code`, [region.code]);
  return {
    type: 'FeatureCollection',
    features: r.rows.map((x) => ({ type: 'Feature', properties: { code: x.code, name: x.name, level: x.level, parent_code: x.parent_code }, geometry: x.geometry }))
  };
});
