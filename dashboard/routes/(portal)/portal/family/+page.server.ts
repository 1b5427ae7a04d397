// Family access (core/family-access.ts): who can see my account (revoke with one tap), the family I
// help (open their account, or enter the code they received), and a request to help someone. Every
// action is keyed by the session's own resident: a link id from a form counts only when it is one of
// the resident's own links, checked in the database (a forged one changes nothing).
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { RESIDENT_COOKIE } from '$lib/server/session';
import {
  confirmFamilyLink,
  myHelpers,
  peopleIHelp,
  requestFamilyLink,
  revokeFamilyLink,
  startActing,
  stopActing
} from '../../../../../core/family-access.ts';
import { HttpError } from '../../../../../core/errors.ts';
import { smsSenderFromEnv } from '../../../../../core/sms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  setHeaders({ 'cache-control': 'no-store' });
  const me = locals.resident.id_number;
  const [helpers, people] = await Promise.all([myHelpers(db(), me), peopleIHelp(db(), me)]);
  const day = (d: Date | null) => (d ? d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' }) : null);
  return {
    helpers: helpers.map((h) => ({
      link_id: h.link_id,
      name: h.other_name,
      tail: h.other_id.slice(-4),
      role: h.role,
      until: day(h.expires_at)
    })),
    people: people.map((p) => ({ link_id: p.link_id, name: p.other_name, role: p.role, status: p.status, until: day(p.expires_at) }))
  };
};

const field = async (request: Request) => {
  const f = await request.formData();
  const get = (k: string) => String(f.get(k) ?? '').slice(0, 40);
  return { get, link: Number(get('link')) };
};

export const actions: Actions = {
  request: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const { get } = await field(request);
    const r = await requestFamilyLink(db(), smsSenderFromEnv(), locals.resident.id_number, get('parent_id'), get('role'));
    if (!r.sent) return fail(400, { problem: r.reason, parent_id: get('parent_id').slice(0, 20) });
    return { sent: r.phone };
  },
  confirm: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const { get, link } = await field(request);
    const r = await confirmFamilyLink(db(), smsSenderFromEnv(), locals.resident.id_number, link, get('code'));
    if (!r.ok) return fail(r.reason === 'limit' ? 409 : 400, { problem: r.reason, triesLeft: r.triesLeft ?? 0, link });
    redirect(303, '/portal/family');
  },
  revoke: async ({ locals, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const { link } = await field(request);
    await revokeFamilyLink(db(), smsSenderFromEnv(), locals.resident.id_number, link);
    redirect(303, '/portal/family');
  },
  act: async ({ locals, request, cookies }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    const { link } = await field(request);
    try {
      await startActing(db(), smsSenderFromEnv(), cookies.get(RESIDENT_COOKIE) ?? '', locals.resident.id_number, link);
    } catch (e) {
      if (e instanceof HttpError && e.status === 403) return fail(403, { problem: 'not_allowed' });
      throw e;
    }
    redirect(303, '/portal');
  },
  stop: async ({ locals, cookies }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    await stopActing(db(), cookies.get(RESIDENT_COOKIE) ?? '');
    redirect(303, '/portal/family');
  }
};
