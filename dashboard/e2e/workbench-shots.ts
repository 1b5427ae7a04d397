// The README's screenshots of the auditors' workbench, taken from a running server (e.g. `npm start`)
// with Debian's Chromium, like readme-shots.ts:
//   npx tsx dashboard/e2e/workbench-shots.ts [http://localhost:3000] [out-dir]
// Signs in as the demo auditor and saves the queue, an alert's detail with its evidence timeline,
// and — after the auditor proposes on that alert and the demo checker opens it as the checker — the
// approval view with the evidence diff. It CHANGES the alert it uses (acknowledge, propose): run it
// on a demo installation only. Not a test: dashboard/e2e/workbench.test.ts checks the same paths.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.ts';

const url = (process.argv[2] ?? 'http://localhost:3000').replace(/\/$/, '');
const out = path.resolve(process.argv[3] ?? 'docs/screenshots');
const WAIT = 60_000;
// The demo accounts' passwords are generated per installation and kept in .data/demo-accounts.json
// (SHOTS_ACCOUNTS names another file); SHOTS_USER / SHOTS_PASSWORD and SHOTS_CHECKER /
// SHOTS_CHECKER_PASSWORD override them.
const accountsFile = process.env.SHOTS_ACCOUNTS ?? '.data/demo-accounts.json';
const known: Record<string, string> = fs.existsSync(accountsFile) ? JSON.parse(fs.readFileSync(accountsFile, 'utf8')) : {};
const who = (user: string, password: string | undefined) => ({ user, password: password ?? known[user] ?? '' });
const MAKER = who(process.env.SHOTS_USER ?? 'demo-auditor', process.env.SHOTS_PASSWORD);
const CHECKER = who(process.env.SHOTS_CHECKER ?? 'demo-checker', process.env.SHOTS_CHECKER_PASSWORD);

async function signedIn(browser: Browser, who: { user: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${url}/login?next=/workbench/alerts`);
  await page.fill('input[name=username]', who.user);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
  return page;
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const maker = await signedIn(browser, MAKER);
    await maker.goto(`${url}/workbench/alerts`);
    await maker.waitForSelector('[data-testid=queue] tbody tr[data-alert]');
    await maker.screenshot({ path: path.join(out, 'workbench-queue.jpg'), type: 'jpeg', quality: 88 });

    // An alert found after a death, still new: the richest timeline and a case for a suspension.
    await maker.goto(`${url}/workbench/alerts?rule=paid_after_death&status=new`);
    const link = maker.locator('[data-testid=alert-link]').first();
    const id = (await link.textContent())!.trim();
    await link.click();
    await maker.waitForSelector('[data-testid=timeline] tbody tr');
    // the screen an auditor sees first (the finding, the person, the actions, the timeline's chart), readable
    // at README width — a full-page shot of a 36-month timeline shrinks to a grey column
    await maker.screenshot({ path: path.join(out, 'workbench-detail.jpg'), type: 'jpeg', quality: 88 });

    await maker.click('button[data-action=acknowledge]');
    await maker.waitForSelector('[data-testid=alert-title][data-status=acknowledged]');
    await maker.selectOption('[data-testid=propose-form] select[name=proposal]', 'suspend');
    await maker.selectOption('[data-testid=propose-form] select[name=disposition]', 'paid_after_death');
    await maker.fill('[data-testid=propose-form] input[name=reason]', '死亡后仍发放，经核实属实，建议暂停并追回');
    await maker.click('[data-testid=propose-form] button[type=submit]');
    await maker.waitForSelector('[data-testid=alert-title][data-status=proposed]');

    const checker = await signedIn(browser, CHECKER);
    await checker.goto(`${url}/workbench/alerts/${id}`);
    await checker.waitForSelector('[data-testid=proposal]');
    await checker.locator('[data-testid=proposal]').scrollIntoViewIfNeeded();
    await checker.screenshot({ path: path.join(out, 'workbench-approval.jpg'), type: 'jpeg', quality: 88 });

    await maker.goto(`${url}/workbench/restorations`);
    await maker.waitForSelector('[data-testid=restorations], [data-testid=no-restorations]');
    await maker.screenshot({ path: path.join(out, 'workbench-restorations.jpg'), type: 'jpeg', quality: 88 });
    console.log(`saved 4 screenshots in ${out} (alert ${id} is now proposed, waiting for ${CHECKER.user})`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`workbench-shots: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
