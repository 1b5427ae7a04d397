// Sign-in, sign-out and scope in a real browser: plain-word errors and lockout, the (screen) guard,
// and a district-scoped user who edits the URL towards another district gets a clear 403 — from
// the page and from the API — never data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chartsReady, DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, watchConsole, type App } from './support/app.ts';
import { createUser, login, MAX_FAILED_LOGINS } from '../../core/accounts.ts';

const SESSION_COOKIE = 'yinling_session'; // lib/server/session.ts (which needs SvelteKit's $env to import)

let app: App;
let browser: Browser;
let city: string;
let own: string;
let other: string;
let otherTown: string;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  const r = await app.db.pool.query(`SELECT code, level, parent_code FROM regions ORDER BY code`);
  city = r.rows.find((x) => x.level === 'city').code;
  const districts = r.rows.filter((x) => x.level === 'district').map((x) => x.code);
  own = districts[0]; // demo-staff is scoped to the first district
  other = districts[1];
  otherTown = r.rows.find((x) => x.level === 'town' && x.parent_code === other).code;
  await createUser(
    app.db.pool,
    { type: 'system', name: 'e2e' },
    { username: 'lock.me', role: 'leader', regionCode: city, password: 'the-right-password' }
  );
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('sign-in', () => {
  it('sends a visitor without a session to the sign-in page and back to the screen afterwards', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen/${city}`);
    await poll(() => new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/screen/${city}`);
    await page.screenshot({ path: shotPath('login.png') });
    await page.fill('input[name=username]', DEMO.leader.username);
    await page.fill('input[name=password]', DEMO.leader.password);
    await page.click('button[type=submit]');
    await poll(() => new URL(page.url()).pathname).toBe(`/screen/${city}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'yinling_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(session.secure).toBe(false); // plain http here; https sets Secure
    expect(seen.errors).toEqual([]);
    // Sign out: the session ends on the server too.
    await page.goto(`${app.url}/logout`);
    await page.click('button[type=submit]');
    await poll(() => new URL(page.url()).pathname).toBe('/login');
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('已安全退出');
    const left = await app.db.pool.query(
      `SELECT count(*)::int AS n FROM staff_sessions s JOIN staff_users u USING (user_id) WHERE u.username = $1`,
      [DEMO.leader.username]
    );
    expect(left.rows[0].n).toBe(0);
    await page.goto(`${app.url}/screen/${city}`);
    await poll(() => new URL(page.url()).pathname).toBe('/login');
    await context.close();
  }, 300_000);

  it('serves a Content-Security-Policy under which the screen runs whole and an injected script does not', async () => {
    const context = await newContext(browser); // reports CSP violations as console errors
    const page = await signIn(context, app.url, DEMO.leader);
    const seen = watchConsole(page);
    const res = await page.goto(`${app.url}/screen/${city}`);
    const csp = res!.headers()['content-security-policy'] ?? '';
    const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc).toMatch(/^'self' .*'nonce-[^']+'/);
    expect(scriptSrc).not.toContain('unsafe-inline');
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    await chartsReady(page);
    await page.locator('[data-indicator="P01"] [data-testid=people-link]').click();
    await poll(() => page.locator('[data-testid=people-table] tbody tr').count()).toBeGreaterThan(0);
    await page.goBack();
    await chartsReady(page);
    expect(seen.errors).toEqual([]);
    // A script somebody managed to put into the page does not run.
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.head.appendChild(s);
      await new Promise((r) => setTimeout(r, 100));
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    // … and is reported (Chromium's own console message and ours), nothing else.
    await poll(() => seen.errors.some((e) => /^CSP violation: script-src-elem /.test(e))).toBe(true);
    expect(
      seen.errors.every((e) => /CSP violation|Content Security Policy/.test(e)),
      seen.errors.join('\n')
    ).toBe(true);
    await context.close();
  }, 300_000);

  it('keeps what was typed before the page finished loading (slow screen PCs type ahead of the script)', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/_app/immutable/**', async (route) => {
      await gate;
      await route.continue();
    });
    await page.goto(`${app.url}/login`, { waitUntil: 'commit' });
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', DEMO.leader.username);
    await page.fill('input[name=password]', DEMO.leader.password);
    release();
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(500); // hydration runs after the scripts arrive
    expect(await page.inputValue('input[name=username]')).toBe(DEMO.leader.username);
    expect(await page.inputValue('input[name=password]')).toBe(DEMO.leader.password);
    await context.close();
  }, 300_000);

  it('says what went wrong in plain words, and locks the account after repeated failures', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.url}/login`);
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) {
      await page.fill('input[name=username]', 'lock.me');
      await page.fill('input[name=password]', 'wrong-password');
      await page.click('button[type=submit]');
      await poll(() => page.locator('[data-testid=login-error]').textContent()).toContain('用户名或密码不正确');
    }
    await page.fill('input[name=username]', 'lock.me');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    await poll(() => page.locator('[data-testid=login-error]').textContent()).toContain('账户已暂时锁定');
    // Even the right password is refused while locked.
    await page.fill('input[name=username]', 'lock.me');
    await page.fill('input[name=password]', 'the-right-password');
    await page.click('button[type=submit]');
    await poll(() => page.locator('[data-testid=login-error]').textContent()).toContain('账户已暂时锁定');
    await page.screenshot({ path: shotPath('login-locked.png') });
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  }, 300_000);
});

describe('a district-scoped user', () => {
  it('lands on their own district and cannot reach another one by editing the URL', async () => {
    const context = await newContext(browser);
    const page = await signIn(context, app.url, DEMO.staff);
    const seen = watchConsole(page);
    await page.goto(`${app.url}/screen`);
    await poll(() => new URL(page.url()).pathname).toBe(`/screen/${own}`);
    await poll(() => page.locator('[data-indicator]').count()).toBe(41);
    // Their breadcrumb starts at their district: no link up to the city.
    const crumbs = await page.$$eval('[data-testid=breadcrumb] a[data-region]', (as) => as.map((a) => a.getAttribute('data-region')));
    expect(crumbs).not.toContain(city);

    for (const path of [
      `/screen/${city}`,
      `/screen/${other}`,
      `/screen/${city}/${other}`,
      `/screen/${own}/${otherTown}`,
      `/screen/${other}/${otherTown}`,
      `/screen/${other}/people/P01`
    ]) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res!.status(), path).toBe(403);
      await poll(() => page.locator('[data-testid=error-page]').getAttribute('data-status')).toBe('403');
      await expect(page.locator('h1').textContent()).resolves.toContain('无权查看该区域');
      expect(await page.locator('[data-indicator]').count()).toBe(0);
    }
    await page.screenshot({ path: shotPath('forbidden-403.png') });
    // The API refuses too, with no indicator data in the body.
    for (const url of [
      `/api/indicators?region=${other}`,
      `/api/indicators/P01/regions?region=${city}`,
      `/api/people?indicator=P01&region=${other}`,
      `/api/alerts/recent?region=${other}`,
      `/api/geo?region=${city}`
    ]) {
      const r = await page.evaluate(async (u) => {
        const res = await fetch(u);
        return { status: res.status, body: await res.text() };
      }, url);
      expect(r.status, url).toBe(403);
      expect(r.body).not.toContain('indicators');
    }
    // And the "back to my area" link on the 403 page leads home.
    await page.click('[data-testid=error-page] a');
    await poll(() => new URL(page.url()).pathname).toBe(`/screen/${own}`);
    expect(seen.errors).toEqual([]);
    await context.close();
  }, 300_000);
});

describe('people lists', () => {
  it('are masked; an auditor may unmask (audit-logged), a leader may not', async () => {
    const leader = await newContext(browser);
    const lp = await signIn(leader, app.url, DEMO.leader);
    await lp.goto(`${app.url}/screen/${city}/people/P01`);
    await poll(() => lp.locator('[data-testid=people-table] tbody tr').count()).toBe(50);
    expect((await lp.$$eval('td.id', (tds) => tds.map((t) => t.textContent ?? ''))).every((id) => id.includes('*'))).toBe(true);
    expect(await lp.locator('a.unmask').count()).toBe(0);
    await lp.click('text=下一页');
    await poll(() => new URL(lp.url()).searchParams.get('offset')).toBe('50');
    await leader.close();

    const auditor = await newContext(browser);
    const ap = await signIn(auditor, app.url, DEMO.auditor);
    await ap.goto(`${app.url}/screen/${city}/people/P01`);
    await ap.click('a.unmask');
    await poll(() => new URL(ap.url()).searchParams.get('unmask')).toBe('1');
    await poll(async () =>
      (await ap.$$eval('td.id', (tds) => tds.map((t) => t.textContent ?? ''))).every((id) => /^\d{17}[\dX]$/.test(id.trim()))
    ).toBe(true);
    await ap.screenshot({ path: shotPath('people-unmasked-auditor.png') });
    const logged = await app.db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE actor = $1 AND action LIKE 'unmask%'`, [
      DEMO.auditor.username
    ]);
    expect(logged.rows[0].n).toBeGreaterThan(0);
    await auditor.close();
  }, 300_000);
});

describe('/healthz', () => {
  it('tells anyone the status and schema, and only a signed-in admin the job runs', async () => {
    await app.db.pool.query(
      `INSERT INTO job_runs (job, status, started_at, finished_at, error) VALUES ('health-probe', 'ok', '2026-12-05 16:02:03+00', '2026-12-05 16:02:04+00', NULL)`
    );
    const open = await (await fetch(`${app.url}/healthz`)).json();
    expect(open.database.schemaVersion).toMatch(/^\d{4}_/);
    expect(open.jobs).toEqual([]);
    await createUser(
      app.db.pool,
      { type: 'system', name: 'e2e' },
      { username: 'health.admin', role: 'admin', regionCode: city, password: 'health-admin-pass' }
    );
    const asAdmin = await login(app.db.pool, 'health.admin', 'health-admin-pass');
    const asLeader = await login(app.db.pool, DEMO.leader.username, DEMO.leader.password);
    if (!asAdmin.ok || !asLeader.ok) throw new Error('sign-in failed');
    const leader = await (await fetch(`${app.url}/healthz`, { headers: { cookie: `${SESSION_COOKIE}=${asLeader.sessionToken}` } })).json();
    expect(leader.jobs).toEqual([]);
    const admin = await (await fetch(`${app.url}/healthz`, { headers: { cookie: `${SESSION_COOKIE}=${asAdmin.sessionToken}` } })).json();
    expect(admin.jobs.map((j: { job: string }) => j.job)).toContain('health-probe');
    // An operator reads the bureau's clock, with the offset that makes it exact.
    expect(admin.jobs.find((j: { job: string }) => j.job === 'health-probe')).toMatchObject({
      started_at: '2026-12-06T00:02:03+08:00',
      finished_at: '2026-12-06T00:02:04+08:00'
    });
    for (const h of [open, admin]) {
      expect(h.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      expect(Math.abs(Date.parse(h.time) - Date.now())).toBeLessThan(60_000);
    }
  });
});

describe('headers on every response', () => {
  it('static files too: nosniff and no framing; HSTS once reached over https', async () => {
    for (const path of ['/favicon.svg', '/login', '/healthz']) {
      const r = await fetch(`${app.url}${path}`);
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(r.headers.get('strict-transport-security'), path).toBeNull();
    }
    const https = await fetch(`${app.url}/favicon.svg`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });
});
