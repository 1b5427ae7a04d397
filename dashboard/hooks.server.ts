// The single choke point for every request: who is asking (staff session or kiosk token →
// event.locals), and errors as a plain message with an id the operator
// can find in the log — never a stack trace in a response.
import { redirect, type Handle, type HandleServerError } from '@sveltejs/kit';
import { randomUUID } from 'node:crypto';
import { clearAuthCookies, clearResidentCookie, resolveCaller, RESIDENT_COOKIE, setKioskCookie } from '$lib/server/session';
import { db } from '$lib/server/db';
import { residentBySession } from '../core/residents.ts';
import { ownPath } from '$lib/server/same-origin';

/** Paths that need no caller (and no database round trip). */
const PUBLIC = [/^\/healthz(\/|$)/, /^\/favicon/, /^\/robots\.txt$/];
/** The residents' portal: only its own session cookie counts there (and nowhere else). */
const PORTAL = /^\/portal(\/|$)/;

export const handle: Handle = async ({ event, resolve }) => {
  event.locals.user = null;
  event.locals.kiosk = null;
  event.locals.resident = null;
  if (PORTAL.test(event.url.pathname)) {
    event.locals.resident = await residentBySession(db(), event.cookies.get(RESIDENT_COOKIE));
    if (!event.locals.resident && event.cookies.get(RESIDENT_COOKIE)) clearResidentCookie(event.cookies, event.url);
  } else if (!PUBLIC.some((re) => re.test(event.url.pathname))) {
    const caller = await resolveCaller(event);
    event.locals.user = caller.user;
    event.locals.kiosk = caller.kiosk;
    if (caller.staleCookie) clearAuthCookies(event.cookies, event.url);
    const isApi = event.url.pathname.startsWith('/api/') || event.url.pathname.startsWith('/cubejs-api/');
    if (caller.kioskFromQuery && !isApi && event.request.method === 'GET') {
      // First visit of a wall screen with ?token=…: keep the token in an httpOnly cookie and drop it
      // from the address bar, so it does not end up in bookmarks, history or screenshots.
      setKioskCookie(event.cookies, event.url, caller.kioskFromQuery);
      const clean = new URL(event.url);
      clean.searchParams.delete('token');
      redirect(303, ownPath(clean.pathname) + clean.search);
    }
  }
  // nosniff, framing, referrer policy and HSTS are set for every response, static files included,
  // by the server around this app (jobs/web/http-server.ts setBaseHeaders).
  return resolve(event);
};

export const handleError: HandleServerError = ({ error, status, message }) => {
  const id = randomUUID().slice(0, 8);
  if (status >= 500) console.error(`[web] error ${id}:`, error);
  return { message: status >= 500 ? `服务器内部错误 Internal error (ref ${id})` : message, id };
};
