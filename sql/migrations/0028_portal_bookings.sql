-- Up Migration
-- Health checkup booking in the residents' portal (core/workflow/checkup-bookings.ts). A slot is one
-- checkup centre's day with a capacity; `booked` counts its open bookings and can never pass the
-- capacity (the CHECK, and the conditional UPDATE … WHERE booked < capacity that takes a place). A
-- resident holds at most one open booking (the partial unique index): never a double booking, also
-- when the same resident's requests arrive at once. Open bookings count in H02 (indicator-facts.sql)
-- until the centre's checkups feed carries them (checkup_id = 'P' || booking_id).
CREATE TABLE checkup_slots (
  slot_id  bigserial PRIMARY KEY,
  centre   text    NOT NULL,
  day      date    NOT NULL,
  capacity integer NOT NULL CHECK (capacity > 0),
  booked   integer NOT NULL DEFAULT 0,
  CONSTRAINT checkup_slots_within_capacity CHECK (booked >= 0 AND booked <= capacity),
  UNIQUE (centre, day)
);
CREATE INDEX checkup_slots_day ON checkup_slots (day);

CREATE TABLE checkup_bookings (
  booking_id   bigserial   PRIMARY KEY,
  slot_id      bigint      NOT NULL REFERENCES checkup_slots (slot_id),
  id_number    text        NOT NULL,
  status       text        NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
  booked_at    timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz
);
CREATE UNIQUE INDEX checkup_bookings_one_open ON checkup_bookings (id_number) WHERE status = 'booked';
CREATE INDEX checkup_bookings_slot ON checkup_bookings (slot_id) WHERE status = 'booked';

-- Down Migration
DROP TABLE checkup_bookings, checkup_slots;
