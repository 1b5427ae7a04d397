// The auditors' workbench: signed-in staff with the role auditor or admin only. hooks.server.ts has
// refused everyone else already; this asks again (two locks on one door), so a page of this group
// never renders for another role even if the hook's check were changed.
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals, setHeaders }) => {
  // Alert lists and case files hold personal data: never cached, the browser's cache included.
  setHeaders({ 'cache-control': 'no-store' });
  const caller = await forPage(() => requireAuditor(db(), locals));
  return {
    me: { username: caller.name, display_name: locals.user!.display_name, role: caller.role, scope: caller.scope.name }
  };
};
