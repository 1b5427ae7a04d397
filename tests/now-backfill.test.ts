// "Now" indicators have a trend from the demo's first day (issue 18.11): the demo start backfills the
// "now" snapshots at the past month-ends by replaying, as of each, the engines whose state they read and
// the indicator-facts job, in a transaction rolled back. On the tiny city: after the backfill P07, S03,
// C01 (certification coverage) and R06 (amount at risk) have ≥ 6 monthly points on the board; a past
// month equals a run of the engines and the facts as of its month-end on a fresh database with the same
// data (no run as of a later date before it); what no replay can know (the registry's insured status,
// workbench decisions) is NULL and shows no point; the replays leave no alert, transition, job run, audit
// row, task, SMS or cert history behind; the monthly facts and today's lists are as before the backfill;
// a second backfill does nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { loadConfig } from '../core/config.ts';
import {
  backfillNowSnapshots,
  NOT_KNOWN_IN_THE_PAST,
  pastMonthEnds,
  pendingMonthEnds,
  REPLAYED_IN_THE_PAST,
  replayNowAsOf
} from '../jobs/now-backfill.ts';
import { refreshPaymentsCache } from '../jobs/indicator-facts.ts';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard } from '../dashboard/lib/server/indicators.ts';
import type { Caller, Region } from '../dashboard/lib/server/scope.ts';

let db: TestDatabase;
let dir: string;
let copy: string;
let engine: SemanticEngine;
let leader: Caller;
let today: string;
let monthEnds: string[];
const KNOWN = ['recipients', 'reaching_retirement', 'hardship'];

const snapshot = async (period: string, pool = db.pool) =>
  (
    await pool.query(
      `SELECT region_code, as_of::text, ${[...KNOWN, ...REPLAYED_IN_THE_PAST, ...NOT_KNOWN_IN_THE_PAST].map((c) => `${c}::text`).join(', ')}
         FROM ind_region_now WHERE period = $1::date ORDER BY region_code`,
      [period]
    )
  ).rows;
const monthly = async () =>
  (await db.pool.query(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h, count(*)::int AS n FROM ind_region_month t`)).rows[0];
const personNow = async () =>
  (await db.pool.query(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h, count(*)::int AS n FROM ind_person_now t`)).rows[0];

// what a replay must leave as it found it: engine state, workflow, job runs, audit (the tables' whole content)
const STATE_TABLES = [
  'alerts',
  'alert_transitions',
  'job_runs',
  'audit_log',
  'cert_status',
  'cert_events',
  'tasks',
  'cases',
  'sms_outbox',
  'risk_clock',
  'risk_source_lags',
  'restorations',
  'subsidy_matches',
  'subsidy_payout_list',
  'engine_state'
];
const state = async () =>
  Object.fromEntries(
    await Promise.all(
      STATE_TABLES.map(async (t) => [
        t,
        (await db.pool.query(`SELECT count(*)::int AS n, md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${t} t`))
          .rows[0]
      ])
    )
  );

let before: {
  month: { h: string; n: number };
  people: { h: string; n: number };
  nowRows: number;
  state: Record<string, { n: number; h: string }>;
};

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-now-backfill-'));
  const truth = await generateCity({ scale: 'tiny', seed: 11, outDir: dir });
  today = truth.asOf;
  // the same files for the oracle below (loading moves them aside), with their times: arrival order
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-now-backfill-copy-'));
  fs.cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
  // as the demo start loads it: ingest, then the engines, rollups and indicator facts after it
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: dir };
  const results = await runWithDependents(db.pool, 'ingest', { config, inbox: dir, asOf: today, trigger: 'manual', log: () => {} });
  expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
  before = {
    month: await monthly(),
    people: await personNow(),
    nowRows: (await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n,
    state: await state()
  };
  const r = await backfillNowSnapshots(db.pool, { today });
  monthEnds = r.monthEnds;
  console.log(`backfilled ${monthEnds.length} month-ends in ${r.ms} ms`);
  engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'test-secret',
    log: () => {}
  });
  const c = await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city'`);
  leader = { kind: 'staff', name: 'leader-b', role: 'leader', scope: c.rows[0], privacy: false };
}, 600_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

describe('the "now" snapshots backfilled at past month-ends', () => {
  it('are the twelve month-ends before today (none before the data), and leave the monthly facts and today’s lists as they were', async () => {
    expect(pastMonthEnds('2026-12-05', '2025-01-01')).toEqual([
      '2025-12-31',
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
      '2026-06-30',
      '2026-07-31',
      '2026-08-31',
      '2026-09-30',
      '2026-10-31',
      '2026-11-30'
    ]);
    expect(pastMonthEnds('2026-12-05', '2026-09-01')).toEqual(['2026-09-30', '2026-10-31', '2026-11-30']);
    expect(monthEnds.length).toBeGreaterThanOrEqual(6);
    expect(await monthly()).toEqual(before.month);
    expect(await personNow()).toEqual(before.people);
  });

  it('leave no trace of the engine replays: no alert, transition, job run, audit row, task, SMS or cert history', async () => {
    // the replays did find alerts in the past (else this would prove nothing): R01–R04 have past values
    const past = await db.pool.query(
      `SELECT count(*)::int AS n FROM ind_region_now
        WHERE period < date_trunc('month', $1::date) AND alerts_after_death + alerts_custody + alerts_double + alerts_abnormal > 0`,
      [today]
    );
    expect(past.rows[0].n).toBeGreaterThan(0);
    expect(await state()).toEqual(before.state);
  });

  it('give the "now" indicators at least six monthly points on the board, and none where the past is not known', async () => {
    const board = await buildBoard(engine, db.pool, leader, leader.scope as Region, null);
    const of = (code: string) => board.indicators.find((i) => i.code === code)!;
    // P07 and S03 from dated data; C01 (certification coverage), C04 (awaiting field verification), R01
    // (paid after death) and R06 (amount at risk) from the engines replayed as of each month-end
    for (const code of ['P07', 'S03', 'C01', 'C04', 'R01', 'R06']) {
      expect(of(code).grain, code).toBe('now');
      expect(of(code).series.length, code).toBeGreaterThanOrEqual(6);
    }
    // A08 (the registry's insured status) and R08 (workbench decisions): no past point (R08 has none today
    // either on a fresh city: nothing decided yet)
    for (const code of ['A08', 'R08'])
      expect(
        of(code).series.filter((p) => p.period < today.slice(0, 7)),
        code
      ).toEqual([]);
    expect(of('A08').series.length).toBe(1);
    // certification coverage is not the same every month (a replay, not today's figure copied)
    expect(new Set(of('C01').series.map((p) => String(p.value))).size).toBeGreaterThan(1);
    // a past month shows the backfilled C01 and R06, and says A08 and R08 have a current value only
    const past = await buildBoard(engine, db.pool, leader, leader.scope as Region, monthEnds[monthEnds.length - 3].slice(0, 7));
    const pastOf = (code: string) => past.indicators.find((i) => i.code === code)!;
    for (const code of ['P07', 'C01', 'R06']) {
      expect(pastOf(code).current_only, code).toBe(false);
      expect(pastOf(code).value, code).not.toBeNull();
    }
    for (const code of ['A08', 'R08']) {
      expect(pastOf(code).current_only, code).toBe(true);
      expect(pastOf(code).value, code).toBeNull();
    }
  });

  it('a past month equals the engines and the facts run as of its month-end on a fresh database with the same data', async () => {
    const monthEnd = monthEnds[Math.floor(monthEnds.length / 2)];
    const period = monthEnd.slice(0, 8) + '01';
    const stored = await snapshot(period);
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.every((r) => r.as_of === monthEnd)).toBe(true);
    expect(stored.some((r) => Number(r.reaching_retirement) > 0)).toBe(true);
    for (const r of stored) for (const c of NOT_KNOWN_IN_THE_PAST) expect(r[c], `${r.region_code} ${c}`).toBeNull();
    // the oracle: the same files loaded into an empty database and every engine, then the facts, run as
    // of the month-end — no run as of a later date before it, so nothing of today's state can leak in
    const oracle = await freshDatabase();
    try {
      const config = { ...loadConfig({ ...process.env, DATABASE_URL: oracle.url }), inboxDir: copy };
      const results = await runWithDependents(oracle.pool, 'ingest', {
        config,
        inbox: copy,
        asOf: monthEnd,
        trigger: 'manual',
        log: () => {}
      });
      expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
      const fresh = await snapshot(period, oracle.pool);
      const keep = (rows: Record<string, unknown>[]) =>
        rows.map((r) => Object.fromEntries(['region_code', 'as_of', ...KNOWN, ...REPLAYED_IN_THE_PAST].map((k) => [k, r[k]])));
      expect(keep(stored)).toEqual(keep(fresh));
      // not a month of zeros: the replay found certified people and money at risk then
      const total = (c: string) => stored.reduce((t, r) => t + Number(r[c]), 0);
      expect(total('cert_valid')).toBeGreaterThan(0);
      expect(total('amount_at_risk')).toBeGreaterThan(0);
    } finally {
      await oracle.drop();
    }
  });

  it('a backfill stopped between months goes on at the next, to the same figures; then there is nothing left to do', async () => {
    const n = (await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n;
    expect(n).toBeGreaterThan(before.nowRows);
    const months = monthEnds.slice(2, 5).map((e) => e.slice(0, 8) + '01');
    const kept = await Promise.all(months.map((m) => snapshot(m)));
    // three months not written (a start stopped before them)
    await db.pool.query(`DELETE FROM ind_now_backfill WHERE period = ANY($1::date[])`, [months]);
    await db.pool.query(`DELETE FROM ind_region_now WHERE period = ANY($1::date[])`, [months]);
    expect(await pendingMonthEnds(db.pool, today)).toEqual(monthEnds.slice(2, 5));
    // stopped after the first of them (as `up` stops it on Ctrl-C)
    const stop = new AbortController();
    const first = await backfillNowSnapshots(db.pool, { today, signal: stop.signal, log: () => stop.abort() });
    expect(first.monthEnds).toEqual([monthEnds[2]]);
    expect(await pendingMonthEnds(db.pool, today)).toEqual(monthEnds.slice(3, 5));
    expect((await backfillNowSnapshots(db.pool, { today })).monthEnds).toEqual(monthEnds.slice(3, 5));
    expect(await Promise.all(months.map((m) => snapshot(m)))).toEqual(kept);
    expect(await pendingMonthEnds(db.pool, today)).toEqual([]);
    expect((await backfillNowSnapshots(db.pool, { today })).monthEnds).toEqual([]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n).toBe(n);
    expect(await monthly()).toEqual(before.month);
    // a month the system ran through (a snapshot the backfill did not write) is not replayed over
    await db.pool.query(`DELETE FROM ind_now_backfill WHERE period = $1::date`, [months[0]]);
    expect(await pendingMonthEnds(db.pool, today)).toEqual([]);
  });
});

// Found by a soak: `up` fills the months in while the scheduler loads files, and the refresh-rollups job
// after each load refreshes the payments cache. A refresh that committed after a replay's snapshot made the
// replay's own refresh fail ("could not serialize access due to concurrent delete"), and the fill-in stopped
// until the next start.
describe('a replay beside the jobs that run while `up` fills the months in', () => {
  const waiting = async (locktype: string) => {
    for (let i = 0; i < 600; i++) {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = $1 AND NOT granted`, [locktype]);
      if (r.rows[0].n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nothing waited on a ${locktype} lock`);
  };

  it('waits for a refresh of the payments cache in progress and reads what it wrote', async () => {
    const monthEnd = monthEnds[monthEnds.length - 1];
    const refresh = await db.pool.connect();
    try {
      // the refresh-rollups job's transaction, holding the cache's lock (sql/engines/indicator-payments.sql)
      await refresh.query('BEGIN');
      await refresh.query(`SELECT pg_advisory_xact_lock(hashtext('yinling:indicator-payments'))`);
      const replay = replayNowAsOf(db.pool, monthEnd);
      replay.catch(() => {});
      await waiting('advisory');
      // it rewrites the cache's basis, as every refresh does, and commits while the replay waits
      await refreshPaymentsCache(refresh);
      await refresh.query('COMMIT');
      const r = await replay;
      expect(r.areas).toBeGreaterThan(1);
      expect(JSON.parse(r.json)[0].as_of).toBe(monthEnd);
    } finally {
      refresh.release();
    }
  });

  it('tries a month again when a change committed beside it touched a row the replay rewrites', async () => {
    const monthEnd = monthEnds[monthEnds.length - 1];
    const period = monthEnd.slice(0, 8) + '01';
    const kept = await snapshot(period);
    await db.pool.query(`DELETE FROM ind_now_backfill WHERE period = $1::date`, [period]);
    await db.pool.query(`DELETE FROM ind_region_now WHERE period = $1::date`, [period]);
    const someone = (await db.pool.query(`SELECT id_number FROM cert_status ORDER BY id_number LIMIT 1`)).rows[0].id_number;
    const other = await db.pool.connect();
    const lines: string[] = [];
    try {
      // a transaction beside it holds a row of cert_status that the replay (as of another day) rewrites …
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM cert_status WHERE id_number = $1 FOR UPDATE`, [someone]);
      const backfill = backfillNowSnapshots(db.pool, { today, log: (m) => lines.push(m) });
      backfill.catch(() => {});
      await waiting('transactionid');
      // … and changes it after the replay's snapshot: that replay cannot go on; the next one can
      await other.query(`UPDATE cert_status SET updated_at = now() WHERE id_number = $1`, [someone]);
      await other.query('COMMIT');
      const r = await backfill;
      expect(r.monthEnds).toEqual([monthEnd]);
      expect(lines.filter((m) => m.includes('trying the month again'))).toHaveLength(1);
      expect(lines.find((m) => m.includes('trying the month again'))).toMatch(/could not serialize/);
      expect(await snapshot(period)).toEqual(kept);
    } finally {
      other.release();
    }
  });
});
