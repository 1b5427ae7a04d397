// Staff accounts, sessions and kiosk tokens — the one service that changes them, and writes the
// audit log as it does. Free of SvelteKit imports so the operators' CLI uses the same code.
//
// Passwords: scrypt (N=2^15, r=8, p=1, 16-byte salt) from Node's crypto — salted and slow, no native
// add-on to install. Sessions and kiosk tokens: 32 random bytes given to the client once; only their
// SHA-256 is stored. Sign-in throttling with backoff per name-and-address, address and name (login()).
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { withTransaction, type Pool } from './db/pool.ts';
import { audit, type Actor } from './audit.ts';
import { HttpError } from './errors.ts';
import { shanghaiIso } from './time.ts';

export const ROLES = ['leader', 'auditor', 'staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEYLEN = 32;
/** Failed sign-ins of one account name from one address before it is blocked there. */
export const MAX_FAILED_LOGINS = 5;
/** Failed sign-ins from one address (any names), and of one name (any addresses), before a block. */
const MAX_FAILED_PER_ADDRESS = 20;
const MAX_FAILED_PER_ACCOUNT = 50;
/** A block lasts 1, 2, 4, 8 … minutes for each block in a row, at most this long. */
export const MAX_BLOCK_MINUTES = 15;
/** Hours without a failure after which a key's earlier failures and blocks are forgotten. */
const QUIET_HOURS = 24;
/** Password checks at once per process, and how many may wait before a sign-in is refused as busy. */
const CONCURRENT_CHECKS = 2;
const MAX_WAITING_CHECKS = 16;
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
    scrypt(
      password,
      Buffer.from(salt, 'base64'),
      expected.length,
      { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem },
      (err, k) => (err ? reject(err) : resolve(k))
    )
  );
  return timingSafeEqual(actual, expected);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface StaffUser {
  user_id: number;
  username: string;
  display_name: string;
  role: Role;
  region_code: string;
  disabled: boolean;
}

export async function createUser(
  pool: Pool,
  actor: Actor,
  u: { username: string; displayName?: string; role: string; regionCode: string; password: string }
): Promise<StaffUser> {
  if (!/^[A-Za-z0-9_.-]{3,40}$/.test(u.username))
    throw new HttpError(400, 'the user name must be 3–40 letters, digits, dots, dashes or underscores', 'invalid_username');
  if (!(ROLES as readonly string[]).includes(u.role))
    throw new HttpError(400, `the role must be one of ${ROLES.join(', ')}`, 'invalid_role');
  if (u.password.length < 10) throw new HttpError(400, 'the password must have at least 10 characters', 'weak_password');
  const region = await pool.query(`SELECT 1 FROM regions WHERE code = $1`, [u.regionCode]);
  if (!region.rowCount) throw new HttpError(404, `no region with code ${u.regionCode}`, 'unknown_region');
  const hash = await hashPassword(u.password);
  try {
    const r = await pool.query(
      `INSERT INTO staff_users (username, display_name, role, region_code, password_hash) VALUES ($1, $2, $3, $4, $5)
       RETURNING user_id, username, display_name, role, region_code, disabled`,
      [u.username, u.displayName ?? u.username, u.role, u.regionCode, hash]
    );
    await audit(pool, actor, 'user.create', u.username, { role: u.role, region_code: u.regionCode });
    return { ...r.rows[0], user_id: Number(r.rows[0].user_id) };
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw new HttpError(409, `the user ${u.username} exists already`, 'user_exists');
    throw e;
  }
}

export async function listUsers(pool: Pool): Promise<(StaffUser & { last_login_at: string | null })[]> {
  const r = await pool.query(
    `SELECT user_id, username, display_name, role, region_code, disabled, last_login_at FROM staff_users ORDER BY username`
  );
  return r.rows;
}

export async function setDisabled(pool: Pool, actor: Actor, username: string, disabled: boolean): Promise<void> {
  const r = await pool.query(`UPDATE staff_users SET disabled = $2 WHERE username = $1`, [username, disabled]);
  if (!r.rowCount) throw new HttpError(404, `no user ${username}`, 'unknown_user');
  if (disabled)
    await pool.query(`DELETE FROM staff_sessions WHERE user_id = (SELECT user_id FROM staff_users WHERE username = $1)`, [username]);
  await audit(pool, actor, disabled ? 'user.disable' : 'user.enable', username);
}

/** A new password for a user (its sessions end: whoever held the old one is signed out). */
export async function setPassword(pool: Pool, actor: Actor, username: string, password: string): Promise<void> {
  if (password.length < 10) throw new HttpError(400, 'the password needs at least 10 characters', 'weak_password');
  const r = await pool.query(`UPDATE staff_users SET password_hash = $2 WHERE username = $1 RETURNING user_id`, [
    username,
    await hashPassword(password)
  ]);
  if (!r.rowCount) throw new HttpError(404, `no user ${username}`, 'unknown_user');
  await pool.query(`DELETE FROM staff_sessions WHERE user_id = $1`, [r.rows[0].user_id]);
  await audit(pool, actor, 'user.password', username);
}

export type LoginResult =
  | { ok: true; user: StaffUser; sessionToken: string; expiresAt: Date }
  | { ok: false; reason: 'invalid' | 'locked' | 'busy'; lockedUntil?: Date };

/**
 * Reserve one sign-in attempt on every throttle key, atomically: the keys' rows are locked, a blocked
 * key refuses the attempt before any password is checked, and otherwise the attempt is counted as a
 * failure up front (a success takes it back). Thirty parallel attempts therefore cannot all be
 * checked: the sixth finds the block the fifth set.
 */
async function reserveAttempt(
  pool: Pool,
  keys: { key: string; limit: number }[]
): Promise<{ blockedUntil: Date | null; blockedNow: string[] }> {
  return withTransaction(pool, async (c) => {
    await c.query(`INSERT INTO sign_in_throttle (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING`, [keys.map((k) => k.key)]);
    const r = await c.query(
      `SELECT key, failures, blocks, blocked_until, blocked_until > now() AS blocked, last_failure < now() - make_interval(hours => $2) AS stale
         FROM sign_in_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE`,
      [keys.map((k) => k.key), QUIET_HOURS]
    );
    const blocked = r.rows.filter((x) => x.blocked).map((x) => x.blocked_until as Date);
    if (blocked.length) return { blockedUntil: new Date(Math.max(...blocked.map((d) => d.getTime()))), blockedNow: [] };
    const blockedNow: string[] = [];
    for (const row of r.rows) {
      const limit = keys.find((k) => k.key === row.key)!.limit;
      // A long quiet spell forgets earlier blocks; an ended block starts the count again (its row was reset).
      const blocks = row.stale ? 0 : row.blocks;
      const failures = (row.stale ? 0 : row.failures) + 1;
      if (failures >= limit) {
        // This attempt still gets its password checked (it is within the limit); the next one waits.
        await c.query(
          `UPDATE sign_in_throttle SET failures = 0, blocks = $2 + 1, last_failure = now(),
                  blocked_until = now() + make_interval(mins => least($3, power(2, $2))::int)
            WHERE key = $1`,
          [row.key, blocks, MAX_BLOCK_MINUTES]
        );
        blockedNow.push(row.key);
      } else {
        await c.query(`UPDATE sign_in_throttle SET failures = $2, blocks = $3, last_failure = now() WHERE key = $1`, [
          row.key,
          failures,
          blocks
        ]);
      }
    }
    return { blockedUntil: null, blockedNow };
  });
}

/**
 * At most `concurrent` tasks at a time, `maxWaiting` more queued; beyond that a task is not run
 * ('busy'). Password checks go through one: scrypt runs on libuv's small thread pool, which static
 * files and DNS need too, so a sign-in flood must not take all of it.
 */
export function createLimiter(concurrent: number, maxWaiting: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function limited<T>(fn: () => Promise<T>): Promise<T | 'busy'> {
    if (running >= concurrent) {
      if (waiting.length >= maxWaiting) return 'busy';
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next)
        next(); // the slot passes straight on
      else running--;
    }
  };
}
const withPasswordCheck = createLimiter(CONCURRENT_CHECKS, MAX_WAITING_CHECKS);

/**
 * Check a password and open a session on success. Every refusal looks the same whether the name
 * exists, is disabled or not ('invalid'), except a throttled key ('locked', with when it ends) and a
 * sign-in flood ('busy'). See sign_in_throttle (migration 0016) for the keys.
 */
export async function login(
  pool: Pool,
  username: string,
  password: string,
  meta: { ip?: string; userAgent?: string } = {}
): Promise<LoginResult> {
  const actor: Actor = { type: 'staff', name: username.slice(0, 100), ip: meta.ip };
  const name = username.toLowerCase().slice(0, 100);
  const address = meta.ip ?? 'unknown';
  const keys = [
    { key: `acct:${name}@${address}`, limit: MAX_FAILED_LOGINS },
    { key: `addr:${address}`, limit: MAX_FAILED_PER_ADDRESS },
    { key: `acct:${name}`, limit: MAX_FAILED_PER_ACCOUNT }
  ];
  const { blockedUntil, blockedNow } = await reserveAttempt(pool, keys);
  if (blockedUntil) {
    await audit(pool, actor, 'login.refused', actor.name, { reason: 'throttled', until: shanghaiIso(blockedUntil) });
    return { ok: false, reason: 'locked', lockedUntil: blockedUntil };
  }
  const r = await pool.query(`SELECT * FROM staff_users WHERE username = $1`, [username]);
  const user = r.rows[0];
  // An unknown name costs the same hash as a real check: the time does not tell which names exist.
  const checked = await withPasswordCheck(() =>
    user ? verifyPassword(password, user.password_hash) : hashPassword(password).then(() => false)
  );
  if (checked === 'busy') {
    await audit(pool, actor, 'login.refused', actor.name, { reason: 'busy' });
    return { ok: false, reason: 'busy' };
  }
  if (!checked || user.disabled) {
    const reason = !user ? 'unknown_user' : !checked ? 'bad_password' : 'disabled';
    // The attempt is already counted; did it set a block? Then say so now rather than on the next try.
    const t = await pool.query(`SELECT max(blocked_until) AS until FROM sign_in_throttle WHERE key = ANY($1) AND blocked_until > now()`, [
      keys.map((k) => k.key)
    ]);
    await audit(pool, actor, 'login.failed', actor.name, { reason, blocked: !!t.rows[0].until });
    return t.rows[0].until ? { ok: false, reason: 'locked', lockedUntil: t.rows[0].until } : { ok: false, reason: 'invalid' };
  }
  // A success takes back the attempt counted up front (and a block that attempt set), and forgets this
  // name's earlier blocks.
  await pool.query(
    `UPDATE sign_in_throttle SET failures = greatest(failures - 1, 0),
            blocks = CASE WHEN key LIKE 'acct:%' THEN 0 WHEN key = ANY($2) THEN greatest(blocks - 1, 0) ELSE blocks END,
            blocked_until = CASE WHEN key = ANY($2) THEN NULL ELSE blocked_until END
      WHERE key = ANY($1)`,
    [keys.map((k) => k.key), blockedNow]
  );
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_HOURS * 3600_000);
  await pool.query(`UPDATE staff_users SET last_login_at = now() WHERE user_id = $1`, [user.user_id]);
  await pool.query(`INSERT INTO staff_sessions (session_id_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`, [
    sha256(token),
    user.user_id,
    expiresAt,
    meta.ip ?? null,
    meta.userAgent ?? null
  ]);
  await audit(pool, actor, 'login', username);
  const { password_hash: _h, ...pub } = user;
  return { ok: true, user: { ...pub, user_id: Number(pub.user_id) }, sessionToken: token, expiresAt };
}

/** The user behind a session cookie, sliding its last-seen time; null when expired, unknown or disabled. */
export async function sessionUser(pool: Pool, token: string | undefined): Promise<StaffUser | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE staff_sessions s SET last_seen_at = now() FROM staff_users u
      WHERE s.session_id_hash = $1 AND s.expires_at > now() AND u.user_id = s.user_id AND NOT u.disabled
      RETURNING u.user_id, u.username, u.display_name, u.role, u.region_code, u.disabled`,
    [sha256(token)]
  );
  return r.rows[0] ? { ...r.rows[0], user_id: Number(r.rows[0].user_id) } : null;
}

export async function logout(pool: Pool, token: string | undefined, actor: Actor): Promise<void> {
  if (!token) return;
  const r = await pool.query(`DELETE FROM staff_sessions WHERE session_id_hash = $1`, [sha256(token)]);
  if (r.rowCount) await audit(pool, actor, 'logout', actor.name);
}

export interface KioskToken {
  token_id: number;
  label: string;
  region_code: string;
  privacy_mode: boolean;
}

export async function createKioskToken(
  pool: Pool,
  actor: Actor,
  k: { label: string; regionCode: string; privacyMode?: boolean }
): Promise<KioskToken & { token: string }> {
  const region = await pool.query(`SELECT 1 FROM regions WHERE code = $1`, [k.regionCode]);
  if (!region.rowCount) throw new HttpError(404, `no region with code ${k.regionCode}`, 'unknown_region');
  const token = 'kiosk_' + randomBytes(24).toString('base64url');
  const r = await pool.query(
    `INSERT INTO kiosk_tokens (token_hash, label, region_code, privacy_mode, created_by) VALUES ($1, $2, $3, $4, $5)
     RETURNING token_id, label, region_code, privacy_mode`,
    [sha256(token), k.label, k.regionCode, k.privacyMode ?? true, actor.name]
  );
  await audit(pool, actor, 'kiosk.create', k.label, { region_code: k.regionCode, privacy_mode: k.privacyMode ?? true });
  return { ...r.rows[0], token_id: Number(r.rows[0].token_id), token };
}

export async function revokeKioskToken(pool: Pool, actor: Actor, tokenId: number): Promise<void> {
  const r = await pool.query(`UPDATE kiosk_tokens SET revoked_at = now() WHERE token_id = $1 AND revoked_at IS NULL`, [tokenId]);
  if (!r.rowCount) throw new HttpError(404, `no active kiosk token #${tokenId}`, 'unknown_kiosk_token');
  await audit(pool, actor, 'kiosk.revoke', String(tokenId));
}

export async function listKioskTokens(
  pool: Pool
): Promise<(KioskToken & { created_at: string; revoked_at: string | null; last_used_at: string | null })[]> {
  return (
    await pool.query(
      `SELECT token_id, label, region_code, privacy_mode, created_at, revoked_at, last_used_at FROM kiosk_tokens ORDER BY token_id`
    )
  ).rows;
}

export async function kioskByToken(pool: Pool, token: string | undefined): Promise<KioskToken | null> {
  if (!token) return null;
  const r = await pool.query(
    `UPDATE kiosk_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
     RETURNING token_id, label, region_code, privacy_mode`,
    [sha256(token)]
  );
  return r.rows[0] ? { ...r.rows[0], token_id: Number(r.rows[0].token_id) } : null;
}
