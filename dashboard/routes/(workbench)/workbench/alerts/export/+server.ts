// GET /workbench/alerts/export?format=csv|xlsx&<the queue's filters> — the filtered queue as a file,
// in the queue's order, personal data masked; audit-logged ('export.queue') before it leaves.
import { db } from '$lib/server/db';
import { requireAuditor } from '$lib/server/workbench/access';
import { parseFilters, queueAll } from '$lib/server/workbench/queue';
import { logExport, queueSheet, render } from '$lib/server/workbench/exports';
import { errorResponse, HttpError } from '../../../../../../core/errors.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, url, getClientAddress }) => {
  try {
    const caller = await requireAuditor(db(), locals);
    const format = url.searchParams.get('format') ?? 'csv';
    if (format !== 'csv' && format !== 'xlsx') throw new HttpError(400, 'format must be csv or xlsx', 'bad_format');
    const filters = parseFilters(url.searchParams);
    const rows = await queueAll(db(), caller, filters);
    await logExport(db(), caller, 'export.queue', 'alerts', { format, rows: rows.length, filters, masked: true }, getClientAddress());
    const file = await render([queueSheet(rows)], format, 'Yinling alert queue');
    const stamp = new Date().toISOString().slice(0, 10);
    return new Response(new Uint8Array(file.body), {
      headers: {
        'content-type': file.type,
        'content-disposition': `attachment; filename="yinling-alerts-${stamp}.${format}"`,
        'cache-control': 'no-store'
      }
    });
  } catch (e) {
    return errorResponse(e, (m) => console.error(`[workbench] ${m}`));
  }
};
