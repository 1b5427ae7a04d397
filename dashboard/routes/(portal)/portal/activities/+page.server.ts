// Activities and elderly education: the sessions to come with places left; sign up and cancel by plain
// form posts. Always the session's own account (a helper's parent's only through core/family-access.ts);
// capacity and one sign-up per session are kept by the database (core/workflow/activities.ts).
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { helperStep } from '$lib/server/portal';
import { cancelActivity, listActivities, signUpActivity } from '../../../../../core/workflow/activities.ts';
import { onAccount } from '../../../../../core/family-access.ts';
import { smsSenderFromEnv } from '../../../../../core/sms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  return { sessions: await listActivities(db(), locals.resident.subject) };
};

const sessionOf = async (request: Request) => Number(String((await request.formData()).get('session') ?? '').slice(0, 20));

export const actions: Actions = {
  signup: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const session = await sessionOf(request);
    const r = await helperStep(() =>
      onAccount(db(), smsSenderFromEnv(), locals.resident!, 'request', '为您报名了活动', (who) => signUpActivity(db(), who, session))
    );
    if (r === 'refused') return fail(403, { problem: 'helper_role' });
    if (!r.ok) return fail(r.reason === 'no_session' ? 400 : 409, { problem: r.reason });
    redirect(303, '/portal/activities');
  },
  cancel: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const session = await sessionOf(request);
    const r = await helperStep(() =>
      onAccount(db(), smsSenderFromEnv(), locals.resident!, 'request', '取消了您的活动报名', (who) => cancelActivity(db(), who, session))
    );
    if (r === 'refused') return fail(403, { problem: 'helper_role' });
    redirect(303, '/portal/activities');
  }
};
