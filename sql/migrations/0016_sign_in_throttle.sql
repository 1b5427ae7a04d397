-- Sign-in throttling instead of a hard account lock. Failures are counted per account name from one
-- address, per address and per account name from all addresses (keys 'acct:<name>@<address>',
-- 'addr:<address>', 'acct:<name>'), here in the database so that every web process shares them and
-- the check-and-count before a password check is one atomic step (row locks). A key that reaches its
-- limit is blocked for a while that doubles with each block in a row (capped); the count starts again
-- when the block ends. Names are keys whether or not such a user exists, so a block says nothing about
-- which names exist. core/accounts.ts holds the limits.
CREATE TABLE sign_in_throttle (
  key           text        PRIMARY KEY,
  failures      integer     NOT NULL DEFAULT 0,
  blocks        integer     NOT NULL DEFAULT 0,   -- blocks in a row: the next block lasts 2^blocks minutes (capped)
  blocked_until timestamptz,
  last_failure  timestamptz
);

-- The per-user lock columns are replaced by the table above.
ALTER TABLE staff_users DROP COLUMN failed_logins, DROP COLUMN locked_until;
