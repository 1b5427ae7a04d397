// Imports region polygons (a GeoJSON FeatureCollection whose features carry properties.code) into
// region_shapes; replaces shapes of the same codes. Invalid input gets a specific error.
import fs from 'node:fs';
import type { Pool } from '../core/db/pool.ts';

export async function importGeoJson(pool: Pool, file: string): Promise<number> {
  let doc: { type?: string; features?: { properties?: Record<string, unknown>; geometry?: unknown }[] };
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not readable JSON: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  if (doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) throw new Error(`${file} is not a GeoJSON FeatureCollection`);
  const rows = doc.features.map((f, i) => {
    const p = f.properties ?? {};
    if (typeof p.code !== 'string' || !f.geometry) throw new Error(`${file}: feature ${i + 1} has no properties.code or no geometry`);
    return {
      code: p.code,
      level: String(p.level ?? ''),
      parent_code: p.parent_code ? String(p.parent_code) : null,
      name: p.name ? String(p.name) : null,
      geometry: f.geometry
    };
  });
  await pool.query(
    `INSERT INTO region_shapes (code, level, parent_code, name, geometry)
     SELECT code, level, parent_code, name, geometry FROM jsonb_to_recordset($1::jsonb) AS x(code text, level text, parent_code text, name text, geometry jsonb)
     ON CONFLICT (code) DO UPDATE SET level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, name = EXCLUDED.name,
       geometry = EXCLUDED.geometry, imported_at = now()`,
    [JSON.stringify(rows)]
  );
  return rows.length;
}
