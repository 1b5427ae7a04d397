// Book a health checkup: choose a slot, confirm, see and cancel my booking — plain form posts; the
// booking is always the session's own account's (a helper's parent's only through core/family-access.ts) (core/workflow/checkup-bookings.ts enforces capacity and the
// one open booking per resident in the database).
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { helperStep } from '$lib/server/portal';
import { bookCheckup, cancelCheckup, myBooking, openSlots } from '../../../../../core/workflow/checkup-bookings.ts';
import { onAccount } from '../../../../../core/family-access.ts';
import { smsSenderFromEnv } from '../../../../../core/sms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  const [booking, slots] = await Promise.all([myBooking(db(), locals.resident.subject), openSlots(db())]);
  return { booking, slots };
};

const slotOf = async (request: Request) => Number(String((await request.formData()).get('slot') ?? '').slice(0, 20));

export const actions: Actions = {
  /** The chosen slot, to confirm on the next screen (nothing is booked yet). */
  choose: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const slot = await slotOf(request);
    const chosen = (await openSlots(db())).find((s) => s.slot_id === slot);
    if (!chosen) return fail(400, { problem: 'choose' });
    return { confirm: chosen };
  },
  book: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const slot = await slotOf(request);
    // a helper books for the parent only with the role "submit requests"; the parent is texted
    const r = await helperStep(() =>
      onAccount(db(), smsSenderFromEnv(), locals.resident!, 'request', '为您预约了体检', (who) => bookCheckup(db(), who, slot))
    );
    if (r === 'refused') return fail(403, { problem: 'helper_role' });
    if (!r.ok) return fail(r.reason === 'no_slot' ? 400 : 409, { problem: r.reason });
    redirect(303, '/portal/checkups');
  },
  cancel: async ({ locals }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const r = await helperStep(() =>
      onAccount(db(), smsSenderFromEnv(), locals.resident!, 'request', '取消了您的体检预约', (who) => cancelCheckup(db(), who))
    );
    if (r === 'refused') return fail(403, { problem: 'helper_role' });
    redirect(303, '/portal/checkups');
  }
};
