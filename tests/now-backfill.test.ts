// "Now" indicators have a trend from the demo's first day (issue 18.11): the demo start backfills the
// "now" snapshots at the past month-ends by running the indicator-facts job as of each. On the tiny
// city: after the backfill a "now" indicator (P07, S03) has ≥ 6 monthly points on the board; a past
// month's snapshot equals a fresh run of the facts job as of that month-end on the same data; what
// such a run cannot know (it reads today's state: certification, alerts, subsidy matches) is NULL and
// shows no point rather than a figure; the monthly facts and today's lists are as before the backfill;
// a second backfill does nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { runWithDependents } from '../jobs/registry.ts';
import { loadConfig } from '../core/config.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { backfillNowSnapshots, NOT_KNOWN_IN_THE_PAST, pastMonthEnds } from '../jobs/now-backfill.ts';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard } from '../dashboard/lib/server/indicators.ts';
import type { Caller, Region } from '../dashboard/lib/server/scope.ts';

let db: TestDatabase;
let dir: string;
let engine: SemanticEngine;
let leader: Caller;
let today: string;
let monthEnds: string[];
const KNOWN = ['recipients', 'reaching_retirement', 'hardship'];

const snapshot = async (period: string) =>
  (
    await db.pool.query(
      `SELECT region_code, as_of::text, ${[...KNOWN, ...NOT_KNOWN_IN_THE_PAST].map((c) => `${c}::text`).join(', ')}
         FROM ind_region_now WHERE period = $1::date ORDER BY region_code`,
      [period]
    )
  ).rows;
const monthly = async () =>
  (await db.pool.query(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h, count(*)::int AS n FROM ind_region_month t`)).rows[0];
const personNow = async () =>
  (await db.pool.query(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h, count(*)::int AS n FROM ind_person_now t`)).rows[0];

let before: { month: { h: string; n: number }; people: { h: string; n: number }; nowRows: number };

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-now-backfill-'));
  const truth = await generateCity({ scale: 'tiny', seed: 11, outDir: dir });
  today = truth.asOf;
  // as the demo start loads it: ingest, then the engines, rollups and indicator facts after it
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: db.url }), inboxDir: dir };
  const results = await runWithDependents(db.pool, 'ingest', { config, inbox: dir, asOf: today, trigger: 'manual', log: () => {} });
  expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
  before = {
    month: await monthly(),
    people: await personNow(),
    nowRows: (await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n
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

  it('give a "now" indicator at least six monthly points on the board, and none where the past is not known', async () => {
    const board = await buildBoard(engine, db.pool, leader, leader.scope as Region, null);
    const of = (code: string) => board.indicators.find((i) => i.code === code)!;
    for (const code of ['P07', 'S03']) {
      expect(of(code).grain).toBe('now');
      expect(of(code).series.length, code).toBeGreaterThanOrEqual(6);
    }
    // R01 (alerts raised by engine runs, which ran only today) and C01 (today's certification status): one point, today's
    for (const code of ['R01', 'C01']) expect(of(code).series.length, code).toBe(1);
    // a past month shows the backfilled P07, and says C01 and R01 have a current value only
    const past = await buildBoard(engine, db.pool, leader, leader.scope as Region, monthEnds[monthEnds.length - 3].slice(0, 7));
    const pastOf = (code: string) => past.indicators.find((i) => i.code === code)!;
    expect(pastOf('P07').current_only).toBe(false);
    expect(pastOf('P07').value).not.toBeNull();
    for (const code of ['R01', 'C01']) {
      expect(pastOf(code).current_only, code).toBe(true);
      expect(pastOf(code).value, code).toBeNull();
    }
  });

  it('a past month equals a fresh run of the facts job as of its month-end on the same data, less what it cannot know', async () => {
    const monthEnd = monthEnds[Math.floor(monthEnds.length / 2)];
    const period = monthEnd.slice(0, 8) + '01';
    const stored = await snapshot(period);
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.every((r) => r.as_of === monthEnd)).toBe(true);
    expect(stored.some((r) => Number(r.reaching_retirement) > 0)).toBe(true);
    for (const r of stored) for (const c of NOT_KNOWN_IN_THE_PAST) expect(r[c], `${r.region_code} ${c}`).toBeNull();
    await buildIndicatorFacts(db.pool, monthEnd);
    const fresh = await snapshot(period);
    const keep = (rows: Record<string, unknown>[]) =>
      rows.map((r) => Object.fromEntries(['region_code', 'as_of', ...KNOWN].map((k) => [k, r[k]])));
    expect(keep(stored)).toEqual(keep(fresh));
    // and what it cannot know, a fresh run fills with today's state, not that month's (the reason it is NULL)
    expect(fresh.every((r) => NOT_KNOWN_IN_THE_PAST.every((c) => r[c] !== null))).toBe(true);
    await buildIndicatorFacts(db.pool, today);
  });

  it('a second backfill finds every month done and changes nothing', async () => {
    const n = (await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n;
    expect(n).toBeGreaterThan(before.nowRows);
    // the previous test's fresh run overwrote one month: put it back as the backfill left it
    await db.pool.query(`DELETE FROM ind_now_backfill WHERE period = $1::date`, [
      monthEnds[Math.floor(monthEnds.length / 2)].slice(0, 8) + '01'
    ]);
    expect((await backfillNowSnapshots(db.pool, { today })).monthEnds).toHaveLength(1);
    expect((await backfillNowSnapshots(db.pool, { today })).monthEnds).toEqual([]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ind_region_now`)).rows[0].n).toBe(n);
    expect(await monthly()).toEqual(before.month);
  });
});
