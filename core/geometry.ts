// Plane geometry of GeoJSON polygons (lng/lat taken as x/y): areas, point-in-polygon and a label
// point that lies inside its own shape — the map's names, values and 3D bars stand there, so a
// crescent or an L-shaped area (whose centroid may fall outside, in a neighbour) keeps its label.
// One definition, used by the map (dashboard) and checked against the demo city's shapes (seeds).
export type Pt = [number, number];
export type Ring = Pt[];
export interface PolygonGeometry {
  type: string;
  coordinates: unknown;
}

/** Signed area (shoelace): positive for a counter-clockwise ring. */
export function ringArea(ring: Ring): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a / 2;
}

/** Area-weighted centroid of a ring (the mean of its points when it has no area). */
export function ringCentroid(ring: Ring): Pt {
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

/** Even-odd test of a point against a ring (closed or not). */
export function inRing(p: Pt, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The polygons (outer ring first, then holes) of a Polygon or MultiPolygon; none for anything else. */
export function polygonsOf(geometry: PolygonGeometry | null | undefined): Ring[][] {
  if (!geometry) return [];
  const polys =
    geometry.type === 'Polygon'
      ? [geometry.coordinates as Ring[]]
      : geometry.type === 'MultiPolygon'
        ? (geometry.coordinates as Ring[][])
        : [];
  return polys.filter((p) => Array.isArray(p) && Array.isArray(p[0]) && p[0].length >= 3);
}

/** Inside the polygon: inside its outer ring and in none of its holes. */
export function inPolygon(p: Pt, polygon: Ring[]): boolean {
  return inRing(p, polygon[0]) && !polygon.slice(1).some((h) => inRing(p, h));
}

/** Area of a Polygon or MultiPolygon (outer rings less their holes). */
export function geometryArea(geometry: PolygonGeometry): number {
  let a = 0;
  for (const poly of polygonsOf(geometry)) {
    a += Math.abs(ringArea(poly[0]));
    for (const h of poly.slice(1)) a -= Math.abs(ringArea(h));
  }
  return a;
}

/**
 * Where an area's label goes: a point inside its largest polygon. The centroid when it lies inside
 * (with room around it); otherwise, of the horizontal lines across the polygon, the middle of the
 * widest stretch inside it — never a point in a neighbour or a hole. Null for a geometry with no polygon.
 */
export function labelPoint(geometry: PolygonGeometry | null | undefined): Pt | null {
  const polys = polygonsOf(geometry);
  if (!polys.length) return null;
  const poly = polys.reduce((a, b) => (Math.abs(ringArea(b[0])) > Math.abs(ringArea(a[0])) ? b : a));
  const c = ringCentroid(poly[0]);
  const ys = poly[0].map((p) => p[1]);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  const H = 24;
  // the widest inside stretch on each line; a centroid inside counts as a stretch of its own line's width
  let best: { x: number; y: number; w: number } | null = null;
  for (let k = 0; k <= H; k++) {
    const y = k === H ? c[1] : minY + ((k + 0.5) / H) * (maxY - minY);
    const xs: number[] = [];
    for (const ring of poly)
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const w = xs[i + 1] - xs[i];
      // lines near the middle of the shape are preferred to thin ends of equal width
      const central = 1 - Math.abs(y - c[1]) / (maxY - minY || 1);
      const score = w * (0.6 + 0.4 * central);
      if (k === H && c[0] > xs[i] && c[0] < xs[i + 1]) {
        const room = Math.min(c[0] - xs[i], xs[i + 1] - c[0]) * 2;
        if (!best || room >= best.w * 0.8) return c;
      }
      if (w > 0 && (!best || score > best.w)) best = { x: (xs[i] + xs[i + 1]) / 2, y, w: score };
    }
  }
  return best ? [best.x, best.y] : c;
}
