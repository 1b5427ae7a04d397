// WCAG 2 contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio), for text drawn over a colour the
// data chose (the map's labels over their area's fill).

/** [r, g, b] 0–255 of '#rgb', '#rrggbb' or 'rgb(a)(r, g, b[, a])'; null when not one of those. */
export function parseColor(c: string): [number, number, number] | null {
  const s = c.trim().toLowerCase();
  let m = /^#([0-9a-f]{3})$/.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return null;
}

/** WCAG relative luminance of an sRGB colour. */
export function luminance([r, g, b]: [number, number, number]): number {
  const lin = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The contrast ratio of two colours, 1–21. */
export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

export const INK_LIGHT = '#ffffff';
export const INK_DARK = '#000000';

/** The label colour over `fill`: white or black, whichever contrasts more (one of them always reaches 4.58:1). */
export function inkOn(fill: string): string {
  const f = parseColor(fill);
  if (!f) return INK_LIGHT;
  return contrastRatio(f, parseColor(INK_LIGHT)!) >= contrastRatio(f, parseColor(INK_DARK)!) ? INK_LIGHT : INK_DARK;
}

/** `preferred` (e.g. a status colour) when it contrasts at least `min` with `fill`, else the fill's ink. */
export function readableOn(fill: string, preferred: string, min = 4.5): string {
  const f = parseColor(fill);
  const p = parseColor(preferred);
  return f && p && contrastRatio(f, p) >= min ? preferred : inkOn(fill);
}
