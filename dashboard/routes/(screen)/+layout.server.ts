// The leaders' screens: only for a signed-in staff user or a wall screen's kiosk token. Everyone
// else goes to sign-in (and comes back here afterwards).
import { redirect } from '@sveltejs/kit';
import { LANG_COOKIE, parseLang } from '$lib/i18n';
import type { Viewer } from '$lib/components/screen/types';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals, url, cookies }) => {
  if (!locals.user && !locals.kiosk) {
    const next = encodeURIComponent(url.pathname + url.search);
    redirect(303, `/login?next=${next}${url.searchParams.has('token') ? '&reason=kiosk' : ''}`);
  }
  const viewer: Viewer = locals.user
    ? { kind: 'staff', name: locals.user.display_name, role: locals.user.role, scope: locals.user.region_code, privacy: false }
    : { kind: 'kiosk', name: locals.kiosk!.label, role: 'kiosk', scope: locals.kiosk!.region_code, privacy: locals.kiosk!.privacy_mode };
  return { viewer, lang: parseLang(cookies.get(LANG_COOKIE)) };
};
