-- Shelf catalog schema, SQLite dialect. The PostgreSQL twin lives in
-- ../postgres/0001_init.sql and must stay equivalent.
--
-- Conventions: every time is an INTEGER of Unix milliseconds (UTC), passed
-- in from Go (so tests can inject a clock); booleans are 0/1; JSON is TEXT.

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    plan                TEXT    NOT NULL,
    -- 1 once an operator set the plan: trial expiry then leaves it alone.
    plan_explicit       INTEGER NOT NULL DEFAULT 0,
    trial_ends_at       INTEGER,
    next_auto_sync_at   INTEGER,
    last_manual_sync_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX accounts_next_auto_sync ON accounts (next_auto_sync_at) WHERE next_auto_sync_at IS NOT NULL;
CREATE INDEX accounts_trial_end ON accounts (trial_ends_at) WHERE plan = 'trial';

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL, -- stored lower-cased
    name          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    is_operator   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY, -- SHA-256 of the cookie value, hex
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL, -- SHA-256 of the token, hex
    prefix       TEXT    NOT NULL, -- first characters, to recognise it in lists
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One storage connection per account.
CREATE TABLE storage_connections (
    account_id        INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT    NOT NULL CHECK (kind IN ('s3', 'gdrive', 'local')),
    config            TEXT    NOT NULL DEFAULT '{}', -- non-secret settings, JSON
    secret            BLOB,                          -- encrypted credentials (secrets.Box)
    root_key          TEXT    NOT NULL,              -- identity of the root ("s3://bucket/prefix", Drive folder ID, path)
    status            TEXT    NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'needs_reconnect', 'error')),
    status_message    TEXT    NOT NULL DEFAULT '',
    sync_cursor       TEXT    NOT NULL DEFAULT '',   -- Drive changes page token
    last_full_scan_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- Folders mirror the storage's folders. storage_id is the Drive folder ID or
-- the root-relative path for S3 and local. Paths are not unique: Drive allows
-- two folders of the same name in one parent.
CREATE TABLE folders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES folders (id) ON DELETE CASCADE, -- NULL: directly under the root
    storage_id TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX folders_storage_id ON folders (account_id, storage_id);
CREATE INDEX folders_parent ON folders (account_id, parent_id, name);
CREATE INDEX folders_path ON folders (account_id, path);

-- Assets are the files. A removed asset stays as a tombstone (removed_at set)
-- so its team metadata can be relinked when the same file comes back.
CREATE TABLE assets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id     INTEGER REFERENCES folders (id) ON DELETE SET NULL, -- NULL: directly under the root
    storage_id    TEXT    NOT NULL,  -- Drive file ID, or root-relative key/path
    name          TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    -- file facts from the storage
    size          INTEGER NOT NULL DEFAULT 0,
    etag          TEXT    NOT NULL DEFAULT '', -- S3 ETag / Drive md5 / local content hash when known
    mod_time      INTEGER,
    mime          TEXT    NOT NULL DEFAULT '',
    native        INTEGER NOT NULL DEFAULT 0,  -- Google-native document, no content
    -- file facts from the content (filled by the preview job)
    width         INTEGER,
    height        INTEGER,
    duration_ms   INTEGER,
    taken_at      INTEGER,
    camera        TEXT    NOT NULL DEFAULT '',
    preview_state TEXT    NOT NULL DEFAULT 'pending' CHECK (preview_state IN ('pending', 'ready', 'icon', 'error')),
    preview_error TEXT    NOT NULL DEFAULT '',
    -- team metadata, kept across content changes, moves and tombstones
    title         TEXT    NOT NULL DEFAULT '',
    description   TEXT    NOT NULL DEFAULT '',
    tags          TEXT    NOT NULL DEFAULT '[]', -- JSON array; mirrored in asset_tags
    rating        INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    custom        TEXT    NOT NULL DEFAULT '{}', -- JSON object of string values
    removed_at    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX assets_storage_id ON assets (account_id, storage_id);
-- Browsing a folder, one index per sort key, each ending in id for keyset
-- pagination (catalog.AssetQuery): name, date, size. Flat S3 prefixes hold
-- 100k files, so no sort may fall back to sorting a whole folder.
CREATE INDEX assets_folder_name ON assets (account_id, folder_id, lower(name), id) WHERE removed_at IS NULL;
CREATE INDEX assets_folder_date ON assets (account_id, folder_id, COALESCE(mod_time, 0), id) WHERE removed_at IS NULL;
CREATE INDEX assets_folder_size ON assets (account_id, folder_id, size, id) WHERE removed_at IS NULL;
-- The same sorts over the whole library.
CREATE INDEX assets_all_name ON assets (account_id, lower(name), id) WHERE removed_at IS NULL;
CREATE INDEX assets_all_date ON assets (account_id, COALESCE(mod_time, 0), id) WHERE removed_at IS NULL;
-- Subtrees by path prefix (folder move/rename rewrites, recursive listing),
-- tombstones included so the sync can relink them by path.
CREATE INDEX assets_path ON assets (account_id, path);
CREATE INDEX assets_removed ON assets (account_id, removed_at) WHERE removed_at IS NOT NULL;
CREATE INDEX assets_preview_pending ON assets (account_id, id) WHERE preview_state = 'pending' AND removed_at IS NULL;

-- Full-text search over name, title, description and tags: FTS5 with the
-- trigram tokenizer (substring matches, case-insensitive), an external
-- content table over assets kept in step by triggers.
CREATE VIRTUAL TABLE assets_fts USING fts5 (
    name, title, description, tags,
    content = 'assets', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_fts (rowid, name, title, description, tags)
    VALUES (new.id, new.name, new.title, new.description, new.tags);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, name, title, description, tags)
    VALUES ('delete', old.id, old.name, old.title, old.description, old.tags);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, title, description, tags ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, name, title, description, tags)
    VALUES ('delete', old.id, old.name, old.title, old.description, old.tags);
    INSERT INTO assets_fts (rowid, name, title, description, tags)
    VALUES (new.id, new.name, new.title, new.description, new.tags);
END;

CREATE TABLE asset_tags (
    account_id INTEGER NOT NULL,
    tag        TEXT    NOT NULL, -- lower-cased
    asset_id   INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, tag, asset_id)
);
CREATE INDEX asset_tags_asset ON asset_tags (asset_id);

CREATE TABLE sync_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    trigger        TEXT    NOT NULL CHECK (trigger IN ('manual', 'auto', 'initial', 'cli')),
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
    error          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_account ON sync_runs (account_id, id);
-- At most one queued or running run per account: a second is refused.
CREATE UNIQUE INDEX sync_runs_active ON sync_runs (account_id) WHERE state IN ('queued', 'running');

-- The library lock: at most one row per account, held by a running sync
-- and renewed while it lives. An expired row no longer locks.
CREATE TABLE sync_leases (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    holder      TEXT    NOT NULL, -- process that holds it (host:pid:random)
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- A library write in flight (write-through to storage). Refused while a sync
-- lease exists; a sync waits for open intents to end or expire before it
-- scans.
CREATE TABLE write_intents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    op         TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX write_intents_account ON write_intents (account_id, expires_at);
CREATE INDEX sync_leases_expires ON sync_leases (expires_at);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE, -- NULL: every user of the account
    kind       TEXT    NOT NULL, -- sync.completed, sync.failed, storage.needs_reconnect, ...
    message    TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE INDEX notifications_user ON notifications (user_id, id) WHERE user_id IS NOT NULL;

-- Per-user read marks of account-wide notifications (user_id NULL above);
-- a notification for one user keeps its read_at on its own row.
CREATE TABLE notification_reads (
    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at         INTEGER NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_reads_user ON notification_reads (user_id);

CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    secret          BLOB    NOT NULL, -- encrypted signing secret
    events          TEXT    NOT NULL DEFAULT '[]', -- JSON array of event names or patterns ("asset.*")
    enabled         INTEGER NOT NULL DEFAULT 1,
    failure_count   INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account_id);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event       TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- Pending OAuth authorizations (state + PKCE verifier), short-lived.
CREATE TABLE oauth_states (
    state      TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verifier   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
