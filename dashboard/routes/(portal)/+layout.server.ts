// The residents' portal: language and text size from cookies (a link with ?lang= or ?size= changes
// them, no script needed), and the signed-in resident (hooks.server.ts reads only the portal cookie here).
import { redirect } from '@sveltejs/kit';
import { PORTAL_LANG_COOKIE, PORTAL_SIZE_COOKIE, type PortalLang } from '$lib/portal-text';
import type { LayoutServerLoad } from './$types';

const YEAR = 365 * 86400;
/** From this many minutes before a session ends, every page warns at the top (and offers to extend). */
const SESSION_WARNING_MINUTES = 15;

export const load: LayoutServerLoad = async ({ locals, url, cookies }) => {
  const setLang = url.searchParams.get('lang');
  const setSize = url.searchParams.get('size');
  if (setLang === 'zh' || setLang === 'en' || setSize === 'large' || setSize === 'standard') {
    const opts = { path: '/portal', httpOnly: true, sameSite: 'lax' as const, secure: url.protocol === 'https:', maxAge: YEAR };
    if (setLang === 'zh' || setLang === 'en') cookies.set(PORTAL_LANG_COOKIE, setLang, opts);
    if (setSize === 'large' || setSize === 'standard') cookies.set(PORTAL_SIZE_COOKIE, setSize, opts);
    const clean = new URL(url);
    clean.searchParams.delete('lang');
    clean.searchParams.delete('size');
    redirect(303, clean.pathname + clean.search);
  }
  const lang: PortalLang = cookies.get(PORTAL_LANG_COOKIE) === 'en' ? 'en' : 'zh';
  const size = cookies.get(PORTAL_SIZE_COOKIE) === 'standard' ? 'standard' : 'large';
  const r = locals.resident;
  // when the session ends (said on every page, with a button to extend it), and whether that is soon
  const minutesLeft = r ? Math.floor((new Date(r.expires_at).getTime() - Date.now()) / 60_000) : null;
  const sessionEnds = r
    ? new Date(r.expires_at).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false })
    : null;
  return {
    lang,
    size,
    resident: r
      ? {
          name: r.name,
          acting: r.acting ? { name: r.acting.parent_name, role: r.acting.role } : null,
          sessionEnds,
          minutesLeft,
          endingSoon: minutesLeft !== null && minutesLeft <= SESSION_WARNING_MINUTES
        }
      : null,
    path: url.pathname
  };
};
