// The synthetic city's area tree (city → districts → towns → communities, 12-digit statistical codes).
// Its map (district, town and community polygons) is drawn in shapes.ts.
import { CITY, DISTRICT_NAMES, communityName, townName } from './names.ts';
import { Rng } from './rng.ts';

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
}
export interface District {
  code: string;
  code6: string;
  name: string;
  index: number;
  towns: Town[];
  weight: number;
}

export interface RegionTree {
  city: { code: string; name: string };
  districts: District[];
  communities: Community[];
  /** Cumulative weights over `communities` for sampling a home community. */
  cumulative: Float64Array;
}

export interface RegionShape {
  districts: number;
  townsX: number;
  townsY: number;
  communities: number;
}

export function buildRegions(seed: number, shape: RegionShape): RegionTree {
  const rng = new Rng(seed, 'regions');
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
      weight
    };
    districts.push(district);
    for (let t = 0; t < shape.townsX * shape.townsY; t++) {
      const town: Town = {
        code: code6 + String(t + 1).padStart(3, '0') + '000',
        name: townName(townCounter++),
        district,
        communities: []
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
  return { city: CITY, districts, communities, cumulative };
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
