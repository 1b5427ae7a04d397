// Staff accounts, sessions and kiosk tokens — the one service that changes them, and writes the
// audit log as it does. Free of SvelteKit imports so the operators' CLI uses the same code.
//
// Passwords: scrypt (N=2^15, r=8, p=1, 16-byte salt) from Node's crypto — salted and slow, no native
// add-on to install. Sessions and kiosk tokens: 32 random bytes given to the client once; only their
// SHA-256 is stored. Lockout: 5 failed sign-ins lock the account for 15 minutes.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Pool } from './db/pool.ts';
import { audit, type Actor } from './audit.ts';
import { HttpError } from './errors.ts';

export const ROLES = ['leader', 'auditor', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MINUTES = 15;
export const SESSION_HOURS = 12;


function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEYLEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem },
      (err, k) => (err ? reject(err) : resolve(k))));
  return timingSafeEqual(actual, expected);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface StaffUser { user_id: number; username: string; display_name: string; role: Role; region_code: string; disabled: boolean }

export async function createUser(pool: Pool, actor: Actor, u: { username: string; displayName?: string; role: string; regionCode: string; password: string }): Promise<StaffUser> {
  if (!/^[A-Za-z0-9_.-]{3,40}$/.test(u.username)) throw new HttpError(400, 'the user name must be 3–40 letters, digits, dots, dashes or underscores', 'invalid_username');
  if (!(ROLES as readonly string[]).includes(u.role)) throw new HttpError(400, `the role must be one of ${ROLES.join(', ')}`, 'invalid_role');
  if (u.password.length < 10) throw new HttpError(400, 'the password must have at least 10 characters', 'weak_password');
  const region = await pool.query(`SELECT 1 FROM regions WHERE code = $1`, [u.regionCode]);
  if (!region.rowCount) throw new HttpError(404, `no region with code ${u.regionCode}`, 'unknown_region');
  const hash = await hashPassword(u.password);
  try {
    const r = await pool.query(
      `INSERT INTO staff_users (username, display_name, role, region_code, password_hash) VALUES ($1, $2, $3, $4, $5)
       RETURNING user_id, username, display_name, role, region_code, disabled`,
      [u.username, u.displayName ?? u.username, u.role, u.regionCode, hash]);
    await audit(pool, actor, 'user.create', u.username, { role: u.role, region_code: u.regionCode });
    return { ...r.rows[0], user_id: Number(r.rows[0].user_id) };
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new HttpError(409, `the user ${u.username} exists already`, 'user_exists');
    throw e;
  }
}

export async function listUsers(pool: Pool): Promise<(StaffUser & { last_login_at: string | null; locked_until: string | null })[]> {
  const r = await pool.query(`SELECT user_id, username, display_name, role, region_code, disabled, last_login_at, locked_until FROM staff_users ORDER BY username`);
  return r.rows;
}

export async function setDisabled(pool: Pool, actor: Actor, username: string, disabled: boolean): Promise<void> {
  const r = await pool.query(`UPDATE staff_users SET disabled = $2 WHERE username = $1`, [username, disabled]);
  if (!r.rowCount) throw new HttpError(404, `no user ${username}`, 'unknown_user');
  if (disabled) await pool.query(`DELETE FROM staff_sessions WHERE user_id = (SELECT user_id FROM staff_users WHERE username = $1)`, [username]);
  await audit(pool, actor, disabled ? 'user.disable' : 'user.enable', username);
}

export type LoginResult = { ok: true; user: StaffUser; sessionToken: string; expiresAt: Date } | { ok: false; reason: 'invalid' | 'locked' | 'disabled'; lockedUntil?: Date };

/** Check a password, count failures, lock after MAX_FAILED_LOGINS, and open a session on success. */
export async function login(pool: Pool, username: string, password: string, meta: { ip?: string; userAgent?: string } = {}): Promise<LoginResult> {
  const r = await pool.query(`SELECT *, locked_until > now() AS locked FROM staff_users WHERE username = $1`, [username]);
  const user = r.rows[0];
  const actor: Actor = { type: 'staff', name: username, ip: meta.ip };
  if (!user) {
    await hashPassword(password); // same time as a real check: do not reveal which names exist
    await audit(pool, actor, 'login.failed', username, { reason: 'unknown_user' });
    return { ok: false, reason: 'invalid' };
  }
  if (user.locked) {
    await audit(pool, actor, 'login.refused', username, { reason: 'locked' });
    return { ok: false, reason: 'locked', lockedUntil: user.locked_until };
  }
  if (!(await verifyPassword(password, user.password_hash))) {
    const u = await pool.query(
      `UPDATE staff_users SET failed_logins = failed_logins + 1,
              locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) END
        WHERE user_id = $1 RETURNING failed_logins, locked_until`, [user.user_id, MAX_FAILED_LOGINS, LOCKOUT_MINUTES]);
    const locked = u.rows[0].locked_until;
    await audit(pool, actor, 'login.failed', username, { reason: 'bad_password', failed_logins: u.rows[0].failed_logins, locked: !!locked });
    return locked ? { ok: false, reason: 'locked', lockedUntil: locked } : { ok: false, reason: 'invalid' };
  }
  if (user.disabled) {
    await audit(pool, actor, 'login.refused', username, { reason: 'disabled' });
    return { ok: false, reason: 'disabled' };
  }
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_HOURS * 3600_000);
  await pool.query(`UPDATE staff_users SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE user_id = $1`, [user.user_id]);
  await pool.query(`INSERT INTO staff_sessions (session_id_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`,
    [sha256(token), user.user_id, expiresAt, meta.ip ?? null, meta.userAgent ?? null]);
  await audit(pool, actor, 'login', username);
  const { password_hash: _h, locked: _l, failed_logins: _f, ...pub } = user;
  return { ok: true, user: { ...pub, user_id: Number(pub.user_id) }, sessionToken: token, expiresAt };
}

/** The user behind a session cookie, sliding its last-seen time; null when expired, unknown or disabled. */
export async function sessionUser(pool: Pool, token: string | undefined): Promise<StaffUser | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE staff_sessions s SET last_seen_at = now() FROM staff_users u
      WHERE s.session_id_hash = $1 AND s.expires_at > now() AND u.user_id = s.user_id AND NOT u.disabled
      RETURNING u.user_id, u.username, u.display_name, u.role, u.region_code, u.disabled`, [sha256(token)]);
  return r.rows[0] ? { ...r.rows[0], user_id: Number(r.rows[0].user_id) } : null;
}

export async function logout(pool: Pool, token: string | undefined, actor: Actor): Promise<void> {
  if (!token) return;
  const r = await pool.query(`DELETE FROM staff_sessions WHERE session_id_hash = $1`, [sha256(token)]);
  if (r.rowCount) await audit(pool, actor, 'logout', actor.name);
}

export interface KioskToken { token_id: number; label: string; region_code: string; privacy_mode: boolean }

export async function createKioskToken(pool: Pool, actor: Actor, k: { label: string; regionCode: string; privacyMode?: boolean }): Promise<KioskToken & { token: string }> {
  const region = await pool.query(`SELECT 1 FROM regions WHERE code = $1`, [k.regionCode]);
  if (!region.rowCount) throw new HttpError(404, `no region with code ${k.regionCode}`, 'unknown_region');
  const token = 'kiosk_' + randomBytes(24).toString('base64url');
  const r = await pool.query(
    `INSERT INTO kiosk_tokens (token_hash, label, region_code, privacy_mode, created_by) VALUES ($1, $2, $3, $4, $5)
     RETURNING token_id, label, region_code, privacy_mode`, [sha256(token), k.label, k.regionCode, k.privacyMode ?? true, actor.name]);
  await audit(pool, actor, 'kiosk.create', k.label, { region_code: k.regionCode, privacy_mode: k.privacyMode ?? true });
  return { ...r.rows[0], token_id: Number(r.rows[0].token_id), token };
}

export async function revokeKioskToken(pool: Pool, actor: Actor, tokenId: number): Promise<void> {
  const r = await pool.query(`UPDATE kiosk_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL`, [tokenId]);
  if (!r.rowCount) throw new HttpError(404, `no active kiosk token #${tokenId}`, 'unknown_kiosk_token');
  await audit(pool, actor, 'kiosk.revoke', String(tokenId));
}

export async function listKioskTokens(pool: Pool): Promise<(KioskToken & { created_at: string; revoked_at: string | null; last_used_at: string | null })[]> {
  return (await pool.query(`SELECT token_id, label, region_code, privacy_mode, created_at, revoked_at, last_used_at FROM kiosk_tokens ORDER BY token_id`)).rows;
}

export async function kioskByToken(pool: Pool, token: string | undefined): Promise<KioskToken | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE kiosk_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
     RETURNING token_id, label, region_code, privacy_mode`, [sha256(token)]);
  return r.rows[0] ? { ...r.rows[0], token_id: Number(r.rows[0].token_id) } : null;
}
