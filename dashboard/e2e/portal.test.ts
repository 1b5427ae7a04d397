// The residents' portal on a phone (390×844 and 360×640), with JavaScript switched off as on a cheap
// phone: sign-in with the code from the SMS outbox, the status card as the certification engine left
// it, "what certified me" from the certifying evidence, no script shipped, elder-sized text and
// touch targets, axe-core without violations, and a staff session that does not open it.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, type App } from './support/app.ts';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let app: App;
let browser: Browser;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A resident with a phone whose certification is in the given state (cert_status). */
async function resident(
  where: string
): Promise<{ id: string; phone: string; status: string; valid_until: string | null; evidence: string[] }> {
  const r = await app.db.pool.query(
    `SELECT p.id_number AS id, p.phone, c.status, to_char(c.valid_until, 'YYYY-MM-DD') AS valid_until, c.evidence_ids AS evidence
       FROM persons p JOIN cert_status c USING (id_number) WHERE p.phone IS NOT NULL AND ${where} ORDER BY p.id_number LIMIT 1`
  );
  if (!r.rowCount) throw new Error(`no resident where ${where}`);
  return r.rows[0];
}

async function signInAsResident(page: Page, id: string, phone: string): Promise<void> {
  await page.goto(`${app.url}/portal`);
  await poll(() => new URL(page.url()).pathname).toBe('/portal/login');
  await page.fill('#id_number', id);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=code-sent]');
  const sms = await app.db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY sms_id DESC LIMIT 1`, [phone]);
  const code = /(\d{6})/.exec(sms.rows[0].body)![1];
  await page.fill('#code', code);
  await page.click('form[action="?/verify"] button[type=submit]');
  await page.waitForSelector('[data-testid=status-card]');
}

/** Every visible text node's font size, and every button and link target's size, in CSS px. */
async function measure(page: Page) {
  return page.evaluate(() => {
    const texts: { text: string; size: number }[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !n.textContent?.trim() || el.closest('[hidden], head')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      texts.push({ text: n.textContent.trim().slice(0, 30), size: parseFloat(getComputedStyle(el).fontSize) });
    }
    const targets = [...document.querySelectorAll('button, input:not([type=hidden]), a')]
      .map((el) => {
        const r = el.getBoundingClientRect();
        return {
          what: `${el.tagName} ${(el.textContent ?? '').trim().slice(0, 20)}`,
          primary: el.tagName !== 'A' || el.classList.contains('button'),
          w: r.width,
          h: r.height
        };
      })
      .filter((t) => t.w && t.h);
    // the app's code: module scripts and preloads (app.html's small inline boot guard acts on /screen only)
    // (and the read-aloud button's one small static script, static/read-aloud.js)
    const code = document.querySelectorAll('script[src]:not([src="/read-aloud.js"]), link[rel=modulepreload]').length;
    const inline = [...document.querySelectorAll('script:not([src])')].reduce((n, s) => n + (s.textContent ?? '').length, 0);
    return { texts, targets, code, inline };
  });
}

describe("the residents' portal on a phone, scripts off", () => {
  it('signs a certified resident in with the texted code and shows what certified them', async () => {
    const who = await resident(
      `c.status = 'certified' AND c.method = 'silent' AND cardinality(c.evidence_ids) > 0 AND c.valid_until > current_date + 31`
    );
    const context = await newContext(browser, { viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await signInAsResident(page, who.id, who.phone);
    expect(await page.getAttribute('[data-testid=status-card]', 'data-state')).toBe('certified');
    const [y, m, d] = who.valid_until!.split('-').map(Number);
    expect(await page.textContent('[data-testid=status-card]')).toContain(`${y}年${m}月${d}日`);
    // "what certified me" lists exactly the certifying evidence, by date
    const ev = await app.db.pool.query(
      `SELECT to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS d FROM evidence WHERE evidence_id = ANY($1)`,
      [who.evidence]
    );
    expect(await page.locator('[data-testid=why] li').count()).toBe(ev.rowCount);
    for (const e of ev.rows) {
      const [ey, em, ed] = e.d.split('-').map(Number);
      expect(await page.textContent('[data-testid=why]')).toContain(`${ey}年${em}月${ed}日`);
    }
    await page.screenshot({ path: shotPath('portal-certified-390.png'), fullPage: true });
    const m1 = await measure(page);
    expect(m1.code, 'the portal loads no JavaScript of the app').toBe(0);
    expect(m1.inline).toBeLessThan(2048);
    await context.close();
  });

  it('tells a resident who is not certified what to do, with the ways to confirm', async () => {
    const who = await resident(`c.status = 'not_certified'`);
    const context = await newContext(browser, { viewport: { width: 360, height: 640 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await signInAsResident(page, who.id, who.phone);
    expect(await page.getAttribute('[data-testid=status-card]', 'data-state')).toBe('lapsed');
    expect(await page.locator('#ways li').count()).toBe(3);
    await page.screenshot({ path: shotPath('portal-lapsed-360.png'), fullPage: true });
    await context.close();
  });

  it('keeps text at 18 px or more (22 px by default), targets large, and axe-core finds nothing', async () => {
    const who = await resident(`c.status = 'certified'`);
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 360, height: 640 }
    ]) {
      await app.db.pool.query(`DELETE FROM resident_codes WHERE id_number = $1`, [who.id]); // the 60 s resend wait
      // bypassCSP: axe-core is injected as an inline script, which the page's policy rightly refuses
      const context = await newContext(browser, { viewport, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${app.url}/portal/login`);
      for (const url of ['/portal/login', 'signed-in']) {
        if (url === 'signed-in') await signInAsResident(page, who.id, who.phone);
        for (const size of ['large', 'standard']) {
          await page.goto(`${page.url().split('?')[0]}?size=${size}`);
          const m = await measure(page);
          const small = m.texts.filter((t) => t.size < 18);
          expect(small, `${url} ${size} ${viewport.width}`).toEqual([]);
          const tooSmall = m.targets.filter((t) => (t.primary ? t.h < 60 : t.h < 44 || t.w < 44));
          expect(tooSmall, `${url} ${size} ${viewport.width}`).toEqual([]);
          await page.addScriptTag({ content: AXE });
          const violations = await page.evaluate(async () => {
            const r = await (
              window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
            ).axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
            return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
          });
          expect(violations, `${url} ${size} ${viewport.width}`).toEqual([]);
        }
      }
      const base = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.portal')!).fontSize));
      expect(base).toBe(18); // the last one shown was 标准字
      await page.goto(`${app.url}/portal?size=large`);
      expect(await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.portal')!).fontSize))).toBe(22);
      await context.close();
    }
  });

  it('counts wrong codes, says how many tries are left, and a staff session does not open the portal', async () => {
    const who = await resident(`c.status = 'certified'`);
    await app.db.pool.query(`DELETE FROM resident_codes WHERE id_number = $1`, [who.id]); // the 60 s resend wait
    const context = await newContext(browser, { viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${app.url}/portal/login`);
    await page.fill('#id_number', who.id);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=code-sent]');
    const sms = await app.db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY sms_id DESC LIMIT 1`, [who.phone]);
    await page.fill('#code', /(\d{6})/.exec(sms.rows[0].body)![1] === '000000' ? '999999' : '000000');
    await page.click('form[action="?/verify"] button[type=submit]');
    expect(await page.textContent('[data-testid=portal-error]')).toMatch(/验证码不对.*还可以再试 4 次/);
    await context.close();

    const staff = await newContext(browser);
    await signIn(staff, app.url, DEMO.leader);
    const p2 = await staff.newPage();
    await p2.goto(`${app.url}/portal`);
    await poll(() => new URL(p2.url()).pathname).toBe('/portal/login');
    await staff.close();
  });
});
