// The death report starts at its first unanswered question.
import { error, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { nextDeathReportStep, readDeathReportDraft } from '../../../../../core/workflow/death-reports.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  if (locals.resident.acting) error(403, 'own_account_only'); // a helper reports as themselves, never for the parent's account
  const draft = await readDeathReportDraft(db(), locals.resident.id_number);
  redirect(303, `/portal/report-death/${draft.result ? 'relation' : nextDeathReportStep(draft.answers)}`);
};
