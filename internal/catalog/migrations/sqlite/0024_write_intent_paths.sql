-- The paths a library write in flight claims against every other library
-- write of the account, in any process: a new file's path, a moved file's
-- source and target, a moved or deleted folder with everything under it
-- (tree = 1). A write whose claim overlaps a live one is refused before it
-- touches the storage, so "is the name free?" and "take it" are one step
-- across processes. The rows go with their write intent: in the catalog
-- commit that records the write (the claim becomes the row), when the write
-- ends, or when the intent of a process that died expires.
CREATE TABLE write_intent_paths (
    intent_id  INTEGER NOT NULL REFERENCES write_intents (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    path       TEXT    NOT NULL,
    tree       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, path)
);
CREATE INDEX write_intent_paths_intent ON write_intent_paths (intent_id);
