// Person-level lists behind the numbers: the people behind a count (drill-down) and the newest
// alerts (ticker). A "now" count lists the people of the last indicator-facts run (the indicator's
// drill segment); a month stock (P01, P04, P05) lists exactly the people counted in the month the
// board shows — the indicator's `drill.month` filters for that month (model meta, one definition).
// Read through the audit audience's views of the semantic layer (semantic-layer/model/views/audit.yml).
// The engine masks personal data unless the security context carries `unmask: true` (only for an
// auditor/admin who asks, ?unmask=1); every unmasked list is audit-logged once, by the hook this
// module hands to the engine for that query.
import type { SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import type { Pool } from '../../../core/db/pool.ts';
import { audit } from '../../../core/audit.ts';
import { boardPeriod, indicatorDefs, type DrillFilter } from './indicators.ts';
import { mayUnmask, securityContext, type Caller, type Region } from './scope.ts';
import { HttpError } from '../../../core/errors.ts';
import { semanticTimeToIso } from '../../../core/time.ts';
import type { AlertListResponse, AlertsResponse, PeopleResponse } from '../api-types.ts';
import { alertRuleNames, alertStates } from '../../../core/reference/index.ts';

/** The views this module reads, and every member it names (linted in semantic-layer/model.test.ts). */
export const PEOPLE_VIEW = 'audit_people';
export const ALERTS_VIEW = 'audit_alerts';
const P = (m: string) => `${PEOPLE_VIEW}.${m}`;
const A = (m: string) => `${ALERTS_VIEW}.${m}`;
const PEOPLE_DIMENSIONS = ['id_number', 'name', 'sex', 'birth_date', 'region_name'].map(P);
const ALERT_DIMENSIONS = ['alert_id', 'rule', 'name', 'amount_at_risk', 'opened_at', 'region_name', 'severity'].map(A);
const ALERT_LIST_MEMBERS = ['status', 'recovered_to_date', 'amount_due', 'closed_month', 'recovered_months', 'death_recorded_month'].map(A);
const ALERT_SEGMENTS = ['active', 'at_risk', 'decided'].map(A);
export const PEOPLE_MEMBERS = [
  ...PEOPLE_DIMENSIONS,
  P('region_path'),
  P('list_order'),
  ...ALERT_DIMENSIONS,
  ...ALERT_LIST_MEMBERS,
  ...ALERT_SEGMENTS,
  A('region_path'),
  A('count'),
  A('amount'),
  A('recovered')
];

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

/** The model's month filters (`drill.month`, `alert_list.month`) on a view, for one month ('YYYY-MM'). */
export function monthFilters(filters: DrillFilter[], period: string, view = PEOPLE_VIEW): DrillFilter[] {
  return filters.map((f) =>
    'or' in f
      ? { or: monthFilters(f.or, period, view) }
      : 'and' in f
        ? { and: monthFilters(f.and, period, view) }
        : {
            ...f,
            member: `${view}.${f.member}`,
            ...(f.values ? { values: f.values.map((v) => v.replaceAll('$period', period)) } : {})
          }
  );
}

/** A page of a list: at most this many people, starting at most this far in (a city has about 1 M persons). */
const MAX_PAGE = 1000;
const MAX_OFFSET = 10_000_000;

/** A page of a list asked for: a clear 400 for anything but a whole offset and a limit in range. */
function checkPage(offset: number, limit: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_OFFSET || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new HttpError(400, `offset must be a whole number from 0 to ${MAX_OFFSET} and limit from 1 to ${MAX_PAGE}`, 'bad_page');
  }
}

/**
 * The people behind indicator `code` in an area. For a month-grain indicator, those counted in
 * `opts.period` ('YYYY-MM'; the board's rule: a month without data, or none, means the board's
 * default month — the newest with payouts); a "now" indicator lists the latest snapshot.
 */
export async function peopleBehind(
  engine: SemanticEngine,
  pool: Pool,
  caller: Caller,
  region: Region,
  code: string,
  opts: { offset: number; limit: number; unmask: boolean; ip?: string; period?: string | null }
): Promise<PeopleResponse> {
  const { offset, limit } = opts;
  checkPage(offset, limit);
  const def = indicatorDefs(engine).find((d) => d.code === code);
  if (!def) throw new HttpError(404, `no indicator ${code}`, 'unknown_indicator');
  const drill = def.meta.drill;
  if (!drill) throw new HttpError(400, `${code} ${def.meta.title_zh} has no list of people behind it`, 'not_drillable');
  if (opts.unmask && !mayUnmask(caller))
    throw new HttpError(403, '您的角色不能查看完整身份信息 Your role may not see unmasked personal data', 'unmask_forbidden');
  const unmasked = opts.unmask && mayUnmask(caller);
  const grain = def.meta.grain === 'now' ? 'now' : 'month';
  let period: string | null = null;
  if (grain === 'month') {
    // A month's list without the model's month filters would silently be the "now" list: refuse.
    if (!drill.month?.length) throw new Error(`model: ${code} is a month-grain indicator without drill.month filters`);
    period = (await boardPeriod(engine, caller, opts.period ?? null)).period;
  }
  // The model's columns for this list (drill.columns), titled by their members' titles.
  const viewMeta = engine.meta().cubes.find((c) => c.name === PEOPLE_VIEW);
  const columns = (drill.columns ?? []).map((m) => {
    const d = viewMeta?.dimensions.find((x) => x.name === P(m));
    if (!d) throw new Error(`model: ${code} drill.columns names ${m}, which ${PEOPLE_VIEW} does not have`);
    return {
      key: m,
      title_zh: d.shortTitle ?? m,
      title_en: String((d.meta as { title_en?: string } | undefined)?.title_en ?? d.shortTitle ?? m)
    };
  });
  const r = (await engine.load(
    {
      // list_order is selected too: an order key outside the select list is dropped (Cube's rule),
      // and pages would then overlap or skip people.
      dimensions: [...PEOPLE_DIMENSIONS, P('list_order'), ...columns.map((c) => P(c.key))],
      segments: grain === 'now' ? [P(drill.flag)] : [],
      filters: [...scopeFilter(P('region_path'), region, caller), ...(period ? monthFilters(drill.month!, period) : [])],
      // A stable order that is not an order on a personal member (refused unless unmasked): the area
      // tree's (communities of a town together, towns of a district together), then birth date.
      order: [[P('list_order'), 'asc']],
      // One row per person already (id_number is the key): no GROUP BY over the whole area.
      ungrouped: true,
      limit: opts.limit,
      offset: opts.offset,
      total: true,
      timezone: 'Asia/Shanghai'
    },
    securityContext(caller, { unmask: unmasked }),
    {
      // The engine calls this before it hands over unmasked rows: one audit entry per list shown
      // (instead of the web server's generic hook).
      onPersonalData: async ({ data }) => {
        await audit(pool, { type: caller.kind, name: caller.name, ip: opts.ip }, 'unmask.people', code, {
          region: region.code,
          ...(period ? { period } : {}),
          offset: opts.offset,
          ids: (data as Record<string, unknown>[]).map((x) => x[P('id_number')])
        });
      }
    }
  )) as { data: Record<string, string | null>[]; total?: number | null };
  return {
    indicator: code,
    title_zh: def.meta.title_zh,
    title_en: def.meta.title_en,
    grain,
    period,
    total: r.total ?? r.data.length,
    masked: !unmasked,
    may_unmask: mayUnmask(caller),
    columns,
    rows: r.data.map((x) => ({
      id_number: x[P('id_number')] ?? '',
      name: x[P('name')] ?? '',
      sex: x[P('sex')] ?? '',
      age: ageAt(x[P('birth_date')]),
      region_name: x[P('region_name')],
      columns: Object.fromEntries(columns.map((c) => [c.key, x[P(c.key)] ?? null]))
    }))
  };
}

/**
 * The alerts behind R indicator `code` in an area, as its `alert_list` meta picks them (the same
 * states and rules indicator-facts counts; for a month-grain one, the board's month), newest first;
 * names masked (this list never unmasks: the workbench is where auditors open a person).
 */
export async function alertsBehind(
  engine: SemanticEngine,
  caller: Caller,
  region: Region,
  code: string,
  opts: { offset: number; limit: number; period?: string | null }
): Promise<AlertListResponse> {
  const { offset, limit } = opts;
  checkPage(offset, limit);
  const def = indicatorDefs(engine).find((d) => d.code === code);
  if (!def) throw new HttpError(404, `no indicator ${code}`, 'unknown_indicator');
  const list = def.meta.alert_list;
  if (!list) throw new HttpError(400, `${code} ${def.meta.title_zh} has no list of alerts behind it`, 'not_listable');
  const grain = def.meta.grain === 'now' ? 'now' : 'month';
  let period: string | null = null;
  if (grain === 'month') {
    if (!list.month?.length) throw new Error(`model: ${code} is a month-grain indicator without alert_list.month filters`);
    period = (await boardPeriod(engine, caller, opts.period ?? null)).period;
  }
  const amountTitle = list.amount === 'recovered_to_date' ? 'recovered_to_date' : 'amount_at_risk';
  const where = {
    segments: list.segment ? [A(list.segment)] : [],
    filters: [
      ...scopeFilter(A('region_path'), region, caller),
      ...(list.rules?.length ? [{ member: A('rule'), operator: 'equals', values: list.rules }] : []),
      ...(period ? monthFilters(list.month!, period, ALERTS_VIEW) : [])
    ],
    timezone: 'Asia/Shanghai'
  };
  const ctx = securityContext(caller);
  const [page, sums] = (await Promise.all([
    engine.load(
      {
        ...where,
        dimensions: [...ALERT_DIMENSIONS, A('status'), A(amountTitle)],
        order: [
          [A('opened_at'), 'desc'],
          [A('alert_id'), 'desc']
        ],
        ungrouped: true,
        limit,
        offset
      },
      ctx
    ),
    engine.load({ ...where, measures: [A('count'), A(amountTitle === 'recovered_to_date' ? 'recovered' : 'amount')] }, ctx)
  ])) as { data: Record<string, string | null>[] }[];
  const state = new Map(alertStates.map((s) => [s.status, s]));
  const totals = sums.data[0] ?? {};
  return {
    indicator: code,
    title_zh: def.meta.title_zh,
    title_en: def.meta.title_en,
    grain,
    period,
    total: Number(totals[A('count')] ?? 0),
    amount: String(totals[A(amountTitle === 'recovered_to_date' ? 'recovered' : 'amount')] ?? '0'),
    amount_title: amountTitle,
    rows: page.data.map((x) => {
      const st = state.get(x[A('status')] ?? '');
      return {
        alert_id: Number(x[A('alert_id')]),
        ...ruleNamed(x[A('rule')]),
        name: x[A('name')],
        status: x[A('status')] ?? '',
        status_zh: st?.name_zh ?? x[A('status')] ?? '',
        status_en: st?.name_en ?? x[A('status')] ?? '',
        amount: x[A(amountTitle)],
        opened_at: semanticTimeToIso(x[A('opened_at')] ?? ''),
        region_name: x[A('region_name')],
        severity: x[A('severity')] ?? ''
      };
    })
  };
}

export async function recentAlerts(
  engine: SemanticEngine,
  caller: Caller,
  region: Region,
  limit: number,
  opts: { privacy?: boolean } = {}
): Promise<AlertsResponse> {
  // Privacy mode (a public screen): no row about a person, not even masked — counts and amounts per rule
  // and area instead.
  if (caller.privacy || opts.privacy) return alertCounts(engine, caller, region, limit);
  // The ticker never unmasks: the name comes back masked by the engine.
  const rows = await activeAlerts(engine, caller, region, {
    dimensions: ALERT_DIMENSIONS,
    order: [
      [A('opened_at'), 'desc'],
      [A('alert_id'), 'desc']
    ],
    limit
  });
  const listOf = ruleIndicators(engine);
  return {
    rows: rows.map((x) => {
      return {
        alert_id: Number(x[A('alert_id')]),
        ...ruleNamed(x[A('rule')]),
        indicator: listOf.get(x[A('rule')] ?? '') ?? 'R06',
        name: x[A('name')],
        amount_at_risk: x[A('amount_at_risk')],
        opened_at: semanticTimeToIso(x[A('opened_at')] ?? ''),
        region_name: x[A('region_name')],
        severity: x[A('severity')] ?? ''
      };
    })
  };
}

/** The active alerts of the caller's view of an area, as the ticker asks for them (rows or counts). */
async function activeAlerts(
  engine: SemanticEngine,
  caller: Caller,
  region: Region,
  q: { measures?: string[]; dimensions: string[]; order: [string, 'asc' | 'desc'][]; limit: number }
): Promise<Record<string, string | null>[]> {
  const r = (await engine.load(
    { ...q, segments: [A('active')], filters: scopeFilter(A('region_path'), region, caller), timezone: 'Asia/Shanghai' },
    securityContext(caller)
  )) as { data: Record<string, string | null>[] };
  return r.data;
}

/** Rule → the R indicator counting its active alerts (the model's alert_list meta: one definition). */
function ruleIndicators(engine: SemanticEngine): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of indicatorDefs(engine))
    if (d.meta.alert_list?.segment === 'active') for (const r of d.meta.alert_list.rules ?? []) m.set(r, d.code);
  return m;
}

/** A ticker row's rule with its names from the rules catalogue. */
function ruleNamed(rule: string | null): { rule: string; rule_zh: string; rule_en?: string } {
  const names = alertRuleNames.get(rule ?? '');
  return { rule: rule ?? '', rule_zh: names?.name_zh ?? rule ?? '', rule_en: names?.name_en };
}

/** The privacy-mode ticker: active alerts counted per rule, area and severity, the most first. */
async function alertCounts(engine: SemanticEngine, caller: Caller, region: Region, limit: number): Promise<AlertsResponse> {
  const rows = await activeAlerts(engine, caller, region, {
    measures: [A('count'), A('amount')],
    dimensions: [A('rule'), A('region_name'), A('severity')],
    order: [
      [A('count'), 'desc'],
      [A('rule'), 'asc'],
      [A('region_name'), 'asc']
    ],
    limit
  });
  return {
    rows: rows.map((x) => {
      return {
        alert_id: `${x[A('rule')]}|${x[A('region_name')] ?? ''}|${x[A('severity')]}`,
        ...ruleNamed(x[A('rule')]),
        name: null,
        amount_at_risk: x[A('amount')],
        opened_at: '',
        region_name: x[A('region_name')],
        severity: x[A('severity')] ?? '',
        count: Number(x[A('count')])
      };
    })
  };
}
