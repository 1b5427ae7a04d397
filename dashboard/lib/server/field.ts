// The field pages' gate (/field): a signed-in staff session, else sign-in (a kiosk token is refused).
// Whether the account may work field tasks, and which tasks are in its area, is decided by the service
// (core/workflow/field-visits.ts) on every load and every form action — a layout load does not run
// before a form action, so no page relies on it.
import { error, redirect } from '@sveltejs/kit';
import type { StaffUser } from '../../../core/accounts.ts';
import type { Queryable } from '../../../core/db/pool.ts';

export function fieldUser(locals: App.Locals, url: URL): StaffUser {
  if (locals.user) return locals.user;
  if (locals.kiosk) error(403, '大屏令牌不能打开实地核实任务 A wall-screen token cannot open field tasks');
  redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
}

/** Where a staff member lands after sign-in when no page was asked for: community and town staff on their tasks. */
export async function landingFor(db: Queryable, user: StaffUser): Promise<string> {
  if (user.role !== 'staff') return '/screen';
  const r = await db.query(`SELECT level FROM region_paths WHERE code = $1`, [user.region_code]);
  return r.rows[0]?.level === 'town' || r.rows[0]?.level === 'community' ? '/field' : '/screen';
}
