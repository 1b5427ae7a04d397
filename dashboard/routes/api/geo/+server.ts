import type { RequestHandler } from './$types';
import { api, db, requireCaller } from '$lib/server/api';
import { childShapes } from '$lib/server/geo';
import { regionInScope } from '$lib/server/scope';

/** GET /api/geo?region=CODE — GeoJSON of the child areas' polygons (empty for a community, or where none were imported). */
export const GET: RequestHandler = (event) =>
  api(async () => {
    const caller = await requireCaller(event);
    const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
    return childShapes(db(), region);
  });
