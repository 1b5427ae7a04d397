// The unattended wall screen: a kiosk token (read-only, scoped, privacy mode) opens the screen,
// auto-refresh shows new data after an ingest while the page stays open (no reload), the screen
// survives the server restarting, kiosk mode cycles families and areas, and a revoked token ends it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chartsReady, launchBrowser, newContext, poll, shotPath, startApp, watchConsole, type App } from './support/app.ts';
import { createKioskToken, revokeKioskToken } from '../../core/accounts.ts';

let app: App;
let browser: Browser;
let city: string;
const op = { type: 'system' as const, name: 'e2e' };

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  city = (await app.db.pool.query(`SELECT code FROM regions WHERE level = 'city'`)).rows[0].code;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const tileValue = (page: Page, code: string) => page.getAttribute(`[data-indicator="${code}"]`, 'data-value');

describe('a wall screen with a kiosk token', () => {
  it('opens with the token, hides it from the URL, and stays in privacy mode', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'lobby', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen?token=${kiosk.token}&kiosk=1&cycle=600`);
    await poll(() => new URL(page.url()).pathname).toBe(`/screen/${city}`);
    expect(page.url()).not.toContain('token=');
    const cookie = (await context.cookies()).find((c) => c.name === 'yinling_kiosk')!;
    expect(cookie.httpOnly).toBe(true);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-privacy')).toBe('true');
    expect(await page.locator('[data-testid=people-link]').count()).toBe(0);
    // the ticker names nobody, not even masked: counts per rule and area
    await poll(() => page.locator('[data-testid=alert-ticker] [data-testid=ticker-count]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=alert-ticker] .who:not([data-testid=ticker-count])').count()).toBe(0);
    const tickerApi = await page.evaluate(
      async (c) => (await (await fetch(`/api/alerts/recent?region=${c}`)).json()) as { rows: { name: unknown }[] },
      city
    );
    expect(tickerApi.rows.length).toBeGreaterThan(0);
    expect(tickerApi.rows.every((r) => r.name === null)).toBe(true);
    await chartsReady(page);
    await page.screenshot({ path: shotPath('kiosk-privacy.png') });
    // No person-level pages, whatever the URL.
    const res = await page.goto(`${app.url}/screen/${city}/people/P01`);
    expect(res!.status()).toBe(403);
    const api = await page.evaluate(async (c) => (await fetch(`/api/people?indicator=P01&region=${c}`)).status, city);
    expect(api).toBe(403);
    expect(seen.errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('shows a new value after new data is ingested while the page stays open (no reload)', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'hall', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen?token=${kiosk.token}&kiosk=1&cycle=600&refresh=2`);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    await page.evaluate(() => {
      (window as unknown as { __stayedOpen: boolean }).__stayedOpen = true;
    });
    const before = Number(await tileValue(page, 'R01'));

    // A death record arrives for someone who is still being paid: after ingest and the engines,
    // one more paid-after-death alert is open.
    const r = await app.db.pool.query(`
      SELECT p.id_number, (max(y.period) - interval '2 months' + interval '9 days')::date AS died
        FROM persons p JOIN payments y ON y.id_number = p.id_number AND y.status = 'paid'
       WHERE NOT EXISTS (SELECT 1 FROM deaths d WHERE d.id_number = p.id_number)
         AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id_number = p.id_number)
       GROUP BY p.id_number
      HAVING max(y.period) = (SELECT max(period) FROM payments WHERE status = 'paid') AND count(*) >= 6
       ORDER BY p.id_number LIMIT 1`);
    const { id_number, died } = r.rows[0];
    const day = new Date(died).toISOString().slice(0, 10);
    const dir = path.join(app.inbox, 'deaths');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'e2e-late.csv.part'),
      `record_id,id_number,death_date,source,recorded_at\nDR-E2E-0001,${id_number},${day},public_security,${day}T10:00:00\n`
    );
    fs.renameSync(path.join(dir, 'e2e-late.csv.part'), path.join(dir, 'e2e-late.csv'));
    await app.ingest();

    await poll(async () => Number(await tileValue(page, 'R01')), 120_000).toBe(before + 1);
    expect(await page.evaluate(() => (window as unknown as { __stayedOpen?: boolean }).__stayedOpen)).toBe(true);
    await page.screenshot({ path: shotPath('kiosk-after-ingest.png') });
    expect(seen.errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('survives the server restarting: keeps the values, shows "reconnecting", then catches up', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'restart', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen?token=${kiosk.token}&refresh=1`);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    // The tiles come with the server's HTML; the app that keeps them live must have started too.
    await page.waitForSelector('html[data-app-started]', { state: 'attached' });
    const p01 = await tileValue(page, 'P01');
    await app.stopServer();
    try {
      await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-connection')).toBe('reconnecting');
      await page.screenshot({ path: shotPath('kiosk-reconnecting.png') });
      expect(await tileValue(page, 'P01')).toBe(p01); // last values stay on screen
    } finally {
      await app.startServer(); // the next tests need it
    }
    await poll(() => page.getAttribute('[data-testid=cockpit]', 'data-connection'), 90_000).toBe('ok');
    const polls = Number(await page.getAttribute('[data-testid=cockpit]', 'data-polls'));
    await poll(async () => Number(await page.getAttribute('[data-testid=cockpit]', 'data-polls'))).toBeGreaterThan(polls);
    expect(await page.locator('[data-testid=reconnecting]').count()).toBe(0);
    expect(await tileValue(page, 'P01')).toBe(p01);
    // Only the expected network failures while the server was down; no script errors.
    expect(seen.errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('recovers when its code could not load because the server stopped during the first load', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'boot', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    // Hold the app's code back until the server is gone, as on a restart at the wrong moment.
    let held = true;
    await page.route('**/_app/immutable/**', async (route) => {
      while (held) await new Promise((r) => setTimeout(r, 100));
      await route.continue().catch(() => route.abort().catch(() => {}));
    });
    await page.goto(`${app.url}/screen?token=${kiosk.token}&refresh=1`, { waitUntil: 'commit' });
    await poll(() => page.locator('[data-indicator]').count()).toBe(41); // the server's picture
    await app.stopServer();
    try {
      held = false; // the code requests now fail
      await page.waitForTimeout(6000);
      expect(await page.locator('html[data-app-started]').count()).toBe(0); // a still picture
    } finally {
      await app.startServer();
    }
    // The boot guard reloads once /healthz answers: the screen is live again.
    await poll(async () => Number(await page.getAttribute('[data-testid=cockpit]', 'data-polls')), 90_000).toBeGreaterThan(0);
    expect(await page.locator('html[data-app-started]').count()).toBe(1);
    await context.close();
  }, 300_000);

  it('cycles through the families and then the districts when idle, and pauses when someone uses it', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'cycle', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.url}/screen?token=${kiosk.token}&kiosk=1&cycle=3&idle=0`);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    await poll(() => page.locator('section.focus[data-family]').getAttribute('data-family')).toBe('P');
    await poll(() => page.locator('section.focus[data-family]').getAttribute('data-family')).toBe('A');
    await poll(() => page.inputValue('[data-testid=indicator-select]')).toBe('A01');
    // After the six families, the next area of the cycle: the first district.
    await poll(() => new URL(page.url()).pathname.split('/').length, 90_000).toBe(4);
    expect(new URL(page.url()).pathname.startsWith(`/screen/${city}/`)).toBe(true);
    // Someone touches the screen: cycling pauses (and says so).
    await page.keyboard.press('Shift');
    await poll(() => page.locator('[data-testid=kiosk-badge]').textContent(), 5_000).toContain('暂停');
    await context.close();
  }, 300_000);

  it('a revoked token ends the screen at the next refresh', async () => {
    const kiosk = await createKioskToken(app.db.pool, op, { label: 'revoked', regionCode: city });
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.url}/screen?token=${kiosk.token}&refresh=1`);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    await revokeKioskToken(app.db.pool, op, kiosk.token_id);
    await poll(() => new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('reason')).toBe('kiosk');
    await poll(() => page.locator('[role=status]').textContent()).toContain('大屏令牌无效或已被撤销');
    await context.close();
  }, 300_000);
});
