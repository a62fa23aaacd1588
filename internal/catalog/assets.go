package catalog

import (
	"context"
	"database/sql"
	"fmt"
)

const assetColumns = `id, account_id, folder_id, storage_id, name, path, size, etag, mod_time, mime, native,
width, height, duration_ms, taken_at, camera, preview_state, preview_error,
title, description, tags, rating, custom, removed_at, created_at, updated_at`

// scanAsset reads the assetColumns of a row, followed by any extra
// destinations.
func scanAsset(row interface{ Scan(...any) error }, extra ...any) (Asset, error) {
	var (
		a                              Asset
		folder, modTime, width, height sql.NullInt64
		duration, takenAt, removed     sql.NullInt64
		tags, custom                   string
		created, updated               int64
	)
	dest := []any{&a.ID, &a.AccountID, &folder, &a.StorageID, &a.Name, &a.Path, &a.Size, &a.ETag, &modTime, &a.MIME, &a.Native,
		&width, &height, &duration, &takenAt, &a.Camera, &a.PreviewState, &a.PreviewError,
		&a.Title, &a.Description, &tags, &a.Rating, &custom, &removed, &created, &updated}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return Asset{}, mapErr(err)
	}
	a.FolderID = nullInt64Ptr(folder)
	a.ModTime = fromNullMS(modTime)
	a.Width, a.Height = nullIntPtr(width), nullIntPtr(height)
	a.DurationMS = nullInt64Ptr(duration)
	a.TakenAt = fromNullMS(takenAt)
	a.RemovedAt = fromNullMS(removed)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	var err error
	if a.Tags, err = decodeTags(tags); err != nil {
		return Asset{}, err
	}
	if a.Custom, err = decodeCustom(custom); err != nil {
		return Asset{}, err
	}
	return a, nil
}

// GetAsset returns a live asset of the account; tombstones and other
// accounts' assets give ErrNotFound.
func (s *Store) GetAsset(ctx context.Context, accountID, assetID int64) (Asset, error) {
	return s.getAsset(ctx, s.db, accountID, assetID)
}

func (s *Store) getAsset(ctx context.Context, q querier, accountID, assetID int64) (Asset, error) {
	return scanAsset(s.queryRow(ctx, q, `SELECT `+assetColumns+` FROM assets WHERE id = ? AND account_id = ? AND removed_at IS NULL`, assetID, accountID))
}

// GetAssetByStorageID returns the live asset with a storage identity.
func (s *Store) GetAssetByStorageID(ctx context.Context, accountID int64, storageID string) (Asset, error) {
	return scanAsset(s.queryRow(ctx, s.db, `SELECT `+assetColumns+` FROM assets WHERE account_id = ? AND storage_id = ? AND removed_at IS NULL`, accountID, storageID))
}

// setAssetTags makes asset_tags hold exactly tags (already normalised) for
// the asset.
func (s *Store) setAssetTags(ctx context.Context, q querier, accountID, assetID int64, tags []string) error {
	if _, err := s.exec(ctx, q, `DELETE FROM asset_tags WHERE asset_id = ?`, assetID); err != nil {
		return fmt.Errorf("clearing asset tags: %w", err)
	}
	for _, t := range tags {
		if _, err := s.exec(ctx, q, `INSERT INTO asset_tags (account_id, tag, asset_id) VALUES (?, ?, ?)`, accountID, t, assetID); err != nil {
			return fmt.Errorf("saving asset tag %q: %w", t, err)
		}
	}
	return nil
}

// ListAssetTags returns the account's tags in use on live assets with how
// many assets carry each, most used first.
func (s *Store) ListAssetTags(ctx context.Context, accountID int64, limit int) ([]TagCount, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, s.db, `SELECT t.tag, COUNT(*) FROM asset_tags t JOIN assets a ON a.id = t.asset_id
WHERE t.account_id = ? AND a.removed_at IS NULL GROUP BY t.tag ORDER BY COUNT(*) DESC, t.tag LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	defer rows.Close()
	var out []TagCount
	for rows.Next() {
		var tc TagCount
		if err := rows.Scan(&tc.Tag, &tc.Count); err != nil {
			return nil, fmt.Errorf("reading tag: %w", err)
		}
		out = append(out, tc)
	}
	return out, mapErr(rows.Err())
}

// TagCount is a tag and the number of live assets carrying it.
type TagCount struct {
	Tag   string
	Count int64
}
