// Person-level lists behind the numbers: the people behind a "now" count (drill-down) and the
// newest alerts (ticker). Read through the semantic layer; personal data masked unless the caller's
// role may see it and asks (?unmask=1), and every unmasked view is audit-logged.
import type { SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import type { Pool } from '../../../jobs/db/pool.ts';
import { maskIdNumber, maskName } from '../../../jobs/domain/masking.ts';
import { audit } from './accounts.ts';
import { indicatorDefs } from './indicators.ts';
import { mayUnmask, securityContext, type Caller, type Region } from './scope.ts';
import { ApiError } from './errors.ts';

const RULES_ZH: Record<string, string> = {
  paid_after_death: '死亡后仍领取', paid_in_custody: '服刑期间领取', double_receipt: '重复领取', abnormal_amount: '发放金额异常',
  shared_account: '多人共用账户', post_death_activity: '死亡后仍有活动', no_sign_of_life: '百岁以上无生存迹象'
};

function scopeFilter(member: string, region: Region, caller: Caller) {
  return region.level === 'city' && caller.scope.level === 'city' ? [] : [{ member, operator: 'startsWith', values: [region.path] }];
}

const ageAt = (birth: string | null, today = new Date()) => {
  if (!birth) return null;
  const b = new Date(birth.slice(0, 10) + 'T00:00:00Z');
  let a = today.getUTCFullYear() - b.getUTCFullYear();
  if (today.getUTCMonth() < b.getUTCMonth() || (today.getUTCMonth() === b.getUTCMonth() && today.getUTCDate() < b.getUTCDate())) a--;
  return a;
};

export async function peopleBehind(engine: SemanticEngine, pool: Pool, caller: Caller, region: Region, code: string,
  opts: { offset: number; limit: number; unmask: boolean; ip?: string }) {
  const def = indicatorDefs(engine).find((d) => d.code === code);
  if (!def) throw new ApiError(404, `no indicator ${code}`);
  if (!def.meta.drill) throw new ApiError(400, `${code} ${def.meta.title_zh} has no list of people behind it`);
  if (opts.unmask && !mayUnmask(caller)) throw new ApiError(403, '您的角色不能查看完整身份信息 Your role may not see unmasked personal data');
  const r = (await engine.load({
    dimensions: ['people_now.id_number', 'people_now.name', 'people_now.sex', 'people_now.birth_date', 'people_now.region_name'],
    segments: [`people_now.${def.meta.drill.flag}`],
    filters: scopeFilter('people_now.region_path', region, caller),
    order: [['people_now.region_name', 'asc'], ['people_now.id_number', 'asc']],
    limit: opts.limit, offset: opts.offset, total: true, timezone: 'Asia/Shanghai'
  }, securityContext(caller))) as { data: Record<string, string | null>[]; total?: number | null };
  const unmasked = opts.unmask && mayUnmask(caller);
  if (unmasked) {
    await audit(pool, { type: caller.kind, name: caller.name, ip: opts.ip }, 'unmask.people', code,
      { region: region.code, offset: opts.offset, ids: r.data.map((x) => x['people_now.id_number']) });
  }
  return {
    indicator: code, title_zh: def.meta.title_zh, title_en: def.meta.title_en, total: r.total ?? r.data.length, masked: !unmasked, may_unmask: mayUnmask(caller),
    rows: r.data.map((x) => ({
      id_number: unmasked ? x['people_now.id_number'] : maskIdNumber(x['people_now.id_number'] ?? ''),
      name: unmasked ? x['people_now.name'] : maskName(x['people_now.name']),
      sex: x['people_now.sex'], age: ageAt(x['people_now.birth_date']), region_name: x['people_now.region_name'], detail: def.meta.title_zh
    }))
  };
}

export async function recentAlerts(engine: SemanticEngine, caller: Caller, region: Region, limit: number) {
  const r = (await engine.load({
    dimensions: ['alerts.alert_id', 'alerts.rule', 'alerts.name', 'alerts.amount_at_risk', 'alerts.opened_at', 'alerts.region_name', 'alerts.severity'],
    segments: ['alerts.active'],
    filters: scopeFilter('alerts.region_path', region, caller),
    order: [['alerts.opened_at', 'desc'], ['alerts.alert_id', 'desc']],
    limit, timezone: 'Asia/Shanghai'
  }, securityContext(caller))) as { data: Record<string, string | null>[] };
  return {
    rows: r.data.map((x) => ({
      alert_id: Number(x['alerts.alert_id']), rule: x['alerts.rule'], rule_zh: RULES_ZH[x['alerts.rule'] ?? ''] ?? x['alerts.rule'],
      name: maskName(x['alerts.name']), amount_at_risk: x['alerts.amount_at_risk'], opened_at: x['alerts.opened_at'],
      region_name: x['alerts.region_name'], severity: x['alerts.severity']
    }))
  };
}
