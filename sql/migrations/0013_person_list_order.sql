-- Up Migration
-- 0013 person list order (and list months): the stable order of the people lists (by area path, birth date, ID
-- number — an order that does not expose a personal member) is written by the indicator-facts
-- job instead of computed by the people_now cube. As a window function in the cube's SQL it kept
-- PostgreSQL from pushing a list's area and segment filters into the scan: every list, even a
-- community's seven people, joined and numbered the whole table first (7 s at city scale).
-- Lists are ordered by list_order alone (the area tree's order: district, town, community), and
-- its index gives a city-wide list its first page without sorting a third of a million people.
-- The months a list filters on ('YYYY-MM': recipient span, turning 80) are written as text too:
-- formatted per row at query time (to_char) they made up most of a city-wide list's total.
ALTER TABLE ind_person_now ADD COLUMN list_order bigint,
  ADD COLUMN recipient_from_month text, ADD COLUMN recipient_until_month text, ADD COLUMN turns80_month text;
UPDATE ind_person_now n SET list_order = o.list_order,
       recipient_from_month = to_char(n.recipient_from, 'YYYY-MM'), recipient_until_month = to_char(n.recipient_until, 'YYYY-MM'),
       turns80_month = to_char(n.turns80, 'YYYY-MM')
  FROM (SELECT n2.id_number, row_number() OVER (ORDER BY n2.region_path, p.birth_date, n2.id_number) AS list_order
          FROM ind_person_now n2 LEFT JOIN persons p ON p.id_number = n2.id_number) o
 WHERE o.id_number = n.id_number;
CREATE INDEX ind_person_now_list_order ON ind_person_now (list_order);

-- Down Migration
DROP INDEX IF EXISTS ind_person_now_list_order;
ALTER TABLE ind_person_now DROP COLUMN IF EXISTS list_order, DROP COLUMN IF EXISTS recipient_from_month,
  DROP COLUMN IF EXISTS recipient_until_month, DROP COLUMN IF EXISTS turns80_month;
