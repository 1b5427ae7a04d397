// The governance board: all 41 indicators for an area and a month, with their trend, changes,
// robust z-score, status and the human reason. Built on the semantic layer only — the indicator
// definitions (measures) and thresholds (measure meta) come from the Cube model; this module
// asks the engine for the series and evaluates the thresholds (semantic-layer/thresholds.ts).
import type { SemanticEngine } from '../../../semantic-layer/engine/index.ts';
import { evaluate, type Status, type Thresholds } from '../../../semantic-layer/thresholds.ts';
import type { Pool } from '../../../jobs/db/pool.ts';
import { breadcrumb, children, securityContext, type Caller, type Region } from './scope.ts';
// How many hours until a feed counts as stale (one reviewed config).
import feedsConfig from '../../../seeds/catalogues/feeds.json' with { type: 'json' };

export const FAMILIES = ['P', 'A', 'C', 'R', 'S', 'H'] as const;
export type Family = (typeof FAMILIES)[number];

export interface IndicatorMeta {
  indicator: string;
  family: Family;
  title_zh: string;
  title_en: string;
  unit: string;
  direction: 'higher_better' | 'lower_better' | 'neutral';
  grain?: 'month' | 'now';
  thresholds: Thresholds;
  drill?: { flag: string };
  share_of?: { measure: string; by: string };
  city_level?: boolean;
  breakdown?: string;
}

export interface IndicatorDef { code: string; member: string; cube: string; meta: IndicatorMeta }

export interface IndicatorValue {
  code: string; family: Family; title_zh: string; title_en: string; unit: string; direction: string; grain: 'month' | 'now';
  value: number | null; exact: string | null; previous: number | null; lastYear: number | null;
  mom: number | null; yoy: number | null; zScore: number | null;
  status: Status; reason_zh: string | null; reason_en: string | null;
  series: { period: string; value: number | null }[];
  drillable: boolean;
  city_level: boolean;
  breakdown?: { key: string; label_zh: string; label_en: string; value: number | null; status?: Status }[];
}

export interface Board {
  region: Region & { breadcrumb: { code: string; name: string; level: string }[]; children: { code: string; name: string; level: string }[] };
  period: string;
  periods: string[];
  nowPeriod: string | null;
  asOf: string | null;
  privacy: boolean;
  freshness: Freshness[];
  indicators: IndicatorValue[];
}

export interface Freshness { feed: string; title_zh: string; last_loaded_at: string | null; expected_hours: number; stale: boolean }

/** The indicator definitions in the model, in indicators.md order (by family, then code). */
export function indicatorDefs(engine: SemanticEngine): IndicatorDef[] {
  const defs: IndicatorDef[] = [];
  for (const cube of engine.meta().cubes) {
    for (const m of cube.measures) {
      const meta = m.meta as IndicatorMeta | undefined;
      if (meta?.indicator) defs.push({ code: meta.indicator, member: m.name, cube: cube.name, meta });
    }
  }
  const fam = (f: string) => FAMILIES.indexOf(f as Family);
  return defs.sort((a, b) => fam(a.meta.family) - fam(b.meta.family) || a.code.localeCompare(b.code));
}

const ym = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
export function addMonths(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number);
  return ym(new Date(Date.UTC(y, m - 1 + n, 1)));
}
const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/** Which months have data (payout recorded), newest last. */
export async function availablePeriods(engine: SemanticEngine, caller: Caller): Promise<string[]> {
  const r = (await engine.load({
    measures: ['region_months.payments_paid'],
    timeDimensions: [{ dimension: 'region_months.period', granularity: 'month' }],
    filters: [{ member: 'region_months.payments_paid', operator: 'gt', values: ['0'] }],
    timezone: 'Asia/Shanghai'
  }, securityContext(caller))) as { data: Record<string, unknown>[] };
  return r.data.map((row) => String(row['region_months.period.month']).slice(0, 7)).sort();
}

function regionFilter(cube: string, region: Region, caller: Caller) {
  // The whole city includes people whose area is unknown; any smaller area is its path prefix.
  if (region.level === 'city' && region.code === caller.scope.code && caller.scope.level === 'city') return [];
  return [{ member: `${cube}.region_path`, operator: 'startsWith', values: [region.path] }];
}

type Row = Record<string, unknown>;

async function monthlySeries(engine: SemanticEngine, caller: Caller, cube: string, measures: string[], region: Region | null, from: string, to: string, extraDims: string[] = []): Promise<Row[]> {
  const r = (await engine.load({
    measures: measures.map((m) => (m.includes('.') ? m : `${cube}.${m}`)),
    dimensions: extraDims,
    timeDimensions: [{ dimension: `${cube}.period`, granularity: 'month', dateRange: [`${from}-01`, `${addMonths(to, 1)}-01`] }],
    filters: region ? regionFilter(cube, region, caller) : [],
    timezone: 'Asia/Shanghai',
    limit: 50000
  }, securityContext(caller))) as { data: Row[] };
  return r.data.map((row) => ({ ...row, __period: String(row[`${cube}.period.month`]).slice(0, 7) }));
}

function worst(statuses: Status[]): Status {
  const rank: Record<Status, number> = { no_data: 0, ok: 1, warn: 2, critical: 3 };
  return statuses.reduce<Status>((w, s) => (rank[s] > rank[w] ? s : w), 'no_data');
}

export async function buildBoard(engine: SemanticEngine, pool: Pool, caller: Caller, region: Region, requested: string | null): Promise<Board> {
  const defs = indicatorDefs(engine);
  const periods = await availablePeriods(engine, caller);
  const period = requested && periods.includes(requested) ? requested : periods[periods.length - 1] ?? ym(new Date());
  const from = addMonths(period, -24);

  // One query per cube: every indicator measure of the cube, by month, for this area.
  const byCube = new Map<string, IndicatorDef[]>();
  for (const d of defs) byCube.set(d.cube, [...(byCube.get(d.cube) ?? []), d]);
  const seriesRows = new Map<string, Row[]>();
  await Promise.all([...byCube.entries()].map(async ([cube, ds]) => {
    const cityLevel = ds.every((d) => d.meta.city_level);
    const measures = [...new Set(ds.filter((d) => !d.meta.share_of).map((d) => d.member))];
    if (!measures.length) return;
    const to = cube === 'region_now' ? addMonths(period, 1) : period;
    seriesRows.set(cube, await monthlySeries(engine, caller, cube, measures, cityLevel ? null : region, from, to));
  }));

  // The "now" cube's newest snapshot at or after the month shown stands for "now".
  const nowRows = seriesRows.get('region_now') ?? [];
  const nowPeriods = nowRows.map((r) => r.__period as string).sort();
  const nowPeriod = nowPeriods.filter((p) => p <= addMonths(period, 1)).pop() ?? null;

  const indicators: IndicatorValue[] = [];
  for (const d of defs) {
    const isNow = d.cube === 'region_now';
    const at = isNow ? nowPeriod : period;
    let rows = seriesRows.get(d.cube) ?? [];
    let breakdown: IndicatorValue['breakdown'];
    let value: number | null = null, exact: string | null = null, previous: number | null = null, lastYear: number | null = null;
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
      const byProject = await monthlySeries(engine, caller, d.cube, [d.meta.share_of.measure], region, addMonths(period, -1), period,
        [d.meta.share_of.by, 'subsidy_projects.name_zh', 'subsidy_projects.name_en']);
      const total = (p: string) => byProject.filter((r) => r.__period === p).reduce((s, r) => s + (num(r[d.meta.share_of!.measure]) ?? 0), 0);
      const tNow = total(period), tPrev = total(addMonths(period, -1));
      const keys = [...new Set(byProject.map((r) => String(r[d.meta.share_of!.by])))].sort();
      breakdown = keys.map((k) => {
        const cur = byProject.find((r) => r.__period === period && r[d.meta.share_of!.by] === k);
        const prev = byProject.find((r) => r.__period === addMonths(period, -1) && r[d.meta.share_of!.by] === k);
        const share = cur && tNow ? (100 * (num(cur[d.meta.share_of!.measure]) ?? 0)) / tNow : null;
        const prevShare = prev && tPrev ? (100 * (num(prev[d.meta.share_of!.measure]) ?? 0)) / tPrev : null;
        const e = evaluate(d.meta.thresholds, { value: share, previous: prevShare, lastYear: null, trailing: [] }, '%');
        const label = cur ?? prev;
        return { key: k, label_zh: String(label?.['subsidy_projects.name_zh'] ?? k), label_en: String(label?.['subsidy_projects.name_en'] ?? k), value: share, status: e.status, reason_zh: e.reason_zh, reason_en: e.reason_en } as NonNullable<IndicatorValue['breakdown']>[number] & { reason_zh: string | null; reason_en: string | null };
      });
      const top = [...breakdown].sort((a, b) => (b.value ?? -1) - (a.value ?? -1))[0];
      value = top?.value ?? null;
      const prevTop = top ? byProject.find((r) => r.__period === addMonths(period, -1) && r[d.meta.share_of!.by] === top.key) : undefined;
      previous = prevTop && tPrev ? (100 * (num(prevTop[d.meta.share_of.measure]) ?? 0)) / tPrev : null;
      status = breakdown.length ? worst(breakdown.map((b) => b.status ?? 'no_data')) : 'no_data';
      const breached = (breakdown as unknown as { status?: Status; reason_zh: string | null; reason_en: string | null; label_zh: string; label_en: string }[]).filter((b) => b.status === 'warn' || b.status === 'critical');
      reasons = breached.length
        ? { zh: breached.map((b) => `${b.label_zh}：${b.reason_zh}`).join('；'), en: breached.map((b) => `${b.label_en}: ${b.reason_en}`).join('; ') }
        : { zh: null, en: null };
      rows = [];
    } else {
      value = pick(at);
      const row = at ? rows.find((r) => r.__period === at) : undefined;
      exact = row && row[d.member] !== null && row[d.member] !== undefined ? String(row[d.member]) : null;
      previous = at ? pick(addMonths(at, -1)) : null;
      lastYear = at ? pick(addMonths(at, -12)) : null;
      trailing = at ? Array.from({ length: 12 }, (_, i) => pick(addMonths(at, -12 + i))) : [];
      series = at ? Array.from({ length: 13 }, (_, i) => ({ period: addMonths(at, -12 + i), value: pick(addMonths(at, -12 + i)) })).filter((s) => s.value !== null || !isNow) : [];
      if (d.meta.breakdown) {
        const by = await monthlySeries(engine, caller, d.cube, [d.member], null, period, period, [d.meta.breakdown, 'schemes.name_zh', 'schemes.name_en']);
        breakdown = by.map((r) => ({ key: String(r[d.meta.breakdown!]), label_zh: String(r['schemes.name_zh'] ?? r[d.meta.breakdown!]), label_en: String(r['schemes.name_en'] ?? r[d.meta.breakdown!]), value: num(r[d.member]) }));
      }
    }
    const e = evaluate(d.meta.thresholds, { value, previous, lastYear, trailing }, d.meta.unit === '%' ? '%' : '');
    indicators.push({
      code: d.code, family: d.meta.family, title_zh: d.meta.title_zh, title_en: d.meta.title_en, unit: d.meta.unit, direction: d.meta.direction,
      grain: isNow ? 'now' : 'month', value, exact, previous, lastYear, mom: e.mom, yoy: e.yoy, zScore: e.zScore,
      status: status ?? e.status, reason_zh: reasons ? reasons.zh : e.reason_zh, reason_en: reasons ? reasons.en : e.reason_en,
      series, drillable: !!d.meta.drill && !caller.privacy, city_level: !!d.meta.city_level, breakdown
    });
  }

  const [crumbs, kids, freshness, asOf] = await Promise.all([breadcrumb(pool, caller, region), children(pool, region), feedFreshness(pool), dataAsOf(pool)]);
  return { region: { ...region, breadcrumb: crumbs, children: kids }, period, periods, nowPeriod, asOf, privacy: caller.privacy, freshness, indicators };
}

/** One indicator for each child region of an area (map colours, ranked bars). */
export async function childValues(engine: SemanticEngine, pool: Pool, caller: Caller, region: Region, code: string, requested: string | null) {
  const def = indicatorDefs(engine).find((d) => d.code === code);
  if (!def) return null;
  const kids = await children(pool, region);
  const level = kids[0]?.level ?? null;
  if (def.meta.city_level || def.meta.share_of || !kids.length) return { indicator: code, level, rows: [] as { code: string; name: string; value: number | null; status: Status }[] };
  const periods = await availablePeriods(engine, caller);
  const period = requested && periods.includes(requested) ? requested : periods[periods.length - 1];
  const rows = await Promise.all(kids.map(async (k) => {
    const child = { ...region, code: k.code, name: k.name, level: k.level as Region['level'], path: `${region.path}${k.code}/`, parent_code: region.code };
    const data = await monthlySeries(engine, caller, def.cube, [def.member], child, addMonths(period, -12), def.cube === 'region_now' ? addMonths(period, 1) : period);
    const at = def.cube === 'region_now' ? data.map((r) => r.__period as string).sort().pop() ?? null : period;
    const get = (p: string | null) => { const r = p ? data.find((x) => x.__period === p) : undefined; return r ? num(r[def.member]) : null; };
    const value = get(at);
    const e = evaluate(def.meta.thresholds, { value, previous: at ? get(addMonths(at, -1)) : null, lastYear: at ? get(addMonths(at, -12)) : null, trailing: at ? Array.from({ length: 12 }, (_, i) => get(addMonths(at, -12 + i))) : [] });
    return { code: k.code, name: k.name, value, status: e.status };
  }));
  return { indicator: code, level, period, rows };
}

const FEED_TITLES: Record<string, string> = {
  regions: '行政区划', persons: '人员登记', enrollments: '待遇资格', payments: '待遇发放', evidence: '行为数据', certifications: '认证记录',
  deaths: '死亡信息', imprisonments: '服刑信息', subsidies: '补贴发放', hardship: '困难人员', checkups: '健康体检', fund: '基金收支', activities: '文娱教育'
};


export async function feedFreshness(pool: Pool): Promise<Freshness[]> {
  const r = await pool.query(`SELECT feed, max(loaded_at) AS last FROM ingest_files WHERE status = 'loaded' GROUP BY feed`);
  const last = new Map(r.rows.map((x) => [x.feed, x.last as Date]));
  const expected = feedsConfig.expected_hours as Record<string, number>;
  return Object.keys(expected).map((feed) => {
    const t = last.get(feed) ?? null;
    return {
      feed, title_zh: FEED_TITLES[feed] ?? feed, last_loaded_at: t ? t.toISOString() : null, expected_hours: expected[feed],
      stale: !t || Date.now() - t.getTime() > expected[feed] * 3600_000
    };
  });
}

async function dataAsOf(pool: Pool): Promise<string | null> {
  const r = await pool.query(`SELECT max(as_of) AS as_of, (SELECT max(finished_at) FROM job_runs WHERE job = 'indicator-facts' AND status = 'ok') AS built FROM ind_region_now`);
  return r.rows[0]?.built ? (r.rows[0].built as Date).toISOString() : null;
}
