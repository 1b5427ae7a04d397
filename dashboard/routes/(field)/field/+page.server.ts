// The open field tasks of the signed-in staff member's area, earliest due first (audit-logged by the service).
import { db } from '$lib/server/db';
import { fieldUser } from '$lib/server/field';
import { forPage } from '$lib/server/page';
import { certText, enrollmentText, evidenceText, KIND_NAMES, OUTCOME_NAMES, whyText } from '$lib/field-text';
import { listFieldTasks } from '../../../../core/workflow/field-visits.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, getClientAddress, setHeaders }) => {
  const user = fieldUser(locals, url);
  setHeaders({ 'cache-control': 'no-store' }); // names of people: never cached
  const { area, today, tasks } = await forPage(() => listFieldTasks(db(), user, { ip: getClientAddress() }));
  const done = url.searchParams.get('done');
  const outcome = url.searchParams.get('outcome');
  return {
    area: { name: area.name, level: area.level },
    today,
    overdue: tasks.filter((t) => t.overdue).length,
    escalated: tasks.filter((t) => t.escalated).length,
    recorded: done && /^\d{1,18}$/.test(done) && outcome && OUTCOME_NAMES[outcome] ? { task: done, outcome: OUTCOME_NAMES[outcome] } : null,
    tasks: tasks.map((t) => ({
      task_id: t.task_id,
      kind: KIND_NAMES[t.kind] ?? t.kind,
      community: t.community_name,
      due_on: t.due_on,
      created_on: t.created_on,
      overdue: t.overdue,
      escalated: t.escalated,
      name: t.name,
      id_masked: t.id_masked,
      sex: t.sex === 'F' ? '女' : '男',
      age: t.age,
      why: whyText(t),
      cert: certText(t.cert),
      evidence: evidenceText(t.last_evidence),
      enrollments: t.enrollments.map(enrollmentText)
    }))
  };
};
