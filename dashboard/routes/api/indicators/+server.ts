import type { RequestHandler } from './$types';
import { api, db, period, requireCaller, semanticEngine } from '$lib/server/api';
import { buildBoard } from '$lib/server/indicators';
import { regionInScope } from '$lib/server/scope';

/** GET /api/indicators?region=CODE&period=YYYY-MM — all 41 indicators with statuses for an area. */
export const GET: RequestHandler = (event) =>
  api(async () => {
    const caller = await requireCaller(event);
    const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
    return buildBoard(semanticEngine(), db(), caller, region, period(event));
  });
