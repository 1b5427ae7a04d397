import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import {
  createKioskToken,
  createLimiter,
  createUser,
  kioskByToken,
  login,
  logout,
  MAX_FAILED_LOGINS,
  revokeKioskToken,
  sessionUser,
  setDisabled,
  verifyPassword
} from '../core/accounts.ts';

let db: TestDatabase;
const op = { type: 'operator' as const, name: 'test' };

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO regions (code, name, level, parent_code) VALUES ('330600000000', '测试市', 'city', NULL), ('330602000000', '越城区', 'district', '330600000000')`
  );
});
afterAll(async () => {
  await db?.drop();
});

describe('staff accounts', () => {
  it('stores a salted slow hash, never the password', async () => {
    await createUser(db.pool, op, {
      username: 'li.director',
      role: 'leader',
      regionCode: '330600000000',
      password: 'correct horse battery'
    });
    const r = await db.pool.query(`SELECT password_hash FROM staff_users WHERE username = 'li.director'`);
    expect(r.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(r.rows[0].password_hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', r.rows[0].password_hash)).toBe(true);
    expect(await verifyPassword('wrong', r.rows[0].password_hash)).toBe(false);
  });

  it('rejects bad roles, unknown regions, short passwords and duplicates with clear messages', async () => {
    await expect(
      createUser(db.pool, op, { username: 'x1x', role: 'god', regionCode: '330600000000', password: '0123456789' })
    ).rejects.toThrow(/role must be one of/);
    await expect(createUser(db.pool, op, { username: 'x2x', role: 'staff', regionCode: '999', password: '0123456789' })).rejects.toThrow(
      /no region/
    );
    await expect(
      createUser(db.pool, op, { username: 'x3x', role: 'staff', regionCode: '330600000000', password: 'short' })
    ).rejects.toThrow(/at least 10/);
    await expect(
      createUser(db.pool, op, { username: 'li.director', role: 'staff', regionCode: '330600000000', password: '0123456789' })
    ).rejects.toThrow(/exists already/);
  });

  it('opens a session on a correct password and closes it on logout', async () => {
    const r = await login(db.pool, 'li.director', 'correct horse battery');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((await sessionUser(db.pool, r.sessionToken))?.username).toBe('li.director');
    await logout(db.pool, r.sessionToken, { type: 'staff', name: 'li.director' });
    expect(await sessionUser(db.pool, r.sessionToken)).toBeNull();
  });

  it('locks the account after repeated failures, even for the right password', async () => {
    await createUser(db.pool, op, { username: 'wang.audit', role: 'auditor', regionCode: '330602000000', password: 'audit-pass-123' });
    for (let i = 1; i < MAX_FAILED_LOGINS; i++)
      expect(await login(db.pool, 'wang.audit', 'nope')).toEqual({ ok: false, reason: 'invalid' });
    expect(await login(db.pool, 'wang.audit', 'nope')).toMatchObject({ ok: false, reason: 'locked' });
    expect(await login(db.pool, 'wang.audit', 'audit-pass-123')).toMatchObject({ ok: false, reason: 'locked' });
    const audit = await db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE subject = 'wang.audit' AND action LIKE 'login.%'`);
    expect(audit.rows[0].n).toBe(MAX_FAILED_LOGINS + 1);
  });

  it('a disabled user cannot sign in and loses open sessions', async () => {
    const r = await login(db.pool, 'li.director', 'correct horse battery');
    await setDisabled(db.pool, op, 'li.director', true);
    expect(r.ok && (await sessionUser(db.pool, r.sessionToken))).toBeNull();
    // Refused like a wrong password: a disabled name does not tell itself apart.
    expect(await login(db.pool, 'li.director', 'correct horse battery')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('checks at most the allowed number of passwords when 30 sign-ins arrive at once, the right one last', async () => {
    await createUser(db.pool, op, { username: 'wang.audit2', role: 'auditor', regionCode: '330602000000', password: 'audit-pass-123' });
    await createUser(db.pool, op, { username: 'zhao.race', role: 'auditor', regionCode: '330602000000', password: 'race-pass-1234' });
    const attempts = Array.from({ length: 30 }, (_, i) =>
      login(db.pool, 'zhao.race', i === 29 ? 'race-pass-1234' : `guess-${i}`, { ip: '10.0.0.9' })
    );
    const results = await Promise.all(attempts);
    // Before: every wrong password was checked, and the right one signed in at the end and reset the count.
    expect(results[29].ok).toBe(false);
    const checked = await db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE subject = 'zhao.race' AND action = 'login.failed'`);
    expect(checked.rows[0].n).toBe(MAX_FAILED_LOGINS);
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results.filter((r) => !r.ok && r.reason === 'locked').length).toBeGreaterThanOrEqual(30 - MAX_FAILED_LOGINS);
  });

  it('blocks a name only from the address that failed, for a while that doubles, and counts again after it', async () => {
    await createUser(db.pool, op, { username: 'sun.field', role: 'staff', regionCode: '330602000000', password: 'field-pass-123' });
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await login(db.pool, 'sun.field', 'nope', { ip: '192.0.2.66' });
    const blocked = await login(db.pool, 'sun.field', 'field-pass-123', { ip: '192.0.2.66' });
    expect(blocked).toMatchObject({ ok: false, reason: 'locked' });
    const first = (blocked as { lockedUntil: Date }).lockedUntil.getTime() - Date.now();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(60_000 + 1000);
    // The owner, at their own desk, is not locked out by somebody else's guesses.
    expect((await login(db.pool, 'sun.field', 'field-pass-123', { ip: '192.0.2.10' })).ok).toBe(true);
    // The block ends: the count starts again, and the next block lasts twice as long.
    await db.pool.query(`UPDATE sign_in_throttle SET blocked_until = now() - interval '1 second' WHERE key = 'acct:sun.field@192.0.2.66'`);
    for (let i = 1; i < MAX_FAILED_LOGINS; i++)
      expect(await login(db.pool, 'sun.field', 'nope', { ip: '192.0.2.66' })).toEqual({ ok: false, reason: 'invalid' });
    const second = await login(db.pool, 'sun.field', 'nope', { ip: '192.0.2.66' });
    const secondMs = (second as { lockedUntil: Date }).lockedUntil.getTime() - Date.now();
    expect(secondMs).toBeGreaterThan(60_000);
    expect(secondMs).toBeLessThanOrEqual(120_000 + 1000);
  });

  it('answers an unknown name exactly as a known one, blocks included', async () => {
    const known: unknown[] = [],
      unknown: unknown[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS + 1; i++) {
      known.push(await login(db.pool, 'wang.audit2', 'nope', { ip: '198.51.100.7' }));
      unknown.push(await login(db.pool, 'nobody.here', 'nope', { ip: '198.51.100.8' }));
    }
    const shape = (rs: unknown[]) => rs.map((r) => (r as { reason: string }).reason);
    expect(shape(unknown)).toEqual(shape(known));
    expect(shape(known).slice(-2)).toEqual(['locked', 'locked']);
  });

  it('answers a 3,000-character user name like any wrong name, and logs the attempt', async () => {
    const long = 'x'.repeat(3000);
    expect(await login(db.pool, long, 'nope', { ip: '203.0.113.30' })).toEqual({ ok: false, reason: 'invalid' });
    const rows = (
      await db.pool.query(
        `SELECT action, length(actor) AS n, detail->>'reason' AS reason FROM audit_log WHERE actor LIKE 'xxxx%' ORDER BY audit_id`
      )
    ).rows;
    expect(rows).toEqual([{ action: 'login.failed', n: 100, reason: 'unknown_user' }]);
  });

  it('runs at most the allowed password checks at once and refuses beyond the queue (a sign-in flood)', async () => {
    const limited = createLimiter(2, 3);
    let running = 0,
      peak = 0;
    const task = () =>
      limited(async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return 'done';
      });
    const results = await Promise.all(Array.from({ length: 8 }, task));
    expect(peak).toBe(2);
    expect(results.filter((r) => r === 'done')).toHaveLength(5);
    expect(results.filter((r) => r === 'busy')).toHaveLength(3);
    expect(await task()).toBe('done'); // the queue drained: the next one runs
  });

  it('kiosk tokens are scoped, private by default and revocable', async () => {
    const k = await createKioskToken(db.pool, op, { label: 'lobby screen', regionCode: '330602000000' });
    expect(k.privacy_mode).toBe(true);
    expect((await kioskByToken(db.pool, k.token))?.region_code).toBe('330602000000');
    await revokeKioskToken(db.pool, op, k.token_id);
    expect(await kioskByToken(db.pool, k.token)).toBeNull();
  });

  it('the audit log is append-only', async () => {
    await expect(db.pool.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`UPDATE audit_log SET actor = 'x'`)).rejects.toThrow(/append-only/);
  });
});
