-- name: detect-risk
-- params: full, as_of, as_of_end, as_of_month, abnormal_lookback, abnormal_ratio, shared_min, nsol_age, prev_month, nsol_since, nsol_months
-- purpose: the fund-risk rules of docs/rules.md (seven, and hold_not_honoured for the pre-payroll check's and the workbench's holds) as findings (rule, person, dedup key, exact amount,
--   periods, evidence ids, facts) in the temp table r_find, for sql/engines/alerts-merge.sql to merge
--   into alerts. Only `paid` payments for periods up to the as-of month count, and only death and
--   custody records known on :as_of and not withdrawn as of it (migration 0022). :full = false limits the run to the people in engine_scope
--   (and the accounts their payments went to). Readings of docs/rules.md: jobs/engines/detect-risk.ts.

-- step: scope accounts
CREATE TEMP TABLE r_scope_acct ON COMMIT DROP AS
SELECT DISTINCT a.account_no
  FROM engine_scope sc
  CROSS JOIN LATERAL (SELECT DISTINCT p.account_no FROM payments p WHERE p.id_number = sc.id_number AND p.account_no IS NOT NULL) a
 WHERE NOT :full::boolean;

-- step: hits table
CREATE TEMP TABLE r_hit (
  rule text NOT NULL, id_number text NOT NULL, dedup_key text NOT NULL DEFAULT '', period date,
  amount numeric NOT NULL DEFAULT 0, payment_ids text[] NOT NULL DEFAULT '{}', evidence_ids text[] NOT NULL DEFAULT '{}', info jsonb
) ON COMMIT DROP;

-- step: basis table
CREATE TEMP TABLE r_basis (rule text NOT NULL, id_number text NOT NULL, dedup_key text NOT NULL DEFAULT '', evidence jsonb NOT NULL DEFAULT '{}', detail jsonb NOT NULL DEFAULT '{}') ON COMMIT DROP;

-- step: deaths
-- The death and custody records known on :as_of: deaths_known / imprisonments_known (migration 0031), the
-- one definition the pre-payroll check reads too.
CREATE TEMP TABLE r_death ON COMMIT DROP AS
SELECT id_number, min(death_date) AS death_date, array_agg(record_id ORDER BY record_id) AS ids
  FROM deaths_known(:as_of::date, :as_of_end::timestamptz)
 WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope)
 GROUP BY id_number;
CREATE UNIQUE INDEX ON r_death (id_number);
ANALYZE r_death;

-- step: custody
CREATE TEMP TABLE r_custody ON COMMIT DROP AS
SELECT id_number, record_id, start_date, end_date
  FROM imprisonments_known(:as_of::date, :as_of_end::timestamptz)
 WHERE :full::boolean OR id_number IN (SELECT id_number FROM engine_scope);
CREATE INDEX ON r_custody (id_number);
ANALYZE r_custody;

-- step: withdrawn
-- Records withdrawn as of :as_of, per person and kind, as the evidence of alerts names them: an alert that
-- rested only on them is closed as source_data_error (alerts-merge.sql).
CREATE TEMP TABLE r_withdrawn ON COMMIT DROP AS
SELECT id_number, 'death_record_ids'::text AS evidence_key, jsonb_agg(record_id ORDER BY record_id) AS ids
  FROM deaths_as_of(:as_of_end::timestamptz)
 WHERE withdrawn AND (:full::boolean OR id_number IN (SELECT id_number FROM engine_scope))
 GROUP BY id_number
UNION ALL
SELECT id_number, 'custody_record_ids', jsonb_agg(record_id ORDER BY record_id)
  FROM imprisonments_as_of(:as_of_end::timestamptz)
 WHERE withdrawn AND (:full::boolean OR id_number IN (SELECT id_number FROM engine_scope))
 GROUP BY id_number;

-- step: candidates
-- Candidates from the payment screens (sql/engines/risk-screens.sql): a payment can only differ from a
-- median of earlier ones by more than the threshold when max > min × (1 + t) for that person and scheme;
-- double receipt needs two schemes of one exclusive group; a shared account two people or more.
CREATE TEMP TABLE r_cand_abn ON COMMIT DROP AS
SELECT id_number, scheme_code FROM risk_pay_screen
 WHERE payments > :abnormal_lookback::int AND max_amount > min_amount * (1 + :abnormal_ratio::numeric)
   AND (:full::boolean OR id_number IN (SELECT id_number FROM engine_scope));
CREATE TEMP TABLE r_cand_double ON COMMIT DROP AS
SELECT s.id_number FROM risk_pay_screen s JOIN ref_schemes rs ON rs.scheme_code = s.scheme_code AND rs.exclusive_group IS NOT NULL
 WHERE :full::boolean OR s.id_number IN (SELECT id_number FROM engine_scope)
 GROUP BY s.id_number, rs.exclusive_group HAVING count(*) >= 2;
CREATE TEMP TABLE r_acct ON COMMIT DROP AS
SELECT account_no FROM risk_account_screen
 WHERE min_id <> max_id AND (:full::boolean OR account_no IN (SELECT account_no FROM r_scope_acct));
ANALYZE r_cand_abn;
ANALYZE r_cand_double;
ANALYZE r_acct;

-- step: paid_after_death
-- (people whose screen shows a paid period after the death date, then their payments by index)
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids)
SELECT 'paid_after_death', d.id_number, p.period, p.amount, ARRAY[p.payment_id]
  FROM (SELECT * FROM r_death d0 WHERE EXISTS (SELECT 1 FROM risk_pay_screen s WHERE s.id_number = d0.id_number AND s.max_period > d0.death_date)) d
  CROSS JOIN LATERAL (
    SELECT p.period, p.amount, p.payment_id FROM payments p
     WHERE p.id_number = d.id_number AND p.period > d.death_date AND p.status = 'paid' AND p.period <= :as_of_month::date
       AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)) p;
INSERT INTO r_basis (rule, id_number, evidence, detail)
SELECT DISTINCT 'paid_after_death', d.id_number, jsonb_build_object('death_record_ids', to_jsonb(d.ids)), jsonb_build_object('death_date', d.death_date)
  FROM r_death d JOIN r_hit h ON h.rule = 'paid_after_death' AND h.id_number = d.id_number;

-- step: paid_in_custody
-- Exclusive-group (pension) payments for a period whose every day lies inside a custody interval.
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids)
SELECT 'paid_in_custody', p.id_number, p.period, p.amount, ARRAY[p.payment_id]
  FROM payments p
  JOIN ref_schemes s ON s.scheme_code = p.scheme_code AND s.exclusive_group IS NOT NULL
 WHERE p.id_number IN (SELECT id_number FROM r_custody)
   AND p.status = 'paid' AND p.period <= :as_of_month::date
   AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
   AND EXISTS (SELECT 1 FROM r_custody c WHERE c.id_number = p.id_number AND custody_covers_month(c.start_date, c.end_date, p.period));
INSERT INTO r_basis (rule, id_number, evidence, detail)
SELECT 'paid_in_custody', c.id_number, jsonb_build_object('custody_record_ids', jsonb_agg(c.record_id ORDER BY c.record_id)),
       jsonb_build_object('custody', jsonb_agg(jsonb_build_object('record_id', c.record_id, 'start_date', c.start_date, 'end_date', c.end_date) ORDER BY c.record_id))
  FROM r_custody c
 WHERE c.id_number IN (SELECT id_number FROM r_hit WHERE rule = 'paid_in_custody')
 GROUP BY c.id_number;

-- step: double_receipt
-- Two schemes of one exclusive group paid for the same period: the smaller payment is at risk.
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids, info)
SELECT 'double_receipt', c.id_number, x.period, x.amount, x.ids, x.info
  FROM r_cand_double c
  CROSS JOIN LATERAL (
    SELECT p.period, min(p.amount) AS amount, array_agg(p.payment_id ORDER BY p.payment_id) AS ids,
           jsonb_build_object('period', p.period, 'schemes', jsonb_agg(jsonb_build_object('scheme', p.scheme_code, 'amount', p.amount, 'payment_id', p.payment_id) ORDER BY p.scheme_code, p.payment_id)) AS info
      FROM payments p
      JOIN ref_schemes s ON s.scheme_code = p.scheme_code AND s.exclusive_group IS NOT NULL
     WHERE p.id_number = c.id_number AND p.status = 'paid' AND p.period <= :as_of_month::date
       AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
     GROUP BY s.exclusive_group, p.period
    HAVING count(DISTINCT p.scheme_code) >= 2) x;

-- step: abnormal_amount
-- Each paid payment against the median of the previous N paid payments of that scheme (N = lookback);
-- fires above the threshold unless an enrollment of that scheme was updated in the payment's month to
-- exactly that amount. At risk: the excess over the median (0 for a payment below it).
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids, info)
WITH series AS (
  SELECT c.id_number, c.scheme_code, x.*
    FROM r_cand_abn c
    CROSS JOIN LATERAL (
      SELECT p.period, p.payment_id, p.amount, array_agg(p.amount) OVER w AS prev, count(*) OVER w AS nprev
        FROM payments p
       WHERE p.id_number = c.id_number AND p.scheme_code = c.scheme_code AND p.status = 'paid' AND p.period <= :as_of_month::date
         AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
      WINDOW w AS (ORDER BY p.period, p.payment_id ROWS BETWEEN :abnormal_lookback::int PRECEDING AND 1 PRECEDING)) x
), judged AS (
  SELECT s.*, yinling_median(prev) AS med FROM series s WHERE nprev = :abnormal_lookback::int
)
SELECT 'abnormal_amount', j.id_number, j.period, GREATEST(j.amount - j.med, 0), ARRAY[j.payment_id],
       jsonb_build_object('period', j.period, 'scheme', j.scheme_code, 'amount', j.amount, 'median', j.med, 'previous', to_jsonb(j.prev))
  FROM judged j
 WHERE abs(j.amount - j.med) > j.med * :abnormal_ratio::numeric
   AND NOT EXISTS (SELECT 1 FROM enrollments e
                    WHERE e.id_number = j.id_number AND e.scheme_code = j.scheme_code AND e.monthly_amount = j.amount
                      AND date_trunc('month', e.updated_at AT TIME ZONE 'Asia/Shanghai')::date = j.period);

-- step: shared_account
-- Periods in which the account received pension payments for at least shared_min different people:
-- one alert per account (dedup key = the account, person = the smallest member id, every member in
-- the facts); at risk every paid payment (any scheme) to the account in those periods.
INSERT INTO r_hit (rule, id_number, dedup_key, period, amount, payment_ids, info)
WITH ap AS (
  SELECT p.account_no, p.period, p.id_number, p.amount, p.payment_id, s.is_pension
    FROM payments p
    JOIN ref_schemes s ON s.scheme_code = p.scheme_code
   WHERE p.account_no IN (SELECT account_no FROM r_acct)
     AND p.status = 'paid' AND p.period <= :as_of_month::date
     AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
), per AS (
  SELECT account_no, period, sum(amount) AS total, count(DISTINCT id_number) FILTER (WHERE is_pension) AS people,
         array_agg(payment_id ORDER BY payment_id) AS ids, array_agg(DISTINCT id_number ORDER BY id_number) AS members
    FROM ap GROUP BY account_no, period
  HAVING count(DISTINCT id_number) FILTER (WHERE is_pension) >= :shared_min::int
), acct AS (
  SELECT account_no, min(m) AS first_member, jsonb_agg(DISTINCT m ORDER BY m) AS members
    FROM per CROSS JOIN LATERAL unnest(per.members) AS m GROUP BY account_no
)
SELECT 'shared_account', acct.first_member, per.account_no, per.period, per.total, per.ids,
       jsonb_build_object('period', per.period, 'people', per.people, 'members', to_jsonb(per.members), 'total', per.total)
  FROM per JOIN acct USING (account_no);
INSERT INTO r_basis (rule, id_number, dedup_key, evidence, detail)
SELECT DISTINCT ON (h.dedup_key) 'shared_account', h.id_number, h.dedup_key,
       jsonb_build_object('persons', (SELECT jsonb_agg(DISTINCT m ORDER BY m) FROM r_hit h2, jsonb_array_elements_text(h2.info -> 'members') m
                                       WHERE h2.rule = 'shared_account' AND h2.dedup_key = h.dedup_key)),
       jsonb_build_object('account_no', h.dedup_key)
  FROM r_hit h WHERE h.rule = 'shared_account';

-- step: post_death_activity
-- Positive evidence (any kind) or a passed explicit certification dated after the death date.
INSERT INTO r_hit (rule, id_number, period, evidence_ids)
SELECT 'post_death_activity', d.id_number, date_trunc('month', ev.occurred_at AT TIME ZONE 'Asia/Shanghai')::date, ARRAY[ev.evidence_id]
  FROM r_death d
  CROSS JOIN LATERAL (SELECT e.evidence_id, e.occurred_at FROM evidence e
                       WHERE e.id_number = d.id_number AND e.occurred_at >= (d.death_date + 1)::timestamptz AND e.occurred_at < :as_of_end::timestamptz) ev
UNION ALL
SELECT 'post_death_activity', d.id_number, date_trunc('month', c.certified_at AT TIME ZONE 'Asia/Shanghai')::date, ARRAY['certification:' || c.certification_id]
  FROM r_death d
  CROSS JOIN LATERAL (SELECT x.certification_id, x.certified_at FROM certifications x
                       WHERE x.id_number = d.id_number AND x.result = 'pass' AND x.certified_at >= (d.death_date + 1)::timestamptz
                         AND x.certified_at < :as_of_end::timestamptz) c;
INSERT INTO r_basis (rule, id_number, evidence, detail)
SELECT DISTINCT 'post_death_activity', d.id_number, jsonb_build_object('death_record_ids', to_jsonb(d.ids)), jsonb_build_object('death_date', d.death_date)
  FROM r_death d JOIN r_hit h ON h.rule = 'post_death_activity' AND h.id_number = d.id_number;

-- step: no_sign_of_life
-- Aged nsol_age or more on :as_of, no death record, still paid in the last payment run (the month
-- before the as-of month), and no strong evidence in the last nsol_months months: the payments of the
-- nsol_months periods before the as-of month are at risk.
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids)
WITH old AS (
  SELECT pe.id_number FROM persons pe
   WHERE pe.birth_date <= (:as_of::date - make_interval(years => :nsol_age::int))::date
     AND (:full::boolean OR pe.id_number IN (SELECT id_number FROM engine_scope))
     AND NOT EXISTS (SELECT 1 FROM deaths_as_of(:as_of_end::timestamptz) d WHERE d.id_number = pe.id_number AND NOT d.withdrawn
                        AND d.death_date <= :as_of::date AND (d.recorded_at IS NULL OR d.recorded_at < :as_of_end::timestamptz))
     AND EXISTS (SELECT 1 FROM payments p WHERE p.id_number = pe.id_number AND p.status = 'paid'
                    AND p.period = :prev_month::date)
     AND NOT EXISTS (SELECT 1 FROM evidence ev JOIN ref_evidence_kinds k ON k.kind = ev.kind AND k.strength = 'strong'
                      WHERE ev.id_number = pe.id_number
                        AND ev.occurred_at >= :nsol_since::timestamptz
                        AND ev.occurred_at < :as_of_end::timestamptz)
)
SELECT 'no_sign_of_life', p.id_number, p.period, p.amount, ARRAY[p.payment_id]
  FROM old JOIN payments p ON p.id_number = old.id_number
 WHERE p.status = 'paid'
   AND p.period >= (:as_of_month::date - make_interval(months => :nsol_months::int))::date
   AND p.period < :as_of_month::date;
INSERT INTO r_basis (rule, id_number, evidence, detail)
SELECT 'no_sign_of_life', pe.id_number,
       jsonb_build_object('last_strong_evidence_id', (SELECT ev.evidence_id FROM evidence ev JOIN ref_evidence_kinds k ON k.kind = ev.kind AND k.strength = 'strong'
                                                       WHERE ev.id_number = pe.id_number AND ev.occurred_at < :as_of_end::timestamptz
                                                       ORDER BY ev.occurred_at DESC, ev.evidence_id LIMIT 1)),
       jsonb_build_object('birth_date', pe.birth_date, 'age', date_part('year', age(:as_of::date, pe.birth_date)))
  FROM persons pe WHERE pe.id_number IN (SELECT id_number FROM r_hit WHERE rule = 'no_sign_of_life');

-- step: hold_not_honoured
-- (two sources of holds: this step, the pre-payroll check's approved runs, dedup key ''; the next, the
-- workbench's payment holds, dedup key 'hold:<id>'.)
-- The loop of the pre-payroll check (docs/rules.md): a line held by the approved check of its period (the
-- newest approved run, checked on or before :as_of) that was paid anyway — a paid payment of that person,
-- scheme and period. At risk the payments made despite the hold (each payment once).
INSERT INTO r_hit (rule, id_number, period, amount, payment_ids, info)
SELECT DISTINCT ON (p.payment_id) 'hold_not_honoured', h.id_number, r.period, p.amount, ARRAY[p.payment_id],
       jsonb_build_object('period', r.period, 'payroll_run', r.run_no, 'draft_id', h.draft_id, 'line_id', h.line_id, 'held_amount', h.amount,
                          'findings', to_jsonb(h.findings))
  FROM payroll_runs r
  JOIN payroll_run_holds h ON h.run_no = r.run_no
  JOIN payments p ON p.id_number = h.id_number AND p.scheme_code = h.scheme_code AND p.period = r.period
 WHERE r.run_no = (SELECT max(x.run_no) FROM payroll_runs x WHERE x.period = r.period AND x.approved_at IS NOT NULL AND x.as_of <= :as_of::date)
   AND r.period <= :as_of_month::date
   AND p.status = 'paid' AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
   AND (:full::boolean OR h.id_number IN (SELECT id_number FROM engine_scope))
 ORDER BY p.payment_id, h.line_id;
INSERT INTO r_basis (rule, id_number, evidence)
SELECT 'hold_not_honoured', h.id_number, jsonb_build_object('payroll_runs', jsonb_agg(DISTINCT (h.info ->> 'payroll_run')::bigint))
  FROM r_hit h WHERE h.rule = 'hold_not_honoured' AND h.dedup_key = '' GROUP BY h.id_number;

-- step: holds not honoured
-- The loop of the workbench's payment holds (migration 0025, docs/rules.md "Alert lifecycle"): a person
-- held from a period on (an approved suspension or stop, not released) whose payments feed still shows a
-- `paid` payment of a held scheme for that period or later. One alert per hold (dedup key 'hold:<id>'),
-- linked to the alert whose approval made the hold; at risk the payments made despite it.
INSERT INTO r_hit (rule, id_number, dedup_key, period, amount, payment_ids, info)
SELECT DISTINCT ON (h.hold_id, p.payment_id) 'hold_not_honoured', h.id_number, 'hold:' || h.hold_id, p.period, p.amount, ARRAY[p.payment_id],
       jsonb_build_object('period', p.period, 'scheme', p.scheme_code, 'hold_id', h.hold_id, 'held_alert_id', h.alert_id)
  FROM payment_holds h
  JOIN payments p ON p.id_number = h.id_number AND p.scheme_code = ANY (h.scheme_codes) AND p.period >= h.from_period
 WHERE h.released_at IS NULL
   AND p.status = 'paid' AND p.period <= :as_of_month::date AND (p.paid_at IS NULL OR p.paid_at < :as_of_end::timestamptz)
   AND (:full::boolean OR h.id_number IN (SELECT id_number FROM engine_scope))
 ORDER BY h.hold_id, p.payment_id;
INSERT INTO r_basis (rule, id_number, dedup_key, evidence, detail)
SELECT 'hold_not_honoured', h.id_number, h.dedup_key,
       jsonb_build_object('hold_ids', jsonb_agg(DISTINCT (h.info ->> 'hold_id')::bigint), 'held_alert_ids', jsonb_agg(DISTINCT (h.info ->> 'held_alert_id')::bigint)),
       jsonb_build_object('held_alert_id', min((h.info ->> 'held_alert_id')::bigint), 'hold_id', min((h.info ->> 'hold_id')::bigint))
  FROM r_hit h WHERE h.rule = 'hold_not_honoured' AND h.dedup_key LIKE 'hold:%' GROUP BY h.id_number, h.dedup_key;

-- step: findings
CREATE TEMP TABLE r_find ON COMMIT DROP AS
WITH a AS (
  SELECT rule, id_number, dedup_key, round(sum(amount), 2) AS amount,
         COALESCE(array_agg(DISTINCT period ORDER BY period) FILTER (WHERE period IS NOT NULL), '{}') AS periods,
         jsonb_agg(info ORDER BY period) FILTER (WHERE info IS NOT NULL) AS info
    FROM r_hit GROUP BY rule, id_number, dedup_key
), pids AS (
  SELECT rule, id_number, dedup_key, array_agg(DISTINCT x ORDER BY x) AS ids FROM r_hit, unnest(payment_ids) AS x GROUP BY 1, 2, 3
), eids AS (
  SELECT rule, id_number, dedup_key, array_agg(DISTINCT x ORDER BY x) AS ids FROM r_hit, unnest(evidence_ids) AS x GROUP BY 1, 2, 3
)
SELECT a.rule, a.id_number, a.dedup_key, a.amount, a.periods,
       jsonb_strip_nulls(jsonb_build_object('payment_ids', to_jsonb(pids.ids), 'evidence_ids', to_jsonb(eids.ids))) || COALESCE(b.evidence, '{}') AS evidence,
       COALESCE(b.detail, '{}') || jsonb_strip_nulls(jsonb_build_object('periods_detail', a.info)) AS detail
  FROM a
  LEFT JOIN pids USING (rule, id_number, dedup_key)
  LEFT JOIN eids USING (rule, id_number, dedup_key)
  LEFT JOIN r_basis b USING (rule, id_number, dedup_key);
CREATE UNIQUE INDEX ON r_find (rule, id_number, dedup_key);
ANALYZE r_find;
