package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Kinds of sync_stage rows.
const (
	// StageSeen: a storage ID an unsorted full scan reported.
	StageSeen = "seen"
	// StageGoneAsset / StageGoneFolder: a catalog row the scan did not
	// find; removed only after the scan completed.
	StageGoneAsset  = "gone_asset"
	StageGoneFolder = "gone_folder"
	// StageNewAsset: a new file that may be the far end of a move.
	StageNewAsset = "new_asset"
	// StageDeferred: a changes-feed item whose parent folder is not known
	// yet.
	StageDeferred = "deferred"
)

// StageRow is one row of a running sync's working state (sync_stage).
type StageRow struct {
	Kind            string
	StorageID       string
	RefID           int64 // gone_*: the catalog row; new_asset: the gone asset it is matched with
	ParentStorageID string
	Path            string
	Name            string
	IsDir           bool
	Size            int64
	ETag            string
	ModTime         *time.Time
	MIME            string
	Native          bool
	Fingerprint     string
	Matched         bool
}

const stageColumns = `kind, storage_id, COALESCE(ref_id, 0), parent_storage_id, path, name, is_dir, size, etag, mod_time, mime, native, fingerprint, matched`

func scanStage(rows *sql.Rows) (StageRow, error) {
	var r StageRow
	var mod sql.NullInt64
	err := rows.Scan(&r.Kind, &r.StorageID, &r.RefID, &r.ParentStorageID, &r.Path, &r.Name, &r.IsDir, &r.Size, &r.ETag, &mod,
		&r.MIME, &r.Native, &r.Fingerprint, &r.Matched)
	r.ModTime = fromNullMS(mod)
	return r, err
}

// Stage records rows of the running sync's working state; a row with the
// same kind and storage ID is replaced.
func (w *SyncTx) Stage(rows ...StageRow) error {
	for _, r := range rows {
		var ref any
		if r.RefID != 0 {
			ref = r.RefID
		}
		if _, err := w.exec(`INSERT INTO sync_stage (account_id, kind, storage_id, ref_id, parent_storage_id, path, name, is_dir, size,
	etag, mod_time, mime, native, fingerprint, matched)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account_id, kind, storage_id) DO UPDATE SET ref_id = excluded.ref_id,
	parent_storage_id = excluded.parent_storage_id, path = excluded.path, name = excluded.name, is_dir = excluded.is_dir,
	size = excluded.size, etag = excluded.etag, mod_time = excluded.mod_time, mime = excluded.mime, native = excluded.native,
	fingerprint = excluded.fingerprint, matched = excluded.matched`,
			w.accountID, r.Kind, r.StorageID, ref, r.ParentStorageID, r.Path, r.Name, r.IsDir, r.Size, r.ETag, msPtr(r.ModTime),
			r.MIME, r.Native, r.Fingerprint, r.Matched); err != nil {
			return fmt.Errorf("staging sync state: %w", err)
		}
	}
	return nil
}

// Unstage forgets one staged row.
func (w *SyncTx) Unstage(kind, storageID string) error {
	if _, err := w.exec(`DELETE FROM sync_stage WHERE account_id = ? AND kind = ? AND storage_id = ?`, w.accountID, kind, storageID); err != nil {
		return fmt.Errorf("clearing sync state: %w", err)
	}
	return nil
}

// MatchStaged pairs a staged new asset with a staged gone asset (a move);
// etag is the ETag to store for the moved asset.
func (w *SyncTx) MatchStaged(newStorageID, goneStorageID string, goneRefID int64, etag string) error {
	if _, err := w.exec(`UPDATE sync_stage SET matched = ?, ref_id = ?, etag = ? WHERE account_id = ? AND kind = ? AND storage_id = ?`,
		true, goneRefID, etag, w.accountID, StageNewAsset, newStorageID); err != nil {
		return fmt.Errorf("recording a move: %w", err)
	}
	if _, err := w.exec(`UPDATE sync_stage SET matched = ? WHERE account_id = ? AND kind = ? AND storage_id = ?`,
		true, w.accountID, StageGoneAsset, goneStorageID); err != nil {
		return fmt.Errorf("recording a move: %w", err)
	}
	return nil
}

// SyncClearStage forgets the account's sync working state (kind "" for
// every kind).
func (s *Store) SyncClearStage(ctx context.Context, accountID int64, kind string) error {
	q, args := `DELETE FROM sync_stage WHERE account_id = ?`, []any{accountID}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	if _, err := s.exec(ctx, s.db, q, args...); err != nil {
		return fmt.Errorf("clearing sync working state: %w", err)
	}
	return nil
}

// SyncStagePage returns up to limit staged rows of a kind with a storage ID
// greater than after, in storage ID order.
func (s *Store) SyncStagePage(ctx context.Context, accountID int64, kind, after string, limit int) ([]StageRow, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+stageColumns+` FROM sync_stage
WHERE account_id = ? AND kind = ? AND storage_id > ? ORDER BY storage_id LIMIT ?`, accountID, kind, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading sync working state: %w", err)
	}
	return collectStage(rows, limit)
}

// StageKey is a position in the (fingerprint, name, storage ID) order of
// staged move candidates.
type StageKey struct {
	Fingerprint, Name, StorageID string
}

// SyncStageMatchPage returns up to limit unmatched staged rows of a kind
// after key, ordered by fingerprint, name and storage ID: one page of the
// move matcher's merge.
func (s *Store) SyncStageMatchPage(ctx context.Context, accountID int64, kind string, after StageKey, limit int) ([]StageRow, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+stageColumns+` FROM sync_stage
WHERE account_id = ? AND kind = ? AND NOT matched
  AND (fingerprint > ? OR (fingerprint = ? AND (name > ? OR (name = ? AND storage_id > ?))))
ORDER BY fingerprint, name, storage_id LIMIT ?`,
		accountID, kind, after.Fingerprint, after.Fingerprint, after.Name, after.Name, after.StorageID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading move candidates: %w", err)
	}
	return collectStage(rows, limit)
}

// SyncStageSinglePairs returns up to limit pairs (new, gone) of unmatched
// move candidates whose fingerprint occurs exactly once among unmatched new
// assets and once among unmatched gone assets, new storage ID after after.
func (s *Store) SyncStageSinglePairs(ctx context.Context, accountID int64, after string, limit int) ([][2]StageRow, error) {
	rows, err := s.query(ctx, s.db, `SELECT n.storage_id, n.etag, g.storage_id, g.ref_id, g.etag FROM sync_stage n
JOIN sync_stage g ON g.account_id = n.account_id AND g.kind = ? AND g.fingerprint = n.fingerprint AND NOT g.matched
WHERE n.account_id = ? AND n.kind = ? AND NOT n.matched AND n.storage_id > ?
  AND n.fingerprint IN (SELECT fingerprint FROM sync_stage WHERE account_id = ? AND kind = ? AND NOT matched
                        GROUP BY fingerprint HAVING COUNT(*) = 1)
  AND n.fingerprint IN (SELECT fingerprint FROM sync_stage WHERE account_id = ? AND kind = ? AND NOT matched
                        GROUP BY fingerprint HAVING COUNT(*) = 1)
ORDER BY n.storage_id LIMIT ?`,
		StageGoneAsset, accountID, StageNewAsset, after, accountID, StageNewAsset, accountID, StageGoneAsset, limit)
	if err != nil {
		return nil, fmt.Errorf("reading move candidates: %w", err)
	}
	defer rows.Close()
	var out [][2]StageRow
	for rows.Next() {
		var p [2]StageRow
		if err := rows.Scan(&p[0].StorageID, &p[0].ETag, &p[1].StorageID, &p[1].RefID, &p[1].ETag); err != nil {
			return nil, fmt.Errorf("reading move candidates: %w", err)
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// SyncStageCount counts staged rows of a kind (only unmatched ones when
// unmatched is set).
func (s *Store) SyncStageCount(ctx context.Context, accountID int64, kind string, unmatched bool) (int64, error) {
	q := `SELECT COUNT(*) FROM sync_stage WHERE account_id = ? AND kind = ?`
	if unmatched {
		q += ` AND NOT matched`
	}
	var n int64
	if err := s.queryRow(ctx, s.db, q, accountID, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting sync working state: %w", mapErr(err))
	}
	return n, nil
}

// SyncUnseenPage returns up to limit catalog rows (folders when dirs is
// set, live assets otherwise) of the account whose storage ID an unsorted
// full scan did not report (no "seen" stage row), ID greater than after,
// in ID order.
func (s *Store) SyncUnseenPage(ctx context.Context, accountID int64, dirs bool, after int64, limit int) ([]SyncRow, error) {
	var rows *sql.Rows
	var err error
	if dirs {
		rows, err = s.query(ctx, s.db, `SELECT `+syncFolderColumns+`
FROM folders f LEFT JOIN folders p ON p.id = f.parent_id
WHERE f.account_id = ? AND f.id > ? AND NOT EXISTS (
	SELECT 1 FROM sync_stage st WHERE st.account_id = f.account_id AND st.kind = ? AND st.storage_id = f.storage_id)
ORDER BY f.id LIMIT ?`, accountID, after, StageSeen, limit)
	} else {
		rows, err = s.query(ctx, s.db, `SELECT `+syncAssetColumns+`
FROM assets a LEFT JOIN folders p ON p.id = a.folder_id
WHERE a.account_id = ? AND a.id > ? AND a.removed_at IS NULL AND NOT EXISTS (
	SELECT 1 FROM sync_stage st WHERE st.account_id = a.account_id AND st.kind = ? AND st.storage_id = a.storage_id)
ORDER BY a.id LIMIT ?`, accountID, after, StageSeen, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("finding what the scan did not see: %w", err)
	}
	if dirs {
		return collectSyncRows(rows, scanSyncFolder, nil)
	}
	return collectSyncRows(rows, scanSyncAsset, nil)
}

func collectStage(rows *sql.Rows, limit int) ([]StageRow, error) {
	defer rows.Close()
	out := make([]StageRow, 0, limit)
	for rows.Next() {
		r, err := scanStage(rows)
		if err != nil {
			return nil, fmt.Errorf("reading sync working state: %w", err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}
