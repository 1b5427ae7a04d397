// The people behind a count indicator for one area: masked names and ID numbers (the API unmasks
// only for roles that may, and audit-logs it). Never shown in privacy mode (public wall screens).
// The month is the board's for ?period= (the tiles' links carry the month they show; without it,
// the board's default month): a month stock lists exactly the people counted in that month.
import { error } from '@sveltejs/kit';
import type { PeopleResponse } from '$lib/components/screen/types';
import { loadArea, screenOptions } from '../../../area.server';
import type { PageServerLoad } from './$types';

const PAGE = 50;

export const load: PageServerLoad = async ({ params, url, fetch, locals }) => {
  const options = screenOptions(url);
  if (locals.kiosk || options.privacy) error(403, '隐私模式下不显示个人明细 Person-level detail is hidden in privacy mode');
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!/^[PACRSH]\d{2}$/.test(params.indicator)) error(404, '没有该指标 No such indicator');
  const { payload, chain } = await loadArea(fetch, locals, codes, options.period);
  if (chain.map((r) => r.code).join('/') !== codes.join('/')) error(404, '区域路径不正确 The area path is wrong');
  const indicator = payload.indicators.find((i) => i.code === params.indicator);
  if (!indicator) error(404, '没有该指标 No such indicator');
  if (!indicator.drillable) error(404, '该指标没有人员名单 This indicator has no list of people');
  const offset = Math.max(0, Math.floor(Number(url.searchParams.get('offset')) || 0));
  const unmask = url.searchParams.get('unmask') === '1';
  const q = new URLSearchParams({ indicator: indicator.code, region: payload.region.code, period: payload.period, offset: String(offset), limit: String(PAGE) });
  if (unmask) q.set('unmask', '1');
  const res = await fetch(`/api/people?${q}`);
  if (res.status === 403) error(403, '无权查看该名单 You may not view this list');
  if (!res.ok) error(res.status >= 500 ? 503 : res.status, `名单服务暂不可用 The list service is unavailable (${res.status})`);
  const people = (await res.json()) as PeopleResponse;
  return { chain, indicator, period: payload.period, people, offset, pageSize: PAGE, options, unmask };
};
