// Decisions of the workbench and what the engines and the cockpit make of them (issue 15): a false
// positive is not resurrected by re-running the engines unless its facts change; a suppression silences
// its rule for the person until it expires (at most 12 months, CHECK); a wrongful suspension is restored
// with exact back pay (four eyes); a recovery by offset and instalments reaches "recovered" and the
// cockpit's R07/R08/R09 facts read it; a write-off needs a second auditor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, insert, pay, person, pid } from './engines-helpers.ts';
import { versionOf, workbenchUsers } from './workbench-helpers.ts';
import { runDetectRisk } from '../jobs/engines/detect-risk.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { transitionAlert, type TransitionInput } from '../core/workflow/alerts.ts';
import { createSuppression, previewSuppression } from '../core/workflow/suppressions.ts';
import { recordRecovery } from '../core/workflow/recovery.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
let u: Awaited<ReturnType<typeof workbenchUsers>>;
const asOf = '2025-06-15';

beforeAll(async () => {
  db = await freshDatabase();
  u = await workbenchUsers(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

/** A person paid after a death recorded by one source: paid_after_death for 2025-03 … `lastPaid`. */
async function deceased(lastPaid: string, monthly = '3000.00'): Promise<string> {
  const id = pid('1941-03-03');
  await person(db.pool, id);
  await enroll(db.pool, id, 'ENT', { monthly_amount: monthly });
  await pay(db.pool, id, '2024-06', lastPaid, monthly);
  await insert(db.pool, 'deaths', [
    { record_id: `D-${id}`, id_number: id, death_date: '2025-02-10', source: 'health', recorded_at: '2025-04-25T10:00:00+08:00' }
  ]);
  return id;
}
const alertsOf = async (id: string) =>
  (
    await db.pool.query(
      `SELECT alert_id, status, disposition, amount_at_risk, array(SELECT to_char(x, 'YYYY-MM') FROM unnest(periods) x) AS periods
         FROM alerts WHERE id_number = $1 AND rule = 'paid_after_death' ORDER BY alert_id`,
      [id]
    )
  ).rows.map((r) => ({ ...r, alert_id: Number(r.alert_id) }));
const act = async (
  alertId: number,
  actor: TransitionInput['actor'],
  action: TransitionInput['action'],
  extra: Partial<TransitionInput> = {}
) => transitionAlert(db.pool, { alertId, action, actor, expectedVersion: await versionOf(db.pool, alertId), ...extra });

describe('false positives, suppressions and the engines', () => {
  let fp: string;
  let sup: string;
  it('never resurrects an alert dismissed as a false positive while its facts stay the same', async () => {
    fp = await deceased('2025-05');
    sup = await deceased('2025-05');
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    for (const id of [fp, sup]) {
      const [a] = await alertsOf(id);
      await act(a.alert_id, u.maker, 'close', { disposition: 'identity_mismatch', reason: '死亡记录身份比对错误' });
    }
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    await runDetectRisk(db.pool, { asOf, mode: 'full', rebuildScreens: true });
    expect(await alertsOf(fp)).toEqual([
      expect.objectContaining({
        status: 'closed',
        disposition: 'identity_mismatch',
        amount_at_risk: '9000.00',
        periods: ['2025-03', '2025-04', '2025-05']
      })
    ]);
  });

  it('raises it again when its facts change: a new period paid', async () => {
    await pay(db.pool, fp, '2025-06', '2025-06', '3000.00');
    await pay(db.pool, sup, '2025-06', '2025-06', '3000.00');
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    const a = await alertsOf(fp);
    expect(a).toHaveLength(2);
    expect(a[1]).toMatchObject({ status: 'new', amount_at_risk: '12000.00', periods: ['2025-03', '2025-04', '2025-05', '2025-06'] });
  });

  it('a suppression previews and closes the current alerts, and keeps the rule silent for the person until it expires', async () => {
    const [first, again] = await alertsOf(sup);
    expect(again.status).toBe('new');
    await expect(previewSuppression(db.pool, { sourceAlertId: again.alert_id, scope: 'person', actor: u.maker })).rejects.toMatchObject({
      status: 409,
      code: 'not_false_positive'
    });
    const p = await previewSuppression(db.pool, { sourceAlertId: first.alert_id, scope: 'person', actor: u.maker });
    expect(p).toEqual({ rule: 'paid_after_death', scope: 'person', alerts: 1, alertIds: [again.alert_id] });
    const far = new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10);
    const input = {
      sourceAlertId: first.alert_id,
      scope: 'person' as const,
      owner: 'auditor-a',
      reason: '同名误配，待公安更正',
      actor: u.maker
    };
    await expect(createSuppression(db.pool, { ...input, expiresOn: far })).rejects.toMatchObject({ status: 400, code: 'expiry_too_far' });
    await expect(createSuppression(db.pool, { ...input, owner: ' ', expiresOn: todayShanghai() })).rejects.toMatchObject({ status: 400 });
    const s = await createSuppression(db.pool, { ...input, expiresOn: new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10) });
    expect(s.closed).toEqual([again.alert_id]);
    // the database keeps the 12-month bound whoever writes
    await expect(
      db.pool.query(`UPDATE alert_suppressions SET expires_at = created_at + INTERVAL '13 months' WHERE suppression_id = $1`, [
        s.suppressionId
      ])
    ).rejects.toThrow(/alert_suppressions_expiry/);
    // more paid periods: still silent
    await pay(db.pool, sup, '2025-07', '2025-07', '3000.00');
    await runDetectRisk(db.pool, { asOf: '2025-07-15', mode: 'full' });
    expect((await alertsOf(sup)).map((x) => x.status)).toEqual(['closed', 'closed']);
    // expired (its months passed): changed facts raise it again
    await db.pool.query(
      `UPDATE alert_suppressions SET created_at = now() - INTERVAL '6 months', expires_at = now() - INTERVAL '1 day' WHERE suppression_id = $1`,
      [s.suppressionId]
    );
    await pay(db.pool, sup, '2025-08', '2025-08', '3000.00');
    await runDetectRisk(db.pool, { asOf: '2025-08-15', mode: 'full' });
    const after = await alertsOf(sup);
    expect(after.map((x) => x.status)).toEqual(['closed', 'closed', 'new']);
    expect(after[2].amount_at_risk).toBe('18000.00');
  });
});

describe('restore, recovery and the cockpit', () => {
  it('restores a wrongful suspension with the exact back pay, approved by a second auditor', async () => {
    const id = await deceased('2025-05', '2512.34');
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    const [a] = await alertsOf(id);
    await act(a.alert_id, u.maker, 'investigate');
    await act(a.alert_id, u.maker, 'propose', {
      disposition: 'paid_after_death',
      intentional: false,
      proposedAction: 'suspend',
      holdFrom: '2025-07',
      reason: '卫健死亡记录'
    });
    const ok = await act(a.alert_id, u.checker, 'approve');
    expect(ok.holdId).toBeGreaterThan(0);
    await act(a.alert_id, u.maker, 'take_action', { note: '已通知发放系统暂停' });
    // the payroll paid August anyway; July and September were held
    await pay(db.pool, id, '2025-08', '2025-08', '2512.34');
    await expect(act(a.alert_id, u.maker, 'restore', { reason: '核实健在', disposition: 'paid_after_death' })).rejects.toMatchObject({
      status: 400
    });
    const p = await act(a.alert_id, u.maker, 'restore', {
      reason: '本人到社区核实健在，死亡记录系误录',
      disposition: 'verified_alive',
      restoreThrough: '2025-09'
    });
    expect(p).toMatchObject({ pending: true, status: 'action_taken', backPay: '5024.68' });
    await expect(act(a.alert_id, u.maker, 'restore', { reason: '再次确认' })).rejects.toMatchObject({ status: 403, code: 'own_proposal' });
    const r = await act(a.alert_id, u.checker, 'restore', { reason: '复核同意' });
    expect(r).toMatchObject({ status: 'restored', backPay: '5024.68', pending: false });
    const rest = await db.pool.query(`SELECT back_pay, recorded_by, approved_by, periods FROM benefit_restorations WHERE alert_id = $1`, [
      a.alert_id
    ]);
    expect(rest.rows[0]).toMatchObject({ back_pay: '5024.68', recorded_by: 'auditor-a', approved_by: 'auditor-b' });
    expect(rest.rows[0].periods.map((x: { period: string; paid: string }) => `${x.period}:${x.paid}`)).toEqual([
      '2025-07:0.00',
      '2025-08:2512.34',
      '2025-09:0.00'
    ]);
    const h = await db.pool.query(`SELECT released_by, release_reason FROM payment_holds WHERE alert_id = $1`, [a.alert_id]);
    expect(h.rows[0]).toMatchObject({ released_by: 'auditor-b' });
  });

  let recovered: number;
  it('recovers by an offset and instalments to "recovered", refusing more than is outstanding', async () => {
    const id = await deceased('2025-05');
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    const [a] = await alertsOf(id);
    recovered = a.alert_id;
    await act(a.alert_id, u.maker, 'acknowledge');
    await act(a.alert_id, u.maker, 'propose', { disposition: 'paid_after_death', intentional: false, reason: '死亡后多发3个月' });
    await act(a.alert_id, u.checker, 'approve');
    const rec = (amount: string, method: 'cash' | 'offset' | 'instalment', extra = {}) =>
      recordRecovery(db.pool, { alertId: a.alert_id, amount, method, actor: u.maker, recoveredOn: todayShanghai(), ...extra });
    await expect(rec('1000.00', 'offset')).rejects.toMatchObject({ status: 400, code: 'missing_offset_against' });
    const r1 = await rec('1000.00', 'offset', { offsetAgainst: '丧葬补助金' });
    expect(r1.transitions.map((t) => t.status)).toEqual(['in_recovery']);
    expect(r1.ledger).toMatchObject({
      amount_due: '9000.00',
      recovered: '1000.00',
      outstanding: '8000.00',
      ledger_status: 'partly_recovered'
    });
    await rec('3000.00', 'instalment');
    await rec('3000.00', 'instalment');
    await expect(rec('2000.01', 'instalment')).rejects.toMatchObject({ status: 400, code: 'over_recovery' });
    await expect(rec('12.345', 'cash')).rejects.toMatchObject({ status: 400, code: 'invalid_amount' });
    await expect(recordRecovery(db.pool, { alertId: a.alert_id, amount: '1.00', method: 'cash', actor: u.staff })).rejects.toMatchObject({
      status: 403
    });
    const last = await rec('2000.00', 'instalment');
    expect(last.transitions.map((t) => t.status)).toEqual(['recovered']);
    expect(last.ledger).toMatchObject({
      recovered: '9000.00',
      offsets: '1000.00',
      instalments: 3,
      outstanding: '0.00',
      ledger_status: 'recovered',
      days_to_recover: 0
    });
    const s = await db.pool.query(`SELECT status, closed_at IS NOT NULL AS closed FROM alerts WHERE alert_id = $1`, [a.alert_id]);
    expect(s.rows[0]).toEqual({ status: 'recovered', closed: true });
  });

  it('a write-off needs a second auditor', async () => {
    const id = await deceased('2025-04');
    await runDetectRisk(db.pool, { asOf, mode: 'full' });
    const [a] = await alertsOf(id);
    await act(a.alert_id, u.maker, 'acknowledge');
    await act(a.alert_id, u.maker, 'propose', { disposition: 'paid_after_death', intentional: false, reason: '死亡后多发' });
    await act(a.alert_id, u.checker, 'approve');
    await recordRecovery(db.pool, { alertId: a.alert_id, amount: '500.00', method: 'cash', actor: u.maker });
    const p = await act(a.alert_id, u.checker, 'write_off', { reason: '家属无力偿还，经批准核销' });
    expect(p).toMatchObject({ pending: true, status: 'in_recovery' });
    await expect(db.pool.query(`UPDATE alerts SET status = 'written_off' WHERE alert_id = $1`, [a.alert_id])).rejects.toThrow(/four eyes/);
    const r = await act(a.alert_id, u.admin, 'write_off', { reason: '同意核销' });
    expect(r.status).toBe('written_off');
    const pr = await db.pool.query(`SELECT amount, made_by, checked_by, state FROM alert_proposals WHERE proposal_id = $1`, [p.proposalId]);
    expect(pr.rows[0]).toEqual({ amount: '5500.00', made_by: 'auditor-b', checked_by: 'admin-c', state: 'approved' });
  });

  it('the cockpit facts R07, R08 and R09 come from these dispositions', async () => {
    const today = todayShanghai();
    await buildIndicatorFacts(db.pool, today);
    const now = await db.pool.query(`SELECT sum(recovered_to_date) AS rec, sum(amount_due) AS due FROM ind_region_now WHERE as_of = $1`, [
      today
    ]);
    // recovered 9000 + 500 of due 9000 + 6000
    expect(now.rows[0].rec).toBe('9500.00');
    expect(now.rows[0].due).toBe('15000.00'); // R08 = 9500 / 15000: the restored alert owes nothing
    const restored = await db.pool.query(`SELECT disposition, amount_due FROM alerts WHERE status = 'restored'`);
    expect(restored.rows).toEqual([{ disposition: 'verified_alive', amount_due: null }]);
    const month = `${today.slice(0, 7)}-01`;
    const m = await db.pool.query(
      `SELECT sum(recovered_amount) AS r07, sum(alerts_closed)::int AS closed, sum(alert_days_sum) AS days FROM ind_region_month WHERE period = $1`,
      [month]
    );
    expect(m.rows[0].r07).toBe('9500.00');
    expect(m.rows[0].closed).toBeGreaterThanOrEqual(3); // two false positives, the suppressed one, recovered, written off
    expect(Number(m.rows[0].days)).toBeGreaterThanOrEqual(0);
    expect(recovered).toBeGreaterThan(0);
  });
});
