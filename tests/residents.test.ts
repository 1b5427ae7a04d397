// Residents' sign-in against a real PostgreSQL: a code by SMS (the outbox), expiry, one use, the
// 60-second resend, the lockout after five wrong codes — also when the wrong codes arrive at once —
// and sessions that never stand in for a staff session (or the other way round).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { MAX_WRONG_CODES, requestSignInCode, residentBySession, residentSignOut, verifySignInCode } from '../core/residents.ts';
import { outboxSender } from '../core/sms.ts';
import { sessionUser } from '../core/accounts.ts';
import { makeIdNumber } from '../core/domain/id-number.ts';

let db: TestDatabase;
const ALICE = makeIdNumber('330602', '1950-01-01', 124);
const BOB = makeIdNumber('330602', '1952-02-02', 123);
const NOPHONE = makeIdNumber('330602', '1953-03-03', 126);

async function lastCode(phone: string): Promise<string> {
  const r = await db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 ORDER BY sms_id DESC LIMIT 1`, [phone]);
  return /(\d{6})/.exec(r.rows[0].body)![1];
}

beforeAll(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO persons (id_number, name, sex, birth_date, phone, hukou_region, status) VALUES
    ($1, '张阿姨', 'F', '1950-01-01', '13800001111', '330602001001', 'retired'),
    ($2, '李大爷', 'M', '1952-02-02', '13900002222', '330602001001', 'retired'),
    ($3, '王奶奶', 'F', '1953-03-03', NULL, '330602001001', 'retired')`,
    [ALICE, BOB, NOPHONE]
  );
});
afterAll(async () => {
  await db?.drop();
});

describe('resident sign-in', () => {
  it('texts a code to the registered phone and signs in with it once', async () => {
    const sent = await requestSignInCode(db.pool, outboxSender, ALICE.toLowerCase());
    expect(sent).toMatchObject({ sent: true, phone: '138****1111' });
    const code = await lastCode('13800001111');
    const ok = await verifySignInCode(db.pool, ALICE, code);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect((await residentBySession(db.pool, ok.sessionToken))?.id_number).toBe(ALICE);
    expect(await verifySignInCode(db.pool, ALICE, code)).toEqual({ ok: false, reason: 'expired' }); // used up
    // a resident's session is not a staff session, and is gone after signing out
    expect(await sessionUser(db.pool, ok.sessionToken)).toBeNull();
    await residentSignOut(db.pool, ok.sessionToken);
    expect(await residentBySession(db.pool, ok.sessionToken)).toBeNull();
  });

  it('refuses a new code within 60 seconds, and says when there is no phone to text', async () => {
    await db.pool.query(`DELETE FROM resident_codes`);
    expect((await requestSignInCode(db.pool, outboxSender, BOB)).sent).toBe(true);
    expect(await requestSignInCode(db.pool, outboxSender, BOB)).toMatchObject({ sent: false, reason: 'too_soon' });
    expect(await requestSignInCode(db.pool, outboxSender, NOPHONE)).toEqual({ sent: false, reason: 'no_phone' });
    await expect(requestSignInCode(db.pool, outboxSender, '12345')).rejects.toMatchObject({ status: 400, code: 'invalid_id_number' });
  });

  it('locks after five wrong codes, even when they arrive at once, and then refuses the right one', async () => {
    await db.pool.query(`DELETE FROM resident_codes`);
    await requestSignInCode(db.pool, outboxSender, BOB);
    const code = await lastCode('13900002222');
    const wrong = code === '000000' ? '111111' : '000000';
    const results = await Promise.all(Array.from({ length: 12 }, () => verifySignInCode(db.pool, BOB, wrong)));
    expect(results.every((r) => !r.ok)).toBe(true);
    const counted = await db.pool.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'resident.sign_in.failed' AND subject = $1`,
      [BOB]
    );
    expect(counted.rows[0].n).toBe(MAX_WRONG_CODES);
    expect(await verifySignInCode(db.pool, BOB, code)).toMatchObject({ ok: false, reason: 'locked' });
    expect(await requestSignInCode(db.pool, outboxSender, BOB)).toMatchObject({ sent: false, reason: 'locked' });
  });

  it('says how many tries are left, and refuses an expired code', async () => {
    await db.pool.query(`DELETE FROM resident_codes`);
    await requestSignInCode(db.pool, outboxSender, ALICE);
    const code = await lastCode('13800001111');
    expect(await verifySignInCode(db.pool, ALICE, code === '123456' ? '654321' : '123456')).toEqual({
      ok: false,
      reason: 'wrong',
      triesLeft: MAX_WRONG_CODES - 1
    });
    await db.pool.query(`UPDATE resident_codes SET expires_at = now() - interval '1 second' WHERE id_number = $1`, [ALICE]);
    expect(await verifySignInCode(db.pool, ALICE, code)).toEqual({ ok: false, reason: 'expired' });
  });
});
