// Reference catalogues (docs/rules.md), shipped as JSON so deployments can extend them without code.
import schemesJson from './schemes.json' with { type: 'json' };
import projectsJson from './subsidy-projects.json' with { type: 'json' };
import evidenceJson from './evidence.json' with { type: 'json' };
import alertRulesJson from './alert-rules.json' with { type: 'json' };

export interface Scheme {
  code: string;
  name_zh: string;
  name_en: string;
  exclusive_group: string | null;
  is_pension: boolean;
}
export interface SubsidyProject {
  code: string;
  name_zh: string;
  name_en: string;
  per: 'month' | 'event';
  amount: string;
  eligibility: Record<string, unknown>;
}
export interface EvidenceKind {
  kind: string;
  strength: 'strong' | 'weak';
  name_zh: string;
}
export interface EvidenceSource {
  code: string;
  name_zh: string;
  department: string;
}

export const schemes = schemesJson.schemes as Scheme[];
export const subsidyProjects = projectsJson.projects as SubsidyProject[];
export const evidenceKinds = evidenceJson.kinds as EvidenceKind[];
export const evidenceSources = evidenceJson.sources as EvidenceSource[];

export interface AlertRuleName {
  rule: string;
  name_zh: string;
  name_en: string;
}
/** The risk rules' names by code (alerts.rule). */
export const alertRuleNames: ReadonlyMap<string, AlertRuleName> = new Map(
  (alertRulesJson.rules as AlertRuleName[]).map((r) => [r.rule, r])
);

import lifecycleJson from './alert-lifecycle.json' with { type: 'json' };

export interface AlertState {
  status: string;
  phase: 'open' | 'decided' | 'restored' | 'closed';
  engine_active: boolean;
  sla_paused: boolean;
  name_zh: string;
  name_en: string;
}
export interface AlertTransition {
  action: string;
  from: string[];
  to: string;
  four_eyes: boolean;
}
export interface AlertDisposition {
  code: string;
  group: 'improper_loss' | 'improper_no_loss' | 'unknown' | 'false_positive' | 'duplicate' | 'resolved_by_data';
  name_zh: string;
  name_en: string;
  follow_up: string;
  /** A disposition that needs a re-review within this many days (set by a checker's approval; migration 0032). */
  review_days?: number;
  system_only: boolean;
}
/** The alert lifecycle (docs/rules.md): states, allowed transitions, disposition taxonomy. */
export const alertStates = lifecycleJson.states as AlertState[];
export const alertTransitions = lifecycleJson.transitions as AlertTransition[];
export const alertDispositions = lifecycleJson.dispositions as AlertDisposition[];

import slaJson from './alert-sla.json' with { type: 'json' };
import holidaysJson from './holidays-cn.json' with { type: 'json' };

export interface SlaPriority {
  priority: string;
  ack_working_days: number;
  act_working_days: number | null;
  act_by: 'working_days' | 'next_payroll';
  name_zh: string;
}
/** Service levels of the workbench (alert-sla.json): priority per rule, deadlines per priority. */
export const alertSla = {
  payrollDayOfMonth: slaJson.payroll_day_of_month,
  remindAtFraction: slaJson.remind_at_fraction,
  priorities: slaJson.priorities as SlaPriority[],
  rules: slaJson.rules as Record<string, string>
};

/** Every day of the SLA calendar (holidays-cn.json): weekends off unless listed as `work`, listed holidays off. */
export function workingCalendar(): { day: string; working: boolean }[] {
  const off = new Set<string>();
  const work = new Set<string>();
  for (const y of Object.values(holidaysJson.years as Record<string, { off: string[]; work: string[] }>)) {
    y.off.forEach((d) => off.add(d));
    y.work.forEach((d) => work.add(d));
  }
  const out: { day: string; working: boolean }[] = [];
  const end = Date.parse(holidaysJson.calendar_until + 'T00:00:00Z');
  for (let t = Date.parse(holidaysJson.calendar_from + 'T00:00:00Z'); t <= end; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const dow = new Date(t).getUTCDay();
    out.push({ day, working: work.has(day) || (!off.has(day) && dow !== 0 && dow !== 6) });
  }
  return out;
}
