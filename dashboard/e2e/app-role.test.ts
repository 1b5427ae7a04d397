// The web server as the application's own role (issue 19 §7): the browser tests' server connects as
// `yinling_app` (support/app.ts, as `yinling up` does), which is no superuser and may only append to
// audit_log — and the web's ordinary work still works as that role: a sign-in, an unmask with its audit
// row, a workbench transition, all in the verifiable audit chain. (What the role may not do:
// tests/app-role.test.ts.)
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../../core/db/embedded.ts';
import { verifyAuditChain } from '../../core/workflow/audit-chain.ts';
import { DEMO, launchBrowser, newContext, poll, signIn, startApp, watchConsole, type App } from './support/app.ts';

let app: App;
let browser: Browser;
let ctx: BrowserContext | undefined;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);
afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await app?.close();
});

const q = async (sql: string, values: unknown[] = []) => (await app.db.pool.query(sql, values)).rows;

describe('the web server as the application role', () => {
  it('connects as that role, which is no superuser', async () => {
    // a request that reads the database, then the web server's connections as the database sees them
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const rows = await q(
      `SELECT DISTINCT a.usename::text AS role, r.rolsuper AS su FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
        WHERE a.datname = current_database() AND a.application_name = 'yinling-web'`
    );
    expect(rows).toEqual([{ role: APP_ROLE, su: false }]);
  });

  it('signs in, unmasks a person with its audit row, and moves an alert on', async () => {
    ctx = await newContext(browser);
    const page = await signIn(ctx, app.url, DEMO.auditor);
    const seen = watchConsole(page);
    const [alert] = await q(`SELECT alert_id::int AS id, id_number FROM alerts WHERE status = 'new' ORDER BY alert_id LIMIT 1`);
    const signedIn = await q(`SELECT last_login_at IS NOT NULL AS yes FROM staff_users WHERE username = $1`, [DEMO.auditor.username]);
    expect(signedIn[0].yes).toBe(true);

    await page.goto(`${app.url}/workbench/alerts/${alert.id}`);
    await page.click('[data-testid=unmask]');
    await poll(() => page.getAttribute('[data-testid=person]', 'data-masked')).toBe('false');
    expect((await page.locator('[data-testid=person] .id').textContent())!.trim()).toBe(alert.id_number);
    const unmasked = await q(`SELECT actor, detail FROM audit_log WHERE action = 'unmask.alert' AND subject = $1`, [String(alert.id)]);
    expect(unmasked.map((r) => [r.actor, r.detail.id_number])).toEqual([[DEMO.auditor.username, alert.id_number]]);

    await page.click('button[data-action=acknowledge]');
    await poll(async () => (await q(`SELECT status FROM alerts WHERE alert_id = $1`, [alert.id]))[0].status).toBe('acknowledged');
    const moved = await q(`SELECT action, actor FROM alert_transitions WHERE alert_id = $1 AND actor <> 'system'`, [alert.id]);
    expect(moved).toEqual([{ action: 'acknowledge', actor: DEMO.auditor.username }]);
    const chain = await verifyAuditChain(app.db.pool);
    expect(chain.ok).toBe(true);
    expect(seen.errors).toEqual([]);
  }, 300_000);
});
