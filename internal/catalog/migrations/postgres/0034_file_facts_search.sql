-- Search finds assets by the facts read from their files too: creator,
-- copyright and lens (asset_file_meta, 0033), through a pg_trgm GIN index
-- on their lower-cased text. A search matches an asset when every word is
-- in its name, title, description, tags or custom values, or every word
-- is in these facts.
CREATE INDEX asset_file_meta_facts ON asset_file_meta
    USING gin ((lower(creator || ' ' || copyright || ' ' || lens)) gin_trgm_ops);
