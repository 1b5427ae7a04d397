// The people behind a count indicator for one area: masked names and ID numbers (unmasked only for
// roles that may, and audit-logged). Never shown in privacy mode (public wall screens).
// The month is the board's for ?period= (the tiles' links carry the month they show; without it,
// the board's default month): a month stock lists exactly the people counted in that month.
import { error } from '@sveltejs/kit';
import { db, semanticEngine } from '$lib/server/api';
import { forPage } from '$lib/server/page';
import { peopleBehind } from '$lib/server/people';
import { loadArea, screenOptions } from '../../../area.server';
import type { PageServerLoad } from './$types';

const PAGE = 50;

export const load: PageServerLoad = async ({ params, url, locals, getClientAddress, setHeaders }) => {
  // Lists of persons (unmasked ones above all) stay out of every cache, the browser's included.
  setHeaders({ 'cache-control': 'no-store' });
  const options = screenOptions(url);
  if (locals.kiosk || options.privacy)
    error(403, { message: '隐私模式下不显示个人明细 Person-level detail is hidden in privacy mode', code: 'privacy' });
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!/^[PACRSH]\d{2}$/.test(params.indicator)) error(404, '没有该指标 No such indicator');
  const { payload, chain, caller, region } = await loadArea(locals, codes, options.period);
  if (chain.map((r) => r.code).join('/') !== codes.join('/')) error(404, '区域路径不正确 The area path is wrong');
  const indicator = payload.indicators.find((i) => i.code === params.indicator);
  if (!indicator) error(404, '没有该指标 No such indicator');
  if (!indicator.drillable) error(404, '该指标没有人员名单 This indicator has no list of people');
  const offset = Math.max(0, Math.floor(Number(url.searchParams.get('offset')) || 0));
  const unmask = url.searchParams.get('unmask') === '1';
  const people = await forPage(() =>
    peopleBehind(semanticEngine(), db(), caller, region, indicator.code, {
      offset,
      limit: PAGE,
      unmask,
      ip: getClientAddress(),
      period: payload.period
    })
  );
  return { chain, indicator, period: payload.period, people, offset, pageSize: PAGE, options, unmask };
};
