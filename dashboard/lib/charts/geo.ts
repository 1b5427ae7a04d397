// Geometry helpers for the region map: a label/bar anchor per polygon (area-weighted centroid of
// the largest ring), so the 3D bars stand inside their regions.
type Ring = [number, number][];

function ringArea(ring: Ring): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a / 2;
}

function ringCentroid(ring: Ring): [number, number] {
  const a = ringArea(ring);
  if (Math.abs(a) < 1e-12) {
    const n = ring.length || 1;
    return [ring.reduce((s, p) => s + p[0], 0) / n, ring.reduce((s, p) => s + p[1], 0) / n];
  }
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    cx += (ring[j][0] + ring[i][0]) * f;
    cy += (ring[j][1] + ring[i][1]) * f;
  }
  return [cx / (6 * a), cy / (6 * a)];
}

/** Centroid of a GeoJSON Polygon or MultiPolygon (its largest outer ring); null for anything else. */
export function centroid(geometry: { type: string; coordinates: unknown } | null | undefined): [number, number] | null {
  if (!geometry) return null;
  const outer: Ring[] =
    geometry.type === 'Polygon'
      ? [(geometry.coordinates as Ring[])[0]]
      : geometry.type === 'MultiPolygon'
        ? (geometry.coordinates as Ring[][]).map((p) => p[0])
        : [];
  const rings = outer.filter((r) => Array.isArray(r) && r.length >= 3);
  if (!rings.length) return null;
  const biggest = rings.reduce((a, b) => (Math.abs(ringArea(b)) > Math.abs(ringArea(a)) ? b : a));
  return ringCentroid(biggest);
}
