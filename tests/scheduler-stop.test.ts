// Stopping the scheduler (Ctrl-C on `up`, SIGTERM) waits for the job runs in progress before the process
// ends its connection pool. node-cron's stop() clears its timers only: a soak's stop ended the pool under
// an ingest in progress, which then logged "scheduler: ingest could not run: Cannot use a pool after
// calling end on the pool" and left its run marked running until the next one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { createPool } from '../core/db/pool.ts';
import { loadConfig } from '../core/config.ts';
import { startScheduler } from '../jobs/scheduler/index.ts';

let db: TestDatabase;
let inbox: string;

beforeAll(async () => {
  db = await freshDatabase();
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-scheduler-stop-'));
});

afterAll(async () => {
  await db?.drop();
  if (inbox) fs.rmSync(inbox, { recursive: true, force: true });
});

it('stopping waits for the run in progress, which finishes and is recorded; nothing runs on an ended pool', async () => {
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: inbox };
  const pool = createPool(db.url, { max: 4 });
  const lines: string[] = [];
  // a transaction beside it holds job_runs, so the next ingest (every second) stays in progress
  const holder = await db.pool.connect();
  let stopped = false;
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE');
    const scheduler = startScheduler(pool, config, (m) => lines.push(m), [{ job: 'ingest', expression: '* * * * * *' }]);
    for (let i = 0; ; i++) {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'relation' AND NOT granted`);
      if (r.rows[0].n > 0) break;
      if (i > 200) throw new Error('no ingest started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stopped).toBe(false);
    await holder.query('COMMIT');
    await stopping;
    await pool.end();
    // no tick after the stop: a second would have started another ingest
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    if (!stopped) await holder.query('ROLLBACK').catch(() => {});
    holder.release();
  }
  const runs = (await db.pool.query(`SELECT status FROM job_runs WHERE job = 'ingest'`)).rows.map((r) => r.status);
  expect(runs).toEqual(['ok']);
  expect(lines.filter((m) => m.includes('could not run'))).toEqual([]);
});
