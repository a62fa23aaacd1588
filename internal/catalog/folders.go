package catalog

import (
	"context"
	"fmt"
)

const folderColumns = `id, account_id, parent_id, storage_id, name, path, created_at, updated_at`

// folderSubtreeSQL is a CTE "tree(id)": the folder (first argument) of the
// account (second and third arguments) and every folder under it. It walks
// parent links rather than path prefixes because Drive allows two folders
// with the same path.
const folderSubtreeSQL = `WITH RECURSIVE tree(id) AS (
    SELECT id FROM folders WHERE id = ? AND account_id = ?
    UNION ALL
    SELECT f.id FROM folders f JOIN tree ON f.parent_id = tree.id WHERE f.account_id = ?
) `

func scanFolder(row interface{ Scan(...any) error }) (Folder, error) {
	var (
		f                Folder
		parent           nullInt64
		created, updated int64
	)
	if err := row.Scan(&f.ID, &f.AccountID, &parent, &f.StorageID, &f.Name, &f.Path, &created, &updated); err != nil {
		return Folder{}, mapErr(err)
	}
	f.ParentID = nullInt64Ptr(parent)
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	return f, nil
}

func (s *Store) listFolders(ctx context.Context, q querier, query string, args ...any) ([]Folder, error) {
	rows, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing folders: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		f, err := scanFolder(rows)
		if err != nil {
			return nil, fmt.Errorf("reading folder: %w", err)
		}
		out = append(out, f)
	}
	return out, mapErr(rows.Err())
}

// ListFolders returns the folders directly in parentID (nil: the root),
// sorted by name.
func (s *Store) ListFolders(ctx context.Context, accountID int64, parentID *int64) ([]Folder, error) {
	if parentID == nil {
		return s.listFolders(ctx, s.db, `SELECT `+folderColumns+` FROM folders WHERE account_id = ? AND parent_id IS NULL ORDER BY lower(name), id`, accountID)
	}
	return s.listFolders(ctx, s.db, `SELECT `+folderColumns+` FROM folders WHERE account_id = ? AND parent_id = ? ORDER BY lower(name), id`, accountID, *parentID)
}

// GetFolder returns a folder of the account.
func (s *Store) GetFolder(ctx context.Context, accountID, folderID int64) (Folder, error) {
	return s.getFolder(ctx, s.db, accountID, folderID)
}

func (s *Store) getFolder(ctx context.Context, q querier, accountID, folderID int64) (Folder, error) {
	return scanFolder(s.queryRow(ctx, q, `SELECT `+folderColumns+` FROM folders WHERE id = ? AND account_id = ?`, folderID, accountID))
}

// GetFolderByPath returns the folder at a root-relative path ("a/b"). Drive
// allows two folders with one path; then the oldest is returned.
func (s *Store) GetFolderByPath(ctx context.Context, accountID int64, path string) (Folder, error) {
	return scanFolder(s.queryRow(ctx, s.db, `SELECT `+folderColumns+` FROM folders WHERE account_id = ? AND path = ? ORDER BY id LIMIT 1`, accountID, path))
}

// GetFolderByStorageID returns the folder with a storage identity.
func (s *Store) GetFolderByStorageID(ctx context.Context, accountID int64, storageID string) (Folder, error) {
	return scanFolder(s.queryRow(ctx, s.db, `SELECT `+folderColumns+` FROM folders WHERE account_id = ? AND storage_id = ?`, accountID, storageID))
}

// FolderAncestry returns the breadcrumbs of a folder: its ancestors from the
// top-level folder down to the folder itself.
func (s *Store) FolderAncestry(ctx context.Context, accountID, folderID int64) ([]Folder, error) {
	folders, err := s.listFolders(ctx, s.db, `WITH RECURSIVE up(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM folders WHERE id = ? AND account_id = ?
    UNION ALL
    SELECT f.id, f.parent_id, up.depth + 1 FROM folders f JOIN up ON f.id = up.parent_id WHERE f.account_id = ?
)
SELECT `+prefixColumns("f.", folderColumns)+` FROM folders f JOIN up ON f.id = up.id ORDER BY up.depth DESC`, folderID, accountID, accountID)
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		return nil, ErrNotFound
	}
	return folders, nil
}

// CountFolders counts an account's folders.
func (s *Store) CountFolders(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM folders WHERE account_id = ?`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting folders: %w", mapErr(err))
	}
	return n, nil
}
