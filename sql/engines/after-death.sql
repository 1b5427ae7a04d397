-- name: after-death
-- params: as_of, as_of_end, full, as_of_month, funeral_grant, account_balance, run_id, task_due_days
-- purpose: after-death one-thing (身后一件事). Every confirmed death (a department death record known on
--   :as_of) has one after_death case: a case reported by the family is confirmed (reported → open),
--   otherwise one is opened. The case holds the suspension month, the overpayments to recover (paid
--   benefits for periods after the death), the funeral grant and the pension-account balance payable to
--   heirs (amounts per pension scheme from :funeral_grant / :account_balance, key 'default' otherwise),
--   and one task per department. Cases close when all their tasks are done or cancelled; an open case
--   whose death record was withdrawn is closed with that reason and its open tasks cancelled.

-- step: deaths
CREATE TEMP TABLE x_death ON COMMIT DROP AS
WITH d AS (
  SELECT id_number, min(death_date) AS death_date, array_agg(record_id ORDER BY record_id) AS ids,
         array_agg(DISTINCT source ORDER BY source) AS sources, min(recorded_at) AS first_recorded_at
    FROM deaths_as_of(:as_of_end::timestamptz)
   WHERE NOT withdrawn AND death_date <= :as_of::date AND (recorded_at IS NULL OR recorded_at < :as_of_end::timestamptz)
     AND (:full::boolean OR id_number IN (SELECT id_number FROM engine_scope))
   GROUP BY id_number
), pen AS (
  SELECT DISTINCT ON (e.id_number) e.id_number, e.scheme_code
    FROM enrollments e JOIN ref_schemes s ON s.scheme_code = e.scheme_code AND s.is_pension
   WHERE e.id_number IN (SELECT id_number FROM d)
   ORDER BY e.id_number, e.start_period DESC, e.enrollment_id
), over AS (
  SELECT p.id_number, sum(p.amount) AS amount, array_agg(DISTINCT p.period ORDER BY p.period) AS periods,
         array_agg(p.payment_id ORDER BY p.payment_id) AS ids
    FROM d JOIN payments p ON p.id_number = d.id_number AND p.status = 'paid' AND p.period > d.death_date
   WHERE p.period <= :as_of_month::date
   GROUP BY p.id_number
), open_enr AS (
  SELECT e.id_number, array_agg(e.enrollment_id ORDER BY e.enrollment_id) AS ids
    FROM d JOIN enrollments e ON e.id_number = d.id_number
   WHERE e.status <> 'terminated' AND (e.end_period IS NULL OR e.end_period > d.death_date)
   GROUP BY e.id_number
), subs AS (
  SELECT s.id_number, array_agg(DISTINCT s.project_code ORDER BY s.project_code) AS projects, sum(s.amount) AS amount
    FROM d JOIN subsidies s ON s.id_number = d.id_number AND s.period > d.death_date
   GROUP BY s.id_number
)
SELECT d.*, pe.id_number IS NOT NULL AS in_registry, COALESCE(pe.residence_region, pe.hukou_region) AS region_code, pen.scheme_code,
       (date_trunc('month', d.death_date) + interval '1 month')::date AS suspend_from,
       COALESCE(over.amount, 0) AS overpaid, over.periods AS overpaid_periods, over.ids AS overpaid_payment_ids,
       open_enr.ids AS open_enrollments, subs.projects AS subsidy_projects_after_death, subs.amount AS subsidies_after_death,
       CASE WHEN pen.scheme_code IS NULL THEN 0 ELSE COALESCE(:funeral_grant::jsonb ->> pen.scheme_code, :funeral_grant::jsonb ->> 'default')::numeric END AS funeral_grant,
       CASE WHEN pen.scheme_code IS NULL THEN 0 ELSE COALESCE(:account_balance::jsonb ->> pen.scheme_code, :account_balance::jsonb ->> 'default')::numeric END AS account_balance
  FROM d
  LEFT JOIN persons pe USING (id_number)
  LEFT JOIN pen USING (id_number)
  LEFT JOIN over USING (id_number)
  LEFT JOIN open_enr USING (id_number)
  LEFT JOIN subs USING (id_number)
 WHERE pe.id_number IS NOT NULL;
CREATE UNIQUE INDEX ON x_death (id_number);
ANALYZE x_death;

-- step: confirm reported
UPDATE cases c
   SET status = 'open', death_date = x.death_date, amount_overpaid = x.overpaid, funeral_grant = x.funeral_grant,
       account_balance = x.account_balance, region_code = COALESCE(c.region_code, x.region_code), run_id = :run_id::bigint,
       detail = c.detail || jsonb_build_object('confirmed_by', to_jsonb(x.ids), 'confirmed_on', :as_of::date,
                 'reported_death_date_differs', (c.detail #>> '{report,death_date}') IS DISTINCT FROM x.death_date::text)
  FROM x_death x
 WHERE c.kind = 'after_death' AND c.status = 'reported' AND c.id_number = x.id_number;

-- step: cases to open
-- The deaths without a case, read before cases is written: an insert that probes its own table may
-- be planned as a nested loop over a scan of it, which re-reads every row the statement has added —
-- quadratic on a first run, when the table is empty (issue 22).
CREATE TEMP TABLE x_new_case ON COMMIT DROP AS
SELECT x.id_number, x.region_code, x.death_date, x.overpaid, x.funeral_grant, x.account_balance
  FROM x_death x
 WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.kind = 'after_death' AND c.id_number = x.id_number
                      AND (c.status <> 'closed' OR c.close_reason IS DISTINCT FROM 'death_record_withdrawn'));

-- step: open cases
INSERT INTO cases (kind, id_number, status, detail, region_code, death_date, amount_overpaid, funeral_grant, account_balance, run_id)
SELECT 'after_death', x.id_number, 'open', '{}'::jsonb, x.region_code, x.death_date, x.overpaid, x.funeral_grant, x.account_balance, :run_id::bigint
  FROM x_new_case x;

-- step: case facts
-- Refresh the amounts and facts of open cases (a late payment or a corrected record changes them).
UPDATE cases c
   SET death_date = x.death_date, amount_overpaid = x.overpaid, funeral_grant = x.funeral_grant, account_balance = x.account_balance,
       detail = c.detail || jsonb_strip_nulls(jsonb_build_object(
         'death_date', x.death_date, 'death_record_ids', to_jsonb(x.ids), 'sources', to_jsonb(x.sources),
         'suspend_from', x.suspend_from, 'pension_scheme', x.scheme_code,
         'overpaid', x.overpaid, 'overpaid_periods', to_jsonb(x.overpaid_periods), 'overpaid_payment_ids', to_jsonb(x.overpaid_payment_ids),
         'enrollments_to_suspend', to_jsonb(x.open_enrollments),
         'subsidies_after_death', x.subsidies_after_death, 'subsidy_projects_after_death', to_jsonb(x.subsidy_projects_after_death),
         'funeral_grant', x.funeral_grant, 'account_balance', x.account_balance))
  FROM x_death x
 WHERE c.kind = 'after_death' AND c.status = 'open' AND c.id_number = x.id_number
   AND (c.death_date, c.amount_overpaid, c.funeral_grant, c.account_balance, c.detail->'enrollments_to_suspend', c.detail->'death_record_ids')
       IS DISTINCT FROM (x.death_date, x.overpaid, x.funeral_grant, x.account_balance, to_jsonb(x.open_enrollments), to_jsonb(x.ids));

-- step: tasks
-- One task per department and purpose; suspend_benefit is done already when no enrollment runs past the death.
INSERT INTO tasks (kind, id_number, region_code, department, case_id, status, due_on, dedup_key, detail, created_by, run_id, opened_as_of, done_at, result)
SELECT t.kind, c.id_number, c.region_code, t.department, c.case_id, t.status, :as_of::date + :task_due_days::int,
       'case:' || c.case_id, t.detail, 'after-death', :run_id::bigint, :as_of::date,
       CASE WHEN t.status = 'done' THEN now() END, CASE WHEN t.status = 'done' THEN jsonb_build_object('by', 'after-death', 'why', 'no enrollment runs past the death') END
  FROM cases c
  JOIN x_death x ON x.id_number = c.id_number
  CROSS JOIN LATERAL (VALUES
    ('suspend_benefit', 'social_security', CASE WHEN x.open_enrollments IS NULL THEN 'done' ELSE 'open' END,
       jsonb_build_object('suspend_from', x.suspend_from, 'enrollments', to_jsonb(x.open_enrollments)), true),
    ('recover_overpayment', 'social_security', 'open', jsonb_build_object('amount', x.overpaid, 'periods', to_jsonb(x.overpaid_periods)), x.overpaid > 0),
    ('funeral_grant', 'social_security', 'open', jsonb_build_object('amount', x.funeral_grant, 'scheme', x.scheme_code), x.funeral_grant > 0),
    ('account_balance', 'social_security', 'open', jsonb_build_object('amount', x.account_balance, 'scheme', x.scheme_code), x.account_balance > 0),
    ('stop_subsidies', 'civil_affairs', 'open', jsonb_build_object('projects', to_jsonb(x.subsidy_projects_after_death), 'paid_after_death', x.subsidies_after_death), x.subsidy_projects_after_death IS NOT NULL),
    ('cancel_household', 'public_security', 'open', jsonb_build_object('death_date', x.death_date), NOT ('public_security' = ANY (x.sources)))
  ) AS t(kind, department, status, detail, needed)
 WHERE c.kind = 'after_death' AND c.status = 'open' AND t.needed
ON CONFLICT (kind, id_number, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING;

-- step: analyze
-- The cases and tasks just written (on a first run, every one of them) are not in the statistics yet:
-- planned on those, "close done" probed the open tasks once per case (24,040 × 82,925 at city scale,
-- 41 s; issue 22). Sampling them now costs a fraction of a second.
ANALYZE cases, tasks;

-- step: verify reports done
-- A department record confirms the death: the community's check of a family's report, and the auditors'
-- follow-up of a death that community staff found on a visit (core/workflow/field-visits.ts), are done.
UPDATE tasks t SET status = 'done', done_at = now(), result = jsonb_build_object('by', 'after-death', 'confirmed_by', to_jsonb(x.ids))
  FROM x_death x
 WHERE (t.kind = 'verify_death_report' OR (t.kind = 'review_field_visit' AND t.detail->>'why' = 'found_deceased'))
   AND t.status = 'open' AND t.id_number = x.id_number;

-- step: withdrawn
WITH w AS (
  UPDATE cases c SET status = 'closed', closed_at = now(), close_reason = 'death_record_withdrawn', run_id = :run_id::bigint
   WHERE c.kind = 'after_death' AND c.status = 'open'
     AND (:full::boolean OR c.id_number IN (SELECT id_number FROM engine_scope))
     AND NOT EXISTS (SELECT 1 FROM x_death x WHERE x.id_number = c.id_number)
  RETURNING c.case_id
)
UPDATE tasks t SET status = 'cancelled', done_at = now(), result = jsonb_build_object('by', 'after-death', 'why', 'death record withdrawn')
  FROM w WHERE t.case_id = w.case_id AND t.status = 'open';

-- step: close done
UPDATE cases c SET status = 'closed', closed_at = now(), close_reason = 'all tasks done'
 WHERE c.kind = 'after_death' AND c.status = 'open'
   AND EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.case_id)
   AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.case_id AND t.status = 'open');
