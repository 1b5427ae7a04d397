// Threshold evaluation for the governance indicators. Pure: given an indicator's `meta.thresholds`
// (from the Cube model — the one definition) and its values, returns a status and the human reasons
// in Chinese and English ("MoM −9.4%, critical below −8%"). Used by /api/indicators and reports.
//
// Threshold kinds (docs/indicators.md):
//   bound       value against fixed limits: { below: {warn, critical} } and/or { above: {warn, critical} }
//   mom / yoy   |percentage change| vs previous month / same month last year: { warn, critical }
//   points      change of a share in percentage points vs previous month: { warn, critical }
//   fluctuation robust z-score (median/MAD) of the value against its trailing 12 periods: { warn, critical }
//   last_year   (H01) warn when below last year's value at the same date
// The worst breach wins: critical > warn > ok; no value → no_data.
import { median, medianAbsoluteDeviation } from 'simple-statistics';

export type Status = 'ok' | 'warn' | 'critical' | 'no_data';

export interface Limits {
  warn?: number;
  critical?: number;
}
export interface Thresholds {
  bound?: { below?: Limits; above?: Limits };
  mom?: Limits;
  yoy?: Limits;
  points?: Limits;
  fluctuation?: Limits;
  last_year?: boolean;
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
  breaches: Breach[];
  reason_zh: string | null;
  reason_en: string | null;
}

const RANK: Record<Status, number> = { no_data: 0, ok: 1, warn: 2, critical: 3 };
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

export function evaluate(t: Thresholds, v: IndicatorValues, unit = ''): Evaluation {
  const mom = percentChange(v.value, v.previous);
  const yoy = percentChange(v.value, v.lastYear);
  const history = v.trailing.filter((x): x is number => x !== null && Number.isFinite(x));
  const zScore = v.value === null ? null : robustZ(v.value, history);
  if (v.value === null) {
    return { status: 'no_data', mom, yoy, zScore, breaches: [], reason_zh: '暂无数据', reason_en: 'No data' };
  }
  const value = v.value;
  const breaches: Breach[] = [];
  const u = unit === '%' ? '%' : unit ? ` ${unit}` : '';
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
  if (t.fluctuation && zScore !== null) {
    for (const level of ['critical', 'warn'] as const) {
      const lim = t.fluctuation[level];
      if (lim !== undefined && Math.abs(zScore) > lim) {
        const z = Number.isFinite(zScore) ? fmt(zScore) : zScore > 0 ? '+∞' : '−∞';
        breaches.push({
          status: level,
          kind: 'fluctuation',
          reason_zh: `异常波动：稳健Z值 ${z}（近12期），${level === 'critical' ? '严重' : '预警'}阈值 ±${lim}`,
          reason_en: `Abnormal fluctuation: robust z ${z} vs trailing 12, ${level} beyond ±${lim}`
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
  breaches.sort((a, b) => RANK[b.status] - RANK[a.status]);
  const status: Status = breaches[0]?.status ?? 'ok';
  return {
    status,
    mom,
    yoy,
    zScore,
    breaches,
    reason_zh: breaches.length ? breaches.map((b) => b.reason_zh).join('；') : null,
    reason_en: breaches.length ? breaches.map((b) => b.reason_en).join('; ') : null
  };
}
