// Rule quality: the workbench's page (dashboard/lib/server/workbench/rules.ts) and the semantic
// layer's view audit_rule_quality (cube alert_quality) give the same figures, and those figures are
// the ones their definitions say, on alerts decided through the workflow service itself: one
// confirmed with money lost (four eyes) and partly recovered, one improper without loss, two false
// positives, one closed by the engines (no decision) and one still open.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { ROOT } from '../core/config.ts';
import { transitionAlert, type WorkbenchActor } from '../core/workflow/alerts.ts';
import { recordRecovery } from '../core/workflow/recovery.ts';
import { createSemanticEngine, type SemanticEngine } from '../semantic-layer/engine/index.ts';
import { ruleQuality } from '../dashboard/lib/server/workbench/rules.ts';
import { regionByCode, type Caller } from '../dashboard/lib/server/scope.ts';
import { CITY, COMMUNITY, versionOf, workbenchUsers } from './workbench-helpers.ts';

let db: TestDatabase;
let engine: SemanticEngine;
let users: Awaited<ReturnType<typeof workbenchUsers>>;
const ids: number[] = [];

async function alert(amount: string, n: number): Promise<number> {
  const r = await db.pool.query(
    `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk, periods, region_code)
     VALUES ('paid_after_death', $1, '', 'high', $2, '{2026-01-01,2026-02-01}', $3) RETURNING alert_id::int`,
    [`33068119400101${String(1000 + n)}`, amount, COMMUNITY]
  );
  return r.rows[0].alert_id;
}

async function step(id: number, actor: WorkbenchActor, action: Parameters<typeof transitionAlert>[1]['action'], extra = {}) {
  await transitionAlert(db.pool, { alertId: id, action, actor, expectedVersion: await versionOf(db.pool, id), ...extra });
}

beforeAll(async () => {
  db = await freshDatabase();
  users = await workbenchUsers(db.pool);
  for (const [i, amount] of ['1234.56', '300.00', '80.10', '99.99', '12.00', '7.77'].entries()) ids.push(await alert(amount, i));
  const [confirmed, noLoss, fp1, fp2, system] = ids;
  await step(confirmed, users.maker, 'acknowledge');
  await step(confirmed, users.maker, 'propose', {
    disposition: 'paid_after_death',
    intentional: false,
    reason: '核实属实',
    proposedAction: 'recovery'
  });
  await step(confirmed, users.checker, 'approve');
  await recordRecovery(db.pool, { alertId: confirmed, amount: '100.05', method: 'cash', actor: users.maker });
  await step(noLoss, users.maker, 'close', { disposition: 'improper_no_loss', reason: '违规无损失' });
  await step(fp1, users.maker, 'close', { disposition: 'verified_alive', reason: '本人健在' });
  await step(fp2, users.checker, 'close', { disposition: 'rule_timing', reason: '时点问题' });
  await db.pool.query(
    `UPDATE alerts SET status = 'closed', disposition = 'basis_disappeared', closed_at = now(), updated_by = 'system' WHERE alert_id = $1`,
    [system]
  );
  engine = createSemanticEngine({
    modelDir: path.join(ROOT, 'semantic-layer', 'model'),
    pool: db.pool,
    apiSecret: 'rules-test',
    log: () => {}
  });
}, 300_000);

afterAll(async () => {
  await db?.drop();
});

describe('rule quality', () => {
  it('counts what people decided: precision, false positives, money identified and recovered', async () => {
    const caller: Caller = {
      kind: 'staff',
      name: 'auditor-a',
      role: 'auditor',
      scope: (await regionByCode(db.pool, CITY))!,
      privacy: false
    };
    const q = await ruleQuality(db.pool, caller, 'paid_after_death');
    expect(q.raised).toBe(6);
    expect(q.open).toBe(1);
    expect(q.dispositioned).toBe(4); // the engines' basis_disappeared is no decision
    expect(q.confirmed).toBe(2);
    expect(q.precision).toBe(0.5);
    expect(Object.fromEntries(q.false_positives.filter((f) => f.n).map((f) => [f.code, f.n]))).toEqual({
      verified_alive: 1,
      rule_timing: 1
    });
    expect(q.false_positives.find((f) => f.code === 'verified_alive')!.follow_up).toBe('refresh_liveness_evidence');
    expect(q.identified).toBe('1234.56');
    expect(q.recovered).toBe('100.05');
    expect(Number(q.median_days_to_disposition)).toBe(0); // decided within seconds here

    // The semantic layer's view gives the same numbers for the same rule.
    const r = (await engine.load(
      {
        measures: [
          'audit_rule_quality.raised',
          'audit_rule_quality.open',
          'audit_rule_quality.dispositioned',
          'audit_rule_quality.confirmed',
          'audit_rule_quality.false_positives',
          'audit_rule_quality.precision',
          'audit_rule_quality.median_days_to_disposition',
          'audit_rule_quality.identified',
          'audit_rule_quality.recovered'
        ],
        dimensions: ['audit_rule_quality.rule']
      },
      { role: 'auditor', region_code: CITY, region_level: 'city', user: 'auditor-a', kind: 'staff' }
    )) as { data: Record<string, string | number | null>[] };
    expect(r.data).toHaveLength(1);
    const x = r.data[0];
    expect(x['audit_rule_quality.rule']).toBe('paid_after_death');
    expect(Number(x['audit_rule_quality.raised'])).toBe(q.raised);
    expect(Number(x['audit_rule_quality.open'])).toBe(q.open);
    expect(Number(x['audit_rule_quality.dispositioned'])).toBe(q.dispositioned);
    expect(Number(x['audit_rule_quality.confirmed'])).toBe(q.confirmed);
    expect(Number(x['audit_rule_quality.false_positives'])).toBe(2);
    expect(Number(x['audit_rule_quality.precision'])).toBe(q.precision);
    expect(Number(x['audit_rule_quality.median_days_to_disposition'])).toBe(Number(q.median_days_to_disposition));
    expect(Number(x['audit_rule_quality.identified']).toFixed(2)).toBe(q.identified);
    expect(Number(x['audit_rule_quality.recovered']).toFixed(2)).toBe(q.recovered);
  });

  it('an unknown rule is a 404', async () => {
    const caller: Caller = {
      kind: 'staff',
      name: 'auditor-a',
      role: 'auditor',
      scope: (await regionByCode(db.pool, CITY))!,
      privacy: false
    };
    await expect(ruleQuality(db.pool, caller, 'nope')).rejects.toMatchObject({ status: 404 });
  });
});
