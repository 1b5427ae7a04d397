// The wall screen in a real browser (Debian's Chromium through playwright-core) against the real
// server and the tiny synthetic city: all 41 tiles equal /api/indicators at 1920×1080 and
// 3840×2160, crisp (rem and canvases at native resolution), a breached threshold red with its
// reason, the drill path map → district → town → community → people and back, no console errors.
// Screenshots go to test-results/screen/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  bounded,
  chartsReady,
  DEMO,
  launchBrowser,
  newContext,
  poll,
  shotPath,
  signIn,
  startApp,
  watchConsole,
  type App
} from './support/app.ts';
import { formatValue } from '../lib/format.ts';
import type { IndicatorsResponse } from '../lib/components/screen/types.ts';

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

async function apiIndicators(page: Page, region: string): Promise<IndicatorsResponse> {
  return page.evaluate(async (r) => (await fetch(`/api/indicators?region=${r}`)).json(), region);
}

async function expectTilesMatch(page: Page, api: IndicatorsResponse): Promise<void> {
  await poll(() => page.locator('[data-indicator]').count()).toBe(41);
  const tiles = await page.$$eval('[data-indicator]', (els) =>
    els.map((e) => ({
      code: e.getAttribute('data-indicator'),
      value: e.getAttribute('data-value'),
      status: e.getAttribute('data-status'),
      text: e.querySelector('[data-testid=tile-value]')?.textContent?.trim() ?? ''
    }))
  );
  expect(tiles.map((t) => t.code).sort()).toEqual(api.indicators.map((i) => i.code).sort());
  for (const ind of api.indicators) {
    const tile = tiles.find((t) => t.code === ind.code)!;
    expect(tile.value, ind.code).toBe(ind.value === null ? '' : String(ind.value));
    expect(tile.status, ind.code).toBe(ind.status);
    expect(tile.text, ind.code).toBe(formatValue(ind.value, ind.unit, 'zh').full);
  }
}

/**
 * The gauge, funnel and ring are drawn by the page itself (SVG/HTML): check what they show against
 * /api/indicators — the gauge's value, needle and bands (C01 and its limits), the funnel's stages
 * (C07 weak-only, C04 field tasks, C06 suspended) and the ring's sectors (S02's breakdown, largest
 * first, each sweep in proportion).
 */
async function expectShapesMatch(page: Page, api: IndicatorsResponse): Promise<void> {
  const by = (code: string) => api.indicators.find((i) => i.code === code)!;
  const c01 = by('C01');
  const v = Number(c01.value);
  const gauge = await page.$eval('[data-testid=chart-coverage]', (el) => ({
    label: el.getAttribute('aria-label'),
    min: Number(el.getAttribute('data-min')),
    needle: Number(el.getAttribute('data-needle')),
    bands: [...el.querySelectorAll('path[data-band]')].map((b) => [Number(b.getAttribute('data-from')), Number(b.getAttribute('data-to'))])
  }));
  expect(gauge.label).toContain(formatValue(v, '%', 'zh').full);
  expect(v).toBeGreaterThanOrEqual(gauge.min);
  expect(gauge.needle).toBeCloseTo(((v - gauge.min) / (100 - gauge.min)) * 240 - 120, 1);
  const below = c01.bounds!.below!;
  expect(gauge.bands.map((b) => b[1])).toEqual([below.critical, below.warn, 100].filter((x) => x! > gauge.min));

  const stages = Object.fromEntries(
    await page.$$eval('[data-testid=chart-funnel] li', (lis) =>
      lis.map((li) => [li.getAttribute('data-stage'), li.getAttribute('data-value')])
    )
  );
  expect(Object.keys(stages)[0]).toBe('silent');
  expect(stages.weak).toBe(String(by('C07').value));
  expect(stages.field).toBe(String(by('C04').value));
  expect(stages.suspended).toBe(String(by('C06').value));

  const parts = (by('S02').breakdown ?? []).filter((b) => b.value !== null && b.value > 0).sort((a, b) => b.value! - a.value!);
  const total = parts.reduce((a, b) => a + b.value!, 0);
  const sectors = await page.$$eval('[data-testid=chart-subsidy] path[data-share]', (ps) =>
    ps.map((p) => ({
      key: p.getAttribute('data-share'),
      sweep: Number(p.getAttribute('data-to')) - Number(p.getAttribute('data-from'))
    }))
  );
  expect(sectors.map((s) => s.key)).toEqual(parts.map((p) => p.key));
  expect(parts.length).toBeGreaterThan(1);
  for (const [i, s] of sectors.entries()) {
    const share = (parts[i].value! / total) * 360;
    if (share > 3) expect(Math.abs(s.sweep - share)).toBeLessThan(3 * parts.length); // proportional, less what tiny slivers borrow
  }
  expect(sectors.reduce((a, s) => a + s.sweep, 0)).toBeCloseTo(360, 0);
}

/**
 * The header's three parts — area, title, period/freshness/clock — must not run into each other. Each
 * part's extent is the union of its descendants' boxes (a grid cell's own box hides content that
 * overflows it). Returns the pairs that overlap, e.g. ["title/side"]; the English title once ran under
 * the period and the clock.
 */
async function headerOverlaps(page: Page): Promise<string[]> {
  return bounded(
    'measuring the header',
    page.$$eval('header.top > *', (parts) => {
      const spans = parts.map((part) => {
        let left = Infinity,
          right = -Infinity;
        for (const el of [part, ...part.querySelectorAll('*')]) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 || getComputedStyle(el).visibility === 'hidden') continue;
          left = Math.min(left, r.left);
          right = Math.max(right, r.right);
        }
        return { name: part.className.split(' ')[0], left, right };
      });
      const out: string[] = [];
      for (let i = 0; i + 1 < spans.length; i++) if (spans[i].right > spans[i + 1].left) out.push(`${spans[i].name}/${spans[i + 1].name}`);
      return out;
    })
  );
}

describe('the wall screen', () => {
  for (const [width, height] of [
    [1920, 1080],
    [3840, 2160]
  ] as const) {
    it(`renders all 41 indicators equal to /api/indicators at ${width}×${height}, crisp, with no console errors`, async () => {
      const context = await newContext(browser, { viewport: { width, height } });
      const page = await signIn(context, app.url, DEMO.leader);
      const seen = watchConsole(page);
      await page.goto(`${app.url}/screen`);
      await poll(() => page.url()).toMatch(/\/screen\/\d{12}$/);
      const region = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
      const api = await apiIndicators(page, region);
      expect(api.indicators).toHaveLength(41);
      await expectTilesMatch(page, api);
      const charts = await chartsReady(page);
      expect(charts).toBeGreaterThanOrEqual(6); // people flow, payout trend, gauge, funnel, subsidy ring, map
      // The gauge's limits are the model's (C01's thresholds.bound), not a copy in the page.
      const below = api.indicators.find((i) => i.code === 'C01')!.bounds!.below!;
      expect(await page.textContent('.gauge .limits')).toBe(`预警<${below.warn} 严重<${below.critical}`);
      await expectShapesMatch(page, api);
      // 1rem = 100 design px × scale: 100px at 1920×1080, 200px at 3840×2160 — type scales, not pixels.
      const rootPx = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
      expect(rootPx).toBeCloseTo(100 * (width / 1920), 0);
      // Canvases at native resolution (backing store = CSS size × devicePixelRatio): nothing is stretched.
      const canvases = await page.$$eval('[data-chart-ready] canvas', (cs) =>
        cs.map((c) => ({
          w: (c as HTMLCanvasElement).width,
          css: c.getBoundingClientRect().width,
          dpr: window.devicePixelRatio
        }))
      );
      for (const c of canvases) expect(Math.abs(c.w - c.css * c.dpr)).toBeLessThanOrEqual(2);
      // Nothing spills out of the viewport (no scrollbars on a wall).
      const overflow = await page.evaluate(() => [
        document.documentElement.scrollWidth - innerWidth,
        document.documentElement.scrollHeight - innerHeight
      ]);
      expect(overflow).toEqual([0, 0]);
      expect(await headerOverlaps(page)).toEqual([]);
      await page.screenshot({ path: shotPath(`screen-city-${width}x${height}.png`) });
      expect(seen.errors).toEqual([]);
      expect(seen.network).toEqual([]);
      await context.close();
    }, 300_000);
  }

  it('renders crisply on a high-DPI laptop (1440×900 at 2×)', async () => {
    const context = await newContext(browser, { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 2 });
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    await chartsReady(page);
    const c = await bounded(
      'measuring the payout canvas',
      page.$eval('[data-testid=chart-payout] canvas', (el) => ({
        w: (el as HTMLCanvasElement).width,
        css: el.getBoundingClientRect().width
      }))
    );
    expect(Math.abs(c.w - c.css * 2)).toBeLessThanOrEqual(2);
    expect(await headerOverlaps(page)).toEqual([]);
    await page.screenshot({ path: shotPath('screen-laptop-1440x900@2x.png') });
    // The English header is longer: it must still fit at the laptop's narrower aspect.
    await page.click('[data-testid=lang-toggle]');
    await poll(() => page.locator('[data-family="P"] h2').textContent()).toContain('People');
    expect(await headerOverlaps(page)).toEqual([]);
    await bounded('closing the laptop context', context.close());
  }, 300_000);

  it('shows a breached threshold in red with its icon and reason, on hover and on keyboard focus', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const region = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    const api = await apiIndicators(page, region);
    const breached = api.indicators.find((i) => i.status === 'critical');
    expect(breached, 'the tiny city plants paid-after-death cases: R01 must be critical').toBeTruthy();
    const tile = page.locator(`[data-indicator="${breached!.code}"]`);
    await poll(() => tile.getAttribute('data-status')).toBe('critical');
    // The families page in pairs beside the map: show the breached tile's page.
    await page.click(`[data-testid=family-pages] button:has([data-page-family="${breached!.family}"])`);
    // Red, and not by colour alone: the ✕ icon.
    const look = await tile.evaluate((el) => ({
      border: getComputedStyle(el).borderLeftColor,
      num: getComputedStyle(el.querySelector('.num')!).color,
      icon: el.querySelector('.icon')!.textContent
    }));
    expect(look.border).toBe('rgb(255, 77, 79)');
    expect(look.num).toBe('rgb(255, 138, 138)');
    expect(look.icon).toBe('✕');
    // The reason on hover …
    await tile.hover();
    const tip = page.locator('[data-testid=reason-tip]');
    await poll(() => tip.textContent()).toContain(breached!.reason_zh!);
    await page.screenshot({ path: shotPath('screen-reason-hover.png') });
    await page.mouse.move(5, 5);
    await poll(() => tip.count()).toBe(0);
    // … and on keyboard focus (and for screen readers via aria-describedby).
    await tile.locator('button.main').focus();
    await poll(() => tip.textContent()).toContain(breached!.reason_zh!);
    const described = await tile
      .locator('button.main')
      .evaluate((b) => document.getElementById(b.getAttribute('aria-describedby')!)?.textContent ?? '');
    expect(described).toContain(breached!.reason_zh!);
    await context.close();
  }, 300_000);

  it('drills map → district → town → community → people list and back via the breadcrumb; the URL is bookmarkable', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen`);
    const city = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    await chartsReady(page);
    // The fund's figures are city-level (docs/indicators.md): on the city's screen nothing needs saying …
    const cityLevel = (await apiIndicators(page, city)).indicators
      .filter((i) => i.city_level)
      .map((i) => i.code)
      .sort();
    expect(cityLevel).toEqual(['A06', 'A07']);
    expect(await page.locator('[data-testid=city-wide]').count()).toBe(0);

    // City → district: click the district on the map.
    const districtSpot = page.locator('[data-testid=region-map] a[data-region]').first();
    const district = (await districtSpot.getAttribute('data-region'))!;
    await districtSpot.click();
    await page.waitForURL(`**/screen/${city}/${district}`);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(district);
    await expectTilesMatch(page, await apiIndicators(page, district));
    // … on a district's screen their tiles say they show the city's figure, and the tip says why.
    expect(
      (
        await page.$$eval('[data-testid=city-wide]', (els) => els.map((e) => e.closest('[data-indicator]')!.getAttribute('data-indicator')))
      ).sort()
    ).toEqual(cityLevel);
    await page.locator('[data-indicator="A07"]').hover();
    await poll(() => page.locator('[data-testid=city-wide-hint]').textContent()).toContain('全市统筹');
    await page.mouse.move(5, 5);
    await chartsReady(page);
    await page.screenshot({ path: shotPath('drill-1-district.png') });

    // District → town: the district's map shows its towns.
    const townSpot = page.locator('[data-testid=region-map] a[data-region]').first();
    const town = (await townSpot.getAttribute('data-region'))!;
    await townSpot.click();
    await page.waitForURL(`**/screen/${city}/${district}/${town}`);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(town);
    // The town's map shows its communities (and the ranked bars beside it list them too).
    const townChildren = (await apiIndicators(page, town)).region.children.length;
    await poll(() => page.locator('[data-testid=region-map] a[data-region]').count()).toBe(townChildren);
    await poll(() => page.locator('[data-testid=ranked-bars] a[data-region]').count()).toBe(townChildren);
    await chartsReady(page); // the artifact shows finished charts, not their entry animation
    await page.screenshot({ path: shotPath('drill-2-town.png') });

    // Town → community: click it on the map.
    const communitySpot = page.locator('[data-testid=region-map] a[data-region]').first();
    const community = (await communitySpot.getAttribute('data-region'))!;
    await communitySpot.click();
    await page.waitForURL(`**/screen/${city}/${district}/${town}/${community}`);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(community);
    await expectTilesMatch(page, await apiIndicators(page, community));
    await chartsReady(page);
    await page.screenshot({ path: shotPath('drill-3-community.png') });

    // Community → the people behind P01 (masked): the list of the month the tile shows, as many
    // people as the tile says (the link carries the month).
    const shown = await page.getAttribute('article.tile[data-indicator="P01"]', 'data-value');
    const month = await page.getAttribute('[data-testid=cockpit]', 'data-period');
    await page.locator('[data-indicator="P01"] [data-testid=people-link]').click();
    await page.waitForURL(
      (u) => u.pathname.endsWith(`/screen/${city}/${district}/${town}/${community}/people/P01`) && u.searchParams.get('period') === month
    );
    await poll(() => page.locator('[data-testid=people-table] tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getAttribute('[data-testid=people-total]', 'data-total')).toBe(shown);
    // The count is said once ("共 41 人", not "共 41 人（41人）").
    expect((await page.textContent('[data-testid=people-total]'))!.trim()).toBe(`共 ${Number(shown).toLocaleString('en-US')} 人`);
    const ids = await page.$$eval('[data-testid=people-table] td.id', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(ids.every((id) => id.includes('*'))).toBe(true);
    // The list's own column from the model: when each recipient started, as a Chinese month.
    expect(await page.textContent('[data-testid=people-table] th[data-column=recipient_from]')).toBe('领取起始月');
    const since = await page.$$eval('[data-testid=people-table] tbody tr', (trs) =>
      trs.map((tr) => tr.lastElementChild!.textContent!.trim())
    );
    expect(
      since.every((s) => /^\d{4}年\d{1,2}月$/.test(s)),
      since.join(' ')
    ).toBe(true);
    await page.screenshot({ path: shotPath('drill-4-people.png') });

    // Back up via the breadcrumb to the district (same month); a reload of that URL (a bookmark) shows the same area.
    await page.locator(`[data-testid=breadcrumb] a[data-region="${district}"]`).click();
    await page.waitForURL((u) => u.pathname.endsWith(`/screen/${city}/${district}`) && u.searchParams.get('period') === month);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(district);
    await page.reload();
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-region')).toBe(district);
    await page.locator(`[data-testid=breadcrumb] a[data-region="${city}"]`).click();
    await page.waitForURL((u) => u.pathname.endsWith(`/screen/${city}`));
    expect(seen.errors).toEqual([]);
    expect(seen.network).toEqual([]);
    await context.close();
  }, 300_000);

  it('a path that is not the real ancestry is redirected to it; the map indicator follows the selected tile', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const city = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    const api = await apiIndicators(page, city);
    const district = api.region.children[0].code;
    await page.goto(`${app.url}/screen/${district}`);
    await page.waitForURL(`**/screen/${city}/${district}`);
    // Selecting a tile puts its indicator on the map and ranked bars.
    await page.click('[data-testid=family-pages] button:has([data-page-family="C"])');
    await page.locator('[data-indicator="C01"] button.main').click();
    await poll(() => page.inputValue('[data-testid=indicator-select]')).toBe('C01');
    const rows = await page.evaluate(async (r) => (await fetch(`/api/indicators/C01/regions?region=${r}`)).json(), district);
    const first = await page.locator('[data-testid=ranked-bars] li').first().textContent();
    const top = [...rows.rows].sort((a: { value: number }, b: { value: number }) => b.value - a.value)[0];
    expect(first).toContain(top.name);
    await context.close();
  }, 300_000);

  it('switches to English and back, and to the 3D map when WebGL is available', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen`);
    await chartsReady(page);
    await page.click('[data-testid=lang-toggle]');
    await poll(() => page.locator('[data-family="P"] h2').textContent()).toContain('People');
    await chartsReady(page);
    expect(await headerOverlaps(page)).toEqual([]);
    await page.screenshot({ path: shotPath('screen-city-english.png') });
    await page.reload();
    await poll(() => page.locator('[data-family="P"] h2').textContent()).toContain('People');
    await page.click('[data-testid=lang-toggle]');
    await poll(() => page.locator('[data-family="P"] h2').textContent()).toContain('人员');
    const gl = await page.evaluate(() => !!document.createElement('canvas').getContext('webgl'));
    await page.click('[data-testid=map-3d]');
    if (gl) {
      await poll(() => page.getAttribute('[data-testid=region-map]', 'data-mode')).toBe('3d');
      await page.waitForSelector('[data-testid=chart-map3d][data-chart-ready=true]', { timeout: 30_000 });
      await page.screenshot({ path: shotPath('screen-city-3d.png') });
    } else {
      await poll(() => page.getAttribute('[data-testid=region-map]', 'data-mode')).toBe('2d');
    }
    expect(seen.errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('marks the screen when a feed is older than its expected interval (stale-data watermark), and says which', async () => {
    await app.db.pool.query(`UPDATE ingest_files SET loaded_at = now() - interval '40 days' WHERE feed = 'payments'`);
    try {
      const context = await newContext(browser);
      const page = await signIn(context, app.url, DEMO.leader);
      await page.goto(`${app.url}/screen`);
      await poll(() => page.locator('[data-testid=stale-watermark]').count()).toBe(1);
      expect(Number(await page.getAttribute('[data-testid=freshness]', 'data-stale'))).toBeGreaterThanOrEqual(1);
      await page.hover('[data-testid=freshness]');
      await poll(() => page.locator('#freshness-list li.bad').first().textContent()).toContain('✕');
      await chartsReady(page);
      await page.screenshot({ path: shotPath('screen-stale-watermark.png') });
      await context.close();
    } finally {
      await app.db.pool.query(`UPDATE ingest_files SET loaded_at = now() WHERE feed = 'payments'`);
    }
  }, 300_000);

  it('lets the leader pick an earlier period, kept in the URL', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const region = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    const api = await apiIndicators(page, region);
    const earlier = api.periods[api.periods.length - 3];
    await page.selectOption('[data-testid=period]', earlier);
    await poll(() => new URL(page.url()).searchParams.get('period')).toBe(earlier);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-period')).toBe(earlier);
    const then = await page.evaluate(async ([r, p]) => (await fetch(`/api/indicators?region=${r}&period=${p}`)).json(), [region, earlier]);
    await expectTilesMatch(page, then);
    await context.close();
  }, 300_000);
});
