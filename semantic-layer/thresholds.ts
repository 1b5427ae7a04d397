// Threshold evaluation for the governance indicators. Pure: given an indicator's `meta.thresholds`
// (from the Cube model — the one definition) and its values, returns a status and the human reasons
// in Chinese and English ("MoM −9.4%, critical below −8%"). Used by /api/indicators and reports.
//
// Threshold kinds (docs/indicators.md):
//   bound       value against fixed limits: { below: {warn, critical} } and/or { above: {warn, critical} }
//   mom / yoy   |percentage change| vs previous month / same month last year: { warn, critical }
//   points      change of a share in percentage points vs previous month: { warn, critical }
//   fluctuation robust z-score (median/MAD) of the value against its trailing 12 periods: { warn, critical },
//               and material: { min_change, min_base } (defaults by unit: MATERIALITY below)
//   last_year   (H01) warn when below last year's value at the same date
// The worst breach wins: critical > warn; with none, 'ok' (judged and fine) only for an indicator with a
// bound — a fixed limit on the value says what fine is — and 'neutral' (shown, not judged) for the rest;
// no value → no_data.
import { median, medianAbsoluteDeviation } from 'simple-statistics';

/** An indicator's status. The one definition: the API types, the charts and the tiles use this type. */
export type Status = 'ok' | 'neutral' | 'warn' | 'critical' | 'no_data';

/** Order for "the worst of": nothing < not judged < fine < warn < critical. */
export const STATUS_RANK: Record<Status, number> = { no_data: 0, neutral: 1, ok: 2, warn: 3, critical: 4 };

/** The worst of some statuses (no_data when there are none). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let w: Status = 'no_data';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[w]) w = s;
  return w;
}

/** warn or critical: a threshold fired. */
export const isBreach = (s: Status): s is 'warn' | 'critical' => s === 'warn' || s === 'critical';

export interface Limits {
  warn?: number;
  critical?: number;
}
/**
 * A fluctuation alarm needs a robust z beyond its limit AND a material change: the value differs from
 * the trailing median by at least `min_change` per cent of it, and the larger of the two is at least
 * `min_base` (in the indicator's unit) — so a −0.5 % dip of a steady count, or 12 payments in a small
 * community, is not red however large its z. Omitted: MATERIALITY's default for the unit.
 */
export interface FluctuationLimits extends Limits {
  min_change?: number;
  min_base?: number;
}
export interface Thresholds {
  bound?: { below?: Limits; above?: Limits };
  mom?: Limits;
  yoy?: Limits;
  points?: Limits;
  fluctuation?: FluctuationLimits;
  last_year?: boolean;
}

/**
 * The default materiality of a fluctuation alarm, by the indicator's unit (the one place; an
 * indicator's meta.thresholds.fluctuation may set its own). Counts of people, payments, alerts and
 * sign-ups: at least 50 of them and a 10 % change; money: 10万元 and 10 %; shares (%): 10 % of the
 * share, no minimum base; anything else: 10 %, no minimum base.
 */
export const MATERIALITY: Record<string, { min_change: number; min_base: number }> = {
  people: { min_change: 10, min_base: 50 },
  payments: { min_change: 10, min_base: 50 },
  alerts: { min_change: 10, min_base: 50 },
  'sign-ups': { min_change: 10, min_base: 50 },
  yuan: { min_change: 10, min_base: 100_000 },
  '%': { min_change: 10, min_base: 0 }
};
const MATERIALITY_OTHER = { min_change: 10, min_base: 0 };

/** The fluctuation rule of an indicator as applied: its limits with the materiality filled in. */
export function fluctuationRule(t: Thresholds, unit: string): Required<FluctuationLimits> | null {
  if (!t.fluctuation) return null;
  const d = MATERIALITY[unit] ?? MATERIALITY_OTHER;
  return {
    warn: t.fluctuation.warn ?? Infinity,
    critical: t.fluctuation.critical ?? Infinity,
    min_change: t.fluctuation.min_change ?? d.min_change,
    min_base: t.fluctuation.min_base ?? d.min_base
  };
}

/** An indicator with a bound is judged: without a breach it is 'ok'. The others are 'neutral'. */
export function isJudged(t: Thresholds): boolean {
  const set = (l?: Limits) => l?.warn !== undefined || l?.critical !== undefined;
  return set(t.bound?.below) || set(t.bound?.above);
}

export interface IndicatorValues {
  value: number | null;
  previous: number | null; // previous period
  lastYear: number | null; // same period last year
  trailing: (number | null)[]; // the 12 periods before this one, oldest first
}

export interface Breach {
  status: 'warn' | 'critical';
  kind: keyof Thresholds;
  reason_zh: string;
  reason_en: string;
}

export interface Evaluation {
  status: Status;
  mom: number | null; // percent
  yoy: number | null; // percent
  zScore: number | null;
  /** Percent change against the median of the trailing periods (what the robust z measures), or null. */
  vsMedian: number | null;
  breaches: Breach[];
  reason_zh: string | null;
  reason_en: string | null;
}

/** Fewer trailing points than this and the fluctuation test says nothing (too little history). */
export const MIN_TRAILING_POINTS = 6;

const fmt = (n: number, digits = 1) => {
  const s = Math.abs(n).toFixed(digits).replace(/\.0+$/, '');
  return (n < 0 ? '−' : n > 0 ? '+' : '') + s;
};
const plain = (n: number) => String(n).replace('-', '−');

export function percentChange(value: number | null, base: number | null): number | null {
  if (value === null || base === null || base === 0) return null;
  return ((value - base) / Math.abs(base)) * 100;
}

/** Robust z-score: (x − median) / (1.4826·MAD); falls back to the mean absolute deviation when MAD is 0. */
export function robustZ(value: number, history: number[]): number | null {
  if (history.length < MIN_TRAILING_POINTS) return null;
  const med = median(history);
  let scale = 1.4826 * medianAbsoluteDeviation(history);
  if (scale === 0) scale = 1.2533 * (history.reduce((s, x) => s + Math.abs(x - med), 0) / history.length);
  if (scale === 0) return value === med ? 0 : value > med ? Infinity : -Infinity;
  return (value - med) / scale;
}

function changeBreach(kind: 'mom' | 'yoy' | 'points', change: number | null, limits: Limits | undefined): Breach | null {
  if (!limits || change === null) return null;
  const names = { mom: ['环比', 'MoM'], yoy: ['同比', 'YoY'], points: ['占比变化', 'Share change'] }[kind];
  const unit = kind === 'points' ? ' 个百分点' : '%';
  const unitEn = kind === 'points' ? ' points' : '%';
  for (const level of ['critical', 'warn'] as const) {
    const lim = limits[level];
    if (lim !== undefined && Math.abs(change) > lim) {
      const dir = change < 0 ? -lim : lim;
      return {
        status: level,
        kind,
        reason_zh: `${names[0]} ${fmt(change)}${unit}，${level === 'critical' ? '严重' : '预警'}阈值 ${change < 0 ? '低于' : '高于'} ${fmt(dir, 2)}${unit}`,
        reason_en: `${names[1]} ${fmt(change)}${unitEn}, ${level} ${change < 0 ? 'below' : 'above'} ${fmt(dir, 2)}${unitEn}`
      };
    }
  }
  return null;
}

/**
 * `unit`: the indicator's unit (meta.unit) — '%' is written after values in the reasons, and it picks
 * the default materiality of the fluctuation rule.
 */
export function evaluate(t: Thresholds, v: IndicatorValues, unit = ''): Evaluation {
  const mom = percentChange(v.value, v.previous);
  const yoy = percentChange(v.value, v.lastYear);
  const history = v.trailing.filter((x): x is number => x !== null && Number.isFinite(x));
  const zScore = v.value === null ? null : robustZ(v.value, history);
  const med = zScore === null ? null : median(history);
  const vsMedian =
    v.value === null || med === null ? null : med === 0 ? (v.value === 0 ? 0 : Infinity * Math.sign(v.value)) : percentChange(v.value, med);
  if (v.value === null) {
    return { status: 'no_data', mom, yoy, zScore, vsMedian, breaches: [], reason_zh: '暂无数据', reason_en: 'No data' };
  }
  const value = v.value;
  const breaches: Breach[] = [];
  const u = unit === '%' ? '%' : '';
  if (t.bound?.below) {
    for (const level of ['critical', 'warn'] as const) {
      const lim = t.bound.below[level];
      if (lim !== undefined && value < lim) {
        breaches.push({
          status: level,
          kind: 'bound',
          reason_zh: `当前值 ${plain(+value.toFixed(2))}${u}，${level === 'critical' ? '严重' : '预警'}：低于 ${plain(lim)}${u}`,
          reason_en: `Value ${plain(+value.toFixed(2))}${u}, ${level} below ${plain(lim)}${u}`
        });
        break;
      }
    }
  }
  if (t.bound?.above) {
    for (const level of ['critical', 'warn'] as const) {
      const lim = t.bound.above[level];
      if (lim !== undefined && value > lim) {
        breaches.push({
          status: level,
          kind: 'bound',
          reason_zh: `当前值 ${plain(+value.toFixed(2))}${u}，${level === 'critical' ? '严重' : '预警'}：高于 ${plain(lim)}${u}`,
          reason_en: `Value ${plain(+value.toFixed(2))}${u}, ${level} above ${plain(lim)}${u}`
        });
        break;
      }
    }
  }
  const m = changeBreach('mom', mom, t.mom);
  if (m) breaches.push(m);
  const y = changeBreach('yoy', yoy, t.yoy);
  if (y) breaches.push(y);
  if (t.points && v.previous !== null) {
    const p = changeBreach('points', value - v.previous, t.points);
    if (p) breaches.push(p);
  }
  const fl = fluctuationRule(t, unit);
  const material =
    fl !== null &&
    med !== null &&
    vsMedian !== null &&
    Math.abs(vsMedian) >= fl.min_change &&
    Math.max(Math.abs(value), Math.abs(med)) >= fl.min_base;
  if (fl && zScore !== null && material) {
    for (const level of ['critical', 'warn'] as const) {
      const lim = fl[level];
      if (Math.abs(zScore) > lim) {
        const z = Number.isFinite(zScore) ? fmt(zScore) : zScore > 0 ? '+∞' : '−∞';
        const c = Number.isFinite(vsMedian) ? `${fmt(vsMedian!)}%` : vsMedian! > 0 ? '+∞' : '−∞';
        breaches.push({
          status: level,
          kind: 'fluctuation',
          reason_zh: `异常波动：较近12期中位数 ${c}（稳健Z值 ${z}），${level === 'critical' ? '严重' : '预警'}阈值 ±${lim}`,
          reason_en: `Abnormal fluctuation: ${c} vs the trailing-12 median (robust z ${z}), ${level} beyond ±${lim}`
        });
        break;
      }
    }
  }
  if (t.last_year && v.lastYear !== null && value < v.lastYear) {
    breaches.push({
      status: 'warn',
      kind: 'last_year',
      reason_zh: `低于去年同期（${plain(+v.lastYear.toFixed(2))}${u}）`,
      reason_en: `Below last year at the same date (${plain(+v.lastYear.toFixed(2))}${u})`
    });
  }
  breaches.sort((a, b) => STATUS_RANK[b.status] - STATUS_RANK[a.status]);
  const status: Status = breaches[0]?.status ?? (isJudged(t) ? 'ok' : 'neutral');
  return {
    status,
    mom,
    yoy,
    zScore,
    vsMedian,
    breaches,
    reason_zh: breaches.length ? breaches.map((b) => b.reason_zh).join('；') : null,
    reason_en: breaches.length ? breaches.map((b) => b.reason_en).join('; ') : null
  };
}
