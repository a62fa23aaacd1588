-- assets.meta_pending marks an asset whose current version's file metadata
-- was not read yet, so that the reader finds the few pending assets by an
-- index instead of comparing every asset of the account with its last
-- read. A new asset is pending (the default); a new version (etag, size
-- or modification time changed, by a sync, an upload or a write-back) is
-- pending again (the trigger); recording a read clears it
-- (catalog.putFileMeta). The flag lives in the asset's row, so it
-- survives a crash or restart of the reader. meta_failures counts the
-- reads of the current version that failed (storage errors): after a few
-- the version is recorded as read incomplete, so one unreadable file does
-- not stop the reader; a new version starts again from 0.
ALTER TABLE assets ADD COLUMN meta_pending INTEGER NOT NULL DEFAULT 1;
ALTER TABLE assets ADD COLUMN meta_failures INTEGER NOT NULL DEFAULT 0;
UPDATE assets SET meta_pending = 0
 WHERE EXISTS (SELECT 1 FROM asset_file_meta m WHERE m.asset_id = assets.id
               AND m.etag = assets.etag AND m.size = assets.size AND m.mod_time IS assets.mod_time);
CREATE INDEX assets_meta_pending ON assets (account_id, id) WHERE meta_pending = 1 AND removed_at IS NULL;
CREATE TRIGGER assets_meta_version AFTER UPDATE OF etag, size, mod_time ON assets
    FOR EACH ROW
    WHEN OLD.etag IS NOT NEW.etag OR OLD.size IS NOT NEW.size OR OLD.mod_time IS NOT NEW.mod_time
BEGIN
    UPDATE assets SET meta_pending = 1, meta_failures = 0 WHERE id = NEW.id;
END;
