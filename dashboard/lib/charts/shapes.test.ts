import { describe, expect, it } from 'vitest';
import { GAUGE, RING, arcPath, countBars, gaugeShape, ringSectors, ringSweeps, sectorPath, shareRows } from './shapes.ts';
import { COLORS, SERIES } from './theme.ts';

/** The points an SVG path moves or draws to (M, L and the end point of A), in order. */
function points(d: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of d.matchAll(/([MLA])([^MLAZ]*)/g)) {
    const n = m[2]
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    out.push(m[1] === 'A' ? [n[5], n[6]] : [n[0], n[1]]);
  }
  return out;
}
const dist = ([x, y]: [number, number], cx: number, cy: number) => Math.hypot(x - cx, y - cy);

describe('coverage gauge', () => {
  it('colours the arc by the limits: red below critical, amber below warn, green above', () => {
    const g = gaugeShape(96.5, { warn: 97, critical: 95 });
    expect([g.min, g.max]).toEqual([90, 100]);
    expect(g.bands.map((b) => [b.from, b.to, b.color])).toEqual([
      [90, 95, COLORS.critical],
      [95, 97, COLORS.warn],
      [97, 100, COLORS.ok]
    ]);
    expect(g.marks.map((m) => m.at)).toEqual([95, 97]);
  });

  it('sweeps 240° from lower left to lower right, each band ending where the next begins', () => {
    const g = gaugeShape(96.5, { warn: 97, critical: 95 });
    const ends = g.bands.map((b) => points(b.d));
    for (const [start, end] of ends) {
      expect(dist(start, GAUGE.cx, GAUGE.cy)).toBeCloseTo(GAUGE.r, 1);
      expect(dist(end, GAUGE.cx, GAUGE.cy)).toBeCloseTo(GAUGE.r, 1);
    }
    expect(ends[0][0][0]).toBeCloseTo(GAUGE.cx - GAUGE.r * Math.cos(Math.PI / 6), 1); // 210°: lower left
    expect(ends[0][0][1]).toBeCloseTo(GAUGE.cy + GAUGE.r / 2, 1);
    expect(ends[2][1][0]).toBeCloseTo(GAUGE.cx + GAUGE.r * Math.cos(Math.PI / 6), 1); // −30°: lower right
    for (let i = 1; i < ends.length; i++) expect(ends[i][0]).toEqual(ends[i - 1][1]);
  });

  it('points the needle at the value: straight up half-way, ±120° at the ends', () => {
    expect(gaugeShape(95, undefined).needle).toBe(0); // 90…100: 95 is the middle
    expect(gaugeShape(96.5, undefined).needle).toBeCloseTo(36, 5); // 6.5 of 10 points × 240° − 120°
    expect(gaugeShape(100, undefined).needle).toBe(120);
    expect(gaugeShape(null, undefined).needle).toBe(-120); // no value: resting at the start
  });

  it('starts the scale at the 5 below the value, so a low coverage is still on the arc', () => {
    expect(gaugeShape(99.5, undefined).min).toBe(90); // never above 90
    expect(gaugeShape(62.3, { warn: 97, critical: 95 }).min).toBe(60);
    expect(gaugeShape(62.3, { warn: 97, critical: 95 }).needle).toBeCloseTo((2.3 / 40) * 240 - 120, 5);
  });

  it('draws only the limits the model gives', () => {
    expect(gaugeShape(99, { critical: 95 }).bands.map((b) => b.color)).toEqual([COLORS.critical, COLORS.ok]);
    expect(gaugeShape(99, undefined).bands.map((b) => [b.from, b.to, b.color])).toEqual([[90, 100, COLORS.ok]]);
    expect(gaugeShape(99, undefined).marks).toEqual([]);
  });

  it('uses the large-arc flag only for stretches over 180°', () => {
    expect(arcPath(0, 0, 10, 210, -30)).toContain('A10 10 0 1 1');
    expect(arcPath(0, 0, 10, 210, 150)).toContain('A10 10 0 0 1');
  });
});

describe('certification counts', () => {
  const stages = [
    { key: 'silent', label: '无感认证', value: 16_400 },
    { key: 'weak', label: '仅弱证据', value: 205 },
    { key: 'field', label: '转实地核实', value: 852 },
    { key: 'suspended', label: '未认证暂停', value: 5 }
  ];

  it('are parallel bars on one linear scale: a larger count is never drawn narrower (852 field tasks beside 205 weak-only)', () => {
    const b = countBars(stages);
    expect(b.map((s) => s.key)).toEqual(['silent', 'weak', 'field', 'suspended']);
    expect(b[0].width).toBe(100);
    expect(b[2].width).toBeCloseTo((852 / 16_400) * 100, 1);
    for (const x of b)
      for (const y of b) if (x.value! > y.value!) expect(x.width!, `${x.key} vs ${y.key}`).toBeGreaterThanOrEqual(y.width!);
    expect(b[3].width).toBe(1); // a handful still shows, at the smallest width
  });

  it('draws nothing for a stage without a value or with none in it', () => {
    const b = countBars([
      { key: 'a', label: 'a', value: null },
      { key: 'b', label: 'b', value: 0 }
    ]);
    expect(b.map((s) => s.width)).toEqual([null, null]);
  });
});

describe('subsidy ring', () => {
  it('drops empty projects, sorts largest first and gives ring and legend the same colours', () => {
    const shares = [
      { key: 'A', label: 'a', value: 10 },
      { key: 'B', label: 'b', value: 48 },
      { key: 'C', label: 'c', value: null },
      { key: 'D', label: 'd', value: 0 }
    ];
    expect(shareRows(shares).map((r) => [r.key, r.color])).toEqual([
      ['B', SERIES[0]],
      ['A', SERIES[1]]
    ]);
    expect(ringSectors(shareRows(shares)).map((r) => [r.key, r.color])).toEqual([
      ['B', SERIES[0]],
      ['A', SERIES[1]]
    ]);
  });

  it('sweeps in proportion to the values, all the way round', () => {
    const s = ringSectors(
      shareRows([
        { key: 'A', label: 'a', value: 25 },
        { key: 'B', label: 'b', value: 75 }
      ])
    );
    expect(s.map((x) => [x.key, x.from, x.to])).toEqual([
      ['B', 0, 270],
      ['A', 270, 360]
    ]);
    // B: from 12 o'clock clockwise to 9 o'clock, the long way round (large-arc flag set)
    const [o0, o1, i1, i0] = points(s[0].d);
    expect(o0).toEqual([RING.c, RING.c - RING.outer]);
    expect(o1).toEqual([RING.c - RING.outer, RING.c]);
    expect(i1).toEqual([RING.c - RING.inner, RING.c]);
    expect(i0).toEqual([RING.c, RING.c - RING.inner]);
    expect(s[0].d).toContain(`A${RING.outer} ${RING.outer} 0 1 1`);
    expect(s[1].d).toContain(`A${RING.outer} ${RING.outer} 0 0 1`);
  });

  it('keeps a tiny share visible (at least 3°) and still sums to 360°', () => {
    const sweeps = ringSweeps([48.3, 31.1, 14.6, 5.13, 0.1]);
    expect(sweeps[4]).toBe(3);
    expect(sweeps.reduce((a, b) => a + b, 0)).toBeCloseTo(360, 9);
    expect(sweeps[0] / sweeps[1]).toBeCloseTo(48.3 / 31.1, 9); // the others keep their proportions
  });

  it('draws a single project as a whole ring', () => {
    const [s] = ringSectors(shareRows([{ key: 'A', label: 'a', value: 5 }]));
    expect([s.from, s.to]).toEqual([0, 360]);
    for (const p of points(s.d)) {
      const r = dist(p, RING.c, RING.c);
      expect([RING.outer, RING.inner]).toContain(Math.round(r));
    }
    expect(sectorPath(0, 360).match(/Z/g)).toHaveLength(2); // outer edge and the hole
  });

  it('draws nothing when there is nothing to share', () => {
    expect(ringSectors(shareRows([{ key: 'A', label: 'a', value: null }]))).toEqual([]);
  });
});
