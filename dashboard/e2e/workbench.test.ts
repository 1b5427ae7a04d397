// The auditors' workbench in a real browser on the synthetic city (real PostgreSQL, real ingestion
// and engines, Debian's Chromium): the queue's filters, order and keyset pages against the
// database; an alert's evidence timeline whose rows carry their lineage (file and line) checked
// against the feed tables; unmasking logged; exports whose cells never run as formulas (the .xlsx
// opened with exceljs); axe-core without serious violations; and a leader and a staff account
// refused on every workbench route and action, URL and form tampering included.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../core/accounts.ts';
import { runIndicatorFacts } from '../../jobs/indicator-facts.ts';
import { todayShanghai } from '../../core/time.ts';
import { DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, watchConsole, type App } from './support/app.ts';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let app: App;
let browser: Browser;
let auditorCtx: BrowserContext;
let auditor: Page;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

/** The demo auditor's page, signed in on first use (signIn polls, which only a test may do). */
async function asAuditor(): Promise<Page> {
  if (!auditor) {
    // bypassCSP: axe-core is injected as an inline script, which the page's policy rightly refuses
    auditorCtx = await newContext(browser, { bypassCSP: true });
    auditor = await signIn(auditorCtx, app.url, DEMO.auditor);
  }
  return auditor;
}

afterAll(async () => {
  await auditorCtx?.close();
  await browser?.close();
  await app?.close();
});

const q = async (sql: string, values: unknown[] = []) => (await app.db.pool.query(sql, values)).rows;

/** The rows of the queue table as the page shows them. */
async function queueRows(page: Page) {
  return page.$$eval('[data-testid=queue] tbody tr[data-alert]', (trs) =>
    trs.map((tr) => ({
      id: Number(tr.getAttribute('data-alert')),
      rule: tr.getAttribute('data-rule'),
      status: tr.getAttribute('data-status'),
      money: tr.getAttribute('data-money')!,
      amount: tr.getAttribute('data-amount')!
    }))
  );
}

/** Money string → cents as a BigInt: exact comparison, no float. */
const toCents = (s: string) => {
  const [i, f = ''] = s.split('.');
  return BigInt(i + (f + '00').slice(0, 2));
};

describe('the queue', () => {
  beforeAll(async () => {
    // The tiny city's engines raise a few dozen alerts; the queue pages by 50. More alerts of the real
    // rules on real persons (as the engines would write them), with ties in amount for the tie-break.
    await q(
      `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, periods, region_code)
       SELECT (ARRAY['paid_after_death','double_receipt','abnormal_amount','no_sign_of_life'])[1 + (n % 4)], p.id_number, 'e2e:' || n,
              (ARRAY['critical','high','medium','low'])[1 + (n % 4)], (100 + (n % 17) * 37.5)::numeric(14,2), '{2026-06-01}',
              COALESCE(p.residence_region, p.hukou_region)
         FROM (SELECT id_number, residence_region, hukou_region, row_number() OVER (ORDER BY id_number) AS n FROM persons
                WHERE status = 'retired' ORDER BY id_number LIMIT 130) p`
    );
  });

  it('shows every open alert in the order of money at risk before the next payroll, page by page without OFFSET', async () => {
    await asAuditor();
    // The order the page must give, computed here from its definition.
    const expected = await q(
      `SELECT id, m::text AS money FROM (
         SELECT a.alert_id::int AS id,
                a.amount_at_risk + COALESCE((SELECT sum(e.monthly_amount) FROM enrollments e WHERE e.id_number = a.id_number AND e.status = 'active'), 0) AS m
           FROM alerts a WHERE a.active) x
        ORDER BY m DESC, id DESC`
    );
    expect(expected.length).toBeGreaterThan(50); // more than one page
    const seen = watchConsole(auditor);
    await auditor.goto(`${app.url}/workbench/alerts`);
    expect(Number(await auditor.getAttribute('[data-testid=queue-total]', 'data-total'))).toBe(expected.length);
    const all: Awaited<ReturnType<typeof queueRows>> = [];
    for (let pageNo = 0; pageNo < 100; pageNo++) {
      const rows = await queueRows(auditor);
      all.push(...rows);
      const next = auditor.locator('[data-testid=next-page]');
      if (!(await next.count())) break;
      const href = (await next.getAttribute('href'))!;
      expect(href).toMatch(/after=/);
      expect(href).not.toMatch(/offset/);
      // Follow the link itself: a click's waitForURL(/after=/) returns at once from page 2 on.
      await auditor.goto(new URL(href, auditor.url()).toString());
    }
    expect(all.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(all.map((r) => r.money)).toEqual(expected.map((r) => r.money));
    for (let i = 1; i < all.length; i++) expect(toCents(all[i - 1].money) >= toCents(all[i].money)).toBe(true);
    // Names and ID numbers masked.
    const ids = await auditor.$$eval('[data-testid=queue] td.id', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.includes('*'))).toBe(true);
    await auditor.screenshot({ path: shotPath('workbench-queue.png') });
    expect(seen.errors).toEqual([]);
  }, 300_000);

  it('filters by rule, status, severity, area down to the community, assignee, amount range and age; counts per status', async () => {
    await asAuditor();
    const [{ rule }] = await q(`SELECT rule FROM alerts GROUP BY rule ORDER BY count(*) DESC LIMIT 1`);
    await auditor.goto(`${app.url}/workbench/alerts`);
    await auditor.selectOption('select[name=rule]', rule);
    await auditor.selectOption('select[name=status]', 'all');
    await auditor.click('[data-testid=filters] button[type=submit]');
    await poll(() => new URL(auditor.url()).searchParams.get('rule')).toBe(rule);
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM alerts WHERE rule = $1`, [rule]);
    expect(Number(await auditor.getAttribute('[data-testid=queue-total]', 'data-total'))).toBe(n);
    expect((await queueRows(auditor)).every((r) => r.rule === rule)).toBe(true);
    // Counts per status of the same filters.
    const counts = await q(`SELECT status, count(*)::int AS n FROM alerts WHERE rule = $1 GROUP BY status`, [rule]);
    for (const c of counts) {
      expect(await auditor.getAttribute(`[data-testid=status-counts] a[data-status=${c.status}]`, 'data-count')).toBe(String(c.n));
    }

    // Area down to a community: the community of some alert, through the region path.
    const [one] = await q(`SELECT a.region_code, rp.path FROM alerts a JOIN region_paths rp ON rp.code = a.region_code LIMIT 1`);
    const [town] = await q(`SELECT parent_code FROM regions WHERE code = $1`, [one.region_code]);
    for (const area of [one.region_code, town.parent_code]) {
      await auditor.goto(`${app.url}/workbench/alerts?status=all&area=${area}`);
      const [{ n: inArea }] = await q(
        `SELECT count(*)::int AS n FROM alerts a JOIN region_paths rp ON rp.code = a.region_code
          WHERE rp.path LIKE (SELECT path FROM region_paths WHERE code = $1) || '%'`,
        [area]
      );
      expect(Number(await auditor.getAttribute('[data-testid=queue-total]', 'data-total')), area).toBe(inArea);
    }

    // Amount range, severity, age, assignee: each against the same filter in SQL.
    const cases: [string, string, unknown[]][] = [
      ['status=all&min=100&max=5000.5', `amount_at_risk BETWEEN 100 AND 5000.5`, []],
      ['status=all&severity=high', `severity = 'high'`, []],
      ['status=all&age=0', `opened_at <= now()`, []],
      ['status=all&age=3650', `opened_at <= now() - interval '3650 days'`, []],
      ['status=all&assignee=-', `assignee IS NULL`, []],
      ['status=new', `status = 'new'`, []]
    ];
    for (const [query, where, values] of cases) {
      await auditor.goto(`${app.url}/workbench/alerts?${query}`);
      const [{ n: want }] = await q(`SELECT count(*)::int AS n FROM alerts WHERE ${where}`, values);
      expect(Number(await auditor.getAttribute('[data-testid=queue-total]', 'data-total')), query).toBe(want);
    }
    // A filter that is not one of ours is a plain 400, not an error of ours.
    const bad = await auditor.goto(`${app.url}/workbench/alerts?min=1e9;DROP`);
    expect(bad!.status()).toBe(400);
    const badArea = await auditor.goto(`${app.url}/workbench/alerts?area=nope'`);
    expect(badArea!.status()).toBe(404);
  }, 300_000);

  it('orders by amount at risk (the fallback) and by age with keyset pages too', async () => {
    await asAuditor();
    for (const [sort, sql] of [
      ['amount', `ORDER BY amount_at_risk DESC, alert_id DESC`],
      ['oldest', `ORDER BY opened_at ASC, alert_id ASC`]
    ]) {
      const expected = (await q(`SELECT alert_id::int AS id FROM alerts WHERE active ${sql}`)).map((r) => r.id);
      await auditor.goto(`${app.url}/workbench/alerts?sort=${sort}`);
      const first = (await queueRows(auditor)).map((r) => r.id);
      await auditor.click('[data-testid=next-page]');
      await auditor.waitForURL(/after=/);
      const second = (await queueRows(auditor)).map((r) => r.id);
      expect([...first, ...second], sort).toEqual(expected.slice(0, first.length + second.length));
    }
  }, 300_000);

  it('saves a filter per user, in the database', async () => {
    await asAuditor();
    await auditor.goto(`${app.url}/workbench/alerts?status=all&severity=high&sort=amount`);
    await auditor.click('details.saved summary');
    await auditor.fill('input[name=name]', '高风险 high');
    await auditor.click('text=保存当前筛选 Save these filters');
    await poll(() => auditor.locator('[data-testid=saved-filter]').count()).toBe(1);
    const rows = await q(`SELECT username, name, query FROM workbench_saved_filters`);
    expect(rows).toEqual([{ username: DEMO.auditor.username, name: '高风险 high', query: 'status=all&severity=high&sort=amount' }]);
    await auditor.goto(`${app.url}/workbench/alerts`);
    await auditor.click('[data-testid=saved-filter]');
    await poll(() => new URL(auditor.url()).searchParams.get('severity')).toBe('high');
  }, 300_000);
});

describe('an alert', () => {
  it('shows the rule, its reason, exact amount and periods, and a timeline whose rows carry their lineage', async () => {
    await asAuditor();
    const [alert] = await q(
      `SELECT alert_id::int AS id, id_number, amount_at_risk::text AS amount, evidence FROM alerts
        WHERE rule = 'paid_after_death' AND active ORDER BY amount_at_risk DESC LIMIT 1`
    );
    expect(alert).toBeTruthy();
    const seen = watchConsole(auditor);
    await auditor.goto(`${app.url}/workbench/alerts/${alert.id}`);
    await expect(auditor.locator('[data-testid=reason]').textContent()).resolves.toContain('死亡');
    await expect(auditor.locator('[data-testid=reason]').textContent()).resolves.toContain(alert.amount);
    // The person masked.
    expect(await auditor.getAttribute('[data-testid=person]', 'data-masked')).toBe('true');
    expect(await auditor.locator('[data-testid=person] .id').textContent()).toContain('*');

    const rows = await auditor.$$eval('[data-testid=timeline] tbody tr', (trs) =>
      trs.map((tr) => ({
        kind: tr.getAttribute('data-kind')!,
        ref: tr.getAttribute('data-ref')!,
        evidence: tr.getAttribute('data-evidence') === 'true',
        file: tr.getAttribute('data-file')!,
        line: tr.getAttribute('data-line')!,
        run: tr.getAttribute('data-run')!
      }))
    );
    const kinds = new Set(rows.map((r) => r.kind));
    for (const k of ['payment', 'death', 'alert']) expect(kinds, k).toContain(k);
    // Every payment the alert rests on is there, marked, with the file and line it was loaded from.
    const paymentIds: string[] = alert.evidence.payment_ids;
    const lineage = await q(
      `SELECT p.payment_id, f.file_name, p.line_no FROM payments p JOIN ingest_files f ON f.file_id = p.file_id WHERE p.payment_id = ANY($1)`,
      [paymentIds]
    );
    expect(lineage.length).toBe(paymentIds.length);
    for (const l of lineage) {
      const row = rows.find((r) => r.kind === 'payment' && r.ref === l.payment_id);
      expect(row, l.payment_id).toBeTruthy();
      expect(row!.evidence).toBe(true);
      expect(row!.file).toBe(l.file_name);
      expect(row!.line).toBe(String(l.line_no));
    }
    // Every feed row has its lineage; the engines' rows name their run.
    for (const r of rows.filter((r) =>
      ['payment', 'death', 'evidence', 'certification', 'subsidy', 'enrollment', 'custody'].includes(r.kind)
    )) {
      expect(r.file, `${r.kind} ${r.ref}`).not.toBe('');
      expect(Number(r.line), `${r.kind} ${r.ref}`).toBeGreaterThan(0);
    }
    for (const r of rows.filter((r) => r.kind === 'alert')) expect(r.run).not.toBe('');
    // The death record's row and line.
    const [death] = await q(
      `SELECT d.record_id, f.file_name, d.line_no FROM deaths d JOIN ingest_files f ON f.file_id = d.file_id WHERE d.id_number = $1 LIMIT 1`,
      [alert.id_number]
    );
    const deathRow = rows.find((r) => r.kind === 'death' && r.ref === death.record_id)!;
    expect([deathRow.file, deathRow.line]).toEqual([death.file_name, String(death.line_no)]);
    // The chart draws one dot per row.
    expect(await auditor.locator('[data-testid=timeline-chart] circle').count()).toBe(rows.length);
    await auditor.screenshot({ path: shotPath('workbench-detail.png'), fullPage: true });
    expect(seen.errors).toEqual([]);
  }, 300_000);

  it('unmasks the person on request and logs it', async () => {
    await asAuditor();
    const [alert] = await q(`SELECT alert_id::int AS id, id_number FROM alerts ORDER BY alert_id LIMIT 1`);
    const before = await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'unmask.alert' AND subject = $1`, [String(alert.id)]);
    await auditor.goto(`${app.url}/workbench/alerts/${alert.id}`);
    await auditor.click('[data-testid=unmask]');
    await poll(() => auditor.getAttribute('[data-testid=person]', 'data-masked')).toBe('false');
    expect((await auditor.locator('[data-testid=person] .id').textContent())!.trim()).toBe(alert.id_number);
    const after = await q(`SELECT actor, detail FROM audit_log WHERE action = 'unmask.alert' AND subject = $1 ORDER BY audit_id`, [
      String(alert.id)
    ]);
    expect(after.length).toBe(before[0].n + 1);
    expect(after[after.length - 1].actor).toBe(DEMO.auditor.username);
    expect(after[after.length - 1].detail.id_number).toBe(alert.id_number);
  }, 300_000);

  it('prints a recovery notice with the exact amount', async () => {
    await asAuditor();
    const [alert] = await q(
      `SELECT alert_id::int AS id, amount_at_risk::text AS amount FROM alerts WHERE rule = 'paid_after_death' LIMIT 1`
    );
    await auditor.goto(`${app.url}/workbench/alerts/${alert.id}/notice`);
    const [i, f] = alert.amount.split('.');
    await expect(auditor.locator('[data-testid=notice-amount]').textContent()).resolves.toContain(
      `${i.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${f}`
    );
    await auditor.emulateMedia({ media: 'print' });
    expect(await auditor.locator('header').first().isVisible()).toBe(false);
    await auditor.emulateMedia({ media: 'screen' });
    const logged = await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'unmask.alert' AND subject = $1`, [String(alert.id)]);
    expect(logged[0].n).toBeGreaterThan(0);
  }, 300_000);
});

describe('the life of an alert, with two auditors', () => {
  /** The alert the maker and the checker work below (approved as paid after death, a suspension). */
  let lifeAlert = 0;
  it('acknowledge, a concurrent edit refused, propose a suspension, self-approval refused, a second auditor approves', async () => {
    const page = await asAuditor();
    const [city] = await q(`SELECT code FROM regions WHERE level = 'city' LIMIT 1`);
    const checker = { username: 'auditor.two', password: 'second-auditor-pass' };
    await createUser(
      app.db.pool,
      { type: 'system', name: 'e2e' },
      { ...checker, role: 'auditor', regionCode: city.code, displayName: '第二稽核员' }
    );
    const [alert] = await q(
      `SELECT alert_id::int AS id, version FROM alerts WHERE rule = 'paid_after_death' AND status = 'new' ORDER BY amount_at_risk DESC LIMIT 1`
    );
    lifeAlert = alert.id;
    const status = async () => (await q(`SELECT status, version, updated_by FROM alerts WHERE alert_id = $1`, [alert.id]))[0];
    const url = `${app.url}/workbench/alerts/${alert.id}`;
    await page.goto(url);
    await page.click('button[data-action=acknowledge]');
    await poll(async () => (await status()).status).toBe('acknowledged');
    await poll(() => page.getAttribute('[data-testid=alert-title]', 'data-status')).toBe('acknowledged');

    // The second auditor opens the alert; meanwhile the first moves it on: the second's action is refused.
    const ctx2 = await newContext(browser, { bypassCSP: true });
    const page2 = await signIn(ctx2, app.url, checker);
    await page2.goto(url);
    await page.click('button[data-action=investigate]');
    await poll(async () => (await status()).status).toBe('investigating');
    const before = await status();
    await page2.click('button[data-action=await_resident]');
    await poll(() => page2.locator('[data-testid=action-error]').getAttribute('data-code')).toBe('stale_version');
    const stale = (await page2.locator('[data-testid=action-error]').textContent())!;
    expect(stale).toContain(`changed by ${DEMO.auditor.username}`);
    expect(stale).toContain('reload');
    expect(await status()).toEqual(before);

    // Free text with an ID number is refused with a clear message.
    await page.goto(url);
    const [someone] = await q(`SELECT id_number FROM persons LIMIT 1`);
    await page.selectOption('[data-testid=propose-form] select[name=proposal]', 'suspend');
    await page.selectOption('[data-testid=propose-form] select[name=disposition]', 'paid_after_death');
    await page.fill('[data-testid=propose-form] input[name=reason]', `见 ${someone.id_number}`);
    await page.click('[data-testid=propose-form] button[type=submit]');
    await poll(() => page.locator('[data-testid=action-error]').count()).toBe(1);
    expect((await status()).status).toBe('investigating');

    // The maker proposes a suspension…
    await page.selectOption('[data-testid=propose-form] select[name=proposal]', 'suspend');
    await page.selectOption('[data-testid=propose-form] select[name=disposition]', 'paid_after_death');
    await page.fill('[data-testid=propose-form] input[name=reason]', '死亡后仍发放，核实属实');
    await page.click('[data-testid=propose-form] button[type=submit]');
    await poll(async () => (await status()).status).toBe('proposed');
    await poll(() => page.getAttribute('[data-testid=proposal]', 'data-maker')).toBe(DEMO.auditor.username);
    // … and cannot approve it.
    await page.click('[data-testid=approve-form] button[type=submit]');
    await poll(() => page.locator('[data-testid=action-error]').getAttribute('data-code')).toBe('own_proposal');
    expect((await status()).status).toBe('proposed');

    // The checker sees what the maker saw (nothing changed since), and approves.
    await page2.goto(url);
    await poll(() => page2.locator('[data-testid=diff-none]').count()).toBe(1);
    await page2.screenshot({ path: shotPath('workbench-approval.png'), fullPage: true });
    await page2.click('[data-testid=approve-form] button[type=submit]');
    await poll(async () => (await status()).status).toBe('approved');
    const [p] = await q(`SELECT state, made_by, checked_by FROM alert_proposals WHERE alert_id = $1`, [alert.id]);
    expect(p).toEqual({ state: 'approved', made_by: DEMO.auditor.username, checked_by: checker.username });
    const holds = await q(`SELECT kind, proposed_by, approved_by FROM payment_holds WHERE alert_id = $1`, [alert.id]);
    expect(holds).toEqual([{ kind: 'suspend', proposed_by: DEMO.auditor.username, approved_by: checker.username }]);
    const events = (
      await q(`SELECT action, actor FROM alert_transitions WHERE alert_id = $1 AND actor <> 'system' ORDER BY transition_id`, [alert.id])
    ).map((e) => `${e.action} ${e.actor}`);
    expect(events).toEqual([
      `acknowledge ${DEMO.auditor.username}`,
      `investigate ${DEMO.auditor.username}`,
      `propose ${DEMO.auditor.username}`,
      `approve ${checker.username}`
    ]);
    await ctx2.close();
  }, 300_000);

  it('recovers the amount due in instalments to "recovered", and the cockpit tiles R07, R08 and R09 on /screen show the ledger', async () => {
    expect(lifeAlert).toBeGreaterThan(0);
    const page = await asAuditor();
    const url = `${app.url}/workbench/alerts/${lifeAlert}`;
    const [a] = await q(`SELECT status, amount_due::text FROM alerts WHERE alert_id = $1`, [lifeAlert]);
    expect(a.status).toBe('approved');
    // three instalments, exact to the fen: a third, a third, the rest
    const due = toCents(a.amount_due);
    const third = due / 3n;
    const parts = [third, third, due - 2n * third];
    const yuan = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;
    for (const [i, part] of parts.entries()) {
      await page.goto(url);
      await page.fill('[data-testid=recovery-form] input[name=amount]', yuan(part));
      await page.selectOption('[data-testid=recovery-form] select[name=method]', 'instalment');
      await page.click('[data-testid=recovery-form] button[type=submit]');
      await poll(async () => (await q(`SELECT count(*)::int AS n FROM recoveries WHERE alert_id = $1`, [lifeAlert]))[0].n).toBe(i + 1);
      if (i < parts.length - 1)
        expect((await q(`SELECT status FROM alerts WHERE alert_id = $1`, [lifeAlert]))[0].status).toBe('in_recovery');
    }
    await poll(async () => (await q(`SELECT status FROM alerts WHERE alert_id = $1`, [lifeAlert]))[0].status).toBe('recovered');
    const [ledger] = await q(
      `SELECT amount_due::text, recovered::text, instalments::int, outstanding::text, ledger_status FROM recovery_ledger WHERE alert_id = $1`,
      [lifeAlert]
    );
    expect(ledger).toMatchObject({ amount_due: a.amount_due, recovered: a.amount_due, instalments: 3, outstanding: '0.00' });
    await page.goto(url);
    await poll(() => page.getAttribute('[data-testid=alert-title]', 'data-status')).toBe('recovered');

    // The cockpit after the nightly indicator facts: R07, R08, R09 of this month, for the whole city,
    // against the ledger and the alerts in the database. The board shows the newest month with payments
    // paid; the generated city's payroll for this month may not have run yet, so this month's payroll
    // arrives first (one paid payment, a copy of last month's as the payments feed would load it).
    const month = todayShanghai().slice(0, 7);
    await q(
      `INSERT INTO payments (payment_id, id_number, scheme_code, period, amount, paid_at, status, account_no)
       SELECT 'E2E-' || payment_id, id_number, scheme_code, $1::date, amount, now(), 'paid', account_no
         FROM payments WHERE status = 'paid' AND period = (SELECT max(period) FROM payments WHERE period < $1::date)
          AND NOT EXISTS (SELECT 1 FROM payments WHERE period = $1::date AND status = 'paid')
        LIMIT 1`,
      [`${month}-01`]
    );
    const facts = await runIndicatorFacts(app.db.pool, { trigger: 'manual', log: () => {} });
    expect(facts.status, facts.error).toBe('ok');
    const [r07] = await q(`SELECT COALESCE(sum(amount), 0)::text AS v FROM recoveries WHERE to_char(recovered_on, 'YYYY-MM') = $1`, [
      month
    ]);
    const [r08] = await q(`SELECT 100.0 * sum(recovered) / NULLIF(sum(amount_due), 0) AS v FROM recovery_ledger`);
    const [r09] = await q(
      `SELECT sum(extract(epoch FROM closed_at - opened_at) / 86400.0) / count(*) AS v FROM alerts
        WHERE to_char(closed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = $1`,
      [month]
    );
    expect(toCents(r07.v)).toBeGreaterThanOrEqual(due);
    const ctx = await newContext(browser);
    try {
      const leader = await signIn(ctx, app.url, DEMO.leader);
      await leader.goto(`${app.url}/screen`);
      await poll(() => leader.url()).toMatch(/\/screen\/\d{12}$/);
      await leader.goto(`${leader.url()}?period=${month}`);
      await poll(() => leader.getAttribute('[data-testid=cockpit]', 'data-period')).toBe(month);
      const tile = (code: string) => leader.getAttribute(`article[data-indicator="${code}"]`, 'data-value');
      await poll(async () => toCents((await tile('R07')) || '0')).toBe(toCents(r07.v));
      expect(Number(await tile('R08'))).toBeCloseTo(Number(r08.v), 1);
      expect(Number(await tile('R09'))).toBeCloseTo(Number(r09.v), 1);
      const text = (code: string) => leader.textContent(`article[data-indicator="${code}"] [data-testid=tile-value]`);
      for (const code of ['R07', 'R08', 'R09']) expect((await text(code))?.trim(), code).not.toBe('—');
    } finally {
      await ctx.close();
    }
  }, 300_000);

  it('bulk: previews how many alerts and which rules, then acknowledges them through the service', async () => {
    const page = await asAuditor();
    await page.goto(`${app.url}/workbench/alerts?status=new&sort=amount`);
    const boxes = page.locator('[data-testid=queue] tbody input[type=checkbox]');
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      await boxes.nth(i).check();
      ids.push(Number((await boxes.nth(i).getAttribute('value'))!.split(':')[0]));
    }
    await page.selectOption('#bulk select[name=action]', 'acknowledge');
    await page.click('[data-testid=bulk-preview]');
    await poll(() => page.getAttribute('[data-testid=bulk-confirm]', 'data-count')).toBe('3');
    const rules = await q(`SELECT rule, count(*)::int AS n FROM alerts WHERE alert_id = ANY($1) GROUP BY rule`, [ids]);
    for (const r of rules) expect(await page.getAttribute(`[data-testid=bulk-confirm] [data-rule=${r.rule}]`, 'data-n')).toBe(String(r.n));
    expect((await q(`SELECT count(*)::int AS n FROM alerts WHERE alert_id = ANY($1) AND status = 'new'`, [ids]))[0].n).toBe(3);
    await page.click('[data-testid=bulk-apply]');
    await poll(() => page.getAttribute('[data-testid=bulk-done]', 'data-done')).toBe('3');
    expect((await q(`SELECT count(*)::int AS n FROM alerts WHERE alert_id = ANY($1) AND status = 'acknowledged'`, [ids]))[0].n).toBe(3);
  }, 300_000);
});

describe('exports', () => {
  it('writes the filtered queue and a case file as CSV and Excel, formulas neutralised, each export logged', async () => {
    await asAuditor();
    // Feed data that looks like formulas: a name and an evidence note.
    const [alert] = await q(
      `SELECT a.alert_id::int AS id, a.id_number, a.rule FROM alerts a WHERE a.active ORDER BY amount_at_risk DESC LIMIT 1`
    );
    await q(`UPDATE persons SET name = '=HYPERLINK("http://x")' WHERE id_number = $1`, [alert.id_number]);
    await q(
      `INSERT INTO evidence (evidence_id, id_number, source, kind, occurred_at, detail, file_id, line_no)
       VALUES ('e2e-formula', $1, 'GOV_APP', 'face_login', now() - interval '2 days', '@SUM(1+1)', NULL, NULL)`,
      [alert.id_number]
    );
    const get = async (path: string) => {
      const r = await auditorCtx.request.get(`${app.url}${path}`);
      expect(r.status(), path).toBe(200);
      return { body: await r.body(), type: r.headers()['content-type'] };
    };
    const filter = `rule=${alert.rule}`;
    const csv = await get(`/workbench/alerts/export?format=csv&${filter}`);
    expect(csv.type).toContain('text/csv');
    const records: string[][] = parse(csv.body.toString('utf8').replace(/^\ufeff/, ''), { relax_column_count: true });
    const row = records.find((r) => r[0] === String(alert.id))!;
    expect(row).toBeTruthy();
    expect(row[13]).toMatch(/^'=/); // the masked name still starts with =, and is neutralised

    const xlsx = await get(`/workbench/alerts/export?format=xlsx&${filter}`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    let found = false;
    const [{ n: expectedRows }] = await q(`SELECT count(*)::int AS n FROM alerts WHERE active AND rule = $1`, [alert.rule]);
    expect(ws.rowCount).toBe(expectedRows + 1);
    ws.eachRow((r) =>
      r.eachCell((c) => {
        expect(c.formula, `${c.address}`).toBeFalsy();
        const v = String(c.value ?? '');
        expect(/^[=+\-@]/.test(v) && !/^[+-]?\d/.test(v), `${c.address} ${v}`).toBe(false);
        if (v.startsWith("'=")) found = true;
      })
    );
    expect(found).toBe(true);

    const caseXlsx = await get(`/workbench/alerts/${alert.id}/export?format=xlsx`);
    const cwb = new ExcelJS.Workbook();
    await cwb.xlsx.load(caseXlsx.body as unknown as ArrayBuffer);
    const values: string[] = [];
    cwb.eachSheet((s) => s.eachRow((r) => r.eachCell((c) => values.push(String(c.value ?? '')))));
    expect(values).toContain("'@SUM(1+1)");
    expect(values.some((v) => /^[=@]/.test(v))).toBe(false);
    const caseCsv = await get(`/workbench/alerts/${alert.id}/export?format=csv`);
    expect(caseCsv.body.toString('utf8')).toContain("'@SUM(1+1)");

    const logged = await q(
      `SELECT action, subject, detail->>'format' AS format FROM audit_log WHERE action LIKE 'export.%' AND actor = $1 ORDER BY audit_id`,
      [DEMO.auditor.username]
    );
    expect(logged.map((l) => `${l.action} ${l.format}`)).toEqual([
      'export.queue csv',
      'export.queue xlsx',
      'export.case xlsx',
      'export.case csv'
    ]);
  }, 300_000);
});

describe('who may use the workbench', () => {
  it('refuses a leader and a staff account on every route and action, URL and form tampering included; anonymous goes to sign-in', async () => {
    await asAuditor();
    const [alert] = await q(`SELECT alert_id::int AS id, rule, version FROM alerts ORDER BY alert_id LIMIT 1`);
    const routes = [
      '/workbench',
      '/workbench/alerts',
      '/workbench/alerts?status=all&rule=paid_after_death',
      `/workbench/alerts/${alert.id}`,
      `/workbench/alerts/${alert.id}?unmask=1`,
      `/workbench/alerts/${alert.id}/notice`,
      `/workbench/alerts/${alert.id}/export?format=xlsx`,
      `/workbench/alerts/export?format=csv`,
      '/workbench/rules',
      `/workbench/rules/${alert.rule}`,
      '/workbench/nothing-here',
      '/workbench//alerts'
    ];
    const actions: [string, Record<string, string>][] = [
      ['/workbench/alerts?/saveFilter', { name: 'x', query: 'status=all' }],
      ['/workbench/alerts?/deleteFilter', { filter_id: '1' }],
      ['/workbench/alerts?/bulkPreview', { action: 'acknowledge', alert_id: String(alert.id) }],
      ...['transition', 'assign', 'propose', 'approve', 'reject', 'recovery'].map(
        (a) =>
          [`/workbench/alerts/${alert.id}?/${a}`, { version: String(alert.version), action: 'acknowledge', assignee: 'demo-leader' }] as [
            string,
            Record<string, string>
          ]
      )
    ];
    const auditBefore = await q(`SELECT count(*)::int AS n FROM audit_log WHERE action LIKE 'unmask%' OR action LIKE 'export%'`);
    const filtersBefore = await q(`SELECT count(*)::int AS n FROM workbench_saved_filters`);
    const alertsBefore = await q(`SELECT alert_id, version, status, assignee FROM alerts ORDER BY alert_id`);
    for (const who of [DEMO.leader, DEMO.staff]) {
      const context = await newContext(browser);
      const page = await signIn(context, app.url, who);
      for (const path of routes) {
        const res = await page.goto(`${app.url}${path}`).catch(() => null);
        // A file download makes goto throw: ask with the request API then.
        const status = res ? res.status() : (await context.request.get(`${app.url}${path}`)).status();
        expect(status, `${who.username} GET ${path}`).toBe(403);
        if (res) expect(await page.locator('[data-testid=alert-title], [data-testid=queue], [data-testid=timeline]').count()).toBe(0);
      }
      // Form tampering: posts straight to every action, as the browser would send them (same origin).
      for (const [path, fields] of actions) {
        const status = await page.evaluate(
          async ([u, f]) => {
            const body = new FormData();
            for (const [k, v] of Object.entries(f)) body.append(k, v);
            const r = await fetch(u, { method: 'POST', body, headers: { 'x-sveltekit-action': 'true' } });
            return r.status;
          },
          [path, fields] as const
        );
        expect(status, `${who.username} POST ${path}`).toBe(403);
      }
      // A leader's page links no workbench.
      await context.close();
    }
    expect((await q(`SELECT count(*)::int AS n FROM workbench_saved_filters`))[0].n).toBe(filtersBefore[0].n);
    expect(await q(`SELECT alert_id, version, status, assignee FROM alerts ORDER BY alert_id`)).toEqual(alertsBefore);
    expect((await q(`SELECT count(*)::int AS n FROM audit_log WHERE action LIKE 'unmask%' OR action LIKE 'export%'`))[0].n).toBe(
      auditBefore[0].n
    );

    // Anonymous: pages go to sign-in (and back afterwards, only to a path of this site); posts get 401.
    const anon = await newContext(browser);
    const page = await anon.newPage();
    await page.goto(`${app.url}/workbench/alerts?status=all`);
    await poll(() => new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/workbench/alerts?status=all');
    const post = await anon.request.post(`${app.url}/workbench/alerts?/saveFilter`, {
      form: { name: 'x', query: '' },
      headers: { origin: app.url }
    });
    expect(post.status()).toBe(401);
    const file = await anon.request.get(`${app.url}/workbench/alerts/export?format=csv`, { maxRedirects: 0 });
    expect(file.status()).toBe(303);
    expect(file.headers()['location']).toMatch(/^\/login\?next=%2Fworkbench%2F/);
    // A tampered ?next= never leaves the site.
    await page.goto(`${app.url}/login?next=${encodeURIComponent('//evil.example/workbench')}`);
    await page.fill('input[name=username]', DEMO.auditor.username);
    await page.fill('input[name=password]', DEMO.auditor.password);
    await page.click('button[type=submit]');
    await poll(() => new URL(page.url()).host).toBe(new URL(app.url).host);
    await anon.close();
  }, 300_000);
});

describe('accessibility', () => {
  it('axe-core finds no serious or critical violation on the queue, an alert, the notice and the rules', async () => {
    await asAuditor();
    const [alert] = await q(`SELECT alert_id::int AS id, rule FROM alerts WHERE rule = 'paid_after_death' LIMIT 1`);
    for (const path of [
      '/workbench/alerts',
      `/workbench/alerts/${alert.id}`,
      `/workbench/alerts/${alert.id}/notice`,
      '/workbench/rules',
      `/workbench/rules/${alert.rule}`
    ]) {
      await auditor.goto(`${app.url}${path}`);
      await auditor.addScriptTag({ content: AXE });
      const violations = await auditor.evaluate(async () => {
        const r = await (
          window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }
        ).axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
      });
      expect(violations, path).toEqual([]);
    }
    // Keyboard: the first filter takes the focus with "/", and the focus ring shows.
    await auditor.goto(`${app.url}/workbench/alerts`);
    await auditor.waitForFunction(() => document.documentElement.hasAttribute('data-app-started')); // hydrated
    await auditor.keyboard.press('/');
    expect(await auditor.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('rule');
  }, 300_000);
});

// The README's screenshots (docs/screenshots/workbench-*.jpg) on this app's demo data, when asked:
//   WORKBENCH_SHOTS=docs/screenshots npx vitest run dashboard/e2e/workbench.test.ts
describe.runIf(!!process.env.WORKBENCH_SHOTS)('README screenshots', () => {
  it('are taken by workbench-shots.ts', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dashboard/e2e/workbench-shots.ts', app.url, process.env.WORKBENCH_SHOTS!], {
      encoding: 'utf8',
      timeout: 280_000,
      // the maker is the demo auditor, the checker the second auditor the lifecycle test created
      env: {
        ...process.env,
        SHOTS_PASSWORD: DEMO.auditor.password,
        SHOTS_CHECKER: 'auditor.two',
        SHOTS_CHECKER_PASSWORD: 'second-auditor-pass'
      }
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 300_000);
});
