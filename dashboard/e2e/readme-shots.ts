// The README's screenshots, taken from a running server (e.g. `npm start`) with Debian's Chromium:
//   npx tsx dashboard/e2e/readme-shots.ts [http://localhost:3000] [out-dir]
// Signs in as the demo leader (password from SHOTS_PASSWORD, else the demo password file that
// `npm start` keeps in the data directory) and saves the city wall screen (1920×1080), a district after a
// click on the map, a town, and the masked list of people behind P01 in one of its communities.
// Not a test: the browser tests (screen.test.ts) check the same path and keep their own shots.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.ts';
import { loadConfig } from '../../core/config.ts';

const url = (process.argv[2] ?? 'http://localhost:3000').replace(/\/$/, '');
const out = path.resolve(process.argv[3] ?? 'docs/screenshots');
const WAIT = 60_000;

function demoPassword(user: string): string {
  const file = path.join(loadConfig().dataDir, 'demo-accounts.json');
  if (!fs.existsSync(file)) throw new Error(`no ${file}: set SHOTS_PASSWORD`);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>)[user] ?? '';
}

async function settled(page: Page, region: string): Promise<void> {
  await page.waitForFunction((r) => document.querySelector('[data-testid=cockpit]')?.getAttribute('data-region') === r, region, {
    timeout: WAIT
  });
  await page.waitForFunction(
    () => {
      const charts = [...document.querySelectorAll('[data-chart-ready]')];
      return charts.length > 0 && charts.every((c) => c.getAttribute('data-chart-ready') === 'true');
    },
    undefined,
    { timeout: WAIT }
  );
  await page.waitForTimeout(800); // chart entry animations
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await page.goto(`${url}/login`);
    await page.fill('input[name=username]', process.env.SHOTS_USER ?? 'demo-leader');
    await page.fill('input[name=password]', process.env.SHOTS_PASSWORD ?? demoPassword(process.env.SHOTS_USER ?? 'demo-leader'));
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);

    await page.goto(`${url}/screen`);
    const city = (await page.getAttribute('[data-testid=cockpit]', 'data-region'))!;
    await settled(page, city);
    await page.screenshot({ path: path.join(out, 'screen-city.jpg'), type: 'jpeg', quality: 88 });

    const districtSpot = page.locator('[data-testid=region-map] a[data-region]').first();
    const district = (await districtSpot.getAttribute('data-region'))!;
    await districtSpot.click();
    await settled(page, district);
    await page.screenshot({ path: path.join(out, 'drill-district.jpg'), type: 'jpeg', quality: 88 });

    const townSpot = page.locator('[data-testid=region-map] a[data-region]').first();
    const town = (await townSpot.getAttribute('data-region'))!;
    await townSpot.click();
    await settled(page, town);
    await page.screenshot({ path: path.join(out, 'drill-town.jpg'), type: 'jpeg', quality: 88 });

    const bar = page.locator('[data-testid=ranked-bars] a[data-region]').first();
    await bar.click();
    await page.waitForURL(`**/screen/${city}/${district}/${town}/*`);
    await page.locator('[data-indicator="P01"] [data-testid=people-link]').click();
    await page.waitForSelector('[data-testid=people-table] tbody tr', { timeout: WAIT });
    await page.screenshot({ path: path.join(out, 'drill-people.jpg'), type: 'jpeg', quality: 88 });
    console.log(`saved 4 screenshots in ${out}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`readme-shots: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
