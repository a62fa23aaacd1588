-- Live sync (SPEC §3.4).
--
-- events_key is the secret of the connection's events URL
-- (POST /api/v1/storage/events/{events_key}); a new one is made on every
-- (re)connect. last_change_at is when a live batch last changed the library.
ALTER TABLE storage_connections ADD COLUMN events_key TEXT NOT NULL DEFAULT '';
ALTER TABLE storage_connections ADD COLUMN last_change_at BIGINT;
CREATE INDEX storage_connections_events_key ON storage_connections (events_key);

-- One row per live account being watched: the process (holder) whose
-- watcher, poller or push channel serves it until expires_at (renewed every
-- third of the TTL; another process takes an expired row over). mode and
-- note say how changes arrive ("push", "polling" and why). A Drive push
-- channel's identity is kept so that the next holder can stop it.
CREATE TABLE live_watchers (
    account_id       BIGINT  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    holder           TEXT    NOT NULL,
    expires_at       BIGINT  NOT NULL,
    mode             TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    channel_id       TEXT    NOT NULL DEFAULT '',
    channel_resource TEXT    NOT NULL DEFAULT '',
    channel_token    TEXT    NOT NULL DEFAULT '',
    channel_expires  BIGINT
);
CREATE INDEX live_watchers_holder ON live_watchers (holder);

-- The processes taking part in live watching, each renewing its row: how
-- many share the live accounts (each watches its fair share).
CREATE TABLE live_nodes (
    holder     TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);

-- The paths a storage reported changed and no live batch applied yet,
-- coalesced per path. '' stands for the whole root (events were lost or too
-- many: re-list everything; for Drive, read the changes feed).
CREATE TABLE live_events (
    account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    path       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (account_id, path)
);

-- Runs get the trigger 'live' (live batches, summed per account and hour).
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_trigger_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_trigger_check CHECK (trigger IN ('manual', 'auto', 'initial', 'cli', 'live'));
