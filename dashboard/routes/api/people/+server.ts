import type { RequestHandler } from './$types';
import { api, HttpError, db, requireCaller, semanticEngine } from '$lib/server/api';
import { peopleBehind } from '$lib/server/people';
import { regionInScope } from '$lib/server/scope';

/**
 * GET /api/people?indicator=CODE&region=CODE[&period=YYYY-MM]&offset=0&limit=50[&unmask=1] — the people
 * behind a count: for a month-grain indicator those counted in `period` (default: the board's
 * default month), for a "now" indicator the latest snapshot.
 */
export const GET: RequestHandler = (event) =>
  api(async () => {
    const caller = await requireCaller(event);
    if (caller.privacy) throw new HttpError(403, '隐私模式下不显示个人明细 Person-level lists are hidden in privacy mode');
    const region = await regionInScope(db(), caller, event.url.searchParams.get('region'));
    const q = event.url.searchParams;
    const offset = Number(q.get('offset') ?? 0),
      limit = Number(q.get('limit') ?? 50); // checked by peopleBehind
    const period = q.get('period');
    if (period !== null && !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new HttpError(400, 'period must be YYYY-MM');
    return peopleBehind(semanticEngine(), db(), caller, region, q.get('indicator') ?? '', {
      offset,
      limit,
      unmask: q.get('unmask') === '1',
      ip: event.getClientAddress(),
      period
    });
  });
