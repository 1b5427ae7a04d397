// Areas and who may see them. A caller (staff user or kiosk) has a scope region; they may look at
// that region and everything below it. Region lookups read region_paths (the area tree, not an
// indicator). The security context handed to the semantic layer carries the same scope, so the
// engine filters every query too — two independent locks on the same door.
import type { Pool } from '../../../core/db/pool.ts';
import { HttpError } from '../../../core/errors.ts';
import type { PersonalDataHook } from '../../../semantic-layer/engine/index.ts';
import { audit, type Actor } from '../../../core/audit.ts';
import type { KioskToken, StaffUser } from '../../../core/accounts.ts';

export interface Region {
  code: string;
  name: string;
  level: 'city' | 'district' | 'town' | 'community';
  path: string;
  parent_code: string | null;
}

export interface Caller {
  kind: 'staff' | 'kiosk';
  name: string;
  role: 'leader' | 'auditor' | 'staff' | 'admin' | 'kiosk';
  scope: Region;
  /** No person-level data at all (kiosk tokens in privacy mode). */
  privacy: boolean;
}

export async function regionByCode(pool: Pool, code: string): Promise<Region | null> {
  const r = await pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE code = $1`, [code]);
  return r.rows[0] ?? null;
}

export async function cityRegion(pool: Pool): Promise<Region | null> {
  const r = await pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city' ORDER BY code LIMIT 1`);
  return r.rows[0] ?? null;
}

export async function callerFrom(pool: Pool, locals: { user: StaffUser | null; kiosk: KioskToken | null }): Promise<Caller | null> {
  const who = locals.user ?? locals.kiosk;
  if (!who) return null;
  const scope = await regionByCode(pool, who.region_code);
  if (!scope) throw new HttpError(403, `the account's area ${who.region_code} is not in the area tree`, 'scope_missing');
  if (locals.user) return { kind: 'staff', name: locals.user.username, role: locals.user.role, scope, privacy: false };
  return { kind: 'kiosk', name: `kiosk:${locals.kiosk!.label}`, role: 'kiosk', scope, privacy: locals.kiosk!.privacy_mode };
}

/** The region to show, checked against the caller's scope (403 outside it, 404 unknown). */
export async function regionInScope(pool: Pool, caller: Caller, code: string | null | undefined): Promise<Region> {
  if (!code) return caller.scope;
  if (!/^[0-9A-Za-z]{1,32}$/.test(code)) throw new HttpError(404, `"${code}" is not a region code`, 'unknown_region');
  const region = await regionByCode(pool, code);
  if (!region) throw new HttpError(404, `no region ${code}`, 'unknown_region');
  if (!region.path.startsWith(caller.scope.path))
    throw new HttpError(403, `region ${code} is outside your area (${caller.scope.name})`, 'outside_scope');
  return region;
}

export async function breadcrumb(pool: Pool, caller: Caller, region: Region): Promise<Pick<Region, 'code' | 'name' | 'level'>[]> {
  const codes = region.path.split('/').filter(Boolean);
  const r = await pool.query(`SELECT code, name, level, path FROM region_paths WHERE code = ANY($1)`, [codes]);
  const byCode = new Map(r.rows.map((x) => [x.code, x]));
  return codes
    .map((c) => byCode.get(c))
    .filter((x) => x && x.path.startsWith(caller.scope.path))
    .map(({ code, name, level }) => ({ code, name, level }));
}

export async function children(pool: Pool, region: Region): Promise<Pick<Region, 'code' | 'name' | 'level'>[]> {
  const r = await pool.query(`SELECT code, name, level FROM region_paths WHERE parent_code = $1 ORDER BY code`, [region.code]);
  return r.rows;
}

export interface SemanticContext {
  role: string;
  region_code: string;
  region_level: string;
  region_path?: string;
  user: string;
  kind: Caller['kind'];
  unmask?: true;
  [claim: string]: unknown;
}

/**
 * The semantic layer's security context for this caller. `unmask: true` (the engine then returns
 * personal data unmasked and calls its audit hook) only when asked for and the role may.
 */
export function securityContext(caller: Caller, opts: { unmask?: boolean } = {}): SemanticContext {
  // region_path lets the area rule filter by prefix, which the path indexes serve.
  const ctx: SemanticContext = {
    role: caller.role,
    region_code: caller.scope.code,
    region_level: caller.scope.level,
    region_path: caller.scope.path,
    user: caller.name,
    kind: caller.kind
  };
  if (opts.unmask && mayUnmask(caller)) ctx.unmask = true;
  return ctx;
}

/** Roles that may see unmasked personal data (on request, audit-logged). */
export function mayUnmask(caller: Caller): boolean {
  return caller.kind === 'staff' && (caller.role === 'auditor' || caller.role === 'admin');
}

/**
 * The semantic engine's onPersonalData hook of the web process: one audit_log entry
 * ('unmask.semantic', subject = the personal members) per result the engine returns unmasked —
 * written before the data leaves the engine (a failed write means no data).
 */
export function personalDataAuditor(pool: Pool): PersonalDataHook {
  const kinds: Actor['type'][] = ['staff', 'kiosk', 'resident', 'operator', 'system'];
  return async (e) => {
    const ctx = e.securityContext;
    const type = kinds.includes(ctx.kind as Actor['type']) ? (ctx.kind as Actor['type']) : 'staff';
    const name = typeof ctx.user === 'string' && ctx.user ? ctx.user : `role:${String(ctx.role)}`;
    const q = e.query;
    await audit(pool, { type, name }, 'unmask.semantic', e.members.join(','), {
      role: ctx.role,
      region_code: ctx.region_code,
      rows: e.rowCount,
      query: { measures: q.measures, dimensions: q.dimensions, segments: q.segments, filters: q.filters, limit: q.limit, offset: q.offset }
    });
  };
}
