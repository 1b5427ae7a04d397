// Who is asking: the staff session cookie or a wall screen's kiosk token, resolved once per request
// in hooks.server.ts into event.locals.user / event.locals.kiosk. Cookie names and options live here
// so sign-in, sign-out and the hook agree. Tokens are random secrets; only their hashes are stored
// (accounts.ts), so the cookies carry the token itself, httpOnly and sameSite=lax.
import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { db } from './db.ts';
import { sameOriginPath } from './same-origin.ts';
import { kioskByToken, sessionUser, type KioskToken, type StaffUser } from '../../../core/accounts.ts';

export const SESSION_COOKIE = 'yinling_session';
/** The residents' portal session: a cookie of its own, read only under /portal. */
export const RESIDENT_COOKIE = 'yinling_resident';
export const KIOSK_COOKIE = 'yinling_kiosk';
export const KIOSK_HEADER = 'x-kiosk-token';
/** A wall screen keeps its token for a year; revoking the token (yinling kiosk revoke) ends it at once. */
const KIOSK_COOKIE_DAYS = 365;

function cookieOptions(url: URL) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: url.protocol === 'https:' };
}

export function setSessionCookie(cookies: Cookies, url: URL, token: string, expires: Date): void {
  cookies.set(SESSION_COOKIE, token, { ...cookieOptions(url), expires });
}

export function setKioskCookie(cookies: Cookies, url: URL, token: string): void {
  cookies.set(KIOSK_COOKIE, token, { ...cookieOptions(url), maxAge: KIOSK_COOKIE_DAYS * 86400 });
}

export function setResidentCookie(cookies: Cookies, url: URL, token: string, expires: Date): void {
  cookies.set(RESIDENT_COOKIE, token, { ...cookieOptions(url), expires });
}

export function clearResidentCookie(cookies: Cookies, url: URL): void {
  cookies.delete(RESIDENT_COOKIE, cookieOptions(url));
}

export function clearAuthCookies(cookies: Cookies, url: URL): void {
  cookies.delete(SESSION_COOKIE, cookieOptions(url));
  cookies.delete(KIOSK_COOKIE, cookieOptions(url));
}

export interface Resolved {
  user: StaffUser | null;
  kiosk: KioskToken | null;
  /** A kiosk token arrived in `?token=` on a page request: the hook stores it and redirects without it. */
  kioskFromQuery: string | null;
  /** A cookie named a session or token that is no longer valid: the hook clears it. */
  staleCookie: boolean;
}

/** Resolve the caller: the staff session wins; otherwise a kiosk token from header, query or cookie. */
export async function resolveCaller(event: Pick<RequestEvent, 'cookies' | 'url' | 'request'>): Promise<Resolved> {
  const sessionToken = event.cookies.get(SESSION_COOKIE);
  const out: Resolved = { user: null, kiosk: null, kioskFromQuery: null, staleCookie: false };
  if (sessionToken) {
    out.user = await sessionUser(db(), sessionToken);
    if (out.user) return out;
    out.staleCookie = true;
  }
  const headerToken = event.request.headers.get(KIOSK_HEADER);
  const queryToken = event.url.searchParams.get('token');
  const cookieToken = event.cookies.get(KIOSK_COOKIE);
  const token = headerToken || queryToken || cookieToken;
  if (token) {
    out.kiosk = await kioskByToken(db(), token);
    if (out.kiosk && !headerToken && queryToken) out.kioskFromQuery = queryToken;
    if (!out.kiosk && token === cookieToken) out.staleCookie = true;
  }
  return out;
}

/** The area a caller may see (the root of every path on /screen). */
export function scopeRoot(locals: App.Locals): string | null {
  return locals.user?.region_code ?? locals.kiosk?.region_code ?? null;
}

/** A path inside this site to return to after sign-in; anything else becomes /screen. */
export function safeNext(next: string | null | undefined): string {
  return sameOriginPath(next, '/screen');
}
