-- Sync engine working state, PostgreSQL dialect (twin: ../sqlite/0002_sync.sql).
--
-- sync_stage holds what one running sync of an account has to remember
-- beyond a bounded batch: the catalog rows a scan did not find (deleted only
-- after the scan completed), new files that may be the far end of a move,
-- the storage IDs an unsorted full scan has seen, and feed items waiting for
-- their parent folder. Rows belong to the account's current run (one at a
-- time: the caller holds the sync lease); a new run clears them first.
CREATE TABLE sync_stage (
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT    COLLATE "C" NOT NULL, -- seen | gone_asset | gone_folder | new_asset | deferred
    storage_id        TEXT    COLLATE "C" NOT NULL,
    ref_id            BIGINT,                       -- gone_*: the catalog row; new_asset: the gone asset it moves
    parent_storage_id TEXT    COLLATE "C" NOT NULL DEFAULT '',
    path              TEXT    COLLATE "C" NOT NULL DEFAULT '',
    name              TEXT    COLLATE "C" NOT NULL DEFAULT '',
    is_dir            BOOLEAN NOT NULL DEFAULT FALSE,
    size              BIGINT  NOT NULL DEFAULT 0,
    etag              TEXT    NOT NULL DEFAULT '',
    mod_time          BIGINT,
    mime              TEXT    NOT NULL DEFAULT '',
    native            BOOLEAN NOT NULL DEFAULT FALSE,
    fingerprint       TEXT    COLLATE "C" NOT NULL DEFAULT '', -- move matching key: ETag+size, or size+mtime (local)
    matched           BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account_id, kind, storage_id)
);
CREATE INDEX sync_stage_match ON sync_stage (account_id, kind, fingerprint, name, storage_id);

-- The sorted-scan merge-join reads folders in storage.SortKey order
-- (storage_id followed by "/"), byte order (the column is COLLATE "C").
CREATE INDEX folders_sync_key ON folders (account_id, (storage_id || '/'));
