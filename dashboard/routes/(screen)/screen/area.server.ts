// Shared by the screen and its people list: the display options in the URL, and the area behind a
// drill path. The loader builds the board of the last area of the path (regionInScope refuses areas
// outside the caller's scope: 403), then checks the path is that area's real ancestry from the scope root.
import { error } from '@sveltejs/kit';
import { scopeRoot } from '$lib/server/session';
import { db, semanticEngine } from '$lib/server/api';
import { buildBoard } from '$lib/server/indicators';
import { forPage, pageCaller } from '$lib/server/page';
import { regionInScope, type Caller, type Region } from '$lib/server/scope';
import type { IndicatorsResponse, RegionRef, ScreenOptions } from '$lib/components/screen/types';
const CODE = /^\d{6,12}$/;
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export function screenOptions(url: URL): ScreenOptions {
  const int = (name: string, def: number, min: number, max: number) => {
    const v = Number(url.searchParams.get(name));
    return Number.isFinite(v) && v > 0 ? Math.min(max, Math.max(min, Math.round(v))) : def;
  };
  const period = url.searchParams.get('period');
  const ind = url.searchParams.get('ind');
  return {
    refreshSeconds: int('refresh', 60, 1, 3600),
    kiosk: url.searchParams.get('kiosk') === '1',
    privacy: url.searchParams.get('privacy') === '1',
    cycleSeconds: int('cycle', 15, 3, 600),
    idleSeconds: int('idle', 60, 0, 3600),
    indicator: ind && /^[PACRSH]\d{2}$/.test(ind) ? ind : null,
    map3d: url.searchParams.get('map') === '3d',
    period: period && PERIOD.test(period) ? period : null
  };
}

/** The chain of areas from the scope root down to the area itself, or null when the root is not an ancestor. */
export function chainFromRoot(region: IndicatorsResponse['region'], root: string): RegionRef[] | null {
  const crumbs: RegionRef[] = [...(region.breadcrumb ?? [])];
  if (!crumbs.length || crumbs[crumbs.length - 1].code !== region.code)
    crumbs.push({ code: region.code, name: region.name, level: region.level });
  const i = crumbs.findIndex((r) => r.code === root);
  return i < 0 ? null : crumbs.slice(i);
}

export async function loadArea(
  locals: App.Locals,
  codes: string[],
  period: string | null
): Promise<{ payload: IndicatorsResponse; chain: RegionRef[]; caller: Caller; region: Region }> {
  const root = scopeRoot(locals);
  if (!root) error(401, '请先登录');
  if (codes.some((c) => !CODE.test(c))) error(404, '区域代码无效 Invalid area code');
  const caller = await pageCaller(locals);
  const region = await forPage(() => regionInScope(db(), caller, codes[codes.length - 1]));
  const payload = await forPage(() => buildBoard(semanticEngine(), db(), caller, region, period));
  const chain = chainFromRoot(payload.region, root);
  // Defence in depth: even if the scope check passed, an area outside the caller's scope is refused.
  if (!chain) error(403, { message: '无权查看该区域 You may not view this area', code: 'outside_scope' });
  return { payload, chain, caller, region };
}
