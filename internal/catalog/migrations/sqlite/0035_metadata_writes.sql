-- Background write-back of team metadata into many files at once
-- (POST /api/v1/metadata-writes): one row per request with its counts,
-- and one item per asset with its own result ('pending', 'written',
-- 'failed'; error says why; attempts counts temporary failures).
CREATE TABLE metadata_writes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    requested_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    total        INTEGER NOT NULL,
    written      INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX metadata_writes_account ON metadata_writes (account_id, id);
CREATE TABLE metadata_write_items (
    write_id   INTEGER NOT NULL REFERENCES metadata_writes (id) ON DELETE CASCADE,
    asset_id   INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'written', 'failed')),
    error      TEXT    NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (write_id, asset_id)
);
-- Removing an asset removes its items (ON DELETE CASCADE looks them up here).
CREATE INDEX metadata_write_items_asset ON metadata_write_items (asset_id);
