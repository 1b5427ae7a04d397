// Who may use the auditors' workbench: signed-in staff with the role auditor or admin, nobody else.
// Checked twice, like every door of the app: hooks.server.ts refuses any other caller on every
// /workbench request (pages, form actions and exports alike, before any route code runs), and each
// load and action asks again through requireAuditor — so a route added later without the check, or
// a hook changed by mistake, still refuses.
import { HttpError } from '../../../../core/errors.ts';
import type { Queryable } from '../../../../core/db/pool.ts';
import { callerFrom, type Caller } from '../scope.ts';
import type { Pool } from '../../../../core/db/pool.ts';

export const WORKBENCH_ROLES = ['auditor', 'admin'] as const;
export const WORKBENCH_PATH = /^\/workbench(\/|$)/;

export function mayUseWorkbench(user: App.Locals['user']): boolean {
  return !!user && !user.disabled && (WORKBENCH_ROLES as readonly string[]).includes(user.role);
}

/** The caller of a workbench page or action: 401 without a staff session, 403 for any other role. */
export async function requireAuditor(pool: Pool, locals: App.Locals): Promise<Caller> {
  if (!locals.user) throw new HttpError(401, '请先登录 Please sign in');
  if (!mayUseWorkbench(locals.user))
    throw new HttpError(403, '稽核工作台仅限稽核员和管理员 The workbench is for auditors and administrators only', 'workbench_forbidden');
  const caller = await callerFrom(pool, locals);
  if (!caller || caller.kind !== 'staff') throw new HttpError(401, '请先登录 Please sign in');
  return caller;
}

/** The region filter of the caller's scope on a region_code column ('' for a city-wide caller). */
export function scopeSql(caller: Caller, col: string, param: number): { sql: string; values: unknown[] } {
  if (caller.scope.level === 'city') return { sql: '', values: [] };
  return { sql: ` AND ${col} IN (SELECT code FROM region_paths WHERE path LIKE $${param} || '%')`, values: [caller.scope.path] };
}

export type { Caller, Queryable };
