// The workbench's SLA (issue 15 §9): working days from the holiday catalogue (holidays-cn.json), priority
// per rule (alert-sla.json), the act deadline moved by working days spent awaiting the resident or an
// agency, P1 acting before the next payroll — one definition, the view alert_sla (migration 0025).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { alertSla, workingCalendar } from '../core/reference/index.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

async function alertOpened(rule: string, openedAt: string): Promise<number> {
  const r = await q(
    `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, opened_at) VALUES ($1, '110101194001010011', gen_random_uuid()::text, 'high', 100, $2)
     RETURNING alert_id`,
    [rule, openedAt]
  );
  const id = Number(r[0].alert_id);
  await q(
    `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, action, at) VALUES ($1, NULL, 'new', 'system', 'detect', $2)`,
    [id, openedAt]
  );
  return id;
}
async function step(id: number, from: string, to: string, at: string) {
  await q(`UPDATE alerts SET status = $2 WHERE alert_id = $1`, [id, to]);
  await q(
    `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, action, at) VALUES ($1, $2, $3, 'auditor-a', 'test', $4)`,
    [id, from, to, at]
  );
}

describe('SLA', () => {
  it('counts working days with the holidays and the adjusted working days', async () => {
    const r = await q(
      `SELECT yinling_add_working_days('2026-09-30', 1) AS national_day, yinling_add_working_days('2025-01-27', 1) AS spring_2025,
              yinling_add_working_days('2026-02-13', 1) AS saturday_worked, yinling_working_days('2026-10-01', '2026-10-12') AS oct,
              yinling_add_working_days('2029-01-05', 1) AS beyond_calendar`
    );
    expect(r[0]).toEqual({
      national_day: '2026-10-08',
      spring_2025: '2025-02-05',
      saturday_worked: '2026-02-14',
      oct: 3,
      beyond_calendar: '2029-01-08'
    });
    expect(workingCalendar().find((d) => d.day === '2026-10-10')).toEqual({ day: '2026-10-10', working: true });
    expect(alertSla.rules.hold_not_honoured).toBe('P1');
  });

  it('P2: acknowledge and act in 5 working days, the clock paused while awaiting the resident', async () => {
    const id = await alertOpened('double_receipt', '2026-09-28T10:00:00+08:00');
    await step(id, 'new', 'acknowledged', '2026-09-29T09:00:00+08:00');
    await step(id, 'acknowledged', 'awaiting_resident', '2026-10-08T09:00:00+08:00');
    await step(id, 'awaiting_resident', 'investigating', '2026-10-12T09:00:00+08:00');
    const [s] = await q(
      `SELECT priority, ack_due, act_due, paused_working_days, ack_breached, act_breached, sla_state FROM alert_sla WHERE alert_id = $1`,
      [id]
    );
    // 29, 30 Sep, 8, 9, 10 (a Saturday worked) Oct; +3 paused (8, 9, 10 Oct) → 12, 13, 14 Oct
    expect(s).toEqual({
      priority: 'P2',
      ack_due: '2026-10-10',
      act_due: '2026-10-14',
      paused_working_days: 3,
      ack_breached: false,
      act_breached: true,
      sla_state: 'breached'
    });
  });

  it('P1: acknowledge in 1 working day, act before the next payroll; a paused alert says so; met once acted', async () => {
    const id = await alertOpened('paid_after_death', '2026-09-20T10:00:00+08:00'); // a Sunday worked
    const [s] = await q(`SELECT priority, ack_due, act_due, sla_state FROM alert_sla WHERE alert_id = $1`, [id]);
    expect(s).toEqual({ priority: 'P1', ack_due: '2026-09-21', act_due: '2026-10-10', sla_state: 'breached' });
    await step(id, 'new', 'acknowledged', '2026-09-21T09:00:00+08:00');
    await step(id, 'acknowledged', 'awaiting_agency', '2026-09-22T09:00:00+08:00');
    expect((await q(`SELECT ack_breached, sla_state FROM alert_sla WHERE alert_id = $1`, [id]))[0]).toEqual({
      ack_breached: false,
      sla_state: 'paused'
    });
    await step(id, 'awaiting_agency', 'proposed', '2026-09-30T09:00:00+08:00');
    expect((await q(`SELECT act_breached, sla_state FROM alert_sla WHERE alert_id = $1`, [id]))[0]).toEqual({
      act_breached: false,
      sla_state: 'met'
    });
  });

  it('reminds at half time', async () => {
    const today = (await q(`SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date AS d`))[0].d as string;
    // P3: 10 working days to acknowledge; opened 6 working days ago → past half, not yet due
    const opened = (
      await q(`SELECT max(day) AS d FROM (SELECT day FROM ref_calendar WHERE working AND day < $1 ORDER BY day DESC LIMIT 6) x`, [today])
    )[0].d;
    const start = (
      await q(`SELECT min(day) AS d FROM (SELECT day FROM ref_calendar WHERE working AND day < $1 ORDER BY day DESC LIMIT 6) x`, [today])
    )[0].d;
    expect(opened).toBeTruthy();
    const id = await alertOpened('abnormal_amount', `${start}T10:00:00+08:00`);
    const [s] = await q(
      `SELECT sla_state, remind_day <= $2::date AS reminded, due_day >= $2::date AS not_due FROM alert_sla WHERE alert_id = $1`,
      [id, today]
    );
    expect(s).toEqual({ sla_state: 'reminder', reminded: true, not_due: true });
  });
});
