-- Search indexing deferred during a big import (the first sync of a large
-- library): while an account has a row here, its assets with id >= from_id
-- are not indexed by the triggers; a background job indexes them in id
-- order, moving from_id on as it goes, and deletes the row when done.
-- Assets below from_id are indexed as usual, so every asset is indexed
-- exactly once and kept up to date.
CREATE TABLE search_backlog (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    from_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

DROP TRIGGER assets_fts_insert;
DROP TRIGGER assets_fts_delete;
DROP TRIGGER assets_fts_update;
CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = new.account_id AND new.id >= b.from_id)
BEGIN
    INSERT INTO assets_fts (rowid, name, title, description, tags)
    VALUES (new.id, new.name, new.title, new.description, new.tags);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = old.account_id AND old.id >= b.from_id)
BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, name, title, description, tags)
    VALUES ('delete', old.id, old.name, old.title, old.description, old.tags);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, title, description, tags ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = new.account_id AND new.id >= b.from_id)
BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, name, title, description, tags)
    VALUES ('delete', old.id, old.name, old.title, old.description, old.tags);
    INSERT INTO assets_fts (rowid, name, title, description, tags)
    VALUES (new.id, new.name, new.title, new.description, new.tags);
END;

-- Counts the library writes made through Shelf (write-through), so a live
-- batch that read the storage before taking the library can tell whether
-- what it read may be stale.
ALTER TABLE accounts ADD COLUMN library_version INTEGER NOT NULL DEFAULT 0;

-- A live batch finds the hour's live run by trigger and time.
CREATE INDEX sync_runs_trigger ON sync_runs (account_id, trigger, created_at);
