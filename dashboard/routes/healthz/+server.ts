// GET /healthz — public: status, time and schema version (503 when the database is down); a signed-in
// admin also gets the latest job runs and the database's error text. No session is needed, so the hook
// does not resolve one here: this route looks at the cookie itself, only when there is one.
import { json, type RequestHandler } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { health, publicHealth } from '$lib/server/health';
import { resolveCaller, SESSION_COOKIE } from '$lib/server/session';

export const GET: RequestHandler = async (event) => {
  const h = await health(db());
  let admin = false;
  if (h.database.status === 'ok' && event.cookies.get(SESSION_COOKIE)) {
    admin = (await resolveCaller(event).catch(() => null))?.user?.role === 'admin';
  }
  return json(admin ? h : publicHealth(h), { status: h.status === 'down' ? 503 : 200, headers: { 'cache-control': 'no-store' } });
};
