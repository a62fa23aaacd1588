-- Search finds assets by the facts read from their files too: creator,
-- copyright and lens (asset_file_meta, 0033), in a trigram index of their
-- own keyed by asset id, kept in step by triggers. A search matches an
-- asset when every word is in its name, title, description, tags or
-- custom values, or every word is in these facts.
CREATE VIRTUAL TABLE asset_facts_fts USING fts5 (
    facts, content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE TRIGGER asset_facts_fts_insert AFTER INSERT ON asset_file_meta
BEGIN
    INSERT INTO asset_facts_fts (rowid, facts) VALUES (new.asset_id, new.creator || ' ' || new.copyright || ' ' || new.lens);
END;
CREATE TRIGGER asset_facts_fts_delete AFTER DELETE ON asset_file_meta
BEGIN
    DELETE FROM asset_facts_fts WHERE rowid = old.asset_id;
END;
CREATE TRIGGER asset_facts_fts_update AFTER UPDATE OF creator, copyright, lens ON asset_file_meta
BEGIN
    DELETE FROM asset_facts_fts WHERE rowid = old.asset_id;
    INSERT INTO asset_facts_fts (rowid, facts) VALUES (new.asset_id, new.creator || ' ' || new.copyright || ' ' || new.lens);
END;
