// Family access (issue 16, point 8; core/family-access.ts, migration 0037) on real PostgreSQL: the
// parent consents by a texted code, roles limit what a helper does, every helper action texts the
// parent, one-tap revoke and the 12-month expiry end acting at once, at most 3 helpers even when many
// consents arrive together, no helper reaches a parent without a link of their own, and no role may
// report a death or give a bank account for the parent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { person, pid } from './engines-helpers.ts';
import { outboxSender } from '../core/sms.ts';
import { requestSignInCode, residentBySession, verifySignInCode } from '../core/residents.ts';
import {
  FAMILY_ROLES,
  MAX_HELPERS,
  confirmFamilyLink,
  helperMay,
  myHelpers,
  onAccount,
  peopleIHelp,
  requestFamilyLink,
  revokeFamilyLink,
  startActing
} from '../core/family-access.ts';
import { bookCheckup, myBooking } from '../core/workflow/checkup-bookings.ts';

let db: TestDatabase;
const parent = pid('1944-05-05');
const parent2 = pid('1943-06-06', 'F');
const helper = pid('1970-01-01');
const other = pid('1972-02-02', 'F');
const crowd = ['1975-03-01', '1976-03-02', '1977-03-03', '1978-03-04', '1979-03-05'].map((d) => pid(d));
const phoneOf = (id: string) => '139' + id.slice(-8).replace(/X/i, '0');

beforeAll(async () => {
  db = await freshDatabase();
  for (const id of [parent, parent2, helper, other, ...crowd]) await person(db.pool, id, { phone: phoneOf(id) });
  await db.pool.query(`INSERT INTO checkup_slots (centre, day, capacity) VALUES ('市人民医院', CURRENT_DATE + 3, 5)`);
});
afterAll(async () => {
  await db?.drop();
});

const texts = async (id: string, purpose: string) =>
  (await db.pool.query(`SELECT body FROM sms_outbox WHERE phone = $1 AND purpose = $2 ORDER BY sms_id`, [phoneOf(id), purpose])).rows.map(
    (r) => r.body as string
  );
const lastCode = async (id: string, purpose: string) => /(?<!\d)(\d{6})(?!\d)/.exec((await texts(id, purpose)).at(-1) ?? '')?.[1] ?? '';
const signIn = async (id: string) => {
  await requestSignInCode(db.pool, outboxSender, id);
  const r = await verifySignInCode(db.pool, id, await lastCode(id, 'sign_in'));
  if (!r.ok) throw new Error('sign-in failed');
  return r.sessionToken;
};
const link = async (h: string, p: string, role: string) => {
  const r = await requestFamilyLink(db.pool, outboxSender, h, p, role);
  if (!r.sent) throw new Error('not sent: ' + r.reason);
  return r.linkId;
};

describe('family access', () => {
  let linkId: number;
  let token: string;

  it('the parent consents by the code texted to the parent: wrong code counted, right code links for 12 months', async () => {
    const r = await requestFamilyLink(db.pool, outboxSender, helper, parent, 'view');
    expect(r).toMatchObject({ sent: true, phone: expect.stringMatching(/\*{4}/) });
    linkId = (r as { linkId: number }).linkId;
    const code = await lastCode(parent, 'family_consent');
    expect(code).toMatch(/^\d{6}$/);
    expect(await texts(helper, 'family_consent')).toEqual([]); // the code goes to the parent, never the helper
    const wrong = await confirmFamilyLink(db.pool, outboxSender, helper, linkId, code === '000000' ? '111111' : '000000');
    expect(wrong).toEqual({ ok: false, reason: 'wrong', triesLeft: 4 });
    // another resident cannot confirm the helper's request, even with the right code
    expect(await confirmFamilyLink(db.pool, outboxSender, other, linkId, code)).toMatchObject({ ok: false, reason: 'expired' });
    const ok = await confirmFamilyLink(db.pool, outboxSender, helper, linkId, code);
    expect(ok.ok).toBe(true);
    const row = (
      await db.pool.query(
        `SELECT status, expires_at = consented_at + interval '12 months' AS twelve FROM family_links WHERE link_id = $1`,
        [linkId]
      )
    ).rows[0];
    expect(row).toEqual({ status: 'active', twelve: true });
    expect(await texts(parent, 'family_linked')).toHaveLength(1);
    expect(await myHelpers(db.pool, parent)).toEqual([expect.objectContaining({ link_id: linkId, other_id: helper, role: 'view' })]);
    expect(await peopleIHelp(db.pool, helper)).toEqual([expect.objectContaining({ link_id: linkId, other_id: parent, status: 'active' })]);
  });

  it('a request for oneself, an unknown person or a bad role sends nothing', async () => {
    expect(await requestFamilyLink(db.pool, outboxSender, helper, helper, 'view')).toEqual({ sent: false, reason: 'own_id' });
    expect(await requestFamilyLink(db.pool, outboxSender, helper, pid('1930-01-01'), 'view')).toEqual({ sent: false, reason: 'no_phone' });
    expect(await requestFamilyLink(db.pool, outboxSender, helper, parent2, 'bank')).toEqual({ sent: false, reason: 'role' });
    expect(await requestFamilyLink(db.pool, outboxSender, helper, parent, 'view')).toEqual({ sent: false, reason: 'already' });
  });

  it('acting: the pages show the parent; the role limits the steps; every step texts the parent', async () => {
    token = await signIn(helper);
    await startActing(db.pool, outboxSender, token, helper, linkId);
    const me = await residentBySession(db.pool, token);
    expect(me).toMatchObject({ id_number: helper, subject: parent, acting: { link_id: linkId, parent_id: parent, role: 'view' } });
    expect((await texts(parent, 'family_action')).at(-1)).toContain('打开了您的账户');
    const slot = Number((await db.pool.query(`SELECT slot_id FROM checkup_slots LIMIT 1`)).rows[0].slot_id);
    // role "view": booking for the parent is refused, nothing booked, the refusal audit-logged
    await expect(
      onAccount(db.pool, outboxSender, me!, 'request', '为您预约了体检', (who) => bookCheckup(db.pool, who, slot))
    ).rejects.toMatchObject({
      code: 'helper_not_allowed'
    });
    expect(await myBooking(db.pool, parent)).toBeNull();
    // the parent widens the role: a new consent (revoke, ask again, code)
    expect(await revokeFamilyLink(db.pool, outboxSender, parent, linkId)).toBe(true);
    linkId = await link(helper, parent, 'requests');
    expect((await confirmFamilyLink(db.pool, outboxSender, helper, linkId, await lastCode(parent, 'family_consent'))).ok).toBe(true);
    await startActing(db.pool, outboxSender, token, helper, linkId);
    const me2 = (await residentBySession(db.pool, token))!;
    const before = (await texts(parent, 'family_action')).length;
    const r = await onAccount(db.pool, outboxSender, me2, 'request', '为您预约了体检', (who) => bookCheckup(db.pool, who, slot));
    expect(r.ok).toBe(true);
    expect(await myBooking(db.pool, parent)).toMatchObject({ slot_id: slot });
    expect(await myBooking(db.pool, helper)).toBeNull();
    const after = await texts(parent, 'family_action');
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toContain('为您预约了体检');
    // a step that did nothing (already booked) texts nothing
    const again = await onAccount(db.pool, outboxSender, me2, 'request', '为您预约了体检', (who) => bookCheckup(db.pool, who, slot));
    expect(again).toEqual({ ok: false, reason: 'already_booked' });
    expect(await texts(parent, 'family_action')).toHaveLength(before + 1);
  });

  it('no role may give a bank account or report a death for the parent', async () => {
    for (const role of FAMILY_ROLES) {
      expect(helperMay(role, 'bank_account')).toBe(false);
      expect(helperMay(role, 'report_death')).toBe(false);
    }
    const me = (await residentBySession(db.pool, token))!;
    let ran = false;
    await expect(
      onAccount(db.pool, outboxSender, me, 'bank_account', '修改了银行账户', async () => {
        ran = true;
      })
    ).rejects.toMatchObject({ code: 'helper_not_allowed' });
    expect(ran).toBe(false);
  });

  it('a helper cannot reach a person who did not consent by editing the link id', async () => {
    const otherToken = await signIn(other);
    // someone else's link, a pending link, a made-up id: all refused by the database, the session unchanged
    await expect(startActing(db.pool, outboxSender, otherToken, other, linkId)).rejects.toMatchObject({ code: 'not_your_link' });
    const pending = await link(other, parent2, 'view');
    await expect(startActing(db.pool, outboxSender, otherToken, other, pending)).rejects.toMatchObject({ code: 'not_your_link' });
    await expect(startActing(db.pool, outboxSender, otherToken, other, 999999)).rejects.toMatchObject({ code: 'not_your_link' });
    // a token is only good for its own resident
    await expect(startActing(db.pool, outboxSender, otherToken, helper, linkId)).rejects.toMatchObject({ code: 'signed_out' });
    expect(await residentBySession(db.pool, otherToken)).toMatchObject({ subject: other, acting: null });
    await expect(db.pool.query(`UPDATE resident_sessions SET acting_link_id = $1 WHERE id_number = $2`, [linkId, other])).rejects.toThrow(
      /resident_sessions_acting/
    );
  });

  it('the parent revokes with one tap: acting stops at the next page', async () => {
    expect((await residentBySession(db.pool, token))?.subject).toBe(parent);
    expect(await revokeFamilyLink(db.pool, outboxSender, other, linkId)).toBe(false); // not theirs to revoke
    expect(await revokeFamilyLink(db.pool, outboxSender, parent, linkId)).toBe(true);
    expect(await residentBySession(db.pool, token)).toMatchObject({ subject: helper, acting: null });
    expect(await myHelpers(db.pool, parent)).toEqual([]);
  });

  it('a link ends 12 months after the consent', async () => {
    const id = await link(helper, parent, 'view');
    expect((await confirmFamilyLink(db.pool, outboxSender, helper, id, await lastCode(parent, 'family_consent'))).ok).toBe(true);
    await startActing(db.pool, outboxSender, token, helper, id);
    expect((await residentBySession(db.pool, token))?.subject).toBe(parent);
    await db.pool.query(
      `UPDATE family_links SET consented_at = now() - interval '12 months 1 day', expires_at = now() - interval '1 day' WHERE link_id = $1`,
      [id]
    );
    expect(await residentBySession(db.pool, token)).toMatchObject({ subject: helper, acting: null });
    expect(await myHelpers(db.pool, parent)).toEqual([]);
    await expect(startActing(db.pool, outboxSender, token, helper, id)).rejects.toMatchObject({ code: 'not_your_link' });
    // the 12 months are exact: no other end date is accepted
    await expect(
      db.pool.query(`UPDATE family_links SET expires_at = expires_at + interval '1 year' WHERE link_id = $1`, [id])
    ).rejects.toThrow(/family_links_twelve_months/);
  });

  it('at most 3 helpers, even when five consents arrive at once', async () => {
    const pending: { h: string; id: number; code: string }[] = [];
    for (const h of crowd) {
      const id = await link(h, parent2, 'view');
      pending.push({ h, id, code: await lastCode(parent2, 'family_consent') });
    }
    const results = await Promise.all(pending.map((p) => confirmFamilyLink(db.pool, outboxSender, p.h, p.id, p.code)));
    expect(results.filter((r) => r.ok)).toHaveLength(MAX_HELPERS);
    expect(results.filter((r) => !r.ok && r.reason === 'limit')).toHaveLength(2);
    const n = await db.pool.query(`SELECT count(*)::int AS n FROM family_links WHERE parent_id = $1 AND status = 'active'`, [parent2]);
    expect(n.rows[0].n).toBe(3);
    // once one is revoked, a fourth may join
    const [first] = await myHelpers(db.pool, parent2);
    await revokeFamilyLink(db.pool, outboxSender, parent2, first.link_id);
    // the refused consent left its request pending: the same code, tried again, now gets in
    const late = pending.find((p, i) => !results[i].ok)!;
    expect((await confirmFamilyLink(db.pool, outboxSender, late.h, late.id, late.code)).ok).toBe(true);
    expect((await myHelpers(db.pool, parent2)).length).toBe(3);
  });
});
