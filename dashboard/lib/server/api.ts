// Shared plumbing of the /api routes: who is calling, the semantic engine, and errors answered by
// the one mapping (core/errors.ts errorResponse) — plain JSON {error, code} with the right status,
// never a stack trace.
import { json, type RequestEvent } from '@sveltejs/kit';
import { HttpError, errorResponse } from '../../../core/errors.ts';
import { db } from './db.ts';
import { semanticEngine } from './semantic.ts';
import { callerFrom, type Caller } from './scope.ts';

export async function requireCaller(event: Pick<RequestEvent, 'locals'>): Promise<Caller> {
  const caller = await callerFrom(db(), event.locals);
  if (!caller) throw new HttpError(401, '请先登录 Please sign in');
  return caller;
}

export function period(event: Pick<RequestEvent, 'url'>): string | null {
  const p = event.url.searchParams.get('period');
  if (p === null || p === '') return null;
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(p)) throw new HttpError(400, `period must be YYYY-MM, got "${p}"`, 'invalid_period');
  return p;
}

export async function api(handler: () => Promise<unknown>): Promise<Response> {
  try {
    return json(await handler(), { headers: { 'cache-control': 'no-store' } });
  } catch (e) {
    return errorResponse(e, (m) => console.error(`[api] ${m}`));
  }
}

export { db, semanticEngine, HttpError };
