// The pre-payroll check's workbench page in a real browser at desktop size (issue 17), on the synthetic
// city with its payroll draft (real PostgreSQL, real ingestion and engines, Debian's Chromium): auditor A
// (demo-auditor) runs the check from the page; A cannot approve — the button is disabled and a tampered
// post is refused by the service (four eyes), with the database unchanged; auditor B (demo-checker)
// approves; the hold list B downloads is the approved run's holds, row for row as `yinling export
// payroll-holds` gives them; ID numbers masked on the page. A leader and a staff account are refused on
// the page, the file and both actions (URL and form tampering).
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { exportDataset } from '../../jobs/exports.ts';
import { DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, watchConsole, type App } from './support/app.ts';

let app: App;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await app?.close();
});

const q = async (sql: string, values: unknown[] = []) => (await app.db.pool.query(sql, values)).rows;

async function as(who: { username: string; password: string }): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  return signIn(context, app.url, who);
}

/** A form post as the browser's page would send it (same origin, SvelteKit's action header): the status. */
async function post(page: Page, path: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
  return page.evaluate(
    async ([u, f]) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(f)) body.append(k, v);
      const r = await fetch(u, { method: 'POST', body, headers: { 'x-sveltekit-action': 'true' } });
      return { status: r.status, body: await r.text() };
    },
    [path, fields] as const
  );
}

describe('the pre-payroll check on the workbench', () => {
  let period = '';
  let runNo = 0;

  it('auditor A runs the check from the page; the run, its findings and held lines are shown, masked', async () => {
    const drafts = await q(`SELECT DISTINCT to_char(period, 'YYYY-MM') AS p FROM payroll_draft ORDER BY 1 DESC`);
    expect(drafts.length).toBeGreaterThan(0);
    period = drafts[0].p;
    const before = (await q(`SELECT count(*)::int AS n FROM payroll_runs`))[0].n;
    const a = await as(DEMO.auditor);
    const seen = watchConsole(a);
    await a.goto(`${app.url}/workbench/payroll?period=${period}`);
    expect(await a.locator('nav a[href="/workbench/payroll"]').count()).toBe(1);
    await a.click('[data-testid=run-check]');
    await a.waitForSelector('[data-testid=payroll-checked]', { timeout: 300_000 });
    const [run] = await q(
      `SELECT run_no::int, prepared_by, approved_by, held_lines, held_amount::text FROM payroll_runs ORDER BY run_no DESC LIMIT 1`
    );
    expect((await q(`SELECT count(*)::int AS n FROM payroll_runs`))[0].n).toBe(before + 1);
    expect(run).toMatchObject({ prepared_by: 'demo-auditor', approved_by: null });
    runNo = run.run_no;
    await a.goto(`${app.url}/workbench/payroll?period=${period}&run=${runNo}`);
    expect(await a.getAttribute('[data-testid=run-title]', 'data-run')).toBe(String(runNo));
    await a.waitForLoadState('networkidle');
    expect(seen.errors).toEqual([]); // hydrated without an error (masked ID numbers repeat: rows are keyed by position)
    // The findings by rule as the database has them.
    const byRule = await q(
      `SELECT finding, count(*)::text AS n, sum(amount_at_risk)::text AS amount FROM payroll_run_findings WHERE run_no = $1 GROUP BY finding ORDER BY finding`,
      [runNo]
    );
    const shown = await a.$$eval('[data-testid=findings] tr[data-finding]', (trs) =>
      trs.map((t) => ({ finding: t.getAttribute('data-finding'), n: t.getAttribute('data-count'), amount: t.getAttribute('data-amount') }))
    );
    expect(shown).toEqual(byRule);
    expect(run.held_lines).toBeGreaterThan(0);
    const heldIds = await a.$$eval('[data-testid=held] td.id', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(heldIds.length).toBeGreaterThan(0);
    expect(heldIds.every((t) => t.includes('*'))).toBe(true);
    const realIds = await q(`SELECT id_number FROM payroll_run_holds WHERE run_no = $1`, [runNo]);
    const html = await a.content();
    for (const r of realIds) expect(html).not.toContain(r.id_number);
    await a.screenshot({ path: shotPath('workbench-payroll.png'), fullPage: false });
    expect(seen.errors).toEqual([]);
  }, 600_000);

  it('A cannot approve: the button is disabled, a tampered post is refused (four eyes), nothing changes', async () => {
    const a = await as(DEMO.auditor);
    await a.goto(`${app.url}/workbench/payroll?period=${period}&run=${runNo}`);
    expect(await a.isDisabled('[data-testid=approve]')).toBe(true);
    expect(await a.locator('[data-testid=four-eyes]').count()).toBe(1);
    // The action answers its refusal as SvelteKit does to a form post sent with fetch: a failure with status 403.
    const r = await post(a, '/workbench/payroll?/approve', { run: String(runNo) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'failure', status: 403 });
    expect(r.body).toMatch(/four eyes/);
    expect((await q(`SELECT approved_by FROM payroll_runs WHERE run_no = $1`, [runNo]))[0].approved_by).toBeNull();
    // The database refuses it too, whoever writes.
    await expect(q(`UPDATE payroll_runs SET approved_by = prepared_by, approved_at = now() WHERE run_no = $1`, [runNo])).rejects.toThrow(
      /payroll_runs_four_eyes/
    );
  }, 300_000);

  it('auditor B (demo-checker) approves; the hold list B downloads is the approved holds, as the CLI exports them', async () => {
    const b = await as(DEMO.checker);
    await b.goto(`${app.url}/workbench/payroll?period=${period}&run=${runNo}`);
    expect(await b.isDisabled('[data-testid=approve]')).toBe(false);
    await b.click('[data-testid=approve]');
    await b.waitForSelector('[data-testid=payroll-approved]');
    await poll(async () => (await q(`SELECT approved_by FROM payroll_runs WHERE run_no = $1`, [runNo]))[0].approved_by).toBe(
      'demo-checker'
    );
    await b.goto(`${app.url}/workbench/payroll?period=${period}&run=${runNo}`);
    expect(await b.getAttribute('[data-testid=run-title]', 'data-approved')).toBe('demo-checker');
    expect(await b.locator('[data-testid=approve-form]').count()).toBe(0);

    // The CLI's export of the period (unmasked, as the payroll system receives it).
    let out = '';
    await exportDataset(app.db.pool, 'payroll-holds', {
      format: 'csv',
      unmask: true,
      period,
      out: new Writable({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        }
      })
    });
    const cli = parse(out, { columns: true }) as Record<string, string>[];
    expect(cli.length).toBe((await q(`SELECT held_lines FROM payroll_runs WHERE run_no = $1`, [runNo]))[0].held_lines);
    const href = await b.getAttribute('[data-testid=holds-csv]', 'href');
    const file = async (u: string) => {
      const res = await b.context().request.get(`${app.url}${u}`);
      expect(res.status()).toBe(200);
      return parse((await res.text()).replace(/^\ufeff/, ''), { columns: true }) as Record<string, string>[];
    };
    const unmasked = await file(`${href}&unmask=1`);
    const key = (r: Record<string, string>) =>
      [
        r.run_no,
        r.draft_id,
        r.line_id,
        r.id_number,
        r.scheme_code,
        Number(r.amount).toFixed(2),
        r.account_no,
        r.findings,
        r.approved_by
      ].join('|');
    expect(unmasked.map(key)).toEqual(cli.map(key));
    expect(unmasked.map((r) => r.amount)).toEqual(cli.map((r) => r.amount)); // exact decimal text
    // The default file is masked; the unmasked one was audit-logged.
    const masked = await file(href!);
    expect(masked.length).toBe(cli.length);
    expect(masked.every((r) => r.id_number.includes('*'))).toBe(true);
    const logged = await q(`SELECT actor, action FROM audit_log WHERE subject = $1 AND action LIKE '%payroll_holds' ORDER BY audit_id`, [
      `payroll_run:${runNo}`
    ]);
    expect(logged).toEqual([
      { actor: 'demo-checker', action: 'unmask.payroll_holds' },
      { actor: 'demo-checker', action: 'export.payroll_holds' }
    ]);
  }, 300_000);

  it('refuses a leader and a staff account: the page, the file and both actions (URL and form tampering)', async () => {
    const runsBefore = await q(`SELECT run_no, approved_by FROM payroll_runs ORDER BY run_no`);
    for (const who of [DEMO.leader, DEMO.staff]) {
      const page = await as(who);
      for (const path of ['/workbench/payroll', `/workbench/payroll?period=${period}&run=${runNo}`]) {
        const res = await page.goto(`${app.url}${path}`);
        expect(res!.status(), `${who.username} GET ${path}`).toBe(403);
        expect(await page.locator('[data-testid=runs], [data-testid=held]').count()).toBe(0);
      }
      const file = await page.context().request.get(`${app.url}/workbench/payroll/${runNo}/holds?format=csv&unmask=1`);
      expect(file.status()).toBe(403);
      for (const [path, fields] of [
        ['/workbench/payroll?/check', { period }],
        ['/workbench/payroll?/approve', { run: String(runNo) }]
      ] as const) {
        expect((await post(page, path, fields)).status, `${who.username} POST ${path}`).toBe(403);
      }
      // No workbench link on their pages.
      expect(await page.locator('a[href="/workbench/payroll"]').count()).toBe(0);
    }
    expect(await q(`SELECT run_no, approved_by FROM payroll_runs ORDER BY run_no`)).toEqual(runsBefore);
  }, 300_000);
});
