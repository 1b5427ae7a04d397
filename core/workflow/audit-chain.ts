// Verifying the hash-chained audit log (migration 0026; issue 15 §11). The database computes each
// row's hash at insert; this module recomputes every one outside the database, in id order, from the
// row's content and the previous row's hash — the same definition as audit_log_hash() in 0026 — and
// names the first event that does not match: its content was changed (its hash is wrong), or the chain
// is broken before it (its prev_hash is not the previous row's hash: a row was removed or re-hashed).
// The chain's head (audit_chain_head) must name the last row, so a removed tail is found too.
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/pool.ts';

const SEP = '\u001f';
const NUL = '\u2400';

export interface AuditRow {
  audit_id: string;
  at_us: string;
  actor_type: string | null;
  actor: string | null;
  action: string | null;
  subject: string | null;
  detail: string | null;
  ip: string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The hash of one audit row given the previous row's hash (migration 0026's audit_log_hash). */
export function auditHash(prev: string | null, r: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  const text = [
    prev ?? '',
    r.audit_id,
    r.at_us,
    r.actor_type ?? NUL,
    r.actor ?? NUL,
    r.action ?? NUL,
    r.subject ?? NUL,
    r.detail ?? NUL,
    r.ip ?? NUL
  ].join(SEP);
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** The first event that fails, and why. */
  firstBad?: { auditId: number; problem: 'content_changed' | 'chain_broken' | 'tail_removed'; message: string };
  ms: number;
}

/** Recompute the whole chain; stops at the first event that does not verify. */
export async function verifyAuditChain(db: Queryable, opts: { batch?: number } = {}): Promise<VerifyResult> {
  const t0 = Date.now();
  const batch = opts.batch ?? 50_000;
  let last = '0';
  let prevHash: string | null = null;
  let prevId: string | null = null;
  let events = 0;
  for (;;) {
    const r = await db.query(
      `SELECT audit_id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS at_us, actor_type, actor, action, subject,
              detail::text AS detail, ip, prev_hash, hash
         FROM audit_log WHERE audit_id > $1::bigint ORDER BY audit_log.audit_id LIMIT $2`,
      [last, batch]
    );
    for (const row of r.rows as AuditRow[]) {
      events++;
      if (row.prev_hash !== prevHash)
        return {
          ok: false,
          events,
          ms: Date.now() - t0,
          firstBad: {
            auditId: Number(row.audit_id),
            problem: 'chain_broken',
            message: `audit event ${row.audit_id}: the chain is broken before it — its previous hash does not match event ${prevId ?? '(none)'} (an event removed, inserted or re-hashed)`
          }
        };
      if (auditHash(prevHash, row) !== row.hash)
        return {
          ok: false,
          events,
          ms: Date.now() - t0,
          firstBad: {
            auditId: Number(row.audit_id),
            problem: 'content_changed',
            message: `audit event ${row.audit_id} (${row.action} by ${row.actor}): its content does not match its hash — it was changed after it was written`
          }
        };
      prevHash = row.hash;
      prevId = row.audit_id;
    }
    if (r.rows.length < batch) break;
    last = r.rows[r.rows.length - 1].audit_id;
  }
  const head = await db.query(`SELECT last_id::text, last_hash FROM audit_chain_head`);
  const h = head.rows[0];
  if (h && (h.last_id ?? null) !== prevId)
    return {
      ok: false,
      events,
      ms: Date.now() - t0,
      firstBad: {
        auditId: Number(h.last_id),
        problem: 'tail_removed',
        message: `audit event ${h.last_id} was the last one written, but the log ends at ${prevId ?? '(empty)'} — events were removed from its end`
      }
    };
  return { ok: true, events, ms: Date.now() - t0 };
}
