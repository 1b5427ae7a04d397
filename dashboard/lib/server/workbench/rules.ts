// Rule quality (/workbench/rules/[rule]): how well each risk rule finds real cases, from what
// auditors decided. The same figures are in the semantic layer (cube alert_quality, view
// audit_rule_quality) so a BI tool gets the same numbers; tests/workbench-rules.test.ts checks both
// against one hand-made set of alerts.
//   raised          every alert of the rule in the caller's area
//   dispositioned   alerts a person decided: disposition set and not a system-only one (the engines'
//                   basis_disappeared is not a decision)
//   confirmed       dispositioned with a disposition of group improper_loss or improper_no_loss
//   precision       confirmed ÷ dispositioned (null when nothing is dispositioned)
//   false positives per disposition (group false_positive), the reasons mix
//   median days to disposition: from opened_at to the first person's transition that reached
//                   proposed, approved or closed (exact median, in days with one decimal)
//   identified      money of the confirmed alerts with money lost: amount_due where set, else amount_at_risk
//   recovered       sum of recoveries of the rule's alerts
import type { Queryable } from '../../../../core/db/pool.ts';
import { alertDispositions, alertRuleNames } from '../../../../core/reference/index.ts';
import { HttpError } from '../../../../core/errors.ts';
import { scopeSql, type Caller } from './access.ts';

export interface RuleQuality {
  rule: string;
  name_zh: string;
  name_en: string;
  raised: number;
  open: number;
  dispositioned: number;
  confirmed: number;
  precision: number | null;
  false_positives: { code: string; name_zh: string; name_en: string; follow_up: string; n: number }[];
  median_days_to_disposition: string | null;
  identified: string;
  recovered: string;
}

const CONFIRMED = alertDispositions.filter((d) => d.group === 'improper_loss' || d.group === 'improper_no_loss').map((d) => d.code);
const LOSS = alertDispositions.filter((d) => d.group === 'improper_loss').map((d) => d.code);
const SYSTEM = alertDispositions.filter((d) => d.system_only).map((d) => d.code);
const FALSE_POSITIVE = alertDispositions.filter((d) => d.group === 'false_positive');

export async function ruleQuality(db: Queryable, caller: Caller, rule: string): Promise<RuleQuality> {
  const names = alertRuleNames.get(rule);
  if (!names) throw new HttpError(404, `没有规则 ${rule} No rule ${rule}`, 'unknown_rule');
  const scope = scopeSql(caller, 'a.region_code', 5);
  const r = await db.query(
    `WITH a AS (
       SELECT a.* FROM alerts a WHERE a.rule = $1${scope.sql}
     ), decided AS (
       SELECT a.alert_id, a.disposition, a.opened_at,
              (SELECT min(t.at) FROM alert_transitions t
                WHERE t.alert_id = a.alert_id AND t.actor <> 'system' AND t.to_status IN ('proposed', 'approved', 'closed')) AS decided_at
         FROM a WHERE a.disposition IS NOT NULL AND NOT a.disposition = ANY($2::text[])
     )
     SELECT (SELECT count(*)::int FROM a) AS raised,
            (SELECT count(*)::int FROM a WHERE a.active) AS open,
            (SELECT count(*)::int FROM decided) AS dispositioned,
            (SELECT count(*)::int FROM decided WHERE disposition = ANY($3::text[])) AS confirmed,
            (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - opened_at) / 86400))::numeric, 1)::text
               FROM decided WHERE decided_at IS NOT NULL) AS median_days,
            (SELECT COALESCE(sum(COALESCE(a.amount_due, a.amount_at_risk)), 0)::text FROM a WHERE a.disposition = ANY($4::text[])) AS identified,
            (SELECT COALESCE(sum(rc.amount), 0)::text FROM recoveries rc JOIN a ON a.alert_id = rc.alert_id) AS recovered,
            (SELECT COALESCE(jsonb_object_agg(disposition, n), '{}') FROM (SELECT disposition, count(*)::int AS n FROM decided GROUP BY 1) x) AS by_disposition`,
    [rule, SYSTEM, CONFIRMED, LOSS, ...scope.values]
  );
  const x = r.rows[0];
  const by = x.by_disposition as Record<string, number>;
  return {
    rule,
    name_zh: names.name_zh,
    name_en: names.name_en,
    raised: x.raised,
    open: x.open,
    dispositioned: x.dispositioned,
    confirmed: x.confirmed,
    precision: x.dispositioned ? x.confirmed / x.dispositioned : null,
    false_positives: FALSE_POSITIVE.map((d) => ({
      code: d.code,
      name_zh: d.name_zh,
      name_en: d.name_en,
      follow_up: d.follow_up,
      n: by[d.code] ?? 0
    })),
    median_days_to_disposition: x.median_days,
    identified: x.identified,
    recovered: x.recovered
  };
}

export async function allRuleQuality(db: Queryable, caller: Caller): Promise<RuleQuality[]> {
  const out: RuleQuality[] = [];
  for (const rule of alertRuleNames.keys()) out.push(await ruleQuality(db, caller, rule));
  return out;
}
