// Activities and elderly education (the residents' portal; H04): sessions with a place, a time and a
// capacity; list, sign up, cancel. The database keeps both rules whatever the concurrency, as for
// checkup bookings: a place is taken by one conditional UPDATE (taken < capacity), and a resident's
// second open sign-up to the same session breaks a unique index — the transaction then rolls the place
// back. Open sign-ups count in H04 (sql/engines/indicator-facts.sql). Migration 0037.
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { audit } from '../audit.ts';

export interface ActivitySession {
  session_id: number;
  kind: 'activity' | 'education';
  title_zh: string;
  title_en: string;
  place: string;
  /** Start, Asia/Shanghai: 'YYYY-MM-DD HH:MI' */
  starts: string;
  capacity: number;
  free: number;
  mine: boolean;
}
export type SignUpResult = { ok: true; signup_id: number } | { ok: false; reason: 'full' | 'already' | 'no_session' };

/** Sessions not started yet, soonest first, with the places left and whether this resident signed up. */
export async function listActivities(db: Queryable, idNumber: string): Promise<ActivitySession[]> {
  const r = await db.query(
    `SELECT s.session_id::int, s.kind, s.title_zh, s.title_en, s.place,
            to_char(s.starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS starts, s.capacity, s.capacity - s.taken AS free,
            EXISTS (SELECT 1 FROM activity_signups x WHERE x.session_id = s.session_id AND x.id_number = $1 AND x.status = 'signed_up') AS mine
       FROM activity_sessions s WHERE s.starts_at > now() ORDER BY s.starts_at, s.session_id`,
    [idNumber]
  );
  return r.rows;
}

/** Sign the resident up for a session that has not started: one place, one open sign-up per session. */
export async function signUpActivity(pool: Pool, idNumber: string, sessionId: number): Promise<SignUpResult> {
  if (!Number.isSafeInteger(sessionId) || sessionId <= 0) return { ok: false, reason: 'no_session' };
  try {
    return await withTransaction(pool, async (c) => {
      const place = await c.query(
        `UPDATE activity_sessions SET taken = taken + 1 WHERE session_id = $1 AND starts_at > now() AND taken < capacity RETURNING session_id`,
        [sessionId]
      );
      if (!place.rowCount) {
        const exists = await c.query(`SELECT 1 FROM activity_sessions WHERE session_id = $1 AND starts_at > now()`, [sessionId]);
        return { ok: false as const, reason: exists.rowCount ? ('full' as const) : ('no_session' as const) };
      }
      const s = await c.query(`INSERT INTO activity_signups (session_id, id_number) VALUES ($1, $2) RETURNING signup_id`, [
        sessionId,
        idNumber
      ]);
      const signup_id = Number(s.rows[0].signup_id);
      await audit(c, { type: 'resident', name: idNumber }, 'activity.sign_up', idNumber, { session_id: sessionId, signup_id });
      return { ok: true as const, signup_id };
    });
  } catch (e) {
    // already signed up for this session (activity_signups_one_open): the place was rolled back
    if ((e as { code?: string }).code === '23505') return { ok: false, reason: 'already' };
    throw e;
  }
}

/** Cancel the resident's open sign-up to a session and give the place back. False when there was none. */
export async function cancelActivity(pool: Pool, idNumber: string, sessionId: number): Promise<boolean> {
  if (!Number.isSafeInteger(sessionId) || sessionId <= 0) return false;
  return withTransaction(pool, async (c) => {
    const s = await c.query(
      `UPDATE activity_signups SET status = 'cancelled', cancelled_at = now()
        WHERE session_id = $1 AND id_number = $2 AND status = 'signed_up' RETURNING signup_id`,
      [sessionId, idNumber]
    );
    if (!s.rowCount) return false;
    await c.query(`UPDATE activity_sessions SET taken = taken - 1 WHERE session_id = $1`, [sessionId]);
    await audit(c, { type: 'resident', name: idNumber }, 'activity.cancel', idNumber, {
      session_id: sessionId,
      signup_id: Number(s.rows[0].signup_id)
    });
    return true;
  });
}

/** The demo city's programme: what a community centre and the seniors' university offer each week. */
const PROGRAMME: { code: string; kind: 'activity' | 'education'; zh: string; en: string; isodow: number; time: string }[] = [
  { code: 'TAIJI', kind: 'activity', zh: '太极拳晨练', en: 'Morning tai chi', isodow: 1, time: '08:00' },
  { code: 'CHOIR', kind: 'activity', zh: '合唱团排练', en: 'Choir practice', isodow: 3, time: '14:30' },
  {
    code: 'PHONE',
    kind: 'education',
    zh: '老年大学：智能手机入门',
    en: "Seniors' university: using a smartphone",
    isodow: 2,
    time: '09:30'
  },
  {
    code: 'HEALTH',
    kind: 'education',
    zh: '老年大学：慢病与用药讲座',
    en: "Seniors' university: long-term illness and medicines",
    isodow: 4,
    time: '09:30'
  },
  { code: 'FRAUD', kind: 'education', zh: '防诈骗讲座', en: 'How to spot phone and online fraud', isodow: 5, time: '15:00' }
];

/**
 * Sessions of the weekly programme for the next `days` days after `from` (the demo city's; an operator
 * loads their own). Existing sessions are left as they are. Returns how many were added.
 */
export async function ensureActivitySessions(db: Queryable, opts: { from: string; days?: number; capacity?: number }): Promise<number> {
  let added = 0;
  for (const p of PROGRAMME) {
    const r = await db.query(
      `INSERT INTO activity_sessions (activity_code, kind, title_zh, title_en, place, starts_at, capacity)
       SELECT $4, $5, $6, $7, $8, (d::date + $9::time) AT TIME ZONE 'Asia/Shanghai', $10
         FROM generate_series($1::date + 1, $1::date + $2::int, interval '1 day') d WHERE extract(isodow FROM d) = $3
       ON CONFLICT (activity_code, starts_at) DO NOTHING`,
      [
        opts.from,
        opts.days ?? 14,
        p.isodow,
        'PORTAL-' + p.code,
        p.kind,
        p.zh,
        p.en,
        p.kind === 'education' ? '老年大学（市民中心）' : '社区老年活动中心',
        p.time,
        opts.capacity ?? 30
      ]
    );
    added += r.rowCount ?? 0;
  }
  return added;
}
