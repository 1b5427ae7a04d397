// Restorations owed for withdrawn death and custody records, as workbench items (issue 21 §3). The risk
// engine computes what is owed (sql/engines/restorations.sql → table `restorations`, one row per record
// and scheme: the unpaid periods and the exact back pay); paying it back is a four-eyes decision like every
// restore: one auditor proposes the restoration exactly as computed, a different one approves or rejects
// it. The database says the same (migration 0033: CHECK decided_by <> proposed_by, decisions final).
// A decision is about the figures it saw: if a later run computes different periods or another amount,
// the item is back to be proposed again ("changed"), and a waiting proposal can no longer be approved.
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { audit } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { refusePersonalData } from '../domain/free-text.ts';
import { maskIdNumber } from '../domain/masking.ts';
import { shanghaiIsoSql } from '../time.ts';
import { requireWorkbenchUser, type WorkbenchActor } from './alerts.ts';

/** Where an item stands: to propose (new, rejected, or changed since approval), waiting for a checker, approved. */
export const RESTORATION_STATES = ['to_propose', 'awaiting_approval', 'approved'] as const;
export type RestorationState = (typeof RESTORATION_STATES)[number];

export interface RestorationKey {
  recordKind: 'death' | 'custody';
  recordId: string;
  schemeCode: string;
}

export interface RestorationItem extends RestorationKey {
  /** Masked unless the caller asked for the unmasked number (and logged it). */
  idNumber: string;
  regionCode: string | null;
  /** 'YYYY-MM', in order. */
  periods: string[];
  /** Exact yuan, as a decimal string. */
  backPay: string;
  arrivedOn: string | null;
  withdrawnOn: string;
  asOf: string;
  state: RestorationState;
  /** The latest decision about this restoration, if any. */
  decision: {
    id: number;
    outcome: 'approved' | 'rejected' | null;
    proposedBy: string;
    proposedAt: string;
    decidedBy: string | null;
    decidedAt: string | null;
    reason: string | null;
    note: string | null;
    backPay: string;
    periods: string[];
    /** The engine's figures differ from the ones the decision was about. */
    changed: boolean;
  } | null;
}

const MONTHS = (col: string) => `array(SELECT to_char(x, 'YYYY-MM') FROM unnest(${col}) x ORDER BY x)`;
/** The actor's area: a city-wide account sees everything, anyone else the restorations of people in their area. */
const IN_AREA = (col: string, param: number) =>
  `(NOT EXISTS (SELECT 1 FROM region_paths u WHERE u.code = $${param} AND u.level <> 'city')
    OR EXISTS (SELECT 1 FROM region_paths rp JOIN region_paths u ON u.code = $${param}
                WHERE rp.code = ${col} AND rp.path LIKE u.path || '%'))`;

const ITEMS_SQL = (where: string) => `
  SELECT r.record_kind, r.record_id, r.scheme_code, r.id_number, r.region_code, ${MONTHS('r.periods')} AS periods,
         r.back_pay::text AS back_pay, r.arrived_on::text AS arrived_on, r.withdrawn_on::text AS withdrawn_on, r.as_of::text AS as_of,
         d.decision_id, d.outcome, d.proposed_by, ${shanghaiIsoSql('d.proposed_at')} AS proposed_at, d.decided_by,
         CASE WHEN d.decided_at IS NOT NULL THEN ${shanghaiIsoSql('d.decided_at')} END AS decided_at, d.decision_reason, d.note,
         d.back_pay::text AS d_back_pay, ${MONTHS('d.periods')} AS d_periods,
         (d.decision_id IS NOT NULL AND (d.back_pay <> r.back_pay OR d.periods <> r.periods)) AS changed
    FROM restorations r
    LEFT JOIN LATERAL (
      SELECT * FROM restoration_decisions x
       WHERE (x.record_kind, x.record_id, x.scheme_code) = (r.record_kind, r.record_id, r.scheme_code)
       ORDER BY x.decision_id DESC LIMIT 1) d ON true
   WHERE ${IN_AREA('r.region_code', 1)} ${where}
   ORDER BY r.withdrawn_on DESC, r.record_kind, r.record_id, r.scheme_code`;

function stateOf(row: Record<string, unknown>): RestorationState {
  if (!row.decision_id) return 'to_propose';
  if (row.outcome === null) return 'awaiting_approval';
  if (row.outcome === 'approved' && !row.changed) return 'approved';
  return 'to_propose';
}

function toItem(row: Record<string, unknown>, unmasked: boolean): RestorationItem {
  return {
    recordKind: row.record_kind as RestorationKey['recordKind'],
    recordId: row.record_id as string,
    schemeCode: row.scheme_code as string,
    idNumber: unmasked ? (row.id_number as string) : maskIdNumber(row.id_number as string),
    regionCode: (row.region_code as string) ?? null,
    periods: row.periods as string[],
    backPay: row.back_pay as string,
    arrivedOn: (row.arrived_on as string) ?? null,
    withdrawnOn: row.withdrawn_on as string,
    asOf: row.as_of as string,
    state: stateOf(row),
    decision: row.decision_id
      ? {
          id: Number(row.decision_id),
          outcome: (row.outcome as 'approved' | 'rejected' | null) ?? null,
          proposedBy: row.proposed_by as string,
          proposedAt: row.proposed_at as string,
          decidedBy: (row.decided_by as string) ?? null,
          decidedAt: (row.decided_at as string) ?? null,
          reason: (row.decision_reason as string) ?? null,
          note: (row.note as string) ?? null,
          backPay: row.d_back_pay as string,
          periods: row.d_periods as string[],
          changed: !!row.changed
        }
      : null
  };
}

/** The restorations of the actor's area with where each stands, newest withdrawal first; ID numbers masked. */
export async function listRestorations(
  db: Queryable,
  input: { actor: WorkbenchActor; state?: RestorationState }
): Promise<{ items: RestorationItem[]; counts: Record<RestorationState, number> }> {
  const who = await requireWorkbenchUser(db, input.actor);
  if (input.state !== undefined && !(RESTORATION_STATES as readonly string[]).includes(input.state))
    throw new HttpError(400, `state must be one of ${RESTORATION_STATES.join(', ')}`, 'invalid_state');
  const r = await db.query(ITEMS_SQL(''), [who.region]);
  const all = r.rows.map((row) => toItem(row, false));
  const counts = Object.fromEntries(RESTORATION_STATES.map((s) => [s, all.filter((i) => i.state === s).length])) as Record<
    RestorationState,
    number
  >;
  return { items: input.state ? all.filter((i) => i.state === input.state) : all, counts };
}

function checkKey(k: RestorationKey): void {
  if (k.recordKind !== 'death' && k.recordKind !== 'custody')
    throw new HttpError(400, `record kind must be death or custody, got "${k.recordKind}"`, 'invalid_record_kind');
  if (!k.recordId || !k.schemeCode) throw new HttpError(400, 'a restoration is named by its record id and scheme', 'invalid_restoration');
}

/** The engine's restoration, locked against a concurrent decision, if it lies in the actor's area (else 404). */
async function lockRestoration(c: Queryable, k: RestorationKey, region: string) {
  checkKey(k);
  const r = await c.query(
    `SELECT r.record_kind, r.record_id, r.scheme_code, r.id_number, r.as_of::text AS as_of, r.run_id,
            r.back_pay::text AS back_pay_text, r.periods::text[] AS periods, ${MONTHS('r.periods')} AS months
       FROM restorations r
      WHERE r.record_kind = $2 AND r.record_id = $3 AND r.scheme_code = $4 AND ${IN_AREA('r.region_code', 1)}
      FOR SHARE OF r`,
    [region, k.recordKind, k.recordId, k.schemeCode]
  );
  if (!r.rows.length)
    throw new HttpError(
      404,
      `no restoration owed for ${k.recordKind} record ${k.recordId}, scheme ${k.schemeCode} in your area`,
      'unknown_restoration'
    );
  return r.rows[0];
}

const refuseNote = (text: string | undefined | null): string | null => {
  const t = text?.trim() || null;
  if (t) {
    if (t.length > 500) throw new HttpError(400, 'a note is at most 500 characters', 'note_too_long');
    refusePersonalData(t);
  }
  return t;
};

/**
 * Propose paying back a restoration exactly as the engine computed it. `expectedBackPay` is the amount the
 * proposer saw: if the engine has computed another since, the proposal is refused ("reload"), never made
 * about figures nobody looked at.
 */
export async function proposeRestoration(
  db: Pool,
  input: RestorationKey & { expectedBackPay: string; note?: string; actor: WorkbenchActor }
): Promise<{ decisionId: number; backPay: string; periods: string[] }> {
  return withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    const note = refuseNote(input.note);
    const r = await lockRestoration(c, input, who.region);
    if (!/^\d+(\.\d{1,2})?$/.test(input.expectedBackPay ?? ''))
      throw new HttpError(400, 'the back pay you saw is needed, as yuan (e.g. 9376.50)', 'invalid_amount');
    const same = await c.query(`SELECT $1::numeric = $2::numeric AS same`, [input.expectedBackPay, r.back_pay_text]);
    if (!same.rows[0].same)
      throw new HttpError(
        409,
        `the back pay owed changed since you looked: ¥${r.back_pay_text} now, you saw ¥${input.expectedBackPay} — reload`,
        'stale_restoration'
      );
    const last = await c.query(
      `SELECT decision_id, outcome, back_pay = $4::numeric AND periods = $5::date[] AS same_figures
         FROM restoration_decisions WHERE record_kind = $1 AND record_id = $2 AND scheme_code = $3
        ORDER BY decision_id DESC LIMIT 1`,
      [input.recordKind, input.recordId, input.schemeCode, r.back_pay_text, r.periods]
    );
    const prev = last.rows[0];
    if (prev && prev.outcome === null)
      throw new HttpError(409, `proposal ${prev.decision_id} is already waiting for a second auditor`, 'already_proposed');
    if (prev && prev.outcome === 'approved' && prev.same_figures)
      throw new HttpError(409, `this restoration was approved already (decision ${prev.decision_id})`, 'already_approved');
    const ins = await c.query(
      `INSERT INTO restoration_decisions (record_kind, record_id, scheme_code, id_number, periods, back_pay, proposed_by, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING decision_id`,
      [input.recordKind, input.recordId, input.schemeCode, r.id_number, r.periods, r.back_pay_text, who.user, note]
    );
    const decisionId = Number(ins.rows[0].decision_id);
    const periods = r.months as string[];
    await audit(c, { type: 'staff', name: who.user, ip: input.actor.ip }, 'restoration.propose', `${input.recordKind}:${input.recordId}`, {
      role: who.role,
      decision_id: decisionId,
      scheme_code: input.schemeCode,
      periods,
      back_pay: r.back_pay_text,
      as_of: r.as_of,
      run_id: r.run_id,
      ...(note ? { note } : {})
    });
    return { decisionId, backPay: r.back_pay_text as string, periods };
  });
}

/** A second auditor approves or rejects a waiting proposal (never their own; a reason is required to reject). */
export async function decideRestoration(
  db: Pool,
  input: { decisionId: number; outcome: 'approved' | 'rejected'; reason?: string; actor: WorkbenchActor }
): Promise<void> {
  await withTransaction(db, async (c) => {
    const who = await requireWorkbenchUser(c, input.actor);
    if (input.outcome !== 'approved' && input.outcome !== 'rejected')
      throw new HttpError(400, 'the outcome is approved or rejected', 'invalid_outcome');
    if (!Number.isSafeInteger(input.decisionId) || input.decisionId <= 0)
      throw new HttpError(400, `not a decision id: ${input.decisionId}`, 'invalid_decision_id');
    const reason = refuseNote(input.reason);
    if (input.outcome === 'rejected' && !reason) throw new HttpError(400, 'a rejection says why', 'missing_reason');
    const d = await c.query(`SELECT * FROM restoration_decisions WHERE decision_id = $1 FOR UPDATE`, [input.decisionId]);
    const p = d.rows[0];
    if (!p) throw new HttpError(404, `no restoration proposal ${input.decisionId}`, 'unknown_decision');
    // the area check, and the engine's current figures (locked so a run cannot change them under the approval)
    const r = await lockRestoration(c, { recordKind: p.record_kind, recordId: p.record_id, schemeCode: p.scheme_code }, who.region);
    if (p.outcome !== null) throw new HttpError(409, `proposal ${p.decision_id} was ${p.outcome} already`, 'already_decided');
    if (p.proposed_by === who.user)
      throw new HttpError(403, `four eyes: ${who.user} proposed this restoration and cannot also decide it`, 'four_eyes');
    if (input.outcome === 'approved') {
      const same = await c.query(
        `SELECT back_pay = $2::numeric AND periods = $3::date[] AS same FROM restoration_decisions WHERE decision_id = $1`,
        [p.decision_id, r.back_pay_text, r.periods]
      );
      if (!same.rows[0].same)
        throw new HttpError(
          409,
          `the back pay owed changed since it was proposed (¥${p.back_pay} then, ¥${r.back_pay_text} now): reject it and propose again`,
          'stale_restoration'
        );
    }
    await c.query(
      `UPDATE restoration_decisions SET outcome = $2, decided_by = $3, decided_at = now(), decision_reason = $4 WHERE decision_id = $1`,
      [p.decision_id, input.outcome, who.user, reason]
    );
    await audit(
      c,
      { type: 'staff', name: who.user, ip: input.actor.ip },
      input.outcome === 'approved' ? 'restoration.approve' : 'restoration.reject',
      `${p.record_kind}:${p.record_id}`,
      {
        role: who.role,
        decision_id: Number(p.decision_id),
        scheme_code: p.scheme_code,
        back_pay: String(p.back_pay),
        ...(reason ? { reason } : {})
      }
    );
  });
}
