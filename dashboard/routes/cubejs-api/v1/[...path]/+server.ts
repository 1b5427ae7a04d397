// Cube's REST API (/cubejs-api/v1/load, /sql, /meta, /dry-run) served by the embedded engine.
import { semanticResponse } from '$lib/server/semantic';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = ({ request }) => semanticResponse(request);
export const POST: RequestHandler = ({ request }) => semanticResponse(request);
