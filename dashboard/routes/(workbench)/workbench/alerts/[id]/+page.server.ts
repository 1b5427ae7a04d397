// One alert: its facts, the person (masked unless ?unmask=1 — audit-logged), the evidence timeline
// with lineage, related alerts, transitions, and the lifecycle's action forms. Every action posts
// the alert version the page rendered and goes through the workflow service, which refuses a stale
// version ("changed by X at T — reload"). This page never writes an alert itself.
import { error, fail } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { alertDetail, dispositionsForPeople } from '$lib/server/workbench/detail';
import { assignees } from '$lib/server/workbench/queue';
import { callerError } from '../../../../../../core/errors.ts';
import {
  assignAlert,
  transitionAlert,
  type AlertAction,
  type ProposedAction,
  type WorkbenchActor
} from '../../../../../../core/workflow/alerts.ts';
import { recordRecovery, type RecoveryMethod } from '../../../../../../core/workflow/recovery.ts';
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

/** The signed-in caller as the workflow service's actor (the service checks the role against staff_users again). */
const actorOf = (caller: { name: string; role: string }, ip: string): WorkbenchActor => ({ user: caller.name, role: caller.role, ip });

const text = (form: FormData, name: string): string | undefined => {
  const v = form.get(name);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

/**
 * Run one action of the alert through the workflow service. The service refuses what the lifecycle,
 * four eyes or a stale version forbid; its refusals come back to the form as plain words
 * (a stale version: "changed by X at T — reload"), never as a half-done change.
 */
async function act(
  event: { locals: App.Locals; params: { id: string }; request: Request; getClientAddress: () => string },
  fn: (id: number, form: FormData, actor: WorkbenchActor, version: number) => Promise<unknown>
) {
  const caller = await forPage(() => requireAuditor(db(), event.locals));
  const id = alertId(event.params.id);
  const form = await event.request.formData();
  const version = Number(form.get('version'));
  try {
    await fn(id, form, actorOf(caller, event.getClientAddress()), version);
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    return fail(c.status, { error: c.message, code: c.code });
  }
  return { done: true };
}

export const actions: Actions = {
  transition: (event) =>
    act(event, (id, form, actor, version) =>
      transitionAlert(db(), {
        alertId: id,
        action: String(form.get('action') ?? '') as AlertAction,
        actor,
        expectedVersion: version,
        reason: text(form, 'reason'),
        note: text(form, 'note'),
        disposition: text(form, 'disposition'),
        duplicateOf: text(form, 'duplicate_of') === undefined ? undefined : Number(text(form, 'duplicate_of'))
      })
    ),
  assign: (event) =>
    act(event, (id, form, actor, version) =>
      assignAlert(db(), {
        alertId: id,
        assignee: text(form, 'assignee') ?? null,
        actor,
        expectedVersion: version,
        note: text(form, 'note')
      })
    ),
  propose: (event) =>
    act(event, (id, form, actor, version) =>
      transitionAlert(db(), {
        alertId: id,
        action: 'propose',
        actor,
        expectedVersion: version,
        proposedAction: text(form, 'proposal') as ProposedAction | undefined,
        disposition: text(form, 'disposition'),
        intentional: form.get('intentional') === '1',
        amountDue: text(form, 'amount'),
        reason: text(form, 'reason')
      })
    ),
  approve: (event) =>
    act(event, (id, form, actor, version) =>
      transitionAlert(db(), { alertId: id, action: 'approve', actor, expectedVersion: version, note: text(form, 'note') })
    ),
  reject: (event) =>
    act(event, (id, form, actor, version) =>
      transitionAlert(db(), { alertId: id, action: 'reject', actor, expectedVersion: version, reason: text(form, 'note') })
    ),
  recovery: (event) =>
    act(event, (id, form, actor, version) =>
      recordRecovery(db(), {
        alertId: id,
        amount: String(form.get('amount') ?? ''),
        method: String(form.get('method') ?? '') as RecoveryMethod,
        actor,
        expectedVersion: version,
        offsetAgainst: text(form, 'offset_against'),
        note: text(form, 'note')
      })
    )
};
