import { describe, expect, it } from 'vitest';
import { bar3dOption, choroplethOption, mapLayoutSize, mapPalette, mapRange, periodLabels, rankedBars, trendOption } from './options.ts';
import { escapeHtml, markup, trusted } from './html.ts';
import { sparklinePath } from './sparkline.ts';
import { inPolygon, labelPoint as centroid } from '../../../core/geometry.ts';
import { COLORS } from './theme.ts';

const ctx = { scale: 1, lang: 'zh' as const };
const series = (values: (number | null)[]) => values.map((value, i) => ({ period: `2026-${String(i + 1).padStart(2, '0')}`, value }));
const o = (x: unknown) => x as any;

describe('trend lines', () => {
  it('puts two series of different magnitude on two axes, labelled the Chinese way', () => {
    const opt = o(
      trendOption(
        [
          { name: '发放总额', unit: 'yuan', data: series([65_000_000, 66_000_000, null]) },
          { name: '发放人次', unit: 'payments', data: series([20_100, 20_300, 20_250]) }
        ],
        ctx
      )
    );
    expect(opt.yAxis).toHaveLength(2);
    expect(opt.series.map((s: { yAxisIndex: number }) => s.yAxisIndex)).toEqual([0, 1]);
    expect(opt.series[0].data).toEqual([65_000_000, 66_000_000, null]); // a gap stays a gap
    expect(opt.xAxis.data).toEqual(['26年1月', '2月', '3月']);
    expect(opt.yAxis[0].axisLabel.formatter(65_000_000)).toBe('6500万');
    expect(opt.tooltip.formatter([{ seriesIndex: 0, dataIndex: 1, marker: '', value: 66_000_000, axisValueLabel: '2月' }])).toContain(
      '6,600万元'
    );
  });

  it('scales type with the screen: twice the font at 3840×2160', () => {
    const small = o(trendOption([{ name: 'a', unit: 'people', data: series([1, 2]) }], ctx));
    const big = o(trendOption([{ name: 'a', unit: 'people', data: series([1, 2]) }], { scale: 2, lang: 'zh' }));
    expect(big.xAxis.axisLabel.fontSize).toBe(small.xAxis.axisLabel.fontSize * 2);
    // and the gaps between the axes and their labels with it (a fixed gap let the labels collide at 4K)
    expect(big.xAxis.axisLabel.margin).toBe(small.xAxis.axisLabel.margin * 2);
    expect(big.yAxis[0].axisLabel.margin).toBe(small.yAxis[0].axisLabel.margin * 2);
  });

  it('labels January with its year', () => {
    expect(periodLabels(['2025-11', '2025-12', '2026-01', '2026-02'], ctx)).toEqual(['25年11月', '12月', '26年1月', '2月']);
  });
});

describe('ranked child regions', () => {
  it('ranks largest first, missing last, bars relative to the largest', () => {
    const bars = rankedBars([
      { code: '1', name: '柯桥区', value: 50, status: 'ok' },
      { code: '2', name: '越城区', value: 200, status: 'critical' },
      { code: '3', name: '上虞区', value: null, status: 'no_data' }
    ]);
    expect(bars.map((b) => [b.code, b.rank, b.width])).toEqual([
      ['2', 1, 100],
      ['1', 2, 25],
      ['3', 3, 0]
    ]);
  });
});

describe('choropleth', () => {
  it('keys regions by code, outlines breached ones and warms the palette when higher is worse', () => {
    const opt = o(
      choroplethOption(
        'm',
        [
          { code: 'A', name: 'a', value: 3, status: 'ok' },
          { code: 'B', name: 'b', value: 9, status: 'critical' }
        ],
        { A: '越城区', B: '柯桥区' },
        'alerts',
        'lower_better',
        ctx,
        { labels: false }
      )
    );
    expect(opt.series[0].nameProperty).toBe('code');
    expect(opt.series[0].data[1]).toMatchObject({ name: 'B', value: 9, itemStyle: { borderColor: COLORS.critical } });
    expect(opt.series[0].data[0].itemStyle).toBeUndefined();
    // a count: the legend starts at zero, so the smallest area is not drawn empty
    expect([opt.visualMap.min, opt.visualMap.max]).toEqual([0, 9]);
    expect(opt.visualMap.text[1]).toBe('0条');
    expect(opt.visualMap.inRange.color).toEqual(mapPalette('lower_better'));
    expect(opt.tooltip.formatter({ name: 'B' })).toContain('柯桥区<br/>9条  ✕ 严重');
  });
});

describe('the map scale', () => {
  const rows = (vals: number[]) => vals.map((v, i) => ({ code: `R${i}`, name: `r${i}`, value: v, status: 'ok' as const }));
  it('starts counts and amounts at zero, keeps the spread of rates', () => {
    expect(mapRange(rows([1812, 1946]), 'people')).toEqual([0, 1946]);
    expect(mapRange(rows([2_000_000, 2_050_000]), 'yuan')).toEqual([0, 2_050_000]);
    expect(mapRange(rows([-5, 3]), 'yuan')).toEqual([-5, 3]);
    expect(mapRange(rows([95.1, 98.2]), '%')).toEqual([95.1, 98.2]);
    expect(mapRange(rows([0, 0]), 'alerts')).toEqual([0, 1]);
  });
  it('3D: outlines breached areas in their status colour and gives the smallest area a bar', () => {
    const opt = o(
      bar3dOption(
        'm',
        [
          { code: 'A', name: 'a', value: 1812, status: 'ok' },
          { code: 'B', name: 'b', value: 1946, status: 'warn' }
        ],
        { A: [120, 30], B: [121, 30] },
        { A: '越城区', B: '柯桥区' },
        'people',
        'neutral',
        ctx
      )
    );
    expect(opt.geo3D.regions).toEqual([{ name: 'B', itemStyle: { borderColor: COLORS.warn, borderWidth: 3 } }]);
    expect(opt.visualMap.min).toBe(0);
    // heights measured from zero: an invisible point at 0, never a bar nor a tooltip of its own
    const zero = opt.series[0].data.find((d: { value: number[] }) => d.value[2] === 0);
    expect(zero).toMatchObject({ code: '', itemStyle: { opacity: 0 }, label: { show: false } });
    expect(opt.tooltip.formatter({ data: zero })).toBe('');
    expect(opt.series[0].data.filter((d: { code: string }) => d.code).map((d: { value: number[] }) => d.value[2])).toEqual([1812, 1946]);
  });
});

describe('tooltips are HTML: every data value in them is escaped', () => {
  const evil = '<meta http-equiv="refresh" content="0;url=https://evil.example"><img src=x onerror=alert(1)>';
  const noMarkup = (out: string) => {
    expect(out).not.toMatch(/<(meta|img)\b/i);
    expect(out).toContain('&lt;meta http-equiv=&quot;refresh&quot;');
  };

  it('in the map, the 3D map and the trend charts', () => {
    const map = o(
      choroplethOption('m', [{ code: 'A', name: evil, value: 3, status: 'critical' }], { A: evil }, 'people', 'neutral', ctx, {
        labels: false
      })
    );
    noMarkup(map.tooltip.formatter({ name: 'A' }));
    noMarkup(map.tooltip.formatter({ name: evil })); // a code that is not in the names
    const bars = o(
      bar3dOption('m', [{ code: 'A', name: evil, value: 3, status: 'ok' }], { A: [120, 30] }, { A: evil }, 'people', 'neutral', ctx)
    );
    noMarkup(bars.tooltip.formatter({ data: bars.series[0].data[0] }));
    const trend = o(trendOption([{ name: evil, unit: 'people', data: series([1, 2]) }], ctx));
    const out = trend.tooltip.formatter([
      { seriesIndex: 0, dataIndex: 1, marker: '<span class="m"></span>', value: 2, axisValueLabel: evil }
    ]);
    noMarkup(out);
    expect(out).toContain('<span class="m"></span>'); // ECharts' own marker stays markup
  });

  it('escapes the five characters and nothing else', () => {
    expect(escapeHtml(`a&b<c>d"e'f 越城区`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f 越城区');
    expect(markup`<b>${'<i>'}</b>${trusted('<br/>')}${null}`).toBe('<b>&lt;i&gt;</b><br/>');
  });
});

describe('sparklines and centroids', () => {
  it('draws a path through the points and breaks it at gaps', () => {
    const s = sparklinePath(series([1, 2, null, 4, 3]), 100, 24, 2);
    expect(s.line.match(/M/g)).toHaveLength(2);
    expect(s.last).toEqual({ x: 98, y: expect.closeTo(8.67, 1) }); // 3 on a 1..4 scale
    expect(sparklinePath(series([null, null])).line).toBe('');
    expect(sparklinePath(series([5, 5])).line).toBe('M2 12L98 12'); // flat → middle line
  });

  it('finds the centroid of a polygon and of the largest part of a multipolygon', () => {
    expect(
      centroid({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [4, 0],
            [4, 2],
            [0, 2],
            [0, 0]
          ]
        ]
      })
    ).toEqual([2, 1]);
    expect(
      centroid({
        type: 'MultiPolygon',
        coordinates: [
          [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0]
            ]
          ],
          [
            [
              [10, 10],
              [14, 10],
              [14, 14],
              [10, 14],
              [10, 10]
            ]
          ]
        ]
      })
    ).toEqual([12, 12]);
    expect(centroid({ type: 'Point', coordinates: [1, 2] })).toBeNull();
  });

  it('sizes the map to fill its box: by the height when the box is wider than the shapes, else by the width', () => {
    // shapes 2 wide (× 0.87) by 1 tall: aspect 1.74
    expect(mapLayoutSize([0, 0, 2, 1], 1000, 400)).toBe(Math.floor(400 * 0.98 * 1.74));
    expect(mapLayoutSize([0, 0, 2, 1], 500, 400)).toBe(490);
    // a tall shape: the longer side is the height
    expect(mapLayoutSize([0, 0, 0.87, 2], 1000, 400)).toBe(392);
    expect(mapLayoutSize([0, 0, 0.87, 2], 100, 400)).toBe(Math.floor(98 / 0.3785));
  });

  it('puts the label of a crescent-like shape inside it, where its centroid lies outside', () => {
    // a C open to the right: its centroid is in the mouth, outside the shape
    const ring: [number, number][] = [
      [0, 0],
      [10, 0],
      [10, 2],
      [2, 2],
      [2, 8],
      [10, 8],
      [10, 10],
      [0, 10],
      [0, 0]
    ];
    const p = centroid({ type: 'Polygon', coordinates: [ring] })!;
    expect(inPolygon([4.4, 5], [ring])).toBe(false);
    expect(inPolygon(p, [ring])).toBe(true);
  });
});
