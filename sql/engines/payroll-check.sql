-- name: payroll-check
-- params: draft_id, period, period_last, prev_period, as_of, as_of_end, abnormal_ratio, abnormal_lookback, shared_min, suspension_days, diff_ratio, prepared_by, rules, job_run_id
-- purpose: the pre-payroll check of docs/rules.md on every line of one draft (:draft_id, the current draft
--   of the period :period) as of :as_of — the findings dead, in_custody, suspended, not_certified,
--   double_receipt, abnormal_amount, shared_account with their amounts at risk and whether they hold the
--   line; the diff against the paid payments of :prev_period — then freezes the result as a new numbered
--   run of the period (payroll_runs, payroll_run_findings, payroll_run_holds, payroll_run_diff). Reads
--   cert_status, which the caller brings to :as_of first (the certify engine). Readings of the rules:
--   jobs/engines/payroll-check.ts.

-- step: draft lines
CREATE TEMP TABLE pc_line ON COMMIT DROP AS
SELECT d.draft_id, d.line_id, d.id_number, d.scheme_code, d.amount, d.account_no, s.exclusive_group
  FROM payroll_draft d
  LEFT JOIN ref_schemes s ON s.scheme_code = d.scheme_code
 WHERE d.draft_id = :draft_id AND d.period = :period::date;
ANALYZE pc_line;
CREATE TEMP TABLE pc_people ON COMMIT DROP AS SELECT DISTINCT id_number FROM pc_line;
ANALYZE pc_people;

-- step: findings table
CREATE TEMP TABLE pc_find (
  line_id text NOT NULL, finding text NOT NULL, amount_at_risk numeric NOT NULL, held boolean NOT NULL, evidence jsonb NOT NULL DEFAULT '{}'
) ON COMMIT DROP;

-- step: known deaths
-- Death records known on :as_of and not withdrawn as of it — deaths_known (migration 0031), the definition
-- detect-risk reads (a withdrawal recorded after :as_of does not remove the record for this run): the
-- earliest death date counts, every record id is evidence. All people (the shared-account rule asks about
-- accounts paid for anyone now known dead).
CREATE TEMP TABLE pc_death ON COMMIT DROP AS
SELECT d.id_number, min(d.death_date) AS death_date, array_agg(d.record_id ORDER BY d.record_id) AS ids
  FROM deaths_known(:as_of::date, :as_of_end::timestamptz) d
 GROUP BY d.id_number;
CREATE UNIQUE INDEX ON pc_death (id_number);
ANALYZE pc_death;

-- step: dead
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
SELECT l.line_id, 'dead', l.amount, true, jsonb_build_object('death_record_ids', to_jsonb(d.ids), 'death_date', d.death_date)
  FROM pc_line l JOIN pc_death d ON d.id_number = l.id_number
 WHERE d.death_date < :period::date;

-- step: in_custody
-- Exclusive-group (pension) lines of people whose custody record known on :as_of (imprisonments_known,
-- migration 0031, as detect-risk reads them) covers every day of the period (custody_covers_month, the
-- paid_in_custody condition).
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
SELECT l.line_id, 'in_custody', l.amount, true,
       jsonb_build_object('custody_record_ids', jsonb_agg(c.record_id ORDER BY c.record_id),
                          'custody', jsonb_agg(jsonb_build_object('record_id', c.record_id, 'start_date', c.start_date, 'end_date', c.end_date) ORDER BY c.record_id))
  FROM pc_line l
  JOIN imprisonments_known(:as_of::date, :as_of_end::timestamptz) c ON c.id_number = l.id_number
 WHERE l.exclusive_group IS NOT NULL
   AND custody_covers_month(c.start_date, c.end_date, :period::date)
 GROUP BY l.line_id, l.amount;

-- step: suspended
-- The person's enrollments of the line's scheme are all suspended or terminated (none active), or an
-- approved workbench hold (payroll_person_holds, migration 0023) covers the person for the period.
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
WITH stopped AS (
  SELECT e.id_number, e.scheme_code
    FROM enrollments e
   WHERE e.status IN ('suspended', 'terminated') AND e.id_number IN (SELECT id_number FROM pc_people)
  EXCEPT
  SELECT e.id_number, e.scheme_code FROM enrollments e WHERE e.status = 'active'
), enr AS (
  SELECT e.id_number, e.scheme_code,
         jsonb_agg(jsonb_build_object('enrollment_id', e.enrollment_id, 'status', e.status, 'suspended_reason', e.suspended_reason)
                   ORDER BY e.enrollment_id) AS enrollments
    FROM enrollments e JOIN stopped USING (id_number, scheme_code)
   GROUP BY e.id_number, e.scheme_code
), hold AS (
  SELECT l.line_id, jsonb_agg(h.hold_ref ORDER BY h.hold_ref) AS refs
    FROM pc_line l
    JOIN payroll_person_holds h ON h.id_number = l.id_number AND (h.scheme_code IS NULL OR h.scheme_code = l.scheme_code)
   WHERE (h.valid_from IS NULL OR h.valid_from <= :period_last::date) AND (h.valid_until IS NULL OR h.valid_until >= :period::date)
   GROUP BY l.line_id
)
SELECT l.line_id, 'suspended', l.amount, true,
       jsonb_strip_nulls(jsonb_build_object('enrollments', enr.enrollments, 'hold_refs', hold.refs))
  FROM pc_line l
  LEFT JOIN enr ON enr.id_number = l.id_number AND enr.scheme_code = l.scheme_code
  LEFT JOIN hold ON hold.line_id = l.line_id
 WHERE enr.id_number IS NOT NULL OR hold.line_id IS NOT NULL;

-- step: not_certified
-- Rule 5 by the first day of the period: a certification that lapsed (the day after valid_until; for
-- someone never certified, the start of their benefit) more than :suspension_days days before it.
-- From cert_status as of :as_of (the certify engine's decision); negative people (dead, in custody)
-- are left to those findings.
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
WITH lapse AS (
  SELECT cs.id_number, cs.rule, cs.last_certified_at, cs.last_valid_until,
         COALESCE(cs.last_valid_until + 1,
                  (SELECT min(e.start_period) FROM enrollments e
                    WHERE e.id_number = cs.id_number AND e.status IN ('active', 'suspended') AND e.start_period <= :as_of::date)) AS lapsed_on
    FROM cert_status cs
   WHERE cs.id_number IN (SELECT id_number FROM pc_people) AND cs.status = 'not_certified'
)
SELECT l.line_id, 'not_certified', l.amount, true,
       jsonb_build_object('certification_rule', x.rule, 'last_certified_at', x.last_certified_at, 'last_valid_until', x.last_valid_until,
                          'lapsed_on', x.lapsed_on)
  FROM pc_line l JOIN lapse x ON x.id_number = l.id_number
 WHERE x.lapsed_on < :period::date - :suspension_days::int;

-- step: double_receipt
-- Two or more lines of one exclusive group for a person: every line but the largest (ties: the smallest
-- line_id stays) is at risk and held.
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
WITH twice AS (
  SELECT id_number, exclusive_group FROM pc_line WHERE exclusive_group IS NOT NULL GROUP BY id_number, exclusive_group HAVING count(*) >= 2
), g AS (
  SELECT l.*, row_number() OVER w AS rank,
         jsonb_agg(jsonb_build_object('line_id', l.line_id, 'scheme', l.scheme_code, 'amount', l.amount)) OVER (PARTITION BY l.id_number, l.exclusive_group) AS group_lines
    FROM pc_line l JOIN twice t USING (id_number, exclusive_group)
  WINDOW w AS (PARTITION BY l.id_number, l.exclusive_group ORDER BY l.amount DESC, l.line_id)
)
SELECT line_id, 'double_receipt', amount, true, jsonb_build_object('exclusive_group', exclusive_group, 'lines', group_lines)
  FROM g WHERE rank > 1;

-- step: abnormal_amount
-- As the alert rule: the line against the median of the previous :abnormal_lookback paid payments of that
-- person and scheme (known on :as_of); no finding without that much history; explained by an enrollment of
-- that scheme changed to exactly the line's amount after the last of those payments' months. At risk the
-- excess over the median (0 below it); flagged for review, never held.
-- Candidates first, from detect-risk's payment screen (risk_pay_screen: min and max of every paid payment
-- ever loaded per person and scheme, brought up to date by the caller): the median of any 6 of them lies
-- in [min, max], so a line within [max × (1 − ratio), min × (1 + ratio)] cannot be off it by more than the
-- ratio, and a person and scheme with no screen row has no paid payment at all.
CREATE TEMP TABLE pc_abn ON COMMIT DROP AS
SELECT l.line_id, l.id_number, l.scheme_code, l.amount
  FROM pc_line l
  JOIN risk_pay_screen s ON s.id_number = l.id_number AND s.scheme_code = l.scheme_code
 WHERE s.payments >= :abnormal_lookback::int
   AND (l.amount > s.min_amount * (1 + :abnormal_ratio::numeric) OR l.amount < s.max_amount * (1 - :abnormal_ratio::numeric));
ANALYZE pc_abn;
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
WITH h AS (
  SELECT l.line_id, l.id_number, l.scheme_code, l.amount, x.amts, x.n, x.last_period, x.ids
    FROM pc_abn l
    CROSS JOIN LATERAL (
      SELECT array_agg(y.amount) AS amts, count(*) AS n, max(y.period) AS last_period, array_agg(y.payment_id ORDER BY y.period) AS ids
        FROM (SELECT p.amount, p.period, p.payment_id FROM payments p
               WHERE p.id_number = l.id_number AND p.scheme_code = l.scheme_code AND p.status = 'paid' AND p.period < :period::date
                 AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
               ORDER BY p.period DESC, p.payment_id DESC LIMIT :abnormal_lookback::int) y) x
), j AS (
  SELECT h.*, yinling_median(h.amts) AS med FROM h WHERE h.n = :abnormal_lookback::int
)
SELECT j.line_id, 'abnormal_amount', GREATEST(j.amount - j.med, 0), false,
       jsonb_build_object('median', j.med, 'previous_payment_ids', to_jsonb(j.ids))
  FROM j
 WHERE abs(j.amount - j.med) > j.med * :abnormal_ratio::numeric
   AND NOT EXISTS (SELECT 1 FROM enrollments e
                    WHERE e.id_number = j.id_number AND e.scheme_code = j.scheme_code AND e.monthly_amount = j.amount
                      AND e.updated_at >= (j.last_period + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai'
                      AND e.updated_at < :as_of_end::timestamptz);

-- step: shared_account
-- An account on lines of :shared_min or more different people, or one that received a paid payment (known
-- on :as_of) for someone now known dead — then the lines of everyone else on it. At risk the line; held.
-- (Per dead person, the accounts their paid payments went to, by the person's index; kept when on the draft.)
CREATE TEMP TABLE pc_dead_acct ON COMMIT DROP AS
SELECT DISTINCT a.account_no, d.id_number
  FROM pc_death d
  CROSS JOIN LATERAL (SELECT DISTINCT p.account_no FROM payments p
                       WHERE p.id_number = d.id_number AND p.status = 'paid' AND p.account_no IS NOT NULL
                         AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)) a
 WHERE a.account_no IN (SELECT account_no FROM pc_line);
ANALYZE pc_dead_acct;
INSERT INTO pc_find (line_id, finding, amount_at_risk, held, evidence)
WITH crowd AS (
  SELECT account_no, jsonb_agg(DISTINCT id_number ORDER BY id_number) AS members
    FROM pc_line GROUP BY account_no HAVING count(DISTINCT id_number) >= :shared_min::int
), dead AS (
  SELECT l.line_id, jsonb_agg(DISTINCT y.id_number ORDER BY y.id_number) AS ids
    FROM pc_line l JOIN pc_dead_acct y ON y.account_no = l.account_no AND y.id_number <> l.id_number
   GROUP BY l.line_id
)
SELECT l.line_id, 'shared_account', l.amount, true,
       jsonb_strip_nulls(jsonb_build_object('account_no', l.account_no, 'persons', c.members, 'paid_for_dead', dead.ids))
  FROM pc_line l
  LEFT JOIN crowd c ON c.account_no = l.account_no
  LEFT JOIN dead ON dead.line_id = l.line_id
 WHERE c.account_no IS NOT NULL OR dead.line_id IS NOT NULL;

-- step: diff
-- Per person and scheme: the draft's lines against the paid payments (known on :as_of) of the previous period.
CREATE TEMP TABLE pc_diff ON COMMIT DROP AS
WITH prev AS (
  SELECT id_number, scheme_code, sum(amount) AS amount
    FROM payments
   WHERE period = :prev_period::date AND status = 'paid' AND (paid_at IS NULL OR paid_at < :as_of_end::timestamptz)
   GROUP BY id_number, scheme_code
), cur AS (
  SELECT id_number, scheme_code, sum(amount) AS amount FROM pc_line GROUP BY id_number, scheme_code
)
SELECT CASE WHEN p.id_number IS NULL THEN 'new_payee' WHEN c.id_number IS NULL THEN 'dropped_payee' ELSE 'amount_changed' END AS kind,
       COALESCE(c.id_number, p.id_number) AS id_number, COALESCE(c.scheme_code, p.scheme_code) AS scheme_code,
       p.amount AS previous_amount, c.amount AS draft_amount
  FROM cur c
  FULL JOIN prev p ON p.id_number = c.id_number AND p.scheme_code = c.scheme_code
 WHERE p.id_number IS NULL OR c.id_number IS NULL OR abs(c.amount - p.amount) > p.amount * :diff_ratio::numeric;

-- step: freeze run
-- The next version of the period, with the totals; the held lines are those with a finding that holds.
CREATE TEMP TABLE pc_run ON COMMIT DROP AS
WITH held AS (SELECT DISTINCT line_id FROM pc_find WHERE held),
tot AS (
  SELECT (SELECT count(*) FROM pc_line) AS lines, (SELECT count(*) FROM pc_people) AS people,
         (SELECT COALESCE(sum(amount), 0) FROM pc_line) AS amount,
         count(*) AS held_lines, COALESCE(sum(l.amount), 0) AS held_amount
    FROM held h JOIN pc_line l USING (line_id)
), ins AS (
  INSERT INTO payroll_runs (period, version, draft_id, draft_prepared_at, as_of, rules, lines, people, amount, held_lines, held_amount,
                            released_lines, released_amount, findings, amount_at_risk, prepared_by, job_run_id)
  SELECT :period::date,
         COALESCE((SELECT max(version) FROM payroll_runs WHERE period = :period::date), 0) + 1,
         :draft_id, (SELECT max(prepared_at) FROM payroll_draft WHERE draft_id = :draft_id AND period = :period::date),
         :as_of::date, :rules::jsonb, tot.lines, tot.people, tot.amount, tot.held_lines, tot.held_amount,
         tot.lines - tot.held_lines, tot.amount - tot.held_amount,
         (SELECT count(*) FROM pc_find), (SELECT COALESCE(sum(amount_at_risk), 0) FROM pc_find),
         :prepared_by, :job_run_id::bigint
    FROM tot
  RETURNING run_no, version
)
SELECT run_no, version FROM ins;

-- step: run number
SELECT run_no, version FROM pc_run;

-- step: freeze findings
INSERT INTO payroll_run_findings (run_no, draft_id, line_id, id_number, scheme_code, amount, account_no, finding, amount_at_risk, held, evidence)
SELECT r.run_no, l.draft_id, l.line_id, l.id_number, l.scheme_code, l.amount, l.account_no, f.finding, round(f.amount_at_risk, 2), f.held, f.evidence
  FROM pc_find f JOIN pc_line l USING (line_id) CROSS JOIN pc_run r;

-- step: freeze holds
INSERT INTO payroll_run_holds (run_no, draft_id, line_id, id_number, scheme_code, amount, account_no, findings)
SELECT r.run_no, l.draft_id, l.line_id, l.id_number, l.scheme_code, l.amount, l.account_no, array_agg(f.finding ORDER BY f.finding)
  FROM pc_find f JOIN pc_line l USING (line_id) CROSS JOIN pc_run r
 WHERE f.held
 GROUP BY r.run_no, l.draft_id, l.line_id, l.id_number, l.scheme_code, l.amount, l.account_no;

-- step: freeze diff
INSERT INTO payroll_run_diff (run_no, kind, id_number, scheme_code, previous_amount, draft_amount)
SELECT r.run_no, d.kind, d.id_number, d.scheme_code, d.previous_amount, d.draft_amount
  FROM pc_diff d CROSS JOIN pc_run r;

-- step: summary
SELECT f.finding, count(*) AS findings, sum(f.amount_at_risk) AS amount_at_risk, count(*) FILTER (WHERE f.held) AS held
  FROM pc_find f GROUP BY f.finding ORDER BY f.finding;
