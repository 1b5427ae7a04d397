-- name: alerts-merge
-- params: full, run_id, as_of, severity
-- purpose: merge the findings of detect-risk.sql (temp table r_find) into alerts: open new alerts,
--   update open ones whose amount/periods/evidence changed (alert_transitions row, actor 'system'),
--   close open ones whose basis disappeared (status closed, disposition basis_disappeared, reason
--   'basis_disappeared: …'; disposition source_data_error when every death or custody record the alert
--   rested on was withdrawn by its department, r_withdrawn — that closed alert is a decided one below). Re-running on the same data changes nothing. "Open" is alerts.active (the
--   lifecycle's engine_active states, migration 0021). A finding already covered by an alert a person
--   decided (any inactive alert but one the engines closed as basis_disappeared) with the same facts —
--   at least its evidence and periods, at least its amount — is not re-raised: a dismissed false
--   positive comes back only when its facts change (new periods or a higher amount).
--   A finding a live suppression covers (alert_suppressions: its rule for that person, or that account)
--   opens no alert; the suppression's expiry ends that.
--   A reported_death alert (raised by a family's death report, migration 0034) is never closed here while
--   its after_death case is still `reported`; once a death record confirmed the case it closes as basis_disappeared.
--   A shared_account alert is the account's (matched on rule + account, its person = the smallest member
--   id, which may change as members change). :full = false only touches alerts of the people in engine_scope (and accounts in r_scope_acct).

-- step: active alerts in scope
CREATE TEMP TABLE r_active ON COMMIT DROP AS
SELECT a.alert_id, a.rule, a.id_number, a.dedup_key, a.status, a.amount_at_risk, a.periods, a.evidence
  FROM alerts a
 WHERE a.active
   AND (:full::boolean OR a.id_number IN (SELECT id_number FROM engine_scope)
        OR (a.rule = 'shared_account' AND a.dedup_key IN (SELECT account_no FROM r_scope_acct)));

-- step: changed
CREATE TEMP TABLE r_changed ON COMMIT DROP AS
SELECT a.alert_id, a.status, a.amount_at_risk AS old_amount, f.amount AS new_amount, a.periods AS old_periods, f.periods AS new_periods,
       f.evidence, f.detail, f.id_number
  FROM r_active a JOIN r_find f ON f.rule = a.rule AND f.dedup_key = a.dedup_key AND (f.id_number = a.id_number OR a.rule = 'shared_account')
 WHERE (a.amount_at_risk, a.periods, a.evidence, a.id_number) IS DISTINCT FROM (f.amount, f.periods, f.evidence, f.id_number);

-- step: update alerts
-- (every alert written keeps the run's :as_of next to the run id: detected_as_of with run_id when
-- opened, last_seen_as_of with last_seen_run when updated or closed; migration 0017)
UPDATE alerts a
   SET amount_at_risk = c.new_amount, periods = c.new_periods, evidence = c.evidence, detail = c.detail, id_number = c.id_number,
       updated_at = now(), updated_by = 'system', last_seen_run = :run_id::bigint, last_seen_as_of = :as_of::date
  FROM r_changed c WHERE a.alert_id = c.alert_id;

-- step: update transitions
INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, reason, action)
SELECT alert_id, status, status, 'system',
       'evidence_updated: amount_at_risk ' || old_amount::text || ' → ' || new_amount::text
       || CASE WHEN old_periods IS DISTINCT FROM new_periods
               THEN ', periods ' || COALESCE(array_to_string(ARRAY(SELECT to_char(x, 'YYYY-MM') FROM unnest(old_periods) x), ';'), '') || ' → '
                    || COALESCE(array_to_string(ARRAY(SELECT to_char(x, 'YYYY-MM') FROM unnest(new_periods) x), ';'), '')
               ELSE '' END
       , 'update_facts'
  FROM r_changed;

-- step: new findings
-- The findings no alert covers, read before alerts is written: an insert that probes its own table
-- may be planned as a nested loop over a scan of it, which re-reads every row the statement has added
-- — quadratic on a first run, when the table is empty (issue 22).
CREATE TEMP TABLE r_new ON COMMIT DROP AS
SELECT f.rule, f.id_number, f.dedup_key, f.amount, f.periods, f.evidence, f.detail
  FROM r_find f
 WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.active
                      AND a.rule = f.rule AND a.dedup_key = f.dedup_key AND (a.id_number = f.id_number OR a.rule = 'shared_account'))
   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule = f.rule AND a.dedup_key = f.dedup_key AND (a.id_number = f.id_number OR a.rule = 'shared_account')
                      AND NOT a.active AND a.disposition IS DISTINCT FROM 'basis_disappeared'
                      AND a.evidence @> f.evidence AND a.periods @> f.periods AND a.amount_at_risk >= f.amount)
   -- closed because its death/custody records were withdrawn: nothing resting on those records comes back (a
   -- replay as of a date before the withdrawal finds them in force again, with more or fewer periods)
   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule = f.rule AND a.dedup_key = f.dedup_key AND a.id_number = f.id_number
                      AND NOT a.active AND a.disposition = 'source_data_error'
                      AND COALESCE(a.evidence -> 'death_record_ids', a.evidence -> 'custody_record_ids')
                          @> COALESCE(f.evidence -> 'death_record_ids', f.evidence -> 'custody_record_ids'))
   -- a live suppression (migration 0025: rule + person, or + account for shared_account) opens nothing
   AND NOT EXISTS (SELECT 1 FROM alert_suppressions s WHERE s.rule = f.rule AND s.revoked_at IS NULL AND s.expires_at > now()
                      AND s.subject = CASE s.scope WHEN 'account' THEN f.dedup_key ELSE f.id_number END);

-- step: open new alerts
WITH ins AS (
  INSERT INTO alerts (rule, id_number, dedup_key, severity, status, amount_at_risk, periods, evidence, detail, region_code, run_id, last_seen_run,
                      detected_as_of, last_seen_as_of)
  SELECT f.rule, f.id_number, f.dedup_key, (:severity::jsonb ->> f.rule), 'new', f.amount, f.periods, f.evidence, f.detail,
         COALESCE(pe.residence_region, pe.hukou_region), :run_id::bigint, :run_id::bigint, :as_of::date, :as_of::date
    FROM r_new f
    LEFT JOIN persons pe ON pe.id_number = f.id_number
  RETURNING alert_id
)
INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, reason, action)
SELECT alert_id, NULL, 'new', 'system', 'detected', 'detect' FROM ins;

-- step: close vanished
WITH vanished AS (
  SELECT a.*,
         EXISTS (SELECT 1 FROM r_withdrawn w
                  WHERE w.id_number = a.id_number AND jsonb_typeof(a.evidence -> w.evidence_key) = 'array'
                    AND jsonb_array_length(a.evidence -> w.evidence_key) > 0 AND w.ids @> (a.evidence -> w.evidence_key)) AS withdrawn
    FROM r_active a
   WHERE NOT EXISTS (SELECT 1 FROM r_find f WHERE f.rule = a.rule AND f.dedup_key = a.dedup_key AND (f.id_number = a.id_number OR a.rule = 'shared_account'))
     -- a run as of an earlier date than the one that found the alert cannot see its basis yet: that is
     -- no reason to close it (replaying an earlier date after a later one must change nothing)
     AND (SELECT z.detected_as_of FROM alerts z WHERE z.alert_id = a.alert_id) <= :as_of::date
     -- a reported death (migration 0034) is raised by the report, not found by detect-risk: it stands while
     -- its after_death case is still `reported` (no department record yet, not refuted)
     AND NOT (a.rule = 'reported_death'
              AND EXISTS (SELECT 1 FROM cases c WHERE c.kind = 'after_death' AND c.status = 'reported' AND 'case:' || c.case_id = a.dedup_key))
), gone AS (
  SELECT a.alert_id, a.status, CASE WHEN a.withdrawn THEN 'source_data_error' ELSE 'basis_disappeared' END AS disposition,
         CASE WHEN a.withdrawn THEN 'source_data_error: the ' || CASE WHEN a.rule = 'paid_in_custody' THEN 'custody' ELSE 'death' END
                                    || ' record was withdrawn by its department'
         ELSE 'basis_disappeared: ' || CASE a.rule
           WHEN 'paid_after_death' THEN CASE WHEN EXISTS (SELECT 1 FROM r_death d WHERE d.id_number = a.id_number)
                                             THEN 'no paid payment after the death date any more' ELSE 'the death record was withdrawn' END
           WHEN 'post_death_activity' THEN CASE WHEN EXISTS (SELECT 1 FROM r_death d WHERE d.id_number = a.id_number)
                                             THEN 'no activity after the death date any more' ELSE 'the death record was withdrawn' END
           WHEN 'paid_in_custody' THEN 'no paid pension for a period inside a custody record any more (record withdrawn or corrected)'
           WHEN 'double_receipt' THEN 'no period paid by two exclusive schemes any more'
           WHEN 'abnormal_amount' THEN 'no payment outside the threshold any more (payments or enrollment corrected)'
           WHEN 'shared_account' THEN 'the account no longer receives pensions for enough people in one period'
           WHEN 'no_sign_of_life' THEN 'sign of life found, death recorded, or no longer paid'
           WHEN 'reported_death' THEN 'a department death record confirmed the report: the after-death case takes over'
           WHEN 'hold_not_honoured' THEN CASE WHEN a.dedup_key LIKE 'hold:%'
                                             THEN 'no payment made despite the hold any more (hold released or payments corrected)'
                                             ELSE 'the held line is no longer paid (payment corrected) or the approved hold list changed' END
           ELSE 'no longer found' END END AS reason
    FROM vanished a
), upd AS (
  UPDATE alerts x SET status = 'closed', disposition = g.disposition, closed_at = now(), close_reason = g.reason, updated_at = now(),
                      updated_by = 'system', last_seen_run = :run_id::bigint,
                      last_seen_as_of = :as_of::date
    FROM gone g WHERE x.alert_id = g.alert_id
  RETURNING x.alert_id, g.status AS from_status, g.reason
)
INSERT INTO alert_transitions (alert_id, from_status, to_status, actor, reason, action)
SELECT alert_id, from_status, 'closed', 'system', reason, 'system_close' FROM upd;

-- step: detected earlier
-- An open alert that a run as of an earlier date finds too was detectable then: detected_as_of is the
-- earliest as-of of a run that found it, whatever order the dates were run in.
UPDATE alerts x SET detected_as_of = :as_of::date
  FROM r_active a JOIN r_find f ON f.rule = a.rule AND f.dedup_key = a.dedup_key AND (f.id_number = a.id_number OR a.rule = 'shared_account')
 WHERE x.alert_id = a.alert_id AND x.detected_as_of > :as_of::date;

-- step: summary
SELECT f.rule, count(*) AS findings, sum(f.amount) AS amount
  FROM r_find f GROUP BY f.rule ORDER BY f.rule;
