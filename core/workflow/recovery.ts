// The recovery ledger of confirmed alerts (issue 15 §7): money recovered in cash, by offset (e.g. against
// the funeral grant of an after-death case) or by instalments, recorded in `recoveries` against the
// amount due fixed when the alert was approved (alerts.amount_due). Reaching the amount due moves the
// alert to `recovered` through the same transition service, with the same events. Write-off and waiver
// are four-eyes transitions (transitionAlert: write_off / waive). The cockpit's R07/R08/R09 read these
// rows through indicator-facts and the semantic layer. Money is exact: strings in, numeric in SQL.
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { HttpError } from '../errors.ts';
import { refusePersonalData } from '../domain/free-text.ts';
import { todayShanghai } from '../time.ts';
import { audit } from '../audit.ts';
import { checkVersion, requireWorkbenchUser, transitionIn, type TransitionResult, type WorkbenchActor } from './alerts.ts';

export const RECOVERY_METHODS = ['cash', 'offset', 'instalment'] as const;
export type RecoveryMethod = (typeof RECOVERY_METHODS)[number];

export interface RecoveryInput {
  alertId: number;
  /** Yuan, at most two decimals: '1234.56'. */
  amount: string;
  method: RecoveryMethod;
  actor: WorkbenchActor;
  /** When the money came in (default today, Asia/Shanghai). */
  recoveredOn?: string;
  /** For an offset: what it was taken from. */
  offsetAgainst?: string;
  note?: string;
  /** The alert's version the actor saw, if any (the CLI records against the current one). */
  expectedVersion?: number;
}

export interface LedgerRow {
  alert_id: number;
  amount_due: string;
  recovered: string;
  offsets: string;
  instalments: number;
  outstanding: string;
  ledger_status: string;
  days_to_recover: number | null;
}

export async function ledgerOf(db: Queryable, alertId: number): Promise<LedgerRow | null> {
  const r = await db.query(
    `SELECT alert_id, amount_due, recovered, offsets, instalments::int, outstanding, ledger_status, days_to_recover
       FROM recovery_ledger WHERE alert_id = $1`,
    [alertId]
  );
  return r.rows[0] ? { ...r.rows[0], alert_id: Number(r.rows[0].alert_id) } : null;
}

/**
 * Record money recovered on an approved alert. An alert still `approved` or `action_taken` moves to
 * `in_recovery` first; when the total reaches the amount due it moves to `recovered`. More than what
 * is outstanding is refused (400).
 */
export async function recordRecovery(
  db: Pool,
  input: RecoveryInput
): Promise<{ recoveryId: number; ledger: LedgerRow; transitions: TransitionResult[] }> {
  return withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    if (!(RECOVERY_METHODS as readonly string[]).includes(input.method))
      throw new HttpError(400, `method must be one of ${RECOVERY_METHODS.join(', ')}`, 'invalid_method');
    const amount = String(input.amount ?? '').trim();
    if (!/^\d{1,12}(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0)
      throw new HttpError(400, `the amount must be a positive sum like 1234.56, got "${input.amount}"`, 'invalid_amount');
    const on = input.recoveredOn ?? todayShanghai();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(on) || Number.isNaN(Date.parse(on + 'T00:00:00Z')))
      throw new HttpError(400, `recoveredOn must be a date YYYY-MM-DD, got "${on}"`, 'invalid_date');
    if (on > todayShanghai()) throw new HttpError(400, 'recoveredOn lies in the future', 'future_date');
    refusePersonalData(input.note);
    refusePersonalData(input.offsetAgainst);
    if (input.method === 'offset' && !input.offsetAgainst?.trim())
      throw new HttpError(400, 'an offset says what it was taken from (offsetAgainst, e.g. the funeral grant)', 'missing_offset_against');
    const a = await c.query(
      `SELECT alert_id, status, version, amount_due, updated_by, updated_at FROM alerts WHERE alert_id = $1 FOR UPDATE`,
      [input.alertId]
    );
    if (!a.rowCount) throw new HttpError(404, `no alert ${input.alertId}`, 'unknown_alert');
    let alert = a.rows[0];
    if (alert.amount_due === null)
      throw new HttpError(
        409,
        `alert ${input.alertId} has no amount due: only an alert approved as improper with money lost is recovered`,
        'no_amount_due'
      );
    if (input.expectedVersion !== undefined) checkVersion(alert, input.expectedVersion);
    const transitions: TransitionResult[] = [];
    const version: number = alert.version;
    if (alert.status === 'approved' || alert.status === 'action_taken') {
      const t = await transitionIn(c, {
        alertId: input.alertId,
        action: 'start_recovery',
        actor: input.actor,
        expectedVersion: version,
        note: `recovery recorded: ${amount} (${input.method})`
      });
      transitions.push(t);
      alert = { ...alert, status: t.status, version: t.version };
    }
    if (alert.status !== 'in_recovery')
      throw new HttpError(
        409,
        `alert ${input.alertId} is ${alert.status}: money is recorded while it is approved or in recovery`,
        'not_in_recovery'
      );
    const out = await c.query(`SELECT outstanding FROM recovery_ledger WHERE alert_id = $1`, [input.alertId]);
    const over = await c.query(`SELECT $1::numeric > $2::numeric AS over`, [amount, out.rows[0].outstanding]);
    if (over.rows[0].over)
      throw new HttpError(
        400,
        `${amount} is more than the ${out.rows[0].outstanding} still outstanding on alert ${input.alertId}`,
        'over_recovery'
      );
    const r = await c.query(
      `INSERT INTO recoveries (alert_id, amount, recovered_on, recorded_by, note, method, offset_against)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING recovery_id`,
      [input.alertId, amount, on, who.user, input.note ?? null, input.method, input.offsetAgainst ?? null]
    );
    const recoveryId = Number(r.rows[0].recovery_id);
    // the ledger line is an event of the alert and of the audit log too
    await c.query(
      `INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, actor_role, reason, action, changes, note)
       VALUES ($1, 'in_recovery', 'in_recovery', $2, $3, NULL, 'record_recovery', $4, $5)`,
      [input.alertId, who.user, who.role, JSON.stringify({ recovered: [null, amount] }), `${input.method} ${amount} on ${on}`]
    );
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'alert.record_recovery', String(input.alertId), {
      role: who.role,
      recovery_id: recoveryId,
      amount,
      method: input.method,
      recovered_on: on,
      offset_against: input.offsetAgainst ?? null
    });
    const ledger = (await ledgerOf(c, input.alertId))!;
    if (ledger.outstanding === '0.00') {
      const cur = await c.query(`SELECT version FROM alerts WHERE alert_id = $1`, [input.alertId]);
      transitions.push(
        await transitionIn(c, {
          alertId: input.alertId,
          action: 'recover',
          actor: input.actor,
          expectedVersion: cur.rows[0].version,
          note: `amount due ${ledger.amount_due} recovered`
        })
      );
    }
    return { recoveryId, ledger: (await ledgerOf(c, input.alertId))!, transitions };
  });
}
