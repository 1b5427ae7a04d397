// Residents of the portal: sign-in with the ID number and a one-time code texted to the phone the
// registry holds (6 digits, valid 5 minutes, a new one at most every 60 s, 5 wrong codes lock sign-in
// for 15 minutes), sessions kept apart from staff sessions, and what a resident may read: their own
// record only. Every check and counter is one statement in the database (no read-then-write race).
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { withTransaction, type Pool } from './db/pool.ts';
import { audit } from './audit.ts';
import { HttpError } from './errors.ts';
import { parseIdNumber } from './domain/id-number.ts';
import { maskPhone } from './domain/masking.ts';
import type { SmsSender } from './sms.ts';

export const CODE_MINUTES = 5;
export const RESEND_SECONDS = 60;
export const MAX_WRONG_CODES = 5;
export const CODE_LOCK_MINUTES = 15;
export const RESIDENT_SESSION_HOURS = 2;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** How a session token is kept in resident_sessions (never the token itself). */
export const sessionHash = (token: string) => sha256(token);

function idOrError(raw: string): string {
  const id = parseIdNumber(raw.trim());
  if (!id.ok)
    throw new HttpError(400, '身份证号码不正确，请核对后重新输入。The ID number is not valid; please check it.', 'invalid_id_number');
  return id.value;
}

export type CodeRequest =
  | { sent: true; phone: string; expiresAt: Date; resendAt: Date }
  | { sent: false; reason: 'no_phone' | 'too_soon' | 'locked'; retryAt?: Date };

/**
 * Text a sign-in code to the phone the registry holds for this ID number. The code is stored only as
 * a hash; a new request replaces the old code, but not within RESEND_SECONDS nor while locked.
 */
export async function requestSignInCode(pool: Pool, sms: SmsSender, rawId: string, meta: { ip?: string } = {}): Promise<CodeRequest> {
  const idNumber = idOrError(rawId);
  const person = (await pool.query(`SELECT phone FROM persons WHERE id_number = $1`, [idNumber])).rows[0];
  const phone = person?.phone?.trim();
  if (!phone) {
    await audit(pool, { type: 'resident', name: idNumber, ip: meta.ip }, 'resident.code.refused', idNumber, { reason: 'no_phone' });
    return { sent: false, reason: 'no_phone' };
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  return withTransaction(pool, async (c) => {
    const r = await c.query(
      `INSERT INTO resident_codes AS rc (id_number, code_hash, sent_at, expires_at) VALUES ($1, $2, now(), now() + make_interval(mins => $3))
       ON CONFLICT (id_number) DO UPDATE SET code_hash = EXCLUDED.code_hash, sent_at = EXCLUDED.sent_at, expires_at = EXCLUDED.expires_at
        WHERE rc.sent_at <= now() - make_interval(secs => $4) AND (rc.locked_until IS NULL OR rc.locked_until <= now())
       RETURNING sent_at, expires_at`,
      [idNumber, sha256(`${idNumber}:${code}`), CODE_MINUTES, RESEND_SECONDS]
    );
    if (!r.rowCount) {
      const old = (
        await c.query(`SELECT sent_at, locked_until, locked_until > now() AS locked FROM resident_codes WHERE id_number = $1`, [idNumber])
      ).rows[0];
      return old.locked
        ? { sent: false as const, reason: 'locked' as const, retryAt: old.locked_until as Date }
        : { sent: false as const, reason: 'too_soon' as const, retryAt: new Date((old.sent_at as Date).getTime() + RESEND_SECONDS * 1000) };
    }
    await sms.send(c, {
      phone,
      purpose: 'sign_in',
      secret: code,
      text: `【银龄】您的登录验证码是 ${code}，${CODE_MINUTES}分钟内有效。工作人员不会向您索要验证码，请勿告诉他人。`
    });
    await audit(c, { type: 'resident', name: idNumber, ip: meta.ip }, 'resident.code.sent', idNumber, { channel: sms.channel });
    const sentAt = r.rows[0].sent_at as Date;
    return {
      sent: true as const,
      phone: maskPhone(phone) ?? '', // 138****1234: enough for a resident to recognise their own phone
      expiresAt: r.rows[0].expires_at as Date,
      resendAt: new Date(sentAt.getTime() + RESEND_SECONDS * 1000)
    };
  });
}

export type CodeCheck =
  | { ok: true; sessionToken: string; expiresAt: Date }
  | { ok: false; reason: 'wrong' | 'expired' | 'locked'; triesLeft?: number; retryAt?: Date };

/** Check a code: right → a session (the code is used up); wrong → counted, the fifth locks. One statement decides. */
export async function verifySignInCode(
  pool: Pool,
  rawId: string,
  code: string,
  meta: { ip?: string; userAgent?: string } = {}
): Promise<CodeCheck> {
  const idNumber = idOrError(rawId);
  const given = code.replace(/\s/g, '');
  const actor = { type: 'resident' as const, name: idNumber, ip: meta.ip };
  const r = await pool.query(
    `UPDATE resident_codes SET
        wrong = CASE WHEN code_hash = $2 THEN 0 ELSE wrong + 1 END,
        locked_until = CASE WHEN code_hash <> $2 AND wrong + 1 >= $3 THEN now() + make_interval(mins => $4) ELSE locked_until END,
        expires_at = CASE WHEN code_hash = $2 THEN now() ELSE expires_at END       -- a code works once
      WHERE id_number = $1 AND expires_at > now() AND (locked_until IS NULL OR locked_until <= now())
      RETURNING code_hash = $2 AS ok, wrong, locked_until`,
    [idNumber, sha256(`${idNumber}:${given}`), MAX_WRONG_CODES, CODE_LOCK_MINUTES]
  );
  if (!r.rowCount) {
    const row = (
      await pool.query(`SELECT locked_until, locked_until > now() AS locked FROM resident_codes WHERE id_number = $1`, [idNumber])
    ).rows[0];
    const reason = row?.locked ? 'locked' : 'expired';
    await audit(pool, actor, 'resident.sign_in.refused', idNumber, { reason });
    return row?.locked ? { ok: false, reason: 'locked', retryAt: row.locked_until } : { ok: false, reason: 'expired' };
  }
  const { ok, wrong, locked_until } = r.rows[0];
  if (!ok) {
    await audit(pool, actor, 'resident.sign_in.failed', idNumber, { wrong });
    return locked_until && wrong >= MAX_WRONG_CODES
      ? { ok: false, reason: 'locked', retryAt: locked_until }
      : { ok: false, reason: 'wrong', triesLeft: MAX_WRONG_CODES - wrong };
  }
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + RESIDENT_SESSION_HOURS * 3600_000);
  await pool.query(`INSERT INTO resident_sessions (session_id_hash, id_number, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`, [
    sha256(token),
    idNumber,
    expiresAt,
    meta.ip ?? null,
    meta.userAgent ?? null
  ]);
  await audit(pool, actor, 'resident.sign_in', idNumber);
  return { ok: true, sessionToken: token, expiresAt };
}

export interface Resident {
  /** The signed-in resident themselves (never anyone else). */
  id_number: string;
  name: string;
  expires_at: Date;
  /** Acting for a parent through an active, unexpired family link (core/family-access.ts), else null. */
  acting: { link_id: number; parent_id: string; parent_name: string; role: 'view' | 'certify' | 'requests' } | null;
  /** Whose account the pages show: the parent's while acting, else the resident's own. */
  subject: string;
}

/**
 * The resident behind a portal session cookie, sliding its last-seen time; null when expired or unknown.
 * A family link the session acts through counts only while it is active and unexpired (revoked or
 * expired: the session is the resident's own again, at once).
 */
export async function residentBySession(pool: Pool, token: string | undefined): Promise<Resident | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE resident_sessions s SET last_seen_at = now() FROM persons p
      WHERE s.session_id_hash = $1 AND s.expires_at > now() AND p.id_number = s.id_number
      RETURNING s.id_number, p.name, s.expires_at, s.acting_link_id`,
    [sha256(token)]
  );
  const x = r.rows[0];
  if (!x) return null;
  let acting: Resident['acting'] = null;
  if (x.acting_link_id) {
    const l = (
      await pool.query(
        `SELECT l.link_id::int, l.parent_id, p.name AS parent_name, l.role FROM family_links l JOIN persons p ON p.id_number = l.parent_id
          WHERE l.link_id = $1 AND l.helper_id = $2 AND l.status = 'active' AND l.expires_at > now()`,
        [x.acting_link_id, x.id_number]
      )
    ).rows[0];
    acting = l ?? null;
  }
  return { id_number: x.id_number, name: x.name, expires_at: x.expires_at, acting, subject: acting?.parent_id ?? x.id_number };
}

/** Keep a portal session going (the "extend" button before it ends): a fresh RESIDENT_SESSION_HOURS from now. */
export async function extendResidentSession(pool: Pool, token: string | undefined): Promise<Date | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE resident_sessions SET expires_at = now() + make_interval(hours => $2), last_seen_at = now()
      WHERE session_id_hash = $1 AND expires_at > now() RETURNING expires_at`,
    [sha256(token), RESIDENT_SESSION_HOURS]
  );
  return r.rows[0]?.expires_at ?? null;
}

export async function residentSignOut(pool: Pool, token: string | undefined): Promise<void> {
  if (!token) return;
  const r = await pool.query(`DELETE FROM resident_sessions WHERE session_id_hash = $1 RETURNING id_number`, [sha256(token)]);
  if (r.rowCount) await audit(pool, { type: 'resident', name: r.rows[0].id_number }, 'resident.sign_out', r.rows[0].id_number);
}
