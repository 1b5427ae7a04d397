// The field pages' frame: who is signed in and their area. Refuses everyone who is not a community's
// or a town's staff (403) — the pages' loads and actions check again through the service.
import { db } from '$lib/server/db';
import { fieldUser } from '$lib/server/field';
import { forPage } from '$lib/server/page';
import { fieldArea } from '../../../core/workflow/field-visits.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals, url }) => {
  const user = fieldUser(locals, url);
  const area = await forPage(() => fieldArea(db(), user));
  return { who: user.display_name, area: { name: area.name, level: area.level } };
};
