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
  system_only: boolean;
}
/** The alert lifecycle (docs/rules.md): states, allowed transitions, disposition taxonomy. */
export const alertStates = lifecycleJson.states as AlertState[];
export const alertTransitions = lifecycleJson.transitions as AlertTransition[];
export const alertDispositions = lifecycleJson.dispositions as AlertDisposition[];
