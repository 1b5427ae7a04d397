// One area's wall screen. The URL holds the drill path from the caller's scope root down
// (/screen/<root>/<district>/<town>…), so any state can be bookmarked and reloaded. A path that is
// not the area's real ancestry is redirected to it; an area outside the caller's scope is a 403.
import { redirect } from '@sveltejs/kit';
import { scopeRoot } from '$lib/server/session';
import { loadArea, screenOptions } from '../area.server';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, url, fetch, locals }) => {
  const root = scopeRoot(locals);
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!codes.length) redirect(307, `/screen/${root}${url.search}`);
  const options = screenOptions(url);
  const { payload, chain } = await loadArea(fetch, locals, codes, options.period);
  const canonical = chain.map((r) => r.code);
  if (canonical.join('/') !== codes.join('/')) redirect(307, `/screen/${canonical.join('/')}${url.search}`);
  return { payload, chain, options };
};
