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
import { applyBulk, previewBulk } from '../../../../../core/workflow/alerts.ts';
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
  // Bulk assign / acknowledge / close as duplicate, only through the workflow service: first a
  // preview (how many alerts, which rules, which would be skipped and why), then the same selection
  // applied with the versions the queue showed.
  bulkPreview: async ({ locals, request, getClientAddress }) =>
    guarded(locals, async (caller) => {
      const form = await request.formData();
      const picked = bulkSelection(form);
      if (!picked.ids.length) return fail(400, { bulkError: '请先选择预警 Select alerts first' });
      const action = String(form.get('action') ?? '');
      const preview = await previewBulk(db(), {
        alertIds: picked.ids,
        action,
        actor: { user: caller.name, role: caller.role, ip: getClientAddress() }
      });
      return {
        preview,
        selection: form.getAll('alert_id').map(String),
        assignee: String(form.get('assignee') ?? ''),
        duplicateOf: String(form.get('duplicate_of') ?? '')
      };
    }),
  bulkApply: async ({ locals, request, getClientAddress }) =>
    guarded(locals, async (caller) => {
      const form = await request.formData();
      const picked = bulkSelection(form);
      const dup = String(form.get('duplicate_of') ?? '').trim();
      const result = await applyBulk(db(), {
        alertIds: picked.ids,
        action: String(form.get('action') ?? ''),
        actor: { user: caller.name, role: caller.role, ip: getClientAddress() },
        assignee: String(form.get('assignee') ?? '') || null,
        duplicateOf: dup ? Number(dup) : undefined,
        expectedVersions: picked.versions
      });
      return { applied: { done: result.done.length, refused: result.refused } };
    })
};

/** The ticked alerts of the queue: each checkbox is "id:version" (the version the queue showed). */
function bulkSelection(form: FormData): { ids: number[]; versions: Record<number, number> } {
  const ids: number[] = [];
  const versions: Record<number, number> = {};
  for (const v of form.getAll('alert_id')) {
    const m = /^(\d{1,15}):(\d{1,9})$/.exec(String(v));
    if (!m) continue;
    ids.push(Number(m[1]));
    versions[Number(m[1])] = Number(m[2]);
  }
  return { ids: ids.slice(0, 1000), versions };
}
