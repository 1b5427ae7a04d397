import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { ruleQuality } from '$lib/server/workbench/rules';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  return { q: await forPage(() => ruleQuality(db(), caller, params.rule)) };
};
