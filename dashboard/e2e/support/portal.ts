// Helpers for the portal's page tests: a resident's session made through the real sign-in service
// (code texted to the outbox, then verified) and put in the browser as the portal's cookie; the
// elder-size measurements; axe-core.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { requestSignInCode, verifySignInCode } from '../../../core/residents.ts';
import { outboxSender } from '../../../core/sms.ts';
import { newContext, type App } from './app.ts';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A browser context signed in as this resident (scripts off unless asked). */
export async function residentContext(app: App, browser: Browser, id: string, opts: BrowserContextOptions = {}): Promise<BrowserContext> {
  await app.db.pool.query(`DELETE FROM resident_codes WHERE id_number = $1`, [id]); // the 60 s resend wait
  const sent = await requestSignInCode(app.db.pool, outboxSender, id);
  if (!sent.sent) throw new Error(`no code for ${id}: ${sent.reason}`);
  const phone = (await app.db.pool.query(`SELECT phone FROM persons WHERE id_number = $1`, [id])).rows[0].phone;
  const sms = await app.db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 AND purpose = 'sign_in' ORDER BY sms_id DESC LIMIT 1`, [
    phone
  ]);
  const code = /(\d{6})/.exec(sms.rows[0].body)![1];
  const ok = await verifySignInCode(app.db.pool, id, code);
  if (!ok.ok) throw new Error(`sign-in of ${id} refused: ${ok.reason}`);
  const context = await newContext(browser, { viewport: { width: 390, height: 844 }, javaScriptEnabled: false, ...opts });
  const u = new URL(app.url);
  await context.addCookies([{ name: 'yinling_resident', value: ok.sessionToken, domain: u.hostname, path: '/', httpOnly: true }]);
  return context;
}

/** Text smaller than 18 px and targets smaller than 60 px (primary) / 44 px (others). */
export async function sizeProblems(
  page: Page
): Promise<{ small: string[]; tooSmall: string[]; code: number; readAloud: number; phone: number }> {
  return page.evaluate(() => {
    const small: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !n.textContent?.trim() || el.closest('[hidden], head')) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < 18) small.push(`${n.textContent.trim().slice(0, 30)} ${size}px`);
    }
    // a radio button's target is its whole label (the choice's line), which must be a primary size
    const tooSmall = [
      ...document.querySelectorAll('button, input:not([type=hidden]):not([type=radio]), a, select, label:has(input[type=radio])')
    ]
      .map((el) => {
        const r = el.getBoundingClientRect();
        const primary = el.tagName !== 'A' || el.classList.contains('button');
        return { what: `${el.tagName} ${(el.textContent ?? '').trim().slice(0, 20)}`, primary, w: r.width, h: r.height };
      })
      .filter((t) => t.w && t.h && (t.primary ? t.h < 60 : t.h < 44 || t.w < 44))
      .map((t) => `${t.what} ${Math.round(t.w)}×${Math.round(t.h)}`);
    // the app's code: none (the one script is the read-aloud button's, static/read-aloud.js)
    const code = document.querySelectorAll('script[src]:not([src="/read-aloud.js"]), link[rel=modulepreload]').length;
    const readAloud = document.querySelectorAll('#read-aloud').length;
    const phone = document.querySelectorAll('a[href^="tel:"]').length;
    return { small, tooSmall, code, readAloud, phone };
  });
}

export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const r = await (
      window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
    ).axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
}
