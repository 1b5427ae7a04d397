// The residents' portal: language and text size from cookies (a link with ?lang= or ?size= changes
// them, no script needed), and the signed-in resident (hooks.server.ts reads only the portal cookie here).
import { redirect } from '@sveltejs/kit';
import { PORTAL_LANG_COOKIE, PORTAL_SIZE_COOKIE, type PortalLang } from '$lib/portal-text';
import type { LayoutServerLoad } from './$types';

const YEAR = 365 * 86400;

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
  return { lang, size, resident: locals.resident ? { name: locals.resident.name } : null, path: url.pathname };
};
