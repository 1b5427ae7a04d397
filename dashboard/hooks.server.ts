// The single choke point for every request: who is asking (staff session or kiosk token →
// event.locals), and errors as a plain message with an id the operator
// can find in the log — never a stack trace in a response.
import { redirect, type Handle, type HandleServerError } from '@sveltejs/kit';
import { randomUUID } from 'node:crypto';
import { clearAuthCookies, clearResidentCookie, resolveCaller, RESIDENT_COOKIE, setKioskCookie } from '$lib/server/session';
import { db } from '$lib/server/db';
import { residentBySession } from '../core/residents.ts';
import { ownPath } from '$lib/server/same-origin';
import { mayUseWorkbench, WORKBENCH_PATH } from '$lib/server/workbench/access';

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
    if (WORKBENCH_PATH.test(event.url.pathname)) {
      const refused = workbenchRefusal(event.locals.user, event.request.method, event.url);
      if (refused) return refused;
    }
  }
  // nosniff, framing, referrer policy and HSTS are set for every response, static files included,
  // by the server around this app (jobs/web/http-server.ts setBaseHeaders).
  return resolve(event);
};

/**
 * The auditors' workbench is for staff with the role auditor or admin only: any other caller is
 * refused here, before any page, form action or export of /workbench runs (the routes check again).
 * A visitor without a session is sent to sign-in when they asked for a page; a form post or a file
 * gets 401. A kiosk token is never enough.
 */
function workbenchRefusal(user: App.Locals['user'], method: string, url: URL): Response | null {
  if (mayUseWorkbench(user)) return null;
  const page = (status: number, zh: string, en: string) =>
    new Response(
      `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>${status}</title>` +
        `<main data-testid="error-page" data-status="${status}"><h1>${zh}</h1><p>${en}</p><p><a href="/">首页 Home</a></p></main>`,
      { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } }
    );
  if (!user) {
    if (method === 'GET' || method === 'HEAD') {
      redirect(303, `/login?next=${encodeURIComponent(ownPath(url.pathname) + url.search)}`);
    }
    return page(401, '请先登录', 'Please sign in');
  }
  return page(403, '稽核工作台仅限稽核员和管理员', 'The workbench is for auditors and administrators only');
}

export const handleError: HandleServerError = ({ error, status, message }) => {
  const id = randomUUID().slice(0, 8);
  if (status >= 500) console.error(`[web] error ${id}:`, error);
  return { message: status >= 500 ? `服务器内部错误 Internal error (ref ${id})` : message, id };
};
