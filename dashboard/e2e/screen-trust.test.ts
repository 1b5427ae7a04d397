// What a director must be able to trust on the wall screen (issue 18), in a real browser against the
// real server and the tiny synthetic city:
//  - times: a just-raised alert reads "刚刚" whatever the time zones of the browser and the server;
//  - colours: green only for a judged indicator, a neutral state (no tick) for the others, panels
//    that never say "全部正常" over tiles without data, no gauge needle without a value;
//  - the certification counts are parallel bars (the stages do not nest), widths in the values' order;
//  - error pages: styled outside the screens too, and a refusal says its real reason.
// Screenshots go to test-results/screen/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chartsReady, DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, type App } from './support/app.ts';
import { createKioskToken } from '../../core/accounts.ts';
import type { IndicatorsResponse } from '../lib/components/screen/types.ts';

let app: App;
let browser: Browser;
let city: string;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  city = (await app.db.pool.query(`SELECT code FROM regions WHERE level = 'city'`)).rows[0].code;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function apiIndicators(page: Page, region: string, period?: string): Promise<IndicatorsResponse> {
  return page.evaluate(async ([r, p]) => (await fetch(`/api/indicators?region=${r}${p ? `&period=${p}` : ''}`)).json(), [
    region,
    period ?? ''
  ] as const);
}

describe('times on the wall screen', () => {
  // The server sends every time with its offset; the browser turns it into "how long ago". Either
  // side in another time zone must not shift it: "8小时前" for a new alert was the symptom.
  for (const [browserTz, serverTz] of [
    ['Asia/Shanghai', 'UTC'],
    ['UTC', 'Asia/Shanghai']
  ] as const) {
    it(`a just-raised alert reads 刚刚 with the browser in ${browserTz} and the server in ${serverTz}`, async () => {
      await app.stopServer();
      await app.startServer({ TZ: serverTz });
      const context = await newContext(browser, { timezoneId: browserTz });
      let id: string | null = null;
      try {
        const page = await signIn(context, app.url, DEMO.leader);
        // refresh=2: the ticker polls every 2 s, so the alert is seen seconds after it is raised, on a
        // page that is already showing (a loaded machine may take a minute to sign in and render)
        await page.goto(`${app.url}/screen/${city}?refresh=2`);
        await poll(() => page.locator('[data-testid=alert-ticker] li[data-alert]').count()).toBeGreaterThan(0);
        // the browser really is in that zone
        expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe(browserTz);
        const raised = await app.db.pool.query(
          `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, region_code, opened_at, detected_as_of)
           SELECT rule, id_number, 'e2e-tz-' || $1::text, severity, amount_at_risk, region_code, now(), detected_as_of
             FROM alerts WHERE active ORDER BY alert_id LIMIT 1
           RETURNING alert_id, opened_at`,
          [browserTz]
        );
        id = String(raised.rows[0].alert_id);
        const row = page.locator(`[data-testid=alert-ticker] li[data-alert="${id}"]`);
        await poll(() => row.count(), 180_000).toBe(1);
        const when = (await row.locator('.when').textContent())?.trim() ?? '';
        const age = (Date.now() - (raised.rows[0].opened_at as Date).getTime()) / 1000;
        // "刚刚" when shown within the minute; a machine so loaded that the poll took longer may say
        // "N分钟前", but never more minutes than have passed — an offset lost on the way reads as hours.
        if (age < 55) expect(when, `shown ${age.toFixed(0)} s after it was raised`).toBe('刚刚');
        const minutes = when === '刚刚' ? 0 : Number(/^(\d+)分钟前$/.exec(when)?.[1] ?? NaN);
        expect(minutes, `"${when}" shown ${age.toFixed(0)} s after it was raised`).toBeLessThanOrEqual(Math.ceil(age / 60));
        await page.screenshot({ path: shotPath(`screen-ticker-browser-${browserTz.replace('/', '-')}.png`) });
      } finally {
        await context.close();
        if (id) await app.db.pool.query(`DELETE FROM alerts WHERE alert_id = $1`, [id]);
      }
    }, 480_000);
  }
});

describe('honest colours', () => {
  it('green means judged and fine: a tile without a bound that fired nothing is neutral, with no tick', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const api = await apiIndicators(page, city);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    const tiles = await page.$$eval('article[data-indicator]', (els) =>
      els.map((e) => ({
        code: e.getAttribute('data-indicator')!,
        status: e.getAttribute('data-status')!,
        icon: e.querySelector('.icon')!.textContent,
        edge: getComputedStyle(e).borderLeftColor
      }))
    );
    const neutral = tiles.filter((t) => t.status === 'neutral');
    expect(neutral.length, 'the tiny city has indicators without a bound that fired nothing').toBeGreaterThan(5);
    for (const t of neutral) {
      expect(t.icon, t.code).not.toBe('✓');
      expect(t.edge, t.code).toBe('rgb(127, 166, 214)');
    }
    for (const t of tiles.filter((x) => x.status === 'ok')) {
      expect(api.indicators.find((i) => i.code === t.code)!.bounds, `${t.code} is green without a bound`).not.toBeNull();
      expect(t.icon, t.code).toBe('✓');
    }
    // P04 (no threshold at all) and H01 (only a last-year rule) are never green
    expect(tiles.find((t) => t.code === 'P04')!.status).toBe('neutral');
    expect(tiles.find((t) => t.code === 'H01')!.status).not.toBe('ok');
    await context.close();
  }, 300_000);

  it('a month without the "now" figures: panels never say 全部正常 over tiles without data, the gauge has no needle, no empty bars', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen`);
    const periods = (await apiIndicators(page, city)).periods;
    const earliest = periods[0];
    await page.goto(`${app.url}/screen/${city}?period=${earliest}`);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-period')).toBe(earliest);
    const api = await apiIndicators(page, city, earliest);
    expect(api.indicators.find((i) => i.code === 'C01')!.value, 'no coverage snapshot for the earliest month').toBeNull();
    await chartsReady(page);
    const panels = await page.$$eval('section[data-family]', (ps) =>
      ps.map((p) => ({
        family: p.getAttribute('data-family'),
        summary: p.querySelector('[data-testid=family-summary]')!.getAttribute('data-summary'),
        text: p.querySelector('[data-testid=family-summary]')!.textContent!.trim(),
        statuses: [...p.querySelectorAll('article[data-indicator]')].map((t) => t.getAttribute('data-status'))
      }))
    );
    for (const p of panels) {
      if (p.statuses.includes('no_data')) {
        expect(p.summary, p.family!).not.toBe('clear');
        expect(p.text, p.family!).not.toContain('全部正常');
      }
      if (p.statuses.every((s) => s === 'no_data')) expect(p.text, p.family!).toContain('暂无数据');
    }
    expect(panels.find((p) => p.family === 'C')!.text).toMatch(/项暂无数据|超阈值/);
    // No value, no needle (it pointed at the scale's start, reading as a value), and no bars for the counts
    expect(await page.locator('[data-testid=chart-coverage] .needle').count()).toBe(0);
    expect(await page.getAttribute('[data-testid=chart-coverage]', 'data-needle')).toBeNull();
    expect(await page.locator('[data-testid=chart-funnel] .bar').count()).toBe(0);
    await page.screenshot({ path: shotPath('screen-past-month-no-now.png') });
    await context.close();
  }, 300_000);

  it('draws the certification counts as parallel bars: widths in the order of the values, labels never inside a bar', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen?ind=C01`); // the certification family's page
    await chartsReady(page);
    const chart = page.locator('[data-testid=chart-funnel]');
    expect(await chart.getAttribute('data-shape')).toBe('bars');
    const stages = await chart.evaluate((ol) =>
      [...ol.querySelectorAll('li')].map((li) => {
        const bar = li.querySelector('.bar');
        const text = li.querySelector('.text') as HTMLElement;
        return {
          key: li.getAttribute('data-stage'),
          value: li.getAttribute('data-value') === '' ? null : Number(li.getAttribute('data-value')),
          width: bar ? bar.getBoundingClientRect().width : 0,
          left: bar ? bar.getBoundingClientRect().left : null,
          trackLeft: li.querySelector('.track')!.getBoundingClientRect().left,
          clip: bar ? getComputedStyle(bar).clipPath : 'none',
          textFits: text.scrollWidth <= text.clientWidth + 1,
          textInBar: bar ? bar.contains(text) : false
        };
      })
    );
    expect(stages.map((s) => s.key).slice(0, 3)).toEqual(['silent', 'weak', 'field']);
    expect(stages.filter((s) => s.value !== null && s.value > 0).length).toBeGreaterThan(2);
    for (const a of stages)
      for (const b of stages)
        if (a.value !== null && b.value !== null && a.value > b.value)
          expect(a.width, `${a.key} (${a.value}) is drawn narrower than ${b.key} (${b.value})`).toBeGreaterThanOrEqual(b.width);
    for (const s of stages) {
      expect(s.clip, `${s.key} is a bar, not a trapezoid`).toBe('none');
      if (s.left !== null) expect(Math.abs(s.left - s.trackLeft), `${s.key} starts at the common base line`).toBeLessThan(1);
      expect(s.textFits, `${s.key}'s label fits its line`).toBe(true);
      expect(s.textInBar).toBe(false);
      if (s.value === null || s.value === 0) expect(s.width, `${s.key} without a value has no bar`).toBe(0);
    }
    await chart.screenshot({ path: shotPath('cert-counts.png') });
    await context.close();
  }, 300_000);
});

describe('error and refusal pages', () => {
  it('a 404 outside the screens is a styled page with the way home, not bare browser text', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    for (const path of ['/no-such-page', '/login/nothing-here']) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res!.status(), path).toBe(404);
      const box = page.locator('[data-testid=error-page]');
      await poll(() => box.getAttribute('data-status')).toBe('404');
      expect(await page.locator('h1').textContent()).toBe('没有找到该页面');
      expect(await page.locator('[data-testid=error-reason]').textContent()).toContain(path);
      // styled: the front door's dark background and a link home
      const look = await box.evaluate((el) => ({ bg: getComputedStyle(el).backgroundImage, font: getComputedStyle(el).fontSize }));
      expect(look.bg).toContain('gradient');
      expect(parseFloat(look.font)).toBeGreaterThanOrEqual(18);
      expect(await page.getAttribute('a.primary', 'href')).toBe('/');
    }
    // an attempt to inject markup through the address is shown as text
    await page.goto(`${app.url}/%3Cimg%20src=x%20onerror=alert(1)%3E`);
    expect(await page.locator('[data-testid=error-reason] img').count()).toBe(0);
    await page.screenshot({ path: shotPath('error-404-root.png') });
    await context.close();
  }, 300_000);

  it('a leader asking for unmasked names is told it is their role, with the masked list one click away', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    const res = await page.goto(`${app.url}/screen/${city}/people/P01?unmask=1`);
    expect(res!.status()).toBe(403);
    await poll(() => page.getAttribute('[data-testid=error-page]', 'data-reason')).toBe('unmask');
    expect(await page.locator('h1').textContent()).toBe('无权查看完整身份信息');
    const why = (await page.locator('[data-testid=error-reason]').textContent())!;
    expect(why).toContain('领导');
    expect(why).not.toContain('辖区');
    await page.screenshot({ path: shotPath('error-403-unmask.png') });
    await page.click('[data-testid=see-masked]');
    await page.waitForURL((u) => u.pathname === `/screen/${city}/people/P01` && !u.searchParams.has('unmask'));
    await poll(() => page.locator('[data-testid=people-table] tbody tr').count()).toBeGreaterThan(0);
    await context.close();
  }, 300_000);

  it('a wall-screen terminal asking for people is told terminals show totals only, not that the area is refused', async () => {
    const kiosk = await createKioskToken(app.db.pool, { type: 'system', name: 'e2e' }, { label: 'trust', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.url}/screen?token=${kiosk.token}`);
    await poll(() => page.locator('[data-testid=cockpit]').count()).toBe(1);
    const res = await page.goto(`${app.url}/screen/${city}/people/C05`);
    expect(res!.status()).toBe(403);
    await poll(() => page.getAttribute('[data-testid=error-page]', 'data-reason')).toBe('privacy');
    expect(await page.locator('h1').textContent()).toBe('此处不显示个人明细');
    expect(await page.locator('[data-testid=error-reason]').textContent()).toContain('大屏终端');
    expect(await page.textContent('body')).not.toContain('无权查看该区域');
    await page.screenshot({ path: shotPath('error-403-kiosk-people.png') });
    await context.close();
  }, 300_000);
});

describe('red numbers lead to their cases', () => {
  it('an R tile opens the alerts behind it, as many as it shows; a leader’s ticker row opens its alert in that list, an auditor’s in the workbench', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen/${city}?ind=R01`); // the R family's page
    await poll(() => page.locator('[data-testid=alert-ticker] li[data-alert]').count()).toBeGreaterThan(0);
    // the R count with the most alerts
    const values = await page.$$eval('[data-indicator^=R0]', (els) =>
      els.map((e) => ({ code: e.getAttribute('data-indicator')!, value: Number(e.getAttribute('data-value') || 0) }))
    );
    const counts = values.filter((v) => ['R01', 'R02', 'R03', 'R04'].includes(v.code)).sort((a, b) => b.value - a.value);
    expect(counts[0].value, 'the demo city has open alerts').toBeGreaterThan(0);
    const tile = page.locator(`article[data-indicator=${counts[0].code}]`);
    for (const code of ['R01', 'R02', 'R03', 'R04', 'R05', 'R06', 'R07', 'R08', 'R09'])
      expect(await page.locator(`article[data-indicator=${code}] [data-testid=people-link]`).getAttribute('href'), code).toMatch(
        new RegExp(`^/screen/${city}/alerts/${code}\\?period=\\d{4}-\\d{2}$`)
      );
    await tile.locator('[data-testid=people-link]').click();
    await page.waitForURL((u) => u.pathname === `/screen/${city}/alerts/${counts[0].code}`);
    await poll(() => page.getAttribute('[data-testid=alerts-total]', 'data-total')).toBe(String(counts[0].value));
    expect(await page.locator('[data-testid=alerts-table] tbody tr').count()).toBe(Math.min(50, counts[0].value));
    // read-only for a leader: no way into the workbench
    expect(await page.locator('[data-testid=alerts-table] a[href^="/workbench"]').count()).toBe(0);
    await page.screenshot({ path: shotPath(`screen-alerts-${counts[0].code}.png`) });

    await page.goto(`${app.url}/screen/${city}`);
    const row = page.locator('[data-testid=alert-ticker] li[data-alert]').first();
    await poll(() => row.count()).toBe(1);
    // read together: the ticker rotates between two reads
    const [id, href] = await row.evaluate((el) => [el.getAttribute('data-alert')!, el.querySelector('a.open')!.getAttribute('href')!]);
    expect(href).toMatch(new RegExp(`^/screen/${city}/alerts/R0\\d\\?period=\\d{4}-\\d{2}&alert=${id}#alert-${id}$`));
    await page.goto(`${app.url}${href}`);
    const marked = page.locator(`[data-testid=alerts-table] tr#alert-${id}`);
    await poll(() => marked.getAttribute('class')).toContain('focus');
    await context.close();

    const auditorContext = await newContext(browser);
    const auditor = await signIn(auditorContext, app.url, DEMO.auditor);
    await auditor.goto(`${app.url}/screen/${city}`);
    const first = auditor.locator('[data-testid=alert-ticker] li[data-alert]').first();
    await poll(() => first.count()).toBe(1);
    const [aid, ahref] = await first.evaluate((el) => [el.getAttribute('data-alert')!, el.querySelector('a.open')!.getAttribute('href')!]);
    expect(ahref).toBe(`/workbench/alerts/${aid}`);
    await auditorContext.close();
  }, 300_000);

  it('an alert that arrives while the screen shows stays pinned on top of the ticker while the others rotate', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/screen/${city}?refresh=2`);
    await poll(() => page.locator('[data-testid=alert-ticker] li[data-alert]').count()).toBeGreaterThan(1);
    const raised = await app.db.pool.query(
      `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, region_code, opened_at, detected_as_of)
       SELECT rule, id_number, 'e2e-pinned', severity, amount_at_risk, region_code, now(), detected_as_of
         FROM alerts WHERE active ORDER BY alert_id LIMIT 1
       RETURNING alert_id`
    );
    const id = String(raised.rows[0].alert_id);
    try {
      const items = page.locator('[data-testid=alert-ticker] li[data-alert]');
      await poll(() => items.first().getAttribute('data-alert'), 120_000).toBe(id);
      expect(await items.first().getAttribute('class')).toContain('pinned');
      // 12 s: two turns of the rotation (every 5 s) — the new alert is still the first row
      const secondBefore = await items.nth(1).getAttribute('data-alert');
      await page.waitForTimeout(12_000);
      expect(await items.first().getAttribute('data-alert')).toBe(id);
      const overflow = await page.$eval('[data-testid=alert-ticker]', (el) => el.scrollHeight > el.clientHeight + 2);
      if (overflow) expect(await items.nth(1).getAttribute('data-alert'), 'the rest rotates below it').not.toBe(secondBefore);
      // no effect loop (effect_update_depth_exceeded) or other error while the alert arrives and stays
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.db.pool.query(`DELETE FROM alerts WHERE alert_id = $1`, [id]);
    }
  }, 300_000);
});

describe('past months', () => {
  it('on a past month the "now" indicators say 仅当前 with no status colour, and the ticker says its alerts are current', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen/${city}`);
    await poll(() => page.locator('[data-testid=cockpit]').count()).toBe(1);
    const latest = await apiIndicators(page, city);
    const nowCodes = latest.indicators.filter((i) => i.grain === 'now').map((i) => i.code);
    expect(nowCodes.length).toBeGreaterThan(10);
    expect(latest.indicators.filter((i) => i.current_only)).toEqual([]);
    expect(await page.locator('[data-current-only]').count()).toBe(0);
    expect(await page.textContent('[data-testid=alerts-title]')).not.toContain('当前预警');

    const past = latest.periods[latest.periods.length - 4];
    const board = await apiIndicators(page, city, past);
    expect(board.period).toBe(past);
    for (const i of board.indicators) {
      expect(i.current_only, i.code).toBe(nowCodes.includes(i.code));
      if (i.current_only) expect([i.value, i.status], i.code).toEqual([null, 'no_data']);
    }
    await page.goto(`${app.url}/screen/${city}?period=${past}`);
    await poll(() => page.locator('[data-current-only]').count()).toBe(nowCodes.length);
    for (const code of nowCodes) {
      const tile = page.locator(`article[data-indicator=${code}]`);
      expect((await tile.locator('.foot').textContent())?.trim(), code).toBe('仅当前');
      expect(await tile.getAttribute('data-status'), code).not.toBe('ok');
    }
    expect(await page.textContent('[data-testid=alerts-title]')).toContain('当前预警');
    await page.screenshot({ path: shotPath('screen-past-month.png') });
    await context.close();
  }, 300_000);
  it('on a past month a "now" indicator with no value anywhere draws no map scale, and its 仅当前 tiles link to no list', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.leader);
    await page.goto(`${app.url}/screen/${city}`);
    await poll(() => page.locator('[data-testid=cockpit]').count()).toBe(1);
    const latest = await apiIndicators(page, city);
    const past = latest.periods[latest.periods.length - 4];
    // the "now" tiles that open a list today (people or alerts)
    const nowCodes = latest.indicators.filter((i) => i.grain === 'now').map((i) => i.code);
    const withList: string[] = [];
    for (const code of nowCodes)
      if ((await page.locator(`article[data-indicator=${code}] [data-testid=people-link]`).count()) > 0) withList.push(code);
    expect(withList.length).toBeGreaterThan(3);

    // The map's scale (visualMap, drawn on the canvas in a strip at the map's left): its bar's blue
    // pixels, counted; the areas are drawn right of that strip.
    const scalePixels = () =>
      page.evaluate(() => {
        const canvas = document.querySelector('[data-testid=chart-map] canvas') as HTMLCanvasElement;
        const k = canvas.width / canvas.getBoundingClientRect().width;
        const d = canvas.getContext('2d')!.getImageData(0, 0, Math.round(70 * k), canvas.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255 && d[i + 2] > d[i] + 40) n++;
        return n;
      });
    const showMap = async (code: string) => {
      await page.selectOption('[data-testid=indicator-select]', code);
      await poll(() => page.locator(`.mapArea[data-map-indicator=${code}]`).count()).toBe(1);
      await chartsReady(page);
    };
    await showMap('C01');
    expect(await scalePixels(), 'the latest month draws its scale').toBeGreaterThan(200);
    expect(await page.locator('[data-testid=map-no-data]').count()).toBe(0);

    await page.goto(`${app.url}/screen/${city}?period=${past}`);
    await poll(() => page.locator('[data-current-only]').count()).toBe(nowCodes.length);
    // 仅当前: no list icon (the list behind it would be today's)
    for (const code of withList) {
      const tile = page.locator(`article[data-indicator=${code}]`);
      expect((await tile.locator('.foot').textContent())?.trim(), code).toBe('仅当前');
      expect(await tile.locator('[data-testid=people-link]').count(), code).toBe(0);
      expect(await tile.locator('a').count(), code).toBe(0);
    }
    // a month indicator on the same past month keeps its list
    const monthWithList = latest.indicators.find((i) => i.grain === 'month' && i.drillable)!;
    expect(await page.locator(`article[data-indicator=${monthWithList.code}] [data-testid=people-link]`).count()).toBe(1);
    // and the map of a "now" indicator there has no value in any area: no scale
    const board = await apiIndicators(page, city, past);
    expect(board.indicators.find((i) => i.code === 'C01')!.value).toBeNull();
    await showMap('C01');
    await poll(scalePixels).toBeLessThan(20);
    // and says so where the scale was
    expect((await page.locator('[data-testid=map-no-data]').textContent())?.trim()).toBe('该期暂无数据');
    expect(await page.locator('[data-testid=map-no-data]').isVisible()).toBe(true);
    await page.screenshot({ path: shotPath('screen-past-month-map.png') });
    await context.close();
  }, 300_000);
});
