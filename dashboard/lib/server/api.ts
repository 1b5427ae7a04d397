// Shared plumbing of the /api routes: who is calling, the semantic engine, and errors as plain
// JSON ({error}) with the right status — never a stack trace.
import { json, type RequestEvent } from '@sveltejs/kit';
import { db } from './db.ts';
import { semanticEngine } from './semantic.ts';
import { callerFrom, ScopeError, type Caller } from './scope.ts';
import { UserError, ForbiddenError } from '../../../semantic-layer/engine/index.ts';

import { ApiError } from './errors.ts';

export async function requireCaller(event: Pick<RequestEvent, 'locals'>): Promise<Caller> {
  const caller = await callerFrom(db(), event.locals);
  if (!caller) throw new ApiError(401, '请先登录 Please sign in');
  return caller;
}

export function period(event: Pick<RequestEvent, 'url'>): string | null {
  const p = event.url.searchParams.get('period');
  if (p === null || p === '') return null;
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(p)) throw new ApiError(400, `period must be YYYY-MM, got "${p}"`);
  return p;
}

export async function api(handler: () => Promise<unknown>): Promise<Response> {
  try {
    return json(await handler(), { headers: { 'cache-control': 'no-store' } });
  } catch (e) {
    if (e instanceof ApiError) return json({ error: e.message }, { status: e.status });
    if (e instanceof ScopeError) return json({ error: e.message }, { status: e.status });
    if (e instanceof UserError) return json({ error: e.message }, { status: 400 });
    if (e instanceof ForbiddenError) return json({ error: e.message }, { status: 403 });
    const id = Math.random().toString(36).slice(2, 10);
    console.error(`[api] error ${id}:`, e);
    return json({ error: `服务器内部错误 Internal error (ref ${id})` }, { status: 500 });
  }
}

export { db, semanticEngine, ApiError };
