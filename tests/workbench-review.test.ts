// What the auditors' queue keeps on the alert (migration 0032, issue 15 §4, §9, §15):
//  * "insufficient evidence" is a checker's decision with a re-review within 30 days (the catalogue's
//    review_days): closing with it alone is refused (service and database), a maker proposes, a
//    different checker approves, the approval sets the re-review date, the queue lists it under 待复核
//    with an SLA state (ok → reminder → breached, counted with the breaches), and reopening ends it;
//  * the money at risk before the next payroll (the queue's default order) is stored on the alert and
//    follows the person's enrollments without making a new version of the alert;
//  * the SLA clock kept per alert follows a calendar reload (alert_sla_refresh).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';
import { versionOf, workbenchUsers } from './workbench-helpers.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';
import { transitionAlert, type TransitionInput } from '../core/workflow/alerts.ts';
import { parseFilters, queuePage } from '../dashboard/lib/server/workbench/queue.ts';
import type { Caller } from '../dashboard/lib/server/scope.ts';
import { alertDispositions } from '../core/reference/index.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
let u: Awaited<ReturnType<typeof workbenchUsers>>;
let caller: Caller;

beforeAll(async () => {
  db = await freshDatabase();
  u = await workbenchUsers(db.pool);
  const city = (await db.pool.query(`SELECT code, name, level, path, parent_code FROM region_paths WHERE level = 'city'`)).rows[0];
  caller = { kind: 'staff', name: 'auditor-a', role: 'auditor', scope: city, privacy: false };
});
afterAll(async () => {
  await db?.drop();
});

/** A person paid after a death one source recorded: a paid_after_death alert. */
async function deceased(monthly: string): Promise<{ id: string; alertId: number }> {
  const id = pid('1942-04-04');
  await person(db.pool, id);
  await enroll(db.pool, id, 'ENT', { monthly_amount: monthly });
  await pay(db.pool, id, '2024-06', '2025-05', monthly);
  await insert(db.pool, 'deaths', [
    { record_id: `D-${id}`, id_number: id, death_date: '2025-02-10', source: 'health', recorded_at: '2025-04-25T10:00:00+08:00' }
  ]);
  await runDetectRisk(db.pool, { asOf: '2025-06-15', mode: 'full' });
  const r = await db.pool.query(`SELECT alert_id FROM alerts WHERE id_number = $1 AND rule = 'paid_after_death'`, [id]);
  return { id, alertId: Number(r.rows[0].alert_id) };
}
const act = async (
  alertId: number,
  actor: TransitionInput['actor'],
  action: TransitionInput['action'],
  extra: Partial<TransitionInput> = {}
) => transitionAlert(db.pool, { alertId, action, actor, expectedVersion: await versionOf(db.pool, alertId), ...extra });
const sla = async (alertId: number) =>
  (await db.pool.query(`SELECT sla_state, due_day::text, remind_day::text FROM alert_sla WHERE alert_id = $1`, [alertId])).rows[0];
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe('insufficient evidence: a checker, and a re-review within 30 days', () => {
  it('is refused as a one-person close, by the service and by the database', async () => {
    expect(alertDispositions.find((d) => d.code === 'insufficient_evidence')?.review_days).toBe(30);
    const { alertId } = await deceased('3000.00');
    await act(alertId, u.maker, 'investigate');
    await expect(act(alertId, u.maker, 'close', { disposition: 'insufficient_evidence' })).rejects.toMatchObject({
      status: 409,
      code: 'needs_four_eyes'
    });
    await expect(
      db.pool.query(`UPDATE alerts SET status = 'closed', disposition = 'insufficient_evidence' WHERE alert_id = $1`, [alertId])
    ).rejects.toThrow(/four eyes: alert \d+ can be decided as insufficient_evidence \(re-review in 30 days\)/);
    expect((await db.pool.query(`SELECT status, review_due FROM alerts WHERE alert_id = $1`, [alertId])).rows[0]).toEqual({
      status: 'investigating',
      review_due: null
    });
  });

  it('a maker proposes, the same person cannot approve, a checker does: re-review due in 30 days, shown and counted in the queue', async () => {
    const { alertId } = await deceased('2000.00');
    await act(alertId, u.maker, 'investigate');
    await act(alertId, u.maker, 'propose', { disposition: 'insufficient_evidence', reason: '死亡记录仅一个来源，待民政核实' });
    await expect(act(alertId, u.maker, 'approve')).rejects.toMatchObject({ status: 403, code: 'own_proposal' });
    await act(alertId, u.checker, 'approve');
    const today = todayShanghai();
    const a = (await db.pool.query(`SELECT status, disposition, review_due FROM alerts WHERE alert_id = $1`, [alertId])).rows[0];
    expect(a).toEqual({ status: 'approved', disposition: 'insufficient_evidence', review_due: addDays(today, 30) });
    expect(await sla(alertId)).toEqual({ sla_state: 'ok', due_day: addDays(today, 30), remind_day: addDays(today, 15) });

    // closed after the decision, it still waits for its re-review
    await act(alertId, u.maker, 'close');
    const review = await queuePage(db.pool, caller, parseFilters(new URLSearchParams('status=review')), null);
    expect(review.rows.map((r) => [r.alert_id, r.status, r.sla_state, r.due_day])).toEqual([[alertId, 'closed', 'ok', addDays(today, 30)]]);
    expect(review.total).toBe(1);
    expect((await queuePage(db.pool, caller, parseFilters(new URLSearchParams('')), null)).review).toBe(1);

    // the days pass (the date moved back as if decided 16, then 31 days ago): a reminder, then a breach
    await db.pool.query(`UPDATE alerts SET review_due = $2 WHERE alert_id = $1`, [alertId, addDays(today, 14)]);
    expect((await sla(alertId)).sla_state).toBe('reminder');
    const before = (await queuePage(db.pool, caller, parseFilters(new URLSearchParams('')), null)).breached;
    await db.pool.query(`UPDATE alerts SET review_due = $2 WHERE alert_id = $1`, [alertId, addDays(today, -1)]);
    expect((await sla(alertId)).sla_state).toBe('breached');
    expect((await queuePage(db.pool, caller, parseFilters(new URLSearchParams('')), null)).breached).toBe(before + 1);
    const breached = await queuePage(db.pool, caller, parseFilters(new URLSearchParams('status=review&sla=breached')), null);
    expect(breached.rows.map((r) => r.alert_id)).toEqual([alertId]);

    // the re-review reopens it: no re-review pending any more
    await act(alertId, u.checker, 'reopen', { reason: '复核：重新核查' });
    expect((await db.pool.query(`SELECT status, review_due FROM alerts WHERE alert_id = $1`, [alertId])).rows[0]).toEqual({
      status: 'investigating',
      review_due: null
    });
    expect((await queuePage(db.pool, caller, parseFilters(new URLSearchParams('status=review')), null)).total).toBe(0);
  });
});

describe('money before the next payroll, kept on the alert', () => {
  it('follows the enrollments (no new version of the alert) and orders the queue', async () => {
    const small = await deceased('1000.00');
    const big = await deceased('1500.00');
    const row = async (alertId: number) =>
      (await db.pool.query(`SELECT amount_at_risk, next_payroll, money_before_payroll, version FROM alerts WHERE alert_id = $1`, [alertId]))
        .rows[0];
    const s0 = await row(small.alertId);
    expect(s0.next_payroll).toBe('1000.00');
    expect(s0.money_before_payroll).toBe((Number(s0.amount_at_risk) + 1000).toFixed(2));
    // a second active enrollment raises what the next payroll pays; suspending both brings it to 0
    await enroll(db.pool, small.id, 'RES', { monthly_amount: '250.50' });
    expect((await row(small.alertId)).next_payroll).toBe('1250.50');
    await db.pool.query(`UPDATE enrollments SET status = 'suspended' WHERE id_number = $1`, [small.id]);
    const s1 = await row(small.alertId);
    expect(s1).toEqual({ ...s0, next_payroll: '0.00', money_before_payroll: s0.amount_at_risk });
    await db.pool.query(`DELETE FROM enrollments WHERE id_number = $1 AND status = 'suspended'`, [small.id]);
    expect((await row(small.alertId)).next_payroll).toBe('0.00');
    await db.pool.query(`UPDATE enrollments SET monthly_amount = 1600.00 WHERE id_number = $1`, [big.id]);
    const b = await row(big.alertId);
    expect(b.next_payroll).toBe('1600.00');

    // the default order: money before payroll, descending, and a keyset page continues it
    const first = await queuePage(db.pool, caller, parseFilters(new URLSearchParams('')), null);
    const money = first.rows.map((r) => Number(r.money_before_payroll));
    expect(money).toEqual([...money].sort((x, y) => y - x));
    const bigRow = first.rows.find((r) => r.alert_id === big.alertId)!;
    expect([bigRow.next_payroll, bigRow.money_before_payroll]).toEqual(['1600.00', b.money_before_payroll]);
  });
});

describe('the SLA clock kept per alert', () => {
  it('moves its due dates when the calendar is reloaded with a holiday', async () => {
    const r = await db.pool.query(
      `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, opened_at)
       VALUES ('double_receipt', '110101194001010011', 'clock-test', 'high', 100, '2026-09-28T10:00:00+08:00') RETURNING alert_id`
    );
    const id = Number(r.rows[0].alert_id);
    const dues = async () => (await db.pool.query(`SELECT ack_due::text, act_due::text FROM alert_sla WHERE alert_id = $1`, [id])).rows[0];
    // P2: 5 working days from Mon 28 Sep 2026 — 29, 30 Sep, 8, 9, 10 (a Saturday worked) Oct
    expect(await dues()).toEqual({ ack_due: '2026-10-10', act_due: '2026-10-10' });
    await db.pool.query(`UPDATE ref_calendar SET working = false WHERE day = '2026-09-29'`);
    expect(await db.pool.query(`SELECT alert_sla_refresh() AS n`)).toMatchObject({ rows: [{ n: expect.any(Number) }] });
    expect(await dues()).toEqual({ ack_due: '2026-10-12', act_due: '2026-10-12' });
    await db.pool.query(`UPDATE ref_calendar SET working = true WHERE day = '2026-09-29'`);
    await db.pool.query(`SELECT alert_sla_refresh()`);
    expect(await dues()).toEqual({ ack_due: '2026-10-10', act_due: '2026-10-10' });
  });
});

describe("the queue's SLA filter and breach count", () => {
  it('list exactly the alerts the view alert_sla puts in each state', async () => {
    const opened = async (rule: string, daysAgo: number) => {
      const r = await db.pool.query(
        `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, region_code, opened_at)
         VALUES ($1, '110101194001010011', gen_random_uuid()::text, 'high', 100, '330681001001', now() - make_interval(days => $2::int))
         RETURNING alert_id`,
        [rule, daysAgo]
      );
      const id = Number(r.rows[0].alert_id);
      await db.pool.query(
        `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, action, at) VALUES ($1, NULL, 'new', 'system', 'detect', now())`,
        [id]
      );
      return id;
    };
    await opened('double_receipt', 40); // breached
    await opened('abnormal_amount', 0); // ok
    const paused = await opened('double_receipt', 30);
    await act(paused, u.maker, 'acknowledge');
    await act(paused, u.maker, 'await_resident');
    const acted = await opened('paid_after_death', 60);
    await act(acted, u.maker, 'investigate');
    await act(acted, u.maker, 'close', { disposition: 'verified_alive' });
    const view = async (state: string) =>
      (await db.pool.query(`SELECT alert_id::int AS id FROM alert_sla WHERE sla_state = $1 ORDER BY 1`, [state])).rows.map((r) => r.id);
    for (const state of ['breached', 'reminder', 'ok', 'paused', 'met']) {
      const page = await queuePage(db.pool, caller, parseFilters(new URLSearchParams(`sla=${state}&status=all`)), null);
      expect(page.next, state).toBeNull();
      expect(
        page.rows.map((r) => r.alert_id).sort((x, y) => x - y),
        state
      ).toEqual(await view(state));
      for (const r of page.rows) expect(r.sla_state, state).toBe(state);
    }
    expect((await view('breached')).length).toBeGreaterThanOrEqual(2);
    expect(await view('paused')).toContain(paused);
    const all = await queuePage(db.pool, caller, parseFilters(new URLSearchParams('status=all')), null);
    expect(all.breached).toBe((await view('breached')).length);
  });
});
