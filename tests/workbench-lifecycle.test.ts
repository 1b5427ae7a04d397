// The whole life of an alert through the workbench's services (issue 15): two auditors, a suspension
// proposed, self-approval refused by the service and by the database, a checker approves, the hold is
// exported, and the next payments feed still paying the held person raises hold_not_honoured.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';
import { versionOf, workbenchUsers } from './workbench-helpers.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';
import { exportDataset } from '../jobs/exports.ts';
import { ensureDemoAccounts } from '../core/demo-accounts.ts';
import { login } from '../core/accounts.ts';
import { transitionAlert, assignAlert, previewBulk, applyBulk, unmaskAlertPerson, type WorkbenchActor } from '../core/workflow/alerts.ts';

let db: TestDatabase;
let u: Awaited<ReturnType<typeof workbenchUsers>>;
const asOf = '2025-06-15';
let idPad: string;
let alertId: number;

beforeAll(async () => {
  db = await freshDatabase();
  u = await workbenchUsers(db.pool);
  idPad = pid('1940-05-05');
  await person(db.pool, idPad);
  await enroll(db.pool, idPad, 'ENT', { monthly_amount: '3000.00' });
  await pay(db.pool, idPad, '2024-01', '2025-05', '3000.00');
  await insert(db.pool, 'deaths', [
    { record_id: 'D-1', id_number: idPad, death_date: '2025-02-10', source: 'civil_affairs', recorded_at: '2025-04-25T10:00:00+08:00' }
  ]);
  await runDetectRisk(db.pool, { asOf, mode: 'full' });
  const r = await db.pool.query(`SELECT alert_id FROM alerts WHERE id_number = $1 AND rule = 'paid_after_death'`, [idPad]);
  alertId = Number(r.rows[0].alert_id);
});
afterAll(async () => {
  await db?.drop();
});

const act = (actor: WorkbenchActor, action: Parameters<typeof transitionAlert>[1]['action'], extra: Record<string, unknown> = {}) =>
  versionOf(db.pool, alertId).then((v) => transitionAlert(db.pool, { alertId, action, actor, expectedVersion: v, ...extra }));

describe('the life of an alert through the services', () => {
  it('acknowledges and assigns, refusing a stale version with who changed it and when', async () => {
    const v = await versionOf(db.pool, alertId);
    const r = await transitionAlert(db.pool, { alertId, action: 'acknowledge', actor: u.maker, expectedVersion: v });
    expect(r).toMatchObject({ status: 'acknowledged', version: v + 1, pending: false });
    await expect(assignAlert(db.pool, { alertId, assignee: 'auditor-a', actor: u.checker, expectedVersion: v })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/changed by auditor-a at \d{4}-\d\d-\d\d \d\d:\d\d — reload/)
    });
    const a = await assignAlert(db.pool, { alertId, assignee: 'auditor-a', actor: u.checker, expectedVersion: v + 1 });
    expect(a.version).toBe(v + 2);
    const ev = await db.pool.query(
      `SELECT action, actor, actor_role, changes, run_ids, rules_hash FROM alert_transitions WHERE alert_id = $1 ORDER BY transition_id`,
      [alertId]
    );
    expect(ev.rows.map((x) => x.action)).toEqual(['detect', 'acknowledge', 'assign']);
    expect(ev.rows[1]).toMatchObject({ actor: 'auditor-a', actor_role: 'auditor', changes: { status: ['new', 'acknowledged'] } });
    expect(ev.rows[1].run_ids.length).toBeGreaterThan(0);
    expect(ev.rows[1].rules_hash).toMatch(/^[0-9a-f]{12}$/);
    expect(ev.rows[2].changes).toEqual({ assignee: [null, 'auditor-a'] });
  });

  it('refuses a note with an ID number or a phone number', async () => {
    await expect(act(u.maker, 'investigate', { note: `家属说 ${idPad} 已去世` })).rejects.toMatchObject({
      status: 400,
      message: /身份证号/
    });
    await expect(act(u.maker, 'investigate', { note: '家属电话 13812345678' })).rejects.toMatchObject({
      status: 400,
      code: 'free_text_phone'
    });
    await act(u.maker, 'investigate', { note: '已联系社区核实' });
  });

  it('refuses staff and leader accounts, and a role claimed that the account does not have', async () => {
    for (const who of [u.staff, u.leader, { user: 'auditor-a', role: 'admin' }, { user: 'staff-d', role: 'auditor' }]) {
      await expect(act(who, 'await_agency')).rejects.toMatchObject({ status: 403 });
      await expect(
        assignAlert(db.pool, { alertId, assignee: null, actor: who, expectedVersion: await versionOf(db.pool, alertId) })
      ).rejects.toMatchObject({ status: 403 });
      await expect(previewBulk(db.pool, { alertIds: [alertId], action: 'acknowledge', actor: who })).rejects.toMatchObject({ status: 403 });
      await expect(applyBulk(db.pool, { alertIds: [alertId], action: 'acknowledge', actor: who })).rejects.toMatchObject({ status: 403 });
      await expect(unmaskAlertPerson(db.pool, { alertId, actor: who, reason: '核查' })).rejects.toMatchObject({ status: 403 });
    }
  });

  it('proposes a suspension; the maker cannot approve it, in the service or in the database', async () => {
    const stop = act(u.maker, 'propose', {
      disposition: 'paid_after_death',
      intentional: false,
      proposedAction: 'stop',
      reason: '民政死亡记录'
    });
    await expect(stop).rejects.toMatchObject({ status: 409, code: 'unconfirmed_source' });
    const p = await act(u.maker, 'propose', {
      disposition: 'paid_after_death',
      intentional: false,
      proposedAction: 'suspend',
      reason: '民政死亡记录，死亡后仍发放3个月',
      holdFrom: '2025-07'
    });
    expect(p).toMatchObject({ status: 'proposed', pending: false });
    await expect(act(u.maker, 'approve')).rejects.toMatchObject({ status: 403, message: /four eyes: you made proposal/ });
    // the database refuses it too, whatever calls it
    await expect(
      db.pool.query(
        `UPDATE alert_proposals SET state = 'approved', checked_by = made_by, checked_role = 'auditor', checked_at = now() WHERE proposal_id = $1`,
        [p.proposalId]
      )
    ).rejects.toThrow(/four eyes: auditor-a made proposal \d+ and cannot also approve/);
    await expect(db.pool.query(`UPDATE alerts SET status = 'approved' WHERE alert_id = $1`, [alertId])).rejects.toThrow(
      /needs a proposal approved by a second person/
    );
  });

  it('the checker approves: the disposition, the amount due and a payment hold', async () => {
    const r = await act(u.checker, 'approve', { note: '证据一致' });
    expect(r).toMatchObject({ status: 'approved' });
    expect(r.holdId).toBeGreaterThan(0);
    const a = await db.pool.query(`SELECT disposition, disposition_intentional, amount_due FROM alerts WHERE alert_id = $1`, [alertId]);
    expect(a.rows[0]).toEqual({ disposition: 'paid_after_death', disposition_intentional: false, amount_due: '9000.00' });
    const h = await db.pool.query(
      `SELECT id_number, scheme_codes, from_period, kind, source_confirmed, proposed_by, approved_by FROM payment_holds`
    );
    expect(h.rows).toEqual([
      {
        id_number: idPad,
        scheme_codes: ['ENT'],
        from_period: '2025-07-01',
        kind: 'suspend',
        source_confirmed: false,
        proposed_by: 'auditor-a',
        approved_by: 'auditor-b'
      }
    ]);
    await expect(db.pool.query(`UPDATE payment_holds SET kind = 'stop'`)).rejects.toThrow(/payment_holds_unconfirmed_suspends/);
  });

  it('exports the hold for the payroll system, from its first period on', async () => {
    const holds = async (period: string) => {
      let out = '';
      const sink = new Writable({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        }
      });
      await exportDataset(db.pool, 'payment-holds', { format: 'json', out: sink, unmask: true, period });
      return JSON.parse(out) as Record<string, string>[];
    };
    expect(await holds('2025-06')).toEqual([]);
    const july = await holds('2025-07');
    expect(july).toHaveLength(1);
    expect(july[0]).toMatchObject({
      id_number: idPad,
      schemes: 'ENT',
      from_period: '2025-07',
      kind: 'suspend',
      source_confirmed: 'false',
      rule: 'paid_after_death'
    });
    await expect(
      exportDataset(db.pool, 'payment-holds', { format: 'csv', out: new Writable({ write: (_c, _e, cb) => cb() }), period: '2025-13' })
    ).rejects.toThrow(/--period YYYY-MM/);
  });

  it('the next payments feed still paying the held person raises hold_not_honoured, linked to the alert', async () => {
    await runDetectRisk(db.pool, { asOf: '2025-07-20', mode: 'full' });
    expect((await db.pool.query(`SELECT 1 FROM alerts WHERE rule = 'hold_not_honoured'`)).rowCount).toBe(0);
    await pay(db.pool, idPad, '2025-07', '2025-07', '3000.00');
    await runDetectRisk(db.pool, { asOf: '2025-07-20', mode: 'full' });
    const r = await db.pool.query(
      `SELECT rule, severity, status, amount_at_risk, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x) AS periods, evidence, detail
         FROM alerts WHERE rule = 'hold_not_honoured'`
    );
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ severity: 'high', status: 'new', amount_at_risk: '3000.00', periods: ['2025-07'] });
    expect(r.rows[0].evidence.held_alert_ids).toEqual([alertId]);
    expect(r.rows[0].detail.held_alert_id).toBe(alertId);
    // the original alert is decided: the engines leave it alone
    const o = await db.pool.query(`SELECT status FROM alerts WHERE alert_id = $1`, [alertId]);
    expect(o.rows[0].status).toBe('approved');
  });

  it('bulk: previews how many alerts and which rules, acknowledges them, refuses suspension in bulk', async () => {
    const ids = (await db.pool.query(`SELECT alert_id FROM alerts ORDER BY alert_id`)).rows.map((x) => Number(x.alert_id));
    const p = await previewBulk(db.pool, { alertIds: ids, action: 'acknowledge', actor: u.admin });
    // hold_not_honoured, and paid_after_death again: the July payment grew its facts beyond the decided alert's
    expect(p.count).toBe(2);
    expect(p.rules).toEqual({ hold_not_honoured: 1, paid_after_death: 1 });
    expect(p.skipped).toEqual([{ alertId, reason: 'approved: cannot be acknowledged' }]);
    await expect(previewBulk(db.pool, { alertIds: ids, action: 'propose', actor: u.admin })).rejects.toMatchObject({ status: 400 });
    const r = await applyBulk(db.pool, { alertIds: ids, action: 'acknowledge', actor: u.admin });
    expect(r.done.map((x) => x.status)).toEqual(['acknowledged', 'acknowledged']);
    expect(r.refused).toHaveLength(1);
  });

  it('unmasks the person for an auditor and logs it', async () => {
    const r = await unmaskAlertPerson(db.pool, { alertId, actor: u.checker, reason: '核对身份' });
    expect(r.id_number).toBe(idPad);
    const a = await db.pool.query(`SELECT actor, detail FROM audit_log WHERE action = 'unmask.alert_person'`);
    expect(a.rows).toEqual([{ actor: 'auditor-b', detail: { role: 'auditor', alert_id: alertId, reason: '核对身份' } }]);
  });

  it('creates a second demo auditor, with a generated password like the other demo accounts', async () => {
    const logins = await ensureDemoAccounts(db.pool);
    const checker = logins.find((l) => l.username === 'demo-checker')!;
    expect(checker).toMatchObject({ role: 'auditor' });
    expect(checker.password).not.toBe(logins.find((l) => l.username === 'demo-auditor')!.password);
    const ok = await login(db.pool, 'demo-checker', checker.password, { ip: '10.0.0.2' });
    expect(ok.ok && ok.user.role).toBe('auditor');
  });
});
