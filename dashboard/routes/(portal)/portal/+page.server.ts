// The resident's home: the status card (at most one tap after sign-in).
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { myStatus } from '$lib/server/portal';
import { mySurvivorCases } from '../../../../core/workflow/death-reports.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' }); // a person's own record: never cached
  const [status, survivor] = await Promise.all([myStatus(db(), locals.resident.subject), mySurvivorCases(db(), locals.resident.subject)]);
  return { status, survivor };
};
