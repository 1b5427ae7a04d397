// The synthetic city's area tree (city → districts → towns → communities, 12-digit statistical codes)
// and a GeoJSON of district and town polygons: a jittered lattice, so neighbours share their edges
// exactly and nothing overlaps, centred near lng 120.2, lat 29.7.
import { CITY, DISTRICT_NAMES, communityName, townName } from './names.ts';
import { Rng, hash32 } from './rng.ts';

export interface Community {
  code: string;
  name: string;
  town: Town;
  district: District;
  rural: boolean;
  index: number;
}
export interface Town {
  code: string;
  name: string;
  district: District;
  communities: Community[];
  cx: number;
  cy: number;
}
export interface District {
  code: string;
  code6: string;
  name: string;
  index: number;
  towns: Town[];
  weight: number;
  gx: number;
  gy: number;
}

export interface RegionTree {
  city: { code: string; name: string };
  districts: District[];
  communities: Community[];
  /** Cumulative weights over `communities` for sampling a home community. */
  cumulative: Float64Array;
  layout: { dx: number; dy: number; tx: number; ty: number };
}

export interface RegionShape {
  districts: number;
  townsX: number;
  townsY: number;
  communities: number;
}

export function buildRegions(seed: number, shape: RegionShape): RegionTree {
  const rng = new Rng(seed, 'regions');
  const dx = shape.districts <= 3 ? shape.districts : Math.ceil(shape.districts / 2);
  const dy = Math.ceil(shape.districts / dx);
  const districts: District[] = [];
  const communities: Community[] = [];
  let townCounter = 0;
  for (let d = 0; d < shape.districts; d++) {
    const code6 = '3306' + String(2 + d).padStart(2, '0');
    // The first districts are the urban core: more people.
    const weight = d === 0 ? 1.6 : d < 3 ? 1.25 : 0.7 + rng.float() * 0.5;
    const district: District = {
      code: code6 + '000000',
      code6,
      name: DISTRICT_NAMES[d],
      index: d,
      towns: [],
      weight,
      gx: d % dx,
      gy: Math.floor(d / dx)
    };
    districts.push(district);
    for (let t = 0; t < shape.townsX * shape.townsY; t++) {
      const town: Town = {
        code: code6 + String(t + 1).padStart(3, '0') + '000',
        name: townName(townCounter++),
        district,
        communities: [],
        cx: t % shape.townsX,
        cy: Math.floor(t / shape.townsX)
      };
      district.towns.push(town);
      const used = new Set<string>();
      let urban = 0;
      let rural = 0;
      for (let c = 0; c < shape.communities; c++) {
        const isRural = town.name.endsWith('镇') && c >= Math.ceil(shape.communities / 3);
        const seq = isRural ? 201 + rural++ : 1 + urban++;
        const community: Community = {
          code: town.code.slice(0, 9) + String(seq).padStart(3, '0'),
          name: communityName(rng, used, isRural),
          town,
          district,
          rural: isRural,
          index: communities.length
        };
        town.communities.push(community);
        communities.push(community);
      }
    }
  }
  const cumulative = new Float64Array(communities.length);
  let acc = 0;
  for (const c of communities) {
    acc += c.district.weight * (c.rural ? 0.6 : 1);
    cumulative[c.index] = acc;
  }
  return { city: CITY, districts, communities, cumulative, layout: { dx, dy, tx: shape.townsX, ty: shape.townsY } };
}

export function sampleCommunity(tree: RegionTree, rng: Rng): Community {
  const total = tree.cumulative[tree.cumulative.length - 1];
  const r = rng.float() * total;
  let lo = 0;
  let hi = tree.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tree.cumulative[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return tree.communities[lo];
}

/** Region rows in feed order: city, then each district followed by its towns and communities. */
export function regionRows(tree: RegionTree): { code: string; name: string; level: string; parent: string }[] {
  const out = [{ code: tree.city.code, name: tree.city.name, level: 'city', parent: '' }];
  for (const d of tree.districts) {
    out.push({ code: d.code, name: d.name, level: 'district', parent: tree.city.code });
    for (const t of d.towns) {
      out.push({ code: t.code, name: t.name, level: 'town', parent: d.code });
      for (const c of t.communities) out.push({ code: c.code, name: c.name, level: 'community', parent: t.code });
    }
  }
  return out;
}

// ---- GeoJSON ---------------------------------------------------------------------------------

type Pt = [number, number];

export function cityGeoJson(seed: number, tree: RegionTree): string {
  const { dx, dy, tx, ty } = tree.layout;
  const nx = dx * tx;
  const ny = dy * ty;
  const west = 119.92;
  const east = 120.48;
  const south = 29.48;
  const north = 29.92;
  const cw = (east - west) / nx;
  const ch = (north - south) / ny;
  const jit = (a: number, b: number, salt: string) => (hash32(seed, 'geo', salt, a, b) / 4294967296 - 0.5) * 2; // [-1, 1)
  const pts: Pt[][] = [];
  for (let i = 0; i <= nx; i++) {
    pts.push([]);
    for (let j = 0; j <= ny; j++) {
      let x = west + i * cw;
      let y = south + j * ch;
      const interiorX = i > 0 && i < nx;
      const interiorY = j > 0 && j < ny;
      // Interior points move freely; boundary points only along the boundary normal, which gives
      // the outline an irregular, plausible shape without letting cells overlap.
      if (interiorX) x += jit(i, j, 'x') * 0.22 * cw;
      else x += (i === 0 ? 1 : -1) * Math.abs(jit(i, j, 'bx')) * 0.3 * cw;
      if (interiorY) y += jit(i, j, 'y') * 0.22 * ch;
      else y += (j === 0 ? 1 : -1) * Math.abs(jit(i, j, 'by')) * 0.3 * ch;
      pts[i].push([x, y]);
    }
  }
  // A bent midpoint on every lattice edge, shared by the two cells on either side.
  const mid = (a: [number, number], b: [number, number]): Pt => {
    const pa = pts[a[0]][a[1]];
    const pb = pts[b[0]][b[1]];
    const key = a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? [a, b] : [b, a];
    const boundary = (a[0] === b[0] && (a[0] === 0 || a[0] === nx)) || (a[1] === b[1] && (a[1] === 0 || a[1] === ny));
    const k = boundary ? 0.05 : 0.08;
    const off = jit(key[0][0] * 1000 + key[0][1], key[1][0] * 1000 + key[1][1], 'mid') * k;
    const vx = pb[0] - pa[0];
    const vy = pb[1] - pa[1];
    return [(pa[0] + pb[0]) / 2 - vy * off, (pa[1] + pb[1]) / 2 + vx * off];
  };
  // Counter-clockwise ring around the cell block [i0, i1) × [j0, j1).
  const ring = (i0: number, j0: number, i1: number, j1: number): Pt[] => {
    const path: [number, number][] = [];
    for (let i = i0; i < i1; i++) path.push([i, j0]);
    for (let j = j0; j < j1; j++) path.push([i1, j]);
    for (let i = i1; i > i0; i--) path.push([i, j1]);
    for (let j = j1; j > j0; j--) path.push([i0, j]);
    const out: Pt[] = [];
    for (let k = 0; k < path.length; k++) {
      const a = path[k];
      const b = path[(k + 1) % path.length];
      out.push(pts[a[0]][a[1]], mid(a, b));
    }
    out.push(out[0]);
    return out.map(([x, y]) => [Number(x.toFixed(6)), Number(y.toFixed(6))] as Pt);
  };
  const features: unknown[] = [];
  for (const d of tree.districts) {
    const i0 = d.gx * tx;
    const j0 = (dy - 1 - d.gy) * ty;
    features.push({
      type: 'Feature',
      properties: { code: d.code, name: d.name, level: 'district', parent_code: tree.city.code },
      geometry: { type: 'Polygon', coordinates: [ring(i0, j0, i0 + tx, j0 + ty)] }
    });
  }
  for (const d of tree.districts) {
    const i0 = d.gx * tx;
    const j0 = (dy - 1 - d.gy) * ty;
    for (const t of d.towns) {
      const ti = i0 + t.cx;
      const tj = j0 + (ty - 1 - t.cy);
      features.push({
        type: 'Feature',
        properties: { code: t.code, name: t.name, level: 'town', parent_code: d.code },
        geometry: { type: 'Polygon', coordinates: [ring(ti, tj, ti + 1, tj + 1)] }
      });
    }
  }
  return JSON.stringify({ type: 'FeatureCollection', name: tree.city.name, features }) + '\n';
}
