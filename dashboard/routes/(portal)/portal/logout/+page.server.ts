// Sign out of the portal (a form post; a link cannot sign anyone out).
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { clearResidentCookie, RESIDENT_COOKIE } from '$lib/server/session';
import { residentSignOut } from '../../../../../core/residents.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/portal');

export const actions: Actions = {
  default: async ({ cookies, url }) => {
    await residentSignOut(db(), cookies.get(RESIDENT_COOKIE));
    clearResidentCookie(cookies, url);
    redirect(303, '/portal/login');
  }
};
