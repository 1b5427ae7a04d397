// `yinling serve` — the command `npm start` runs for the web — answers a sign-in over plain HTTP
// (the browser tests use the same server code through support/serve.ts; this pins the command).
// A sign-in form POST from the page's own origin must pass SvelteKit's CSRF check and set the
// session cookie; one from another origin must not. With DATABASE_URL and YINLING_APP_DATABASE_URL the
// web connects as the application role (migration 0039), not as the owner (issue 19 §7).
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../tests/free-port.ts';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../tests/db.ts';
import { ensureDemoAccounts } from '../../core/demo-accounts.ts';
import { ensureBuild, ROOT } from './support/build.ts';
import { untilHealthy } from './support/health.ts';
import { DEMO, useDemoLogins } from './support/app.ts';

let db: TestDatabase;
let child: ChildProcess | undefined;
let url = '';
const output: string[] = [];

const withoutModelDir = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'YINLING_MODEL_DIR'));

beforeAll(async () => {
  const buildDir = await ensureBuild();
  db = await freshDatabase();
  await db.pool.query(`INSERT INTO regions (code, name, level) VALUES ('330600000000', '示例市', 'city')`);
  await db.pool.query(`REFRESH MATERIALIZED VIEW region_paths`);
  useDemoLogins(await ensureDemoAccounts(db.pool));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [path.join(ROOT, 'jobs', 'cli', 'bin.js'), 'serve'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...withoutModelDir(process.env),
      DATABASE_URL: db.url,
      YINLING_APP_DATABASE_URL: db.appUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      YINLING_WEB_BUILD: buildDir,
      CUBEJS_API_SECRET: 'serve-cli-test',
      NODE_ENV: 'production'
    }
  });
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  await untilHealthy(url, 'yinling serve', { child, output: () => output.join('') });
}, 600_000);

afterAll(async () => {
  if (child && child.exitCode === null)
    await new Promise<void>((r) => {
      child!.once('exit', () => r());
      child!.kill('SIGTERM');
    });
  await db?.drop();
});

const signIn = (origin: string) =>
  fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin },
    body: new URLSearchParams({ username: DEMO.leader.username, password: DEMO.leader.password })
  });

describe('yinling serve', () => {
  it('signs a demo account in over plain HTTP from its own origin', async () => {
    const r = await signIn(url);
    expect(r.status, await r.clone().text()).toBe(303);
    expect(r.headers.get('set-cookie')).toMatch(/yinling_session=/);
    const screen = await fetch(`${url}/screen`, { redirect: 'manual', headers: { cookie: r.headers.get('set-cookie')!.split(';')[0] } });
    expect(screen.status).toBeLessThan(400);
    // The semantic layer finds its model from the bundled build (YINLING_MODEL_DIR is not set here).
    const board = await fetch(`${url}/api/indicators`, { headers: { cookie: r.headers.get('set-cookie')!.split(';')[0] } });
    const body = (await board.json()) as { indicators?: unknown[] };
    expect(board.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.indicators).toHaveLength(41);
  });

  it('connects to the database as the application role, not the owner', async () => {
    expect((await signIn(url)).status).toBe(303);
    const r = await db.pool.query(
      `SELECT DISTINCT usename::text AS role FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'yinling-web'`
    );
    expect(r.rows).toEqual([{ role: 'yinling_app' }]);
  });

  it('refuses the same form posted from another origin', async () => {
    const r = await signIn('http://evil.example');
    expect(r.status).toBe(403);
    expect(r.headers.get('set-cookie')).toBeNull();
  });
});
