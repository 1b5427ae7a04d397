// Withdrawn death and custody records (issue 21) on real PostgreSQL: a living person recorded dead in March
// (payments stopped April–June), the record withdrawn in June, payments resumed in July, hospital evidence in
// May and August. The records and their withdrawals arrive through the ingestion, as a department delivers
// them (the withdrawal is a correction: the valid version stays in row_history). After the runs: no open
// alert, certified silently, one restoration of exactly three months; the same with a custody record; a
// replay as of a date before the withdrawal still sees the record.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, inboxDeliverer, pay, person, pid } from './engines-helpers.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { exportDataset } from '../jobs/exports.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';

let db: TestDatabase;
let inbox: string;
let deliver: (feed: string, lines: string[]) => Promise<void>;

async function runAll(asOf: string): Promise<void> {
  const r = await runAllEngines(db.pool, { asOf, log: () => {} });
  expect(r.status, r.error ?? '').toBe('ok');
}

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

async function exportRows(name: string, format: 'csv' | 'json'): Promise<string> {
  let out = '';
  const sink = new Writable({
    write(chunk, _e, cb) {
      out += chunk.toString();
      cb();
    }
  });
  await exportDataset(db.pool, name, { format, out: sink, unmask: true });
  return out;
}

const ids: Record<string, string> = {};
const DEATH_HEADER = 'record_id,id_number,death_date,source,recorded_at,status';
const CUSTODY_HEADER = 'record_id,id_number,start_date,end_date,source,recorded_at,status';

beforeAll(async () => {
  db = await freshDatabase();
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-withdrawn-'));
  deliver = inboxDeliverer(db.pool, inbox);
  const p = db.pool;
  // dead: recorded dead in March, not paid April–June, paid again from July.
  // jailed: the same with a custody record. paid: custody recorded, paid anyway in April (an alert), withdrawn.
  for (const [key, birth] of [
    ['dead', '1944-03-03'],
    ['jailed', '1952-07-07'],
    ['paid', '1955-01-09']
  ] as const) {
    ids[key] = pid(birth);
    await person(p, ids[key]);
    await enroll(p, ids[key], 'ENT', { monthly_amount: '3125.50' });
    await pay(p, ids[key], '2024-01', '2025-03', '3125.50');
  }
  await pay(p, ids.dead, '2025-07', '2025-08', '3125.50');
  await pay(p, ids.jailed, '2025-07', '2025-08', '3125.50');
  await pay(p, ids.paid, '2025-04', '2025-08', '3125.50');
  for (const key of ['dead', 'jailed']) {
    await evidence(p, ids[key], '2025-05-12', 'hospital_admission', 'HEALTH_HIS');
    await evidence(p, ids[key], '2025-08-20', 'hospital_discharge', 'HEALTH_HIS');
  }
  await deliver('deaths', [DEATH_HEADER, `D-1,${ids.dead},2025-03-05,health,2025-03-20T10:00:00+08:00,`]);
  await deliver('imprisonments', [
    CUSTODY_HEADER,
    `I-1,${ids.jailed},2025-03-10,,prison,2025-03-20T10:00:00+08:00,valid`,
    `I-2,${ids.paid},2025-03-10,,court,2025-03-20T10:00:00+08:00,`
  ]);
  await runAll('2025-05-31');
});

afterAll(async () => {
  await db?.drop();
  if (inbox) fs.rmSync(inbox, { recursive: true, force: true });
});

describe('ingest of the status column', () => {
  it('stores empty as valid, matches the spelling case-insensitively and quarantines any other value', async () => {
    const id = pid('1950-02-02');
    await deliver('deaths', [
      DEATH_HEADER,
      `D-S1,${id},2025-01-05,health,2025-01-20T10:00:00+08:00,`,
      `D-S2,${id},2025-01-05,court,2025-01-21T10:00:00+08:00,Valid`,
      `D-S3,${id},2025-01-05,court,2025-01-22T10:00:00+08:00,revoked`
    ]);
    // a file without the column: every record valid
    await deliver('imprisonments', ['record_id,id_number,start_date,source', `I-S1,${id},2025-01-05,prison`]);
    expect(
      await q(
        `SELECT record_id, status FROM deaths WHERE id_number = $1 UNION ALL SELECT record_id, status FROM imprisonments WHERE id_number = $1 ORDER BY 1`,
        [id]
      )
    ).toEqual([
      { record_id: 'D-S1', status: 'valid' },
      { record_id: 'D-S2', status: 'valid' },
      { record_id: 'I-S1', status: 'valid' }
    ]);
    expect(await q(`SELECT line_no, reason_code, reason FROM quarantine WHERE feed = 'deaths'`)).toEqual([
      { line_no: 4, reason_code: 'unknown_enum', reason: 'status "revoked" is not one of valid, withdrawn' }
    ]);
    // re-delivering a record with the default spelled out changes nothing (no new version in the history)
    await deliver('deaths', [DEATH_HEADER, `D-S1,${id},2025-01-05,health,2025-01-20T10:00:00+08:00,valid`]);
    expect(await q(`SELECT count(*)::int AS n FROM row_history WHERE natural_key = 'D-S1'`)).toEqual([{ n: 0 }]);
    await db.pool.query(`DELETE FROM deaths WHERE id_number = $1`, [id]);
    await db.pool.query(`DELETE FROM imprisonments WHERE id_number = $1`, [id]);
  });
});

describe('withdrawn death and custody records', () => {
  it('before the withdrawal: the records negate and raise what they should', async () => {
    const cert = await q(`SELECT id_number, status, rule FROM cert_status WHERE id_number = ANY($1) ORDER BY id_number`, [
      Object.values(ids)
    ]);
    expect(Object.fromEntries(cert.map((r) => [r.id_number, r.rule]))).toEqual({
      [ids.dead]: 'negative_death',
      [ids.jailed]: 'negative_custody',
      [ids.paid]: 'negative_custody'
    });
    const alerts = await q(`SELECT id_number, rule, status FROM alerts ORDER BY id_number, rule`);
    expect(alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id_number: ids.dead, rule: 'post_death_activity' }),
        expect.objectContaining({ id_number: ids.paid, rule: 'paid_in_custody' })
      ])
    );
    expect(await q(`SELECT id_number, status FROM cases WHERE kind = 'after_death'`)).toEqual([{ id_number: ids.dead, status: 'open' }]);
    expect(await q(`SELECT count(*)::int AS n FROM restorations`)).toEqual([{ n: 0 }]);
  });

  it('after the withdrawal: no alert, certified silently, one restoration of exactly three months each', async () => {
    await deliver('deaths', [DEATH_HEADER, `D-1,${ids.dead},2025-03-05,health,2025-06-18T10:00:00+08:00,withdrawn`]);
    await deliver('imprisonments', [
      CUSTODY_HEADER,
      `I-1,${ids.jailed},2025-03-10,,prison,2025-06-18T10:00:00+08:00,withdrawn`,
      `I-2,${ids.paid},2025-03-10,,court,2025-06-25T10:00:00+08:00,WITHDRAWN`
    ]);
    // the valid versions stay in the history, like every correction
    expect(
      await q(
        `SELECT feed, natural_key, old_row->>'status' AS status FROM row_history WHERE feed IN ('deaths', 'imprisonments') ORDER BY 2`
      )
    ).toEqual([
      { feed: 'deaths', natural_key: 'D-1', status: 'valid' },
      { feed: 'imprisonments', natural_key: 'I-1', status: 'valid' },
      { feed: 'imprisonments', natural_key: 'I-2', status: 'valid' }
    ]);
    await runAll('2025-08-31');

    expect(await q(`SELECT count(*)::int AS n FROM alerts WHERE active`)).toEqual([{ n: 0 }]);
    const cert = await q(
      `SELECT id_number, status, method, rule, certified_at::text AS d FROM cert_status WHERE id_number = ANY($1) ORDER BY id_number`,
      [[ids.dead, ids.jailed]]
    );
    expect(cert).toEqual(
      [ids.dead, ids.jailed]
        .sort()
        .map((id) => ({ id_number: id, status: 'certified', method: 'silent', rule: 'strong_evidence', d: '2025-08-20' }))
    );
    // the death suspension is lifted
    expect(
      await q(`SELECT kind, reason FROM cert_events WHERE id_number = $1 AND kind IN ('suspension', 'resumption') ORDER BY kind`, [
        ids.dead
      ])
    ).toEqual([
      { kind: 'resumption', reason: 'certified' },
      { kind: 'suspension', reason: 'negative_death' }
    ]);

    const rest = await q(
      `SELECT record_kind, record_id, id_number, scheme_code, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x) AS periods, back_pay
         FROM restorations ORDER BY record_id`
    );
    expect(rest).toEqual([
      {
        record_kind: 'death',
        record_id: 'D-1',
        id_number: ids.dead,
        scheme_code: 'ENT',
        periods: ['2025-04', '2025-05', '2025-06'],
        back_pay: '9376.50'
      },
      {
        record_kind: 'custody',
        record_id: 'I-1',
        id_number: ids.jailed,
        scheme_code: 'ENT',
        periods: ['2025-04', '2025-05', '2025-06'],
        back_pay: '9376.50'
      }
    ]);
    // the after-death case is closed as withdrawn
    expect(await q(`SELECT status, close_reason FROM cases WHERE kind = 'after_death'`)).toEqual([
      { status: 'closed', close_reason: 'death_record_withdrawn' }
    ]);
    // the clock (and R05 built on it) leaves withdrawn records out
    expect(await q(`SELECT record_id FROM risk_clock`)).toEqual([]);
    // a retiree again: assigned to a community
    expect(await q(`SELECT count(*)::int AS n FROM community_assignments WHERE id_number = $1 AND ended_on IS NULL`, [ids.dead])).toEqual([
      { n: 1 }
    ]);
    // policy finds people: alive again, aged 80+, eligible for the elderly allowance
    expect(await q(`SELECT category FROM subsidy_matches WHERE id_number = $1 AND project_code = 'AGE80'`, [ids.dead])).toEqual([
      { category: 'eligible_not_receiving' }
    ]);
  });

  it('closes the alerts that rested only on the withdrawn records as source_data_error, by the system', async () => {
    const closed = await q(
      `SELECT a.id_number, a.rule, a.status, a.disposition, t.actor, t.action, t.reason
         FROM alerts a JOIN alert_transitions t ON t.alert_id = a.alert_id AND t.to_status = 'closed' ORDER BY a.id_number, a.rule`
    );
    expect(closed).toEqual(
      [
        {
          id_number: ids.dead,
          rule: 'post_death_activity',
          status: 'closed',
          disposition: 'source_data_error',
          actor: 'system',
          action: 'system_close',
          reason: 'source_data_error: the death record was withdrawn by its department'
        },
        {
          id_number: ids.paid,
          rule: 'paid_in_custody',
          status: 'closed',
          disposition: 'source_data_error',
          actor: 'system',
          action: 'system_close',
          reason: 'source_data_error: the custody record was withdrawn by its department'
        }
      ].sort((a, b) => a.id_number.localeCompare(b.id_number))
    );
  });

  it('exports the restorations with exact back pay, CSV and JSON', async () => {
    const json = JSON.parse(await exportRows('restorations', 'json'));
    expect(json).toEqual(
      [
        {
          id_number: ids.dead,
          record_id: 'D-1',
          scheme_code: 'ENT',
          periods: '2025-04;2025-05;2025-06',
          back_pay: '9376.50',
          as_of: '2025-08-31'
        },
        {
          id_number: ids.jailed,
          record_id: 'I-1',
          scheme_code: 'ENT',
          periods: '2025-04;2025-05;2025-06',
          back_pay: '9376.50',
          as_of: '2025-08-31'
        }
      ].sort((a, b) => a.id_number.localeCompare(b.id_number))
    );
    const csv = (await exportRows('restorations', 'csv')).trim().split('\n');
    expect(csv[0]).toBe('id_number,record_id,scheme_code,periods,back_pay,as_of');
    expect(csv).toContain(`${ids.dead},D-1,ENT,2025-04;2025-05;2025-06,9376.50,2025-08-31`);
    // a record id a department sent as a formula stays text in a spreadsheet
    await db.pool.query(
      `INSERT INTO restorations (record_kind, record_id, id_number, scheme_code, periods, back_pay, withdrawn_on, as_of)
       VALUES ('death', '=HYPERLINK("http://x")', $1, 'RES', '{2025-04-01}', 100.00, '2025-06-18', '2025-08-31')`,
      [ids.jailed]
    );
    try {
      expect(await exportRows('restorations', 'csv')).toContain(`,"'=HYPERLINK(""http://x"")",RES,2025-04,100.00,`);
    } finally {
      await db.pool.query(`DELETE FROM restorations WHERE scheme_code = 'RES'`);
    }
  });

  it('counts withdrawn records and restorations next to R05', async () => {
    await buildIndicatorFacts(db.pool, '2025-08-31');
    expect(
      await q(`SELECT to_char(period, 'YYYY-MM') AS period, sum(records_withdrawn)::int AS withdrawn, sum(restorations)::int AS restorations,
                      sum(deaths_recorded)::int AS deaths
                 FROM ind_region_month WHERE records_withdrawn > 0 OR restorations > 0 OR deaths_recorded > 0 GROUP BY 1 ORDER BY 1`)
    ).toEqual([{ period: '2025-06', withdrawn: 3, restorations: 2, deaths: 0 }]);
  });

  it('a replay as of a date before the withdrawal still sees the records', async () => {
    await runAll('2025-06-10');
    // the closed alerts stay closed: the replay finds their facts again, but they were decided
    expect(await q(`SELECT count(*)::int AS n FROM alerts WHERE active`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM alerts`)).toEqual([{ n: 2 }]);
    const cert = await q(`SELECT id_number, rule FROM cert_status WHERE id_number = ANY($1) ORDER BY id_number`, [[ids.dead, ids.jailed]]);
    expect(Object.fromEntries(cert.map((r) => [r.id_number, r.rule]))).toEqual({
      [ids.dead]: 'negative_death',
      [ids.jailed]: 'negative_custody'
    });
    expect(await q(`SELECT count(*)::int AS n FROM restorations`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM subsidy_matches WHERE id_number = $1`, [ids.dead])).toEqual([{ n: 0 }]);
    expect((await q(`SELECT record_id FROM risk_clock ORDER BY 1`)).map((r) => r.record_id)).toEqual(['D-1', 'I-1', 'I-2']);
    await buildIndicatorFacts(db.pool, '2025-06-10');
    expect(await q(`SELECT sum(records_withdrawn)::int AS n FROM ind_region_month`)).toEqual([{ n: 0 }]);
    // and the latest date gives the restored state again
    await runAll('2025-08-31');
    expect(await q(`SELECT rule FROM cert_status WHERE id_number = $1`, [ids.dead])).toEqual([{ rule: 'strong_evidence' }]);
    expect(await q(`SELECT record_id, back_pay FROM restorations ORDER BY 1`)).toEqual([
      { record_id: 'D-1', back_pay: '9376.50' },
      { record_id: 'I-1', back_pay: '9376.50' }
    ]);
  });
  it('a record delivered already withdrawn (no valid version in the history) is in force before its withdrawal only', async () => {
    const id = pid('1949-09-09');
    await person(db.pool, id);
    await enroll(db.pool, id, 'ENT', { monthly_amount: '2000.10' });
    await pay(db.pool, id, '2024-01', '2025-03', '2000.10');
    await pay(db.pool, id, '2025-07', '2025-08', '2000.10');
    await evidence(db.pool, id, '2025-08-20', 'hospital_discharge', 'HEALTH_HIS');
    await deliver('deaths', [DEATH_HEADER, `D-9,${id},2025-03-05,court,2025-06-18T10:00:00+08:00,withdrawn`]);
    await runAll('2025-06-10');
    expect(await q(`SELECT rule FROM cert_status WHERE id_number = $1`, [id])).toEqual([{ rule: 'negative_death' }]);
    await runAll('2025-08-31');
    expect(await q(`SELECT rule FROM cert_status WHERE id_number = $1`, [id])).toEqual([{ rule: 'strong_evidence' }]);
    // arrival unknown: from the month after the death
    expect(
      await q(
        `SELECT array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x) AS periods, back_pay FROM restorations WHERE id_number = $1`,
        [id]
      )
    ).toEqual([{ periods: ['2025-04', '2025-05', '2025-06'], back_pay: '6000.30' }]);
  });
});
