// `npm run bench:portal` (tsx bench/portal.bench.ts) — the residents' portal (issue 16, point 10):
//  * checkup booking throughput: 200 signed-in residents POST a booking at once over HTTP on 20
//    slots of one place each (10 residents per slot) — exactly 20 must be confirmed, every other
//    answer a plain "full" (409), no error page; the baseline in the same run is the same 200
//    residents opening the booking page at once (a read), and the ratio is printed;
//  * each portal page on a throttled mid-range phone (390×844, CPU 4× slower through CDP
//    Emulation.setCPUThrottlingRate, a slow network: 1.6 Mbit/s down, 750 kbit/s up, 150 ms
//    latency): time to usable (the load event), bytes and JavaScript on the wire; the baseline is
//    the sign-in page measured the same way in the same run, and each page's ratio to it is printed.
// It builds everything itself like bench:screen (embedded PostgreSQL, the synthetic city —
// BENCH_SCALE=city|demo|tiny, default city — ingestion with the engines, a private build of the app).
// Results: printed, and written to test-results/bench-portal.json.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ROOT } from '../core/config.ts';
import { requestSignInCode, verifySignInCode } from '../core/residents.ts';
import { outboxSender } from '../core/sms.ts';
import { ensureActivitySessions } from '../core/workflow/activities.ts';
import { todayShanghai } from '../core/time.ts';
import { ensureBuild } from '../dashboard/e2e/support/build.ts';
import { untilHealthy } from '../dashboard/e2e/support/health.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../dashboard/e2e/support/chromium.ts';
import { cityDatabase, freePort } from './support.ts';

const say = (m: string) => console.log(`[bench:portal] ${m}`);
const RESIDENTS = 200;
const SLOTS = 20;
const PAGES = [
  '/portal',
  '/portal/payments',
  '/portal/subsidies',
  '/portal/checkups',
  '/portal/activities',
  '/portal/family',
  '/portal/report-death/relation'
];

const db = await cityDatabase('portal', say);
let web: ChildProcess | undefined;
try {
  const buildDir = path.join(ROOT, 'test-results', `bench-app-${process.pid}`, 'build');
  fs.cpSync(await ensureBuild(), buildDir, { recursive: true });
  const port = await freePort();
  web = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboard/e2e/support/serve.ts'), buildDir], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), CUBEJS_API_SECRET: 'bench-' + port, NODE_ENV: 'production' }
  });
  const base = `http://127.0.0.1:${port}`;
  await untilHealthy(base, 'the web server', { child: web, ms: 60_000 });

  // 200 residents with a phone, signed in through the real code service
  const ids = (
    await db.pool.query(`SELECT id_number FROM persons WHERE phone IS NOT NULL ORDER BY md5(id_number) LIMIT $1`, [RESIDENTS])
  ).rows.map((r) => r.id_number as string);
  if (ids.length < RESIDENTS) throw new Error(`only ${ids.length} residents with a phone in this city (BENCH_SCALE)`);
  const cookies: string[] = [];
  for (const id of ids) {
    await requestSignInCode(db.pool, outboxSender, id);
    const phone = (await db.pool.query(`SELECT phone FROM persons WHERE id_number = $1`, [id])).rows[0].phone;
    const body = (await db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY sms_id DESC LIMIT 1`, [phone])).rows[0].body;
    const ok = await verifySignInCode(db.pool, id, /(\d{6})/.exec(body)![1]);
    if (!ok.ok) throw new Error(`sign-in refused: ${ok.reason}`);
    cookies.push(`yinling_resident=${ok.sessionToken}`);
  }
  const slotIds = (
    await db.pool.query(
      `INSERT INTO checkup_slots (centre, day, capacity) SELECT 'bench centre', current_date + 30 + g, 1 FROM generate_series(1, $1) g RETURNING slot_id`,
      [SLOTS]
    )
  ).rows.map((r) => String(r.slot_id));

  // baseline: the same 200 residents open the booking page at once
  let t0 = performance.now();
  const reads = await Promise.all(cookies.map((c) => fetch(`${base}/portal/checkups`, { headers: { cookie: c } })));
  const readMs = performance.now() - t0;
  const readErrors = reads.filter((r) => r.status !== 200).length;
  await Promise.all(reads.map((r) => r.arrayBuffer()));

  t0 = performance.now();
  const books = await Promise.all(
    cookies.map((c, i) =>
      fetch(`${base}/portal/checkups?/book`, {
        method: 'POST',
        redirect: 'manual',
        // accept text/html: a plain form post, as a browser without script sends it (fetch's default */* makes
        // SvelteKit answer the action as JSON with status 200, which the counts below would call errors)
        headers: { cookie: c, origin: base, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: `slot=${slotIds[i % SLOTS]}`
      })
    )
  );
  const bookMs = performance.now() - t0;
  const confirmed = books.filter((r) => r.status === 303).length;
  const full = books.filter((r) => r.status === 409).length;
  const errors = books.length - confirmed - full;
  const inDb = (
    await db.pool.query(`SELECT sum(booked)::int AS n, max(booked) AS mx FROM checkup_slots WHERE slot_id = ANY($1)`, [slotIds])
  ).rows[0];
  const booking = {
    residents: RESIDENTS,
    slots: SLOTS,
    confirmed,
    full,
    errors,
    booked_in_db: inDb.n,
    max_per_slot: inDb.mx,
    booking_ms: Math.round(bookMs),
    booking_per_s: Math.round((RESIDENTS / bookMs) * 1000),
    baseline_read_ms: Math.round(readMs),
    baseline_read_errors: readErrors,
    ratio_to_baseline: +(bookMs / readMs).toFixed(2)
  };
  say(
    `booking: ${RESIDENTS} residents at once on ${SLOTS} slots → ${confirmed} confirmed, ${full} full, ${errors} errors (database: ${inDb.n} booked, at most ${inDb.mx} per slot) in ${booking.booking_ms} ms (${booking.booking_per_s}/s); baseline ${RESIDENTS} page reads ${booking.baseline_read_ms} ms → ratio ${booking.ratio_to_baseline}`
  );

  // pages on a throttled phone (the activities page with the demo programme's sessions)
  await ensureActivitySessions(db.pool, { from: todayShanghai() });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const pages: Record<string, { usable_ms: number; bytes: number; js_bytes: number; ratio_ms: number; ratio_bytes: number }> = {};
  try {
    const token = cookies[0].split('=')[1];
    const measure = async (url: string, signedIn: boolean) => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      if (signedIn) await context.addCookies([{ name: 'yinling_resident', value: token, domain: '127.0.0.1', path: '/', httpOnly: true }]);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 150,
        downloadThroughput: 200_000,
        uploadThroughput: 94_000
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      const types = new Map<string, string>();
      let bytes = 0;
      let js = 0;
      cdp.on('Network.responseReceived', (e: { requestId: string; type: string }) => types.set(e.requestId, e.type));
      cdp.on('Network.loadingFinished', (e: { requestId: string; encodedDataLength: number }) => {
        bytes += e.encodedDataLength;
        if (types.get(e.requestId) === 'Script') js += e.encodedDataLength;
      });
      const t = performance.now();
      await page.goto(base + url, { waitUntil: 'load' });
      const ms = performance.now() - t;
      await context.close();
      return { ms, bytes, js };
    };
    await measure('/portal/login', false); // warm the server
    const baseline = await measure('/portal/login', false);
    say(`baseline /portal/login: ${baseline.ms.toFixed(0)} ms, ${baseline.bytes} B, JS ${baseline.js} B`);
    for (const url of PAGES) {
      const m = await measure(url, true);
      pages[url] = {
        usable_ms: Math.round(m.ms),
        bytes: m.bytes,
        js_bytes: m.js,
        ratio_ms: +(m.ms / baseline.ms).toFixed(2),
        ratio_bytes: +(m.bytes / baseline.bytes).toFixed(2)
      };
      say(
        `${url}: usable in ${m.ms.toFixed(0)} ms (×${pages[url].ratio_ms} of sign-in), ${m.bytes} B (×${pages[url].ratio_bytes}), JS ${m.js} B`
      );
    }
    pages['/portal/login'] = {
      usable_ms: Math.round(baseline.ms),
      bytes: baseline.bytes,
      js_bytes: baseline.js,
      ratio_ms: 1,
      ratio_bytes: 1
    };
  } finally {
    await browser.close();
  }
  const out = path.join(ROOT, 'test-results', 'bench-portal.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ booking, pages }, null, 2) + '\n');
  say(`written to ${path.relative(ROOT, out)}`);
  const ok = confirmed === SLOTS && errors === 0 && inDb.n === SLOTS && inDb.mx === 1 && readErrors === 0;
  if (!ok) {
    say('FAILED: the booking did not end with exactly one confirmed place per slot and no error');
    process.exitCode = 1;
  }
} finally {
  if (web && web.exitCode === null)
    await new Promise<void>((r) => {
      web!.once('exit', () => r());
      web!.kill('SIGTERM');
    });
  fs.rmSync(path.join(ROOT, 'test-results', `bench-app-${process.pid}`), { recursive: true, force: true });
  await db.stop();
}
