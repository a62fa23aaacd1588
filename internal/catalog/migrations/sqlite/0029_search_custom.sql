-- Search covers the values of custom fields too (not their names). The
-- index becomes contentless (deleting by rowid): its custom column holds
-- the values of the assets' JSON custom column, not that column itself,
-- so it can no longer borrow its text from the assets table. The search
-- backlog condition of 0028 stays: assets of an account with a
-- search_backlog row, from from_id on, are indexed by FillSearchBacklog.
DROP TRIGGER assets_fts_insert;
DROP TRIGGER assets_fts_delete;
DROP TRIGGER assets_fts_update;
DROP TABLE assets_fts;
CREATE VIRTUAL TABLE assets_fts USING fts5 (
    name, title, description, tags, custom,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO assets_fts (rowid, name, title, description, tags, custom)
SELECT a.id, a.name, a.title, a.description, a.tags,
       (SELECT group_concat(j.value, ' ') FROM json_each(a.custom) j)
FROM assets a
WHERE NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = a.account_id AND a.id >= b.from_id);

CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = new.account_id AND new.id >= b.from_id)
BEGIN
    INSERT INTO assets_fts (rowid, name, title, description, tags, custom)
    VALUES (new.id, new.name, new.title, new.description, new.tags,
            (SELECT group_concat(j.value, ' ') FROM json_each(new.custom) j));
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = old.account_id AND old.id >= b.from_id)
BEGIN
    DELETE FROM assets_fts WHERE rowid = old.id;
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF name, title, description, tags, custom ON assets
WHEN NOT EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = new.account_id AND new.id >= b.from_id)
BEGIN
    DELETE FROM assets_fts WHERE rowid = old.id;
    INSERT INTO assets_fts (rowid, name, title, description, tags, custom)
    VALUES (new.id, new.name, new.title, new.description, new.tags,
            (SELECT group_concat(j.value, ' ') FROM json_each(new.custom) j));
END;
