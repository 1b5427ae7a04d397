// Sparklines as SVG paths (not 41 chart instances): crisp at any scale, no canvas, no memory per tile.
export interface SparkPoint {
  period: string;
  value: number | null;
}

/**
 * A polyline path through the non-null points in a width×height box (y grows downwards), with a
 * little headroom, and the last point's position for the end dot. Gaps (null) break the line.
 */
export function sparklinePath(
  points: SparkPoint[],
  width = 100,
  height = 24,
  pad = 2
): { line: string; area: string; last: { x: number; y: number } | null } {
  const values = points.map((p) => (p.value === null || !Number.isFinite(p.value) ? null : p.value));
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return { line: '', area: '', last: null };
  let min = Math.min(...present);
  let max = Math.max(...present);
  if (max === min) {
    max += 1;
    min -= 1;
  } // a flat series draws a flat line in the middle
  const n = values.length;
  const x = (i: number) => (n === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1));
  const y = (v: number) => pad + (1 - (v - min) / (max - min)) * (height - 2 * pad);
  const r = (v: number) => Math.round(v * 100) / 100;
  let line = '';
  let area = '';
  let run: { x: number; y: number }[] = [];
  let last: { x: number; y: number } | null = null;
  const flush = () => {
    if (run.length) {
      line += run.map((p, i) => `${i ? 'L' : 'M'}${r(p.x)} ${r(p.y)}`).join('');
      area += `M${r(run[0].x)} ${height}` + run.map((p) => `L${r(p.x)} ${r(p.y)}`).join('') + `L${r(run[run.length - 1].x)} ${height}Z`;
    }
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null) return flush();
    const p = { x: x(i), y: y(v) };
    run.push(p);
    last = p;
  });
  flush();
  return { line, area, last };
}
