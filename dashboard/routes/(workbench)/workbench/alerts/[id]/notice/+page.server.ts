// The printable recovery notice (催缴通知书) of an alert: addressed to the person, so unmasked — an
// auditor printing it is an unmasked view of personal data and is audit-logged as one.
import { error } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { alertDetail } from '$lib/server/workbench/detail';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, getClientAddress }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  if (!/^\d{1,15}$/.test(params.id)) error(404, '没有该预警 No such alert');
  const d = await forPage(() => alertDetail(db(), caller, Number(params.id), { unmask: true, ip: getClientAddress() }));
  const due = d.alert.amount_due ?? d.alert.amount_at_risk;
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const payments = d.timeline.filter((t) => t.kind === 'payment' && t.evidence);
  return { d, due, today, payments };
};
