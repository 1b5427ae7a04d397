// The tables of docs/*.md that restate code or configuration, generated from that code so they cannot
// drift: the feed columns (jobs/ingest/feeds.ts), the quarantine reason codes (jobs/ingest/values.ts),
// the 41 indicators (the Cube model, read with the semantic layer's own loader), the catalogues and
// the rule numbers (core/reference/*.json). Each generated block sits between two markers
//   <!-- BEGIN GENERATED <name> … -->  …  <!-- END GENERATED <name> -->
// and everything outside the markers is hand-written. The result is formatted with the project's
// Prettier settings, so a generated file passes `npm run lint` as it is.
//
//   npm run docs:generate            rewrite docs/*.md in place
//   npm run docs:generate -- --check exit 1 when a file differs from what would be generated
//
// docs/docs.test.ts runs the same comparison (and more) in `npm run test:unit`.
//
// The generator refuses to run when the docs would become dishonest: a configuration key, eligibility
// parameter or threshold kind it has no words for, a feed without its section, or a feature the docs
// call "not built yet" that the code now has (PLANNED below) — whoever adds it then updates the prose.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { FEEDS, type ColumnDef, type ColumnType, type FeedDef } from '../jobs/ingest/feeds.ts';
import { MAX_YEAR, MIN_YEAR, REASON_CODES } from '../jobs/ingest/values.ts';
import { MAX_RECORD_BYTES } from '../jobs/ingest/csv.ts';
import { MIN_TRAILING_POINTS, fluctuationRule, isJudged, type Thresholds } from '../semantic-layer/thresholds.ts';
import { DATASETS } from '../jobs/exports.ts';
import { loadModel } from '../semantic-layer/engine/model.ts';
import {
  alertDispositions,
  alertRuleNames,
  alertStates,
  alertTransitions,
  evidenceKinds,
  evidenceSources,
  schemes,
  subsidyProjects
} from '../core/reference/index.ts';
import { DEFAULT_RULES, RISK_RULES, flattenRules } from '../core/reference/rules.ts';
import { monthFromIndex, monthIndex, retirementMonth, type RetirementTable } from '../core/domain/retirement-age.ts';
import feedsJson from '../core/reference/feeds.json' with { type: 'json' };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DOCS = ['docs/feeds.md', 'docs/indicators.md', 'docs/rules.md'] as const;
export const MODEL_DIR = path.join(ROOT, 'semantic-layer/model');

/**
 * What the docs describe as planned (in the contract, not built). When the code gains one of these the
 * generator stops: the prose that says "not built yet" must change with it.
 */
export const PLANNED = {
  feeds: [] as string[],
  columns: {} as Record<string, string[]>,
  datasets: [] as string[]
};

const code = (s: string | number) => `\`${s}\``;
const esc = (s: string) => s.replaceAll('|', '\\|');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join(
    '\n'
  );
}

// ---------------------------------------------------------------------------------------------- feeds

const HOURS_IN = (h: number) => (h % 24 === 0 ? `${h / 24} days` : `${h} hours`);

function formatOf(t: ColumnType): string {
  switch (t.kind) {
    case 'text':
      return 'text';
    case 'id_number':
      return 'ID number';
    case 'region_code':
      return 'region code';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'period':
      return 'period';
    case 'money':
      return t.signed ? 'yuan, may be negative' : 'yuan';
    case 'int':
      return `whole number ${t.min}–${t.max}`;
    case 'enum':
      return t.values.map(code).join(' | ');
    case 'catalogue':
      return {
        schemes: 'scheme code ([catalogue](rules.md#schemes))',
        subsidy_projects: 'project code ([catalogue](rules.md#subsidy-projects))',
        evidence_kinds: 'evidence kind ([catalogue](rules.md#evidence-kinds))',
        evidence_sources: 'source code ([catalogue](rules.md#evidence-sources))'
      }[t.catalogue];
  }
}

function columnNotes(feed: FeedDef, c: ColumnDef): string[] {
  const notes: string[] = [];
  if (feed.key.includes(c.name)) notes.push(feed.key.length > 1 ? 'part of the key' : 'key');
  if (c.fromIdNumber)
    notes.push(
      `derived from \`id_number\` when empty; when given it must agree (\`${c.fromIdNumber === 'sex' ? 'sex' : 'birth_date'}_mismatch\`)`
    );
  if (c.whenEmpty !== undefined) notes.push(`empty = \`${c.whenEmpty}\``);
  for (const r of feed.rules ?? []) {
    if (r.kind === 'not_before' && r.later === c.name) notes.push(`not before \`${r.earlier}\` (\`end_before_start\`)`);
    if (r.kind === 'required_when' && r.column === c.name) notes.push(`required when \`${r.when}\` is \`${r.equals}\``);
    if (r.kind === 'fits' && r.column === c.name) {
      notes.push(
        `must fit \`${r.other}\`: ${Object.entries(r.allowed)
          .map(([v, ok]) => `\`${v}\` → ${ok.map(code).join('/')}`)
          .join(', ')} (\`basis_mismatch\`)`
      );
    }
    if (r.kind === 'tree_parent' && r.parent === c.name) {
      notes.push(`empty for the \`${r.root}\`, required for every other level, never the region's own code (\`bad_parent\`)`);
    }
  }
  return notes;
}

function feedSection(feed: FeedDef): string {
  const hours = (feedsJson.expected_hours as Record<string, number>)[feed.feed];
  const head = [
    `Key: ${feed.key.map(code).join(' + ')}. Loaded into the table ${code(feed.table)}.` +
      (hours ? ` Expected at least every ${HOURS_IN(hours)}, else shown as overdue.` : ' No expected interval configured.')
  ];
  const rows = feed.columns.map((c) => [
    code(c.name),
    c.required ? '**yes**' : c.inHeader ? '**yes**, may be empty' : '',
    formatOf(c.type),
    columnNotes(feed, c).join('; ')
  ]);
  return `${head.join('\n')}\n\n${table(['column', 'required', 'format', 'notes'], rows)}`;
}

function feedsOverview(): string {
  const hours = feedsJson.expected_hours as Record<string, number>;
  const rows = FEEDS.map((f, i) => [
    String(i + 1),
    `[${code(f.feed)}](#${f.feed})`,
    f.key.map(code).join(' + '),
    code(f.table),
    hours[f.feed] ? HOURS_IN(hours[f.feed]) : '—'
  ]);
  return table(['order', 'feed', 'natural key', 'table', 'expected at least every'], rows);
}

function reasonCodes(): string {
  const fileLevel = new Set(['unknown_feed', 'not_csv', 'empty_file', 'missing_column', 'duplicate_column']);
  const rows = Object.entries(REASON_CODES).map(([k, v]) => [
    code(k),
    fileLevel.has(k) ? 'file' : k === 'db_rejected' || k === 'bad_encoding' ? 'row (or file)' : 'row',
    v
  ]);
  return table(['reason_code', 'level', 'meaning'], rows);
}

// ---------------------------------------------------------------------------------------------- indicators

export interface IndicatorRow {
  code: string;
  family: string;
  member: string;
  meta: Record<string, unknown> & { thresholds?: Record<string, unknown>; drill?: { month?: unknown }; title_zh: string; title_en: string };
}

const FAMILY_ORDER = ['P', 'A', 'C', 'R', 'S', 'H'];

/** Every measure of the model whose meta names an indicator, in the board's order (family, then code). */
export function modelIndicators(dir = MODEL_DIR): IndicatorRow[] {
  const model = loadModel(dir);
  const out: IndicatorRow[] = [];
  for (const cube of model.cubes.values()) {
    for (const m of cube.measures.values()) {
      const meta = m.meta as IndicatorRow['meta'] | undefined;
      if (meta && typeof meta.indicator === 'string') out.push({ code: meta.indicator, family: String(meta.family), member: m.path, meta });
    }
  }
  return out.sort((a, b) => FAMILY_ORDER.indexOf(a.family) - FAMILY_ORDER.indexOf(b.family) || a.code.localeCompare(b.code));
}

type Limits = { warn?: number; critical?: number };
const limits = (l: Limits, fmt: (n: number) => string) =>
  [l.warn !== undefined ? `warn ${fmt(l.warn)}` : null, l.critical !== undefined ? `critical ${fmt(l.critical)}` : null]
    .filter(Boolean)
    .join(', ');

/** The thresholds of an indicator in words; `unit` fills in the default materiality of the fluctuation rule. */
export function thresholdText(t: Record<string, unknown> | undefined, unit: string): string {
  const parts: string[] = [];
  for (const [kind, v] of Object.entries(t ?? {})) {
    if (kind === 'bound') {
      const b = v as { below?: Limits; above?: Limits };
      if (b.below) parts.push(limits(b.below, (n) => `< ${n}`));
      if (b.above) parts.push(limits(b.above, (n) => `> ${n}`));
    } else if (kind === 'mom' || kind === 'yoy') {
      parts.push(`${kind === 'mom' ? 'MoM' : 'YoY'} ${limits(v as Limits, (n) => `±${n} %`)}`);
    } else if (kind === 'points') {
      parts.push(`share change ${limits(v as Limits, (n) => `±${n} points`)}`);
    } else if (kind === 'fluctuation') {
      const f = fluctuationRule({ fluctuation: v as Limits }, unit)!;
      const base = f.min_base > 0 ? ` and ≥ ${f.min_base.toLocaleString('en-US')}` : '';
      parts.push(`robust z ${limits(v as Limits, (n) => `> ${n}`)}, if ≥ ${f.min_change} % off the median${base}`);
    } else if (kind === 'last_year') {
      if (v === true) parts.push('warn below last year at the same month');
    } else {
      throw new Error(`indicator threshold kind "${kind}" has no wording in docs/generate.ts (thresholdText)`);
    }
  }
  if (!parts.length) return 'none (for information)';
  return isJudged((t ?? {}) as Thresholds) ? parts.join('; ') : `${parts.join('; ')} (no bound: for information unless one fires)`;
}

const DIRECTION: Record<string, string> = { higher_better: 'higher is better', lower_better: 'lower is better', neutral: 'neutral' };

function indicatorsTable(): string {
  const rows = modelIndicators().map(({ code: c, member, meta }) => {
    const dir = DIRECTION[String(meta.direction)];
    if (!dir) throw new Error(`indicator ${c}: direction "${String(meta.direction)}" has no wording in docs/generate.ts`);
    const breakdown = meta.city_level ? 'city level, by scheme' : meta.share_of ? 'area; by project' : 'area';
    const drill = meta.drill ? (meta.drill.month ? 'yes, of the month shown' : 'yes, as of the latest run') : '—';
    return [
      `**${c}**`,
      meta.title_zh,
      meta.title_en,
      String(meta.unit),
      dir,
      meta.grain === 'now' ? 'now' : 'month',
      thresholdText(meta.thresholds, String(meta.unit)),
      breakdown,
      drill,
      code(member)
    ];
  });
  return table(['code', '中文', 'English', 'unit', 'direction', 'grain', 'thresholds', 'breakdown', 'people list', 'measure'], rows);
}

function indicatorCount(): string {
  const all = modelIndicators();
  const by = FAMILY_ORDER.map((f) => `${f} ${all.filter((i) => i.family === f).length}`).join(', ');
  return `The model defines **${all.length}** indicators (${by}).`;
}

// ---------------------------------------------------------------------------------------------- rules

function schemesTable(): string {
  return table(
    ['code', '中文', 'English', 'exclusive group', 'pension'],
    schemes.map((s) => [
      code(s.code),
      s.name_zh,
      s.name_en,
      s.exclusive_group ? code(s.exclusive_group) : '— (may stack)',
      s.is_pension ? 'yes' : 'no'
    ])
  );
}

/** Plain words for a subsidy project's eligibility parameters (every key the policy engine understands). */
export function eligibilityText(e: Record<string, unknown>): string {
  const parts: string[] = [];
  const list = (v: unknown) => (v as string[]).map(code).join(' or ');
  const known = new Set([
    'min_age',
    'hardship_kinds',
    'disability_levels',
    'min_age_living_alone',
    'min_age_with_disability',
    'admission_within_days'
  ]);
  for (const k of Object.keys(e))
    if (!known.has(k)) throw new Error(`eligibility parameter "${k}" has no wording in docs/generate.ts (eligibilityText)`);
  if (e.min_age !== undefined) parts.push(`aged ${e.min_age} or more`);
  if (e.hardship_kinds !== undefined) {
    parts.push(
      `an active hardship of kind ${list(e.hardship_kinds)}` +
        (e.disability_levels !== undefined ? ` (disability grade ${list(e.disability_levels)})` : '')
    );
  }
  const care = [
    e.min_age_living_alone !== undefined ? `aged ${e.min_age_living_alone} or more and living alone` : null,
    e.min_age_with_disability !== undefined ? `aged ${e.min_age_with_disability} or more with an active disability` : null
  ].filter(Boolean);
  if (care.length) parts.push(care.join(', or '));
  if (e.admission_within_days !== undefined)
    parts.push(`a \`hospital_admission\` in the last ${e.admission_within_days} days (once per admission)`);
  return parts.join('; ');
}

function projectsTable(): string {
  return table(
    ['code', '中文', 'English', 'amount (yuan)', 'per', 'eligible when (all must hold)'],
    subsidyProjects.map((p) => [code(p.code), p.name_zh, p.name_en, p.amount, p.per, eligibilityText(p.eligibility)])
  );
}

function kindsTable(): string {
  const sorted = [...evidenceKinds.filter((k) => k.strength === 'strong'), ...evidenceKinds.filter((k) => k.strength !== 'strong')];
  return table(
    ['kind', '中文', 'strength'],
    sorted.map((k) => [code(k.kind), k.name_zh, k.strength])
  );
}

function sourcesTable(): string {
  return table(
    ['source', '中文', 'department'],
    evidenceSources.map((s) => [code(s.code), s.name_zh, code(s.department)])
  );
}

function alertRulesTable(): string {
  const sev = DEFAULT_RULES.risk.severity as Record<string, string>;
  for (const r of alertRuleNames.keys())
    if (!(RISK_RULES as readonly string[]).includes(r))
      throw new Error(`alert-rules.json names "${r}", which the risk engine does not know`);
  return table(
    ['rule', '中文', 'English', 'severity'],
    RISK_RULES.map((r) => {
      const n = alertRuleNames.get(r);
      return [code(r), n?.name_zh ?? '—', n?.name_en ?? '—', sev[r]];
    })
  );
}

function alertStatesTable(): string {
  return table(
    ['status', '中文', 'English', 'phase', 'engines maintain it', 'SLA clock'],
    alertStates.map((s) => [
      code(s.status),
      s.name_zh,
      s.name_en,
      s.phase,
      s.engine_active ? 'yes' : 'no',
      s.sla_paused ? 'paused' : 'runs'
    ])
  );
}

function alertTransitionsTable(): string {
  return table(
    ['action', 'from', 'to', 'four eyes'],
    alertTransitions.map((t) => [code(t.action), t.from.map(code).join(', '), code(t.to), t.four_eyes ? 'maker + different checker' : '—'])
  );
}

function alertDispositionsTable(): string {
  return table(
    ['disposition', 'group', '中文', 'English', 'follow-up', 'set by'],
    alertDispositions.map((d) => [
      code(d.code),
      d.group,
      d.name_zh,
      d.name_en,
      d.follow_up.replaceAll('_', ' '),
      d.system_only ? 'the engines' : 'a person (the engines for some)'
    ])
  );
}

/** What each number of rules.json means (the key as ref_rules stores it). */
const RULE_MEANING: Record<string, string> = {
  'certification.validity_months': 'a certification is valid this many calendar months from its basis date',
  'certification.lookback_months': 'only a basis dated within this many months before the as-of date certifies',
  'certification.weak_corroboration_days': 'weak records corroborate each other within this many days of the earliest one',
  'certification.weak_min_sources': 'distinct sources needed among corroborating weak records',
  'certification.weak_min_records': 'weak records needed for a weak-only certification',
  'certification.reminder_days_before_expiry': 'reminder this many days before the lapse date',
  'certification.field_task_days_after_expiry': 'field-verification task this many days after the lapse date',
  'certification.field_task_due_days': 'the field task is due this many days after the as-of date of the run that issues it',
  'certification.suspension_days_after_expiry': 'suspension (`not_certified`) this many days after the lapse date',
  'certification.explicit_methods':
    'the explicit methods; informational: the engine reads every `pass` of the certifications feed, whose `method` values the feed contract fixes',
  'certification.reminder_channel': 'the method the reminder asks for',
  'risk.abnormal_threshold_ratio': '`abnormal_amount`: a payment more than this fraction away from the median fires',
  'risk.abnormal_lookback_periods': '`abnormal_amount`: the median is of this many previous paid payments of the scheme',
  'risk.shared_account_min_people': '`shared_account`: this many different people paid a pension into one account in one period',
  'risk.no_sign_of_life_min_age': '`no_sign_of_life`: age on the as-of date',
  'risk.no_sign_of_life_months': '`no_sign_of_life`: months without strong evidence, and months of payments at risk',
  'risk.screen_rebuild_days': 'internal: the payment screens of detect-risk are rebuilt from scratch after this many days',
  'after_death.task_due_days':
    "after-death tasks are due this many days after the as-of date of the run that creates them (a family report's verification task: after the report)",
  'retirement.reminder_milestones_months': 'a retirement reminder at each of these months before the retirement month',
  'retirement.horizon_months': 'reminders go to people retiring within this many months',
  'retirement.reform_effective': 'the date the reform took effect; informational: the birth-month table below alone decides',
  'community.new_retiree_months': 'a retiree who retired within this many months is new (report-in record and task)',
  'community.report_in_days': 'a report-in is due this many days after assignment',
  'subsidies.receiving_lookback_months': 'a person receives a project when paid by it for the as-of month or this many months before',
  'payroll.diff_amount_change_ratio':
    'pre-payroll check: a draft amount differing from last month’s paid amount by more than this share is `amount_changed` in the diff'
};
/** Keys shown in their own tables instead. */
const RULES_ELSEWHERE = [/^risk\.severity\./, /^after_death\.(funeral_grant|account_balance)\./, /^retirement\.bases$/];

function ruleValue(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => code(String(x))).join(', ');
  return code(String(v));
}

function ruleNumbersTable(): string {
  const rows: string[][] = [];
  for (const { key, value } of flattenRules(DEFAULT_RULES as unknown as Record<string, unknown>)) {
    if (RULES_ELSEWHERE.some((re) => re.test(key))) continue;
    const meaning = RULE_MEANING[key];
    if (!meaning) throw new Error(`rules.json key "${key}" has no meaning in docs/generate.ts (RULE_MEANING): say what it does`);
    rows.push([code(key), ruleValue(value), meaning]);
  }
  for (const key of Object.keys(RULE_MEANING))
    if (!rows.some((r) => r[0] === code(key))) throw new Error(`RULE_MEANING names "${key}", which rules.json does not have`);
  return table(['key (`ref_rules.rule_key`)', 'value', 'meaning'], rows);
}

function retirementTable(): string {
  const bases = DEFAULT_RULES.retirement.bases as RetirementTable;
  const rows = Object.entries(bases).map(([basis, r]) => {
    const rise = (r.final_age_years - r.original_age_years) * 12;
    const finalFrom = monthFromIndex(monthIndex(r.start_birth_month) + (rise - 1) * r.step_birth_months);
    return [
      code(basis),
      `${r.original_age_years}`,
      r.start_birth_month,
      `+1 month per ${r.step_birth_months} birth months`,
      `${r.final_age_years}`,
      `${finalFrom} and later`
    ];
  });
  return table(['basis', 'original age', 'rises from births of', 'step', 'final age', 'final age for births of'], rows);
}

/** The reform's worked examples, computed by core/domain/retirement-age.ts (the same arithmetic as the engine). */
export const RETIREMENT_EXAMPLES: [string, string][] = [
  ['M60', '1965-01'],
  ['M60', '1965-05'],
  ['F55', '1970-01'],
  ['F50', '1975-01'],
  ['F50', '1975-03'],
  ['M60', '1980-06'],
  ['F50', '1990-01']
];

function retirementExamples(): string {
  const age = (m: number) => `${Math.floor(m / 12)} y${m % 12 ? ` ${m % 12} m` : ''}`;
  return table(
    ['basis', 'born', 'statutory age', 'retires in'],
    RETIREMENT_EXAMPLES.map(([b, m]) => {
      const r = retirementMonth(b, m);
      return [code(b), m, age(r.statutoryAgeMonths), r.retirementMonth];
    })
  );
}

function afterDeathTable(): string {
  const a = DEFAULT_RULES.after_death;
  const keys = [...new Set([...Object.keys(a.funeral_grant), ...Object.keys(a.account_balance)])].sort((x, y) =>
    x === 'default' ? 1 : y === 'default' ? -1 : x.localeCompare(y)
  );
  return table(
    ['pension scheme', 'funeral grant (yuan)', 'pension-account balance (yuan)'],
    keys.map((k) => [
      k === 'default' ? 'any other (`default`)' : code(k),
      a.funeral_grant[k] ?? a.funeral_grant.default,
      a.account_balance[k] ?? a.account_balance.default
    ])
  );
}

// ---------------------------------------------------------------------------------------------- assembly

/** The generated blocks per doc file, by name. */
export function sections(): Record<(typeof DOCS)[number], Record<string, string>> {
  for (const f of PLANNED.feeds) {
    if (FEEDS.some((x) => x.feed === f))
      throw new Error(
        `feed ${f} is ingested now: docs/feeds.md still calls it "not yet ingested" — give it a generated section and update the prose (then remove it from PLANNED)`
      );
  }
  for (const [feed, cols] of Object.entries(PLANNED.columns)) {
    const def = FEEDS.find((x) => x.feed === feed);
    for (const c of cols)
      if (def?.columns.some((x) => x.name === c))
        throw new Error(
          `${feed}.${c} is ingested now: update the prose of docs/feeds.md and docs/rules.md that says it is not (then remove it from PLANNED)`
        );
  }
  for (const d of PLANNED.datasets) {
    if (d in DATASETS)
      throw new Error(
        `export dataset ${d} exists now: docs/rules.md still calls it planned — update the prose (then remove it from PLANNED)`
      );
  }
  return {
    'docs/feeds.md': {
      'feeds-overview': feedsOverview(),
      ...Object.fromEntries(FEEDS.map((f) => [`feed-${f.feed}`, feedSection(f)])),
      'reason-codes': reasonCodes()
    },
    'docs/indicators.md': { 'indicator-count': indicatorCount(), indicators: indicatorsTable() },
    'docs/rules.md': {
      schemes: schemesTable(),
      'subsidy-projects': projectsTable(),
      'evidence-kinds': kindsTable(),
      'evidence-sources': sourcesTable(),
      'alert-rules': alertRulesTable(),
      'alert-states': alertStatesTable(),
      'alert-transitions': alertTransitionsTable(),
      'alert-dispositions': alertDispositionsTable(),
      'rule-numbers': ruleNumbersTable(),
      'retirement-bases': retirementTable(),
      'retirement-examples': retirementExamples(),
      'after-death-amounts': afterDeathTable()
    }
  };
}

const BEGIN = /<!-- BEGIN GENERATED ([a-z0-9_-]+)[^>]*-->/g;
/**
 * A configured value the prose quotes: a rules.json key (`certification.validity_months`), a subsidy
 * project's amount or eligibility parameter (`projects.CARE.min_age_with_disability`), or a code
 * constant (`const.min_trailing_points`). `|percent` renders a ratio as per cent, `|list` a list as "a, b and c".
 */
export function configValue(ref: string): string {
  const [key, format] = ref.split('|');
  let v: unknown;
  if (key.startsWith('projects.')) {
    const [, projectCode, param] = key.split('.');
    const p = subsidyProjects.find((x) => x.code === projectCode);
    v = p ? (param === 'amount' ? p.amount : p.eligibility[param]) : undefined;
  } else if (key.startsWith('const.')) {
    v = CONSTANTS[key.slice('const.'.length)];
  } else {
    v = flattenRules(DEFAULT_RULES as unknown as Record<string, unknown>).find((r) => r.key === key)?.value;
  }
  if (format === 'list' && Array.isArray(v)) return v.length > 1 ? `${v.slice(0, -1).join(', ')} and ${v[v.length - 1]}` : String(v[0]);
  if (v === undefined || v === null || typeof v === 'object')
    throw new Error(`{${ref}} names nothing docs/generate.ts can read as a single value`);
  return format === 'percent' ? String(Math.round(Number(v) * 10000) / 100) : String(v);
}

/** Code constants the prose quotes. */
const CONSTANTS: Record<string, string | number> = {
  min_trailing_points: MIN_TRAILING_POINTS,
  max_record_mib: MAX_RECORD_BYTES / (1 << 20),
  min_year: MIN_YEAR,
  max_year: MAX_YEAR
};

/**
 * Phrases of the hand-written prose that quote a configured value: each must appear in its file with
 * the current value, so changing a number in the configuration without the prose fails the check.
 */
export const QUOTED: [file: (typeof DOCS)[number], phrase: string][] = [
  ['docs/feeds.md', 'A record longer than {const.max_record_mib} MiB'],
  ['docs/feeds.md', 'a real calendar date in the years {const.min_year}–{const.max_year}'],
  ['docs/indicators.md', 'Needs at least {const.min_trailing_points} of those 12 values'],
  ['docs/indicators.md', 'no strong evidence in the last {certification.lookback_months} months'],
  ['docs/rules.md', 'valid for {certification.validity_months} months from its date'],
  ['docs/rules.md', 'dated within the last {certification.lookback_months} months'],
  [
    'docs/rules.md',
    'at least {certification.weak_min_records} of them, from at least {certification.weak_min_sources} different sources, lie within {certification.weak_corroboration_days} days of each other'
  ],
  ['docs/rules.md', 'over the following {certification.weak_corroboration_days} days inclusive'],
  [
    'docs/rules.md',
    'A `reminder` (asking for `{certification.reminder_channel}`) is recorded {certification.reminder_days_before_expiry} days before the lapse'
  ],
  ['docs/rules.md', 'a `field_task` {certification.field_task_days_after_expiry} days after the lapse'],
  ['docs/rules.md', 'due {certification.field_task_due_days} days after the as-of date of the run that issues it'],
  ['docs/rules.md', 'a `suspension` (reason `not_certified`) {certification.suspension_days_after_expiry} days after the lapse'],
  [
    'docs/rules.md',
    "more than {risk.abnormal_threshold_ratio|percent} % above or below the median of the person's previous {risk.abnormal_lookback_periods} paid payments"
  ],
  ['docs/rules.md', 'no alert without {risk.abnormal_lookback_periods} earlier payments'],
  ['docs/rules.md', 'pension payments for {risk.shared_account_min_people} or more different people'],
  ['docs/rules.md', 'aged {risk.no_sign_of_life_min_age} or more, no death record'],
  ['docs/rules.md', 'no strong evidence in the last {risk.no_sign_of_life_months} months'],
  ['docs/rules.md', 'the payments for the {risk.no_sign_of_life_months} periods before the as-of month'],
  ['docs/rules.md', 'From {retirement.reform_effective} the statutory retirement age rises'],
  [
    'docs/rules.md',
    'People retiring within the next {retirement.horizon_months} months get one reminder per milestone — {retirement.reminder_milestones_months|list} months before'
  ],
  ['docs/rules.md', 'for the as-of month or the {subsidies.receiving_lookback_months} month(s) before it'],
  ['docs/rules.md', 'People aged {projects.CARE.min_age_with_disability} or more with an active disability'],
  ['docs/rules.md', 'a person of {projects.CARE.min_age_living_alone} or more already receiving `CARE`'],
  ['docs/rules.md', 'each `hospital_admission` in the last {projects.HOSP.admission_within_days} days'],
  ['docs/rules.md', 'due {after_death.task_due_days} days after the as-of date of the run that creates it'],
  ['docs/rules.md', 'retired within the last {community.new_retiree_months} months'],
  ['docs/rules.md', 'due in {community.report_in_days} days'],
  ['docs/rules.md', "more than {certification.suspension_days_after_expiry} days before the period's first day"],
  [
    'docs/rules.md',
    'more than {risk.abnormal_threshold_ratio|percent} % off the median of the previous {risk.abnormal_lookback_periods} paid payments'
  ],
  ['docs/rules.md', 'an `account_no` on lines of {risk.shared_account_min_people} or more different people'],
  ['docs/rules.md', '`amount_changed` (more than {payroll.diff_amount_change_ratio|percent} % different']
];

const squash = (s: string) => s.replace(/\s+/g, ' ');

/** The quoted phrases missing from the given texts (file → text), as messages. */
export function quotedProblems(texts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, phrase] of QUOTED) {
    const rendered = phrase.replace(/\{([^}]+)\}/g, (_m, ref: string) => configValue(ref));
    if (!squash(texts.get(file) ?? '').includes(squash(rendered)))
      problems.push(`${file} should say "${rendered}" (the phrase ${phrase} in docs/generate.ts)`);
  }
  return problems;
}

export function fill(file: string, text: string, blocks: Record<string, string>): string {
  const seen = new Set<string>();
  let out = '';
  let pos = 0;
  for (const m of text.matchAll(BEGIN)) {
    if (m.index < pos) continue;
    const name = m[1];
    if (!(name in blocks)) throw new Error(`${file}: generated block "${name}" is not produced by docs/generate.ts`);
    if (seen.has(name)) throw new Error(`${file}: generated block "${name}" appears twice`);
    seen.add(name);
    const endMarker = `<!-- END GENERATED ${name} -->`;
    const start = m.index + m[0].length;
    const end = text.indexOf(endMarker, start);
    if (end < 0) throw new Error(`${file}: generated block "${name}" has no ${endMarker}`);
    out += text.slice(pos, start) + '\n\n' + blocks[name] + '\n\n';
    pos = end;
  }
  out += text.slice(pos);
  const missing = Object.keys(blocks).filter((b) => !seen.has(b));
  if (missing.length)
    throw new Error(
      `${file}: no place for the generated block(s) ${missing.join(', ')} — add <!-- BEGIN GENERATED name --> / <!-- END GENERATED name --> markers`
    );
  return out;
}

/** What each doc file should contain now: its hand-written text with fresh generated blocks, formatted. */
export async function expectedDocs(): Promise<Map<string, string>> {
  const all = sections();
  const out = new Map<string, string>();
  for (const file of DOCS) {
    const abs = path.join(ROOT, file);
    const filled = fill(file, fs.readFileSync(abs, 'utf8'), all[file]);
    const options = (await prettier.resolveConfig(abs)) ?? {};
    out.set(file, await prettier.format(filled, { ...options, filepath: abs }));
  }
  const problems = quotedProblems(out);
  if (problems.length) throw new Error(`the prose quotes configured values that changed:\n  ${problems.join('\n  ')}`);
  return out;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, text] of await expectedDocs()) {
    const abs = path.join(ROOT, file);
    if (fs.readFileSync(abs, 'utf8') === text) continue;
    stale.push(file);
    if (!check) fs.writeFileSync(abs, text);
  }
  if (check && stale.length) {
    console.error(`out of date: ${stale.join(', ')} — run npm run docs:generate`);
    process.exit(1);
  }
  console.log(stale.length ? `${check ? 'out of date' : 'rewrote'}: ${stale.join(', ')}` : 'docs are up to date');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
