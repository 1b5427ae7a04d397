// The governance board: all 41 indicators for an area and a month, with their trend, changes,
// robust z-score, status and the human reason. Built on the semantic layer only — the indicator
// definitions (measures) and thresholds (measure meta) come from the Cube model; this module
// asks the engine for the series and evaluates the thresholds (semantic-layer/thresholds.ts).
// It reads the screen audience's views only (SCREEN_VIEWS, semantic-layer/model/views/screen.yml):
// their measures carry the cube measures' meta, and the cube member paths inside that meta
// (share_of, breakdown) are translated to the view members that alias them.
import type { SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import { evaluate, isBreach, worstStatus, type Status, type Thresholds } from '../../../semantic-layer/thresholds.ts';
import type { Pool } from '../../../core/db/pool.ts';
import { shanghaiIso } from '../../../core/time.ts';
import { breadcrumb, children, securityContext, type Caller, type Region } from './scope.ts';
import type { Freshness, Indicator, IndicatorsResponse, Level, RegionsResponse } from '../api-types.ts';
import type { Unit } from '../format.ts';
// How many hours until a feed counts as stale (one reviewed config).
import feedsConfig from '../../../core/reference/feeds.json' with { type: 'json' };

export const FAMILIES = ['P', 'A', 'C', 'R', 'S', 'H'] as const;
export type Family = (typeof FAMILIES)[number];

export interface IndicatorMeta {
  indicator: string;
  family: Family;
  title_zh: string;
  title_en: string;
  /** A shorter English title for the wall screen's tiles, where title_en does not fit a tile (beside it in the model's meta). */
  short_en?: string;
  unit: string;
  direction: 'higher_better' | 'lower_better' | 'neutral';
  grain?: 'month' | 'now';
  thresholds: Thresholds;
  /** The people behind the number (people_now): `flag`, the segment of "now"; `month`, for a month-grain
   *  indicator, the filters that pick the people counted in a month (`$period` = 'YYYY-MM'); `columns`,
   *  members the list shows for each person. */
  drill?: { flag: string; month?: DrillFilter[]; columns?: string[] };
  /** The alerts behind an R number (audit_alerts): `segment`, the alerts' state the indicator counts
   *  (active, at_risk, decided); `rules`, the alert rules; `month`, for a month-grain indicator, the
   *  filters that pick the month's alerts (`$period` = 'YYYY-MM'); `amount`, the money column the list
   *  totals (amount_at_risk unless said). */
  alert_list?: { segment?: 'active' | 'at_risk' | 'decided'; rules?: string[]; month?: DrillFilter[]; amount?: string };
  share_of?: { measure: string; by: string };
  city_level?: boolean;
  breakdown?: string;
}

/** A filter of people_now members, as declared in the model (`$period` stands for the month shown). */
export type DrillFilter = { member: string; operator: string; values?: string[] } | { or: DrillFilter[] } | { and: DrillFilter[] };

/** The views of the screen audience the board reads, and the members it names itself. */
export const SCREEN_VIEWS = [
  'screen_months',
  'screen_now',
  'screen_projects',
  'screen_fund',
  'screen_payroll',
  'screen_death_clock'
] as const;
const PERIODS_VIEW = 'screen_months';
/** Every member this module names outright (the rest come from the views' indicator meta); linted in semantic-layer/model.test.ts. */
export const SCREEN_MEMBERS = [
  `${PERIODS_VIEW}.payments_paid`,
  ...SCREEN_VIEWS.flatMap((v) => [`${v}.period`, ...(v === 'screen_fund' ? [] : [`${v}.region_path`])])
];

/** An indicator: `member` is the view measure (`screen_months.recipients`), `view` its view. */
export interface IndicatorDef {
  code: string;
  member: string;
  view: string;
  meta: IndicatorMeta;
  /** For share_of / breakdown indicators: the view's name dimensions of the breakdown key. */
  labels?: { zh: string; en: string };
}

/** The board as the API and the page load return it (one definition: $lib/api-types). */
export type { IndicatorsResponse as Board, Indicator as IndicatorValue, Freshness } from '../api-types.ts';

/**
 * A companion figure shown on an indicator's tile, not an indicator of its own (no status, no
 * thresholds): the counter-metric that keeps the indicator honest, e.g. next to R05 the death and custody
 * records withdrawn by their department and the restorations owed for them, next to R07 (recovered after
 * payment) the amount the pre-payroll check prevented before payment. Declared in the model as a screen
 * view measure's meta `companion: { of, title_zh, title_en, unit, window }` (or a list of them); `window`
 * is what the board sums: the month shown, the twelve months up to it (default), or every month to it.
 */
export const COMPANION_WINDOWS = ['month', 'last12', 'to_date'] as const;
export type CompanionWindow = (typeof COMPANION_WINDOWS)[number];
export interface CompanionDef {
  of: string;
  member: string;
  view: string;
  title_zh: string;
  title_en: string;
  unit: string;
  window: CompanionWindow;
}

const defsCache = new WeakMap<SemanticEngine, { defs: IndicatorDef[]; companions: CompanionDef[] }>();

/** The indicator definitions of the screen views, in docs/indicators.md order (by family, then code). */
export function indicatorDefs(engine: SemanticEngine): IndicatorDef[] {
  return screenDefs(engine).defs;
}

/** The companion figures of the screen views' indicators, in model order. */
export function companionDefs(engine: SemanticEngine): CompanionDef[] {
  return screenDefs(engine).companions;
}

function screenDefs(engine: SemanticEngine): { defs: IndicatorDef[]; companions: CompanionDef[] } {
  const cached = defsCache.get(engine);
  if (cached) return cached;
  const defs: IndicatorDef[] = [];
  const companions: CompanionDef[] = [];
  for (const view of engine.meta().cubes) {
    if (!(SCREEN_VIEWS as readonly string[]).includes(view.name)) continue;
    // Cube member path → the view member aliasing it (/meta's aliasMember).
    const alias = new Map<string, string>();
    for (const m of [...view.measures, ...view.dimensions]) if (typeof m.aliasMember === 'string') alias.set(m.aliasMember, m.name);
    const inView = (cubePath: string, code: string) => {
      const p = alias.get(cubePath);
      if (!p) throw new Error(`indicator ${code}: view ${view.name} has no member for ${cubePath}`);
      return p;
    };
    const label = (lang: 'zh' | 'en') => view.dimensions.find((d) => String(d.aliasMember ?? '').endsWith(`.name_${lang}`))?.name;
    for (const m of view.measures) {
      type Declared = Omit<CompanionDef, 'member' | 'view' | 'window'> & { window?: CompanionWindow };
      const declared = (m.meta as { companion?: Declared | Declared[] } | undefined)?.companion;
      for (const c of declared ? [declared].flat() : []) {
        const window = c.window ?? 'last12';
        if (!COMPANION_WINDOWS.includes(window))
          throw new Error(`companion ${m.name}: window must be one of ${COMPANION_WINDOWS.join(', ')}`);
        companions.push({ ...c, window, member: m.name, view: view.name });
      }
      const cubeMeta = m.meta as IndicatorMeta | undefined;
      if (!cubeMeta?.indicator) continue;
      const code = cubeMeta.indicator;
      const meta: IndicatorMeta = {
        ...cubeMeta,
        ...(cubeMeta.share_of
          ? { share_of: { measure: inView(cubeMeta.share_of.measure, code), by: inView(cubeMeta.share_of.by, code) } }
          : {}),
        ...(cubeMeta.breakdown ? { breakdown: inView(cubeMeta.breakdown, code) } : {})
      };
      const zh = label('zh'),
        en = label('en');
      defs.push({
        code,
        member: m.name,
        view: view.name,
        meta,
        ...((meta.share_of || meta.breakdown) && zh && en ? { labels: { zh, en } } : {})
      });
    }
  }
  const fam = (f: string) => FAMILIES.indexOf(f as Family);
  defs.sort((a, b) => fam(a.meta.family) - fam(b.meta.family) || a.code.localeCompare(b.code));
  for (const c of companions) if (!defs.some((d) => d.code === c.of)) throw new Error(`companion ${c.member}: ${c.of} is not an indicator`);
  const both = { defs, companions };
  defsCache.set(engine, both);
  return both;
}

const isNowDef = (d: IndicatorDef) => d.meta.grain === 'now';

/**
 * The "now" snapshot that stands for month `period` among the snapshots' months. For the newest month,
 * the newest snapshot up to the month after it (a run's snapshot is labelled with its newest payout month
 * or the month of its as-of date). For a past month only a snapshot of that month: an older one would
 * show an earlier state as the month's, a newer one today's — without one, the "now" indicators say they
 * have a current value only.
 */
export function nowSnapshotFor(snapshots: string[], period: string, periods: string[]): string | null {
  const latest = period === periods[periods.length - 1];
  return (
    [...snapshots]
      .sort()
      .filter((p) => (latest || p >= period) && p <= addMonths(period, 1))
      .pop() ?? null
  );
}

const ym = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
export function addMonths(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number);
  return ym(new Date(Date.UTC(y, m - 1 + n, 1)));
}
const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/** Which months have data (payout recorded), newest last. */
export async function availablePeriods(engine: SemanticEngine, caller: Caller): Promise<string[]> {
  const r = (await engine.load(
    {
      measures: [`${PERIODS_VIEW}.payments_paid`],
      timeDimensions: [{ dimension: `${PERIODS_VIEW}.period`, granularity: 'month' }],
      filters: [{ member: `${PERIODS_VIEW}.payments_paid`, operator: 'gt', values: ['0'] }],
      timezone: 'Asia/Shanghai'
    },
    securityContext(caller)
  )) as { data: Record<string, unknown>[] };
  return r.data.map((row) => String(row[`${PERIODS_VIEW}.period.month`]).slice(0, 7)).sort();
}

/** The month the board shows: the one asked for if it has data, else the newest with data. */
export async function boardPeriod(
  engine: SemanticEngine,
  caller: Caller,
  requested: string | null
): Promise<{ period: string; periods: string[] }> {
  const periods = await availablePeriods(engine, caller);
  return { period: requested && periods.includes(requested) ? requested : (periods[periods.length - 1] ?? ym(new Date())), periods };
}

function regionFilter(cube: string, region: Region, caller: Caller) {
  // The whole city includes people whose area is unknown; any smaller area is its path prefix.
  if (region.level === 'city' && region.code === caller.scope.code && caller.scope.level === 'city') return [];
  return [{ member: `${cube}.region_path`, operator: 'startsWith', values: [region.path] }];
}

type Row = Record<string, unknown>;

async function monthlySeries(
  engine: SemanticEngine,
  caller: Caller,
  cube: string,
  measures: string[],
  region: Region | null,
  from: string,
  to: string,
  extraDims: string[] = []
): Promise<Row[]> {
  const r = (await engine.load(
    {
      measures: measures.map((m) => (m.includes('.') ? m : `${cube}.${m}`)),
      dimensions: extraDims,
      timeDimensions: [{ dimension: `${cube}.period`, granularity: 'month', dateRange: [`${from}-01`, `${addMonths(to, 1)}-01`] }],
      filters: region ? regionFilter(cube, region, caller) : [],
      timezone: 'Asia/Shanghai',
      limit: 50000
    },
    securityContext(caller)
  )) as { data: Row[] };
  return r.data.map((row) => ({ ...row, __period: String(row[`${cube}.period.month`]).slice(0, 7) }));
}

export async function buildBoard(
  engine: SemanticEngine,
  pool: Pool,
  caller: Caller,
  region: Region,
  requested: string | null
): Promise<IndicatorsResponse> {
  const defs = indicatorDefs(engine);
  const companions = companionDefs(engine);
  const { period, periods } = await boardPeriod(engine, caller, requested);
  const from = addMonths(period, -24);

  // One query per view: every indicator measure of the view (and their companions), by month, for this area.
  const byView = new Map<string, IndicatorDef[]>();
  for (const d of defs) byView.set(d.view, [...(byView.get(d.view) ?? []), d]);
  const seriesRows = new Map<string, Row[]>();
  await Promise.all(
    [...byView.entries()].map(async ([view, ds]) => {
      const cityLevel = ds.every((d) => d.meta.city_level);
      const measures = [...new Set(ds.filter((d) => !d.meta.share_of).map((d) => d.member))];
      if (!measures.length) return;
      const to = ds.some(isNowDef) ? addMonths(period, 1) : period;
      seriesRows.set(view, await monthlySeries(engine, caller, view, measures, cityLevel ? null : region, from, to));
    })
  );

  // Companions: one query per view, the months of their windows up to the one shown.
  const companionRows = new Map<string, Row[]>();
  await Promise.all(
    [...new Set(companions.map((c) => c.view))].map(async (view) => {
      const measures = [...new Set(companions.filter((c) => c.view === view).map((c) => c.member))];
      const earliest = companions.some((c) => c.view === view && c.window === 'to_date') ? COMPANION_EPOCH : addMonths(period, -11);
      companionRows.set(view, await monthlySeries(engine, caller, view, measures, region, earliest, period));
    })
  );

  // The "now" view's newest snapshot at or after the month shown stands for "now".
  const nowView = defs.find(isNowDef)?.view;
  const nowRows = (nowView && seriesRows.get(nowView)) || [];
  const nowPeriods = nowRows.map((r) => r.__period as string).sort();
  const nowPeriod = nowSnapshotFor(nowPeriods, period, periods);

  const indicators: Indicator[] = [];
  for (const d of defs) {
    const isNow = isNowDef(d);
    const at = isNow ? nowPeriod : period;
    let rows = seriesRows.get(d.view) ?? [];
    let breakdown: Indicator['breakdown'];
    let value: number | null, previous: number | null;
    let exact: string | null = null,
      lastYear: number | null = null;
    let trailing: (number | null)[] = [];
    let series: { period: string; value: number | null }[] = [];
    let status: Status | undefined;
    let reasons: { zh: string | null; en: string | null } | undefined;
    const pick = (p: string | null) => {
      const row = p ? rows.find((r) => r.__period === p) : undefined;
      return row ? num(row[d.member]) : null;
    };
    if (d.meta.share_of) {
      // S02: each project's share of all subsidy payout, this month vs last; the tile shows the largest share.
      const lz = d.labels?.zh ?? d.meta.share_of.by,
        le = d.labels?.en ?? d.meta.share_of.by;
      const byProject = await monthlySeries(engine, caller, d.view, [d.meta.share_of.measure], region, addMonths(period, -1), period, [
        ...new Set([d.meta.share_of.by, lz, le])
      ]);
      const total = (p: string) =>
        byProject.filter((r) => r.__period === p).reduce((s, r) => s + (num(r[d.meta.share_of!.measure]) ?? 0), 0);
      const tNow = total(period),
        tPrev = total(addMonths(period, -1));
      const keys = [...new Set(byProject.map((r) => String(r[d.meta.share_of!.by])))].sort();
      breakdown = keys.map((k) => {
        const cur = byProject.find((r) => r.__period === period && r[d.meta.share_of!.by] === k);
        const prev = byProject.find((r) => r.__period === addMonths(period, -1) && r[d.meta.share_of!.by] === k);
        const share = cur && tNow ? (100 * (num(cur[d.meta.share_of!.measure]) ?? 0)) / tNow : null;
        const prevShare = prev && tPrev ? (100 * (num(prev[d.meta.share_of!.measure]) ?? 0)) / tPrev : null;
        const e = evaluate(d.meta.thresholds, { value: share, previous: prevShare, lastYear: null, trailing: [] }, '%');
        const label = cur ?? prev;
        return {
          key: k,
          label_zh: String(label?.[lz] ?? k),
          label_en: String(label?.[le] ?? k),
          value: share,
          status: e.status,
          reason_zh: e.reason_zh,
          reason_en: e.reason_en
        };
      });
      const top = [...breakdown].sort((a, b) => (b.value ?? -1) - (a.value ?? -1))[0];
      value = top?.value ?? null;
      const prevTop = top ? byProject.find((r) => r.__period === addMonths(period, -1) && r[d.meta.share_of!.by] === top.key) : undefined;
      previous = prevTop && tPrev ? (100 * (num(prevTop[d.meta.share_of.measure]) ?? 0)) / tPrev : null;
      status = worstStatus(breakdown.map((b) => b.status ?? 'no_data'));
      const breached = breakdown.filter((b) => b.status && isBreach(b.status));
      reasons = breached.length
        ? {
            zh: breached.map((b) => `${b.label_zh}：${b.reason_zh}`).join('；'),
            en: breached.map((b) => `${b.label_en}: ${b.reason_en}`).join('; ')
          }
        : { zh: null, en: null };
      rows = [];
    } else {
      value = pick(at);
      const row = at ? rows.find((r) => r.__period === at) : undefined;
      exact = row && row[d.member] !== null && row[d.member] !== undefined ? String(row[d.member]) : null;
      previous = at ? pick(addMonths(at, -1)) : null;
      lastYear = at ? pick(addMonths(at, -12)) : null;
      trailing = at ? Array.from({ length: 12 }, (_, i) => pick(addMonths(at, -12 + i))) : [];
      series = at
        ? Array.from({ length: 13 }, (_, i) => ({ period: addMonths(at, -12 + i), value: pick(addMonths(at, -12 + i)) })).filter(
            (s) => s.value !== null || !isNow
          )
        : [];
      if (d.meta.breakdown) {
        const key = d.meta.breakdown,
          lz = d.labels?.zh ?? key,
          le = d.labels?.en ?? key;
        const by = await monthlySeries(engine, caller, d.view, [d.member], null, period, period, [...new Set([key, lz, le])]);
        breakdown = by.map((r) => ({
          key: String(r[key]),
          label_zh: String(r[lz] ?? r[key]),
          label_en: String(r[le] ?? r[key]),
          value: num(r[d.member])
        }));
      }
    }
    const e = evaluate(d.meta.thresholds, { value, previous, lastYear, trailing }, d.meta.unit);
    indicators.push({
      code: d.code,
      family: d.meta.family,
      title_zh: d.meta.title_zh,
      title_en: d.meta.title_en,
      short_en: d.meta.short_en ?? null,
      unit: d.meta.unit as Unit,
      direction: d.meta.direction,
      grain: isNow ? 'now' : 'month',
      // no snapshot of the month, or one backfilled at its month-end without this figure (migration 0040: not known then)
      current_only: isNow && (at === null || (value === null && at !== nowPeriods[nowPeriods.length - 1])),
      value,
      exact,
      previous,
      lastYear,
      mom: e.mom,
      yoy: e.yoy,
      zScore: e.zScore,
      vsMedian: e.vsMedian,
      status: status ?? e.status,
      reason_zh: reasons ? reasons.zh : e.reason_zh,
      reason_en: reasons ? reasons.en : e.reason_en,
      series,
      drillable: !!d.meta.drill && !caller.privacy,
      alerts_listable: !!d.meta.alert_list && !caller.privacy,
      city_level: !!d.meta.city_level,
      bounds: d.meta.thresholds?.bound ?? null,
      breakdown,
      ...companionValues(companions, d, companionRows, period)
    });
  }

  const [crumbs, kids, freshness, asOf] = await Promise.all([
    breadcrumb(pool, caller, region),
    children(pool, region),
    feedFreshness(pool),
    dataAsOf(pool)
  ]);
  return {
    region: { ...region, breadcrumb: crumbs, children: kids },
    period,
    periods,
    nowPeriod,
    asOf,
    privacy: caller.privacy,
    freshness,
    indicators
  };
}

/** The first month a "to date" companion counts from: before any data this product can hold. */
const COMPANION_EPOCH = '2000-01';

/** The companions of one indicator, each summed over its window ending at the month shown. */
function companionValues(
  all: CompanionDef[],
  d: IndicatorDef,
  rowsByView: Map<string, Row[]>,
  period: string
): Pick<Indicator, 'companions'> {
  const mine = all.filter((c) => c.of === d.code);
  if (!mine.length) return {};
  const first = (w: CompanionWindow) => (w === 'month' ? period : w === 'last12' ? addMonths(period, -11) : COMPANION_EPOCH);
  return {
    companions: mine.map((c) => ({
      key: `${c.member}@${c.window}`,
      title_zh: c.title_zh,
      title_en: c.title_en,
      unit: c.unit as Unit,
      window: c.window,
      value: (rowsByView.get(c.view) ?? [])
        .filter((r) => (r.__period as string) >= first(c.window) && (r.__period as string) <= period)
        .reduce((sum, r) => sum + (num(r[c.member]) ?? 0), 0)
    }))
  };
}

/** One indicator for each child region of an area (map colours, ranked bars). */
export async function childValues(
  engine: SemanticEngine,
  pool: Pool,
  caller: Caller,
  region: Region,
  code: string,
  requested: string | null
): Promise<RegionsResponse | null> {
  const def = indicatorDefs(engine).find((d) => d.code === code);
  if (!def) return null;
  const kids = await children(pool, region);
  const level = (kids[0]?.level ?? null) as Level | null;
  if (def.meta.city_level || def.meta.share_of || !kids.length) return { indicator: code, level, rows: [] };
  const periods = await availablePeriods(engine, caller);
  const period = requested && periods.includes(requested) ? requested : periods[periods.length - 1];
  const rows = await Promise.all(
    kids.map(async (k) => {
      const child = {
        ...region,
        code: k.code,
        name: k.name,
        level: k.level as Region['level'],
        path: `${region.path}${k.code}/`,
        parent_code: region.code
      };
      const data = await monthlySeries(
        engine,
        caller,
        def.view,
        [def.member],
        child,
        addMonths(period, -12),
        isNowDef(def) ? addMonths(period, 1) : period
      );
      const at = isNowDef(def)
        ? nowSnapshotFor(
            data.map((r) => r.__period as string),
            period,
            periods
          )
        : period;
      const get = (p: string | null) => {
        const r = p ? data.find((x) => x.__period === p) : undefined;
        return r ? num(r[def.member]) : null;
      };
      const value = get(at);
      const e = evaluate(
        def.meta.thresholds,
        {
          value,
          previous: at ? get(addMonths(at, -1)) : null,
          lastYear: at ? get(addMonths(at, -12)) : null,
          trailing: at ? Array.from({ length: 12 }, (_, i) => get(addMonths(at, -12 + i))) : []
        },
        def.meta.unit
      );
      return { code: k.code, name: k.name, value, status: e.status };
    })
  );
  return { indicator: code, level, period, rows };
}

const FEED_TITLES: Record<string, [zh: string, en: string]> = {
  regions: ['行政区划', 'Areas'],
  persons: ['人员登记', 'Registry'],
  enrollments: ['待遇资格', 'Entitlements'],
  payments: ['待遇发放', 'Payments'],
  evidence: ['行为数据', 'Behaviour data'],
  certifications: ['认证记录', 'Certifications'],
  deaths: ['死亡信息', 'Deaths'],
  imprisonments: ['服刑信息', 'Custody'],
  subsidies: ['补贴发放', 'Subsidies'],
  hardship: ['困难人员', 'Hardship'],
  checkups: ['健康体检', 'Checkups'],
  fund: ['基金收支', 'Fund ledger'],
  activities: ['文娱教育', 'Activities'],
  payroll_draft: ['发放草案', 'Payroll draft']
};

/**
 * The newest loaded file of each feed: one index probe per feed (ingest_files_feed_loaded, 0044), not a
 * pass over every file ever delivered — every screen asks every minute, and the table grows for ever.
 */
export const FRESHNESS_SQL = `SELECT f.feed, (SELECT max(i.loaded_at) FROM ingest_files i WHERE i.feed = f.feed AND i.status = 'loaded') AS last
  FROM unnest($1::text[]) AS f(feed)`;

/** When the indicator facts were last built: the newest ok run, found from the newest run backwards. */
export const FACTS_BUILT_SQL = `SELECT finished_at FROM job_runs WHERE job = 'indicator-facts' AND status = 'ok' ORDER BY started_at DESC LIMIT 1`;

export async function feedFreshness(pool: Pool): Promise<Freshness[]> {
  const expected = feedsConfig.expected_hours as Record<string, number>;
  const r = await pool.query(FRESHNESS_SQL, [Object.keys(expected)]);
  const last = new Map(r.rows.map((x) => [x.feed, x.last as Date | null]));
  return Object.keys(expected).map((feed) => {
    const t = last.get(feed) ?? null;
    return {
      feed,
      title_zh: FEED_TITLES[feed]?.[0] ?? feed,
      title_en: FEED_TITLES[feed]?.[1] ?? feed,
      last_loaded_at: t ? shanghaiIso(t) : null,
      expected_hours: expected[feed],
      stale: !t || Date.now() - t.getTime() > expected[feed] * 3600_000
    };
  });
}

async function dataAsOf(pool: Pool): Promise<string | null> {
  const r = await pool.query(`SELECT max(as_of) AS as_of, (${FACTS_BUILT_SQL}) AS built FROM ind_region_now`);
  return r.rows[0]?.built ? shanghaiIso(r.rows[0].built as Date) : null;
}
