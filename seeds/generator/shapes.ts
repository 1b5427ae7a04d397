// The synthetic city's map: organic district, town and community boundaries that look like a real
// place and nest exactly. A seeded jittered lattice of small Voronoi cells (d3-delaunay) is cut to
// an irregular outline (the cells whose site lies inside a wobbly blob); the cells are then grown
// into the districts from seeds spread over the city, each district's cells into its towns, each
// town's into its communities (multi-source shortest paths over the cells' shared edges, so every
// area is one connected piece). An area's polygon is the union of its cells: the cell edges not
// shared with another cell of the same area. Neighbours therefore share their boundaries vertex for
// vertex, the children of an area tile it with no gap or overlap, and the same seed gives the same map.
// Centred near lng 120.2, lat 29.7 (the old lattice's extent). `yinling import-geo` loads real shapes.
import { Delaunay } from 'd3-delaunay';
import { Rng } from './rng.ts';
import type { RegionTree } from './regions.ts';

type Pt = [number, number];

const WEST = 119.92;
const EAST = 120.48;
const SOUTH = 29.48;
const NORTH = 29.92;
/** Kilometres per degree at lat 29.7: the cells are laid out in km so they are round on the map. */
const KM_LNG = 96.7;
const KM_LAT = 111.2;

interface Cells {
  /** Sites (km) of the cells inside the city. */
  sites: Pt[];
  /** Each inside cell's ring (lng/lat, counter-clockwise, not closed), vertex keys shared by neighbours. */
  rings: Pt[][];
  /** Inside cells that share an edge. */
  neighbours: number[][];
}

function cityCells(rng: Rng, count: number): Cells {
  const W = (EAST - WEST) * KM_LNG;
  const H = (NORTH - SOUTH) * KM_LAT;
  // The outline: an ellipse filling the extent, its radius wobbling with a few seeded harmonics.
  const harmonics = [2, 3, 4, 5, 7].map((k) => ({ k, a: (0.04 + rng.float() * 0.07) / Math.sqrt(k - 1), p: rng.float() * 2 * Math.PI }));
  const rx = W * 0.42;
  const ry = H * 0.42;
  const inside = (x: number, y: number) => {
    const dx = (x - W / 2) / rx;
    const dy = (y - H / 2) / ry;
    const t = Math.atan2(dy, dx);
    const r = 1 + harmonics.reduce((s, h) => s + h.a * Math.sin(h.k * t + h.p), 0);
    return Math.hypot(dx, dy) < r;
  };
  // A jittered lattice over the extent and a margin (the outside cells bound the inside ones, so no
  // inside cell is clipped by the rectangle): cells of even size, none a sliver.
  const step = Math.sqrt((W * H * 0.55) / count);
  const all: Pt[] = [];
  for (let y = -2 * step; y < H + 2 * step; y += step)
    for (let x = -2 * step; x < W + 2 * step; x += step)
      all.push([x + (rng.float() - 0.5) * 0.8 * step, y + (rng.float() - 0.5) * 0.8 * step]);
  const delaunay = Delaunay.from(all);
  const voronoi = delaunay.voronoi([-4 * step, -4 * step, W + 4 * step, H + 4 * step]);
  const index = new Map<number, number>();
  const sites: Pt[] = [];
  all.forEach((p, i) => {
    if (inside(p[0], p[1])) {
      index.set(i, sites.length);
      sites.push(p);
    }
  });
  const ids = [...index.keys()];
  const toLngLat = ([x, y]: Pt): Pt => [Number((WEST + x / KM_LNG).toFixed(6)), Number((SOUTH + y / KM_LAT).toFixed(6))];
  const rings = ids.map((i) => {
    const poly = (voronoi.cellPolygon(i) as Pt[]).slice(0, -1).map(toLngLat);
    const ring = poly.filter((p, k) => p[0] !== poly[(k + 1) % poly.length][0] || p[1] !== poly[(k + 1) % poly.length][1]);
    return area(ring) < 0 ? ring.reverse() : ring;
  });
  const neighbours = ids.map((i) => [...voronoi.neighbors(i)].filter((j) => index.has(j)).map((j) => index.get(j)!));
  return { sites, rings, neighbours };
}

function area(ring: Pt[]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a / 2;
}

/** The largest group of cells connected through shared edges (the outline's cells form one). */
function connected(cells: Cells, members: number[]): number[] {
  const set = new Set(members);
  const seen = new Set<number>();
  let best: number[] = [];
  for (const start of members) {
    if (seen.has(start)) continue;
    const comp = [start];
    seen.add(start);
    for (let q = 0; q < comp.length; q++)
      for (const n of cells.neighbours[comp[q]])
        if (set.has(n) && !seen.has(n)) {
          seen.add(n);
          comp.push(n);
        }
    if (comp.length > best.length) best = comp;
  }
  return best;
}

/**
 * Splits a connected group of cells into k connected parts: seeds spread by farthest-point sampling,
 * then each cell goes to the seed it is nearest to along the cells' shared edges (each seed's
 * distances scaled by a seeded factor, so the parts differ in size as real areas do).
 */
function split(cells: Cells, members: number[], k: number, rng: Rng): number[][] {
  if (k <= 1) return [members];
  if (members.length < k) throw new Error(`cannot split ${members.length} map cells into ${k} areas`);
  const d2 = (a: number, b: number) => (cells.sites[a][0] - cells.sites[b][0]) ** 2 + (cells.sites[a][1] - cells.sites[b][1]) ** 2;
  const seeds = [members[Math.floor(rng.float() * members.length)]];
  const near = new Map(members.map((m) => [m, d2(m, seeds[0])]));
  while (seeds.length < k) {
    let far = members[0];
    for (const m of members) if (near.get(m)! > near.get(far)!) far = m;
    seeds.push(far);
    for (const m of members) near.set(m, Math.min(near.get(m)!, d2(m, far)));
  }
  const speed = seeds.map(() => 0.8 + rng.float() * 0.45);
  const set = new Set(members);
  const owner = new Map<number, number>();
  const dist = new Map<number, number>();
  // Dijkstra from all seeds at once (a binary heap of [distance, cell, part]).
  const heap: [number, number, number][] = [];
  const push = (e: [number, number, number]) => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (heap[p][0] <= heap[i][0]) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l][0] < heap[m][0]) m = l;
        if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  seeds.forEach((s, p) => push([0, s, p]));
  while (heap.length) {
    const [d, c, p] = pop();
    if (owner.has(c)) continue;
    owner.set(c, p);
    dist.set(c, d);
    for (const n of cells.neighbours[c]) if (set.has(n) && !owner.has(n)) push([d + Math.sqrt(d2(c, n)) * speed[p], n, p]);
  }
  const parts: number[][] = seeds.map(() => []);
  for (const m of members) parts[owner.get(m)!].push(m);
  return parts;
}

/** The union of cells as rings of vertex keys: its outer ring (counter-clockwise), then any holes (clockwise). */
function union(cells: Cells, members: number[]): string[][] {
  const key = (p: Pt) => `${p[0]},${p[1]}`;
  const edges = new Map<string, { from: string; to: string }>();
  for (const m of members) {
    const r = cells.rings[m];
    for (let i = 0; i < r.length; i++) {
      const a = key(r[i]);
      const b = key(r[(i + 1) % r.length]);
      if (edges.has(`${b}>${a}`)) edges.delete(`${b}>${a}`);
      else edges.set(`${a}>${b}`, { from: a, to: b });
    }
  }
  const byStart = new Map<string, { from: string; to: string }[]>();
  for (const e of edges.values()) {
    if (!byStart.has(e.from)) byStart.set(e.from, []);
    byStart.get(e.from)!.push(e);
  }
  const rings: string[][] = [];
  const used = new Set<{ from: string; to: string }>();
  for (const first of edges.values()) {
    if (used.has(first)) continue;
    const ring = [first.from];
    let e = first;
    for (;;) {
      used.add(e);
      const next = (byStart.get(e.to) ?? []).find((x) => !used.has(x));
      if (!next) break;
      ring.push(e.to);
      e = next;
    }
    rings.push(ring);
  }
  return rings;
}

/**
 * The cells' vertices on the communities' boundaries, smoothed: the lattice leaves a zigzag along
 * every boundary, so each boundary vertex between two areas moves a few times towards the middle of
 * its two neighbours along the boundary, while the points where three areas meet (and where two meet
 * the city's outline) stay put. One position per vertex, used by every level's rings, keeps
 * neighbours, parents and children sharing their boundaries exactly.
 */
function smoothed(cells: Cells, communityOf: Map<number, number>): Map<string, Pt> {
  const key = (p: Pt) => `${p[0]},${p[1]}`;
  const side = new Map<string, number>();
  cells.rings.forEach((r, c) => {
    if (!communityOf.has(c)) return;
    for (let i = 0; i < r.length; i++) side.set(`${key(r[i])}>${key(r[(i + 1) % r.length])}`, communityOf.get(c)!);
  });
  const pos = new Map<string, Pt>();
  const links = new Map<string, Set<string>>();
  for (const [edge, area] of side) {
    const [a, b] = edge.split('>');
    if (side.get(`${b}>${a}`) === area) continue; // inside one community
    for (const [u, v] of [
      [a, b],
      [b, a]
    ]) {
      if (!links.has(u)) links.set(u, new Set());
      links.get(u)!.add(v);
      pos.set(u, u.split(',').map(Number) as Pt);
    }
  }
  // a vertex on a boundary between exactly two sides has two boundary neighbours; more, and it is a junction
  const free = [...links].filter(([, n]) => n.size === 2).map(([k, n]) => [k, [...n]] as const);
  for (let it = 0; it < 5; it++) {
    const next = new Map<string, Pt>();
    for (const [k, [u, v]] of free) {
      const p = pos.get(k)!;
      const a = pos.get(u)!;
      const b = pos.get(v)!;
      next.set(k, [p[0] * 0.5 + (a[0] + b[0]) * 0.25, p[1] * 0.5 + (a[1] + b[1]) * 0.25]);
    }
    for (const [k, p] of next) pos.set(k, p);
  }
  return pos;
}

/** The GeoJSON of the city's districts, towns and communities ({code, name, level, parent_code}). */
export function cityGeoJson(seed: number, tree: RegionTree): string {
  const rng = new Rng(seed, 'geo');
  const towns = tree.districts.reduce((s, d) => s + d.towns.length, 0);
  const cells = cityCells(rng, Math.max(1400, tree.communities.length * 16, towns * 60));
  const city = connected(
    cells,
    cells.sites.map((_, i) => i)
  );
  // districts, then each district's towns, then each town's communities
  const areas: { code: string; name: string; level: string; parent: string; members: number[] }[] = [];
  const districtCells = split(cells, city, tree.districts.length, rng);
  const townAreas: { town: (typeof tree.districts)[number]['towns'][number]; members: number[] }[] = [];
  tree.districts.forEach((d, i) => {
    areas.push({ code: d.code, name: d.name, level: 'district', parent: tree.city.code, members: districtCells[i] });
    split(cells, districtCells[i], d.towns.length, rng).forEach((members, j) => townAreas.push({ town: d.towns[j], members }));
  });
  for (const { town, members } of townAreas)
    areas.push({ code: town.code, name: town.name, level: 'town', parent: town.district.code, members });
  const communityOf = new Map<number, number>();
  for (const { town, members } of townAreas)
    split(cells, members, town.communities.length, rng).forEach((m, j) => {
      const c = town.communities[j];
      for (const cell of m) communityOf.set(cell, areas.length);
      areas.push({ code: c.code, name: c.name, level: 'community', parent: town.code, members: m });
    });
  const pos = smoothed(cells, communityOf);
  const features = areas.map(({ code, name, level, parent, members }) => {
    const rings = union(cells, members).map((keys) => {
      const pts = keys.map((k) => pos.get(k)!).map(([x, y]) => [Number(x.toFixed(6)), Number(y.toFixed(6))] as Pt);
      const ring = pts.filter((p, i) => p[0] !== pts[(i + 1) % pts.length][0] || p[1] !== pts[(i + 1) % pts.length][1]);
      ring.push(ring[0]);
      return ring;
    });
    rings.sort((a, b) => area(b) - area(a));
    if (rings.length === 0 || area(rings[0]) <= 0) throw new Error(`map: ${code} has no outer boundary`);
    if (rings.slice(1).some((r) => area(r) > 0)) throw new Error(`map: ${code} is not one piece`);
    return { type: 'Feature', properties: { code, name, level, parent_code: parent }, geometry: { type: 'Polygon', coordinates: rings } };
  });
  return JSON.stringify({ type: 'FeatureCollection', name: tree.city.name, features }) + '\n';
}
