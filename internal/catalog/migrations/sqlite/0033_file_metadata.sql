-- Metadata that travels with the files (SPEC §4.1).
--
-- asset_file_meta: what Shelf last read from a file's own metadata
-- (embedded XMP / IPTC / EXIF and its XMP sidecar), for the version of the
-- file it read (etag, size, mod_time). A NULL title, description, tags or
-- rating means the file says nothing about it. The read values are kept so
-- that the next read can tell whether the file's metadata changed (only
-- then may it replace a team edit). creator, copyright, lens and GPS are
-- file facts shown on the asset page. sidecar_path names the XMP sidecar
-- read with it; notes says what was skipped (bad input). write_error /
-- written_at are the last write-back's outcome.
CREATE TABLE asset_file_meta (
    asset_id     INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    etag         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    mod_time     INTEGER,
    title        TEXT,
    description  TEXT,
    tags         TEXT,
    rating       INTEGER,
    creator      TEXT    NOT NULL DEFAULT '',
    copyright    TEXT    NOT NULL DEFAULT '',
    lens         TEXT    NOT NULL DEFAULT '',
    gps_lat      REAL,
    gps_lon      REAL,
    sidecar_path TEXT    NOT NULL DEFAULT '',
    reader       TEXT    NOT NULL DEFAULT '',
    notes        TEXT    NOT NULL DEFAULT '',
    read_at      INTEGER NOT NULL,
    write_error  TEXT    NOT NULL DEFAULT '',
    written_at   INTEGER
);
CREATE INDEX asset_file_meta_account ON asset_file_meta (account_id);

-- Where the current value of an asset's title, description, tags and
-- rating came from ('file': read from the file; 'shelf': edited in Shelf)
-- and when it changed there (the file's modification time, or the edit's
-- time). A sync replaces a 'shelf' value only with a file change newer
-- than the edit.
CREATE TABLE asset_meta_sources (
    asset_id   INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    field      TEXT    NOT NULL CHECK (field IN ('title', 'description', 'tags', 'rating')),
    source     TEXT    NOT NULL CHECK (source IN ('file', 'shelf')),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (asset_id, field)
);

-- What a sync run (or the metadata reading that follows it) skipped or
-- noticed about single files: an orphan sidecar, a malformed XMP packet.
CREATE TABLE sync_run_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    run_id     INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    path       TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sync_run_notes_run ON sync_run_notes (run_id, id);

-- Account setting: write title, description, tags and rating edits back
-- into the files (admin, off by default).
ALTER TABLE accounts ADD COLUMN write_metadata_to_files INTEGER NOT NULL DEFAULT 0;
