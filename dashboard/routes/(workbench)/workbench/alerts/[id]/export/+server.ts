// GET /workbench/alerts/[id]/export?format=csv|xlsx[&unmask=1] — the alert's case file: the alert,
// its reason, the evidence timeline with lineage, transitions and related alerts. Masked unless
// ?unmask=1 (then logged as an unmask too); every export is logged ('export.case').
import { db } from '$lib/server/db';
import { requireAuditor } from '$lib/server/workbench/access';
import { alertDetail } from '$lib/server/workbench/detail';
import { caseSheets, logExport, render } from '$lib/server/workbench/exports';
import { errorResponse, HttpError } from '../../../../../../../core/errors.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, url, params, getClientAddress }) => {
  try {
    const caller = await requireAuditor(db(), locals);
    if (!/^\d{1,15}$/.test(params.id)) throw new HttpError(404, 'no such alert', 'unknown_alert');
    const format = url.searchParams.get('format') ?? 'csv';
    if (format !== 'csv' && format !== 'xlsx') throw new HttpError(400, 'format must be csv or xlsx', 'bad_format');
    const unmask = url.searchParams.get('unmask') === '1';
    const detail = await alertDetail(db(), caller, Number(params.id), { unmask, ip: getClientAddress() });
    const sheets = caseSheets(detail);
    await logExport(
      db(),
      caller,
      'export.case',
      String(detail.alert.alert_id),
      { format, rows: detail.timeline.length, masked: !unmask },
      getClientAddress()
    );
    const file = await render(sheets, format, `Yinling case file ${detail.alert.alert_id}`);
    return new Response(new Uint8Array(file.body), {
      headers: {
        'content-type': file.type,
        'content-disposition': `attachment; filename="yinling-case-${detail.alert.alert_id}.${format}"`,
        'cache-control': 'no-store'
      }
    });
  } catch (e) {
    return errorResponse(e, (m) => console.error(`[workbench] ${m}`));
  }
};
