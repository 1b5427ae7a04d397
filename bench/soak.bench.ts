// `npm run bench:soak` (tsx bench/soak.bench.ts) — issue 19 §14: weeks of running, compressed. It starts the
// real `yinling up` (its own data dir under os.tmpdir(), its own PORT and YINLING_PG_PORT, the demo city,
// a private build of the web app) with the scheduler set to ingest every minute and run the engines every
// 10 minutes (YINLING_SCHEDULE_INGEST / YINLING_SCHEDULE_ENGINES; an ingest that loaded rows also runs the
// engines after it, as it always does), then for BENCH_MINUTES (default 240):
//  * new feed files arrive in the inbox every minute, written as `.part` and renamed (docs/feeds.md):
//    evidence rows (new ids, happening now, for people, sources, kinds and areas of the city), passed
//    online certifications, and a re-delivery of payments already known (a department sending a month
//    again: the merge finds them unchanged);
//  * 10 wall screens poll what the screen polls (feed.svelte.ts) at the kiosk's default interval (60 s),
//    each with a kiosk token of its own (city and districts): /api/indicators, /api/indicators/<code>/regions
//    and /api/alerts/recent (the semantic layer's queries);
//  * 5 workbench users (auditors, signed in through /login) list the alert queue and open one of the
//    alerts listed, every 10–20 s (a brisk auditor: enough requests that a half's p95 is not luck).
// Every BENCH_INTERVAL_MINUTES (default 60) it prints the RSS of every process (the `up` process, the web
// server, the scheduler, the PostgreSQL postmaster and every backend summed — and their PSS, which counts
// shared memory once), the database's size and the cluster's size on disk, p95 latency per kind of request,
// the load average, the job runs and files of the interval, the alerts by status, and every error line
// (HTTP ≥ 500 or no answer, failed job runs, error lines of `up` and its children). Memory is sampled every
// 15 s and an interval reports the medians. Controls, to tell the system's drift from the machine's: every
// 5–15 s a static file from the web server and a `SELECT 1` from PostgreSQL (neither touches data that grows),
// per interval the CPU time of the web server per request, the machine's busy and steal share, and this
// bench's own event-loop delay (every latency is timed on that loop). At the end: the drift of memory and
// p95 after the first hour (BENCH_WARMUP_MINUTES, 60) — memory: every later interval ÷ the last interval
// that ends within it, the last ratio and the largest, judged by the floor of RSS for the Node processes
// and by PSS for PostgreSQL and the total (the rest printed for reference: see forReference()); latency:
// p95 (and p50) of every request in the second half of the time after that interval ÷ the first half's;
// target ≤ 1.10 — and the error count (target 0).
// A third control, for the machine's own speed: a fixed piece of CPU work (PBKDF2, in this process's thread
// pool) timed every CONTROL_S — it shares nothing with the system, so when it slows the machine slowed.
// BENCH_NODE_ARGS adds Node flags to `up`, and through fork() to its web server and scheduler: with
// `--trace-gc` the bench reads the web server's garbage collections from the output (pauses, incremental
// marking, the heap left after each major collection) and prints them per interval and per half, beside
// the web server's CPU time per request; with a heap flag (`--max-semi-space-size=…`) a run tries it.
// BENCH_KEEP=1 keeps the data dir. Results: printed, and test-results/bench-soak.json.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pbkdf2 } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { ROOT } from '../core/config.ts';
import { createUser, createKioskToken } from '../core/accounts.ts';
import { embeddedUrl, scratchDir } from '../core/db/embedded.ts';
import { createPool, endPool, type Pool } from '../core/db/pool.ts';
import { ensureBuild } from '../dashboard/e2e/support/build.ts';
import { untilHealthy } from '../dashboard/e2e/support/health.ts';
import { freePort } from './support.ts';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 240);
const INTERVAL_MIN = Number(process.env.BENCH_INTERVAL_MINUTES ?? 60);
// Drift is measured after the first hour (issue 19): the baseline is the last interval that ends within it,
// so shorter intervals do not put PostgreSQL's warm-up (shared buffers filling) into the baseline.
const WARMUP_MIN = Number(process.env.BENCH_WARMUP_MINUTES ?? 60);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const SCREENS = 10;
const USERS = 5;
const SCREEN_REFRESH_S = 60; // the kiosk's default (?refresh=, area.server.ts)
const SAMPLE_S = 15;
const CONTROL_S = 10;
/** Request kinds that measure the machine, not the system: printed, never judged. */
const CONTROL = /^control /;
const TARGET_DRIFT = 1.1;
const started = Date.now();
const clock = () => new Date().toISOString().slice(11, 19);
const say = (m: string) => console.log(`[bench:soak ${clock()}] ${m}`);
// Every request's latency with its time, for the drift of latency over the whole run (summary()).
const requestLog: { at: number; kind: string; ms: number }[] = [];
// The web server's CPU counter (ticks) at every memory sample, for its CPU time per request in each half.
const webCpuLog: { at: number; ticks: number }[] = [];
// The web server's garbage collections (with BENCH_NODE_ARGS=--trace-gc): main-thread pause, incremental
// marking steps before a major one, and the heap after it (MB).
interface Gc {
  at: number;
  major: boolean;
  pause_ms: number;
  incremental_ms: number;
  after_mb: number;
}
const gcLog: Gc[] = [];
let soakStartMs = 0;
const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] : NaN;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------
// what is measured, per interval

type Mem = Record<string, { rss: number; pss: number; n: number }>;
/** An interval's memory per kind: medians, and RSS's floor (10th percentile) and peak. */
type MemSummary = Record<string, { rss: number; pss: number; n: number; rss_floor: number; rss_peak: number }>;

interface Interval {
  index: number;
  latencies: Map<string, number[]>;
  requests: number;
  /** requests the web server answered: the CPU work and SELECT 1 controls never reach it */
  served: number;
  errors: string[];
  /** Every memory sample of the interval (KB per process kind, every SAMPLE_S): reported as medians. */
  memory: Mem[];
  files: number;
  /** CPU counters at the interval's start (see cpuNow()) */
  cpuFrom: Cpu;
  /** index into gcLog where the interval starts */
  gcFrom: number;
}

let current: Interval;
const intervals: Interval[] = [];
const newInterval = (index: number): Interval => ({
  index,
  latencies: new Map(),
  requests: 0,
  served: 0,
  errors: [],
  memory: [],
  files: 0,
  cpuFrom: cpuNow(),
  gcFrom: gcLog.length
});
let allErrors = 0;
function error(line: string): void {
  current.errors.push(`${clock()} ${line}`);
  allErrors++;
  console.log(`[bench:soak ${clock()}] ERROR ${line}`);
}

// ---------------------------------------------------------------------------------------------------------
// processes: `up`, its children (web server, scheduler), and PostgreSQL (postmaster and backends)

// Every read of /proc is asynchronous (libuv's thread pool): every latency is timed on this process's event
// loop, and a synchronous walk of every process's status and smaps_rollup blocked it for 36–52 ms every 15 s
// (a 2-minute run, 2026-12-05), adding that to whatever request was in flight.
const readText = (file: string) => fs.promises.readFile(file, 'utf8');
const execFileAsync = promisify(execFile);

/** A process's parent, RSS (KB) and command line. */
interface Proc {
  ppid: number;
  rss: number;
  cmd: string;
}

/** A process as /proc shows it, or null when it is gone meanwhile. */
async function readProc(pid: number): Promise<Proc | null> {
  try {
    const [status, cmdline] = await Promise.all([readText(`/proc/${pid}/status`), readText(`/proc/${pid}/cmdline`)]);
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { ppid, rss, cmd: cmdline.split('\0').join(' ').trim() };
  } catch {
    return null;
  }
}

/** PSS (KB) of a process counted, read only for those (smaps_rollup walks the page tables); RSS when unreadable. */
async function readPss(pid: number, rss: number): Promise<number> {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(await readText(`/proc/${pid}/smaps_rollup`))?.[1] ?? rss);
  } catch {
    return rss;
  }
}

async function allProcs(): Promise<Map<number, Proc>> {
  const pids = (await fs.promises.readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  const out = new Map<number, Proc>();
  await Promise.all(
    pids.map(async (pid) => {
      const p = await readProc(pid);
      if (p) out.set(pid, p);
    })
  );
  return out;
}

function postmasterPid(dataDir: string): number | null {
  try {
    const file = path.join(fs.realpathSync(path.join(dataDir, 'pg')), 'postmaster.pid');
    return Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
}

/**
 * Memory per kind of process (KB): up itself; the web server and the scheduler, each with its own children
 * children; anything else `up` started (tsx's esbuild); postgres (the postmaster and every backend).
 */
async function memory(upPid: number, dataDir: string): Promise<Mem> {
  const procs = await allProcs();
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(pid);
    else children.set(p.ppid, [pid]);
  }
  const counted: [string, number][] = [];
  const add = (kind: string, pid: number, tree: boolean) => {
    if (!procs.has(pid)) return;
    counted.push([kind, pid]);
    if (tree) for (const c of children.get(pid) ?? []) add(kind, c, true);
  };
  const pm = postmasterPid(dataDir);
  add('up', upPid, false);
  for (const c of children.get(upPid) ?? []) {
    if (c === pm) continue; // the postmaster is started by `up`: counted below with its backends
    const cmd = procs.get(c)?.cmd ?? '';
    const kind = /bin\.js serve\b/.test(cmd) ? 'web' : /bin\.js scheduler\b/.test(cmd) ? 'scheduler' : 'up-other';
    if (kind === 'web') webPid = c;
    add(kind, c, true);
  }
  if (pm) add('postgres', pm, true);
  const out: Mem = {};
  const pss = await Promise.all(counted.map(([, pid]) => readPss(pid, procs.get(pid)!.rss)));
  counted.forEach(([kind, pid], i) => {
    const o = (out[kind] ??= { rss: 0, pss: 0, n: 0 });
    o.rss += procs.get(pid)!.rss;
    o.pss += pss[i];
    o.n++;
  });
  return out;
}

/** CPU counters now: the machine's jiffies (all, idle + iowait, steal) and the web server's own (user + system). */
interface Cpu {
  total: number;
  idle: number;
  steal: number;
  web: number;
}
let webPid = 0;
function cpuNow(): Cpu {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = f.slice(0, 8).reduce((a, x) => a + x, 0);
  let web = NaN;
  try {
    // fields after the command's closing parenthesis: utime and stime are the 12th and 13th
    const st = fs.readFileSync(`/proc/${webPid}/stat`, 'utf8');
    const after = st.slice(st.lastIndexOf(')') + 2).split(' ');
    web = Number(after[11]) + Number(after[12]);
  } catch {
    /* no web server (yet): NaN */
  }
  return { total, idle: f[3] + f[4], steal: f[7] ?? 0, web };
}
const TICK_MS = 10; // USER_HZ is 100 on Linux

async function duKb(dir: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync('du', ['-sk', fs.realpathSync(dir)], { encoding: 'utf8' });
    return Number(stdout.split(/\s/)[0]);
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP clients

let base = '';

/** Kinds of request that never reach the web server. */
const NOT_SERVED = /^control (CPU|SELECT)/;

function record(kind: string, ms: number): void {
  current.requests++;
  if (!NOT_SERVED.test(kind)) current.served++;
  let list = current.latencies.get(kind);
  if (!list) current.latencies.set(kind, (list = []));
  list.push(ms);
  if (soakStartMs) requestLog.push({ at: Date.now(), kind, ms });
}

async function timed(kind: string, url: string, init: RequestInit = {}): Promise<Response | null> {
  const t = performance.now();
  let res: Response;
  try {
    res = await fetch(base + url, { redirect: 'manual', signal: AbortSignal.timeout(60_000), ...init });
    await res.clone().arrayBuffer(); // the whole answer, as a client waits for it
  } catch (e) {
    current.requests++;
    error(`${kind} ${url}: no answer (${(e as Error).message})`);
    return null;
  }
  record(kind, performance.now() - t);
  if (res.status >= 500) error(`${kind} ${url}: HTTP ${res.status} ${(await res.clone().text()).slice(0, 200).replace(/\s+/g, ' ')}`);
  return res;
}

let stopping = false;

/** A wall screen: what feed.svelte.ts polls, every SCREEN_REFRESH_S, with its kiosk token. */
async function screen(token: string, region: string, privacy: boolean, indicator: string, offsetMs: number): Promise<void> {
  await sleep(offsetMs);
  const headers = { 'x-kiosk-token': token, accept: 'application/json' };
  const q = new URLSearchParams({ region });
  while (!stopping) {
    const t = Date.now();
    const alerts = new URLSearchParams({ region, limit: '20', ...(privacy ? { privacy: '1' } : {}) });
    const answers = await Promise.all([
      timed('screen /api/alerts/recent', `/api/alerts/recent?${alerts}`, { headers }),
      timed('screen /api/indicators/:code/regions', `/api/indicators/${indicator}/regions?${q}`, { headers }),
      timed('screen /api/indicators', `/api/indicators?${q}`, { headers })
    ]);
    for (const r of answers) if (r && r.status !== 200 && r.status < 500) error(`screen: HTTP ${r.status} for ${r.url}`);
    await sleep(Math.max(0, SCREEN_REFRESH_S * 1000 - (Date.now() - t)));
  }
}

/**
 * The controls: a static file from the web server (no session, no database), a fixed piece of CPU work in
 * this process (a few milliseconds) and `SELECT 1` from PostgreSQL (no table), every CONTROL_S on average. None
 * grows with the data: a system drift shows as the other kinds moving while these stay; the CPU work
 * slowing says the machine itself slowed (a neighbour on the host, whose time the guest does not always
 * count as stolen).
 */
const CPU_WORK_ITERATIONS = 20_000;
async function control(pool: Pool): Promise<void> {
  while (!stopping) {
    const t = Date.now();
    const r = await timed('control static file', '/favicon.svg');
    if (r && r.status !== 200 && r.status < 500) error(`control: HTTP ${r.status} for /favicon.svg`);
    const w = performance.now();
    await new Promise((resolve, reject) =>
      pbkdf2('soak', 'control', CPU_WORK_ITERATIONS, 32, 'sha256', (e) => (e ? reject(e) : resolve(null)))
    );
    record('control CPU work', performance.now() - w);
    const q = performance.now();
    try {
      await pool.query('SELECT 1');
      record('control SELECT 1', performance.now() - q);
    } catch (e) {
      error(`control: SELECT 1 failed (${(e as Error).message})`);
    }
    // A random pause, not a fixed period: every CONTROL_S the controls met a screen's three requests at the
    // same instant (screens fire at 6 s steps of a 60 s grid), so a third of them measured the queue behind
    // a screen, not the machine (p95 of the static file 30 ms in a quiet interval; 2.4 ms by curl beside it).
    await sleep(Math.max(0, (CONTROL_S / 2 + Math.random() * CONTROL_S) * 1000 - (Date.now() - t)));
  }
}

async function signIn(username: string, password: string): Promise<string> {
  const r = await timed('workbench sign-in', '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', origin: base },
    body: new URLSearchParams({ username, password })
  });
  const cookie = r?.headers.getSetCookie().find((c) => c.startsWith('yinling_session='));
  if (!r || r.status !== 303 || !cookie) throw new Error(`${username} could not sign in (HTTP ${r?.status})`);
  return cookie.split(';')[0];
}

/** A workbench user: the queue, then one of its alerts, at a brisk human pace (10–20 s between steps). */
async function workbenchUser(username: string, password: string, offsetMs: number): Promise<void> {
  await sleep(offsetMs);
  let cookie = await signIn(username, password);
  while (!stopping) {
    const list = await timed('workbench queue', '/workbench/alerts', { headers: { cookie, accept: 'text/html' } });
    if (list && (list.status === 303 || list.status === 302)) {
      error(`workbench: ${username}'s session ended (sent to ${list.headers.get('location')}); signing in again`);
      cookie = await signIn(username, password);
      continue;
    }
    if (list?.status === 200) {
      const ids = [...new Set([...(await list.text()).matchAll(/href="\/workbench\/alerts\/(\d+)/g)].map((m) => m[1]))];
      await sleep(10_000 + Math.random() * 10_000);
      if (stopping) break;
      if (ids.length) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        const one = await timed('workbench alert', `/workbench/alerts/${id}`, { headers: { cookie, accept: 'text/html' } });
        if (one && one.status !== 200 && one.status < 500) error(`workbench: HTTP ${one.status} for alert ${id}`);
      } else error(`workbench: ${username}'s queue lists no alert`);
    } else if (list && list.status < 500) error(`workbench: HTTP ${list.status} for the queue`);
    await sleep(10_000 + Math.random() * 10_000);
  }
}

// ---------------------------------------------------------------------------------------------------------
// feed files

interface Samples {
  evidence: { id_number: string; source: string; kind: string; region: string | null }[];
  certified: string[];
  payments: string[]; // CSV lines of payments already loaded, exactly as they are in the table
}

async function samples(pool: Pool): Promise<Samples> {
  const evidence = (
    await pool.query(`SELECT id_number, source, kind, region FROM evidence TABLESAMPLE SYSTEM (5) ORDER BY random() LIMIT 20000`)
  ).rows;
  const certified = (await pool.query(`SELECT DISTINCT id_number FROM certifications WHERE result = 'pass' LIMIT 20000`)).rows.map(
    (r) => r.id_number as string
  );
  const payments = (
    await pool.query(
      `SELECT concat_ws(',', payment_id, id_number, scheme_code, to_char(period, 'YYYY-MM'), amount::text,
                        COALESCE(to_char(paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+08:00', ''), status,
                        COALESCE(account_no, '')) AS line
         FROM payments TABLESAMPLE SYSTEM (2)
        WHERE period >= date_trunc('month', now() - interval '6 months') AND account_no !~ '[,"\\n]'
        LIMIT 20000`
    )
  ).rows.map((r) => r.line as string);
  if (!evidence.length || !certified.length || !payments.length)
    throw new Error(`the demo city gave no samples to make feed files from (${evidence.length}/${certified.length}/${payments.length})`);
  return { evidence, certified, payments };
}

const pick = <T>(xs: T[], n: number): T[] => Array.from({ length: n }, () => xs[Math.floor(Math.random() * xs.length)]);

/** A Shanghai timestamp with its offset, `secondsAgo` before now. */
function shanghai(secondsAgo: number): string {
  const d = new Date(Date.now() - secondsAgo * 1000 + 8 * 3600_000);
  return d.toISOString().slice(0, 19) + '+08:00';
}

function deliver(inbox: string, feed: string, name: string, header: string, lines: string[]): void {
  const dir = path.join(inbox, feed);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file + '.part', [header, ...lines].join('\n') + '\n');
  fs.renameSync(file + '.part', file);
  current.files++;
}

let seq = 0;
function deliverMinute(inbox: string, s: Samples, minute: number): void {
  const tag = `${started.toString(36)}-${String(minute).padStart(4, '0')}`;
  const ev = pick(s.evidence, 400).map((e) => {
    const id = `SOAK-EV-${tag}-${++seq}`;
    return `${id},${e.id_number},${e.source},${e.kind},${shanghai(Math.floor(Math.random() * 3600))},${e.region ?? ''},soak`;
  });
  deliver(inbox, 'evidence', `soak-${tag}.csv`, 'evidence_id,id_number,source,kind,occurred_at,region,detail', ev);
  const cf = pick(s.certified, 40).map(
    (id) => `SOAK-CF-${tag}-${++seq},${id},face_online,${shanghai(Math.floor(Math.random() * 3600))},pass,soak`
  );
  deliver(inbox, 'certifications', `soak-${tag}.csv`, 'certification_id,id_number,method,certified_at,result,operator', cf);
  const start = Math.floor(Math.random() * Math.max(1, s.payments.length - 300));
  deliver(
    inbox,
    'payments',
    `soak-${tag}.csv`,
    'payment_id,id_number,scheme_code,period,amount,paid_at,status,account_no',
    s.payments.slice(start, start + 300)
  );
}

// ---------------------------------------------------------------------------------------------------------
// reports

interface Row {
  interval: number;
  minutes: string;
  end_minute: number;
  /** medians of the interval's samples, per kind (n: the most processes seen) and of the totals */
  mem: MemSummary;
  mem_samples: number;
  rss_total_kb: number;
  pss_total_kb: number;
  /** alerts by status at the interval's end: the workbench queue's cost follows the active ones */
  alerts: Record<string, number>;
  /** the tables with the most live + dead rows at the interval's end: what grows under the requests */
  tables: Record<string, { live: number; dead: number }>;
  db_bytes: number;
  cluster_kb: number;
  p95: Record<string, number>;
  requests: number;
  /** the web server's CPU time per request, the machine's busy and steal share, this bench's event-loop delay */
  cpu: { web_ms_per_request: number; busy_pct: number; steal_pct: number; loop_delay_p99_ms: number; loop_delay_max_ms: number };
  /** the web server's garbage collections in the interval (BENCH_NODE_ARGS=--trace-gc), or null without the trace */
  gc: GcSummary | null;
  load: number[];
  jobs: Record<string, string>;
  files: number;
  errors: string[];
}
const rows: Row[] = [];

interface GcSummary {
  minor: number;
  minor_ms: number;
  major: number;
  /** main-thread time of the major collections: their final pause plus the incremental marking before it */
  major_ms: number;
  ms_per_request: number;
  /** the heap left after the major collections (MB): what the web server keeps alive, median and largest */
  heap_after_major_mb: { median: number; max: number } | null;
}
function gcSummary(gcs: Gc[], requests: number): GcSummary | null {
  if (!gcs.length) return null;
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  const minor = gcs.filter((g) => !g.major);
  const major = gcs.filter((g) => g.major);
  const r = (x: number) => +x.toFixed(1);
  const minorMs = sum(minor.map((g) => g.pause_ms));
  const majorMs = sum(major.map((g) => g.pause_ms + g.incremental_ms));
  const after = major.map((g) => g.after_mb);
  return {
    minor: minor.length,
    minor_ms: r(minorMs),
    major: major.length,
    major_ms: r(majorMs),
    ms_per_request: +((minorMs + majorMs) / Math.max(1, requests)).toFixed(2),
    heap_after_major_mb: after.length ? { median: r(pct(after, 50)), max: r(Math.max(...after)) } : null
  };
}
// Every latency is timed on this process's event loop: its delay is printed per interval so a slower bench
// is not taken for a slower system.
// The histogram counts from the timer's last tick, so its readings include the resolution: subtracted.
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const loopDelayMs = (ns: number) => +Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS).toFixed(1);
loopDelay.enable();

async function report(iv: Interval, pool: Pool, dataDir: string, from: Date, to: Date, soakStart: number): Promise<void> {
  // Medians, not the last sample: one sample can catch autovacuum or a parallel query's workers, each
  // adding the shared buffers it touched to the sum of RSS.
  const median = (xs: number[]) => pct(xs, 50);
  const mem: MemSummary = {};
  for (const k of [...new Set(iv.memory.flatMap((m) => Object.keys(m)))]) {
    const rss = iv.memory.map((m) => m[k]?.rss ?? 0);
    mem[k] = {
      rss: median(rss),
      pss: median(iv.memory.map((m) => m[k]?.pss ?? 0)),
      n: Math.max(...iv.memory.map((m) => m[k]?.n ?? 0)),
      rss_floor: pct(rss, 10),
      rss_peak: Math.max(...rss)
    };
  }
  const rssTotal = median(iv.memory.map((m) => Object.values(m).reduce((a, x) => a + x.rss, 0)));
  const pssTotal = median(iv.memory.map((m) => Object.values(m).reduce((a, x) => a + x.pss, 0)));
  const alerts = Object.fromEntries(
    (await pool.query(`SELECT status, count(*)::int AS n FROM alerts GROUP BY status ORDER BY status`)).rows.map((r) => [r.status, r.n])
  );
  const tables: Row['tables'] = Object.fromEntries(
    (
      await pool.query(
        `SELECT relname, n_live_tup::bigint AS live, n_dead_tup::bigint AS dead FROM pg_stat_user_tables
          ORDER BY n_live_tup + n_dead_tup DESC LIMIT 8`
      )
    ).rows.map((r) => [r.relname, { live: Number(r.live), dead: Number(r.dead) }])
  );
  const c = cpuNow();
  const ticks = c.total - iv.cpuFrom.total;
  const cpu: Row['cpu'] = {
    web_ms_per_request: +(((c.web - iv.cpuFrom.web) * TICK_MS) / Math.max(1, iv.served)).toFixed(2),
    busy_pct: +(100 * (1 - (c.idle - iv.cpuFrom.idle) / ticks)).toFixed(1),
    steal_pct: +((100 * (c.steal - iv.cpuFrom.steal)) / ticks).toFixed(1),
    loop_delay_p99_ms: loopDelayMs(loopDelay.percentile(99)),
    loop_delay_max_ms: loopDelayMs(loopDelay.max)
  };
  loopDelay.reset();
  const size = Number((await pool.query(`SELECT pg_database_size(current_database())::bigint AS b`)).rows[0].b);
  const jobs = await pool.query(
    `SELECT job, count(*) FILTER (WHERE status = 'ok')::int AS ok, count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'skipped')::int AS skipped, round(avg(extract(epoch FROM finished_at - started_at))::numeric, 1) AS avg_s,
            round(max(extract(epoch FROM finished_at - started_at))::numeric, 1) AS max_s
       FROM job_runs WHERE started_at >= $1 AND started_at < $2 GROUP BY job ORDER BY job`,
    [from, to]
  );
  const failed = await pool.query(
    `SELECT run_id, job, left(error, 300) AS error FROM job_runs WHERE status = 'failed' AND started_at >= $1 AND started_at < $2 ORDER BY run_id`,
    [from, to]
  );
  for (const f of failed.rows) error(`job run #${f.run_id} ${f.job} failed: ${f.error}`);
  const row: Row = {
    interval: iv.index + 1,
    minutes: `${Math.round((from.getTime() - soakStart) / 60000)}–${Math.round((to.getTime() - soakStart) / 60000)}`,
    end_minute: Math.round((to.getTime() - soakStart) / 60000),
    mem,
    mem_samples: iv.memory.length,
    rss_total_kb: rssTotal,
    pss_total_kb: pssTotal,
    alerts,
    tables,
    db_bytes: size,
    cluster_kb: await duKb(path.join(dataDir, 'pg')),
    p95: Object.fromEntries([...iv.latencies].map(([k, v]) => [k, +pct(v, 95).toFixed(1)])),
    requests: iv.requests,
    cpu,
    gc: gcSummary(gcLog.slice(iv.gcFrom), iv.served),
    load: os.loadavg().map((x) => +x.toFixed(2)),
    jobs: Object.fromEntries(
      jobs.rows.map((j) => [
        j.job,
        `${j.ok} ok${j.failed ? `, ${j.failed} FAILED` : ''}${j.skipped ? `, ${j.skipped} skipped` : ''}, avg ${j.avg_s} s, max ${j.max_s} s`
      ])
    ),
    files: iv.files,
    errors: iv.errors
  };
  rows.push(row);
  console.log('');
  console.log(`── interval ${row.interval} (minutes ${row.minutes}) ──────────────────────────────`);
  console.log(`  memory     medians of ${iv.memory.length} samples (every ${SAMPLE_S} s); RSS floor (10th percentile) – peak:`);
  for (const [k, m] of Object.entries(mem))
    console.log(
      `  ${k.padEnd(10)} RSS ${mb(m.rss).padStart(8)}  PSS ${mb(m.pss).padStart(8)}  RSS ${mb(m.rss_floor)}–${mb(m.rss_peak)}  (${m.n > 1 ? `up to ${m.n} processes` : '1 process'})`
    );
  console.log(`  ${'total'.padEnd(10)} RSS ${mb(rssTotal).padStart(8)}  PSS ${mb(pssTotal).padStart(8)}`);
  console.log(
    `  tables     ${Object.entries(tables)
      .map(([k, t]) => `${k} ${t.live}${t.dead ? ` (+${t.dead} dead)` : ''}`)
      .join(', ')}`
  );
  console.log(
    `  alerts     ${Object.entries(alerts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`
  );
  console.log(`  database   ${(size / 1e6).toFixed(1)} MB (pg_database_size); cluster on disk ${(row.cluster_kb / 1024).toFixed(0)} MB`);
  console.log(`  requests   ${iv.requests}; p95:`);
  for (const [k, v] of Object.entries(row.p95))
    console.log(`    ${k.padEnd(38)} ${String(v).padStart(8)} ms  (${iv.latencies.get(k)!.length})`);
  console.log(
    `  cpu        web server ${Number.isNaN(cpu.web_ms_per_request) ? '–' : cpu.web_ms_per_request} ms per request; machine ${cpu.busy_pct} % busy, ${cpu.steal_pct} % stolen; this bench's event-loop delay p99 ${cpu.loop_delay_p99_ms} ms, max ${cpu.loop_delay_max_ms} ms`
  );
  if (row.gc) {
    const g = row.gc;
    const heap = g.heap_after_major_mb ? `; heap after them ${g.heap_after_major_mb.median} MB (largest ${g.heap_after_major_mb.max})` : '';
    console.log(
      `  gc (web)   ${g.minor} minor, ${g.minor_ms} ms; ${g.major} major, ${g.major_ms} ms with incremental marking${heap}; ${g.ms_per_request} ms per request`
    );
  }
  console.log(`  files      ${iv.files} delivered`);
  for (const [k, v] of Object.entries(row.jobs)) console.log(`  job        ${k.padEnd(22)} ${v}`);
  console.log(`  load       ${row.load.join(' ')} (1/5/15 min, ${os.availableParallelism()} CPUs)`);
  console.log(`  errors     ${iv.errors.length}`);
  for (const e of iv.errors) console.log(`    ${e}`);
  console.log('');
}

// ---------------------------------------------------------------------------------------------------------

const dataDir = scratchDir('yinling-soak-');
// `[pid:isolate]  1234 ms: Mark-Compact 75.9 (103.6) -> 28.6 (64.2) MB, 30.99 / 0.00 ms  (+ 2.1 ms in 18 steps …`
const GC_LINE =
  /^\[(\d+):0x[0-9a-f]+\]\s+[\d.]+ ms: ([A-Za-z -]+?) [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in)?/;
let up: ChildProcess | undefined;
let pool: Pool | undefined;
const upLines: string[] = [];

async function main(): Promise<void> {
  say(`BENCH_MINUTES=${MINUTES}, BENCH_INTERVAL_MINUTES=${INTERVAL_MIN}; data dir ${dataDir}`);
  const port = await freePort();
  const pgPort = await freePort();
  base = `http://127.0.0.1:${port}`;
  const build = await ensureBuild();
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'YINLING_INBOX', 'YINLING_NO_DEMO', 'YINLING_DEMO_SCALE'].includes(k))
  );
  current = newInterval(0);
  if (NODE_ARGS.length) say(`Node flags for up, its web server and its scheduler: ${NODE_ARGS.join(' ')}`);
  up = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'jobs', 'cli', 'bin.js'), 'up'], {
    cwd: ROOT,
    detached: true, // its own process group: stopped as a whole at the end
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      YINLING_DATA_DIR: dataDir,
      PORT: String(port),
      YINLING_PG_PORT: String(pgPort),
      HOST: '127.0.0.1',
      YINLING_WEB_BUILD: build,
      NODE_ENV: 'production',
      YINLING_SCHEDULE_INGEST: '* * * * *',
      YINLING_SCHEDULE_ENGINES: '*/10 * * * *'
    }
  });
  let soaking = false;
  const onLine = (line: string) => {
    if (!line.trim()) return;
    const gc = GC_LINE.exec(line);
    if (gc) {
      // --trace-gc: every Node process of `up` writes them; the web server's are kept
      if (Number(gc[1]) === webPid)
        gcLog.push({
          at: Date.now(),
          major: gc[2] === 'Mark-Compact',
          pause_ms: Number(gc[4]),
          incremental_ms: Number(gc[5] ?? 0),
          after_mb: Number(gc[3])
        });
      return;
    }
    upLines.push(line);
    if (upLines.length > 2000) upLines.splice(0, 1000);
    // once the soak runs, every line saying something went wrong counts
    if (soaking && /error|fail|exited|unhandled|ECONN|ENOSPC|FATAL|PANIC|could not/i.test(line)) error(`log: ${line.trim().slice(0, 300)}`);
  };
  for (const s of [up.stdout!, up.stderr!]) {
    let rest = '';
    s.on('data', (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop()!;
      for (const l of parts) onLine(l);
    });
  }
  const t0 = Date.now();
  say('starting `yinling up` with the demo city (generation, ingestion and engines: a few minutes) …');
  await untilHealthy(base, 'yinling up (demo city)', { child: up, output: () => upLines.slice(-40).join('\n'), ms: 1_800_000 });
  for (let i = 0; i < 600 && !upLines.some((l) => l.includes('Yinling is up')); i++) await sleep(100);
  say(`up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const url = embeddedUrl(pgPort, dataDir);
  pool = createPool(url, { max: 3 }); // the interval's report, the SELECT 1 control, one spare: no wait inside the control
  const inbox = path.join(dataDir, 'inbox');
  const s = await samples(pool);
  say(`samples for the feed files: ${s.evidence.length} evidence, ${s.certified.length} people, ${s.payments.length} payments`);

  // 10 kiosk tokens (the city, then its districts in turn), 5 auditors
  const op = { type: 'operator' as const, name: 'bench-soak' };
  const city = (await pool.query(`SELECT code FROM regions WHERE level = 'city' ORDER BY code LIMIT 1`)).rows[0].code as string;
  const districts = (await pool.query(`SELECT code FROM regions WHERE level = 'district' ORDER BY code`)).rows.map((r) => r.code as string);
  const indicators = ['P01', 'C01', 'R01', 'S01', 'A01', 'H01'];
  const screens: Promise<void>[] = [];
  for (let i = 0; i < SCREENS; i++) {
    const region = i === 0 || !districts.length ? city : districts[(i - 1) % districts.length];
    const privacy = i % 2 === 0;
    const k = await createKioskToken(pool, op, { label: `soak screen ${i + 1}`, regionCode: region, privacyMode: privacy });
    screens.push(screen(k.token, region, privacy, indicators[i % indicators.length], (i * SCREEN_REFRESH_S * 1000) / SCREENS));
  }
  const users: Promise<void>[] = [];
  for (let i = 0; i < USERS; i++) {
    const password = `soak-password-${i}-${Date.now()}`;
    const username = `soak-auditor-${i + 1}`;
    await createUser(pool, op, { username, role: 'auditor', regionCode: city, password });
    users.push(workbenchUser(username, password, i * 6000));
  }
  const clients = [...screens, ...users, control(pool)].map((p) =>
    p.catch((e) => {
      error(`client stopped: ${(e as Error).message}`);
    })
  );

  // The first interval's CPU counters start here, with the web server's known (memory() finds it): its
  // start-up and the sign-ins above are not the soak's.
  await memory(up.pid!, dataDir);
  current.cpuFrom = cpuNow();
  current.gcFrom = gcLog.length;
  soaking = true;
  const soakStart = Date.now();
  soakStartMs = soakStart;
  const end = soakStart + MINUTES * 60_000;
  let intervalStart = soakStart;
  let intervalFrom = new Date(soakStart);
  let minute = 0;
  let nextFiles = soakStart;
  let nextSample = soakStart;
  say(`soaking for ${MINUTES} min: ${SCREENS} wall screens, ${USERS} workbench users, files every minute`);
  while (Date.now() < end) {
    const now = Date.now();
    if (now >= nextFiles) {
      try {
        deliverMinute(inbox, s, minute++);
      } catch (e) {
        error(`could not deliver files: ${(e as Error).message}`);
      }
      nextFiles += 60_000;
    }
    if (now >= nextSample) {
      const m = await memory(up.pid!, dataDir);
      current.memory.push(m);
      webCpuLog.push({ at: Date.now(), ticks: cpuNow().web });
      if (!m.web) error('no web server process');
      if (!m.scheduler) error('no scheduler process');
      nextSample += SAMPLE_S * 1000;
    }
    if (now - intervalStart >= INTERVAL_MIN * 60_000) {
      const done = current;
      intervals.push(done);
      current = newInterval(done.index + 1);
      const to = new Date(now);
      await report(done, pool, dataDir, intervalFrom, to, soakStart);
      intervalFrom = to;
      intervalStart = now;
    }
    if (up.exitCode !== null) {
      error(`yinling up exited (${up.exitCode})`);
      break;
    }
    await sleep(1000);
  }
  stopping = true;
  if (Date.now() - intervalStart > 30_000 || !intervals.length) {
    intervals.push(current);
    await report(current, pool, dataDir, intervalFrom, new Date(), soakStart);
  }
  await Promise.race([Promise.all(clients), sleep(70_000)]);
  summary();
}

// Memory is judged interval by interval. PostgreSQL's memory is judged by PSS: the sum of its processes'
// RSS counts the shared buffers once for every backend that has touched them, so it grows with the
// number of backends alive at the sample and with how much of shared_buffers each has read, not with
// memory used; PSS counts every shared page once. The Node processes are one process each, judged by
// the floor of their RSS: V8 lets its heap grow by tens of MB between collections and gives the pages
// back only later, in a saw-tooth longer than a 20-minute interval (the web server, 2026-12-05: about
// 130 MB for 10 minutes, then about 160 MB for 20, then 130 again), so a median says where the tooth
// was; what a leak raises is what stays after the collections. The median is printed beside it.
// p95 per interval is shown for reference, and judged from the halves below.
/** Why a drift is printed for reference only, or '' when it is judged against TARGET_DRIFT. */
function forReference(key: string): string {
  if (key.startsWith('p95 ')) return 'per interval';
  if (key === 'rss_total' || key === 'rss_postgres') return 'shared buffers counted per process';
  if (key.endsWith(' median')) return "where the heap's saw-tooth was";
  if (key.startsWith('cpu ')) return 'the work behind the latency';
  return '';
}

function summary(): void {
  const base = Math.max(
    0,
    rows.findLastIndex((r) => r.end_minute <= WARMUP_MIN)
  );
  const first = rows[base];
  const later = rows.slice(base + 1);
  const drift = (f: (r: Row) => number) => {
    if (!first || !later.length) return { last: NaN, max: NaN };
    const r = later.map((x) => f(x) / f(first));
    return { last: +r[r.length - 1].toFixed(3), max: +Math.max(...r).toFixed(3) };
  };
  // Latency drift from every request after the first hour, not interval by interval: a 20-minute
  // interval holds about 100 requests of each workbench kind, whose p95 (the 5th slowest) moves by half
  // with the luck of meeting an engine run. The time after the baseline interval is cut into two halves;
  // drift = the second half's p95 ÷ the first's (p50 beside). With hourly intervals over 240 minutes each
  // half holds 90 minutes of requests.
  const from = soakStartMs + (first ? first.end_minute : WARMUP_MIN) * 60_000;
  const to = soakStartMs + (rows.length ? rows[rows.length - 1].end_minute : MINUTES) * 60_000;
  const mid = (from + to) / 2;
  const halves: Record<
    string,
    { n: [number, number]; p50: [number, number]; p95: [number, number]; drift_p50: number; drift_p95: number; control: boolean }
  > = {};
  for (const kind of [...new Set(requestLog.map((x) => x.kind))].sort()) {
    const h1 = requestLog.filter((x) => x.kind === kind && x.at >= from && x.at < mid).map((x) => x.ms);
    const h2 = requestLog.filter((x) => x.kind === kind && x.at >= mid && x.at <= to).map((x) => x.ms);
    if (h1.length < 20 || h2.length < 20) continue; // sign-ins happen once per user
    const r = (x: number) => +x.toFixed(1);
    halves[kind] = {
      n: [h1.length, h2.length],
      p50: [r(pct(h1, 50)), r(pct(h2, 50))],
      p95: [r(pct(h1, 95)), r(pct(h2, 95))],
      drift_p50: +(pct(h2, 50) / pct(h1, 50)).toFixed(3),
      drift_p95: +(pct(h2, 95) / pct(h1, 95)).toFixed(3),
      control: CONTROL.test(kind)
    };
  }
  // The web server in each half: its CPU time per request (from the samples nearest the half's ends) and,
  // with --trace-gc, its collections' share of it and the heap they left — to tell a slower server from a
  // slower machine (the CPU work control) and a bigger heap from more work per request.
  const webHalves = [
    [from, mid],
    [mid, to]
  ].map(([a, b]) => {
    // requests the web server answered (the CPU work and SELECT 1 controls never reach it)
    const served = (t0: number, t1: number) => requestLog.filter((x) => x.at >= t0 && x.at < t1 && !NOT_SERVED.test(x.kind)).length;
    const near = (t: number) => webCpuLog.reduce((best, x) => (Math.abs(x.at - t) < Math.abs(best.at - t) ? x : best));
    const ca = webCpuLog.length ? near(a) : undefined;
    const cb = webCpuLog.length ? near(b) : undefined;
    const requests = served(a, b);
    const betweenSamples = ca && cb ? served(ca.at, cb.at) : 0;
    return {
      requests,
      cpu_ms_per_request: ca && cb && betweenSamples ? +(((cb.ticks - ca.ticks) * TICK_MS) / betweenSamples).toFixed(2) : NaN,
      gc: gcSummary(
        gcLog.filter((g) => g.at >= a && g.at < b),
        requests
      )
    };
  });
  const result = {
    minutes: MINUTES,
    node_args: NODE_ARGS,
    interval_minutes: INTERVAL_MIN,
    warmup_minutes: WARMUP_MIN,
    baseline_interval: first?.interval ?? null,
    intervals: rows,
    drift: {
      pss_total: drift((r) => r.pss_total_kb),
      pss_postgres: drift((r) => r.mem.postgres?.pss ?? NaN),
      ...Object.fromEntries(
        Object.keys(first?.mem ?? {})
          .filter((k) => k !== 'postgres')
          .flatMap((k) => [
            [`rss_${k} floor`, drift((r) => r.mem[k]?.rss_floor ?? NaN)],
            [`rss_${k} median`, drift((r) => r.mem[k]?.rss ?? NaN)]
          ])
      ),
      rss_postgres: drift((r) => r.mem.postgres?.rss ?? NaN),
      rss_total: drift((r) => r.rss_total_kb),
      'cpu web per request': drift((r) => r.cpu.web_ms_per_request),
      ...Object.fromEntries(Object.keys(first?.p95 ?? {}).map((k) => [`p95 ${k}`, drift((r) => r.p95[k] ?? NaN)]))
    } as Record<string, { last: number; max: number }>,
    latency_halves: halves,
    web_halves: webHalves,
    db_growth: first && later.length ? +(rows[rows.length - 1].db_bytes / first.db_bytes).toFixed(3) : NaN,
    errors: allErrors,
    load_at_end: os.loadavg().map((x) => +x.toFixed(2))
  };
  const judged = Object.entries(result.drift)
    .filter(([k, d]) => !forReference(k) && !Number.isNaN(d.max))
    .map(([k]) => k);
  console.log('');
  console.log(
    `soak summary: ${MINUTES} min in ${rows.length} intervals of ${INTERVAL_MIN} min (drift = every later interval ÷ interval ${first?.interval ?? '–'}, minutes ${first?.minutes ?? '–'}, the last one within the first ${WARMUP_MIN} min)`
  );
  if (!later.length) console.log('  (one interval only: no drift to compute — set BENCH_INTERVAL_MINUTES smaller than BENCH_MINUTES)');
  for (const [k, d] of Object.entries(result.drift)) {
    if (Number.isNaN(d.max) && later.length) {
      console.log(`  ${k.padEnd(46)} (measured in the baseline interval only)`);
      continue;
    }
    const why = forReference(k);
    const ok = Number.isNaN(d.max) || why ? '' : d.max <= TARGET_DRIFT ? 'met' : 'MISSED';
    console.log(
      `  ${k.padEnd(46)} last ${String(d.last).padStart(6)}×  max ${String(d.max).padStart(6)}×  ${ok ? `(target ≤ ${TARGET_DRIFT}×: ${ok})` : `(${why}, for reference)`}`
    );
  }
  const minutesOf = (t: number) => Math.round((t - soakStartMs) / 60000);
  console.log(
    `  latency after the first ${WARMUP_MIN} min, minutes ${minutesOf(from)}–${minutesOf(mid)} against ${minutesOf(mid)}–${minutesOf(to)} (every request):`
  );
  if (!Object.keys(halves).length) console.log('    (too few requests after the first hour to compare)');
  for (const [k, h] of Object.entries(halves)) {
    const ok = h.control
      ? 'the machine, for reference'
      : `p95 target ≤ ${TARGET_DRIFT}×: ${h.drift_p95 <= TARGET_DRIFT ? 'met' : 'MISSED'}`;
    console.log(
      `    ${k.padEnd(44)} p95 ${h.p95[0]} → ${h.p95[1]} ms ${String(h.drift_p95).padStart(6)}×  p50 ${h.p50[0]} → ${h.p50[1]} ms ${h.drift_p50}×  (n ${h.n[0]} / ${h.n[1]}; ${ok})`
    );
  }
  const [w1, w2] = webHalves;
  console.log(
    `    web server: CPU ${w1.cpu_ms_per_request} → ${w2.cpu_ms_per_request} ms per request (of ${w1.requests} / ${w2.requests})`
  );
  if (w1.gc && w2.gc) {
    const heap = (g: GcSummary) => g.heap_after_major_mb?.median ?? '–';
    console.log(
      `    web server GC: ${w1.gc.ms_per_request} → ${w2.gc.ms_per_request} ms per request; major ${w1.gc.major} → ${w2.gc.major} (${w1.gc.major_ms} → ${w2.gc.major_ms} ms); heap after major ${heap(w1.gc)} → ${heap(w2.gc)} MB`
    );
  } else if (!NODE_ARGS.includes('--trace-gc')) console.log('    web server GC: not traced (BENCH_NODE_ARGS=--trace-gc traces it)');
  console.log(`  database size                                  ${result.db_growth}× the baseline interval's`);
  console.log(`  errors                                         ${allErrors}  (target 0: ${allErrors === 0 ? 'met' : 'MISSED'})`);
  console.log(`  load average at the end                        ${result.load_at_end.join(' ')}`);
  const out = path.join(ROOT, 'test-results', 'bench-soak.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), ...result, judged }, null, 2));
  say(`written ${path.relative(ROOT, out)}`);
}

async function stop(): Promise<void> {
  stopping = true;
  await endPool(pool!).catch(() => {});
  if (up && up.exitCode === null) {
    const exited = new Promise<void>((r) => up!.once('exit', () => r()));
    process.kill(-up.pid!, 'SIGINT');
    const t = setTimeout(() => process.kill(-up!.pid!, 'SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
  }
  if (!process.env.BENCH_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
  else say(`kept ${dataDir}`);
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error(e instanceof Error ? e.stack : e);
  code = 1;
} finally {
  await stop();
}
process.exit(code);
