// Chart options as pure functions of data, language and scale — no DOM, no ECharts import — so
// they are unit-tested and the one EChart wrapper only renders them. Sizes are design pixels
// (1920×1080) scaled by ctx.scale; the wrapper renders at devicePixelRatio.
import type { EChartsOption } from 'echarts';
import { formatAxis, formatPeriodShort, formatValue, type Unit } from '../format.ts';
import { t } from '../i18n.ts';
import { markup, trusted } from './html.ts';
import { COLORS, SERIES, STATUS_COLOR, STATUS_ICON, px, textStyle, tooltipBase, type ChartContext, type Status } from './theme.ts';

export interface Series {
  name: string;
  unit: Unit;
  data: { period: string; value: number | null }[];
}

// The gap between an axis and its labels scales with the text (ECharts' default is a fixed 8 px, so at
// 3840×2160 the value axis's bottom label ran into the period labels).
const axisLabel = (ctx: ChartContext, size = 13) => ({ ...textStyle(ctx, size, COLORS.muted), margin: px(8, ctx) });

/** Period labels: "3月", with the year at January and at the first point ("25年11月"). */
export function periodLabels(periods: string[], ctx: ChartContext): string[] {
  return periods.map((p, i) => formatPeriodShort(p, ctx.lang, i === 0 || p.endsWith('-01')));
}

/**
 * Trend lines over the last periods: the first series on the left axis (with an area), the second,
 * if any, on the right axis — each axis labelled in its own unit.
 */
export function trendOption(series: Series[], ctx: ChartContext, opts: { bars?: boolean; compact?: boolean } = {}): EChartsOption {
  const periods = [...new Set(series.flatMap((s) => s.data.map((d) => d.period)))].sort();
  const valueAt = (s: Series) => periods.map((p) => s.data.find((d) => d.period === p)?.value ?? null);
  const dual = series.length > 1 && !opts.bars; // lines of different magnitude get their own axis; bars share one
  return {
    animationDuration: 400,
    grid: {
      left: px(opts.compact ? 2 : 8, ctx),
      right: px(opts.compact ? 2 : 8, ctx),
      top: px(opts.compact ? 20 : 34, ctx),
      bottom: px(2, ctx),
      containLabel: true
    },
    legend: {
      top: 0,
      right: 0,
      itemWidth: px(opts.compact ? 12 : 16, ctx),
      itemHeight: px(8, ctx),
      itemGap: px(14, ctx),
      textStyle: textStyle(ctx, opts.compact ? 12 : 14, COLORS.muted),
      data: series.map((s) => s.name)
    },
    tooltip: {
      ...tooltipBase(ctx),
      trigger: 'axis',
      valueFormatter: undefined,
      formatter: (params: unknown) => {
        const ps = params as { seriesIndex: number; axisValueLabel: string; marker: string; value: number | null }[];
        if (!ps.length) return '';
        const head = periods[(ps[0] as unknown as { dataIndex: number }).dataIndex] ?? ps[0].axisValueLabel;
        return [
          markup`${head}`,
          ...ps.map(
            (p) =>
              markup`${trusted(p.marker)}${series[p.seriesIndex].name}  ${formatValue(p.value, series[p.seriesIndex].unit, ctx.lang).full}`
          )
        ].join('<br/>');
      }
    },
    xAxis: {
      type: 'category',
      data: periodLabels(periods, ctx),
      boundaryGap: !!opts.bars,
      axisLine: { lineStyle: { color: COLORS.axis } },
      axisTick: { show: false },
      // a little further down than the value axes' gap, so the first period label stays clear of the lowest value label
      axisLabel: { ...axisLabel(ctx, opts.compact ? 12 : 13), margin: px(10, ctx), hideOverlap: true }
    },
    yAxis: series.slice(0, dual ? 2 : 1).map((s, i) => ({
      type: 'value',
      scale: !opts.bars,
      position: i === 0 ? 'left' : 'right',
      splitLine: { show: i === 0, lineStyle: { color: COLORS.grid } },
      axisLabel: { ...axisLabel(ctx), show: !opts.compact, formatter: (v: number) => formatAxis(v, ctx.lang) },
      splitNumber: opts.compact ? 2 : 3
    })),
    series: series.map((s, i) => ({
      id: `s${i}`,
      name: s.name,
      type: opts.bars ? 'bar' : 'line',
      yAxisIndex: dual ? Math.min(i, 1) : 0,
      data: valueAt(s),
      smooth: true,
      showSymbol: false,
      symbolSize: px(6, ctx),
      connectNulls: false,
      barMaxWidth: px(10, ctx),
      lineStyle: { width: px(i === 0 ? 3 : 2, ctx), color: SERIES[i] },
      itemStyle: { color: SERIES[i], borderRadius: opts.bars ? [px(2, ctx), px(2, ctx), 0, 0] : 0 },
      areaStyle:
        !opts.bars && i === 0
          ? {
              color: {
                type: 'linear',
                x: 0,
                y: 0,
                x2: 0,
                y2: 1,
                colorStops: [
                  { offset: 0, color: 'rgba(56,182,255,0.35)' },
                  { offset: 1, color: 'rgba(56,182,255,0.02)' }
                ]
              }
            }
          : undefined
    }))
  } as EChartsOption;
}

/** A gauge for a percentage with its threshold bands (red below critical, amber below warn). */
/** `limits`: the indicator's lower bounds from the model (bounds.below); bands are drawn for those present. */
export interface RankedRow {
  code: string;
  name: string;
  value: number | null;
  status: Status;
}

/**
 * The ranked bar list of child regions (drawn in HTML: every bar is a focusable button): largest
 * first, missing values last, each bar's length relative to the largest absolute value.
 */
export function rankedBars(rows: RankedRow[]): (RankedRow & { rank: number; width: number })[] {
  const sorted = [...rows].sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity) || a.name.localeCompare(b.name, 'zh'));
  const top = Math.max(0, ...sorted.map((r) => Math.abs(r.value ?? 0)));
  return sorted.map((r, i) => ({
    ...r,
    rank: i + 1,
    width: r.value === null || top === 0 ? 0 : Math.max(1, Math.round((Math.abs(r.value) / top) * 1000) / 10)
  }));
}

/** Sequential colours for the map: cool for neutral/"higher is better", warm when higher is worse. */
export function mapPalette(direction: 'higher_better' | 'lower_better' | 'neutral'): string[] {
  return direction === 'lower_better' ? ['#16325c', '#7a4b6b', '#e0664f', '#ff9a5a'] : ['#0f2f5c', '#1b5fa8', '#2e9be6', '#5fe0ff'];
}

/** Whether any area has a value: else the map draws no colour scale (a scale over nothing reads as data). */
export function mapHasData(rows: RankedRow[]): boolean {
  return rows.some((r) => r.value !== null && Number.isFinite(r.value));
}

/** The fill of an area without a value. */
export const MAP_NO_DATA_FILL = '#10284d';

/** Units that count or add up (people, money, payments, alerts, …): their map scale starts at zero. */
const ZERO_BASED: ReadonlySet<Unit> = new Set<Unit>(['people', 'yuan', 'payments', 'alerts', 'sign-ups', 'records']);

/**
 * The map's colour (and 3D height) scale over the child regions' values. For counts and amounts it is
 * anchored at zero, so the smallest area is coloured for what it has, not drawn empty as the bottom of
 * a min–max stretch; rates, ratios and scores keep the spread of their values.
 */
export function mapRange(rows: RankedRow[], unit: Unit): [number, number] {
  const vals = rows.map((r) => r.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (!vals.length) return [0, 1];
  const lo = ZERO_BASED.has(unit) ? Math.min(0, ...vals) : Math.min(...vals);
  const hi = Math.max(...vals);
  return lo === hi ? (lo === 0 ? [0, 1] : [lo - 1, hi + 1]) : [lo, hi];
}

/**
 * 2D choropleth of the child regions (GeoJSON registered as `mapName`, features keyed by
 * properties.code). Breached regions get an outline in their status colour.
 */
/** The map's horizontal squeeze (a degree of longitude is shorter than one of latitude, here at lat ≈ 30°). */
export const MAP_ASPECT_SCALE = 0.87;

/**
 * The map's size (echarts' layoutSize: the longer side of the shapes, px) that fills a box of w × h
 * with 1% to spare on each side, for shapes whose bounding box is `bbox` [minX, minY, maxX, maxY].
 */
export function mapLayoutSize(bbox: [number, number, number, number], w: number, h: number): number {
  const aspect = ((bbox[2] - bbox[0]) * MAP_ASPECT_SCALE) / (bbox[3] - bbox[1] || 1);
  const fw = w * 0.98;
  const fh = h * 0.98;
  return Math.max(1, Math.floor(aspect >= 1 ? Math.min(fw, fh * aspect) : Math.min(fh, fw / aspect)));
}

export function choroplethOption(
  mapName: string,
  rows: RankedRow[],
  names: Record<string, string>,
  unit: Unit,
  direction: 'higher_better' | 'lower_better' | 'neutral',
  ctx: ChartContext,
  opts: { labels?: boolean; fit?: { bbox: [number, number, number, number]; w: number; h: number } } = {}
): EChartsOption {
  const labels = opts.labels ?? true;
  // Fitted to its box, the map keeps a strip on the left for the legend (upright there) and fills the rest.
  const legendW = px(70, ctx);
  const fit = opts.fit && opts.fit.w > legendW * 2 ? opts.fit : null; // the cockpit draws its own HTML labels (focusable buttons) over the map
  const [min, max] = mapRange(rows, unit);
  // no value in any area (e.g. a "now" indicator on a month without a snapshot): no scale (the map says 无数据)
  const hasData = mapHasData(rows);
  return {
    animationDurationUpdate: 500,
    tooltip: {
      ...tooltipBase(ctx),
      trigger: 'item',
      formatter: (p: unknown) => {
        const { name } = p as { name: string };
        const r = rows.find((x) => x.code === name);
        const status = r?.status ?? 'no_data';
        return markup`${names[name] ?? name}<br/>${formatValue(r?.value ?? null, unit, ctx.lang).full}  ${STATUS_ICON[status]} ${t(ctx.lang, `status.${status}`)}`;
      }
    },
    visualMap: {
      type: 'continuous',
      show: hasData,
      min,
      max,
      calculable: false,
      realtime: false,
      // upright in the bottom-left corner, beside the shapes rather than under them: the map gets the full height
      orient: 'vertical',
      left: 0,
      bottom: 0,
      itemWidth: px(10, ctx),
      itemHeight: px(110, ctx),
      inRange: { color: mapPalette(direction) },
      text: [formatValue(max, unit, ctx.lang).full, formatValue(min, unit, ctx.lang).full],
      textStyle: textStyle(ctx, 13, COLORS.muted),
      seriesIndex: 0
    },
    series: [
      {
        id: 'map',
        type: 'map',
        map: mapName,
        nameProperty: 'code',
        roam: false,
        // the centrepiece of the screen: the shapes fill their box (its height or its width: mapLayoutSize), keeping their aspect
        layoutCenter: fit ? [legendW + (fit.w - legendW) / 2, '50%'] : ['50%', '50%'],
        layoutSize: fit ? mapLayoutSize(fit.bbox, fit.w - legendW, fit.h) : '98%',
        aspectScale: MAP_ASPECT_SCALE,
        selectedMode: false,
        cursor: 'pointer',
        label: {
          show: labels,
          ...textStyle(ctx, 14, '#fff'),
          textBorderColor: 'rgba(0,0,0,0.65)',
          textBorderWidth: px(2, ctx),
          lineHeight: px(18, ctx),
          formatter: (p: unknown) => {
            const { name } = p as { name: string };
            const r = rows.find((x) => x.code === name);
            const flag = r && (r.status === 'warn' || r.status === 'critical') ? STATUS_ICON[r.status] + ' ' : '';
            return `${names[name] ?? ''}\n${flag}${formatValue(r?.value ?? null, unit, ctx.lang).full}`;
          }
        },
        itemStyle: { borderColor: 'rgba(150, 210, 255, 0.85)', borderWidth: px(1.2, ctx), areaColor: MAP_NO_DATA_FILL },
        emphasis: {
          label: { show: labels, ...textStyle(ctx, 15, '#fff'), fontWeight: 700 },
          itemStyle: { areaColor: '#ffd166', borderColor: '#fff', borderWidth: px(2, ctx) }
        },
        data: rows.map((r) => ({
          name: r.code,
          value: r.value ?? undefined,
          itemStyle:
            r.status === 'warn' || r.status === 'critical' ? { borderColor: STATUS_COLOR[r.status], borderWidth: px(3, ctx) } : undefined
        }))
      }
    ]
  } as EChartsOption;
}

/** echarts-gl: the same regions as a 3D map with a bar per region at its centroid. */
export function bar3dOption(
  mapName: string,
  rows: RankedRow[],
  centroids: Record<string, [number, number]>,
  names: Record<string, string>,
  unit: Unit,
  direction: 'higher_better' | 'lower_better' | 'neutral',
  ctx: ChartContext
): EChartsOption {
  const [min, max] = mapRange(rows, unit);
  const data: { name: string; code: string; value: number[]; itemStyle?: object; label?: object; tooltip?: object }[] = rows
    .filter((r) => centroids[r.code] && r.value !== null)
    .map((r) => ({
      name: names[r.code] ?? r.code,
      code: r.code,
      value: [...centroids[r.code], r.value as number]
    }));
  // echarts-gl measures bar heights over the data's own extent, so the smallest area got no bar: an
  // invisible point at the scale's zero (counts and amounts) anchors the heights there, as the legend.
  const anchor = data[0];
  if (anchor && min === 0 && !data.some((d) => d.value[2] === 0))
    data.push({
      name: '',
      code: '',
      value: [anchor.value[0], anchor.value[1], 0],
      itemStyle: { opacity: 0 },
      label: { show: false },
      tooltip: { show: false }
    });
  return {
    tooltip: {
      ...tooltipBase(ctx),
      formatter: (p: unknown) => {
        const d = (p as { data: { name: string; code: string; value: number[] } }).data;
        if (!d.code) return ''; // the zero anchor
        return markup`${d.name}<br/>${formatValue(d.value[2], unit, ctx.lang).full}`;
      }
    },
    visualMap: {
      type: 'continuous',
      min,
      max,
      show: mapHasData(rows),
      calculable: false,
      // upright in the bottom-left corner, beside the shapes rather than under them: the map gets the full height
      orient: 'vertical',
      left: 0,
      bottom: 0,
      itemWidth: px(10, ctx),
      itemHeight: px(110, ctx),
      inRange: { color: mapPalette(direction) },
      dimension: 2,
      text: [formatValue(max, unit, ctx.lang).full, formatValue(min, unit, ctx.lang).full],
      textStyle: textStyle(ctx, 13, COLORS.muted)
    },
    geo3D: {
      map: mapName,
      nameProperty: 'code',
      regionHeight: 1.5,
      boxWidth: 100,
      boxHeight: 40,
      shading: 'lambert',
      top: 0,
      bottom: px(26, ctx),
      itemStyle: { color: '#12305a', borderColor: 'rgba(150,210,255,0.8)', borderWidth: 1 },
      // breached areas outlined in their status colour, as on the 2D map
      regions: rows
        .filter((r) => r.status === 'warn' || r.status === 'critical')
        .map((r) => ({ name: r.code, itemStyle: { borderColor: STATUS_COLOR[r.status], borderWidth: px(3, ctx) } })),
      label: { show: false },
      emphasis: { label: { show: false }, itemStyle: { color: '#1b4a85' } },
      light: { main: { intensity: 1.1, shadow: false, alpha: 40, beta: 30 }, ambient: { intensity: 0.45 } },
      viewControl: {
        projection: 'perspective',
        distance: 165,
        alpha: 50,
        beta: 0,
        center: [0, -6, 0],
        autoRotate: false,
        rotateSensitivity: 1,
        zoomSensitivity: 0
      },
      groundPlane: { show: false }
    },
    series: [
      {
        id: 'bars',
        type: 'bar3D',
        coordinateSystem: 'geo3D',
        shading: 'lambert',
        barSize: 4,
        minHeight: 3,
        bevelSize: 0.4,
        label: {
          show: true,
          distance: 2,
          formatter: (p: unknown) => {
            const d = (p as { data: { name: string; value: number[] } }).data;
            return `${d.name}\n${formatValue(d.value[2], unit, ctx.lang).number}`;
          },
          textStyle: { ...textStyle(ctx, 12, '#fff'), backgroundColor: 'rgba(6,20,44,0.75)', padding: [2, 4], lineHeight: px(20, ctx) }
        },
        data
      }
    ]
  } as unknown as EChartsOption;
}
