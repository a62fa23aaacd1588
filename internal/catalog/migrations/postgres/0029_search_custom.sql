-- Search covers the values of custom fields too (not their names):
-- asset_search.body ends with them. asset_custom_text is '' for an asset
-- without custom fields, so only assets with some are re-indexed here. The
-- search backlog condition of 0028 stays: assets of an account with a
-- search_backlog row, from from_id on, are indexed by FillSearchBacklog.
CREATE FUNCTION asset_custom_text(custom TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(' ' || string_agg(value, ' '), '') FROM json_each_text(custom::json)
$$;

CREATE OR REPLACE FUNCTION asset_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM search_backlog b WHERE b.account_id = NEW.account_id AND NEW.id >= b.from_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO asset_search (asset_id, account_id, body)
    VALUES (NEW.id, NEW.account_id, lower(NEW.name || ' ' || NEW.title || ' ' || NEW.description || ' ' || NEW.tags || asset_custom_text(NEW.custom)))
    ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body;
    RETURN NULL;
END
$$;

DROP TRIGGER asset_search_update ON assets;
CREATE TRIGGER asset_search_update AFTER UPDATE OF name, title, description, tags, custom ON assets
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.title IS DISTINCT FROM NEW.title
          OR OLD.description IS DISTINCT FROM NEW.description OR OLD.tags IS DISTINCT FROM NEW.tags
          OR OLD.custom IS DISTINCT FROM NEW.custom)
    EXECUTE FUNCTION asset_search_refresh();

UPDATE asset_search s
SET body = lower(a.name || ' ' || a.title || ' ' || a.description || ' ' || a.tags || asset_custom_text(a.custom))
FROM assets a
WHERE a.id = s.asset_id AND a.custom <> '{}';
