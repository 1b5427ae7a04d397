// My payments: the last 12 months per scheme, read by the session's own ID number only.
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { myPayments } from '$lib/server/portal';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  return { schemes: await myPayments(db(), locals.resident.subject) };
};
