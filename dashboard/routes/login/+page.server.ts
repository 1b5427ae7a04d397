// Staff sign-in: a thin wrapper over accounts.login (scrypt, lockout, audit) that sets the session cookie.
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { login, MAX_BLOCK_MINUTES, MAX_FAILED_LOGINS } from '../../../core/accounts.ts';
import { safeNext, setSessionCookie } from '$lib/server/session';
import { landingFor } from '$lib/server/field';
import { LANG_COOKIE, parseLang } from '$lib/i18n';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
  // No page asked for: each account lands on its own (community and town staff on their field tasks).
  const next = url.searchParams.get('next') ? safeNext(url.searchParams.get('next')) : '';
  if (locals.user) redirect(303, next || (await landingFor(db(), locals.user)));
  return {
    next,
    reason: url.searchParams.get('reason'),
    lang: parseLang(cookies.get(LANG_COOKIE)),
    maxFailed: MAX_FAILED_LOGINS,
    lockoutMinutes: MAX_BLOCK_MINUTES
  };
};

export const actions: Actions = {
  default: async ({ request, cookies, url, getClientAddress }) => {
    const form = await request.formData();
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    const asked = String(form.get('next') ?? '');
    if (!username || !password) return fail(400, { username, error: 'missing' as const });
    const result = await login(db(), username, password, {
      ip: getClientAddress(),
      userAgent: request.headers.get('user-agent') ?? undefined
    });
    if (!result.ok) {
      const lockedUntil = result.lockedUntil ? new Date(result.lockedUntil).toISOString() : null;
      return fail(result.reason === 'invalid' ? 400 : result.reason === 'busy' ? 503 : 429, {
        username,
        error: result.reason,
        lockedUntil
      });
    }
    setSessionCookie(cookies, url, result.sessionToken, result.expiresAt);
    redirect(303, asked ? safeNext(asked) : await landingFor(db(), result.user));
  }
};
