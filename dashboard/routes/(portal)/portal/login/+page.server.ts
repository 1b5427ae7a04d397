// Residents sign in in two steps, each a plain form post (no script): the ID number → a code by SMS;
// the code → a session. core/residents.ts holds the rules (expiry, resend, lockout) and the audit.
import { fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { setResidentCookie } from '$lib/server/session';
import { callerError } from '../../../../../core/errors.ts';
import { CODE_MINUTES, requestSignInCode, verifySignInCode } from '../../../../../core/residents.ts';
import { smsSenderFromEnv } from '../../../../../core/sms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  if (locals.resident) redirect(303, '/portal');
  return { demoOutbox: smsSenderFromEnv().channel === 'outbox', codeMinutes: CODE_MINUTES };
};

const idField = (form: FormData) =>
  String(form.get('id_number') ?? '')
    .trim()
    .slice(0, 40);

/** Every refusal of the sign-in has one shape, so the page reads the same fields whichever step refused. */
interface Refusal {
  step: 'id' | 'code';
  idNumber: string;
  error: string;
  retryAt?: string | null;
  triesLeft?: number | null;
}
const refuse = (status: number, r: Refusal) => fail(status, { retryAt: null, triesLeft: null, ...r });

export const actions: Actions = {
  send: async ({ request, getClientAddress }) => {
    const form = await request.formData();
    const idNumber = idField(form);
    try {
      const r = await requestSignInCode(db(), smsSenderFromEnv(), idNumber, { ip: getClientAddress() });
      if (!r.sent)
        return refuse(r.reason === 'no_phone' ? 404 : 429, {
          step: r.reason === 'no_phone' ? 'id' : 'code',
          idNumber,
          error: r.reason,
          retryAt: r.retryAt?.toISOString() ?? null
        });
      return { step: 'code', idNumber, phone: r.phone, resendAt: r.resendAt.toISOString() };
    } catch (e) {
      const c = callerError(e);
      if (c?.code === 'invalid_id_number') return refuse(400, { step: 'id', idNumber, error: 'invalid_id' });
      if (c) return refuse(c.status, { step: 'id', idNumber, error: 'unavailable' });
      throw e;
    }
  },
  verify: async ({ request, cookies, url, getClientAddress }) => {
    const form = await request.formData();
    const idNumber = idField(form);
    const code = String(form.get('code') ?? '').slice(0, 20);
    let r;
    try {
      r = await verifySignInCode(db(), idNumber, code, {
        ip: getClientAddress(),
        userAgent: request.headers.get('user-agent') ?? undefined
      });
    } catch (e) {
      if (callerError(e)?.code === 'invalid_id_number') return refuse(400, { step: 'id', idNumber, error: 'invalid_id' });
      throw e;
    }
    if (!r.ok)
      return refuse(r.reason === 'locked' ? 429 : 400, {
        step: 'code',
        idNumber,
        error: r.reason,
        triesLeft: r.triesLeft ?? null,
        retryAt: r.retryAt?.toISOString() ?? null
      });
    setResidentCookie(cookies, url, r.sessionToken, r.expiresAt);
    redirect(303, '/portal');
  }
};
