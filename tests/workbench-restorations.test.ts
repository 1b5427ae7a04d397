// A restoration owed for a withdrawn death record as a workbench item (issue 21 §3), on real PostgreSQL:
// the engine computes it from records delivered through the ingestion; one auditor proposes it exactly as
// computed, the same auditor cannot decide it, a second approves; the database refuses the same shortcuts
// on its own; a later run that changes what is owed brings the item back and blocks a stale approval.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { enroll, evidence, inboxDeliverer, pay, person, pid } from './engines-helpers.ts';
import { workbenchUsers } from './workbench-helpers.ts';
import { runAllEngines } from '../jobs/engines/index.ts';
import { decideRestoration, listRestorations, proposeRestoration } from '../core/workflow/restorations.ts';
import type { WorkbenchActor } from '../core/workflow/alerts.ts';

let db: TestDatabase;
let inbox: string;
let users: Awaited<ReturnType<typeof workbenchUsers>>;
let deliver: (feed: string, lines: string[]) => Promise<void>;
const id = pid('1944-03-03');
const KEY = { recordKind: 'death' as const, recordId: 'D-1', schemeCode: 'ENT' };
const DEATH_HEADER = 'record_id,id_number,death_date,source,recorded_at,status';

async function runAll(asOf: string): Promise<void> {
  const r = await runAllEngines(db.pool, { asOf, log: () => {} });
  expect(r.status, r.error ?? '').toBe('ok');
}
const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const item = async (actor: WorkbenchActor) => (await listRestorations(db.pool, { actor })).items.find((i) => i.recordId === 'D-1');

beforeAll(async () => {
  db = await freshDatabase();
  users = await workbenchUsers(db.pool);
  inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'yinling-wb-restorations-'));
  deliver = inboxDeliverer(db.pool, inbox);
  // recorded dead in March (not paid April–June), the record withdrawn in June, paid again from July
  await person(db.pool, id);
  await enroll(db.pool, id, 'ENT', { monthly_amount: '3125.50' });
  await pay(db.pool, id, '2024-01', '2025-03', '3125.50');
  await pay(db.pool, id, '2025-07', '2025-08', '3125.50');
  await evidence(db.pool, id, '2025-05-12', 'hospital_admission', 'HEALTH_HIS');
  await evidence(db.pool, id, '2025-08-20', 'hospital_discharge', 'HEALTH_HIS');
  await deliver('deaths', [DEATH_HEADER, `D-1,${id},2025-03-05,health,2025-03-20T10:00:00+08:00,`]);
  await runAll('2025-05-31');
  await deliver('deaths', [DEATH_HEADER, `D-1,${id},2025-03-05,health,2025-06-18T10:00:00+08:00,withdrawn`]);
  await runAll('2025-08-31');
});

afterAll(async () => {
  await db?.drop();
  if (inbox) fs.rmSync(inbox, { recursive: true, force: true });
});

describe('a restoration for a withdrawn death record, worked in the workbench', () => {
  it('is listed to propose with the exact back pay, the ID number masked', async () => {
    const { items, counts } = await listRestorations(db.pool, { actor: users.maker });
    expect(counts).toEqual({ to_propose: 1, awaiting_approval: 0, approved: 0 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      ...KEY,
      periods: ['2025-04', '2025-05', '2025-06'],
      backPay: '9376.50',
      state: 'to_propose',
      decision: null
    });
    expect(items[0].idNumber).not.toBe(id);
    expect(items[0].idNumber).toMatch(/\*/);
  });

  it('refuses staff and leaders, a proposal about figures nobody saw, and personal data in the note', async () => {
    for (const actor of [users.staff, users.leader])
      await expect(listRestorations(db.pool, { actor })).rejects.toMatchObject({ status: 403 });
    await expect(proposeRestoration(db.pool, { ...KEY, expectedBackPay: '6251.00', actor: users.maker })).rejects.toMatchObject({
      status: 409,
      code: 'stale_restoration'
    });
    await expect(
      proposeRestoration(db.pool, { ...KEY, expectedBackPay: '9376.50', note: `家属电话 13812345678`, actor: users.maker })
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      proposeRestoration(db.pool, { ...KEY, recordId: 'D-404', expectedBackPay: '9376.50', actor: users.maker })
    ).rejects.toMatchObject({ status: 404 });
    expect(await q(`SELECT count(*)::int AS n FROM restoration_decisions`)).toEqual([{ n: 0 }]);
  });

  it('four eyes: the proposer cannot approve, a second auditor can; every step is in the audit log', async () => {
    const p = await proposeRestoration(db.pool, { ...KEY, expectedBackPay: '9376.50', note: '医院记录证明在世', actor: users.maker });
    expect(p).toMatchObject({ backPay: '9376.50', periods: ['2025-04', '2025-05', '2025-06'] });
    expect((await item(users.maker))?.state).toBe('awaiting_approval');
    await expect(proposeRestoration(db.pool, { ...KEY, expectedBackPay: '9376.50', actor: users.checker })).rejects.toMatchObject({
      status: 409,
      code: 'already_proposed'
    });
    await expect(decideRestoration(db.pool, { decisionId: p.decisionId, outcome: 'approved', actor: users.maker })).rejects.toMatchObject({
      status: 403,
      code: 'four_eyes'
    });
    // the database refuses it on its own, whatever the caller
    await expect(
      db.pool.query(
        `UPDATE restoration_decisions SET outcome = 'approved', decided_by = proposed_by, decided_at = now() WHERE decision_id = $1`,
        [p.decisionId]
      )
    ).rejects.toThrow(/four_eyes/);
    await decideRestoration(db.pool, { decisionId: p.decisionId, outcome: 'approved', actor: users.checker });
    const it1 = await item(users.checker);
    expect(it1).toMatchObject({
      state: 'approved',
      decision: { outcome: 'approved', proposedBy: 'auditor-a', decidedBy: 'auditor-b', changed: false }
    });
    expect(it1?.decision?.decidedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    // decided once: neither the service nor the database lets it change or go
    await expect(
      decideRestoration(db.pool, { decisionId: p.decisionId, outcome: 'rejected', reason: '重复', actor: users.admin })
    ).rejects.toMatchObject({
      status: 409
    });
    await expect(db.pool.query(`UPDATE restoration_decisions SET back_pay = 1 WHERE decision_id = $1`, [p.decisionId])).rejects.toThrow(
      /cannot change/
    );
    await expect(db.pool.query(`DELETE FROM restoration_decisions`)).rejects.toThrow(/kept/);
    await expect(proposeRestoration(db.pool, { ...KEY, expectedBackPay: '9376.50', actor: users.admin })).rejects.toMatchObject({
      code: 'already_approved'
    });
    expect(
      await q(
        `SELECT actor, action, subject, detail->>'back_pay' AS back_pay FROM audit_log WHERE action LIKE 'restoration.%' ORDER BY audit_id`
      )
    ).toEqual([
      { actor: 'auditor-a', action: 'restoration.propose', subject: 'death:D-1', back_pay: '9376.50' },
      { actor: 'auditor-b', action: 'restoration.approve', subject: 'death:D-1', back_pay: '9376.50' }
    ]);
  });

  it('a later run that changes what is owed brings the item back, and a stale proposal cannot be approved', async () => {
    // June is paid after all (late back pay by the payroll system): two months owed now
    await pay(db.pool, id, '2025-06', '2025-06', '3125.50', { payment_id: 'LATE-2025-06' });
    await runAll('2025-08-31');
    const back = await item(users.maker);
    expect(back).toMatchObject({ state: 'to_propose', periods: ['2025-04', '2025-05'], backPay: '6251.00', decision: { changed: true } });
    const p = await proposeRestoration(db.pool, { ...KEY, expectedBackPay: '6251.00', actor: users.maker });
    // May paid too, before the checker gets to it: approving the old figures is refused
    await pay(db.pool, id, '2025-05', '2025-05', '3125.50', { payment_id: 'LATE-2025-05' });
    await runAll('2025-08-31');
    await expect(decideRestoration(db.pool, { decisionId: p.decisionId, outcome: 'approved', actor: users.checker })).rejects.toMatchObject(
      {
        status: 409,
        code: 'stale_restoration'
      }
    );
    await expect(decideRestoration(db.pool, { decisionId: p.decisionId, outcome: 'rejected', actor: users.checker })).rejects.toMatchObject(
      {
        status: 400,
        code: 'missing_reason'
      }
    );
    await decideRestoration(db.pool, {
      decisionId: p.decisionId,
      outcome: 'rejected',
      reason: '金额已变化，重新提议',
      actor: users.checker
    });
    expect(await item(users.maker)).toMatchObject({ state: 'to_propose', backPay: '3125.50', decision: { outcome: 'rejected' } });
  });
});
