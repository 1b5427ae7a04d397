// The personal-data rule, shared by the embedded engine and by semantic-layer/cube.js (real
// Cube), next to the area rule (region-rule.js, whose model reader it shares). Plain JavaScript: Cube
// loads it untranspiled.
//
// Convention (see ../README.md, "Personal data"):
//   * A member holding personal data says so in its meta:  meta: { personal: id_number }
//     (kinds: id_number, name, phone; any other kind is masked completely). A view member is
//     personal when the cube member it includes is (a view cannot declassify it).
//   * A caller may read personal values only when its security context has role 'auditor' or
//     'admin' AND `unmask: true` (the dashboard signs such a context only for an auditor who
//     asked to unmask; every such read is audit-logged).
//   * Everyone else:
//       - embedded engine: personal members may be selected, their values come back masked
//         (masking.ts), but a filter or an order key on a personal member is refused (403) —
//         whatever the operator: `equals` would confirm a guessed ID number, `startsWith` /
//         `gt` would find it digit by digit, and ordering leaks its rank. Cube's default order
//         never falls on a personal dimension for them either.
//       - real Cube (cube.js): Cube cannot rewrite result values in queryRewrite, so any query
//         naming a personal member anywhere is refused (403).

import { readModelFiles } from './region-rule.js';

export const UNMASK_ROLES = ['auditor', 'admin'];
export const PERSONAL_KINDS = ['id_number', 'name', 'phone'];
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Raised when a query uses personal data in a way the caller is not allowed to (403). */
export class PersonalDataError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PersonalDataError';
    this.status = 403;
  }
}

/** The personal-data kind a member's meta declares, or undefined. */
export function personalKindOf(meta) {
  if (!meta || typeof meta !== 'object') return undefined;
  const p = meta.personal;
  if (p === undefined || p === null || p === false) return undefined;
  if (typeof p === 'string' && p) return p;
  return 'other';
}

/** Whether this security context may read personal values unmasked. */
export function mayReadPersonal(securityContext) {
  const ctx = securityContext && typeof securityContext === 'object' ? securityContext : {};
  return UNMASK_ROLES.includes(ctx.role) && ctx.unmask === true;
}

const get = (o, snake, camel) => (o[snake] !== undefined ? o[snake] : o[camel]);

/**
 * Personal members of a model from its YAML definitions: { 'cube.member' | 'view.member': kind }.
 * Views are resolved as Cube does (join_path, includes names / "*" / {name, alias}, excludes,
 * prefix, alias); a view member is personal when its cube member is.
 */
export function personalMembersFrom(cubes, views = []) {
  const out = {};
  const byName = new Map();
  for (const c of cubes) {
    if (!c || typeof c.name !== 'string') continue;
    const members = new Map();
    for (const kind of ['dimensions', 'measures', 'segments']) {
      for (const m of Array.isArray(c[kind]) ? c[kind] : []) {
        if (m && typeof m.name === 'string') members.set(m.name, personalKindOf(m.meta));
      }
    }
    byName.set(c.name, members);
    for (const [name, kind] of members) if (kind) out[`${c.name}.${name}`] = kind;
  }
  for (const v of views) {
    if (!v || typeof v.name !== 'string') continue;
    for (const entry of Array.isArray(v.cubes) ? v.cubes : []) {
      const joinPath = entry && get(entry, 'join_path', 'joinPath');
      if (typeof joinPath !== 'string') continue;
      const cubeName = joinPath.split('.').pop();
      const members = byName.get(cubeName);
      if (!members) continue;
      const alias = typeof entry.alias === 'string' ? entry.alias : cubeName;
      const prefix = entry.prefix === true;
      const excludes = new Set(Array.isArray(entry.excludes) ? entry.excludes.map(String) : []);
      const includes =
        entry.includes === '*'
          ? [...members.keys()].map((m) => ({ member: m, as: m, meta: undefined }))
          : (Array.isArray(entry.includes) ? entry.includes : [])
              .map((x) =>
                typeof x === 'string'
                  ? { member: x, as: x, meta: undefined }
                  : x && typeof x === 'object' && typeof x.name === 'string'
                    ? { member: x.name, as: typeof x.alias === 'string' ? x.alias : x.name, meta: x.meta }
                    : null
              )
              .filter(Boolean);
      for (const inc of includes) {
        if (excludes.has(inc.member) || !members.has(inc.member)) continue;
        const kind = members.get(inc.member) || personalKindOf(inc.meta);
        const name = prefix ? `${alias}_${inc.as}` : inc.as;
        if (kind && NAME_RE.test(name)) out[`${v.name}.${name}`] = kind;
      }
    }
  }
  return out;
}

/** Read the personal members straight from the model's YAML files (used by cube.js). */
export async function loadPersonalMembers(modelDir, parseYaml) {
  const { cubes, views } = await readModelFiles(modelDir, parseYaml);
  return personalMembersFrom(cubes, views);
}

const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
/** `cube.member` of a path that may carry a granularity (`cube.td.month`). */
const memberPath = (p) => (typeof p === 'string' ? p.split('.').slice(0, 2).join('.') : '');

/** Where a (Cube REST) query names personal members: { selected, filtered, ordered }. */
export function personalMembersTouched(query, personal) {
  const selected = new Set();
  const filtered = new Set();
  const ordered = new Set();
  const add = (set, p) => {
    const m = memberPath(p);
    if (m && own(personal, m)) set.add(m);
  };
  for (const key of ['measures', 'dimensions', 'segments']) {
    for (const m of Array.isArray(query[key]) ? query[key] : []) add(selected, m);
  }
  for (const td of Array.isArray(query.timeDimensions) ? query.timeDimensions : []) {
    if (!td) continue;
    if (td.granularity) add(selected, td.dimension);
    if (td.dateRange !== undefined) add(filtered, td.dimension);
  }
  const walk = (filters) => {
    for (const f of Array.isArray(filters) ? filters : []) {
      if (!f || typeof f !== 'object') continue;
      if (f.and) walk(f.and);
      if (f.or) walk(f.or);
      add(filtered, f.member);
      add(filtered, f.dimension);
    }
  };
  walk(query.filters);
  const order = query.order;
  if (Array.isArray(order)) {
    for (const o of order) add(ordered, Array.isArray(o) ? o[0] : o && o.id);
  } else if (order && typeof order === 'object') {
    for (const k of Object.keys(order)) add(ordered, k);
  }
  return { selected: [...selected].sort(), filtered: [...filtered].sort(), ordered: [...ordered].sort() };
}

/**
 * The embedded engine's check: a caller without the right may select personal members (the
 * engine masks them) but not filter or order on them. Returns { unmasked, selected }.
 */
export function checkPersonalQuery(query, securityContext, personal) {
  const touched = personalMembersTouched(query, personal);
  const unmasked = mayReadPersonal(securityContext);
  if (!unmasked) {
    const used = [...new Set([...touched.filtered, ...touched.ordered])];
    if (used.length) {
      throw new PersonalDataError(
        `Filtering or ordering on personal data (${used.join(', ')}) requires an auditor's or admin's unmasked access`
      );
    }
  }
  return { unmasked, selected: touched.selected };
}

/**
 * cube.js's queryRewrite for personal data: real Cube cannot mask values, so a caller without
 * the right may not name a personal member at all. Returns the query unchanged.
 */
export function applyPersonalRule(query, securityContext, personal) {
  if (mayReadPersonal(securityContext)) return query;
  const t = personalMembersTouched(query, personal);
  const used = [...new Set([...t.selected, ...t.filtered, ...t.ordered])].sort();
  if (used.length) {
    throw new PersonalDataError(`Personal data (${used.join(', ')}) requires an auditor's or admin's unmasked access`);
  }
  return query;
}
