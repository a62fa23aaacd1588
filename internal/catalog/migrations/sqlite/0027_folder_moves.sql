-- A folder move whose subtree is still being rewritten (Store.MoveFolder):
-- the folder itself is in its new place; the paths (and path-shaped
-- storage IDs) of the folders and assets under it go from old_path to
-- new_path in short batches. While the row exists both trees count as
-- claimed by a library write and a sync waits for it. holder is bumped by
-- whoever takes the rewrite over; expires_at is pushed on by every batch,
-- so a row past it belongs to a process that died and is finished by the
-- next library write or sync of the account.
CREATE TABLE folder_moves (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id  INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    old_path   TEXT    NOT NULL,
    new_path   TEXT    NOT NULL,
    holder     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX folder_moves_account ON folder_moves (account_id);
