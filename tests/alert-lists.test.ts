// Red numbers lead to their cases (issue 18.9): the list of alerts behind every R indicator holds
// exactly the alerts the indicator counts — R01–R04 as many alerts as the tile says, R06 their money at
// risk to the cent, R08 the money recovered over the decided alerts, R07 the alerts with a recovery in
// the month, R09 the alerts closed in the month, R05 the paid-after-death alerts of the deaths recorded
// in the month — in the whole city and in one district, names masked. Tiny city, engines, then an
// alert worked through the workbench service to recovery and another closed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { generateCity } from '../seeds/generator/index.ts';
import { ingestInbox } from '../jobs/ingest/index.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { ROOT } from '../core/config.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { buildBoard, type Board } from '../dashboard/lib/server/indicators.ts';
import { alertsBehind, recentAlerts } from '../dashboard/lib/server/people.ts';
import { regionByCode, type Caller, type Region } from '../dashboard/lib/server/scope.ts';
import { transitionAlert, type TransitionInput } from '../core/workflow/alerts.ts';
import { recordRecovery } from '../core/workflow/recovery.ts';
import { versionOf, workbenchUsers } from './workbench-helpers.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let dir: string;
let leader: Caller;
let district: Region;
let asOf: string;
const noLog = () => {};

const all = async (caller: Caller, region: Region, code: string, period: string | null = null) => {
  const first = await alertsBehind(engine, caller, region, code, { offset: 0, limit: 1000, period });
  return first;
};
const board = (region: Region, period: string | null = null): Promise<Board> => buildBoard(engine, db.pool, leader, region, period);
const value = (b: Board, code: string) => b.indicators.find((i) => i.code === code)!;

let recoveredAlert: number;
let closedAlert: number;
/** The month the board shows by default (the newest with payouts): the recovery and the closing happen in it. */
let shown: string;

beforeAll(async () => {
  db = await freshDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-alert-lists-'));
  const truth = await generateCity({ scale: 'tiny', seed: 11, outDir: dir });
  asOf = truth.asOf;
  await ingestInbox(db.pool, { inbox: dir });
  expect((await runAllEngines(db.pool, { asOf })).status).toBe('ok');
  const u = await workbenchUsers(db.pool);
  // Two paid-after-death alerts worked in the workbench: one to a recovery this month, one closed.
  const open = (
    await db.pool.query(`SELECT alert_id FROM alerts WHERE rule = 'paid_after_death' AND active ORDER BY alert_id LIMIT 2`)
  ).rows.map((r) => Number(r.alert_id));
  expect(open.length, 'the tiny city raises paid-after-death alerts').toBe(2);
  [recoveredAlert, closedAlert] = open;
  const act = async (
    alertId: number,
    actor: TransitionInput['actor'],
    action: TransitionInput['action'],
    extra: Partial<TransitionInput> = {}
  ) => transitionAlert(db.pool, { alertId, action, actor, expectedVersion: await versionOf(db.pool, alertId), ...extra });
  const last = await db.pool.query(`SELECT to_char(max(period), 'YYYY-MM') AS m FROM payments`);
  shown = last.rows[0].m;
  await act(recoveredAlert, u.maker, 'acknowledge');
  await act(recoveredAlert, u.maker, 'propose', { disposition: 'paid_after_death', intentional: false, reason: '死亡后多发' });
  await act(recoveredAlert, u.checker, 'approve');
  await recordRecovery(db.pool, { alertId: recoveredAlert, amount: '123.45', method: 'cash', actor: u.maker, recoveredOn: `${shown}-15` });
  await act(closedAlert, u.maker, 'close', { disposition: 'identity_mismatch', reason: '死亡记录身份比对错误' });
  // closed in the month shown (the workbench closes it now; the city's data end earlier)
  await db.pool.query(`UPDATE alerts SET closed_at = $2::date + time '10:00' WHERE alert_id = $1`, [closedAlert, `${shown}-20`]);
  await buildIndicatorFacts(db.pool, asOf);
  engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'test-secret',
    log: noLog
  });
  const c = await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city'`);
  leader = { kind: 'staff', name: 'leader-e', role: 'leader', scope: c.rows[0], privacy: false };
  // the district with the most active alerts
  const d = await db.pool.query(
    `SELECT rp.district_code FROM alerts a JOIN region_paths rp ON rp.code = a.region_code
      WHERE a.active AND rp.district_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`
  );
  district = (await regionByCode(db.pool, d.rows[0].district_code))!;
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the alerts behind the R numbers', () => {
  it('lists as many alerts as R01–R04 count, and R06 their money at risk to the cent, in the city and a district', async () => {
    for (const region of [leader.scope as Region, district]) {
      const b = await board(region);
      let nonZero = 0;
      for (const code of ['R01', 'R02', 'R03', 'R04']) {
        const list = await all(leader, region, code);
        expect(list.total, `${region.name} ${code}`).toBe(value(b, code).value);
        expect(list.rows.length, `${region.name} ${code}`).toBe(list.total);
        nonZero += list.total;
      }
      expect(nonZero, `${region.name} has alerts to list`).toBeGreaterThan(0);
      const r06 = await all(leader, region, 'R06');
      expect(Number(r06.amount).toFixed(2), `${region.name} R06`).toBe(Number(value(b, 'R06').exact ?? value(b, 'R06').value).toFixed(2));
      expect(r06.rows.map((r) => r.alert_id)).not.toContain(closedAlert);
    }
  });

  it('lists the decided alerts with the money recovered for R08, and this month’s recovery and closing for R07 and R09', async () => {
    const city = leader.scope as Region;
    const r08 = await all(leader, city, 'R08');
    const facts = await db.pool.query(`SELECT sum(recovered_to_date)::text AS r FROM ind_region_now WHERE as_of = $1::date`, [asOf]);
    expect(r08.amount).toBe(facts.rows[0].r);
    expect(r08.rows.map((r) => r.alert_id)).toContain(recoveredAlert);
    const b = await board(city);
    expect(b.period).toBe(shown);
    const r07 = await all(leader, city, 'R07');
    expect(r07.period).toBe(shown);
    expect(r07.rows.map((r) => r.alert_id)).toEqual([recoveredAlert]);
    expect(r07.amount).toBe('123.45');
    const r09 = await all(leader, city, 'R09');
    const closed = await db.pool.query(`SELECT sum(alerts_closed)::int AS n FROM ind_region_month WHERE period = $1::date`, [
      shown + '-01'
    ]);
    expect(r09.total).toBe(closed.rows[0].n);
    expect(r09.rows.map((r) => r.alert_id)).toContain(closedAlert);
    expect(r09.rows.find((r) => r.alert_id === closedAlert)).toMatchObject({
      status: 'closed',
      status_zh: expect.stringMatching(/\p{Script=Han}/u)
    });
  });

  it('lists for R05 the paid-after-death alerts of the deaths recorded in the month shown', async () => {
    const months = await db.pool.query(
      `SELECT to_char(rc.recorded_on, 'YYYY-MM') AS m, count(DISTINCT a.alert_id)::int AS n
         FROM risk_clock rc JOIN alerts a ON a.id_number = rc.id_number AND a.rule = 'paid_after_death'
        WHERE rc.event_kind = 'death' AND rc.recorded_on IS NOT NULL AND rc.recorded_on < ($1 || '-01')::date + interval '1 month'
        GROUP BY 1 ORDER BY n DESC, 1 DESC LIMIT 1`,
      [shown]
    );
    expect(months.rows.length, 'deaths recorded with alerts').toBe(1);
    const { m, n } = months.rows[0];
    const b = await board(leader.scope as Region, m);
    expect(b.period).toBe(m);
    const r05 = await all(leader, leader.scope as Region, 'R05', m);
    expect(r05.period).toBe(m);
    expect(r05.total).toBe(n);
    expect(new Set(r05.rows.map((r) => r.rule))).toEqual(new Set(['paid_after_death']));
  });

  it('masks every name and refuses indicators without such a list', async () => {
    const list = await all(leader, leader.scope as Region, 'R06');
    const names = await db.pool.query(`SELECT p.name FROM alerts a JOIN persons p USING (id_number) WHERE a.alert_id = ANY($1::bigint[])`, [
      list.rows.map((r) => r.alert_id)
    ]);
    const real = new Set(names.rows.map((r) => r.name));
    for (const r of list.rows) expect(real.has(r.name), `${r.name} is masked`).toBe(false);
    await expect(alertsBehind(engine, leader, leader.scope as Region, 'P01', { offset: 0, limit: 10 })).rejects.toMatchObject({
      status: 400,
      code: 'not_listable'
    });
  });

  it('tells each ticker row which R list holds it', async () => {
    const rows = (await recentAlerts(engine, leader, leader.scope as Region, 200)).rows;
    expect(rows.length).toBeGreaterThan(0);
    const expected: Record<string, string> = {
      paid_after_death: 'R01',
      paid_in_custody: 'R02',
      double_receipt: 'R03',
      abnormal_amount: 'R04',
      shared_account: 'R04'
    };
    for (const r of rows) expect(r.indicator, r.rule).toBe(expected[r.rule] ?? 'R06');
    // and the row is in that list
    const first = rows[0];
    const list = await all(leader, leader.scope as Region, first.indicator!);
    expect(list.rows.map((r) => r.alert_id)).toContain(first.alert_id);
  });
});
