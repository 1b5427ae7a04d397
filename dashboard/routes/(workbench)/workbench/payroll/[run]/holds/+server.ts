// GET /workbench/payroll/<run>/holds?format=csv|xlsx[&unmask=1] — the hold list of an approved check run,
// the same columns and rows as `yinling export payroll-holds` (core/workflow/payroll.ts holdsExportSql).
// ID numbers and accounts masked unless unmask=1 (an auditor's or admin's right; audit-logged like every
// unmasked view); every file audit-logged before it leaves. Cells through core/spreadsheet.ts (toCsv/toXlsx).
import { db } from '$lib/server/db';
import { requireAuditor } from '$lib/server/workbench/access';
import { render } from '$lib/server/workbench/exports';
import { audit } from '../../../../../../../core/audit.ts';
import { errorResponse, HttpError } from '../../../../../../../core/errors.ts';
import { maskIdNumber } from '../../../../../../../core/domain/masking.ts';
import { shanghaiIsoSql } from '../../../../../../../core/time.ts';
import { getRun, HOLDS_EXPORT_COLUMNS, holdsExportSql, periodLabel } from '../../../../../../../core/workflow/payroll.ts';
import type { RequestHandler } from './$types';

const maskAccount = (a: string) => (a.length <= 4 ? '****' : '*'.repeat(Math.min(a.length - 4, 8)) + a.slice(-4));

export const GET: RequestHandler = async ({ locals, params, url, getClientAddress }) => {
  try {
    const caller = await requireAuditor(db(), locals);
    if (!/^\d{1,12}$/.test(params.run)) throw new HttpError(404, 'no such run', 'no_run');
    const run = await getRun(db(), Number(params.run));
    if (!run.approved_at)
      throw new HttpError(
        409,
        `run ${run.run_no} is not approved: the payroll system receives the holds of an approved run only`,
        'not_approved'
      );
    const format = url.searchParams.get('format') ?? 'csv';
    if (format !== 'csv' && format !== 'xlsx') throw new HttpError(400, 'format must be csv or xlsx', 'bad_format');
    const unmask = url.searchParams.get('unmask') === '1';
    const r = await db().query(
      `SELECT ${HOLDS_EXPORT_COLUMNS.map((c) => (c === 'approved_at' ? `${shanghaiIsoSql('approved_at')} AS approved_at` : `${c}::text AS ${c}`)).join(', ')}
         FROM (${holdsExportSql('$1')}) x`,
      [run.run_no]
    );
    const rows = r.rows.map((x) =>
      HOLDS_EXPORT_COLUMNS.map((c) => {
        const v = x[c] as string | null;
        if (unmask || v === null) return v;
        return c === 'id_number' ? maskIdNumber(v) : c === 'account_no' ? maskAccount(v) : v;
      })
    );
    await audit(
      db(),
      { type: 'staff', name: caller.name, ip: getClientAddress() },
      unmask ? 'unmask.payroll_holds' : 'export.payroll_holds',
      `payroll_run:${run.run_no}`,
      {
        format,
        rows: rows.length,
        masked: !unmask,
        role: caller.role,
        period: periodLabel(run.period)
      }
    );
    const file = await render([{ name: '暂停发放 Holds', header: [...HOLDS_EXPORT_COLUMNS], rows }], format, 'Yinling payroll holds');
    return new Response(new Uint8Array(file.body), {
      headers: {
        'content-type': file.type,
        'content-disposition': `attachment; filename="yinling-payroll-holds-${periodLabel(run.period)}-run${run.run_no}.${format}"`,
        'cache-control': 'no-store'
      }
    });
  } catch (e) {
    return errorResponse(e, (m) => console.error(`[workbench] ${m}`));
  }
};
