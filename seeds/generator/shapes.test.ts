// The demo city's map (shapes.ts): organic, nested and deterministic — every polygon is a valid simple
// ring, the children of an area tile it (inside it, areas summing to its area, so no gap or overlap),
// each area's label point lies inside its own shape, and the same seed draws the same map.
import { describe, expect, it } from 'vitest';
import { buildRegions } from './regions.ts';
import { cityGeoJson } from './shapes.ts';
import { SCALES } from './plan.ts';
import { geometryArea, inPolygon, labelPoint, polygonsOf, ringArea, type Pt, type Ring } from '../../core/geometry.ts';

interface Feature {
  properties: { code: string; name: string; level: string; parent_code: string };
  geometry: { type: string; coordinates: Ring[] };
}

const mapOf = (scale: 'tiny' | 'demo', seed = 1): Feature[] => JSON.parse(cityGeoJson(seed, buildRegions(seed, SCALES[scale]))).features;

/** Two segments cross (touching at a shared end point does not count). */
function cross(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const o = (p: Pt, q: Pt, r: Pt) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return o(a, b, c) * o(a, b, d) < 0 && o(c, d, a) * o(c, d, b) < 0;
}

function selfIntersections(ring: Ring): number {
  let n = 0;
  for (let i = 0; i + 1 < ring.length; i++)
    for (let j = i + 2; j + 1 < ring.length; j++) if (cross(ring[i], ring[i + 1], ring[j], ring[j + 1])) n++;
  return n;
}

describe('the demo city map', () => {
  for (const scale of ['tiny', 'demo'] as const) {
    it(`${scale}: one simple polygon per area, every area of the tree drawn`, () => {
      const features = mapOf(scale);
      const tree = buildRegions(1, SCALES[scale]);
      const towns = tree.districts.flatMap((d) => d.towns);
      expect(features.filter((f) => f.properties.level === 'district').map((f) => f.properties.code)).toEqual(
        tree.districts.map((d) => d.code)
      );
      expect(features.filter((f) => f.properties.level === 'town').map((f) => f.properties.code)).toEqual(towns.map((t) => t.code));
      expect(features.filter((f) => f.properties.level === 'community').map((f) => f.properties.code)).toEqual(
        tree.communities.map((c) => c.code)
      );
      for (const f of features) {
        expect(f.geometry.type).toBe('Polygon');
        const [outer, ...holes] = f.geometry.coordinates;
        expect(outer.length, f.properties.code).toBeGreaterThanOrEqual(4);
        expect(outer[0]).toEqual(outer[outer.length - 1]);
        expect(ringArea(outer)).toBeGreaterThan(0); // counter-clockwise outer ring
        for (const h of holes) expect(ringArea(h)).toBeLessThan(0);
        for (const r of f.geometry.coordinates) expect(selfIntersections(r), f.properties.code).toBe(0);
        for (const [x, y] of outer) {
          expect(x).toBeGreaterThan(119.9);
          expect(x).toBeLessThan(120.5);
          expect(y).toBeGreaterThan(29.46);
          expect(y).toBeLessThan(29.94);
        }
      }
    });

    it(`${scale}: children tile their parent — inside it, with areas summing to its area`, () => {
      const features = mapOf(scale);
      const parents = new Map(features.map((f) => [f.properties.code, f]));
      const city = features.filter((f) => f.properties.level === 'district');
      const groups = new Map<string, Feature[]>();
      for (const f of features) groups.set(f.properties.parent_code, [...(groups.get(f.properties.parent_code) ?? []), f]);
      let checked = 0;
      for (const [parentCode, children] of groups) {
        const parent = parents.get(parentCode);
        if (!parent) {
          expect(children).toEqual(city); // the districts, whose parent (the city) has no shape of its own
          continue;
        }
        const sum = children.reduce((s, c) => s + geometryArea(c.geometry), 0);
        expect(Math.abs(sum / geometryArea(parent.geometry) - 1), parentCode).toBeLessThan(1e-6);
        const outline = new Set(parent.geometry.coordinates.flat().map((p) => p.join()));
        const poly = polygonsOf(parent.geometry)[0];
        for (const c of children)
          for (const p of c.geometry.coordinates[0])
            if (!outline.has(p.join())) expect(inPolygon(p, poly), `${c.properties.code} ${p}`).toBe(true);
        checked++;
      }
      expect(checked).toBe(features.filter((f) => f.properties.level !== 'community').length);
    });

    it(`${scale}: each area's label point lies inside its own shape and no other sibling's`, () => {
      const features = mapOf(scale);
      for (const f of features) {
        const p = labelPoint(f.geometry)!;
        expect(inPolygon(p, polygonsOf(f.geometry)[0]), f.properties.code).toBe(true);
        for (const s of features)
          if (s !== f && s.properties.level === f.properties.level) expect(inPolygon(p, polygonsOf(s.geometry)[0])).toBe(false);
      }
    });
  }

  it('is not a grid: areas have many corners, differ in size, and their edges run every way', () => {
    for (const seed of [1, 11]) {
      const features = mapOf('demo', seed);
      const towns = features.filter((f) => f.properties.level === 'town');
      for (const t of towns) expect(t.geometry.coordinates[0].length).toBeGreaterThan(12);
      const areas = towns.map((t) => geometryArea(t.geometry));
      expect(Math.max(...areas) / Math.min(...areas)).toBeGreaterThan(1.3);
      // the share of boundary length within 15° of horizontal or vertical: 0.71–0.90 for the old jittered
      // lattice (districts and towns, tiny and demo, seeds 1 and 11), ≈ 1/3 for directions spread evenly
      for (const level of ['district', 'town', 'community']) {
        let axis = 0;
        let total = 0;
        for (const f of features.filter((x) => x.properties.level === level)) {
          const r = f.geometry.coordinates[0];
          for (let i = 0; i + 1 < r.length; i++) {
            const dx = (r[i + 1][0] - r[i][0]) * 0.87;
            const dy = r[i + 1][1] - r[i][1];
            const a = Math.abs((Math.atan2(dy, dx) * 180) / Math.PI) % 90;
            total += Math.hypot(dx, dy);
            if (Math.min(a, 90 - a) < 15) axis += Math.hypot(dx, dy);
          }
        }
        expect(axis / total, `${level} seed ${seed}`).toBeLessThan(0.55);
      }
    }
  });

  it('the same seed draws the same map, another seed another', () => {
    const tree = buildRegions(1, SCALES.tiny);
    expect(cityGeoJson(1, tree)).toBe(cityGeoJson(1, tree));
    expect(cityGeoJson(2, tree)).not.toBe(cityGeoJson(1, tree));
  });
});
