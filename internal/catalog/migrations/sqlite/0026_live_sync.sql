-- Live sync (SPEC §3.4).
--
-- events_key is the secret of the connection's events URL
-- (POST /api/v1/storage/events/{events_key}); a new one is made on every
-- (re)connect. last_change_at is when a live batch last changed the library.
ALTER TABLE storage_connections ADD COLUMN events_key TEXT NOT NULL DEFAULT '';
ALTER TABLE storage_connections ADD COLUMN last_change_at INTEGER;
CREATE INDEX storage_connections_events_key ON storage_connections (events_key);

-- One row per live account being watched: the process (holder) whose
-- watcher, poller or push channel serves it until expires_at (renewed every
-- third of the TTL; another process takes an expired row over). mode and
-- note say how changes arrive ("push", "polling" and why). A Drive push
-- channel's identity is kept so that the next holder can stop it.
CREATE TABLE live_watchers (
    account_id       INTEGER  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    holder           TEXT    NOT NULL,
    expires_at       INTEGER  NOT NULL,
    mode             TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    channel_id       TEXT    NOT NULL DEFAULT '',
    channel_resource TEXT    NOT NULL DEFAULT '',
    channel_token    TEXT    NOT NULL DEFAULT '',
    channel_expires  INTEGER
);
CREATE INDEX live_watchers_holder ON live_watchers (holder);

-- The processes taking part in live watching, each renewing its row: how
-- many share the live accounts (each watches its fair share).
CREATE TABLE live_nodes (
    holder     TEXT    PRIMARY KEY,
    expires_at INTEGER  NOT NULL
);

-- The paths a storage reported changed and no live batch applied yet,
-- coalesced per path. '' stands for the whole root (events were lost or too
-- many: re-list everything; for Drive, read the changes feed).
CREATE TABLE live_events (
    account_id INTEGER  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    created_at INTEGER  NOT NULL,
    PRIMARY KEY (account_id, path)
);

-- Runs get the trigger 'live' (live batches, summed per account and hour).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
-- Dropping the old table cascades to sync_leases (the only table that
-- references it); migrations run before any sync starts, so a lease there
-- is stale anyway.
CREATE TABLE sync_runs_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    trigger        TEXT    NOT NULL CHECK (trigger IN ('manual', 'auto', 'initial', 'cli', 'live')),
    state          TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'needs_confirmation')),
    requested_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    seen           INTEGER NOT NULL DEFAULT 0,
    added          INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    moved          INTEGER NOT NULL DEFAULT 0,
    removed        INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    total_estimate INTEGER,
    full_scan      INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    phase          TEXT    NOT NULL DEFAULT '',
    rate_per_second REAL,
    apply_total    INTEGER,
    pending_removals INTEGER NOT NULL DEFAULT 0,
    pending_removal_paths TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO sync_runs_new (id, account_id, trigger, state, requested_by, created_at, started_at, finished_at,
    seen, added, updated, moved, removed, errors, total_estimate, full_scan, error,
    phase, rate_per_second, apply_total, pending_removals, pending_removal_paths)
SELECT id, account_id, trigger, state, requested_by, created_at, started_at, finished_at,
    seen, added, updated, moved, removed, errors, total_estimate, full_scan, error,
    phase, rate_per_second, apply_total, pending_removals, pending_removal_paths
FROM sync_runs;
-- Run ids are never reused: the new table's counter goes on from the old.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'sync_runs_new', seq FROM sqlite_sequence WHERE name = 'sync_runs'
  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sync_runs_new');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'sync_runs'), 0))
WHERE name = 'sync_runs_new';
DROP TABLE sync_runs;
ALTER TABLE sync_runs_new RENAME TO sync_runs;
CREATE INDEX sync_runs_account ON sync_runs (account_id, id);
-- At most one queued or running run per account: a second is refused.
CREATE UNIQUE INDEX sync_runs_active ON sync_runs (account_id) WHERE state IN ('queued', 'running');
