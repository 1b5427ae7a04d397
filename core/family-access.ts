// Family access on the resident portal (issue 16, point 8; migration 0037): a resident signed in as
// themselves (the helper: a son or daughter) asks to act for a parent by the parent's ID number; the
// parent consents by a one-time code texted to the parent's own phone (the parent reads it out to the
// helper); the link has a role and lasts 12 months. The parent sees who can see the account and
// revokes with one tap; every helper action texts the parent. A helper never changes a bank account:
// no role has that capability, and the only bank answer on the portal (the funeral grant account of a
// death report) is refused while acting for someone else — a helper reports as themselves.
// The rules live in the database too: at most 3 helpers (a trigger under a per-parent lock), 12 months
// from consent, a session acts only through an active link of its own resident.
import { createHash, randomInt } from 'node:crypto';
import { withTransaction, type Pool, type Queryable } from './db/pool.ts';
import { audit } from './audit.ts';
import { HttpError } from './errors.ts';
import { parseIdNumber } from './domain/id-number.ts';
import { maskPhone } from './domain/masking.ts';
import { CODE_MINUTES, MAX_WRONG_CODES, RESEND_SECONDS, sessionHash, type Resident } from './residents.ts';
import type { SmsSender } from './sms.ts';

export const FAMILY_ROLES = ['view', 'certify', 'requests'] as const;
export type FamilyRole = (typeof FAMILY_ROLES)[number];
/** The limit the database keeps (trigger family_links_limit, migration 0037); tests/family-access.test.ts holds them equal. */
export const MAX_HELPERS = 3;
export const LINK_MONTHS = 12;

/** What a helper may do for a parent. Roles build on each other; nothing lets a helper change a bank account. */
export type Capability = 'view' | 'certify' | 'request' | 'bank_account' | 'report_death' | 'family';
const ROLE_CAN: Record<FamilyRole, readonly Capability[]> = {
  view: ['view'],
  certify: ['view', 'certify'],
  requests: ['view', 'certify', 'request']
};
export const helperMay = (role: FamilyRole, cap: Capability): boolean => ROLE_CAN[role]?.includes(cap) ?? false;

const ROLE_ZH: Record<FamilyRole, string> = { view: '查看', certify: '帮您办理领取资格确认', requests: '代您提交申请和预约' };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const tail = (id: string) => id.slice(-4);

async function personOf(db: Queryable, id: string): Promise<{ name: string; phone: string | null } | null> {
  const r = await db.query(`SELECT name, phone FROM persons WHERE id_number = $1`, [id]);
  return r.rows[0] ? { name: r.rows[0].name, phone: r.rows[0].phone?.trim() || null } : null;
}

export type LinkRequest =
  | { sent: true; linkId: number; phone: string }
  | { sent: false; reason: 'no_phone' | 'own_id' | 'already' | 'too_soon' | 'invalid_id' | 'role' };

/**
 * The helper asks to act for a parent: a pending link and a code texted to the parent's phone (a new
 * request for the same pair replaces the code, at most once every RESEND_SECONDS). Whether the ID number
 * is in the registry is not told apart from "no phone": the answer reveals nothing about a stranger.
 */
export async function requestFamilyLink(
  pool: Pool,
  sms: SmsSender,
  helperId: string,
  rawParentId: string,
  role: string
): Promise<LinkRequest> {
  if (!(FAMILY_ROLES as readonly string[]).includes(role)) return { sent: false, reason: 'role' };
  const id = parseIdNumber(String(rawParentId ?? '').trim());
  if (!id.ok) return { sent: false, reason: 'invalid_id' };
  const parentId = id.value;
  if (parentId === helperId) return { sent: false, reason: 'own_id' };
  const [parent, helper] = await Promise.all([personOf(pool, parentId), personOf(pool, helperId)]);
  if (!parent?.phone || !helper) {
    await audit(pool, { type: 'resident', name: helperId }, 'family.request.refused', parentId, { reason: 'no_phone' });
    return { sent: false, reason: 'no_phone' };
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  return withTransaction(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('yinling:family-pair:' || $1 || ':' || $2))`, [helperId, parentId]);
    const cur = (
      await c.query(
        `SELECT link_id, status, requested_at > now() - make_interval(secs => $3) AS recent FROM family_links
          WHERE helper_id = $1 AND parent_id = $2 AND status IN ('pending', 'active')`,
        [helperId, parentId, RESEND_SECONDS]
      )
    ).rows[0];
    if (cur?.status === 'active') return { sent: false as const, reason: 'already' as const };
    if (cur?.recent) return { sent: false as const, reason: 'too_soon' as const };
    let linkId: number;
    if (cur) {
      linkId = Number(cur.link_id);
      await c.query(
        `UPDATE family_links SET role = $2, requested_at = now(), wrong = 0, code_expires_at = now() + make_interval(mins => $3) WHERE link_id = $1`,
        [linkId, role, CODE_MINUTES]
      );
    } else {
      const ins = await c.query(
        `INSERT INTO family_links (helper_id, parent_id, role, code_expires_at) VALUES ($1, $2, $3, now() + make_interval(mins => $4)) RETURNING link_id`,
        [helperId, parentId, role, CODE_MINUTES]
      );
      linkId = Number(ins.rows[0].link_id);
    }
    await c.query(`UPDATE family_links SET code_hash = $2 WHERE link_id = $1`, [linkId, sha256(`${linkId}:${code}`)]);
    await sms.send(c, {
      phone: parent.phone!,
      purpose: 'family_consent',
      secret: code,
      text: `【银龄】${helper.name}（身份证尾号${tail(helperId)}）请求${ROLE_ZH[role as FamilyRole]}您的账户，为期${LINK_MONTHS}个月。如果您同意，请把验证码 ${code} 告诉对方，${CODE_MINUTES}分钟内有效；不同意就不要告诉任何人。`
    });
    await audit(c, { type: 'resident', name: helperId }, 'family.request', parentId, { link_id: linkId, role });
    return { sent: true as const, linkId, phone: maskPhone(parent.phone) ?? '' };
  });
}

export type LinkConfirm =
  { ok: true; expiresAt: Date } | { ok: false; reason: 'wrong' | 'expired' | 'refused' | 'limit'; triesLeft?: number };

/**
 * The helper enters the code the parent read out: right → the link is active for 12 months (unless the
 * parent has 3 helpers already: refused by the database); wrong → counted, the fifth refuses the link.
 * Only the helper's own pending link can be confirmed.
 */
export async function confirmFamilyLink(pool: Pool, sms: SmsSender, helperId: string, linkId: number, code: string): Promise<LinkConfirm> {
  if (!Number.isSafeInteger(linkId) || linkId <= 0) return { ok: false, reason: 'expired' };
  const given = String(code ?? '').replace(/\s/g, '');
  try {
    return await withTransaction(pool, async (c) => {
      const r = await c.query(
        `UPDATE family_links SET
            wrong = CASE WHEN code_hash = $3 THEN wrong ELSE wrong + 1 END,
            status = CASE WHEN code_hash = $3 THEN 'active' WHEN wrong + 1 >= $4 THEN 'refused' ELSE status END,
            consented_at = CASE WHEN code_hash = $3 THEN now() END,
            expires_at = CASE WHEN code_hash = $3 THEN now() + make_interval(months => $5) END,
            code_hash = CASE WHEN code_hash = $3 THEN NULL ELSE code_hash END
          WHERE link_id = $1 AND helper_id = $2 AND status = 'pending' AND code_expires_at > now()
          RETURNING status, wrong, expires_at, parent_id, role`,
        [linkId, helperId, sha256(`${linkId}:${given}`), MAX_WRONG_CODES, LINK_MONTHS]
      );
      if (!r.rowCount) return { ok: false as const, reason: 'expired' as const };
      const x = r.rows[0];
      if (x.status === 'refused') return { ok: false as const, reason: 'refused' as const };
      if (x.status !== 'active') return { ok: false as const, reason: 'wrong' as const, triesLeft: MAX_WRONG_CODES - x.wrong };
      const [parent, helper] = await Promise.all([personOf(c, x.parent_id), personOf(c, helperId)]);
      const until = (x.expires_at as Date).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' });
      if (parent?.phone)
        await sms.send(c, {
          phone: parent.phone,
          purpose: 'family_linked',
          text: `【银龄】${helper?.name ?? ''}（身份证尾号${tail(helperId)}）现在可以${ROLE_ZH[x.role as FamilyRole]}您的账户，到 ${until} 为止。要取消，请登录后打开“谁能看我的账户”，或打 12333。`
        });
      await audit(c, { type: 'resident', name: helperId }, 'family.consented', x.parent_id, { link_id: linkId, role: x.role });
      return { ok: true as const, expiresAt: x.expires_at as Date };
    });
  } catch (e) {
    if (String((e as Error).message).includes('family_links_max_helpers')) {
      await audit(pool, { type: 'resident', name: helperId }, 'family.limit', String(linkId), { max: MAX_HELPERS });
      return { ok: false, reason: 'limit' };
    }
    throw e;
  }
}

export interface LinkRow {
  link_id: number;
  other_id: string;
  other_name: string;
  role: FamilyRole;
  status: 'pending' | 'active';
  expires_at: Date | null;
}

/** "Who can see my account": the parent's active, unexpired helpers. */
export async function myHelpers(db: Queryable, parentId: string): Promise<LinkRow[]> {
  const r = await db.query(
    `SELECT l.link_id::int, l.helper_id AS other_id, p.name AS other_name, l.role, l.status, l.expires_at
       FROM family_links l JOIN persons p ON p.id_number = l.helper_id
      WHERE l.parent_id = $1 AND l.status = 'active' AND l.expires_at > now() ORDER BY l.consented_at`,
    [parentId]
  );
  return r.rows;
}

/** The people the helper may act for (active, unexpired) and the requests still waiting for a code. */
export async function peopleIHelp(db: Queryable, helperId: string): Promise<LinkRow[]> {
  const r = await db.query(
    `SELECT l.link_id::int, l.parent_id AS other_id, p.name AS other_name, l.role, l.status, l.expires_at
       FROM family_links l JOIN persons p ON p.id_number = l.parent_id
      WHERE l.helper_id = $1 AND ((l.status = 'active' AND l.expires_at > now()) OR (l.status = 'pending' AND l.code_expires_at > now()))
      ORDER BY l.status, l.requested_at`,
    [helperId]
  );
  return r.rows;
}

/** One tap: the parent (or the helper, giving up) ends a link; any session acting through it stops at once. */
export async function revokeFamilyLink(pool: Pool, sms: SmsSender, byId: string, linkId: number): Promise<boolean> {
  if (!Number.isSafeInteger(linkId) || linkId <= 0) return false;
  return withTransaction(pool, async (c) => {
    const r = await c.query(
      `UPDATE family_links SET status = 'revoked', revoked_at = now(), revoked_by = $2
        WHERE link_id = $1 AND (parent_id = $2 OR helper_id = $2) AND status IN ('pending', 'active')
        RETURNING parent_id, helper_id`,
      [linkId, byId]
    );
    if (!r.rowCount) return false;
    await c.query(`UPDATE resident_sessions SET acting_link_id = NULL WHERE acting_link_id = $1`, [linkId]);
    const { parent_id, helper_id } = r.rows[0];
    const parent = await personOf(c, parent_id);
    if (parent?.phone && byId === helper_id)
      await sms.send(c, {
        phone: parent.phone,
        purpose: 'family_revoked',
        text: `【银龄】身份证尾号${tail(helper_id)}的家人已不再代您办理，他/她不能再看您的账户。`
      });
    await audit(c, { type: 'resident', name: byId }, 'family.revoke', parent_id, { link_id: linkId, helper: helper_id });
    return true;
  });
}

/**
 * The helper's session starts acting for the parent of one of the helper's own active links (the
 * database refuses any other link: resident_sessions_acting). Texts the parent.
 */
export async function startActing(pool: Pool, sms: SmsSender, token: string, helperId: string, linkId: number): Promise<void> {
  if (!Number.isSafeInteger(linkId) || linkId <= 0) throw new HttpError(403, 'not your family link', 'not_your_link');
  try {
    await withTransaction(pool, async (c) => {
      const r = await c.query(
        `UPDATE resident_sessions SET acting_link_id = $3 WHERE session_id_hash = $1 AND id_number = $2 AND expires_at > now()`,
        [sessionHash(token), helperId, linkId]
      );
      if (!r.rowCount) throw new HttpError(401, 'signed out', 'signed_out');
      const l = (await c.query(`SELECT parent_id FROM family_links WHERE link_id = $1`, [linkId])).rows[0];
      await textParent(c, sms, { helperId, parentId: l.parent_id }, '打开了您的账户查看');
      await audit(c, { type: 'resident', name: helperId }, 'family.act', l.parent_id, { link_id: linkId });
    });
  } catch (e) {
    if (String((e as Error).message).includes('resident_sessions_acting'))
      throw new HttpError(403, 'not your family link', 'not_your_link');
    throw e;
  }
}

/** Back to the helper's own account. */
export async function stopActing(pool: Pool, token: string): Promise<void> {
  await pool.query(`UPDATE resident_sessions SET acting_link_id = NULL WHERE session_id_hash = $1`, [sessionHash(token)]);
}

async function textParent(db: Queryable, sms: SmsSender, who: { helperId: string; parentId: string }, what: string): Promise<void> {
  const [parent, helper] = await Promise.all([personOf(db, who.parentId), personOf(db, who.helperId)]);
  if (!parent?.phone) return;
  await sms.send(db, {
    phone: parent.phone,
    purpose: 'family_action',
    text: `【银龄】您的家人${helper?.name ?? ''}（身份证尾号${tail(who.helperId)}）刚刚${what}。如果不是您同意的，请打 12333，或登录后在“谁能看我的账户”里取消。`
  });
}

/**
 * A step a signed-in resident takes on the account they are looking at: their own (nothing to check),
 * or a parent's as a helper — then the link's role must allow `cap` (else 403), and after the step the
 * parent gets a text saying what the helper did (`what`, in plain words) — unless the step did nothing
 * (returned false or { ok: false }). Returns the step's result.
 */
export async function onAccount<T>(
  pool: Pool,
  sms: SmsSender,
  resident: Resident,
  cap: Capability,
  what: string,
  step: (subjectId: string) => Promise<T>
): Promise<T> {
  const acting = resident.acting;
  if (!acting) return step(resident.id_number);
  if (!helperMay(acting.role, cap)) {
    await audit(pool, { type: 'resident', name: resident.id_number }, 'family.refused', acting.parent_id, { cap, link_id: acting.link_id });
    throw new HttpError(403, `a helper with role ${acting.role} may not ${cap}`, 'helper_not_allowed');
  }
  const out = await step(acting.parent_id);
  // a step that did nothing (false, or { ok: false }: full, already booked…) is no action to tell about
  const didNothing = out === false || (typeof out === 'object' && out !== null && (out as { ok?: unknown }).ok === false);
  if (didNothing) return out;
  await textParent(pool, sms, { helperId: resident.id_number, parentId: acting.parent_id }, what);
  await audit(pool, { type: 'resident', name: resident.id_number }, 'family.action', acting.parent_id, {
    cap,
    what,
    link_id: acting.link_id
  });
  return out;
}
