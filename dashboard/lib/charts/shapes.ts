// Geometry for the three simple shapes the cockpit draws itself as SVG/HTML — the coverage gauge,
// the certification counts and the subsidy ring — as pure functions of data, so they are
// unit-tested and the components only render them. ECharts keeps the charts that need axes,
// tooltips and a map; these three redraw on every data change, and as SVG that costs a few
// attribute updates instead of a canvas pipeline (the 2-hour heap benchmark showed the growth was
// in ECharts' redraw path of the family charts).
import { COLORS, SERIES } from './theme.ts';

const round = (v: number) => Math.round(v * 100) / 100;

/** A point on a circle; angles in degrees, counter-clockwise from 3 o'clock (y grows downwards). */
function polar(cx: number, cy: number, r: number, deg: number): [number, number] {
  const a = (deg * Math.PI) / 180;
  return [round(cx + r * Math.cos(a)), round(cy - r * Math.sin(a))];
}

/** An arc from angle a0 to a1 (a0 > a1: drawn clockwise, as a gauge reads). */
export function arcPath(cx: number, cy: number, r: number, a0: number, a1: number): string {
  const [x0, y0] = polar(cx, cy, r, a0);
  const [x1, y1] = polar(cx, cy, r, a1);
  const large = Math.abs(a0 - a1) > 180 ? 1 : 0;
  const sweep = a0 > a1 ? 1 : 0;
  return `M${x0} ${y0}A${r} ${r} 0 ${large} ${sweep} ${x1} ${y1}`;
}

// ---------------------------------------------------------------------------------------------
// Coverage gauge: a 240° arc in a 200×156 box, coloured by the indicator's own limits.

export const GAUGE = { width: 200, height: 156, cx: 100, cy: 88, r: 76, stroke: 16, start: 210, end: -30 } as const;

export interface GaugeShape {
  min: number;
  max: number;
  /** Coloured stretches of the arc, from min to max. */
  bands: { d: string; color: string; from: number; to: number }[];
  /** Needle angle in degrees (clockwise rotation from pointing straight up), for a CSS rotate(). */
  needle: number;
  /** White marks where a limit meets the next band. */
  marks: { x1: number; y1: number; x2: number; y2: number; at: number }[];
}

/**
 * The scale starts at the 5 below the value (never above 90) so that the few points between 95 %
 * and 100 % that matter are visible; the bands are red below critical, amber below warn, green above.
 */
export function gaugeShape(value: number | null, limits: { warn?: number; critical?: number } | undefined): GaugeShape {
  const min = Math.max(0, Math.min(90, Math.floor(((value ?? 100) - 1) / 5) * 5));
  const max = 100;
  const { cx, cy, r, start, end } = GAUGE;
  const angle = (v: number) => start - ((Math.min(max, Math.max(min, v)) - min) / (max - min)) * (start - end);
  const stops: { at: number; color: string }[] = [];
  if (limits?.critical !== undefined && limits.critical > min) stops.push({ at: Math.min(max, limits.critical), color: COLORS.critical });
  if (limits?.warn !== undefined && limits.warn > min) stops.push({ at: Math.min(max, limits.warn), color: COLORS.warn });
  stops.push({ at: max, color: COLORS.ok });
  const bands: GaugeShape['bands'] = [];
  let from = min;
  for (const s of stops) {
    if (s.at <= from) continue;
    bands.push({ d: arcPath(cx, cy, r, angle(from), angle(s.at)), color: s.color, from, to: s.at });
    from = s.at;
  }
  const marks = bands.slice(0, -1).map((b) => {
    const [x1, y1] = polar(cx, cy, r - GAUGE.stroke / 2, angle(b.to));
    const [x2, y2] = polar(cx, cy, r + GAUGE.stroke / 2, angle(b.to));
    return { x1, y1, x2, y2, at: b.to };
  });
  // A CSS rotation is clockwise from straight up (90° in the arc's convention).
  const needle = round(90 - angle(value ?? min));
  return { min, max, bands, needle, marks };
}

// ---------------------------------------------------------------------------------------------
// Certification counts: silently certified, weak evidence only, field tasks, visited, suspended.
// These do not nest (field tasks are not a subset of the weak-evidence doubts: 852 beside 205), so
// they are not drawn as a funnel, whose narrowing would claim each stage is part of the one above:
// they are parallel bars on one linear scale, each with its label and number beside it in text.

export interface CountStage {
  key: string;
  label: string;
  value: number | null;
}

/**
 * Each stage's bar width in % of the largest value, on a linear scale (so widths order as the
 * values do). A positive value too small to see gets 1 %; zero or no value draws no bar (null).
 */
export function countBars(stages: CountStage[]): (CountStage & { width: number | null; color: string })[] {
  const max = Math.max(0, ...stages.map((s) => (s.value !== null && Number.isFinite(s.value) ? s.value : 0)));
  const colors = ['#1f8fff', '#3aa6ff', '#f5a524', '#2ec4b6', '#ff5b5b'];
  return stages.map((s, i) => ({
    ...s,
    width: s.value !== null && s.value > 0 && max > 0 ? Math.max(1, round((s.value / max) * 100)) : null,
    color: colors[i % colors.length]
  }));
}

// ---------------------------------------------------------------------------------------------
// Subsidy ring: shares of a whole, largest first, starting at 12 o'clock, clockwise.

export interface Share {
  key: string;
  label: string;
  value: number | null;
}

export type ShareRow = Share & { value: number; color: string };

/** The shares worth drawing (positive values), largest first, each with its colour — shared by the ring and its legend. */
export function shareRows(shares: Share[]): ShareRow[] {
  return shares
    .filter((s): s is Share & { value: number } => s.value !== null && Number.isFinite(s.value) && s.value > 0)
    .sort((a, b) => b.value - a.value)
    .map((s, i) => ({ ...s, color: SERIES[i % SERIES.length] }));
}

export const RING = { size: 200, c: 100, outer: 96, inner: 58 } as const;

/**
 * Sweep angles of the shares (degrees, summing to 360), each at least minDeg so a 0.5 % project
 * is still a visible sliver; the others give up the difference in proportion.
 */
export function ringSweeps(values: number[], minDeg = 3): number[] {
  const total = values.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return values.map(() => 0);
  const raw = values.map((v) => (v / total) * 360);
  const small = raw.map((a) => a < minDeg);
  const reserved = small.filter(Boolean).length * minDeg;
  const rest = raw.reduce((a, b, i) => (small[i] ? a : a + b), 0);
  if (reserved >= 360 || rest === 0) return values.map(() => 360 / values.length);
  return raw.map((a, i) => (small[i] ? minDeg : (a * (360 - reserved)) / rest));
}

/** One annular sector from clockwise angle s0 to s1 (degrees from 12 o'clock). */
export function sectorPath(s0: number, s1: number, outer: number = RING.outer, inner: number = RING.inner): string {
  const { c } = RING;
  if (s1 - s0 >= 359.999) {
    // a whole ring: two half arcs each way (one arc cannot start and end at the same point)
    return (
      `M${c} ${c - outer}A${outer} ${outer} 0 1 1 ${c} ${c + outer}A${outer} ${outer} 0 1 1 ${c} ${c - outer}Z` +
      `M${c} ${c - inner}A${inner} ${inner} 0 1 0 ${c} ${c + inner}A${inner} ${inner} 0 1 0 ${c} ${c - inner}Z`
    );
  }
  const a0 = 90 - s0;
  const a1 = 90 - s1;
  const [ox0, oy0] = polar(c, c, outer, a0);
  const [ox1, oy1] = polar(c, c, outer, a1);
  const [ix1, iy1] = polar(c, c, inner, a1);
  const [ix0, iy0] = polar(c, c, inner, a0);
  const large = s1 - s0 > 180 ? 1 : 0;
  return `M${ox0} ${oy0}A${outer} ${outer} 0 ${large} 1 ${ox1} ${oy1}L${ix1} ${iy1}A${inner} ${inner} 0 ${large} 0 ${ix0} ${iy0}Z`;
}

/** The ring's sectors for shareRows' rows: the legend is drawn from the same rows, so they agree. */
export function ringSectors(rows: ShareRow[]): (ShareRow & { d: string; from: number; to: number })[] {
  const sweeps = ringSweeps(rows.map((r) => r.value));
  let at = 0;
  return rows.map((r, i) => {
    const from = at;
    at += sweeps[i];
    return { ...r, from: round(from), to: round(at), d: sectorPath(from, at) };
  });
}
