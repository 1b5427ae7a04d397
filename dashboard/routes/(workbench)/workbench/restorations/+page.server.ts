// Restorations owed for withdrawn death and custody records (issue 21 §3): the items to propose, to
// approve and approved, in the auditor's area. Every action goes through core/workflow/restorations.ts,
// which enforces four eyes (so does the database) and refuses a proposal or approval about figures that
// are no longer the engine's. This page never writes a decision itself.
import { fail } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { callerError } from '../../../../../core/errors.ts';
import type { WorkbenchActor } from '../../../../../core/workflow/alerts.ts';
import {
  RESTORATION_STATES,
  decideRestoration,
  listRestorations,
  proposeRestoration,
  type RestorationState
} from '../../../../../core/workflow/restorations.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  const s = url.searchParams.get('state');
  const state = s && (RESTORATION_STATES as readonly string[]).includes(s) ? (s as RestorationState) : undefined;
  const list = await forPage(() => listRestorations(db(), { actor: { user: caller.name, role: caller.role }, state }));
  return { ...list, state: state ?? null, me: caller.name };
};

const text = (form: FormData, name: string): string | undefined => {
  const v = form.get(name);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

async function act(
  event: { locals: App.Locals; request: Request; getClientAddress: () => string },
  fn: (form: FormData, actor: WorkbenchActor) => Promise<unknown>
) {
  const caller = await forPage(() => requireAuditor(db(), event.locals));
  const form = await event.request.formData();
  try {
    await fn(form, { user: caller.name, role: caller.role, ip: event.getClientAddress() });
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    return fail(c.status, { error: c.message, code: c.code, key: text(form, 'key') ?? null });
  }
  return { done: true, key: text(form, 'key') ?? null };
}

export const actions: Actions = {
  propose: (event) =>
    act(event, (form, actor) =>
      proposeRestoration(db(), {
        recordKind: String(form.get('record_kind') ?? '') as 'death' | 'custody',
        recordId: String(form.get('record_id') ?? ''),
        schemeCode: String(form.get('scheme_code') ?? ''),
        expectedBackPay: String(form.get('back_pay') ?? ''),
        note: text(form, 'note'),
        actor
      })
    ),
  approve: (event) =>
    act(event, (form, actor) => decideRestoration(db(), { decisionId: Number(form.get('decision_id')), outcome: 'approved', actor })),
  reject: (event) =>
    act(event, (form, actor) =>
      decideRestoration(db(), { decisionId: Number(form.get('decision_id')), outcome: 'rejected', reason: text(form, 'reason'), actor })
    )
};
