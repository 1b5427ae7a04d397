// Page loads call the server modules directly (no fetch of our own /api). What those throw in the
// one vocabulary (core/errors.ts) becomes SvelteKit's error() with the same status; a caller whose
// session ended goes to sign-in. Faults of ours stay errors, which hooks.server.ts reports by reference.
import { error, redirect } from '@sveltejs/kit';
import { callerError } from '../../../core/errors.ts';
import { db } from './db.ts';
import { callerFrom, type Caller } from './scope.ts';

export async function forPage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    if (c.status === 401) redirect(303, '/login?reason=expired');
    error(c.status, { message: c.message, code: c.code });
  }
}

/** The signed-in caller of a page (the layout has already sent everyone else to sign-in). */
export async function pageCaller(locals: App.Locals): Promise<Caller> {
  const caller = await forPage(() => callerFrom(db(), locals));
  if (!caller) redirect(303, '/login?reason=expired');
  return caller;
}
