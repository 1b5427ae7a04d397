// Sign-out: ends the server-side session (audit-logged) and forgets the kiosk token on this browser.
// GET shows a confirmation button; only POST signs out (no sign-out by a stray link or prefetch).
import { redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { logout } from '../../../core/accounts.ts';
import { clearAuthCookies, SESSION_COOKIE } from '$lib/server/session';
import { LANG_COOKIE, parseLang } from '$lib/i18n';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies }) => {
  if (!locals.user && !locals.kiosk) redirect(303, '/login');
  return { name: locals.user?.display_name ?? locals.kiosk?.label ?? '', lang: parseLang(cookies.get(LANG_COOKIE)) };
};

export const actions: Actions = {
  default: async ({ cookies, url, locals, getClientAddress }) => {
    const token = cookies.get(SESSION_COOKIE);
    if (token && locals.user) await logout(db(), token, { type: 'staff', name: locals.user.username, ip: getClientAddress() });
    clearAuthCookies(cookies, url);
    redirect(303, '/login?reason=signed_out');
  }
};
