// A reported death holds payments at once and puts a P1 item on the auditors' workbench (issue 16,
// point 7; migration 0034): suspend, never stop, until a department record confirms it; a second report
// joins the case without a second hold or item; the engines' merge keeps the item while the report
// stands; an auditor who finds the report wrong releases the hold through a recorded step; a department
// death record hands over to the after-death path. Real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';
import { versionOf, workbenchUsers } from './workbench-helpers.ts';
import { reportDeath } from '../core/workflow/death-reports.ts';
import { transitionAlert } from '../core/workflow/alerts.ts';
import { runAfterDeath, runDetectRisk } from '../jobs/engines/index.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
let users: Awaited<ReturnType<typeof workbenchUsers>>;
const asOf = todayShanghai();
const deceased = pid('1940-02-02');
const alive = pid('1941-03-03');
const reporter = pid('1968-04-04');

beforeAll(async () => {
  db = await freshDatabase();
  users = await workbenchUsers(db.pool);
  for (const id of [deceased, alive, reporter]) await person(db.pool, id);
  for (const id of [deceased, alive]) {
    await enroll(db.pool, id, 'ENT');
    await pay(db.pool, id, '2026-06', '2026-11', '3000.00');
  }
});
afterAll(async () => {
  await db?.drop();
});

const item = async (id: string) =>
  (
    await db.pool.query(
      `SELECT a.alert_id::int, a.status, a.severity, a.amount_at_risk::text, a.disposition, a.close_reason, a.dedup_key, s.priority
         FROM alerts a LEFT JOIN alert_sla s USING (alert_id) WHERE a.rule = 'reported_death' AND a.id_number = $1 ORDER BY a.alert_id`,
      [id]
    )
  ).rows;
const holds = async (id: string) =>
  (
    await db.pool.query(
      `SELECT hold_id::int, kind, origin, source_confirmed, scheme_codes, to_char(from_period, 'YYYY-MM-DD') AS from_period, case_id::int,
              released_at IS NOT NULL AS released, released_by, release_reason
         FROM payment_holds WHERE id_number = $1 ORDER BY hold_id`,
      [id]
    )
  ).rows;
const report = (id: string, who = '李四') =>
  reportDeath(db.pool, { id_number: id, reporter: who, relation: 'child', death_date: '2026-09-15', reporter_id: reporter });

describe('a reported death', () => {
  let caseId: number;
  it('holds payments at once (a suspension from the month after) and raises one P1 workbench item', async () => {
    const r = await report(deceased);
    expect(r).toMatchObject({ status: 'reported', created: true });
    caseId = r.case_id;
    expect(await item(deceased)).toEqual([
      expect.objectContaining({
        status: 'new',
        severity: 'critical',
        priority: 'P1',
        amount_at_risk: '6000.00',
        dedup_key: 'case:' + caseId
      })
    ]);
    expect(await holds(deceased)).toEqual([
      expect.objectContaining({
        kind: 'suspend',
        origin: 'death_report',
        source_confirmed: false,
        scheme_codes: ['ENT'],
        from_period: '2026-10-01',
        case_id: caseId,
        released: false
      })
    ]);
    // the pre-payroll check's list of holds now carries it
    const v = await db.pool.query(
      `SELECT scheme_code, to_char(valid_from, 'YYYY-MM-DD') AS f FROM payroll_person_holds WHERE id_number = $1`,
      [deceased]
    );
    expect(v.rows).toEqual([{ scheme_code: 'ENT', f: '2026-10-01' }]);
  });

  it('a second report of the same death joins the case: no second hold, no second item', async () => {
    const again = await report(deceased, '王五');
    expect(again).toMatchObject({ case_id: caseId, created: false });
    expect(await item(deceased)).toHaveLength(1);
    expect(await holds(deceased)).toHaveLength(1);
  });

  it('never stops on a single report, and is once per case — in the database too', async () => {
    const h = (await holds(deceased))[0];
    await expect(db.pool.query(`UPDATE payment_holds SET kind = 'stop' WHERE hold_id = $1`, [h.hold_id])).rejects.toThrow(
      /payment_holds_(unconfirmed_suspends|origin)/
    );
    await expect(
      db.pool.query(
        `INSERT INTO payment_holds (id_number, scheme_codes, from_period, kind, source_confirmed, alert_id, origin, case_id)
         SELECT id_number, scheme_codes, from_period, kind, source_confirmed, alert_id, origin, case_id FROM payment_holds WHERE hold_id = $1`,
        [h.hold_id]
      )
    ).rejects.toThrow(/payment_holds_one_per_report/);
  });

  it('the engines do not close the item while the report stands', async () => {
    const r = await runDetectRisk(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    expect((await item(deceased))[0]).toMatchObject({ status: 'new' });
    expect((await holds(deceased))[0]).toMatchObject({ released: false });
  });

  it('an auditor closes it only as a false positive; that releases the hold and closes the case, recorded', async () => {
    const r = await report(alive);
    const [a] = await item(alive);
    const v = await versionOf(db.pool, a.alert_id);
    await expect(
      transitionAlert(db.pool, {
        alertId: a.alert_id,
        action: 'close',
        actor: users.maker,
        expectedVersion: v,
        disposition: 'improper_no_loss'
      })
    ).rejects.toMatchObject({ code: 'reported_death_confirmed_by_record' });
    expect((await holds(alive))[0]).toMatchObject({ released: false });
    await transitionAlert(db.pool, {
      alertId: a.alert_id,
      action: 'close',
      actor: users.maker,
      expectedVersion: v,
      disposition: 'verified_alive',
      reason: 'the community saw him at home'
    });
    expect((await item(alive))[0]).toMatchObject({ status: 'closed', disposition: 'verified_alive' });
    expect((await holds(alive))[0]).toMatchObject({
      released: true,
      released_by: 'auditor-a',
      release_reason: `death report refuted (verified_alive, alert ${a.alert_id})`
    });
    const k = await db.pool.query(`SELECT status, close_reason FROM cases WHERE case_id = $1`, [r.case_id]);
    expect(k.rows[0]).toEqual({ status: 'closed', close_reason: 'report_refuted' });
    const t = await db.pool.query(`SELECT status FROM tasks WHERE case_id = $1`, [r.case_id]);
    expect(t.rows.map((x) => x.status)).toEqual(['cancelled']);
    const log = await db.pool.query(`SELECT detail FROM audit_log WHERE action = 'alert.close' AND subject = $1`, [String(a.alert_id)]);
    expect(log.rows[0].detail).toMatchObject({ case_id: r.case_id, released_hold_ids: [expect.any(Number)] });
    expect((await db.pool.query(`SELECT 1 FROM payroll_person_holds WHERE id_number = $1`, [alive])).rowCount).toBe(0);
  });

  it('a department death record confirms the case; the engines then close the item and the after-death path takes over', async () => {
    await insert(db.pool, 'deaths', [
      {
        record_id: 'DR1',
        id_number: deceased,
        death_date: '2026-09-15',
        source: 'public_security',
        recorded_at: '2026-10-02T10:00:00+08:00'
      }
    ]);
    const ad = await runAfterDeath(db.pool, { asOf, mode: 'full' });
    expect(ad.status, ad.error).toBe('ok');
    expect((await db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [caseId])).rows[0].status).toBe('open');
    // a confirmed death is not closed by hand as a false positive
    const [a] = await item(deceased);
    await expect(
      transitionAlert(db.pool, {
        alertId: a.alert_id,
        action: 'close',
        actor: users.maker,
        expectedVersion: await versionOf(db.pool, a.alert_id),
        disposition: 'verified_alive'
      })
    ).rejects.toMatchObject({ code: 'reported_death_not_pending' });
    const r = await runDetectRisk(db.pool, { asOf, mode: 'full' });
    expect(r.status, r.error).toBe('ok');
    expect((await item(deceased))[0]).toMatchObject({
      status: 'closed',
      disposition: 'basis_disappeared',
      close_reason: 'basis_disappeared: a department death record confirmed the report: the after-death case takes over'
    });
  });
});
