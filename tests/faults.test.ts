// Faults (issue 19 §12): PostgreSQL killed with SIGKILL in the middle of an ingest, an engine run and a
// workbench transition, on a server of this test's own (the shared test server must not die). After the
// restart nothing is half-written — every table as a clean run makes it —, the interrupted job run is
// marked failed with the reason, the same pool (as the scheduler and the web server hold it) works again
// without a restart of the process, and a re-run completes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.ts';
import { scratchDir, startEmbeddedPostgres, type EmbeddedServer } from '../core/db/embedded.ts';
import { createPool, endPool, withDatabase, type Pool } from '../core/db/pool.ts';
import { migrate } from '../core/db/migrate.ts';
import { loadCatalogues } from '../core/reference/load.ts';
import { loadConfig } from '../core/config.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { runJob } from '../jobs/runner.ts';
import { transitionAlert } from '../core/workflow/alerts.ts';
import { workbenchUsers } from './workbench-helpers.ts';

let dir: string;
let port: number;
let server: EmbeddedServer;
let pool: Pool; // the crashed database's pool, kept across restarts like a long-running process keeps it
let clean: Pool; // the same files loaded and run without a fault, for comparison
let inbox: string;
let cleanInbox: string;
let asOf: string;
const noLog = () => {};

/** The row counts and money of every table a fault could leave half-written. */
async function fingerprint(p: Pool): Promise<Record<string, string>> {
  const r = await p.query(`
    SELECT (SELECT count(*) FROM persons)::text AS persons, (SELECT count(*) FROM enrollments)::text AS enrollments,
           (SELECT count(*) || ':' || COALESCE(sum(amount), 0) FROM payments) AS payments,
           (SELECT count(*) FROM deaths)::text AS deaths, (SELECT count(*) FROM evidence)::text AS evidence,
           (SELECT count(*) FROM ingest_files WHERE status = 'loaded')::text AS files_loaded,
           (SELECT count(*) FROM ingest_files WHERE status = 'loading')::text AS files_loading,
           (SELECT count(*) || ':' || count(*) FILTER (WHERE status = 'certified') FROM cert_status) AS cert_status,
           (SELECT count(*) || ':' || COALESCE(sum(amount_at_risk), 0) FROM alerts) AS alerts,
           (SELECT count(*) FROM ind_region_month)::text AS facts_month, (SELECT count(*) FROM ind_region_now)::text AS facts_now`);
  return r.rows[0];
}

function postmasterPid(): number {
  const file = path.join(fs.realpathSync(path.join(dir, 'pg')), 'postmaster.pid');
  return Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
}

/**
 * SIGKILL the whole server — the postmaster and every backend, as a power cut or the OOM killer taking the
 * process group does — and start it again. (Killing the postmaster alone leaves its backends running on;
 * PostgreSQL's documentation says never to do that.)
 */
async function crashAndRestart(): Promise<void> {
  const pid = postmasterPid();
  // the embedded server runs in a process group of its own (core/db/embedded.ts)
  process.kill(-pid, 'SIGKILL');
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      break;
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  server = await startEmbeddedPostgres({ dir, port });
}

async function until(what: string, cond: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A query on the kept pool once the server is back (an idle connection the crash cut fails once, then goes). */
async function settle(p: Pool): Promise<void> {
  await until('the pool to reach the restarted server', async () => (await p.query('SELECT 1')).rowCount === 1, 30_000);
}

beforeAll(async () => {
  dir = scratchDir('yinling-faults-');
  port = await freePort();
  server = await startEmbeddedPostgres({ dir, port });
  const admin = createPool(server.url, { max: 1 });
  await admin.query(`CREATE DATABASE faults`);
  await admin.query(`CREATE DATABASE faults_clean`);
  await endPool(admin);
  for (const db of ['faults', 'faults_clean']) {
    await migrate(withDatabase(server.url, db));
  }
  pool = createPool(withDatabase(server.url, 'faults'));
  clean = createPool(withDatabase(server.url, 'faults_clean'));
  await loadCatalogues(pool);
  await loadCatalogues(clean);
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-faults-inbox-'));
  cleanInbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-faults-clean-'));
  const truth = await generateCity({ scale: 'tiny', seed: 3, outDir: inbox });
  await generateCity({ scale: 'tiny', seed: 3, outDir: cleanInbox });
  asOf = truth.asOf;
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: withDatabase(server.url, 'faults_clean') }), inboxDir: cleanInbox };
  const results = await runWithDependents(clean, 'ingest', { config, inbox: cleanInbox, trigger: 'manual', log: noLog, asOf });
  expect(results.map((r) => r.status)).not.toContain('failed');
}, 600_000);

afterAll(async () => {
  if (pool) await endPool(pool).catch(() => {});
  if (clean) await endPool(clean).catch(() => {});
  await server?.stop().catch(() => {});
  for (const d of [dir, inbox, cleanInbox]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

const configFor = () => ({ ...loadConfig({ ...process.env, DATABASE_URL: withDatabase(server.url, 'faults') }), inboxDir: inbox });

describe('the database killed in the middle of work', () => {
  it('during an ingest: no file half-loaded, the run marked failed as interrupted, and a re-run loads the rest as a clean run does', async () => {
    const running = runWithDependents(pool, 'ingest', { config: configFor(), inbox, trigger: 'manual', log: noLog, asOf }).then(
      (r) => r,
      (e: Error) => e
    );
    // some files loaded, the run still going
    await until('the first files of the ingest', async () => {
      const r = await pool.query(
        `SELECT (SELECT count(*) FROM ingest_files WHERE status = 'loaded')::int AS n,
                (SELECT count(*) FROM job_runs WHERE job = 'ingest' AND status = 'running')::int AS live`
      );
      return r.rows[0].n >= 2 && r.rows[0].live === 1;
    });
    await crashAndRestart();
    const outcome = await running;
    expect(outcome instanceof Error || outcome.some((r) => r.status === 'failed')).toBe(true);
    await settle(pool);
    // nothing half-written: a file is loaded whole or not at all
    const loading = await pool.query(`SELECT count(*)::int AS n FROM ingest_files WHERE status = 'loading'`);
    expect(loading.rows[0].n).toBe(0);
    const partial = await pool.query(
      `SELECT f.file_id FROM ingest_files f WHERE f.status = 'loaded' AND f.feed = 'payments'
          AND f.rows_loaded + f.rows_replaced <> (SELECT count(*) FROM payments p WHERE p.file_id = f.file_id)`
    );
    expect(partial.rows).toEqual([]);
    // the re-run (the scheduler's next tick, on the same pool) completes, and says what happened to the first
    const again = await runWithDependents(pool, 'ingest', { config: configFor(), inbox, trigger: 'manual', log: noLog, asOf });
    expect(again.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    const interrupted = await pool.query(`SELECT status, error FROM job_runs WHERE job = 'ingest' ORDER BY run_id LIMIT 1`);
    expect(interrupted.rows[0].status).toBe('failed');
    // its reason: the lost connection when the run could still write it (the server was back in time), else
    // "interrupted", written by the next run
    expect(interrupted.rows[0].error).toMatch(/interrupted|terminat|connection/i);
    expect(await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE status = 'running'`).then((r) => r.rows[0].n)).toBe(0);
    // every table as the clean run made it, engines and facts included (the re-run fed its dependents)
    expect(await fingerprint(pool)).toEqual(await fingerprint(clean));
  }, 600_000);

  it('during an engine run: the run marked failed, a re-run gives what a clean run gives', async () => {
    const running = runWithDependents(pool, 'all', { config: configFor(), trigger: 'manual', log: noLog, asOf }).then(
      (r) => r,
      (e: Error) => e
    );
    await until('an engine run in progress', async () => {
      const r = await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE job <> 'ingest' AND status = 'running'`);
      return r.rows[0].n > 0;
    });
    await crashAndRestart();
    await running;
    await settle(pool);
    const again = await runWithDependents(pool, 'all', { config: configFor(), trigger: 'schedule', log: noLog, asOf });
    expect(again.filter((r) => r.status !== 'ok').map((r) => r.error)).toEqual([]);
    const failed = await pool.query(`SELECT error FROM job_runs WHERE job <> 'ingest' AND status = 'failed'`);
    // (the tiny city's engines are quick: the crash may land between two runs, leaving none to mark)
    for (const f of failed.rows) expect(f.error).toMatch(/interrupted|terminat|connection/i);
    expect(await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE status = 'running'`).then((r) => r.rows[0].n)).toBe(0);
    expect(await fingerprint(pool)).toEqual(await fingerprint(clean));
  }, 600_000);

  it('during a workbench transition: the alert is as it was, with no transition recorded, and the same step then succeeds', async () => {
    const u = await workbenchUsers(pool);
    const [a] = (await pool.query(`SELECT alert_id, status, version FROM alerts WHERE status = 'new' ORDER BY alert_id LIMIT 1`)).rows;
    expect(a, 'the tiny city has new alerts').toBeDefined();
    const before = await pool.query(`SELECT count(*)::int AS n FROM alert_transitions WHERE alert_id = $1`, [a.alert_id]);
    // Hold the transitions table: the transition updates the alert, then waits to record its step — and
    // the server dies right there, inside its transaction.
    const blocker = await pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alert_transitions IN EXCLUSIVE MODE');
    const step = transitionAlert(pool, {
      alertId: Number(a.alert_id),
      action: 'acknowledge',
      actor: u.maker,
      expectedVersion: a.version
    }).then(
      (r) => r,
      (e: Error) => e
    );
    await until('the transition waiting inside its transaction', async () => {
      const r = await clean.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'faults' AND wait_event_type = 'Lock' AND query ILIKE '%alert_transitions%'`
      );
      return r.rows[0].n > 0;
    });
    await crashAndRestart();
    expect(await step).toBeInstanceOf(Error);
    blocker.release(true);
    await settle(pool);
    const after = (await pool.query(`SELECT status, version FROM alerts WHERE alert_id = $1`, [a.alert_id])).rows[0];
    expect(after).toEqual({ status: a.status, version: a.version });
    const steps = await pool.query(`SELECT count(*)::int AS n FROM alert_transitions WHERE alert_id = $1`, [a.alert_id]);
    expect(steps.rows[0].n).toBe(before.rows[0].n);
    const done = await transitionAlert(pool, {
      alertId: Number(a.alert_id),
      action: 'acknowledge',
      actor: u.maker,
      expectedVersion: a.version
    });
    expect(done.status).toBe('acknowledged');
  }, 300_000);

  it('a job whose run was cut off is marked failed by the next run of that job, never while it still runs', async () => {
    // a run left 'running' by a process that died (no lock holder any more)
    const orphan = await pool.query(
      `INSERT INTO job_runs (job, trigger, status, host) VALUES ('rollups', 'manual', 'running', 'gone') RETURNING run_id`
    );
    const r = await runJob(pool, 'rollups', async () => {});
    expect(r.status).toBe('ok');
    const o = await pool.query(`SELECT status, error, finished_at IS NOT NULL AS finished FROM job_runs WHERE run_id = $1`, [
      orphan.rows[0].run_id
    ]);
    expect(o.rows[0]).toMatchObject({ status: 'failed', finished: true });
    expect(o.rows[0].error).toMatch(/interrupted/);
    // a run that is alive holds the job's lock: the next run is skipped and the live one left alone
    let release!: () => void;
    const live = runJob(pool, 'rollups', () => new Promise<void>((res) => (release = res)));
    await until(
      'the live run',
      async () => (await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE job = 'rollups' AND status = 'running'`)).rows[0].n === 1
    );
    const skipped = await runJob(pool, 'rollups', async () => {});
    expect(skipped.status).toBe('skipped');
    expect((await pool.query(`SELECT count(*)::int AS n FROM job_runs WHERE job = 'rollups' AND status = 'running'`)).rows[0].n).toBe(1);
    release();
    expect((await live).status).toBe('ok');
  }, 120_000);
});
