// Book a health checkup: choose a slot, confirm, see and cancel my booking — plain form posts; the
// booking is always the session's own (core/workflow/checkup-bookings.ts enforces capacity and the
// one open booking per resident in the database).
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { bookCheckup, cancelCheckup, myBooking, openSlots } from '../../../../../core/workflow/checkup-bookings.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  const [booking, slots] = await Promise.all([myBooking(db(), locals.resident.id_number), openSlots(db())]);
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
    const r = await bookCheckup(db(), locals.resident.id_number, await slotOf(request));
    if (!r.ok) return fail(r.reason === 'no_slot' ? 400 : 409, { problem: r.reason });
    redirect(303, '/portal/checkups');
  },
  cancel: async ({ locals }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    await cancelCheckup(db(), locals.resident.id_number);
    redirect(303, '/portal/checkups');
  }
};
