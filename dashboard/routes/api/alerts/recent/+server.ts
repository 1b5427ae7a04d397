import type { RequestHandler } from './$types';
import { api, HttpError, db, requireCaller, semanticEngine } from '$lib/server/api';
import { recentAlerts } from '$lib/server/people';
import { regionInScope } from '$lib/server/scope';

/** GET /api/alerts/recent?region=CODE&limit=20[&privacy=1] — the newest active risk alerts (names masked); in
 *  privacy mode (a kiosk's, or asked for by a public screen) counts per rule and area, no person. */
export const GET: RequestHandler = (event) =>
  api(async () => {
    const caller = await requireCaller(event);
    const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
    const limit = Number(event.url.searchParams.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, '1 ≤ limit ≤ 100');
    return recentAlerts(semanticEngine(), caller, region, limit, { privacy: event.url.searchParams.get('privacy') === '1' });
  });
