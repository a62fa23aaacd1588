-- A running sync's progress beyond its counters: the phase it is in, the
-- rate of its current phase and, while applying, how many changes it will
-- have made when done. A run stopped by the mass-removal guard keeps how
-- many assets it would remove and the first of their paths (a JSON array),
-- so an admin sees what a confirmation removes.
ALTER TABLE sync_runs ADD COLUMN phase TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_runs ADD COLUMN rate_per_second REAL;
ALTER TABLE sync_runs ADD COLUMN apply_total INTEGER;
ALTER TABLE sync_runs ADD COLUMN pending_removals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN pending_removal_paths TEXT NOT NULL DEFAULT '[]';
-- How many entries the last complete listing of the root saw: the next
-- run's estimate (none until a listing completed).
ALTER TABLE storage_connections ADD COLUMN last_listed INTEGER;
