// One task with what the visit needs (phone and address: shown to the area's staff only, each view
// audit-logged by the service) and the three ways to record the visit. Every action goes through
// core/workflow/field-visits.ts recordVisit, which checks the caller and the task's area again.
import { error, fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { fieldUser } from '$lib/server/field';
import { forPage } from '$lib/server/page';
import { certText, enrollmentText, evidenceText, KIND_NAMES, NOT_FOUND_NAMES, OUTCOME_NAMES, whyText } from '$lib/field-text';
import { HttpError } from '../../../../../../core/errors.ts';
import { fieldTask, MAX_DAYS_BACK, recordVisit, type VisitInput } from '../../../../../../core/workflow/field-visits.ts';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

function taskId(param: string): number {
  if (!/^\d{1,15}$/.test(param)) error(404, 'no such task in your area');
  return Number(param);
}

export const load: PageServerLoad = async ({ locals, url, params, getClientAddress, setHeaders }) => {
  const user = fieldUser(locals, url);
  setHeaders({ 'cache-control': 'no-store' }); // a person's phone and address: never cached
  const { today, task, status, result } = await forPage(() => fieldTask(db(), user, taskId(params.id), { ip: getClientAddress() }));
  const earliest = new Date(Date.parse(today + 'T00:00:00Z') - MAX_DAYS_BACK * 86400_000).toISOString().slice(0, 10);
  return {
    today,
    earliest,
    status,
    result: result
      ? {
          outcome: OUTCOME_NAMES[String(result.outcome)] ?? null,
          visited_on: (result.visited_on as string | undefined) ?? null,
          by: String(result.recorded_by ?? result.by ?? result.closed_by ?? ''),
          status: (result.status as string | undefined) ?? null
        }
      : null,
    reasons: Object.entries(NOT_FOUND_NAMES).map(([value, label]) => ({ value, label })),
    task: {
      task_id: task.task_id,
      kind: KIND_NAMES[task.kind] ?? task.kind,
      community: task.community_name,
      town: task.town_name,
      due_on: task.due_on,
      overdue: task.overdue,
      escalated: task.escalated,
      name: task.name,
      id_masked: task.id_masked,
      sex: task.sex === 'F' ? '女' : '男',
      age: task.age,
      why: whyText(task),
      cert: certText(task.cert),
      evidence: evidenceText(task.last_evidence),
      enrollments: task.enrollments.map(enrollmentText),
      case_status: task.case_status,
      phone: task.phone,
      residence: task.residence,
      residence_outside: task.residence_outside,
      hukou: task.hukou,
      visits: task.visits.map((v) => ({ ...v, outcome: OUTCOME_NAMES[v.outcome] ?? v.outcome }))
    }
  };
};

const text = (form: FormData, name: string) => String(form.get(name) ?? '').slice(0, 2000);

/** Record one outcome: on success back to the list; a refused input comes back to its form with the message. */
async function record(event: RequestEvent, outcome: VisitInput['outcome']) {
  const user = fieldUser(event.locals, event.url);
  const id = taskId(event.params.id);
  const form = await event.request.formData();
  const values = {
    visited_on: text(form, 'visited_on'),
    place: text(form, 'place'),
    reason: text(form, 'reason'),
    death_date: text(form, 'death_date'),
    note: text(form, 'note')
  };
  const input: VisitInput =
    outcome === 'seen'
      ? { outcome, visited_on: values.visited_on, place: values.place, note: values.note }
      : outcome === 'not_found'
        ? { outcome, visited_on: values.visited_on, reason: values.reason, note: values.note }
        : { outcome, visited_on: values.visited_on, death_date: values.death_date, note: values.note };
  try {
    await recordVisit(db(), user, id, input, { ip: event.getClientAddress() });
  } catch (e) {
    if (e instanceof HttpError && e.status === 400)
      return fail(400, { outcome, field: (e as HttpError & { field?: string }).field ?? null, message: e.message, values });
    if (e instanceof HttpError && e.status === 409) return fail(409, { outcome, field: null, message: e.message, values });
    return forPage(() => Promise.reject(e));
  }
  redirect(303, `/field?done=${id}&outcome=${outcome}`);
}

export const actions: Actions = {
  seen: (event) => record(event, 'seen'),
  notFound: (event) => record(event, 'not_found'),
  deceased: (event) => record(event, 'deceased')
};
