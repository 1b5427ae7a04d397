// The alert lifecycle is enforced by the database (migration 0021), from the one catalogue
// core/reference/alert-lifecycle.json: a status change the catalogue does not list is refused whoever
// attempts it, a closed alert names its disposition, every change bumps the version (optimistic
// locking), and the generated `active` column lists the same states as the catalogue's engine_active.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { alertDispositions, alertStates, alertTransitions } from '../core/reference/index.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function newAlert(): Promise<number> {
  const r = await db.pool.query(
    `INSERT INTO alerts (rule, id_number, dedup_key, severity, amount_at_risk)
     VALUES ('double_receipt', '110101194001010011', gen_random_uuid()::text, 'medium', 100) RETURNING alert_id`
  );
  return Number(r.rows[0].alert_id);
}
const move = (id: number, status: string, disposition: string | null = null) =>
  db.pool.query(`UPDATE alerts SET status = $2, disposition = COALESCE($3, disposition) WHERE alert_id = $1 RETURNING version`, [
    id,
    status,
    disposition
  ]);

describe('the alert lifecycle in the database', () => {
  it('loads the catalogue into the ref tables', async () => {
    const s = await db.pool.query(`SELECT count(*)::int AS n FROM ref_alert_states`);
    expect(s.rows[0].n).toBe(alertStates.length);
    const t = await db.pool.query(`SELECT count(*)::int AS n FROM ref_alert_transitions`);
    expect(t.rows[0].n).toBe(alertTransitions.reduce((n, x) => n + x.from.length, 0));
    const d = await db.pool.query(`SELECT code FROM ref_alert_dispositions ORDER BY code`);
    expect(d.rows.map((r) => r.code)).toEqual(alertDispositions.map((x) => x.code).sort());
  });

  it('computes alerts.active from the same states as the catalogue', async () => {
    const r = await db.pool.query(
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d
         JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'alerts'::regclass AND a.attname = 'active'`
    );
    const inExpr = [...String(r.rows[0].expr).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(inExpr).toEqual(
      alertStates
        .filter((s) => s.engine_active)
        .map((s) => s.status)
        .sort()
    );
  });

  it('refuses a jump the catalogue does not allow, and allows its steps', async () => {
    const id = await newAlert();
    await expect(move(id, 'approved')).rejects.toThrow(/new → approved is not an allowed transition/);
    await expect(move(id, 'recovered')).rejects.toThrow(/not an allowed transition/);
    const v = [];
    for (const s of ['acknowledged', 'investigating', 'proposed', 'approved', 'action_taken', 'in_recovery', 'recovered']) {
      // approve is a four-eyes step: the database wants a proposal a second person approved (migration 0025)
      if (s === 'approved')
        await db.pool.query(
          `INSERT INTO alert_proposals (alert_id, action, target_status, disposition, reason, snapshot, alert_version, made_by, made_role,
                                        state, checked_by, checked_role, checked_at)
           VALUES ($1, 'recovery', 'approved', 'paid_after_death', 'test', '{}', 4, 'maker', 'auditor', 'approved', 'checker', 'auditor', now())`,
          [id]
        );
      v.push((await move(id, s)).rows[0].version);
    }
    expect(v).toEqual([2, 3, 4, 5, 6, 7, 8]);
    await expect(move(id, 'new')).rejects.toThrow(/recovered → new/);
  });

  it('needs a known disposition to close, and a primary for a duplicate', async () => {
    const id = await newAlert();
    await expect(move(id, 'closed')).rejects.toThrow(/alerts_closed_has_disposition/);
    await expect(move(id, 'closed', 'no_such_reason')).rejects.toThrow(/unknown disposition no_such_reason/);
    await expect(move(id, 'closed', 'duplicate')).rejects.toThrow(/alerts_duplicate_names_primary/);
    await move(id, 'closed', 'verified_alive');
    const r = await db.pool.query(`SELECT status, disposition, active FROM alerts WHERE alert_id = $1`, [id]);
    expect(r.rows[0]).toEqual({ status: 'closed', disposition: 'verified_alive', active: false });
    // reopened: it is the engines' again
    await move(id, 'investigating');
    const o = await db.pool.query(`SELECT active FROM alerts WHERE alert_id = $1`, [id]);
    expect(o.rows[0].active).toBe(true);
  });

  it('starts every alert as new', async () => {
    await expect(
      db.pool.query(
        `INSERT INTO alerts (rule, id_number, severity, status) VALUES ('double_receipt', '110101194001010011', 'low', 'approved')`
      )
    ).rejects.toThrow(/starts as new/);
  });
});
