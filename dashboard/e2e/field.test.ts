// The community staff's field tasks on a tablet (768×1024 portrait, 1024×768 landscape), in real
// Chromium against the real app on the tiny city: the demo community account (its password generated
// with the demo accounts) lands on /field and sees exactly its community's open tasks; another community's task is
// refused by URL and by a tampered form, and nothing changes; "seen in person" is recorded with the
// form and, after `yinling run all`, the person is certified by field visit and the task stays
// closed; a note with an ID number is refused with its message; "deceased" opens the after-death
// case; a town's staff see their communities' overdue tasks escalated; leaders and auditors are
// refused; axe-core finds no serious violation and every touch target is at least 44 px.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO, launchBrowser, newContext, poll, shotPath, signIn, startApp, type App } from './support/app.ts';
import { ROOT } from './support/build.ts';
import { createUser } from '../../core/accounts.ts';
import { todayShanghai } from '../../core/time.ts';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PORTRAIT = { width: 768, height: 1024 };
const LANDSCAPE = { width: 1024, height: 768 };
const FIELD_DEPTS = `('community', 'community_grid')`;

let app: App;
let browser: Browser;
let demo: { username: string; password: string };
let community: string; // demo-field's community
let other: string; // another community with open field tasks
let town: string; // the town above `community`
const PASSWORD = 'field-e2e-password';

async function openTasks(region: string): Promise<{ task_id: string; kind: string; id_number: string }[]> {
  const r = await app.db.pool.query(
    // tasks.task_id: the number, not the text column of the same name (tasks opened by one run share a due day)
    `SELECT task_id::text, kind, id_number FROM tasks WHERE status = 'open' AND department IN ${FIELD_DEPTS} AND region_code = $1 ORDER BY due_on, tasks.task_id`,
    [region]
  );
  return r.rows;
}

async function snapshot() {
  const r = await app.db.pool.query(
    `SELECT (SELECT md5(string_agg(task_id || status || COALESCE(result::text, ''), ',' ORDER BY task_id)) FROM tasks) AS tasks,
            (SELECT count(*) FROM field_visits)::int AS visits, (SELECT count(*) FROM certifications)::int AS certs,
            (SELECT count(*) FROM cases)::int AS cases`
  );
  return r.rows[0];
}

function runAll() {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), 'run', 'all'], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: app.db.url },
    timeout: 300_000
  });
  expect(r.status, r.stderr + r.stdout).toBe(0);
}

/** Every button, field and link: its size in CSS px (radio buttons included). */
async function targets(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('button, input:not([type=hidden]), textarea, select, a')]
      .map((el) => {
        const r = el.getBoundingClientRect();
        return {
          what: `${el.tagName} ${el.getAttribute('type') ?? ''} ${(el.textContent ?? '').trim().slice(0, 20)}`,
          w: r.width,
          h: r.height
        };
      })
      .filter((t) => t.w && t.h)
  );
}

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const r = await (
      window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }
    ).axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
  });
}

async function tablet(opts: { viewport?: { width: number; height: number }; js?: boolean } = {}): Promise<BrowserContext> {
  // bypassCSP: axe-core is injected as an inline script, which the page's policy rightly refuses
  return newContext(browser, { viewport: opts.viewport ?? PORTRAIT, javaScriptEnabled: opts.js ?? false, bypassCSP: true, hasTouch: true });
}

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
  // The demo community account, its password generated when the app's demo accounts were created.
  demo = DEMO.field;
  community = (await app.db.pool.query(`SELECT region_code FROM staff_users WHERE username = 'demo-field'`)).rows[0].region_code;
  const r = await app.db.pool.query(
    `SELECT t.region_code, rp.town_code, (rp.town_code = (SELECT town_code FROM region_paths WHERE code = $1)) AS same_town
       FROM tasks t JOIN region_paths rp ON rp.code = t.region_code
      WHERE t.status = 'open' AND t.department IN ${FIELD_DEPTS} AND t.region_code <> $1
      GROUP BY 1, 2, 3 ORDER BY same_town DESC, count(*) DESC, 1 LIMIT 1`,
    [community]
  );
  other = r.rows[0].region_code;
  town = (await app.db.pool.query(`SELECT town_code FROM region_paths WHERE code = $1`, [community])).rows[0].town_code;
  const sys = { type: 'system' as const, name: 'e2e' };
  await createUser(app.db.pool, sys, { username: 'other-staff', role: 'staff', regionCode: other, password: PASSWORD });
  await createUser(app.db.pool, sys, { username: 'town-staff', role: 'staff', regionCode: town, password: PASSWORD });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('field tasks on a tablet', () => {
  it("lands the demo community account on /field with exactly its community's open tasks, earliest due first", async () => {
    const mine = await openTasks(community);
    expect(mine.length).toBeGreaterThan(0);
    const context = await tablet();
    const page = await signIn(context, app.url, demo);
    await poll(() => new URL(page.url()).pathname).toBe('/field');
    const shown = await page.locator('[data-testid=task]').evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
    expect(shown).toEqual(mine.map((t) => t.task_id));
    expect(await page.textContent('[data-testid=task-count]')).toBe(String(mine.length));
    const due = await page.locator('[data-testid=task] time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    expect(due).toEqual([...due].sort());
    const today = todayShanghai();
    const overdue = await page
      .locator('[data-testid=task]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-overdue') === 'true'));
    expect(overdue).toEqual(due.map((d) => !!d && d < today));
    await page.screenshot({ path: shotPath('field-list-768.png'), fullPage: false });
    await context.close();
  });

  it("refuses another community's task by URL and by a tampered form, and nothing changes", async () => {
    const theirs = (await openTasks(other))[0];
    const mine = (await openTasks(community))[0];
    const before = await snapshot();
    const context = await tablet({ js: true });
    const page = await signIn(context, app.url, demo);
    const byUrl = await page.goto(`${app.url}/field/task/${theirs.task_id}`);
    expect(byUrl!.status()).toBe(404);
    expect(await page.textContent('[data-testid=field-error]')).toMatch(/no such task in your area/);
    // The real form of one of my tasks, its action pointed at the other community's task.
    await page.goto(`${app.url}/field/task/${mine.task_id}`);
    await page.fill('#seen-place', '家中');
    await page.evaluate(
      (id) => document.querySelector('[data-testid=form-seen]')!.setAttribute('action', `/field/task/${id}?/seen`),
      theirs.task_id
    );
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('[data-testid=form-seen] button')
    ]);
    expect(response.status()).toBe(404);
    // A forged post with the other task's id, straight to the server (same session, same origin).
    for (const action of ['seen', 'notFound', 'deceased']) {
      const forged = await context.request.post(`${app.url}/field/task/${theirs.task_id}?/${action}`, {
        headers: { origin: app.url },
        form: { visited_on: todayShanghai(), place: '家中', reason: 'moved', note: '已搬走', death_date: todayShanghai() }
      });
      expect(forged.status(), action).toBe(404);
    }
    expect(await snapshot()).toEqual(before);
    await context.close();
  });

  it('records "seen in person"; after `yinling run all` the person is certified by field visit and the task stays closed', async () => {
    const task = (await openTasks(community)).find((t) => t.kind === 'field_verification')!;
    expect(task).toBeTruthy();
    const context = await tablet();
    const page = await signIn(context, app.url, demo);
    await page.goto(`${app.url}/field/task/${task.task_id}`);
    expect(await page.textContent('[data-testid=why]')).toMatch(/请上门见到本人/);
    await page.screenshot({ path: shotPath('field-task-768.png'), fullPage: true });
    await page.fill('#seen-place', '家中');
    await page.fill('#seen-note', '本人在家，精神很好');
    await page.click('[data-testid=form-seen] button');
    await page.waitForSelector('[data-testid=recorded]');
    expect(new URL(page.url()).pathname).toBe('/field');
    expect(await page.locator(`[data-task-id="${task.task_id}"]`).count()).toBe(0);
    const t = await app.db.pool.query(`SELECT status, result FROM tasks WHERE task_id = $1`, [task.task_id]);
    expect(t.rows[0]).toMatchObject({ status: 'done', result: { by: 'field_visit', outcome: 'seen', recorded_by: 'demo-field' } });
    const certId = t.rows[0].result.certification_id;
    runAll();
    const cs = await app.db.pool.query(`SELECT status, method, evidence_ids FROM cert_status WHERE id_number = $1`, [task.id_number]);
    expect(cs.rows[0]).toEqual({ status: 'certified', method: 'field_visit', evidence_ids: [certId] });
    const after = await app.db.pool.query(`SELECT status, result FROM tasks WHERE task_id = $1`, [task.task_id]);
    expect(after.rows[0]).toEqual(t.rows[0]);
    const open = await app.db.pool.query(
      `SELECT count(*)::int AS n FROM tasks WHERE id_number = $1 AND kind = 'field_verification' AND status = 'open'`,
      [task.id_number]
    );
    expect(open.rows[0].n).toBe(0);
    await context.close();
  });

  it('refuses a note with an ID number, keeps what was typed, and writes nothing', async () => {
    const task = (await openTasks(community))[0];
    const before = await snapshot();
    const context = await tablet({ js: true }); // for axe-core; the page itself ships no script
    const page = await signIn(context, app.url, demo);
    await page.goto(`${app.url}/field/task/${task.task_id}`);
    await page.check('[data-testid=form-not-found] input[value=moved]');
    await page.fill('#nf-note', `邻居说已搬走，证件号 ${task.id_number}`);
    await page.click('[data-testid=form-not-found] button');
    await page.waitForSelector('[data-testid=form-error]');
    expect(await page.textContent('[data-testid=form-error]')).toMatch(/不能写身份证号.*must not contain an ID number/);
    expect(await page.inputValue('#nf-note')).toContain('邻居说已搬走');
    expect(await page.isChecked('[data-testid=form-not-found] input[value=moved]')).toBe(true);
    expect(await snapshot()).toEqual(before);
    for (const viewport of [PORTRAIT, LANDSCAPE]) {
      await page.setViewportSize(viewport);
      expect(await axe(page), `error state ${viewport.width}`).toEqual([]);
    }
    await context.close();
  });

  it('"deceased" opens the after-death case and the auditors\' follow-up', async () => {
    const task = (await openTasks(community))[0];
    const context = await tablet();
    const page = await signIn(context, app.url, demo);
    await page.goto(`${app.url}/field/task/${task.task_id}`);
    const d = new Date(Date.parse(todayShanghai() + 'T00:00:00Z') - 5 * 86400_000).toISOString().slice(0, 10);
    await page.fill('#dec-death', d);
    await page.fill('#dec-note', '家属告知，已办丧事');
    await page.click('[data-testid=form-deceased] button');
    await page.waitForSelector('[data-testid=recorded]');
    const c = await app.db.pool.query(
      `SELECT case_id, status, detail FROM cases WHERE kind = 'after_death' AND id_number = $1 AND status <> 'closed'`,
      [task.id_number]
    );
    expect(c.rows).toHaveLength(1);
    expect(c.rows[0].detail.report ?? c.rows[0].detail.further_reports?.[0]).toMatchObject({
      via: 'field_visit',
      death_date: d,
      reporter: 'demo-field'
    });
    if (c.rows[0].status === 'reported') {
      const f = await app.db.pool.query(`SELECT department, status FROM tasks WHERE case_id = $1 AND kind = 'review_field_visit'`, [
        c.rows[0].case_id
      ]);
      expect(f.rows).toEqual([{ department: 'audit', status: 'open' }]);
    }
    expect((await app.db.pool.query(`SELECT status FROM tasks WHERE task_id = $1`, [task.task_id])).rows[0].status).toBe('done');
    await context.close();
  });

  it("shows a town's staff their communities' tasks with the overdue ones escalated", async () => {
    const r = await app.db.pool.query(
      `SELECT t.task_id::text, t.due_on < $2::date AS overdue FROM tasks t JOIN region_paths rp ON rp.code = t.region_code
        WHERE t.status = 'open' AND t.department IN ${FIELD_DEPTS} AND rp.town_code = $1 ORDER BY t.due_on, t.task_id`,
      [town, todayShanghai()]
    );
    const context = await tablet({ viewport: LANDSCAPE });
    const page = await signIn(context, app.url, { username: 'town-staff', password: PASSWORD });
    await poll(() => new URL(page.url()).pathname).toBe('/field');
    const shown = await page
      .locator('[data-testid=task]')
      .evaluateAll((els) =>
        els.map((e) => ({ task_id: e.getAttribute('data-task-id'), overdue: e.getAttribute('data-escalated') === 'true' }))
      );
    expect(shown).toEqual(r.rows);
    const escalated = r.rows.filter((x) => x.overdue).length;
    if (escalated) expect(await page.textContent('[data-testid=escalated-summary]')).toContain(String(escalated));
    await page.screenshot({ path: shotPath('field-town-1024.png'), fullPage: false });
    await context.close();
  });

  it('refuses leaders and auditors on every page and action', async () => {
    const task = (await openTasks(community))[0];
    for (const who of [DEMO.leader, DEMO.auditor]) {
      const context = await tablet();
      const page = await signIn(context, app.url, who);
      for (const url of ['/field', `/field/task/${task.task_id}`]) {
        const res = await page.goto(`${app.url}${url}`);
        expect(res!.status(), `${who.username} ${url}`).toBe(403);
      }
      const before = await snapshot();
      const post = await context.request.post(`${app.url}/field/task/${task.task_id}?/seen`, {
        headers: { origin: app.url },
        form: { visited_on: todayShanghai(), place: '家中' }
      });
      expect(post.status(), who.username).toBe(403);
      expect(await snapshot()).toEqual(before);
      await context.close();
    }
    // signed out: to sign-in, then back
    const anon = await tablet();
    const page = await anon.newPage();
    await page.goto(`${app.url}/field`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await anon.close();
  });

  it('has no serious axe-core violations and touch targets of 44 px or more, portrait and landscape', async () => {
    const task = (await openTasks(community))[0];
    const context = await tablet({ js: true }); // for axe-core; the page itself ships no script
    const page = await signIn(context, app.url, demo);
    for (const viewport of [PORTRAIT, LANDSCAPE]) {
      await page.setViewportSize(viewport);
      for (const url of ['/field', `/field/task/${task.task_id}`, '/field/task/999999999']) {
        await page.goto(`${app.url}${url}`);
        const small = (await targets(page)).filter((t) => t.h < 44 || t.w < 44);
        expect(small, `${url} ${viewport.width}`).toEqual([]);
        expect(await axe(page), `${url} ${viewport.width}`).toEqual([]);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${url} ${viewport.width}: no sideways scrolling`).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize(LANDSCAPE);
    await page.goto(`${app.url}/field/task/${task.task_id}`);
    await page.screenshot({ path: shotPath('field-task-1024.png'), fullPage: false });
    // the page ships none of the app's JavaScript
    expect(await page.locator('script[src], link[rel=modulepreload]').count()).toBe(0);
    await context.close();
  });
});
