// The portal's pages after sign-in, on a phone with scripts off: my payments (exactly the payments
// feed's rows of the last 12 months), subsidies I may claim (exactly the policy engine's matches),
// the death report (a case opened, a second report joining it, nothing taken from a tampered form),
// the checkup booking; a resident sees only their own data whatever the URL or form says; elder sizes
// and axe-core on every page at 390×844 and 360×640.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, poll, shotPath, startApp, type App } from './support/app.ts';
import { axeViolations, residentContext, sizeProblems } from './support/portal.ts';
import { ensureCheckupSlots, myBooking } from '../../core/workflow/checkup-bookings.ts';
import { ensureActivitySessions } from '../../core/workflow/activities.ts';
import { fileDemoSpouseReport } from '../../jobs/cli/start-log.ts';
import { todayShanghai } from '../../core/time.ts';
import { yuan } from '../lib/portal-text.ts';

let app: App;
let browser: Browser;
const today = todayShanghai();

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function one(sql: string, params: unknown[] = []): Promise<string> {
  const r = await app.db.pool.query(sql, params);
  if (!r.rowCount) throw new Error(`nobody: ${sql}`);
  return r.rows[0].id_number;
}

/** The payments feed's rows of the last 12 months for a person, as the page must show them. */
async function feedPayments(id: string) {
  const r = await app.db.pool.query(
    `SELECT scheme_code AS scheme, to_char(period, 'YYYY-MM') AS period, amount::text AS amount,
            COALESCE(to_char(paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), '') AS paid, status
       FROM payments WHERE id_number = $1 AND period >= (date_trunc('month', $2::date) - interval '11 months')::date AND period <= $2::date`,
    [id, today]
  );
  return r.rows.map((x) => `${x.scheme} ${x.period} ${x.amount} ${x.paid} ${x.status}`).sort();
}

describe('my payments', () => {
  it('shows exactly the payments feed rows of the last 12 months, and explains a changed amount', async () => {
    const id = await one(
      `SELECT DISTINCT a.id_number FROM payments a JOIN payments b ON b.id_number = a.id_number AND b.scheme_code = a.scheme_code
          AND b.period = (a.period - interval '1 month')::date AND b.status = 'paid'
        JOIN persons p ON p.id_number = a.id_number
       WHERE a.status = 'paid' AND a.amount <> b.amount AND p.phone IS NOT NULL
         AND a.period >= (date_trunc('month', $1::date) - interval '11 months')::date AND a.period <= $1::date
       ORDER BY a.id_number LIMIT 1`,
      [today]
    );
    const other = await one(`SELECT id_number FROM payments WHERE id_number <> $1 AND status = 'paid' ORDER BY id_number LIMIT 1`, [id]);
    const context = await residentContext(app, browser, id);
    const page = await context.newPage();
    // a tampered URL (someone else's ID number as a parameter) changes nothing: the session decides
    for (const url of ['/portal/payments', `/portal/payments?id_number=${other}`]) {
      await page.goto(app.url + url);
      const shown = await page.$$eval('[data-testid=payment]', (els) =>
        els.map((e) => {
          const scheme = e.closest('[data-scheme]')!.getAttribute('data-scheme');
          return `${scheme} ${e.getAttribute('data-period')} ${e.getAttribute('data-amount')} ${e.getAttribute('data-paid')} ${e.getAttribute('data-status')}`;
        })
      );
      expect(shown.sort()).toEqual(await feedPayments(id));
    }
    expect(await page.locator('[data-testid=change]').count()).toBeGreaterThan(0);
    // the explanation states the exact difference, computed in the database
    const diff = await app.db.pool.query(
      `SELECT (a.amount - b.amount)::text AS d FROM payments a JOIN payments b ON b.id_number = a.id_number AND b.scheme_code = a.scheme_code
          AND b.period = (a.period - interval '1 month')::date AND b.status = 'paid'
        WHERE a.id_number = $1 AND a.status = 'paid' AND a.amount > b.amount AND a.period >= (date_trunc('month', $2::date) - interval '11 months')::date AND a.period <= $2::date`,
      [id, today]
    );
    for (const d of diff.rows) expect(await page.textContent('main')).toContain(`多 ${yuan(d.d)} 元`);
    await page.screenshot({ path: shotPath('portal-payments-390.png'), fullPage: true });
    await context.close();
  });
});

describe('subsidies I may claim', () => {
  it("lists exactly the policy engine's open matches with their reason, and the payouts received", async () => {
    const id = await one(
      `SELECT m.id_number FROM subsidy_matches m JOIN ref_subsidy_projects p USING (project_code) JOIN persons pe USING (id_number)
        WHERE m.category = 'eligible_not_receiving' AND p.per = 'month' AND pe.phone IS NOT NULL
        ORDER BY (p.eligibility ? 'min_age') DESC, m.id_number LIMIT 1`
    );
    const receiver = await one(
      `SELECT s.id_number FROM subsidies s JOIN persons pe USING (id_number) WHERE pe.phone IS NOT NULL
          AND s.period >= (date_trunc('month', $1::date) - interval '11 months')::date ORDER BY s.id_number LIMIT 1`,
      [today]
    );
    // the engine's matches, as the page must list them (per-event ones only while an admission is unpaid)
    const engine = async (who: string) =>
      (
        await app.db.pool.query(
          `SELECT m.project_code FROM subsidy_matches m JOIN ref_subsidy_projects p USING (project_code)
            WHERE m.id_number = $1 AND m.category = 'eligible_not_receiving'
              AND (p.per = 'month' OR EXISTS (SELECT 1 FROM jsonb_array_elements(m.facts->'admissions') a WHERE NOT (a->>'paid')::boolean))`,
          [who]
        )
      ).rows
        .map((r) => r.project_code)
        .sort();
    for (const who of [id, receiver]) {
      const context = await residentContext(app, browser, who);
      const page = await context.newPage();
      // someone else's ID number in the URL changes nothing
      await page.goto(`${app.url}/portal/subsidies?id_number=${who === id ? receiver : id}`);
      const claims = await page.$$eval('[data-testid=claim]', (els) => els.map((e) => e.getAttribute('data-project')!));
      expect(claims.sort()).toEqual(await engine(who));
      const payouts = await page.$$eval('[data-testid=payout]', (els) =>
        els.map(
          (e) =>
            `${e.closest('[data-project]')!.getAttribute('data-project')} ${e.getAttribute('data-period')} ${e.getAttribute('data-amount')}`
        )
      );
      const feed = await app.db.pool.query(
        `SELECT project_code || ' ' || to_char(period, 'YYYY-MM') || ' ' || amount::text AS x FROM subsidies
          WHERE id_number = $1 AND period >= (date_trunc('month', $2::date) - interval '11 months')::date AND period <= $2::date`,
        [who, today]
      );
      expect(payouts.sort()).toEqual(feed.rows.map((r) => r.x).sort());
      if (who === id) {
        // "因为您在2026年3月满80岁": the month the person reached the project's age, from the birth date
        const age = await app.db.pool.query(
          `SELECT p.name_zh, (p.eligibility->>'min_age')::int AS age,
                  to_char(pe.birth_date + make_interval(years => (p.eligibility->>'min_age')::int), 'YYYY-MM') AS m
             FROM subsidy_matches m JOIN ref_subsidy_projects p USING (project_code) JOIN persons pe USING (id_number)
            WHERE m.id_number = $1 AND m.category = 'eligible_not_receiving' AND p.eligibility ? 'min_age'`,
          [id]
        );
        for (const a of age.rows) {
          const [y, mo] = a.m.split('-').map(Number);
          expect(await page.textContent('main')).toContain(`因为您在${y}年${mo}月满${a.age}岁`);
          expect(await page.textContent('main')).toContain(`您可能符合 ${a.name_zh}`);
        }
        await page.screenshot({ path: shotPath('portal-subsidies-390.png'), fullPage: true });
      }
      await context.close();
    }
  });
});

describe('report a death', () => {
  /** Walk the pages with scripts off, one question each, up to the declaration (submitted when asked). */
  async function report(page: Page, deceased: string, relation: string, submit = true): Promise<void> {
    await page.goto(`${app.url}/portal/report-death/relation`);
    await page.check(`input[name=relation][value=${relation}]`);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/deceased$/);
    expect(page.url()).not.toContain(deceased);
    await page.fill('#deceased', deceased);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/date$/);
    await page.fill('#date', today);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/place$/);
    await page.fill('#place', '市人民医院');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/certificate$/);
    await page.fill('#certificate', 'ZJ2026-000123');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/bank$/);
    await page.fill('#bank_name', '中国工商银行');
    await page.fill('#bank_account', '6222020200112233445');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/survivor$/);
    await page.check('input[name=survivor][value=spouse]');
    await page.fill('#survivor_name', '王秀英');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/declaration$/);
    expect(await page.textContent('[data-testid=dr-answers]')).toContain('市人民医院');
    if (!submit) return;
    await page.check('input[name=declare]');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=dr-reference]');
    expect(page.url()).toBe(`${app.url}/portal/report-death/done`);
  }

  it('opens an after-death case with a verify task and texts the reference; a second report joins the case', async () => {
    const [first, second, deceased] = (
      await app.db.pool.query(
        `SELECT p.id_number FROM persons p WHERE p.phone IS NOT NULL AND p.status = 'retired'
            AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.id_number = p.id_number)
            AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id_number = p.id_number AND c.kind = 'after_death')
          ORDER BY p.id_number LIMIT 3`
      )
    ).rows.map((r) => r.id_number as string);
    const a = await residentContext(app, browser, first);
    const pa = await a.newPage();
    // a wrong answer is said in words, and the page asks again
    await pa.goto(`${app.url}/portal/report-death/relation`);
    await pa.check('input[name=relation][value=child]');
    await pa.click('button[type=submit]');
    await pa.fill('#deceased', first);
    await pa.click('button[type=submit]');
    expect(await pa.textContent('[data-testid=portal-error]')).toContain('这是您本人的身份证号码');
    await report(pa, deceased, 'child');
    const c = await app.db.pool.query(`SELECT case_id, status, detail FROM cases WHERE kind = 'after_death' AND id_number = $1`, [
      deceased
    ]);
    expect(c.rowCount).toBe(1);
    expect(c.rows[0].status).toBe('reported');
    expect(c.rows[0].detail.report).toMatchObject({ reporter_id: first, relation: 'child', death_date: today, place: '市人民医院' });
    const reference = 'SH' + String(c.rows[0].case_id).padStart(6, '0');
    expect(await pa.textContent('[data-testid=dr-reference]')).toContain(reference);
    const task = await app.db.pool.query(`SELECT count(*)::int AS n FROM tasks WHERE kind = 'verify_death_report' AND case_id = $1`, [
      c.rows[0].case_id
    ]);
    expect(task.rows[0].n).toBe(1);
    const sms = await app.db.pool.query(
      `SELECT o.body FROM sms_outbox o JOIN persons p ON p.phone = o.phone WHERE p.id_number = $1 AND o.purpose = 'death_report'`,
      [first]
    );
    expect(sms.rows.map((r) => r.body).join()).toContain(reference);
    // the draft's answers are gone once submitted (the bank account lives in the case only)
    expect((await app.db.pool.query(`SELECT answers FROM death_report_drafts WHERE reporter_id = $1`, [first])).rows[0].answers).toEqual(
      {}
    );
    await pa.screenshot({ path: shotPath('portal-report-death-done-390.png'), fullPage: true });
    await a.close();

    const b = await residentContext(app, browser, second, { viewport: { width: 360, height: 640 } });
    const pb = await b.newPage();
    await report(pb, deceased, 'spouse');
    expect(await pb.textContent('[data-testid=dr-reference]')).toContain(reference);
    expect(await pb.locator('[data-testid=dr-joined]').count()).toBe(1);
    const joined = await app.db.pool.query(`SELECT case_id, detail FROM cases WHERE kind = 'after_death' AND id_number = $1`, [deceased]);
    expect(joined.rowCount).toBe(1);
    expect(joined.rows[0].detail.further_reports).toHaveLength(1);
    expect(joined.rows[0].detail.further_reports[0]).toMatchObject({ reporter_id: second, relation: 'spouse' });
    await b.close();
  });

  it("never takes the reporter or another resident's draft from the form or the URL", async () => {
    const [victim, intruder, deceased] = (
      await app.db.pool.query(
        `SELECT p.id_number FROM persons p WHERE p.phone IS NOT NULL AND p.status = 'retired'
            AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.id_number = p.id_number)
            AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id_number = p.id_number AND c.kind = 'after_death')
            AND NOT EXISTS (SELECT 1 FROM death_report_drafts r WHERE r.reporter_id = p.id_number)
          ORDER BY p.id_number DESC LIMIT 3`
      )
    ).rows.map((r) => r.id_number as string);
    // the victim fills every page but has not submitted yet
    const v = await residentContext(app, browser, victim);
    await report(await v.newPage(), deceased, 'child', false);
    await v.close();
    const i = await residentContext(app, browser, intruder);
    const pi = await i.newPage();
    // the intruder cannot open the declaration (their own draft is empty) whatever the URL says
    await pi.goto(`${app.url}/portal/report-death/declaration?reporter_id=${victim}`);
    await poll(() => new URL(pi.url()).pathname).toBe('/portal/report-death/relation');
    // a submit with forged fields naming the victim: refused, and no case is opened
    const post = (step: string, form: Record<string, string>) =>
      pi.request.post(`${app.url}/portal/report-death/${step}`, {
        form,
        headers: { origin: app.url, accept: 'text/html' },
        maxRedirects: 0
      });
    const forged = { declare: 'yes', reporter_id: victim, id_number: victim, reporter: victim, deceased };
    const r1 = await post('declaration', forged);
    // refused (their own draft is empty), and the page sends them back to their own first question
    expect(r1.status()).toBe(303);
    expect(r1.headers()['location']).toMatch(/\/portal\/report-death\/relation$/);
    expect(await app.db.pool.query(`SELECT 1 FROM cases WHERE kind = 'after_death' AND id_number = $1`, [deceased])).toHaveProperty(
      'rowCount',
      0
    );
    // a step's extra fields are ignored: only that step's own answer lands, in the intruder's own draft
    const r2 = await post('relation', { relation: 'other', ...forged });
    expect(r2.status()).toBe(303);
    const drafts = await app.db.pool.query(`SELECT reporter_id, answers FROM death_report_drafts WHERE reporter_id = ANY($1)`, [
      [victim, intruder]
    ]);
    const byId = Object.fromEntries(drafts.rows.map((r) => [r.reporter_id, r.answers]));
    expect(byId[intruder]).toEqual({ relation: 'other' });
    expect(byId[victim]).toMatchObject({ relation: 'child', deceased, place: '市人民医院' });
    await i.close();
  });
});

describe('book a health checkup', () => {
  it('chooses, confirms, shows and cancels my booking; another resident cannot touch it', async () => {
    await ensureCheckupSlots(app.db.pool, { capacity: 5 });
    const [me, other] = (
      await app.db.pool.query(`SELECT id_number FROM persons WHERE phone IS NOT NULL ORDER BY id_number DESC OFFSET 10 LIMIT 2`)
    ).rows.map((r) => r.id_number as string);
    const a = await residentContext(app, browser, me);
    const pa = await a.newPage();
    await pa.goto(`${app.url}/portal/checkups`);
    const slot = await pa.getAttribute('[data-testid=slot] >> nth=0', 'data-slot');
    await pa.check(`input[name=slot][value="${slot}"]`);
    await pa.click('form[action="?/choose"] button[type=submit]');
    await pa.waitForSelector('[data-testid=confirm-line]');
    expect(await app.db.pool.query(`SELECT 1 FROM checkup_bookings WHERE id_number = $1`, [me])).toHaveProperty('rowCount', 0);
    await pa.click('[data-testid=book]');
    await pa.waitForSelector('[data-testid=my-booking]');
    expect(await pa.getAttribute('[data-testid=my-booking]', 'data-slot')).toBe(slot);
    expect((await app.db.pool.query(`SELECT booked FROM checkup_slots WHERE slot_id = $1`, [slot])).rows[0].booked).toBe(1);
    await pa.screenshot({ path: shotPath('portal-checkups-390.png'), fullPage: true });
    // the other resident's cancel, with my ID number forged into the form, cancels nothing of mine
    const b = await residentContext(app, browser, other);
    const pb = await b.newPage();
    await pb.goto(`${app.url}/portal/checkups?id_number=${me}`);
    expect(await pb.locator('[data-testid=my-booking]').count()).toBe(0);
    const r = await pb.request.post(`${app.url}/portal/checkups?/cancel`, {
      form: { id_number: me, booking_id: '1' },
      headers: { origin: app.url, accept: 'text/html' },
      maxRedirects: 0
    });
    expect(r.status()).toBe(303);
    expect((await myBooking(app.db.pool, me))?.slot_id).toBe(Number(slot));
    await b.close();
    await pa.click('[data-testid=cancel]');
    await pa.waitForSelector('[data-testid=slot]');
    expect(await myBooking(app.db.pool, me)).toBeNull();
    expect((await app.db.pool.query(`SELECT booked FROM checkup_slots WHERE slot_id = $1`, [slot])).rows[0].booked).toBe(0);
    await a.close();
  });
});

describe('family access', () => {
  it('a child asks, the parent consents by SMS code, the child acts for the parent; no bank answer, no forged link; one-tap revoke', async () => {
    const [child, parent, stranger] = (
      await app.db.pool.query(
        `SELECT p.id_number FROM persons p WHERE p.phone IS NOT NULL AND p.status = 'retired'
            AND NOT EXISTS (SELECT 1 FROM family_links l WHERE p.id_number IN (l.helper_id, l.parent_id))
            AND NOT EXISTS (SELECT 1 FROM death_report_drafts r WHERE r.reporter_id = p.id_number)
          ORDER BY p.id_number OFFSET 40 LIMIT 3`
      )
    ).rows.map((r) => r.id_number as string);
    const texts = async (id: string, purpose: string) =>
      (
        await app.db.pool.query(
          `SELECT o.body FROM sms_outbox o JOIN persons p ON p.phone = o.phone WHERE p.id_number = $1 AND o.purpose = $2 ORDER BY o.sms_id`,
          [id, purpose]
        )
      ).rows.map((r) => r.body as string);
    const c = await residentContext(app, browser, child);
    const pc = await c.newPage();
    await pc.goto(`${app.url}/portal/family`);
    await pc.fill('[data-testid=family-parent]', parent);
    await pc.check('input[name=role][value=requests]');
    await pc.click('[data-testid=family-request]');
    await pc.waitForSelector('[data-testid=family-sent]');
    const code = /(?<!\d)(\d{6})(?!\d)/.exec((await texts(parent, 'family_consent')).at(-1)!)![1];
    await pc.fill('[data-testid=family-code]', code);
    await pc.click('[data-testid=family-confirm]');
    await pc.waitForSelector('[data-testid=act]');
    expect(await texts(parent, 'family_linked')).toHaveLength(1);
    await pc.screenshot({ path: shotPath('portal-family-390.png'), fullPage: true });
    const link = await pc.getAttribute('[data-testid=act]', 'data-link');
    await pc.click('[data-testid=act]');
    await pc.waitForSelector('[data-testid=acting]');
    const parentName = (await app.db.pool.query(`SELECT name FROM persons WHERE id_number = $1`, [parent])).rows[0].name;
    expect(await pc.textContent('main')).toContain(parentName);
    expect((await texts(parent, 'family_action')).length).toBeGreaterThan(0);
    const post = (path: string, form: Record<string, string>) =>
      pc.request.post(`${app.url}${path}`, { form, headers: { origin: app.url, accept: 'text/html' }, maxRedirects: 0 });
    // while acting, the death report (and its bank account) is refused: no draft of anyone gets a bank answer
    await pc.goto(`${app.url}/portal/report-death/bank`);
    expect(await pc.locator('[data-testid=portal-forbidden]').count()).toBe(1);
    const bank = await post('/portal/report-death/bank', { bank_name: '中国银行', bank_account: '6216600000000000001' });
    expect(bank.status()).toBe(403);
    const drafts = await app.db.pool.query(`SELECT 1 FROM death_report_drafts WHERE reporter_id = ANY($1) AND answers ? 'bank_account'`, [
      [child, parent]
    ]);
    expect(drafts.rowCount).toBe(0);
    await c.close();

    // a stranger forging the child's link id into the form reaches nobody
    const s = await residentContext(app, browser, stranger);
    const ps = await s.newPage();
    const forged = await ps.request.post(`${app.url}/portal/family?/act`, {
      form: { link: String(link) },
      headers: { origin: app.url, accept: 'text/html' },
      maxRedirects: 0
    });
    expect(forged.status()).toBe(403);
    await ps.goto(`${app.url}/portal`);
    expect(await ps.locator('[data-testid=acting]').count()).toBe(0);
    await s.close();

    // the parent sees who can see the account and removes the child with one tap
    const p = await residentContext(app, browser, parent);
    const pp = await p.newPage();
    await pp.goto(`${app.url}/portal/family`);
    expect(await pp.locator('[data-testid=helper]').count()).toBe(1);
    await pp.click('[data-testid=revoke]');
    await pp.waitForSelector('[data-testid=who-sees]');
    expect(await pp.locator('[data-testid=helper]').count()).toBe(0);
    await p.close();
    const state = await app.db.pool.query(`SELECT status FROM family_links WHERE link_id = $1`, [link]);
    expect(state.rows[0].status).toBe('revoked');
  });
});

describe('activities and elderly education', () => {
  it('signs up and cancels with scripts off; the place is taken and given back', async () => {
    await ensureActivitySessions(app.db.pool, { from: today });
    const id = (await app.db.pool.query(`SELECT id_number FROM persons WHERE phone IS NOT NULL ORDER BY id_number OFFSET 60 LIMIT 1`))
      .rows[0].id_number;
    const c = await residentContext(app, browser, id, { viewport: { width: 360, height: 640 } });
    const page = await c.newPage();
    await page.goto(`${app.url}/portal/activities`);
    const session = await page.getAttribute('[data-testid=activity] >> nth=0', 'data-session');
    const taken = async () =>
      (await app.db.pool.query(`SELECT taken FROM activity_sessions WHERE session_id = $1`, [session])).rows[0].taken;
    const before = await taken();
    await page.click(`[data-session="${session}"] [data-testid=activity-signup]`);
    await page.waitForSelector(`[data-session="${session}"][data-mine=true]`);
    expect(await taken()).toBe(before + 1);
    await page.screenshot({ path: shotPath('portal-activities-360.png'), fullPage: true });
    await page.click(`[data-session="${session}"] [data-testid=activity-cancel]`);
    await page.waitForSelector(`[data-session="${session}"][data-mine=false]`);
    expect(await taken()).toBe(before);
    await c.close();
  });
});

describe('the session: its end said on every page, a warning before it, and a way to extend (scripts off)', () => {
  it('warns in the last minutes and extends without losing the page', async () => {
    const id = (await app.db.pool.query(`SELECT id_number FROM persons WHERE phone IS NOT NULL ORDER BY id_number OFFSET 61 LIMIT 1`))
      .rows[0].id_number;
    const c = await residentContext(app, browser, id);
    const page = await c.newPage();
    await page.goto(`${app.url}/portal/payments`);
    expect(await page.locator('[data-testid=session-ends]').count()).toBe(1);
    expect(await page.locator('[data-testid=session-warning]').count()).toBe(0);
    await app.db.pool.query(`UPDATE resident_sessions SET expires_at = now() + interval '10 minutes' WHERE id_number = $1`, [id]);
    await page.goto(`${app.url}/portal/payments`);
    expect(await page.textContent('[data-testid=session-warning]')).toContain('分钟');
    await page.click('[data-testid=extend-now]');
    await page.waitForURL(/\/portal\/payments$/);
    expect(await page.locator('[data-testid=session-warning]').count()).toBe(0);
    const left = await app.db.pool.query(
      `SELECT extract(epoch FROM expires_at - now())::int AS s FROM resident_sessions WHERE id_number = $1 ORDER BY expires_at DESC LIMIT 1`,
      [id]
    );
    expect(left.rows[0].s).toBeGreaterThan(3600);
    await c.close();
  });
});

describe('the demo resident whose spouse died', () => {
  it('sees the case, the funeral grant to their own account and the next steps, in elder sizes', async () => {
    const widow = await fileDemoSpouseReport(app.db.pool);
    expect(widow).toBeTruthy();
    const k = await app.db.pool.query(
      `SELECT case_id, status, funeral_grant::text FROM cases WHERE kind = 'after_death' AND detail -> 'further_reports' @> $1::jsonb`,
      [JSON.stringify([{ reporter_id: widow, relation: 'spouse' }])]
    );
    expect(k.rowCount).toBe(1);
    const c = await residentContext(app, browser, widow!, { bypassCSP: true, javaScriptEnabled: true });
    const page = await c.newPage();
    await page.goto(`${app.url}/portal`);
    expect(await page.getAttribute('[data-testid=survivor]', 'data-status')).toBe(k.rows[0].status);
    expect(await page.textContent('[data-testid=survivor]')).toContain('SH' + String(k.rows[0].case_id).padStart(6, '0'));
    expect(await page.getAttribute('[data-testid=funeral-grant]', 'data-amount')).toBe(k.rows[0].funeral_grant);
    expect(await page.locator('[data-testid=survivor-steps] li').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: shotPath('portal-spouse-died-390.png'), fullPage: true });
    const m = await sizeProblems(page);
    expect(m.small).toEqual([]);
    expect(m.tooSmall).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await c.close();
  });
});

describe('elder sizes and accessibility on every new page', () => {
  it('keeps text ≥ 18 px, targets ≥ 60/44 px, ships no script, and axe-core finds nothing, at 390×844 and 360×640', async () => {
    const id = (await app.db.pool.query(`SELECT id_number FROM persons WHERE phone IS NOT NULL ORDER BY id_number OFFSET 20 LIMIT 1`))
      .rows[0].id_number;
    const pages = [
      '/portal',
      '/portal/payments',
      '/portal/subsidies',
      '/portal/checkups',
      '/portal/report-death/relation',
      '/portal/family'
    ];
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 360, height: 640 }
    ]) {
      // bypassCSP: axe-core is injected as an inline script, which the page's policy rightly refuses
      const context = await residentContext(app, browser, id, { viewport, bypassCSP: true, javaScriptEnabled: true });
      const page = await context.newPage();
      for (const url of pages)
        for (const size of ['large', 'standard']) {
          await page.goto(`${app.url}${url}?size=${size}`);
          const m = await sizeProblems(page);
          expect(m.small, `${url} ${size} ${viewport.width}`).toEqual([]);
          expect(m.tooSmall, `${url} ${size} ${viewport.width}`).toEqual([]);
          expect(m.code, `${url}: no script`).toBe(0);
          expect(m.readAloud, `${url}: read-aloud button`).toBe(1);
          expect(m.phone, `${url}: a human phone number`).toBeGreaterThan(0);
          // the read-aloud button shows only where the browser can speak
          const speaks = await page.evaluate(() => 'speechSynthesis' in window && typeof SpeechSynthesisUtterance === 'function');
          expect(await page.isVisible('#read-aloud'), url).toBe(speaks);
          // the header's controls (read-aloud, English, text size) never run into each other: the text
          // of each, as drawn, clear of the others' (the links once squeezed to "Englis" over "标准字")
          const clash = await page.evaluate(() => {
            const boxes = [...document.querySelectorAll('header a, header button:not([hidden])')].map((el) => {
              const r = document.createRange();
              r.selectNodeContents(el);
              return { what: (el.textContent ?? '').trim(), rects: [...r.getClientRects()] };
            });
            const hit = (a: DOMRect, b: DOMRect) =>
              a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
            const out: string[] = [];
            boxes.forEach((a, i) =>
              boxes.slice(i + 1).forEach((b) => {
                if (a.rects.some((x) => b.rects.some((y) => hit(x, y)))) out.push(`${a.what} × ${b.what}`);
              })
            );
            return out;
          });
          expect(clash, `${url} ${size} ${viewport.width}`).toEqual([]);
          expect(await axeViolations(page), `${url} ${size} ${viewport.width}`).toEqual([]);
        }
      await context.close();
    }
  }, 900_000);
});
