// The real application for browser tests: a fresh database (tests/db.ts) loaded with the tiny
// synthetic city through the real ingestion and engines, the demo accounts, the region shapes,
// and the built web server (a private build, support/build.ts, connected as the application role) as a child process — which a test
// can stop and start again (server restart) while the browser stays open.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { freePort } from '../../../tests/free-port.ts';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../../tests/db.ts';
import { loadConfig } from '../../../core/config.ts';
import { runWithDependents } from '../../../jobs/registry.ts';
import { ensureDemoAccounts, type DemoLogin } from '../../../core/demo-accounts.ts';
import { importGeoJson } from '../../../jobs/geo.ts';
import { todayShanghai } from '../../../jobs/engines/context.ts';
import { generateCity } from '../../../seeds/generator/index.ts';
import { ensureBuild, ROOT } from './build.ts';
import { untilHealthy } from './health.ts';

import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';

export { CHROMIUM_ARGS };
export const SHOTS = path.join(ROOT, 'test-results', 'screen');
/** The demo accounts; their passwords are generated when the accounts are created (useDemoLogins). */
export const DEMO = {
  leader: { username: 'demo-leader', password: '' },
  staff: { username: 'demo-staff', password: '' },
  auditor: { username: 'demo-auditor', password: '' },
  checker: { username: 'demo-checker', password: '' },
  field: { username: 'demo-field', password: '' }
};
export function useDemoLogins(logins: DemoLogin[]): void {
  for (const a of Object.values(DEMO)) a.password = logins.find((l) => l.username === a.username)?.password ?? '';
}

export interface App {
  url: string;
  db: TestDatabase;
  inbox: string;
  /** Ingest whatever is in the inbox now, with the engines and indicator facts after it. */
  ingest(): Promise<void>;
  stopServer(): Promise<void>;
  /** Starts the web server again; `env` adds to (or overrides) its environment from then on, e.g. { TZ: 'UTC' }. */
  startServer(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startApp(opts: { scale?: 'tiny' | 'demo' | 'city'; seed?: number } = {}): Promise<App> {
  const buildDir = await ensureBuild();
  const db = await freshDatabase();
  const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-e2e-inbox-'));
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: inbox };
  const quiet = () => {};
  await generateCity({ scale: opts.scale ?? 'tiny', seed: opts.seed ?? 11, outDir: inbox, asOf: todayShanghai() });
  const ingest = async () => {
    const results = await runWithDependents(db.pool, 'ingest', { config, inbox, trigger: 'manual', log: quiet });
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length) throw new Error(`ingest failed: ${failed.map((r) => r.error).join('; ')}`);
  };
  await ingest();
  useDemoLogins(await ensureDemoAccounts(db.pool));
  await importGeoJson(db.pool, path.join(inbox, '.geo', 'city.geojson'));

  const port = await freePort();
  let child: ChildProcess | undefined;
  const log: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // as in production: the web server connects as the application role (migration 0039), not the owner
    DATABASE_URL: db.appUrl,
    PORT: String(port),
    CUBEJS_API_SECRET: 'e2e-secret-' + port,
    NODE_ENV: 'production'
  };
  const url = `http://127.0.0.1:${port}`;

  async function startServer(extra: Record<string, string> = {}) {
    Object.assign(env, extra);
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboard/e2e/support/serve.ts'), buildDir], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    });
    const keep = (b: Buffer) => {
      log.push(b.toString());
      if (log.length > 200) log.splice(0, log.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await untilHealthy(url, 'the web server', { child, output: () => log.join('') });
  }
  async function stopServer() {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }
  await startServer();
  return {
    url,
    db,
    inbox,
    ingest,
    startServer,
    stopServer,
    async close() {
      await stopServer();
      await db.drop();
      fs.rmSync(inbox, { recursive: true, force: true });
    }
  };
}

/** Generous waits: these tests share a small machine with builds and benchmarks. */
export const WAIT_MS = 60_000;

/**
 * Playwright's evaluate, $eval and close have no timeout of their own: on a stalled renderer such a
 * step would hang its test until vitest's limit, saying only "timed out" (this happened once, in
 * CI, in the laptop test). Bounded, it fails within WAIT_MS and names the step.
 */
export async function bounded<T>(what: string, step: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s (the browser's renderer stalled?)`)), ms);
  });
  try {
    return await Promise.race([step, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** expect.poll with a timeout fit for a loaded machine. */
export function poll<T>(fn: () => T | Promise<T>, timeout = WAIT_MS) {
  return expect.poll(fn, { timeout, interval: 200 });
}

export async function newContext(browser: Browser, opts: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, ...opts });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  // Content-Security-Policy violations become console errors, so every test that checks for
  // console errors also fails when the policy blocks something the page needs (Chromium reports
  // some, e.g. a blocked eval, nowhere else).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`)
    );
  });
  return context;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Console errors and page errors seen by a page (network failures listed separately). */
export function watchConsole(page: Page): { errors: string[]; network: string[] } {
  const out = { errors: [] as string[], network: [] as string[] };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/Failed to load resource/.test(text)) out.network.push(`${text} ${m.location().url}`);
    else out.errors.push(text);
  });
  page.on('pageerror', (e) => out.errors.push(`pageerror: ${e.message}`));
  return out;
}

export async function signIn(context: BrowserContext, url: string, who: { username: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', who.username);
  await page.fill('input[name=password]', who.password);
  await page.click('button[type=submit]', { noWaitAfter: true });
  // Signed in = the session cookie is set (by the POST's 303, before the landing page renders,
  // which can take long on a loaded machine); a refusal shows its reason — fail with that.
  const error = page.locator('[data-testid=login-error]');
  const signedIn = async () => (await context.cookies()).some((c) => c.name === 'yinling_session');
  await expect.poll(async () => (await signedIn()) || (await error.count()) > 0, { timeout: WAIT_MS }).toBe(true);
  if (!(await signedIn())) throw new Error(`sign-in as ${who.username} refused: ${await error.textContent()}`);
  // The landing navigation (303 → /screen → 307 → /screen/<area>) may still be under way: wait for
  // it to end on this page and hand the page back. Not a close, nor a test's own goto, meanwhile:
  // a goto would race it ("navigation interrupted by another navigation"), and Chromium drops a
  // close that coincides with a navigation commit, so page.close() never returns
  // (crbug.com/536385539, playwright#42068): that hung CI, and closing at varied delays after the
  // sign-in reproduced it in 25 of 90 tries.
  await page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' });
  return page;
}

/** Every chart on the page has rendered (data-chart-ready on each: the ECharts containers, and the SVG/HTML shapes the page draws itself). */
export async function chartsReady(page: Page, timeout = WAIT_MS): Promise<number> {
  await page.waitForFunction(
    () => {
      const charts = [...document.querySelectorAll('[data-chart-ready]')];
      return charts.length > 0 && charts.every((c) => c.getAttribute('data-chart-ready') === 'true');
    },
    undefined,
    { timeout }
  );
  return page.locator('[data-chart-ready]').count();
}

export function shotPath(name: string): string {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, name);
}
