-- When an admin last confirmed a sync's removals (mass-removal guard): the
-- guard counts the removals of the last 24 hours against the library's size,
-- and a confirmation starts that count afresh.
ALTER TABLE storage_connections ADD COLUMN removals_confirmed_at BIGINT;
