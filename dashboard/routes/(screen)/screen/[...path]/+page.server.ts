// One area's wall screen. The URL holds the drill path from the caller's scope root down
// (/screen/<root>/<district>/<town>…), so any state can be bookmarked and reloaded. A path that is
// not the area's real ancestry is redirected to it; an area outside the caller's scope is a 403.
import { redirect } from '@sveltejs/kit';
import { scopeRoot } from '$lib/server/session';
import { db, semanticEngine } from '$lib/server/api';
import { childShapes } from '$lib/server/geo';
import { childValues } from '$lib/server/indicators';
import { recentAlerts } from '$lib/server/people';
import { loadArea, screenOptions } from '../area.server';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, url, locals }) => {
  const root = scopeRoot(locals);
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!codes.length) redirect(307, `/screen/${root}${url.search}`);
  const options = screenOptions(url);
  const { payload, chain, caller, region } = await loadArea(locals, codes, options.period);
  const canonical = chain.map((r) => r.code);
  if (canonical.join('/') !== codes.join('/')) redirect(307, `/screen/${canonical.join('/')}${url.search}`);
  // What the first paint also needs — the map's shapes and values, the newest alerts — loaded here
  // in parallel, so charts and ticker do not wait for a second round trip after hydration. Each
  // is optional: the live feed fetches whatever is missing.
  const indicator = options.indicator && payload.indicators.some((i) => i.code === options.indicator) ? options.indicator : 'P01';
  const optional = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (e) {
      console.error(
        `[screen] first-paint ${what} for ${region.code} failed; the page fetches it itself:`,
        e instanceof Error ? e.message : e
      );
      return null;
    }
  };
  const hasChildren = payload.region.children.length > 0;
  const [geo, regions, alerts] = await Promise.all([
    hasChildren ? optional('map shapes', () => childShapes(db(), region)) : null,
    hasChildren ? optional('area values', () => childValues(semanticEngine(), db(), caller, region, indicator, options.period)) : null,
    optional('alerts', () => recentAlerts(semanticEngine(), caller, region, 20, { privacy: options.privacy }))
  ]);
  return { payload, chain, options, first: { indicator, geo, regions, alerts: alerts?.rows ?? null } };
};
