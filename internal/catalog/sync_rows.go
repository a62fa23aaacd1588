package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// SyncRow is a catalog folder or asset in the form the sync engine compares
// with a storage entry: identity, place and the file facts the storage
// reports. Team metadata is not part of it; the engine never touches it.
type SyncRow struct {
	ID    int64
	IsDir bool
	// StorageID is the Drive ID, or the root-relative path for S3 and local.
	StorageID string
	// ParentStorageID is the storage ID of the containing folder; "" when
	// the row sits directly under the root.
	ParentStorageID string
	Name            string
	Path            string
	Size            int64
	ETag            string
	ModTime         *time.Time
	MIME            string
	Native          bool
	// Removed marks an asset tombstone.
	Removed   bool
	RemovedAt *time.Time
}

const syncFolderColumns = `f.id, f.storage_id, COALESCE(p.storage_id, ''), f.name, f.path`

const syncAssetColumns = `a.id, a.storage_id, COALESCE(p.storage_id, ''), a.name, a.path,
	a.size, a.etag, a.mod_time, a.mime, a.native, a.removed_at`

func scanSyncFolder(rows *sql.Rows) (SyncRow, error) {
	r := SyncRow{IsDir: true}
	err := rows.Scan(&r.ID, &r.StorageID, &r.ParentStorageID, &r.Name, &r.Path)
	return r, err
}

func scanSyncAsset(rows *sql.Rows) (SyncRow, error) {
	var r SyncRow
	var mod, removed sql.NullInt64
	err := rows.Scan(&r.ID, &r.StorageID, &r.ParentStorageID, &r.Name, &r.Path,
		&r.Size, &r.ETag, &mod, &r.MIME, &r.Native, &removed)
	r.ModTime = fromNullMS(mod)
	r.RemovedAt = fromNullMS(removed)
	r.Removed = removed.Valid
	return r, err
}

func collectSyncRows(rows *sql.Rows, scan func(*sql.Rows) (SyncRow, error), out []SyncRow) ([]SyncRow, error) {
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("reading catalog rows for sync: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading catalog rows for sync: %w", mapErr(err))
	}
	return out, nil
}

// SyncFolderPage returns up to limit folders of the account whose sort key
// (storage ID followed by "/", see storage.SortKey) is greater than after,
// in increasing byte order of that key: one keyset page of the folder side
// of the sorted merge-join. A scope other than "" limits the page to the
// folder at that path and the folders under it (a live batch's re-read of
// one subtree).
func (s *Store) SyncFolderPage(ctx context.Context, accountID int64, scope, after string, limit int) ([]SyncRow, error) {
	where, args := scopeWhere("f.storage_id", accountID, scope)
	rows, err := s.query(ctx, s.db, `SELECT `+syncFolderColumns+`
FROM folders f LEFT JOIN folders p ON p.id = f.parent_id
WHERE f.account_id = ?`+where+` AND (f.storage_id || '/') > ?
ORDER BY (f.storage_id || '/') LIMIT ?`, append(args, after, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing folders for sync: %w", err)
	}
	return collectSyncRows(rows, scanSyncFolder, make([]SyncRow, 0, limit))
}

// SyncAssetPage returns up to limit assets of the account, tombstones
// included, whose storage ID is greater than after, in increasing byte
// order: one keyset page of the asset side of the sorted merge-join. It
// serves path-identified storage (S3, local), whose storage ID is the path,
// and reads only what the comparison needs: Name, Path and ParentStorageID
// are left empty for the caller to derive from the storage ID. A scope
// other than "" limits the page to the asset at that path and those under
// it as a folder.
func (s *Store) SyncAssetPage(ctx context.Context, accountID int64, scope, after string, limit int) ([]SyncRow, error) {
	where, args := scopeWhere("storage_id", accountID, scope)
	rows, err := s.query(ctx, s.db, `SELECT id, storage_id, size, etag, mod_time, mime, native, removed_at
FROM assets WHERE account_id = ?`+where+` AND storage_id > ? ORDER BY storage_id LIMIT ?`, append(args, after, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing assets for sync: %w", err)
	}
	return collectSyncRows(rows, scanSyncAssetKey, make([]SyncRow, 0, limit))
}

// scopeWhere is the condition (and its arguments, the account's first)
// limiting a path-identified column to scope and what lies under it:
// "scope" itself, or between "scope/" and "scope0" ('0' follows '/'), which
// in byte order is exactly the keys starting with "scope/" — a range the
// (account_id, storage_id) index serves.
func scopeWhere(col string, accountID int64, scope string) (string, []any) {
	if scope == "" {
		return "", []any{accountID}
	}
	return ` AND (` + col + ` = ? OR (` + col + ` > ? AND ` + col + ` < ?))`, []any{accountID, scope, scope + "/", scope + "0"}
}

func scanSyncAssetKey(rows *sql.Rows) (SyncRow, error) {
	var r SyncRow
	var mod, removed sql.NullInt64
	err := rows.Scan(&r.ID, &r.StorageID, &r.Size, &r.ETag, &mod, &r.MIME, &r.Native, &removed)
	r.ModTime = fromNullMS(mod)
	r.RemovedAt = fromNullMS(removed)
	r.Removed = removed.Valid
	return r, err
}

// SyncLookup returns the folders and assets (tombstones included) of the
// account whose storage ID is one of ids: the batched lookup of an
// unsorted scan or a changes feed.
func (s *Store) SyncLookup(ctx context.Context, accountID int64, ids []string) ([]SyncRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []SyncRow
	for start := 0; start < len(ids); start += syncInChunk {
		chunk := ids[start:min(start+syncInChunk, len(ids))]
		in, args := syncInList(accountID, chunk)
		rows, err := s.query(ctx, s.db, `SELECT `+syncFolderColumns+`
FROM folders f LEFT JOIN folders p ON p.id = f.parent_id
WHERE f.account_id = ? AND f.storage_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("looking up folders for sync: %w", err)
		}
		if out, err = collectSyncRows(rows, scanSyncFolder, out); err != nil {
			return nil, err
		}
		rows, err = s.query(ctx, s.db, `SELECT `+syncAssetColumns+`
FROM assets a LEFT JOIN folders p ON p.id = a.folder_id
WHERE a.account_id = ? AND a.storage_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("looking up assets for sync: %w", err)
		}
		if out, err = collectSyncRows(rows, scanSyncAsset, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// syncInChunk bounds the number of parameters of one IN list (SQLite's
// default limit is 32766, PostgreSQL's 65535).
const syncInChunk = 500

func syncInList(accountID int64, ids []string) (string, []any) {
	args := make([]any, 0, len(ids)+1)
	args = append(args, accountID)
	for _, id := range ids {
		args = append(args, id)
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

// SyncLibrarySize counts the account's live assets and its folders.
func (s *Store) SyncLibrarySize(ctx context.Context, accountID int64) (assets, folders int64, err error) {
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM assets WHERE account_id = ? AND removed_at IS NULL`, accountID).Scan(&assets); err != nil {
		return 0, 0, fmt.Errorf("counting the library's assets: %w", mapErr(err))
	}
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM folders WHERE account_id = ?`, accountID).Scan(&folders); err != nil {
		return 0, 0, fmt.Errorf("counting the library's folders: %w", mapErr(err))
	}
	return assets, folders, nil
}

// SyncHasAssets reports whether the account has any asset row, tombstones
// included (an empty catalog lets the first sync insert without staging).
func (s *Store) SyncHasAssets(ctx context.Context, accountID int64) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM assets WHERE account_id = ? LIMIT 1) x`, accountID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking whether the library is empty: %w", mapErr(err))
	}
	return n > 0, nil
}

// SyncFolderID returns the catalog ID of the account's folder with the given
// storage ID, or ErrNotFound.
func (s *Store) SyncFolderID(ctx context.Context, accountID int64, storageID string) (int64, error) {
	var id int64
	err := s.queryRow(ctx, s.db, `SELECT id FROM folders WHERE account_id = ? AND storage_id = ?`, accountID, storageID).Scan(&id)
	if err != nil {
		return 0, mapErr(err)
	}
	return id, nil
}

// SyncSubtreeAssetCount counts the live assets in a folder and every folder
// under it.
func (s *Store) SyncSubtreeAssetCount(ctx context.Context, accountID, folderID int64) (int64, error) {
	var n int64
	err := s.queryRow(ctx, s.db, subtreeCTE+`SELECT COUNT(*) FROM assets
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM sub)`,
		folderID, accountID, accountID, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting the assets under a folder: %w", mapErr(err))
	}
	return n, nil
}

// SyncAnalyze refreshes the planner statistics of the sync's tables after
// a run wrote many rows. On PostgreSQL, a keyset page query on a table
// whose statistics predate a large import is planned as a bitmap scan and
// sort of every row after the key instead of an index scan that stops at
// the limit; autovacuum's own analyze comes too late for the next sync.
// SQLite without statistics picks the wrong index for a library-wide name
// search at 1M assets (443 ms instead of ~6 ms in bench/pages); there
// ANALYZE samples at most analysis_limit rows per index, so it stays cheap.
func (s *Store) SyncAnalyze(ctx context.Context, tables ...string) error {
	if len(tables) == 0 {
		return nil
	}
	for _, t := range tables {
		switch t {
		case "assets", "folders", "sync_stage":
		default:
			return fmt.Errorf("analyzing %q: not a sync table", t)
		}
	}
	stmts := []string{"ANALYZE " + strings.Join(tables, ", ")}
	if s.dialect == DialectSQLite { // SQLite analyzes one table per statement
		stmts = []string{"PRAGMA analysis_limit = 2000"}
		for _, t := range tables {
			stmts = append(stmts, "ANALYZE "+t)
		}
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("refreshing catalog statistics: %w", err)
		}
	}
	return nil
}

// RelinkQuery describes a file a live batch could not pair within itself:
// a move whose two halves (a copy and a delete) fell into different
// batches. Only rows of the same name and content qualify.
type RelinkQuery struct {
	Name  string
	Size  int64
	ETag  string     // S3, Drive; "" with ModTime for local files
	Local bool       // compare size and modification time instead of ETag
	Since time.Time  // only rows removed (tombstones) or created (blank ones) since
	MTime *time.Time // local: the modification time
}

func (q RelinkQuery) where() (string, []any) {
	if q.Local {
		if q.MTime == nil {
			return ` AND a.size = ? AND a.mod_time IS NULL`, []any{q.Size}
		}
		return ` AND a.size = ? AND a.mod_time = ?`, []any{q.Size, ms(*q.MTime)}
	}
	return ` AND a.size = ? AND a.etag = ? AND a.etag <> ''`, []any{q.Size, q.ETag}
}

// SyncRecentTombstones returns up to two tombstones of the account removed
// since q.Since with q's name and content: the far end of a move whose
// delete a previous live batch applied.
func (s *Store) SyncRecentTombstones(ctx context.Context, accountID int64, q RelinkQuery) ([]SyncRow, error) {
	cond, args := q.where()
	rows, err := s.query(ctx, s.db, `SELECT `+syncAssetColumns+`
FROM assets a LEFT JOIN folders p ON p.id = a.folder_id
WHERE a.account_id = ? AND a.removed_at IS NOT NULL AND a.removed_at >= ? AND a.name = ?`+cond+` LIMIT 2`,
		append([]any{accountID, ms(q.Since), q.Name}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("looking for recent tombstones: %w", err)
	}
	return collectSyncRows(rows, scanSyncAsset, nil)
}

// SyncRecentBlankAssets returns up to two live assets of the account
// created since q.Since with q's name and content and no team metadata:
// the near end of a move whose copy a previous live batch added as new.
func (s *Store) SyncRecentBlankAssets(ctx context.Context, accountID int64, q RelinkQuery) ([]SyncRow, error) {
	cond, args := q.where()
	rows, err := s.query(ctx, s.db, `SELECT `+syncAssetColumns+`
FROM assets a LEFT JOIN folders p ON p.id = a.folder_id
WHERE a.account_id = ? AND lower(a.name) = lower(?) AND a.name = ? AND a.removed_at IS NULL AND a.created_at >= ?
  AND a.title = '' AND a.description = '' AND a.tags = '[]' AND a.rating = 0 AND a.custom = '{}'`+cond+` LIMIT 2`,
		append([]any{accountID, q.Name, q.Name, ms(q.Since)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("looking for recently added assets: %w", err)
	}
	return collectSyncRows(rows, scanSyncAsset, nil)
}
