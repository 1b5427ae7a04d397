// The cockpit's dark palette and the status colours, shared by CSS (as custom properties) and the
// chart option builders. Status is never told by colour alone: every status also has an icon.
import type { Lang } from '../format.ts';
import type { Status } from '../api-types.ts';

export type { Status };

export const COLORS = {
  text: '#e6f0ff',
  muted: '#93acd0',
  faint: '#5f7aa3',
  grid: 'rgba(120, 160, 220, 0.16)',
  axis: 'rgba(140, 180, 235, 0.45)',
  panel: '#0a1d3a',
  accent: '#38b6ff',
  accent2: '#2ee6c5',
  ok: '#2fd39a',
  warn: '#ffb020',
  critical: '#ff4d4f',
  noData: '#7f8ea3',
  /** Shown, not judged: an indicator without a fixed limit whose change rules did not fire. */
  neutral: '#7fa6d6'
} as const;

/** Categorical series colours, distinguishable on a dark background and for common colour blindness. */
export const SERIES = ['#38b6ff', '#ffd166', '#2ee6c5', '#c084fc', '#ff8a65', '#7bd88f', '#f472b6', '#94a3b8', '#60a5fa', '#fbbf24'];

export const STATUS_COLOR: Record<Status, string> = {
  ok: COLORS.ok,
  neutral: COLORS.neutral,
  warn: COLORS.warn,
  critical: COLORS.critical,
  no_data: COLORS.noData
};
/** Shape as well as colour (colour-blind safe): tick (judged and fine), ring (not judged), triangle, cross, dash. */
export const STATUS_ICON: Record<Status, string> = { ok: '✓', neutral: '○', warn: '▲', critical: '✕', no_data: '–' };

/** What every option builder needs: the design-pixel scale (1 at 1920×1080, 2 at 3840×2160) and the language. */
export interface ChartContext {
  scale: number;
  lang: Lang;
}

/** Design pixels → CSS pixels at the current scale (ECharts sizes are CSS pixels; it renders at devicePixelRatio). */
export const px = (n: number, ctx: ChartContext) => Math.round(n * ctx.scale * 10) / 10;

/** The smallest text a wall screen draws, in design pixels (1920×1080): legible from 3 m. */
export const MIN_TEXT = 16;

export function textStyle(ctx: ChartContext, size = MIN_TEXT, color: string = COLORS.text) {
  return {
    color,
    fontSize: px(Math.max(MIN_TEXT, size), ctx),
    fontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
  };
}

export function tooltipBase(ctx: ChartContext) {
  return {
    backgroundColor: 'rgba(6, 20, 44, 0.95)',
    borderColor: 'rgba(90, 170, 255, 0.6)',
    borderWidth: 1,
    padding: [px(8, ctx), px(12, ctx)],
    textStyle: textStyle(ctx, 15),
    confine: true
  };
}
