// Checkup booking against a real PostgreSQL: never over capacity and never a double booking, also
// when many residents fire at the last place at once (exactly one winner) and when one resident
// books twice at once; cancel gives the place back; open bookings count in H02 (indicator facts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './db.ts';
import { person, pid } from './engines-helpers.ts';
import { bookCheckup, cancelCheckup, myBooking, openSlots } from '../core/workflow/checkup-bookings.ts';
import { buildIndicatorFacts } from '../jobs/indicator-facts.ts';
import { todayShanghai } from '../core/time.ts';

let db: TestDatabase;
const today = todayShanghai();
const people = Array.from({ length: 40 }, (_, i) => pid(`194${i % 10}-0${(i % 9) + 1}-15`, i % 2 ? 'M' : 'F'));
let day: string;

async function slot(capacity: number, booked = 0): Promise<number> {
  const r = await db.pool.query(
    `INSERT INTO checkup_slots (centre, day, capacity, booked) VALUES ('市人民医院体检中心 ' || gen_random_uuid(), $1, $2, $3) RETURNING slot_id`,
    [day, capacity, booked]
  );
  return Number(r.rows[0].slot_id);
}

beforeAll(async () => {
  db = await freshDatabase();
  // db.pool has 4 connections: enough for real contention, and the requests queue as a server's would
  day = (await db.pool.query(`SELECT to_char($1::date + 3, 'YYYY-MM-DD') AS d`, [today])).rows[0].d;
  for (const id of people) await person(db.pool, id);
});
afterAll(async () => {
  await db?.drop();
});

describe('checkup booking', () => {
  it('gives the last place to exactly one of many concurrent residents', async () => {
    const s = await slot(5, 4);
    const results = await Promise.all(people.slice(0, 30).map((id) => bookCheckup(db.pool, id, s)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'full')).toHaveLength(29);
    const row = (await db.pool.query(`SELECT booked, capacity FROM checkup_slots WHERE slot_id = $1`, [s])).rows[0];
    expect(row).toEqual({ booked: 5, capacity: 5 });
    const open = await db.pool.query(`SELECT count(*)::int AS n FROM checkup_bookings WHERE slot_id = $1 AND status = 'booked'`, [s]);
    expect(open.rows[0].n).toBe(1);
    // the database itself refuses a count above the capacity
    await expect(db.pool.query(`UPDATE checkup_slots SET booked = capacity + 1 WHERE slot_id = $1`, [s])).rejects.toMatchObject({
      constraint: 'checkup_slots_within_capacity'
    });
    const winner = people[results.findIndex((r) => r.ok)];
    expect(await cancelCheckup(db.pool, winner)).toBe(true);
  });

  it('fills a slot exactly to capacity under 200 concurrent requests on 20 places', async () => {
    const s = await slot(20);
    const many = Array.from({ length: 200 }, (_, i) => pid(`195${i % 10}-01-0${(i % 9) + 1}`));
    const results = await Promise.all(many.map((id) => bookCheckup(db.pool, id, s)));
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    expect(results.every((r) => r.ok || r.reason === 'full')).toBe(true);
    expect((await db.pool.query(`SELECT booked FROM checkup_slots WHERE slot_id = $1`, [s])).rows[0].booked).toBe(20);
    await db.pool.query(`UPDATE checkup_bookings SET status = 'cancelled' WHERE slot_id = $1`, [s]);
    await db.pool.query(`UPDATE checkup_slots SET booked = 0 WHERE slot_id = $1`, [s]);
  });

  it('never holds two open bookings for one resident, even when both requests come at once', async () => {
    const [s1, s2] = [await slot(10), await slot(10)];
    const who = people[35];
    const results = await Promise.all([bookCheckup(db.pool, who, s1), bookCheckup(db.pool, who, s2), bookCheckup(db.pool, who, s1)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'already_booked')).toHaveLength(2);
    const taken = await db.pool.query(`SELECT sum(booked)::int AS n FROM checkup_slots WHERE slot_id = ANY($1)`, [[s1, s2]]);
    expect(taken.rows[0].n).toBe(1); // the losers' places were rolled back
    const mine = await myBooking(db.pool, who);
    expect(mine?.slot_id).toBe((results.find((r) => r.ok) as { booking: { slot_id: number } }).booking.slot_id);
    // cancel gives the place back; a second cancel finds nothing; then a new booking is possible
    expect(await cancelCheckup(db.pool, who)).toBe(true);
    expect(await cancelCheckup(db.pool, who)).toBe(false);
    expect((await db.pool.query(`SELECT sum(booked)::int AS n FROM checkup_slots WHERE slot_id = ANY($1)`, [[s1, s2]])).rows[0].n).toBe(0);
    expect((await bookCheckup(db.pool, who, s2)).ok).toBe(true);
    await cancelCheckup(db.pool, who);
  });

  it('refuses a past or unknown slot, and lists only slots after today with the places left', async () => {
    const past = Number(
      (await db.pool.query(`INSERT INTO checkup_slots (centre, day, capacity) VALUES ('旧', $1, 5) RETURNING slot_id`, [today])).rows[0]
        .slot_id
    );
    expect(await bookCheckup(db.pool, people[36], past)).toEqual({ ok: false, reason: 'no_slot' });
    expect(await bookCheckup(db.pool, people[36], 999999)).toEqual({ ok: false, reason: 'no_slot' });
    expect(await bookCheckup(db.pool, people[36], Number.NaN)).toEqual({ ok: false, reason: 'no_slot' });
    const slots = await openSlots(db.pool, today);
    const booked = await db.pool.query(`SELECT slot_id, capacity - booked AS free FROM checkup_slots WHERE day > $1::date`, [today]);
    expect(slots.map((s) => [s.slot_id, s.free]).sort()).toEqual(booked.rows.map((r) => [Number(r.slot_id), r.free]).sort());
    expect(slots.every((s) => s.day > today)).toBe(true);
    expect(slots.some((s) => s.slot_id === past)).toBe(false);
  });

  it('counts open bookings in H02 (checkup bookings of the month) and drops cancelled ones', async () => {
    const s = await slot(10);
    const who = people[37];
    const h02 = async () => {
      await buildIndicatorFacts(db.pool, day);
      const r = await db.pool.query(
        `SELECT COALESCE(sum(checkup_bookings), 0)::int AS n FROM ind_region_month WHERE period = date_trunc('month', $1::date)::date`,
        [day]
      );
      return r.rows[0].n;
    };
    const before = await h02();
    expect((await bookCheckup(db.pool, who, s)).ok).toBe(true);
    expect(await h02()).toBe(before + 1);
    await cancelCheckup(db.pool, who);
    expect(await h02()).toBe(before);
  });
});
