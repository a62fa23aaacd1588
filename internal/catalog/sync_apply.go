package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// SyncFile is what the sync engine writes about a file: its identity,
// place and the facts the storage reports.
type SyncFile struct {
	StorageID string
	Name      string
	Path      string
	Size      int64
	ETag      string
	ModTime   *time.Time
	MIME      string
	Native    bool
}

// SyncTx is one batch of sync writes inside a single catalog transaction.
// Every method keeps the folder tree consistent on its own, so each
// committed batch leaves a consistent catalog.
type SyncTx struct {
	s  *Store
	tx *sql.Tx
	// pg is the same transaction as pgx sees it (PostgreSQL): big
	// additions go through COPY.
	pg        pgx.Tx
	ctx       context.Context
	accountID int64
	now       int64
	// stmts holds the statements prepared in this transaction: a batch
	// runs the same few statements hundreds of times.
	stmts map[string]*sql.Stmt
}

// SyncApply runs fn as one transaction of sync writes for the account,
// stamped with now.
func (s *Store) SyncApply(ctx context.Context, accountID int64, now time.Time, fn func(*SyncTx) error) error {
	run := func(tx *sql.Tx, ptx pgx.Tx) error {
		w := &SyncTx{s: s, tx: tx, pg: ptx, ctx: ctx, accountID: accountID, now: ms(now), stmts: map[string]*sql.Stmt{}}
		defer func() {
			for _, st := range w.stmts {
				st.Close()
			}
		}()
		return fn(w)
	}
	if s.dialect == DialectPostgres {
		return s.inTxPgx(ctx, run)
	}
	return s.InTx(ctx, func(tx *sql.Tx) error { return run(tx, nil) })
}

// stmt returns the prepared form of query in this transaction.
func (w *SyncTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.tx.PrepareContext(w.ctx, w.s.Rebind(query))
	if err != nil {
		return nil, mapErr(err)
	}
	w.stmts[query] = st
	return st, nil
}

func (w *SyncTx) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(w.ctx, args...)
	return res, mapErr(err)
}

// queryRow runs a prepared single-row query; its error surfaces at Scan.
func (w *SyncTx) queryRow(query string, args ...any) rowScanner {
	st, err := w.stmt(query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(w.ctx, args...)
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// FolderID returns the catalog ID of the folder with a storage ID, and
// whether it exists.
func (w *SyncTx) FolderID(storageID string) (int64, bool, error) {
	var id int64
	err := w.queryRow(`SELECT id FROM folders WHERE account_id = ? AND storage_id = ?`, w.accountID, storageID).Scan(&id)
	switch mapErr(err) {
	case nil:
		return id, true, nil
	case ErrNotFound:
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("looking up folder %q: %w", storageID, mapErr(err))
	}
}

// AddFolder inserts a folder under parentID (nil: the root).
func (w *SyncTx) AddFolder(parentID *int64, storageID, name, path string) (int64, error) {
	var id int64
	err := w.queryRow(`INSERT INTO folders (account_id, parent_id, storage_id, name, path, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, w.accountID, int64PtrArg(parentID), storageID, name, path, w.now, w.now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("adding folder %q: %w", path, mapErr(err))
	}
	return id, nil
}

// subtreeCTE selects the folder ?1 (account ?2) and all folders under it.
const subtreeCTE = `WITH RECURSIVE sub(id) AS (
	SELECT id FROM folders WHERE id = ? AND account_id = ?
	UNION ALL
	SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.account_id = ?
) `

// UpdateFolder moves or renames a folder. When its path changes, the paths
// of every folder and live asset under it are rewritten in the same
// transaction.
func (w *SyncTx) UpdateFolder(id int64, parentID *int64, name, oldPath, newPath string) error {
	if _, err := w.exec(`UPDATE folders SET parent_id = ?, name = ?, path = ?, updated_at = ? WHERE id = ? AND account_id = ?`,
		int64PtrArg(parentID), name, newPath, w.now, id, w.accountID); err != nil {
		return fmt.Errorf("updating folder %q: %w", newPath, err)
	}
	if oldPath == newPath {
		return nil
	}
	// SQL substr counts characters, from 1. Only paths still under the old
	// one are rewritten: items the changes feed already placed at their new
	// path stay as they are.
	cut := utf8.RuneCountInString(oldPath) + 1
	if _, err := w.exec(subtreeCTE+`UPDATE folders SET path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND id <> ? AND id IN (SELECT id FROM sub) AND substr(path, 1, ?) = ?`,
		id, w.accountID, w.accountID, newPath, cut, w.now, w.accountID, id, cut, oldPath+"/"); err != nil {
		return fmt.Errorf("rewriting paths under folder %q: %w", newPath, err)
	}
	if _, err := w.exec(subtreeCTE+`UPDATE assets SET path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM sub) AND substr(path, 1, ?) = ?`,
		id, w.accountID, w.accountID, newPath, cut, w.now, w.accountID, cut, oldPath+"/"); err != nil {
		return fmt.Errorf("rewriting asset paths under folder %q: %w", newPath, err)
	}
	return nil
}

// DeleteFolder removes a folder with everything under it: live assets in
// the subtree become tombstones (their metadata kept), the folders go.
// It returns how many assets became tombstones and whether the folder was
// still there (a parent's deletion may have taken it already).
func (w *SyncTx) DeleteFolder(id int64) (int64, bool, error) {
	res, err := w.exec(subtreeCTE+`UPDATE assets SET removed_at = ?, updated_at = ?
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM sub)`,
		id, w.accountID, w.accountID, w.now, w.now, w.accountID)
	if err != nil {
		return 0, false, fmt.Errorf("removing the assets of a deleted folder: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = w.exec(`DELETE FROM folders WHERE id = ? AND account_id = ?`, id, w.accountID)
	if err != nil {
		return 0, false, fmt.Errorf("deleting folder: %w", err)
	}
	d, _ := res.RowsAffected()
	return n, d > 0, nil
}

// AddAsset inserts a new asset in folderID (nil: the root) with its preview
// to be made.
func (w *SyncTx) AddAsset(folderID *int64, f SyncFile) (int64, error) {
	var id int64
	err := w.queryRow(`INSERT INTO assets (account_id, folder_id, storage_id, name, path, size, etag, mod_time, mime, native,
	preview_state, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
		w.accountID, int64PtrArg(folderID), f.StorageID, f.Name, f.Path, f.Size, f.ETag, msPtr(f.ModTime), f.MIME, f.Native,
		w.now, w.now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("adding asset %q: %w", f.Path, mapErr(err))
	}
	return id, nil
}

// addAssetsChunk is how many rows one multi-row INSERT of AddAssets holds.
const addAssetsChunk = 100

// AddAssets inserts new assets (files[i] in folderIDs[i], nil: the root),
// several rows per statement, each with its preview to be made.
func (w *SyncTx) AddAssets(folderIDs []*int64, files []SyncFile) error {
	if w.pg != nil && len(files) >= copyMin {
		return w.copyAssets(folderIDs, files)
	}
	for start := 0; start < len(files); start += addAssetsChunk {
		end := min(start+addAssetsChunk, len(files))
		q := `INSERT INTO assets (account_id, folder_id, storage_id, name, path, size, etag, mod_time, mime, native,
	preview_state, created_at, updated_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?),`, end-start), ",")
		args := make([]any, 0, 12*(end-start))
		for i := start; i < end; i++ {
			f := files[i]
			args = append(args, w.accountID, int64PtrArg(folderIDs[i]), f.StorageID, f.Name, f.Path, f.Size, f.ETag,
				msPtr(f.ModTime), f.MIME, f.Native, w.now, w.now)
		}
		if _, err := w.exec(q, args...); err != nil {
			return fmt.Errorf("adding assets (%q and %d more): %w", files[start].Path, end-start-1, err)
		}
	}
	return nil
}

// copyMin is the number of new assets from which AddAssets uses COPY on
// PostgreSQL: one round trip and no statement to parse for the batch.
const copyMin = 200

// assetCopyColumns are the columns copyAssets fills.
var assetCopyColumns = []string{"account_id", "folder_id", "storage_id", "name", "path", "size", "etag", "mod_time", "mime", "native",
	"preview_state", "created_at", "updated_at"}

// copyAssets inserts new assets with COPY (PostgreSQL). The unique
// (account_id, storage_id) index refuses a duplicate as an INSERT would,
// failing the batch's transaction.
func (w *SyncTx) copyAssets(folderIDs []*int64, files []SyncFile) error {
	rows := make([][]any, len(files))
	for i, f := range files {
		var mod any
		if f.ModTime != nil {
			mod = ms(*f.ModTime)
		}
		var folder any
		if folderIDs[i] != nil {
			folder = *folderIDs[i]
		}
		rows[i] = []any{w.accountID, folder, f.StorageID, f.Name, f.Path, f.Size, f.ETag, mod, f.MIME, f.Native, "pending", w.now, w.now}
	}
	if _, err := w.pg.CopyFrom(w.ctx, pgx.Identifier{"assets"}, assetCopyColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("adding assets (%q and %d more): %w", files[0].Path, len(files)-1, mapErr(err))
	}
	return nil
}

// UpdateAsset rewrites an asset's identity, place and file facts, keeping
// its team metadata. A tombstone comes back to life. contentChanged sends
// the preview back to be remade.
func (w *SyncTx) UpdateAsset(id int64, folderID *int64, f SyncFile, contentChanged bool) error {
	q := `UPDATE assets SET folder_id = ?, storage_id = ?, name = ?, path = ?, size = ?, etag = ?, mod_time = ?, mime = ?,
	native = ?, removed_at = NULL, updated_at = ?`
	if contentChanged {
		q += `, preview_state = 'pending', preview_error = ''`
	}
	q += ` WHERE id = ? AND account_id = ?`
	if _, err := w.exec(q, int64PtrArg(folderID), f.StorageID, f.Name, f.Path, f.Size, f.ETag, msPtr(f.ModTime), f.MIME,
		f.Native, w.now, id, w.accountID); err != nil {
		return fmt.Errorf("updating asset %q: %w", f.Path, err)
	}
	return nil
}

// RemoveAsset turns a live asset into a tombstone: gone from the library,
// its metadata kept until PurgeTombstones.
func (w *SyncTx) RemoveAsset(id int64) (bool, error) {
	res, err := w.exec(`UPDATE assets SET removed_at = ?, updated_at = ? WHERE id = ? AND account_id = ? AND removed_at IS NULL`,
		w.now, w.now, id, w.accountID)
	if err != nil {
		return false, fmt.Errorf("removing asset: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// PurgeAsset deletes an asset row for good (a tombstone whose key a
// different file took).
func (w *SyncTx) PurgeAsset(id int64) error {
	if _, err := w.exec(`DELETE FROM assets WHERE id = ? AND account_id = ?`, id, w.accountID); err != nil {
		return fmt.Errorf("purging asset: %w", err)
	}
	return nil
}

// PurgeTombstones deletes the tombstones removed before cutoff and returns
// how many went.
func (w *SyncTx) PurgeTombstones(cutoff time.Time) (int64, error) {
	res, err := w.exec(`DELETE FROM assets WHERE account_id = ? AND removed_at IS NOT NULL AND removed_at < ?`, w.accountID, ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purging expired tombstones: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SetCursor saves the connection's changes-feed cursor and, when fullScanAt
// is set, the time of the last complete scan.
func (w *SyncTx) SetCursor(cursor string, fullScanAt *time.Time) error {
	q := `UPDATE storage_connections SET sync_cursor = ?, updated_at = ?`
	args := []any{cursor, w.now}
	if fullScanAt != nil {
		q += `, last_full_scan_at = ?`
		args = append(args, ms(*fullScanAt))
	}
	q += ` WHERE account_id = ?`
	args = append(args, w.accountID)
	if _, err := w.exec(q, args...); err != nil {
		return fmt.Errorf("saving the sync cursor: %w", err)
	}
	return nil
}
