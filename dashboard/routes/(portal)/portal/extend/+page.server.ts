// "Keep me signed in": a form post from any portal page (no script needed) gives the session a fresh
// RESIDENT_SESSION_HOURS and returns to the page the resident was on (a path inside /portal only).
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { RESIDENT_COOKIE, setResidentCookie } from '$lib/server/session';
import { extendResidentSession } from '../../../../../core/residents.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/portal');

export const actions: Actions = {
  default: async ({ cookies, url, request }) => {
    const back = String((await request.formData()).get('back') ?? '');
    const token = cookies.get(RESIDENT_COOKIE);
    const until = await extendResidentSession(db(), token);
    if (!until || !token) redirect(303, '/portal/login');
    setResidentCookie(cookies, url, token, until);
    redirect(303, /^\/portal(\/[\w/-]*)?$/.test(back) && !back.startsWith('/portal/extend') ? back : '/portal');
  }
};
