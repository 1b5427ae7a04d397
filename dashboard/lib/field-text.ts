// Words of the field pages (/field), Chinese first with the English after it: task kinds, why a
// visit is needed, what the record says. Pure, used by the pages' server code.
import { evidenceKinds, evidenceSources, schemes } from '../../core/reference/index.ts';
import type { CertSummary, FieldTask } from '../../core/workflow/field-visits.ts';

export const KIND_NAMES: Record<string, string> = {
  field_verification: '资格认证实地核实 Certification check',
  report_in: '新退休人员报到 Report-in',
  verify_death_report: '核实家属报告的去世 Verify a reported death'
};

export const METHOD_NAMES: Record<string, string> = {
  silent: '静默认证 silent',
  face_online: '刷脸认证 online face check',
  field_visit: '实地核实 field visit',
  kiosk: '自助终端 kiosk',
  counter: '柜台 counter'
};

export const NOT_FOUND_NAMES: Record<string, string> = {
  moved: '已搬走 Moved away',
  unknown: '查无此人 Unknown at the address',
  hospital: '住院 In hospital',
  nursing_home: '在养老院 In a nursing home'
};

export const OUTCOME_NAMES: Record<string, string> = {
  seen: '见到本人 Seen in person',
  not_found: '未找到 Not found',
  deceased: '已去世 Deceased'
};

const kindName = new Map(evidenceKinds.map((k) => [k.kind, k.name_zh]));
const sourceName = new Map(evidenceSources.map((s) => [s.code, s.name_zh]));
const schemeName = new Map(schemes.map((s) => [s.code, s.name_zh]));

/** Why the visit is needed, from what the task says. */
export function whyText(t: Pick<FieldTask, 'kind' | 'detail' | 'cert'>): string {
  const d = t.detail as Record<string, string | undefined>;
  switch (t.kind) {
    case 'field_verification':
      if (d.rule === 'never_certified')
        return `${d.lapsed_on ?? '—'} 起领取待遇，至今从未认证，系统也没有找到能证明本人健在的近期记录：请上门见到本人。Receiving a benefit since ${d.lapsed_on ?? '—'}, never certified, and no recent sign of life was found: visit and see the person.`;
      return `领取资格认证已于 ${d.lapsed_on ?? '—'} 失效，系统没有找到能证明本人健在的近期记录：请上门见到本人。Certification lapsed on ${d.lapsed_on ?? '—'} and no recent sign of life was found: visit and see the person.`;
    case 'report_in':
      return `新退休人员${d.retired_on ? `（${d.retired_on} 退休）` : ''}须到社区报到：见到本人即完成报到。A new retiree${d.retired_on ? ` (retired ${d.retired_on})` : ''} reports in to the community: seeing the person completes it.`;
    case 'verify_death_report':
      return `家属（${d.relation ?? '—'}）报告本人已于 ${d.death_date ?? '—'} 去世：请上门核实。A family member reported a death on ${d.death_date ?? '—'}: verify it.`;
    default:
      return KIND_NAMES[t.kind] ?? t.kind;
  }
}

/** What the certification record says, in one line. */
export function certText(c: CertSummary | null): string {
  if (!c) return '不在待遇领取人员中 Not a benefit recipient';
  if (c.status === 'certified')
    return `已认证：${METHOD_NAMES[c.method ?? ''] ?? c.method}，${c.certified_at} 起，有效至 ${c.valid_until}。Certified until ${c.valid_until}.`;
  if (c.status === 'negative') return c.rule === 'negative_death' ? '有去世记录 A death is on record' : '有羁押记录 In custody on record';
  if (c.rule === 'never_certified') return '从未认证 Never certified';
  return `认证已过期：上次认证 ${c.last_certified_at ?? '—'}，有效至 ${c.last_valid_until ?? '—'}。Expired since ${c.last_valid_until ?? '—'}.`;
}

export function evidenceText(e: FieldTask['last_evidence']): string {
  if (!e) return '没有任何活动记录 No record of activity';
  return `${e.date} · ${kindName.get(e.kind) ?? e.kind} · ${sourceName.get(e.source) ?? e.source}`;
}

export function enrollmentText(e: FieldTask['enrollments'][number]): string {
  const status = e.status === 'active' ? '正常发放 paid' : e.status === 'suspended' ? '已暂停 suspended' : e.status;
  return `${schemeName.get(e.scheme_code) ?? e.scheme_code} · ${e.monthly_amount} 元/月 · ${e.start_period} 起 · ${status}`;
}
