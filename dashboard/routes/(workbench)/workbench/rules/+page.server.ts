import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { allRuleQuality } from '$lib/server/workbench/rules';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  return { rules: await allRuleQuality(db(), caller) };
};
