// Subsidies I may claim (policy finds people) and the ones received, by the session's own ID number only.
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { mySubsidies } from '$lib/server/portal';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  return await mySubsidies(db(), locals.resident.subject);
};
