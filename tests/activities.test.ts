// Activities and elderly education on the portal (core/workflow/activities.ts, migration 0037) on real
// PostgreSQL: list, sign up, cancel; never over capacity and never a second sign-up to one session even
// when the requests arrive at once; open sign-ups count in H04 (indicator facts), cancelled ones do not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { person, pid } from './engines-helpers.ts';
import { cancelActivity, ensureActivitySessions, listActivities, signUpActivity } from '../core/workflow/activities.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
const today = todayShanghai();
const people = Array.from({ length: 30 }, (_, i) => pid(`19${50 + (i % 10)}-0${1 + (i % 9)}-1${i % 10}`));

beforeAll(async () => {
  db = await freshDatabase();
  for (const id of people) await person(db.pool, id);
});
afterAll(async () => {
  await db?.drop();
});

const session = async (capacity: number) =>
  Number(
    (
      await db.pool.query(
        `INSERT INTO activity_sessions (activity_code, kind, title_zh, title_en, place, starts_at, capacity)
         VALUES ('T-' || gen_random_uuid(), 'education', '测试课', 'Test class', '老年大学', now() + interval '3 days', $1) RETURNING session_id`,
        [capacity]
      )
    ).rows[0].session_id
  );

describe('activities and elderly education', () => {
  it('opens the weekly programme for two weeks, once', async () => {
    const n = await ensureActivitySessions(db.pool, { from: today });
    expect(n).toBe(10); // five a week
    expect(await ensureActivitySessions(db.pool, { from: today })).toBe(0);
    const list = await listActivities(db.pool, people[0]);
    expect(list).toHaveLength(10);
    expect(list.every((s) => s.free === 30 && !s.mine)).toBe(true);
    expect(new Set(list.map((s) => s.kind))).toEqual(new Set(['activity', 'education']));
  });

  it('signs up, shows it as mine, refuses a second sign-up, cancels and gives the place back', async () => {
    const s = await session(5);
    const who = people[1];
    expect(await signUpActivity(db.pool, who, s)).toMatchObject({ ok: true });
    expect((await listActivities(db.pool, who)).find((x) => x.session_id === s)).toMatchObject({ mine: true, free: 4 });
    expect((await listActivities(db.pool, people[2])).find((x) => x.session_id === s)).toMatchObject({ mine: false, free: 4 });
    expect(await signUpActivity(db.pool, who, s)).toEqual({ ok: false, reason: 'already' });
    expect(await signUpActivity(db.pool, who, 999999)).toEqual({ ok: false, reason: 'no_session' });
    expect(await cancelActivity(db.pool, people[2], s)).toBe(false); // not theirs
    expect(await cancelActivity(db.pool, who, s)).toBe(true);
    expect((await listActivities(db.pool, who)).find((x) => x.session_id === s)).toMatchObject({ mine: false, free: 5 });
  });

  it('never goes over capacity: 20 residents at once for 3 places → exactly 3; one resident twice at once → one', async () => {
    const s = await session(3);
    const r = await Promise.all(people.slice(5, 25).map((id) => signUpActivity(db.pool, id, s)));
    expect(r.filter((x) => x.ok)).toHaveLength(3);
    expect(r.filter((x) => !x.ok && x.reason === 'full')).toHaveLength(17);
    const t = await db.pool.query(`SELECT taken FROM activity_sessions WHERE session_id = $1`, [s]);
    expect(t.rows[0].taken).toBe(3);
    const s2 = await session(10);
    const twice = await Promise.all([signUpActivity(db.pool, people[26], s2), signUpActivity(db.pool, people[26], s2)]);
    expect(twice.filter((x) => x.ok)).toHaveLength(1);
    expect((await db.pool.query(`SELECT taken FROM activity_sessions WHERE session_id = $1`, [s2])).rows[0].taken).toBe(1);
    await expect(db.pool.query(`UPDATE activity_sessions SET taken = capacity + 1 WHERE session_id = $1`, [s])).rejects.toThrow(
      /activity_sessions_within_capacity/
    );
  });

  it('counts open sign-ups in H04 (sign-ups of the month) and drops cancelled ones', async () => {
    const s = await session(10);
    const who = people[28];
    const h04 = async () => {
      await buildIndicatorFacts(db.pool, today);
      const r = await db.pool.query(
        `SELECT COALESCE(sum(signups), 0)::int AS n FROM ind_region_month WHERE period = date_trunc('month', $1::date)::date`,
        [today]
      );
      return r.rows[0].n;
    };
    const before = await h04();
    expect((await signUpActivity(db.pool, who, s)).ok).toBe(true);
    expect(await h04()).toBe(before + 1);
    // once the activities feed carries the portal's sign-up, it counts once, not twice
    const id = (await db.pool.query(`SELECT signup_id FROM activity_signups WHERE id_number = $1 AND session_id = $2`, [who, s])).rows[0]
      .signup_id;
    await db.pool.query(
      `INSERT INTO activities (signup_id, id_number, activity_code, kind, signed_up_at) SELECT 'A' || $1::bigint, $2, 'T', 'education', signed_up_at
         FROM activity_signups WHERE signup_id = $1::bigint`,
      [id, who]
    );
    expect(await h04()).toBe(before + 1);
    await db.pool.query(`DELETE FROM activities WHERE signup_id = 'A' || $1::bigint`, [id]);
    await cancelActivity(db.pool, who, s);
    expect(await h04()).toBe(before);
  });
});
