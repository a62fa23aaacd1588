-- S3 multipart uploads while they run. Their parts are stored (and
-- billed) but listed nowhere until the upload is completed or aborted, so
-- the upload is recorded when it starts, renewed while its process lives
-- and forgotten when it ends; the cleanup job aborts those whose process
-- died (no renewal for a while).
CREATE TABLE multipart_uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    bucket     TEXT    NOT NULL,
    object_key TEXT    NOT NULL, -- the full key, prefix included
    upload_id  TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    UNIQUE (account_id, upload_id)
);
CREATE INDEX multipart_uploads_renewed ON multipart_uploads (renewed_at);
