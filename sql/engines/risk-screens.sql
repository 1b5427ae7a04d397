-- name: risk-screens
-- params: rebuild, watermark, pension
-- purpose: keep the payment screens of detect-risk current. :rebuild = true recomputes them from every
--   paid payment; otherwise the paid rows loaded after :watermark (BRIN on loaded_at) are merged in
--   (min/max/count/last period per person and scheme; smallest/largest person per account for the
--   :pension schemes). A merged screen is a superset of the exact one (replaced versions stay in it),
--   which is all a screen must be. One pass over payments feeds both screens. A rebuild empties both
--   tables first (TRUNCATE, in detect-risk.ts).

-- step: person rows
CREATE TEMP TABLE k_ps ON COMMIT DROP AS
SELECT id_number, scheme_code, account_no, min(amount) AS min_amount, max(amount) AS max_amount, count(*) AS payments, max(period) AS max_period
  FROM payments
 WHERE status = 'paid' AND (:rebuild::boolean OR loaded_at > :watermark::timestamptz)
 GROUP BY id_number, scheme_code, account_no;

-- step: rebuild persons
INSERT INTO risk_pay_screen (id_number, scheme_code, min_amount, max_amount, payments, max_period)
SELECT id_number, scheme_code, min(min_amount), max(max_amount), sum(payments), max(max_period)
  FROM k_ps WHERE :rebuild::boolean GROUP BY id_number, scheme_code;

-- step: rebuild accounts
INSERT INTO risk_account_screen (account_no, min_id, max_id)
SELECT account_no, min(id_number), max(id_number)
  FROM k_ps WHERE :rebuild::boolean AND account_no IS NOT NULL AND scheme_code = ANY (:pension::text[])
 GROUP BY account_no;

-- step: merge persons
INSERT INTO risk_pay_screen AS s (id_number, scheme_code, min_amount, max_amount, payments, max_period)
SELECT id_number, scheme_code, min(min_amount), max(max_amount), sum(payments), max(max_period)
  FROM k_ps WHERE NOT :rebuild::boolean GROUP BY id_number, scheme_code
ON CONFLICT (id_number, scheme_code) DO UPDATE SET
  min_amount = LEAST(s.min_amount, EXCLUDED.min_amount), max_amount = GREATEST(s.max_amount, EXCLUDED.max_amount),
  payments = s.payments + EXCLUDED.payments, max_period = GREATEST(s.max_period, EXCLUDED.max_period);

-- step: merge accounts
INSERT INTO risk_account_screen AS s (account_no, min_id, max_id)
SELECT account_no, min(id_number), max(id_number)
  FROM k_ps WHERE NOT :rebuild::boolean AND account_no IS NOT NULL AND scheme_code = ANY (:pension::text[])
 GROUP BY account_no
ON CONFLICT (account_no) DO UPDATE SET min_id = LEAST(s.min_id, EXCLUDED.min_id), max_id = GREATEST(s.max_id, EXCLUDED.max_id);
