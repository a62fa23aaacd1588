-- Search indexing deferred during a big import (the first sync of a large
-- library): while an account has a row here, its assets with id >= from_id
-- are not indexed by the trigger; a background job indexes them in id
-- order, moving from_id on as it goes, and deletes the row when done.
-- Assets below from_id are indexed as usual, so every asset is indexed
-- exactly once and kept up to date.
CREATE TABLE search_backlog (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    from_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION asset_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = NEW.account_id AND NEW.id >= b.from_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO asset_search (asset_id, account_id, body)
    VALUES (NEW.id, NEW.account_id, lower(NEW.name || ' ' || NEW.title || ' ' || NEW.description || ' ' || NEW.tags))
    ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body;
    RETURN NULL;
END
$$;

-- Counts the library writes made through Shelf (write-through), so a live
-- batch that read the storage before taking the library can tell whether
-- what it read may be stale.
ALTER TABLE accounts ADD COLUMN library_version BIGINT NOT NULL DEFAULT 0;

-- A live batch finds the hour's live run by trigger and time.
CREATE INDEX sync_runs_trigger ON sync_runs (account_id, trigger, created_at);
