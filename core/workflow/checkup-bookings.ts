// Health checkup booking (the residents' portal): slots per centre and day with a capacity; book,
// cancel, see my booking. The database enforces both rules at once, whatever the concurrency: a place
// is taken by one conditional UPDATE (booked < capacity), and a resident's second open booking breaks
// a unique index — the transaction then rolls the place back. Migration 0028.
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { audit } from '../audit.ts';
import { todayShanghai } from '../time.ts';

export interface Slot {
  slot_id: number;
  centre: string;
  day: string;
  capacity: number;
  free: number;
}
export interface Booking {
  booking_id: number;
  slot_id: number;
  centre: string;
  day: string;
  reference: string;
}
export type BookResult = { ok: true; booking: Booking } | { ok: false; reason: 'full' | 'already_booked' | 'no_slot' };

export const bookingReference = (id: number) => 'P' + String(id);

/**
 * Open slots for the next `days` days after `from` (weekdays) at the centres residents already go
 * to (the checkups feed's hospitals, most used first); slots that exist are left as they are.
 */
export async function ensureCheckupSlots(
  db: Queryable,
  opts: { from?: string; days?: number; capacity?: number; centres?: number } = {}
): Promise<number> {
  const r = await db.query(
    `WITH centres AS (
       SELECT hospital AS centre FROM checkups WHERE hospital IS NOT NULL AND hospital <> '' GROUP BY hospital ORDER BY count(*) DESC, hospital LIMIT $4
     ), days AS (
       SELECT d::date AS day FROM generate_series($1::date + 1, $1::date + $2::int, interval '1 day') d WHERE extract(isodow FROM d) < 6
     )
     INSERT INTO checkup_slots (centre, day, capacity) SELECT c.centre, d.day, $3 FROM centres c CROSS JOIN days d
     ON CONFLICT (centre, day) DO NOTHING`,
    [opts.from ?? todayShanghai(), opts.days ?? 14, opts.capacity ?? 20, opts.centres ?? 3]
  );
  return r.rowCount ?? 0;
}

/** Slots from tomorrow on, per centre and day, with the places left. */
export async function openSlots(db: Queryable, today = todayShanghai()): Promise<Slot[]> {
  const r = await db.query(
    `SELECT slot_id, centre, to_char(day, 'YYYY-MM-DD') AS day, capacity, capacity - booked AS free
       FROM checkup_slots WHERE day > $1::date ORDER BY centre, day`,
    [today]
  );
  return r.rows.map((x) => ({ slot_id: Number(x.slot_id), centre: x.centre, day: x.day, capacity: x.capacity, free: x.free }));
}

/** The resident's open booking, if any. */
export async function myBooking(db: Queryable, idNumber: string): Promise<Booking | null> {
  const r = await db.query(
    `SELECT b.booking_id, b.slot_id, s.centre, to_char(s.day, 'YYYY-MM-DD') AS day
       FROM checkup_bookings b JOIN checkup_slots s USING (slot_id) WHERE b.id_number = $1 AND b.status = 'booked'`,
    [idNumber]
  );
  const x = r.rows[0];
  return x
    ? {
        booking_id: Number(x.booking_id),
        slot_id: Number(x.slot_id),
        centre: x.centre,
        day: x.day,
        reference: bookingReference(Number(x.booking_id))
      }
    : null;
}

/** Book a place on a slot for the resident (the session's ID number): one place, one open booking. */
export async function bookCheckup(pool: Pool, idNumber: string, slotId: number, today = todayShanghai()): Promise<BookResult> {
  if (!Number.isSafeInteger(slotId) || slotId <= 0) return { ok: false, reason: 'no_slot' };
  try {
    return await withTransaction(pool, async (c) => {
      const place = await c.query(
        `UPDATE checkup_slots SET booked = booked + 1 WHERE slot_id = $1 AND day > $2::date AND booked < capacity
         RETURNING centre, to_char(day, 'YYYY-MM-DD') AS day`,
        [slotId, today]
      );
      if (!place.rowCount) {
        const exists = await c.query(`SELECT 1 FROM checkup_slots WHERE slot_id = $1 AND day > $2::date`, [slotId, today]);
        return { ok: false as const, reason: exists.rowCount ? ('full' as const) : ('no_slot' as const) };
      }
      const b = await c.query(`INSERT INTO checkup_bookings (slot_id, id_number) VALUES ($1, $2) RETURNING booking_id`, [slotId, idNumber]);
      const booking_id = Number(b.rows[0].booking_id);
      await audit(c, { type: 'resident', name: idNumber }, 'checkup.book', idNumber, { slot_id: slotId, booking_id });
      return {
        ok: true as const,
        booking: {
          booking_id,
          slot_id: slotId,
          centre: place.rows[0].centre,
          day: place.rows[0].day,
          reference: bookingReference(booking_id)
        }
      };
    });
  } catch (e) {
    // the resident's open booking already exists (checkup_bookings_one_open): the place was rolled back
    if ((e as { code?: string; constraint?: string }).code === '23505') return { ok: false, reason: 'already_booked' };
    throw e;
  }
}

/** Cancel the resident's open booking and give the place back. False when there was none. */
export async function cancelCheckup(pool: Pool, idNumber: string): Promise<boolean> {
  return withTransaction(pool, async (c) => {
    const b = await c.query(
      `UPDATE checkup_bookings SET status = 'cancelled', cancelled_at = now() WHERE id_number = $1 AND status = 'booked' RETURNING booking_id, slot_id`,
      [idNumber]
    );
    if (!b.rowCount) return false;
    await c.query(`UPDATE checkup_slots SET booked = booked - 1 WHERE slot_id = $1`, [b.rows[0].slot_id]);
    await audit(c, { type: 'resident', name: idNumber }, 'checkup.cancel', idNumber, { booking_id: Number(b.rows[0].booking_id) });
    return true;
  });
}
