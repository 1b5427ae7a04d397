// Suppressions that expire (issue 15 §8): after an alert is closed as a false positive, an auditor may
// silence its rule for that person (or, for shared_account, that account) — with an owner, a reason and
// an expiry at most 12 months ahead (the database's CHECK says the same, migration 0025). The preview
// says how many current alerts it would close; creating it closes them through the transition service
// (same events). The risk engine's merge (sql/engines/alerts-merge.sql) opens no alert a live
// suppression covers.
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { audit } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { shanghaiIso } from '../time.ts';
import { refusePersonalData } from '../domain/free-text.ts';
import { alertDispositions } from '../reference/index.ts';
import { requireWorkbenchUser, transitionIn, type WorkbenchActor } from './alerts.ts';

export const SUPPRESSION_SCOPES = ['person', 'account'] as const;
export type SuppressionScope = (typeof SUPPRESSION_SCOPES)[number];
export const MAX_SUPPRESSION_MONTHS = 12;

export interface SuppressionInput {
  /** The alert closed as a false positive the suppression comes from. */
  sourceAlertId: number;
  scope: SuppressionScope;
  owner: string;
  /** 'YYYY-MM-DD' (end of that day, Asia/Shanghai), at most 12 months ahead. */
  expiresOn: string;
  reason: string;
  actor: WorkbenchActor;
}

async function target(db: Queryable, sourceAlertId: number, scope: string) {
  if (!(SUPPRESSION_SCOPES as readonly string[]).includes(scope))
    throw new HttpError(400, `scope must be one of ${SUPPRESSION_SCOPES.join(', ')}`, 'invalid_scope');
  const r = await db.query(`SELECT alert_id, rule, id_number, dedup_key, status, disposition FROM alerts WHERE alert_id = $1`, [
    sourceAlertId
  ]);
  const a = r.rows[0];
  if (!a) throw new HttpError(404, `no alert ${sourceAlertId}`, 'unknown_alert');
  const d = alertDispositions.find((x) => x.code === a.disposition);
  if (a.status !== 'closed' || d?.group !== 'false_positive')
    throw new HttpError(
      409,
      `alert ${sourceAlertId} is not closed as a false positive: only a false positive may be suppressed`,
      'not_false_positive'
    );
  if (scope === 'account' && a.rule !== 'shared_account')
    throw new HttpError(400, 'an account suppression is for the shared_account rule; suppress this one for the person', 'invalid_scope');
  return {
    rule: a.rule as string,
    subject: (scope === 'account' ? a.dedup_key : a.id_number) as string,
    disposition: a.disposition as string
  };
}

const COVERED = `a.active AND a.rule = $1 AND CASE WHEN $2 = 'account' THEN a.dedup_key = $3 ELSE a.id_number = $3 END`;

/** How many alerts the suppression would close now (its rule, open, for that person or account). */
export async function previewSuppression(
  db: Pool,
  input: { sourceAlertId: number; scope: SuppressionScope; actor: WorkbenchActor }
): Promise<{ rule: string; scope: string; alerts: number; alertIds: number[] }> {
  await requireWorkbenchUser(db, input.actor);
  const t = await target(db, input.sourceAlertId, input.scope);
  const r = await db.query(`SELECT a.alert_id FROM alerts a WHERE ${COVERED} ORDER BY a.alert_id`, [t.rule, input.scope, t.subject]);
  return { rule: t.rule, scope: input.scope, alerts: r.rowCount ?? 0, alertIds: r.rows.map((x) => Number(x.alert_id)) };
}

export async function createSuppression(
  db: Pool,
  input: SuppressionInput
): Promise<{ suppressionId: number; closed: number[]; expiresAt: string }> {
  return withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    const reason = input.reason?.trim();
    if (!reason) throw new HttpError(400, 'reason is required', 'missing_reason');
    const owner = input.owner?.trim();
    if (!owner) throw new HttpError(400, 'a suppression has an owner', 'missing_owner');
    refusePersonalData(reason);
    const t = await target(c, input.sourceAlertId, input.scope);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input.expiresOn ?? '')) throw new HttpError(400, 'expiresOn must be a date YYYY-MM-DD', 'invalid_date');
    const e = await c.query(
      `SELECT ($1::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' AS at,
              ($1::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' <= now() + make_interval(months => $2) AS within,
              $1::date >= (now() AT TIME ZONE 'Asia/Shanghai')::date AS future`,
      [input.expiresOn, MAX_SUPPRESSION_MONTHS]
    );
    if (!e.rows[0].future) throw new HttpError(400, 'the expiry must be today or later', 'expiry_past');
    if (!e.rows[0].within)
      throw new HttpError(400, `a suppression expires within ${MAX_SUPPRESSION_MONTHS} months at most`, 'expiry_too_far');
    const s = await c.query(
      `INSERT INTO alert_suppressions (rule, scope, subject, source_alert_id, disposition, reason, owner, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING suppression_id, expires_at`,
      [t.rule, input.scope, t.subject, input.sourceAlertId, t.disposition, reason, owner, who.user, e.rows[0].at]
    );
    const suppressionId = Number(s.rows[0].suppression_id);
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'alert.suppress', String(input.sourceAlertId), {
      role: who.role,
      suppression_id: suppressionId,
      rule: t.rule,
      scope: input.scope,
      owner,
      expires_at: shanghaiIso(s.rows[0].expires_at),
      reason
    });
    const covered = await c.query(`SELECT a.alert_id, a.version FROM alerts a WHERE ${COVERED} ORDER BY a.alert_id`, [
      t.rule,
      input.scope,
      t.subject
    ]);
    const closed: number[] = [];
    for (const x of covered.rows) {
      await transitionIn(c, {
        alertId: Number(x.alert_id),
        action: 'close',
        actor: input.actor,
        expectedVersion: x.version,
        disposition: t.disposition,
        reason: `suppressed (suppression ${suppressionId}): ${reason}`
      });
      closed.push(Number(x.alert_id));
    }
    return { suppressionId, closed, expiresAt: shanghaiIso(s.rows[0].expires_at) };
  });
}

export async function revokeSuppression(db: Pool, input: { suppressionId: number; actor: WorkbenchActor; reason: string }): Promise<void> {
  await withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    refusePersonalData(input.reason);
    const r = await c.query(
      `UPDATE alert_suppressions SET revoked_at = now(), revoked_by = $2 WHERE suppression_id = $1 AND revoked_at IS NULL RETURNING rule`,
      [input.suppressionId, who.user]
    );
    if (!r.rowCount) throw new HttpError(404, `no live suppression ${input.suppressionId}`, 'unknown_suppression');
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'alert.unsuppress', String(input.suppressionId), {
      role: who.role,
      reason: input.reason
    });
  });
}
