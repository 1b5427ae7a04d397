// One area's wall screen. The URL holds the drill path from the caller's scope root down
// (/screen/<root>/<district>/<town>…), so any state can be bookmarked and reloaded. A path that is
// not the area's real ancestry is redirected to it; an area outside the caller's scope is a 403.
import { redirect } from '@sveltejs/kit';
import { scopeRoot } from '$lib/server/session';
import { loadArea, screenOptions } from '../area.server';
import type { AlertsResponse, GeoCollection, RegionsResponse } from '$lib/components/screen/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, url, fetch, locals }) => {
  const root = scopeRoot(locals);
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!codes.length) redirect(307, `/screen/${root}${url.search}`);
  const options = screenOptions(url);
  const { payload, chain } = await loadArea(fetch, locals, codes, options.period);
  const canonical = chain.map((r) => r.code);
  if (canonical.join('/') !== codes.join('/')) redirect(307, `/screen/${canonical.join('/')}${url.search}`);
  // What the first paint also needs — the map's shapes and values, the newest alerts — fetched here
  // in parallel, so charts and ticker do not wait for a second round trip after hydration. Each
  // is optional: the live feed fetches whatever is missing.
  const indicator = options.indicator && payload.indicators.some((i) => i.code === options.indicator) ? options.indicator : 'P01';
  const region = payload.region.code;
  const q = new URLSearchParams({ region });
  if (options.period) q.set('period', options.period);
  const optional = async <T>(path: string): Promise<T | null> => {
    try {
      const r = await fetch(path);
      return r.ok ? ((await r.json()) as T) : null;
    } catch {
      return null;
    }
  };
  const hasChildren = payload.region.children.length > 0;
  const [geo, regions, alerts] = await Promise.all([
    hasChildren ? optional<GeoCollection>(`/api/geo?region=${region}`) : null,
    hasChildren ? optional<RegionsResponse>(`/api/indicators/${indicator}/regions?${q}`) : null,
    optional<AlertsResponse>(`/api/alerts/recent?region=${region}&limit=20`)
  ]);
  return { payload, chain, options, first: { indicator, geo, regions, alerts: alerts?.rows ?? null } };
};
