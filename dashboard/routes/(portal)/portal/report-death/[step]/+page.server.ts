// The death report, one question per page, plain form posts (no script). The answers wait in the
// reporter's own server-side draft (core/workflow/death-reports.ts), keyed by the session's ID number:
// nothing personal in the URL, and no form field can name another reporter or another draft.
import { error, fail, redirect } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import {
  AnswerProblem,
  DEATH_REPORT_STEPS,
  nextDeathReportStep,
  readDeathReportDraft,
  saveDeathReportAnswer,
  submitDeathReport,
  type DeathReportStep
} from '../../../../../../core/workflow/death-reports.ts';
import { smsSenderFromEnv } from '../../../../../../core/sms.ts';
import { maskIdNumber } from '../../../../../../core/domain/masking.ts';
import { todayShanghai } from '../../../../../../core/time.ts';
import type { Actions, PageServerLoad } from './$types';

const isStep = (s: string): s is DeathReportStep => (DEATH_REPORT_STEPS as readonly string[]).includes(s);

export const load: PageServerLoad = async ({ locals, params, setHeaders }) => {
  if (!locals.resident) redirect(303, '/portal/login');
  if (locals.resident.acting) error(403, 'own_account_only');
  setHeaders({ 'cache-control': 'no-store' });
  const draft = await readDeathReportDraft(db(), locals.resident.id_number);
  if (params.step === 'done') {
    if (!draft.result) redirect(303, '/portal/report-death');
    return {
      step: 'done' as const,
      index: DEATH_REPORT_STEPS.length,
      answers: {},
      result: draft.result,
      deceasedMasked: '',
      today: todayShanghai()
    };
  }
  if (!isStep(params.step)) error(404, 'Not found');
  // no skipping ahead: a later page opens only when the ones before it are answered
  const answers = draft.result ? {} : draft.answers;
  const first = nextDeathReportStep(answers);
  if (DEATH_REPORT_STEPS.indexOf(params.step) > DEATH_REPORT_STEPS.indexOf(first)) redirect(303, `/portal/report-death/${first}`);
  return {
    step: params.step,
    index: DEATH_REPORT_STEPS.indexOf(params.step),
    answers,
    result: null,
    deceasedMasked: 'deceased' in answers && answers.deceased ? maskIdNumber(answers.deceased) : '',
    today: todayShanghai()
  };
};

export const actions: Actions = {
  default: async ({ locals, params, request }) => {
    if (!locals.resident) redirect(303, '/portal/login');
    if (!isStep(params.step)) error(404, 'Not found');
    const form = Object.fromEntries([...(await request.formData())].map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    // the report and its bank account are the signed-in resident's own: refused while acting for a parent
    // (core/family-access.ts: no role may report a death or give a bank account for someone else)
    if (locals.resident.acting) error(403, 'own_account_only');
    const me = locals.resident.id_number;
    try {
      if (params.step === 'declaration') {
        await submitDeathReport(db(), smsSenderFromEnv(), me, form);
        redirect(303, '/portal/report-death/done');
      }
      await saveDeathReportAnswer(db(), me, params.step, form);
    } catch (e) {
      if (e instanceof AnswerProblem)
        return fail(400, {
          field: e.field,
          problem: e.problem,
          values: Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.slice(0, 100)]))
        });
      throw e;
    }
    redirect(303, `/portal/report-death/${DEATH_REPORT_STEPS[DEATH_REPORT_STEPS.indexOf(params.step) + 1]}`);
  }
};
