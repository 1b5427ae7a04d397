// Verifying the hash-chained audit log (migration 0026; issue 15 §11). The database computes each
// row's hash at insert; this module recomputes every one outside the database, in id order, from the
// row's content and the previous row's hash — the same definition as audit_log_hash() in 0026 — and
// names the first event that does not match: its content was changed (its hash is wrong), or the chain
// is broken before it (its prev_hash is not the previous row's hash: a row was removed or re-hashed).
// The chain's head (audit_chain_head) must name the last row, so a removed tail is found too.
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { to as copyTo } from 'pg-copy-streams';
import type { Pool, PoolClient } from '../db/pool.ts';

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

/** The COPY text format's escapes in a value (PostgreSQL writes \\b \\f \\n \\r \\t \\v, and a backslash doubled). */
const COPY_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
function copyField(f: string): string | null {
  if (f === '\\N') return null;
  if (!f.includes('\\')) return f;
  return f.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

// The rows in chain order, as COPY text (one line per event, no per-row result objects): reading a
// million events this way is several times faster than paging through them with SELECTs.
const COPY_SQL = `COPY (SELECT audit_id, (extract(epoch FROM at) * 1000000)::bigint, actor_type, actor, action, subject, detail::text, ip,
                               prev_hash, hash
                          FROM audit_log ORDER BY audit_id) TO STDOUT`;

/**
 * Recompute the whole chain; names the first event that does not verify. The events and the chain's
 * head are read in one snapshot (a pool's client in a REPEATABLE READ READ ONLY transaction), streamed
 * with COPY and hashed as they arrive.
 */
export async function verifyAuditChain(db: Pool | PoolClient): Promise<VerifyResult> {
  const t0 = Date.now();
  const own = !('release' in db && typeof db.release === 'function');
  const c: PoolClient = own ? await (db as Pool).connect() : (db as PoolClient);
  let failed = false;
  try {
    if (own) await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const head = (await c.query(`SELECT last_id::text, last_hash FROM audit_chain_head`)).rows[0];
    let prevHash: string | null = null;
    let prevId: string | null = null;
    let events = 0;
    let firstBad: VerifyResult['firstBad'];
    const check = (line: string) => {
      if (firstBad) return;
      const f = line.split('\t');
      const row = {
        audit_id: f[0],
        at_us: f[1],
        actor_type: copyField(f[2]),
        actor: copyField(f[3]),
        action: copyField(f[4]),
        subject: copyField(f[5]),
        detail: copyField(f[6]),
        ip: copyField(f[7])
      };
      const rowPrev = copyField(f[8]);
      const rowHash = copyField(f[9]);
      events++;
      if (rowPrev !== prevHash)
        firstBad = {
          auditId: Number(row.audit_id),
          problem: 'chain_broken',
          message: `audit event ${row.audit_id}: the chain is broken before it — its previous hash does not match event ${prevId ?? '(none)'} (an event removed, inserted or re-hashed)`
        };
      else if (auditHash(prevHash, row) !== rowHash)
        firstBad = {
          auditId: Number(row.audit_id),
          problem: 'content_changed',
          message: `audit event ${row.audit_id} (${row.action} by ${row.actor}): its content does not match its hash — it was changed after it was written`
        };
      prevHash = rowHash;
      prevId = row.audit_id;
    };
    const stream = c.query(copyTo(COPY_SQL));
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        check(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    if (rest) check(rest);
    if (own) await c.query('COMMIT');
    if (firstBad) return { ok: false, events, ms: Date.now() - t0, firstBad };
    if (head && (head.last_id ?? null) !== prevId)
      return {
        ok: false,
        events,
        ms: Date.now() - t0,
        firstBad: {
          auditId: Number(head.last_id),
          problem: 'tail_removed',
          message: `audit event ${head.last_id} was the last one written, but the log ends at ${prevId ?? '(empty)'} — events were removed from its end`
        }
      };
    return { ok: true, events, ms: Date.now() - t0 };
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (own) {
      if (failed) await c.query('ROLLBACK').catch(() => {});
      c.release(failed);
    }
  }
}
