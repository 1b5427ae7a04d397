// The alerts behind an R number for one area (and month, for a month-grain indicator), read-only and
// masked: where a leader's click on a red R tile or a ticker row leads. Auditors get the same list,
// each alert a link into the workbench. Never in privacy mode or on a kiosk (public wall screens).
import { error } from '@sveltejs/kit';
import { semanticEngine } from '$lib/server/api';
import { forPage } from '$lib/server/page';
import { alertsBehind } from '$lib/server/people';
import { loadArea, screenOptions } from '../../../area.server';
import type { PageServerLoad } from './$types';

const PAGE = 50;

export const load: PageServerLoad = async ({ params, url, locals, setHeaders }) => {
  setHeaders({ 'cache-control': 'no-store' });
  const options = screenOptions(url);
  if (locals.kiosk || options.privacy)
    error(403, { message: '隐私模式下不显示个人明细 Person-level detail is hidden in privacy mode', code: 'privacy' });
  const codes = (params.path ?? '').split('/').filter(Boolean);
  if (!/^R\d{2}$/.test(params.indicator)) error(404, '没有该指标的预警清单 No list of alerts for this indicator');
  const { payload, chain, caller, region } = await loadArea(locals, codes, options.period);
  if (chain.map((r) => r.code).join('/') !== codes.join('/')) error(404, '区域路径不正确 The area path is wrong');
  const indicator = payload.indicators.find((i) => i.code === params.indicator);
  if (!indicator || !indicator.alerts_listable) error(404, '没有该指标的预警清单 No list of alerts for this indicator');
  const offset = Math.max(0, Math.floor(Number(url.searchParams.get('offset')) || 0));
  const alerts = await forPage(() =>
    alertsBehind(semanticEngine(), caller, region, indicator.code, { offset, limit: PAGE, period: payload.period })
  );
  const workbench = caller.kind === 'staff' && (caller.role === 'auditor' || caller.role === 'admin');
  return {
    chain,
    indicator,
    period: payload.period,
    alerts,
    offset,
    pageSize: PAGE,
    options,
    workbench,
    focus: url.searchParams.get('alert')
  };
};
