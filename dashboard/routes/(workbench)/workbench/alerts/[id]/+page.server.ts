// One alert: its facts, the person (masked unless ?unmask=1 — audit-logged), the evidence timeline
// with lineage, related alerts, transitions, and the lifecycle's action forms. Every action posts
// the alert version the page rendered and goes through the workflow service, which refuses a stale
// version ("changed by X at T — reload").
import { error, fail } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { alertDetail, dispositionsForPeople } from '$lib/server/workbench/detail';
import { assignees } from '$lib/server/workbench/queue';
import { callerError } from '../../../../../../core/errors.ts';
import type { Actions, PageServerLoad } from './$types';

function alertId(param: string): number {
  if (!/^\d{1,15}$/.test(param)) error(404, '没有该预警 No such alert');
  return Number(param);
}

export const load: PageServerLoad = async ({ locals, params, url, getClientAddress }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  const id = alertId(params.id);
  const unmask = url.searchParams.get('unmask') === '1';
  const started = performance.now();
  const detail = await forPage(() => alertDetail(db(), caller, id, { unmask, ip: getClientAddress() }));
  const ms = performance.now() - started;
  return {
    detail,
    unmask,
    dispositions: dispositionsForPeople,
    people: await assignees(db()),
    me: caller.name,
    serverMs: Math.round(ms * 10) / 10
  };
};

async function guarded(locals: App.Locals, params: { id: string }, fn: (id: number) => Promise<unknown>) {
  const caller = await forPage(() => requireAuditor(db(), locals));
  const id = alertId(params.id);
  // The alert must be in the caller's area before anything is done to it.
  await forPage(() => alertDetail(db(), caller, id));
  try {
    return await fn(id);
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    return fail(c.status, { error: c.message, code: c.code });
  }
}

const unavailable = () =>
  fail(501, { error: '处置服务尚未接入 Alert actions are not available yet (the workflow service is not merged)', code: 'unavailable' });

export const actions: Actions = {
  transition: async ({ locals, params }) => guarded(locals, params, async () => unavailable()),
  assign: async ({ locals, params }) => guarded(locals, params, async () => unavailable()),
  propose: async ({ locals, params }) => guarded(locals, params, async () => unavailable()),
  approve: async ({ locals, params }) => guarded(locals, params, async () => unavailable()),
  reject: async ({ locals, params }) => guarded(locals, params, async () => unavailable()),
  recovery: async ({ locals, params }) => guarded(locals, params, async () => unavailable())
};
