import type { RequestHandler } from './$types';
import { api, HttpError, db, period, requireCaller, semanticEngine } from '$lib/server/api';
import { childValues } from '$lib/server/indicators';
import { regionInScope } from '$lib/server/scope';

/** GET /api/indicators/CODE/regions?region=CODE&period=YYYY-MM — the indicator for each child area. */
export const GET: RequestHandler = (event) =>
  api(async () => {
    const caller = await requireCaller(event);
    const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
    const r = await childValues(semanticEngine(), db(), caller, region, event.params.code, period(event));
    if (!r) throw new HttpError(404, `no indicator ${event.params.code}`);
    return r;
  });
