import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import {
  createKioskToken, createUser, kioskByToken, login, logout, MAX_FAILED_LOGINS, revokeKioskToken, sessionUser, setDisabled, verifyPassword
} from '../core/accounts.ts';

let db: TestDatabase;
const op = { type: 'operator' as const, name: 'test' };

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(`INSERT INTO regions (code, name, level, parent_code) VALUES ('330600000000', '测试市', 'city', NULL), ('330602000000', '越城区', 'district', '330600000000')`);
});
afterAll(async () => { await db?.drop(); });

describe('staff accounts', () => {
  it('stores a salted slow hash, never the password', async () => {
    await createUser(db.pool, op, { username: 'li.director', role: 'leader', regionCode: '330600000000', password: 'correct horse battery' });
    const r = await db.pool.query(`SELECT password_hash FROM staff_users WHERE username = 'li.director'`);
    expect(r.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(r.rows[0].password_hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', r.rows[0].password_hash)).toBe(true);
    expect(await verifyPassword('wrong', r.rows[0].password_hash)).toBe(false);
  });

  it('rejects bad roles, unknown regions, short passwords and duplicates with clear messages', async () => {
    await expect(createUser(db.pool, op, { username: 'x1x', role: 'god', regionCode: '330600000000', password: '0123456789' })).rejects.toThrow(/role must be one of/);
    await expect(createUser(db.pool, op, { username: 'x2x', role: 'staff', regionCode: '999', password: '0123456789' })).rejects.toThrow(/no region/);
    await expect(createUser(db.pool, op, { username: 'x3x', role: 'staff', regionCode: '330600000000', password: 'short' })).rejects.toThrow(/at least 10/);
    await expect(createUser(db.pool, op, { username: 'li.director', role: 'staff', regionCode: '330600000000', password: '0123456789' })).rejects.toThrow(/exists already/);
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
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) expect(await login(db.pool, 'wang.audit', 'nope')).toEqual({ ok: false, reason: 'invalid' });
    expect(await login(db.pool, 'wang.audit', 'nope')).toMatchObject({ ok: false, reason: 'locked' });
    expect(await login(db.pool, 'wang.audit', 'audit-pass-123')).toMatchObject({ ok: false, reason: 'locked' });
    const audit = await db.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE subject = 'wang.audit' AND action LIKE 'login.%'`);
    expect(audit.rows[0].n).toBe(MAX_FAILED_LOGINS + 1);
  });

  it('a disabled user cannot sign in and loses open sessions', async () => {
    const r = await login(db.pool, 'li.director', 'correct horse battery');
    await setDisabled(db.pool, op, 'li.director', true);
    expect(r.ok && (await sessionUser(db.pool, r.sessionToken))).toBeNull();
    expect(await login(db.pool, 'li.director', 'correct horse battery')).toEqual({ ok: false, reason: 'disabled' });
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
