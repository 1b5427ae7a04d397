// The pre-payroll check for auditors and admins (docs/rules.md "Pre-payroll check"): the check runs of
// each period with their totals; one run's findings by rule, its held lines, its diff against last
// month's payments, its diff to the approved run and what counts against it (released lines later found
// improper); a button to run the check (the signed-in user prepares it) and one to approve (four eyes:
// never the preparer — refused by core/workflow/payroll.ts and by the database). Every write goes through
// that service; this page never writes a table itself. ID numbers and accounts are masked, as on the queue.
import { fail } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { badRequest, callerError } from '../../../../../core/errors.ts';
import { maskIdNumber } from '../../../../../core/domain/masking.ts';
import {
  approveRun,
  comparisonBase,
  diffRuns,
  findingsByRule,
  getRun,
  heldLines,
  listRuns,
  parsePeriod,
  payrollPeriods,
  releasedImproper,
  requestCheck,
  runDiff,
  type PayrollRun
} from '../../../../../core/workflow/payroll.ts';
import type { Actions, PageServerLoad } from './$types';

/** Lines shown per list; the files (holds) and `yinling export` give all of them. */
const SHOWN = 200;
/** An account number masked like a bank card: the last four characters only. */
const maskAccount = (a: string | null) =>
  a === null ? null : a.length <= 4 ? '****' : '*'.repeat(Math.min(a.length - 4, 8)) + a.slice(-4);

const runView = (r: PayrollRun) => ({
  ...r,
  draft_prepared_at: r.draft_prepared_at.toISOString(),
  prepared_at: r.prepared_at.toISOString(),
  approved_at: r.approved_at?.toISOString() ?? null
});

export const load: PageServerLoad = async ({ locals, url }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  const periods = await payrollPeriods(db());
  const asked = url.searchParams.get('period');
  const period = asked ? await forPage(async () => parsePeriod(asked)) : (periods[0]?.period ?? null);
  const runs = period ? await listRuns(db(), period) : [];
  const runParam = url.searchParams.get('run');
  const chosen = runParam && /^\d{1,12}$/.test(runParam) ? runs.find((r) => r.run_no === Number(runParam)) : runs[runs.length - 1];
  let detail = null;
  if (chosen) {
    const base = await comparisonBase(db(), chosen);
    const vsApproved = base ? await diffRuns(db(), base.run_no, chosen.run_no) : null;
    const diff = await runDiff(db(), chosen.run_no, SHOWN);
    detail = {
      run: runView(chosen),
      newest: chosen.run_no === runs[runs.length - 1]?.run_no,
      findings: await findingsByRule(db(), chosen.run_no),
      held: (await heldLines(db(), chosen.run_no, SHOWN)).map((h) => ({
        ...h,
        id_number: maskIdNumber(h.id_number),
        account_no: maskAccount(h.account_no)
      })),
      diff: { counts: diff.counts, rows: diff.rows.map((d) => ({ ...d, id_number: maskIdNumber(d.id_number) })) },
      vsApproved: vsApproved && {
        from: vsApproved.from.run_no,
        totals: vsApproved.totals,
        holds: vsApproved.holds.slice(0, SHOWN).map((h) => ({ ...h, id_number: maskIdNumber(h.id_number) })),
        changes: vsApproved.holds.length
      },
      releasedImproper: await releasedImproper(db(), chosen.run_no)
    };
  }
  return {
    me: caller.name,
    periods,
    period,
    runs: await Promise.all(runs.map(async (r) => ({ ...runView(r), released_improper: await releasedImproper(db(), r.run_no) }))),
    detail,
    shown: SHOWN
  };
};

/** A refusal of the service back to the form as plain words; anything else is a fault of ours. */
async function act(fn: () => Promise<Record<string, unknown>>) {
  try {
    return await fn();
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    return fail(c.status, { error: c.message, code: c.code });
  }
}

export const actions: Actions = {
  check: async ({ locals, request, getClientAddress }) => {
    const caller = await forPage(() => requireAuditor(db(), locals));
    const form = await request.formData();
    return act(async () => {
      const period = parsePeriod(String(form.get('period') ?? ''));
      const runNo = await requestCheck(db(), {
        period,
        by: caller.name,
        actor: { type: 'staff', name: caller.name, ip: getClientAddress() }
      });
      return { checked: runNo, period };
    });
  },
  approve: async ({ locals, request, getClientAddress }) => {
    const caller = await forPage(() => requireAuditor(db(), locals));
    const form = await request.formData();
    return act(async () => {
      const runNo = Number(form.get('run'));
      if (!Number.isInteger(runNo) || runNo <= 0) throw badRequest('no such run', 'bad_run');
      await getRun(db(), runNo);
      // The approver is the signed-in user, never a name from the form.
      const run = await approveRun(db(), { runNo, by: caller.name, actor: { type: 'staff', name: caller.name, ip: getClientAddress() } });
      return { approved: run.run_no };
    });
  }
};
