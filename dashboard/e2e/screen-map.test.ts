// The wall screen's map as its centrepiece (issue 18 point 6): in a real browser against the real
// server and the tiny synthetic city, the map draws the city's organic generated shapes (not a grid
// of rectangles), at least twice the area of the old ≈300×250 px map at 1920×1080 with the page still
// fitting the screen, and a town's screen has a map of its communities too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { bounded, chartsReady, DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, type App } from './support/app.ts';
import type { GeoCollection, IndicatorsResponse } from '../lib/components/screen/types.ts';

let app: App;
let browser: Browser;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const OLD_MAP_AREA = 300 * 250;

async function apiIndicators(page: Page, region: string): Promise<IndicatorsResponse> {
  return page.evaluate(async (r) => (await fetch(`/api/indicators?region=${r}`)).json(), region);
}
async function apiGeo(page: Page, region: string): Promise<GeoCollection> {
  return page.evaluate(async (r) => (await fetch(`/api/geo?region=${r}`)).json(), region);
}

/** The map's canvas box, the box its shapes are drawn in (the map's own projection), and whether the page scrolls. */
async function mapBoxes(page: Page) {
  await poll(() => page.getAttribute('[data-testid=region-map]', 'data-shapes-box')).toBeTruthy();
  return bounded(
    'measuring the map',
    page.evaluate(() => {
      const canvas = document.querySelector('[data-testid=chart-map] canvas') as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      const [, , w, h] = document.querySelector('[data-testid=region-map]')!.getAttribute('data-shapes-box')!.split(',').map(Number);
      const root = document.scrollingElement!;
      return {
        canvas: { w: box.width, h: box.height },
        drawn: { w, h },
        scrolls: root.scrollHeight > innerHeight + 1 || root.scrollWidth > innerWidth + 1
      };
    })
  );
}

/** The map canvas's pixel (alpha) under each region's label (placed at a point inside its shape). */
async function paintedUnderLabels(page: Page): Promise<{ code: string; alpha: number }[]> {
  return bounded(
    'sampling the map',
    page.evaluate(() => {
      const canvas = document.querySelector('[data-testid=chart-map] canvas') as HTMLCanvasElement;
      const box = canvas.getBoundingClientRect();
      const k = canvas.width / box.width;
      const ctx = canvas.getContext('2d')!;
      return [...document.querySelectorAll<HTMLElement>('[data-testid=region-map] a[data-region]')].map((a) => {
        const x = Math.round(parseFloat(a.style.left) * k);
        const y = Math.round(parseFloat(a.style.top) * k);
        return { code: a.dataset.region!, alpha: ctx.getImageData(x, y, 1, 1).data[3] };
      });
    })
  );
}

/** How much of its bounding box a polygon fills (a rectangle: 1). */
function boxFill(ring: [number, number][]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  const xs = ring.map((p) => p[0]);
  const ys = ring.map((p) => p[1]);
  return Math.abs(a / 2) / ((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys)));
}

/**
 * The share of the boundaries' length that runs within 15° of horizontal or vertical (lng scaled by
 * cos 30°): a grid of (even jittered) rectangles is mostly axis-aligned (0.7–0.9 for the old lattice),
 * organic boundaries run every way (≈ 1/3).
 */
function axisShare(rings: [number, number][][]): number {
  let axis = 0;
  let total = 0;
  for (const r of rings)
    for (let i = 0; i + 1 < r.length; i++) {
      const dx = (r[i + 1][0] - r[i][0]) * 0.87;
      const dy = r[i + 1][1] - r[i][1];
      const len = Math.hypot(dx, dy);
      const a = Math.abs((Math.atan2(dy, dx) * 180) / Math.PI) % 90;
      total += len;
      if (Math.min(a, 90 - a) < 15) axis += len;
    }
  return axis / total;
}

describe('the map leads the wall screen', () => {
  it('draws organic shapes, not rectangles: many-cornered areas whose edges run every way, each painted under its label', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    await chartsReady(page);
    const city = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    const geo = await apiGeo(page, city);
    expect(geo.features.length).toBe((await apiIndicators(page, city)).region.children.length);
    for (const f of geo.features) {
      const ring = (f.geometry.coordinates as [number, number][][])[0];
      expect(ring.length, f.properties.code).toBeGreaterThan(12);
      expect(boxFill(ring), f.properties.code).toBeLessThan(0.9);
    }
    const fills = geo.features.map((f) => boxFill((f.geometry.coordinates as [number, number][][])[0]));
    expect(fills.reduce((s, x) => s + x, 0) / fills.length).toBeLessThan(0.8);
    expect(axisShare(geo.features.map((f) => (f.geometry.coordinates as [number, number][][])[0]))).toBeLessThan(0.55);
    await poll(() => page.locator('[data-testid=region-map] a[data-region]').count()).toBe(geo.features.length);
    for (const s of await paintedUnderLabels(page)) expect(s.alpha, `${s.code} painted under its label`).toBeGreaterThan(200);
    await page.screenshot({ path: shotPath('map-organic-city.png') });
    await bounded('closing the context', context.close());
  });

  for (const viewport of [
    { width: 1920, height: 1080 },
    { width: 3840, height: 2160 },
    { width: 1440, height: 900 }
  ])
    it(`is at least twice the old map's area (scaled) at ${viewport.width}×${viewport.height}, and the page still fits`, async () => {
      const context = await newContext(browser, { viewport });
      const page = await signIn(context, app.url, DEMO.leader);
      await page.goto(`${app.url}/screen`);
      await chartsReady(page);
      const scale = Math.min(viewport.width / 1920, viewport.height / 1080);
      const m = await mapBoxes(page);
      console.log(`map at ${viewport.width}×${viewport.height}:`, JSON.stringify(m));
      expect(m.canvas.w * m.canvas.h).toBeGreaterThanOrEqual(2 * OLD_MAP_AREA * scale * scale);
      // the shapes themselves, not only the canvas they are drawn on
      expect(m.drawn.w * m.drawn.h).toBeGreaterThanOrEqual(2 * OLD_MAP_AREA * scale * scale);
      expect(m.scrolls).toBe(false);
      await page.screenshot({ path: shotPath(`map-size-${viewport.width}.png`) });
      await bounded('closing the context', context.close());
    });

  it("a town's screen has a map of its communities, and a click on one opens it", async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const city = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    const district = (await apiIndicators(page, city)).region.children[0].code;
    const town = (await apiIndicators(page, district)).region.children[0].code;
    await page.goto(`${app.url}/screen/${city}/${district}/${town}`);
    await chartsReady(page);
    const children = (await apiIndicators(page, town)).region.children.map((c) => c.code).sort();
    expect(children.length).toBeGreaterThan(1);
    const spots = page.locator('[data-testid=region-map] a[data-region]');
    await poll(() => spots.count()).toBe(children.length);
    expect((await spots.evaluateAll((els) => els.map((e) => e.getAttribute('data-region')!))).sort()).toEqual(children);
    for (const s of await paintedUnderLabels(page)) expect(s.alpha, `${s.code} painted under its label`).toBeGreaterThan(200);
    const m = await mapBoxes(page);
    expect(m.drawn.w * m.drawn.h).toBeGreaterThanOrEqual(2 * OLD_MAP_AREA);
    expect(m.scrolls).toBe(false);
    await page.screenshot({ path: shotPath('map-town.png') });
    const first = spots.first();
    const community = (await first.getAttribute('data-region'))!;
    await first.click();
    await page.waitForURL(`**/screen/${city}/${district}/${town}/${community}`);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(community);
    await bounded('closing the context', context.close());
  });
});
