// The area rule, shared verbatim by the embedded engine and by semantic-layer/cube.js (real
// Cube), so both add the same filters. Plain JavaScript without dependencies: Cube loads it
// untranspiled.
//
// Convention (see ../README.md, "Region scope"):
//   * A cube whose rows belong to an area declares, in its meta,
//       region_scope: { dimension: region_path }
//     naming a string dimension that holds the row's region path: the codes of every level
//     from the city down, each followed by '/', and starting with '/':
//       /330600/330602/330602001/330602001001/
//   * A caller (JWT payload = security context) carries region_code (letters/digits) and
//     region_level ('city' | 'district' | 'town' | 'community'), and may carry region_path, its
//     region's own path (which must end with '/<region_code>/').
//   * For every region-scoped cube or view a query touches, the rule adds
//       { member: '<cube>.<dimension>', operator: 'startsWith', values: ['<region_path>'] }
//     or, without region_path,
//       { member: '<cube>.<dimension>', operator: 'contains', values: ['/<region_code>/'] }
//     so only rows at or below the caller's region remain (the delimiters make '/3306/' never
//     match '/330602/'; rows without a path never match). Both select the same rows — codes are
//     unique in the tree, so every path holding '/<code>/' starts with that code's path, and a
//     path claim ending in '/<code>/' can only narrow — but a prefix can use a btree index on the
//     path (text_pattern_ops) and a substring cannot: a district caller reads its eighth of the
//     people table instead of scanning all of it. Filters are ANDed at the top level, so nothing
//     in the caller's own filters (or-groups included) can widen them.
//   * A city-level caller (region_level 'city') gets no filter on any cube.
//   * A cube or view with `region_scope: none` holds city-level data (e.g. the fund ledger)
//     and is readable by everyone; one without region_scope is readable only city-wide.
//   * A view declares region_scope too, naming the view member that exposes its root cube's
//     region dimension (checked when the model loads).

export const REGION_LEVELS = ['city', 'district', 'town', 'community'];
const CODE_RE = /^[0-9A-Za-z]{1,32}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH_RE = /^\/(?:[0-9A-Za-z]{1,32}\/)+$/;

/** Raised when the caller may not read what the query asks for. */
export class RegionAccessError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RegionAccessError';
    this.status = 403;
  }
}

/** The region scope a cube or view declares in its meta: undefined, {mode:'none'} or {mode:'path', dimension}. */
export function regionScopeOf(meta) {
  if (!meta || typeof meta !== 'object') return undefined;
  const s = meta.region_scope !== undefined ? meta.region_scope : meta.regionScope;
  if (s === undefined || s === null) return undefined;
  if (s === 'none') return { mode: 'none' };
  if (typeof s === 'object' && !Array.isArray(s) && typeof s.dimension === 'string' && NAME_RE.test(s.dimension)) {
    return { mode: 'path', dimension: s.dimension };
  }
  throw new Error("meta.region_scope must be 'none' or { dimension: <name of the region path dimension> }");
}

/** Scopes of all cubes and views: { name: scope | undefined }. `definitions` are YAML cube/view objects. */
export function regionScopesFrom(definitions) {
  const scopes = {};
  for (const d of definitions) {
    if (d && typeof d.name === 'string') scopes[d.name] = regionScopeOf(d.meta);
  }
  return scopes;
}

/** The cubes and views of the model's YAML files, read straight from disk (for cube.js's rules). */
export async function readModelFiles(modelDir, parseYaml) {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const cubes = [];
  const views = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) {
        const doc = parseYaml(fs.readFileSync(full, 'utf8')) || {};
        cubes.push(...(doc.cubes || []));
        views.push(...(doc.views || []));
      }
    }
  };
  walk(modelDir);
  return { cubes, views };
}

/** Read the scopes straight from the model's YAML files (used by cube.js). */
export async function loadRegionScopes(modelDir, parseYaml) {
  const { cubes, views } = await readModelFiles(modelDir, parseYaml);
  return regionScopesFrom([...cubes, ...views]);
}

/** Validate the caller's scope claims; throws RegionAccessError. */
export function callerScope(securityContext) {
  const ctx = securityContext && typeof securityContext === 'object' ? securityContext : {};
  const code = ctx.region_code;
  if (typeof code !== 'string' || !CODE_RE.test(code)) {
    throw new RegionAccessError('The security context carries no valid region_code');
  }
  const level = ctx.region_level;
  if (level !== undefined && !REGION_LEVELS.includes(level)) {
    throw new RegionAccessError(`The security context has an unknown region_level '${String(level)}'`);
  }
  const path = ctx.region_path;
  if (path !== undefined && (typeof path !== 'string' || !PATH_RE.test(path) || !path.endsWith(`/${code}/`))) {
    throw new RegionAccessError(`The security context's region_path must be the path of its region_code ('/…/${code}/')`);
  }
  return { regionCode: code, regionLevel: level || null, cityWide: level === 'city', regionPath: path === undefined ? null : path };
}

function memberOwner(member) {
  return typeof member === 'string' ? member.split('.')[0] : null;
}

/** Names of the cubes and views a (Cube REST) query mentions anywhere. */
export function ownersTouched(query) {
  const owners = new Set();
  const add = (m) => {
    const o = memberOwner(m);
    if (o) owners.add(o);
  };
  for (const key of ['measures', 'dimensions', 'segments']) {
    for (const m of Array.isArray(query[key]) ? query[key] : []) add(m);
  }
  for (const td of Array.isArray(query.timeDimensions) ? query.timeDimensions : []) add(td && td.dimension);
  const walk = (filters) => {
    for (const f of Array.isArray(filters) ? filters : []) {
      if (!f || typeof f !== 'object') continue;
      if (f.and) walk(f.and);
      if (f.or) walk(f.or);
      add(f.member);
      add(f.dimension);
    }
  };
  walk(query.filters);
  const order = query.order;
  if (Array.isArray(order)) {
    for (const o of order) add(Array.isArray(o) ? o[0] : o && o.id);
  } else if (order && typeof order === 'object') {
    for (const k of Object.keys(order)) add(k);
  }
  return owners;
}

/**
 * Cube's queryRewrite for the area rule: the query with one region filter per scoped cube or
 * view it touches. Throws RegionAccessError for an unscoped one unless the caller is city-wide.
 */
export function applyRegionRule(query, securityContext, scopes) {
  const caller = callerScope(securityContext);
  if (query.filters !== undefined && !Array.isArray(query.filters)) {
    throw new RegionAccessError('filters must be a list');
  }
  const added = [];
  for (const owner of [...ownersTouched(query)].sort()) {
    const scope = Object.prototype.hasOwnProperty.call(scopes, owner) ? scopes[owner] : undefined;
    if (scope && scope.mode === 'none') continue;
    if (caller.cityWide) continue;
    if (!scope) {
      throw new RegionAccessError(`'${owner}' has no region scope; only city-wide callers may query it`);
    }
    const member = `${owner}.${scope.dimension}`;
    added.push(
      caller.regionPath
        ? { member, operator: 'startsWith', values: [caller.regionPath] }
        : { member, operator: 'contains', values: [`/${caller.regionCode}/`] }
    );
  }
  if (!added.length) return query;
  return { ...query, filters: [...(query.filters || []), ...added] };
}

/** `queryRewrite(query, securityContext)` bound to a model's scopes. */
export function createQueryRewrite(scopes) {
  return (query, securityContext) => applyRegionRule(query, securityContext, scopes);
}
