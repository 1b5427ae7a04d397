-- name: certify
-- params: as_of, as_of_month, full, as_of_end, weak_days, weak_min_sources, weak_min_records, lookback_months, validity_months, run_id, reminder_days, reminder_channel, field_days, suspension_days, field_due_days
-- purpose: silent certification (docs/rules.md 1–8) for every benefit recipient as of :as_of — status,
--   method, basis date, validity, rule and evidence ids into cert_status; the dated follow-up events
--   (certified, reminder, field_task, suspension, resumption) into cert_events; field-verification
--   tasks to the person's community. :full = false limits the run to the people in engine_scope
--   (a temp table the caller fills). The decisions mirror jobs/domain/certification-rules.ts, whose
--   header states every reading of docs/rules.md made here.

-- step: population
-- Recipients: an active or suspended enrollment that has started and not ended by :as_of (a suspended
-- benefit still needs certification to be resumed).
CREATE TEMP TABLE c_pop ON COMMIT DROP AS
SELECT e.id_number, min(e.start_period) AS benefit_start, max(COALESCE(p.residence_region, p.hukou_region)) AS region_code
  FROM enrollments e
  LEFT JOIN persons p ON p.id_number = e.id_number
 WHERE e.status IN ('active', 'suspended') AND e.start_period <= :as_of::date
   AND (e.end_period IS NULL OR e.end_period >= :as_of_month::date)
   AND (:full::boolean OR e.id_number IN (SELECT id_number FROM engine_scope))
 GROUP BY e.id_number;
CREATE UNIQUE INDEX ON c_pop (id_number);
ANALYZE c_pop;

-- step: negatives
-- Death (earliest recorded death date) and custody known on :as_of; a withdrawn record negates nothing
-- (deaths_as_of / imprisonments_as_of, migration 0022). custody_end = the latest end of an ended custody:
-- a basis must be dated after it.
CREATE TEMP TABLE c_neg ON COMMIT DROP AS
WITH d AS (
  SELECT id_number, min(death_date) AS death_date, array_agg(record_id ORDER BY record_id) AS ids,
         min(COALESCE((recorded_at AT TIME ZONE 'Asia/Shanghai')::date, death_date)) AS known_on
    FROM deaths_as_of(:as_of_end::timestamptz)
   WHERE NOT withdrawn AND death_date <= :as_of::date AND (recorded_at IS NULL OR recorded_at < :as_of_end::timestamptz)
     AND id_number IN (SELECT id_number FROM c_pop)
   GROUP BY id_number
), i AS (
  SELECT id_number,
         array_agg(record_id ORDER BY record_id) FILTER (WHERE end_date IS NULL OR end_date > :as_of::date) AS ongoing_ids,
         min(start_date) FILTER (WHERE end_date IS NULL OR end_date > :as_of::date) AS ongoing_start,
         min(COALESCE((recorded_at AT TIME ZONE 'Asia/Shanghai')::date, start_date)) FILTER (WHERE end_date IS NULL OR end_date > :as_of::date) AS ongoing_known_on,
         max(end_date) FILTER (WHERE end_date <= :as_of::date) AS custody_end,
         max(start_date) FILTER (WHERE end_date <= :as_of::date) AS last_ended_start
    FROM imprisonments_as_of(:as_of_end::timestamptz)
   WHERE NOT withdrawn AND start_date <= :as_of::date AND (recorded_at IS NULL OR recorded_at < :as_of_end::timestamptz)
     AND id_number IN (SELECT id_number FROM c_pop)
   GROUP BY id_number
)
SELECT COALESCE(d.id_number, i.id_number) AS id_number, d.death_date, d.ids AS death_ids, d.known_on AS death_known_on,
       i.ongoing_ids, i.ongoing_start, i.ongoing_known_on, i.custody_end, i.last_ended_start
  FROM d FULL JOIN i ON i.id_number = d.id_number;
CREATE UNIQUE INDEX ON c_neg (id_number);
ANALYZE c_neg;

-- step: strong
-- The most recent strong evidence day per person (ever, so a lapse can be dated), after custody ends,
-- with every strong record of that day (they explain a strong basis): one pass, grouped by person and
-- day, then the latest day. (A second pass that looked the day's records up again per person cost
-- more than the rest of the step at city scale: 200k random index probes into evidence.)
CREATE TEMP TABLE c_strong ON COMMIT DROP AS
SELECT DISTINCT ON (id_number) id_number, d, ids
  FROM (SELECT ev.id_number, (ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS d, array_agg(ev.evidence_id ORDER BY ev.evidence_id) AS ids
          FROM evidence ev
          JOIN ref_evidence_kinds k ON k.kind = ev.kind AND k.strength = 'strong'
          JOIN c_pop USING (id_number)
          LEFT JOIN c_neg n USING (id_number)
         WHERE ev.occurred_at < :as_of_end::timestamptz
           AND (n.custody_end IS NULL OR ev.occurred_at >= (n.custody_end + 1)::timestamptz)
         GROUP BY 1, 2) x
 ORDER BY id_number, d DESC;
CREATE UNIQUE INDEX ON c_strong (id_number);
ANALYZE c_strong;

-- step: explicit
-- The most recent passed explicit certification per person (latest timestamp, then smallest id on a day).
CREATE TEMP TABLE c_explicit ON COMMIT DROP AS
SELECT DISTINCT ON (c.id_number) c.id_number, (c.certified_at AT TIME ZONE 'Asia/Shanghai')::date AS d, c.method, c.certification_id
  FROM certifications c
  JOIN c_pop USING (id_number)
  LEFT JOIN c_neg n USING (id_number)
 WHERE c.result = 'pass' AND c.certified_at < :as_of_end::timestamptz
   AND (n.custody_end IS NULL OR (c.certified_at AT TIME ZONE 'Asia/Shanghai')::date > n.custody_end)
 ORDER BY c.id_number, (c.certified_at AT TIME ZONE 'Asia/Shanghai')::date DESC, c.certified_at DESC, c.certification_id;
CREATE UNIQUE INDEX ON c_explicit (id_number);
ANALYZE c_explicit;

-- step: weak threshold
-- Weak records that could still make the most recent basis: dated after the person's latest strong and
-- explicit basis (an earlier window would lose to those anyway) and after custody ends.
CREATE TEMP TABLE c_thr ON COMMIT DROP AS
SELECT p.id_number, (GREATEST(n.custody_end, s.d, x.d) + 1)::timestamptz AS after_ts
  FROM c_pop p
  LEFT JOIN c_neg n USING (id_number)
  LEFT JOIN c_strong s USING (id_number)
  LEFT JOIN c_explicit x USING (id_number)
 WHERE n.death_date IS NULL AND n.ongoing_ids IS NULL;
CREATE UNIQUE INDEX ON c_thr (id_number);
ANALYZE c_thr;

-- step: weak records
CREATE TEMP TABLE c_weak ON COMMIT DROP AS
SELECT ev.id_number, ev.source, (ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS d, ev.evidence_id
  FROM evidence ev
  JOIN ref_evidence_kinds k ON k.kind = ev.kind AND k.strength = 'weak'
  JOIN c_thr t USING (id_number)
 WHERE ev.occurred_at < :as_of_end::timestamptz
   AND (t.after_ts IS NULL OR ev.occurred_at >= t.after_ts);
CREATE INDEX ON c_weak (id_number, d);
ANALYZE c_weak;

-- step: weak corroboration
-- For each anchor date, the records in [anchor, anchor + window] must reach the minimum number of
-- records and of distinct sources; the most recent qualifying anchor counts (validity from it).
-- With at most 2 sources required, "≥ 2 distinct sources" = the smallest and largest source in the
-- window differ: one window pass (RANGE frame) instead of pairing records.
CREATE TEMP TABLE c_anchor (id_number text, d date) ON COMMIT DROP;
INSERT INTO c_anchor
SELECT id_number, max(d) FROM (
  SELECT id_number, d,
         count(*) OVER w AS records, min(source) OVER w AS lo, max(source) OVER w AS hi
    FROM c_weak
  WINDOW w AS (PARTITION BY id_number ORDER BY d RANGE BETWEEN CURRENT ROW AND make_interval(days => :weak_days::int) FOLLOWING)
) x
 WHERE :weak_min_sources::int <= 2 AND records >= :weak_min_records::int AND (:weak_min_sources::int < 2 OR lo <> hi)
 GROUP BY id_number;
INSERT INTO c_anchor
SELECT DISTINCT ON (a.id_number) a.id_number, a.d
  FROM (SELECT DISTINCT id_number, d FROM c_weak) a
  JOIN c_weak w ON w.id_number = a.id_number AND w.d BETWEEN a.d AND a.d + :weak_days::int
 WHERE :weak_min_sources::int > 2
 GROUP BY a.id_number, a.d
HAVING count(*) >= :weak_min_records::int AND count(DISTINCT w.source) >= :weak_min_sources::int
 ORDER BY a.id_number, a.d DESC;
CREATE TEMP TABLE c_weakbest ON COMMIT DROP AS
SELECT a.id_number, a.d, array_agg(DISTINCT w.evidence_id ORDER BY w.evidence_id) AS ids
  FROM c_anchor a JOIN c_weak w ON w.id_number = a.id_number AND w.d BETWEEN a.d AND a.d + :weak_days::int
 GROUP BY a.id_number, a.d;
CREATE UNIQUE INDEX ON c_weakbest (id_number);

-- step: decide
-- Negative first; otherwise the most recent basis (silent beats explicit on the same day, strong beats
-- weak); certified when it lies in the lookback and is still valid on :as_of.
CREATE TEMP TABLE c_dec ON COMMIT DROP AS
WITH b AS (
  SELECT p.id_number, p.region_code, p.benefit_start, n.death_date, n.death_ids, n.death_known_on,
         n.ongoing_ids, n.ongoing_start, n.ongoing_known_on,
         s.d AS strong_d, x.d AS explicit_d, x.method AS explicit_method, x.certification_id, w.d AS weak_d, w.ids AS weak_ids,
         s.ids AS strong_ids
    FROM c_pop p
    LEFT JOIN c_neg n USING (id_number)
    LEFT JOIN c_strong s USING (id_number)
    LEFT JOIN c_explicit x USING (id_number)
    LEFT JOIN c_weakbest w USING (id_number)
), pick AS (
  SELECT b.*,
         CASE
           WHEN strong_d IS NOT NULL AND strong_d >= COALESCE(explicit_d, strong_d) AND strong_d >= COALESCE(weak_d, strong_d) THEN 'strong_evidence'
           WHEN weak_d IS NOT NULL AND weak_d >= COALESCE(explicit_d, weak_d) THEN 'weak_corroboration'
           WHEN explicit_d IS NOT NULL THEN 'explicit_certification'
         END AS basis_rule
    FROM b
), basis AS (
  SELECT pick.*,
         CASE basis_rule WHEN 'strong_evidence' THEN strong_d WHEN 'weak_corroboration' THEN weak_d WHEN 'explicit_certification' THEN explicit_d END AS basis_d,
         CASE WHEN basis_rule IS NULL THEN NULL WHEN basis_rule = 'explicit_certification' THEN explicit_method ELSE 'silent' END AS basis_method
    FROM pick
)
SELECT id_number, region_code, benefit_start, death_date, death_known_on, ongoing_start, ongoing_known_on,
       CASE WHEN death_date IS NOT NULL OR ongoing_ids IS NOT NULL THEN 'negative'
            WHEN basis_d IS NOT NULL AND basis_d >= (:as_of::date - make_interval(months => :lookback_months::int))::date
                 AND (basis_d + make_interval(months => :validity_months::int))::date >= :as_of::date THEN 'certified'
            ELSE 'not_certified' END AS status,
       CASE WHEN death_date IS NOT NULL THEN 'negative_death'
            WHEN ongoing_ids IS NOT NULL THEN 'negative_custody'
            WHEN basis_d IS NULL THEN 'never_certified'
            WHEN basis_d >= (:as_of::date - make_interval(months => :lookback_months::int))::date
                 AND (basis_d + make_interval(months => :validity_months::int))::date >= :as_of::date THEN basis_rule
            ELSE 'expired' END AS rule,
       CASE WHEN death_date IS NULL AND ongoing_ids IS NULL THEN basis_method END AS basis_method,
       CASE WHEN death_date IS NULL AND ongoing_ids IS NULL THEN basis_d END AS basis_d,
       CASE WHEN death_date IS NULL AND ongoing_ids IS NULL THEN (basis_d + make_interval(months => :validity_months::int))::date END AS basis_valid_until,
       CASE WHEN death_date IS NOT NULL THEN death_ids
            WHEN ongoing_ids IS NOT NULL THEN ongoing_ids
            WHEN basis_rule = 'explicit_certification' THEN ARRAY[certification_id]
            WHEN basis_rule = 'weak_corroboration' THEN weak_ids
            WHEN basis_rule = 'strong_evidence' THEN strong_ids
            ELSE NULL END AS ids
  FROM basis;
CREATE UNIQUE INDEX ON c_dec (id_number);
ANALYZE c_dec;

-- step: status
-- Replace the scope's rows of cert_status (a full run replaces all: people no longer receiving drop out).
DELETE FROM cert_status s
 WHERE (:full::boolean OR s.id_number IN (SELECT id_number FROM engine_scope))
   AND NOT EXISTS (SELECT 1 FROM c_dec d WHERE d.id_number = s.id_number);

-- step: status changes
-- The rows that are new or differ, read from cert_status before it is written: a statement that
-- probes the table it inserts into may be planned as a nested loop over a scan of it (an empty,
-- analyzed table looks like one row), and that scan re-reads every row the statement has added so
-- far — quadratic on a first run (issue 22). Snapshot first, then write.
CREATE TEMP TABLE c_status_new ON COMMIT DROP AS
SELECT n.* FROM (
  SELECT id_number, :as_of::date AS as_of, status,
         CASE WHEN status = 'certified' THEN basis_method END AS method,
         CASE WHEN status = 'certified' THEN basis_d END AS certified_at,
         CASE WHEN status = 'certified' THEN basis_valid_until END AS valid_until,
         rule, COALESCE(ids, '{}') AS evidence_ids, basis_d AS last_certified_at, basis_valid_until AS last_valid_until, region_code,
         -- the day the current lapse began (rule 5): the follow-ups of this lapse are the ones that count now
         CASE WHEN status = 'not_certified' THEN COALESCE(basis_valid_until, benefit_start - 1) + 1 END AS lapsed_on,
         :run_id::bigint AS run_id, now() AS updated_at
    FROM c_dec) n
  LEFT JOIN cert_status o USING (id_number)
 WHERE o.id_number IS NULL
    OR (o.status, o.method, o.certified_at, o.valid_until, o.rule, o.evidence_ids, o.last_valid_until, o.region_code, o.as_of, o.lapsed_on)
       IS DISTINCT FROM (n.status, n.method, n.certified_at, n.valid_until, n.rule, n.evidence_ids, n.last_valid_until, n.region_code, n.as_of, n.lapsed_on);

-- step: upsert status
INSERT INTO cert_status AS s (id_number, as_of, status, method, certified_at, valid_until, rule, evidence_ids,
                              last_certified_at, last_valid_until, region_code, lapsed_on, run_id, updated_at)
SELECT id_number, as_of, status, method, certified_at, valid_until, rule, evidence_ids, last_certified_at, last_valid_until, region_code, lapsed_on, run_id, updated_at
  FROM c_status_new
 -- in key order: a first run inserts every recipient, and index pages filled in order stay in cache
 ORDER BY id_number
ON CONFLICT (id_number) DO UPDATE SET
  as_of = EXCLUDED.as_of, status = EXCLUDED.status, method = EXCLUDED.method, certified_at = EXCLUDED.certified_at,
  valid_until = EXCLUDED.valid_until, rule = EXCLUDED.rule, evidence_ids = EXCLUDED.evidence_ids,
  last_certified_at = EXCLUDED.last_certified_at, last_valid_until = EXCLUDED.last_valid_until,
  region_code = EXCLUDED.region_code, lapsed_on = EXCLUDED.lapsed_on, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at
WHERE (s.status, s.method, s.certified_at, s.valid_until, s.rule, s.evidence_ids, s.last_valid_until, s.region_code, s.lapsed_on)
      IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.method, EXCLUDED.certified_at, EXCLUDED.valid_until, EXCLUDED.rule,
                        EXCLUDED.evidence_ids, EXCLUDED.last_valid_until, EXCLUDED.region_code, EXCLUDED.lapsed_on)
   OR s.as_of <> EXCLUDED.as_of;

-- step: events
-- The dated steps, each recorded once (cycle_key = the lapsed valid_until, or the day before the
-- benefit began for someone never certified; the negative record's date for negatives).
CREATE TEMP TABLE c_new_events ON COMMIT DROP AS
WITH lapse AS (
  SELECT id_number, region_code, status, rule, basis_method, basis_d, ids,
         COALESCE(basis_valid_until, benefit_start - 1) AS cycle_key,
         COALESCE(basis_valid_until, benefit_start - 1) + 1 AS lapse_on
    FROM c_dec WHERE status <> 'negative'
), steps AS (
  SELECT id_number, 'certified'::text AS kind, basis_d AS event_date, basis_d AS cycle_key, NULL::text AS reason, basis_method AS method, rule, ids, region_code
    FROM lapse WHERE status = 'certified'
  UNION ALL
  SELECT id_number, 'reminder', lapse_on - :reminder_days::int, cycle_key, 'expiring', :reminder_channel::text, rule, '{}'::text[], region_code
    FROM lapse WHERE lapse_on - :reminder_days::int <= :as_of::date
  UNION ALL
  SELECT id_number, 'field_task', lapse_on + :field_days::int, cycle_key, 'not_certified', 'field_visit', rule, '{}'::text[], region_code
    FROM lapse WHERE status = 'not_certified' AND lapse_on + :field_days::int <= :as_of::date
  UNION ALL
  SELECT id_number, 'suspension', lapse_on + :suspension_days::int, cycle_key, 'not_certified', NULL, rule, '{}'::text[], region_code
    FROM lapse WHERE status = 'not_certified' AND lapse_on + :suspension_days::int <= :as_of::date
  UNION ALL
  SELECT id_number, 'suspension', GREATEST(COALESCE(death_known_on, death_date), death_date), death_date, 'negative_death', NULL, rule, COALESCE(ids, '{}'), region_code
    FROM c_dec WHERE rule = 'negative_death'
  UNION ALL
  SELECT id_number, 'suspension', GREATEST(COALESCE(ongoing_known_on, ongoing_start), ongoing_start), ongoing_start, 'negative_custody', NULL, rule, COALESCE(ids, '{}'), region_code
    FROM c_dec WHERE rule = 'negative_custody'
)
SELECT * FROM steps;

-- step: events to insert
-- The events not recorded yet, read before cert_events is written (see "status changes").
CREATE TEMP TABLE c_ins_events ON COMMIT DROP AS
SELECT e.*
  FROM c_new_events e
 WHERE NOT EXISTS (SELECT 1 FROM cert_events x WHERE x.id_number = e.id_number AND x.kind = e.kind AND x.cycle_key = e.cycle_key);

-- step: insert events
INSERT INTO cert_events (id_number, kind, event_date, cycle_key, reason, method, rule, evidence_ids, region_code, as_of, run_id)
SELECT e.id_number, e.kind, e.event_date, e.cycle_key, e.reason, e.method, e.rule, COALESCE(e.ids, '{}'), e.region_code, :as_of::date, :run_id::bigint
  FROM c_ins_events e
 -- in key order (see "upsert status"): city first run 343k events, a third faster than in the order of c_new_events
 ORDER BY e.id_number, e.kind, e.cycle_key
ON CONFLICT (id_number, kind, cycle_key) DO NOTHING;

-- step: resumptions to insert
-- A certified person with a suspension that has not been resumed is resumed (dated when both the
-- suspension and the new basis exist); read before cert_events is written. A death suspension too: a
-- certified person has no death record in force, so theirs was withdrawn. Only suspensions dated on or
-- before :as_of: one that a run as of a later date recorded (a lapse still ahead of :as_of) is not
-- resumed by a run that replays an earlier date.
CREATE TEMP TABLE c_resume ON COMMIT DROP AS
SELECT d.id_number, GREATEST(s.event_date, d.basis_d) AS event_date, s.cycle_key, d.basis_method AS method, d.rule, COALESCE(d.ids, '{}') AS ids, d.region_code
  FROM c_dec d
  JOIN cert_events s ON s.id_number = d.id_number AND s.kind = 'suspension' AND s.reason IN ('not_certified', 'negative_custody', 'negative_death')
                     AND s.event_date <= :as_of::date
 WHERE d.status = 'certified'
   AND NOT EXISTS (SELECT 1 FROM cert_events r WHERE r.id_number = s.id_number AND r.kind = 'resumption' AND r.cycle_key = s.cycle_key);

-- step: resumptions
INSERT INTO cert_events (id_number, kind, event_date, cycle_key, reason, method, rule, evidence_ids, region_code, as_of, run_id)
SELECT id_number, 'resumption', event_date, cycle_key, 'certified', method, rule, ids, region_code, :as_of::date, :run_id::bigint
  FROM c_resume
ON CONFLICT (id_number, kind, cycle_key) DO NOTHING;

-- step: field tasks to open
-- One open field-verification task per lapse, to the grid workers of the person's community
-- (docs/rules.md, silent certification, "Follow-ups when certified again, and in replays"). A lapse
-- gets a task unless it has one that is open, one that community staff worked (closed_as_of NULL: a
-- visit answered it) or one that a run as of a later date closed; nor when a run as of a later date
-- found the person certified again after the lapse (a 'certified' event dated after :as_of): a replay
-- of an earlier date does not send staff to someone already certified. After a task that a run as of
-- this date or earlier cancelled (the person was negative or certified then, and the record or the
-- evidence has since been withdrawn or corrected) the lapse gets a new one (dedup_key 'cert:<cycle>#n').
CREATE TEMP TABLE c_task_new ON COMMIT DROP AS
SELECT e.id_number, e.region_code, e.rule, e.cycle_key,
       'cert:' || e.cycle_key::text || CASE WHEN t.n > 0 THEN '#' || (t.n + 1)::text ELSE '' END AS dedup_key
  FROM c_new_events e
  CROSS JOIN LATERAL (
    SELECT count(*) AS n,
           bool_or(x.status = 'open' OR x.closed_as_of IS NULL OR x.closed_as_of > :as_of::date) AS keep
      FROM tasks x
     WHERE x.kind = 'field_verification' AND x.id_number = e.id_number
       AND split_part(x.dedup_key, '#', 1) = 'cert:' || e.cycle_key::text) t
 WHERE e.kind = 'field_task' AND NOT COALESCE(t.keep, false)
   AND NOT EXISTS (SELECT 1 FROM cert_events c
                    WHERE c.id_number = e.id_number AND c.kind = 'certified' AND c.event_date > :as_of::date AND c.cycle_key > e.cycle_key);

-- step: field tasks
-- Due :field_due_days after the as-of date of the run that opens it (not after the lapse: someone
-- never certified lapsed when their benefit began, often decades ago).
INSERT INTO tasks (kind, id_number, region_code, department, status, due_on, dedup_key, detail, created_by, run_id, opened_as_of)
SELECT 'field_verification', e.id_number, e.region_code, 'community_grid', 'open', :as_of::date + :field_due_days::int, e.dedup_key,
       jsonb_build_object('reason', 'no valid certification since ' || (e.cycle_key + 1)::text, 'rule', e.rule, 'lapsed_on', (e.cycle_key + 1)::text),
       'certify', :run_id::bigint, :as_of::date
  FROM c_task_new e
ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING;

-- step: close field tasks
-- Open field tasks, opened as of this date or earlier, for a lapse the decision no longer calls for:
-- certified again (done when a field visit certified them, else cancelled; reason certified_again),
-- negative (cancelled; reason negative_death / negative_custody), or not certified since another lapse
-- (cancelled; reason lapse_superseded: that lapse has its own task). A task that a run as of a later
-- date opened is not this run's to judge: a replay of an earlier date leaves it alone.
UPDATE tasks t
   SET status = CASE WHEN d.status = 'certified' AND d.basis_method = 'field_visit' THEN 'done' ELSE 'cancelled' END,
       done_at = now(), closed_as_of = :as_of::date,
       result = jsonb_build_object('closed_by', 'certify',
                                   'reason', CASE d.status WHEN 'certified' THEN 'certified_again' WHEN 'negative' THEN d.rule ELSE 'lapse_superseded' END,
                                   'as_of', :as_of::date, 'status', d.status, 'rule', d.rule, 'method', d.basis_method,
                                   'certified_at', d.basis_d, 'evidence_ids', to_jsonb(COALESCE(d.ids, '{}')))
  FROM c_dec d
 WHERE t.kind = 'field_verification' AND t.status = 'open' AND t.id_number = d.id_number AND t.opened_as_of <= :as_of::date
   AND CASE d.status
         WHEN 'negative' THEN true
         WHEN 'certified' THEN split_part(t.dedup_key, '#', 1) <> 'cert:' || d.basis_valid_until::text
         ELSE split_part(t.dedup_key, '#', 1) <> 'cert:' || COALESCE(d.basis_valid_until, d.benefit_start - 1)::text
       END;

-- step: drop-out tasks
-- Field tasks of people who no longer receive a benefit are cancelled (full runs see everyone), unless
-- a run as of a later date opened them (the benefit may begin after :as_of).
UPDATE tasks t SET status = 'cancelled', done_at = now(), closed_as_of = :as_of::date,
       result = jsonb_build_object('closed_by', 'certify', 'reason', 'no_longer_recipient', 'as_of', :as_of::date, 'why', 'no longer a benefit recipient')
 WHERE :full::boolean AND t.kind = 'field_verification' AND t.status = 'open' AND t.opened_as_of <= :as_of::date
   AND NOT EXISTS (SELECT 1 FROM c_dec d WHERE d.id_number = t.id_number);

-- step: rate
SELECT count(*) FILTER (WHERE status = 'certified') AS certified,
       count(*) FILTER (WHERE status = 'certified' AND method = 'silent') AS silent,
       count(*) FILTER (WHERE status = 'not_certified') AS not_certified,
       count(*) FILTER (WHERE status = 'negative') AS negative,
       count(*) AS recipients
  FROM cert_status;
