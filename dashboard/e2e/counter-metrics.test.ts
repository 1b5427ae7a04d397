// The counter-metrics of the wall screen and the workbench items behind them, in a real browser on the
// synthetic city. Withdrawn death and custody records (issue 21): next to R05 the records withdrawn and the
// restorations owed over the last twelve months — the numbers the indicator facts hold; the workbench lists
// the restorations the engine computed, one auditor proposes one, cannot approve it, a second auditor does;
// a leader is refused on the page and its actions (form tampering included). The pre-payroll check (issue
// 17): once the month's payments are in, next to R07 the amount the approved check held and was not paid,
// this month and to date — the held lines' sum.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { createUser } from '../../core/accounts.ts';
import { approveRun } from '../../core/workflow/payroll.ts';
import { buildIndicatorFacts } from '../../jobs/indicator-facts.ts';
import { runPayrollCheck } from '../../jobs/engines/payroll-check.ts';
import { DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, type App } from './support/app.ts';

let app: App;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await app?.close();
});

const q = async (sql: string, values: unknown[] = []) => (await app.db.pool.query(sql, values)).rows;
async function pageOf(who: { username: string; password: string }) {
  const ctx = await newContext(browser);
  contexts.push(ctx);
  return signIn(ctx, app.url, who);
}

/** A city-wide auditor other than the demo one (the checker of a four-eyes step). */
async function secondAuditor(username: string): Promise<{ username: string; password: string }> {
  const account = { username, password: `${username}-pass-1234` };
  const [{ code: city }] = await q(`SELECT code FROM regions WHERE level = 'city'`);
  await createUser(
    app.db.pool,
    { type: 'operator', name: 'e2e' },
    { ...account, role: 'auditor', regionCode: city, displayName: username }
  );
  return account;
}

describe('the counter-metric next to R05 on the wall screen', () => {
  it('shows the records withdrawn and the restorations owed over the twelve months up to the month shown', async () => {
    const leader = await pageOf(DEMO.leader);
    const city = (await q(`SELECT code FROM regions WHERE level = 'city'`))[0].code;
    await leader.goto(`${app.url}/screen/${city}?ind=R05`); // the R family's page
    const tile = leader.locator('article.tile[data-indicator="R05"] [data-testid=companions]');
    await poll(() => tile.count()).toBe(1);
    const shown = await leader.$$eval('article.tile[data-indicator="R05"] [data-companion]', (els) =>
      els.map((e) => ({
        key: e.getAttribute('data-companion'),
        window: e.getAttribute('title'),
        value: Number(e.getAttribute('data-value'))
      }))
    );
    // the month the board shows: the newest month of the facts
    const [{ period }] = await q(`SELECT to_char(max(period), 'YYYY-MM-DD') AS period FROM ind_region_month`);
    const [facts] = await q(
      `SELECT sum(records_withdrawn)::int AS withdrawn, sum(restorations)::int AS restorations FROM ind_region_month
        WHERE period > $1::date - interval '12 months' AND period <= $1::date`,
      [period]
    );
    expect(facts.withdrawn).toBeGreaterThan(0); // the demo city has withdrawn records: the test can fail
    // and what was paid between the deaths recorded in the month the board shows and their records (issue
    // 18.4) — the board's month is the newest with payouts, which may be earlier than the facts' newest
    const shownMonth = await leader.evaluate(async (c) => (await (await fetch(`/api/indicators?region=${c}`)).json()).period, city);
    const [lag] = await q(
      `SELECT COALESCE(sum(amount_before_record), 0)::float8 AS paid FROM risk_clock
        WHERE event_kind = 'death' AND date_trunc('month', recorded_on) = ($1 || '-01')::date`,
      [shownMonth]
    );
    expect(shown).toEqual(
      expect.arrayContaining([
        { key: 'screen_months.records_withdrawn@last12', window: '近12月', value: facts.withdrawn },
        { key: 'screen_months.restorations@last12', window: '近12月', value: facts.restorations },
        { key: 'screen_death_clock.paid_before_record@month', window: '本月', value: lag.paid }
      ])
    );
    expect(shown).toHaveLength(3);
    expect(await tile.textContent()).toMatch(/近12月撤销/);
    expect(await tile.textContent()).toMatch(/应补发/);
    expect(await tile.textContent()).toMatch(/记录前已发/);
    // the tile says what it measures: stopped in time after the record arrived
    expect(await leader.locator('article.tile[data-indicator="R05"] .title').textContent()).toBe('死亡记录后停发及时率');
    // readable whole: each figure inside its tile, clear of the value, not cut
    const fit = await leader.$eval('article.tile[data-indicator="R05"]', (t) => {
      const box = t.getBoundingClientRect();
      const value = t.querySelector('[data-testid=tile-value]')!.getBoundingClientRect();
      return [...t.querySelectorAll('[data-companion]')].map((e) => {
        const r = e.getBoundingClientRect();
        return {
          inside: r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom,
          clearOfValue: r.left >= value.right || r.top >= value.bottom,
          cut: (e as HTMLElement).scrollWidth > (e as HTMLElement).clientWidth + 1
        };
      });
    });
    expect(fit).toEqual(shown.map(() => ({ inside: true, clearOfValue: true, cut: false })));
    await leader.locator('section.panel:has(article.tile[data-indicator="R05"])').screenshot({ path: shotPath('r-panel-companions.png') });
  });
});

describe('restorations in the workbench', () => {
  it('one auditor proposes the engine’s figures, cannot approve them, a second auditor approves', async () => {
    const owed = await q(
      `SELECT record_kind, record_id, scheme_code, back_pay::text AS back_pay FROM restorations ORDER BY withdrawn_on DESC, record_kind, record_id, scheme_code`
    );
    expect(owed.length).toBeGreaterThan(0);
    const maker = await pageOf(DEMO.auditor);
    await maker.goto(`${app.url}/workbench/restorations`);
    const rows = maker.locator('[data-testid=restorations] tbody tr');
    expect(await rows.count()).toBe(owed.length);
    const first = owed[0];
    const key = `${first.record_kind}:${first.record_id}:${first.scheme_code}`;
    const row = maker.locator(`tr[data-key="${key}"]`);
    expect((await row.locator('[data-testid=back-pay]').textContent())!.replace(/[¥,\s]/g, '')).toBe(first.back_pay);
    // no ID number in clear
    const ids = await maker.$$eval('[data-testid=restorations] td.ref', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(ids.some((t) => /\d{17}[\dX]/.test(t))).toBe(false);

    await row.locator('[data-testid=propose] input[name=note]').fill('部门来函撤销，核对无误');
    await row.locator('[data-testid=propose] button').click();
    await poll(() => maker.locator('[data-testid=action-done]').count()).toBe(1);
    await poll(async () => maker.locator(`tr[data-key="${key}"]`).getAttribute('data-state')).toBe('awaiting_approval');
    expect(await maker.locator(`tr[data-key="${key}"] [data-testid=own-proposal]`).count()).toBe(1);
    const [decision] = await q(`SELECT decision_id, proposed_by, back_pay::text AS back_pay FROM restoration_decisions`);
    expect(decision).toMatchObject({ proposed_by: DEMO.auditor.username, back_pay: first.back_pay });

    // the maker forges the approval form: refused by the service (four eyes), nothing decided
    const forged = await maker.evaluate(async (id) => {
      const body = new FormData();
      body.set('decision_id', String(id));
      const r = await fetch('/workbench/restorations?/approve', { method: 'POST', body, headers: { 'x-sveltekit-action': 'true' } });
      return r.json();
    }, decision.decision_id);
    expect(JSON.stringify(forged)).toMatch(/four_eyes/);
    expect(await q(`SELECT outcome FROM restoration_decisions`)).toEqual([{ outcome: null }]);

    const checkerAccount = await secondAuditor('restore.checker');
    const checker = await pageOf(checkerAccount);
    await checker.goto(`${app.url}/workbench/restorations?state=awaiting_approval`);
    await checker.locator(`tr[data-key="${key}"] [data-testid=approve] button`).click();
    await poll(() => checker.locator('[data-testid=action-done]').count()).toBe(1);
    expect(await q(`SELECT outcome, decided_by FROM restoration_decisions`)).toEqual([
      { outcome: 'approved', decided_by: checkerAccount.username }
    ]);
    await checker.goto(`${app.url}/workbench/restorations?state=approved`);
    expect(await checker.locator(`tr[data-key="${key}"]`).getAttribute('data-state')).toBe('approved');
    expect(await q(`SELECT actor, action FROM audit_log WHERE action LIKE 'restoration.%' ORDER BY audit_id`)).toEqual([
      { actor: DEMO.auditor.username, action: 'restoration.propose' },
      { actor: checkerAccount.username, action: 'restoration.approve' }
    ]);
  });

  it('refuses a leader on the page and on its actions', async () => {
    const leader = await pageOf(DEMO.leader);
    const page = await leader.goto(`${app.url}/workbench/restorations`);
    expect(page?.status()).toBe(403);
    const status = await leader.evaluate(async () => {
      const body = new FormData();
      body.set('record_kind', 'death');
      body.set('record_id', 'x');
      body.set('scheme_code', 'ENT');
      body.set('back_pay', '1.00');
      const r = await fetch('/workbench/restorations?/propose', { method: 'POST', body, headers: { 'x-sveltekit-action': 'true' } });
      return r.status;
    });
    expect(status).toBe(403);
    expect(await q(`SELECT count(*)::int AS n FROM restoration_decisions WHERE record_id = 'x'`)).toEqual([{ n: 0 }]);
  });
});

describe('prevented before payment next to R07', () => {
  it('shows what the approved check held and the month’s payments did not pay, this month and to date', async () => {
    const [{ period }] = await q(`SELECT to_char(max(period), 'YYYY-MM-DD') AS period FROM payroll_draft`);
    expect(period).toBeTruthy();
    const preparer = DEMO.auditor.username;
    const approver = await secondAuditor('payroll.approver');
    const [{ code: city }] = await q(`SELECT code FROM regions WHERE level = 'city'`);
    const run = await runPayrollCheck(app.db.pool, {
      period,
      preparedBy: preparer,
      actor: { type: 'staff', name: preparer },
      trigger: 'manual'
    });
    await approveRun(app.db.pool, { runNo: run.run.run_no, by: approver.username });
    const held = await q(
      `SELECT draft_id, line_id, id_number, scheme_code, amount::text AS amount FROM payroll_run_holds WHERE run_no = $1`,
      [run.run.run_no]
    );
    expect(held.length).toBeGreaterThan(0); // the demo draft has planted problems: the test can fail
    // The month's payments arrive: every line of the draft but the held ones.
    await q(
      `INSERT INTO payments (payment_id, id_number, scheme_code, period, amount, status, account_no, paid_at)
       SELECT 'ACT-' || d.draft_id || '-' || d.line_id, d.id_number, d.scheme_code, d.period, d.amount, 'paid', d.account_no,
              (d.period + time '10:00') AT TIME ZONE 'Asia/Shanghai'
         FROM payroll_draft d
        WHERE d.period = $1::date
          AND NOT EXISTS (SELECT 1 FROM payroll_run_holds h WHERE h.run_no = $2 AND h.draft_id = d.draft_id AND h.line_id = d.line_id)`,
      [period, run.run.run_no]
    );
    // prevented: a held line whose person and scheme got no payment for the month (held lines' sum, in cents)
    const paid = new Set(
      (await q(`SELECT id_number || '/' || scheme_code AS k FROM payments WHERE period = $1::date AND status = 'paid'`, [period])).map(
        (r) => r.k
      )
    );
    const cents = held
      .filter((h) => !paid.has(`${h.id_number}/${h.scheme_code}`))
      .reduce((s, h) => s + Math.round(Number(h.amount) * 100), 0);
    expect(cents).toBeGreaterThan(0);
    const [{ today }] = await q(`SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS today`);
    await buildIndicatorFacts(app.db.pool, today > period ? today : period);

    const leader = await pageOf(DEMO.leader);
    await leader.goto(`${app.url}/screen/${city}?period=${period.slice(0, 7)}&ind=R07`);
    await poll(() => leader.locator('article.tile[data-indicator="R07"] [data-companion]').count()).toBe(2);
    const shown = await leader.$$eval('article.tile[data-indicator="R07"] [data-companion]', (els) =>
      els.map((e) => ({ window: e.getAttribute('data-window'), cents: Math.round(Number(e.getAttribute('data-value')) * 100) }))
    );
    expect(shown).toEqual([
      { window: 'month', cents },
      { window: 'to_date', cents }
    ]);
    expect(await leader.locator('article.tile[data-indicator="R07"] [data-testid=companions]').textContent()).toMatch(/本月拦截.*累计拦截/);
    await leader.locator('section.panel:has(article.tile[data-indicator="R07"])').screenshot({ path: shotPath('r-panel-prevented.png') });
    // a payroll check, a month of payments and the facts rebuilt: minutes on a busy machine
  }, 300_000);
});
