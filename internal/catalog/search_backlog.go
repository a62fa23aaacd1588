package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A big import (the first sync of a large library) would spend much of its
// time keeping the search index up to date row by row. Instead the sync
// defers it: StartSearchBacklog marks the account, the triggers then skip
// its new assets, and FillSearchBacklog (a background job after the sync)
// indexes them in id order, a chunk per transaction. Browsing is complete
// at once; search catches up within seconds, and SearchIndexing tells the
// library page to say so meanwhile.

// StartSearchBacklog defers the search indexing of the account's assets
// added from now on. Starting it again while deferred changes nothing.
func (s *Store) StartSearchBacklog(ctx context.Context, accountID int64, now time.Time) error {
	// "WHERE true": SQLite's parser needs it before ON CONFLICT here.
	_, err := s.exec(ctx, s.db, `INSERT INTO search_backlog (account_id, from_id, created_at)
SELECT ?, COALESCE(MAX(id), 0) + 1, ? FROM assets WHERE true
ON CONFLICT (account_id) DO NOTHING`, accountID, ms(now))
	if err != nil {
		return fmt.Errorf("deferring search indexing: %w", err)
	}
	return nil
}

// SearchIndexing reports whether some of the account's assets still wait
// to be indexed for search.
func (s *Store) SearchIndexing(ctx context.Context, accountID int64) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM search_backlog WHERE account_id = ?`, accountID).Scan(&n)
	return n > 0, mapErr(err)
}

// FillSearchBacklog indexes up to limit of the account's waiting assets
// and reports whether it is done (nothing waits any more).
func (s *Store) FillSearchBacklog(ctx context.Context, accountID int64, limit int) (done bool, err error) {
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.dialect == DialectPostgres {
			lock = " FOR UPDATE"
		}
		var from int64
		err := s.queryRow(ctx, tx, `SELECT from_id FROM search_backlog WHERE account_id = ?`+lock, accountID).Scan(&from)
		if errors.Is(mapErr(err), ErrNotFound) {
			done = true
			return nil
		}
		if err != nil {
			return mapErr(err)
		}
		var upto sql.NullInt64
		if err := s.queryRow(ctx, tx, `SELECT MAX(id) FROM (SELECT id FROM assets WHERE account_id = ? AND id >= ? ORDER BY id LIMIT ?) c`,
			accountID, from, limit).Scan(&upto); err != nil {
			return mapErr(err)
		}
		if !upto.Valid {
			done = true
			_, err := s.exec(ctx, tx, `DELETE FROM search_backlog WHERE account_id = ?`, accountID)
			return err
		}
		if s.dialect == DialectPostgres {
			_, err = s.exec(ctx, tx, `INSERT INTO asset_search (asset_id, account_id, body)
SELECT id, account_id, lower(name || ' ' || title || ' ' || description || ' ' || tags || asset_custom_text(custom)) FROM assets
WHERE account_id = ? AND id >= ? AND id <= ?
ON CONFLICT (asset_id) DO UPDATE SET body = excluded.body`, accountID, from, upto.Int64)
		} else {
			_, err = s.exec(ctx, tx, `INSERT INTO assets_fts (rowid, name, title, description, tags, custom)
SELECT a.id, a.name, a.title, a.description, a.tags, (SELECT group_concat(j.value, ' ') FROM json_each(a.custom) j)
FROM assets a WHERE a.account_id = ? AND a.id >= ? AND a.id <= ?`, accountID, from, upto.Int64)
		}
		if err != nil {
			return fmt.Errorf("indexing assets for search: %w", err)
		}
		_, err = s.exec(ctx, tx, `UPDATE search_backlog SET from_id = ? WHERE account_id = ?`, upto.Int64+1, accountID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("catching up the search index: %w", err)
	}
	return done, nil
}
