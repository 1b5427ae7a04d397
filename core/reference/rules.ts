// Rule configuration (docs/rules.md, "Rule configuration"): core/reference/rules.json is the
// one reviewed place; loadRules() writes it into ref_rules (one row per leaf, key = dotted path);
// the engines read ref_rules through readRules(), validate it, and pass the numbers to their SQL
// as parameters. Changing a number is a change of rules.json (or of a ref_rules row), never code.
// loadRules keeps rows a deployment edited in the database unless `overwrite` (the default when
// called from catalogue loading after a migration, where the file is the source of truth).
import crypto from 'node:crypto';
import rulesJson from './rules.json' with { type: 'json' };
import { validateRetirementTable, type RetirementTable } from '../domain/retirement-age.ts';
import type { Queryable } from '../db/pool.ts';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const RISK_RULES = [
  'paid_after_death',
  'paid_in_custody',
  'double_receipt',
  'abnormal_amount',
  'shared_account',
  'post_death_activity',
  'no_sign_of_life',
  'hold_not_honoured',
  'reported_death'
] as const;
export type RiskRule = (typeof RISK_RULES)[number];

export interface EngineRules {
  certification: {
    validity_months: number;
    lookback_months: number;
    weak_corroboration_days: number;
    weak_min_sources: number;
    weak_min_records: number;
    reminder_days_before_expiry: number;
    field_task_days_after_expiry: number;
    field_task_due_days: number;
    suspension_days_after_expiry: number;
    explicit_methods: string[];
    reminder_channel: string;
  };
  risk: {
    abnormal_threshold_ratio: string;
    abnormal_lookback_periods: number;
    shared_account_min_people: number;
    no_sign_of_life_min_age: number;
    no_sign_of_life_months: number;
    /** detect-risk rebuilds its payment screens from scratch when the last rebuild is older than this. */
    screen_rebuild_days: number;
    severity: Record<RiskRule, (typeof SEVERITIES)[number]>;
  };
  after_death: { funeral_grant: Record<string, string>; account_balance: Record<string, string>; task_due_days: number };
  retirement: { reminder_milestones_months: number[]; horizon_months: number; reform_effective: string; bases: RetirementTable };
  community: { new_retiree_months: number; report_in_days: number };
  subsidies: { receiving_lookback_months: number };
  /** The pre-payroll check: the diff's share (its findings use the risk and certification numbers). */
  payroll: { diff_amount_change_ratio: string };
}

export const DEFAULT_RULES = stripComments(rulesJson) as unknown as EngineRules;

function stripComments(o: unknown): unknown {
  if (Array.isArray(o)) return o;
  if (o && typeof o === 'object')
    return Object.fromEntries(
      Object.entries(o)
        .filter(([k]) => !k.startsWith('_'))
        .map(([k, v]) => [k, stripComments(v)])
    );
  return o;
}

/** Leaves of the rules object as dotted keys. Arrays and the retirement bases table are leaves (one value). */
export function flattenRules(o: Record<string, unknown>, prefix = ''): { key: string; value: unknown }[] {
  const out: { key: string; value: unknown }[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('_')) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && key !== 'retirement.bases')
      out.push(...flattenRules(v as Record<string, unknown>, key));
    else out.push({ key, value: v });
  }
  return out;
}

export function unflattenRules(rows: { key: string; value: unknown }[]): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a tree built from dotted keys
  const root: Record<string, any> = {};
  for (const { key, value } of rows) {
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = node[p] ??= {};
    node[parts[parts.length - 1]] = value;
  }
  return root;
}

const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const nonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const money = (v: unknown) => typeof v === 'string' && /^\d+(\.\d{1,2})?$/.test(v);

/** Problems with a rules object, empty when it can be used. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks an arbitrary parsed object field by field
export function validateRules(r: any): string[] {
  const p: string[] = [];
  const need = (ok: boolean, msg: string) => {
    if (!ok) p.push(msg);
  };
  const c = r?.certification ?? {};
  for (const k of ['validity_months', 'lookback_months', 'weak_corroboration_days', 'weak_min_sources', 'weak_min_records'] as const)
    need(posInt(c[k]), `certification.${k} must be a positive whole number`);
  for (const k of [
    'reminder_days_before_expiry',
    'field_task_days_after_expiry',
    'field_task_due_days',
    'suspension_days_after_expiry'
  ] as const)
    need(nonNegInt(c[k]), `certification.${k} must be a whole number ≥ 0`);
  need(Array.isArray(c.explicit_methods) && c.explicit_methods.length > 0, 'certification.explicit_methods must list methods');
  const k = r?.risk ?? {};
  need(
    typeof k.abnormal_threshold_ratio === 'string' &&
      /^\d+(\.\d+)?$/.test(k.abnormal_threshold_ratio) &&
      Number(k.abnormal_threshold_ratio) > 0,
    'risk.abnormal_threshold_ratio must be a decimal string > 0, e.g. "0.20"'
  );
  for (const x of ['abnormal_lookback_periods', 'shared_account_min_people', 'no_sign_of_life_min_age', 'no_sign_of_life_months'] as const)
    need(posInt(k[x]), `risk.${x} must be a positive whole number`);
  need(posInt(k.screen_rebuild_days), 'risk.screen_rebuild_days must be a positive whole number');
  need(k.shared_account_min_people >= 2, 'risk.shared_account_min_people must be at least 2');
  for (const rule of RISK_RULES)
    need(SEVERITIES.includes(k.severity?.[rule]), `risk.severity.${rule} must be one of ${SEVERITIES.join(', ')}`);
  const a = r?.after_death ?? {};
  for (const x of ['funeral_grant', 'account_balance'] as const) {
    need(a[x] && typeof a[x] === 'object' && money(a[x].default), `after_death.${x}.default must be an amount in yuan (string)`);
    for (const [s, v] of Object.entries(a[x] ?? {})) need(money(v), `after_death.${x}.${s} must be an amount in yuan (string)`);
  }
  need(nonNegInt(a.task_due_days), 'after_death.task_due_days must be a whole number ≥ 0');
  const t = r?.retirement ?? {};
  need(
    Array.isArray(t.reminder_milestones_months) && t.reminder_milestones_months.every(posInt),
    'retirement.reminder_milestones_months must list positive whole numbers'
  );
  need(posInt(t.horizon_months), 'retirement.horizon_months must be a positive whole number');
  p.push(...validateRetirementTable(t.bases));
  need(
    posInt(r?.community?.new_retiree_months) && nonNegInt(r?.community?.report_in_days),
    'community.new_retiree_months / report_in_days must be whole numbers'
  );
  need(nonNegInt(r?.subsidies?.receiving_lookback_months), 'subsidies.receiving_lookback_months must be a whole number ≥ 0');
  const pr = r?.payroll?.diff_amount_change_ratio;
  need(
    typeof pr === 'string' && /^\d+(\.\d+)?$/.test(pr) && Number(pr) >= 0,
    'payroll.diff_amount_change_ratio must be a decimal string ≥ 0, e.g. "0.10"'
  );
  return p;
}

/** Write rules.json (or the given rules) into ref_rules. */
export async function loadRules(db: Queryable, opts: { rules?: Record<string, unknown>; overwrite?: boolean } = {}): Promise<number> {
  const rules = (opts.rules ?? DEFAULT_RULES) as Record<string, unknown>;
  const problems = validateRules(rules);
  if (problems.length) throw new Error(`rules are not valid: ${problems.join('; ')}`);
  const rows = flattenRules(rules).map((r) => ({ key: r.key, value: r.value, section: r.key.split('.')[0] }));
  const r = await db.query(
    `INSERT INTO ref_rules (rule_key, section, value)
     SELECT key, section, value FROM jsonb_to_recordset($1::jsonb) AS x(key text, section text, value jsonb)
     ON CONFLICT (rule_key) DO ${opts.overwrite === false ? 'NOTHING' : 'UPDATE SET value = EXCLUDED.value, section = EXCLUDED.section, loaded_at = now() WHERE ref_rules.value IS DISTINCT FROM EXCLUDED.value'}`,
    [JSON.stringify(rows)]
  );
  return r.rowCount ?? 0;
}

/** The rules in force: ref_rules (seeded from rules.json when empty), validated. */
export async function readRules(db: Queryable): Promise<{ rules: EngineRules; hash: string }> {
  let { rows } = await db.query(`SELECT rule_key AS key, value FROM ref_rules ORDER BY rule_key`);
  if (rows.length === 0) {
    await loadRules(db);
    ({ rows } = await db.query(`SELECT rule_key AS key, value FROM ref_rules ORDER BY rule_key`));
  } else {
    // Keys added to rules.json since the table was loaded (a newer release) are filled in, edits kept.
    const have = new Set(rows.map((r: { key: string }) => r.key));
    if (flattenRules(DEFAULT_RULES as unknown as Record<string, unknown>).some((f) => !have.has(f.key))) {
      await loadRules(db, { overwrite: false });
      ({ rows } = await db.query(`SELECT rule_key AS key, value FROM ref_rules ORDER BY rule_key`));
    }
  }
  const rules = unflattenRules(rows) as unknown as EngineRules;
  const problems = validateRules(rules);
  if (problems.length) throw new Error(`ref_rules is not valid: ${problems.join('; ')}`);
  const hash = crypto.createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 12);
  return { rules, hash };
}
