// The queue: filters from the query string (checked), one keyset page (?after=cursor), counts per
// status, the caller's saved filters. Actions: save / delete a filter; bulk preview and apply
// (assign, acknowledge, close as duplicate) through the workflow service.
import { fail } from '@sveltejs/kit';
import { db } from '$lib/server/db';
import { forPage } from '$lib/server/page';
import { requireAuditor } from '$lib/server/workbench/access';
import { assignees, deleteFilter, parseFilters, queuePage, saveFilter, savedFilters, filtersQuery } from '$lib/server/workbench/queue';
import { alertRuleNames, alertStates } from '../../../../../core/reference/index.ts';
import { callerError } from '../../../../../core/errors.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const caller = await forPage(() => requireAuditor(db(), locals));
  const filters = await forPage(async () => parseFilters(url.searchParams));
  const after = url.searchParams.get('after');
  const started = performance.now();
  const page = await forPage(() => queuePage(db(), caller, filters, after));
  const ms = performance.now() - started;
  const [saved, people, areas] = await Promise.all([
    savedFilters(db(), caller.name),
    assignees(db()),
    // Every area in the caller's scope down to the communities, in the tree's order.
    db().query(`SELECT code, name, level, depth FROM region_paths WHERE path LIKE $1 || '%' ORDER BY path`, [caller.scope.path])
  ]);
  return {
    page,
    query: filtersQuery(filters),
    after,
    saved,
    people,
    areas: areas.rows as { code: string; name: string; level: string; depth: number }[],
    rules: [...alertRuleNames.values()],
    states: alertStates.map((s) => ({ status: s.status, name_zh: s.name_zh, name_en: s.name_en, engine_active: s.engine_active })),
    serverMs: Math.round(ms * 10) / 10
  };
};

async function guarded<T>(locals: App.Locals, fn: (c: Awaited<ReturnType<typeof requireAuditor>>) => Promise<T>) {
  const caller = await forPage(() => requireAuditor(db(), locals));
  try {
    return await fn(caller);
  } catch (e) {
    const c = callerError(e);
    if (!c) throw e;
    return fail(c.status, { error: c.message });
  }
}

export const actions: Actions = {
  saveFilter: async ({ locals, request }) =>
    guarded(locals, async (caller) => {
      const form = await request.formData();
      await saveFilter(db(), caller.name, String(form.get('name') ?? ''), String(form.get('query') ?? ''));
      return { saved: String(form.get('name') ?? '').trim() };
    }),
  deleteFilter: async ({ locals, request }) =>
    guarded(locals, async (caller) => {
      const form = await request.formData();
      await deleteFilter(db(), caller.name, Number(form.get('filter_id')));
      return { deleted: true };
    }),
  // Bulk assign / acknowledge / close as duplicate go through the workflow service (previewBulk,
  // applyBulk in core/workflow/alerts.ts); until it is merged here the page says so and writes nothing.
  bulkPreview: async ({ locals }) =>
    guarded(locals, async () =>
      fail(501, { bulkUnavailable: '批量操作服务尚未接入 Bulk actions are not available yet (the workflow service is not merged)' })
    )
};
