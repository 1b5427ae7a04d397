// `npm run bench:screen` (tsx bench/screen.bench.ts) — the wall screen at city scale, at 1920×1080,
// against the targets of issue 5:
//  * time to first render of all 41 tiles ≤ 2 s, and time until every chart has set data-chart-ready;
//  * JavaScript transferred (bytes on the wire) for the first view and in total;
//  * the page's JS heap (after a forced GC) at start and after many accelerated refreshes
//    (refresh=1 s for BENCH_MINUTES, default 120 = 2 hours, or until BENCH_REFRESHES polls if set
//    first) — growth ≤ 10 %. Meanwhile the data changes every BENCH_CHANGE_SECONDS (default 10), as
//    if a feed had landed: the bench moves a few figures behind the screen (a month's recipients and
//    payout, certified people, a paid-after-death count, the newest alert's amount) back and forth
//    by one, so tiles, trend charts, the gauge, the map, the ranked bars and the ticker all redraw —
//    a screen that only ever saw identical answers would skip its redraws and prove little.
//
// Without BENCH_URL it builds everything itself: an embedded PostgreSQL in a scratch dir, the
// synthetic city (BENCH_SCALE=city|demo|tiny, default city; generated once into .cache/bench and
// reused through hard links), ingestion with the engines, the demo accounts and the map shapes,
// and the web app from a private build. With BENCH_URL (and BENCH_USER, default the demo leader, and
// BENCH_PASSWORD) it measures a server that is already running.
// Results: printed, and written to test-results/bench-screen.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ROOT } from '../core/config.ts';
import { ensureDemoAccounts } from '../core/demo-accounts.ts';
import { importGeoJson } from '../jobs/geo.ts';
import { ensureBuild } from '../dashboard/e2e/support/build.ts';
import { untilHealthy } from '../dashboard/e2e/support/health.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../dashboard/e2e/support/chromium.ts';
import { cityDatabase, freePort, SCALE } from './support.ts';

// The memory phase talks to Chromium over a bare DevTools WebSocket (no Network domain: Playwright's
// network tracking keeps response bodies in the page's inspector buffers, which would show up as
// "growth"). Node 20 has WebSocket behind a flag: re-run with it when missing.
if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined' && !process.env.BENCH_REEXEC) {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const r = spawnSync(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_REEXEC: '1' }
  });
  process.exit(r.status ?? 1);
}

const REFRESHES = Number(process.env.BENCH_REFRESHES ?? Infinity);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 120);
const TARGET_TILES_MS = 2000;
const TARGET_HEAP_GROWTH = 0.1;
const say = (m: string) => console.log(`[bench:screen] ${m}`);
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;

interface Setup {
  url: string;
  user: string;
  password: string;
  stop(): Promise<void>;
  /** Moves the figures behind the screen by +1 (up) or back (down); absent when the bench has no database. */
  change?: (up: boolean) => Promise<void>;
}

/** The figures the memory phase moves back and forth (see the header). One community's row of the
 *  newest month and of the newest "now" snapshot, and the newest open alert. */
function dataChanger(pool: import('../core/db/pool.ts').Pool): (up: boolean) => Promise<void> {
  return async (up) => {
    const d = up ? 1 : -1;
    await pool.query(
      `
      UPDATE ind_region_month m SET recipients = recipients + $1, payout_amount = payout_amount + $1
       WHERE (period, region_code) = (SELECT period, region_code FROM ind_region_month ORDER BY period DESC, region_code LIMIT 1)`,
      [d]
    );
    await pool.query(
      `
      UPDATE ind_region_now n SET cert_valid = cert_valid + $1, alerts_after_death = alerts_after_death + $1
       WHERE (period, region_code) = (SELECT period, region_code FROM ind_region_now WHERE cert_valid > 0 ORDER BY period DESC, region_code LIMIT 1)`,
      [d]
    );
    await pool.query(
      `
      UPDATE alerts SET amount_at_risk = amount_at_risk + $1
       WHERE alert_id = (SELECT alert_id FROM alerts WHERE active ORDER BY opened_at DESC, alert_id DESC LIMIT 1)`,
      [d]
    );
  };
}

async function setUp(): Promise<Setup> {
  const user = process.env.BENCH_USER ?? 'demo-leader';
  let password = process.env.BENCH_PASSWORD ?? '';
  if (process.env.BENCH_URL) {
    // An external server: its data moves only when BENCH_DATABASE_URL says where the data is —
    // a test copy, never a production database (the figures are moved back at the end, but a
    // screen watching meanwhile would show them).
    const { createPool } = await import('../core/db/pool.ts');
    const pool = process.env.BENCH_DATABASE_URL ? createPool(process.env.BENCH_DATABASE_URL, { max: 1 }) : undefined;
    return {
      url: process.env.BENCH_URL.replace(/\/$/, ''),
      user,
      password,
      stop: async () => {
        await pool?.end();
      },
      change: pool && dataChanger(pool)
    };
  }

  const db = await cityDatabase('screen', say);
  let web: ChildProcess | undefined;
  const stop = async () => {
    if (web && web.exitCode === null)
      await new Promise<void>((r) => {
        web!.once('exit', () => r());
        web!.kill('SIGTERM');
      });
    fs.rmSync(path.join(ROOT, 'test-results', `bench-app-${process.pid}`), { recursive: true, force: true });
    await db.stop();
  };
  try {
    const logins = await ensureDemoAccounts(db.pool);
    password ||= logins.find((l) => l.username === user)?.password ?? '';
    await importGeoJson(db.pool, path.join(db.inbox, '.geo', 'city.geojson'));
    // A copy of the private build for this run (tests may rebuild theirs meanwhile); inside the
    // checkout so the server's imports resolve to node_modules.
    const buildDir = path.join(ROOT, 'test-results', `bench-app-${process.pid}`, 'build');
    fs.cpSync(await ensureBuild(), buildDir, { recursive: true });
    const port = await freePort();
    web = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboard/e2e/support/serve.ts'), buildDir], {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        PORT: String(port),
        CUBEJS_API_SECRET: 'bench-' + port,
        YINLING_MODEL_DIR: path.join(ROOT, 'semantic-layer', 'model'),
        NODE_ENV: 'production'
      }
    });
    const base = `http://127.0.0.1:${port}`;
    await untilHealthy(base, 'the web server', { child: web, ms: 60_000 });
    return { url: base, user, password, stop, change: dataChanger(db.pool) };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Marks, inside the page, when all 41 tiles exist and when every chart has rendered. */
const MARKS = `
  (() => {
    const check = () => {
      if (!window.__tilesAt && document.querySelectorAll('[data-indicator]').length === 41) window.__tilesAt = performance.now();
      const charts = document.querySelectorAll('[data-chart-ready]');
      window.__chartAt = window.__chartAt || {};
      for (const c of charts) if (c.getAttribute('data-chart-ready') === 'true' && !window.__chartAt[c.dataset.testid]) window.__chartAt[c.dataset.testid] = performance.now();
      if (window.__tilesAt && !window.__chartsAt && charts.length >= 6 && [...charts].every((c) => c.getAttribute('data-chart-ready') === 'true')) {
        window.__chartsAt = performance.now();
        window.__charts = charts.length;
      }
      if (!window.__chartsAt) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
    document.addEventListener('DOMContentLoaded', check);
  })();
`;

/** A bare DevTools protocol client over WebSocket: only the domains we call are touched. */
class Cdp {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #listeners = new Map<string, (params: Record<string, unknown>) => void>();
  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      if (msg.method) {
        this.#listeners.get(msg.method)?.(msg.params);
        return;
      }
      const p = msg.id !== undefined ? this.#pending.get(msg.id) : undefined;
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    };
  }
  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#id;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }
  on(method: string, listener: (params: Record<string, unknown>) => void): void {
    this.#listeners.set(method, listener);
  }
  close(): void {
    this.#ws.close();
  }
}

/** A heap snapshot summed by V8 node type and by constructor name, so a growth can be told apart:
 *  compiled code (V8's JIT output, which grows as functions tier up and is bounded by the code
 *  there is) from JavaScript objects (where a leak of ours would show). */
async function heapBreakdown(cdp: Cdp, label: string): Promise<Map<string, number>> {
  let json = '';
  cdp.on('HeapProfiler.addHeapSnapshotChunk', (p) => {
    json += String(p.chunk);
  });
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
  // BENCH_KEEP_SNAPSHOTS=DIR keeps the snapshots (open them in DevTools' Memory panel, or
  // `tsx bench/code-growth.ts START END` for which functions the compiled code belongs to).
  if (process.env.BENCH_KEEP_SNAPSHOTS) {
    fs.mkdirSync(process.env.BENCH_KEEP_SNAPSHOTS, { recursive: true });
    fs.writeFileSync(path.join(process.env.BENCH_KEEP_SNAPSHOTS, `screen-${label}.heapsnapshot`), json);
  }
  const snap = JSON.parse(json) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = snap.snapshot.meta.node_types[0];
  const sums = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + iType]];
    const name =
      type === 'object' || type === 'native' || type === 'code' || type === 'hidden'
        ? snap.strings[snap.nodes[i + iName]].slice(0, 60)
        : '';
    const size = snap.nodes[i + iSize];
    sums.set(`${type}`, (sums.get(`${type}`) ?? 0) + size);
    if (name) sums.set(`${type}:${name}`, (sums.get(`${type}:${name}`) ?? 0) + size);
  }
  return sums;
}

/** V8 heap parts of a snapshot: compiled code, and everything else the page's JavaScript holds. */
function heapParts(m: Map<string, number>): { code: number; objects: number } {
  let objects = 0;
  for (const [k, v] of m) if (!k.includes(':') && !['code', 'native', 'synthetic'].includes(k)) objects += v;
  return { code: m.get('code') ?? 0, objects };
}

function sayBreakdown(a: Map<string, number>, b: Map<string, number>): void {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const d = [...keys].map((k) => ({ k, a: a.get(k) ?? 0, b: b.get(k) ?? 0 })).map((x) => ({ ...x, d: x.b - x.a }));
  say('heap snapshot by node type (start → end, KB):');
  for (const x of d.filter((x) => !x.k.includes(':')).sort((p, q) => q.b - p.b))
    say(
      `  ${x.k.padEnd(20)} ${(x.a / 1024).toFixed(0).padStart(7)} → ${(x.b / 1024).toFixed(0).padStart(7)}  (${x.d >= 0 ? '+' : ''}${(x.d / 1024).toFixed(0)})`
    );
  say('largest growths by constructor / kind (KB):');
  for (const x of d
    .filter((x) => x.k.includes(':'))
    .sort((p, q) => q.d - p.d)
    .slice(0, 15))
    say(
      `  ${x.k.slice(0, 70).padEnd(70)} ${(x.a / 1024).toFixed(0).padStart(6)} → ${(x.b / 1024).toFixed(0).padStart(6)}  (+${(x.d / 1024).toFixed(0)})`
    );
}

/** A Chromium of our own with a DevTools port, for the memory run. */
async function bareChromium(): Promise<{ port: number; stop: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-bench-chromium-'));
  // BENCH_JS_FLAGS (e.g. "--trace-opt --trace-deopt") passes V8 flags to the page and keeps
  // Chromium's output in test-results/bench-chromium.log: a diagnostic for what V8 compiles.
  const jsFlags = process.env.BENCH_JS_FLAGS ? [`--js-flags=${process.env.BENCH_JS_FLAGS}`] : [];
  const proc = spawn(
    CHROMIUM,
    [...CHROMIUM_ARGS, ...jsFlags, '--remote-debugging-port=0', `--user-data-dir=${dir}`, '--window-size=1920,1080', 'about:blank'],
    { stdio: ['ignore', jsFlags.length ? 'pipe' : 'ignore', 'pipe'] }
  );
  if (jsFlags.length) {
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    const log = fs.createWriteStream(path.join(ROOT, 'test-results', 'bench-chromium.log'));
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
  }
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', () => reject(new Error(`chromium exited: ${err}`)));
  });
  return {
    port,
    stop: () => {
      proc.kill('SIGTERM');
      setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 1000);
    }
  };
}

/** Used JS heap after forced GCs: the median of three samples a second apart (GC timing is noisy). */
async function heap(cdp: Cdp): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    samples.push((await cdp.send<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return samples.sort((a, b) => a - b)[1];
}

/** DOM nodes, documents and event listeners: what a leaking screen would pile up. */
async function domCounters(cdp: Cdp): Promise<{ documents: number; nodes: number; jsEventListeners: number }> {
  return cdp.send('Memory.getDOMCounters');
}

const WARM_UP = Number(process.env.BENCH_WARMUP ?? 60);
const CHANGE_SECONDS = Number(process.env.BENCH_CHANGE_SECONDS ?? 10);
/** Heap snapshots at start and end (BENCH_SNAPSHOT=0 skips them): what the growth is made of. */
const SNAPSHOT = process.env.BENCH_SNAPSHOT !== '0';

async function main() {
  const setup = await setUp();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const login = await context.newPage();
    await login.goto(`${setup.url}/login`);
    await login.fill('input[name=username]', setup.user);
    await login.fill('input[name=password]', setup.password);
    await Promise.all([login.waitForURL((u) => !u.pathname.startsWith('/login')), login.click('button[type=submit]')]);
    await login.close();

    // First view, measured three times (the first warms the server's caches; the median is reported).
    const runs: {
      tiles: number;
      charts: number;
      chartCount: number;
      fcp: number;
      jsFirst: number;
      jsTotal: number;
      chartLibAt: number;
      chartAt: Record<string, number>;
    }[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await page.addInitScript(MARKS);
      // Cold, as a wall screen's first load: no HTTP cache. Bytes per script come from the page's
      // own Resource Timing (transferSize), compared with the moment the tiles were complete on
      // the page's clock — a script still in flight when the tiles appeared does not count as "before".
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await page.goto(`${setup.url}/screen`, { waitUntil: 'commit' });
      await page.waitForFunction(() => (window as unknown as { __tilesAt?: number }).__tilesAt, undefined, { timeout: 60_000 });
      await page.waitForFunction(() => (window as unknown as { __chartsAt?: number }).__chartsAt, undefined, { timeout: 120_000 });
      await page.waitForLoadState('networkidle');
      const m = await page.evaluate(() => {
        const w = window as unknown as { __tilesAt: number; __chartsAt: number; __charts: number; __chartAt: Record<string, number> };
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
        const js = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) => /\.m?js(\?|$)/.test(e.name));
        // (no named helper in here: tsx would wrap it in a __name() the page does not have)
        let jsFirst = 0;
        let jsTotal = 0;
        for (const e of js) {
          jsTotal += e.transferSize;
          if (e.responseEnd <= w.__tilesAt) jsFirst += e.transferSize;
        }
        // Where the chart time goes: when the largest script (the chart library) had arrived, and each chart's first render.
        const lib = [...js].sort((a, b) => b.encodedBodySize - a.encodedBodySize)[0];
        return {
          tiles: w.__tilesAt,
          charts: w.__chartsAt,
          chartCount: w.__charts,
          fcp,
          jsFirst,
          jsTotal,
          chartLibAt: lib ? lib.responseEnd : NaN,
          chartAt: w.__chartAt
        };
      });
      await cdp.detach();
      runs.push(m);
      await page.close();
    }
    const median = (k: 'tiles' | 'charts' | 'fcp' | 'jsFirst' | 'jsTotal') => [...runs].map((r) => r[k]).sort((a, b) => a - b)[1];
    const first = {
      tilesMs: median('tiles'),
      chartsMs: median('charts'),
      fcpMs: median('fcp'),
      charts: runs[0].chartCount,
      jsFirstBytes: median('jsFirst'),
      jsTotalBytes: median('jsTotal')
    };
    say(
      `all 41 tiles at ${first.tilesMs.toFixed(0)} ms (first contentful paint ${first.fcpMs.toFixed(0)} ms), all ${first.charts} charts ready at ${first.chartsMs.toFixed(0)} ms`
    );
    const mid = runs.find((r) => r.charts === first.chartsMs) ?? runs[0];
    say(
      `  (that load: chart library arrived at ${mid.chartLibAt.toFixed(0)} ms; charts ready at ${Object.entries(mid.chartAt)
        .sort((a, b) => a[1] - b[1])
        .map(([k, v]) => `${k.replace('chart-', '')} ${v.toFixed(0)}`)
        .join(', ')} ms)`
    );
    say(
      `JavaScript transferred: ${kb(first.jsFirstBytes)} before the tiles, ${kb(first.jsTotalBytes)} in all (echarts-gl is loaded only for the 3D map)`
    );

    // Memory: one page through many accelerated refreshes, in a Chromium watched only through
    // Runtime/HeapProfiler (see Cdp above). The session cookie comes from the signed-in context.
    const session = (await context.cookies()).filter((c) => c.name === 'yinling_session');
    const bare = await bareChromium();
    let heapStart = 0;
    let heapEnd = 0;
    let connection: string | null = null;
    let domStart = { documents: 0, nodes: 0, jsEventListeners: 0 };
    let domEnd = domStart;
    let tMem = Date.now();
    let refreshed = 0;
    let changes = 0;
    let seen = 0;
    let snapStart: Map<string, number> | undefined;
    let snapEnd: Map<string, number> | undefined;
    try {
      const version = (await (await fetch(`http://127.0.0.1:${bare.port}/json/version`)).json()) as { webSocketDebuggerUrl: string };
      const browserCdp = await Cdp.connect(version.webSocketDebuggerUrl);
      await browserCdp.send('Storage.setCookies', {
        cookies: session.map((c) => ({
          name: c.name,
          value: c.value,
          domain: c.domain,
          path: c.path,
          httpOnly: c.httpOnly,
          sameSite: c.sameSite,
          expires: c.expires
        }))
      });
      const { targetId } = await browserCdp.send<{ targetId: string }>('Target.createTarget', { url: `${setup.url}/screen?refresh=1` });
      const targets = (await (await fetch(`http://127.0.0.1:${bare.port}/json/list`)).json()) as {
        id: string;
        webSocketDebuggerUrl: string;
      }[];
      const cdp = await Cdp.connect(targets.find((t) => t.id === targetId)!.webSocketDebuggerUrl);
      await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1920, height: 1080, deviceScaleFactor: 1, mobile: false });
      const read = async (expr: string) =>
        (await cdp.send<{ result: { value: unknown } }>('Runtime.evaluate', { expression: expr, returnByValue: true })).result.value;
      const polls = async () => Number(await read(`document.querySelector('[data-testid=cockpit]')?.getAttribute('data-polls') ?? 0`));
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      // The data moves every CHANGE_SECONDS from the warm-up on; `seen` counts the moves of R01 the
      // page showed (each check is 5 s apart, the page refreshes every second).
      const r01 = async () => String(await read(`document.querySelector('[data-indicator="R01"]')?.getAttribute('data-value')`));
      let up = false;
      let lastChange = Date.now();
      for (let i = 0; ['undefined', 'null'].includes(await r01()); i++) {
        if (i > 120) throw new Error('the screen shows no R01 tile');
        await sleep(1000);
      }
      let shown = await r01();
      const tick = async () => {
        if (setup.change && CHANGE_SECONDS > 0 && Date.now() - lastChange >= CHANGE_SECONDS * 1000) {
          up = !up;
          await setup.change(up);
          changes += 1;
          lastChange = Date.now();
        }
        const now = await r01();
        if (now !== shown) {
          seen += 1;
          shown = now;
        }
      };
      try {
        for (let i = 0; (await polls()) < WARM_UP; i++) {
          if (i > 240) throw new Error('the screen does not refresh');
          await sleep(5000);
          await tick();
        }
        heapStart = await heap(cdp); // after the warm-up refreshes: code compiled, caches filled
        if (SNAPSHOT) snapStart = await heapBreakdown(cdp, 'start');
        domStart = await domCounters(cdp);
        const startPolls = await polls();
        tMem = Date.now();
        let last = 0;
        for (;;) {
          await sleep(5000);
          await tick();
          const done = (await polls()) - startPolls;
          refreshed = done;
          if (done >= REFRESHES || Date.now() - tMem >= MINUTES * 60_000) break;
          if (done - last >= Number(process.env.BENCH_EVERY ?? 300)) {
            say(
              `  ${done} refreshes in ${((Date.now() - tMem) / 60000).toFixed(0)} min, heap ${((await heap(cdp)) / 1048576).toFixed(2)} MB, ${seen} of ${changes} data changes shown`
            );
            last = done;
          }
        }
      } finally {
        if (up) await setup.change!(false); // leave the data as it was
      }
      heapEnd = await heap(cdp);
      if (SNAPSHOT) snapEnd = await heapBreakdown(cdp, 'end');
      domEnd = await domCounters(cdp);
      connection = String(await read(`document.querySelector('[data-testid=cockpit]')?.getAttribute('data-connection')`));
      cdp.close();
      browserCdp.close();
    } finally {
      bare.stop();
    }
    const growth = (heapEnd - heapStart) / heapStart;
    say(
      `DOM nodes ${domStart.nodes} → ${domEnd.nodes}, event listeners ${domStart.jsEventListeners} → ${domEnd.jsEventListeners}, documents ${domStart.documents} → ${domEnd.documents}`
    );
    say(
      `JS heap ${(heapStart / 1048576).toFixed(2)} MB after ${WARM_UP} warm-up refreshes, ${(heapEnd / 1048576).toFixed(2)} MB after ${refreshed} more in ${((Date.now() - tMem) / 60000).toFixed(1)} min: ${(growth * 100).toFixed(1)} % (connection ${connection})`
    );
    const parts = snapStart && snapEnd ? { start: heapParts(snapStart), end: heapParts(snapEnd) } : null;
    if (snapStart && snapEnd) sayBreakdown(snapStart, snapEnd);
    if (parts) {
      const pct = (x: number, y: number) => `${(((y - x) / x) * 100).toFixed(1)} %`;
      say(
        `of the JS heap (snapshots): compiled code ${(parts.start.code / 1048576).toFixed(2)} → ${(parts.end.code / 1048576).toFixed(2)} MB (${pct(parts.start.code, parts.end.code)}), ` +
          `JavaScript objects ${(parts.start.objects / 1048576).toFixed(2)} → ${(parts.end.objects / 1048576).toFixed(2)} MB (${pct(parts.start.objects, parts.end.objects)})`
      );
    }
    say(
      setup.change
        ? `data changed ${changes} times (every ${CHANGE_SECONDS} s); the page showed ${seen} of them`
        : 'the data did not change (external server without BENCH_DATABASE_URL): refreshes brought identical answers'
    );
    const missed = setup.change && CHANGE_SECONDS > 0 ? changes - seen > 1 : false;

    const result = {
      date: new Date().toISOString(),
      scale: process.env.BENCH_URL ? 'external' : SCALE,
      viewport: '1920x1080',
      first,
      runs,
      warmUp: WARM_UP,
      refreshes: refreshed,
      dataChanges: changes,
      dataChangesShown: seen,
      heapParts: parts,
      changeSeconds: setup.change ? CHANGE_SECONDS : null,
      minutes: (Date.now() - tMem) / 60000,
      heapStartBytes: heapStart,
      heapEndBytes: heapEnd,
      heapGrowth: growth,
      domStart,
      domEnd,
      targets: { tilesMs: TARGET_TILES_MS, heapGrowth: TARGET_HEAP_GROWTH },
      pass: first.tilesMs <= TARGET_TILES_MS && growth <= TARGET_HEAP_GROWTH && !missed
    };
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-screen.json'), JSON.stringify(result, null, 2));
    if (missed) say(`FAIL: the page missed data changes (${seen} of ${changes} shown): it is not updating`);
    say(
      `${result.pass ? 'PASS' : 'FAIL'}: tiles ${first.tilesMs.toFixed(0)} ms (target ≤ ${TARGET_TILES_MS}), heap growth ${(growth * 100).toFixed(1)} % (target ≤ ${TARGET_HEAP_GROWTH * 100} %)`
    );
    process.exitCode = result.pass ? 0 : 1;
  } finally {
    await browser.close();
    await setup.stop();
  }
}

await main();
