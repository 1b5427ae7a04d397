// The governance board end to end on the tiny synthetic city: feeds → ingest → engines →
// indicator facts → semantic layer → /api/indicators' builder. Values are checked against the raw
// tables and the engines' outputs, ratios against their parts, and scoping against crafted areas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { refreshRollups } from '../jobs/rollups.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard, childValues, type Board } from '../dashboard/lib/server/indicators.ts';
import { peopleBehind, recentAlerts } from '../dashboard/lib/server/people.ts';
import { regionByCode, regionInScope, securityContext, type Caller } from '../dashboard/lib/server/scope.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let dir: string;
let asOf: string;
let city: Caller;
let board: Board;

const noLog = () => {};

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-board-'));
  const truth = await generateCity({ scale: 'tiny', seed: 7, outDir: dir });
  asOf = truth.asOf;
  await ingestInbox(db.pool, { inbox: dir });
  await refreshRollups(db.pool, { runId: 0, job: 'test', asOf: null, log: noLog, count: noLog });
  const all = await runAllEngines(db.pool, { asOf });
  expect(all.status).toBe('ok');
  await buildIndicatorFacts(db.pool, asOf);
  engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'test-secret',
    log: noLog
  });
  const r = await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city'`);
  city = { kind: 'staff', name: 'leader', role: 'leader', scope: r.rows[0], privacy: false };
  board = await buildBoard(engine, db.pool, city, city.scope, null);
}, 240_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ind = (b: Board, code: string) => b.indicators.find((i) => i.code === code)!;

describe('the governance board', () => {
  it('has all 41 indicators in family order, with values and statuses', () => {
    expect(board.indicators.map((i) => i.code)).toHaveLength(41);
    expect(board.indicators.map((i) => i.family).join('')).toMatch(/^P+A+C+R+S+H+$/);
    const noData = board.indicators.filter((i) => i.status === 'no_data').map((i) => i.code);
    // R09 needs closed alerts and R08 confirmed ones: none exist before an auditor works the queue.
    expect(noData.filter((c) => !['R08', 'R09'].includes(c))).toEqual([]);
  });

  it('offers the counter-metric next to R05 on the screen view: withdrawn records and restorations (issue 21)', async () => {
    const r = (await engine.load(
      { measures: ['screen_months.records_withdrawn', 'screen_months.restorations'] },
      securityContext(city)
    )) as { data: Record<string, string | number>[] };
    const facts = await db.pool.query(`SELECT sum(records_withdrawn)::int AS w, sum(restorations)::int AS r FROM ind_region_month`);
    const planted = await db.pool.query(
      `SELECT (SELECT count(*) FROM deaths WHERE status = 'withdrawn') + (SELECT count(*) FROM imprisonments WHERE status = 'withdrawn') AS n`
    );
    expect(Number(planted.rows[0].n)).toBeGreaterThan(0);
    expect(Number(r.data[0]['screen_months.records_withdrawn'])).toBe(facts.rows[0].w);
    expect(Number(r.data[0]['screen_months.restorations'])).toBe(facts.rows[0].r);
    expect(facts.rows[0].w).toBe(Number(planted.rows[0].n));
    expect(facts.rows[0].r).toBeGreaterThan(0);
  });

  it('says ok only for a judged indicator: without a bound, an indicator whose rules did not fire is neutral', () => {
    for (const i of board.indicators) {
      if (i.status === 'ok') expect(i.bounds, `${i.code} is green without a bound`).not.toBeNull();
      if (!i.bounds && i.value !== null && i.status !== 'warn' && i.status !== 'critical') expect(i.status, i.code).toBe('neutral');
    }
    // H01 (checkup completion, only a last-year rule) and P04 (no threshold) can never be green
    expect(['neutral', 'warn', 'no_data']).toContain(ind(board, 'H01').status);
    expect(ind(board, 'P04').status).toBe('neutral');
    // a fluctuation alarm, where one fired, says its change as well as its z
    for (const i of board.indicators.filter((x) => /异常波动/.test(x.reason_zh ?? ''))) {
      expect(i.reason_zh, i.code).toMatch(/较近12期中位数 [+−]/);
      expect(Math.abs(i.vsMedian ?? Infinity), i.code).toBeGreaterThanOrEqual(2);
    }
  });

  it("carries each indicator's fixed limits from the model (the coverage gauge draws them)", () => {
    const model = fs.readFileSync(path.join(ROOT, 'semantic-layer/model/cubes/region_now.yml'), 'utf8');
    const c01 = /indicator: C01[\s\S]*?thresholds: \{ bound: \{ below: \{ warn: (\d+), critical: (\d+) \} \} \}/.exec(model)!;
    expect(ind(board, 'C01').bounds).toEqual({ below: { warn: Number(c01[1]), critical: Number(c01[2]) } });
    expect(ind(board, 'A01').bounds ?? null).toBe(null);
  });

  it('shows the newest month with payments and its values equal the raw tables', async () => {
    const last = await db.pool.query(`SELECT to_char(max(period), 'YYYY-MM') AS p FROM payments WHERE status = 'paid'`);
    expect(board.period).toBe(last.rows[0].p);
    const paid = await db.pool.query(
      `SELECT sum(amount)::text AS s, count(*)::int AS n FROM payments WHERE status = 'paid' AND period = $1::date`,
      [board.period + '-01']
    );
    expect(ind(board, 'A01').exact).toBe(paid.rows[0].s);
    expect(ind(board, 'A03').value).toBe(paid.rows[0].n);
  });

  it("reports the engines' silent-certification rate and the open alerts", async () => {
    const cs = await db.pool.query(`SELECT count(*) FILTER (WHERE method = 'silent')::float / count(*) AS rate FROM cert_status c
      WHERE status = 'certified' AND id_number IN (SELECT id_number FROM ind_person_now WHERE recipient)`);
    expect(ind(board, 'C02').value).toBeCloseTo(100 * cs.rows[0].rate, 6);
    const al = await db.pool.query(`SELECT count(*)::int AS n FROM alerts WHERE rule = 'paid_after_death' AND active`);
    expect(al.rows[0].n).toBeGreaterThan(0);
    expect(ind(board, 'R01')).toMatchObject({ value: al.rows[0].n, status: 'critical' });
    expect(ind(board, 'R01').reason_en).toBe(`Value ${al.rows[0].n}, critical above 0`);
  });

  it('computes ratios from their parts at every level, never averaging children', async () => {
    const district = board.region.children[0];
    const d = await buildBoard(engine, db.pool, city, (await regionByCode(db.pool, district.code))!, board.period);
    const parts = await db.pool.query(
      `SELECT sum(aged80)::float AS old, sum(recipients)::float AS rec FROM ind_region_month WHERE period = $1::date AND district_code = $2`,
      [board.period + '-01', district.code]
    );
    expect(ind(d, 'P04').value).toBeCloseTo((100 * parts.rows[0].old) / parts.rows[0].rec, 9);
    const kids = await childValues(engine, db.pool, city, city.scope, 'P01', board.period);
    const sum = kids!.rows.reduce((s, r) => s + (r.value ?? 0), 0);
    const unknown = await db.pool.query(
      `SELECT recipients::float AS n FROM ind_region_month WHERE period = $1::date AND region_code = ''`,
      [board.period + '-01']
    );
    expect(sum + (unknown.rows[0]?.n ?? 0)).toBe(ind(board, 'P01').value);
  });

  it('lists the people behind a count, masked for leaders', async () => {
    const list = await peopleBehind(engine, db.pool, city, city.scope, 'C05', { offset: 0, limit: 10, unmask: false });
    expect(list.total).toBe(ind(board, 'C05').value);
    for (const p of list.rows) expect(p.id_number).toMatch(/^\d{4}\*{12}[\dX]{2}$/);
    await expect(peopleBehind(engine, db.pool, city, city.scope, 'C05', { offset: 0, limit: 10, unmask: true })).rejects.toThrow(
      /may not see/
    );
  });

  it('lets an auditor unmask, and writes that to the audit log', async () => {
    const auditor: Caller = { ...city, name: 'wang', role: 'auditor' };
    const list = await peopleBehind(engine, db.pool, auditor, city.scope, 'P01', { offset: 0, limit: 5, unmask: true });
    expect(list.masked).toBe(false);
    expect(list.rows[0].id_number).toMatch(/^\d{17}[\dX]$/);
    const log = await db.pool.query(`SELECT actor, action, subject FROM audit_log WHERE action = 'unmask.people'`);
    expect(log.rows).toEqual([{ actor: 'wang', action: 'unmask.people', subject: 'P01' }]);
  });

  it('keeps a district user inside their district', async () => {
    const [a, b] = board.region.children;
    const scoped: Caller = { kind: 'staff', name: 'staff', role: 'staff', scope: (await regionByCode(db.pool, a.code))!, privacy: false };
    await expect(regionInScope(db.pool, scoped, b.code)).rejects.toMatchObject({ status: 403, code: 'outside_scope' });
    await expect(regionInScope(db.pool, scoped, city.scope.code)).rejects.toThrow(/outside your area/);
    const own = await buildBoard(engine, db.pool, scoped, scoped.scope, board.period);
    const fromCity = await buildBoard(engine, db.pool, city, scoped.scope, board.period);
    expect(own.indicators.map((i) => i.value)).toEqual(fromCity.indicators.map((i) => i.value));
    // Even asking the builder for the city with a district scope returns only the district's rows.
    const sneaky = await buildBoard(engine, db.pool, scoped, city.scope, board.period);
    expect(ind(sneaky, 'P01').value).toBe(ind(own, 'P01').value);
    const alerts = await recentAlerts(engine, scoped, city.scope, 100);
    const inOwn = await db.pool.query(
      `SELECT count(*)::int AS n FROM alerts a JOIN person_regions p USING (id_number)
      WHERE a.active AND p.region_path LIKE $1`,
      [scoped.scope.path + '%']
    );
    expect(alerts.rows.length).toBe(Math.min(100, inOwn.rows[0].n));
  });

  it('in privacy mode the ticker counts alerts per rule and area and names nobody', async () => {
    // a kiosk token in privacy mode, and a public screen asking for it (?privacy=1)
    for (const caller of [{ ...city, privacy: true }, city]) {
      const r = await recentAlerts(engine, caller, city.scope, 100, { privacy: !caller.privacy });
      expect(r.rows.length).toBeGreaterThan(0);
      for (const a of r.rows) {
        expect(a.name).toBeNull();
        expect(a.opened_at).toBe('');
        expect(a.count).toBeGreaterThan(0);
      }
      // every active alert counted once, the amounts exact
      const total = await db.pool.query(`SELECT count(*)::int AS n, sum(amount_at_risk)::text AS amount FROM alerts WHERE active`);
      expect(r.rows.reduce((s, a) => s + a.count!, 0)).toBe(total.rows[0].n);
      const cents = r.rows.reduce((s, a) => s + Math.round(Number(a.amount_at_risk ?? 0) * 100), 0);
      expect(cents).toBe(Math.round(Number(total.rows[0].amount) * 100));
    }
  });

  it("sends the ticker's times with their offset: the same instant in any browser time zone", async () => {
    const alerts = await recentAlerts(engine, city, city.scope, 5);
    expect(alerts.rows.length).toBeGreaterThan(0);
    for (const a of alerts.rows) {
      expect(a.opened_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      const db0 = await db.pool.query(`SELECT floor(extract(epoch FROM opened_at) * 1000)::bigint AS ms FROM alerts WHERE alert_id = $1`, [
        a.alert_id
      ]);
      // the semantic layer sends milliseconds, cutting the database's microseconds (no rounding)
      expect(new Date(a.opened_at).getTime()).toBe(Number(db0.rows[0].ms));
    }
  });
});
